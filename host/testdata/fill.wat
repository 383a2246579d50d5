;; Each loop turn fills the whole memory: the check charges the fill.
(module
  (memory (export "memory") 256) ;; 16 MiB
  (func (export "spin") (param $n i32) (result i32)
    (loop $l
      (memory.fill (i32.const 0) (i32.const 7) (i32.const 0x1000000))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (i32.const 1))
  (func (export "__guest_call") (param i32 i32) (result i32)
    (call 0 (i32.const 1000000))))

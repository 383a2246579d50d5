;; The fill sits in a block inside the loop: the block's charge must reach
;; the loop, whose turns run it.
(module
  (memory (export "memory") 256) ;; 16 MiB
  (func (export "spin") (param $n i32) (result i32)
    (loop $l
      (block
        (memory.fill (i32.const 0) (i32.const 7) (i32.const 0x1000000)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (i32.const 1)))

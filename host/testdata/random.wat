;; random.wat: loop turns without end, each asking 16 MiB of random bytes.
(module
  (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))
  (memory (export "memory") 256)
  (func (export "__guest_call") (param i32 i32) (result i32)
    (local $i i32)
    (loop $l
      (drop (call $r (i32.const 0) (i32.const 0x1000000)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 0x7fffffff))))
    (i32.const 1)))

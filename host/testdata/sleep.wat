;; poll_oneoff with one relative clock subscription of an hour.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "__guest_call") (param i32 i32) (result i32)
    ;; subscription at 0: userdata(8) tag(1)=0 clock ... clockid u32 at 16, timeout u64 at 24, precision at 32, flags u16 at 40
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const 3600000000000))
    (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))
    (i32.const 1)))

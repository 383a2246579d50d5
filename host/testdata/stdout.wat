;; stdout.wat: writes a line to WASI stdout and one through __console_log.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wapc" "__console_log" (func $console_log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from wasi\n")
  (data (i32.const 64) "hello from console")
  (func (export "__guest_call") (param i32 i32) (result i32)
    ;; iovec at 0: {ptr 16, len 16}
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $console_log (i32.const 64) (i32.const 18))
    (i32.const 1)))

;; echo.wat: the smallest waPC actor. Every operation answers its payload.
;; It grows memory to fit large payloads. Built by the tests with wat2wasm.
(module
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
    (local $need i32)
    ;; operation at 0, payload right after it
    (local.set $need (i32.add (local.get $op_len) (local.get $msg_len)))
    (if (i32.gt_u (local.get $need) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (drop (memory.grow
          (i32.add (i32.const 1)
            (i32.sub (i32.div_u (local.get $need) (i32.const 65536)) (memory.size)))))))
    (call $guest_request (i32.const 0) (local.get $op_len))
    (call $guest_response (local.get $op_len) (local.get $msg_len))
    (i32.const 1)))

;; hostcall.wat: makes one host call and answers with its result.
;; The operation names the namespace (a contract id or an actor), the payload
;; is passed on, and the host call's operation is always "Op", except that
;; the payload "badptr" asks for the host response into an out-of-bounds
;; pointer. A host error becomes this actor's error. Memory grows to fit.
(module
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__guest_error" (func $guest_error (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__host_response_len" (func $host_response_len (result i32)))
  (import "wapc" "__host_response" (func $host_response (param i32)))
  (import "wapc" "__host_error_len" (func $host_error_len (result i32)))
  (import "wapc" "__host_error" (func $host_error (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "Op")
  (data (i32.const 8) "badptr")
  ;; ensure grows memory so that [0, end) is addressable.
  (func $ensure (param $end i32)
    (local $have i32)
    (local.set $have (i32.mul (memory.size) (i32.const 65536)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (drop (memory.grow
          (i32.add (i32.const 1)
            (i32.div_u (i32.sub (local.get $end) (local.get $have)) (i32.const 65536))))))))
  (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
    (local $msg i32) (local $out i32) (local $n i32)
    ;; operation at 1024, payload after it, results after the payload
    (local.set $msg (i32.add (i32.const 1024) (local.get $op_len)))
    (local.set $out (i32.add (local.get $msg) (local.get $msg_len)))
    (call $ensure (local.get $out))
    (call $guest_request (i32.const 1024) (local.get $msg))
    (if (i32.eqz (call $host_call
          (i32.const 0) (i32.const 0)
          (i32.const 1024) (local.get $op_len)
          (i32.const 0) (i32.const 2)
          (local.get $msg) (local.get $msg_len)))
      (then
        (local.set $n (call $host_error_len))
        (call $ensure (i32.add (local.get $out) (local.get $n)))
        (call $host_error (local.get $out))
        (call $guest_error (local.get $out) (local.get $n))
        (return (i32.const 0))))
    (local.set $n (call $host_response_len))
    (call $ensure (i32.add (local.get $out) (local.get $n)))
    (if (i32.and
          (i32.eq (local.get $msg_len) (i32.const 6))
          (i64.eq (i64.load32_u (local.get $msg)) (i64.load32_u (i32.const 8))))
      (then (local.set $out (i32.const 0x7ffffff0))))
    (call $host_response (local.get $out))
    (call $guest_response (local.get $out) (local.get $n))
    (i32.const 1)))

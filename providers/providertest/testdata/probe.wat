;; probe.wat: the test actor of the provider tests. It is WAT, not Go, so it
;; compiles in milliseconds even under the race detector.
;;
;; Operation HostCall: the payload is three strings, each one length byte
;; then its bytes (binding, namespace, operation), then the payload of a host
;; call it makes. It answers with the host's response, or fails with the
;; host's error text.
;;
;; Any other operation (HttpServer.HandleRequest, Messaging.HandleMessage)
;; looks at the payload's last four bytes, which is where the provider's
;; MessagePack encoding puts the end of the request's body:
;;   "FAIL"       fails with "probe: asked to fail"
;;   "LOOP"       spins for ever (only a deadline or a cancel stops it)
;;   FF FF FF FF  answers {"body": <the whole payload>}, so a test sees the
;;                request exactly as the actor got it
;;   else         a big-endian length L: answers with the L bytes before
;;                those four, so a test chooses the response byte for byte
;;
;;   wat2wasm probe.wat -o probe.wasm
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
  (data (i32.const 0) "probe: asked to fail")
  (data (i32.const 32) "probe: bad payload")
  (data (i32.const 64) "HostCall")
  (data (i32.const 80) "\81\a4body\c6")

  (func $ensure (param $end i32)
    (local $have i32)
    (local.set $have (i32.mul (memory.size) (i32.const 65536)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (drop (memory.grow
          (i32.add (i32.const 1)
            (i32.div_u (i32.sub (local.get $end) (local.get $have)) (i32.const 65536))))))))

  (func $fail (param $ptr i32) (param $len i32) (result i32)
    (call $guest_error (local.get $ptr) (local.get $len))
    (i32.const 0))

  (func $be32 (param $p i32) (result i32)
    (i32.or
      (i32.or
        (i32.shl (i32.load8_u (local.get $p)) (i32.const 24))
        (i32.shl (i32.load8_u offset=1 (local.get $p)) (i32.const 16)))
      (i32.or
        (i32.shl (i32.load8_u offset=2 (local.get $p)) (i32.const 8))
        (i32.load8_u offset=3 (local.get $p)))))

  ;; hostcall parses [len binding][len namespace][len operation] payload.
  (func $hostcall (param $msg i32) (param $len i32) (result i32)
    (local $end i32) (local $p i32)
    (local $b i32) (local $bl i32) (local $n i32) (local $nl i32) (local $o i32) (local $ol i32)
    (local $out i32) (local $rl i32)
    (local.set $end (i32.add (local.get $msg) (local.get $len)))
    (local.set $p (local.get $msg))
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (call $fail (i32.const 32) (i32.const 18)))))
    (local.set $bl (i32.load8_u (local.get $p)))
    (local.set $b (i32.add (local.get $p) (i32.const 1)))
    (local.set $p (i32.add (local.get $b) (local.get $bl)))
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (call $fail (i32.const 32) (i32.const 18)))))
    (local.set $nl (i32.load8_u (local.get $p)))
    (local.set $n (i32.add (local.get $p) (i32.const 1)))
    (local.set $p (i32.add (local.get $n) (local.get $nl)))
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (call $fail (i32.const 32) (i32.const 18)))))
    (local.set $ol (i32.load8_u (local.get $p)))
    (local.set $o (i32.add (local.get $p) (i32.const 1)))
    (local.set $p (i32.add (local.get $o) (local.get $ol)))
    (if (i32.gt_u (local.get $p) (local.get $end)) (then (return (call $fail (i32.const 32) (i32.const 18)))))
    (local.set $out (local.get $end))
    (if (i32.eqz (call $host_call
          (local.get $b) (local.get $bl) (local.get $n) (local.get $nl) (local.get $o) (local.get $ol)
          (local.get $p) (i32.sub (local.get $end) (local.get $p))))
      (then
        (local.set $rl (call $host_error_len))
        (call $ensure (i32.add (local.get $out) (local.get $rl)))
        (call $host_error (local.get $out))
        (return (call $fail (local.get $out) (local.get $rl)))))
    (local.set $rl (call $host_response_len))
    (call $ensure (i32.add (local.get $out) (local.get $rl)))
    (call $host_response (local.get $out))
    (call $guest_response (local.get $out) (local.get $rl))
    (i32.const 1))

  (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
    (local $msg i32) (local $tail i32) (local $l i32) (local $out i32)
    ;; operation at 1024, payload after it
    (local.set $msg (i32.add (i32.const 1024) (local.get $op_len)))
    (call $ensure (i32.add (i32.add (local.get $msg) (local.get $msg_len)) (i32.const 16)))
    (call $guest_request (i32.const 1024) (local.get $msg))
    (if (i32.and (i32.eq (local.get $op_len) (i32.const 8))
                 (i64.eq (i64.load (i32.const 1024)) (i64.load (i32.const 64))))
      (then (return (call $hostcall (local.get $msg) (local.get $msg_len)))))
    (if (i32.lt_u (local.get $msg_len) (i32.const 4))
      (then (return (call $fail (i32.const 32) (i32.const 18)))))
    (local.set $tail (i32.sub (i32.add (local.get $msg) (local.get $msg_len)) (i32.const 4)))
    ;; "FAIL" and "LOOP" read as little-endian i32
    (if (i32.eq (i32.load (local.get $tail)) (i32.const 0x4c494146))
      (then (return (call $fail (i32.const 0) (i32.const 20)))))
    (if (i32.eq (i32.load (local.get $tail)) (i32.const 0x504f4f4c))
      (then (loop $spin (br $spin))))
    (if (i32.eq (i32.load (local.get $tail)) (i32.const -1))
      (then
        ;; {"body": bin32 payload} after the payload
        (local.set $out (i32.add (local.get $msg) (local.get $msg_len)))
        (call $ensure (i32.add (i32.add (local.get $out) (local.get $msg_len)) (i32.const 16)))
        (memory.copy (local.get $out) (i32.const 80) (i32.const 7))
        (i32.store8 offset=7 (local.get $out) (i32.shr_u (local.get $msg_len) (i32.const 24)))
        (i32.store8 offset=8 (local.get $out) (i32.shr_u (local.get $msg_len) (i32.const 16)))
        (i32.store8 offset=9 (local.get $out) (i32.shr_u (local.get $msg_len) (i32.const 8)))
        (i32.store8 offset=10 (local.get $out) (local.get $msg_len))
        (memory.copy (i32.add (local.get $out) (i32.const 11)) (local.get $msg) (local.get $msg_len))
        (call $guest_response (local.get $out) (i32.add (local.get $msg_len) (i32.const 11)))
        (return (i32.const 1))))
    (local.set $l (call $be32 (local.get $tail)))
    (if (i32.gt_u (local.get $l) (i32.sub (local.get $msg_len) (i32.const 4)))
      (then (return (call $fail (i32.const 32) (i32.const 18)))))
    (call $guest_response (i32.sub (local.get $tail) (local.get $l)) (local.get $l))
    (i32.const 1)))

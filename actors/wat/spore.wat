;; spore.wat: the waPC ABI and the Spore contracts, by hand, in WebAssembly
;; text. It is the reference for anyone writing an SDK for another language:
;; every import, export and byte on the wire is here, with nothing hidden.
;;
;; This file holds module fields only, no (module ...) around them: the WAT
;; text format reads a file of bare fields as one module, so an actor is
;; this file followed by a file of its own handlers, assembled together:
;;
;;   cat actors/wat/spore.wat examples/counter-wat/counter.wat > counter.wat
;;   wat2wasm counter.wat -o counter.wasm
;;
;; The handler file defines
;;   (func $handle (param $op i32) (param $op_len i32)
;;                 (param $msg i32) (param $msg_len i32) (result i32))
;; which __guest_call below runs for every call: it returns 1 after
;; $respond (or $http_respond...) and 0 after $fail (or $fail_host,
;; $no_handler). README.md walks through it.
;;
;; Memory, one linear memory exported as "memory":
;;   [0, 1024)     this file's constant strings ($s_* globals hold offsets)
;;   [1024, 4096)  the handler file's own (data ...) segments
;;   [4096, ...)   the heap: a bump allocator, emptied at every call
;; Everything a call allocates (its operation and payload, what the
;; helpers decode and encode, host responses) lives until the call returns:
;; the host copies what it reads, so nothing needs freeing.
;;
;; Conventions of the helpers:
;;   - Strings and byte strings are two i32s: pointer and length. A link
;;     name of length 0 means the default link.
;;   - A helper that calls the host returns ok (1, or 0 when the host
;;     refused or the provider failed) as its first result; after 0 the
;;     host's error text is at $err_ptr/$err_len ($fail_host returns it to
;;     the caller as this call's error).
;;   - Compound values are records in memory, i32 fields at these offsets:
;;       http request  0 method, 8 path, 16 query (ptr,len each),
;;                     24 header_count, 28 header_ptr, 32 body (ptr,len)
;;       http response 0 status, 4 header_count, 8 header_ptr, 12 body
;;       message       0 subject, 8 reply_to, 16 body (ptr,len each)
;;       header entry  0 name, 8 value (ptr,len each), 16 bytes a value:
;;                     a name with several values has one entry each, in
;;                     a row
;;       key list      (ptr,len) pairs, 8 bytes each
;;   - Payloads are MessagePack maps as wit/README.md states. A payload
;;     that is not valid MessagePack traps (unreachable): the host drops
;;     the instance and fails the call with an error naming the actor.

;; ---- the waPC imports (SPEC section 3) ----
(import "wapc" "__guest_request" (func $wapc_guest_request (param i32 i32)))
(import "wapc" "__guest_response" (func $wapc_guest_response (param i32 i32)))
(import "wapc" "__guest_error" (func $wapc_guest_error (param i32 i32)))
(import "wapc" "__host_call" (func $wapc_host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
(import "wapc" "__host_response_len" (func $wapc_host_response_len (result i32)))
(import "wapc" "__host_response" (func $wapc_host_response (param i32)))
(import "wapc" "__host_error_len" (func $wapc_host_error_len (result i32)))
(import "wapc" "__host_error" (func $wapc_host_error (param i32)))
(import "wapc" "__console_log" (func $wapc_console_log (param i32 i32)))

(memory (export "memory") 1)

;; ---- constant strings: names of fields, contracts and operations ----
(global $s_key i32 (i32.const 16)) (data (i32.const 16) "key") ;; 3
(global $s_value i32 (i32.const 19)) (data (i32.const 19) "value") ;; 5
(global $s_exists i32 (i32.const 24)) (data (i32.const 24) "exists") ;; 6
(global $s_ttl i32 (i32.const 30)) (data (i32.const 30) "ttl_seconds") ;; 11
(global $s_delta i32 (i32.const 41)) (data (i32.const 41) "delta") ;; 5
(global $s_subject i32 (i32.const 46)) (data (i32.const 46) "subject") ;; 7
(global $s_reply_to i32 (i32.const 53)) (data (i32.const 53) "reply_to") ;; 8
(global $s_body i32 (i32.const 61)) (data (i32.const 61) "body") ;; 4
(global $s_timeout i32 (i32.const 65)) (data (i32.const 65) "timeout_ms") ;; 10
(global $s_method i32 (i32.const 75)) (data (i32.const 75) "method") ;; 6
(global $s_url i32 (i32.const 81)) (data (i32.const 81) "url") ;; 3
(global $s_header i32 (i32.const 84)) (data (i32.const 84) "header") ;; 6
(global $s_status i32 (i32.const 90)) (data (i32.const 90) "status") ;; 6
(global $s_path i32 (i32.const 96)) (data (i32.const 96) "path") ;; 4
(global $s_query i32 (i32.const 100)) (data (i32.const 100) "query") ;; 5
(global $s_level i32 (i32.const 105)) (data (i32.const 105) "level") ;; 5
(global $s_text i32 (i32.const 110)) (data (i32.const 110) "text") ;; 4
(global $s_c_kv i32 (i32.const 114)) (data (i32.const 114) "spore:keyvalue") ;; 14
(global $s_c_msg i32 (i32.const 128)) (data (i32.const 128) "spore:messaging") ;; 15
(global $s_c_http i32 (i32.const 143)) (data (i32.const 143) "spore:httpclient") ;; 16
(global $s_c_log i32 (i32.const 159)) (data (i32.const 159) "spore:logging") ;; 13
(global $s_kv_get i32 (i32.const 172)) (data (i32.const 172) "KeyValue.Get") ;; 12
(global $s_kv_set i32 (i32.const 184)) (data (i32.const 184) "KeyValue.Set") ;; 12
(global $s_kv_delete i32 (i32.const 196)) (data (i32.const 196) "KeyValue.Delete") ;; 15
(global $s_kv_exists i32 (i32.const 211)) (data (i32.const 211) "KeyValue.Exists") ;; 15
(global $s_kv_increment i32 (i32.const 226)) (data (i32.const 226) "KeyValue.Increment") ;; 18
(global $s_kv_keys i32 (i32.const 244)) (data (i32.const 244) "KeyValue.Keys") ;; 13
(global $s_msg_publish i32 (i32.const 257)) (data (i32.const 257) "Messaging.Publish") ;; 17
(global $s_msg_request i32 (i32.const 274)) (data (i32.const 274) "Messaging.Request") ;; 17
(global $s_http_request i32 (i32.const 291)) (data (i32.const 291) "HttpClient.Request") ;; 18
(global $s_log_write i32 (i32.const 309)) (data (i32.const 309) "Logging.Write") ;; 13
(global $s_op_http i32 (i32.const 322)) (data (i32.const 322) "HttpServer.HandleRequest") ;; 24
(global $s_op_message i32 (i32.const 346)) (data (i32.const 346) "Messaging.HandleMessage") ;; 23
(global $s_content_type i32 (i32.const 369)) (data (i32.const 369) "Content-Type") ;; 12
(global $s_no_handler i32 (i32.const 381)) (data (i32.const 381) "no handler for operation ") ;; 25
(global $s_debug i32 (i32.const 406)) (data (i32.const 406) "debug") ;; 5
(global $s_info i32 (i32.const 411)) (data (i32.const 411) "info") ;; 4
(global $s_warn i32 (i32.const 415)) (data (i32.const 415) "warn") ;; 4
(global $s_error i32 (i32.const 419)) (data (i32.const 419) "error") ;; 5

;; ---- the heap ----
(global $heap_base i32 (i32.const 4096))
(global $heap (mut i32) (i32.const 4096))

;; $ensure grows the memory so that [0, end) exists, or traps when the host
;; refuses (the instance's memory limit).
(func $ensure (param $end i32)
  (local $have i32)
  (local.set $have (i32.shl (memory.size) (i32.const 16)))
  (if (i32.gt_u (local.get $end) (local.get $have))
    (then
      (if (i32.eq
            (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535))
                                    (i32.const 16)))
            (i32.const -1))
        (then unreachable)))))

;; $alloc returns n bytes, 4-byte aligned, that live until the call ends.
(func $alloc (param $n i32) (result i32)
  (local $p i32) (local $end i32)
  (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 3)) (i32.const -4)))
  (local.set $end (i32.add (local.get $p) (local.get $n)))
  (if (i32.lt_u (local.get $end) (local.get $p)) (then unreachable))
  (call $ensure (local.get $end))
  (global.set $heap (local.get $end))
  (local.get $p))

;; ---- the guest's side of a call ----
;; __guest_call is what the host calls: it empties the heap, fetches the
;; operation name and the payload, and runs the handler file's $handle.
(func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
  (local $op i32) (local $msg i32)
  (global.set $heap (global.get $heap_base))
  (local.set $op (call $alloc (local.get $op_len)))
  (local.set $msg (call $alloc (local.get $msg_len)))
  (call $wapc_guest_request (local.get $op) (local.get $msg))
  (call $handle (local.get $op) (local.get $op_len) (local.get $msg) (local.get $msg_len)))

;; $respond hands the response payload to the host; returns 1 for $handle.
(func $respond (param $p i32) (param $n i32) (result i32)
  (call $wapc_guest_response (local.get $p) (local.get $n))
  (i32.const 1))

;; $fail fails the call with an error text; returns 0 for $handle.
(func $fail (param $p i32) (param $n i32) (result i32)
  (call $wapc_guest_error (local.get $p) (local.get $n))
  (i32.const 0))

;; $fail_host fails the call with the error of the last host call.
(func $fail_host (result i32)
  (call $fail (global.get $err_ptr) (global.get $err_len)))

;; $no_handler fails the call with "no handler for operation OP".
(func $no_handler (param $op i32) (param $op_len i32) (result i32)
  (local $p i32)
  (local.set $p (global.get $heap))
  (call $w_bytes (global.get $s_no_handler) (i32.const 25))
  (call $w_bytes (local.get $op) (local.get $op_len))
  (call $fail (local.get $p) (i32.sub (global.get $heap) (local.get $p))))

;; $str_eq compares two strings.
(func $str_eq (param $a i32) (param $an i32) (param $b i32) (param $bn i32) (result i32)
  (local $i i32)
  (if (i32.ne (local.get $an) (local.get $bn)) (then (return (i32.const 0))))
  (block $done
    (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $an)))
      (if (i32.ne (i32.load8_u (i32.add (local.get $a) (local.get $i)))
                  (i32.load8_u (i32.add (local.get $b) (local.get $i))))
        (then (return (i32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
  (i32.const 1))

;; $fmt_i64 writes v in decimal to the heap.
(func $fmt_i64 (param $v i64) (result i32 i32)
  (local $p i32) (local $end i32) (local $u i64)
  (local.set $p (call $alloc (i32.const 20)))
  (local.set $end (i32.add (local.get $p) (i32.const 20)))
  (local.set $u (select (i64.sub (i64.const 0) (local.get $v)) (local.get $v)
                        (i64.lt_s (local.get $v) (i64.const 0))))
  (loop $digit
    (local.set $end (i32.sub (local.get $end) (i32.const 1)))
    (i64.store8 (local.get $end) (i64.add (i64.const 48) (i64.rem_u (local.get $u) (i64.const 10))))
    (local.set $u (i64.div_u (local.get $u) (i64.const 10)))
    (br_if $digit (i64.ne (local.get $u) (i64.const 0))))
  (if (i64.lt_s (local.get $v) (i64.const 0))
    (then
      (local.set $end (i32.sub (local.get $end) (i32.const 1)))
      (i32.store8 (local.get $end) (i32.const 45))))
  (local.get $end)
  (i32.sub (i32.add (local.get $p) (i32.const 20)) (local.get $end)))

;; ---- MessagePack writer: appends to the heap ----
;; Encode a payload by noting $heap, calling $mp_* (and nothing that
;; allocates), and taking the bytes from the noted offset to $heap.
(func $w_u8 (param $b i32)
  (call $ensure (i32.add (global.get $heap) (i32.const 1)))
  (i32.store8 (global.get $heap) (local.get $b))
  (global.set $heap (i32.add (global.get $heap) (i32.const 1))))

(func $w_be16 (param $v i32)
  (call $w_u8 (i32.shr_u (local.get $v) (i32.const 8)))
  (call $w_u8 (local.get $v)))

(func $w_be32 (param $v i32)
  (call $w_be16 (i32.shr_u (local.get $v) (i32.const 16)))
  (call $w_be16 (local.get $v)))

(func $w_be64 (param $v i64)
  (call $w_be32 (i32.wrap_i64 (i64.shr_u (local.get $v) (i64.const 32))))
  (call $w_be32 (i32.wrap_i64 (local.get $v))))

(func $w_bytes (param $p i32) (param $n i32)
  (call $ensure (i32.add (global.get $heap) (local.get $n)))
  (memory.copy (global.get $heap) (local.get $p) (local.get $n))
  (global.set $heap (i32.add (global.get $heap) (local.get $n))))

;; $w_head writes a length in the smallest of three formats: fix (the
;; length or'ed into $fix, if below $fix_max), 16-bit or 32-bit; $short is
;; an 8-bit format (str8, bin8) or 0 for none.
(func $w_head (param $n i32) (param $fix i32) (param $fix_max i32) (param $short i32) (param $f16 i32)
  (if (i32.lt_u (local.get $n) (local.get $fix_max))
    (then (call $w_u8 (i32.or (local.get $fix) (local.get $n))) (return)))
  (if (i32.and (i32.ne (local.get $short) (i32.const 0)) (i32.lt_u (local.get $n) (i32.const 256)))
    (then (call $w_u8 (local.get $short)) (call $w_u8 (local.get $n)) (return)))
  (if (i32.lt_u (local.get $n) (i32.const 65536))
    (then (call $w_u8 (local.get $f16)) (call $w_be16 (local.get $n)) (return)))
  (call $w_u8 (i32.add (local.get $f16) (i32.const 1)))
  (call $w_be32 (local.get $n)))

(func $mp_map (param $n i32)
  (call $w_head (local.get $n) (i32.const 0x80) (i32.const 16) (i32.const 0) (i32.const 0xde)))

(func $mp_array (param $n i32)
  (call $w_head (local.get $n) (i32.const 0x90) (i32.const 16) (i32.const 0) (i32.const 0xdc)))

(func $mp_str (param $p i32) (param $n i32)
  (call $w_head (local.get $n) (i32.const 0xa0) (i32.const 32) (i32.const 0xd9) (i32.const 0xda))
  (call $w_bytes (local.get $p) (local.get $n)))

(func $mp_bin (param $p i32) (param $n i32)
  (call $w_head (local.get $n) (i32.const 0) (i32.const 0) (i32.const 0xc4) (i32.const 0xc5))
  (call $w_bytes (local.get $p) (local.get $n)))

(func $mp_bool (param $b i32)
  (call $w_u8 (select (i32.const 0xc3) (i32.const 0xc2) (local.get $b))))

;; $mp_int writes v in the smallest integer format that holds it.
(func $mp_int (param $v i64)
  (if (i64.ge_s (local.get $v) (i64.const 0))
    (then
      (if (i64.lt_s (local.get $v) (i64.const 128))
        (then (call $w_u8 (i32.wrap_i64 (local.get $v))) (return)))
      (if (i64.lt_s (local.get $v) (i64.const 256))
        (then (call $w_u8 (i32.const 0xcc)) (call $w_u8 (i32.wrap_i64 (local.get $v))) (return)))
      (if (i64.lt_s (local.get $v) (i64.const 65536))
        (then (call $w_u8 (i32.const 0xcd)) (call $w_be16 (i32.wrap_i64 (local.get $v))) (return)))
      (if (i64.lt_s (local.get $v) (i64.const 0x100000000))
        (then (call $w_u8 (i32.const 0xce)) (call $w_be32 (i32.wrap_i64 (local.get $v))) (return)))
      (call $w_u8 (i32.const 0xcf)) (call $w_be64 (local.get $v)) (return)))
  (if (i64.ge_s (local.get $v) (i64.const -32))
    (then (call $w_u8 (i32.wrap_i64 (local.get $v))) (return)))
  (if (i64.ge_s (local.get $v) (i64.const -128))
    (then (call $w_u8 (i32.const 0xd0)) (call $w_u8 (i32.wrap_i64 (local.get $v))) (return)))
  (if (i64.ge_s (local.get $v) (i64.const -32768))
    (then (call $w_u8 (i32.const 0xd1)) (call $w_be16 (i32.wrap_i64 (local.get $v))) (return)))
  (if (i64.ge_s (local.get $v) (i64.const -2147483648))
    (then (call $w_u8 (i32.const 0xd2)) (call $w_be32 (i32.wrap_i64 (local.get $v))) (return)))
  (call $w_u8 (i32.const 0xd3))
  (call $w_be64 (local.get $v)))

;; $mp_header writes header entries as a map of name to values; entries of
;; one name must stand in a row.
(func $mp_header (param $count i32) (param $ptr i32)
  (local $i i32) (local $j i32) (local $runs i32) (local $e i32)
  (block $counted
    (loop $count_runs
      (br_if $counted (i32.ge_u (local.get $i) (local.get $count)))
      (if (i32.eqz (local.get $i))
        (then (local.set $runs (i32.const 1)))
        (else
          (if (i32.eqz (call $same_name (local.get $ptr) (i32.sub (local.get $i) (i32.const 1)) (local.get $i)))
            (then (local.set $runs (i32.add (local.get $runs) (i32.const 1)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $count_runs)))
  (call $mp_map (local.get $runs))
  (local.set $i (i32.const 0))
  (block $written
    (loop $run
      (br_if $written (i32.ge_u (local.get $i) (local.get $count)))
      (local.set $j (i32.add (local.get $i) (i32.const 1)))
      (block $run_end
        (loop $extend
          (br_if $run_end (i32.ge_u (local.get $j) (local.get $count)))
          (br_if $run_end (i32.eqz (call $same_name (local.get $ptr) (local.get $i) (local.get $j))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $extend)))
      (local.set $e (i32.add (local.get $ptr) (i32.shl (local.get $i) (i32.const 4))))
      (call $mp_str (i32.load (local.get $e)) (i32.load offset=4 (local.get $e)))
      (call $mp_array (i32.sub (local.get $j) (local.get $i)))
      (loop $values
        (call $mp_str (i32.load offset=8 (local.get $e)) (i32.load offset=12 (local.get $e)))
        (local.set $e (i32.add (local.get $e) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $values (i32.lt_u (local.get $i) (local.get $j))))
      (br $run))))

(func $same_name (param $ptr i32) (param $a i32) (param $b i32) (result i32)
  (local $ea i32) (local $eb i32)
  (local.set $ea (i32.add (local.get $ptr) (i32.shl (local.get $a) (i32.const 4))))
  (local.set $eb (i32.add (local.get $ptr) (i32.shl (local.get $b) (i32.const 4))))
  (call $str_eq (i32.load (local.get $ea)) (i32.load offset=4 (local.get $ea))
                (i32.load (local.get $eb)) (i32.load offset=4 (local.get $eb))))

;; ---- MessagePack reader: one payload at a time ----
;; $r_init points the reader at a payload; the $mp_read_* functions then
;; take one value each from it. Strings and byte strings come back as
;; (ptr, len) into the payload, without a copy.
(global $rp (mut i32) (i32.const 0))
(global $rend (mut i32) (i32.const 0))

(func $r_init (param $p i32) (param $n i32)
  (global.set $rp (local.get $p))
  (global.set $rend (i32.add (local.get $p) (local.get $n))))

;; $r_take consumes n bytes and returns where they start, or traps when
;; the payload is shorter.
(func $r_take (param $n i32) (result i32)
  (local $p i32)
  (local.set $p (global.get $rp))
  (if (i32.gt_u (local.get $n) (i32.sub (global.get $rend) (local.get $p))) (then unreachable))
  (global.set $rp (i32.add (local.get $p) (local.get $n)))
  (local.get $p))

(func $r_u8 (result i32) (i32.load8_u (call $r_take (i32.const 1))))

(func $r_be16 (result i32)
  (local $p i32)
  (local.set $p (call $r_take (i32.const 2)))
  (i32.or (i32.shl (i32.load8_u (local.get $p)) (i32.const 8)) (i32.load8_u offset=1 (local.get $p))))

(func $r_be32 (result i32)
  (i32.or (i32.shl (call $r_be16) (i32.const 16)) (call $r_be16)))

(func $r_be64 (result i64)
  (i64.or (i64.shl (i64.extend_i32_u (call $r_be32)) (i64.const 32)) (i64.extend_i32_u (call $r_be32))))

;; $r_len reads the length that follows a format byte of the 8/16/32-bit
;; families: $size is 1, 2 or 4.
(func $r_len (param $size i32) (result i32)
  (if (i32.eq (local.get $size) (i32.const 1)) (then (return (call $r_u8))))
  (if (i32.eq (local.get $size) (i32.const 2)) (then (return (call $r_be16))))
  (call $r_be32))

;; $mp_read_map returns a map's number of pairs (nil is an empty map).
(func $mp_read_map (result i32)
  (local $b i32)
  (local.set $b (call $r_u8))
  (if (i32.eq (i32.and (local.get $b) (i32.const 0xf0)) (i32.const 0x80))
    (then (return (i32.and (local.get $b) (i32.const 0x0f)))))
  (if (i32.eq (local.get $b) (i32.const 0xde)) (then (return (call $r_be16))))
  (if (i32.eq (local.get $b) (i32.const 0xdf)) (then (return (call $r_be32))))
  (if (i32.eq (local.get $b) (i32.const 0xc0)) (then (return (i32.const 0))))
  unreachable)

;; $mp_read_array returns an array's length (nil is an empty array).
(func $mp_read_array (result i32)
  (local $b i32)
  (local.set $b (call $r_u8))
  (if (i32.eq (i32.and (local.get $b) (i32.const 0xf0)) (i32.const 0x90))
    (then (return (i32.and (local.get $b) (i32.const 0x0f)))))
  (if (i32.eq (local.get $b) (i32.const 0xdc)) (then (return (call $r_be16))))
  (if (i32.eq (local.get $b) (i32.const 0xdd)) (then (return (call $r_be32))))
  (if (i32.eq (local.get $b) (i32.const 0xc0)) (then (return (i32.const 0))))
  unreachable)

;; $mp_read_bytes reads a str or a bin (nil is empty) as (ptr, len).
(func $mp_read_bytes (result i32 i32)
  (local $b i32) (local $n i32)
  (local.set $b (call $r_u8))
  (block $have_len
    (if (i32.eq (i32.and (local.get $b) (i32.const 0xe0)) (i32.const 0xa0))
      (then (local.set $n (i32.and (local.get $b) (i32.const 0x1f))) (br $have_len)))
    (if (i32.eq (local.get $b) (i32.const 0xc0))
      (then (return (i32.const 0) (i32.const 0))))
    (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xd9)) (i32.le_u (local.get $b) (i32.const 0xdb)))
      (then (local.set $n (call $r_len (i32.shl (i32.const 1) (i32.sub (local.get $b) (i32.const 0xd9)))))
            (br $have_len)))
    (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xc4)) (i32.le_u (local.get $b) (i32.const 0xc6)))
      (then (local.set $n (call $r_len (i32.shl (i32.const 1) (i32.sub (local.get $b) (i32.const 0xc4)))))
            (br $have_len)))
    unreachable)
  (call $r_take (local.get $n))
  (local.get $n))

;; $mp_read_int reads any integer format as an i64.
(func $mp_read_int (result i64)
  (local $b i32)
  (local.set $b (call $r_u8))
  (if (i32.lt_u (local.get $b) (i32.const 0x80)) (then (return (i64.extend_i32_u (local.get $b)))))
  (if (i32.ge_u (local.get $b) (i32.const 0xe0)) (then (return (i64.extend_i32_s (i32.extend8_s (local.get $b))))))
  (if (i32.eq (local.get $b) (i32.const 0xcc)) (then (return (i64.extend_i32_u (call $r_u8)))))
  (if (i32.eq (local.get $b) (i32.const 0xcd)) (then (return (i64.extend_i32_u (call $r_be16)))))
  (if (i32.eq (local.get $b) (i32.const 0xce)) (then (return (i64.extend_i32_u (call $r_be32)))))
  (if (i32.eq (local.get $b) (i32.const 0xcf)) (then (return (call $r_be64))))
  (if (i32.eq (local.get $b) (i32.const 0xd0)) (then (return (i64.extend_i32_s (i32.extend8_s (call $r_u8))))))
  (if (i32.eq (local.get $b) (i32.const 0xd1)) (then (return (i64.extend_i32_s (i32.extend16_s (call $r_be16))))))
  (if (i32.eq (local.get $b) (i32.const 0xd2)) (then (return (i64.extend_i32_s (call $r_be32)))))
  (if (i32.eq (local.get $b) (i32.const 0xd3)) (then (return (call $r_be64))))
  unreachable)

;; $mp_read_bool reads true or false (nil is false).
(func $mp_read_bool (result i32)
  (local $b i32)
  (local.set $b (call $r_u8))
  (if (i32.eq (local.get $b) (i32.const 0xc3)) (then (return (i32.const 1))))
  (if (i32.or (i32.eq (local.get $b) (i32.const 0xc2)) (i32.eq (local.get $b) (i32.const 0xc0)))
    (then (return (i32.const 0))))
  unreachable)

;; $mp_skip passes over one value of any type: readers skip the keys they
;; do not know, so a record may gain fields.
(func $mp_skip
  (local $b i32) (local $n i32)
  (local.set $b (call $r_u8))
  ;; one byte: positive and negative fixint, nil, false, true
  (if (i32.or (i32.or (i32.lt_u (local.get $b) (i32.const 0x80)) (i32.ge_u (local.get $b) (i32.const 0xe0)))
              (i32.and (i32.ge_u (local.get $b) (i32.const 0xc0)) (i32.le_u (local.get $b) (i32.const 0xc3))))
    (then (return)))
  ;; fixmap, fixarray
  (if (i32.lt_u (local.get $b) (i32.const 0xa0))
    (then
      (local.set $n (i32.and (local.get $b) (i32.const 0x0f)))
      (if (i32.lt_u (local.get $b) (i32.const 0x90))
        (then (local.set $n (i32.shl (local.get $n) (i32.const 1)))))
      (call $skip_n (local.get $n))
      (return)))
  ;; fixstr
  (if (i32.lt_u (local.get $b) (i32.const 0xc0))
    (then (drop (call $r_take (i32.and (local.get $b) (i32.const 0x1f)))) (return)))
  ;; bin8/16/32 and str8/16/32
  (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xc4)) (i32.le_u (local.get $b) (i32.const 0xc6)))
    (then (drop (call $r_take (call $r_len (i32.shl (i32.const 1) (i32.sub (local.get $b) (i32.const 0xc4))))))
          (return)))
  (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xd9)) (i32.le_u (local.get $b) (i32.const 0xdb)))
    (then (drop (call $r_take (call $r_len (i32.shl (i32.const 1) (i32.sub (local.get $b) (i32.const 0xd9))))))
          (return)))
  ;; ext8/16/32: length, type, data
  (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xc7)) (i32.le_u (local.get $b) (i32.const 0xc9)))
    (then (drop (call $r_take (i32.add (call $r_len (i32.shl (i32.const 1) (i32.sub (local.get $b) (i32.const 0xc7))))
                                       (i32.const 1))))
          (return)))
  ;; float32, float64, uint8..64, int8..64
  (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xca)) (i32.le_u (local.get $b) (i32.const 0xd3)))
    (then
      (local.set $n (i32.and (i32.sub (local.get $b) (i32.const 0xcc)) (i32.const 3)))
      (if (i32.eq (local.get $b) (i32.const 0xca)) (then (local.set $n (i32.const 2))))
      (if (i32.eq (local.get $b) (i32.const 0xcb)) (then (local.set $n (i32.const 3))))
      (drop (call $r_take (i32.shl (i32.const 1) (local.get $n))))
      (return)))
  ;; fixext 1, 2, 4, 8, 16: type and data
  (if (i32.and (i32.ge_u (local.get $b) (i32.const 0xd4)) (i32.le_u (local.get $b) (i32.const 0xd8)))
    (then (drop (call $r_take (i32.add (i32.shl (i32.const 1) (i32.sub (local.get $b) (i32.const 0xd4))) (i32.const 1))))
          (return)))
  ;; array16/32, map16/32
  (if (i32.eq (local.get $b) (i32.const 0xdc)) (then (call $skip_n (call $r_be16)) (return)))
  (if (i32.eq (local.get $b) (i32.const 0xdd)) (then (call $skip_n (call $r_be32)) (return)))
  (if (i32.eq (local.get $b) (i32.const 0xde)) (then (call $skip_n (i32.shl (call $r_be16) (i32.const 1))) (return)))
  (if (i32.eq (local.get $b) (i32.const 0xdf)) (then (call $skip_n (i32.shl (call $r_be32) (i32.const 1))) (return)))
  unreachable)

(func $skip_n (param $n i32)
  (block $done
    (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (call $mp_skip)
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next))))

;; $mp_key_is reads nothing: it compares a key read with $mp_read_bytes
;; against a constant.
(func $mp_key_is (param $k i32) (param $kn i32) (param $s i32) (param $sn i32) (result i32)
  (call $str_eq (local.get $k) (local.get $kn) (local.get $s) (local.get $sn)))

;; $mp_read_header reads a map of name to values into header entries;
;; returns (count, ptr).
(func $mp_read_header (result i32 i32)
  (local $pairs i32) (local $vals i32) (local $np i32) (local $nn i32)
  (local $ptr i32) (local $count i32) (local $e i32)
  (local.set $pairs (call $mp_read_map))
  (local.set $ptr (call $alloc (i32.const 0)))
  (block $done
    (loop $pair
      (br_if $done (i32.eqz (local.get $pairs)))
      (call $mp_read_bytes) (local.set $nn) (local.set $np)
      (local.set $vals (call $mp_read_array))
      (block $vals_done
        (loop $val
          (br_if $vals_done (i32.eqz (local.get $vals)))
          (local.set $e (call $alloc (i32.const 16)))
          (i32.store (local.get $e) (local.get $np))
          (i32.store offset=4 (local.get $e) (local.get $nn))
          (call $store_bytes (i32.add (local.get $e) (i32.const 8)))
          (local.set $count (i32.add (local.get $count) (i32.const 1)))
          (local.set $vals (i32.sub (local.get $vals) (i32.const 1)))
          (br $val)))
      (local.set $pairs (i32.sub (local.get $pairs) (i32.const 1)))
      (br $pair)))
  (local.get $count)
  (local.get $ptr))

;; ---- host calls ----
(global $resp_ptr (mut i32) (i32.const 0))
(global $resp_len (mut i32) (i32.const 0))
(global $err_ptr (mut i32) (i32.const 0))
(global $err_len (mut i32) (i32.const 0))

;; $call makes a raw host call: operation $op on $ns (a contract id, or an
;; actor's id or call alias) through the link $bd, with a payload. On 1 the
;; response is at $resp_ptr/$resp_len, on 0 the error at $err_ptr/$err_len.
(func $call (param $bd i32) (param $bd_len i32) (param $ns i32) (param $ns_len i32)
            (param $op i32) (param $op_len i32) (param $p i32) (param $n i32) (result i32)
  (local $len i32)
  (if (call $wapc_host_call (local.get $bd) (local.get $bd_len) (local.get $ns) (local.get $ns_len)
                            (local.get $op) (local.get $op_len) (local.get $p) (local.get $n))
    (then
      (local.set $len (call $wapc_host_response_len))
      (global.set $resp_ptr (call $alloc (local.get $len)))
      (global.set $resp_len (local.get $len))
      (call $wapc_host_response (global.get $resp_ptr))
      (call $r_init (global.get $resp_ptr) (global.get $resp_len))
      (return (i32.const 1))))
  (local.set $len (call $wapc_host_error_len))
  (global.set $err_ptr (call $alloc (local.get $len)))
  (global.set $err_len (local.get $len))
  (call $wapc_host_error (global.get $err_ptr))
  (i32.const 0))

;; $call_since calls a contract with the payload encoded from $start to the
;; heap's top.
(func $call_since (param $bd i32) (param $bd_len i32) (param $ns i32) (param $ns_len i32)
                  (param $op i32) (param $op_len i32) (param $start i32) (result i32)
  (call $call (local.get $bd) (local.get $bd_len) (local.get $ns) (local.get $ns_len)
              (local.get $op) (local.get $op_len)
              (local.get $start) (i32.sub (global.get $heap) (local.get $start))))

;; $console_log writes a line to the host log; it needs no claim.
(func $console_log (param $p i32) (param $n i32)
  (call $wapc_console_log (local.get $p) (local.get $n)))

;; ---- spore:httpserver: HttpServer.HandleRequest ----
;; $http_read_request decodes the payload of HttpServer.HandleRequest into
;; an http request record.
(func $http_read_request (param $msg i32) (param $msg_len i32) (result i32)
  (local $req i32) (local $n i32) (local $k i32) (local $kn i32)
  (local.set $req (call $alloc (i32.const 40)))
  (memory.fill (local.get $req) (i32.const 0) (i32.const 40))
  (call $r_init (local.get $msg) (local.get $msg_len))
  (local.set $n (call $mp_read_map))
  (block $done
    (loop $field
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (call $mp_read_bytes) (local.set $kn) (local.set $k)
      (if (call $mp_key_is (local.get $k) (local.get $kn) (global.get $s_method) (i32.const 6))
        (then (call $store_bytes (local.get $req)) (br $field)))
      (if (call $mp_key_is (local.get $k) (local.get $kn) (global.get $s_path) (i32.const 4))
        (then (call $store_bytes (i32.add (local.get $req) (i32.const 8))) (br $field)))
      (if (call $mp_key_is (local.get $k) (local.get $kn) (global.get $s_query) (i32.const 5))
        (then (call $store_bytes (i32.add (local.get $req) (i32.const 16))) (br $field)))
      (if (call $mp_key_is (local.get $k) (local.get $kn) (global.get $s_header) (i32.const 6))
        (then (call $store_header (i32.add (local.get $req) (i32.const 24))) (br $field)))
      (if (call $mp_key_is (local.get $k) (local.get $kn) (global.get $s_body) (i32.const 4))
        (then (call $store_bytes (i32.add (local.get $req) (i32.const 32))) (br $field)))
      (call $mp_skip)
      (br $field)))
  (local.get $req))

;; $store_bytes reads a str or bin and stores (ptr, len) at $at.
(func $store_bytes (param $at i32)
  (local $p i32) (local $n i32)
  (call $mp_read_bytes) (local.set $n) (local.set $p)
  (i32.store (local.get $at) (local.get $p))
  (i32.store offset=4 (local.get $at) (local.get $n)))

;; $store_header reads a header map and stores (count, ptr) at $at.
(func $store_header (param $at i32)
  (local $count i32) (local $ptr i32)
  (call $mp_read_header) (local.set $ptr) (local.set $count)
  (i32.store (local.get $at) (local.get $count))
  (i32.store offset=4 (local.get $at) (local.get $ptr)))

;; $http_respond answers HttpServer.HandleRequest with a status, header
;; entries and a body. It returns 1 for $handle.
(func $http_respond (param $status i32) (param $hcount i32) (param $hptr i32)
                    (param $body i32) (param $body_len i32) (result i32)
  (local $start i32)
  (local.set $start (global.get $heap))
  (call $mp_map (i32.const 3))
  (call $mp_str (global.get $s_status) (i32.const 6))
  (call $mp_int (i64.extend_i32_u (local.get $status)))
  (call $mp_str (global.get $s_header) (i32.const 6))
  (call $mp_header (local.get $hcount) (local.get $hptr))
  (call $mp_str (global.get $s_body) (i32.const 4))
  (call $mp_bin (local.get $body) (local.get $body_len))
  (call $respond (local.get $start) (i32.sub (global.get $heap) (local.get $start))))

;; $http_respond_typed answers with a status, one Content-Type and a body.
(func $http_respond_typed (param $status i32) (param $ct i32) (param $ct_len i32)
                          (param $body i32) (param $body_len i32) (result i32)
  (local $h i32)
  (local.set $h (call $alloc (i32.const 16)))
  (i32.store (local.get $h) (global.get $s_content_type))
  (i32.store offset=4 (local.get $h) (i32.const 12))
  (i32.store offset=8 (local.get $h) (local.get $ct))
  (i32.store offset=12 (local.get $h) (local.get $ct_len))
  (call $http_respond (local.get $status) (i32.const 1) (local.get $h) (local.get $body) (local.get $body_len)))

;; ---- spore:keyvalue ----
;; $kv_start encodes the start of a keyvalue payload: a map of $fields
;; pairs whose first is key.
(func $kv_start (param $fields i32) (param $key i32) (param $key_len i32) (result i32)
  (local $start i32)
  (local.set $start (global.get $heap))
  (call $mp_map (local.get $fields))
  (call $mp_str (global.get $s_key) (i32.const 3))
  (call $mp_str (local.get $key) (local.get $key_len))
  (local.get $start))

;; $kv_string calls a keyvalue operation whose payload is one string.
(func $kv_string (param $link i32) (param $link_len i32) (param $op i32) (param $op_len i32)
                 (param $s i32) (param $s_len i32) (result i32)
  (local $start i32)
  (local.set $start (global.get $heap))
  (call $mp_str (local.get $s) (local.get $s_len))
  (call $call_since (local.get $link) (local.get $link_len) (global.get $s_c_kv) (i32.const 14)
                    (local.get $op) (local.get $op_len) (local.get $start)))

;; $kv_get: KeyValue.Get -> (ok, value ptr, value len, exists).
(func $kv_get (param $link i32) (param $link_len i32) (param $key i32) (param $key_len i32)
              (result i32 i32 i32 i32)
  (local $n i32) (local $k i32) (local $kn i32) (local $v i32) (local $vn i32) (local $exists i32)
  (if (i32.eqz (call $kv_string (local.get $link) (local.get $link_len) (global.get $s_kv_get) (i32.const 12)
                                (local.get $key) (local.get $key_len)))
    (then (return (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))
  (local.set $n (call $mp_read_map))
  (block $done
    (loop $field
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (call $mp_read_bytes) (local.set $kn) (local.set $k)
      (if (call $mp_key_is (local.get $k) (local.get $kn) (global.get $s_value) (i32.const 5))
        (then (call $mp_read_bytes) (local.set $vn) (local.set $v) (br $field)))
      (if (call $mp_key_is (local.get $k) (local.get $kn) (global.get $s_exists) (i32.const 6))
        (then (local.set $exists (call $mp_read_bool)) (br $field)))
      (call $mp_skip)
      (br $field)))
  (i32.const 1) (local.get $v) (local.get $vn) (local.get $exists))

;; $kv_set: KeyValue.Set with a time to live in seconds (0: none) -> ok.
(func $kv_set (param $link i32) (param $link_len i32) (param $key i32) (param $key_len i32)
              (param $val i32) (param $val_len i32) (param $ttl i32) (result i32)
  (local $start i32)
  (local.set $start (call $kv_start (i32.const 3) (local.get $key) (local.get $key_len)))
  (call $mp_str (global.get $s_value) (i32.const 5))
  (call $mp_bin (local.get $val) (local.get $val_len))
  (call $mp_str (global.get $s_ttl) (i32.const 11))
  (call $mp_int (i64.extend_i32_u (local.get $ttl)))
  (call $call_since (local.get $link) (local.get $link_len) (global.get $s_c_kv) (i32.const 14)
                    (global.get $s_kv_set) (i32.const 12) (local.get $start)))

;; $kv_delete: KeyValue.Delete -> (ok, existed).
(func $kv_delete (param $link i32) (param $link_len i32) (param $key i32) (param $key_len i32) (result i32 i32)
  (if (i32.eqz (call $kv_string (local.get $link) (local.get $link_len) (global.get $s_kv_delete) (i32.const 15)
                                (local.get $key) (local.get $key_len)))
    (then (return (i32.const 0) (i32.const 0))))
  (i32.const 1) (call $mp_read_bool))

;; $kv_exists: KeyValue.Exists -> (ok, exists).
(func $kv_exists (param $link i32) (param $link_len i32) (param $key i32) (param $key_len i32) (result i32 i32)
  (if (i32.eqz (call $kv_string (local.get $link) (local.get $link_len) (global.get $s_kv_exists) (i32.const 15)
                                (local.get $key) (local.get $key_len)))
    (then (return (i32.const 0) (i32.const 0))))
  (i32.const 1) (call $mp_read_bool))

;; $kv_increment: KeyValue.Increment -> (ok, the new value).
(func $kv_increment (param $link i32) (param $link_len i32) (param $key i32) (param $key_len i32)
                    (param $delta i64) (result i32 i64)
  (local $start i32)
  (local.set $start (call $kv_start (i32.const 2) (local.get $key) (local.get $key_len)))
  (call $mp_str (global.get $s_delta) (i32.const 5))
  (call $mp_int (local.get $delta))
  (if (i32.eqz (call $call_since (local.get $link) (local.get $link_len) (global.get $s_c_kv) (i32.const 14)
                                 (global.get $s_kv_increment) (i32.const 18) (local.get $start)))
    (then (return (i32.const 0) (i64.const 0))))
  (i32.const 1) (call $mp_read_int))

;; $kv_keys: KeyValue.Keys -> (ok, count, key list ptr).
(func $kv_keys (param $link i32) (param $link_len i32) (param $prefix i32) (param $prefix_len i32)
               (result i32 i32 i32)
  (local $n i32) (local $i i32) (local $list i32)
  (if (i32.eqz (call $kv_string (local.get $link) (local.get $link_len) (global.get $s_kv_keys) (i32.const 13)
                                (local.get $prefix) (local.get $prefix_len)))
    (then (return (i32.const 0) (i32.const 0) (i32.const 0))))
  (local.set $n (call $mp_read_array))
  (local.set $list (call $alloc (i32.shl (local.get $n) (i32.const 3))))
  (block $done
    (loop $key
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (call $store_bytes (i32.add (local.get $list) (i32.shl (local.get $i) (i32.const 3))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $key)))
  (i32.const 1) (local.get $n) (local.get $list))

;; ---- spore:messaging ----
;; $msg_read decodes a message (the payload of Messaging.HandleMessage, or
;; the reply of Messaging.Request) from the reader into a message record.
(func $msg_read (result i32)
  (local $m i32) (local $n i32) (local $k i32) (local $kn i32)
  (local.set $m (call $alloc (i32.const 24)))
  (memory.fill (local.get $m) (i32.const 0) (i32.const 24))
  (local.set $n (call $mp_read_map))
  (block $done
    (loop $field
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (call $mp_read_bytes) (local.set $kn) (local.set $k)
      (if (call $mp_key_is (local.get $k) (local.get $kn) (global.get $s_subject) (i32.const 7))
        (then (call $store_bytes (local.get $m)) (br $field)))
      (if (call $mp_key_is (local.get $k) (local.get $kn) (global.get $s_reply_to) (i32.const 8))
        (then (call $store_bytes (i32.add (local.get $m) (i32.const 8))) (br $field)))
      (if (call $mp_key_is (local.get $k) (local.get $kn) (global.get $s_body) (i32.const 4))
        (then (call $store_bytes (i32.add (local.get $m) (i32.const 16))) (br $field)))
      (call $mp_skip)
      (br $field)))
  (local.get $m))

;; $msg_read_payload decodes the payload of Messaging.HandleMessage; reply
;; with $respond (the reply body, may be empty).
(func $msg_read_payload (param $msg i32) (param $msg_len i32) (result i32)
  (call $r_init (local.get $msg) (local.get $msg_len))
  (call $msg_read))

;; $msg_publish: Messaging.Publish (reply_to may be empty) -> ok.
(func $msg_publish (param $link i32) (param $link_len i32) (param $subj i32) (param $subj_len i32)
                   (param $reply i32) (param $reply_len i32) (param $body i32) (param $body_len i32) (result i32)
  (local $start i32)
  (local.set $start (global.get $heap))
  (call $mp_map (i32.const 3))
  (call $mp_str (global.get $s_subject) (i32.const 7))
  (call $mp_str (local.get $subj) (local.get $subj_len))
  (call $mp_str (global.get $s_reply_to) (i32.const 8))
  (call $mp_str (local.get $reply) (local.get $reply_len))
  (call $mp_str (global.get $s_body) (i32.const 4))
  (call $mp_bin (local.get $body) (local.get $body_len))
  (call $call_since (local.get $link) (local.get $link_len) (global.get $s_c_msg) (i32.const 15)
                    (global.get $s_msg_publish) (i32.const 17) (local.get $start)))

;; $msg_request: Messaging.Request, waiting up to timeout_ms (0: the
;; provider's default) -> (ok, reply message record).
(func $msg_request (param $link i32) (param $link_len i32) (param $subj i32) (param $subj_len i32)
                   (param $body i32) (param $body_len i32) (param $timeout_ms i32) (result i32 i32)
  (local $start i32)
  (local.set $start (global.get $heap))
  (call $mp_map (i32.const 3))
  (call $mp_str (global.get $s_subject) (i32.const 7))
  (call $mp_str (local.get $subj) (local.get $subj_len))
  (call $mp_str (global.get $s_body) (i32.const 4))
  (call $mp_bin (local.get $body) (local.get $body_len))
  (call $mp_str (global.get $s_timeout) (i32.const 10))
  (call $mp_int (i64.extend_i32_u (local.get $timeout_ms)))
  (if (i32.eqz (call $call_since (local.get $link) (local.get $link_len) (global.get $s_c_msg) (i32.const 15)
                                 (global.get $s_msg_request) (i32.const 17) (local.get $start)))
    (then (return (i32.const 0) (i32.const 0))))
  (i32.const 1) (call $msg_read))

;; ---- spore:httpclient ----
;; $http_send: HttpClient.Request -> (ok, http response record). Any status
;; is a response; ok is 0 only when no response came.
(func $http_send (param $link i32) (param $link_len i32) (param $method i32) (param $method_len i32)
                 (param $url i32) (param $url_len i32) (param $hcount i32) (param $hptr i32)
                 (param $body i32) (param $body_len i32) (result i32 i32)
  (local $start i32) (local $r i32) (local $n i32) (local $k i32) (local $kn i32)
  (local.set $start (global.get $heap))
  (call $mp_map (i32.const 4))
  (call $mp_str (global.get $s_method) (i32.const 6))
  (call $mp_str (local.get $method) (local.get $method_len))
  (call $mp_str (global.get $s_url) (i32.const 3))
  (call $mp_str (local.get $url) (local.get $url_len))
  (call $mp_str (global.get $s_header) (i32.const 6))
  (call $mp_header (local.get $hcount) (local.get $hptr))
  (call $mp_str (global.get $s_body) (i32.const 4))
  (call $mp_bin (local.get $body) (local.get $body_len))
  (if (i32.eqz (call $call_since (local.get $link) (local.get $link_len) (global.get $s_c_http) (i32.const 16)
                                 (global.get $s_http_request) (i32.const 18) (local.get $start)))
    (then (return (i32.const 0) (i32.const 0))))
  (local.set $r (call $alloc (i32.const 20)))
  (memory.fill (local.get $r) (i32.const 0) (i32.const 20))
  (local.set $n (call $mp_read_map))
  (block $done
    (loop $field
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (call $mp_read_bytes) (local.set $kn) (local.set $k)
      (if (call $mp_key_is (local.get $k) (local.get $kn) (global.get $s_status) (i32.const 6))
        (then (i32.store (local.get $r) (i32.wrap_i64 (call $mp_read_int))) (br $field)))
      (if (call $mp_key_is (local.get $k) (local.get $kn) (global.get $s_header) (i32.const 6))
        (then (call $store_header (i32.add (local.get $r) (i32.const 4))) (br $field)))
      (if (call $mp_key_is (local.get $k) (local.get $kn) (global.get $s_body) (i32.const 4))
        (then (call $store_bytes (i32.add (local.get $r) (i32.const 12))) (br $field)))
      (call $mp_skip)
      (br $field)))
  (i32.const 1) (local.get $r))

;; ---- spore:logging ----
;; $log_write: Logging.Write at a level ($s_debug 5, $s_info 4, $s_warn 4,
;; $s_error 5) -> ok.
(func $log_write (param $level i32) (param $level_len i32) (param $text i32) (param $text_len i32) (result i32)
  (local $start i32)
  (local.set $start (global.get $heap))
  (call $mp_map (i32.const 2))
  (call $mp_str (global.get $s_level) (i32.const 5))
  (call $mp_str (local.get $level) (local.get $level_len))
  (call $mp_str (global.get $s_text) (i32.const 4))
  (call $mp_str (local.get $text) (local.get $text_len))
  (call $call_since (i32.const 0) (i32.const 0) (global.get $s_c_log) (i32.const 13)
                    (global.get $s_log_write) (i32.const 13) (local.get $start)))

;; ---- actor to actor (claim spore:actor) ----
;; $actor_call calls an operation on another actor, named by id or call
;; alias, with a raw payload -> (ok, response ptr, response len).
(func $actor_call (param $actor i32) (param $actor_len i32) (param $op i32) (param $op_len i32)
                  (param $p i32) (param $n i32) (result i32 i32 i32)
  (if (i32.eqz (call $call (i32.const 0) (i32.const 0) (local.get $actor) (local.get $actor_len)
                           (local.get $op) (local.get $op_len) (local.get $p) (local.get $n)))
    (then (return (i32.const 0) (i32.const 0) (i32.const 0))))
  (i32.const 1) (global.get $resp_ptr) (global.get $resp_len))

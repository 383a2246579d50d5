;; counter.wat: the counter actor in hand-written WAT. Every HTTP request
;; adds one to a counter kept in the key-value store under the request's
;; path, and the answer is the new count as JSON, {"count":N}.
;;
;; These are the handler's fields only: the module is actors/wat/spore.wat
;; (the waPC ABI, MessagePack and the contract helpers) followed by this
;; file. Build, sign and run: see actors/wat/README.md.
;;
;;   cat ../../actors/wat/spore.wat counter.wat > build.wat
;;   wat2wasm build.wat -o counter.wasm

;; Our own strings live in [1024, 4096).
(global $s_json i32 (i32.const 1024)) (data (i32.const 1024) "application/json") ;; 16
(global $s_count i32 (i32.const 1040)) (data (i32.const 1040) "{\"count\":") ;; 9

;; $handle serves every call: HttpServer.HandleRequest, or no handler.
(func $handle (param $op i32) (param $op_len i32) (param $msg i32) (param $msg_len i32) (result i32)
  (local $req i32) (local $n i64) (local $digits i32) (local $digits_len i32) (local $body i32)
  (if (i32.eqz (call $str_eq (local.get $op) (local.get $op_len) (global.get $s_op_http) (i32.const 24)))
    (then (return (call $no_handler (local.get $op) (local.get $op_len)))))
  (local.set $req (call $http_read_request (local.get $msg) (local.get $msg_len)))

  ;; KeyValue.Increment {key: path, delta: 1} through the default link.
  (call $kv_increment (i32.const 0) (i32.const 0)
                      (i32.load offset=8 (local.get $req)) (i32.load offset=12 (local.get $req))
                      (i64.const 1))
  (local.set $n)
  (if (i32.eqz) (then (return (call $fail_host))))

  ;; The body: {"count": + digits + }.
  (call $fmt_i64 (local.get $n))
  (local.set $digits_len) (local.set $digits)
  (local.set $body (global.get $heap))
  (call $w_bytes (global.get $s_count) (i32.const 9))
  (call $w_bytes (local.get $digits) (local.get $digits_len))
  (call $w_u8 (i32.const 125)) ;; }
  (call $http_respond_typed (i32.const 200) (global.get $s_json) (i32.const 16)
                            (local.get $body) (i32.sub (global.get $heap) (local.get $body))))

;; Calls every typed helper of actors/wat/spore.wat once, for
;; test/languages: Contracts.Run reports what each call returned, one line
;; per call, and Messaging.HandleMessage echoes the message it gets. The
;; module is actors/wat/spore.wat followed by this file.

(global $t_run i32 (i32.const 1024)) (data (i32.const 1024) "Contracts.Run") ;; 13
(global $t_k i32 (i32.const 1037)) (data (i32.const 1037) "k") ;; 1
(global $t_v i32 (i32.const 1038)) (data (i32.const 1038) "v") ;; 1
(global $t_n i32 (i32.const 1039)) (data (i32.const 1039) "n") ;; 1
(global $t_p i32 (i32.const 1040)) (data (i32.const 1040) "p") ;; 1
(global $t_s i32 (i32.const 1041)) (data (i32.const 1041) "s") ;; 1
(global $t_r i32 (i32.const 1042)) (data (i32.const 1042) "r") ;; 1
(global $t_b i32 (i32.const 1043)) (data (i32.const 1043) "b") ;; 1
(global $t_q i32 (i32.const 1044)) (data (i32.const 1044) "q") ;; 1
(global $t_bus i32 (i32.const 1045)) (data (i32.const 1045) "bus") ;; 3
(global $t_get_m i32 (i32.const 1048)) (data (i32.const 1048) "GET") ;; 3
(global $t_url i32 (i32.const 1051)) (data (i32.const 1051) "http://x/") ;; 9
(global $t_A i32 (i32.const 1060)) (data (i32.const 1060) "A") ;; 1
(global $t_one i32 (i32.const 1061)) (data (i32.const 1061) "1") ;; 1
(global $t_two i32 (i32.const 1062)) (data (i32.const 1062) "2") ;; 1
(global $t_hb i32 (i32.const 1063)) (data (i32.const 1063) "hb") ;; 2
(global $t_w i32 (i32.const 1065)) (data (i32.const 1065) "w") ;; 1
(global $t_other i32 (i32.const 1066)) (data (i32.const 1066) "other") ;; 5
(global $t_ping i32 (i32.const 1071)) (data (i32.const 1071) "Ping") ;; 4
(global $t_denied i32 (i32.const 1075)) (data (i32.const 1075) "denied") ;; 6
(global $t_l_get i32 (i32.const 1081)) (data (i32.const 1081) "get ") ;; 4
(global $t_l_set i32 (i32.const 1085)) (data (i32.const 1085) "set") ;; 3
(global $t_l_delete i32 (i32.const 1088)) (data (i32.const 1088) "delete ") ;; 7
(global $t_l_exists i32 (i32.const 1095)) (data (i32.const 1095) "exists ") ;; 7
(global $t_l_increment i32 (i32.const 1102)) (data (i32.const 1102) "increment ") ;; 10
(global $t_l_keys i32 (i32.const 1112)) (data (i32.const 1112) "keys ") ;; 5
(global $t_l_publish i32 (i32.const 1117)) (data (i32.const 1117) "publish") ;; 7
(global $t_l_request i32 (i32.const 1124)) (data (i32.const 1124) "request ") ;; 8
(global $t_l_http i32 (i32.const 1132)) (data (i32.const 1132) "http ") ;; 5
(global $t_l_log i32 (i32.const 1137)) (data (i32.const 1137) "log") ;; 3
(global $t_l_call i32 (i32.const 1140)) (data (i32.const 1140) "call ") ;; 5
(global $t_l_denied i32 (i32.const 1145)) (data (i32.const 1145) "denied ") ;; 7
(global $t_true i32 (i32.const 1152)) (data (i32.const 1152) "true") ;; 4
(global $t_false i32 (i32.const 1156)) (data (i32.const 1156) "false") ;; 5

;; The report is built in [2048, 4096), out of the heap's way.
(global $rep_base i32 (i32.const 2048))
(global $rep_len (mut i32) (i32.const 0))

(func $rep (param $p i32) (param $n i32)
  (memory.copy (i32.add (global.get $rep_base) (global.get $rep_len)) (local.get $p) (local.get $n))
  (global.set $rep_len (i32.add (global.get $rep_len) (local.get $n))))

(func $rep_char (param $c i32)
  (i32.store8 (i32.add (global.get $rep_base) (global.get $rep_len)) (local.get $c))
  (global.set $rep_len (i32.add (global.get $rep_len) (i32.const 1))))

;; $line starts a report line with a label.
(func $line (param $p i32) (param $n i32)
  (if (global.get $rep_len) (then (call $rep_char (i32.const 10))))
  (call $rep (local.get $p) (local.get $n)))

(func $rep_bool (param $b i32)
  (if (local.get $b)
    (then (call $rep (global.get $t_true) (i32.const 4)))
    (else (call $rep (global.get $t_false) (i32.const 5)))))

(func $rep_int (param $v i64)
  (call $fmt_i64 (local.get $v))
  (call $rep))

(func $handle (param $op i32) (param $op_len i32) (param $msg i32) (param $msg_len i32) (result i32)
  (if (call $str_eq (local.get $op) (local.get $op_len) (global.get $t_run) (i32.const 13))
    (then (return (call $run))))
  (if (call $str_eq (local.get $op) (local.get $op_len) (global.get $s_op_message) (i32.const 23))
    (then (return (call $echo (local.get $msg) (local.get $msg_len)))))
  (call $no_handler (local.get $op) (local.get $op_len)))

(func $run (result i32)
  (local $ok i32) (local $p i32) (local $n i32) (local $b i32) (local $v i64)
  (local $i i32) (local $e i32) (local $h i32)
  (global.set $rep_len (i32.const 0))

  (call $kv_get (i32.const 0) (i32.const 0) (global.get $t_k) (i32.const 1))
  (local.set $b) (local.set $n) (local.set $p) (local.set $ok)
  (if (i32.eqz (local.get $ok)) (then (return (call $fail_host))))
  (call $line (global.get $t_l_get) (i32.const 4))
  (call $rep (local.get $p) (local.get $n))
  (call $rep_char (i32.const 32))
  (call $rep_bool (local.get $b))

  (if (i32.eqz (call $kv_set (i32.const 0) (i32.const 0) (global.get $t_k) (i32.const 1)
                             (global.get $t_v) (i32.const 1) (i32.const 7)))
    (then (return (call $fail_host))))
  (call $line (global.get $t_l_set) (i32.const 3))

  (call $kv_delete (i32.const 0) (i32.const 0) (global.get $t_k) (i32.const 1))
  (local.set $b) (local.set $ok)
  (if (i32.eqz (local.get $ok)) (then (return (call $fail_host))))
  (call $line (global.get $t_l_delete) (i32.const 7))
  (call $rep_bool (local.get $b))

  (call $kv_exists (i32.const 0) (i32.const 0) (global.get $t_k) (i32.const 1))
  (local.set $b) (local.set $ok)
  (if (i32.eqz (local.get $ok)) (then (return (call $fail_host))))
  (call $line (global.get $t_l_exists) (i32.const 7))
  (call $rep_bool (local.get $b))

  (call $kv_increment (i32.const 0) (i32.const 0) (global.get $t_n) (i32.const 1) (i64.const -3))
  (local.set $v) (local.set $ok)
  (if (i32.eqz (local.get $ok)) (then (return (call $fail_host))))
  (call $line (global.get $t_l_increment) (i32.const 10))
  (call $rep_int (local.get $v))

  (call $kv_keys (i32.const 0) (i32.const 0) (global.get $t_p) (i32.const 1))
  (local.set $p) (local.set $n) (local.set $ok)
  (if (i32.eqz (local.get $ok)) (then (return (call $fail_host))))
  (call $line (global.get $t_l_keys) (i32.const 5))
  (block $keys_done
    (loop $key
      (br_if $keys_done (i32.ge_u (local.get $i) (local.get $n)))
      (if (local.get $i) (then (call $rep_char (i32.const 44))))
      (local.set $e (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))))
      (call $rep (i32.load (local.get $e)) (i32.load offset=4 (local.get $e)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $key)))

  (if (i32.eqz (call $msg_publish (global.get $t_bus) (i32.const 3) (global.get $t_s) (i32.const 1)
                                  (global.get $t_r) (i32.const 1) (global.get $t_b) (i32.const 1)))
    (then (return (call $fail_host))))
  (call $line (global.get $t_l_publish) (i32.const 7))

  (call $msg_request (global.get $t_bus) (i32.const 3) (global.get $t_s) (i32.const 1)
                     (global.get $t_q) (i32.const 1) (i32.const 250))
  (local.set $p) (local.set $ok)
  (if (i32.eqz (local.get $ok)) (then (return (call $fail_host))))
  (call $line (global.get $t_l_request) (i32.const 8))
  (call $rep (i32.load (local.get $p)) (i32.load offset=4 (local.get $p)))
  (call $rep_char (i32.const 32))
  (call $rep (i32.load offset=16 (local.get $p)) (i32.load offset=20 (local.get $p)))

  ;; two header entries, A: 1 and A: 2
  (local.set $h (call $alloc (i32.const 32)))
  (i32.store (local.get $h) (global.get $t_A))
  (i32.store offset=4 (local.get $h) (i32.const 1))
  (i32.store offset=8 (local.get $h) (global.get $t_one))
  (i32.store offset=12 (local.get $h) (i32.const 1))
  (i32.store offset=16 (local.get $h) (global.get $t_A))
  (i32.store offset=20 (local.get $h) (i32.const 1))
  (i32.store offset=24 (local.get $h) (global.get $t_two))
  (i32.store offset=28 (local.get $h) (i32.const 1))
  (call $http_send (i32.const 0) (i32.const 0) (global.get $t_get_m) (i32.const 3) (global.get $t_url) (i32.const 9)
                   (i32.const 2) (local.get $h) (global.get $t_hb) (i32.const 2))
  (local.set $p) (local.set $ok)
  (if (i32.eqz (local.get $ok)) (then (return (call $fail_host))))
  (call $line (global.get $t_l_http) (i32.const 5))
  (call $rep_int (i64.extend_i32_u (i32.load (local.get $p))))
  (call $rep_char (i32.const 32))
  (local.set $e (i32.load offset=8 (local.get $p))) ;; the first header entry
  (call $rep (i32.load offset=8 (local.get $e)) (i32.load offset=12 (local.get $e)))
  (call $rep_char (i32.const 32))
  (call $rep (i32.load offset=12 (local.get $p)) (i32.load offset=16 (local.get $p)))

  (if (i32.eqz (call $log_write (global.get $s_warn) (i32.const 4) (global.get $t_w) (i32.const 1)))
    (then (return (call $fail_host))))
  (call $line (global.get $t_l_log) (i32.const 3))

  (call $actor_call (global.get $t_other) (i32.const 5) (global.get $t_ping) (i32.const 4) (global.get $t_p) (i32.const 1))
  (local.set $n) (local.set $p) (local.set $ok)
  (if (i32.eqz (local.get $ok)) (then (return (call $fail_host))))
  (call $line (global.get $t_l_call) (i32.const 5))
  (call $rep (local.get $p) (local.get $n))

  (call $kv_get (i32.const 0) (i32.const 0) (global.get $t_denied) (i32.const 6))
  (drop) (drop) (drop)
  (if (then (return (call $fail (global.get $t_denied) (i32.const 6)))))
  (call $line (global.get $t_l_denied) (i32.const 7))
  (call $rep (global.get $err_ptr) (global.get $err_len))

  (call $respond (global.get $rep_base) (global.get $rep_len)))

;; $echo answers a message with subject|reply_to|body.
(func $echo (param $msg i32) (param $msg_len i32) (result i32)
  (local $m i32) (local $start i32)
  (local.set $m (call $msg_read_payload (local.get $msg) (local.get $msg_len)))
  (local.set $start (global.get $heap))
  (call $w_bytes (i32.load (local.get $m)) (i32.load offset=4 (local.get $m)))
  (call $w_u8 (i32.const 124))
  (call $w_bytes (i32.load offset=8 (local.get $m)) (i32.load offset=12 (local.get $m)))
  (call $w_u8 (i32.const 124))
  (call $w_bytes (i32.load offset=16 (local.get $m)) (i32.load offset=20 (local.get $m)))
  (call $respond (local.get $start) (i32.sub (global.get $heap) (local.get $start))))

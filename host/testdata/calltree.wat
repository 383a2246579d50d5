;; No loop anywhere: f(n) calls f(n-1) twice, 2^(n+1)-1 calls, stack depth n.
(module
  (memory (export "memory") 1)
  (func $f (param i32)
    (if (local.get 0) (then
      (call $f (i32.sub (local.get 0) (i32.const 1)))
      (call $f (i32.sub (local.get 0) (i32.const 1))))))
  (func (export "spin") (param i32) (result i32)
    (call $f (local.get 0)) (i32.const 1))
  ;; the actor entry: depth = payload length
  (func (export "__guest_call") (param i32 i32) (result i32)
    (call $f (local.get 1)) (i32.const 1)))

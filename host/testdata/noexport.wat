;; noexport.wat: valid Wasm, but not an actor: it exports no __guest_call.
(module
  (memory (export "memory") 1)
  (func (export "run") (result i32) (i32.const 1)))

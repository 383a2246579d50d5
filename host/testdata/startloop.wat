;; startloop.wat: the start section loops, so instantiating never ends.
(module
  (memory (export "memory") 1)
  (func $s (loop $l (br $l)))
  (start $s)
  (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1)))

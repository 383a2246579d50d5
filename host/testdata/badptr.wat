;; badptr.wat: answers with a pointer far outside its one page of memory.
(module
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "__guest_call") (param i32 i32) (result i32)
    (call $guest_response (i32.const 0x7ffffff0) (i32.const 16))
    (i32.const 1)))

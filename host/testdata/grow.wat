;; grow.wat: grows memory a page at a time until refused, then traps,
;; as a guest allocator does when it runs out.
(module
  (memory (export "memory") 1)
  (func (export "__guest_call") (param i32 i32) (result i32)
    (loop $more
      (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    unreachable))

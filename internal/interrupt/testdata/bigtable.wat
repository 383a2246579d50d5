;; Declares a table of 2^28 elements (2 GiB), outside the memory limit.
(module
  (table 268435456 funcref)
  (memory (export "memory") 1)
  (func (export "spin") (param i32) (result i32) (i32.const 1)))

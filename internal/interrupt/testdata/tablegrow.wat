;; Grows its table by a million elements a turn: tables live outside the
;; linear memory the host caps, so Instrument refuses table.grow.
(module
  (table $t 1 funcref)
  (memory (export "memory") 1)
  (func (export "spin") (param $n i32) (result i32)
    (loop $l
      (drop (table.grow $t (ref.null func) (i32.const 1000000)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (i32.const 1)))

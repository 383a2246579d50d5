;; No imports, no globals, no types but the function's: Instrument adds
;; each section.
(module
  (func (export "spin") (param $n i32)
    (loop $l
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))))

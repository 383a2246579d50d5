;; Every place a function index appears, for the interrupt tests: an import
;; before the module's own functions, so that instrumenting shifts them all.
(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (type $unary (func (param i32) (result i32)))
  (table 4 funcref)
  (elem (i32.const 0) $double $square)
  (elem declare func $triple)
  (global $ref funcref (ref.func $double))
  (global $started (mut i32) (i32.const 0))
  (memory (export "memory") 1)
  (start $init)

  (func $init (global.set $started (i32.const 100)))
  (func $double (param i32) (result i32) (call $add (local.get 0) (local.get 0)))
  (func $square (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
  (func $triple (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))

  ;; sum of 0..n-1, one loop turn per number
  (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $acc i32)
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
    (local.get $acc))

  ;; a loop with a parameter and a result (multi-value block type)
  (func (export "countdown") (param $n i32) (result i32)
    (local.get $n)
    (loop $l (param i32) (result i32)
      (i32.sub (i32.const 1))
      (local.tee $n)
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0)))))

  (func (export "indirect") (param $slot i32) (param $x i32) (result i32)
    (call_indirect (type $unary) (local.get $x) (local.get $slot)))
  (func (export "byref") (param $x i32) (result i32)
    (table.set 0 (i32.const 2) (ref.func $triple))
    (call_indirect (type $unary) (local.get $x) (i32.const 2)))
  (func (export "byglobal") (param $x i32) (result i32)
    (table.set 0 (i32.const 3) (global.get $ref))
    (call_indirect (type $unary) (local.get $x) (i32.const 3)))
  (func (export "started") (result i32) (global.get $started))
  (func (export "forever") (loop $l (br $l)))
)

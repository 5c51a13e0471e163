//! The hostile corpus: modules written to hurt the node. Each must end in a clear, deterministic
//! outcome or a clear validation error, and the runtime must keep working afterwards.

use super::*;
use std::sync::Arc;
use vellum_runtime::{
    MemoryStorage, Mode, Outcome, Runtime, RuntimeConfig, Schedule, Storage, TrapKind,
    ValidationError,
};

#[test]
fn infinite_loop_runs_out_of_fuel_identically_on_two_engines() {
    let wat = module(r#"(func (export "spin") (loop $l (br $l)))"#);
    let (a, b) = (runtime(), runtime());
    let (ca, cb) = (prepare(&a, &wat), prepare(&b, &wat));
    let runs = [
        call(&a, &ca, "spin", 1_000_000),
        call(&a, &ca, "spin", 1_000_000),
        call(&b, &cb, "spin", 1_000_000),
    ];
    for run in &runs {
        assert_eq!(run.outcome, Outcome::OutOfFuel);
        assert_eq!(run.fuel_used, 1_000_000);
    }
}

#[test]
fn bounded_work_costs_the_same_fuel_on_every_run_and_engine() {
    // 10,000 iterations of a small loop body: the figure must not vary at all.
    let wat = module(
        r#"(func (export "count") (local $i i32)
             (loop $l
               (local.set $i (i32.add (local.get $i) (i32.const 1)))
               (br_if $l (i32.lt_u (local.get $i) (i32.const 10000)))))"#,
    );
    let (a, b) = (runtime(), runtime());
    let (ca, cb) = (prepare(&a, &wat), prepare(&b, &wat));
    let first = call(&a, &ca, "count", FUEL);
    assert!(first.outcome.is_success());
    assert!(first.fuel_used > 40_000, "fuel {}", first.fuel_used);
    for _ in 0..3 {
        assert_eq!(call(&a, &ca, "count", FUEL).fuel_used, first.fuel_used);
        assert_eq!(call(&b, &cb, "count", FUEL).fuel_used, first.fuel_used);
    }
}

#[test]
fn memory_grow_past_the_limit_fails_cleanly_with_minus_one() {
    let pages_max = Schedule::v1().limits.memory_pages_max as i32;
    let wat = format!(
        r#"(module
  (import "vellum" "set_return" (func $ret (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "instantiate"))
  (func (export "grow")
    ;; one page past the limit fails; growing to exactly the limit succeeds.
    (i32.store (i32.const 0) (memory.grow (i32.const {pages_max})))
    (i32.store (i32.const 4) (memory.grow (i32.const {grow_ok})))
    (i32.store (i32.const 8) (memory.grow (i32.const 1)))
    (call $ret (i32.const 0) (i32.const 12))))"#,
        grow_ok = pages_max - 1,
    );
    let rt = runtime();
    let contract = prepare(&rt, &wat);
    let run = call(&rt, &contract, "grow", FUEL);
    let Outcome::Success(bytes) = run.outcome else {
        panic!("{:?}", run.outcome)
    };
    let results: Vec<i32> = bytes
        .chunks(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(results, vec![-1, 1, -1]);
}

#[test]
fn memory_bomb_by_fill_is_paid_for_in_fuel() {
    // Filling the whole 16 MiB costs one unit per byte: far beyond a 1M-fuel budget.
    let wat = module(
        r#"(func (export "bomb")
             (drop (memory.grow (i32.const 255)))
             (memory.fill (i32.const 0) (i32.const 7) (i32.const 16777216)))"#,
    );
    let rt = runtime();
    let contract = prepare(&rt, &wat);
    assert_eq!(
        call(&rt, &contract, "bomb", 1_000_000).outcome,
        Outcome::OutOfFuel
    );
    let paid = call(&rt, &contract, "bomb", 100_000_000);
    assert!(paid.outcome.is_success());
    assert!(paid.fuel_used > 16_777_216, "fuel {}", paid.fuel_used);
}

#[test]
fn initial_memory_over_the_limit_is_rejected() {
    let wat = r#"(module (memory (export "memory") 257) (func (export "instantiate")))"#;
    let error = runtime().validate(&wasm(wat)).unwrap_err();
    assert!(
        matches!(&error, ValidationError::LimitExceeded { what, found: 257, max: 256 } if what == "initial memory pages"),
        "{error}"
    );
}

#[test]
fn table_growth_past_the_limit_fails_cleanly() {
    let wat = r#"(module
  (import "vellum" "set_return" (func $ret (param i32 i32)))
  (memory (export "memory") 1)
  (table 1 funcref)
  (func (export "instantiate"))
  (func (export "grow")
    (i32.store (i32.const 0) (table.grow (ref.null func) (i32.const 100000)))
    (call $ret (i32.const 0) (i32.const 4))))"#;
    let rt = runtime();
    let contract = prepare(&rt, wat);
    assert_eq!(
        call(&rt, &contract, "grow", FUEL).outcome,
        Outcome::Success((-1i32).to_le_bytes().to_vec())
    );
}

/// Recursion shapes that stress different parts of a native frame: none may reach wasmtime's
/// native guard (which would be an `ExecuteError`, not an outcome); all must hit the budget.
#[test]
fn unbounded_recursion_exhausts_the_deterministic_budget_and_the_host_survives() {
    let locals = "(local i64) ".repeat(1000);
    let shapes = [
        r#"(func $f (export "recurse") (call $f))"#.to_string(),
        format!(r#"(func $f (export "recurse") {locals} (call $f))"#),
        // A deep operand stack at each call.
        format!(
            r#"(func $f (export "recurse") {} (call $f) {})"#,
            "(i64.const 1) ".repeat(500),
            "(drop) ".repeat(500)
        ),
        // Through the table, so the indirect-call charge is exercised.
        r#"(type $t (func)) (table 1 funcref) (elem (i32.const 0) $f)
           (func $f (export "recurse") (call_indirect (type $t) (i32.const 0)))"#
            .to_string(),
    ];
    let rt = runtime();
    for shape in &shapes {
        let contract = prepare(&rt, &module(shape));
        let run = call(&rt, &contract, "recurse", u64::MAX / 2);
        assert_eq!(
            run.outcome,
            Outcome::Trap(TrapKind::StackExhausted),
            "{shape}"
        );
        // The same fuel each time: the budget is deterministic.
        let again = call(&rt, &contract, "recurse", u64::MAX / 2);
        assert_eq!(again.fuel_used, run.fuel_used);
    }
    let fine = prepare(&rt, &module(r#"(func (export "ok"))"#));
    assert!(call(&rt, &fine, "ok", FUEL).outcome.is_success());
}

#[test]
fn a_contracts_own_unreachable_is_not_mistaken_for_stack_exhaustion() {
    let rt = runtime();
    let contract = prepare(&rt, &module(r#"(func (export "boom") unreachable)"#));
    assert_eq!(
        call(&rt, &contract, "boom", FUEL).outcome,
        Outcome::Trap(TrapKind::Unreachable)
    );
}

#[test]
fn arithmetic_traps_are_reported_by_kind() {
    let rt = runtime();
    let contract = prepare(
        &rt,
        &module(
            r#"(func (export "div0") (drop (i32.div_u (i32.const 1) (i32.const 0))))
               (func (export "overflow") (drop (i32.div_s (i32.const -2147483648) (i32.const -1))))
               (func (export "convert") (drop (i32.trunc_f32_s (f32.const nan))))
               (func (export "oob") (drop (i32.load (i32.const 65535))))"#,
        ),
    );
    let expect = [
        ("div0", TrapKind::IntegerDivisionByZero),
        ("overflow", TrapKind::IntegerOverflow),
        ("convert", TrapKind::InvalidConversion),
        ("oob", TrapKind::MemoryOutOfBounds),
    ];
    for (entry, kind) in expect {
        assert_eq!(
            call(&rt, &contract, entry, FUEL).outcome,
            Outcome::Trap(kind),
            "{entry}"
        );
    }
}

#[test]
fn out_of_bounds_pointers_into_host_calls_trap_the_call_not_the_host() {
    let rt = runtime();
    let contract = prepare(
        &rt,
        &module(
            r#"(import "vellum" "storage_set" (func $set (param i32 i32 i32 i32)))
               (import "vellum" "set_return" (func $ret (param i32 i32)))
               (import "vellum" "input_read" (func $input (param i32)))
               (func (export "past_end") (call $set (i32.const 65530) (i32.const 10) (i32.const 0) (i32.const 1)))
               (func (export "wraps") (call $ret (i32.const -1) (i32.const 2)))
               (func (export "input_past_end") (call $input (i32.const 65535)))"#,
        ),
    );
    let storage = Arc::new(MemoryStorage::new());
    let cases = [
        ("past_end", "storage_set", b"".as_slice()),
        ("wraps", "set_return", b""),
        ("input_past_end", "input_read", b"xy"),
    ];
    for (entry, function, input) in cases {
        let run = call_with(
            &rt,
            &contract,
            entry,
            input,
            FUEL,
            Mode::Transaction,
            storage.clone(),
        );
        assert_eq!(
            run.outcome,
            Outcome::Trap(TrapKind::HostMemoryOutOfBounds { function }),
            "{entry}"
        );
    }
}

#[test]
fn a_write_followed_by_a_trap_changes_nothing() {
    let rt = runtime();
    let contract = prepare(
        &rt,
        &module(
            r#"(import "vellum" "storage_set" (func $set (param i32 i32 i32 i32)))
               (import "vellum" "emit_event" (func $emit (param i32 i32 i32 i32)))
               (func (export "write_then_trap")
                 (call $set (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 4))
                 (call $emit (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 4))
                 unreachable)
               (func (export "write_then_spin")
                 (call $set (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 4))
                 (loop $l (br $l)))"#,
        ),
    );
    let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    for entry in ["write_then_trap", "write_then_spin"] {
        let run = call_with(
            &rt,
            &contract,
            entry,
            b"",
            1_000_000,
            Mode::Transaction,
            storage.clone(),
        );
        assert!(!run.outcome.is_success());
        assert!(run.writes.is_empty(), "{entry}: {:?}", run.writes);
        assert!(run.events.is_empty(), "{entry}");
    }
}

/// Validation rejects `wat`, and so does `prepare` (which validates before compiling).
fn rejects(wat: &str) -> ValidationError {
    let rt = runtime();
    let bytes = wasm(wat);
    assert!(
        rt.prepare(&bytes).is_err(),
        "prepare accepted an invalid module"
    );
    rt.validate(&bytes).expect_err("module must be rejected")
}

#[test]
fn forbidden_imports_are_rejected_at_validation() {
    let cases = [
        (r#"(import "env" "abort" (func))"#, "env", "abort"),
        (
            r#"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))"#,
            "wasi_snapshot_preview1",
            "fd_write",
        ),
        (
            r#"(import "vellum" "no_such_function" (func))"#,
            "vellum",
            "no_such_function",
        ),
        (
            r#"(import "vellum" "clock" (global i64))"#,
            "vellum",
            "clock",
        ),
    ];
    for (import, module_name, field) in cases {
        let error = rejects(&module(import));
        assert_eq!(
            error,
            ValidationError::ForbiddenImport {
                module: module_name.into(),
                name: field.into()
            }
        );
        assert!(error.to_string().contains(field));
    }
    // An imported memory is forbidden too (the contract must own its memory).
    let error =
        rejects(r#"(module (import "vellum" "memory" (memory 1)) (func (export "instantiate")))"#);
    assert!(
        matches!(error, ValidationError::ForbiddenImport { .. }),
        "{error}"
    );
}

#[test]
fn host_functions_with_the_wrong_signature_are_rejected() {
    let error = rejects(&module(
        r#"(import "vellum" "storage_get" (func (param i32) (result i32)))"#,
    ));
    assert!(
        matches!(&error, ValidationError::ImportSignature { name, .. } if name == "storage_get"),
        "{error}"
    );
}

#[test]
fn start_functions_are_rejected() {
    let error = rejects(&module(r#"(func $init) (start $init)"#));
    assert!(
        matches!(error, ValidationError::StartFunction { function: 0 }),
        "{error}"
    );
}

#[test]
fn oversized_modules_are_rejected_before_parsing() {
    let mut schedule = Schedule::v1();
    schedule.limits.code_size_bytes_max = 1_000;
    let rt = Runtime::new(RuntimeConfig {
        schedule,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let big = wasm(&module(&format!(
        r#"(data (i32.const 0) "{}")"#,
        "x".repeat(2_000)
    )));
    let error = rt.validate(&big).unwrap_err();
    assert!(
        matches!(error, ValidationError::CodeTooLarge { max: 1_000, .. }),
        "{error}"
    );
}

#[test]
fn too_many_functions_data_segments_or_locals_are_rejected() {
    let limits = Schedule::v1().limits;
    let functions = "(func)".repeat(limits.functions_max as usize);
    let segments = r#"(data (i32.const 0) "x")"#.repeat(limits.data_segments_max as usize + 1);
    let locals = format!(
        "(func (local {}))",
        "i32 ".repeat(limits.function_locals_max as usize + 1)
    );
    for (body, what) in [
        (functions.as_str(), "functions"),
        (segments.as_str(), "data segments"),
        (locals.as_str(), "locals of function 0"),
    ] {
        let error = rejects(&module(body));
        assert!(
            matches!(&error, ValidationError::LimitExceeded { what: w, .. } if w == what),
            "{what}: {error}"
        );
    }
}

#[test]
fn modules_outside_the_feature_set_are_rejected() {
    let cases = [
        ("simd", module(r#"(func (drop (v128.const i64x2 0 0)))"#)),
        (
            "threads",
            r#"(module (memory (export "memory") 1 1 shared) (func (export "instantiate")))"#
                .to_string(),
        ),
        (
            "memory64",
            r#"(module (memory (export "memory") i64 1) (func (export "instantiate")))"#
                .to_string(),
        ),
        ("tail calls", module(r#"(func $f (return_call $f))"#)),
        ("externref", module(r#"(func (param externref))"#)),
    ];
    for (name, wat) in cases {
        let error = rejects(&wat);
        assert!(
            matches!(error, ValidationError::Malformed { .. }),
            "{name}: {error}"
        );
    }
}

#[test]
fn exports_must_be_entry_points_and_the_required_ones_must_exist() {
    let no_memory = r#"(module (func (export "instantiate")))"#;
    assert!(matches!(
        rejects(no_memory),
        ValidationError::MissingExport { name: "memory", .. }
    ));
    let no_instantiate = r#"(module (memory (export "memory") 1))"#;
    assert!(matches!(
        rejects(no_instantiate),
        ValidationError::MissingExport {
            name: "instantiate",
            ..
        }
    ));
    let bad_entry = module(r#"(func (export "add") (param i32) (result i32) (local.get 0))"#);
    assert!(matches!(
        rejects(&bad_entry),
        ValidationError::EntryPointSignature { .. }
    ));
    let reserved = module(r#"(global (export "__vellum_stack") i32 (i32.const 0))"#);
    assert!(matches!(
        rejects(&reserved),
        ValidationError::ReservedExport { .. }
    ));
}

#[test]
fn garbage_bytes_are_rejected_with_an_offset() {
    for bytes in [
        &b""[..],
        b"\0asm",
        b"not wasm at all",
        &[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff],
    ] {
        let error = runtime().validate(bytes).unwrap_err();
        assert!(
            matches!(error, ValidationError::Malformed { .. }),
            "{error}"
        );
        assert!(!error.to_string().contains('\n'), "{error}");
    }
    // The message says what was expected on one line (it was a multi-line debug dump).
    let error = runtime().validate(b"not wasm at all").unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid WebAssembly at byte 0: magic header not detected: bad magic number - \
         expected=[0x0, 0x61, 0x73, 0x6d] actual=[0x6e, 0x6f, 0x74, 0x20]"
    );
}

#[test]
fn calling_a_missing_entry_point_is_an_outcome() {
    let rt = runtime();
    let contract = prepare(&rt, &module(""));
    assert_eq!(
        call(&rt, &contract, "nope", FUEL).outcome,
        Outcome::Trap(TrapKind::NoSuchEntryPoint("nope".into()))
    );
}

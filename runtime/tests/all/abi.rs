//! Host ABI v1, function by function: linking, context, storage, events, read-only mode,
//! cryptography, and the exact fuel each function charges. One file because it follows
//! `docs/abi.md` section by section, as `runtime/src/abi.rs` does.

use super::*;
use k256::ecdsa::{signature::hazmat::PrehashSigner, Signature, SigningKey};
use sha3::{Digest, Keccak256, Sha3_256};
use std::sync::Arc;
use vellum_runtime::{
    abi::HOST_FUNCTIONS, MemoryStorage, Mode, Outcome, Runtime, RuntimeConfig, Schedule, Storage,
    TrapKind,
};

fn wat_type(types: &[vellum_abi::ValType]) -> String {
    types
        .iter()
        .map(|t| match t {
            vellum_abi::ValType::I32 => "i32",
            vellum_abi::ValType::I64 => "i64",
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn every_host_function_in_the_table_is_linked_with_its_signature() {
    let imports: String = HOST_FUNCTIONS
        .iter()
        .map(|(name, params, results)| {
            format!(
                r#"(import "vellum" "{name}" (func (param {}) (result {})))"#,
                wat_type(params),
                wat_type(results)
            )
        })
        .collect();
    let rt = runtime();
    let contract = prepare(&rt, &module(&imports));
    // Instantiation resolves every import against the linker.
    assert!(call(&rt, &contract, "instantiate", FUEL)
        .outcome
        .is_success());
}

#[test]
fn context_and_input_reach_the_contract() {
    let rt = runtime();
    let contract = prepare(
        &rt,
        &module(
            r#"(import "vellum" "caller" (func $caller (param i32)))
               (import "vellum" "contract_address" (func $address (param i32)))
               (import "vellum" "block_height" (func $height (result i64)))
               (import "vellum" "block_time" (func $time (result i64)))
               (import "vellum" "input_len" (func $input_len (result i32)))
               (import "vellum" "input_read" (func $input_read (param i32)))
               (import "vellum" "set_return" (func $ret (param i32 i32)))
               (func (export "context")
                 (call $caller (i32.const 0))
                 (call $address (i32.const 32))
                 (i64.store (i32.const 64) (call $height))
                 (i64.store (i32.const 72) (call $time))
                 (i32.store (i32.const 80) (call $input_len))
                 (call $input_read (i32.const 84))
                 (call $ret (i32.const 0) (i32.add (i32.const 84) (call $input_len))))"#,
        ),
    );
    let run = call_with(
        &rt,
        &contract,
        "context",
        b"hi!",
        FUEL,
        Mode::Query,
        Arc::new(MemoryStorage::new()),
    );
    let ctx = context();
    let mut expected = Vec::new();
    expected.extend(ctx.caller);
    expected.extend(ctx.contract);
    expected.extend(ctx.block_height.to_le_bytes());
    expected.extend(ctx.block_time_ms.to_le_bytes());
    expected.extend(3u32.to_le_bytes());
    expected.extend(b"hi!");
    assert_eq!(run.outcome, Outcome::Success(expected));
}

const STORAGE: &str = r#"
  (import "vellum" "storage_set" (func $set (param i32 i32 i32 i32)))
  (import "vellum" "storage_get" (func $get (param i32 i32) (result i32)))
  (import "vellum" "storage_has" (func $has (param i32 i32) (result i32)))
  (import "vellum" "storage_remove" (func $remove (param i32 i32)))
  (import "vellum" "value_read" (func $value_read (param i32)))
  (import "vellum" "value_len" (func $value_len (result i32)))
  (import "vellum" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (import "vellum" "set_return" (func $ret (param i32 i32)))
  (data (i32.const 0) "key1value-one")
"#;

#[test]
fn storage_reads_see_the_calls_own_writes_and_removals() {
    let rt = runtime();
    let contract = prepare(
        &rt,
        &module(&format!(
            r#"{STORAGE}
               (func (export "roundtrip")
                 (i32.store (i32.const 100) (call $has (i32.const 0) (i32.const 4)))
                 (call $set (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 9))
                 (i32.store (i32.const 104) (call $get (i32.const 0) (i32.const 4)))
                 (call $value_read (i32.const 108))
                 (call $remove (i32.const 0) (i32.const 4))
                 (i32.store (i32.const 117) (call $get (i32.const 0) (i32.const 4)))
                 (i32.store (i32.const 121) (call $value_len))
                 (call $ret (i32.const 100) (i32.const 25)))"#
        )),
    );
    let run = call(&rt, &contract, "roundtrip", FUEL);
    let mut expected = Vec::new();
    expected.extend(0i32.to_le_bytes());
    expected.extend(9i32.to_le_bytes());
    expected.extend(b"value-one");
    expected.extend((-1i32).to_le_bytes());
    expected.extend((-1i32).to_le_bytes());
    assert_eq!(run.outcome, Outcome::Success(expected));
    // The removal is the call's net effect on the key.
    assert_eq!(run.writes.len(), 1);
    assert_eq!(run.writes[0].value, None);
}

#[test]
fn events_are_kept_in_order_and_only_on_success() {
    let rt = runtime();
    let contract = prepare(
        &rt,
        &module(&format!(
            r#"{STORAGE}
               (func (export "two_events")
                 (call $emit (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 5))
                 (call $emit (i32.const 4) (i32.const 5) (i32.const 0) (i32.const 0)))"#
        )),
    );
    let run = call(&rt, &contract, "two_events", FUEL);
    let events: Vec<(&[u8], &[u8])> = run
        .events
        .iter()
        .map(|e| (e.topic.as_slice(), e.data.as_slice()))
        .collect();
    assert_eq!(
        events,
        vec![(&b"key1"[..], &b"value"[..]), (&b"value"[..], &b""[..])]
    );
}

#[test]
fn queries_cannot_write_or_emit() {
    let rt = runtime();
    let contract = prepare(
        &rt,
        &module(&format!(
            r#"{STORAGE}
               (func (export "write") (call $set (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 5)))
               (func (export "remove") (call $remove (i32.const 0) (i32.const 4)))
               (func (export "emit") (call $emit (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 5)))"#
        )),
    );
    let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    for (entry, function) in [
        ("write", "storage_set"),
        ("remove", "storage_remove"),
        ("emit", "emit_event"),
    ] {
        let run = call_with(
            &rt,
            &contract,
            entry,
            b"",
            FUEL,
            Mode::Query,
            storage.clone(),
        );
        assert_eq!(run.outcome, Outcome::Trap(TrapKind::ReadOnly { function }));
        let run = call_with(
            &rt,
            &contract,
            entry,
            b"",
            FUEL,
            Mode::Transaction,
            storage.clone(),
        );
        assert!(run.outcome.is_success(), "{entry} in a transaction");
    }
}

#[test]
fn oversized_keys_values_and_events_break_a_stated_limit() {
    let limits = Schedule::v1().limits;
    let rt = runtime();
    let contract = prepare(
        &rt,
        &module(&format!(
            r#"{STORAGE}
               (func (export "big_key") (call $set (i32.const 0) (i32.const {k}) (i32.const 0) (i32.const 1)))
               (func (export "big_value") (call $set (i32.const 0) (i32.const 1) (i32.const 0) (i32.const {v})))
               (func (export "many_events") (local $i i32)
                 (loop $l
                   (call $emit (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0))
                   (local.set $i (i32.add (local.get $i) (i32.const 1)))
                   (br $l)))"#,
            k = limits.key_bytes_max + 1,
            v = limits.value_bytes_max + 1,
        )),
    );
    let outcome = |entry| call(&rt, &contract, entry, u64::MAX / 2).outcome;
    assert!(matches!(
        outcome("big_key"),
        Outcome::Trap(TrapKind::LimitExceeded {
            what: "key bytes",
            ..
        })
    ));
    assert!(matches!(
        outcome("big_value"),
        Outcome::Trap(TrapKind::LimitExceeded {
            what: "value bytes",
            ..
        })
    ));
    assert!(matches!(
        outcome("many_events"),
        Outcome::Trap(TrapKind::LimitExceeded { what: "events", .. })
    ));
}

#[test]
fn abort_reports_code_and_message_and_discards_writes() {
    let rt = runtime();
    let contract = prepare(
        &rt,
        &module(&format!(
            r#"{STORAGE}
               (import "vellum" "abort" (func $abort (param i32 i32 i32)))
               (data (i32.const 200) "insufficient balance")
               (func (export "fail")
                 (call $set (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 5))
                 (call $abort (i32.const 17) (i32.const 200) (i32.const 20)))"#
        )),
    );
    let run = call(&rt, &contract, "fail", FUEL);
    assert_eq!(
        run.outcome,
        Outcome::ContractError {
            code: 17,
            message: "insufficient balance".into()
        }
    );
    assert!(run.writes.is_empty());
}

#[test]
fn hashes_match_the_reference_implementations() {
    let rt = runtime();
    let contract = prepare(
        &rt,
        &module(
            r#"(import "vellum" "keccak256" (func $keccak (param i32 i32 i32)))
               (import "vellum" "sha3_256" (func $sha3 (param i32 i32 i32)))
               (import "vellum" "set_return" (func $ret (param i32 i32)))
               (data (i32.const 0) "vellum")
               (func (export "hash")
                 (call $keccak (i32.const 0) (i32.const 6) (i32.const 100))
                 (call $sha3 (i32.const 0) (i32.const 6) (i32.const 132))
                 (call $ret (i32.const 100) (i32.const 64)))"#,
        ),
    );
    let mut expected = Keccak256::digest(b"vellum").to_vec();
    expected.extend(Sha3_256::digest(b"vellum"));
    assert_eq!(
        call(&rt, &contract, "hash", FUEL).outcome,
        Outcome::Success(expected)
    );
}

#[test]
fn secp256k1_verification_accepts_only_valid_low_s_signatures() {
    let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
    let hash: [u8; 32] = Keccak256::digest(b"message").into();
    let signature: Signature = key.sign_prehash(&hash).unwrap();
    let low_s = signature.normalize_s().unwrap_or(signature);
    let public = key.verifying_key().to_encoded_point(true);
    let public_full = key.verifying_key().to_encoded_point(false);
    // The same signature with s replaced by n - s: valid in plain ECDSA, refused here.
    let (r, s) = low_s.split_scalars();
    let high_s = Signature::from_scalars(r, -*s).unwrap();

    let rt = runtime();
    let contract = prepare(
        &rt,
        &module(
            r#"(import "vellum" "secp256k1_verify" (func $verify (param i32 i32 i32 i32) (result i32)))
               (import "vellum" "input_read" (func $input (param i32)))
               (import "vellum" "input_len" (func $input_len (result i32)))
               (import "vellum" "set_return" (func $ret (param i32 i32)))
               ;; input: hash(32) | signature(64) | public key (33 or 65)
               (func (export "verify")
                 (call $input (i32.const 0))
                 (i32.store (i32.const 1000)
                   (call $verify (i32.const 0) (i32.const 32) (i32.const 96) (i32.sub (call $input_len) (i32.const 96))))
                 (call $ret (i32.const 1000) (i32.const 4)))"#,
        ),
    );
    let verify = |sig: &[u8], pk: &[u8], msg: &[u8; 32]| {
        let input = [msg.as_slice(), sig, pk].concat();
        let run = call_with(
            &rt,
            &contract,
            "verify",
            &input,
            FUEL,
            Mode::Query,
            Arc::new(MemoryStorage::new()),
        );
        match run.outcome {
            Outcome::Success(bytes) => bytes == 1i32.to_le_bytes(),
            other => panic!("{other:?}"),
        }
    };
    assert!(verify(&low_s.to_bytes(), public.as_bytes(), &hash));
    assert!(verify(&low_s.to_bytes(), public_full.as_bytes(), &hash));
    assert!(!verify(&high_s.to_bytes(), public.as_bytes(), &hash));
    let mut other = hash;
    other[0] ^= 1;
    assert!(!verify(&low_s.to_bytes(), public.as_bytes(), &other));
    assert!(!verify(&[0u8; 64], public.as_bytes(), &hash));
    let mut bad_key = public.as_bytes().to_vec();
    bad_key[0] = 9;
    assert!(!verify(&low_s.to_bytes(), &bad_key, &hash));
}

/// Two calls identical but for the size of one storage write differ in fuel by exactly the
/// schedule's per-byte write price: the price list is what the runtime charges.
#[test]
fn host_functions_charge_exactly_the_scheduled_price() {
    let schedule = Schedule::v1();
    let rt = runtime();
    let contract = prepare(
        &rt,
        &module(
            r#"(import "vellum" "storage_set" (func $set (param i32 i32 i32 i32)))
               (import "vellum" "storage_get" (func $get (param i32 i32) (result i32)))
               (import "vellum" "input_read" (func $input (param i32)))
               (import "vellum" "input_len" (func $input_len (result i32)))
               (func (export "write")
                 (call $set (i32.const 0) (i32.const 8) (i32.const 0) (call $input_len)))
               (func (export "read")
                 (drop (call $get (i32.const 0) (i32.const 8))))"#,
        ),
    );
    let fuel = |entry, input: &[u8]| {
        call_with(
            &rt,
            &contract,
            entry,
            input,
            FUEL,
            Mode::Transaction,
            Arc::new(MemoryStorage::new()),
        )
        .fuel_used
    };
    let small = fuel("write", &[0; 100]);
    let large = fuel("write", &[0; 300]);
    assert_eq!(large - small, 200 * schedule.costs.storage_write.per_byte);
    // A write of 8 + 100 bytes costs more than a read of the same key.
    assert!(small > fuel("read", b"") + schedule.costs.storage_write.base / 2);
}

#[test]
fn prepared_contracts_are_cached_by_code_hash_and_artifacts_survive_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let config = RuntimeConfig {
        artifact_dir: Some(dir.path().to_path_buf()),
        ..RuntimeConfig::default()
    };
    let wat = module(r#"(func (export "noop"))"#);
    let first = Runtime::new(config.clone()).unwrap();
    let a = first.prepare(&wasm(&wat)).unwrap();
    let b = first.prepare(&wasm(&wat)).unwrap();
    assert!(Arc::ptr_eq(&a, &b), "the second prepare is a cache hit");
    let artifacts = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    };
    let artifact = artifacts().pop().expect("artifact written");
    let name = artifact.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&a.hash().to_string()) && name.ends_with("-s2-i1.cwasm"),
        "{name}"
    );

    // A new runtime (a restarted node) loads the artifact rather than compiling.
    let second = Runtime::new(config).unwrap();
    let c = second.prepare(&wasm(&wat)).unwrap();
    assert_eq!(c.hash(), a.hash());
    assert!(c.entry_points().eq(a.entry_points()));
    assert!(call(&second, &c, "noop", FUEL).outcome.is_success());

    // A corrupt artifact is ignored and replaced by recompiling.
    std::fs::write(&artifact, b"garbage").unwrap();
    let third = Runtime::new(RuntimeConfig {
        artifact_dir: Some(dir.path().to_path_buf()),
        ..RuntimeConfig::default()
    })
    .unwrap();
    let d = third.prepare(&wasm(&wat)).unwrap();
    assert!(call(&third, &d, "noop", FUEL).outcome.is_success());

    // Another schedule version never reuses these artifacts (its stack budget may differ).
    let mut schedule = Schedule::v2();
    schedule.version = 3;
    let fourth = Runtime::new(RuntimeConfig {
        schedule,
        artifact_dir: Some(dir.path().to_path_buf()),
        ..RuntimeConfig::default()
    })
    .unwrap();
    fourth.prepare(&wasm(&wat)).unwrap();
    assert_eq!(artifacts().len(), 2);
}

#[test]
fn the_cache_is_bounded_by_compiled_code_size() {
    let rt = Runtime::new(RuntimeConfig {
        cache_code_bytes_max: 1,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let first = rt
        .prepare(&wasm(&module(r#"(func (export "a"))"#)))
        .unwrap();
    rt.prepare(&wasm(&module(r#"(func (export "b"))"#)))
        .unwrap();
    assert_eq!(rt.cached_count(), 1);
    assert!(
        rt.cached(&first.hash()).is_none(),
        "least recently used was evicted"
    );
}

#[test]
fn the_abi_documents_example_runs_as_documented() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/abi.md")).unwrap();
    let example = doc
        .split("```wat\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/abi.md has a wat example");
    let rt = runtime();
    let contract = prepare(&rt, example);
    let run = call_with(
        &rt,
        &contract,
        "set_greeting",
        b"hello",
        FUEL,
        Mode::Transaction,
        Arc::new(MemoryStorage::new()),
    );
    assert_eq!(run.outcome, Outcome::Success(b"hello".to_vec()));
    assert_eq!(run.writes.len(), 1);
    assert_eq!(run.writes[0].key, b"greeting");
    assert_eq!(run.writes[0].value.as_deref(), Some(&b"hello"[..]));
}

/// Removing keys is cheap, and each removal hides one entry from iteration; every entry examined
/// must be paid for, or one `storage_next` could be made to do unbounded work.
#[test]
fn iteration_pays_for_entries_hidden_by_the_calls_own_removals() {
    let schedule = Schedule::v1();
    let rt = runtime();
    let contract = prepare(
        &rt,
        &module(
            r#"(import "vellum" "storage_remove" (func $remove (param i32 i32)))
               (import "vellum" "storage_iter" (func $iter (param i32 i32 i32 i32 i32) (result i32)))
               (import "vellum" "storage_next" (func $next (param i32) (result i32)))
               (import "vellum" "input_len" (func $input_len (result i32)))
               ;; remove keys 0..input_len (one byte each), then iterate everything once
               (func (export "remove_then_iterate") (local $i i32)
                 (block $done
                   (loop $l
                     (br_if $done (i32.ge_u (local.get $i) (call $input_len)))
                     (i32.store8 (i32.const 0) (local.get $i))
                     (call $remove (i32.const 0) (i32.const 1))
                     (local.set $i (i32.add (local.get $i) (i32.const 1)))
                     (br $l)))
                 (drop (call $next (call $iter (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 6)))))"#,
        ),
    );
    let fuel = |removals: usize| {
        let run = call_with(
            &rt,
            &contract,
            "remove_then_iterate",
            &vec![0; removals],
            FUEL,
            Mode::Transaction,
            Arc::new(MemoryStorage::new()),
        );
        assert!(run.outcome.is_success(), "{:?}", run.outcome);
        run.fuel_used
    };
    let (ten, twenty) = (fuel(10), fuel(20));
    let per_removal_loop = (twenty - ten) / 10;
    // Each extra removal costs its own price plus one examined entry in `storage_next`.
    assert!(
        per_removal_loop >= schedule.costs.storage_remove.of(1) + schedule.costs.iter_next.base,
        "{per_removal_loop}"
    );
}

#[test]
fn finished_iterations_clear_the_buffers_and_ignored_bounds_are_not_checked() {
    let rt = runtime();
    let contract = prepare(
        &rt,
        &module(
            r#"(import "vellum" "storage_set" (func $set (param i32 i32 i32 i32)))
               (import "vellum" "storage_iter" (func $iter (param i32 i32 i32 i32 i32) (result i32)))
               (import "vellum" "storage_next" (func $next (param i32) (result i32)))
               (import "vellum" "value_len" (func $value_len (result i32)))
               (import "vellum" "set_return" (func $ret (param i32 i32)))
               (func (export "drain") (local $it i32)
                 (call $set (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 3))
                 ;; start length -1 would break the key limit, but flag 2 says to ignore start
                 (local.set $it (call $iter (i32.const 0) (i32.const -1) (i32.const 0) (i32.const 0) (i32.const 6)))
                 (i32.store (i32.const 100) (call $next (local.get $it)))
                 (i32.store (i32.const 104) (call $value_len))
                 (i32.store (i32.const 108) (call $next (local.get $it)))
                 (i32.store (i32.const 112) (call $value_len))
                 (call $ret (i32.const 100) (i32.const 16)))"#,
        ),
    );
    let expected: Vec<u8> = [1i32, 3, -1, -1]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    assert_eq!(
        call(&rt, &contract, "drain", FUEL).outcome,
        Outcome::Success(expected)
    );
}

#[test]
fn the_entry_points_own_frame_counts_against_the_stack_budget() {
    let mut schedule = Schedule::v1();
    // The entry frame (16 + 90 locals) fits alone, and so does the callee's (16); together they
    // do not.
    schedule.limits.stack_slots_max = 120;
    let rt = Runtime::new(RuntimeConfig {
        schedule,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let contract = prepare(
        &rt,
        &module(&format!(
            r#"(func $leaf) (func (export "big_entry") {} (call $leaf))"#,
            "(local i64) ".repeat(90)
        )),
    );
    assert_eq!(
        call(&rt, &contract, "big_entry", FUEL).outcome,
        Outcome::Trap(TrapKind::StackExhausted)
    );
}

/// A golden figure: fuel is consensus, so a dependency upgrade that changes what a call costs
/// must fail here loudly rather than fork a network whose nodes upgrade at different times.
#[test]
fn fuel_figures_are_pinned_across_upgrades() {
    let rt = runtime();
    let contract = prepare(
        &rt,
        &module(
            r#"(import "vellum" "storage_set" (func $set (param i32 i32 i32 i32)))
               (func $add (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
               (func (export "work") (local $i i32)
                 (loop $l
                   (local.set $i (call $add (local.get $i)))
                   (br_if $l (i32.lt_u (local.get $i) (i32.const 100))))
                 (memory.fill (i32.const 0) (i32.const 1) (i32.const 1000))
                 (call $set (i32.const 0) (i32.const 10) (i32.const 0) (i32.const 100)))"#,
        ),
    );
    assert_eq!(
        call(&rt, &contract, "work", FUEL).fuel_used,
        GOLDEN_WORK_FUEL
    );
}

/// Recorded from schedule v1 on wasmtime 48.0.8; see `fuel_figures_are_pinned_across_upgrades`.
const GOLDEN_WORK_FUEL: u64 = 16_610;

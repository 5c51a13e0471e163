//! Determinism: the same call gives bit-identical results, fuel and effects on every run and on
//! separately built engines, including for floating point and storage iteration.

use super::*;
use std::sync::Arc;
use vellum_runtime::{
    MemoryReset, MemoryStorage, Mode, Outcome, Runtime, RuntimeConfig, Storage, Write,
};

/// Float-heavy work whose result is returned as raw bits: sums of square roots, divisions that
/// produce NaN and infinities, conversions, and arithmetic on NaNs with non-canonical payloads.
const FLOATS: &str = r#"(module
  (import "vellum" "set_return" (func $ret (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "instantiate"))
  (func (export "floats") (local $i i32) (local $acc f64) (local $acc32 f32)
    (loop $l
      (local.set $acc (f64.add (local.get $acc)
        (f64.div (f64.sqrt (f64.convert_i32_u (local.get $i))) (f64.const 3.0))))
      (local.set $acc32 (f32.mul (f32.add (local.get $acc32) (f32.const 0.1)) (f32.const 1.0001)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))
    (f64.store (i32.const 0) (local.get $acc))
    (f32.store (i32.const 8) (local.get $acc32))
    ;; 0/0 and sqrt(-1): NaNs whose sign and payload differ between CPUs without canonicalization.
    (f32.store (i32.const 12) (f32.div (f32.const 0) (f32.const 0)))
    (f64.store (i32.const 16) (f64.sqrt (f64.const -1)))
    ;; Arithmetic on a NaN with a payload: x86 propagates the payload, canonicalization does not.
    (f32.store (i32.const 24) (f32.add (f32.reinterpret_i32 (i32.const 0x7fa00001)) (f32.const 1)))
    (f64.store (i32.const 28) (f64.mul (f64.reinterpret_i64 (i64.const 0xfff0000000000bad)) (f64.const 2)))
    (f64.store (i32.const 36) (f64.div (f64.const 1) (f64.const 0)))
    (f64.store (i32.const 44) (f64.promote_f32 (f32.reinterpret_i32 (i32.const 0xffc00123))))
    (call $ret (i32.const 0) (i32.const 52))))"#;

#[test]
fn float_heavy_code_is_bit_identical_across_runs_and_engines() {
    let (a, b) = (runtime(), runtime());
    let (ca, cb) = (prepare(&a, FLOATS), prepare(&b, FLOATS));
    let first = call(&a, &ca, "floats", FUEL);
    let Outcome::Success(bits) = &first.outcome else {
        panic!("{:?}", first.outcome)
    };
    for _ in 0..3 {
        assert_eq!(call(&a, &ca, "floats", FUEL), first);
        assert_eq!(call(&b, &cb, "floats", FUEL), first);
    }
    // Every NaN a computation produced is the canonical quiet NaN.
    let f32_at = |o: usize| u32::from_le_bytes(bits[o..o + 4].try_into().unwrap());
    let f64_at = |o: usize| u64::from_le_bytes(bits[o..o + 8].try_into().unwrap());
    assert_eq!(f32_at(12), 0x7fc0_0000);
    assert_eq!(f64_at(16), 0x7ff8_0000_0000_0000);
    assert_eq!(f32_at(24), 0x7fc0_0000);
    assert_eq!(f64_at(28), 0x7ff8_0000_0000_0000);
    assert_eq!(f64::from_bits(f64_at(36)), f64::INFINITY);
    assert_eq!(f64_at(44), 0x7ff8_0000_0000_0000);
    // And the ordinary arithmetic is IEEE 754 exact: recompute it natively.
    let mut acc = 0f64;
    let mut acc32 = 0f32;
    for i in 0..1000u32 {
        acc += f64::from(i).sqrt() / 3.0;
        acc32 = (acc32 + 0.1) * 1.0001;
    }
    assert_eq!(f64_at(0), acc.to_bits());
    assert_eq!(f32_at(8), acc32.to_bits());
}

/// Writes keys in a scrambled order, then lists them both ways through the iteration ABI.
const ITERATE: &str = r#"(module
  (import "vellum" "storage_set" (func $set (param i32 i32 i32 i32)))
  (import "vellum" "storage_iter" (func $iter (param i32 i32 i32 i32 i32) (result i32)))
  (import "vellum" "storage_next" (func $next (param i32) (result i32)))
  (import "vellum" "key_read" (func $key_read (param i32)))
  (import "vellum" "set_return" (func $ret (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\07\02\09\00\05\ff\01\03")
  (func (export "instantiate"))
  (func (export "write") (local $i i32)
    (loop $l
      (call $set (local.get $i) (i32.const 1) (local.get $i) (i32.const 1))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 8)))))
  (func $list (param $flags i32) (local $cursor i32) (local $out i32)
    (local.set $out (i32.const 100))
    (local.set $cursor (call $iter (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (local.get $flags)))
    (block $done
      (loop $l
        (br_if $done (i32.lt_s (call $next (local.get $cursor)) (i32.const 0)))
        (call $key_read (local.get $out))
        (local.set $out (i32.add (local.get $out) (i32.const 1)))
        (br $l)))
    (call $ret (i32.const 100) (i32.sub (local.get $out) (i32.const 100))))
  ;; flags: 2|4 = unbounded both ways; +1 = descending
  (func (export "ascending") (call $list (i32.const 6)))
  (func (export "descending") (call $list (i32.const 7))))"#;

#[test]
fn iteration_order_is_key_order_for_committed_and_buffered_keys() {
    let rt = runtime();
    let contract = prepare(&rt, ITERATE);
    let mut storage = MemoryStorage::new();
    let run = call_with(
        &rt,
        &contract,
        "write",
        b"",
        FUEL,
        Mode::Transaction,
        Arc::new(storage.clone()),
    );
    assert!(run.outcome.is_success());
    let keys: Vec<u8> = run.writes.iter().map(|w: &Write| w.key[0]).collect();
    assert_eq!(
        keys,
        vec![0, 1, 2, 3, 5, 7, 9, 0xff],
        "writes come sorted by key"
    );
    storage.apply(&run.writes);
    let committed: Arc<dyn Storage> = Arc::new(storage);
    let list = |entry| {
        call_with(
            &rt,
            &contract,
            entry,
            b"",
            FUEL,
            Mode::Query,
            committed.clone(),
        )
        .outcome
    };
    assert_eq!(
        list("ascending"),
        Outcome::Success(vec![0, 1, 2, 3, 5, 7, 9, 0xff])
    );
    assert_eq!(
        list("descending"),
        Outcome::Success(vec![0xff, 9, 7, 5, 3, 2, 1, 0])
    );
}

/// Reports what its memory held when the call began (the data segment, bytes in the first page
/// and just past the first MiB, and the size in pages), then writes every byte and grows the
/// memory: a call that saw anything the previous call left would report it.
const SCRIBBLER: &str = r#"(module
  (import "vellum" "set_return" (func $ret (param i32 i32)))
  (memory (export "memory") 20)
  (data (i32.const 1024) "pristine")
  (func (export "instantiate"))
  (func (export "scribble") (local $segment i64) (local $low i64) (local $high i64) (local $pages i32)
    (local.set $segment (i64.load (i32.const 1024)))
    (local.set $low (i64.load (i32.const 4096)))
    (local.set $high (i64.load (i32.const 1114112)))
    (local.set $pages (memory.size))
    (memory.fill (i32.const 0) (i32.const 0xab) (i32.mul (memory.size) (i32.const 65536)))
    (drop (memory.grow (i32.const 2)))
    (memory.fill (i32.const 1310720) (i32.const 0xcd) (i32.const 131072))
    (i64.store (i32.const 0) (local.get $segment))
    (i64.store (i32.const 8) (local.get $low))
    (i64.store (i32.const 16) (local.get $high))
    (i32.store (i32.const 24) (local.get $pages))
    (call $ret (i32.const 0) (i32.const 28))))"#;

#[test]
fn every_call_starts_from_pristine_memory_whichever_way_it_is_reset() {
    let mut calls = Vec::new();
    for reset in [MemoryReset::DirtyPages, MemoryReset::Memset] {
        let runtime = Runtime::new(RuntimeConfig {
            memory_reset: reset,
            ..RuntimeConfig::default()
        })
        .expect("engine builds");
        let contract = prepare(&runtime, SCRIBBLER);
        for _ in 0..3 {
            let execution = call(&runtime, &contract, "scribble", FUEL);
            calls.push((execution.outcome, execution.fuel_used));
        }
    }
    let Outcome::Success(first) = &calls[0].0 else {
        panic!("the scribbler failed: {:?}", calls[0].0);
    };
    assert_eq!(&first[..8], b"pristine");
    assert!(first[8..24].iter().all(|&b| b == 0), "{first:?}");
    assert_eq!(first[24..28], 20u32.to_le_bytes());
    assert!(
        calls.iter().all(|c| c == &calls[0]),
        "a call saw memory a previous call wrote: {calls:?}"
    );
}

/// Integer work whose lowering depends on CPU features: counting bits and leading or trailing
/// zeros (POPCNT, LZCNT, TZCNT/BMI), rotates and shifts (BMI2), fused-looking float arithmetic
/// (FMA), rounding (SSE4.1).
const BITS: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "instantiate"))
  (func (export "bits") (param $x i64) (param $y f64) (result i64)
    (i64.add
      (i64.add (i64.popcnt (local.get $x)) (i64.clz (local.get $x)))
      (i64.add
        (i64.ctz (i64.rotl (local.get $x) (i64.const 13)))
        (i64.add
          (i64.shr_u (local.get $x) (i64.extend_i32_u (i32.wrap_i64 (local.get $x))))
          (i64.trunc_sat_f64_s
            (f64.nearest (f64.add (f64.mul (local.get $y) (local.get $y)) (local.get $y))))))))
  (func (export "clz32") (param $x i32) (result i32) (i32.clz (local.get $x))))"#;

/// A contract compiles to the same machine code whatever the host CPU offers: the engine's
/// configuration compiled natively and the same configuration cross-compiling for x86-64
/// (which infers nothing from the host) give byte-identical artifacts.
#[cfg(target_arch = "x86_64")]
#[test]
fn compiled_code_does_not_depend_on_the_host_cpu() {
    use vellum_runtime::{engine, Metering, Schedule};
    let native = engine::config(&Schedule::v1(), Metering::On, MemoryReset::DirtyPages);
    let mut generic = native.clone();
    generic
        .target("x86_64-unknown-linux-gnu")
        .expect("a known target");
    let module = wat::parse_str(BITS).expect("valid wat");
    let compile = |config: &wasmtime::Config| {
        wasmtime::Engine::new(config)
            .expect("engine")
            .precompile_module(&module)
            .expect("compiles")
    };
    assert!(compile(&native) == compile(&generic));
}

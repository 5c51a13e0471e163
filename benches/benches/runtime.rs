//! Runtime benchmarks: what one contract call costs before any contract logic runs, what a host
//! function round trip costs, what fuel metering costs (measured as a ratio in one run), and what
//! one call from a contract into another adds.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::sync::Arc;
use vellum_benches::{execute, execute_in, prepared, COMPUTE, HOST_CALLS, HOST_CALL_LOOP, NOOP};
use vellum_runtime::{
    CodeHash, MemoryStorage, Metering, Runtime, RuntimeConfig, Storage, StorageError, World, Write,
};

fn instantiate_call(c: &mut Criterion) {
    let (runtime, contract) = prepared(NOOP, Metering::On);
    let storage = Arc::new(MemoryStorage::new());
    c.bench_function(
        "runtime::instantiate_call/entry=noop allocator=pooling",
        |b| b.iter(|| execute(&runtime, &contract, "noop", storage.clone())),
    );
}

fn host_call(c: &mut Criterion) {
    let (runtime, contract) = prepared(HOST_CALL_LOOP, Metering::On);
    let mut storage = MemoryStorage::new();
    storage.apply(&[Write {
        key: vec![0; 8],
        value: Some(vec![1; 32]),
    }]);
    let storage = Arc::new(storage);
    let mut group = c.benchmark_group("runtime::host_call");
    group.throughput(Throughput::Elements(HOST_CALLS));
    group.bench_function("function=storage_get value_bytes=32", |b| {
        b.iter(|| execute(&runtime, &contract, "get_loop", storage.clone()))
    });
    group.finish();
}

fn fuel(c: &mut Criterion) {
    let mut group = c.benchmark_group("runtime::fuel");
    for (name, metering) in [("on", Metering::On), ("off", Metering::Off)] {
        let (runtime, contract) = prepared(COMPUTE, metering);
        let storage = Arc::new(MemoryStorage::new());
        group.bench_function(format!("metering={name} workload=xorshift_100k"), |b| {
            b.iter(|| execute(&runtime, &contract, "compute", storage.clone()))
        });
    }
    group.finish();
}

/// A contract that does nothing, at [`CALLEE`].
const CALLEE_WAT: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "instantiate"))
  (func (export "execute.noop")))"#;

/// A contract whose `execute.noop` calls the callee's.
const CALLER_WAT: &str = r#"(module
  (import "vellum" "call" (func $call (param i32 i32 i32 i32 i32 i64) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca\ca")
  (data (i32.const 32) "execute.noop")
  (func (export "instantiate"))
  (func (export "execute.noop")
    (if (call $call (i32.const 0) (i32.const 32) (i32.const 12) (i32.const 0) (i32.const 0)
      (i64.const -1))
      (then unreachable))))"#;

const CALLEE: [u8; 32] = [0xca; 32];

/// The callee, and nothing else, with empty storage.
struct OneCallee(Vec<u8>);

impl World for OneCallee {
    fn code_hash(&self, address: &[u8; 32]) -> Result<Option<CodeHash>, StorageError> {
        Ok((*address == CALLEE).then(|| CodeHash::of(&self.0)))
    }

    fn code(&self, _: &CodeHash) -> Result<Vec<u8>, StorageError> {
        Ok(self.0.clone())
    }

    fn storage(&self, _: &[u8; 32]) -> Arc<dyn Storage> {
        Arc::new(MemoryStorage::new())
    }
}

/// One cross-contract call (a fresh instance on a thread of its own) against calling the same
/// entry point directly.
fn call(c: &mut Criterion) {
    let callee = wat::parse_str(CALLEE_WAT).expect("fixture parses");
    let world: Arc<dyn World> = Arc::new(OneCallee(callee.clone()));
    let runtime = Runtime::new(RuntimeConfig::default()).expect("engine builds");
    let mut group = c.benchmark_group("runtime::call");
    for (name, wasm) in [
        ("direct", callee),
        (
            "nested",
            wat::parse_str(CALLER_WAT).expect("fixture parses"),
        ),
    ] {
        let contract = runtime.prepare(&wasm).expect("valid");
        group.bench_function(format!("entry=noop path={name}"), |b| {
            b.iter(|| execute_in(&runtime, &contract, "execute.noop", world.clone()))
        });
    }
    group.finish();
}

fn prepare(c: &mut Criterion) {
    let wasm = wat::parse_str(COMPUTE).expect("fixture parses");
    c.bench_function("runtime::prepare/module=compute cache=cold", |b| {
        b.iter_batched(
            || Runtime::new(RuntimeConfig::default()).expect("engine builds"),
            |runtime| runtime.prepare(&wasm).expect("valid"),
            BatchSize::PerIteration,
        )
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = instantiate_call, host_call, fuel, call, prepare
}
criterion_main!(benches);

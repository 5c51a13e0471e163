//! Runtime benchmarks: what one contract call costs before any contract logic runs, what a host
//! function round trip costs, and what fuel metering costs (measured as a ratio in one run).
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::sync::Arc;
use vellum_benches::{execute, prepared, COMPUTE, HOST_CALLS, HOST_CALL_LOOP, NOOP};
use vellum_runtime::{MemoryStorage, Metering, Runtime, RuntimeConfig, Write};

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
    targets = instantiate_call, host_call, fuel, prepare
}
criterion_main!(benches);

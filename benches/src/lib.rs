//! Fixtures shared by Vellum's criterion benchmarks (`cargo bench`).
//!
//! Benchmarks are named `area::operation/key=value`, after commonware's convention, so results
//! group by area in criterion's report and in `BENCHMARKS.md`.

use std::sync::Arc;
use vellum_runtime::{
    Call, Context, Contract, Execution, MemoryStorage, Metering, Mode, Runtime, RuntimeConfig,
    World,
};

/// A contract whose entry point does nothing: measures pure instantiate + call overhead.
pub const NOOP: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "instantiate"))
  (func (export "noop")))"#;

/// A contract calling `storage_get` on the same 8-byte key `HOST_CALLS` times.
pub const HOST_CALL_LOOP: &str = r#"(module
  (import "vellum" "storage_get" (func $get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "instantiate"))
  (func (export "get_loop") (local $i i32)
    (loop $l
      (drop (call $get (i32.const 0) (i32.const 8)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))))"#;

/// Host calls per `get_loop` call.
pub const HOST_CALLS: u64 = 1000;

/// Pure computation (an xorshift loop over 100,000 iterations): the workload for metering cost.
pub const COMPUTE: &str = r#"(module
  (import "vellum" "set_return" (func $ret (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "instantiate"))
  (func (export "compute") (local $i i32) (local $x i64)
    (local.set $x (i64.const 88172645463325252))
    (loop $l
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
      (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 100000))))
    (i64.store (i32.const 0) (local.get $x))
    (call $ret (i32.const 0) (i32.const 8))))"#;

/// A runtime with the given metering and a contract compiled from `wat`.
pub fn prepared(wat: &str, metering: Metering) -> (Runtime, Arc<Contract>) {
    let runtime = Runtime::new(RuntimeConfig {
        metering,
        ..RuntimeConfig::default()
    })
    .expect("engine builds");
    let wasm = wat::parse_str(wat).expect("fixture parses");
    let contract = runtime.prepare(&wasm).expect("fixture is valid");
    (runtime, contract)
}

/// Execute `entry_point` with ample fuel against `storage`.
pub fn execute(
    runtime: &Runtime,
    contract: &Contract,
    entry_point: &str,
    storage: Arc<MemoryStorage>,
) -> Execution {
    let execution = runtime
        .execute(contract, call(entry_point), storage)
        .expect("host completes the call");
    assert!(execution.outcome.is_success(), "{:?}", execution.outcome);
    execution
}

/// Execute `entry_point` with ample fuel in `world`, which serves the contracts it calls.
pub fn execute_in(
    runtime: &Runtime,
    contract: &Contract,
    entry_point: &str,
    world: Arc<dyn World>,
) -> Execution {
    let execution = runtime
        .execute_in(contract, call(entry_point), world)
        .expect("host completes the call");
    assert!(execution.outcome.is_success(), "{:?}", execution.outcome);
    execution
}

/// A transaction's call of `entry_point` with no input and ample fuel.
fn call(entry_point: &str) -> Call<'_> {
    Call {
        entry_point,
        input: b"",
        context: Context {
            caller: [1; 32],
            contract: [2; 32],
            block_height: 1,
            block_time_ms: 0,
        },
        fuel_limit: 1_000_000_000,
        mode: Mode::Transaction,
    }
}

/// Lots on the longest provenance path of [`trace_graph`]: the figure the issue names.
pub const TRACE_HOPS: usize = 10;

/// The calls that build a provenance graph [`TRACE_HOPS`] hops deep for the `trace` contract,
/// all made by `farm`, which deployed the contract (so is its admin) and registers itself as a
/// farm: lot `lot-0` is created, then each `lot-{k}` is split from `lot-{k-1}` together with a
/// side lot `side-{k}` that is handed over to `distributor`. `lot-10` then has ten ancestors
/// back to the farm, and `lot-0` twenty descendants. The contract, native and ledger benchmarks
/// replay the same calls, so they trace the same graph.
pub fn trace_graph(farm: &str, distributor: &str) -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::json;
    let mut calls = vec![
        (
            "register_party",
            json!({"address": farm, "name": "Finca Sol", "role": "farm"}),
        ),
        (
            "register_party",
            json!({"address": distributor, "name": "DC 6094", "role": "distributor"}),
        ),
        (
            "create_lot",
            json!({"id": "lot-0", "product": "mangoes", "quantity": 1u64 << 30, "unit": "kg"}),
        ),
    ];
    for k in 1..=TRACE_HOPS {
        let quantity = 1u64 << (30 - k);
        calls.push((
            "split",
            json!({"lot": format!("lot-{}", k - 1),
                   "parts": [[format!("lot-{k}"), quantity], [format!("side-{k}"), quantity / 2]]}),
        ));
        calls.push((
            "handover",
            json!({"lot": format!("side-{k}"), "to": distributor}),
        ));
    }
    calls
}

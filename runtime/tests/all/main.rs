//! The runtime's integration tests: one test binary, a module per topic. The helpers below are
//! what they share.

mod abi;
mod calls;
mod determinism;
mod hostile;
mod storage_model;

use std::sync::Arc;
use vellum_runtime::{
    Call, Context, Contract, Execution, MemoryStorage, Mode, Runtime, RuntimeConfig, Storage,
};

/// Fuel for calls that are expected to finish.
const FUEL: u64 = 10_000_000;

fn runtime() -> Runtime {
    Runtime::new(RuntimeConfig::default()).expect("engine builds")
}

fn wasm(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).expect("test WAT parses")
}

fn context() -> Context {
    Context {
        caller: [0xca; 32],
        contract: [0xc0; 32],
        block_height: 42,
        block_time_ms: 1_700_000_000_000,
    }
}

fn prepare(runtime: &Runtime, wat: &str) -> Arc<Contract> {
    runtime.prepare(&wasm(wat)).expect("test module is valid")
}

fn call_with(
    runtime: &Runtime,
    contract: &Contract,
    entry_point: &str,
    input: &[u8],
    fuel_limit: u64,
    mode: Mode,
    storage: Arc<dyn Storage>,
) -> Execution {
    let call = Call {
        entry_point,
        input,
        context: context(),
        fuel_limit,
        mode,
    };
    runtime
        .execute(contract, call, storage)
        .expect("the host completes the call")
}

/// Run `entry_point` with `fuel_limit` against empty storage.
fn call(runtime: &Runtime, contract: &Contract, entry_point: &str, fuel_limit: u64) -> Execution {
    call_with(
        runtime,
        contract,
        entry_point,
        b"",
        fuel_limit,
        Mode::Transaction,
        Arc::new(MemoryStorage::new()),
    )
}

/// A module exporting `memory` and an empty `instantiate`, with `body` spliced in.
fn module(body: &str) -> String {
    format!(
        r#"(module
  {body}
  (memory (export "memory") 1)
  (func (export "instantiate")))"#
    )
}

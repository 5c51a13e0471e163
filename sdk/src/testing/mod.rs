//! Testing contracts natively, and against their built wasm, through one interface.
//!
//! [`TestHost`] runs a contract's Rust code in-process: it is what makes contract tests take
//! milliseconds. `WasmHost` runs the compiled `.wasm` through the node's real runtime and reports
//! fuel; it comes with the crate's `wasm-host` feature, which compiles wasmtime, so tests that
//! only run natively leave it off. Both implement [`Host`], so one scenario can drive both and a
//! test can assert that they agree on every result, event and byte of state.
//!
//! The native host keeps the node's semantics: a call's writes are kept only if the call succeeds
//! (and never for queries; the host undoes them from a log rather than copying state per call);
//! reads see the call's own writes; iteration is in key order; a query that writes or emits
//! fails with the runtime's trap. A panic in native code becomes what a wasm32 contract's panic
//! handler makes of it: a contract error with code [`Error::PANIC`] and `panic: ` before the
//! message. Contracts call each other natively too ([`TestHost::deploy`]), with the runtime's
//! rules of depth, re-entry and rollback; fuel is not counted natively.

// The crate is `no_std`; this module is native-only and uses std freely.

mod compare;
mod native;
#[cfg(feature = "wasm-host")]
mod wasm;

pub use compare::{assert_equivalent, check_fuel_table, Recorder, Step};
#[cfg(feature = "wasm-host")]
pub use compare::{check_artifact, fuel_table, intrinsic_fuel, FUEL_TABLE_CHAIN_ID};
pub use native::TestHost;
pub(crate) use native::{call, keccak256, secp256k1_verify, sha3_256, with_frame, Stop};
#[cfg(feature = "wasm-host")]
pub use wasm::{WasmHost, WasmHostError};

use crate::{Address, Error};
use std::{boxed::Box, collections::BTreeMap, format, string::String, vec::Vec};

/// The block a host pretends to execute in, until changed with [`Host::set_block`].
pub const DEFAULT_BLOCK: (u64, u64) = (1, 1_700_000_000_000);

/// The contract address both hosts use.
pub const CONTRACT_ADDRESS: Address = Address([0xc0; 32]);

/// Fuel each [`WasmHost`] call may use.
pub const FUEL_LIMIT: u64 = 1_000_000_000;

/// Whether a call may change state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A transaction: state and events are kept if the call succeeds.
    Transaction,
    /// A read-only query.
    Query,
}

/// An event a contract emitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The contract that emitted it: the one called, or one it called.
    pub contract: Address,
    /// Its topic.
    pub topic: String,
    /// Its data (JSON with the SDK).
    pub data: Vec<u8>,
}

impl Event {
    /// The data parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.data).unwrap_or(serde_json::Value::Null)
    }
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The contract returned an error.
    Contract(Error),
    /// The contract trapped, or ran out of fuel (wasm only).
    Trap(String),
}

/// The result of one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The JSON result, or why there is none.
    pub result: Result<Vec<u8>, Failure>,
    /// Events, if the call succeeded.
    pub events: Vec<Event>,
    /// Fuel used ([`WasmHost`] only).
    pub fuel_used: Option<u64>,
}

impl Reply {
    /// The result as JSON. Panics, showing the failure, if the call failed.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        match &self.result {
            Ok(bytes) => serde_json::from_slice(bytes).unwrap_or(serde_json::Value::Null),
            Err(failure) => panic!("call failed: {failure:?}"),
        }
    }

    /// The result decoded as `T`. Panics if the call failed or the JSON does not fit.
    #[track_caller]
    pub fn value<T: serde::de::DeserializeOwned>(&self) -> T {
        match serde_json::from_value(self.json()) {
            Ok(value) => value,
            Err(error) => panic!("result does not decode: {error}"),
        }
    }

    /// The contract error. Panics if the call did not fail with one.
    #[track_caller]
    pub fn error(&self) -> &Error {
        match &self.result {
            Err(Failure::Contract(error)) => error,
            other => panic!("expected a contract error, got {other:?}"),
        }
    }

    /// Whether the call succeeded.
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }
}

fn encode(args: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(args).unwrap_or_default()
}

/// A place to run a contract: natively ([`TestHost`]) or as wasm ([`WasmHost`]), at
/// [`CONTRACT_ADDRESS`], beside the other contracts each host can put at other addresses.
pub trait Host {
    /// Call `entry_point` of the contract at `contract` with raw `input` as `caller`. Panics if
    /// there is no contract there.
    fn call_at(
        &mut self,
        contract: Address,
        caller: Address,
        entry_point: &str,
        input: &[u8],
        mode: Mode,
    ) -> Reply;

    /// The committed state of the contract at `address`.
    fn state_at(&self, address: &Address) -> &BTreeMap<Vec<u8>, Vec<u8>>;

    /// Call `entry_point` of the contract under test with raw `input` as `caller`.
    fn call(&mut self, caller: Address, entry_point: &str, input: &[u8], mode: Mode) -> Reply {
        self.call_at(CONTRACT_ADDRESS, caller, entry_point, input, mode)
    }

    /// The committed state of the contract under test.
    fn state(&self) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        self.state_at(&CONTRACT_ADDRESS)
    }

    /// Set the block height and time (ms) that later calls see.
    fn set_block(&mut self, height: u64, time_ms: u64);

    /// Run `instantiate` with JSON `args`.
    fn instantiate(&mut self, caller: Address, args: serde_json::Value) -> Reply {
        self.call(caller, "instantiate", &encode(&args), Mode::Transaction)
    }

    /// Run `#[execute]` method `method` of the contract at `contract` with JSON `args`.
    fn execute_at(
        &mut self,
        contract: Address,
        caller: Address,
        method: &str,
        args: serde_json::Value,
    ) -> Reply {
        let entry_point = format!("execute.{method}");
        self.call_at(
            contract,
            caller,
            &entry_point,
            &encode(&args),
            Mode::Transaction,
        )
    }

    /// Run `#[execute]` method `method` with JSON `args`.
    fn execute(&mut self, caller: Address, method: &str, args: serde_json::Value) -> Reply {
        let entry_point = format!("execute.{method}");
        self.call(caller, &entry_point, &encode(&args), Mode::Transaction)
    }

    /// Run `#[query]` method `method` with JSON `args`.
    fn query(&mut self, method: &str, args: serde_json::Value) -> Reply {
        let entry_point = format!("query.{method}");
        self.call(
            Address::default(),
            &entry_point,
            &encode(&args),
            Mode::Query,
        )
    }

    /// Run `migrate` with JSON `args`.
    fn migrate(&mut self, caller: Address, args: serde_json::Value) -> Reply {
        self.call(caller, "migrate", &encode(&args), Mode::Transaction)
    }
}

impl<H: Host + ?Sized> Host for Box<H> {
    fn call_at(
        &mut self,
        contract: Address,
        caller: Address,
        entry_point: &str,
        input: &[u8],
        mode: Mode,
    ) -> Reply {
        (**self).call_at(contract, caller, entry_point, input, mode)
    }

    fn state_at(&self, address: &Address) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        (**self).state_at(address)
    }

    fn set_block(&mut self, height: u64, time_ms: u64) {
        (**self).set_block(height, time_ms)
    }
}

//! [`TestHost`]: a contract's Rust code run in-process, with the node's semantics.

use super::{Event, Failure, Host, Mode, Reply, CONTRACT_ADDRESS, DEFAULT_BLOCK};
use crate::{Address, Contract};
use std::{
    cell::RefCell,
    collections::BTreeMap,
    format,
    marker::PhantomData,
    panic::{self, AssertUnwindSafe},
    string::{String, ToString},
    thread_local,
    vec::Vec,
};

/// One call's view of the world, reached by the `env` functions through a thread-local.
pub(crate) struct Frame {
    pub(crate) state: BTreeMap<Vec<u8>, Vec<u8>>,
    pub(crate) caller: Address,
    pub(crate) contract: Address,
    pub(crate) block_height: u64,
    pub(crate) block_time_ms: u64,
    pub(crate) input: Vec<u8>,
    pub(crate) return_data: Vec<u8>,
    pub(crate) events: Vec<Event>,
    pub(crate) debug_log: Vec<String>,
    read_only: bool,
    /// What each write replaced, in order, so a failed call can be undone.
    undo: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Frame {
    /// Set `key` to `value` (remove it, for `None`), remembering what it held.
    pub(crate) fn write(&mut self, key: &[u8], value: Option<&[u8]>) {
        let previous = match value {
            Some(value) => self.state.insert(key.to_vec(), value.to_vec()),
            None => self.state.remove(key),
        };
        self.undo.push((key.to_vec(), previous));
    }

    /// The state as it was before the call.
    fn rolled_back(mut self) -> BTreeMap<Vec<u8>, Vec<u8>> {
        for (key, previous) in self.undo.into_iter().rev() {
            match previous {
                Some(value) => self.state.insert(key, value),
                None => self.state.remove(&key),
            };
        }
        self.state
    }

    pub(crate) fn ensure_writable(&self, function: &str) {
        if self.read_only {
            panic!("`{function}` is not allowed in a read-only query");
        }
    }
}

thread_local! {
    static FRAME: RefCell<Option<Frame>> = const { RefCell::new(None) };
}

/// Run `f` on the current call's frame.
pub(crate) fn with_frame<R>(f: impl FnOnce(&mut Frame) -> R) -> R {
    FRAME.with(|cell| {
        let mut frame = cell.borrow_mut();
        match frame.as_mut() {
            Some(frame) => f(frame),
            None => panic!(
                "vellum-sdk: a host function was called outside a contract call; \
                 run the contract through vellum_sdk::testing::TestHost"
            ),
        }
    })
}

/// A cross-contract call from native code: [`TestHost`] runs one contract, so it has no contract to
/// call. Test calls between contracts on their built wasm with [`super::WasmHost::deploy`].
pub(crate) fn call(
    contract: &Address,
    entry_point: &str,
    _input: &[u8],
    _fuel: u64,
) -> (vellum_abi::CallStatus, Vec<u8>) {
    panic!(
        "TestHost runs one contract natively and cannot call `{entry_point}` of {contract}; \
         test calls between contracts with WasmHost::deploy"
    )
}

pub(crate) fn keccak256(data: &[u8]) -> [u8; 32] {
    use sha3::Digest;
    sha3::Keccak256::digest(data).into()
}

pub(crate) fn sha3_256(data: &[u8]) -> [u8; 32] {
    use sha3::Digest;
    sha3::Sha3_256::digest(data).into()
}

pub(crate) fn secp256k1_verify(hash: &[u8; 32], signature: &[u8; 64], public_key: &[u8]) -> bool {
    vellum_runtime::verify_secp256k1(hash, signature, public_key)
}

/// Runs contract `C` natively, in-process.
pub struct TestHost<C> {
    state: BTreeMap<Vec<u8>, Vec<u8>>,
    block: (u64, u64),
    /// The entry points `C` exports, read once from its interface.
    entry_points: Vec<String>,
    contract: PhantomData<fn() -> C>,
}

impl<C: Contract> Default for TestHost<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Contract> TestHost<C> {
    /// A host with empty state at [`DEFAULT_BLOCK`].
    pub fn new() -> Self {
        Self {
            state: BTreeMap::new(),
            block: DEFAULT_BLOCK,
            entry_points: entry_points(C::INTERFACE),
            contract: PhantomData,
        }
    }

    /// Put `value` at `key` directly, as an earlier version of the contract might have: for
    /// testing migrations and reads of existing state.
    pub fn seed(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.state.insert(key, value);
    }
}

impl<C: Contract> Host for TestHost<C> {
    fn call(&mut self, caller: Address, entry_point: &str, input: &[u8], mode: Mode) -> Reply {
        // As on the node, only exported entry points can be called; anything else traps.
        if entry_point != "instantiate" && !self.entry_points.iter().any(|e| e == entry_point) {
            let message = format!("the contract has no entry point `{entry_point}`");
            return Reply {
                result: Err(Failure::Trap(message)),
                events: Vec::new(),
                fuel_used: None,
            };
        }
        let frame = Frame {
            state: std::mem::take(&mut self.state),
            caller,
            contract: CONTRACT_ADDRESS,
            block_height: self.block.0,
            block_time_ms: self.block.1,
            input: input.to_vec(),
            return_data: Vec::new(),
            events: Vec::new(),
            debug_log: Vec::new(),
            read_only: mode == Mode::Query,
            undo: Vec::new(),
        };
        FRAME.with(|cell| *cell.borrow_mut() = Some(frame));
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| C::dispatch(entry_point, input)));
        let frame = FRAME.with(|cell| cell.borrow_mut().take());
        let Some(frame) = frame else {
            unreachable!("the frame is only taken here");
        };
        let result = match outcome {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(error)) => Err(Failure::Contract(error)),
            Err(panic) => Err(Failure::Trap(panic_message(panic.as_ref()))),
        };
        let events = match (&result, mode) {
            (Ok(_), Mode::Transaction) => {
                self.state = frame.state;
                frame.events
            }
            _ => {
                self.state = frame.rolled_back();
                Vec::new()
            }
        };
        Reply {
            result,
            events,
            fuel_used: None,
        }
    }

    fn state(&self) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        &self.state
    }

    fn set_block(&mut self, height: u64, time_ms: u64) {
        self.block = (height, time_ms);
    }
}

/// The entry points listed in `interface` (every contract also exports `instantiate`, with or
/// without a method behind it).
fn entry_points(interface: &str) -> Vec<String> {
    let Ok(interface) = serde_json::from_str::<serde_json::Value>(interface) else {
        return Vec::new();
    };
    interface["methods"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|method| method["entry_point"].as_str().map(String::from))
        .collect()
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".to_string())
}

//! [`TestHost`]: a contract's Rust code run in-process, with the node's semantics, beside any other
//! contracts it calls.

use super::{Event, Failure, Host, Mode, Reply, CONTRACT_ADDRESS, DEFAULT_BLOCK};
use crate::{Address, Contract, Error};
use std::{
    boxed::Box,
    cell::RefCell,
    collections::BTreeMap,
    format,
    marker::PhantomData,
    panic::{self, AssertUnwindSafe},
    string::{String, ToString},
    thread_local,
    vec::Vec,
};
use vellum_abi::CallStatus;

type State = BTreeMap<Vec<u8>, Vec<u8>>;

/// One write, as it can be undone: the contract, the key, and what the key held before.
type Undo = (Address, Vec<u8>, Option<Vec<u8>>);

/// One call's view of the world, reached by the `env` functions through a thread-local.
pub(crate) struct Frame {
    /// The called contract's state, with this call's writes.
    pub(crate) state: State,
    pub(crate) caller: Address,
    pub(crate) contract: Address,
    pub(crate) block_height: u64,
    pub(crate) block_time_ms: u64,
    pub(crate) input: Vec<u8>,
    pub(crate) return_data: Vec<u8>,
    /// Its events and those of the calls it made that succeeded, in order.
    pub(crate) events: Vec<Event>,
    pub(crate) debug_log: Vec<String>,
    read_only: bool,
    /// What each write of this call, and of the calls it made that succeeded, replaced, in order,
    /// so a failed call can be undone whatever contracts it reached.
    undo: Vec<Undo>,
}

impl Frame {
    /// Set `key` to `value` (remove it, for `None`), remembering what it held.
    pub(crate) fn write(&mut self, key: &[u8], value: Option<&[u8]>) {
        let previous = match value {
            Some(value) => self.state.insert(key.to_vec(), value.to_vec()),
            None => self.state.remove(key),
        };
        self.undo.push((self.contract, key.to_vec(), previous));
    }

    pub(crate) fn ensure_writable(&self, function: &str) {
        if self.read_only {
            // The runtime's wording for the same trap.
            panic::panic_any(Stop::Trap(format!(
                "`{function}` is not allowed in a read-only query"
            )));
        }
    }
}

/// How native code stops a call the way the runtime would, rather than as a panic.
pub(crate) enum Stop {
    /// `env::abort`: a contract error.
    Abort(Error),
    /// A trap of the runtime (a write in a read-only call).
    Trap(String),
}

/// A contract that can be called natively.
struct Native {
    dispatch: fn(&str, &[u8]) -> crate::Result<Vec<u8>>,
    entry_points: Vec<String>,
    reentrant: bool,
}

impl Native {
    fn of<C: Contract>() -> Self {
        Self {
            dispatch: C::dispatch,
            entry_points: entry_points(C::INTERFACE),
            reentrant: C::REENTRANT,
        }
    }
}

/// What the frames of one call tree share: every contract, the state of each that is not
/// running, and the call stack.
struct World {
    contracts: BTreeMap<Address, Native>,
    states: BTreeMap<Address, State>,
    stack: Vec<Address>,
    block: (u64, u64),
}

thread_local! {
    static FRAME: RefCell<Option<Frame>> = const { RefCell::new(None) };
    static WORLD: RefCell<Option<World>> = const { RefCell::new(None) };
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

fn with_world<R>(f: impl FnOnce(&mut World) -> R) -> R {
    WORLD.with(|cell| {
        let mut world = cell.borrow_mut();
        match world.as_mut() {
            Some(world) => f(world),
            None => panic!("vellum-sdk: a contract call outside TestHost"),
        }
    })
}

/// Undo `log`, newest first, against `states`.
fn undo(states: &mut BTreeMap<Address, State>, log: Vec<Undo>) {
    for (contract, key, previous) in log.into_iter().rev() {
        let state = states.entry(contract).or_default();
        match previous {
            Some(value) => state.insert(key, value),
            None => state.remove(&key),
        };
    }
}

/// What a finished call did: its result, and (if it succeeded) its events and undo log.
struct Ran {
    result: Result<Vec<u8>, Failure>,
    events: Vec<Event>,
    undo: Vec<Undo>,
}

/// Run `entry_point` of `contract` as `caller` in the world, leaving its state there; a failed
/// call's writes, and those of every call it made, are undone.
fn run(
    contract: Address,
    caller: Address,
    entry_point: &str,
    input: &[u8],
    read_only: bool,
) -> Ran {
    let found = with_world(|world| {
        let native = world.contracts.get(&contract)?;
        let exported =
            entry_point == "instantiate" || native.entry_points.iter().any(|e| e == entry_point);
        let state = world.states.remove(&contract).unwrap_or_default();
        world.stack.push(contract);
        Some((native.dispatch, exported, state, world.block))
    });
    let Some((dispatch, exported, state, block)) = found else {
        panic!("no contract at {contract}");
    };
    let frame = Frame {
        state,
        caller,
        contract,
        block_height: block.0,
        block_time_ms: block.1,
        input: input.to_vec(),
        return_data: Vec::new(),
        events: Vec::new(),
        debug_log: Vec::new(),
        read_only,
        undo: Vec::new(),
    };
    let suspended = FRAME.with(|cell| cell.replace(Some(frame)));
    // As on the node, only exported entry points can be called; anything else traps.
    let outcome = match exported {
        true => Some(panic::catch_unwind(AssertUnwindSafe(|| {
            dispatch(entry_point, input)
        }))),
        false => None,
    };
    let frame = FRAME.with(|cell| cell.replace(suspended));
    let Some(frame) = frame else {
        unreachable!("the frame is only taken here");
    };
    let result = match outcome {
        None => Err(Failure::Trap(format!(
            "the contract has no entry point `{entry_point}`"
        ))),
        Some(Ok(Ok(output))) => Ok(output),
        Some(Ok(Err(error))) => Err(Failure::Contract(error)),
        Some(Err(panic)) => Err(stopped(panic)),
    };
    with_world(|world| {
        world.stack.pop();
        world.states.insert(contract, frame.state);
        match result.is_ok() {
            true => Ran {
                result,
                events: frame.events,
                undo: frame.undo,
            },
            false => {
                undo(&mut world.states, frame.undo);
                Ran {
                    result,
                    events: Vec::new(),
                    undo: Vec::new(),
                }
            }
        }
    })
}

/// How a panic reads as the runtime would report the same stop: an abort is the contract error
/// it carries, a trap is its text, and any other panic is what a wasm32 contract's panic
/// handler makes of it: [`Error::PANIC`] with `panic: ` and the message.
fn stopped(panic: Box<dyn std::any::Any + Send>) -> Failure {
    match panic.downcast::<Stop>() {
        Ok(stop) => match *stop {
            Stop::Abort(error) => Failure::Contract(error),
            Stop::Trap(text) => Failure::Trap(text),
        },
        Err(panic) => Failure::Contract(Error::new(
            Error::PANIC,
            format!("panic: {}", panic_message(panic.as_ref())),
        )),
    }
}

/// A cross-contract call from native code, with the runtime's rules (`docs/abi.md`, "Calls"):
/// depth, re-entry, read-only callees, and nothing kept of a failed callee. Fuel is not
/// counted natively, so a call never runs out.
pub(crate) fn call(
    contract: &Address,
    entry_point: &str,
    input: &[u8],
    _fuel: u64,
) -> (CallStatus, Vec<u8>) {
    if !(entry_point.starts_with("execute.") || entry_point.starts_with("query.")) {
        panic::panic_any(Stop::Trap(
            "host function `call`: only `execute.*` and `query.*` entry points may be called"
                .to_string(),
        ));
    }
    let depth_max = vellum_abi::CALL_DEPTH_MAX as usize;
    let refused = with_world(|world| {
        if world.stack.len() > depth_max {
            return Some(CallStatus::DepthExceeded);
        }
        let Some(native) = world.contracts.get(contract) else {
            return Some(CallStatus::NoContract);
        };
        (world.stack.contains(contract) && !native.reentrant).then_some(CallStatus::Reentrancy)
    });
    if let Some(status) = refused {
        return (status, Vec::new());
    }
    // Suspend the caller: its pending state is what a re-entered call of it sees.
    let (me, read_only) = with_frame(|frame| {
        let state = std::mem::take(&mut frame.state);
        with_world(|world| world.states.insert(frame.contract, state));
        (frame.contract, frame.read_only)
    });
    let read_only = read_only || entry_point.starts_with("query.");
    let ran = run(*contract, me, entry_point, input, read_only);
    with_frame(|frame| {
        frame.state = with_world(|world| world.states.remove(&me)).unwrap_or_default();
        frame.undo.extend(ran.undo);
        frame.events.extend(ran.events);
    });
    match ran.result {
        Ok(output) => (CallStatus::Success, output),
        Err(Failure::Contract(error)) => {
            let mut answer = error.code.to_be_bytes().to_vec();
            answer.extend_from_slice(error.message.as_bytes());
            (CallStatus::ContractError, answer)
        }
        Err(Failure::Trap(text)) => (CallStatus::Trap, text.into_bytes()),
    }
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
    vellum_abi::verify_secp256k1(hash, signature, public_key)
}

/// Runs contract `C` natively, in-process, at [`CONTRACT_ADDRESS`], beside any contracts put at
/// other addresses with [`TestHost::deploy`] for it to call.
pub struct TestHost<C> {
    contracts: BTreeMap<Address, Native>,
    states: BTreeMap<Address, State>,
    /// Lent by [`Host::state`] when `C` has stored nothing.
    empty: State,
    block: (u64, u64),
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
            contracts: BTreeMap::from([(CONTRACT_ADDRESS, Native::of::<C>())]),
            states: BTreeMap::new(),
            empty: State::new(),
            block: DEFAULT_BLOCK,
            contract: PhantomData,
        }
    }

    /// Put contract `D` at `address` (keeping any state there), for `C` to call. Run its
    /// `instantiate` with [`TestHost::call_at`].
    pub fn deploy<D: Contract>(&mut self, address: Address) {
        self.contracts.insert(address, Native::of::<D>());
    }

    /// Put `value` at `key` directly, as an earlier version of the contract might have: for
    /// testing migrations and reads of existing state.
    pub fn seed(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.states
            .entry(CONTRACT_ADDRESS)
            .or_default()
            .insert(key, value);
    }
}

impl<C: Contract> Host for TestHost<C> {
    /// Call `entry_point` of the contract at `contract`, as [`Host::call`] calls `C`. Panics if
    /// there is no contract there.
    fn call_at(
        &mut self,
        contract: Address,
        caller: Address,
        entry_point: &str,
        input: &[u8],
        mode: Mode,
    ) -> Reply {
        let world = World {
            contracts: std::mem::take(&mut self.contracts),
            states: std::mem::take(&mut self.states),
            stack: Vec::new(),
            block: self.block,
        };
        WORLD.with(|cell| *cell.borrow_mut() = Some(world));
        // A query's writes are refused as they are made; nothing of it stays either way.
        let ran = panic::catch_unwind(AssertUnwindSafe(|| {
            run(contract, caller, entry_point, input, mode == Mode::Query)
        }));
        let world = WORLD.with(|cell| cell.borrow_mut().take());
        let Some(world) = world else {
            unreachable!("the world is only taken here");
        };
        self.contracts = world.contracts;
        self.states = world.states;
        let ran = ran.unwrap_or_else(|panic| panic::resume_unwind(panic));
        let events = match mode {
            Mode::Transaction => ran.events,
            Mode::Query => {
                undo(&mut self.states, ran.undo);
                Vec::new()
            }
        };
        Reply {
            result: ran.result,
            events,
            fuel_used: None,
        }
    }

    /// The committed state of the contract at `address`.
    fn state_at(&self, address: &Address) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        self.states.get(address).unwrap_or(&self.empty)
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

//! Testing contracts natively, and against their built wasm, through one interface.
//!
//! [`TestHost`] runs a contract's Rust code in-process: it is what makes contract tests take
//! milliseconds. [`WasmHost`] runs the compiled `.wasm` through the node's real runtime and reports
//! fuel. Both implement [`Host`], so one scenario can drive both and a test can assert that they
//! agree on every result, event and byte of state.
//!
//! The native host keeps the node's semantics: a call's writes are kept only if the call succeeds
//! (and never for queries; the host undoes them from a log rather than copying state per call);
//! reads see the call's own writes; iteration is in key order; a query that writes or emits
//! fails. A panic in native code becomes a [`Failure::Trap`], as it does in wasm.

// The crate is `no_std`; this module is native-only and uses std freely.
use std::{
    boxed::Box,
    format,
    string::{String, ToString},
    thread_local,
    vec::Vec,
};

use crate::{Address, Contract, Error};
use std::{
    cell::RefCell,
    collections::BTreeMap,
    marker::PhantomData,
    panic::{self, AssertUnwindSafe},
    path::Path,
    sync::Arc,
};

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
    /// The contract trapped (wasm) or panicked (native), or ran out of fuel.
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

/// A place to run a contract: natively ([`TestHost`]) or as wasm ([`WasmHost`]).
pub trait Host {
    /// Call `entry_point` with raw `input` as `caller`.
    fn call(&mut self, caller: Address, entry_point: &str, input: &[u8], mode: Mode) -> Reply;

    /// The contract's committed state.
    fn state(&self) -> &BTreeMap<Vec<u8>, Vec<u8>>;

    /// Set the block height and time (ms) that later calls see.
    fn set_block(&mut self, height: u64, time_ms: u64);

    /// Run `instantiate` with JSON `args`.
    fn instantiate(&mut self, caller: Address, args: serde_json::Value) -> Reply {
        self.call(caller, "instantiate", &encode(&args), Mode::Transaction)
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

impl<H: Host + ?Sized> Host for Box<H> {
    fn call(&mut self, caller: Address, entry_point: &str, input: &[u8], mode: Mode) -> Reply {
        (**self).call(caller, entry_point, input, mode)
    }

    fn state(&self) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        (**self).state()
    }

    fn set_block(&mut self, height: u64, time_ms: u64) {
        (**self).set_block(height, time_ms)
    }
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

/// Runs a built `.wasm` contract through the node's runtime, reporting fuel.
pub struct WasmHost {
    runtime: vellum_runtime::Runtime,
    contract: Arc<vellum_runtime::Contract>,
    storage: vellum_runtime::MemoryStorage,
    block: (u64, u64),
}

impl WasmHost {
    /// Prepare `wasm` on a fresh runtime with empty state.
    pub fn new(wasm: &[u8]) -> Result<Self, String> {
        let runtime = vellum_runtime::Runtime::new(vellum_runtime::RuntimeConfig::default())
            .map_err(|e| e.to_string())?;
        let contract = runtime.prepare(wasm).map_err(|e| e.to_string())?;
        Ok(Self {
            runtime,
            contract,
            storage: vellum_runtime::MemoryStorage::new(),
            block: DEFAULT_BLOCK,
        })
    }

    /// Load and prepare the `.wasm` file at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, String> {
        let path = path.as_ref();
        let wasm =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::new(&wasm)
    }
}

impl Host for WasmHost {
    fn call(&mut self, caller: Address, entry_point: &str, input: &[u8], mode: Mode) -> Reply {
        use vellum_runtime::Outcome;
        let call = vellum_runtime::Call {
            entry_point,
            input,
            context: vellum_runtime::Context {
                caller: caller.0,
                contract: CONTRACT_ADDRESS.0,
                block_height: self.block.0,
                block_time_ms: self.block.1,
            },
            fuel_limit: FUEL_LIMIT,
            mode: match mode {
                Mode::Transaction => vellum_runtime::Mode::Transaction,
                Mode::Query => vellum_runtime::Mode::Query,
            },
        };
        let storage = Arc::new(self.storage.clone());
        let execution = match self.runtime.execute(&self.contract, call, storage) {
            Ok(execution) => execution,
            Err(error) => panic!("the runtime failed (not the contract): {error}"),
        };
        let result = match execution.outcome {
            Outcome::Success(output) => Ok(output),
            Outcome::ContractError { code, message } => {
                Err(Failure::Contract(Error { code, message }))
            }
            Outcome::Trap(kind) => Err(Failure::Trap(kind.to_string())),
            Outcome::OutOfFuel => Err(Failure::Trap("out of fuel".to_string())),
        };
        if result.is_ok() {
            self.storage.apply(&execution.writes);
        }
        let events = execution
            .events
            .into_iter()
            .map(|e| Event {
                topic: String::from_utf8_lossy(&e.topic).into_owned(),
                data: e.data,
            })
            .collect();
        Reply {
            result,
            events,
            fuel_used: Some(execution.fuel_used),
        }
    }

    fn state(&self) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        self.storage.entries()
    }

    fn set_block(&mut self, height: u64, time_ms: u64) {
        self.block = (height, time_ms);
    }
}

/// One recorded call.
#[derive(Clone, Debug)]
pub struct Step {
    /// The entry point called.
    pub entry_point: String,
    /// What it returned.
    pub reply: Reply,
}

/// Drives a [`Host`] and records every call, so that a scenario run on [`TestHost`] and on
/// [`WasmHost`] can be compared step by step ([`assert_equivalent`]) and its fuel tabulated
/// ([`fuel_table`]).
pub struct Recorder<H> {
    /// The host being driven.
    pub host: H,
    /// Every call so far, in order.
    pub steps: Vec<Step>,
}

impl<H: Host> Recorder<H> {
    /// Start recording on `host`.
    pub fn new(host: H) -> Self {
        Self {
            host,
            steps: Vec::new(),
        }
    }

    fn record(&mut self, entry_point: String, reply: Reply) -> Reply {
        self.steps.push(Step {
            entry_point,
            reply: reply.clone(),
        });
        reply
    }

    /// [`Host::instantiate`], recorded.
    pub fn instantiate(&mut self, caller: Address, args: serde_json::Value) -> Reply {
        let reply = self.host.instantiate(caller, args);
        self.record("instantiate".to_string(), reply)
    }

    /// [`Host::execute`], recorded.
    pub fn execute(&mut self, caller: Address, method: &str, args: serde_json::Value) -> Reply {
        let reply = self.host.execute(caller, method, args);
        self.record(format!("execute.{method}"), reply)
    }

    /// [`Host::query`], recorded.
    pub fn query(&mut self, method: &str, args: serde_json::Value) -> Reply {
        let reply = self.host.query(method, args);
        self.record(format!("query.{method}"), reply)
    }

    /// [`Host::set_block`].
    pub fn set_block(&mut self, height: u64, time_ms: u64) {
        self.host.set_block(height, time_ms);
    }
}

/// Assert that two runs of one scenario agree on every call's result and events, and on the final
/// state. Contract errors must match exactly; traps match as traps (their wording differs between
/// a native panic and a wasm trap).
#[track_caller]
pub fn assert_equivalent(a: &Recorder<impl Host>, b: &Recorder<impl Host>) {
    assert_eq!(
        a.steps.len(),
        b.steps.len(),
        "the runs made different numbers of calls"
    );
    for (index, (x, y)) in a.steps.iter().zip(&b.steps).enumerate() {
        let same_result = match (&x.reply.result, &y.reply.result) {
            (Err(Failure::Trap(_)), Err(Failure::Trap(_))) => true,
            (left, right) => left == right,
        };
        assert!(
            same_result,
            "call {index} ({}) differs:\n  {:?}\n  {:?}",
            x.entry_point, x.reply.result, y.reply.result
        );
        assert_eq!(
            x.reply.events, y.reply.events,
            "call {index} ({}) emitted different events",
            x.entry_point
        );
    }
    assert_eq!(
        a.host.state(),
        b.host.state(),
        "the runs ended in different states"
    );
}

/// A Markdown table of the fuel each entry point used in successful calls of a recorded wasm run:
/// the lowest and highest figure and how many calls were measured.
pub fn fuel_table(run: &Recorder<impl Host>) -> String {
    let mut by_entry: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for step in &run.steps {
        if let (Ok(_), Some(fuel)) = (&step.reply.result, step.reply.fuel_used) {
            by_entry.entry(&step.entry_point).or_default().push(fuel);
        }
    }
    let mut table = String::from(
        "| entry point | fuel (min) | fuel (max) | calls measured |\n|---|---:|---:|---:|\n",
    );
    for (entry, fuels) in by_entry {
        let (min, max) = (fuels.iter().min(), fuels.iter().max());
        if let (Some(min), Some(max)) = (min, max) {
            table.push_str(&format!(
                "| `{entry}` | {min} | {max} | {} |\n",
                fuels.len()
            ));
        }
    }
    table
}

/// Check that the README at `path` holds `table` between the lines `<!-- fuel:begin -->` and
/// `<!-- fuel:end -->`; with the environment variable `UPDATE_FUEL_TABLES=1`, write it there
/// instead. Fuel figures in documentation are thereby always measured, never typed.
#[track_caller]
pub fn check_fuel_table(path: impl AsRef<Path>, table: &str) {
    const BEGIN: &str = "<!-- fuel:begin -->\n";
    const END: &str = "<!-- fuel:end -->";
    let path = path.as_ref();
    let readme = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let (Some(start), Some(end)) = (readme.find(BEGIN), readme.find(END)) else {
        panic!("{} has no {BEGIN:?} ... {END:?} markers", path.display());
    };
    let current = &readme[start + BEGIN.len()..end];
    if current == table {
        return;
    }
    if std::env::var("UPDATE_FUEL_TABLES").as_deref() == Ok("1") {
        let updated = format!("{}{BEGIN}{table}{}", &readme[..start], &readme[end..]);
        if let Err(e) = std::fs::write(path, updated) {
            panic!("cannot write {}: {e}", path.display());
        }
        return;
    }
    panic!(
        "the fuel table in {} is out of date; rerun with UPDATE_FUEL_TABLES=1 to refresh it.\nmeasured:\n{table}",
        path.display()
    );
}

/// The check every contract's tests make: run `scenario` on contract `C` natively and on its built
/// `artifact`, assert the two runs agree call by call, and assert the fuel table in `readme` is the
/// one the artifact run measured (see [`check_fuel_table`]).
#[track_caller]
pub fn check_artifact<C: Contract + 'static>(
    artifact: impl AsRef<Path>,
    readme: impl AsRef<Path>,
    scenario: fn(&mut Recorder<Box<dyn Host>>),
) {
    let mut native = Recorder::new(Box::new(TestHost::<C>::new()) as Box<dyn Host>);
    scenario(&mut native);
    let wasm = match WasmHost::from_file(artifact.as_ref()) {
        Ok(host) => host,
        Err(error) => panic!("{error}"),
    };
    let mut wasm = Recorder::new(Box::new(wasm) as Box<dyn Host>);
    scenario(&mut wasm);
    assert_equivalent(&native, &wasm);
    check_fuel_table(readme, &fuel_table(&wasm));
}

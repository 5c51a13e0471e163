//! Cross-contract calls (ABI v2 `call`, `docs/abi.md` §3 "Calls"): one contract runs another's
//! `execute.*` or `query.*` entry point and gets its result, or how it failed.
//!
//! A call tree runs as nested frames, each with its own wasmtime store and instance. A calling
//! frame is suspended while its callee runs: its pending writes (its own contract's and those its
//! earlier callees left it) move into a [`Layer`] that the callee reads through, so the callee
//! sees everything the transaction has done so far. When the callee ends, the layer moves back;
//! if the callee succeeded, its writes (by contract) and events join the caller's, and otherwise
//! they are dropped. Nothing reaches the host's state until the top frame succeeds.
//!
//! Each callee runs on a thread of its own, with a stack of
//! [`HOST_STACK_BYTES_MIN`](crate::engine::HOST_STACK_BYTES_MIN): wasmtime bounds the native
//! stack of each store, so frames nested on one thread would need that much stack per level of
//! depth on whatever thread the host happened to use. The caller waits for it: the tree runs one
//! frame at a time, and its result does not depend on thread timing.

use crate::{
    abi::{
        charge_price, ensure_within, invalid, read, stop, Address, CallState, CallStatus, Ctx,
        MODULE,
    },
    engine::HOST_STACK_BYTES_MIN,
    outcome::{Outcome, TrapKind},
    runtime::{ExecuteError, Finished, Frame},
    storage::{Entry, MemoryStorage, Order, Overlay, Storage, StorageError},
    CodeHash, Context,
};
use std::{collections::BTreeMap, ops::Bound, sync::Arc};
use wasmtime::Linker;

/// What a call tree may reach beyond its first contract: the code and committed storage of every
/// contract, as the host serves them. The runtime asks for a contract's code only on a miss of
/// its module cache, and never writes.
pub trait World: Send + Sync {
    /// The code hash of the contract at `address`, or `None` if there is none.
    fn code_hash(&self, address: &Address) -> Result<Option<CodeHash>, StorageError>;

    /// The wasm whose hash is `hash` (one [`World::code_hash`] returned).
    fn code(&self, hash: &CodeHash) -> Result<Vec<u8>, StorageError>;

    /// The storage of the contract at `address`, scoped to it.
    fn storage(&self, address: &Address) -> Arc<dyn Storage>;
}

/// The world of [`Runtime::execute`](crate::Runtime::execute): one contract's storage, and no
/// other contract.
pub(crate) struct Alone {
    pub(crate) contract: Address,
    pub(crate) storage: Arc<dyn Storage>,
}

impl World for Alone {
    fn code_hash(&self, _: &Address) -> Result<Option<CodeHash>, StorageError> {
        Ok(None)
    }

    fn code(&self, hash: &CodeHash) -> Result<Vec<u8>, StorageError> {
        Err(StorageError(
            format!("no code {hash} in a one-contract world").into(),
        ))
    }

    fn storage(&self, address: &Address) -> Arc<dyn Storage> {
        match *address == self.contract {
            true => self.storage.clone(),
            false => Arc::new(MemoryStorage::new()),
        }
    }
}

/// The pending state of a suspended frame, read by the frames it called.
pub(crate) struct Layer {
    contract: Address,
    own: Overlay,
    /// Never holds `contract`.
    others: BTreeMap<Address, Overlay>,
    below: Below,
}

/// What lies under a frame.
#[derive(Clone)]
pub(crate) enum Below {
    /// The host's state: under the top frame.
    World(Arc<dyn World>),
    /// The suspended frame that called this one.
    Layer(Arc<Layer>),
}

impl Below {
    /// The storage of the contract at `address` as a frame standing here sees it: the pending
    /// writes of the nearest suspended frame holding any for it, else the world's.
    pub(crate) fn view(&self, address: &Address) -> Arc<dyn Storage> {
        let mut below = self;
        loop {
            match below {
                Below::World(world) => return world.storage(address),
                Below::Layer(layer) => {
                    if layer.contract == *address || layer.others.contains_key(address) {
                        return Arc::new(LayerView {
                            layer: layer.clone(),
                            address: *address,
                        });
                    }
                    below = &layer.below;
                }
            }
        }
    }

    fn world(&self) -> &Arc<dyn World> {
        let mut below = self;
        loop {
            match below {
                Below::World(world) => return world,
                Below::Layer(layer) => below = &layer.below,
            }
        }
    }
}

/// One contract's pending writes in a suspended frame, over what lies under that frame.
struct LayerView {
    layer: Arc<Layer>,
    address: Address,
}

impl LayerView {
    fn overlay(&self) -> &Overlay {
        self.layer
            .others
            .get(&self.address)
            .unwrap_or(&self.layer.own)
    }
}

impl Storage for LayerView {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.overlay().get(key)
    }

    fn first(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        order: Order,
    ) -> Result<Option<Entry>, StorageError> {
        Storage::first(self.overlay(), lower, upper, order)
    }
}

/// The value buffer's content for a status, and the status as the guest receives it.
fn answer(caller: &mut Ctx<'_>, status: CallStatus, buffer: Vec<u8>) -> i32 {
    caller.data_mut().value_buffer = Some(buffer);
    status as i32
}

/// Define `call` in `linker`.
pub(crate) fn link(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        MODULE,
        "call",
        |mut caller: Ctx<'_>,
         address_ptr: i32,
         entry_ptr: i32,
         entry_len: i32,
         input_ptr: i32,
         input_len: i32,
         fuel: i64| {
            const FUNCTION: &str = "call";
            let limits = &caller.data().schedule.limits;
            let entry_bytes = ensure_within(
                "call entry point bytes",
                entry_len,
                limits.call_entry_point_bytes_max,
            )?;
            let input_bytes =
                ensure_within("call input bytes", input_len, limits.call_input_bytes_max)?;
            charge_price(
                &mut caller,
                |s| s.costs.call,
                32 + entry_bytes + input_bytes,
            )?;
            let address: Address = read(&caller, FUNCTION, address_ptr, 32)?
                .try_into()
                .map_err(|_| invalid(FUNCTION, "an address is 32 bytes"))?;
            let entry = String::from_utf8(read(&caller, FUNCTION, entry_ptr, entry_len)?)
                .map_err(|_| invalid(FUNCTION, "the entry point name is not UTF-8"))?;
            if !(entry.starts_with("execute.") || entry.starts_with("query.")) {
                return Err(invalid(
                    FUNCTION,
                    "only `execute.*` and `query.*` entry points may be called",
                ));
            }
            let input = read(&caller, FUNCTION, input_ptr, input_len)?;
            nested(&mut caller, address, &entry, input, fuel as u64)
        },
    )?;
    Ok(())
}

/// Run the callee and fold what it did into the caller.
fn nested(
    caller: &mut Ctx<'_>,
    address: Address,
    entry_point: &str,
    input: Vec<u8>,
    fuel_requested: u64,
) -> wasmtime::Result<i32> {
    let state = caller.data();
    if state.stack.len() as u64 > u64::from(state.schedule.limits.call_depth_max) {
        return Ok(answer(caller, CallStatus::DepthExceeded, Vec::new()));
    }
    let world = state.below.world().clone();
    let Some(hash) = world.code_hash(&address).map_err(stop)? else {
        return Ok(answer(caller, CallStatus::NoContract, Vec::new()));
    };
    let runtime = state.runtime.clone();
    let contract = match runtime.cached(&hash) {
        Some(contract) => contract,
        None => {
            let code = world.code(&hash).map_err(stop)?;
            // Code on chain passed these checks when it was deployed: failing now is this
            // node's fault, not the caller's.
            runtime.prepare(&code).map_err(|error| {
                stop(ExecuteError::Engine(format!(
                    "stored code {hash} does not prepare: {error}"
                )))
            })?
        }
    };
    if state.stack.contains(&address) && !contract.reentrant {
        return Ok(answer(caller, CallStatus::Reentrancy, Vec::new()));
    }
    let left = match state.metered {
        true => caller.get_fuel()?,
        false => u64::MAX,
    };
    let fuel_limit = fuel_requested.min(left);

    // Suspend the caller: its pending state moves under the callee.
    let state = caller.data_mut();
    let context = Context {
        caller: state.context.contract,
        contract: address,
        block_height: state.context.block_height,
        block_time_ms: state.context.block_time_ms,
    };
    let mut stack = state.stack.clone();
    stack.push(address);
    let read_only = state.read_only || entry_point.starts_with("query.");
    let events_max = state.events_max.saturating_sub(state.events.len());
    let layer = Arc::new(Layer {
        contract: state.context.contract,
        own: std::mem::replace(
            &mut state.overlay,
            Overlay::new(Arc::new(MemoryStorage::new())),
        ),
        others: std::mem::take(&mut state.others),
        below: state.below.clone(),
    });
    let frame = Frame {
        entry_point,
        input,
        context,
        fuel_limit,
        read_only,
        below: Below::Layer(layer.clone()),
        stack,
        events_max,
    };
    let finished = std::thread::scope(|scope| {
        let callee = std::thread::Builder::new()
            .name("vellum-call".into())
            .stack_size(HOST_STACK_BYTES_MIN)
            .spawn_scoped(scope, || runtime.run_frame(&contract, frame))
            .map_err(|e| ExecuteError::Engine(format!("cannot start a nested call: {e}")))?;
        callee
            .join()
            .map_err(|_| ExecuteError::Engine("a nested call panicked".into()))?
    });

    // Resume the caller: every view of its layer ended with the callee's frame.
    let layer = Arc::try_unwrap(layer).map_err(|_| {
        stop(ExecuteError::Engine(
            "a finished call still reads its caller's state".into(),
        ))
    })?;
    let state = caller.data_mut();
    state.overlay = layer.own;
    state.others = layer.others;
    let finished = finished.map_err(stop)?;
    fold(caller, left, finished)
}

/// Charge the callee's fuel to the caller and keep what a successful callee did.
fn fold(caller: &mut Ctx<'_>, left: u64, finished: Finished) -> wasmtime::Result<i32> {
    let Finished {
        outcome,
        fuel_used,
        events,
        writes,
        debug_log,
    } = finished;
    let state = caller.data_mut();
    let lines_max = state.schedule.limits.debug_lines_max;
    let room = lines_max.saturating_sub(state.debug_log.len());
    state.debug_log.extend(debug_log.into_iter().take(room));
    if state.metered {
        caller.set_fuel(left.saturating_sub(fuel_used))?;
    }
    let output = match outcome {
        Outcome::Success(output) => output,
        Outcome::ContractError { code, message } => {
            let mut buffer = code.to_be_bytes().to_vec();
            buffer.extend_from_slice(message.as_bytes());
            return Ok(answer(caller, CallStatus::ContractError, buffer));
        }
        Outcome::Trap(kind) => {
            let text = kind.to_string().into_bytes();
            return Ok(answer(caller, CallStatus::Trap, text));
        }
        Outcome::OutOfFuel => return Ok(answer(caller, CallStatus::OutOfFuel, Vec::new())),
    };
    let state = caller.data_mut();
    // The callee's budget was what this call had left; checked again all the same.
    let events_max = state.events_max;
    let total = state.events.len() + events.len();
    if total > events_max {
        return Err(stop(TrapKind::LimitExceeded {
            what: "events",
            found: total as u64,
            max: events_max as u64,
        }));
    }
    state.events.extend(events);
    let own = state.context.contract;
    for (address, writes) in writes {
        match address == own {
            true => state.overlay.apply(&writes),
            false => {
                let below = &state.below;
                state
                    .others
                    .entry(address)
                    .or_insert_with(|| Overlay::new(below.view(&address)))
                    .apply(&writes)
            }
        }
    }
    Ok(answer(caller, CallStatus::Success, output))
}

//! The runtime: deploy-time preparation and call execution.

use crate::{
    abi::{self, Address, CallState, Context, HostStop},
    cache::{CodeHash, Contract, ModuleCache},
    call::{Alone, Below, World},
    engine::{self, MemoryReset, Metering},
    instrument::{self, InstrumentError, STACK_EXPORT},
    outcome::{Event, Execution, Outcome, TrapKind},
    schedule::Schedule,
    storage::{Overlay, Storage, StorageError, Write},
    validate::{self, ModuleInfo, ValidationError},
};
use std::{collections::BTreeMap, path::PathBuf, sync::Arc};
use wasmtime::{Engine, Instance, Linker, Module, Store, Trap};

/// How to build a [`Runtime`].
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Limits and prices; every node of a network must use the same one.
    pub schedule: Schedule,
    /// Always [`Metering::On`] outside benchmarks.
    pub metering: Metering,
    /// How memory is reset between calls (speed only; benchmarks compare the two).
    pub memory_reset: MemoryReset,
    /// Compiled code kept in memory, in bytes.
    pub cache_code_bytes_max: usize,
    /// Where to keep compiled artifacts across restarts (the node's own data directory: artifacts
    /// are machine code and are trusted as such). `None` keeps them in memory only.
    pub artifact_dir: Option<PathBuf>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            schedule: Schedule::v2(),
            metering: Metering::On,
            memory_reset: MemoryReset::DirtyPages,
            cache_code_bytes_max: 256 * 1024 * 1024,
            artifact_dir: None,
        }
    }
}

/// Whether a call may change state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Part of a transaction: writes and events take effect if the call succeeds.
    Transaction,
    /// A read-only query: any write or event traps with [`TrapKind::ReadOnly`].
    Query,
}

/// One call of a contract entry point.
#[derive(Clone, Debug)]
pub struct Call<'a> {
    /// The exported function to run.
    pub entry_point: &'a str,
    /// The bytes `input_read` returns.
    pub input: &'a [u8],
    /// Caller, contract and block.
    pub context: Context,
    /// Fuel the call may consume.
    pub fuel_limit: u64,
    /// Transaction or query.
    pub mode: Mode,
}

/// Building the engine failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the wasm engine: {0}")]
pub struct EngineError(String);

/// A module could not be prepared for execution.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The module breaks a validation rule: the deploy is rejected.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Instrumentation failed on a valid module (a runtime defect).
    #[error(transparent)]
    Instrument(#[from] InstrumentError),
    /// wasmtime could not compile a valid module.
    #[error("compiling the module failed: {0}")]
    Compile(String),
}

/// A call could not be carried out, so there is no deterministic outcome to record. The node must
/// treat these as its own failure (retry, or halt), never as the transaction's.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    /// The host's storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Instantiation failed for a host reason (for example all pooled instance slots are in use).
    #[error("instantiation failed: {0}")]
    Instantiate(String),
    /// Any other failure inside wasmtime.
    #[error("wasm engine failure: {0}")]
    Engine(String),
}

/// Deterministic, fuel-metered execution of Vellum contracts.
pub struct Runtime {
    inner: Arc<Inner>,
}

/// The runtime proper, shared with the calls it runs so that a cross-contract `call` can run its
/// callee on the same engine, linker and cache.
pub(crate) struct Inner {
    engine: Engine,
    linker: Linker<CallState>,
    pub(crate) schedule: Arc<Schedule>,
    pub(crate) metering: Metering,
    cache: ModuleCache,
    artifact_dir: Option<PathBuf>,
}

impl Runtime {
    /// Build a runtime.
    pub fn new(config: RuntimeConfig) -> Result<Self, EngineError> {
        let engine = engine::build(&config.schedule, config.metering, config.memory_reset)
            .map_err(|e| EngineError(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        abi::link(&mut linker).map_err(|e| EngineError(format!("{e:#}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                engine,
                linker,
                schedule: Arc::new(config.schedule),
                metering: config.metering,
                cache: ModuleCache::new(config.cache_code_bytes_max),
                artifact_dir: config.artifact_dir,
            }),
        })
    }

    /// The schedule this runtime enforces.
    pub fn schedule(&self) -> &Schedule {
        &self.inner.schedule
    }

    /// Check a module against the deploy rules without compiling it.
    pub fn validate(&self, wasm: &[u8]) -> Result<ModuleInfo, ValidationError> {
        validate::validate(wasm, &self.inner.schedule.limits)
    }

    /// The compiled contract for `hash`, if it is cached in memory.
    pub fn cached(&self, hash: &CodeHash) -> Option<Arc<Contract>> {
        self.inner.cache.get(hash)
    }

    /// Number of contracts in the in-memory cache.
    pub fn cached_count(&self) -> usize {
        self.inner.cache.len()
    }

    /// Validate, instrument and compile `wasm` (or load its artifact), and cache the result.
    pub fn prepare(&self, wasm: &[u8]) -> Result<Arc<Contract>, PrepareError> {
        self.inner.prepare(wasm)
    }

    /// Run `call` against `storage`, the contract's own: a cross-contract `call` from it finds
    /// no contract. Deterministic failures of the contract are an [`Outcome`]; an `Err` means the
    /// host could not complete the call and nothing may be recorded.
    pub fn execute(
        &self,
        contract: &Contract,
        call: Call<'_>,
        storage: Arc<dyn Storage>,
    ) -> Result<Execution, ExecuteError> {
        let world = Arc::new(Alone {
            contract: call.context.contract,
            storage,
        });
        self.execute_in(contract, call, world)
    }

    /// Run `call` in `world`, which serves the code and storage of every contract the call tree
    /// reaches (see [`World`]). As [`Runtime::execute`] otherwise.
    pub fn execute_in(
        &self,
        contract: &Contract,
        call: Call<'_>,
        world: Arc<dyn World>,
    ) -> Result<Execution, ExecuteError> {
        let address = call.context.contract;
        let frame = self.inner.run_frame(
            contract,
            Frame {
                entry_point: call.entry_point,
                input: call.input.to_vec(),
                context: call.context,
                fuel_limit: call.fuel_limit,
                read_only: call.mode == Mode::Query,
                below: Below::World(world),
                stack: vec![address],
                events_max: self.inner.schedule.limits.events_max,
            },
        )?;
        let (writes, other_writes) = match frame.outcome.is_success() {
            true => {
                let mut writes = frame.writes;
                let own = writes.remove(&address).unwrap_or_default();
                (own, writes.into_iter().collect())
            }
            false => (Vec::new(), Vec::new()),
        };
        Ok(Execution {
            outcome: frame.outcome,
            fuel_used: frame.fuel_used,
            events: frame.events,
            writes,
            other_writes,
            debug_log: frame.debug_log,
        })
    }
}

/// One frame of a call tree, before it runs.
pub(crate) struct Frame<'a> {
    pub(crate) entry_point: &'a str,
    pub(crate) input: Vec<u8>,
    pub(crate) context: Context,
    pub(crate) fuel_limit: u64,
    pub(crate) read_only: bool,
    /// The state under it: the world, or the suspended frames that called it.
    pub(crate) below: Below,
    /// The contracts on the call stack, this frame's last.
    pub(crate) stack: Vec<Address>,
    /// Events it may emit (see `CallState::events_max`).
    pub(crate) events_max: usize,
}

/// What a frame did. Writes and events are empty unless it succeeded; the writes are by contract,
/// and hold no reference to the state under the frame.
pub(crate) struct Finished {
    pub(crate) outcome: Outcome,
    pub(crate) fuel_used: u64,
    pub(crate) events: Vec<Event>,
    pub(crate) writes: BTreeMap<Address, Vec<Write>>,
    pub(crate) debug_log: Vec<String>,
}

impl Inner {
    pub(crate) fn cached(&self, hash: &CodeHash) -> Option<Arc<Contract>> {
        self.cache.get(hash)
    }

    /// Validate, instrument and compile `wasm` (or load its artifact), and cache the result.
    pub(crate) fn prepare(&self, wasm: &[u8]) -> Result<Arc<Contract>, PrepareError> {
        let hash = CodeHash::of(wasm);
        if let Some(contract) = self.cache.get(&hash) {
            return Ok(contract);
        }
        // Validation always runs (it is cheap next to compiling), so a cached artifact can never
        // admit a module the current rules reject.
        let info = validate::validate(wasm, &self.schedule.limits)?;
        let module = match self.load_artifact(&hash) {
            Some(module) => module,
            None => {
                let metered =
                    instrument::instrument(wasm, &info, self.schedule.limits.stack_slots_max)?;
                let module = Module::new(&self.engine, &metered)
                    .map_err(|e| PrepareError::Compile(format!("{e:#}")))?;
                self.store_artifact(&hash, &module);
                module
            }
        };
        let image = module.image_range();
        let code_bytes = (image.end as usize).saturating_sub(image.start as usize);
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| PrepareError::Compile(format!("{e:#}")))?;
        let contract = Arc::new(Contract {
            hash,
            pre,
            entry_points: info.entry_points,
            reentrant: info.reentrant,
            code_bytes,
        });
        self.cache.insert(contract.clone());
        Ok(contract)
    }

    fn artifact_path(&self, hash: &CodeHash) -> Option<PathBuf> {
        let dir = self.artifact_dir.as_ref()?;
        // The name carries everything that shapes the compiled code besides the engine (which
        // wasmtime checks itself): the schedule (stack budget) and the instrumentation pass.
        let version = self.schedule.version;
        let pass = instrument::INSTRUMENT_VERSION;
        Some(dir.join(format!("{hash}-s{version}-i{pass}.cwasm")))
    }

    fn load_artifact(&self, hash: &CodeHash) -> Option<Module> {
        let path = self.artifact_path(hash)?;
        // Read, not mapped: a mapped file truncated by anyone else would crash the node (SIGBUS).
        let bytes = std::fs::read(path).ok()?;
        // SAFETY: artifacts are written only by `store_artifact` into the node's own data
        // directory, from modules this runtime validated and compiled; wasmtime itself rejects an
        // artifact built by another engine version or configuration (we then recompile).
        #[allow(unsafe_code)]
        let module = unsafe { Module::deserialize(&self.engine, bytes) };
        module.ok()
    }

    fn store_artifact(&self, hash: &CodeHash, module: &Module) {
        let Some(path) = self.artifact_path(hash) else {
            return;
        };
        // Best effort: a missing artifact only costs a recompilation. Written to a temporary
        // name and renamed so a crash never leaves a truncated artifact under the real name.
        let Ok(bytes) = module.serialize() else {
            return;
        };
        let temporary = path.with_extension("cwasm.tmp");
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if std::fs::write(&temporary, bytes).is_ok() {
            let _ = std::fs::rename(&temporary, &path);
        }
    }

    /// Run one frame of a call tree to its end, on the current thread.
    pub(crate) fn run_frame(
        self: &Arc<Self>,
        contract: &Contract,
        frame: Frame<'_>,
    ) -> Result<Finished, ExecuteError> {
        let metered = self.metering == Metering::On;
        let own = Overlay::new(frame.below.view(&frame.context.contract));
        let state = CallState::new(
            self.clone(),
            metered,
            frame.context,
            frame.input,
            frame.read_only,
            own,
            frame.below,
            frame.stack,
            frame.events_max,
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.growth);
        if metered {
            store
                .set_fuel(frame.fuel_limit)
                .map_err(|e| ExecuteError::Engine(format!("{e:#}")))?;
        }
        let outcome = if let Some(slots) = contract.entry_points.get(frame.entry_point) {
            self.run(contract, frame.entry_point, *slots, &mut store)?
        } else {
            Outcome::Trap(TrapKind::NoSuchEntryPoint(frame.entry_point.to_string()))
        };
        let fuel_used = match (metered, &outcome) {
            (false, _) => 0,
            (true, Outcome::OutOfFuel) => frame.fuel_limit,
            (true, _) => {
                let left = store
                    .get_fuel()
                    .map_err(|e| ExecuteError::Engine(format!("{e:#}")))?;
                frame.fuel_limit - left
            }
        };
        let state = store.into_data();
        let (events, writes) = match outcome.is_success() {
            true => {
                let contract = state.context.contract;
                let mut writes: BTreeMap<Address, Vec<Write>> = state
                    .others
                    .into_iter()
                    .map(|(address, overlay)| (address, overlay.into_writes()))
                    .collect();
                writes.insert(contract, state.overlay.into_writes());
                (state.events, writes)
            }
            false => (Vec::new(), BTreeMap::new()),
        };
        Ok(Finished {
            outcome,
            fuel_used,
            events,
            writes,
            debug_log: state.debug_log,
        })
    }

    fn run(
        &self,
        contract: &Contract,
        entry_point: &str,
        entry_frame: u32,
        store: &mut Store<CallState>,
    ) -> Result<Outcome, ExecuteError> {
        let instance = match contract.pre.instantiate(&mut *store) {
            Ok(instance) => instance,
            Err(error) if error.downcast_ref::<Trap>().is_some() => {
                return self.classify(error, store, None)
            }
            Err(error) => return Err(ExecuteError::Instantiate(format!("{error:#}"))),
        };
        let memory = instance
            .get_memory(&mut *store, validate::MEMORY_EXPORT)
            .ok_or_else(|| ExecuteError::Engine("validated contract lost its memory".into()))?;
        store.data_mut().memory = Some(memory);
        // The entry point's own frame counts against the stack budget like any callee's.
        let stack = instance
            .get_global(&mut *store, STACK_EXPORT)
            .ok_or_else(|| {
                ExecuteError::Engine("instrumented contract lost its stack global".into())
            })?;
        stack
            .set(&mut *store, wasmtime::Val::I32(entry_frame as i32))
            .map_err(|e| ExecuteError::Engine(format!("{e:#}")))?;
        let function = instance
            .get_typed_func::<(), ()>(&mut *store, entry_point)
            .map_err(|e| ExecuteError::Engine(format!("{e:#}")))?;
        match function.call(&mut *store, ()) {
            Ok(()) => Ok(Outcome::Success(std::mem::take(
                &mut store.data_mut().return_data,
            ))),
            Err(error) => self.classify(error, store, Some(instance)),
        }
    }

    /// Turn a wasmtime error into the call's outcome, or into a host failure.
    fn classify(
        &self,
        error: wasmtime::Error,
        store: &mut Store<CallState>,
        instance: Option<Instance>,
    ) -> Result<Outcome, ExecuteError> {
        let error = match error.downcast::<HostStop>() {
            Ok(HostStop::OutOfFuel) => return Ok(Outcome::OutOfFuel),
            Ok(HostStop::Abort { code, message }) => {
                return Ok(Outcome::ContractError { code, message })
            }
            Ok(HostStop::Trap(kind)) => return Ok(Outcome::Trap(kind)),
            Ok(HostStop::Storage(error)) => return Err(ExecuteError::Storage(error)),
            Ok(HostStop::Host(error)) => return Err(error),
            Err(error) => error,
        };
        let Some(trap) = error.downcast_ref::<Trap>() else {
            return Err(ExecuteError::Engine(format!("{error:#}")));
        };
        let stack_used = || {
            instance
                .and_then(|i| i.get_global(&mut *store, STACK_EXPORT))
                .and_then(|g| g.get(&mut *store).i32())
                .map_or(0, |v| v as u32)
        };
        let Some(kind) = trap_kind(*trap, stack_used, self.schedule.limits.stack_slots_max) else {
            return Ok(Outcome::OutOfFuel);
        };
        Ok(Outcome::Trap(kind))
    }
}

/// What a receipt says of wasmtime's `trap`: `None` for running out of fuel. `stack_used` is
/// asked only for `unreachable`, which is also how the stack budget's instrumentation stops a
/// call that passes `stack_max` slots.
fn trap_kind(trap: Trap, stack_used: impl FnOnce() -> u32, stack_max: u32) -> Option<TrapKind> {
    Some(match trap {
        Trap::OutOfFuel => return None,
        Trap::StackOverflow => TrapKind::NativeStackExhausted,
        Trap::UnreachableCodeReached if stack_used() > stack_max => TrapKind::StackExhausted,
        Trap::UnreachableCodeReached => TrapKind::Unreachable,
        Trap::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
        Trap::IntegerDivisionByZero => TrapKind::IntegerDivisionByZero,
        Trap::IntegerOverflow => TrapKind::IntegerOverflow,
        Trap::BadConversionToInteger => TrapKind::InvalidConversion,
        Trap::IndirectCallToNull => TrapKind::IndirectCallToNull,
        Trap::BadSignature => TrapKind::IndirectCallSignature,
        Trap::TableOutOfBounds => TrapKind::TableOutOfBounds,
        _ => TrapKind::Unsupported,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trap_outside_the_admitted_features_reads_the_same_whatever_the_engine_says() {
        // Traps of features validation refuses (threads, GC, components): what wasmtime calls
        // them must not reach a receipt.
        for trap in [
            Trap::HeapMisaligned,
            Trap::AtomicWaitNonSharedMemory,
            Trap::NullReference,
            Trap::ArrayOutOfBounds,
            Trap::AllocationTooLarge,
            Trap::CastFailure,
        ] {
            let kind = trap_kind(trap, || 0, 0).expect("a trap");
            assert_eq!(kind, TrapKind::Unsupported, "{trap:?}");
            assert_eq!(
                kind.to_string(),
                "a trap outside the wasm features Vellum admits"
            );
        }
        assert_eq!(trap_kind(Trap::OutOfFuel, || 0, 0), None);
        assert_eq!(
            trap_kind(Trap::UnreachableCodeReached, || 9, 8),
            Some(TrapKind::StackExhausted)
        );
        assert_eq!(
            trap_kind(Trap::UnreachableCodeReached, || 8, 8),
            Some(TrapKind::Unreachable)
        );
    }
}

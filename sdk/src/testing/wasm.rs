//! [`WasmHost`]: a built contract run through the node's own runtime, with fuel.

use super::{Event, Failure, Host, Mode, Reply, CONTRACT_ADDRESS, DEFAULT_BLOCK, FUEL_LIMIT};
use crate::{Address, Error};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    string::{String, ToString},
    sync::Arc,
    vec::Vec,
};

/// Why a [`WasmHost`] could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum WasmHostError {
    /// The `.wasm` file cannot be read.
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The runtime's engine cannot be built.
    Engine(vellum_runtime::EngineError),
    /// The module is not a valid contract, or does not compile.
    Prepare(vellum_runtime::PrepareError),
}

impl core::fmt::Display for WasmHostError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WasmHostError::Read { path, .. } => write!(f, "cannot read {}", path.display()),
            WasmHostError::Engine(_) => write!(f, "the wasm engine cannot be built"),
            WasmHostError::Prepare(_) => write!(f, "the module cannot run as a contract"),
        }
    }
}

impl std::error::Error for WasmHostError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WasmHostError::Read { source, .. } => Some(source),
            WasmHostError::Engine(source) => Some(source),
            WasmHostError::Prepare(source) => Some(source),
        }
    }
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
    pub fn new(wasm: &[u8]) -> Result<Self, WasmHostError> {
        let runtime = vellum_runtime::Runtime::new(vellum_runtime::RuntimeConfig::default())
            .map_err(WasmHostError::Engine)?;
        let contract = runtime.prepare(wasm).map_err(WasmHostError::Prepare)?;
        Ok(Self {
            runtime,
            contract,
            storage: vellum_runtime::MemoryStorage::new(),
            block: DEFAULT_BLOCK,
        })
    }

    /// Load and prepare the `.wasm` file at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, WasmHostError> {
        let path = path.as_ref();
        let wasm = std::fs::read(path).map_err(|source| WasmHostError::Read {
            path: path.to_path_buf(),
            source,
        })?;
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

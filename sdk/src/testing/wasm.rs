//! [`WasmHost`]: a built contract run through the node's own runtime, with fuel.

use super::{Event, Failure, Host, Mode, Reply, CONTRACT_ADDRESS, DEFAULT_BLOCK, FUEL_LIMIT};
use crate::{Address, Error};
use std::{
    collections::BTreeMap,
    format,
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

/// Runs a built `.wasm` contract through the node's runtime, reporting fuel. Other contracts
/// can live beside it ([`WasmHost::deploy`]), so calls between contracts run as on a node.
pub struct WasmHost {
    runtime: vellum_runtime::Runtime,
    /// Every contract: its wasm and its prepared module.
    contracts: BTreeMap<Address, (Vec<u8>, Arc<vellum_runtime::Contract>)>,
    storage: BTreeMap<Address, vellum_runtime::MemoryStorage>,
    /// Kept so [`Host::state`] can lend an empty map for a contract that stored nothing.
    empty: BTreeMap<Vec<u8>, Vec<u8>>,
    block: (u64, u64),
}

impl WasmHost {
    /// Prepare `wasm` on a fresh runtime with empty state, at [`CONTRACT_ADDRESS`].
    pub fn new(wasm: &[u8]) -> Result<Self, WasmHostError> {
        let runtime = vellum_runtime::Runtime::new(vellum_runtime::RuntimeConfig::default())
            .map_err(WasmHostError::Engine)?;
        let mut host = Self {
            runtime,
            contracts: BTreeMap::new(),
            storage: BTreeMap::new(),
            empty: BTreeMap::new(),
            block: DEFAULT_BLOCK,
        };
        host.deploy(CONTRACT_ADDRESS, wasm)?;
        Ok(host)
    }

    /// Load and prepare the `.wasm` file at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, WasmHostError> {
        Self::new(&read(path.as_ref())?)
    }

    /// Put another contract at `address` (or replace the code there, keeping its state), for
    /// the contract under test to call. Run its `instantiate` with [`WasmHost::call_at`].
    pub fn deploy(&mut self, address: Address, wasm: &[u8]) -> Result<(), WasmHostError> {
        let prepared = self.runtime.prepare(wasm).map_err(WasmHostError::Prepare)?;
        self.contracts.insert(address, (wasm.to_vec(), prepared));
        Ok(())
    }

    /// [`WasmHost::deploy`] from a `.wasm` file.
    pub fn deploy_file(
        &mut self,
        address: Address,
        path: impl AsRef<Path>,
    ) -> Result<(), WasmHostError> {
        self.deploy(address, &read(path.as_ref())?)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, WasmHostError> {
    std::fs::read(path).map_err(|source| WasmHostError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The host's contracts and state when a call starts.
struct Snapshot {
    code: BTreeMap<[u8; 32], Vec<u8>>,
    storage: BTreeMap<[u8; 32], vellum_runtime::MemoryStorage>,
}

impl vellum_runtime::World for Snapshot {
    fn code_hash(
        &self,
        address: &[u8; 32],
    ) -> Result<Option<vellum_runtime::CodeHash>, vellum_runtime::StorageError> {
        Ok(self
            .code
            .get(address)
            .map(|wasm| vellum_runtime::CodeHash::of(wasm)))
    }

    fn code(
        &self,
        hash: &vellum_runtime::CodeHash,
    ) -> Result<Vec<u8>, vellum_runtime::StorageError> {
        self.code
            .values()
            .find(|wasm| vellum_runtime::CodeHash::of(wasm) == *hash)
            .cloned()
            .ok_or_else(|| vellum_runtime::StorageError(format!("no code {hash}").into()))
    }

    fn storage(&self, address: &[u8; 32]) -> Arc<dyn vellum_runtime::Storage> {
        Arc::new(self.storage.get(address).cloned().unwrap_or_default())
    }
}

impl Host for WasmHost {
    /// Call `entry_point` of the contract at `contract`, as [`Host::call`] calls the one under
    /// test. Panics if there is no contract there.
    fn call_at(
        &mut self,
        contract: Address,
        caller: Address,
        entry_point: &str,
        input: &[u8],
        mode: Mode,
    ) -> Reply {
        use vellum_runtime::Outcome;
        let Some((_, prepared)) = self.contracts.get(&contract) else {
            panic!("no contract at {contract}: deploy it first");
        };
        let call = vellum_runtime::Call {
            entry_point,
            input,
            context: vellum_runtime::Context {
                caller: caller.0,
                contract: contract.0,
                block_height: self.block.0,
                block_time_ms: self.block.1,
            },
            fuel_limit: FUEL_LIMIT,
            mode: match mode {
                Mode::Transaction => vellum_runtime::Mode::Transaction,
                Mode::Query => vellum_runtime::Mode::Query,
            },
        };
        let world = Arc::new(Snapshot {
            code: self
                .contracts
                .iter()
                .map(|(address, (wasm, _))| (address.0, wasm.clone()))
                .collect(),
            storage: self
                .storage
                .iter()
                .map(|(address, storage)| (address.0, storage.clone()))
                .collect(),
        });
        let execution = match self.runtime.execute_in(prepared, call, world) {
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
            self.storage
                .entry(contract)
                .or_default()
                .apply(&execution.writes);
            for (address, writes) in &execution.other_writes {
                self.storage
                    .entry(Address(*address))
                    .or_default()
                    .apply(writes);
            }
        }
        let events = execution
            .events
            .into_iter()
            .map(|e| Event {
                contract: Address(e.contract),
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

    /// The committed state of the contract at `address`.
    fn state_at(&self, address: &Address) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        self.storage
            .get(address)
            .map_or(&self.empty, |s| s.entries())
    }

    fn set_block(&mut self, height: u64, time_ms: u64) {
        self.block = (height, time_ms);
    }
}

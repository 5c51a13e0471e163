//! Compiled contracts, keyed by code hash: compile once, then reuse.
//!
//! Compiling a contract takes milliseconds; instantiating a compiled one from the pool takes
//! microseconds. The cache keeps the most recently used contracts in memory, bounded by the size of
//! their compiled code, and (optionally) keeps serialized artifacts on disk, which load about a
//! thousand times faster than recompiling, so a restarted node is fast from its first block.

use crate::abi::CallState;
use sha3::{Digest, Keccak256};
use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    sync::{Arc, Mutex},
};
use wasmtime::InstancePre;

/// keccak256 of a contract's original wasm bytes: its identity on chain.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeHash(pub [u8; 32]);

impl CodeHash {
    /// The hash of `wasm`.
    pub fn of(wasm: &[u8]) -> Self {
        Self(Keccak256::digest(wasm).into())
    }
}

impl fmt::Display for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodeHash({self})")
    }
}

/// A validated, instrumented and compiled contract, ready to instantiate.
pub struct Contract {
    pub(crate) hash: CodeHash,
    pub(crate) pre: InstancePre<CallState>,
    /// Entry point names with the stack slots their own frame costs.
    pub(crate) entry_points: BTreeMap<String, u32>,
    /// Whether it accepts re-entrant calls (the `vellum:reentrant` custom section).
    pub(crate) reentrant: bool,
    pub(crate) code_bytes: usize,
}

impl Contract {
    /// The hash of the wasm this contract was compiled from.
    pub fn hash(&self) -> CodeHash {
        self.hash
    }

    /// The entry points it exports, sorted.
    pub fn entry_points(&self) -> impl Iterator<Item = &str> {
        self.entry_points.keys().map(String::as_str)
    }

    /// Size of its compiled machine code, the cache's measure of its weight.
    pub fn code_bytes(&self) -> usize {
        self.code_bytes
    }
}

impl fmt::Debug for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contract")
            .field("hash", &self.hash)
            .field("entry_points", &self.entry_points)
            .field("code_bytes", &self.code_bytes)
            .finish()
    }
}

/// A least-recently-used set of compiled contracts, bounded by total compiled code size.
pub(crate) struct ModuleCache {
    code_bytes_max: usize,
    inner: Mutex<Lru>,
}

#[derive(Default)]
struct Lru {
    entries: HashMap<CodeHash, (Arc<Contract>, u64)>,
    by_use: BTreeMap<u64, CodeHash>,
    clock: u64,
    code_bytes: usize,
}

impl ModuleCache {
    pub(crate) fn new(code_bytes_max: usize) -> Self {
        Self {
            code_bytes_max,
            inner: Mutex::new(Lru::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lru> {
        // The cache holds no invariant a panic elsewhere could break half-way.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn get(&self, hash: &CodeHash) -> Option<Arc<Contract>> {
        let mut lru = self.lock();
        lru.clock += 1;
        let now = lru.clock;
        let (contract, used) = lru.entries.get_mut(hash)?;
        let contract = contract.clone();
        let before = std::mem::replace(used, now);
        lru.by_use.remove(&before);
        lru.by_use.insert(now, *hash);
        Some(contract)
    }

    pub(crate) fn insert(&self, contract: Arc<Contract>) {
        let mut lru = self.lock();
        lru.clock += 1;
        let now = lru.clock;
        let hash = contract.hash;
        lru.code_bytes += contract.code_bytes;
        if let Some((old, used)) = lru.entries.insert(hash, (contract, now)) {
            lru.code_bytes -= old.code_bytes;
            lru.by_use.remove(&used);
        }
        lru.by_use.insert(now, hash);
        // Evict the least recently used, but never the contract just inserted.
        while lru.code_bytes > self.code_bytes_max && lru.entries.len() > 1 {
            let Some((_, oldest)) = lru.by_use.pop_first() else {
                break;
            };
            if let Some((evicted, _)) = lru.entries.remove(&oldest) {
                lru.code_bytes -= evicted.code_bytes;
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

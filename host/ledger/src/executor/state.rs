//! The state a block executes against: committed state, the writes of blocks not yet committed,
//! and the block's own pending writes, each contract seeing only its own namespace.

use super::BlockError;
use crate::{
    executed::{ExecutedBlock, StateWrite, VersionWrite},
    keys::{self, full_key, scoped_bounds},
    records::ContractInfo,
    store::{Snapshot, Store, StoreError},
};
use std::{
    ops::Bound,
    sync::{Arc, RwLock},
};
use vellum_runtime::{storage::borrowed, CodeHash, Order, Overlay, Storage, StorageError, World};
use vellum_types::{hex, Address, Header};

/// A contract's view of state during a block: its own namespace of the block's pending writes,
/// which sit over committed state.
struct ContractView {
    block: Arc<RwLock<Overlay>>,
    namespace: Address,
}

pub(super) fn poisoned() -> StorageError {
    StorageError("block state lock poisoned by an earlier panic".into())
}

impl Storage for ContractView {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let block = self.block.read().map_err(|_| poisoned())?;
        block.get(&full_key(&self.namespace, key))
    }

    fn first(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        order: Order,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>, StorageError> {
        let (lower, upper) = scoped_bounds(&self.namespace, lower, upper);
        let block = self.block.read().map_err(|_| poisoned())?;
        let entry = block.first(borrowed(&lower), borrowed(&upper), order)?;
        Ok(entry.map(|(key, value)| (key[self.namespace.len()..].to_vec(), value)))
    }
}

/// The contracts a call tree may reach: those deployed in the block's state (frozen ones only
/// for queries).
struct BlockWorld {
    block: Arc<RwLock<Overlay>>,
    /// Whether frozen contracts are reachable: for queries, which they still serve.
    frozen: bool,
}

impl BlockWorld {
    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.block.read().map_err(|_| poisoned())?.get(key)
    }
}

impl World for BlockWorld {
    fn code_hash(&self, address: &Address) -> Result<Option<CodeHash>, StorageError> {
        let Some(bytes) = self.read(&keys::contract_key(address))? else {
            return Ok(None);
        };
        let info: ContractInfo =
            borsh::from_slice(&bytes).map_err(|e| StorageError(Box::new(e)))?;
        Ok((self.frozen || !info.frozen).then_some(CodeHash(info.code_hash)))
    }

    fn code(&self, hash: &CodeHash) -> Result<Vec<u8>, StorageError> {
        self.read(&keys::code_key(&hash.0))?
            .ok_or_else(|| StorageError(format!("code {hash} is missing from state").into()))
    }

    fn storage(&self, address: &Address) -> Arc<dyn Storage> {
        Arc::new(ContractView {
            block: self.block.clone(),
            namespace: *address,
        })
    }
}

/// One block in progress.
pub(super) struct BlockContext {
    pub(super) height: u64,
    pub(super) time_ms: u64,
    pub(super) state: Arc<RwLock<Overlay>>,
}

impl BlockContext {
    pub(super) fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BlockError> {
        let state = self.state.read().map_err(|_| poisoned())?;
        Ok(state.get(key)?)
    }

    pub(super) fn record<T: borsh::BorshDeserialize>(
        &self,
        key: &[u8],
        what: &'static str,
    ) -> Result<Option<T>, BlockError> {
        self.read(key)?
            .map(|bytes| borsh::from_slice(&bytes))
            .transpose()
            .map_err(|e| {
                BlockError::Store(StoreError::Corrupt {
                    table: what,
                    detail: e.to_string(),
                })
            })
    }

    /// Every contract's code and storage as the block's state holds them, for a call tree: a
    /// transaction's (`frozen` false) reaches no frozen contract, a query's (`frozen` true) does.
    pub(super) fn world(&self, frozen: bool) -> Arc<dyn World> {
        Arc::new(BlockWorld {
            block: self.state.clone(),
            frozen,
        })
    }

    pub(super) fn apply(
        &self,
        position: u32,
        writes: &[StateWrite],
        versions: &mut Vec<VersionWrite>,
    ) -> Result<(), BlockError> {
        let mut state = self.state.write().map_err(|_| poisoned())?;
        for (key, value) in writes {
            match value {
                Some(value) => state.set(key.clone(), value.clone()),
                None => state.remove(key.clone()),
            }
            versions.push((position, key.clone(), value.clone()));
        }
        Ok(())
    }
}

/// Committed state, with `pending`'s writes on top if a block is still being committed.
pub(super) fn base_state(snapshot: Snapshot, pending: &[&ExecutedBlock]) -> Arc<dyn Storage> {
    let snapshot = Arc::new(snapshot);
    if pending.is_empty() {
        return snapshot;
    }
    let mut state = Overlay::new(snapshot);
    for block in pending {
        for (key, value) in &block.writes {
            match value {
                Some(value) => state.set(key.clone(), value.clone()),
                None => state.remove(key.clone()),
            }
        }
    }
    Arc::new(state)
}

/// The blocks of `pending` (a chain, oldest first) above `committed`, the snapshot's height,
/// after checking that the chain extends what the store holds.
pub(super) fn unlanded<'a>(
    store: &Store,
    committed: u64,
    pending: &[&'a ExecutedBlock],
) -> Result<Vec<&'a ExecutedBlock>, BlockError> {
    let mut above = Vec::with_capacity(pending.len());
    for (i, block) in pending.iter().enumerate() {
        let header = &block.block.header;
        if i > 0 && header.parent != pending[i - 1].block.header.hash() {
            return Err(BlockError::BrokenChain {
                height: header.height,
            });
        }
        if header.height > committed {
            above.push(*block);
            continue;
        }
        let landed = store.header(header.height)?;
        if landed.as_ref().map(Header::hash) != Some(header.hash()) {
            return Err(BlockError::WrongParent {
                height: header.height,
                parent: hex(&header.parent),
                head_height: committed,
                head_hash: landed.map_or_else(String::new, |h| hex(&h.hash())),
            });
        }
    }
    if let Some(first) = above.first() {
        let parent = store.header(first.block.header.height - 1)?;
        if parent.as_ref().map(Header::hash) != Some(first.block.header.parent) {
            return Err(BlockError::WrongParent {
                height: first.block.header.height,
                parent: hex(&first.block.header.parent),
                head_height: committed,
                head_hash: parent.map_or_else(String::new, |h| hex(&h.hash())),
            });
        }
    }
    Ok(above)
}

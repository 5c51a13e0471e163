//! A block executed but not yet committed, and the state commitment over its writes.
//!
//! `state_root` is `keccak256(previous state_root || keccak256(borsh(writes)))`, where `writes`
//! is the block's final state changes sorted by key. It chains every state change since genesis
//! in one 32-byte value that any node can recompute from the blocks alone, at the cost of one
//! hash over the block's writes.

use vellum_types::{keccak256, Block, Hash, Receipt};

/// A state change by full key: the new value, or `None` for a removal.
pub type StateWrite = (Vec<u8>, Option<Vec<u8>>);

/// One transaction's write, for the history index: (position in block, full key, value).
pub type VersionWrite = (u32, Vec<u8>, Option<Vec<u8>>);

/// The state commitment after a block whose sorted final writes are `writes`.
pub fn next_state_root(previous: &Hash, writes: &[StateWrite]) -> Hash {
    let digest = keccak256(&borsh::to_vec(writes).unwrap_or_default());
    let mut input = [0u8; 64];
    input[..32].copy_from_slice(previous);
    input[32..].copy_from_slice(&digest);
    keccak256(&input)
}

/// A block executed but not yet committed: everything the store writes for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutedBlock {
    /// The block, with its computed header.
    pub block: Block,
    /// One receipt per transaction.
    pub receipts: Vec<Receipt>,
    /// Final state changes by full key, sorted: what `state_root` commits to.
    pub writes: Vec<StateWrite>,
    /// Every version written, as (transaction position, full key, value), for the history index.
    pub versions: Vec<VersionWrite>,
}

impl ExecutedBlock {
    /// The hash of each receipt, in transaction order: the leaves of `receipts_root`.
    pub fn receipt_hashes(&self) -> Vec<Hash> {
        self.receipts.iter().map(Receipt::hash).collect()
    }
}

//! A block executed but not yet committed: everything the store writes for it.

use vellum_types::{Block, Hash, Receipt};

/// A state change by full key: the new value, or `None` for a removal.
pub type StateWrite = (Vec<u8>, Option<Vec<u8>>);

/// One transaction's write, for the history index: (position in block, full key, value).
pub type VersionWrite = (u32, Vec<u8>, Option<Vec<u8>>);

/// A block executed but not yet committed: everything the store writes for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutedBlock {
    /// The block, with its computed header.
    pub block: Block,
    /// One receipt per transaction.
    pub receipts: Vec<Receipt>,
    /// Final state changes by full key, sorted: what the block's batch in the state commitment
    /// ([`crate::commitment`]) holds.
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

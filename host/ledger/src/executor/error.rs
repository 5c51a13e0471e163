//! Why a proposal cannot become a block, or why this node could not tell.

use crate::store::StoreError;
use vellum_runtime::{EngineError, ExecuteError, PrepareError, StorageError};
use vellum_types::{hex, Hash, TransactionError};

/// Why a proposal cannot become a block.
///
/// Variants up to [`BlockError::LimitExceeded`] are the block's fault and the same on every
/// honest node; the rest are this node's own failures ([`BlockError::is_local_fault`]), which
/// must never become a vote against a block.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlockError {
    /// A transaction breaks a validity rule.
    #[error("transaction {index} ({hash}): {error}")]
    Transaction {
        /// Its position in the proposal.
        index: usize,
        /// Its hash.
        hash: String,
        /// The rule broken.
        error: TransactionError,
    },
    /// The proposal does not extend the head.
    #[error("proposal for height {height} with parent {parent} does not extend the head (height {head_height}, hash {head_hash})")]
    WrongParent {
        /// Proposed height.
        height: u64,
        /// Proposed parent.
        parent: String,
        /// The head's height.
        head_height: u64,
        /// The head's hash.
        head_hash: String,
    },
    /// The proposal's branch conflicts with a block this node committed while it executed (the
    /// state commitment has moved past the branch's base).
    #[error("proposal for height {height} is on a branch that conflicts with a block this node has committed")]
    Superseded {
        /// Proposed height.
        height: u64,
    },
    /// The block time does not increase.
    #[error("block time {time_ms} is not after the parent's {parent_ms}")]
    TimeNotIncreasing {
        /// Proposed time.
        time_ms: u64,
        /// Parent's time.
        parent_ms: u64,
    },
    /// Too many transactions or too much fuel.
    #[error("block exceeds its {what} limit: {found} > {max}")]
    LimitExceeded {
        /// Which limit.
        what: &'static str,
        /// Found.
        found: u64,
        /// Allowed.
        max: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The runtime could not complete a call.
    #[error("runtime failure: {0}")]
    Execute(#[from] ExecuteError),
    /// The state under a call failed.
    #[error("state failure: {0}")]
    State(#[from] StorageError),
    /// The wasm engine could not be built.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Code in the store no longer prepares (a different runtime than the one that stored it).
    #[error("stored code {code_hash} no longer prepares: {source}")]
    StoredCode {
        /// The code's hash, hex.
        code_hash: String,
        /// Why it does not prepare.
        #[source]
        source: PrepareError,
    },
    /// The pending blocks handed to the executor are not a chain.
    #[error("pending block {height} does not extend the pending block before it")]
    BrokenChain {
        /// The height of the block that does not extend its predecessor.
        height: u64,
    },
    /// A worker thread (signature verification, commit) panicked.
    #[error("a {0} thread panicked")]
    Panicked(&'static str),
    /// A view of a block's state outlived the block's execution.
    #[error("the block's state is still shared after execution")]
    StateStillShared,
    /// The commit thread could not be started.
    #[error("cannot start the commit thread: {0}")]
    CommitThread(#[source] std::io::Error),
}

impl BlockError {
    /// Whether this is this node's own failure (its disk, its runtime), not the block's: a node
    /// that meets one halts rather than voting against the block.
    pub fn is_local_fault(&self) -> bool {
        !matches!(
            self,
            BlockError::Transaction { .. }
                | BlockError::WrongParent { .. }
                | BlockError::Superseded { .. }
                | BlockError::TimeNotIncreasing { .. }
                | BlockError::LimitExceeded { .. }
        )
    }
}

/// Why a transaction was refused entry to a pool.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// It breaks a validity rule as of the head.
    #[error(transparent)]
    Rejected(#[from] TransactionError),
    /// This node could not read its own store; the transaction may be fine.
    #[error("this node cannot read its store: {0}")]
    Store(#[from] StoreError),
}

/// Why a transaction cannot run at its position in a block.
pub(super) enum Refusal {
    /// It breaks a validity rule: a verifier rejects the block, a builder leaves it out.
    Invalid(TransactionError),
    /// The block has no room for more transactions (`what` would reach `found`): a builder
    /// stops here.
    Full {
        what: &'static str,
        found: u64,
        max: u64,
    },
    /// Its fuel limit does not fit in what the block's transactions before it left of
    /// `block_fuel_max`: a builder tries the next candidate.
    NoFuelLeft { requested: u64, used: u64, max: u64 },
    /// This node failed.
    Fault(BlockError),
}

impl Refusal {
    /// The error that makes a proposal invalid, for the transaction at `index` with `hash`.
    pub(super) fn in_block(self, index: usize, hash: &Hash) -> BlockError {
        match self {
            Refusal::Invalid(error) => BlockError::Transaction {
                index,
                hash: hex(hash),
                error,
            },
            Refusal::Full { what, found, max } => BlockError::LimitExceeded { what, found, max },
            Refusal::NoFuelLeft {
                requested,
                used,
                max,
            } => BlockError::LimitExceeded {
                what: "fuel",
                found: used.saturating_add(requested),
                max,
            },
            Refusal::Fault(fault) => fault,
        }
    }
}

impl From<BlockError> for Refusal {
    fn from(error: BlockError) -> Self {
        Refusal::Fault(error)
    }
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        Refusal::Fault(error.into())
    }
}

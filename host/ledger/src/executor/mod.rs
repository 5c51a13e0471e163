//! The block executor: turns an ordered list of signed transactions into receipts, state changes
//! and a header, deterministically.
//!
//! Execution has two kinds of failure, kept strictly apart:
//!
//! - A **transaction that fails** (a contract error, a trap, out of fuel, a refused policy) still
//!   belongs in the block: its receipt says why, and it changes nothing but its sender's nonce.
//! - A **block that is invalid** (a bad signature, a wrong chain id, an unknown sender, a wrong
//!   nonce, a duplicate, limits exceeded, a wrong parent or time) is rejected whole with a
//!   [`BlockError`] naming the first offending transaction and the rule it broke. A proposer
//!   checks these before proposing; a verifier rejects the proposal.
//!
//! Signatures are checked before execution, in parallel on all cores, and every verified
//! transaction hash is remembered, so a transaction the mempool verified is not verified again.
//! Each call runs in the runtime against a contract-scoped view of the block's pending writes,
//! layered over a read snapshot of committed state; the block's writes reach the store only when
//! [`Store::commit`] writes them all in one transaction.

mod actions;
mod admission;
mod error;
mod query;
mod signatures;
mod state;

pub use actions::interface_of;
pub use error::{BlockError, EntryError};

use self::{
    admission::{Admission, Inadmissible},
    error::Rejection,
    signatures::SignatureCache,
    state::{base_state, unlanded, BlockContext},
};
use crate::{
    executed::{next_state_root, ExecutedBlock, StateWrite},
    store::Store,
};
use std::{
    collections::HashSet,
    sync::{Arc, RwLock},
};
use vellum_runtime::{Overlay, Runtime, RuntimeConfig};
use vellum_types::{
    hex, merkle_root, Block, Genesis, Hash, Header, Receipt, SignedTransaction, Status,
    TransactionError,
};

/// Fuel every transaction pays before it runs: its signature check, decoding and bookkeeping.
pub const INTRINSIC_FUEL_BASE: u64 = 50_000;
/// Fuel per byte of the encoded transaction (storing and gossiping it).
pub const INTRINSIC_FUEL_PER_BYTE: u64 = 10;
/// Verified transaction hashes remembered between mempool and execution.
pub const SIGNATURE_CACHE_ENTRIES: usize = 200_000;
/// Longest method name.
pub const METHOD_BYTES_MAX: usize = 64;

/// What consensus (or a single node) asks the executor to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// Must be the store's height + 1.
    pub height: u64,
    /// Must be the hash of the store's head.
    pub parent: Hash,
    /// Must be later than the head's time.
    pub time_ms: u64,
    /// The proposing validator.
    pub proposer: [u8; 32],
    /// Transactions in order.
    pub transactions: Vec<SignedTransaction>,
}

impl Proposal {
    /// The proposal that `block` was executed from: its header's fields and its transactions
    /// (what a node that did not build a block executes to check or replay it).
    pub fn replay(block: Block) -> Self {
        let header = block.header;
        Self {
            height: header.height,
            parent: header.parent,
            time_ms: header.time_ms,
            proposer: header.proposer,
            transactions: block.transactions,
        }
    }
}

/// What a read-only query returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryResult {
    /// The method's return data (JSON with the SDK), the fuel it used, and the height queried.
    Success {
        /// Return data.
        output: Vec<u8>,
        /// Fuel used.
        fuel_used: u64,
        /// The head it ran against.
        height: u64,
    },
    /// It failed as a transaction would.
    Failed(Status),
    /// No such contract.
    Refused(String),
}

/// Executes blocks against a [`Store`].
pub struct Executor {
    runtime: Runtime,
    genesis: Genesis,
    verified: SignatureCache,
}

impl Executor {
    /// An executor for the network `genesis` describes.
    pub fn new(genesis: Genesis, runtime: RuntimeConfig) -> Result<Self, BlockError> {
        let runtime = Runtime::new(runtime)?;
        Ok(Self {
            runtime,
            genesis,
            verified: SignatureCache::default(),
        })
    }

    /// The runtime's schedule version (recorded in every header).
    pub fn schedule_version(&self) -> u32 {
        self.runtime.schedule().version
    }

    /// The genesis this executor follows.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// Execute `proposal` on top of `store`'s head. Nothing is written: commit the result with
    /// [`Store::commit`].
    pub fn execute(&self, store: &Store, proposal: Proposal) -> Result<ExecutedBlock, BlockError> {
        self.execute_after(store, &[], proposal)
    }

    /// Execute `proposal` on top of `pending`: a chain of blocks, oldest first, executed on top
    /// of `store`'s head but whose commits may not have landed (see [`super::pipeline`], and
    /// consensus, which verifies a block while its ancestors await finalization). Every rule is
    /// enforced: a single invalid transaction makes the whole proposal invalid.
    ///
    /// This is safe because a store snapshot is a consistent view as of one moment: the
    /// snapshot plus the pending blocks' writes, applied in order, is the state after the last
    /// of them, whichever of their commits have landed by the time the snapshot is taken
    /// (those are skipped, after checking they are the blocks the store holds).
    pub fn execute_after(
        &self,
        store: &Store,
        pending: &[&ExecutedBlock],
        proposal: Proposal,
    ) -> Result<ExecutedBlock, BlockError> {
        self.run_block(store, pending, proposal, Run::Verify)
            .map(|(block, _)| block)
    }

    /// Build the best block the proposer can from `candidates`, on top of `pending` (as in
    /// [`Executor::execute_after`]): candidates that are invalid in this position (bad
    /// signature, wrong nonce, duplicate, unknown sender) are left out and returned with the
    /// reason, and candidates stop being taken once a block limit would be exceeded. The result
    /// passes [`Executor::execute_after`] with the same header fields.
    pub fn build(
        &self,
        store: &Store,
        pending: &[&ExecutedBlock],
        mut candidates: Proposal,
    ) -> Result<(ExecutedBlock, Vec<(Hash, TransactionError)>), BlockError> {
        loop {
            match self.run_block(store, pending, candidates.clone(), Run::Build) {
                // A receipt that overflows the block is only known after its transaction ran:
                // build again without it and everything after it.
                Err(BlockError::ReceiptsOverflow { index }) => {
                    candidates.transactions.truncate(index)
                }
                result => return result,
            }
        }
    }

    fn run_block(
        &self,
        store: &Store,
        pending: &[&ExecutedBlock],
        proposal: Proposal,
        mode: Run,
    ) -> Result<(ExecutedBlock, Vec<(Hash, TransactionError)>), BlockError> {
        // Head, state and the transaction index all come from one read transaction.
        let snapshot = store.snapshot()?;
        let committed = snapshot.head().height;
        let pending = unlanded(store, committed, pending)?;
        let head = match pending.last() {
            Some(last) => last.block.header.clone(),
            None => snapshot.head().clone(),
        };
        if proposal.height != head.height + 1 || proposal.parent != head.hash() {
            return Err(BlockError::WrongParent {
                height: proposal.height,
                parent: hex(&proposal.parent),
                head_height: head.height,
                head_hash: hex(&head.hash()),
            });
        }
        if proposal.time_ms <= head.time_ms {
            return Err(BlockError::TimeNotIncreasing {
                time_ms: proposal.time_ms,
                parent_ms: head.time_ms,
            });
        }
        let limits = &self.genesis.limits;
        let step_ms = proposal.time_ms - head.time_ms;
        if step_ms > limits.block_time_step_max_ms {
            return Err(BlockError::LimitExceeded {
                what: "time step (ms)",
                found: step_ms,
                max: limits.block_time_step_max_ms,
            });
        }
        let mut skipped = Vec::new();
        let (transactions, hashes) = match mode {
            Run::Verify => {
                // The cheap whole-block limits first, then the signatures.
                let mut admission = Admission::default();
                for (index, transaction) in proposal.transactions.iter().enumerate() {
                    match admission.admit(limits, transaction) {
                        Ok(()) => {}
                        Err(Inadmissible::Invalid(error)) => {
                            return Err(BlockError::Transaction {
                                index,
                                hash: hex(&transaction.hash()),
                                error,
                            })
                        }
                        Err(Inadmissible::Full { what, found, max }) => {
                            return Err(BlockError::LimitExceeded { what, found, max })
                        }
                    }
                }
                let hashes = self.verify_signatures(&proposal.transactions)?;
                (proposal.transactions, hashes)
            }
            Run::Build => {
                let verdicts = self.verify_each(&proposal.transactions)?;
                let mut admission = Admission::default();
                let mut transactions = Vec::new();
                let mut hashes = Vec::new();
                for (transaction, (hash, verdict)) in
                    proposal.transactions.into_iter().zip(verdicts)
                {
                    let admitted = verdict
                        .map_err(Inadmissible::Invalid)
                        .and_then(|()| admission.admit(limits, &transaction));
                    match admitted {
                        Ok(()) => {
                            transactions.push(transaction);
                            hashes.push(hash);
                        }
                        Err(Inadmissible::Full { .. }) => break,
                        Err(Inadmissible::Invalid(error)) => skipped.push((hash, error)),
                    }
                }
                (transactions, hashes)
            }
        };

        let context = BlockContext {
            height: proposal.height,
            time_ms: proposal.time_ms,
            state: Arc::new(RwLock::new(Overlay::new(base_state(
                snapshot.clone(),
                &pending,
            )))),
        };
        let pending_hashes: HashSet<Hash> = pending
            .iter()
            .flat_map(|p| p.receipts.iter().map(|r| r.transaction))
            .collect();
        let mut included = Vec::with_capacity(transactions.len());
        let mut receipts = Vec::with_capacity(transactions.len());
        let mut receipt_bytes = 0u64;
        let mut versions = Vec::new();
        let mut seen = HashSet::with_capacity(transactions.len());
        for (transaction, hash) in transactions.into_iter().zip(hashes) {
            let index = receipts.len();
            let verdict = if !seen.insert(hash)
                || pending_hashes.contains(&hash)
                || snapshot.contains_transaction(&hash)?
            {
                Err(Rejection::Invalid(TransactionError::Duplicate(hex(&hash))))
            } else {
                self.apply(&context, index as u32, &transaction, hash, &mut versions)
            };
            let receipt = match (verdict, mode) {
                (Ok(receipt), _) => receipt,
                (Err(Rejection::Fault(fault)), _) => return Err(fault),
                (Err(Rejection::Invalid(error)), Run::Verify) => {
                    return Err(BlockError::Transaction {
                        index,
                        hash: hex(&hash),
                        error,
                    })
                }
                (Err(Rejection::Invalid(error)), Run::Build) => {
                    skipped.push((hash, error));
                    continue;
                }
            };
            // Receipts are stored with the block: their size is bounded like the block's, or a
            // block could execute everywhere and then fail to commit everywhere.
            receipt_bytes += borsh::to_vec(&receipt).map_or(0, |r| r.len() as u64);
            if receipt_bytes > limits.block_receipt_bytes_max {
                return Err(match mode {
                    Run::Verify => BlockError::LimitExceeded {
                        what: "receipt bytes",
                        found: receipt_bytes,
                        max: limits.block_receipt_bytes_max,
                    },
                    Run::Build => BlockError::ReceiptsOverflow {
                        index: included.len() + skipped.len(),
                    },
                });
            }
            receipts.push(receipt);
            included.push(transaction);
        }

        let state = Arc::try_unwrap(context.state)
            .map_err(|_| BlockError::StateStillShared)?
            .into_inner()
            .map_err(|_| state::poisoned())?;
        let writes: Vec<StateWrite> = state
            .into_writes()
            .into_iter()
            .map(|w| (w.key, w.value))
            .collect();
        let header = Header {
            height: proposal.height,
            parent: proposal.parent,
            time_ms: proposal.time_ms,
            proposer: proposal.proposer,
            transactions_root: merkle_root(
                receipts
                    .iter()
                    .map(|r| r.transaction)
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
            receipts_root: merkle_root(
                receipts
                    .iter()
                    .map(Receipt::hash)
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
            state_root: next_state_root(&head.state_root, &writes),
            fuel_used: receipts.iter().map(|r| r.fuel_used).sum(),
            schedule_version: self.schedule_version(),
        };
        let executed = ExecutedBlock {
            block: Block {
                header,
                transactions: included,
            },
            receipts,
            writes,
            versions,
        };
        Ok((executed, skipped))
    }
}

/// Whether a block run checks a proposal or builds one.
#[derive(Clone, Copy)]
enum Run {
    /// Every rule is enforced on every transaction.
    Verify,
    /// Invalid candidates are left out; candidates stop at the first limit.
    Build,
}

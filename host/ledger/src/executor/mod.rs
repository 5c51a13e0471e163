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
mod governance;
mod query;
mod signatures;
mod state;

pub use actions::interface_of;
pub use error::{BlockError, EntryError};

use self::{
    actions::Sender,
    admission::Admission,
    error::Refusal,
    signatures::SignatureCache,
    state::{base_state, unlanded, BlockContext},
};
use crate::{
    commitment::{CommitmentError, Link},
    executed::{ExecutedBlock, StateWrite},
    store::{Store, StoreError},
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
    /// reason, before they count against any block limit; a candidate whose fuel limit does not
    /// fit in what the block has left waits for a later block; and candidates stop being taken
    /// once the block is full or `out_of_time()` says so (building is this node's own work, so
    /// it may look at a clock; whatever it includes, the result is a deterministic block for
    /// everyone who verifies it). The result passes [`Executor::execute_after`] with the same
    /// header fields.
    pub fn build(
        &self,
        store: &Store,
        pending: &[&ExecutedBlock],
        candidates: Proposal,
        out_of_time: &dyn Fn() -> bool,
    ) -> Result<(ExecutedBlock, Vec<(Hash, TransactionError)>), BlockError> {
        self.run_block(store, pending, candidates, Run::Build { out_of_time })
    }

    fn run_block(
        &self,
        store: &Store,
        pending: &[&ExecutedBlock],
        proposal: Proposal,
        mode: Run<'_>,
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
        // Verifying: the cheap whole-block limits first, then every signature. Building: every
        // candidate's signature (a bad one is left out below).
        let verdicts = match mode {
            Run::Verify => {
                Admission::check_totals(limits, &proposal.transactions)?;
                self.verify_signatures(&proposal.transactions)?
                    .into_iter()
                    .map(|hash| (hash, Ok(())))
                    .collect()
            }
            Run::Build { .. } => self.verify_each(&proposal.transactions)?,
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
        let mut admission = Admission::default();
        let mut skipped = Vec::new();
        let mut included = Vec::with_capacity(proposal.transactions.len());
        let mut receipts = Vec::with_capacity(proposal.transactions.len());
        let mut receipt_bytes = 0u64;
        let mut versions = Vec::new();
        let mut seen = HashSet::with_capacity(proposal.transactions.len());
        for (transaction, (hash, verdict)) in proposal.transactions.into_iter().zip(verdicts) {
            if let Run::Build { out_of_time } = mode {
                if out_of_time() {
                    break;
                }
            }
            let index = receipts.len();
            // Every rule a transaction must pass before it runs, cheapest first; the same rules
            // whether building or verifying, so a built block always verifies.
            let admit = || -> Result<Sender, Refusal> {
                verdict.map_err(Refusal::Invalid)?;
                if !seen.insert(hash)
                    || pending_hashes.contains(&hash)
                    || snapshot.contains_transaction(&hash)?
                {
                    return Err(Refusal::Invalid(TransactionError::Duplicate(hex(&hash))));
                }
                let sender = self.check_in_block(&context, &transaction)?;
                admission.admit(limits, &transaction)?;
                Ok(sender)
            };
            let sender = match (admit(), mode) {
                (Ok(sender), _) => sender,
                (Err(Refusal::Fault(fault)), _) => return Err(fault),
                (Err(refusal), Run::Verify) => return Err(refusal.in_block(index, &hash)),
                (Err(Refusal::Invalid(error)), Run::Build { .. }) => {
                    skipped.push((hash, error));
                    continue;
                }
                // No room for this one: a smaller one may still fit.
                (Err(Refusal::NoFuelLeft { .. }), Run::Build { .. }) => continue,
                (Err(Refusal::Full { .. }), Run::Build { .. }) => break,
            };
            let (receipt, writes) = self.run_transaction(&context, &transaction, hash, sender)?;
            // Receipts are stored with the block: their size is bounded like the block's, or a
            // block could execute everywhere and then fail to commit everywhere.
            let size = receipt_size(&receipt);
            if receipt_bytes + size > limits.block_receipt_bytes_max {
                match mode {
                    Run::Verify => {
                        return Err(BlockError::LimitExceeded {
                            what: "receipt bytes",
                            found: receipt_bytes + size,
                            max: limits.block_receipt_bytes_max,
                        })
                    }
                    // Its effects are not applied yet: it simply waits for the next block, where
                    // it fits (no receipt exceeds transaction_receipt_bytes_max).
                    Run::Build { .. } => break,
                }
            }
            receipt_bytes += size;
            admission.used(receipt.fuel_used);
            context.apply(index as u32, &writes, &mut versions)?;
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
        let links: Vec<Link<'_>> = pending
            .iter()
            .map(|block| Link {
                height: block.block.header.height,
                root: block.block.header.state_root,
                writes: &block.writes,
            })
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
            state_root: store
                .commitment()
                .root_after(
                    &snapshot.head().state_root,
                    &links,
                    proposal.height,
                    &writes,
                )
                .map_err(|error| match error {
                    // The commitment only ever holds committed blocks: a branch it is not on
                    // conflicts with one of them.
                    CommitmentError::OffChain { .. } => BlockError::Superseded {
                        height: proposal.height,
                    },
                    error => StoreError::from(error).into(),
                })?,
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
enum Run<'a> {
    /// Every rule is enforced on every transaction.
    Verify,
    /// Invalid candidates are left out; candidates stop at the first full limit, or when
    /// `out_of_time()`.
    Build {
        /// Whether to stop taking candidates.
        out_of_time: &'a dyn Fn() -> bool,
    },
}

/// The encoded size of `receipt`, as the store keeps it.
fn receipt_size(receipt: &Receipt) -> u64 {
    receipt.encoded_len() as u64
}

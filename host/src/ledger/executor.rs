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

use super::{
    block::{
        merkle_root, next_state_root, Block, ExecutedBlock, Header, LedgerEvent, Receipt,
        StateWrite, Status, VersionWrite,
    },
    genesis::{ChainLimits, DeployPolicy, Genesis},
    records::{self, ContractInfo, Member},
    store::{full_key, scoped_bounds, Snapshot, Store, StoreError},
    transaction::{
        address_of, hex, Action, Address, Hash, Role, SignedTransaction, TransactionError,
        TRANSACTION_BYTES_MAX,
    },
};
use std::{
    collections::{HashSet, VecDeque},
    ops::Bound,
    sync::{Arc, Mutex, RwLock},
};
use vellum_runtime::{
    storage::borrowed, Call, Context, Contract, ExecuteError, Mode, Order, Outcome, Overlay,
    PrepareError, Runtime, RuntimeConfig, Storage, StorageError,
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

/// Why a proposal cannot become a block.
#[derive(Debug, thiserror::Error)]
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
    /// Building: the receipt of the candidate at `index` would overflow the block's receipts.
    #[error("the receipt of candidate {index} overflows the block")]
    ReceiptsOverflow {
        /// The candidate's position.
        index: usize,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The runtime could not complete a call (a node fault, not the transaction's).
    #[error("runtime failure: {0}")]
    Runtime(String),
}

impl From<ExecuteError> for BlockError {
    fn from(error: ExecuteError) -> Self {
        BlockError::Runtime(error.to_string())
    }
}

impl From<StorageError> for BlockError {
    fn from(error: StorageError) -> Self {
        BlockError::Runtime(error.to_string())
    }
}

/// Transaction hashes whose signatures were verified: bounded, oldest forgotten first.
#[derive(Default)]
struct SignatureCache {
    inner: Mutex<(HashSet<Hash>, VecDeque<Hash>)>,
}

impl SignatureCache {
    fn contains(&self, hash: &Hash) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .contains(hash)
    }

    fn insert(&self, hash: Hash) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.0.insert(hash) {
            inner.1.push_back(hash);
            if inner.1.len() > SIGNATURE_CACHE_ENTRIES {
                if let Some(oldest) = inner.1.pop_front() {
                    inner.0.remove(&oldest);
                }
            }
        }
    }
}

/// A contract's view of state during a block: its own namespace of the block's pending writes,
/// which sit over committed state.
struct ContractView {
    block: Arc<RwLock<Overlay>>,
    namespace: Address,
}

fn poisoned() -> StorageError {
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

/// The effects of a transaction that succeeded.
struct Effects {
    output: Vec<u8>,
    events: Vec<LedgerEvent>,
    writes: Vec<StateWrite>,
    contract: Option<Address>,
    fuel_used: u64,
}

/// Why a transaction failed, and the fuel it used getting there.
struct Failure {
    status: Status,
    fuel_used: u64,
}

fn refused(message: impl Into<String>) -> Failure {
    Failure {
        status: Status::Refused(message.into()),
        fuel_used: 0,
    }
}

/// One block in progress.
struct BlockContext {
    height: u64,
    time_ms: u64,
    state: Arc<RwLock<Overlay>>,
}

impl BlockContext {
    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BlockError> {
        let state = self.state.read().map_err(|_| poisoned())?;
        Ok(state.get(key)?)
    }

    fn record<T: borsh::BorshDeserialize>(
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

    fn view(&self, namespace: Address) -> Arc<dyn Storage> {
        Arc::new(ContractView {
            block: self.state.clone(),
            namespace,
        })
    }

    fn apply(
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

/// Executes blocks against a [`Store`].
pub struct Executor {
    runtime: Runtime,
    genesis: Genesis,
    verified: SignatureCache,
}

impl Executor {
    /// An executor for the network `genesis` describes.
    pub fn new(genesis: Genesis, runtime: RuntimeConfig) -> Result<Self, BlockError> {
        let runtime = Runtime::new(runtime).map_err(|e| BlockError::Runtime(e.to_string()))?;
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

    /// Check every signature not checked before, in parallel, remembering the good ones. Fails
    /// with the first transaction whose signature is bad.
    pub fn verify_signatures(
        &self,
        transactions: &[SignedTransaction],
    ) -> Result<Vec<Hash>, BlockError> {
        self.verify_each(transactions)?
            .into_iter()
            .enumerate()
            .map(|(index, (hash, verdict))| {
                verdict
                    .map(|()| hash)
                    .map_err(|error| BlockError::Transaction {
                        index,
                        hash: hex(&hash),
                        error,
                    })
            })
            .collect()
    }

    /// Each transaction's hash and signature verdict, checked in parallel; the good ones are
    /// remembered.
    fn verify_each(
        &self,
        transactions: &[SignedTransaction],
    ) -> Result<Vec<(Hash, Verdict)>, BlockError> {
        let hashes: Vec<Hash> = transactions.iter().map(SignedTransaction::hash).collect();
        let pending: Vec<usize> = (0..transactions.len())
            .filter(|&i| !self.verified.contains(&hashes[i]))
            .collect();
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(pending.len().max(1));
        let chunk = pending.len().div_ceil(threads).max(1);
        let failures: Vec<(usize, TransactionError)> = std::thread::scope(|scope| {
            let workers: Vec<_> = pending
                .chunks(chunk)
                .map(|indexes| {
                    scope.spawn(move || {
                        indexes
                            .iter()
                            .filter_map(|&i| {
                                transactions[i].verify_signature().err().map(|e| (i, e))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join())
                .collect::<Result<Vec<_>, _>>()
                .map(|chunks| chunks.into_iter().flatten().collect::<Vec<_>>())
        })
        // A worker that panicked verified nothing: fail closed, and cache nothing.
        .map_err(|_| BlockError::Runtime("a signature verification thread panicked".into()))?;
        let mut verdicts: Vec<(Hash, Verdict)> =
            hashes.into_iter().map(|hash| (hash, Ok(()))).collect();
        for (index, error) in failures {
            verdicts[index].1 = Err(error);
        }
        for &i in &pending {
            if verdicts[i].1.is_ok() {
                self.verified.insert(verdicts[i].0);
            }
        }
        Ok(verdicts)
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
                self.check_block_limits(&proposal.transactions)?;
                let hashes = self.verify_signatures(&proposal.transactions)?;
                (proposal.transactions, hashes)
            }
            Run::Build => {
                let verdicts = self.verify_each(&proposal.transactions)?;
                let mut admitted = Admission::default();
                let mut transactions = Vec::new();
                let mut hashes = Vec::new();
                for (transaction, (hash, verdict)) in
                    proposal.transactions.into_iter().zip(verdicts)
                {
                    match verdict.and_then(|()| admitted.admit(limits, &transaction)) {
                        Ok(true) => {
                            transactions.push(transaction);
                            hashes.push(hash);
                        }
                        Ok(false) => break,
                        Err(error) => skipped.push((hash, error)),
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
            .map_err(|_| BlockError::Runtime("block state still shared after execution".into()))?
            .into_inner()
            .map_err(|_| BlockError::Runtime("block state lock poisoned".into()))?;
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

    /// The whole-block limits a verifier checks before executing anything.
    fn check_block_limits(&self, transactions: &[SignedTransaction]) -> Result<(), BlockError> {
        let limits = &self.genesis.limits;
        let count = transactions.len();
        if count > limits.block_transactions_max {
            return Err(BlockError::LimitExceeded {
                what: "transactions",
                found: count as u64,
                max: limits.block_transactions_max as u64,
            });
        }
        let fuel: u64 = transactions
            .iter()
            .map(|t| t.transaction.fuel_limit)
            .fold(0, u64::saturating_add);
        if fuel > limits.block_fuel_max {
            return Err(BlockError::LimitExceeded {
                what: "fuel",
                found: fuel,
                max: limits.block_fuel_max,
            });
        }
        let mut block_bytes = 0u64;
        for (index, transaction) in transactions.iter().enumerate() {
            let size = transaction.encode().len();
            if size > TRANSACTION_BYTES_MAX {
                return Err(BlockError::Transaction {
                    index,
                    hash: hex(&transaction.hash()),
                    error: TransactionError::TooLarge {
                        size,
                        max: TRANSACTION_BYTES_MAX,
                    },
                });
            }
            block_bytes += size as u64;
        }
        if block_bytes > limits.block_bytes_max {
            return Err(BlockError::LimitExceeded {
                what: "transaction bytes",
                found: block_bytes,
                max: limits.block_bytes_max,
            });
        }
        Ok(())
    }

    /// Check `transaction` as it would be checked in the next block, without executing it: what
    /// a mempool asks before accepting a transaction.
    pub fn check(
        &self,
        store: &Store,
        transaction: &SignedTransaction,
    ) -> Result<Hash, TransactionError> {
        self.check_entry(store, transaction, 1)
            .map(|(hash, _)| hash)
    }

    /// Like [`Executor::check`], but accepting a nonce up to `window - 1` ahead of the sender's
    /// next one (a pool can hold it until the ones before it arrive). Returns the hash and the
    /// sender's next nonce. The cheap, stateful rules run first and the signature last, so a
    /// flood of transactions from strangers or with spent nonces costs no signature checks.
    pub fn check_entry(
        &self,
        store: &Store,
        transaction: &SignedTransaction,
        window: u64,
    ) -> Result<(Hash, u64), TransactionError> {
        let hash = transaction.hash();
        if store.transaction_location(&hash).ok().flatten().is_some() {
            return Err(TransactionError::Duplicate(hex(&hash)));
        }
        let snapshot = store
            .snapshot()
            .map_err(|e| TransactionError::Malformed(e.to_string()))?;
        let read = |key: &[u8]| snapshot.get(key).ok().flatten();
        let next = match self.check_sender(
            transaction,
            read(&records::member_key(&transaction.sender())).is_some(),
            read(&records::nonce_key(&transaction.sender())),
        ) {
            Ok(next) => next,
            Err(TransactionError::BadNonce { expected, found })
                if found > expected && found - expected < window =>
            {
                expected
            }
            Err(error) => return Err(error),
        };
        if !self.verified.contains(&hash) {
            transaction.verify_signature()?;
            self.verified.insert(hash);
        }
        Ok((hash, next))
    }

    /// Run `contract`'s read-only `method` against committed state at the head: no transaction,
    /// no fee, no writes (the runtime refuses them in a query), fuel capped at the per-transaction
    /// maximum so a query cannot run forever. `caller` is what the contract sees as its caller.
    pub fn query(
        &self,
        store: &Store,
        contract: &Address,
        method: &str,
        args: &str,
        caller: Address,
    ) -> Result<QueryResult, BlockError> {
        let snapshot = store.snapshot()?;
        let head = snapshot.head().clone();
        let context = BlockContext {
            height: head.height,
            time_ms: head.time_ms,
            state: Arc::new(RwLock::new(Overlay::new(Arc::new(snapshot)))),
        };
        let Some(info) =
            context.record::<ContractInfo>(&records::contract_key(contract), "contract")?
        else {
            return Ok(QueryResult::Refused(format!(
                "no contract at {}",
                hex(contract)
            )));
        };
        let member = Member {
            public_key: [0; 33],
            organisation: String::new(),
            role: Role::Member,
        };
        let call = Caller {
            context: &context,
            sender: caller,
            nonce: 0,
            member: &member,
            fuel: self.genesis.limits.transaction_fuel_max,
        };
        let loaded = self.loaded(&call, &info)?;
        let execution = self.runtime.execute(
            &loaded,
            Call {
                entry_point: &format!("query.{method}"),
                input: args.as_bytes(),
                context: Context {
                    caller,
                    contract: *contract,
                    block_height: head.height,
                    block_time_ms: head.time_ms,
                },
                fuel_limit: call.fuel,
                mode: Mode::Query,
            },
            context.view(*contract),
        )?;
        Ok(match execution.outcome {
            Outcome::Success(output) => QueryResult::Success {
                output,
                fuel_used: execution.fuel_used,
                height: head.height,
            },
            Outcome::ContractError { code, message } => {
                QueryResult::Failed(Status::ContractError { code, message })
            }
            Outcome::Trap(kind) => QueryResult::Failed(Status::Trap(kind.to_string())),
            Outcome::OutOfFuel => QueryResult::Failed(Status::OutOfFuel),
        })
    }

    /// The stateful validity rules: chain, fuel limit, membership, nonce.
    fn check_sender(
        &self,
        transaction: &SignedTransaction,
        is_member: bool,
        nonce: Option<Vec<u8>>,
    ) -> Result<u64, TransactionError> {
        let tx = &transaction.transaction;
        if tx.chain_id != self.genesis.chain_id {
            return Err(TransactionError::WrongChain {
                expected: self.genesis.chain_id.clone(),
                found: tx.chain_id.clone(),
            });
        }
        let max = self.genesis.limits.transaction_fuel_max;
        if tx.fuel_limit > max {
            return Err(TransactionError::FuelLimit {
                found: tx.fuel_limit,
                max,
            });
        }
        if !is_member {
            return Err(TransactionError::UnknownSender(hex(&transaction.sender())));
        }
        let expected = nonce
            .and_then(|n| n.try_into().ok())
            .map_or(0, u64::from_be_bytes);
        if tx.nonce != expected {
            return Err(TransactionError::BadNonce {
                expected,
                found: tx.nonce,
            });
        }
        Ok(expected)
    }

    fn apply(
        &self,
        context: &BlockContext,
        position: u32,
        signed: &SignedTransaction,
        hash: Hash,
        versions: &mut Vec<VersionWrite>,
    ) -> Result<Receipt, Rejection> {
        let sender = signed.sender();
        let member: Option<Member> = context.record(&records::member_key(&sender), "member")?;
        let nonce = context.read(&records::nonce_key(&sender))?;
        let nonce = self
            .check_sender(signed, member.is_some(), nonce)
            .map_err(Rejection::Invalid)?;
        let Some(member) = member else {
            return Err(Rejection::Invalid(TransactionError::UnknownSender(hex(
                &sender,
            ))));
        };
        let nonce_write = (
            records::nonce_key(&sender),
            Some((nonce + 1).to_be_bytes().to_vec()),
        );
        let tx = &signed.transaction;
        let intrinsic = INTRINSIC_FUEL_BASE
            .saturating_add(INTRINSIC_FUEL_PER_BYTE.saturating_mul(signed.encode().len() as u64));
        let result = if intrinsic > tx.fuel_limit {
            Err(Failure {
                status: Status::OutOfFuel,
                fuel_used: tx.fuel_limit,
            })
        } else {
            let call = Caller {
                context,
                sender,
                nonce,
                member: &member,
                fuel: tx.fuel_limit - intrinsic,
            };
            self.dispatch(&call, &tx.action)?
        };
        let receipt = match result {
            Ok(effects) => {
                let mut writes = vec![nonce_write];
                writes.extend(effects.writes);
                context.apply(position, &writes, versions)?;
                Receipt {
                    transaction: hash,
                    status: Status::Success,
                    output: effects.output,
                    fuel_used: intrinsic + effects.fuel_used,
                    events: effects.events,
                    contract: effects.contract,
                }
            }
            Err(failure) => {
                context.apply(position, &[nonce_write], versions)?;
                Receipt {
                    transaction: hash,
                    status: failure.status,
                    output: Vec::new(),
                    fuel_used: intrinsic
                        .saturating_add(failure.fuel_used)
                        .min(tx.fuel_limit),
                    events: Vec::new(),
                    contract: None,
                }
            }
        };
        Ok(receipt)
    }

    fn dispatch(
        &self,
        call: &Caller<'_>,
        action: &Action,
    ) -> Result<Result<Effects, Failure>, BlockError> {
        match action {
            Action::Deploy { code, init_args } => self.deploy(call, code, init_args),
            Action::Call {
                contract,
                method,
                args,
            } => self.call(call, contract, method, args),
            Action::Upgrade {
                contract,
                code,
                migrate_args,
            } => self.upgrade(call, contract, code, migrate_args),
            Action::ApproveCode { code_hash } => Ok(self.approve(call, code_hash)),
            Action::AddMember {
                public_key,
                organisation,
                role,
            } => self.add_member(call, public_key, organisation, *role),
            Action::RemoveMember { public_key } => self.remove_member(call, public_key),
        }
    }

    /// Whether `call`'s sender may deploy or upgrade to `code_hash`.
    fn allowed_code(
        &self,
        call: &Caller<'_>,
        code_hash: &Hash,
    ) -> Result<Result<(), Failure>, BlockError> {
        if call.member.role != Role::Admin {
            return Ok(Err(refused(
                "only organisation admins deploy or upgrade contracts",
            )));
        }
        if self.genesis.deploy_policy == DeployPolicy::AnyAdmin {
            return Ok(Ok(()));
        }
        let organisations = &self.genesis.organisations;
        let mut approvals = 0;
        for organisation in organisations {
            if call
                .context
                .read(&records::approval_key(code_hash, &organisation.name))?
                .is_some()
            {
                approvals += 1;
            }
        }
        if approvals * 2 <= organisations.len() {
            return Ok(Err(refused(format!(
                "code {} is approved by {approvals} of {} organisations; more than half must approve it",
                hex(code_hash),
                organisations.len()
            ))));
        }
        Ok(Ok(()))
    }

    fn run(
        &self,
        call: &Caller<'_>,
        contract: &Contract,
        address: Address,
        entry_point: &str,
        input: &str,
        fuel: u64,
    ) -> Result<Result<Effects, Failure>, BlockError> {
        let execution = self.runtime.execute(
            contract,
            Call {
                entry_point,
                input: input.as_bytes(),
                context: Context {
                    caller: call.sender,
                    contract: address,
                    block_height: call.context.height,
                    block_time_ms: call.context.time_ms,
                },
                fuel_limit: fuel,
                mode: Mode::Transaction,
            },
            call.context.view(address),
        )?;
        let status = match execution.outcome {
            Outcome::Success(output) => {
                return Ok(Ok(Effects {
                    output,
                    events: execution
                        .events
                        .into_iter()
                        .map(|e| LedgerEvent {
                            contract: address,
                            topic: e.topic,
                            data: e.data,
                        })
                        .collect(),
                    writes: execution
                        .writes
                        .into_iter()
                        .map(|w| (full_key(&address, &w.key), w.value))
                        .collect(),
                    contract: None,
                    fuel_used: execution.fuel_used,
                }))
            }
            Outcome::ContractError { code, message } => Status::ContractError { code, message },
            Outcome::Trap(kind) => Status::Trap(kind.to_string()),
            Outcome::OutOfFuel => Status::OutOfFuel,
        };
        Ok(Err(Failure {
            status,
            fuel_used: execution.fuel_used,
        }))
    }

    /// Code a deploy or upgrade may install: allowed by the policy for `call`'s sender, and valid.
    fn admit_code(
        &self,
        call: &Caller<'_>,
        code: &[u8],
    ) -> Result<Result<(Hash, Arc<Contract>), Failure>, BlockError> {
        let code_hash = vellum_runtime::CodeHash::of(code).0;
        if let Err(failure) = self.allowed_code(call, &code_hash)? {
            return Ok(Err(failure));
        }
        Ok(self.prepare(code)?.map(|contract| (code_hash, contract)))
    }

    /// Only a validation failure is the transaction's fault (and the same on every node); a
    /// compiler or instrumentation failure is this node's, and must not become a receipt.
    fn prepare(&self, code: &[u8]) -> Result<Result<Arc<Contract>, Failure>, BlockError> {
        match self.runtime.prepare(code) {
            Ok(contract) => Ok(Ok(contract)),
            Err(PrepareError::Invalid(error)) => {
                Ok(Err(refused(format!("invalid contract code: {error}"))))
            }
            Err(error) => Err(BlockError::Runtime(format!(
                "preparing valid code failed on this node: {error}"
            ))),
        }
    }

    fn deploy(
        &self,
        call: &Caller<'_>,
        code: &[u8],
        init_args: &str,
    ) -> Result<Result<Effects, Failure>, BlockError> {
        let (code_hash, contract) = match self.admit_code(call, code)? {
            Ok(admitted) => admitted,
            Err(failure) => return Ok(Err(failure)),
        };
        let address = records::contract_address(&call.sender, call.nonce);
        let mut effects = match self.run(
            call,
            &contract,
            address,
            "instantiate",
            init_args,
            call.fuel,
        )? {
            Ok(effects) => effects,
            Err(failure) => return Ok(Err(failure)),
        };
        let info = ContractInfo {
            code_hash,
            version: 1,
            deployer: call.sender,
            deployed_at: call.context.height,
            interface: interface_of(code),
        };
        effects
            .writes
            .push((records::code_key(&code_hash), Some(code.to_vec())));
        effects.writes.push((
            records::contract_key(&address),
            Some(borsh::to_vec(&info).unwrap_or_default()),
        ));
        effects.contract = Some(address);
        Ok(Ok(effects))
    }

    fn loaded(&self, call: &Caller<'_>, info: &ContractInfo) -> Result<Arc<Contract>, BlockError> {
        if let Some(contract) = self
            .runtime
            .cached(&vellum_runtime::CodeHash(info.code_hash))
        {
            return Ok(contract);
        }
        let code = call
            .context
            .read(&records::code_key(&info.code_hash))?
            .ok_or_else(|| {
                BlockError::Store(StoreError::Corrupt {
                    table: "state",
                    detail: format!("code {} is missing", hex(&info.code_hash)),
                })
            })?;
        self.runtime
            .prepare(&code)
            .map_err(|e| BlockError::Runtime(format!("stored code no longer prepares: {e}")))
    }

    fn call(
        &self,
        call: &Caller<'_>,
        address: &Address,
        method: &str,
        args: &str,
    ) -> Result<Result<Effects, Failure>, BlockError> {
        if method.is_empty()
            || method.len() > METHOD_BYTES_MAX
            || !method
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            let shown: String = method.chars().take(METHOD_BYTES_MAX).collect();
            return Ok(Err(refused(format!("`{shown}` is not a method name (letters, digits and _, at most {METHOD_BYTES_MAX} bytes)"))));
        }
        let Some(info) = call
            .context
            .record::<ContractInfo>(&records::contract_key(address), "contract")?
        else {
            return Ok(Err(refused(format!("no contract at {}", hex(address)))));
        };
        let contract = self.loaded(call, &info)?;
        self.run(
            call,
            &contract,
            *address,
            &format!("execute.{method}"),
            args,
            call.fuel,
        )
    }

    fn upgrade(
        &self,
        call: &Caller<'_>,
        address: &Address,
        code: &[u8],
        migrate_args: &str,
    ) -> Result<Result<Effects, Failure>, BlockError> {
        let Some(mut info) = call
            .context
            .record::<ContractInfo>(&records::contract_key(address), "contract")?
        else {
            return Ok(Err(refused(format!("no contract at {}", hex(address)))));
        };
        let (code_hash, contract) = match self.admit_code(call, code)? {
            Ok(admitted) => admitted,
            Err(failure) => return Ok(Err(failure)),
        };
        let mut effects = if contract.entry_points().any(|e| e == "migrate") {
            match self.run(
                call,
                &contract,
                *address,
                "migrate",
                migrate_args,
                call.fuel,
            )? {
                Ok(effects) => effects,
                Err(failure) => return Ok(Err(failure)),
            }
        } else if matches!(migrate_args.trim(), "" | "{}" | "null") {
            Effects {
                output: Vec::new(),
                events: Vec::new(),
                writes: Vec::new(),
                contract: None,
                fuel_used: 0,
            }
        } else {
            return Ok(Err(refused(
                "the new code has no `migrate` entry point to take migrate_args",
            )));
        };
        info.code_hash = code_hash;
        info.version += 1;
        info.interface = interface_of(code);
        effects
            .writes
            .push((records::code_key(&code_hash), Some(code.to_vec())));
        effects.writes.push((
            records::contract_key(address),
            Some(borsh::to_vec(&info).unwrap_or_default()),
        ));
        Ok(Ok(effects))
    }

    fn approve(&self, call: &Caller<'_>, code_hash: &Hash) -> Result<Effects, Failure> {
        if call.member.role != Role::Admin {
            return Err(refused("only organisation admins approve code"));
        }
        let key = records::approval_key(code_hash, &call.member.organisation);
        Ok(system_effects(vec![(
            key,
            Some(call.context.height.to_be_bytes().to_vec()),
        )]))
    }

    fn add_member(
        &self,
        call: &Caller<'_>,
        public_key: &[u8; 33],
        organisation: &str,
        role: Role,
    ) -> Result<Result<Effects, Failure>, BlockError> {
        if call.member.role != Role::Admin || call.member.organisation != organisation {
            return Ok(Err(refused(format!(
                "only admins of `{organisation}` add its members"
            ))));
        }
        if k256::PublicKey::from_sec1_bytes(public_key).is_err() {
            return Ok(Err(refused("not a compressed secp256k1 public key")));
        }
        // An identity belongs to one organisation and changes only through that organisation's
        // admins: adding an existing member would let one organisation take over (or demote)
        // another's identities.
        let key = records::member_key(&address_of(public_key));
        if call.context.read(&key)?.is_some() {
            return Ok(Err(refused(format!(
                "{} is already a member; its organisation must remove it first",
                hex(&address_of(public_key))
            ))));
        }
        let member = Member {
            public_key: *public_key,
            organisation: organisation.to_string(),
            role,
        };
        Ok(Ok(system_effects(vec![(
            key,
            Some(borsh::to_vec(&member).unwrap_or_default()),
        )])))
    }

    fn remove_member(
        &self,
        call: &Caller<'_>,
        public_key: &[u8; 33],
    ) -> Result<Result<Effects, Failure>, BlockError> {
        let address = address_of(public_key);
        let Some(target) = call
            .context
            .record::<Member>(&records::member_key(&address), "member")?
        else {
            return Ok(Err(refused(format!("{} is not a member", hex(&address)))));
        };
        if call.member.role != Role::Admin || call.member.organisation != target.organisation {
            return Ok(Err(refused(format!(
                "only admins of `{}` remove its members",
                target.organisation
            ))));
        }
        if address == call.sender {
            return Ok(Err(refused("an admin cannot remove itself")));
        }
        Ok(Ok(system_effects(vec![(
            records::member_key(&address),
            None,
        )])))
    }
}

/// Who is executing what, within a block.
struct Caller<'a> {
    context: &'a BlockContext,
    sender: Address,
    nonce: u64,
    member: &'a Member,
    fuel: u64,
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

/// Why a transaction could not be applied: it makes the block invalid, or the node failed.
enum Rejection {
    Invalid(TransactionError),
    Fault(BlockError),
}

impl From<BlockError> for Rejection {
    fn from(error: BlockError) -> Self {
        Rejection::Fault(error)
    }
}

fn system_effects(writes: Vec<StateWrite>) -> Effects {
    Effects {
        output: Vec::new(),
        events: Vec::new(),
        writes,
        contract: None,
        fuel_used: 0,
    }
}

/// Committed state, with `pending`'s writes on top if a block is still being committed.
fn base_state(snapshot: Snapshot, pending: &[&ExecutedBlock]) -> Arc<dyn Storage> {
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
fn unlanded<'a>(
    store: &Store,
    committed: u64,
    pending: &[&'a ExecutedBlock],
) -> Result<Vec<&'a ExecutedBlock>, BlockError> {
    let mut above = Vec::with_capacity(pending.len());
    for (i, block) in pending.iter().enumerate() {
        let header = &block.block.header;
        if i > 0 && header.parent != pending[i - 1].block.header.hash() {
            return Err(BlockError::Runtime(format!(
                "pending block {} does not extend pending block {}",
                header.height,
                header.height - 1
            )));
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

/// A transaction's signature check.
type Verdict = Result<(), TransactionError>;

/// Whether a block run checks a proposal or builds one.
#[derive(Clone, Copy)]
enum Run {
    /// Every rule is enforced on every transaction.
    Verify,
    /// Invalid candidates are left out; candidates stop at the first limit.
    Build,
}

/// The running totals a builder admits candidates against.
#[derive(Default)]
struct Admission {
    count: usize,
    fuel: u64,
    bytes: u64,
}

impl Admission {
    /// `Ok(true)` to take `transaction`, `Ok(false)` once the block is full, or why it can never
    /// be in a block.
    fn admit(
        &mut self,
        limits: &ChainLimits,
        transaction: &SignedTransaction,
    ) -> Result<bool, TransactionError> {
        let size = transaction.encode().len();
        if size > TRANSACTION_BYTES_MAX {
            return Err(TransactionError::TooLarge {
                size,
                max: TRANSACTION_BYTES_MAX,
            });
        }
        let fuel = self.fuel.saturating_add(transaction.transaction.fuel_limit);
        let bytes = self.bytes + size as u64;
        if self.count + 1 > limits.block_transactions_max
            || fuel > limits.block_fuel_max
            || bytes > limits.block_bytes_max
        {
            return Ok(false);
        }
        (self.count, self.fuel, self.bytes) = (self.count + 1, fuel, bytes);
        Ok(true)
    }
}

/// The `vellum:interface` custom section of `code`, or empty.
pub fn interface_of(code: &[u8]) -> String {
    wasmparser::Parser::new(0)
        .parse_all(code)
        .filter_map(Result::ok)
        .find_map(|payload| match payload {
            wasmparser::Payload::CustomSection(reader) if reader.name() == "vellum:interface" => {
                Some(String::from_utf8_lossy(reader.data()).into_owned())
            }
            _ => None,
        })
        .unwrap_or_default()
}

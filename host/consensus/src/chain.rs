//! The ledger as consensus holds it: the store and executor, the mempool, the blocks executed
//! but not yet final, and the halt state, shared by the proposer, the verifier, the finalizer
//! and gossip.
//!
//! Blocks executed but not yet final are kept by digest, so a child is executed on top of its
//! parent's writes without waiting for the parent to commit; they are dropped once a block at
//! their height commits. Finalization (`Chain::finalize`) commits the block executed during
//! verification, with its seal; a block this node never verified (backfill after downtime) is
//! executed first. If this node's execution disagrees with a finalized block, it halts with a
//! [`Halt::Diverged`] report naming the first differing transaction, and commits nothing more:
//! it never continues on a fork.

use crate::{
    block::{Digest, RoundBlock},
    halt::{report, Divergence, Halt},
    mempool::{Mempool, MempoolError},
    metrics::ChainMetrics,
    seal::Seal,
};
use commonware_consensus::{marshal::ancestry::Ancestry, Heightable};
use commonware_cryptography::{Digested, Digestible};
use commonware_runtime::{Clock, Metrics, Spawner};
use futures::channel::oneshot;
use futures::StreamExt as _;
use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, MutexGuard,
    },
    time::{Duration, UNIX_EPOCH},
};
use tracing::{debug, error};
use vellum_ledger::{BlockError, EntryError, ExecutedBlock, Executor, Proposal, Snapshot, Store};
use vellum_types::{hex, Address, Hash, Header, Receipt, SignedTransaction};

/// How many blocks a proposal may build on before this node's commits catch up; beyond it,
/// propose and verify wait for the finalizer instead of re-executing a long chain.
const UNCOMMITTED_MAX: u64 = 32;

/// Why a transaction was not accepted into the pool.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// The entry check refused it (or this node could not read its store).
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// The pool refused it.
    #[error(transparent)]
    Mempool(#[from] MempoolError),
}

/// A transaction that passed the entry check, on its way into the pool.
pub(crate) struct Checked {
    transaction: SignedTransaction,
    hash: Hash,
    /// The sender's next nonce, as of the state the check read.
    next: u64,
    /// The last commit the pool had heard of before the check.
    pool_height: u64,
}

/// The ledger state consensus works on, shared by proposer, verifier, finalizer and gossip.
pub struct Chain {
    executor: Arc<Executor>,
    store: Arc<Store>,
    mempool: Mutex<Mempool>,
    /// Blocks executed (proposed or verified) but not yet committed, by digest.
    executed: Mutex<HashMap<Digest, Arc<ExecutedBlock>>>,
    halted: Mutex<Option<Halt>>,
    halts: Mutex<Vec<oneshot::Sender<Halt>>>,
    metrics: Mutex<Option<ChainMetrics>>,
    /// The highest height the network is known to have finalized.
    tip: AtomicU64,
    /// Where transactions a commit made ready go to be gossiped (set by [`crate::gossip`]).
    released: Mutex<Option<futures::channel::mpsc::Sender<SignedTransaction>>>,
    /// Whether this node never proposes (an observer): then each commit also gossips again the
    /// ready transactions still pending after [`RESEND_BLOCKS`].
    resends: AtomicBool,
    /// The pool's height and the committed state read by entry checks at it
    /// ([`Chain::entry_state`]); none once a commit reached the pool, until a check reads again.
    entry_state: Mutex<(u64, Option<Arc<Snapshot>>)>,
}

/// Blocks an observer waits before it gossips a pending transaction again.
pub const RESEND_BLOCKS: u64 = 8;
/// The most transactions an observer gossips again per commit.
const RESEND_MAX: usize = crate::gossip::BATCH_TRANSACTIONS_MAX;

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Chain {
    /// The chain over `store`, executing with `executor`, taking transactions from `mempool`.
    pub fn new(executor: Arc<Executor>, store: Arc<Store>, mempool: Mempool) -> Arc<Self> {
        Arc::new(Self {
            executor,
            store,
            mempool: Mutex::new(mempool),
            executed: Mutex::new(HashMap::new()),
            halted: Mutex::new(None),
            halts: Mutex::new(Vec::new()),
            metrics: Mutex::new(None),
            tip: AtomicU64::new(0),
            released: Mutex::new(None),
            resends: AtomicBool::new(false),
            entry_state: Mutex::new((0, None)),
        })
    }

    /// This node never proposes: from now on each commit also gossips again the ready
    /// transactions it still holds after [`RESEND_BLOCKS`] blocks.
    pub(crate) fn never_proposes(&self) {
        self.resends.store(true, Ordering::Relaxed);
    }

    /// Send the transactions each commit makes ready to `outbox`, to be gossiped.
    pub(crate) fn release_to(&self, outbox: futures::channel::mpsc::Sender<SignedTransaction>) {
        *lock(&self.released) = Some(outbox);
    }

    /// The highest height the network is known to have finalized; above this node's height
    /// while it catches up.
    pub fn finalized_tip(&self) -> u64 {
        self.tip.load(Ordering::Relaxed)
    }

    /// Record that the network has finalized `height`.
    pub(crate) fn observe_tip(&self, height: u64) {
        self.tip.fetch_max(height, Ordering::Relaxed);
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The executor.
    pub fn executor(&self) -> &Arc<Executor> {
        &self.executor
    }

    /// The mempool.
    pub fn mempool(&self) -> MutexGuard<'_, Mempool> {
        lock(&self.mempool)
    }

    /// Why this validator halted, if it did.
    pub fn halted(&self) -> Option<Halt> {
        lock(&self.halted).clone()
    }

    /// A future that resolves when this validator halts.
    pub fn on_halt(&self) -> oneshot::Receiver<Halt> {
        let (sender, receiver) = oneshot::channel();
        match self.halted() {
            Some(halt) => {
                let _ = sender.send(halt);
            }
            None => lock(&self.halts).push(sender),
        }
        receiver
    }

    /// Check `transaction` against committed state and add it to the mempool. Returns its hash
    /// and the transactions it made ready (see [`Mempool::insert`]).
    pub fn submit(
        &self,
        transaction: SignedTransaction,
    ) -> Result<(Hash, Vec<SignedTransaction>), SubmitError> {
        let checked = self.check(transaction)?;
        self.admit(checked)
    }

    /// The first half of [`Chain::submit`]: the entry check, against committed state and
    /// without the pool's lock (it verifies the signature).
    pub(crate) fn check(&self, transaction: SignedTransaction) -> Result<Checked, SubmitError> {
        let hash = transaction.hash();
        let (window, pool_height) = {
            let mempool = self.mempool();
            if mempool.contains(&hash) {
                return Err(MempoolError::Duplicate(hex(&hash)).into());
            }
            (mempool.limits().nonce_window, mempool.height())
        };
        // A nonce ahead of the next one waits in the pool for the ones before it.
        let snapshot = self.entry_state(pool_height)?;
        let next = self
            .executor
            .check_entry_at(&snapshot, &transaction, hash, window)?;
        Ok(Checked {
            transaction,
            hash,
            next,
            pool_height,
        })
    }

    /// The committed state entry checks read while the pool is at `pool_height`: one read
    /// transaction of the store for all of them, taken after the pool heard of that height's
    /// commit, so never older than the pool (a check reading a store one block newer is the
    /// race [`Chain::admit`] already settles). Opening a read transaction per check was about
    /// 2 % of a validator's time at full load. Each commit that reaches the pool lets the read go
    /// ([`Chain::finalize`]): a read held open keeps redb from reusing the pages later commits
    /// free, and an idle node would hold one for as long as no transaction came.
    fn entry_state(&self, pool_height: u64) -> Result<Arc<Snapshot>, EntryError> {
        let mut cached = lock(&self.entry_state);
        if let (height, Some(snapshot)) = &*cached {
            if *height == pool_height {
                return Ok(snapshot.clone());
            }
        }
        let snapshot = Arc::new(self.store.snapshot()?);
        // A check that read the pool's height before a commit reached it does not keep its read.
        if cached.0 <= pool_height {
            *cached = (pool_height, Some(snapshot.clone()));
        }
        Ok(snapshot)
    }

    /// The second half of [`Chain::submit`]: into the pool.
    ///
    /// The store commits a block before the pool hears of it, so the pool never runs ahead of
    /// the state the check read, but it may have caught up since: a block that committed the
    /// sender's earlier transactions emptied its queue, and `next` is stale. The pool would
    /// take the transaction as waiting behind a gap that is already filled, never offer it,
    /// and drop it after `gap_blocks_max` blocks. So when the pool heard of a commit since the
    /// check, the nonce is read again, under the pool's lock: any later commit reaches the pool
    /// after this insert, and the pool applies it to the sender's queue.
    pub(crate) fn admit(
        &self,
        checked: Checked,
    ) -> Result<(Hash, Vec<SignedTransaction>), SubmitError> {
        let Checked {
            transaction,
            hash,
            mut next,
            pool_height,
        } = checked;
        let mut mempool = self.mempool();
        if mempool.height() != pool_height {
            next = self
                .store
                .next_nonce(&transaction.sender())
                .map_err(EntryError::Store)?;
        }
        let ready = mempool.insert(transaction, hash, next)?;
        self.observe_mempool(&mempool);
        Ok((hash, ready))
    }

    /// Build this node's proposal on top of `pending` (blocks above the commit, oldest first):
    /// `proposal`'s header fields with the mempool's ready transactions, executed until the block
    /// is full or `out_of_time()`. Returns the block and how many candidates were left out.
    ///
    /// A candidate left out for good (its signature, chain or fuel limit) leaves the pool, and so
    /// does one whose key stopped signing for a member on this branch (removed, rotated away,
    /// its organisation gone): no later block undoes that, and kept, such transactions would be
    /// offered to every block until they expire (on a branch that is then abandoned, they are
    /// lost and must be sent again). One invalid only on this branch (a nonce, a duplicate)
    /// stays: the branch may be abandoned, and the pool forgets it once a commit makes it stale. Candidates start after
    /// the nonces `pending` already used, so a transaction in a pending block is not offered
    /// again on top of it, and is offered again on a branch without it.
    pub fn build(
        &self,
        pending: &[Arc<ExecutedBlock>],
        mut proposal: Proposal,
        out_of_time: &dyn Fn() -> bool,
    ) -> Result<(ExecutedBlock, usize), BlockError> {
        let mut pending_next: BTreeMap<Address, u64> = BTreeMap::new();
        for executed in pending {
            for transaction in &executed.block.transactions {
                pending_next.insert(transaction.sender(), transaction.transaction.nonce + 1);
            }
        }
        let limits = &self.executor.genesis().limits;
        proposal.transactions = self
            .mempool()
            .candidates(limits.block_transactions_max, |sender| {
                pending_next.get(sender).copied()
            });
        let below: Vec<&ExecutedBlock> = pending.iter().map(Arc::as_ref).collect();
        let (executed, skipped) =
            self.executor
                .build(&self.store, &below, proposal, out_of_time)?;
        let mut mempool = self.mempool();
        for (hash, error) in &skipped {
            if !error.depends_on_state() || error.sender_gone() {
                mempool.remove(hash);
            }
        }
        Ok((executed, skipped.len()))
    }

    pub(crate) fn halt(&self, halt: Halt) {
        error!("{halt}");
        let mut halted = lock(&self.halted);
        if halted.is_none() {
            *halted = Some(halt.clone());
            for sender in lock(&self.halts).drain(..) {
                let _ = sender.send(halt.clone());
            }
        }
    }

    pub(crate) fn register_metrics(&self, context: &impl Metrics) {
        let metrics = ChainMetrics::register(context);
        metrics
            .height
            .set(self.store.height().unwrap_or_default() as i64);
        *lock(&self.metrics) = Some(metrics);
    }

    pub(crate) fn observe_mempool(&self, mempool: &Mempool) {
        if let Some(metrics) = lock(&self.metrics).as_ref() {
            metrics.mempool_transactions.set(mempool.len() as i64);
            metrics.mempool_bytes.set(mempool.bytes() as i64);
        }
    }

    /// Remember `executed`, the execution of the block with `digest`.
    pub(crate) fn remember(&self, digest: Digest, executed: Arc<ExecutedBlock>) {
        lock(&self.executed).insert(digest, executed);
    }

    /// The execution of the block with `digest`, if this node executed it and has not
    /// committed it yet.
    pub(crate) fn executed(&self, digest: &Digest) -> Option<Arc<ExecutedBlock>> {
        lock(&self.executed).get(digest).cloned()
    }

    /// The chain of executed, uncommitted blocks from just above the store's head up to
    /// `parent`, oldest first; blocks not executed yet (this node restarted, or is catching up)
    /// are executed now and checked against their headers.
    pub(crate) async fn pending<E: Clock + Spawner>(
        self: &Arc<Self>,
        context: &E,
        parent: Digested<RoundBlock>,
        mut ancestry: impl Ancestry<RoundBlock>,
    ) -> Result<Vec<Arc<ExecutedBlock>>, Rejected> {
        // Do not run ahead of this node's own commits by more than a bounded chain.
        loop {
            let committed = self.store.height().map_err(|e| self.fault(&e))?;
            if parent.height().get() <= committed + UNCOMMITTED_MAX {
                break;
            }
            context.sleep(Duration::from_millis(50)).await;
        }
        let committed = self.store.height().map_err(|e| self.fault(&e))?;
        // Walk back to the committed chain, newest first.
        let mut branch = Vec::new();
        let mut current = parent;
        while current.height().get() > committed {
            let next = ancestry.next().await;
            branch.push(current);
            current = next.ok_or_else(|| Rejected::Invalid("ancestry ended early".into()))?;
        }
        let height = current.height().get();
        let stored = self.store.header(height).map_err(|e| self.fault(&e))?;
        if stored.as_ref().map(Header::hash) != Some(current.inner().header().hash()) {
            return Err(Rejected::Invalid(format!(
                "block {height} on this branch conflicts with the committed chain"
            )));
        }
        // Then forward, executing what this node has not executed yet.
        let mut chain: Vec<Arc<ExecutedBlock>> = Vec::with_capacity(branch.len());
        for block in branch.into_iter().rev() {
            let executed = match self.executed(&block.digest()) {
                Some(executed) => Some(executed),
                None => {
                    self.execute(context, chain.clone(), block.inner().clone())
                        .await?
                }
            };
            match executed {
                Some(executed) => {
                    self.remember(block.digest(), executed.clone());
                    chain.push(executed);
                }
                // Committed meanwhile, and so is everything below it.
                None => chain.clear(),
            }
        }
        Ok(chain)
    }

    /// Execute `block` on top of `below` and check that the result is `block`. `None` if this
    /// node has committed `block` meanwhile (its finalizer runs concurrently): a verdict must
    /// never depend on that race, or honest validators could split on a block and stall.
    pub(crate) async fn execute<E: Spawner>(
        self: &Arc<Self>,
        context: &E,
        below: Vec<Arc<ExecutedBlock>>,
        block: RoundBlock,
    ) -> Result<Option<Arc<ExecutedBlock>>, Rejected> {
        let chain = self.clone();
        let candidate = block.clone();
        let result = off_thread(context, move || {
            let below: Vec<&ExecutedBlock> = below.iter().map(Arc::as_ref).collect();
            chain.executor.execute_after(
                &chain.store,
                &below,
                Proposal::replay(candidate.ledger().clone()),
            )
        })
        .await
        .ok_or_else(|| self.fault_message("the execution task was dropped".into()))?;
        let executed = match result {
            Ok(executed) => executed,
            Err(error) => {
                if self.landed(&block)? {
                    return Ok(None);
                }
                return Err(self.reject(error));
            }
        };
        if executed.block.header != *block.header() || executed.receipt_hashes() != block.receipts()
        {
            return Err(Rejected::Mismatch(Box::new(executed)));
        }
        Ok(Some(Arc::new(executed)))
    }

    /// Whether this node has committed `block` itself.
    fn landed(&self, block: &RoundBlock) -> Result<bool, Rejected> {
        let header = self
            .store
            .header(block.header().height)
            .map_err(|e| self.fault(&e))?;
        Ok(header.as_ref() == Some(block.header()))
    }

    /// The verdict on a block that failed to execute: invalid, or this node's own fault (then
    /// it halts, and never votes against a block because of its own failure).
    pub(crate) fn reject(&self, error: BlockError) -> Rejected {
        if error.is_local_fault() {
            self.fault(&error)
        } else {
            Rejected::Invalid(error.to_string())
        }
    }

    fn fault(&self, error: &(dyn std::error::Error + 'static)) -> Rejected {
        self.fault_message(report(error))
    }

    fn fault_message(&self, message: String) -> Rejected {
        self.halt(Halt::Fault(message.clone()));
        Rejected::Fault(message)
    }

    /// Commit the finalized `block`, executing it first if this node has not.
    pub(crate) async fn finalize<E: Spawner + Clock>(
        self: &Arc<Self>,
        context: &E,
        block: Digested<RoundBlock>,
        seal: Seal,
    ) -> Result<(), Halt> {
        let height = block.height().get();
        let fault = |error: &(dyn std::error::Error + 'static)| Halt::Fault(report(error));
        let committed = self.store.height().map_err(|e| fault(&e))?;
        if height <= committed {
            // Marshal redelivers after a restart: the block must be the one already committed.
            let stored = self.store.header(height).map_err(|e| fault(&e))?;
            if stored.as_ref() != Some(block.inner().header()) {
                return Err(self.diverged(
                    &block,
                    None,
                    Some("this validator committed a different block at this height".into()),
                ));
            }
            return Ok(());
        }
        let executed = match self.executed(&block.digest()) {
            Some(executed) => executed,
            None => match self
                .execute(context, Vec::new(), block.inner().clone())
                .await
            {
                Ok(Some(executed)) => executed,
                Ok(None) => return Ok(()),
                Err(Rejected::Mismatch(ours)) => {
                    return Err(self.diverged(&block, Some(&ours), None))
                }
                Err(Rejected::Invalid(reason)) => {
                    return Err(self.diverged(&block, None, Some(reason)))
                }
                Err(Rejected::Fault(fault)) => return Err(Halt::Fault(fault)),
            },
        };
        let chain = self.clone();
        let to_commit = executed.clone();
        let seal = seal.encode();
        off_thread(context, move || {
            chain.store.commit_sealed(&to_commit, Some(&seal))
        })
        .await
        .ok_or_else(|| Halt::Fault("the commit task was dropped".into()))?
        .map_err(|e| fault(&e))?;

        lock(&self.executed).retain(|_, e| e.block.header.height > height);
        // The senders' next nonces from one read of the store, before the pool is locked.
        let next = self
            .store
            .next_nonces(executed.block.transactions.iter().map(|t| t.sender()))
            .map_err(|e| fault(&e))?;
        let mut mempool = self.mempool();
        let mut released = mempool.committed(height, &executed.block.transactions, &next);
        if self.resends.load(Ordering::Relaxed) {
            released.extend(mempool.resend(RESEND_BLOCKS, RESEND_MAX));
        }
        self.observe_mempool(&mempool);
        drop(mempool);
        // The next entry check reads the store again; until then, no read is held open.
        *lock(&self.entry_state) = (height, None);
        if let Some(outbox) = lock(&self.released).as_mut() {
            // A full outbox only delays them: they are in this node's pool.
            for transaction in released {
                let _ = outbox.try_send(transaction);
            }
        }
        if let Some(metrics) = lock(&self.metrics).as_ref() {
            metrics.height.set(height as i64);
            metrics
                .transactions
                .inc_by(executed.block.transactions.len() as u64);
            let age = millis(context).saturating_sub(executed.block.header.time_ms);
            metrics.latency.observe(age as f64 / 1000.0);
        }
        debug!(
            height,
            transactions = executed.block.transactions.len(),
            "committed"
        );
        Ok(())
    }

    fn diverged(
        &self,
        block: &Digested<RoundBlock>,
        ours: Option<&ExecutedBlock>,
        error: Option<String>,
    ) -> Halt {
        let certified = block.inner();
        let mut fields = Vec::new();
        let mut first_transaction = None;
        if let Some(ours) = ours {
            let (a, b) = (&ours.block.header, certified.header());
            for (name, differs) in [
                ("state_root", a.state_root != b.state_root),
                ("receipts_root", a.receipts_root != b.receipts_root),
                ("fuel_used", a.fuel_used != b.fuel_used),
                (
                    "transactions_root",
                    a.transactions_root != b.transactions_root,
                ),
                ("schedule_version", a.schedule_version != b.schedule_version),
            ] {
                if differs {
                    fields.push(name);
                }
            }
            first_transaction = ours
                .receipts
                .iter()
                .zip(certified.receipts())
                .position(|(receipt, theirs)| receipt.hash() != *theirs)
                .map(|index| {
                    let receipt = &ours.receipts[index];
                    (index, hex(&receipt.transaction), describe(receipt))
                });
        }
        let halt = Halt::Diverged(Divergence {
            height: certified.header().height,
            digest: hex(block.digest().as_ref()),
            fields,
            first_transaction,
            error,
        });
        self.halt(halt.clone());
        halt
    }
}

/// Why a block was not accepted.
pub(crate) enum Rejected {
    /// It is invalid: vote against it.
    Invalid(String),
    /// It executes, but not to what it claims.
    Mismatch(Box<ExecutedBlock>),
    /// This node failed; it has halted.
    Fault(String),
}

fn describe(receipt: &Receipt) -> String {
    format!(
        "status {:?}, fuel {}, {} events, receipt hash {}",
        receipt.status,
        receipt.fuel_used,
        receipt.events.len(),
        hex(&receipt.hash())
    )
}

/// Run CPU- or disk-bound `work` where it does not stall the runtime's event loop.
pub(crate) async fn off_thread<E: Spawner, T: Send + 'static>(
    context: &E,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    context
        .child("work")
        .shared(true)
        .spawn(move |_| async move { work() })
        .await
        .ok()
}

/// The runtime's clock, in ms since the Unix epoch.
pub(crate) fn millis<E: Clock>(context: &E) -> u64 {
    context
        .current()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::mempool::Limits;
    use vellum_ledger::testing::{self, next_proposal};
    use vellum_runtime::RuntimeConfig;
    use vellum_types::{DeployPolicy, TransactionError};

    /// A chain of the test genesis with a fresh store in `dir` and a default pool.
    pub(crate) fn test_chain(dir: &std::path::Path) -> Arc<Chain> {
        let genesis = testing::genesis(DeployPolicy::AnyAdmin);
        let store = Store::open(&dir.join("ledger.redb"), &genesis).expect("store");
        let executor = Executor::new(genesis, RuntimeConfig::default()).expect("executor");
        Chain::new(
            Arc::new(executor),
            Arc::new(store),
            Mempool::new(Limits::default()),
        )
    }

    #[test]
    fn a_transaction_on_an_abandoned_branch_is_proposed_again_on_the_branch_that_wins() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let chain = test_chain(dir.path());
        let transaction = testing::call(1, 0, [7; 32], "ping", serde_json::json!({}));
        let (hash, ready) = chain.submit(transaction.clone()).expect("accepted");
        assert_eq!(ready, [transaction]);
        let genesis_head = chain.store().head().expect("head");
        let never = || false;

        // A proposal carries it; the block above that proposal does not offer it again.
        let (abandoned, _) = build_on(&chain, &genesis_head);
        assert_eq!(hashes(&abandoned), [hash]);
        let abandoned = Arc::new(abandoned);
        let (above, _) = chain
            .build(
                std::slice::from_ref(&abandoned),
                next_proposal(&abandoned.block.header, Vec::new()),
                &never,
            )
            .expect("built");
        assert!(hashes(&above).is_empty());
        assert!(chain.mempool().contains(&hash), "still waiting to commit");

        // That branch is abandoned: another proposal at the same height carries it, and once
        // committed, the pool forgets it.
        let mut other = next_proposal(&genesis_head, Vec::new());
        other.time_ms += 1;
        let (winner, _) = chain.build(&[], other, &never).expect("built");
        assert_eq!(hashes(&winner), [hash]);
        assert_ne!(winner.block.header, abandoned.block.header);
        chain.store().commit(&winner).expect("commit");
        let next = BTreeMap::from([(winner.block.transactions[0].sender(), 1)]);
        chain
            .mempool()
            .committed(1, &winner.block.transactions, &next);
        assert!(!chain.mempool().contains(&hash));
    }

    /// Transactions queued by a key that is then rotated away leave the pool the first time a
    /// block is built without them, instead of being offered to every block until they expire.
    #[test]
    fn a_rotated_away_keys_queue_leaves_the_pool() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let chain = test_chain(dir.path());
        let account = vellum_types::address_of(&vellum_types::public_key(&testing::key(3)));
        let rotation = testing::sign(
            3,
            0,
            vellum_types::Action::RotateKey {
                account,
                public_key: vellum_types::public_key(&testing::key(13)),
                proof: vellum_types::transaction::prove_rotation(
                    &testing::key(13),
                    testing::CHAIN,
                    &account,
                ),
            },
        );
        let queued: Vec<Hash> = (1..4)
            .map(|nonce| {
                let call = testing::call(3, nonce, [7; 32], "ping", serde_json::json!({}));
                chain.submit(call).expect("accepted").0
            })
            .collect();
        chain.submit(rotation).expect("accepted");
        let head = chain.store().head().expect("head");
        // Built with the rotation first, the key's later transactions are left out: the block
        // carries the rotation alone, and the pool drops the rest.
        let (built, skipped) = build_on(&chain, &head);
        assert_eq!(built.block.transactions.len(), 1);
        assert_eq!(skipped, queued.len());
        for hash in &queued {
            assert!(
                !chain.mempool().contains(hash),
                "a retired key's transaction stayed"
            );
        }
    }

    /// A transaction checked before a commit of its sender's earlier ones and put in the pool
    /// after it is ready, not left waiting behind a gap the commit already filled (until it is
    /// dropped, with the sender's later transactions stuck behind it on every validator).
    #[test]
    fn a_transaction_checked_before_a_commit_and_pooled_after_it_is_ready() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let chain = test_chain(dir.path());
        let first = testing::call(1, 0, [7; 32], "ping", serde_json::json!({}));
        let second = testing::call(1, 1, [7; 32], "ping", serde_json::json!({}));
        chain.submit(first).expect("accepted");
        let checked = chain.check(second.clone()).expect("checked");
        assert_eq!(checked.next, 0, "checked before the first one commits");

        // The first one commits in between: its sender's queue empties.
        let head = chain.store().head().expect("head");
        let (block, _) = build_on(&chain, &head);
        assert_eq!(block.block.transactions.len(), 1);
        chain.store().commit(&block).expect("commit");
        let next = BTreeMap::from([(second.sender(), 1)]);
        chain
            .mempool()
            .committed(1, &block.block.transactions, &next);

        let (hash, ready) = chain.admit(checked).expect("admitted");
        assert_eq!(ready, [second], "ready, and so gossiped");
        let (above, _) = build_on(&chain, &block.block.header);
        assert_eq!(hashes(&above), [hash], "offered to the next block");
    }

    /// Entry checks share one read of the store while the pool stays at a height, and read
    /// again once a commit reaches the pool: a committed transaction, or another with its spent
    /// nonce, is refused right after.
    #[test]
    fn entry_checks_read_the_state_of_the_pools_latest_commit() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let chain = test_chain(dir.path());
        let first = testing::call(1, 0, [7; 32], "ping", serde_json::json!({}));
        chain.submit(first.clone()).expect("accepted");
        // Another sender, checked against the same read.
        chain
            .submit(testing::call(2, 0, [7; 32], "ping", serde_json::json!({})))
            .expect("accepted");
        let head = chain.store().head().expect("head");
        let (block, _) = build_on(&chain, &head);
        assert_eq!(block.block.transactions.len(), 2);
        chain.store().commit(&block).expect("commit");
        let next = block
            .block
            .transactions
            .iter()
            .map(|t| (t.sender(), 1))
            .collect();
        chain
            .mempool()
            .committed(1, &block.block.transactions, &next);

        let replayed = chain.submit(first).map(|_| ()).expect_err("committed");
        assert!(
            matches!(
                replayed,
                SubmitError::Entry(EntryError::Rejected(TransactionError::Duplicate(_)))
            ),
            "{replayed:?}"
        );
        let spent = testing::call(1, 0, [7; 32], "pong", serde_json::json!({}));
        let refused = chain.submit(spent).map(|_| ()).expect_err("nonce spent");
        assert!(
            matches!(
                refused,
                SubmitError::Entry(EntryError::Rejected(TransactionError::BadNonce {
                    expected: 1,
                    found: 0
                }))
            ),
            "{refused:?}"
        );
        chain
            .submit(testing::call(1, 1, [7; 32], "ping", serde_json::json!({})))
            .expect("the next nonce is accepted");
    }

    /// `chain`'s proposal on `parent` with no pending blocks, never out of time: the block and
    /// how many candidates it left out.
    fn build_on(chain: &Chain, parent: &vellum_types::Header) -> (ExecutedBlock, usize) {
        chain
            .build(&[], next_proposal(parent, Vec::new()), &|| false)
            .expect("built")
    }

    fn hashes(executed: &ExecutedBlock) -> Vec<Hash> {
        executed
            .block
            .transactions
            .iter()
            .map(SignedTransaction::hash)
            .collect()
    }
}

//! The ledger as consensus sees it: propose, verify, and commit what is finalized.
//!
//! Simplex orders digests, marshal moves blocks and hands back finalized ones in height order;
//! this module is the application between them, behind marshal's deferred-verification wrapper:
//!
//! - **Propose** builds a block from the mempool on top of the parent's *executed* state. The
//!   executor leaves out candidates that are invalid in that position and stops at the block
//!   limits; the header carries the resulting state root, receipts root and fuel.
//! - **Verify** re-executes the proposal on the same parent state and accepts it only if the
//!   header it computes is the proposer's, field for field, and so are the receipt hashes. The
//!   wrapper lets a validator vote to notarize once the block is available and gates the vote to
//!   finalize on this verdict, so a finalized block's state root was recomputed by at least
//!   `f + 1` honest validators before it was final: the certificate covers this block's own
//!   post-state (`docs/consensus.md` explains the choice).
//! - **Finalize**: marshal delivers each finalized block once, in order ([`Finalizer`]). The
//!   block executed during verify is committed to redb with its seal (round and finalization
//!   certificate, if one names this height); a block this node never verified (backfill after
//!   downtime) is executed first. If this node's execution disagrees with a finalized block, it
//!   halts with a [`Halt::Diverged`] report naming the first differing transaction, and commits
//!   nothing more: it never continues on a fork.
//!
//! Blocks executed but not yet final are kept by digest, so a child is executed on top of its
//! parent's writes without waiting for the parent to commit; they are dropped once a block at
//! their height commits.

use super::{
    block::{Block, Context, Digest, PublicKey},
    mempool::{Mempool, MempoolError},
    Seal,
};
use crate::ledger::{
    transaction::hex, BlockError, ExecutedBlock, Executor, Hash, Header, Proposal, Receipt, Store,
    TransactionError,
};
use commonware_actor::Feedback;
use commonware_consensus::{
    marshal::{ancestry::Ancestry, core::Mailbox, standard::Standard, Update},
    simplex::scheme::ed25519::Scheme,
    Heightable, Reporter,
};
use commonware_cryptography::{Digested, Digestible};
use commonware_runtime::{
    telemetry::metrics::{Counter, Gauge, Histogram, MetricsExt as _},
    Clock, Metrics, Spawner,
};
use commonware_utils::{acknowledgement::Exact, Acknowledgement as _};
use futures::{channel::mpsc, StreamExt};
use std::{
    collections::HashMap,
    fmt,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, MutexGuard,
    },
    time::{Duration, UNIX_EPOCH},
};
use tracing::{debug, error, info, warn};

/// How far ahead of a verifier's clock a block's time may be before it waits.
pub const CLOCK_DRIFT_MAX: Duration = Duration::from_secs(2);

/// How long a leader with an empty mempool waits for a transaction before proposing an empty
/// block: an idle network makes a few blocks a second, not one per network round trip. Well
/// under any sensible leader timeout.
pub const IDLE_PROPOSAL_WAIT: Duration = Duration::from_millis(250);

/// How many blocks a proposal may build on before this node's commits catch up; beyond it,
/// propose and verify wait for the finalizer instead of re-executing a long chain.
const UNCOMMITTED_MAX: u64 = 32;

/// Why a validator stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Halt {
    /// This node's execution of a finalized block disagrees with the block.
    Diverged(Divergence),
    /// This node failed (its disk, its store): not the network's fault.
    Fault(String),
}

impl fmt::Display for Halt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Halt::Diverged(divergence) => divergence.fmt(f),
            Halt::Fault(fault) => write!(
                f,
                "validator halted on a local fault: {fault}. Nothing past the last committed block \
                 was written; fix the cause and restart the node, which resumes from its store."
            ),
        }
    }
}

/// What a validator found when its own execution disagreed with a finalized block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The block's height.
    pub height: u64,
    /// Its consensus digest.
    pub digest: String,
    /// The header fields this node computed differently (empty if it could not execute it).
    pub fields: Vec<&'static str>,
    /// The first transaction whose receipt differs: (position, transaction hash, what this node
    /// computed).
    pub first_transaction: Option<(usize, String, String)>,
    /// Why this node could not execute the block at all, if it could not.
    pub error: Option<String>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CONSENSUS DIVERGENCE: this validator's execution of finalized block {} ({}) \
             disagrees with the network",
            self.height, self.digest
        )?;
        if !self.fields.is_empty() {
            write!(f, "; header fields that differ: {}", self.fields.join(", "))?;
        }
        if let Some(error) = &self.error {
            write!(f, "; this validator rejects the block: {error}")?;
        }
        match &self.first_transaction {
            Some((index, hash, ours)) => write!(
                f,
                "; first differing transaction: #{index} {hash} (this validator computed: {ours})"
            )?,
            None if self.error.is_none() => write!(
                f,
                "; every receipt agrees, so the state writes differ (compare the state of the \
                 contracts these transactions touched)"
            )?,
            None => {}
        }
        write!(
            f,
            ". The validator stopped before committing it and its store stays at height {}: \
             compare its binary, runtime schedule and store with a healthy validator's.",
            self.height.saturating_sub(1)
        )
    }
}

/// Figures the node exports to Prometheus.
struct Figures {
    height: Gauge,
    mempool_transactions: Gauge,
    mempool_bytes: Gauge,
    transactions: Counter,
    latency: Histogram,
}

/// The ledger state consensus works on, shared by proposer, verifier and finalizer.
pub struct Ledger {
    executor: Arc<Executor>,
    store: Arc<Store>,
    mempool: Mutex<Mempool>,
    /// Blocks executed (proposed or verified) but not yet committed, by digest.
    executed: Mutex<HashMap<Digest, Arc<ExecutedBlock>>>,
    halted: Mutex<Option<Halt>>,
    halts: Mutex<Vec<futures::channel::oneshot::Sender<Halt>>>,
    figures: Mutex<Option<Figures>>,
    /// The highest height the network is known to have finalized.
    tip: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Ledger {
    /// The ledger over `store`, executing with `executor`, taking transactions from `mempool`.
    pub fn new(executor: Arc<Executor>, store: Arc<Store>, mempool: Mempool) -> Arc<Self> {
        Arc::new(Self {
            executor,
            store,
            mempool: Mutex::new(mempool),
            executed: Mutex::new(HashMap::new()),
            halted: Mutex::new(None),
            halts: Mutex::new(Vec::new()),
            figures: Mutex::new(None),
            tip: AtomicU64::new(0),
        })
    }

    /// The highest height the network is known to have finalized; above this node's height
    /// while it catches up.
    pub fn finalized_tip(&self) -> u64 {
        self.tip.load(Ordering::Relaxed)
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
    pub fn on_halt(&self) -> futures::channel::oneshot::Receiver<Halt> {
        let (sender, receiver) = futures::channel::oneshot::channel();
        match self.halted() {
            Some(halt) => {
                let _ = sender.send(halt);
            }
            None => lock(&self.halts).push(sender),
        }
        receiver
    }

    /// Check `transaction` against committed state and add it to the mempool.
    pub fn submit(&self, transaction: crate::ledger::SignedTransaction) -> Result<Hash, String> {
        let hash = transaction.hash();
        if self.mempool().contains(&hash) {
            return Err(MempoolError::Duplicate(hex(&hash)).to_string());
        }
        // A nonce ahead of the next one waits in the pool for the ones before it.
        let window = self.mempool().limits().nonce_window;
        let (_, next) = self
            .executor
            .check_entry(&self.store, &transaction, window)
            .map_err(|e| e.to_string())?;
        let mut mempool = self.mempool();
        mempool
            .insert(transaction, hash, next)
            .map_err(|e| e.to_string())?;
        self.observe_mempool(&mempool);
        Ok(hash)
    }

    fn halt(&self, halt: Halt) {
        error!("{halt}");
        let mut halted = lock(&self.halted);
        if halted.is_none() {
            *halted = Some(halt.clone());
            for sender in lock(&self.halts).drain(..) {
                let _ = sender.send(halt.clone());
            }
        }
    }

    fn register_metrics(&self, context: &impl Metrics) {
        let figures = Figures {
            height: context.gauge("height", "Height of the last committed block"),
            mempool_transactions: context.gauge("mempool_transactions", "Transactions pending"),
            mempool_bytes: context.gauge("mempool_bytes", "Encoded bytes of pending transactions"),
            transactions: context.counter("transactions", "Transactions committed"),
            latency: context.histogram(
                "finalization_latency_seconds",
                "Time from a block's timestamp to its commit on this node",
                [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0],
            ),
        };
        figures
            .height
            .set(self.store.height().unwrap_or_default() as i64);
        *lock(&self.figures) = Some(figures);
    }

    fn observe_mempool(&self, mempool: &Mempool) {
        if let Some(figures) = lock(&self.figures).as_ref() {
            figures.mempool_transactions.set(mempool.len() as i64);
            figures.mempool_bytes.set(mempool.bytes() as i64);
        }
    }

    /// The chain of executed, uncommitted blocks from just above the store's head up to
    /// `parent`, oldest first; blocks not executed yet (this node restarted, or is catching up)
    /// are executed now and checked against their headers.
    async fn pending<E: Clock + Spawner>(
        self: &Arc<Self>,
        context: &E,
        parent: Digested<Block>,
        mut ancestry: impl Ancestry<Block>,
    ) -> Result<Vec<Arc<ExecutedBlock>>, Rejected> {
        // Do not run ahead of this node's own commits by more than a bounded chain.
        loop {
            let committed = self.store.height().map_err(|e| self.fault(e.to_string()))?;
            if parent.height().get() <= committed + UNCOMMITTED_MAX {
                break;
            }
            context.sleep(Duration::from_millis(50)).await;
        }
        let committed = self.store.height().map_err(|e| self.fault(e.to_string()))?;
        // Walk back to the committed chain, newest first.
        let mut branch = Vec::new();
        let mut current = parent;
        while current.height().get() > committed {
            let next = ancestry.next().await;
            branch.push(current);
            current = next.ok_or_else(|| Rejected::Invalid("ancestry ended early".into()))?;
        }
        let height = current.height().get();
        let stored = self
            .store
            .header(height)
            .map_err(|e| self.fault(e.to_string()))?;
        if stored.as_ref().map(Header::hash) != Some(current.inner().header().hash()) {
            return Err(Rejected::Invalid(format!(
                "block {height} on this branch conflicts with the committed chain"
            )));
        }
        // Then forward, executing what this node has not executed yet.
        let mut chain: Vec<Arc<ExecutedBlock>> = Vec::with_capacity(branch.len());
        for block in branch.into_iter().rev() {
            let cached = lock(&self.executed).get(&block.digest()).cloned();
            let executed = match cached {
                Some(executed) => Some(executed),
                None => {
                    self.execute(context, chain.clone(), block.inner().clone())
                        .await?
                }
            };
            match executed {
                Some(executed) => {
                    lock(&self.executed).insert(block.digest(), executed.clone());
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
    async fn execute<E: Spawner>(
        self: &Arc<Self>,
        context: &E,
        below: Vec<Arc<ExecutedBlock>>,
        block: Block,
    ) -> Result<Option<Arc<ExecutedBlock>>, Rejected> {
        let ledger = self.clone();
        let candidate = block.clone();
        let result = off_thread(context, move || {
            let below: Vec<&ExecutedBlock> = below.iter().map(Arc::as_ref).collect();
            ledger
                .executor
                .execute_after(&ledger.store, &below, proposal_of(&candidate))
        })
        .await
        .ok_or_else(|| self.fault("the execution task was dropped".into()))?;
        let executed = match result {
            Ok(executed) => executed,
            Err(error) => {
                if self.landed(&block)? {
                    return Ok(None);
                }
                return Err(self.reject(error));
            }
        };
        if executed.block.header != *block.header() || receipt_hashes(&executed) != block.receipts()
        {
            return Err(Rejected::Mismatch(Box::new(executed)));
        }
        Ok(Some(Arc::new(executed)))
    }

    /// Whether this node has committed `block` itself.
    fn landed(&self, block: &Block) -> Result<bool, Rejected> {
        let header = self
            .store
            .header(block.header().height)
            .map_err(|e| self.fault(e.to_string()))?;
        Ok(header.as_ref() == Some(block.header()))
    }

    fn reject(&self, error: BlockError) -> Rejected {
        match error {
            BlockError::Store(_) | BlockError::Runtime(_) => self.fault(error.to_string()),
            other => Rejected::Invalid(other.to_string()),
        }
    }

    fn fault(&self, message: String) -> Rejected {
        self.halt(Halt::Fault(message.clone()));
        Rejected::Fault(message)
    }

    /// Commit the finalized `block`, executing it first if this node has not.
    async fn finalize<E: Spawner + Clock>(
        self: &Arc<Self>,
        context: &E,
        block: Digested<Block>,
        seal: Seal,
    ) -> Result<(), Halt> {
        let height = block.height().get();
        let committed = self
            .store
            .height()
            .map_err(|e| Halt::Fault(e.to_string()))?;
        if height <= committed {
            // Marshal redelivers after a restart: the block must be the one already committed.
            let stored = self
                .store
                .header(height)
                .map_err(|e| Halt::Fault(e.to_string()))?;
            if stored.as_ref() != Some(block.inner().header()) {
                return Err(self.diverged(
                    &block,
                    None,
                    Some("this validator committed a different block at this height".into()),
                ));
            }
            return Ok(());
        }
        let cached = lock(&self.executed).get(&block.digest()).cloned();
        let executed = match cached {
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
        let ledger = self.clone();
        let to_commit = executed.clone();
        let seal = seal.encode();
        off_thread(context, move || {
            ledger.store.commit_sealed(&to_commit, Some(&seal))
        })
        .await
        .ok_or_else(|| Halt::Fault("the commit task was dropped".into()))?
        .map_err(|e| Halt::Fault(e.to_string()))?;

        lock(&self.executed).retain(|_, e| e.block.header.height > height);
        let mut mempool = self.mempool();
        mempool.committed(&executed.block.transactions, |sender| {
            self.store.next_nonce(sender).unwrap_or(0)
        });
        self.observe_mempool(&mempool);
        drop(mempool);
        if let Some(figures) = lock(&self.figures).as_ref() {
            figures.height.set(height as i64);
            figures
                .transactions
                .inc_by(executed.block.transactions.len() as u64);
            let now = context
                .current()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis() as u64;
            let age = now.saturating_sub(executed.block.header.time_ms);
            figures.latency.observe(age as f64 / 1000.0);
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
        block: &Digested<Block>,
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
enum Rejected {
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

fn receipt_hashes(executed: &ExecutedBlock) -> Vec<Hash> {
    executed.receipts.iter().map(Receipt::hash).collect()
}

fn proposal_of(block: &Block) -> Proposal {
    let header = block.header();
    Proposal {
        height: header.height,
        parent: header.parent,
        time_ms: header.time_ms,
        proposer: header.proposer,
        transactions: block.transactions().to_vec(),
    }
}

/// Run CPU- or disk-bound `work` where it does not stall the runtime's event loop.
async fn off_thread<E: Spawner, T: Send + 'static>(
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

fn millis<E: Clock>(context: &E) -> u64 {
    context
        .current()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

/// The application marshal's wrapper drives.
#[derive(Clone)]
pub struct Application {
    ledger: Arc<Ledger>,
}

impl Application {
    /// The application over `ledger`.
    pub fn new(ledger: Arc<Ledger>) -> Self {
        Self { ledger }
    }
}

impl<E: Clock + Spawner + Metrics> commonware_consensus::Application<E> for Application {
    type SigningScheme = Scheme;
    type Context = Context;
    type Block = Block;
    type Input = ();

    async fn propose(
        &mut self,
        (context, round): (E, Context),
        mut ancestry: impl Ancestry<Block>,
        _input: (),
    ) -> Option<Digested<Block>> {
        let ledger = &self.ledger;
        if ledger.halted().is_some() {
            return None;
        }
        let parent = ancestry.next().await?;
        let idle_until = context.current() + IDLE_PROPOSAL_WAIT;
        while ledger.mempool().is_empty() && context.current() < idle_until {
            context.sleep(Duration::from_millis(10)).await;
        }
        let chain = ledger
            .pending(&context, parent.clone(), ancestry)
            .await
            .ok()?;
        let limits = &ledger.executor.genesis().limits;
        let candidates = ledger.mempool().candidates(limits.block_transactions_max);
        let parent_header = parent.inner().header().clone();
        let proposal = Proposal {
            height: parent_header.height + 1,
            parent: parent_header.hash(),
            time_ms: millis(&context).max(parent_header.time_ms + 1),
            proposer: proposer_bytes(&round.leader),
            transactions: candidates,
        };
        let builder = ledger.clone();
        let built = off_thread(&context, move || {
            let below: Vec<&ExecutedBlock> = chain.iter().map(Arc::as_ref).collect();
            builder.executor.build(&builder.store, &below, proposal)
        })
        .await?;
        let (executed, skipped) = match built {
            Ok(built) => built,
            Err(error) => {
                let _ = ledger.reject(error);
                return None;
            }
        };
        // Candidates that can never be included are dropped; a nonce gap may still fill.
        let mut mempool = ledger.mempool();
        for (hash, error) in &skipped {
            if !matches!(error, TransactionError::BadNonce { .. }) {
                mempool.remove(hash);
            }
        }
        drop(mempool);
        let block = Block::new(round, &executed);
        let digest = block.digest();
        lock(&ledger.executed).insert(digest, Arc::new(executed));
        if block.transactions().is_empty() {
            debug!(height = block.header().height, "proposed an empty block");
        } else {
            info!(
                height = block.header().height,
                transactions = block.transactions().len(),
                skipped = skipped.len(),
                "proposed"
            );
        }
        Some(Digested::precomputed(block, digest))
    }

    async fn verify(
        &mut self,
        (context, round): (E, Context),
        mut ancestry: impl Ancestry<Block>,
    ) -> bool {
        let ledger = &self.ledger;
        let Some(block) = ancestry.next().await else {
            return false;
        };
        if block.inner().header().proposer != proposer_bytes(&round.leader) {
            warn!(
                height = block.height().get(),
                "block names another proposer than the round's leader"
            );
            return false;
        }
        // A block from the future waits until it is not; consensus times the view out if
        // that takes too long.
        let time = Duration::from_millis(block.inner().header().time_ms);
        let now = Duration::from_millis(millis(&context));
        if time > now + CLOCK_DRIFT_MAX {
            context.sleep(time - now - CLOCK_DRIFT_MAX).await;
        }
        let Some(parent) = ancestry.next().await else {
            return false;
        };
        if let Some(executed) = lock(&ledger.executed).get(&block.digest()) {
            return executed.block.header == *block.inner().header();
        }
        let chain = match ledger.pending(&context, parent, ancestry).await {
            Ok(chain) => chain,
            Err(rejected) => return verdict(rejected).await,
        };
        match ledger.execute(&context, chain, block.inner().clone()).await {
            Ok(Some(executed)) => {
                lock(&ledger.executed).insert(block.digest(), executed);
                true
            }
            Ok(None) => true,
            Err(rejected) => verdict(rejected).await,
        }
    }
}

/// The vote on a rejected block: against it, or never, if this node has failed.
async fn verdict(rejected: Rejected) -> bool {
    match rejected {
        Rejected::Invalid(reason) => {
            warn!(%reason, "rejected block");
            false
        }
        Rejected::Mismatch(ours) => {
            warn!(
                height = ours.block.header.height,
                "block does not execute to its header"
            );
            false
        }
        Rejected::Fault(_) => futures::future::pending().await,
    }
}

fn proposer_bytes(leader: &PublicKey) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(leader.as_ref());
    bytes
}

/// Receives finalized blocks from marshal and commits them, in order, on its own task.
#[derive(Clone)]
pub struct Finalizer {
    blocks: mpsc::UnboundedSender<(Digested<Block>, Exact)>,
    ledger: Arc<Ledger>,
}

impl Finalizer {
    /// Start committing the blocks marshal finalizes into `ledger`, taking each block's
    /// finalization certificate from `marshal`.
    pub fn start<E: Clock + Spawner + Metrics>(
        context: E,
        ledger: Arc<Ledger>,
        marshal: Mailbox<Scheme, Standard<Block>>,
    ) -> Self {
        ledger.register_metrics(&context);
        let (blocks, mut receiver) = mpsc::unbounded::<(Digested<Block>, Exact)>();
        let finalizer = Self {
            blocks,
            ledger: ledger.clone(),
        };
        context.spawn(move |context| async move {
            while let Some((block, acknowledgement)) = receiver.next().await {
                let height = block.height();
                let finalization = marshal.get_finalization(height).await;
                let seal = Seal {
                    context: block.inner().round_context().clone(),
                    finalization,
                };
                match ledger.finalize(&context, block, seal).await {
                    Ok(()) => acknowledgement.acknowledge(),
                    // Unacknowledged, marshal delivers nothing more: the node stops here.
                    Err(_) => return,
                }
            }
        });
        finalizer
    }
}

impl Reporter for Finalizer {
    type Activity = Update<Block>;

    fn report(&mut self, activity: Update<Block>) -> Feedback {
        match activity {
            Update::Block(block, acknowledgement) => {
                match self.blocks.unbounded_send((block, acknowledgement)) {
                    Ok(()) => Feedback::Ok,
                    Err(_) => Feedback::Closed,
                }
            }
            Update::Tip(_, height, _) => {
                self.ledger.tip.fetch_max(height.get(), Ordering::Relaxed);
                Feedback::Ok
            }
        }
    }
}

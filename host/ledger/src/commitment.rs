//! The authenticated state commitment: every header's `state_root`, and proofs of one key's
//! value or absence against it.
//!
//! The commitment is commonware's QMDB (`qmdb::current::ordered::fixed`, the design of arXiv
//! 2501.05262), its tree hashed with SHA-256. redb stays the world state; QMDB holds, for every key in
//! state, `keccak256(full key) -> keccak256(value)`, in an append-only operation log under a
//! Merkle mountain range with a grafted bitmap of which operations are current. Its root commits
//! to the whole current state, and it proves that a key holds a value now, or holds none.
//!
//! Each block is one QMDB batch: its final writes, merkleized on top of its parent's batch (which
//! may not be applied yet: consensus executes a block while its parent awaits finalization), and
//! applied and made durable when the block commits. The root depends on the sequence of batches,
//! so every node applies exactly one batch per block, in order.
//!
//! # One thread
//!
//! QMDB is asynchronous and runs on commonware's runtime. The ledger is synchronous, so the
//! database lives on a thread of its own, with a one-worker runtime, and [`Commitment`] is a
//! handle that sends it requests and waits for each answer. Requests are served one at a time, in
//! the order they arrive; every caller waits for its own answer, so at most one request per
//! calling thread is queued.
//!
//! # Two stores
//!
//! A block's batch is applied and committed here first, then the block is committed to redb with
//! the operation count QMDB reached (see [`crate::store`]). If the node stops in between, QMDB is
//! one block ahead; the store reopens it at the count recorded for redb's head, which rewinds it.

use crate::executed::StateWrite;
use commonware_cryptography::{sha256, Sha256};
use commonware_parallel::Sequential;
use commonware_runtime::{buffer::paged::CacheRef, tokio, Runner as _, Supervisor as _};
use commonware_storage::{
    journal::contiguous::fixed::Config as JournalConfig,
    merkle::{full::Config as MerkleConfig, mmr, Location},
    qmdb::{
        any::{ordered::Update, value::FixedEncoding},
        current::{batch::MerkleizedBatch, ordered::fixed::Db, FixedConfig},
        floor::Proportional,
        Error as QmdbError,
    },
    translator::EightCap,
};
use commonware_utils::{NZUsize, NZU16, NZU64};
use futures::{channel::mpsc, StreamExt as _};
use std::{
    collections::HashMap,
    path::Path,
    sync::{mpsc as sync_mpsc, Arc, Mutex},
    thread::JoinHandle,
};
pub use vellum_types::state::KeyProof;
use vellum_types::{
    state::{key_digest, CHUNK_BYTES},
    Hash,
};

/// A key or value digest (Keccak-256) as QMDB holds it.
pub type Digest = commonware_cryptography::keccak256::Digest;

/// Bytes of bitmap per grafted chunk (QMDB's `N`).
const CHUNK: usize = CHUNK_BYTES;

/// Speculative batches kept for blocks executed but not committed. Consensus keeps at most 32
/// uncommitted blocks on one branch; this leaves room for competing branches. A batch evicted
/// early is rebuilt from its block's writes when it is needed.
pub const SPECULATIVE_MAX: usize = 256;

type Database =
    Db<mmr::Family, tokio::Context, Digest, Digest, Sha256, EightCap, CHUNK, Sequential>;
type Batch = Arc<
    MerkleizedBatch<
        mmr::Family,
        sha256::Digest,
        Update<Digest, FixedEncoding<Digest>>,
        CHUNK,
        Sequential,
    >,
>;

/// What the commitment failed at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommitmentError {
    /// QMDB failed (I/O, a damaged journal, a stale batch).
    #[error("state commitment: {0}")]
    Qmdb(#[from] commonware_storage::qmdb::Error<mmr::Family>),
    /// The commitment's thread could not start, or has stopped after a failure.
    #[error("the state commitment's thread is not running: {0}")]
    Stopped(String),
    /// A block's writes give another root than its header says.
    #[error("block {height}: its writes commit to {computed}, its header says {expected}")]
    RootMismatch {
        /// The block's height.
        height: u64,
        /// The header's root.
        expected: String,
        /// The root its writes give.
        computed: String,
    },
    /// The commitment is at a state that is neither the base nor any block of the chain asked
    /// about: it and redb disagree.
    #[error(
        "the state commitment is at root {at}, which is not on the chain asked about (base {base})"
    )]
    OffChain {
        /// Where the commitment is.
        at: String,
        /// The chain's base.
        base: String,
    },
}

/// One block of a chain not yet committed: its height, root and final writes.
#[derive(Clone, Copy)]
pub struct Link<'a> {
    /// The block's height.
    pub height: u64,
    /// Its header's `state_root`.
    pub root: Hash,
    /// Its final writes.
    pub writes: &'a [StateWrite],
}

/// A key's proof against the commitment's current root.
#[derive(Clone, Debug)]
pub struct Proved {
    /// The height of the last block applied.
    pub height: u64,
    /// The root the proof is against.
    pub root: Hash,
    /// The proof.
    pub proof: KeyProof,
}

/// The QMDB key of a full state key.
pub fn digest_of(bytes: &[u8]) -> Digest {
    key_digest(bytes)
}

/// A block's writes as QMDB takes them: (key digest, value digest or `None` for a removal).
type Writes = Vec<(Digest, Option<Digest>)>;

/// A block's writes as QMDB takes them.
fn digested(writes: &[StateWrite]) -> Writes {
    writes
        .iter()
        .map(|(key, value)| (digest_of(key), value.as_deref().map(digest_of)))
        .collect()
}

/// The handle to the commitment's thread.
pub struct Commitment {
    asks: mpsc::UnboundedSender<Ask>,
    thread: Mutex<Option<JoinHandle<()>>>,
    opened: Opened,
}

/// Where the commitment stood when it was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opened {
    /// Its root.
    pub root: Hash,
    /// How many operations its log held.
    pub operations: u64,
}

type Answer<T> = sync_mpsc::Sender<Result<T, CommitmentError>>;

/// A chain of uncommitted blocks, as the thread resolves it.
struct Chain {
    /// The root of the committed head the chain starts from.
    base: Hash,
    /// Each block's (height, root), oldest first.
    links: Vec<(u64, Hash)>,
}

enum Ask {
    /// Merkleize `writes` as block `height` on top of `chain`; answer its root.
    Speculate {
        chain: Chain,
        height: u64,
        writes: Writes,
        answer: Answer<Result<Hash, usize>>,
    },
    /// Rebuild the batches of `blocks` (oldest first), which extend `chain` in order.
    Load {
        chain: Chain,
        blocks: Vec<(u64, Hash, Writes)>,
        answer: Answer<()>,
    },
    /// Apply and durably commit block `height`, whose root is `root`, on top of the
    /// commitment's state; answer the operation count after it. `Err(())` if its batch must be
    /// loaded first.
    Apply {
        base: Hash,
        height: u64,
        root: Hash,
        answer: Answer<Result<u64, ()>>,
    },
    /// Prove `key`'s value or absence against the current root.
    Prove { key: Digest, answer: Answer<Proved> },
}

impl Commitment {
    /// Open the commitment in `directory`, at the last commit with at most `operations`
    /// operations (`None`: the latest), with `height` as the last block applied.
    pub fn open(
        directory: &Path,
        operations: Option<u64>,
        height: u64,
    ) -> Result<Self, CommitmentError> {
        let (asks, asked) = mpsc::unbounded();
        let (opened_send, opened_receive) = sync_mpsc::channel();
        let config = tokio::Config::new()
            .with_worker_threads(1)
            .with_storage_directory(directory);
        let thread = std::thread::Builder::new()
            .name("vellum-commitment".into())
            .spawn(move || {
                tokio::Runner::new(config).start(|context| async move {
                    let max = operations.map(Location::new);
                    let db = match Database::init(context.child("qmdb"), config_for(), max).await {
                        Ok(db) => db,
                        Err(error) => {
                            let _ = opened_send.send(Err(CommitmentError::from(error)));
                            return;
                        }
                    };
                    let opened = Opened {
                        root: db.root().into(),
                        operations: *db.bounds().end,
                    };
                    let _ = opened_send.send(Ok(opened));
                    serve(db, height, asked).await;
                })
            })
            .map_err(|e| CommitmentError::Stopped(e.to_string()))?;
        let opened = opened_receive
            .recv()
            .map_err(|_| CommitmentError::Stopped("it ended while opening".into()))??;
        Ok(Self {
            asks,
            thread: Mutex::new(Some(thread)),
            opened,
        })
    }

    /// Where the commitment stood when opened.
    pub fn opened(&self) -> Opened {
        self.opened
    }

    fn ask<T>(&self, make: impl FnOnce(Answer<T>) -> Ask) -> Result<T, CommitmentError> {
        let (answer, answered) = sync_mpsc::channel();
        self.asks
            .unbounded_send(make(answer))
            .map_err(|_| CommitmentError::Stopped("it stopped after an earlier failure".into()))?;
        answered
            .recv()
            .map_err(|_| CommitmentError::Stopped("it ended before answering".into()))?
    }

    /// The root after block `height`, whose final writes are `writes`, on top of `pending`
    /// (uncommitted blocks, oldest first) on top of the committed head whose root is `base`.
    pub fn root_after(
        &self,
        base: &Hash,
        pending: &[Link<'_>],
        height: u64,
        writes: &[StateWrite],
    ) -> Result<Hash, CommitmentError> {
        let digests = digested(writes);
        // At most: some parents are missing; once loaded, they turn out stale and are rebuilt.
        for _ in 0..3 {
            let chain = chain_of(base, pending);
            let writes = digests.clone();
            match self.ask(|answer| Ask::Speculate {
                chain,
                height,
                writes,
                answer,
            })? {
                Ok(root) => return Ok(root),
                Err(missing) => self.load(base, pending, missing)?,
            }
        }
        Err(CommitmentError::Qmdb(QmdbError::StaleBatch))
    }

    /// Rebuild the batches of `pending[from..]`.
    fn load(&self, base: &Hash, pending: &[Link<'_>], from: usize) -> Result<(), CommitmentError> {
        let chain = chain_of(base, &pending[..from]);
        let blocks = pending[from..]
            .iter()
            .map(|link| (link.height, link.root, digested(link.writes)))
            .collect();
        self.ask(|answer| Ask::Load {
            chain,
            blocks,
            answer,
        })
    }

    /// Apply block `block` (on top of the committed head whose root is `base`) and make it
    /// durable; returns the operation count after it. Applying a block already applied is a
    /// no-op that returns the same count.
    pub fn apply(&self, base: &Hash, block: Link<'_>) -> Result<u64, CommitmentError> {
        // At most: the cached batch is stale, and the one rebuilt from the writes applies.
        for _ in 0..3 {
            let (height, root) = (block.height, block.root);
            match self.ask(|answer| Ask::Apply {
                base: *base,
                height,
                root,
                answer,
            })? {
                Ok(operations) => return Ok(operations),
                Err(()) => self.load(base, std::slice::from_ref(&block), 0)?,
            }
        }
        Err(CommitmentError::Qmdb(QmdbError::StaleBatch))
    }

    /// A proof of the value or absence of `full_key` against the current root.
    pub fn prove(&self, full_key: &[u8]) -> Result<Proved, CommitmentError> {
        let key = digest_of(full_key);
        self.ask(|answer| Ask::Prove { key, answer })
    }
}

impl Drop for Commitment {
    fn drop(&mut self) {
        self.asks.close_channel();
        let thread = self
            .thread
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(thread) = thread {
            // Its files must be closed before the store can be opened again.
            let _ = thread.join();
        }
    }
}

fn chain_of(base: &Hash, pending: &[Link<'_>]) -> Chain {
    Chain {
        base: *base,
        links: pending.iter().map(|l| (l.height, l.root)).collect(),
    }
}

fn config_for() -> FixedConfig<EightCap, Sequential> {
    let page_cache = CacheRef::new(NZU16!(16_384), NZUsize!(4_096));
    FixedConfig {
        merkle_config: MerkleConfig {
            journal_partition: "merkle-journal".into(),
            metadata_partition: "merkle-metadata".into(),
            items_per_blob: NZU64!(1 << 20),
            write_buffer: NZUsize!(1 << 20),
            replay_buffer: NZUsize!(1 << 20),
            strategy: Sequential,
            page_cache: page_cache.clone(),
        },
        journal_config: JournalConfig {
            partition: "log".into(),
            items_per_blob: NZU64!(1 << 20),
            page_cache,
            write_buffer: NZUsize!(1 << 20),
            replay_buffer: NZUsize!(1 << 20),
        },
        grafted_metadata_partition: "grafted-metadata".into(),
        translator: EightCap,
        init_cache: Some(NZUsize!(1 << 16)),
        init_buffer: NZUsize!(1 << 20),
        init_concurrency: (),
    }
}

/// The commitment's thread: the database, and the batches of blocks not applied yet.
struct Server {
    /// `None` only after a failed apply consumed it (the thread then stops).
    db: Option<Database>,
    /// The height of the last block applied.
    height: u64,
    /// Merkleized batches by root, with their heights.
    speculative: HashMap<Hash, (u64, Batch, Arc<Writes>)>,
    /// The last block applied: its parent's root, its root, its height and its writes.
    last: Option<(Hash, Hash, u64, Arc<Writes>)>,
}

async fn serve(db: Database, height: u64, mut asked: mpsc::UnboundedReceiver<Ask>) {
    let mut server = Server {
        db: Some(db),
        height,
        speculative: HashMap::new(),
        last: None,
    };
    while let Some(ask) = asked.next().await {
        match ask {
            Ask::Speculate {
                chain,
                height,
                writes,
                answer,
            } => {
                let _ = answer.send(server.speculate(&chain, height, writes).await);
            }
            Ask::Load {
                chain,
                blocks,
                answer,
            } => {
                let _ = answer.send(server.load(chain, blocks).await);
            }
            Ask::Apply {
                base,
                height,
                root,
                answer,
            } => {
                let result = server.apply(base, height, root).await;
                let _ = answer.send(result);
                if server.db.is_none() {
                    // The database was consumed by the failed apply: stop, and every later
                    // request is told so.
                    return;
                }
            }
            Ask::Prove { key, answer } => {
                let _ = answer.send(server.prove(key).await);
            }
        }
    }
}

/// Where a batch is built: on the database itself, or on an unapplied parent batch.
enum Parent {
    Database,
    Batch(Batch),
}

impl Server {
    fn db(&self) -> Result<&Database, CommitmentError> {
        self.db
            .as_ref()
            .ok_or_else(|| CommitmentError::Stopped("an apply failed".into()))
    }

    fn root(&self) -> Hash {
        self.db.as_ref().map_or([0; 32], |db| db.root().into())
    }

    /// The parent for a block on top of `chain`: `Err(i)` if link `i`'s batch must be loaded.
    /// The index of the chain's first link the database does not hold yet.
    fn unapplied(&self, chain: &Chain) -> Result<usize, CommitmentError> {
        let at = self.root();
        if at == chain.base {
            return Ok(0);
        }
        chain
            .links
            .iter()
            .rposition(|(_, root)| *root == at)
            .map(|i| i + 1)
            .ok_or_else(|| CommitmentError::OffChain {
                at: vellum_types::hex(&at),
                base: vellum_types::hex(&chain.base),
            })
    }

    fn parent(&self, chain: &Chain) -> Result<Result<Parent, usize>, CommitmentError> {
        // The newest block of the chain the database already holds (0: the base).
        let applied = self.unapplied(chain)?;
        // Every unapplied ancestor must be held until the child is merkleized.
        for (i, (_, root)) in chain.links.iter().enumerate().skip(applied) {
            if !self.speculative.contains_key(root) {
                return Ok(Err(i));
            }
        }
        Ok(Ok(match chain.links.last() {
            Some((_, root)) if applied < chain.links.len() => {
                Parent::Batch(self.speculative[root].1.clone())
            }
            _ => Parent::Database,
        }))
    }

    async fn merkleize(
        &mut self,
        parent: Parent,
        height: u64,
        writes: Writes,
    ) -> Result<Hash, CommitmentError> {
        let mut batch = match parent {
            Parent::Database => self.db()?.new_batch(),
            Parent::Batch(parent) => parent.new_batch::<Sha256>(),
        };
        for (key, value) in writes.iter() {
            batch = batch.write(*key, *value);
        }
        let written = Arc::new(writes);
        let merkleized = batch.merkleize(self.db()?, None, &mut Proportional).await?;
        let root: Hash = merkleized.root().into();
        if self.speculative.len() >= SPECULATIVE_MAX {
            // Drop the highest: the lowest are the next to commit.
            if let Some(highest) = self
                .speculative
                .iter()
                .max_by_key(|(root, (height, ..))| (*height, **root))
                .map(|(root, _)| *root)
            {
                self.speculative.remove(&highest);
            }
        }
        // An entry already there stays: batches cached on top of it were built on that instance,
        // and must find it when they are applied.
        self.speculative
            .entry(root)
            .or_insert((height, merkleized, written));
        Ok(root)
    }

    async fn speculate(
        &mut self,
        chain: &Chain,
        height: u64,
        writes: Writes,
    ) -> Result<Result<Hash, usize>, CommitmentError> {
        // The block the database applied last, asked about by a caller that read redb before
        // that block landed there: the same writes on the same parent give the same root; other
        // writes are a sibling of a committed block.
        if let Some((parent, root, applied, written)) = &self.last {
            let tip = chain.links.last().map_or(chain.base, |(_, root)| *root);
            if tip == *parent && height == *applied && self.root() == *root {
                if **written == writes {
                    return Ok(Ok(*root));
                }
                return Err(CommitmentError::OffChain {
                    at: vellum_types::hex(root),
                    base: vellum_types::hex(&tip),
                });
            }
        }
        match self.parent(chain)? {
            Ok(parent) => match self.merkleize(parent, height, writes).await {
                Ok(root) => Ok(Ok(root)),
                // The cached parents were built on another instance of a batch than the one the
                // database holds (a batch rebuilt after its children were cached): drop them
                // and have them rebuilt from their blocks' writes.
                Err(CommitmentError::Qmdb(QmdbError::StaleBatch)) => {
                    let first = self.unapplied(chain)?;
                    for (_, root) in &chain.links[first..] {
                        self.speculative.remove(root);
                    }
                    Ok(Err(first))
                }
                Err(error) => Err(error),
            },
            Err(missing) => Ok(Err(missing)),
        }
    }

    async fn load(
        &mut self,
        mut chain: Chain,
        blocks: Vec<(u64, Hash, Writes)>,
    ) -> Result<(), CommitmentError> {
        for (height, expected, writes) in blocks {
            if self.root() != expected && !self.speculative.contains_key(&expected) {
                let parent = match self.parent(&chain)? {
                    Ok(parent) => parent,
                    // Loaded in order: every earlier link is there.
                    Err(_) => Parent::Database,
                };
                let computed = self.merkleize(parent, height, writes).await?;
                if computed != expected {
                    self.speculative.remove(&computed);
                    return Err(CommitmentError::RootMismatch {
                        height,
                        expected: vellum_types::hex(&expected),
                        computed: vellum_types::hex(&computed),
                    });
                }
            }
            chain.links.push((height, expected));
        }
        Ok(())
    }

    async fn apply(
        &mut self,
        base: Hash,
        height: u64,
        root: Hash,
    ) -> Result<Result<u64, ()>, CommitmentError> {
        if self.root() == root {
            return Ok(Ok(*self.db()?.bounds().end));
        }
        if self.root() != base {
            return Err(CommitmentError::OffChain {
                at: vellum_types::hex(&self.root()),
                base: vellum_types::hex(&base),
            });
        }
        let Some((_, batch, written)) = self.speculative.get(&root).cloned() else {
            return Ok(Err(()));
        };
        if let Err(QmdbError::StaleBatch) = self.db()?.validate_batch(&batch) {
            // Built on a chain the database is not on (its parents were rebuilt, or dropped
            // before it was merkleized): rebuild it on the database from the block's writes.
            self.speculative.remove(&root);
            return Ok(Err(()));
        }
        self.db()?.validate_batch(&batch)?;
        // `apply_batch` and `commit` consume the database: on failure it is gone, and the thread
        // stops (see `serve`).
        let db = self
            .db
            .take()
            .ok_or_else(|| CommitmentError::Stopped("an apply failed".into()))?;
        let db = db.apply_batch(batch).await?.commit().await?;
        let operations = *db.bounds().end;
        self.db = Some(db);
        self.height = height;
        self.speculative.retain(|_, (at, ..)| *at > height);
        self.last = Some((base, root, height, written));
        Ok(Ok(operations))
    }

    async fn prove(&self, key: Digest) -> Result<Proved, CommitmentError> {
        let db = self.db()?;
        let proof = match db.get(&key).await? {
            Some(value) => KeyProof::Value {
                value: value.0,
                proof: db.key_value_proof(key).await?,
            },
            None => KeyProof::Absent(db.exclusion_proof(&key).await?),
        };
        Ok(Proved {
            height: self.height,
            root: self.root(),
            proof,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// The full keys the tests write: a small universe, so keys come and go and absences sit
    /// between present keys.
    fn full_key(i: u8) -> Vec<u8> {
        let mut key = vec![7u8; 32];
        key.extend_from_slice(&[i; 9]);
        key
    }

    /// A block's writes as the executor gives them: one per key (the last wins), sorted.
    fn block_writes(raw: &[(u8, Option<Vec<u8>>)]) -> Vec<StateWrite> {
        let last: BTreeMap<Vec<u8>, Option<Vec<u8>>> =
            raw.iter().map(|(k, v)| (full_key(*k), v.clone())).collect();
        last.into_iter().collect()
    }

    /// Block `height` with `writes` on the commitment's state `base`: its root, merkleized and
    /// applied, and the operation count after it.
    fn step(
        commitment: &Commitment,
        base: &Hash,
        height: u64,
        writes: &[StateWrite],
    ) -> (Hash, u64) {
        let root = commitment.root_after(base, &[], height, writes).unwrap();
        let operations = commitment
            .apply(
                base,
                Link {
                    height,
                    root,
                    writes,
                },
            )
            .unwrap();
        (root, operations)
    }

    fn blocks() -> impl Strategy<Value = Vec<Vec<(u8, Option<Vec<u8>>)>>> {
        let write = (
            0u8..8,
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
        );
        proptest::collection::vec(proptest::collection::vec(write, 0..6), 1..5)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

        /// After every block of random writes and removes, every key's proof (of its value or
        /// its absence) verifies against that block's root, and none verifies once any one of
        /// its bytes is altered, or with another value.
        #[test]
        fn every_proof_verifies_against_its_root_and_no_altered_one_does(blocks in blocks()) {
            let dir = tempfile::tempdir().unwrap();
            let commitment = Commitment::open(dir.path(), None, 0).unwrap();
            let mut base = commitment.opened().root;
            let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
            for (height, raw) in blocks.iter().enumerate() {
                let height = height as u64 + 1;
                let writes = block_writes(raw);
                let (root, _) = step(&commitment, &base, height, &writes);
                base = root;
                for (key, value) in &writes {
                    match value {
                        Some(value) => model.insert(key.clone(), value.clone()),
                        None => model.remove(key),
                    };
                }
                for i in 0..8 {
                    let key = full_key(i);
                    let value = model.get(&key).map(Vec::as_slice);
                    let proved = commitment.prove(&key).unwrap();
                    prop_assert_eq!(proved.root, root);
                    prop_assert_eq!(proved.height, height);
                    prop_assert!(proved.proof.verify(&key, value, &root));
                    prop_assert!(!proved.proof.verify(&key, Some(b"another value"), &root));
                    if value.is_some() {
                        // (An absence proof covers every key between two present ones.)
                        prop_assert!(!proved.proof.verify(&full_key(i ^ 1), value, &root));
                    }
                    let digest = match &proved.proof {
                        KeyProof::Value { value, .. } => Some(*value),
                        KeyProof::Absent(_) => None,
                    };
                    prop_assert_eq!(digest.is_some(), value.is_some());
                    let bytes = proved.proof.encode();
                    let decoded = KeyProof::decode(digest, &bytes).unwrap();
                    prop_assert!(decoded.verify(&key, value, &root));
                    for at in 0..bytes.len() {
                        let mut altered = bytes.clone();
                        altered[at] ^= 0x01;
                        if let Ok(altered) = KeyProof::decode(digest, &altered) {
                            prop_assert!(
                                !altered.verify(&key, value, &root),
                                "byte {} of {} altered, and the proof still verifies", at, bytes.len()
                            );
                        }
                    }
                }
            }
        }
    }

    /// Roots of blocks merkleized on unapplied parents equal the roots after applying each in
    /// turn; a commitment that never saw the parents rebuilds them from their writes; and a
    /// branch that is not on the commitment's state is refused as off the chain.
    #[test]
    fn speculative_roots_match_applied_ones_and_missing_parents_are_rebuilt() {
        let writes: Vec<Vec<StateWrite>> = (1..=3u8)
            .map(|b| block_writes(&[(b, Some(vec![b; 3])), (b + 1, None), (0, Some(vec![b]))]))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let speculative = Commitment::open(&dir.path().join("a"), None, 0).unwrap();
        let base = speculative.opened().root;
        let mut links: Vec<Link<'_>> = Vec::new();
        for (i, w) in writes.iter().enumerate() {
            let height = i as u64 + 1;
            let root = speculative.root_after(&base, &links, height, w).unwrap();
            links.push(Link {
                height,
                root,
                writes: w,
            });
        }
        // A second commitment sees only the last block, on top of the two others.
        let fresh = Commitment::open(&dir.path().join("b"), None, 0).unwrap();
        assert_eq!(fresh.opened().root, base);
        let last = fresh.root_after(&base, &links[..2], 3, &writes[2]).unwrap();
        assert_eq!(last, links[2].root);
        // Applied one by one, each reaches the root speculated for it.
        let mut at = base;
        for link in &links {
            let operations = speculative.apply(&at, *link).unwrap();
            assert_eq!(
                speculative.apply(&at, *link).unwrap(),
                operations,
                "applying twice"
            );
            assert_eq!(speculative.prove(&full_key(0)).unwrap().root, link.root);
            at = link.root;
        }
        // The first block's sibling no longer extends the commitment.
        let sibling = block_writes(&[(5, Some(vec![5]))]);
        assert!(matches!(
            speculative.root_after(&base, &[], 1, &sibling),
            Err(CommitmentError::OffChain { .. })
        ));
        // A block whose header claims another root is refused when it is rebuilt.
        let wrong = Link {
            height: 1,
            root: [9; 32],
            writes: &writes[0],
        };
        assert!(matches!(
            fresh.root_after(&base, &[wrong], 2, &writes[1]),
            Err(CommitmentError::RootMismatch { height: 1, .. })
        ));
    }

    /// A block executed twice (proposed, then verified or finalized again) before its child is
    /// applied: its root is the same both times, and the child, merkleized on the first
    /// execution's batch, still applies after the block.
    #[test]
    fn a_block_executed_twice_keeps_its_children_applicable() {
        let dir = tempfile::tempdir().unwrap();
        let commitment = Commitment::open(dir.path(), None, 0).unwrap();
        let base = commitment.opened().root;
        let first = block_writes(&[(1, Some(vec![1]))]);
        let second = block_writes(&[(2, Some(vec![2]))]);
        let root1 = commitment.root_after(&base, &[], 1, &first).unwrap();
        let link1 = Link {
            height: 1,
            root: root1,
            writes: &first,
        };
        let root2 = commitment.root_after(&base, &[link1], 2, &second).unwrap();
        assert_eq!(commitment.root_after(&base, &[], 1, &first).unwrap(), root1);
        commitment.apply(&base, link1).unwrap();
        commitment
            .apply(
                &root1,
                Link {
                    height: 2,
                    root: root2,
                    writes: &second,
                },
            )
            .unwrap();
        let proved = commitment.prove(&full_key(2)).unwrap();
        assert!(proved.proof.verify(&full_key(2), Some(&[2]), &root2));
    }

    /// A caller that read redb just before the commitment's last block landed there asks for
    /// that block's root on its parent: the same writes give the root the commitment holds;
    /// other writes are a sibling of a committed block, off the chain. (Validators rejected
    /// valid proposals on a devnet when this raced.)
    #[test]
    fn the_block_applied_last_is_answered_from_its_parent() {
        let dir = tempfile::tempdir().unwrap();
        let commitment = Commitment::open(dir.path(), None, 0).unwrap();
        let base = commitment.opened().root;
        let first = block_writes(&[(1, Some(vec![1]))]);
        let (root1, _) = step(&commitment, &base, 1, &first);
        assert_eq!(commitment.root_after(&base, &[], 1, &first).unwrap(), root1);
        let sibling = block_writes(&[(2, Some(vec![2]))]);
        assert!(matches!(
            commitment.root_after(&base, &[], 1, &sibling),
            Err(CommitmentError::OffChain { .. })
        ));
        // And its child, on top of it as redb will see it.
        let second = block_writes(&[(2, Some(vec![2]))]);
        step(&commitment, &root1, 2, &second);
    }

    /// Reopened at the operation count of an earlier block, the commitment is back at that
    /// block's root, and a different block can be applied on it.
    #[test]
    fn reopening_at_an_earlier_count_rewinds_the_last_block() {
        let dir = tempfile::tempdir().unwrap();
        let first = block_writes(&[(1, Some(vec![1]))]);
        let second = block_writes(&[(2, Some(vec![2]))]);
        let other = block_writes(&[(3, Some(vec![3]))]);
        let (base, root1, operations1) = {
            let commitment = Commitment::open(dir.path(), None, 0).unwrap();
            let base = commitment.opened().root;
            let (root1, operations1) = step(&commitment, &base, 1, &first);
            step(&commitment, &root1, 2, &second);
            (base, root1, operations1)
        };
        let commitment = Commitment::open(dir.path(), Some(operations1), 1).unwrap();
        assert_eq!(commitment.opened().root, root1);
        assert_eq!(commitment.opened().operations, operations1);
        assert_ne!(root1, base);
        let (root2, _) = step(&commitment, &root1, 2, &other);
        let proved = commitment.prove(&full_key(3)).unwrap();
        assert!(proved.proof.verify(&full_key(3), Some(&[3]), &root2));
        let proved = commitment.prove(&full_key(2)).unwrap();
        assert!(proved.proof.verify(&full_key(2), None, &root2));
    }
}

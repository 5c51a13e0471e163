//! The two candidates for the authenticated state commitment (issue 16), side by side on one
//! state of `VELLUM_COMMITMENT_KEYS` keys (default 1,000,000), both durable on this machine's
//! disk:
//!
//! - **qmdb**: commonware-storage's `qmdb::current::ordered::variable` (the QMDB design: an
//!   append-only operation log under an MMR, with a grafted activity bitmap so a proof shows a
//!   value is the current one), in its own journal files;
//! - **jmt**: the `jmt` crate's Jellyfish Merkle tree (a versioned sparse Merkle tree over
//!   hashed keys), its nodes and values stored in a redb file through its `TreeReader`, the way
//!   Vellum's store would keep it beside the world state in one transaction;
//! - **redb only**: the same writes into one redb table and nothing else, the floor a
//!   commitment adds to.
//!
//! Each state is seeded with the keys `sha256(i)` and 48-byte values. A step writes 1,000
//! existing keys (a block of transfers writes about as many), computes the new root and commits
//! durably. Proofs: of a present key's value and of an absent key, generated at the head and
//! verified; their sizes are printed once, during setup.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use commonware_codec::EncodeSize as _;
use commonware_cryptography::{sha256::Digest, Hasher as _, Sha256};
use commonware_parallel::Sequential;
use commonware_runtime::{buffer::paged::CacheRef, tokio, Runner as _, Supervisor as _};
use commonware_storage::{
    journal::contiguous::variable::Config as JournalConfig,
    merkle::{full::Config as MerkleConfig, mmr},
    qmdb::{
        current::{ordered::variable::Db, VariableConfig},
        floor::Proportional,
    },
    translator::EightCap,
};
use commonware_utils::{NZUsize, NZU16, NZU64};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use jmt::{
    storage::{LeafNode, Node, NodeKey, TreeReader},
    JellyfishMerkleTree, KeyHash, OwnedValue, RootHash, Version,
};
use redb::{Database, Durability, ReadableDatabase, TableDefinition};
use std::{cell::RefCell, path::Path, time::Duration, time::Instant};

/// Keys written per step: about what one block of 1,000 transfers writes.
const STEP: u64 = 1_000;
/// Keys per seeding batch.
const SEED_BATCH: u64 = 100_000;

fn keys() -> u64 {
    std::env::var("VELLUM_COMMITMENT_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// The `i`-th key, as both libraries are given it.
fn key(i: u64) -> [u8; 32] {
    Sha256::hash(&[&i.to_be_bytes()]).0
}

/// A 48-byte value: a balance-sized record, different per `step`.
fn value(i: u64, step: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(48);
    v.extend_from_slice(&i.to_be_bytes());
    v.extend_from_slice(&step.to_be_bytes());
    v.resize(48, 0xab);
    v
}

/// The keys step `step` writes: spread over the whole state, deterministic.
fn step_keys(step: u64, keys: u64) -> impl Iterator<Item = u64> {
    (0..STEP).map(move |j| (step.wrapping_mul(7_919) + j * 104_729) % keys)
}

// ---------------------------------------------------------------------------------------------
// jmt over redb

const NODES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("jmt_nodes");
/// key hash || version (big-endian) -> value (empty for a removal: values are never empty here).
const VALUES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("jmt_values");

struct JmtStore {
    db: Database,
}

/// One read transaction of a [`JmtStore`]: what the tree reads while it computes a step.
struct JmtReader {
    nodes: redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
    values: redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
}

fn value_key(key_hash: &KeyHash, version: Version) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..32].copy_from_slice(&key_hash.0);
    k[32..].copy_from_slice(&version.to_be_bytes());
    k
}

impl TreeReader for JmtReader {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let encoded = borsh::to_vec(node_key)?;
        Ok(match self.nodes.get(encoded.as_slice())? {
            Some(bytes) => Some(borsh::from_slice(bytes.value())?),
            None => None,
        })
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        let low = value_key(&key_hash, 0);
        let high = value_key(&key_hash, max_version);
        let last = self
            .values
            .range(low.as_slice()..=high.as_slice())?
            .next_back();
        Ok(match last {
            Some(entry) => {
                let (_, v) = entry?;
                (!v.value().is_empty()).then(|| v.value().to_vec())
            }
            None => None,
        })
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Used only to restore a tree from a snapshot, which this bench does not do.
        Ok(None)
    }
}

impl JmtStore {
    fn reader(&self) -> JmtReader {
        let read = self.db.begin_read().expect("read");
        JmtReader {
            nodes: read.open_table(NODES).expect("table"),
            values: read.open_table(VALUES).expect("table"),
        }
    }

    fn open(path: &Path) -> Self {
        let db = Database::create(path).expect("redb");
        let write = db.begin_write().expect("write");
        write.open_table(NODES).expect("table");
        write.open_table(VALUES).expect("table");
        write.commit().expect("commit");
        Self { db }
    }

    /// Write `writes` at `version`: the new root, committed durably with the tree's new nodes.
    fn step(&self, writes: Vec<(KeyHash, Option<OwnedValue>)>, version: Version) -> RootHash {
        let reader = self.reader();
        let tree: JellyfishMerkleTree<'_, _, sha2::Sha256> = JellyfishMerkleTree::new(&reader);
        let (root, batch) = tree.put_value_set(writes, version).expect("put");
        let mut write = self.db.begin_write().expect("write");
        write
            .set_durability(Durability::Immediate)
            .expect("durability");
        {
            let mut nodes = write.open_table(NODES).expect("table");
            for (node_key, node) in batch.node_batch.nodes() {
                let k = borsh::to_vec(node_key).expect("encode");
                let v = borsh::to_vec(node).expect("encode");
                nodes.insert(k.as_slice(), v.as_slice()).expect("insert");
            }
            let mut values = write.open_table(VALUES).expect("table");
            for ((version, key_hash), value) in batch.node_batch.values() {
                let k = value_key(key_hash, *version);
                values
                    .insert(k.as_slice(), value.as_deref().unwrap_or_default())
                    .expect("insert");
            }
        }
        write.commit().expect("commit");
        root
    }
}

fn bench_jmt(c: &mut Criterion, keys: u64, dir: &Path) {
    let store = JmtStore::open(&dir.join("jmt.redb"));
    let started = Instant::now();
    let mut version: Version = 0;
    let mut root = RootHash([0; 32]);
    for start in (0..keys).step_by(SEED_BATCH as usize) {
        let writes = (start..(start + SEED_BATCH).min(keys))
            .map(|i| (KeyHash(key(i)), Some(value(i, 0))))
            .collect();
        root = store.step(writes, version);
        version += 1;
    }
    eprintln!(
        "jmt: seeded {keys} keys in {:.1} s, {} bytes on disk",
        started.elapsed().as_secs_f64(),
        std::fs::metadata(dir.join("jmt.redb")).map_or(0, |m| m.len())
    );
    let reader = store.reader();
    let tree: JellyfishMerkleTree<'_, _, sha2::Sha256> = JellyfishMerkleTree::new(&reader);
    let present = KeyHash(key(keys / 2));
    let absent = KeyHash(key(keys + 1));
    let (found, proof) = tree.get_with_proof(present, version - 1).expect("proof");
    let found = found.expect("present");
    proof.verify(root, present, Some(&found)).expect("verifies");
    let (none, exclusion) = tree.get_with_proof(absent, version - 1).expect("proof");
    assert!(none.is_none());
    exclusion
        .verify(root, absent, None::<Vec<u8>>)
        .expect("verifies");
    eprintln!(
        "jmt: value proof {} bytes (+ the value), absence proof {} bytes",
        borsh::to_vec(&proof).expect("encode").len(),
        borsh::to_vec(&exclusion).expect("encode").len()
    );

    let mut group = c.benchmark_group(format!("commitment/{keys} keys"));
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    // Step `n` (from 1) writes version `seeded + n - 1`.
    let seeded = version;
    let step = std::cell::Cell::new(1u64);
    group.bench_function("jmt over redb: 1,000 writes, root, durable commit", |b| {
        b.iter(|| {
            let n = step.replace(step.get() + 1);
            let writes = step_keys(n, keys)
                .map(|i| (KeyHash(key(i)), Some(value(i, n))))
                .collect();
            store.step(writes, seeded + n - 1)
        })
    });
    let head = seeded + step.get() - 2;
    let reader = store.reader();
    let tree: JellyfishMerkleTree<'_, _, sha2::Sha256> = JellyfishMerkleTree::new(&reader);
    group.bench_function("jmt: prove a present value", |b| {
        b.iter(|| tree.get_with_proof(present, head).expect("proof"))
    });
    let (found, proof) = tree.get_with_proof(present, head).expect("proof");
    let found = found.expect("present");
    let root = tree.get_root_hash(head).expect("root");
    group.bench_function("jmt: verify a value proof", |b| {
        b.iter(|| proof.verify(root, present, Some(&found)).expect("verifies"))
    });
    group.bench_function("jmt: prove and verify an absence", |b| {
        b.iter(|| {
            let (none, proof) = tree.get_with_proof(absent, head).expect("proof");
            proof.verify(root, absent, none).expect("verifies")
        })
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// redb only

fn bench_redb(c: &mut Criterion, keys: u64, dir: &Path) {
    const STATE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("state");
    let db = Database::create(dir.join("state.redb")).expect("redb");
    let put = |range: &mut dyn Iterator<Item = u64>, step: u64| {
        let mut write = db.begin_write().expect("write");
        write
            .set_durability(Durability::Immediate)
            .expect("durability");
        {
            let mut state = write.open_table(STATE).expect("table");
            for i in range {
                state
                    .insert(key(i).as_slice(), value(i, step).as_slice())
                    .expect("insert");
            }
        }
        write.commit().expect("commit");
    };
    for start in (0..keys).step_by(SEED_BATCH as usize) {
        put(&mut (start..(start + SEED_BATCH).min(keys)), 0);
    }
    let mut group = c.benchmark_group(format!("commitment/{keys} keys"));
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    let step = RefCell::new(1u64);
    group.bench_function("redb only: 1,000 writes, durable commit", |b| {
        b.iter(|| {
            let step = &mut *step.borrow_mut();
            put(&mut step_keys(*step, keys), *step);
            *step += 1;
        })
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// qmdb

/// Values up to this many bytes.
const QMDB_VALUE_MAX: usize = 4096;

type Qmdb = Db<mmr::Family, tokio::Context, Digest, Vec<u8>, Sha256, EightCap, 32, Sequential>;
type QmdbConfig =
    VariableConfig<EightCap, ((), (commonware_codec::RangeCfg<usize>, ())), Sequential>;

fn qmdb_config() -> QmdbConfig {
    let page_cache = CacheRef::new(NZU16!(16_384), NZUsize!(4_096));
    VariableConfig {
        merkle_config: MerkleConfig {
            journal_partition: "merkle-journal".into(),
            metadata_partition: "merkle-metadata".into(),
            items_per_blob: NZU64!(1 << 20),
            write_buffer: NZUsize!(1 << 21),
            replay_buffer: NZUsize!(1 << 21),
            strategy: Sequential,
            page_cache: page_cache.clone(),
        },
        journal_config: JournalConfig {
            partition: "log".into(),
            items_per_section: NZU64!(1 << 20),
            compression: None,
            codec_config: ((), ((0..=QMDB_VALUE_MAX).into(), ())),
            page_cache,
            write_buffer: NZUsize!(1 << 21),
            replay_buffer: NZUsize!(1 << 21),
        },
        grafted_metadata_partition: "grafted-metadata".into(),
        translator: EightCap,
        init_cache: Some(NZUsize!(1 << 18)),
        init_buffer: NZUsize!(1 << 21),
        init_concurrency: (),
    }
}

/// Write `writes`, merkleize, apply and commit durably: the database after it.
async fn qmdb_step(db: Qmdb, writes: impl Iterator<Item = (Digest, Vec<u8>)>) -> Qmdb {
    let mut batch = db.new_batch();
    for (k, v) in writes {
        batch = batch.write(k, Some(v));
    }
    let merkleized = batch
        .merkleize(&db, None, &mut Proportional)
        .await
        .expect("merkleize");
    db.apply_batch(merkleized)
        .await
        .expect("apply")
        .commit()
        .await
        .expect("commit")
}

/// What the bench asks of the thread that runs qmdb (its futures run on commonware's tokio
/// runtime, which must not be blocked from inside): each answer is timed there.
enum Ask {
    /// Run this many steps; answer the time they took.
    Steps(u64, std::sync::mpsc::Sender<Duration>),
    /// Prove the present key's value this many times; answer the time they took.
    Prove(u64, std::sync::mpsc::Sender<Duration>),
    /// Prove and verify the absent key's absence this many times.
    Absence(u64, std::sync::mpsc::Sender<Duration>),
    /// The head's root, a proof of the present key's value, and the value.
    Proof(std::sync::mpsc::Sender<(Digest, QmdbValueProof, Vec<u8>)>),
}

type QmdbValueProof = commonware_storage::qmdb::current::ordered::proof::constant::KeyValueProof<
    mmr::Family,
    Digest,
    Digest,
    32,
>;

fn bench_qmdb(c: &mut Criterion, keys: u64, dir: &Path) {
    let (ask, asked) = std::sync::mpsc::channel::<Ask>();
    let config = tokio::Config::new()
        .with_worker_threads(2)
        .with_storage_directory(dir.join("qmdb"));
    let qmdb_dir = dir.join("qmdb");
    let runner = std::thread::spawn(move || {
        tokio::Runner::new(config).start(|context| async move {
            let started = Instant::now();
            let mut db = Qmdb::init(context.child("qmdb"), qmdb_config(), None)
                .await
                .expect("init");
            for start in (0..keys).step_by(SEED_BATCH as usize) {
                let writes =
                    (start..(start + SEED_BATCH).min(keys)).map(|i| (Digest(key(i)), value(i, 0)));
                db = qmdb_step(db, writes).await;
            }
            eprintln!(
                "qmdb: seeded {keys} keys in {:.1} s, {} bytes on disk",
                started.elapsed().as_secs_f64(),
                directory_bytes(&qmdb_dir)
            );
            let present = Digest(key(keys / 2));
            let absent = Digest(key(keys + 1));
            let mut step = 1u64;
            // The bench thread blocks on its answers, not this runtime.
            while let Ok(ask) = asked.recv() {
                match ask {
                    Ask::Steps(n, answer) => {
                        let started = Instant::now();
                        for _ in 0..n {
                            let writes =
                                step_keys(step, keys).map(|i| (Digest(key(i)), value(i, step)));
                            db = qmdb_step(db, writes).await;
                            step += 1;
                        }
                        let _ = answer.send(started.elapsed());
                    }
                    Ask::Prove(n, answer) => {
                        let started = Instant::now();
                        for _ in 0..n {
                            db.key_value_proof(present).await.expect("proof");
                        }
                        let _ = answer.send(started.elapsed());
                    }
                    Ask::Absence(n, answer) => {
                        let started = Instant::now();
                        let root = db.root();
                        for _ in 0..n {
                            let proof = db.exclusion_proof(&absent).await.expect("proof");
                            assert!(proof.verify::<Sha256>(&absent, &root));
                        }
                        let _ = answer.send(started.elapsed());
                    }
                    Ask::Proof(answer) => {
                        let proof = db.key_value_proof(present).await.expect("proof");
                        let found = db.get(&present).await.expect("get").expect("present");
                        let exclusion = db.exclusion_proof(&absent).await.expect("proof");
                        assert!(exclusion.verify::<Sha256>(&absent, &db.root()));
                        eprintln!(
                            "qmdb: value proof {} bytes (+ the value), absence proof {} bytes",
                            proof.encode_size(),
                            exclusion.encode_size()
                        );
                        let _ = answer.send((db.root(), proof, found));
                    }
                }
            }
        })
    });
    let timed = |make: &dyn Fn(u64, std::sync::mpsc::Sender<Duration>) -> Ask, iters: u64| {
        let (answer, answered) = std::sync::mpsc::channel();
        ask.send(make(iters, answer)).expect("the qmdb thread runs");
        answered.recv().expect("an answer")
    };
    let (proved, answered) = std::sync::mpsc::channel();
    ask.send(Ask::Proof(proved)).expect("the qmdb thread runs");
    let (root, proof, found) = answered.recv().expect("an answer");
    let present = Digest(key(keys / 2));
    assert!(proof.verify::<Sha256, ValueOf>(present, found.clone(), &root));

    let mut group = c.benchmark_group(format!("commitment/{keys} keys"));
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.bench_function("qmdb current: 1,000 writes, root, durable commit", |b| {
        b.iter_custom(|iters| timed(&Ask::Steps, iters))
    });
    group.bench_function("qmdb: prove a present value", |b| {
        b.iter_custom(|iters| timed(&Ask::Prove, iters))
    });
    let (proved, answered) = std::sync::mpsc::channel();
    ask.send(Ask::Proof(proved)).expect("the qmdb thread runs");
    let (root, proof, found) = answered.recv().expect("an answer");
    group.bench_function("qmdb: verify a value proof", |b| {
        b.iter(|| assert!(proof.verify::<Sha256, ValueOf>(present, found.clone(), &root)))
    });
    group.bench_function("qmdb: prove and verify an absence", |b| {
        b.iter_custom(|iters| timed(&Ask::Absence, iters))
    });
    group.finish();
    drop(ask);
    runner.join().expect("the qmdb thread ends");
}

/// The value encoding of [`Qmdb`].
type ValueOf = commonware_storage::qmdb::any::value::VariableEncoding<Vec<u8>>;

fn directory_bytes(path: &Path) -> u64 {
    std::fs::read_dir(path).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() => directory_bytes(&e.path()),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    })
}

fn commitment(c: &mut Criterion) {
    let keys = keys();
    let dir = tempfile::tempdir().expect("temporary directory");
    bench_redb(c, keys, dir.path());
    bench_qmdb(c, keys, dir.path());
    bench_jmt(c, keys, dir.path());
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(20));
    targets = commitment
}
criterion_main!(benches);

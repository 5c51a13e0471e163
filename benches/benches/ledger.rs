//! Ledger benchmarks on a real redb file: executing and durably committing blocks of signed point
//! transfers from a cold signature cache (verification included), reading history, tracing a
//! provenance graph through a query, and reopening a large ledger.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use k256::ecdsa::SigningKey;
use serde_json::json;
use std::path::Path;
use vellum_consensus::{Chain, Mempool};
use vellum_ledger::{
    commitment::Link,
    keys,
    records::contract_address,
    testing::{artifact, next_proposal},
    ExecutedBlock, Executor, Order, Pipeline, QueryResult, StateWrite, Store, SYSTEM,
};
use vellum_runtime::{MemoryReset, RuntimeConfig};
use vellum_types::{
    address_of,
    genesis::{GenesisMember, Organisation},
    hex, merkle_root, public_key, Action, Block, ChainLimits, DeployPolicy, Genesis, Header, Role,
    SignedTransaction, Status, Transaction,
};

fn operator() -> SigningKey {
    SigningKey::from_slice(&[1; 32]).expect("valid scalar")
}

fn genesis() -> Genesis {
    Genesis {
        chain_id: "bench".into(),
        time_ms: 1_700_000_000_000,
        organisations: vec![Organisation {
            name: "org".into(),
            members: vec![GenesisMember {
                public_key: hex(&public_key(&operator())),
                role: Role::Admin,
            }],
        }],
        deploy_policy: DeployPolicy::AnyAdmin,
        limits: ChainLimits::default(),
        validators: Vec::new(),
        read_policy: Default::default(),
        governance: Default::default(),
    }
}

struct Ledger {
    store: std::sync::Arc<Store>,
    executor: Executor,
    points: [u8; 32],
    nonce: std::cell::Cell<u64>,
    _dir: tempfile::TempDir,
}

impl Ledger {
    fn new() -> Self {
        Self::with_runtime(RuntimeConfig::default())
    }

    fn with_runtime(runtime: RuntimeConfig) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let genesis = genesis();
        let executor = Executor::new(genesis.clone(), runtime).expect("executor");
        let store = Store::open(&dir.path().join("ledger.redb"), &genesis).expect("store");
        let code = artifact("points");
        let operator_address = address_of(&public_key(&operator()));
        let ledger = Self {
            store: std::sync::Arc::new(store),
            executor,
            points: contract_address(&operator_address, 0),
            nonce: Default::default(),
            _dir: dir,
        };
        let admin = hex(&operator_address);
        let setup = vec![
            ledger.sign(Action::Deploy {
                code,
                init_args: "{}".into(),
            }),
            ledger.call(
                "register_issuer",
                json!({"id": "air", "name": "Air", "admin": admin}),
            ),
            ledger.call(
                "mint",
                json!({"issuer": "air", "to": admin, "amount": u64::MAX}),
            ),
        ];
        ledger.commit(setup);
        ledger
    }

    fn sign(&self, action: Action) -> SignedTransaction {
        let nonce = self.nonce.get();
        self.nonce.set(nonce + 1);
        let tx = Transaction {
            chain_id: "bench".into(),
            sender: public_key(&operator()),
            nonce,
            fuel_limit: 10_000_000,
            action,
        };
        tx.sign(&operator())
    }

    fn call(&self, method: &str, args: serde_json::Value) -> SignedTransaction {
        self.sign(Action::Call {
            contract: self.points,
            method: method.into(),
            args: args.to_string(),
        })
    }

    /// `count` transfers from the operator to distinct members.
    fn transfers(&self, count: usize) -> Vec<SignedTransaction> {
        self.transfers_to(count, None)
    }

    /// `count` transfers from the operator: to distinct members, or with `Some(n)` to the same
    /// `n` members over and over, as `vellum bench --accounts n` sends.
    fn transfers_to(&self, count: usize, members: Option<usize>) -> Vec<SignedTransaction> {
        (0..count)
            .map(|i| {
                let to = match members {
                    None => [
                        (self.nonce.get() % 256) as u8,
                        (i % 256) as u8,
                        (i / 256) as u8,
                        7,
                    ],
                    Some(n) => [(i % n) as u8, 0, 0, 9],
                };
                let to = hex(&to.repeat(8));
                self.call("transfer", json!({"issuer": "air", "to": to, "amount": 1}))
            })
            .collect()
    }

    fn proposal(&self, transactions: Vec<SignedTransaction>) -> vellum_ledger::Proposal {
        next_proposal(&self.store.head().expect("head"), transactions)
    }

    fn commit(&self, transactions: Vec<SignedTransaction>) {
        let executed = self
            .executor
            .execute(&self.store, self.proposal(transactions))
            .expect("valid block");
        assert!(executed
            .receipts
            .iter()
            .all(|r| r.status == Status::Success));
        self.store.commit(&executed).expect("commit");
    }
}

fn execute_commit(c: &mut Criterion) {
    let mut group = c.benchmark_group("ledger::execute_commit");
    group.sample_size(10);
    for count in [100usize, 1000, 5000] {
        let ledger = Ledger::new();
        group.throughput(Throughput::Elements(count as u64));
        group.bench_function(
            format!("transactions={count} contract=points method=transfer"),
            |b| {
                b.iter_batched(
                    || ledger.transfers(count),
                    |block| ledger.commit(block),
                    BatchSize::PerIteration,
                )
            },
        );
    }
    group.finish();
}

fn phases(c: &mut Criterion) {
    let mut group = c.benchmark_group("ledger::phase");
    group.sample_size(10);
    let ledger = Ledger::new();
    group.throughput(Throughput::Elements(1000));
    // Signing only: these transactions are never executed, so they get a ledger of their own.
    let signer = Ledger::new();
    group.bench_function("phase=verify_signatures transactions=1000", |b| {
        b.iter_batched(
            || {
                (
                    Executor::new(genesis(), RuntimeConfig::default()).expect("executor"),
                    signer.transfers(1000),
                )
            },
            |(executor, block)| executor.verify_signatures(&block).expect("valid"),
            BatchSize::PerIteration,
        )
    });
    // Executing and committing are timed apart; each iteration commits the previous block
    // outside the measurement so the ledger keeps advancing. Execution is measured with each way
    // of resetting contract memory between calls, in one run.
    let next_block = |ledger: &Ledger, pending: &mut Option<ExecutedBlock>| {
        if let Some(executed) = pending.take() {
            ledger.store.commit(&executed).expect("commit");
        }
        let block = ledger.transfers(1000);
        ledger.executor.verify_signatures(&block).expect("valid");
        ledger.proposal(block)
    };
    for (label, reset) in [
        ("dirty_pages", MemoryReset::DirtyPages),
        ("memset", MemoryReset::Memset),
    ] {
        let ledger = Ledger::with_runtime(RuntimeConfig {
            memory_reset: reset,
            ..RuntimeConfig::default()
        });
        let pending = std::cell::RefCell::new(None);
        group.bench_function(
            format!("phase=execute transactions=1000 memory_reset={label}"),
            |b| {
                b.iter_batched(
                    || next_block(&ledger, &mut pending.borrow_mut()),
                    |proposal| {
                        *pending.borrow_mut() = Some(
                            ledger
                                .executor
                                .execute(&ledger.store, proposal)
                                .expect("valid"),
                        )
                    },
                    BatchSize::PerIteration,
                )
            },
        );
    }
    group.bench_function("phase=commit transactions=1000", |b| {
        b.iter_batched(
            || {
                let proposal = next_block(&ledger, &mut None);
                ledger
                    .executor
                    .execute(&ledger.store, proposal)
                    .expect("valid")
            },
            |executed| ledger.store.commit(&executed).expect("commit"),
            BatchSize::PerIteration,
        )
    });
    // The same with the recipients `vellum bench --accounts 40` has: 40 members, whose
    // balances and histories take the same few pages block after block, where the row above
    // spreads 1,000 new ones over the tables. Then on a node that keeps 16 blocks of history
    // (`history_retention_blocks`): each commit also prunes the block that leaves the window.
    for retention in [None, Some(16)] {
        let ledger = Ledger::new();
        let mut name = "phase=commit transactions=1000 recipients=40".to_string();
        if let Some(blocks) = retention {
            ledger.store.retain_history(blocks);
            name.push_str(&format!(" history_retention={blocks}"));
        }
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let block = ledger.transfers_to(1000, Some(40));
                    ledger.executor.verify_signatures(&block).expect("valid");
                    ledger
                        .executor
                        .execute(&ledger.store, ledger.proposal(block))
                        .expect("valid")
                },
                |executed| ledger.store.commit(&executed).expect("commit"),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// Blocks in one run of `overlap`.
const RUN_BLOCKS: usize = 4;

fn overlap(c: &mut Criterion) {
    let mut group = c.benchmark_group("ledger::blocks");
    group.sample_size(10);
    group.throughput(Throughput::Elements((RUN_BLOCKS * 1000) as u64));
    for overlapped in [false, true] {
        let ledger = Ledger::new();
        let mode = if overlapped {
            "overlapped"
        } else {
            "sequential"
        };
        group.bench_function(
            format!("mode={mode} blocks={RUN_BLOCKS} transactions=1000"),
            |b| {
                b.iter_batched(
                    || {
                        (0..RUN_BLOCKS)
                            .map(|_| ledger.transfers(1000))
                            .collect::<Vec<_>>()
                    },
                    |blocks| {
                        if !overlapped {
                            blocks.into_iter().for_each(|block| ledger.commit(block));
                            return;
                        }
                        let mut pipeline = Pipeline::new(ledger.store.clone());
                        let mut head = ledger.store.head().expect("head");
                        for transactions in blocks {
                            let proposal = next_proposal(&head, transactions);
                            head = pipeline
                                .push(&ledger.executor, proposal)
                                .expect("valid")
                                .block
                                .header
                                .clone();
                        }
                        pipeline.flush().expect("durable");
                    },
                    BatchSize::PerIteration,
                )
            },
        );
    }
    group.finish();
}

/// One transaction from the wire: decode its bytes, verify its signature, hash it, and all of
/// it at once. With the `ledger::phase` execute and commit rows (per transaction: a 1000-
/// transfer block's time / 1000) these are the floor cost of one transfer on one core, the
/// ceiling that end-to-end throughput is measured against (BENCHMARKS.md).
fn transaction(c: &mut Criterion) {
    let ledger = Ledger::new();
    let signed = ledger.transfers(1).remove(0);
    let bytes = signed.encode();
    let mut group = c.benchmark_group("ledger::transaction");
    group.bench_function("operation=decode", |b| {
        b.iter(|| SignedTransaction::decode(&bytes).expect("decodes"))
    });
    group.bench_function("operation=verify", |b| {
        b.iter(|| signed.verify_signature().expect("valid"))
    });
    group.bench_function("operation=hash", |b| b.iter(|| signed.hash()));
    // The JSON-RPC body a client sends (`vellum_sendTransaction`), parsed, its hex decoded and
    // its bytes decoded: the node's ingress minus HTTP and the server's dispatch.
    let body = json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "vellum_sendTransaction",
        "params": [hex(&bytes)],
    })
    .to_string();
    group.bench_function("operation=rpc_decode", |b| {
        b.iter(|| {
            let request: serde_json::Value =
                serde_json::from_str(&body).expect("a JSON-RPC request");
            let raw = request["params"][0].as_str().expect("a hex string");
            SignedTransaction::decode(&vellum_types::unhex(raw).expect("hex")).expect("decodes")
        })
    });
    group.bench_function("operation=decode_verify", |b| {
        b.iter(|| {
            SignedTransaction::decode(&bytes)
                .expect("decodes")
                .verify_signature()
                .expect("valid")
        })
    });
    group.finish();
    // The same signature checked by k256 and by libsecp256k1 (the `secp256k1` crate), each
    // parsing the key and hashing nothing: issue 17 switches verification only for a gain of
    // 1.5× or more (measured at 2.47×, and switched: BENCHMARKS.md).
    let secp = secp256k1::Secp256k1::verification_only();
    let signature =
        secp256k1::ecdsa::Signature::from_compact(&signed.signature).expect("a compact signature");
    let mut group = c.benchmark_group("ledger::signature");
    group.bench_function("operation=verify library=k256", |b| {
        use k256::ecdsa::{signature::hazmat::PrehashVerifier, Signature, VerifyingKey};
        b.iter(|| {
            let key = VerifyingKey::from_sec1_bytes(&signed.transaction.sender).expect("a key");
            let signature = Signature::from_slice(&signed.signature).expect("a signature");
            key.verify_prehash(&signed.transaction.signing_hash(), &signature)
                .expect("valid")
        })
    });
    group.bench_function("operation=verify library=secp256k1", |b| {
        b.iter(|| {
            let key = secp256k1::PublicKey::from_slice(&signed.transaction.sender).expect("a key");
            let message = secp256k1::Message::from_digest(signed.transaction.signing_hash());
            secp.verify_ecdsa(message, &signature, &key).expect("valid")
        })
    });
    // What the node runs: the key and signature parsed, the low-S rule, the check.
    group.bench_function("operation=verify library=node", |b| {
        b.iter(|| signed.verify_signature().expect("valid"))
    });
    group.finish();
}

/// The entry check of `vellum_sendTransaction` as the node runs it (`Chain::submit`): the
/// duplicate lookup, the signature, the sender's membership and nonce read from the store, the
/// pool's insert. Per transaction: 1,000 transfers into an empty pool, divided by 1,000.
fn entry(c: &mut Criterion) {
    let ledger = Ledger::new();
    let transfers = ledger.transfers(1000);
    let mut group = c.benchmark_group("ledger::entry");
    group.throughput(Throughput::Elements(transfers.len() as u64));
    group.sample_size(20);
    group.bench_function("operation=submit transactions=1000", |b| {
        b.iter_batched(
            // A new executor each time: its cache of verified signatures would skip the
            // verification of transactions it has seen.
            || {
                let executor = std::sync::Arc::new(
                    Executor::new(genesis(), RuntimeConfig::default()).expect("executor"),
                );
                let chain = Chain::new(
                    executor,
                    ledger.store.clone(),
                    Mempool::new(Default::default()),
                );
                (chain, transfers.clone())
            },
            |(chain, transfers)| {
                for transaction in transfers {
                    chain.submit(transaction).expect("accepted");
                }
                // Dropped once the clock stopped.
                chain
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// A key's last 100 versions, from the history index (the operator's nonce changes with every
/// transaction).
fn history(c: &mut Criterion) {
    let ledger = Ledger::new();
    for _ in 0..2 {
        ledger.commit(ledger.transfers(60));
    }
    let key = keys::nonce_key(&address_of(&public_key(&operator())));
    c.bench_function("ledger::history/versions=100 order=desc", |b| {
        b.iter(|| {
            let versions = ledger
                .store
                .history(&SYSTEM, &key[32..], None, 100, Order::Descending)
                .expect("history");
            assert_eq!(versions.len(), 100);
            versions
        })
    });
}

/// `query.trace` of the lot at the end of a ten-hop provenance graph, as `vellum_query` runs it:
/// a snapshot of the committed redb state, the contract loaded from the code cache, every lot
/// and custody record read through the store.
fn trace(c: &mut Criterion) {
    let ledger = Ledger::new();
    let operator = address_of(&public_key(&operator()));
    let contract = contract_address(&operator, ledger.nonce.get());
    ledger.commit(vec![ledger.sign(Action::Deploy {
        code: artifact("trace"),
        init_args: "{}".into(),
    })]);
    let calls = vellum_benches::trace_graph(&hex(&operator), &hex(&[0xd1; 32]))
        .into_iter()
        .map(|(method, args)| {
            ledger.sign(Action::Call {
                contract,
                method: method.into(),
                args: args.to_string(),
            })
        })
        .collect();
    ledger.commit(calls);
    let name = format!(
        "ledger::query/contract=trace method=trace hops={}",
        vellum_benches::TRACE_HOPS
    );
    c.bench_function(&name, |b| {
        b.iter(|| {
            let result = ledger
                .executor
                .query(
                    &ledger.store,
                    &contract,
                    "trace",
                    r#"{"lot":"lot-10"}"#,
                    [0; 32],
                    None,
                )
                .expect("the query runs");
            match result {
                QueryResult::Success { output, .. } => output,
                other => panic!("trace failed: {other:?}"),
            }
        })
    });
}

/// State keys in the restart benchmark.
const RESTART_KEYS: usize = 1_000_000;

/// Reopening a ledger of a million state keys (each with one history version, as committed
/// blocks leave them) and reading its head: what a restarting node does before it rejoins
/// consensus. `shutdown=clean` reopens a file closed normally; `shutdown=crash` reopens a copy
/// taken while the database was open, which is the file a killed node leaves behind (redb
/// marks an open database as needing recovery and repairs it on the next open).
fn restart(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("ledger.redb");
    let crashed = dir.path().join("crashed.redb");
    let genesis = genesis();
    {
        let store = Store::open(&path, &genesis).expect("store");
        let namespace = [7u8; 32];
        const BLOCKS: usize = 10;
        for block in 0..BLOCKS {
            let head = store.head().expect("head");
            let writes: Vec<_> = (0..RESTART_KEYS / BLOCKS)
                .map(|i| {
                    let key = format!("balance/{:08}", block * RESTART_KEYS / BLOCKS + i);
                    (
                        keys::full_key(&namespace, key.as_bytes()),
                        Some(format!("{{\"amount\":{i}}}").into_bytes()),
                    )
                })
                .collect();
            let versions = writes
                .iter()
                .map(|(key, value)| (0, key.clone(), value.clone()))
                .collect();
            let header = Header {
                height: head.height + 1,
                parent: head.hash(),
                time_ms: head.time_ms + 1_000,
                ..head
            };
            store
                .commit(&ExecutedBlock {
                    block: Block {
                        header,
                        transactions: Vec::new(),
                    },
                    receipts: Vec::new(),
                    writes,
                    versions,
                })
                .expect("commit");
        }
        std::fs::copy(&path, &crashed).expect("copy of an open database");
    }
    let mut group = c.benchmark_group("ledger::restart");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    let reopen = |path: &Path| {
        let store = Store::open(path, &genesis).expect("reopens");
        assert_eq!(store.head().expect("head").height, 10);
        store
    };
    // Dropping the store (a clean shutdown) happens outside the measurement.
    group.bench_function(format!("keys={RESTART_KEYS} shutdown=clean"), |b| {
        b.iter_batched(|| (), |()| reopen(&path), BatchSize::PerIteration)
    });
    // Recovery rewrites the file, so every iteration reopens a fresh copy of the crashed one.
    let copy = dir.path().join("reopened.redb");
    group.bench_function(format!("keys={RESTART_KEYS} shutdown=crash"), |b| {
        b.iter_batched(
            || std::fs::copy(&crashed, &copy).expect("fresh copy"),
            |_| reopen(&copy),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// State keys seeded before [`commitment_cost`] measures: `VELLUM_COMMITMENT_KEYS`, default
/// 1,000,000.
fn seeded_keys() -> u64 {
    std::env::var("VELLUM_COMMITMENT_KEYS")
        .ok()
        .and_then(|keys| keys.parse().ok())
        .unwrap_or(1_000_000)
}

/// Keys per seeding block.
const SEED_BLOCK: u64 = 10_000;

/// A block with no transactions that writes `writes`, on top of `store`'s head, its state root
/// from `store`'s commitment.
fn seed_block(store: &Store, writes: Vec<StateWrite>) -> ExecutedBlock {
    let head = store.head().expect("head");
    let height = head.height + 1;
    let state_root = store
        .commitment()
        .root_after(&head.state_root, &[], height, &writes)
        .expect("root");
    ExecutedBlock {
        block: Block {
            header: Header {
                height,
                parent: head.hash(),
                time_ms: head.time_ms + 1_000,
                proposer: [0; 32],
                transactions_root: merkle_root(std::iter::empty()),
                receipts_root: merkle_root(std::iter::empty()),
                state_root,
                fuel_used: 0,
                schedule_version: head.schedule_version,
            },
            transactions: Vec::new(),
        },
        receipts: Vec::new(),
        versions: writes
            .iter()
            .map(|(key, value)| (0, key.clone(), value.clone()))
            .collect(),
        writes,
    }
}

/// The durable commit of a 1,000-transfer block on a ledger of [`seeded_keys`] keys, with the
/// state commitment (what a node does) and without it, side by side in one run on one store:
/// each iteration executes a block, applies its batch to the commitment (timed apart), then
/// commits it (the store's own apply is then a no-op: the block is already there). "without"
/// is the redb commit alone; "with" adds the commitment's apply and durable commit.
fn commitment_cost(c: &mut Criterion) {
    let keys = seeded_keys();
    let ledger = Ledger::new();
    let started = std::time::Instant::now();
    let namespace = [0xab; 32];
    for start in (0..keys).step_by(SEED_BLOCK as usize) {
        let writes = (start..(start + SEED_BLOCK).min(keys))
            .map(|i| {
                let key = keys::full_key(&namespace, &i.to_be_bytes());
                (key, Some(i.to_le_bytes().repeat(4)))
            })
            .collect();
        let block = seed_block(&ledger.store, writes);
        ledger.store.commit(&block).expect("commit");
    }
    eprintln!(
        "seeded {keys} keys in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut group = c.benchmark_group(format!("ledger::commitment keys={keys}"));
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(1000));
    // Both parts of every block committed, over both functions: the ratio on identical blocks.
    let parts = std::cell::Cell::new((0u32, std::time::Duration::ZERO, std::time::Duration::ZERO));
    let merkleized = std::cell::Cell::new(std::time::Duration::ZERO);
    for commitment in [true, false] {
        let label = if commitment { "with" } else { "without" };
        group.bench_function(
            format!("phase=commit transactions=1000 commitment={label}"),
            |b| {
                b.iter_custom(|iters| {
                    let mut timed = std::time::Duration::ZERO;
                    for _ in 0..iters {
                        let block = ledger.transfers(1000);
                        ledger.executor.verify_signatures(&block).expect("valid");
                        let head = ledger.store.head().expect("head");
                        let executed = ledger
                            .executor
                            .execute(&ledger.store, ledger.proposal(block))
                            .expect("valid");
                        let link = Link {
                            height: executed.block.header.height,
                            root: executed.block.header.state_root,
                            writes: &executed.writes,
                        };
                        // The root, once more: what execution spent computing it.
                        let started = std::time::Instant::now();
                        let root = ledger
                            .store
                            .commitment()
                            .root_after(&head.state_root, &[], link.height, &executed.writes)
                            .expect("root");
                        let merkleize = started.elapsed();
                        assert_eq!(root, link.root);
                        let started = std::time::Instant::now();
                        ledger
                            .store
                            .commitment()
                            .apply(&head.state_root, link)
                            .expect("apply");
                        let apply = started.elapsed();
                        let started = std::time::Instant::now();
                        ledger.store.commit(&executed).expect("commit");
                        let commit = started.elapsed();
                        let (blocks, applies, commits) = parts.get();
                        parts.set((blocks + 1, applies + apply, commits + commit));
                        merkleized.set(merkleized.get() + merkleize);
                        timed += if commitment { apply + commit } else { commit };
                    }
                    timed
                })
            },
        );
    }
    // Proofs at this size: a present key and an absent one, made by the store (the commitment's
    // proof and the value read from redb) and checked as a verifier does (QMDB's part; the
    // certificate's check is the receipt proof's, measured with the seals).
    let present = (namespace, 7u64.to_be_bytes().to_vec());
    let absent = (namespace, b"no such key".to_vec());
    for (label, (namespace, key)) in [("present", &present), ("absent", &absent)] {
        let (proved, value) = ledger.store.state_proof(namespace, key).expect("proof");
        let full = keys::full_key(namespace, key);
        assert!(proved.proof.verify(&full, value.as_deref(), &proved.root));
        eprintln!(
            "a proof of a {label} key at {keys} keys: {} bytes",
            proved.proof.encode().len()
        );
        group.bench_function(format!("phase=prove key={label}"), |b| {
            b.iter(|| ledger.store.state_proof(namespace, key).expect("proof"))
        });
        group.bench_function(format!("phase=verify key={label}"), |b| {
            b.iter(|| assert!(proved.proof.verify(&full, value.as_deref(), &proved.root)))
        });
    }
    // A read of state 10 blocks back (each about 2,000 writes): the undo records read into
    // memory, what a query at a past height pays before it runs.
    let head = ledger.store.height().expect("height");
    group.bench_function("phase=past blocks_back=10", |b| {
        b.iter(|| ledger.store.past(head - 10).expect("past").undo.len())
    });
    group.finish();
    let (blocks, applies, commits) = parts.get();
    eprintln!(
        "over {blocks} blocks of 1,000 transfers at {keys} keys: the commitment's apply {:.1} ms \
         per block, the redb commit {:.1} ms; with / without = {:.2}; computing the root during \
         execution {:.1} ms per block",
        applies.as_secs_f64() * 1e3 / f64::from(blocks),
        commits.as_secs_f64() * 1e3 / f64::from(blocks),
        (applies + commits).as_secs_f64() / commits.as_secs_f64(),
        merkleized.get().as_secs_f64() * 1e3 / f64::from(blocks)
    );
}

criterion_group!(
    benches,
    execute_commit,
    phases,
    overlap,
    transaction,
    entry,
    history,
    trace,
    restart,
    commitment_cost
);
criterion_main!(benches);

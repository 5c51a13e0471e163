//! The whole consensus stack (simplex, marshal, gossip, our application, the redb executor)
//! under commonware's deterministic runtime: seeded scheduling, simulated time, a simulated
//! network with latency, jitter, loss and partitions, and unclean restarts.
//!
//! Every scenario checks:
//! - **safety**: no two honest validators commit different headers (hence different state
//!   roots) at any height;
//! - **liveness**: every honest validator reaches the target height once the network allows;
//! - **determinism** (one scenario runs each seed twice): the same seed gives the same run.
//!
//! Each scenario runs over many seeds. `VELLUM_SIM_SEEDS=N` runs N seeds per scenario
//! (default below), `VELLUM_SIM_SEED=S` replays seed S alone; a failing seed prints itself.

mod byzantine;
mod finality;
mod scenarios;

use byzantine::{flood, Tampering};
use commonware_consensus::{
    marshal::ancestry::Ancestry,
    simplex::{elector::RoundRobin, mocks, scheme::ed25519::Scheme},
    types::{Epoch, ViewDelta},
};
use commonware_cryptography::{ed25519, Digested, Digestible, Keccak256, Sha256, Signer as _};
use commonware_p2p::simulated::{self, Link, Network, Oracle};
use commonware_runtime::{
    deterministic, Clock, Handle, Quota, Runner as _, Spawner as _, Supervisor as _,
};
use commonware_utils::{probability, NZUsize};
use rand_core::Rng as _;
use serde_json::json;
use std::{
    num::NonZeroU32,
    panic::{catch_unwind, AssertUnwindSafe},
    sync::{Arc, Mutex},
    time::Duration,
};
use vellum_consensus::{
    self as consensus, engine::channel, mempool::Limits, Application, Chain, Channels,
    EngineConfig, FollowConfig, Halt, Mempool, RoundBlock, Submitter, Timeouts, ValidatorKey,
};
use vellum_ledger::{records::contract_address, testing, Executor, Store};
use vellum_runtime::{RuntimeConfig, Schedule};
use vellum_types::{
    address_of, hex, merkle_root,
    proof::{self, Validators},
    public_key, Action, ChainLimits, DeployPolicy, Genesis, Hash, Header, SignedTransaction,
    Status, Validator,
};

type Context = deterministic::Context;
type Sender = simulated::Sender<ValidatorKey, Context>;
type Receiver = simulated::Receiver<ValidatorKey>;

/// Seeds per scenario when `VELLUM_SIM_SEEDS` is not set.
fn seeds(default: u64) -> Vec<u64> {
    if let Ok(seed) = std::env::var("VELLUM_SIM_SEED") {
        return vec![seed.parse().expect("VELLUM_SIM_SEED is a number")];
    }
    let count = std::env::var("VELLUM_SIM_SEEDS")
        .ok()
        .map(|n| n.parse().expect("VELLUM_SIM_SEEDS is a number"))
        .unwrap_or(default);
    (0..count).collect()
}

/// Run `scenario` for each seed; a failure names the seed that replays it.
fn for_seeds(name: &str, default: u64, scenario: impl Fn(u64)) {
    // `RUST_LOG=vellum=debug` shows what the validators do.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    for seed in seeds(default) {
        if catch_unwind(AssertUnwindSafe(|| scenario(seed))).is_err() {
            panic!("{name}: seed {seed} failed; replay it with VELLUM_SIM_SEED={seed} cargo test -p vellum-consensus --test simulation {name}");
        }
    }
}

/// Small enough for a tampering proposer to exceed cheaply.
const BLOCK_TRANSACTIONS_MAX: usize = 64;

const LINK: Link = Link {
    latency: Duration::from_millis(20),
    jitter: Duration::from_millis(10),
    success_rate: probability!(1.0),
};
const LOSSY: Link = Link {
    latency: Duration::from_millis(60),
    jitter: Duration::from_millis(40),
    success_rate: probability!(0.9),
};

/// What a validator runs.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Honest,
    /// The real engine, but its runtime prices fuel differently: its execution diverges.
    Diverging,
    /// The real engine, proposing invalid blocks.
    Tampering(Tamper),
    /// One of simplex's Byzantine mocks in place of the engine.
    Mock(Mock),
    /// No engine: floods the transaction gossip channel with strangers' transactions and
    /// transactions with nonces far ahead (both may come from an honest peer), then with `Junk`.
    Flooder(Junk),
}

/// What gives a flooder away as Byzantine.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Junk {
    /// Bytes that are not a batch.
    Garbage,
    /// A batch of well-formed transactions with forged signatures.
    Forged,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mock {
    Conflicter,
    Equivocator,
    Nuller,
    Impersonator,
    Outdated,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tamper {
    /// The header claims a state root execution does not produce.
    StateRoot,
    /// A transaction's signature is corrupted (and the transactions root recomputed to match).
    Signature,
    /// The block time jumps past the chain's step limit.
    TimeStep,
    /// More transactions than a block may hold (roots recomputed to match).
    Oversized,
}

/// The network every scenario shares: keys, genesis, one redb store per validator.
struct Testnet {
    keys: Vec<ed25519::PrivateKey>,
    genesis: Genesis,
    stores: Vec<Arc<Store>>,
    block0: RoundBlock,
    _dirs: Vec<tempfile::TempDir>,
}

impl Testnet {
    fn new(n: usize) -> Self {
        Self::with_limits(
            n,
            ChainLimits {
                block_time_step_max_ms: 60_000,
                block_transactions_max: BLOCK_TRANSACTIONS_MAX,
                ..ChainLimits::default()
            },
        )
    }

    fn with_limits(n: usize, limits: ChainLimits) -> Self {
        let keys: Vec<_> = (0..n)
            .map(|i| ed25519::PrivateKey::from_seed(i as u64 + 1))
            .collect();
        let mut genesis = testing::genesis(DeployPolicy::AnyAdmin);
        genesis.time_ms = 0;
        genesis.limits = limits;
        genesis.validators = keys
            .iter()
            .enumerate()
            .map(|(i, key)| Validator {
                name: format!("v{i}"),
                organisation: "bank-a".into(),
                public_key: hex(key.public_key().as_ref()),
            })
            .collect();
        let dirs: Vec<_> = (0..n)
            .map(|_| tempfile::tempdir().expect("tempdir"))
            .collect();
        let stores: Vec<_> = dirs
            .iter()
            .map(|d| Arc::new(Store::open(&d.path().join("ledger.redb"), &genesis).expect("store")))
            .collect();
        let block0 = RoundBlock::genesis(stores[0].block(0).expect("read").expect("block 0"));
        Self {
            keys,
            genesis,
            stores,
            block0,
            _dirs: dirs,
        }
    }

    fn public(&self, i: usize) -> ValidatorKey {
        self.keys[i].public_key()
    }

    fn height(&self, i: usize) -> u64 {
        self.stores[i].height().expect("height")
    }

    /// Every committed block carries its seal, and each certificate in a seal verifies against
    /// the validator set, for that block only.
    fn assert_sealed(&self, i: usize) {
        let verifier = Scheme::verifier(
            &consensus::namespace(&self.genesis),
            consensus::participants(&self.genesis).expect("validators"),
        );
        let validators = Validators::from_genesis(&self.genesis).expect("validators");
        let mut certified = 0;
        for height in 1..=self.height(i) {
            let bytes = self.stores[i]
                .seal(height)
                .expect("read")
                .expect("every block is sealed");
            let seal = consensus::Seal::decode(&bytes).expect("seal decodes");
            let header = self.stores[i]
                .header(height)
                .expect("read")
                .expect("header");
            if seal.finalization.is_some() {
                assert!(
                    seal.proves(&header, &verifier),
                    "certificate at {height} does not verify"
                );
                let mut other = header.clone();
                other.state_root[0] ^= 1;
                assert!(
                    !seal.proves(&other, &verifier),
                    "certificate at {height} proves another block"
                );
                certified += 1;
            }
            // The offline verifier (vellum-types, no consensus code) reads the same bytes the
            // same way, and agrees on every certificate and every block it covers.
            let offline = proof::Seal::decode(&bytes).expect("the offline decoder reads it");
            assert_eq!(offline.encode(), bytes, "seal at {height} re-encodes");
            assert_eq!(offline.finalization.is_some(), seal.finalization.is_some());
            let finality = self.stores[i]
                .finality(height)
                .expect("read")
                .expect("a certificate covers every committed block");
            let finalized = finality
                .check(&validators)
                .expect("the finality proof holds");
            assert_eq!(finalized.header, header);
            assert!(finalized.signers >= validators.quorum());
            assert_refuses_tampering(&finality, &validators);
        }
        assert!(certified > 0, "no block carries a certificate");
    }

    /// Safety: honest validators agree on every header they both committed.
    fn assert_agreement(&self, honest: &[usize]) {
        let top = honest.iter().map(|&i| self.height(i)).max().unwrap_or(0);
        for height in 1..=top {
            let headers: Vec<(usize, Header)> = honest
                .iter()
                .filter_map(|&i| self.stores[i].header(height).expect("read").map(|h| (i, h)))
                .collect();
            for pair in headers.windows(2) {
                assert_eq!(
                    pair[0].1, pair[1].1,
                    "validators {} and {} disagree at height {height}",
                    pair[0].0, pair[1].0
                );
            }
        }
    }
}

/// A running honest (or diverging, or tampering) validator.
struct Running {
    chain: Arc<Chain>,
    submitter: Submitter,
    _halted: Handle<Halt>,
}

async fn register(
    oracle: &mut Oracle<ValidatorKey, Context>,
    key: &ValidatorKey,
) -> Channels<Sender, Receiver> {
    let control = oracle.control(key.clone());
    let quota = Quota::per_second(NonZeroU32::new(1_024).expect("non-zero"));
    let mut pairs = Vec::new();
    for ch in [
        channel::VOTES,
        channel::CERTIFICATES,
        channel::RESOLVER,
        channel::BLOCKS,
        channel::BACKFILL,
        channel::TRANSACTIONS,
    ] {
        pairs.push(control.register(ch, quota).await.expect("register channel"));
    }
    let mut pairs = pairs.into_iter();
    let mut next = || pairs.next().expect("six channels");
    Channels {
        votes: next(),
        certificates: next(),
        resolver: next(),
        blocks: next(),
        backfill: next(),
        transactions: next(),
    }
}

async fn link_all(oracle: &mut Oracle<ValidatorKey, Context>, keys: &[ValidatorKey], link: &Link) {
    for a in keys {
        for b in keys {
            if a != b {
                let _ = oracle.add_link(a.clone(), b.clone(), link.clone()).await;
            }
        }
    }
}

async fn unlink(
    oracle: &mut Oracle<ValidatorKey, Context>,
    a: &[ValidatorKey],
    b: &[ValidatorKey],
) {
    for x in a {
        for y in b {
            let _ = oracle.remove_link(x.clone(), y.clone()).await;
            let _ = oracle.remove_link(y.clone(), x.clone()).await;
        }
    }
}

async fn network(context: &Context, chain: &Testnet) -> Oracle<ValidatorKey, Context> {
    network_with(context, chain, &[]).await
}

/// The validators as primary peers, `observers` as secondary ones.
async fn network_with(
    context: &Context,
    chain: &Testnet,
    observers: &[ValidatorKey],
) -> Oracle<ValidatorKey, Context> {
    let peers: Vec<ValidatorKey> = (0..chain.keys.len()).map(|i| chain.public(i)).collect();
    let (network, oracle) = Network::new_with_split_peers(
        context.child("network"),
        simulated::Config {
            max_size: consensus::engine::max_message_size(&chain.genesis.limits),
            disconnect_on_block: true,
            tracked_peer_sets: NZUsize!(1),
            // The finality table runs up to 31 validators.
            max_peers_per_set: NZUsize!(64),
        },
        peers,
        observers.iter().cloned(),
    )
    .await;
    network.start();
    oracle
}

fn timeouts() -> Timeouts {
    Timeouts {
        leader: Duration::from_millis(500),
        certification: Duration::from_secs(1),
        retry: Duration::from_secs(2),
    }
}

async fn start(
    context: &Context,
    oracle: &mut Oracle<ValidatorKey, Context>,
    chain: &Testnet,
    i: usize,
    role: Role,
    pool: Limits,
) -> Option<Running> {
    let key = chain.keys[i].clone();
    let public = key.public_key();
    let participants = consensus::participants(&chain.genesis).expect("validators");
    let namespace = consensus::namespace(&chain.genesis);
    let channels = register(oracle, &public).await;
    let context = context.child("validator").with_attribute("index", i);
    if let Role::Flooder(junk) = role {
        flood(context, channels.transactions, junk);
        return None;
    }
    if let Role::Mock(mock) = role {
        let scheme = Scheme::signer(&namespace, participants, key).expect("signer");
        match mock {
            Mock::Conflicter => {
                mocks::conflicter::Conflicter::<_, _, Keccak256>::new(
                    context,
                    mocks::conflicter::Config { scheme },
                )
                .start(channels.votes);
            }
            Mock::Nuller => {
                mocks::nuller::Nuller::<_, _, Keccak256>::new(
                    context,
                    mocks::nuller::Config { scheme },
                )
                .start(channels.votes);
            }
            Mock::Impersonator => {
                mocks::impersonator::Impersonator::<_, _, Keccak256>::new(
                    context,
                    mocks::impersonator::Config { scheme },
                )
                .start(channels.votes);
            }
            Mock::Outdated => {
                mocks::outdated::Outdated::<_, _, Keccak256>::new(
                    context,
                    mocks::outdated::Config {
                        scheme,
                        view_delta: ViewDelta::new(1024),
                    },
                )
                .start(channels.votes);
            }
            Mock::Equivocator => {
                mocks::equivocator::Equivocator::<_, _, _, Keccak256>::new(
                    context,
                    mocks::equivocator::Config {
                        scheme,
                        elector: RoundRobin::<Sha256>::default(),
                        epoch: Epoch::zero(),
                        relay: Arc::new(mocks::relay::Relay::default()),
                    },
                )
                .start(channels.votes, channels.certificates);
            }
        }
        return None;
    }
    let mut runtime = RuntimeConfig::default();
    if role == Role::Diverging {
        let mut schedule = Schedule::v2();
        schedule.costs.storage_write.base += 1;
        runtime.schedule = schedule;
    }
    let executor = Arc::new(Executor::new(chain.genesis.clone(), runtime).expect("executor"));
    let validator = Chain::new(executor, chain.stores[i].clone(), Mempool::new(pool));
    let config = EngineConfig {
        signer: chain.keys[i].clone(),
        timeouts: timeouts(),
        node: FollowConfig {
            participants: consensus::participants(&chain.genesis).expect("validators"),
            namespace,
            chain: validator.clone(),
            genesis: chain.block0.clone(),
            blocker: oracle.control(public.clone()),
            peers: oracle.manager(),
            partition: format!("validator-{i}"),
        },
    };
    let (halted, submitter) = match role {
        Role::Tampering(tamper) => {
            let application = Tampering {
                inner: Application::new(validator.clone()),
                tamper,
            };
            consensus::start(context, application, config, channels).await
        }
        _ => {
            consensus::start(
                context,
                Application::new(validator.clone()),
                config,
                channels,
            )
            .await
        }
    };
    Some(Running {
        chain: validator,
        submitter,
        _halted: halted,
    })
}

/// Start an observer with `key`, following the validators into `store`.
async fn start_observer(
    context: &Context,
    oracle: &mut Oracle<ValidatorKey, Context>,
    chain: &Testnet,
    key: &ed25519::PrivateKey,
    store: Arc<Store>,
) -> Running {
    let public = key.public_key();
    let channels = register(oracle, &public).await;
    let executor =
        Arc::new(Executor::new(chain.genesis.clone(), RuntimeConfig::default()).expect("executor"));
    let observer = Chain::new(executor, store, Mempool::new(Limits::default()));
    let config = FollowConfig {
        participants: consensus::participants(&chain.genesis).expect("validators"),
        namespace: consensus::namespace(&chain.genesis),
        chain: observer.clone(),
        genesis: chain.block0.clone(),
        blocker: oracle.control(public.clone()),
        peers: oracle.manager(),
        partition: "observer".into(),
    };
    let (halted, submitter) =
        consensus::observe(context.child("observer"), public, config, channels).await;
    Running {
        chain: observer,
        submitter,
        _halted: halted,
    }
}

/// What the honest client sent: each transaction's hash and the height its first validator
/// had committed when it was accepted.
type Sent = Arc<Mutex<Vec<(Hash, u64)>>>;

/// A client that submits a transaction every 100 ms, round-robin across validators, and
/// records each one it got accepted with the height `store` had then.
fn client(context: &Context, submitters: Vec<Submitter>, signer: u8, store: Arc<Store>) -> Sent {
    let sent = Sent::default();
    let record = sent.clone();
    context.child("client").spawn(move |context| async move {
        let mut nonce = 0;
        let mut target = 0;
        loop {
            context.sleep(Duration::from_millis(100)).await;
            let transaction = testing::sign(
                signer,
                nonce,
                Action::ApproveCode {
                    code_hash: vellum_types::keccak256(&nonce.to_be_bytes()),
                },
            );
            target = (target + 1) % submitters.len();
            let height = store.height().expect("height");
            if let Ok(hash) = submitters[target].submit(transaction) {
                record.lock().expect("lock").push((hash, height));
                nonce += 1;
            }
        }
    });
    sent
}

/// Wait until every validator in `honest` has committed `height`.
async fn reach(context: &Context, chain: &Testnet, honest: &[usize], height: u64) {
    while honest.iter().any(|&i| chain.height(i) < height) {
        context.sleep(Duration::from_millis(100)).await;
    }
}

struct Outcome {
    state: String,
    roots: Vec<[u8; 32]>,
    /// Who blocked whom, by validator index.
    blocked: Vec<(usize, usize)>,
    /// For each honest transaction committed, the blocks from its acceptance to its inclusion.
    waits: Vec<u64>,
    /// The hashes of the member attack's gapped transactions, oldest first, and whether each is
    /// still pending at an honest validator at the end.
    gapped: Vec<(Hash, bool)>,
}

/// What a scenario runs beside the validators' roles.
#[derive(Clone, Copy, Default)]
struct Setup {
    /// Members attack through transactions ([`byzantine::member_attack`]), against a chain with
    /// small fuel and receipt limits and pools that evict gapped transactions after 4 blocks.
    member_attack: bool,
}

/// Fuel limits of the chain under a member attack: a spin costs real CPU in every validator,
/// so they are small, and a block holds three maximum-fuel transactions.
const ATTACK_FUEL_MAX: u64 = testing::FUEL;

/// n validators with the given roles, all linked by `link`; run until honest ones reach
/// `target`, check agreement.
fn run(seed: u64, roles: &[Role], link: Link, target: u64) -> Outcome {
    run_with(seed, roles, link, target, Setup::default())
}

fn run_with(seed: u64, roles: &[Role], link: Link, target: u64, setup: Setup) -> Outcome {
    let mut limits = ChainLimits {
        block_time_step_max_ms: 60_000,
        block_transactions_max: BLOCK_TRANSACTIONS_MAX,
        ..ChainLimits::default()
    };
    let mut pool = Limits::default();
    if setup.member_attack {
        limits.transaction_fuel_max = ATTACK_FUEL_MAX;
        limits.block_fuel_max = 3 * ATTACK_FUEL_MAX;
        limits.query_fuel_max = ATTACK_FUEL_MAX;
        limits.transaction_receipt_bytes_max = 4_096;
        pool.gap_blocks_max = 4;
        pool.per_sender_max = 16;
    }
    let chain = Testnet::with_limits(roles.len(), limits);
    let honest: Vec<usize> = (0..roles.len())
        .filter(|&i| roles[i] == Role::Honest)
        .collect();
    let config = deterministic::Config::new()
        .with_seed(seed)
        .with_timeout(Some(Duration::from_secs(600)));
    let (state, blocked, sent, gapped) = deterministic::Runner::new(config).start(|context| {
        let chain = &chain;
        let honest = honest.clone();
        async move {
            let mut oracle = network(&context, chain).await;
            let keys: Vec<_> = (0..roles.len()).map(|i| chain.public(i)).collect();
            link_all(&mut oracle, &keys, &link).await;
            let mut running = Vec::new();
            for (i, role) in roles.iter().enumerate() {
                running.push(start(&context, &mut oracle, chain, i, *role, pool.clone()).await);
            }
            let submitters: Vec<Submitter> = honest
                .iter()
                .filter_map(|&i| running[i].as_ref().map(|r| r.submitter.clone()))
                .collect();
            let sent = client(
                &context,
                submitters.clone(),
                1,
                chain.stores[honest[0]].clone(),
            );
            let gapped = setup.member_attack.then(|| {
                byzantine::member_attack(context.child("attacker"), submitters, ATTACK_FUEL_MAX)
            });
            reach(&context, chain, &honest, target).await;
            let gapped: Vec<(Hash, bool)> = gapped
                .map(|g| g.lock().expect("lock").clone())
                .unwrap_or_default()
                .into_iter()
                .map(|hash| {
                    let pending = honest.iter().any(|&i| {
                        let validator = &running[i].as_ref().expect("running").chain;
                        validator.mempool().contains(&hash)
                    });
                    (hash, pending)
                })
                .collect();
            for &i in &honest {
                let validator = &running[i].as_ref().expect("honest validators run").chain;
                assert_eq!(validator.halted(), None, "honest validator {i} halted");
                // Only the client's transactions get in (it sends ten a second).
                let pending = validator.mempool().len();
                assert!(
                    pending < 64,
                    "validator {i} holds {pending} pending transactions"
                );
            }
            // No honest validator may have been blocked by another honest one.
            let blocked: Vec<(usize, usize)> = oracle
                .blocked()
                .await
                .expect("oracle")
                .into_iter()
                .filter_map(|(a, b)| {
                    let a = keys.iter().position(|k| *k == a)?;
                    let b = keys.iter().position(|k| *k == b)?;
                    Some((a, b))
                })
                .collect();
            for &(a, b) in &blocked {
                assert!(
                    !(honest.contains(&a) && honest.contains(&b)),
                    "honest validator {a} blocked honest validator {b}"
                );
            }
            let sent = sent.lock().expect("lock").clone();
            (context.auditor().state(), blocked, sent, gapped)
        }
    });
    chain.assert_agreement(&honest);
    chain.assert_sealed(honest[0]);
    let transactions: usize = (1..=chain.height(honest[0]))
        .map(|h| {
            chain.stores[honest[0]]
                .block(h)
                .expect("read")
                .expect("block")
                .transactions
                .len()
        })
        .sum();
    assert!(transactions > 0, "no transaction was committed");
    let store = &chain.stores[honest[0]];
    if setup.member_attack {
        // The attack reached the chain: spins ran out of fuel, oversized receipts were refused.
        let statuses: Vec<Status> = (1..=chain.height(honest[0]))
            .flat_map(|h| store.receipts(h).expect("read"))
            .map(|r| r.status)
            .collect();
        assert!(statuses.contains(&Status::OutOfFuel), "{statuses:?}");
        assert!(
            statuses
                .iter()
                .any(|s| matches!(s, Status::Refused(why) if why.contains("receipt"))),
            "{statuses:?}"
        );
    }
    let waits = sent
        .iter()
        .filter_map(|(hash, accepted)| {
            let (height, _) = store.transaction_location(hash).expect("read")?;
            Some(height - accepted)
        })
        .collect();
    Outcome {
        state,
        blocked,
        waits,
        gapped,
        roots: honest
            .iter()
            .map(|&i| chain.stores[i].head().expect("head").state_root)
            .collect(),
    }
}

/// `finality` no longer holds once any header, or the certificate, is altered.
fn assert_refuses_tampering(finality: &proof::Finality, validators: &Validators) {
    let mut other = finality.clone();
    other.headers[0].state_root[0] ^= 1;
    assert!(other.check(validators).is_err(), "an altered header passes");
    let mut other = finality.clone();
    let last = other.seal.len() - 1;
    other.seal[last] ^= 1;
    assert!(
        other.check(validators).is_err(),
        "an altered signature passes"
    );
    if finality.headers.len() > 1 {
        let mut other = finality.clone();
        other.headers.remove(0);
        other.headers.insert(0, finality.headers[1].clone());
        assert!(other.check(validators).is_err(), "a broken chain passes");
    }
}

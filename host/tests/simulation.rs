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

mod common;

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
use std::{
    num::NonZeroU32,
    panic::{catch_unwind, AssertUnwindSafe},
    sync::Arc,
    time::Duration,
};
use vellum::{
    consensus::{
        self, block::Block, engine::channel, mempool::Limits, Application, Channels, Halt, Ledger,
        Mempool, PublicKey, Submitter, Timeouts,
    },
    ledger::{
        block::merkle_root, genesis::ChainLimits, transaction::hex, Action, Executor, Genesis,
        Header, Store,
    },
};
use vellum_runtime::{RuntimeConfig, Schedule};

type Context = deterministic::Context;
type Sender = simulated::Sender<PublicKey, Context>;
type Receiver = simulated::Receiver<PublicKey>;

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
            panic!("{name}: seed {seed} failed; replay it with VELLUM_SIM_SEED={seed} cargo test -p vellum --test simulation {name}");
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
    /// No engine: floods the transaction gossip channel with garbage, strangers' transactions
    /// and transactions with nonces far ahead.
    Flooder,
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
struct Chain {
    keys: Vec<ed25519::PrivateKey>,
    genesis: Genesis,
    stores: Vec<Arc<Store>>,
    block0: Block,
    _dirs: Vec<tempfile::TempDir>,
}

impl Chain {
    fn new(n: usize) -> Self {
        let keys: Vec<_> = (0..n)
            .map(|i| ed25519::PrivateKey::from_seed(i as u64 + 1))
            .collect();
        let mut genesis = common::genesis(vellum::ledger::DeployPolicy::AnyAdmin);
        genesis.time_ms = 0;
        genesis.limits = ChainLimits {
            block_time_step_max_ms: 60_000,
            block_transactions_max: BLOCK_TRANSACTIONS_MAX,
            ..ChainLimits::default()
        };
        genesis.validators = keys
            .iter()
            .enumerate()
            .map(|(i, key)| vellum::ledger::Validator {
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
        let block0 = Block::genesis(stores[0].block(0).expect("read").expect("block 0"));
        Self {
            keys,
            genesis,
            stores,
            block0,
            _dirs: dirs,
        }
    }

    fn public(&self, i: usize) -> PublicKey {
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
    ledger: Arc<Ledger>,
    submitter: Submitter,
    _halted: Handle<Halt>,
}

async fn register(
    oracle: &mut Oracle<PublicKey, Context>,
    key: &PublicKey,
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

async fn link_all(oracle: &mut Oracle<PublicKey, Context>, keys: &[PublicKey], link: &Link) {
    for a in keys {
        for b in keys {
            if a != b {
                let _ = oracle.add_link(a.clone(), b.clone(), link.clone()).await;
            }
        }
    }
}

async fn unlink(oracle: &mut Oracle<PublicKey, Context>, a: &[PublicKey], b: &[PublicKey]) {
    for x in a {
        for y in b {
            let _ = oracle.remove_link(x.clone(), y.clone()).await;
            let _ = oracle.remove_link(y.clone(), x.clone()).await;
        }
    }
}

async fn network(context: &Context, chain: &Chain) -> Oracle<PublicKey, Context> {
    let peers: Vec<PublicKey> = (0..chain.keys.len()).map(|i| chain.public(i)).collect();
    let (network, oracle) = Network::new_with_peers(
        context.child("network"),
        simulated::Config {
            max_size: consensus::engine::max_message_size(&chain.genesis.limits),
            disconnect_on_block: true,
            tracked_peer_sets: NZUsize!(1),
            max_peers_per_set: NZUsize!(16),
        },
        peers,
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
    oracle: &mut Oracle<PublicKey, Context>,
    chain: &Chain,
    i: usize,
    role: Role,
) -> Option<Running> {
    let key = chain.keys[i].clone();
    let public = key.public_key();
    let participants = consensus::participants(&chain.genesis).expect("validators");
    let namespace = consensus::namespace(&chain.genesis);
    let channels = register(oracle, &public).await;
    let context = context.child("validator").with_attribute("index", i);
    if role == Role::Flooder {
        flood(context, channels.transactions);
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
        let mut schedule = Schedule::v1();
        schedule.costs.storage_write.base += 1;
        runtime.schedule = schedule;
    }
    let executor = Arc::new(Executor::new(chain.genesis.clone(), runtime).expect("executor"));
    let ledger = Ledger::new(
        executor,
        chain.stores[i].clone(),
        Mempool::new(Limits::default()),
    );
    let config = consensus::Config {
        signer: chain.keys[i].clone(),
        participants: consensus::participants(&chain.genesis).expect("validators"),
        namespace,
        ledger: ledger.clone(),
        genesis: chain.block0.clone(),
        blocker: oracle.control(public.clone()),
        peers: oracle.manager(),
        partition: format!("validator-{i}"),
        timeouts: timeouts(),
    };
    let (halted, submitter) = match role {
        Role::Tampering(tamper) => {
            let application = Tampering {
                inner: Application::new(ledger.clone()),
                tamper,
            };
            consensus::start(context, application, config, channels).await
        }
        _ => consensus::start(context, Application::new(ledger.clone()), config, channels).await,
    };
    Some(Running {
        ledger,
        submitter,
        _halted: halted,
    })
}

/// A Byzantine proposer: the real application, whose proposals it corrupts.
#[derive(Clone)]
struct Tampering {
    inner: Application,
    tamper: Tamper,
}

impl commonware_consensus::Application<Context> for Tampering {
    type SigningScheme = Scheme;
    type Context = consensus::Context;
    type Block = Block;
    type Input = ();

    async fn propose(
        &mut self,
        context: (Context, consensus::Context),
        ancestry: impl Ancestry<Block>,
        input: (),
    ) -> Option<Digested<Block>> {
        let round = context.1.clone();
        let honest = self.inner.propose(context, ancestry, input).await?;
        let block = honest.inner();
        let mut ledger = block.ledger().clone();
        let mut receipts = block.receipts().to_vec();
        match self.tamper {
            Tamper::StateRoot => ledger.header.state_root[0] ^= 1,
            Tamper::TimeStep => ledger.header.time_ms += 61_000,
            Tamper::Oversized => {
                ledger.transactions = (0..=BLOCK_TRANSACTIONS_MAX as u64)
                    .map(|n| {
                        common::sign(
                            2,
                            n,
                            Action::ApproveCode {
                                code_hash: [n as u8; 32],
                            },
                        )
                    })
                    .collect();
                receipts = vec![[0; 32]; ledger.transactions.len()];
                ledger.header.transactions_root = merkle_root(
                    ledger
                        .transactions
                        .iter()
                        .map(|t| t.hash())
                        .collect::<Vec<_>>()
                        .into_iter(),
                );
                ledger.header.receipts_root = merkle_root(receipts.iter().copied());
            }
            Tamper::Signature => match ledger.transactions.first_mut() {
                Some(transaction) => {
                    transaction.signature[5] ^= 1;
                    ledger.header.transactions_root = merkle_root(
                        ledger
                            .transactions
                            .iter()
                            .map(|t| t.hash())
                            .collect::<Vec<_>>()
                            .into_iter(),
                    );
                }
                None => ledger.header.state_root[0] ^= 1,
            },
        }
        let block = Block::assemble(round, ledger, receipts);
        let digest = block.digest();
        Some(Digested::precomputed(block, digest))
    }

    async fn verify(
        &mut self,
        context: (Context, consensus::Context),
        ancestry: impl Ancestry<Block>,
    ) -> bool {
        self.inner.verify(context, ancestry).await
    }
}

/// A Byzantine peer's gossip: every 10 ms, garbage, a full batch from a stranger, or a full
/// batch of a member's transactions with nonces far ahead.
fn flood(context: Context, (mut sender, _receiver): (Sender, Receiver)) {
    use commonware_p2p::{Recipients, Sender as _};
    context.spawn(move |context| async move {
        let stranger: Vec<_> = (0..1024)
            .map(|n| common::sign(9, n, Action::ApproveCode { code_hash: [1; 32] }))
            .collect();
        let ahead: Vec<_> = (0..1024)
            .map(|n| common::sign(2, 1_000_000 + n, Action::ApproveCode { code_hash: [2; 32] }))
            .collect();
        let batches = [
            vec![0xff; 4096],
            borsh::to_vec(&stranger).expect("encode"),
            borsh::to_vec(&ahead).expect("encode"),
        ];
        for round in 0usize.. {
            context.sleep(Duration::from_millis(10)).await;
            sender.send(Recipients::All, batches[round % 3].clone(), false);
        }
    });
}

/// A client that submits a transaction every 100 ms, round-robin across validators.
fn client(context: &Context, submitters: Vec<Submitter>, signer: u8) -> Handle<()> {
    context.child("client").spawn(move |context| async move {
        let mut nonce = 0;
        let mut target = 0;
        loop {
            context.sleep(Duration::from_millis(100)).await;
            let transaction = common::sign(
                signer,
                nonce,
                Action::ApproveCode {
                    code_hash: vellum::ledger::transaction::keccak256(&nonce.to_be_bytes()),
                },
            );
            target = (target + 1) % submitters.len();
            if submitters[target].submit(transaction).is_ok() {
                nonce += 1;
            }
        }
    })
}

/// Wait until every validator in `honest` has committed `height`.
async fn reach(context: &Context, chain: &Chain, honest: &[usize], height: u64) {
    while honest.iter().any(|&i| chain.height(i) < height) {
        context.sleep(Duration::from_millis(100)).await;
    }
}

struct Outcome {
    state: String,
    roots: Vec<[u8; 32]>,
}

/// n validators with the given roles, all linked by `link`; run until honest ones reach
/// `target`, check agreement.
fn run(seed: u64, roles: &[Role], link: Link, target: u64) -> Outcome {
    let chain = Chain::new(roles.len());
    let honest: Vec<usize> = (0..roles.len())
        .filter(|&i| roles[i] == Role::Honest)
        .collect();
    let config = deterministic::Config::new()
        .with_seed(seed)
        .with_timeout(Some(Duration::from_secs(600)));
    let state = deterministic::Runner::new(config).start(|context| {
        let chain = &chain;
        let honest = honest.clone();
        async move {
            let mut oracle = network(&context, chain).await;
            let keys: Vec<_> = (0..roles.len()).map(|i| chain.public(i)).collect();
            link_all(&mut oracle, &keys, &link).await;
            let mut running = Vec::new();
            for (i, role) in roles.iter().enumerate() {
                running.push(start(&context, &mut oracle, chain, i, *role).await);
            }
            let submitters: Vec<Submitter> = honest
                .iter()
                .filter_map(|&i| running[i].as_ref().map(|r| r.submitter.clone()))
                .collect();
            let _client = client(&context, submitters, 1);
            reach(&context, chain, &honest, target).await;
            for &i in &honest {
                let ledger = &running[i].as_ref().expect("honest validators run").ledger;
                assert_eq!(ledger.halted(), None, "honest validator {i} halted");
                // Only the client's transactions get in (it sends ten a second).
                let pending = ledger.mempool().len();
                assert!(
                    pending < 64,
                    "validator {i} holds {pending} pending transactions"
                );
            }
            // No honest validator may have been blocked by another honest one.
            let blocked = oracle.blocked().await.expect("oracle");
            for (a, b) in blocked {
                let (a, b) = (
                    keys.iter().position(|k| *k == a),
                    keys.iter().position(|k| *k == b),
                );
                if let (Some(a), Some(b)) = (a, b) {
                    assert!(
                        !(honest.contains(&a) && honest.contains(&b)),
                        "honest validator {a} blocked honest validator {b}"
                    );
                }
            }
            context.auditor().state()
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
    Outcome {
        state,
        roots: honest
            .iter()
            .map(|&i| chain.stores[i].head().expect("head").state_root)
            .collect(),
    }
}

#[test]
fn four_honest_validators_agree() {
    for_seeds("four_honest_validators_agree", 30, |seed| {
        run(
            seed,
            &[Role::Honest; 4],
            if seed % 2 == 0 { LINK } else { LOSSY },
            8,
        );
    });
}

#[test]
fn seven_honest_validators_agree() {
    for_seeds("seven_honest_validators_agree", 10, |seed| {
        run(seed, &[Role::Honest; 7], LINK, 6);
    });
}

#[test]
fn same_seed_same_run() {
    for_seeds("same_seed_same_run", 10, |seed| {
        let a = run(seed, &[Role::Honest; 4], LOSSY, 5);
        let b = run(seed, &[Role::Honest; 4], LOSSY, 5);
        assert_eq!(a.state, b.state, "runtime trace differs");
        assert_eq!(a.roots, b.roots, "state roots differ");
    });
}

#[test]
fn byzantine_voters_cannot_fork_or_stall() {
    let mocks = [
        Mock::Conflicter,
        Mock::Equivocator,
        Mock::Nuller,
        Mock::Impersonator,
        Mock::Outdated,
    ];
    for_seeds("byzantine_voters_cannot_fork_or_stall", 50, |seed| {
        let mock = mocks[seed as usize % mocks.len()];
        let mut roles = [Role::Honest; 4];
        roles[(seed / 5) as usize % 4] = Role::Mock(mock);
        run(seed, &roles, LINK, 6);
    });
    for_seeds("byzantine_voters_cannot_fork_or_stall", 5, |seed| {
        let mut roles = [Role::Honest; 7];
        roles[0] = Role::Mock(mocks[seed as usize % mocks.len()]);
        roles[3] = Role::Mock(mocks[(seed as usize + 1) % mocks.len()]);
        run(seed, &roles, LINK, 5);
    });
}

#[test]
fn invalid_proposals_are_never_finalized() {
    let tampers = [
        Tamper::StateRoot,
        Tamper::Signature,
        Tamper::TimeStep,
        Tamper::Oversized,
    ];
    for_seeds("invalid_proposals_are_never_finalized", 30, |seed| {
        let mut roles = [Role::Honest; 4];
        roles[seed as usize % 4] = Role::Tampering(tampers[(seed / 4) as usize % tampers.len()]);
        run(seed, &roles, LINK, 8);
    });
}

/// A peer flooding the gossip channel neither stalls the network nor fills a mempool.
#[test]
fn a_gossip_flood_is_refused() {
    for_seeds("a_gossip_flood_is_refused", 5, |seed| {
        let mut roles = [Role::Honest; 4];
        roles[seed as usize % 4] = Role::Flooder;
        run(seed, &roles, LINK, 8);
    });
}

/// Split 2/2 (no quorum on either side), let time pass, heal, and require progress.
#[test]
fn partitions_heal() {
    for_seeds("partitions_heal", 30, |seed| {
        let chain = Chain::new(4);
        let all = [0, 1, 2, 3];
        deterministic::Runner::new(
            deterministic::Config::new()
                .with_seed(seed)
                .with_timeout(Some(Duration::from_secs(600))),
        )
        .start(|context| {
            let chain = &chain;
            async move {
                let mut oracle = network(&context, chain).await;
                let keys: Vec<_> = all.iter().map(|&i| chain.public(i)).collect();
                link_all(&mut oracle, &keys, &LOSSY).await;
                let mut running = Vec::new();
                for i in all {
                    running.push(
                        start(&context, &mut oracle, chain, i, Role::Honest)
                            .await
                            .expect("honest"),
                    );
                }
                let submitters = running.iter().map(|r| r.submitter.clone()).collect();
                let _client = client(&context, submitters, 1);
                reach(&context, chain, &all, 2).await;
                // 2/2 leaves no side a quorum; 1/3 leaves one (3 of 4 is 2f + 1).
                let split = 1 + (context.child("split").next_u32() % 3) as usize;
                let (left, right) = keys.split_at(split);
                unlink(&mut oracle, left, right).await;
                let before = all.iter().map(|&i| chain.height(i)).max().unwrap_or(0);
                context.sleep(Duration::from_secs(10)).await;
                let during = all.iter().map(|&i| chain.height(i)).max().unwrap_or(0);
                if split == 2 {
                    // At most blocks already certified before the split finish.
                    assert!(
                        during <= before + 2,
                        "progress without a quorum: {before} -> {during}"
                    );
                } else {
                    let majority: Vec<usize> = if split == 1 {
                        vec![1, 2, 3]
                    } else {
                        vec![0, 1, 2]
                    };
                    reach(&context, chain, &majority, before + 3).await;
                }
                link_all(&mut oracle, &keys, &LOSSY).await;
                reach(&context, chain, &all, during + 3).await;
            }
        });
        chain.assert_agreement(&all);
    });
}

/// Crash every validator at once, at random moments, three times; each restart resumes from
/// its journals (recovered from the crashed runtime's storage) and its redb store, re-signs
/// nothing, and the chain keeps growing without disagreement.
#[test]
fn unclean_restarts_resume() {
    const CRASHES: usize = 3;
    for_seeds("unclean_restarts_resume", 15, |seed| {
        let chain = Chain::new(4);
        let all = [0usize, 1, 2, 3];
        let mut checkpoint = None;
        let mut heights = Vec::new();
        for run in 0..=CRASHES {
            let runner = match checkpoint.take() {
                None => deterministic::Runner::new(
                    deterministic::Config::new()
                        .with_seed(seed)
                        .with_timeout(Some(Duration::from_secs(600))),
                ),
                Some(checkpoint) => deterministic::Runner::from(checkpoint),
            };
            let chain_ref = &chain;
            let target = all.iter().map(|&i| chain.height(i)).max().unwrap_or(0) + 5;
            let ((), next) = runner.start_and_recover(|context| async move {
                let mut oracle = network(&context, chain_ref).await;
                let keys: Vec<_> = all.iter().map(|&i| chain_ref.public(i)).collect();
                link_all(&mut oracle, &keys, &LINK).await;
                let mut running = Vec::new();
                for i in all {
                    running.push(start(&context, &mut oracle, chain_ref, i, Role::Honest).await);
                }
                let submitters = running
                    .iter()
                    .flatten()
                    .map(|r| r.submitter.clone())
                    .collect();
                let _client = client(&context, submitters, 1);
                if run < CRASHES {
                    let crash_after =
                        Duration::from_millis(300 + context.child("crash").next_u64() % 3_000);
                    context.sleep(crash_after).await;
                } else {
                    reach(&context, chain_ref, &all, target).await;
                }
            });
            chain.assert_agreement(&all);
            heights.push(all.map(|i| chain.height(i)));
            checkpoint = Some(next);
        }
        let last = heights.last().expect("runs");
        assert!(
            last.iter().all(|&h| h >= 5),
            "no progress across restarts: {heights:?}"
        );
    });
}

/// A validator that was offline from the start backfills finalized blocks and catches up to
/// the same state.
#[test]
fn late_validator_backfills() {
    for_seeds("late_validator_backfills", 10, |seed| {
        let chain = Chain::new(4);
        deterministic::Runner::new(
            deterministic::Config::new()
                .with_seed(seed)
                .with_timeout(Some(Duration::from_secs(600))),
        )
        .start(|context| {
            let chain = &chain;
            async move {
                let mut oracle = network(&context, chain).await;
                let online: Vec<_> = (0..3).map(|i| chain.public(i)).collect();
                link_all(&mut oracle, &online, &LINK).await;
                let mut running = Vec::new();
                for i in 0..3 {
                    running.push(start(&context, &mut oracle, chain, i, Role::Honest).await);
                }
                let submitters = running
                    .iter()
                    .flatten()
                    .map(|r| r.submitter.clone())
                    .collect();
                let _client = client(&context, submitters, 1);
                reach(&context, chain, &[0, 1, 2], 10).await;
                let all: Vec<_> = (0..4).map(|i| chain.public(i)).collect();
                link_all(&mut oracle, &all, &LINK).await;
                let late = start(&context, &mut oracle, chain, 3, Role::Honest).await;
                reach(&context, chain, &[0, 1, 2, 3], 14).await;
                drop(late);
            }
        });
        chain.assert_agreement(&[0, 1, 2, 3]);
    });
}

/// One validator's runtime prices storage writes differently. Once a contract writes state,
/// its execution disagrees with the network's: it halts with a report naming the
/// transaction, commits nothing past it, and the other three carry on.
#[test]
fn diverging_validator_halts_with_a_report() {
    for_seeds("diverging_validator_halts_with_a_report", 3, |seed| {
        let chain = Chain::new(4);
        let code = common::artifact("points");
        let halt = deterministic::Runner::new(
            deterministic::Config::new()
                .with_seed(seed)
                .with_timeout(Some(Duration::from_secs(600))),
        )
        .start(|context| {
            let chain = &chain;
            let code = code.clone();
            async move {
                let mut oracle = network(&context, chain).await;
                let keys: Vec<_> = (0..4).map(|i| chain.public(i)).collect();
                link_all(&mut oracle, &keys, &LINK).await;
                let mut running = Vec::new();
                for i in 0..4 {
                    let role = if i == 3 {
                        Role::Diverging
                    } else {
                        Role::Honest
                    };
                    running.push(
                        start(&context, &mut oracle, chain, i, role)
                            .await
                            .expect("engine"),
                    );
                }
                reach(&context, chain, &[0, 1, 2, 3], 2).await;
                let deploy = common::sign(
                    1,
                    0,
                    Action::Deploy {
                        code,
                        init_args: "{}".into(),
                    },
                );
                running[0]
                    .submitter
                    .submit(deploy)
                    .expect("deploy accepted");
                let halt = running[3]
                    .ledger
                    .on_halt()
                    .await
                    .expect("validator 3 halts");
                let halted_at = chain.height(3);
                reach(&context, chain, &[0, 1, 2], halted_at + 5).await;
                assert_eq!(
                    chain.height(3),
                    halted_at,
                    "a halted validator committed more"
                );
                halt
            }
        });
        chain.assert_agreement(&[0, 1, 2]);
        let Halt::Diverged(divergence) = &halt else {
            panic!("expected a divergence, got {halt}");
        };
        let report = halt.to_string();
        assert!(report.contains("CONSENSUS DIVERGENCE"), "{report}");
        let (index, hash, _) = divergence
            .first_transaction
            .clone()
            .expect("a transaction is named");
        let block = chain.stores[0]
            .block(divergence.height)
            .expect("read")
            .expect("finalized block");
        assert_eq!(hash, hex(&block.transactions[index].hash()));
        assert!(divergence.fields.contains(&"receipts_root"), "{report}");
        chain.assert_agreement(&[0, 1, 2, 3]);
    });
}

//! One node process, a validator or an observer: the loop that runs it.
//!
//! A node is configured by a JSON file (see [`NodeConfig`]) that names the network's genesis,
//! the node's ed25519 key, where to keep data, where to listen, and every validator's and
//! observer's address. A validator proposes and votes; an observer runs the same stack without
//! simplex: it checks each finalization certificate the validators broadcast, fetches, executes
//! and commits the blocks, serves the same JSON-RPC, and gossips transactions submitted to it
//! to the validators. It runs on commonware's tokio runtime: redb holds the ledger in
//! `<data_dir>/ledger.redb` (its state commitment, QMDB, in `<data_dir>/ledger.redb.commitment`),
//! consensus keeps its journals and archives under
//! `<data_dir>/consensus`, peers connect over authenticated, encrypted TCP (commonware's
//! `lookup` network: every validator's address is known), and JSON-RPC and Prometheus metrics
//! share one HTTP port. A restart resumes from its stores; a halt (divergence, local fault)
//! stops the process with the report and exit code 2.

use crate::{
    config::{NetworkProfile, NodeConfig, Peer},
    keys::read_validator_key,
};
use anyhow::{anyhow, bail, Context as _};
use commonware_cryptography::{ChaCha20Poly1305, Signer as _};
use commonware_p2p::{authenticated::lookup, AddressableManager as _, AddressableTrackedPeers};
use commonware_runtime::{tokio as runtime, Metrics, Quota, Runner as _, Supervisor as _};
use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{ordered::Map, NZUsize};
use std::{
    num::{NonZeroU32, NonZeroUsize},
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::signal::unix::SignalKind;
use tracing::{error, info};
use vellum_consensus::{
    engine::{channel, max_message_size},
    mempool,
    private::Directory,
    Application, Chain, Channels, EngineConfig, FollowConfig, RoundBlock, SubmitError, Submitter,
    ValidatorKey,
};
use vellum_ledger::{Executor, PrivateStore, Store};
use vellum_rpc::NodeStatus;
use vellum_runtime::RuntimeConfig;
use vellum_types::{hex, Genesis, Hash, SignedTransaction};

/// Channel quotas per peer: consensus traffic is small and frequent; blocks and backfill are
/// large; gossip batches are large and bounded tighter.
fn quota(channel: u64) -> Quota {
    let per_second = match channel {
        channel::VOTES | channel::CERTIFICATES | channel::RESOLVER => 1_024,
        channel::BLOCKS | channel::BACKFILL => 128,
        channel::PRIVATE => 32,
        _ => 64,
    };
    Quota::per_second(NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN))
}

/// What a node does in the network, from its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Its key is a validator's in the genesis: it proposes and votes.
    Validator,
    /// Its key is listed among the configuration's observers: it follows without voting.
    Observer,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Self::Validator => "validator",
            Self::Observer => "observer",
        }
    }
}

/// Each peer's key and address, keyed by the key; `what` names the list in errors.
fn peer_map(
    peers: &[Peer],
    what: &str,
) -> anyhow::Result<Map<ValidatorKey, commonware_p2p::Address>> {
    let mut addresses = Vec::with_capacity(peers.len());
    for peer in peers {
        let key = vellum_consensus::parse_validator_key(&peer.public_key)
            .ok_or_else(|| anyhow!("{what} {} has no valid public key", peer.address))?;
        addresses.push((key, commonware_p2p::Address::from(peer.address)));
    }
    addresses
        .try_into()
        .map_err(|_| anyhow!("a key is listed twice among the {what}s of the node configuration"))
}

/// The read policy the node applies: the stricter of the genesis file's (the network's
/// agreement) and its configuration's (a node may hold its own data closer, never looser).
fn read_policy(genesis: &Genesis, config: &NodeConfig) -> vellum_rpc::ReadPolicy {
    let network = genesis.read_policy;
    match config.read_policy {
        Some(own) if own < network => {
            tracing::warn!(
                "the node configuration's read_policy `{}` is looser than the genesis file's \
                 `{}`; applying `{}`",
                own.name(),
                network.name(),
                network.name()
            );
            network
        }
        Some(own) => own,
        None => network,
    }
}

/// Which organisation this node (key `own`) and each of its peers belongs to, for private
/// data: validators' from the genesis file, observers' from the configuration's `observers`.
fn directory(
    genesis: &Genesis,
    config: &NodeConfig,
    own: &ValidatorKey,
) -> anyhow::Result<Directory> {
    let mut organisations = Vec::new();
    for validator in &genesis.validators {
        let key = vellum_consensus::parse_validator_key(&validator.public_key)
            .ok_or_else(|| anyhow!("validator {} has no valid public key", validator.name))?;
        organisations.push((key, validator.organisation.clone()));
    }
    if let Some(peer) = config.peers.iter().find(|peer| peer.organisation.is_some()) {
        bail!(
            "peer {} names an organisation: a validator's organisation is the genesis file's; \
             only observers' entries may name one",
            peer.address
        );
    }
    for observer in &config.observers {
        let Some(organisation) = &observer.organisation else {
            continue;
        };
        // An organisation that joined by proposal is in no genesis file, and the ledger may not
        // have reached its joining yet: any name an organisation could have is taken. Private
        // data reaches it only in collections naming it, and a collection names only
        // organisations of the ledger when it is put (`vellum_putPrivate`).
        if !genesis.has_organisation(organisation)
            && !vellum_types::governance::valid_organisation_name(organisation)
        {
            bail!(
                "observer {} names `{organisation}`, which is neither an organisation of the \
                 genesis file nor a name one could join with (1 to 64 bytes of a-z, 0-9, -, _ \
                 and .)",
                observer.address
            );
        }
        let key = vellum_consensus::parse_validator_key(&observer.public_key)
            .ok_or_else(|| anyhow!("observer {} has no valid public key", observer.address))?;
        organisations.push((key, organisation.clone()));
    }
    let validators = genesis.validators.len();
    let mut directory = Directory::default();
    for (i, (key, organisation)) in organisations.into_iter().enumerate() {
        if key == *own {
            directory.organisation = Some(organisation);
        } else {
            if i < validators {
                directory.certain.insert(key.clone());
            }
            directory.peers.insert(key, organisation);
        }
    }
    Ok(directory)
}

/// Run the node `config` describes (a validator or an observer, as its key says) until it halts
/// or the process is interrupted.
pub fn run(config: NodeConfig) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&config.genesis)
        .with_context(|| format!("cannot read the genesis file {}", config.genesis.display()))?;
    let genesis = Genesis::from_json(&text)?;
    let signer = read_validator_key(&config.key)?;
    let participants = vellum_consensus::participants(&genesis)?;
    let validators = peer_map(&config.peers, "peer")?;
    let observers = peer_map(&config.observers, "observer")?;
    if let Some(both) = observers
        .iter()
        .find(|key| validators.get_value(key).is_some())
    {
        bail!(
            "{} is listed both as a validator peer and as an observer",
            hex(both.as_ref())
        );
    }
    let role = if participants.position(&signer.public_key()).is_some() {
        Role::Validator
    } else if observers.get_value(&signer.public_key()).is_some() {
        Role::Observer
    } else {
        bail!(
            "this node's key {} is neither a validator in the genesis file nor listed among the \
             configuration's observers; add it to `observers` in every node's configuration to \
             run it as an observer",
            hex(signer.public_key().as_ref())
        );
    };
    // Before anything is opened: a refused JSON-RPC setting is a configuration error.
    let tls = config.rpc_tls()?;
    let directory = directory(&genesis, &config, &signer.public_key())?;
    let read_policy = read_policy(&genesis, &config);
    let peer_count = validators.len() + observers.len();
    let tracked = AddressableTrackedPeers::new(validators, observers);

    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let store = Arc::new(
        Store::open(&config.data_dir.join("ledger.redb"), &genesis)
            .context("cannot open the ledger store")?,
    );
    // Before the state's: its records are what the history's pruning reads.
    if let Some(blocks) = config.history_retention()? {
        store.retain_history(blocks);
    }
    if let Some(blocks) = config.state_retention_blocks {
        store
            .retain_state(blocks)
            .context("cannot apply state_retention_blocks")?;
    }
    let block0 = store
        .block(0)?
        .ok_or_else(|| anyhow!("the store has no genesis block"))?;
    let executor = Arc::new(
        Executor::new(
            genesis.clone(),
            RuntimeConfig {
                artifact_dir: Some(config.data_dir.join("artifacts")),
                ..RuntimeConfig::default()
            },
        )
        .context("cannot start the wasm runtime")?,
    );
    let private = Arc::new(
        PrivateStore::open(&config.data_dir.join("private"), Default::default())
            .context("cannot open the private data store")?,
    );
    let chain = Chain::new(
        executor,
        store,
        mempool::Mempool::new(mempool::Limits::default()),
    );

    let halt = runtime::Runner::new(runtime_config(&config.data_dir)).start(|context| async move {
        let namespace = vellum_consensus::namespace(&genesis);
        let handshake = Cups::<_, ChaCha20Poly1305>::new(
            Sake {
                signer: signer.clone(),
                synchrony_bound: Duration::from_secs(5),
                max_handshake_age: Duration::from_secs(10),
                version: sake::Version::V1,
            },
            cups::Version::V1,
        );
        let profile = match config.network() {
            NetworkProfile::Internet => lookup::Config::recommended,
            NetworkProfile::Local => lookup::Config::local,
        };
        let network_config = profile(
            handshake,
            &namespace,
            config.p2p,
            // Mailboxes are preallocated per peer: size them for this network.
            NonZeroUsize::new(peer_count).unwrap_or(NonZeroUsize::MIN),
            max_message_size(&genesis.limits),
            NZUsize!(1024),
        );
        let (mut network, mut oracle) =
            lookup::Network::new(context.child("network"), network_config);
        let _ = oracle.track(0, tracked);
        let mut register = |channel| network.register(channel, quota(channel));
        let channels = Channels {
            votes: register(channel::VOTES),
            certificates: register(channel::CERTIFICATES),
            resolver: register(channel::RESOLVER),
            blocks: register(channel::BLOCKS),
            backfill: register(channel::BACKFILL),
            transactions: register(channel::TRANSACTIONS),
        };
        let private_channel = register(channel::PRIVATE);
        network.start();
        let organisation = directory.organisation.clone();
        let (_sharing, _purging, sharer) = vellum_consensus::private::start(
            context.child("private"),
            chain.store().clone(),
            private.clone(),
            directory,
            private_channel,
            oracle.clone(),
        );
        let node = FollowConfig {
            participants,
            namespace,
            chain: chain.clone(),
            genesis: RoundBlock::genesis(block0),
            blocker: oracle.clone(),
            peers: oracle,
            partition: "vellum".into(),
        };
        let (halted, submitter) = match role {
            Role::Validator => {
                let consensus_config = EngineConfig {
                    signer,
                    timeouts: (&config.timeouts).into(),
                    node,
                };
                vellum_consensus::start(
                    context.child("validator"),
                    Application::new(chain.clone()),
                    consensus_config,
                    channels,
                )
                .await
            }
            Role::Observer => {
                vellum_consensus::observe(
                    context.child("observer"),
                    signer.public_key(),
                    node,
                    channels,
                )
                .await
            }
        };
        let served = Served {
            role,
            submitter,
            sharer,
            metrics: {
                let metrics = context.child("rpc");
                MetricsCache::new(move || metrics.encode())
            },
        };
        let limits = vellum_rpc::Limits {
            hosts: config.rpc_hosts.clone(),
            read_policy,
            ..vellum_rpc::Limits::default()
        };
        let mut state = vellum_rpc::State::with_limits(
            chain.store().clone(),
            chain.executor().clone(),
            served,
            limits,
        );
        if let Some(organisation) = organisation {
            state = state.with_private(vellum_rpc::Private {
                store: private,
                organisation,
            });
        }
        let server = match vellum_rpc::serve_with(config.rpc, state, tls).await {
            Ok(server) => server,
            Err(e) => return Err(anyhow!("cannot serve JSON-RPC on {}: {e}", config.rpc)),
        };
        // Installed before saying it runs: a signal that came before its handler would kill the
        // process uncleanly, and whoever reads that line may stop it at once.
        let interrupted = on_signal(SignalKind::interrupt(), "SIGINT");
        let terminated = on_signal(SignalKind::terminate(), "SIGTERM");
        info!(rpc = %config.rpc, p2p = %config.p2p, "{} running", role.name());
        tokio::select! {
            halt = halted => {
                server.stop();
                match halt {
                    Ok(halt) => Err(anyhow!("{halt}")),
                    Err(e) => Err(anyhow!("the {} stopped: {e}", role.name())),
                }
            }
            _ = interrupted => {
                info!("interrupted (SIGINT); stopping");
                server.stop();
                Ok(())
            }
            _ = terminated => {
                info!("terminated (SIGTERM); stopping");
                server.stop();
                Ok(())
            }
        }
    });
    if let Err(e) = &halt {
        error!("{e}");
    }
    halt
}

/// Install a handler for `kind` now, and resolve when that signal arrives (never, if the handler
/// cannot be installed). Must be called inside the tokio runtime.
fn on_signal(kind: SignalKind, name: &'static str) -> impl std::future::Future<Output = ()> {
    let installed = tokio::signal::unix::signal(kind);
    async move {
        match installed {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                error!("cannot handle {name}: {e}");
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The number of connected peers in the metrics' encoding (commonware's p2p tracker keeps one
/// `network_tracker_directory_connected` gauge per connected peer); `None` if the family is not
/// there at all.
fn connected_peers(metrics: &str) -> Option<u64> {
    const FAMILY: &str = "network_tracker_directory_connected";
    let mut declared = false;
    let mut count = 0;
    for line in metrics.lines() {
        if line
            .strip_prefix("# TYPE ")
            .is_some_and(|rest| rest.split_whitespace().next() == Some(FAMILY))
        {
            declared = true;
        } else if line
            .strip_prefix(FAMILY)
            .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        {
            count += 1;
        }
    }
    (declared || count > 0).then_some(count)
}

/// What JSON-RPC sees of a node beyond its ledger.
struct Served {
    role: Role,
    submitter: Submitter,
    sharer: vellum_consensus::private::Sharer,
    metrics: MetricsCache,
}

/// How old an encoding of the metrics may be when served.
const METRICS_MAX_AGE: Duration = Duration::from_secs(1);

/// The metrics registry's encoding, made at most once per [`METRICS_MAX_AGE`]: encoding the
/// whole registry is work any caller of `/metrics` or `vellum_status` could otherwise repeat
/// at will.
struct MetricsCache {
    encode: Box<dyn Fn() -> String + Send + Sync>,
    /// The last encoding and when it was made.
    encoded: Mutex<Option<(Instant, String)>>,
}

impl MetricsCache {
    fn new(encode: impl Fn() -> String + Send + Sync + 'static) -> Self {
        Self {
            encode: Box::new(encode),
            encoded: Mutex::new(None),
        }
    }

    /// The encoding as of `now`: the last one if younger than [`METRICS_MAX_AGE`], else a new
    /// one.
    fn get(&self, now: Instant) -> String {
        let mut encoded = self
            .encoded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &*encoded {
            Some((at, text)) if now.saturating_duration_since(*at) < METRICS_MAX_AGE => {
                text.clone()
            }
            _ => {
                let text = (self.encode)();
                *encoded = Some((now, text.clone()));
                text
            }
        }
    }
}

/// The configuration of the runtime a validator runs on.
fn runtime_config(data_dir: &Path) -> runtime::Config {
    runtime::Config::new()
        .with_storage_directory(data_dir.join("consensus"))
        .with_tcp_nodelay(Some(true))
        // A panicking task ends alone; the engine's supervisor halts the validator if it was
        // one of consensus's parts (`vellum_consensus::start`).
        .with_catch_panics(true)
}

impl vellum_rpc::Node for Served {
    type SubmitError = SubmitError;

    fn submit(&self, transaction: SignedTransaction) -> Result<Hash, SubmitError> {
        self.submitter.submit(transaction)
    }

    fn is_pending(&self, hash: &Hash) -> bool {
        self.submitter.chain().mempool().contains(hash)
    }

    fn status(&self) -> NodeStatus {
        let chain = self.submitter.chain();
        let peers = connected_peers(&self.metrics());
        let mempool = chain.mempool();
        NodeStatus {
            observer: self.role == Role::Observer,
            finalized_tip: chain.finalized_tip(),
            peers,
            mempool_transactions: mempool.len(),
            mempool_bytes: mempool.bytes(),
            halted: chain.halted().map(|h| h.to_string()),
        }
    }

    fn metrics(&self) -> String {
        self.metrics.get(Instant::now())
    }

    fn share_private(&self, hash: Hash) -> bool {
        self.sharer.share(hash).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_runtime::Spawner as _;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A node applies the stricter of the genesis file's read policy and its own: its
    /// configuration can hold data closer than the network agreed, never looser.
    #[test]
    fn the_read_policy_is_the_stricter_of_genesis_and_configuration() {
        use vellum_rpc::ReadPolicy::{Members, Organisation, Public};
        let text = r#"{"genesis": "g.json", "key": "k", "data_dir": "d", "p2p": "127.0.0.1:1",
                       "rpc": "127.0.0.1:2", "peers": []}"#;
        let mut config: NodeConfig = serde_json::from_str(text).expect("a configuration");
        let mut genesis = vellum_ledger::testing::genesis(vellum_types::DeployPolicy::AnyAdmin);
        for (network, own, applied) in [
            (Public, None, Public),
            (Members, None, Members),
            (Public, Some(Organisation), Organisation),
            (Members, Some(Public), Members),
            (Organisation, Some(Members), Organisation),
        ] {
            genesis.read_policy = network;
            config.read_policy = own;
            assert_eq!(
                read_policy(&genesis, &config),
                applied,
                "{network:?} {own:?}"
            );
        }
    }

    /// An observer's entry may name an organisation that joined by proposal (before, only the
    /// genesis file's were accepted, so a later member could not run a node holding its
    /// private data); a name no organisation could have is refused.
    #[test]
    fn observers_may_belong_to_organisations_that_joined_later() {
        let genesis = vellum_ledger::testing::genesis(vellum_types::DeployPolicy::AnyAdmin);
        let key = |seed| commonware_cryptography::ed25519::PrivateKey::from_seed(seed).public_key();
        let entry = |seed, organisation: &str| {
            serde_json::json!({"public_key": hex(key(seed).as_ref()), "address": "127.0.0.1:9",
                   "organisation": organisation})
        };
        let config = |organisation: &str| -> NodeConfig {
            serde_json::from_value(
                serde_json::json!({"genesis": "g.json", "key": "k", "data_dir": "d",
                "p2p": "127.0.0.1:1", "rpc": "127.0.0.1:2", "peers": [],
                "observers": [entry(1, "bank-a"), entry(2, organisation)]}),
            )
            .expect("a configuration")
        };
        let accepted = directory(&genesis, &config("harbour"), &key(1)).expect("accepted");
        assert_eq!(accepted.organisation.as_deref(), Some("bank-a"));
        assert_eq!(
            accepted.peers.get(&key(2)).map(String::as_str),
            Some("harbour")
        );
        let refused = directory(&genesis, &config("Harbour Ltd"), &key(1))
            .expect_err("not a name")
            .to_string();
        assert!(
            refused.contains("nor a name one could join with"),
            "{refused}"
        );
    }

    /// The peer count is the number of connected peers' gauges, as commonware's tracker encodes
    /// them (read off a 4-validator devnet's `/metrics`); it was `null` when it looked for one
    /// unlabelled gauge.
    #[test]
    fn peers_are_counted_from_the_trackers_gauges() {
        let metrics = "\
# HELP network_tracker_directory_connected Unix timestamp in milliseconds when each connected peer became active.
# TYPE network_tracker_directory_connected gauge
network_tracker_directory_connected{peer=\"9c5b766d\"} 1796526661782
network_tracker_directory_connected{peer=\"c0b04bd4\"} 1796526661297
network_tracker_directory_connected{peer=\"7d86684d\"} 1796526661793
# HELP network_tracker_directory_tracked Total number of unique peers in all peer sets being tracked.
# TYPE network_tracker_directory_tracked gauge
network_tracker_directory_tracked 4
";
        assert_eq!(connected_peers(metrics), Some(3));
        let alone = "# TYPE network_tracker_directory_connected gauge\nnetwork_tracker_directory_tracked 4\n";
        assert_eq!(connected_peers(alone), Some(0));
        assert_eq!(connected_peers("other_metric 1\n"), None);
    }

    /// A defect reached by one peer's or one caller's input panics one task: on the node's
    /// runtime, that task ends and the process goes on.
    #[test]
    fn a_panicking_task_ends_alone() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let survived =
            runtime::Runner::new(runtime_config(dir.path())).start(|context| async move {
                let panicked = context
                    .child("defect")
                    .spawn(|_| async move { panic!("a defect reached by input") })
                    .await;
                assert!(panicked.is_err(), "the task's handle reports its end");
                // The runtime still runs tasks.
                context.child("after").spawn(|_| async { 7 }).await
            });
        assert_eq!(survived.ok(), Some(7));
    }

    #[test]
    fn the_metrics_are_encoded_at_most_once_per_max_age() {
        let encodings = Arc::new(AtomicUsize::new(0));
        let cache = {
            let encodings = encodings.clone();
            MetricsCache::new(move || {
                format!("encoding {}", encodings.fetch_add(1, Ordering::SeqCst) + 1)
            })
        };
        let start = Instant::now();
        assert_eq!(cache.get(start), "encoding 1");
        let just_before = start + METRICS_MAX_AGE - Duration::from_millis(1);
        for _ in 0..1_000 {
            assert_eq!(cache.get(just_before), "encoding 1");
        }
        assert_eq!(cache.get(start + METRICS_MAX_AGE), "encoding 2");
        assert_eq!(encodings.load(Ordering::SeqCst), 2);
    }
}

//! One validator process: its configuration, its keys, and the loop that runs it.
//!
//! A node is configured by a JSON file (see [`Config`]) that names the network's genesis, the
//! validator's ed25519 key, where to keep data, where to listen, and every validator's
//! address. It runs on commonware's tokio runtime: redb holds the ledger in
//! `<data_dir>/ledger.redb`, consensus keeps its journals and archives under
//! `<data_dir>/consensus`, peers connect over authenticated, encrypted TCP (commonware's
//! `lookup` network: every validator's address is known), and JSON-RPC and Prometheus metrics
//! share one HTTP port. A restart resumes from both stores; a halt (divergence, local fault)
//! stops the process with the report and exit code 2.

pub mod devnet;
pub mod init;

use crate::{
    consensus::{self, engine::channel, mempool, Block, Ledger},
    ledger::{Executor, Genesis, Store},
    rpc,
};
use anyhow::{anyhow, bail, Context as _};
use commonware_codec::{DecodeExt as _, Encode as _};
use commonware_cryptography::{ed25519, ChaCha20Poly1305, Signer as _};
use commonware_p2p::{authenticated::lookup, Address, AddressableManager as _};
use commonware_runtime::{tokio as runtime, Quota, Runner as _, Supervisor as _};
use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{ordered::Map, NZUsize};
use serde::{Deserialize, Serialize};
use std::{
    net::SocketAddr,
    num::{NonZeroU32, NonZeroUsize},
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};
use tracing::{error, info};
use vellum_runtime::RuntimeConfig;

/// A validator's configuration file. Relative paths are relative to the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The genesis file.
    pub genesis: PathBuf,
    /// The file holding this validator's ed25519 private key (hex).
    pub key: PathBuf,
    /// Where the ledger and the consensus journals live.
    pub data_dir: PathBuf,
    /// Address to accept validator connections on.
    pub p2p: SocketAddr,
    /// Address to serve JSON-RPC (HTTP and WebSocket) and `/metrics` on.
    pub rpc: SocketAddr,
    /// Every validator's public key and p2p address (this one's included).
    pub peers: Vec<Peer>,
    /// Consensus timeouts in milliseconds.
    #[serde(default)]
    pub timeouts: Timeouts,
}

/// A validator's address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peer {
    /// Its ed25519 public key, `0x` hex.
    pub public_key: String,
    /// Where it listens for validators.
    pub address: SocketAddr,
}

/// Consensus timeouts, in milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// Waiting for a leader's proposal.
    pub leader_ms: u64,
    /// Waiting for a notarized block to certify.
    pub certification_ms: u64,
    /// Between rebroadcasts in a stalled view.
    pub retry_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        let defaults = consensus::Timeouts::default();
        Self {
            leader_ms: defaults.leader.as_millis() as u64,
            certification_ms: defaults.certification.as_millis() as u64,
            retry_ms: defaults.retry.as_millis() as u64,
        }
    }
}

impl Config {
    /// Read a configuration file, resolving its relative paths.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the node configuration {}", path.display()))?;
        let mut config: Config = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a valid node configuration (see docs/consensus.md; `vellum init` writes one)",
                path.display()
            )
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for file in [&mut config.genesis, &mut config.key, &mut config.data_dir] {
            if file.is_relative() {
                *file = base.join(&*file);
            }
        }
        Ok(config)
    }
}

/// A new random validator key.
pub fn generate_key() -> anyhow::Result<ed25519::PrivateKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow!("no randomness for a key: {e}"))?;
    ed25519::PrivateKey::decode(seed.to_vec()).map_err(|e| anyhow!("bad key material: {e}"))
}

/// Read a validator key file (hex).
pub fn read_key(path: &Path) -> anyhow::Result<ed25519::PrivateKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the validator key {}", path.display()))?;
    let bytes = crate::ledger::transaction::unhex(text.trim())
        .ok_or_else(|| anyhow!("{} does not hold a hex key", path.display()))?;
    ed25519::PrivateKey::decode(bytes)
        .map_err(|e| anyhow!("{} does not hold an ed25519 key: {e}", path.display()))
}

/// `0x` hex of a validator key's secret, for its key file.
pub fn key_hex(key: &ed25519::PrivateKey) -> String {
    crate::ledger::transaction::hex(&key.encode())
}

/// Channel quotas per peer: consensus traffic is small and frequent; blocks and backfill are
/// large; gossip batches are large and bounded tighter.
fn quota(channel: u64) -> Quota {
    let per_second = match channel {
        channel::VOTES | channel::CERTIFICATES | channel::RESOLVER => 1_024,
        channel::BLOCKS | channel::BACKFILL => 128,
        _ => 64,
    };
    Quota::per_second(NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN))
}

/// Run the validator `config` describes until it halts or the process is interrupted.
pub fn run(config: Config) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&config.genesis)
        .with_context(|| format!("cannot read the genesis file {}", config.genesis.display()))?;
    let genesis = Genesis::from_json(&text)?;
    let signer = read_key(&config.key)?;
    let participants = consensus::participants(&genesis).map_err(|e| anyhow!(e))?;
    if participants.position(&signer.public_key()).is_none() {
        bail!(
            "this node's key {} is not a validator in the genesis file",
            crate::ledger::transaction::hex(signer.public_key().as_ref())
        );
    }
    let mut addresses = Vec::with_capacity(config.peers.len());
    for peer in &config.peers {
        let key = consensus::parse_validator_key(&peer.public_key)
            .ok_or_else(|| anyhow!("peer {} has no valid public key", peer.address))?;
        addresses.push((key, Address::from(peer.address)));
    }
    let addresses: Map<_, Address> = addresses
        .try_into()
        .map_err(|_| anyhow!("a peer is listed twice in the node configuration"))?;

    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let store = Arc::new(
        Store::open(&config.data_dir.join("ledger.redb"), &genesis)
            .context("cannot open the ledger store")?,
    );
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
    let ledger = Ledger::new(
        executor,
        store,
        mempool::Mempool::new(mempool::Limits::default()),
    );

    let runtime = runtime::Config::new()
        .with_storage_directory(config.data_dir.join("consensus"))
        .with_tcp_nodelay(Some(true))
        .with_catch_panics(false);
    let halt = runtime::Runner::new(runtime).start(|context| async move {
        let namespace = consensus::namespace(&genesis);
        let handshake = Cups::<_, ChaCha20Poly1305>::new(
            Sake {
                signer: signer.clone(),
                synchrony_bound: Duration::from_secs(5),
                max_handshake_age: Duration::from_secs(10),
                version: sake::Version::V1,
            },
            cups::Version::V1,
        );
        let network_config = lookup::Config::local(
            handshake,
            &namespace,
            config.p2p,
            // Mailboxes are preallocated per peer: size them for this network.
            NonZeroUsize::new(participants.len()).unwrap_or(NonZeroUsize::MIN),
            consensus::engine::max_message_size(&genesis.limits),
            NZUsize!(1024),
        );
        let (mut network, mut oracle) =
            lookup::Network::new(context.child("network"), network_config);
        let _ = oracle.track(0, addresses);
        let mut register = |channel| network.register(channel, quota(channel));
        let channels = consensus::Channels {
            votes: register(channel::VOTES),
            certificates: register(channel::CERTIFICATES),
            resolver: register(channel::RESOLVER),
            blocks: register(channel::BLOCKS),
            backfill: register(channel::BACKFILL),
            transactions: register(channel::TRANSACTIONS),
        };
        network.start();
        let timeouts = consensus::Timeouts {
            leader: Duration::from_millis(config.timeouts.leader_ms),
            certification: Duration::from_millis(config.timeouts.certification_ms),
            retry: Duration::from_millis(config.timeouts.retry_ms),
        };
        let consensus_config = consensus::Config {
            signer,
            participants,
            namespace,
            ledger: ledger.clone(),
            genesis: Block::genesis(block0),
            blocker: oracle.clone(),
            peers: oracle,
            partition: "vellum".into(),
            timeouts,
        };
        let (halted, submitter) = consensus::start(
            context.child("validator"),
            consensus::Application::new(ledger.clone()),
            consensus_config,
            channels,
        )
        .await;
        let metrics = context.child("rpc");
        let server = match rpc::serve(config.rpc, rpc::State::new(submitter, metrics)).await {
            Ok(server) => server,
            Err(e) => return Err(anyhow!("cannot serve JSON-RPC on {}: {e}", config.rpc)),
        };
        info!(rpc = %config.rpc, p2p = %config.p2p, "validator running");
        tokio::select! {
            halt = halted => {
                let _ = server.stop();
                match halt {
                    Ok(halt) => Err(anyhow!("{halt}")),
                    Err(e) => Err(anyhow!("the validator stopped: {e}")),
                }
            }
            _ = tokio::signal::ctrl_c() => {
                info!("interrupted; stopping");
                let _ = server.stop();
                Ok(())
            }
        }
    });
    if let Err(e) = &halt {
        error!("{e}");
    }
    halt
}

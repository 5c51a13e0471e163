//! A node's configuration file: the genesis it follows, its key, where it keeps data, where it
//! listens, and its peers. A node whose key is a validator's in the genesis votes; one whose key
//! is listed among `observers` follows the validators without voting.

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};
use vellum_consensus::Timeouts;

/// A node's configuration file. Relative paths are relative to the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The genesis file.
    pub genesis: PathBuf,
    /// The file holding this node's ed25519 private key (hex): a validator's, or an observer's.
    pub key: PathBuf,
    /// Where the ledger and the consensus journals live.
    pub data_dir: PathBuf,
    /// Address to accept peer connections on.
    pub p2p: SocketAddr,
    /// Address to serve JSON-RPC (HTTP and WebSocket) and `/metrics` on.
    pub rpc: SocketAddr,
    /// Every validator's public key and p2p address (this one's included).
    pub peers: Vec<Peer>,
    /// Every observer's public key and p2p address (this one's included, if it is one): nodes
    /// that follow the finalized chain and serve JSON-RPC without voting. Validators accept
    /// connections from these keys only, besides each other's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observers: Vec<Peer>,
    /// Consensus timeouts in milliseconds.
    #[serde(default)]
    pub timeouts: TimeoutsMs,
    /// How the p2p network treats the addresses it meets; when absent, inferred from the
    /// validators' addresses ([`NodeConfig::network`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkProfile>,
    /// How many blocks back state can be read (`vellum_query` at a height): the store keeps the
    /// undo records of its newest this many blocks and deletes older ones (once the history's
    /// pruning has read them, with `history_retention_blocks`). Absent: all are kept. Blocks
    /// and receipts are always kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_retention_blocks: Option<u64>,
    /// How many blocks back keys' histories reach (`vellum_getHistory`): the versions written by
    /// older blocks are deleted as blocks commit, but those of each key's newest block before
    /// them. Absent: all are kept. At least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_retention_blocks: Option<u64>,
    /// Host names JSON-RPC requests may be addressed to, beyond IP addresses and `localhost`
    /// (e.g. `rpc.bank.example` behind a proxy); a request naming another is refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rpc_hosts: Vec<String>,
    /// Serve JSON-RPC over TLS only (HTTPS and WSS), with this certificate and key. `vellum
    /// init` writes them, signed by the network's own CA (`tls/ca.pem`, which clients trust).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpc_tls: Option<TlsFiles>,
    /// Serve plain HTTP on an address that is not loopback. Without TLS and without this, a
    /// node whose `rpc` address is not loopback refuses to start: callers' transactions,
    /// queries and answers would cross the network in the clear.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rpc_plain_http: bool,
    /// Who may read contracts' raw storage, events and transaction arguments over JSON-RPC:
    /// `public` (when absent), `members` (callers proving a member's key) or `organisation`
    /// (members of the contract's owner). The ledger's own records are members' only under
    /// every policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_policy: Option<vellum_rpc::ReadPolicy>,
}

/// A TLS certificate chain and its private key, PEM files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// The certificate chain, the node's own certificate first.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

/// The p2p network's settings for where the validators are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkProfile {
    /// Validators on the public internet: peers at private or loopback addresses are refused,
    /// one handshake per address every 5 s, a misbehaving peer is blocked for 4 hours
    /// (commonware's `lookup::Config::recommended`).
    Internet,
    /// Validators on one machine or a private network (a devnet, a test): private and loopback
    /// addresses are allowed, handshakes are rate-limited per address at 16 a second, and a
    /// blocked peer waits an hour (`lookup::Config::local`).
    Local,
}

impl NetworkProfile {
    /// `Local` if every address is loopback or private, `Internet` otherwise.
    pub fn for_addresses<'a>(addresses: impl IntoIterator<Item = &'a SocketAddr>) -> Self {
        let private = |address: &SocketAddr| match address.ip() {
            std::net::IpAddr::V4(ip) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
            std::net::IpAddr::V6(ip) => ip.is_loopback(),
        };
        if addresses.into_iter().all(private) {
            Self::Local
        } else {
            Self::Internet
        }
    }
}

/// A peer's address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peer {
    /// Its ed25519 public key, `0x` hex.
    pub public_key: String,
    /// Where it listens for peers.
    pub address: SocketAddr,
    /// For an observer: the organisation that runs it, whose collections' private data it
    /// holds (validators' organisations are in the genesis file; an observer without one holds
    /// none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
}

/// Consensus timeouts, in milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimeoutsMs {
    /// Waiting for a leader's proposal.
    pub leader_ms: u64,
    /// Waiting for a notarized block to certify.
    pub certification_ms: u64,
    /// Between rebroadcasts in a stalled view.
    pub retry_ms: u64,
}

impl Default for TimeoutsMs {
    fn default() -> Self {
        let defaults = Timeouts::default();
        Self {
            leader_ms: defaults.leader.as_millis() as u64,
            certification_ms: defaults.certification.as_millis() as u64,
            retry_ms: defaults.retry.as_millis() as u64,
        }
    }
}

impl NodeConfig {
    /// The p2p profile: as configured, or `Local` when every peer address is loopback or
    /// private and `Internet` otherwise.
    pub fn network(&self) -> NetworkProfile {
        self.network.unwrap_or_else(|| {
            NetworkProfile::for_addresses(
                self.peers
                    .iter()
                    .chain(&self.observers)
                    .map(|peer| &peer.address),
            )
        })
    }

    /// Read a configuration file, resolving its relative paths.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the node configuration {}", path.display()))?;
        let mut config: NodeConfig = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a valid node configuration (see docs/consensus.md; `vellum init` writes one)",
                path.display()
            )
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let tls = config.rpc_tls.as_mut();
        let tls_files = tls.into_iter().flat_map(|t| [&mut t.cert, &mut t.key]);
        for file in [&mut config.genesis, &mut config.key, &mut config.data_dir]
            .into_iter()
            .chain(tls_files)
        {
            if file.is_relative() {
                *file = base.join(&*file);
            }
        }
        Ok(config)
    }

    /// How many blocks of keys' histories to keep, if not all: `history_retention_blocks`,
    /// refused at 0 (it would prune the block being committed).
    pub fn history_retention(&self) -> anyhow::Result<Option<u64>> {
        match self.history_retention_blocks {
            Some(0) => {
                bail!("history_retention_blocks is 0; it must be at least 1 (or absent: keep all)")
            }
            blocks => Ok(blocks),
        }
    }

    /// The URL clients reach this node's JSON-RPC at: `https://` when it serves TLS.
    pub fn rpc_url(&self) -> String {
        match self.rpc_tls {
            Some(_) => format!("https://{}", self.rpc),
            None => format!("http://{}", self.rpc),
        }
    }

    /// The TLS settings JSON-RPC is served with, or `None` for plain HTTP, which is refused on
    /// an address that is not loopback unless `rpc_plain_http` says so.
    pub fn rpc_tls(&self) -> anyhow::Result<Option<vellum_rpc::Tls>> {
        match &self.rpc_tls {
            Some(files) => vellum_rpc::Tls::from_pem_files(&files.cert, &files.key)
                .map(Some)
                .with_context(|| "cannot serve JSON-RPC over TLS (rpc_tls)".to_string()),
            None if self.rpc.ip().is_loopback() || self.rpc_plain_http => Ok(None),
            None => bail!(
                "JSON-RPC on {} would be plain HTTP on a network address: give the node a \
                 certificate (rpc_tls; `vellum init` writes one), or set \"rpc_plain_http\": \
                 true in its configuration if something in front of it (a TLS proxy) encrypts",
                self.rpc
            ),
        }
    }
}

impl From<&TimeoutsMs> for Timeouts {
    fn from(ms: &TimeoutsMs) -> Self {
        Timeouts {
            leader: Duration::from_millis(ms.leader_ms),
            certification: Duration::from_millis(ms.certification_ms),
            retry: Duration::from_millis(ms.retry_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{NetworkProfile, NodeConfig};

    fn config(network: &str, addresses: &[&str]) -> NodeConfig {
        let peers: Vec<String> = addresses
            .iter()
            .map(|a| format!(r#"{{"public_key": "0x00", "address": "{a}"}}"#))
            .collect();
        let text = format!(
            r#"{{"genesis": "g", "key": "k", "data_dir": "d", "p2p": "127.0.0.1:1",
                "rpc": "127.0.0.1:2", "peers": [{}] {network}}}"#,
            peers.join(",")
        );
        serde_json::from_str(&text).expect("a configuration")
    }

    /// A history retention of 0 blocks is refused with what to write instead; at least one,
    /// or none, is taken as written.
    #[test]
    fn a_history_retention_of_zero_blocks_is_refused() {
        let with = |field: &str| {
            let text = format!(
                r#"{{"genesis": "g", "key": "k", "data_dir": "d", "p2p": "127.0.0.1:1",
                    "rpc": "127.0.0.1:2", "peers": [] {field}}}"#
            );
            serde_json::from_str::<NodeConfig>(&text)
                .expect("a configuration")
                .history_retention()
        };
        let refused = with(r#", "history_retention_blocks": 0"#).expect_err("0 blocks");
        assert!(refused.to_string().contains("at least 1"), "{refused}");
        assert_eq!(with(r#", "history_retention_blocks": 5"#).unwrap(), Some(5));
        assert_eq!(with("").unwrap(), None);
    }

    /// A configuration written before `network` existed keeps working on a devnet's loopback
    /// addresses, and gets the internet profile once any validator is on a public address.
    #[test]
    fn the_network_profile_is_as_written_or_inferred_from_the_addresses() {
        let local = ["127.0.0.1:7000", "10.0.0.2:7000"];
        let public = ["127.0.0.1:7000", "203.0.113.7:7000"];
        assert_eq!(config("", &local).network(), NetworkProfile::Local);
        assert_eq!(config("", &public).network(), NetworkProfile::Internet);
        assert_eq!(
            config(r#", "network": "internet""#, &local).network(),
            NetworkProfile::Internet
        );
        assert_eq!(
            config(r#", "network": "local""#, &public).network(),
            NetworkProfile::Local
        );
    }
}

//! The `vellum` commands, one module each, and the arguments several of them share.

pub mod bench;
pub mod call;
pub mod demo;
pub mod deploy;
pub mod devnet;
pub mod gov;
pub mod history;
pub mod init;
pub mod keys;
pub mod new;
pub mod node;
pub mod private;
pub mod proof;
pub mod query;
pub mod status;
pub mod trace;
pub mod tx;
pub mod verify;

use anyhow::{anyhow, Context as _};
use serde_json::Value;
use std::{
    net::IpAddr,
    path::{Path, PathBuf},
};
use vellum::{devnet as network, init::Options};
use vellum_client::{parse_address, Client, Trust};
use vellum_types::genesis::ReadPolicy;

/// Where the node is.
#[derive(clap::Args, Clone)]
pub struct Rpc {
    /// The node's JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8100", env = "VELLUM_RPC")]
    pub rpc: String,
    /// For an https:// node: the CA certificate to trust (its network's tls/ca.pem, which
    /// `vellum init` writes); without it, the certificates the system trusts.
    #[arg(long, env = "VELLUM_CA")]
    pub ca: Option<PathBuf>,
}

impl Rpc {
    /// Connect to the node.
    pub async fn connect(&self) -> anyhow::Result<Client> {
        self.connect_as(None).await
    }

    /// Connect as the member whose key file is `key` (its requests carry a caller token), or
    /// anonymously without one.
    pub async fn connect_as(&self, key: Option<&Path>) -> anyhow::Result<Client> {
        let trust = trust(self.ca.as_deref())?;
        Ok(match key {
            None => Client::connect_with(&self.rpc, trust).await?,
            Some(key) => {
                Client::connect_as(&self.rpc, trust, &vellum_client::read_member_key(key)?).await?
            }
        })
    }
}

/// What an https:// node's certificate must chain to: `ca`, or the system's roots.
pub fn trust(ca: Option<&Path>) -> anyhow::Result<Trust> {
    Ok(match ca {
        Some(ca) => Trust::ca_file(ca)?,
        None => Trust::System,
    })
}

/// Where a bundled use-case contract is.
#[derive(clap::Args, Clone)]
pub struct Bundled {
    #[command(flatten)]
    rpc: Rpc,
    /// The contract's address (default: the devnet's, recorded in --dir).
    #[arg(long)]
    contract: Option<String>,
    /// The devnet directory.
    #[arg(long, default_value = "vellum-devnet")]
    dir: PathBuf,
}

impl Bundled {
    /// Connect to the node and find the contract `name`.
    pub async fn connect(&self, name: &str) -> anyhow::Result<(Client, [u8; 32])> {
        let address = self.contract(name)?;
        Ok((self.rpc.connect().await?, address))
    }

    /// The address of the contract `name`: --contract, or the devnet's.
    pub fn contract(&self, name: &str) -> anyhow::Result<[u8; 32]> {
        let address = match &self.contract {
            Some(address) => address.clone(),
            None => network::contracts(&self.dir)?.remove(name).ok_or_else(|| {
                anyhow!(
                    "no {name} contract in {}; pass --contract",
                    self.dir.display()
                )
            })?,
        };
        Ok(parse_address(&address)?)
    }
}

/// The shape of a network to create or run.
#[derive(clap::Args, Clone)]
pub struct Network {
    /// Directory of the network (created on first run).
    #[arg(long, default_value = "vellum-devnet")]
    pub dir: PathBuf,
    /// Number of validators (3f + 1 tolerates f faulty ones).
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Number of observers: nodes that follow the chain and serve JSON-RPC without voting (they
    /// take the ports after the validators').
    #[arg(long, default_value_t = 0)]
    observers: usize,
    /// Number of organisations; validators are spread across them.
    #[arg(long, default_value_t = 2)]
    organisations: usize,
    /// The chain id every transaction must carry.
    #[arg(long, default_value = "vellum-local")]
    chain_id: String,
    /// Address the nodes listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// First peer-to-peer port (validator i uses this + i; observers take the ports after).
    #[arg(long, default_value_t = 7100)]
    p2p_port: u16,
    /// First JSON-RPC port (validator i uses this + i; observers take the ports after).
    #[arg(long, default_value_t = 8100)]
    rpc_port: u16,
    /// Serve JSON-RPC over TLS (HTTPS and WSS) with certificates signed by a CA made for the
    /// network (clients trust its tls/ca.pem: --ca). The default on any --host but loopback.
    #[arg(long, conflicts_with = "plain_http")]
    tls: bool,
    /// Serve plain HTTP even on a --host that is not loopback (behind a TLS proxy, say); the
    /// configurations then say so (rpc_plain_http).
    #[arg(long)]
    plain_http: bool,
    /// The network's read policy, written into the genesis file: who may read contract storage,
    /// events and transaction arguments over JSON-RPC (`public`, `members` or `organisation`;
    /// docs/rpc.md "Read policy"). A node's configuration may only make it stricter. The
    /// explorer and the demo read as an anonymous caller, so they need `public`.
    #[arg(long, value_enum, default_value_t = ReadPolicyArg::Public)]
    read_policy: ReadPolicyArg,
}

/// `--read-policy`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ReadPolicyArg {
    /// Anyone.
    Public,
    /// Members, with a caller token.
    Members,
    /// Members of the contract's owner.
    Organisation,
}

impl From<ReadPolicyArg> for ReadPolicy {
    fn from(arg: ReadPolicyArg) -> Self {
        match arg {
            ReadPolicyArg::Public => ReadPolicy::Public,
            ReadPolicyArg::Members => ReadPolicy::Members,
            ReadPolicyArg::Organisation => ReadPolicy::Organisation,
        }
    }
}

impl Network {
    /// What `init` creates.
    pub fn options(&self) -> Options {
        Options {
            dir: self.dir.clone(),
            chain_id: self.chain_id.clone(),
            validators: self.validators,
            observers: self.observers,
            organisations: self.organisations,
            host: self.host,
            p2p_port: self.p2p_port,
            rpc_port: self.rpc_port,
            timeouts: Default::default(),
            tls: self.tls || (!self.host.is_loopback() && !self.plain_http),
            read_policy: self.read_policy.into(),
        }
    }
}

/// JSON arguments given on the command line.
pub fn json_arg(text: &str) -> anyhow::Result<Value> {
    serde_json::from_str(text)
        .with_context(|| format!("arguments must be JSON, e.g. '{{\"id\": \"x\"}}'; got {text}"))
}

/// Print `value` as indented JSON.
pub fn print(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

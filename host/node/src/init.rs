//! `vellum init`: the files for a new network: a genesis, one key and configuration per
//! validator and per observer, and an admin transaction key per organisation.

use crate::{
    config::{NetworkProfile, NodeConfig, Peer, TimeoutsMs},
    keys::{generate_member_key, generate_validator_key, validator_key_hex},
};
use anyhow::{anyhow, bail, Context as _};
use commonware_cryptography::Signer as _;
use std::{
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
};
use vellum_types::{
    genesis::{ChainLimits, GenesisMember, Organisation, Validator},
    hex, public_key, DeployPolicy, Genesis, Role,
};

/// What to create.
#[derive(Clone, Debug)]
pub struct Options {
    /// The directory to create it in (must not hold a network already).
    pub dir: PathBuf,
    /// The chain id.
    pub chain_id: String,
    /// Validators.
    pub validators: usize,
    /// Observers: nodes that follow the chain without voting. Observer `i` takes the ports
    /// after the validators' (`p2p_port + validators + i`, `rpc_port + validators + i`).
    pub observers: usize,
    /// Organisations (validators are spread across them).
    pub organisations: usize,
    /// The address validators listen on.
    pub host: IpAddr,
    /// Validator `i` listens for peers on `p2p_port + i`.
    pub p2p_port: u16,
    /// Validator `i` serves JSON-RPC on `rpc_port + i`.
    pub rpc_port: u16,
    /// Consensus timeouts.
    pub timeouts: TimeoutsMs,
}

/// What was created.
#[derive(Clone, Debug)]
pub struct Network {
    /// The genesis file.
    pub genesis: PathBuf,
    /// Each validator's configuration file, then each observer's.
    pub configs: Vec<PathBuf>,
    /// Each node's JSON-RPC address, in the order of `configs`.
    pub rpc: Vec<SocketAddr>,
    /// Each organisation's admin key file.
    pub admin_keys: Vec<PathBuf>,
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Create the network `options` describe.
pub fn init(options: &Options) -> anyhow::Result<Network> {
    if options.validators == 0 || options.organisations == 0 {
        bail!("a network needs at least one validator and one organisation");
    }
    let genesis_path = options.dir.join("genesis.json");
    if genesis_path.exists() {
        bail!(
            "{} already holds a network; choose another --dir or delete it",
            options.dir.display()
        );
    }
    let keys_dir = options.dir.join("keys");
    std::fs::create_dir_all(&keys_dir)
        .with_context(|| format!("cannot create {}", keys_dir.display()))?;

    let mut organisations = Vec::new();
    let mut admin_keys = Vec::new();
    for o in 0..options.organisations {
        let name = format!("org-{}", o + 1);
        let key = generate_member_key()?;
        let path = keys_dir.join(format!("{name}-admin.key"));
        write(&path, &hex(&key.to_bytes()))?;
        admin_keys.push(path);
        organisations.push(Organisation {
            name,
            members: vec![GenesisMember {
                public_key: hex(&public_key(&key)),
                role: Role::Admin,
            }],
        });
    }
    let validator_keys = (0..options.validators)
        .map(|_| generate_validator_key())
        .collect::<anyhow::Result<Vec<_>>>()?;
    let genesis = Genesis {
        chain_id: options.chain_id.clone(),
        time_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        organisations,
        deploy_policy: DeployPolicy::AnyAdmin,
        limits: ChainLimits::default(),
        validators: validator_keys
            .iter()
            .enumerate()
            .map(|(i, key)| Validator {
                name: format!("validator-{i}"),
                organisation: format!("org-{}", i % options.organisations + 1),
                public_key: hex(key.public_key().as_ref()),
            })
            .collect(),
    };
    let port = |base: u16, i: usize| {
        u16::try_from(i)
            .ok()
            .and_then(|i| base.checked_add(i))
            .ok_or_else(|| anyhow!("port {base} + {i} is out of range"))
    };
    let observer_keys = (0..options.observers)
        .map(|_| generate_validator_key())
        .collect::<anyhow::Result<Vec<_>>>()?;
    let peer = |key: &commonware_cryptography::ed25519::PrivateKey, i: usize| {
        Ok::<_, anyhow::Error>(Peer {
            public_key: hex(key.public_key().as_ref()),
            address: SocketAddr::new(options.host, port(options.p2p_port, i)?),
        })
    };
    let peers = (validator_keys.iter().enumerate())
        .map(|(i, key)| peer(key, i))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let observers = (observer_keys.iter().enumerate())
        .map(|(i, key)| peer(key, options.validators + i))
        .collect::<anyhow::Result<Vec<_>>>()?;
    write(&genesis_path, &serde_json::to_string_pretty(&genesis)?)?;
    let network = Some(NetworkProfile::for_addresses(
        peers.iter().chain(&observers).map(|peer| &peer.address),
    ));
    let nodes = (validator_keys.iter().enumerate())
        .map(|(i, key)| (format!("validator-{i}"), "validator.key", key, &peers[i]))
        .chain(
            (observer_keys.iter().enumerate())
                .map(|(i, key)| (format!("observer-{i}"), "observer.key", key, &observers[i])),
        );
    let mut configs = Vec::new();
    let mut rpc = Vec::new();
    for (i, (name, key_file, key, this)) in nodes.enumerate() {
        let dir = options.dir.join(name);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        write(&dir.join(key_file), &validator_key_hex(key))?;
        let address = SocketAddr::new(options.host, port(options.rpc_port, i)?);
        let config = NodeConfig {
            genesis: PathBuf::from("../genesis.json"),
            key: PathBuf::from(key_file),
            data_dir: PathBuf::from("data"),
            p2p: this.address,
            rpc: address,
            peers: peers.clone(),
            observers: observers.clone(),
            timeouts: options.timeouts.clone(),
            network,
            state_retention_blocks: None,
            rpc_hosts: Vec::new(),
        };
        let path = dir.join("node.json");
        write(&path, &serde_json::to_string_pretty(&config)?)?;
        configs.push(path);
        rpc.push(address);
    }
    Ok(Network {
        genesis: genesis_path,
        configs,
        rpc,
        admin_keys,
    })
}

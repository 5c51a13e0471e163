//! `vellum init`: the files for a new network: a genesis, one key and configuration per
//! validator and per observer, an admin transaction key per organisation, and (with TLS) the
//! network's own certificate authority and each node's JSON-RPC certificate.

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
    genesis::ReadPolicy,
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
    /// Serve JSON-RPC over TLS: a CA for the network (`tls/ca.pem`, what clients trust, and its
    /// key `tls/ca.key`) and a certificate per node signed by it. Without it, nodes on an
    /// address that is not loopback are configured for plain HTTP explicitly.
    pub tls: bool,
    /// The network's read policy, in the genesis file: the least every node applies.
    pub read_policy: ReadPolicy,
}

/// Certificates are valid for this many years from their creation.
const CERTIFICATE_YEARS: i32 = 10;

/// The network's certificate authority, written under `dir/tls/`: it signs each node's
/// JSON-RPC certificate ([`node_certificate`]).
fn certificate_authority(
    dir: &Path,
    chain_id: &str,
) -> anyhow::Result<rcgen::Issuer<'static, rcgen::KeyPair>> {
    let tls = dir.join("tls");
    std::fs::create_dir_all(&tls).with_context(|| format!("cannot create {}", tls.display()))?;
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("Vellum {chain_id} CA"));
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut params);
    let certificate = params.self_signed(&key)?;
    write(&tls.join("ca.pem"), &certificate.pem())?;
    write(&tls.join("ca.key"), &key.serialize_pem())?;
    Ok(rcgen::Issuer::new(params, key))
}

/// A JSON-RPC certificate for the node `name` reached at `host` (and on this machine as
/// `localhost` and `127.0.0.1`), signed by `issuer`: `rpc.pem` and `rpc.key` in `node_dir`.
fn node_certificate(
    issuer: &rcgen::Issuer<'static, rcgen::KeyPair>,
    node_dir: &Path,
    name: &str,
    host: IpAddr,
) -> anyhow::Result<crate::config::TlsFiles> {
    let key = rcgen::KeyPair::generate()?;
    let mut names = vec![host.to_string(), "localhost".into(), "127.0.0.1".into()];
    names.dedup();
    let mut params = rcgen::CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name.to_string());
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    validity(&mut params);
    let certificate = params.signed_by(&key, issuer)?;
    write(&node_dir.join("rpc.pem"), &certificate.pem())?;
    write(&node_dir.join("rpc.key"), &key.serialize_pem())?;
    Ok(crate::config::TlsFiles {
        cert: PathBuf::from("rpc.pem"),
        key: PathBuf::from("rpc.key"),
    })
}

/// From the start of this year to [`CERTIFICATE_YEARS`] later.
fn validity(params: &mut rcgen::CertificateParams) {
    let year = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(2026, |d| 1970 + (d.as_secs() / 31_556_952) as i32);
    params.not_before = rcgen::date_time_ymd(year, 1, 1);
    params.not_after = rcgen::date_time_ymd(year + CERTIFICATE_YEARS, 1, 1);
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
        read_policy: options.read_policy,
        governance: Default::default(),
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
            organisation: None,
        })
    };
    let peers = (validator_keys.iter().enumerate())
        .map(|(i, key)| peer(key, i))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Observers are spread over the organisations as validators are.
    let observers = (observer_keys.iter().enumerate())
        .map(|(i, key)| {
            Ok(Peer {
                organisation: Some(format!("org-{}", i % options.organisations + 1)),
                ..peer(key, options.validators + i)?
            })
        })
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
    let issuer = options
        .tls
        .then(|| certificate_authority(&options.dir, &options.chain_id))
        .transpose()?;
    let mut configs = Vec::new();
    let mut rpc = Vec::new();
    for (i, (name, key_file, key, this)) in nodes.enumerate() {
        let dir = options.dir.join(&name);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        write(&dir.join(key_file), &validator_key_hex(key))?;
        let address = SocketAddr::new(options.host, port(options.rpc_port, i)?);
        let rpc_tls = match &issuer {
            Some(issuer) => Some(node_certificate(issuer, &dir, &name, options.host)?),
            None => None,
        };
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
            history_retention_blocks: None,
            rpc_hosts: Vec::new(),
            rpc_plain_http: rpc_tls.is_none() && !options.host.is_loopback(),
            read_policy: None,
            rpc_tls,
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

//! Four real validator processes on 127.0.0.1: real TCP, authenticated p2p, redb on disk,
//! driven only through JSON-RPC. One is SIGKILLed under load and the rest carry on; it restarts
//! and catches up to the same state; two are killed and the network stops without forking;
//! one returns and it resumes.

use super::{free_ports, one_network_at_a_time};
use jsonrpsee::{
    core::client::ClientT,
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
};
use k256::ecdsa::SigningKey;
use serde_json::Value;
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};
use vellum::{
    config::TimeoutsMs,
    init::{self, Options},
};
use vellum_types::{hex, public_key, unhex, Action, Genesis, Transaction};

/// Longest any step may take before the test gives up (a stall, not a slow run).
const PATIENCE: Duration = Duration::from_secs(90);

/// A validator process, killed when dropped.
pub(crate) struct Validator {
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Validator {
    fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_vellum"))
            .args(["node", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "warn,vellum=info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start vellum node");
        self.child = Some(child);
    }

    /// Its process id, while it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
        }
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        self.kill();
    }
}

pub(crate) fn client(address: SocketAddr) -> HttpClient {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(5))
        .build(format!("http://{address}"))
        .expect("client")
}

pub(crate) async fn height(client: &HttpClient) -> Option<u64> {
    let status: Value = client.request("vellum_status", rpc_params![]).await.ok()?;
    status["height"].as_u64()
}

/// The highest height `client` knows the network finalized (at least its own height).
async fn finalized_tip(client: &HttpClient) -> Option<u64> {
    let status: Value = client.request("vellum_status", rpc_params![]).await.ok()?;
    status["finalized_tip"].as_u64()
}

async fn header(client: &HttpClient, height: u64) -> Option<Value> {
    client
        .request("vellum_getBlockByNumber", rpc_params![height])
        .await
        .ok()
}

/// Wait until every client in `clients` reports at least `target`.
pub(crate) async fn reach(clients: &[&HttpClient], target: u64, what: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut heights = Vec::new();
        for client in clients {
            heights.push(height(client).await.unwrap_or(0));
        }
        if heights.iter().all(|&h| h >= target) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: heights {heights:?} never reached {target}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every pair of running validators holds the same block at every height both have.
async fn assert_agreement(clients: &[&HttpClient]) {
    let mut top = u64::MAX;
    for client in clients {
        top = top.min(height(client).await.expect("status"));
    }
    for h in 1..=top {
        let first = header(clients[0], h).await.expect("block");
        for client in &clients[1..] {
            assert_eq!(
                header(client, h).await.expect("block"),
                first,
                "fork at height {h}"
            );
        }
    }
}

/// Submits transactions from an organisation admin, round-robin over the live validators,
/// until stopped; counts the accepted ones.
fn load(
    clients: Vec<HttpClient>,
    key: SigningKey,
    chain_id: String,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicU64>,
) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let mut nonce = 0u64;
        let mut target = 0usize;
        let mut hashes = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let transaction = Transaction {
                chain_id: chain_id.clone(),
                sender: public_key(&key),
                nonce,
                fuel_limit: 10_000_000,
                action: Action::ApproveCode {
                    code_hash: vellum_types::keccak256(&nonce.to_be_bytes()),
                },
            }
            .sign(&key);
            let raw = hex(&transaction.encode());
            target = (target + 1) % clients.len();
            match clients[target]
                .request::<String, _>("vellum_sendRawTransaction", rpc_params![raw])
                .await
            {
                Ok(hash) => {
                    hashes.push(hash);
                    nonce += 1;
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
                // Gossip got it there first, or it committed: the nonce is spent.
                Err(e) if e.to_string().contains("already") => nonce += 1,
                // A dead validator, or a full pool: try the next one.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        hashes
    })
}

/// `GET /metrics` over a plain TCP connection.
pub(crate) fn metrics(address: SocketAddr) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    response
}

pub(crate) fn admin_key(path: &Path) -> SigningKey {
    let text = std::fs::read_to_string(path).expect("admin key");
    SigningKey::from_slice(&unhex(text.trim()).expect("hex")).expect("key")
}

/// Four validators of two organisations on free loopback ports under `dir`, started: the
/// network's files, its genesis, and the running processes.
pub(crate) fn start_network(
    dir: &Path,
    chain_id: &str,
    timeouts: TimeoutsMs,
) -> (init::Network, Genesis, Vec<Validator>) {
    let base = free_ports();
    let network = init::init(&Options {
        dir: dir.to_path_buf(),
        chain_id: chain_id.into(),
        validators: 4,
        observers: 0,
        organisations: 2,
        host: "127.0.0.1".parse().expect("ip"),
        p2p_port: base,
        rpc_port: base + 5,
        timeouts,
        tls: false,
        read_policy: Default::default(),
    })
    .expect("init");
    let genesis = Genesis::from_json(&std::fs::read_to_string(&network.genesis).expect("genesis"))
        .expect("valid genesis");
    let mut validators: Vec<Validator> = network
        .configs
        .iter()
        .enumerate()
        .map(|(i, config)| Validator {
            config: config.clone(),
            log: dir.join(format!("validator-{i}.log")),
            child: None,
        })
        .collect();
    for validator in &mut validators {
        validator.start();
    }
    (network, genesis, validators)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_validator_processes_survive_kills_and_never_fork() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _network = one_network_at_a_time().await;
    let (network, genesis, mut validators) = start_network(
        dir.path(),
        "vellum-processes",
        TimeoutsMs {
            leader_ms: 500,
            certification_ms: 1_000,
            retry_ms: 2_000,
        },
    );
    let clients: Vec<HttpClient> = network.rpc.iter().map(|a| client(*a)).collect();
    let all: Vec<&HttpClient> = clients.iter().collect();
    reach(&all, 3, "startup").await;
    let text = metrics(network.rpc[0]);
    for name in [
        "validator_ledger_height",
        "validator_ledger_mempool_transactions",
        "validator_ledger_finalization_latency_seconds_count",
        "validator_consensus_voter_state_current_view",
        "network_tracker_directory_connected",
    ] {
        assert!(text.contains(name), "/metrics lacks {name}:\n{text}");
    }

    let stop = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicU64::new(0));
    let loader = load(
        network.rpc.iter().map(|a| client(*a)).collect(),
        admin_key(&network.admin_keys[0]),
        genesis.chain_id.clone(),
        stop.clone(),
        accepted.clone(),
    );

    // One of four killed under load: the other three keep finalizing.
    tokio::time::sleep(Duration::from_secs(1)).await;
    validators[3].kill();
    let three = &all[..3];
    let now = height(three[0]).await.expect("status");
    reach(three, now + 10, "three of four after a SIGKILL").await;

    // It restarts from its own stores and catches up to the same chain.
    validators[3].start();
    let now = height(three[0]).await.expect("status");
    reach(&all, now + 3, "the restarted validator catching up").await;
    assert_agreement(&all).await;

    // Two of four killed: no quorum, no progress, no fork.
    validators[2].kill();
    validators[3].kill();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let two = &all[..2];
    // What the survivors know the network finalized; their commits may still be catching up
    // to it (a slow commit under load), but nothing beyond it can be finalized without a quorum.
    let mut stalled = 0;
    for client in two {
        stalled = stalled.max(finalized_tip(client).await.expect("status"));
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    for client in two {
        // At most a block already certified before the kill may still land.
        let h = finalized_tip(client).await.expect("status");
        assert!(
            h <= stalled + 1,
            "two of four kept finalizing: {stalled} -> {h}"
        );
    }
    assert_agreement(two).await;

    // One returns: three of four resume.
    validators[3].start();
    let three = [all[0], all[1], all[3]];
    reach(&three, stalled + 5, "three of four after the return").await;
    stop.store(true, Ordering::Relaxed);
    let hashes = loader.await.expect("loader");
    assert!(
        accepted.load(Ordering::Relaxed) > 0,
        "no transaction was accepted"
    );
    assert_agreement(&three).await;

    // Every accepted transaction that is committed is committed once, in one place, on all;
    // most of them are committed by now.
    let mut committed = 0;
    for hash in &hashes {
        let receipts: Vec<Option<Value>> =
            futures::future::join_all(three.iter().map(|c| async move {
                c.request::<Value, _>("vellum_getTransactionReceipt", rpc_params![hash])
                    .await
                    .ok()
            }))
            .await;
        if let Some(first) = &receipts[0] {
            committed += 1;
            for receipt in receipts[1..].iter().flatten() {
                assert_eq!(receipt, first, "receipts differ for {hash}");
            }
        }
    }
    assert!(
        committed > 0,
        "nothing committed out of {} accepted",
        hashes.len()
    );
}

//! Four real validator processes on 127.0.0.1, one of them attacked over its JSON-RPC port by
//! callers who want to stall it: queries that spin to their fuel cap, full-range event scans,
//! replaying subscriptions, huge batches, a thousand idle sockets and headers that never end.
//! The network must keep finalizing (the attacked validator included), an honest transaction
//! sent to the attacked validator during the attack must commit, and the attacked process's file descriptors and memory
//! must stay bounded.

use super::{
    one_network_at_a_time,
    processes::{admin_key, client, height, reach, start_network},
};
use jsonrpsee::{
    core::client::{ClientT, SubscriptionClientT},
    rpc_params,
    ws_client::WsClientBuilder,
};
use serde_json::{json, Value};
use std::{
    io::Write as _,
    net::{SocketAddr, TcpStream},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};
use vellum::config::TimeoutsMs;
use vellum_types::{hex, public_key, Action, Transaction};

/// A contract whose query `spin` loops until its fuel runs out.
const SPINNER: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "instantiate"))
  (func (export "query.spin") (loop $l (br $l))))"#;

/// Open file descriptors of process `pid`.
fn descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// Resident memory of process `pid`, in KiB.
fn resident_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Repeat `work` until `stop`.
fn repeat<F, Fut>(stop: &Arc<AtomicBool>, work: F) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let stop = stop.clone();
    tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            work().await;
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attacked_validator_keeps_finalizing_and_honest_transactions_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _network = one_network_at_a_time().await;
    let (network, genesis, validators) =
        start_network(dir.path(), "vellum-attacks", TimeoutsMs::default());
    let clients: Vec<_> = network.rpc.iter().map(|a| client(*a)).collect();
    let all: Vec<_> = clients.iter().collect();
    reach(&all, 2, "startup").await;

    // The attacker is a member: it deploys the spinner.
    let admin = admin_key(&network.admin_keys[0]);
    let sign = |nonce: u64, action: Action| {
        let transaction = Transaction {
            chain_id: genesis.chain_id.clone(),
            sender: public_key(&admin),
            nonce,
            fuel_limit: 50_000_000,
            action,
        }
        .sign(&admin);
        hex(&transaction.encode())
    };
    let deploy = sign(
        0,
        Action::Deploy {
            code: wat::parse_str(SPINNER).expect("wat"),
            init_args: "{}".into(),
        },
    );
    let receipt: Value = clients[1]
        .request("vellum_sendRawTransactionAndWait", rpc_params![deploy])
        .await
        .expect("the spinner deploys");
    let spinner = receipt["contract"]
        .as_str()
        .expect("an address")
        .to_string();

    let target: SocketAddr = network.rpc[0];
    let pid = validators[0].pid().expect("running");
    let (descriptors_before, memory_before) = (descriptors(pid), resident_kib(pid));
    let stop = Arc::new(AtomicBool::new(false));
    let mut attackers = Vec::new();
    // Eight callers repeating a query that spins to its fuel cap.
    for _ in 0..8 {
        let caller = client(target);
        let spinner = spinner.clone();
        attackers.push(repeat(&stop, move || {
            let (caller, spinner) = (caller.clone(), spinner.clone());
            async move {
                let _ = caller
                    .request::<Value, _>("vellum_query", rpc_params![spinner, "spin"])
                    .await;
            }
        }));
    }
    // Two callers scanning the whole chain for a topic that never matches.
    for _ in 0..2 {
        let caller = client(target);
        attackers.push(repeat(&stop, move || {
            let caller = caller.clone();
            async move {
                let _ = caller
                    .request::<Value, _>(
                        "vellum_getEvents",
                        rpc_params![json!({"topic": "never", "from_height": 0})],
                    )
                    .await;
            }
        }));
    }
    // A caller sending batches of ten thousand calls.
    {
        let batch: Vec<Value> = (0..10_000)
            .map(|id| json!({"jsonrpc": "2.0", "id": id, "method": "vellum_status", "params": []}))
            .collect();
        let body = Value::Array(batch).to_string();
        attackers.push(repeat(&stop, move || {
            let body = body.clone();
            async move {
                let _ = tokio::task::spawn_blocking(move || {
                    let mut socket = TcpStream::connect(target).ok()?;
                    write!(
                        socket,
                        "POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .ok()?;
                    let mut sink = Vec::new();
                    std::io::Read::read_to_end(&mut socket, &mut sink).ok()
                })
                .await;
            }
        }));
    }
    // Subscriptions replaying the chain with a filter that never matches.
    let ws = WsClientBuilder::default()
        .build(format!("ws://{target}"))
        .await
        .expect("ws");
    let mut subscriptions = Vec::new();
    for _ in 0..32 {
        if let Ok(subscription) = ws
            .subscribe::<Value, _>(
                "vellum_subscribeEvents",
                rpc_params![json!({"topic": "never", "from_height": 0})],
                "vellum_unsubscribeEvents",
            )
            .await
        {
            subscriptions.push(subscription);
        }
    }
    // A thousand idle sockets, and a few that stop halfway through a header.
    let idle: Vec<TcpStream> = (0..1_000)
        .filter_map(|i| {
            let mut socket = TcpStream::connect(target).ok()?;
            if i % 100 == 0 {
                let _ = socket.write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-le");
            }
            Some(socket)
        })
        .collect();

    // Under attack: the whole network, the attacked validator included, keeps finalizing, and
    // an honest transaction sent to the attacked validator itself commits: the idle sockets
    // only held places that newcomers take.
    let now = height(&clients[1]).await.expect("status");
    reach(&all[1..], now + 5, "the network under attack").await;
    let attacked = client(target);
    let honest = sign(1, Action::ApproveCode { code_hash: [7; 32] });
    let receipt: Value = attacked
        .request("vellum_sendRawTransactionAndWait", rpc_params![honest])
        .await
        .expect("the honest transaction commits during the attack");
    assert_eq!(receipt["status"], "success", "{receipt}");
    // Its file descriptors and memory stayed bounded.
    let (descriptors_during, memory_during) = (descriptors(pid), resident_kib(pid));
    // At most 256 connection places and as many newcomers waiting for one.
    assert!(
        descriptors_during <= descriptors_before + 2 * 256 + 64,
        "descriptors grew from {descriptors_before} to {descriptors_during}"
    );
    assert!(
        memory_during <= memory_before + 1024 * 1024,
        "resident memory grew from {memory_before} KiB to {memory_during} KiB"
    );

    // Its store shows it kept committing while attacked.
    let mut committed = 0;
    for _ in 0..100 {
        committed = height(&attacked).await.unwrap_or(0);
        if committed >= now + 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        committed >= now + 5,
        "the attacked validator stopped committing: height {committed}, the network passed {}",
        now + 5
    );
    stop.store(true, Ordering::Relaxed);
    drop(idle);
    drop(subscriptions);
    for attacker in attackers {
        attacker.abort();
    }
}

//! `vellum devnet` as a newcomer runs it, then every JSON-RPC method and error against the
//! network it starts, over HTTP and WebSocket only, and the use-case demo; then Ctrl-C, and a
//! second run that resumes.

use super::{free_ports, one_network_at_a_time};
use jsonrpsee::{core::client::SubscriptionClientT, rpc_params, ws_client::WsClientBuilder};
use serde_json::{json, Value};
use sha3::Digest as _;
use std::{
    io::{BufRead, BufReader, Read as _, Write as _},
    net::{SocketAddr, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};
use vellum_client::{parse_address, Client, Signer};
use vellum_types::genesis::parse_public_key;
use vellum_types::hex;

#[path = "../../../../tests/python/venv.rs"]
mod venv;

/// The devnet process; killed when dropped.
pub(super) struct Devnet(pub(super) Child);

impl Devnet {
    /// Run `vellum devnet` in `dir` and wait for its banner.
    pub(super) fn start(dir: &Path, p2p: u16, rpc: u16) -> (Self, String) {
        Self::start_with(dir, p2p, rpc, &[])
    }

    /// The same with `more` arguments.
    pub(super) fn start_with(dir: &Path, p2p: u16, rpc: u16, more: &[&str]) -> (Self, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vellum"))
            .arg("devnet")
            .arg("--dir")
            .arg(dir)
            .args([
                "--p2p-port",
                &p2p.to_string(),
                "--rpc-port",
                &rpc.to_string(),
            ])
            .args(more)
            .stdout(Stdio::piped())
            .stderr(
                std::fs::File::create(dir.with_extension("stderr"))
                    .map_or(Stdio::null(), Stdio::from),
            )
            .spawn()
            .expect("start vellum devnet");
        let stdout = child.stdout.take().expect("stdout");
        let mut banner = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("banner");
            let done = line.contains("Ctrl-C stops the network");
            banner.push_str(&line);
            banner.push('\n');
            if done {
                break;
            }
        }
        if !banner.contains("Vellum devnet is running") {
            let stderr = std::fs::read_to_string(dir.with_extension("stderr")).unwrap_or_default();
            // A node that exited at startup names its log: show its end, since the directory
            // holding it goes with the test.
            let log = stderr
                .split("see ")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|path| std::fs::read_to_string(path).ok())
                .map(|log| log.lines().rev().take(40).collect::<Vec<_>>().join("\n"))
                .unwrap_or_default();
            panic!(
                "no banner:\n{banner}\nstderr:\n{stderr}\nthe node's log, last line first:\n{log}"
            );
        }
        (Self(child), banner)
    }

    /// `signal` (`INT` or `TERM`) to the devnet process alone, as a process manager sends it:
    /// the devnet must stop its `validators` cleanly, wait for them, and exit 0 within 30 s.
    fn signal(&mut self, signal: &str, validators: &[u32]) {
        let sent = Command::new("kill")
            .args([format!("-{signal}"), self.0.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                break status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the devnet did not exit within 30 s of SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(
            status.success(),
            "SIG{signal}: the devnet exited with {status}"
        );
        for pid in validators {
            // The devnet reaped its validators before it exited: none is left running.
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            assert!(
                stat.is_empty() || stat.contains(") Z"),
                "validator {pid} still runs after the devnet exited: {stat}"
            );
        }
    }
}

/// Each validator `i` of the devnet in `net` has logged `stops[i]` clean stops on SIGTERM (from
/// the devnet, not a kill; the logs are appended across runs), and its log, a file, holds no
/// terminal escape codes.
fn stopped_cleanly(net: &Path, stops: [usize; 4]) {
    for (i, stops) in stops.into_iter().enumerate() {
        let log =
            std::fs::read_to_string(net.join(format!("validator-{i}/node.log"))).expect("node.log");
        assert!(
            !log.contains('\x1b'),
            "escape codes in validator {i}'s node.log"
        );
        assert_eq!(
            log.matches("terminated (SIGTERM); stopping").count(),
            stops,
            "validator {i} did not stop cleanly:\n{log}"
        );
    }
}

impl Drop for Devnet {
    /// Kill the devnet and every node it started: killed without a chance to stop them, it
    /// would leave its nodes running (a failed test did, more than once).
    fn drop(&mut self) {
        let nodes = validators(self.0.id());
        let _ = self.0.kill();
        let _ = self.0.wait();
        for pid in &nodes {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        // A killed process holds its store's lock and its ports until it has exited: wait (at
        // most 10 s) so that a devnet started next on the same directory finds them free.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while nodes.iter().any(|pid| running(*pid)) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Whether process `pid` still runs: one of its threads exists and is not a zombie. The main
/// thread alone is not enough: killed, it becomes a zombie while the others still exit, holding
/// the process's files (and the store's lock) until the last one has.
pub(super) fn running(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/task")).is_ok_and(|tasks| {
        tasks.flatten().any(|task| {
            std::fs::read_to_string(task.path().join("stat"))
                .is_ok_and(|stat| !stat.contains(") Z") && !stat.contains(") X"))
        })
    })
}

/// The node processes the devnet started (children of `parent`, whichever of its threads
/// started them).
pub(super) fn validators(parent: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{parent}/task")) else {
        return Vec::new();
    };
    let mut children: Vec<u32> = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|children| {
            children
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<_>>()
        })
        .collect();
    children.sort_unstable();
    children
}

/// A raw HTTP POST, for what a JSON-RPC client library would refuse to send.
fn post(address: SocketAddr, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("head");
    let _ = stream.write_all(body);
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    (status, body)
}

fn error_code(reply: &Value) -> i64 {
    reply["error"]["code"].as_i64().unwrap_or(0)
}

async fn expect_error(
    client: &Client,
    method: &str,
    params: jsonrpsee::core::params::ArrayParams,
    code: i32,
) -> String {
    let error = client
        .call(method, params)
        .await
        .expect_err(method)
        .to_string();
    assert!(
        error.contains(&format!("({code})")),
        "{method}: expected code {code}, got {error}"
    );
    error
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devnet_serves_every_method_and_error_and_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("devnet");
    let _network = one_network_at_a_time().await;
    let base = free_ports();
    let (mut devnet, banner) = Devnet::start(&net, base, base + 5);
    let url = format!("http://127.0.0.1:{}", base + 5);
    let address: SocketAddr = format!("127.0.0.1:{}", base + 5).parse().expect("address");
    assert!(banner.contains(&url), "{banner}");
    for name in ["points", "ballot", "notary", "trace", "escrow", "trade"] {
        assert!(banner.contains(name), "{name} not deployed:\n{banner}");
    }
    let contracts = vellum::devnet::contracts(&net).expect("contracts.json");
    let notary = contracts["notary"].clone();
    let client = Client::connect(&url).await.expect("connect");

    // Status, chain id, nonce.
    let status = client.status().await.expect("status");
    assert_eq!(status["validators"].as_array().map(Vec::len), Some(4));
    assert_eq!(status["halted"], Value::Null);
    // Three peers, once every connection is up (a quorum of them already finalizes blocks).
    let mut peers = status["peers"].clone();
    for _ in 0..100 {
        if peers == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        peers = client.status().await.expect("status")["peers"].clone();
    }
    assert_eq!(peers, 3, "a healthy 4-validator devnet has 3 peers");
    assert_eq!(client.chain_id(), "vellum-local");

    // A signed call through sendRawTransactionAndWait, then every read of it.
    let mut signer = Signer::load(&net.join("keys/org-1-admin.key"), &client)
        .await
        .expect("signer");
    let me = hex(&signer.address());
    let add = signer.call(
        parse_address(&notary).expect("address"),
        "add_notary",
        json!({"notary": me, "name": "Consulate"}),
    );
    let receipt = client.submit_and_wait(&add).await.expect("committed");
    assert_eq!(receipt["status"], "success", "{receipt}");
    let hash = receipt["transaction"].as_str().expect("hash").to_string();
    let height = receipt["height"].as_u64().expect("height");
    let fetched = client
        .call("vellum_getTransaction", rpc_params![&hash])
        .await
        .expect("transaction");
    assert_eq!(fetched["status"], "committed");
    assert_eq!(
        fetched["transaction"]["action"]["call"]["method"],
        "add_notary"
    );
    let again = client
        .call("vellum_getTransactionReceipt", rpc_params![&hash])
        .await
        .expect("receipt");
    assert_eq!(again, receipt);
    let block = client
        .call("vellum_getBlockByNumber", rpc_params![height, true])
        .await
        .expect("block");
    assert!(block["transactions"]
        .as_array()
        .expect("txs")
        .iter()
        .any(|t| t["receipt"]["transaction"] == hash.as_str()));
    let by_hash = client
        .call("vellum_getBlockByHash", rpc_params![block["hash"].clone()])
        .await
        .expect("block by hash");
    assert_eq!(by_hash["height"], height);
    assert_eq!(
        client.nonce(&signer.address()).await.expect("nonce"),
        7,
        "six deploys and one call"
    );

    // A document anchored, queried, its key's history and the contract's range and events.
    let document = format!("0x{}", "cd".repeat(32));
    let anchor = signer.call(
        parse_address(&notary).expect("address"),
        "anchor",
        json!({"hash": document, "doc_type": "deed", "issuer": "Registry"}),
    );
    let anchored = client.submit_and_wait(&anchor).await.expect("anchor");
    assert_eq!(anchored["status"], "success", "{anchored}");
    let verdict = client
        .call(
            "vellum_query",
            rpc_params![&notary, "verify", json!({"hash": document})],
        )
        .await
        .expect("query");
    assert_eq!(verdict["output"]["verdict"], "valid", "{verdict}");
    // A real file's record: anchored, its state proof saved by `vellum verify --save-proof`;
    // then revoked, and a fresh proof saved. Both are checked once the network is down.
    let deed = dir.path().join("deed.txt");
    std::fs::write(&deed, b"the deed to the mill, 1887").expect("write");
    let deed_hash = hex(&sha3::Sha3_256::digest(b"the deed to the mill, 1887"));
    let anchor_deed = signer.call(
        parse_address(&notary).expect("address"),
        "anchor",
        json!({"hash": deed_hash, "doc_type": "deed", "issuer": "Registry"}),
    );
    let deed_anchored = client.submit_and_wait(&anchor_deed).await.expect("anchor");
    assert_eq!(deed_anchored["status"], "success", "{deed_anchored}");
    let valid_proof = dir.path().join("deed-valid.proof");
    save_document_proof(&url, &net, &deed, &valid_proof).await;
    let revoke = signer.call(
        parse_address(&notary).expect("address"),
        "revoke",
        json!({"hash": deed_hash, "reason": "forged"}),
    );
    let revoked = client.submit_and_wait(&revoke).await.expect("revoke");
    assert_eq!(revoked["status"], "success", "{revoked}");
    let revoked_proof = dir.path().join("deed-revoked.proof");
    save_document_proof(&url, &net, &deed, &revoked_proof).await;
    // Asked as of the block that anchored it, the notary still answers "valid"; at the head,
    // "revoked"; before it, "unknown".
    let verdict_at = |height: Option<u64>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vellum"));
        command.args(["query", "--rpc", &url, &notary, "verify"]);
        command.arg(json!({"hash": deed_hash}).to_string());
        if let Some(height) = height {
            command.args(["--height", &height.to_string()]);
        }
        let output = command.output().expect("vellum query");
        assert!(output.status.success(), "{output:?}");
        let answer: Value = serde_json::from_slice(&output.stdout).expect("json");
        answer["output"]["verdict"].clone()
    };
    let anchored_at = deed_anchored["height"].as_u64().expect("height");
    assert_eq!(verdict_at(Some(anchored_at)), "valid");
    assert_eq!(verdict_at(Some(anchored_at - 1)), "unknown");
    assert_eq!(verdict_at(None), "revoked");
    // `vellum call` prints a failed call's receipt and exits nonzero, saying why. Its key and
    // node come from the environment.
    let failed = Command::new(env!("CARGO_BIN_EXE_vellum"))
        .arg("call")
        .env("VELLUM_RPC", &url)
        // Another organisation's admin: the test's own signer keeps its nonces.
        .env("VELLUM_KEY", net.join("keys/org-2-admin.key"))
        .args([notary.as_str(), "revoke"])
        .arg(json!({"hash": hex(&[7; 32]), "reason": "never anchored"}).to_string())
        .output()
        .expect("vellum call");
    assert!(!failed.status.success(), "{failed:?}");
    let printed: Value = serde_json::from_slice(&failed.stdout).expect("the receipt");
    assert_eq!(printed["status"], "contract_error", "{printed}");
    let said = String::from_utf8_lossy(&failed.stderr);
    assert!(said.contains("the call failed: contract_error"), "{said}");
    // A key rotation by the CLI: a member added by org-2's admin rotates to a new key and keeps
    // its account (its address, its nonce), and its old key is refused.
    let cli = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_vellum"))
            .env("VELLUM_RPC", &url)
            .args(args)
            .output()
            .expect("vellum");
        let said = |out: &[u8]| String::from_utf8_lossy(out).into_owned();
        (
            output.status.success(),
            said(&output.stdout),
            said(&output.stderr),
        )
    };
    let public_key_of = |path: &Path| {
        let (ok, out, err) = cli(&["keys", "new", "--out", &path.to_string_lossy()]);
        assert!(ok, "{err}");
        out.lines()
            .find_map(|line| line.strip_prefix("public key: "))
            .expect("a public key")
            .to_string()
    };
    let (old_key, new_key) = (dir.path().join("old.key"), dir.path().join("new.key"));
    let (old_public, new_public) = (public_key_of(&old_key), public_key_of(&new_key));
    let org2_admin = net.join("keys/org-2-admin.key");
    let (ok, _, err) = cli(&[
        "members",
        "add",
        "--key",
        &org2_admin.to_string_lossy(),
        "--org",
        "org-2",
        &old_public,
    ]);
    assert!(ok, "{err}");
    let account = hex(&vellum_types::address_of(
        &parse_public_key(&old_public).expect("a key"),
    ));
    let (ok, out, err) = cli(&[
        "members",
        "rotate",
        "--key",
        &old_key.to_string_lossy(),
        "--new-key",
        &new_key.to_string_lossy(),
    ]);
    assert!(ok && out.contains("rotated"), "{out}{err}");
    let new_address = hex(&vellum_types::address_of(
        &parse_public_key(&new_public).expect("a key"),
    ));
    let seen = client
        .call("vellum_getAccount", rpc_params![new_address.clone()])
        .await
        .expect("the account of the new key");
    assert_eq!(seen["address"], account, "{seen}");
    assert_eq!(seen["public_key"], new_public, "{seen}");
    assert_eq!(seen["nonce"], 1, "{seen}");
    // The contract sees the account as the caller of the new key's transaction (the notary
    // names it refusing a non-notary), sent at the account's next nonce.
    let (ok, out, _) = cli(&[
        "call",
        "--key",
        &new_key.to_string_lossy(),
        &notary,
        "anchor",
        &json!({"hash": hex(&[8; 32]), "doc_type": "memo", "issuer": "me"}).to_string(),
    ]);
    assert!(!ok && out.contains(&account[2..]), "{out}");
    let seen = client
        .call("vellum_getNonce", rpc_params![account.clone()])
        .await
        .expect("the account's nonce");
    assert_eq!(seen, 2, "the new key's call advanced the account's nonce");
    let sent = client
        .call(
            "vellum_getAccountTransactions",
            rpc_params![new_address.clone()],
        )
        .await
        .expect("the account's transactions");
    let nonces: Vec<_> = sent["transactions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| t["nonce"].clone())
        .collect();
    assert_eq!(
        nonces,
        [json!(1), json!(0)],
        "both keys' transactions: {sent}"
    );
    let (ok, _, err) = cli(&[
        "call",
        "--key",
        &old_key.to_string_lossy(),
        &notary,
        "anchor",
        "{}",
    ]);
    assert!(!ok && err.contains("replaced by a key rotation"), "{err}");
    // The member loses the new key: it proves a third key for its account, and org-2's admin
    // rotates the account to it.
    let third_key = dir.path().join("third.key");
    let third_public = public_key_of(&third_key);
    let (ok, out, err) = cli(&[
        "members",
        "prove",
        "--key",
        &third_key.to_string_lossy(),
        "--account",
        &account,
    ]);
    assert!(ok, "{err}");
    let proof = out
        .lines()
        .find_map(|line| line.strip_prefix("proof:"))
        .expect("a proof")
        .trim()
        .to_string();
    let (ok, out, err) = cli(&[
        "members",
        "rotate",
        "--key",
        &org2_admin.to_string_lossy(),
        "--account",
        &account,
        "--public-key",
        &third_public,
        "--proof",
        &proof,
    ]);
    assert!(ok && out.contains("rotated"), "{out}{err}");
    let third_address = hex(&vellum_types::address_of(
        &parse_public_key(&third_public).expect("a key"),
    ));
    let seen = client
        .call("vellum_getAccount", rpc_params![third_address])
        .await
        .expect("the account of the third key");
    assert_eq!(seen["address"], account, "{seen}");
    assert_eq!(seen["public_key"], third_public, "{seen}");
    // The anchoring's receipt proof, saved by the CLI; it is checked once the network is down.
    let anchor_hash = anchored["transaction"].as_str().expect("hash").to_string();
    let bundle = dir.path().join("anchor.proof");
    fetch_proof(&url, &anchor_hash, &bundle).await;
    let seal = client
        .call("vellum_getSeal", rpc_params![anchored["height"].clone()])
        .await
        .expect("seal");
    assert!(seal["seal"].as_str().is_some_and(|s| s.len() > 2), "{seal}");
    let info = client
        .call("vellum_getContract", rpc_params![&notary])
        .await
        .expect("contract");
    assert_eq!(info["version"], 1);
    assert!(
        info["interface"].is_object(),
        "the interface from the custom section: {info}"
    );
    let range = client
        .call(
            "vellum_getRange",
            rpc_params![&notary, json!({"limit": 50})],
        )
        .await
        .expect("range");
    let keys: Vec<String> = range["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["key"]["hex"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(!keys.is_empty());
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "range is in key order");
    let some_key = keys[0].clone();
    let history = client
        .call(
            "vellum_getHistory",
            rpc_params![&notary, some_key, json!({"limit": 10, "order": "desc"})],
        )
        .await
        .expect("history");
    assert!(!history["versions"].as_array().expect("versions").is_empty());
    let events = client
        .call(
            "vellum_getEvents",
            rpc_params![json!({"contract": notary, "from_height": 0, "limit": 1})],
        )
        .await
        .expect("events");
    assert_eq!(
        events["events"].as_array().map(Vec::len),
        Some(1),
        "{events}"
    );
    let cursor = events["next_cursor"].clone();
    assert!(cursor.is_string(), "two events, one per page: {events}");
    let next = client
        .call(
            "vellum_getEvents",
            rpc_params![json!({"contract": notary, "cursor": cursor, "limit": 10})],
        )
        .await
        .expect("next page");
    assert!(!next["events"].as_array().expect("events").is_empty());
    assert_ne!(next["events"][0], events["events"][0]);

    // WebSocket: blocks from a past height replay in order, then follow; events resume too.
    let ws = WsClientBuilder::default()
        .build(format!("ws://127.0.0.1:{}", base + 5))
        .await
        .expect("ws");
    let mut blocks = ws
        .subscribe::<Value, _>(
            "vellum_subscribeBlocks",
            rpc_params![height - 1],
            "vellum_unsubscribeBlocks",
        )
        .await
        .expect("subscribe");
    for expected in height - 1..=height + 1 {
        let block = blocks.next().await.expect("a block").expect("valid");
        assert_eq!(block["height"], expected);
    }
    let mut notary_events = ws
        .subscribe::<Value, _>(
            "vellum_subscribeEvents",
            rpc_params![json!({"contract": notary, "from_height": 0})],
            "vellum_unsubscribeEvents",
        )
        .await
        .expect("subscribe events");
    let first = notary_events
        .next()
        .await
        .expect("an event")
        .expect("valid");
    assert_eq!(first["contract"], notary.as_str());

    // Every documented error.
    let refused = expect_error(
        &client,
        "vellum_getProof",
        rpc_params![&notary, "0x00", 1],
        -32602,
    )
    .await;
    assert!(refused.contains("omit the height"), "{refused}");
    expect_error(
        &client,
        "vellum_getProof",
        rpc_params!["0x12", "0x00"],
        -32602,
    )
    .await;
    let garbage = hex(b"not a transaction");
    expect_error(
        &client,
        "vellum_sendRawTransaction",
        rpc_params![garbage],
        -32003,
    )
    .await;
    expect_error(
        &client,
        "vellum_sendRawTransaction",
        rpc_params!["zz"],
        -32602,
    )
    .await;
    let mut forged = signer.call([1; 32], "x", json!({}));
    forged.signature[3] ^= 1;
    let forged_error = expect_error(
        &client,
        "vellum_sendRawTransaction",
        rpc_params![hex(&forged.encode())],
        -32003,
    )
    .await;
    assert!(forged_error.contains("signature"), "{forged_error}");
    let replay_error = expect_error(
        &client,
        "vellum_sendRawTransaction",
        rpc_params![hex(&add.encode())],
        -32003,
    )
    .await;
    assert!(replay_error.contains("already"), "{replay_error}");
    // In one batch, each is refused on its own, in order.
    let answers = client
        .submit_batch(&[forged.clone(), add.clone()])
        .await
        .expect("the batch is answered");
    let refusals: Vec<String> = answers
        .into_iter()
        .map(|answer| {
            let error = answer.expect_err("refused");
            assert_eq!(error.code(), Some(-32003), "{error}");
            error.to_string()
        })
        .collect();
    assert!(refusals[0].contains("signature"), "{refusals:?}");
    assert!(refusals[1].contains("already"), "{refusals:?}");
    let missing = format!("0x{}", "00".repeat(32));
    let nobody = format!("0x{}", "11".repeat(32));
    let cases = [
        (
            "vellum_getTransactionReceipt",
            rpc_params![&missing],
            -32001,
        ),
        ("vellum_getBlockByNumber", rpc_params![u64::MAX], -32001),
        ("vellum_getContract", rpc_params![&nobody], -32001),
        (
            "vellum_query",
            rpc_params![&notary, "no_such_method", json!({})],
            -32002,
        ),
        (
            "vellum_query",
            rpc_params![&notary, "verify", json!({}), u64::MAX],
            -32602,
        ),
        (
            "vellum_getHistory",
            rpc_params![&notary, "k", json!({"order": "sideways"})],
            -32602,
        ),
        (
            "vellum_getEvents",
            rpc_params![json!({"cursor": "nonsense"})],
            -32602,
        ),
        ("vellum_getBlockByNumber", rpc_params!["ten"], -32602),
        ("vellum_noSuchMethod", rpc_params![], -32601),
    ];
    for (method, params, code) in cases {
        expect_error(&client, method, params, code).await;
    }
    let mut pending = Signer::load(&net.join("keys/org-1-admin.key"), &client)
        .await
        .expect("signer");
    pending.fuel = u64::MAX;
    let too_much_fuel = pending.call([1; 32], "x", json!({}));
    expect_error(
        &client,
        "vellum_sendRawTransactionAndWait",
        rpc_params![hex(&too_much_fuel.encode()), 100u64],
        -32003,
    )
    .await;

    // Accepted (a nonce ahead waits in the pool) but never committed: the wait times out.
    let mut other = Signer::load(&net.join("keys/org-2-admin.key"), &client)
        .await
        .expect("signer");
    let skipped = other.call([1; 32], "x", json!({}));
    let gapped = other.call([1; 32], "x", json!({}));
    expect_error(
        &client,
        "vellum_sendRawTransactionAndWait",
        rpc_params![hex(&gapped.encode()), 200u64],
        -32004,
    )
    .await;
    // The skipped nonce fills the gap: the waiting one commits after it (and the demo below
    // starts from this account's next nonce, not behind a transaction still pending).
    client
        .submit_and_wait(&skipped)
        .await
        .expect("the skipped nonce commits");
    let gapped = hex(&gapped.hash());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while client
        .call("vellum_getTransactionReceipt", rpc_params![&gapped])
        .await
        .is_err()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the transaction behind the filled gap never committed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Raw HTTP: malformed JSON, an invalid request, a batch, an oversized body.
    let (_, body) = post(address, b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":");
    assert_eq!(
        error_code(&serde_json::from_str(&body).expect("json")),
        -32700,
        "{body}"
    );
    let (_, body) = post(address, b"{\"jsonrpc\":\"2.0\",\"id\":1}");
    assert_eq!(
        error_code(&serde_json::from_str(&body).expect("json")),
        -32600,
        "{body}"
    );
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "vellum_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "vellum_nope", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "vellum_getNonce", "params": [me]},
    ]);
    let (_, body) = post(address, batch.to_string().as_bytes());
    let replies: Vec<Value> = serde_json::from_str(&body).expect("batch reply");
    assert_eq!(replies.len(), 3);
    assert!(replies.iter().any(|r| r["result"] == "vellum-local"));
    assert!(replies.iter().any(|r| error_code(r) == -32601));
    let oversized = vec![b' '; (vellum_types::rpc::REQUEST_BYTES_MAX + 1) as usize];
    let (status, _) = post(address, &oversized);
    assert_eq!(status, 413, "an oversized request is refused");

    // The demo's six stories run end to end against the same network (the escrow's checks
    // that the seller is paid on release, the buyer repaid on refund, and that the seller
    // cannot release; the trade story's, that each document's salted hash matches its content,
    // that org-2's node receives what org-1's was handed, and that org-1's never receives the
    // customs declaration private to org-2).
    vellum::demo::run(&client, &net)
        .await
        .expect("the demo runs");
    // It leaves the organisations as it found them, so it can run again: each newcomer left
    // behind raised the majority the next run's newcomer needed, and the third run failed.
    let admin = vellum_client::read_member_key(&net.join("keys/org-1-admin.key")).expect("key");
    let member = Client::connect_as(&url, vellum_client::Trust::System, &admin)
        .await
        .expect("connect as the admin");
    let organisations = member
        .call("vellum_getOrganisations", rpc_params![])
        .await
        .expect("organisations");
    let names: Vec<&str> = organisations
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names, ["org-1", "org-2"]);

    // Every validator recorded the escrow's transactions (each a tree of calls into `points`)
    // alike: the same receipt, fuel included, byte for byte.
    let urls: Vec<&str> = banner
        .lines()
        .filter_map(|line| line.trim().strip_prefix("validator "))
        .filter_map(|line| line.split_once(": ").map(|(_, url)| url))
        .collect();
    assert_eq!(urls.len(), 4, "{banner}");
    let events = client
        .call(
            "vellum_getEvents",
            rpc_params![json!({"contract": contracts["escrow"], "from_height": 0, "limit": 100})],
        )
        .await
        .expect("escrow events");
    let escrowed: std::collections::BTreeSet<String> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["transaction"].as_str().map(String::from))
        .collect();
    assert!(
        escrowed.len() >= 4,
        "two opens, a release and a refund: {events}"
    );
    let mut nodes = Vec::new();
    for url in &urls {
        nodes.push(Client::connect(url).await.expect("connect"));
    }
    for hash in &escrowed {
        let mut receipts = Vec::new();
        for node in &nodes {
            let mut receipt = Value::Null;
            // A validator a block behind has it a moment later.
            for _ in 0..100 {
                match node
                    .call("vellum_getTransactionReceipt", rpc_params![hash])
                    .await
                {
                    Ok(found) if !found.is_null() => {
                        receipt = found;
                        break;
                    }
                    _ => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
            receipts.push(receipt);
        }
        assert!(
            receipts[0]["fuel_used"].as_u64() > Some(100_000),
            "{}",
            receipts[0]
        );
        assert!(receipts.iter().all(|r| r == &receipts[0]), "{receipts:?}");
    }

    // The load generator, small: everything it submits commits, nothing fails.
    let bundled = contracts
        .iter()
        .map(|(name, address)| (name.clone(), parse_address(address).expect("address")))
        .collect();
    let load = vellum::bench::Load {
        transactions: 200,
        accounts: 4,
        rate: 0,
        connections: 2,
        batch: 1,
        mix: vellum::bench::Mix::All,
    };
    let report = vellum::bench::run(
        std::slice::from_ref(&url),
        &net.join("keys/org-1-admin.key"),
        &bundled,
        &load,
    )
    .await
    .expect("the load runs");
    assert_eq!(
        (report.accepted, report.committed, report.failed),
        (200, 200, 0),
        "{report}"
    );
    assert_eq!(report.latencies.len(), 200);
    // Given a node that is down first, the load generator submits to and follows the other
    // (before, it stopped at once: it connected to the first node only); in JSON-RPC batches
    // of 10, the first of them sent again one by one once the down node failed it.
    let down = format!("http://127.0.0.1:{}", base + 9);
    let load = vellum::bench::Load {
        transactions: 100,
        batch: 10,
        mix: vellum::bench::Mix::Transfer,
        ..load
    };
    let report = vellum::bench::run(
        &[down, url.clone()],
        &net.join("keys/org-1-admin.key"),
        &bundled,
        &load,
    )
    .await
    .expect("the load runs with one node down");
    assert_eq!(
        (
            report.accepted,
            report.rejected,
            report.committed,
            report.failed
        ),
        (100, 0, 100, 0),
        "{report}"
    );

    // After all that, the node still serves, and the committed transaction is still there.
    assert_eq!(
        client
            .call("vellum_getTransactionReceipt", rpc_params![&hash])
            .await
            .expect("receipt"),
        receipt
    );
    let before = client.status().await.expect("status")["height"]
        .as_u64()
        .expect("height");

    // SIGINT to the devnet alone, then a second run resumes: same contracts, same history, a
    // higher height.
    let pids = validators(devnet.0.id());
    assert_eq!(pids.len(), 4, "four validator processes");
    devnet.signal("INT", &pids);
    stopped_cleanly(&net, [1; 4]);
    drop(devnet);
    // No node runs: the saved proof is checked against the genesis file alone.
    let genesis = net.join("genesis.json");
    let proven = proof_check(&bundle, &genesis).expect("the proof holds");
    assert_eq!(proven["transaction"], anchor_hash.as_str(), "{proven}");
    assert_eq!(proven["height"], anchored["height"], "{proven}");
    assert_eq!(proven["status"], "success", "{proven}");
    assert_eq!(proven["events"][0]["topic"], "anchored", "{proven}");
    // Against another network's genesis (its validators differ), or altered, it does not.
    let text = std::fs::read_to_string(&genesis).expect("genesis");
    let mut other: Value = serde_json::from_str(&text).expect("json");
    // Every key replaced: with one alone, a certificate it did not sign could still hold.
    for (i, validator) in other["validators"]
        .as_array_mut()
        .expect("validators")
        .iter_mut()
        .enumerate()
    {
        validator["public_key"] = json!(format!("0x{}", format!("{:02x}", 0x11 + i).repeat(32)));
    }
    let other_path = dir.path().join("other-genesis.json");
    std::fs::write(&other_path, other.to_string()).expect("write");
    assert!(proof_check(&bundle, &other_path).is_err());
    let mut altered = std::fs::read(&bundle).expect("bundle");
    let middle = altered.len() / 2;
    altered[middle] ^= 1;
    let altered_path = dir.path().join("altered.proof");
    std::fs::write(&altered_path, altered).expect("write");
    assert!(proof_check(&altered_path, &genesis).is_err());
    // A verifier written in Python from docs/proofs.md alone agrees, on all three.
    let python =
        |bundle: &Path, genesis: &Path| python_verifier("verify_receipt_proof.py", bundle, genesis);
    let checked = python(&bundle, &genesis).expect("the Python verifier accepts it");
    assert_eq!(checked["transaction"], anchor_hash.as_str(), "{checked}");
    assert_eq!(checked["height"], anchored["height"], "{checked}");
    assert_eq!(checked["topics"], json!(["anchored"]), "{checked}");
    assert_eq!(checked["certified_height"], proven["certified_height"]);
    assert!(python(&bundle, &other_path).is_err());
    assert!(python(&altered_path, &genesis).is_err());
    // `vellum verify --offline`: the document was anchored at its height, and is valid as of the
    // first proof; the second proof says it was revoked.
    let valid = verify_offline(&net, &deed, &valid_proof, &genesis).expect("the proof holds");
    assert_eq!(valid["verdict"], "valid", "{valid}");
    assert_eq!(
        valid["anchored_at_height"], deed_anchored["height"],
        "{valid}"
    );
    let summary = format!("anchored at height {}", deed_anchored["height"]);
    assert!(
        valid["summary"]
            .as_str()
            .expect("summary")
            .starts_with(&summary),
        "{valid}"
    );
    let gone = verify_offline(&net, &deed, &revoked_proof, &genesis).expect("the proof holds");
    assert_eq!(gone["verdict"], "revoked", "{gone}");
    assert!(
        gone["as_of_height"].as_u64() >= revoked["height"].as_u64(),
        "{gone}"
    );
    // The Python state verifier, from docs/proofs.md alone, reads the same two records: the
    // deed's record as anchored, then as revoked; and refuses them under another genesis.
    for (proof, status) in [(&valid_proof, "valid"), (&revoked_proof, "revoked")] {
        let checked = python_verifier("verify_state_proof.py", proof, &genesis)
            .expect("the Python state verifier accepts it");
        assert_eq!(checked["verdict"], "present", "{checked}");
        assert_eq!(checked["namespace"], notary.as_str(), "{checked}");
        let value = checked["value"]
            .as_str()
            .and_then(vellum_types::unhex)
            .expect("a value");
        let record: vellum_notary::Document =
            vellum_sdk::storage::decode(&value).expect("a notary's record");
        let record = serde_json::to_value(record).expect("JSON");
        assert_eq!(record["status"]["status"], status, "{record}");
        assert_eq!(record["anchored_at_height"], deed_anchored["height"]);
        assert!(python_verifier("verify_state_proof.py", proof, &other_path).is_err());
    }
    // The valid proof says nothing about another document.
    let other_file = dir.path().join("other.txt");
    std::fs::write(&other_file, b"another deed").expect("write");
    assert!(verify_offline(&net, &other_file, &valid_proof, &genesis).is_err());

    // A dishonest operator rewrites the record in validator 0's store (state and history) to
    // say the deed is valid; the network resumes, and the proof that node serves fails.
    tamper_record(
        &net.join("validator-0/data/ledger.redb"),
        &parse_address(&notary).expect("address"),
        &deed_hash,
    );
    let (devnet, banner) = Devnet::start(&net, base, base + 5);
    assert!(banner.contains(&notary), "the same contracts:\n{banner}");
    let tampered_proof = dir.path().join("deed-tampered.proof");
    save_document_proof(&url, &net, &deed, &tampered_proof).await;
    let refused = verify_offline(&net, &deed, &tampered_proof, &genesis)
        .expect_err("a proof from a tampered store does not hold");
    assert!(refused.contains("does not hold"), "{refused}");
    let refused = python_verifier("verify_state_proof.py", &tampered_proof, &genesis)
        .expect_err("nor does it in Python");
    assert!(refused.contains("state proof"), "{refused}");
    let client = Client::connect(&url).await.expect("reconnect");
    assert_eq!(
        client
            .call("vellum_getTransactionReceipt", rpc_params![&hash])
            .await
            .expect("receipt"),
        receipt
    );
    let after = client.status().await.expect("status")["height"]
        .as_u64()
        .expect("height");
    assert!(after >= before, "resumed at {after}, below {before}");
    // One validator killed: the devnet reports it and keeps the other three, which go on
    // finalizing blocks.
    let mut devnet = devnet;
    let pids = validators(devnet.0.id());
    assert_eq!(pids.len(), 4, "four validator processes");
    let (healthy, table) = vellum_status(&net);
    assert!(healthy, "{table}");
    assert_eq!(
        table.lines().filter(|l| l.ends_with("  ok")).count(),
        4,
        "{table}"
    );
    let third = pids
        .iter()
        .copied()
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains("validator-3"))
        })
        .expect("validator 3's process");
    let killed = Command::new("kill")
        .args(["-KILL", &third.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        devnet.0.try_wait().expect("try_wait").is_none(),
        "the devnet stopped when one validator died"
    );
    let survivors = validators(devnet.0.id());
    assert_eq!(survivors.len(), 3, "{survivors:?}");
    let height = client.status().await.expect("status")["height"].as_u64();
    let mut advanced = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = client.status().await.expect("status")["height"].as_u64();
        if now > height {
            advanced = true;
            break;
        }
    }
    assert!(
        advanced,
        "three validators stopped finalizing at {height:?}"
    );
    let (healthy, table) = vellum_status(&net);
    assert!(!healthy, "one node is down:\n{table}");
    assert_eq!(
        table.lines().filter(|l| l.ends_with("  ok")).count(),
        3,
        "{table}"
    );
    assert_eq!(table.matches("unreachable").count(), 1, "{table}");
    // SIGTERM to the devnet alone stops the rest as cleanly.
    devnet.signal("TERM", &survivors);
    stopped_cleanly(&net, [2, 2, 2, 1]);
    drop(devnet);
}

/// `vellum status` of the devnet in `net`: whether it exited 0 (every node reachable and not
/// halted), and its table.
fn vellum_status(net: &Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_vellum"))
        .args(["status", "--dir"])
        .arg(net)
        .output()
        .expect("vellum status");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// The Python verifier `script` (in tests/python) on `bundle` against `genesis`: its JSON
/// verdict, or what it printed when it refused.
fn python_verifier(script: &str, bundle: &Path, genesis: &Path) -> Result<Value, String> {
    let output = Command::new(venv::python(&["pycryptodome==3.23.0"], "import Crypto"))
        .arg(venv::script(script))
        .arg(genesis)
        .arg(bundle)
        .output()
        .expect("run the Python verifier");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    output
        .status
        .success()
        .then(|| serde_json::from_str::<Value>(&stdout).expect("json"))
        .ok_or(stdout)
}

/// `vellum proof receipt HASH --out BUNDLE`, retried until a certificate covers the block.
async fn fetch_proof(url: &str, hash: &str, bundle: &Path) {
    until_certified(|| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vellum"));
        command
            .args(["proof", "receipt", "--rpc", url, hash, "--out"])
            .arg(bundle);
        command
    })
    .await;
}

/// `vellum verify FILE --save-proof BUNDLE` against the devnet's notary, retried until a
/// certificate covers the newest block.
async fn save_document_proof(url: &str, net: &Path, file: &Path, bundle: &Path) {
    until_certified(|| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vellum"));
        command
            .args(["verify", "--rpc", url, "--dir"])
            .arg(net)
            .arg(file)
            .arg("--save-proof")
            .arg(bundle);
        command
    })
    .await;
}

/// Run the command `make` builds until it succeeds, for at most 10 s, while it fails only for
/// want of a finalization certificate.
async fn until_certified(make: impl Fn() -> Command) {
    for _ in 0..100 {
        let output = make().output().expect("run vellum");
        if output.status.success() {
            return;
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("no finalization certificate"), "{stderr}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no certificate covered the block within 10 s");
}

/// `vellum verify FILE --offline --proof BUNDLE --genesis GENESIS`: what it printed, or its
/// error output.
fn verify_offline(net: &Path, file: &Path, bundle: &Path, genesis: &Path) -> Result<Value, String> {
    let output = Command::new(env!("CARGO_BIN_EXE_vellum"))
        .args(["verify", "--offline", "--dir"])
        .arg(net)
        .arg(file)
        .arg("--proof")
        .arg(bundle)
        .arg("--genesis")
        .arg(genesis)
        .output()
        .expect("run vellum verify --offline");
    if output.status.success() {
        Ok(serde_json::from_slice(&output.stdout).expect("json"))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Rewrite every stored version of the notary's record of `document` in the redb file at
/// `ledger`, and its current value, to a record that says the document is valid.
fn tamper_record(ledger: &Path, notary: &[u8; 32], document: &str) {
    use redb::{ReadableTable as _, TableDefinition};
    let mut full_key = notary.to_vec();
    full_key.extend_from_slice(b"\x09documents");
    full_key.extend_from_slice(&vellum_types::unhex32(document).expect("hash"));
    let db = redb::Database::open(ledger).expect("the ledger opens");
    let write = db.begin_write().expect("write");
    {
        let mut state = write
            .open_table(TableDefinition::<&[u8], &[u8]>::new("state"))
            .expect("state");
        let current = state
            .get(full_key.as_slice())
            .expect("read")
            .expect("the record is stored")
            .value()
            .to_vec();
        let mut record: vellum_notary::Document =
            vellum_sdk::storage::decode(&current).expect("a notary's record");
        assert!(
            matches!(record.status, vellum_notary::Status::Revoked { .. }),
            "{record:?}"
        );
        record.status = vellum_notary::Status::Valid;
        let forged = vellum_sdk::storage::encode(&record);
        state
            .insert(full_key.as_slice(), forged.as_slice())
            .expect("insert");
        let mut history = write
            .open_table(TableDefinition::<&[u8], &[u8]>::new("history"))
            .expect("history");
        let keys: Vec<Vec<u8>> = history
            .iter()
            .expect("scan")
            .map(|entry| entry.expect("entry").0.value().to_vec())
            .filter(|k| k.windows(full_key.len()).any(|w| w == full_key.as_slice()))
            .collect();
        assert!(!keys.is_empty(), "the record has a history");
        for key in keys {
            // A row of a block's versions of the key, the first at the key's position.
            let position = u32::from_be_bytes(key[key.len() - 4..].try_into().expect("a key"));
            let row = borsh::to_vec(&vec![(position, Some(forged.clone()))]).expect("borsh");
            history
                .insert(key.as_slice(), row.as_slice())
                .expect("insert");
        }
    }
    write.commit().expect("commit");
}

/// `vellum proof check BUNDLE --genesis GENESIS`: what it printed, or its error output.
fn proof_check(bundle: &Path, genesis: &Path) -> Result<Value, String> {
    let output = Command::new(env!("CARGO_BIN_EXE_vellum"))
        .args(["proof", "check"])
        .arg(bundle)
        .arg("--genesis")
        .arg(genesis)
        .output()
        .expect("run vellum proof check");
    if output.status.success() {
        Ok(serde_json::from_slice(&output.stdout).expect("json"))
    } else {
        assert_eq!(output.status.code(), Some(2));
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

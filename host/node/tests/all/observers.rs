//! An observer beside a 4-validator `vellum devnet --observers 1`: it follows the chain under a
//! load submitted only to it (so it forwards every transaction to the validators), serves
//! subscriptions, answers as a validator does, and resumes after a SIGKILL.

use super::{
    devnet::{validators as children, Devnet},
    free_ports, one_network_at_a_time,
};
use jsonrpsee::rpc_params;
use serde_json::{json, Value};
use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};
use vellum_client::{parse_address, Client};
use vellum_types::hex;

/// Every metric `docs/grafana/vellum.json` charts is one the nodes serve: a name written for
/// either role (`{__name__=~"(validator|observer)_…"}`) on both the validator and the observer,
/// any other name on the validator.
fn dashboard_charts_what_nodes_serve(validator: &str, observer: &str) {
    let dashboard: Value =
        serde_json::from_str(include_str!("../../../../docs/grafana/vellum.json"))
            .expect("the dashboard is JSON");
    let served = |url: &str| {
        let address = url.trim_start_matches("http://").parse().expect("address");
        let text = super::processes::metrics(address);
        text.lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split(['{', ' ']).next())
            .map(str::to_string)
            .collect::<std::collections::BTreeSet<_>>()
    };
    let (on_validator, on_observer) = (served(validator), served(observer));
    let mut charted = 0;
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            // Names for either role, taken out of the expression as they are checked.
            let either = "(validator|observer)_";
            let mut rest = expr.to_string();
            while let Some(at) = rest.find(either) {
                let name: String = rest[at + either.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                for (role, served) in [("validator", &on_validator), ("observer", &on_observer)] {
                    assert!(
                        served.contains(&format!("{role}_{name}")),
                        "{role}_{name} ({expr})"
                    );
                }
                charted += 1;
                rest.replace_range(at..at + either.len() + name.len(), "");
            }
            let words = rest
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.contains('_') && !["histogram_quantile", "__name__"].contains(w));
            for word in words {
                assert!(on_validator.contains(word), "{word} ({expr})");
                charted += 1;
            }
        }
    }
    assert!(charted >= 12, "only {charted} metrics charted");
}

/// The URL the banner gives for `node` (`validator 0`, `observer 0`).
fn url(banner: &str, node: &str) -> String {
    banner
        .lines()
        .find_map(|line| line.trim().strip_prefix(&format!("{node}:")))
        .map(|url| url.trim().to_string())
        .unwrap_or_else(|| panic!("no {node} in the banner:\n{banner}"))
}

async fn height(client: &Client) -> u64 {
    client.status().await.expect("status")["height"]
        .as_u64()
        .expect("height")
}

/// Wait until the node at `url` answers and has committed `target`.
async fn until_height(url: &str, target: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(client) = Client::connect(url).await {
            if height(&client).await >= target {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{url} did not reach {target}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A node process started by the test; killed when dropped.
struct Node(std::process::Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn block(client: &Client, height: u64) -> Value {
    client
        .call("vellum_getBlockByNumber", rpc_params![height, true])
        .await
        .expect("block")
}

/// The points history of the account the load transfers to, as of `height`.
async fn history(client: &Client, points: &[u8; 32], height: u64) -> Value {
    let member = hex(&[0x11; 32]);
    client
        .query_at(
            points,
            "history",
            json!({"member": member, "before": null, "limit": 100}),
            height,
        )
        .await
        .expect("query")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_observer_follows_a_devnet_under_load_and_answers_as_a_validator() {
    let _network = one_network_at_a_time().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("net");
    let base = free_ports();
    let (devnet, banner) = Devnet::start_with(&net, base, base + 5, &["--observers", "1"]);
    let validator_url = url(&banner, "validator 0");
    let observer_url = url(&banner, "observer 0");
    let validator = Client::connect(&validator_url).await.expect("validator");
    let observer = Client::connect(&observer_url).await.expect("observer");
    let status = observer.status().await.expect("status");
    assert_eq!(status["role"], "observer", "{status}");
    assert_eq!(
        validator.status().await.expect("status")["role"],
        "validator"
    );

    // A load submitted to the observer alone: it votes on nothing, so every transaction reaches
    // the chain through its gossip to the validators; the load generator follows the blocks
    // through the observer's WebSocket subscription.
    let contracts: vellum::bench::Contracts = vellum::devnet::contracts(&net)
        .expect("contracts.json")
        .into_iter()
        .map(|(name, address)| (name, parse_address(&address).expect("address")))
        .collect();
    let load = vellum::bench::Load {
        transactions: 400,
        accounts: 4,
        rate: 0,
        connections: 2,
        batch: 1,
        mix: vellum::bench::Mix::Transfer,
    };
    let report = vellum::bench::run(
        std::slice::from_ref(&observer_url),
        &net.join("keys/org-1-admin.key"),
        &contracts,
        &load,
    )
    .await
    .expect("the load runs");
    assert_eq!(
        (report.accepted, report.committed, report.failed),
        (400, 400, 0),
        "{report}"
    );

    dashboard_charts_what_nodes_serve(&validator_url, &observer_url);

    // The observer reaches the validator's height, and serves the same blocks, receipts and
    // query answers at every height.
    let top = height(&validator).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while height(&observer).await < top {
        assert!(
            Instant::now() < deadline,
            "the observer did not reach {top}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for h in 1..=top {
        assert_eq!(
            block(&validator, h).await,
            block(&observer, h).await,
            "the nodes disagree on block {h}"
        );
    }
    let points = contracts["points"];
    let answer = history(&observer, &points, top).await;
    assert_eq!(answer, history(&validator, &points, top).await);
    assert_eq!(
        answer["output"].as_array().map(Vec::len),
        Some(100),
        "{answer}"
    );

    // It is connected to the four validators, and each validator to it.
    let peers = |status: Value| status["peers"].as_u64();
    assert_eq!(peers(observer.status().await.expect("status")), Some(4));
    assert_eq!(peers(validator.status().await.expect("status")), Some(4));

    // Killed (SIGKILL) and started again from its directory, it resumes from its stores and
    // catches up with the validators, with the same blocks.
    let pid = children(devnet.0.id())
        .into_iter()
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains("observer-0"))
        })
        .expect("the observer's process");
    let killed = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    // Until the last of its threads has exited: only then are its stores' locks free.
    while super::devnet::running(pid) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let top = height(&validator).await + 5;
    // It comes back keeping state for its newest 20 blocks only, and keys' histories for its
    // newest 10.
    let config = net.join("observer-0/node.json");
    let mut settings: Value =
        serde_json::from_str(&std::fs::read_to_string(&config).expect("node.json")).expect("JSON");
    settings["state_retention_blocks"] = json!(20);
    settings["history_retention_blocks"] = json!(10);
    std::fs::write(&config, settings.to_string()).expect("write node.json");
    let log = std::fs::File::create(net.join("observer-0/restarted.log")).expect("log");
    let _restarted = Node(
        Command::new(env!("CARGO_BIN_EXE_vellum"))
            .args(["node", "--config"])
            .arg(net.join("observer-0/node.json"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("vellum node"),
    );
    until_height(&observer_url, top).await;
    let observer = Client::connect(&observer_url).await.expect("observer");
    for h in [1, top - 5, top] {
        assert_eq!(
            block(&validator, h).await,
            block(&observer, h).await,
            "the nodes disagree on block {h} after the restart"
        );
    }
    let head = height(&observer).await;
    assert_eq!(
        history(&observer, &points, head - 5).await,
        history(&validator, &points, head - 5).await
    );
    let refused = observer
        .query_at(&points, "history", json!({"member": hex(&[0x11; 32])}), 1)
        .await
        .expect_err("state 20 blocks back is not retained")
        .to_string();
    assert!(
        refused.contains("-32602") && refused.contains("not retained"),
        "{refused}"
    );
    // Its history answers say where they begin; the validator keeps every version.
    let retained_from = |answer: Value| answer["retained_from"].as_u64().expect("a height");
    let params = || rpc_params![hex(&points), "issuer/air"];
    let pruned = observer
        .call("vellum_getHistory", params())
        .await
        .expect("history");
    let head = height(&observer).await;
    assert!(
        (1..=head + 1 - 10).contains(&retained_from(pruned.clone())),
        "head {head}: {pruned}"
    );
    let full = validator
        .call("vellum_getHistory", params())
        .await
        .expect("history");
    assert_eq!(retained_from(full), 0);
}

//! The command line itself: shell completions, logs in the format an operator asks for, and
//! JSON-RPC over TLS as `vellum init` and `vellum devnet --tls` set it up.

use super::free_ports;
use std::{
    io::{BufRead as _, BufReader},
    process::{Command, Stdio},
};

#[test]
fn completions_name_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let output = Command::new(env!("CARGO_BIN_EXE_vellum"))
            .args(["completions", shell])
            .output()
            .expect("vellum completions");
        assert!(output.status.success(), "{shell}: {output:?}");
        let script = String::from_utf8_lossy(&output.stdout);
        for command in ["devnet", "status", "query", "proof"] {
            assert!(
                script.contains(command),
                "{shell} completions lack {command}"
            );
        }
    }
}

/// `--log-format json`: a validator's every log line on stderr is one JSON object (here, until
/// it says it runs, then its clean stop on SIGTERM); a bad `--log-level` is refused, saying what
/// to give.
#[test]
fn a_validator_logs_json_when_asked() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let base = free_ports();
    let init = Command::new(env!("CARGO_BIN_EXE_vellum"))
        .args(["init", "--dir"])
        .arg(dir.path())
        .args(["--p2p-port", &base.to_string()])
        .args(["--rpc-port", &(base + 5).to_string()])
        .output()
        .expect("vellum init");
    assert!(init.status.success(), "{init:?}");
    let config = dir.path().join("validator-0/node.json");
    let mut node = Command::new(env!("CARGO_BIN_EXE_vellum"))
        .args([
            "--log-format",
            "json",
            "--log-level",
            "info",
            "node",
            "--config",
        ])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vellum node");
    let stderr = node.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut messages = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("a log line");
        let entry: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}"));
        let message = entry["fields"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(entry["level"].is_string(), "{line}");
        messages.push(message.clone());
        if message == "validator running" {
            break;
        }
    }
    assert_eq!(
        messages.last().map(String::as_str),
        Some("validator running")
    );
    let sent = Command::new("kill")
        .args(["-TERM", &node.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let rest: Vec<serde_json::Value> = lines
        .map(|line| serde_json::from_str(&line.expect("a log line")).expect("one JSON object"))
        .collect();
    let status = node.wait().expect("wait");
    assert!(status.success(), "{status}");
    assert!(
        rest.iter()
            .any(|entry| entry["fields"]["message"] == "terminated (SIGTERM); stopping"),
        "{rest:?}"
    );

    let refused = Command::new(env!("CARGO_BIN_EXE_vellum"))
        .args(["--log-level", "warn,=[", "status"])
        .output()
        .expect("vellum");
    assert!(!refused.status.success());
    let error = String::from_utf8_lossy(&refused.stderr);
    assert!(error.contains("--log-level"), "{error}");
}

/// A node runs as a validator or an observer as its key says; a key that is neither (here an
/// observer's configuration whose `observers` list was emptied) is refused at start, saying
/// what to do.
#[test]
fn a_node_whose_key_is_neither_a_validator_nor_an_observer_is_refused() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let base = free_ports();
    let init = Command::new(env!("CARGO_BIN_EXE_vellum"))
        .args(["init", "--dir"])
        .arg(dir.path())
        .args(["--observers", "1"])
        .args(["--p2p-port", &base.to_string()])
        .args(["--rpc-port", &(base + 5).to_string()])
        .output()
        .expect("vellum init");
    assert!(init.status.success(), "{init:?}");
    let printed = String::from_utf8_lossy(&init.stdout);
    assert!(printed.contains("observer: "), "{printed}");
    let path = dir.path().join("observer-0/node.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("node.json")).expect("JSON");
    assert_eq!(config["observers"].as_array().map(Vec::len), Some(1));
    config["observers"] = serde_json::json!([]);
    std::fs::write(&path, config.to_string()).expect("write");
    let refused = Command::new(env!("CARGO_BIN_EXE_vellum"))
        .args(["node", "--config"])
        .arg(&path)
        .output()
        .expect("vellum node");
    assert!(!refused.status.success());
    let error = String::from_utf8_lossy(&refused.stderr);
    assert!(
        error.contains("neither a validator in the genesis file nor listed among")
            && error.contains("add it to `observers`"),
        "{error}"
    );
}

/// `vellum init` on a network address serves JSON-RPC over TLS unless told otherwise, with a
/// certificate per node from the network's CA; a node configured for plain HTTP on a network
/// address without saying so explicitly refuses to start, and says what to do.
#[test]
fn json_rpc_on_a_network_address_is_tls_unless_the_configuration_says_plain() {
    let init = |dir: &std::path::Path, more: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_vellum"))
            .args(["init", "--validators", "1", "--organisations", "1", "--dir"])
            .arg(dir)
            .args(["--host", "0.0.0.0"])
            .args(more)
            .output()
            .expect("vellum init");
        assert!(output.status.success(), "{output:?}");
        let config = dir.join("validator-0/node.json");
        let text = std::fs::read_to_string(&config).expect("node.json");
        (
            config,
            serde_json::from_str::<serde_json::Value>(&text).expect("JSON"),
        )
    };
    let scratch = tempfile::tempdir().expect("temporary directory");
    let (config, tls) = init(&scratch.path().join("tls"), &[]);
    assert_eq!(tls["rpc_tls"]["cert"], "rpc.pem", "{tls}");
    for file in [
        "tls/ca.pem",
        "tls/ca.key",
        "validator-0/rpc.pem",
        "validator-0/rpc.key",
    ] {
        assert!(scratch.path().join("tls").join(file).exists(), "{file}");
    }
    let (_, plain) = init(&scratch.path().join("plain"), &["--plain-http"]);
    assert_eq!(plain["rpc_plain_http"], true, "{plain}");
    assert!(plain.get("rpc_tls").is_none(), "{plain}");

    // The TLS configuration without its certificate, and without saying plain: refused.
    let mut bare = tls.clone();
    bare.as_object_mut().expect("an object").remove("rpc_tls");
    std::fs::write(&config, bare.to_string()).expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_vellum"))
        .args(["node", "--config"])
        .arg(&config)
        .output()
        .expect("vellum node");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("plain HTTP on a network address") && stderr.contains("rpc_tls"),
        "{stderr}"
    );
}

/// `vellum devnet --tls --read-policy members`: every node serves HTTPS and WSS with a
/// certificate from the devnet's CA, and applies the genesis file's read policy; clients that trust it are answered (the Rust client, blocks following over WSS, `vellum
/// status`, which finds the CA in the devnet's directory, and Python's standard library); a
/// client that does not is refused, and the Rust client's error says what to pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_devnet_over_tls_answers_clients_that_trust_its_ca() {
    let _network = super::one_network_at_a_time().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("net");
    let base = free_ports();
    let (_devnet, banner) = super::devnet::Devnet::start_with(
        &net,
        base,
        base + 5,
        &["--validators", "4", "--tls", "--read-policy", "members"],
    );
    let url = format!("https://127.0.0.1:{}", base + 5);
    assert!(banner.contains(&url), "{banner}");
    let ca = net.join("tls/ca.pem");
    assert!(
        banner.contains(&format!("--ca {}", ca.display())),
        "{banner}"
    );

    let trust = vellum_client::Trust::ca_file(&ca).expect("the CA");
    let client = vellum_client::Client::connect_with(&url, trust.clone())
        .await
        .expect("connect over TLS");
    assert_eq!(client.chain_id(), "vellum-local");
    // The ledger's own records are members' only: refused anonymously, read by a client that
    // proves the admin's key (its caller token goes over TLS).
    let records = || {
        jsonrpsee::rpc_params![
            vellum_types::hex(&[0u8; 32]),
            serde_json::json!({"limit": 1})
        ]
    };
    let anonymous = client.call("vellum_getRange", records()).await;
    assert_eq!(
        anonymous.expect_err("members only").code(),
        Some(vellum_types::rpc::code::READ_REFUSED)
    );
    let admin = vellum_client::read_member_key(&net.join("keys/org-1-admin.key")).expect("key");
    let member = vellum_client::Client::connect_as(&url, trust, &admin)
        .await
        .expect("connect as the admin");
    member
        .call("vellum_getRange", records())
        .await
        .expect("a member reads the ledger's records");
    // The network's read policy is the genesis file's (`--read-policy members`): events are
    // members' only on every node, though no node configuration says so.
    let genesis = std::fs::read_to_string(net.join("genesis.json")).expect("genesis");
    assert!(genesis.contains(r#""read_policy": "members""#), "{genesis}");
    let events = || jsonrpsee::rpc_params![serde_json::json!({"limit": 1})];
    let anonymous = client.call("vellum_getEvents", events()).await;
    assert_eq!(
        anonymous.expect_err("members only").code(),
        Some(vellum_types::rpc::code::READ_REFUSED)
    );
    member
        .call("vellum_getEvents", events())
        .await
        .expect("a member reads events");
    let (_ws, mut blocks) = client.blocks(Some(1)).await.expect("subscribe over WSS");
    let first = blocks.next().await.expect("a block").expect("decoded");
    assert_eq!(first["height"], 1);

    let refused = match vellum_client::Client::connect(&url).await {
        Ok(_) => panic!("a client that trusts only the system's roots was answered"),
        Err(e) => e,
    };
    assert!(
        matches!(refused, vellum_client::Error::UntrustedCertificate { .. }),
        "{refused}"
    );
    assert!(refused.to_string().contains("--ca"), "{refused}");

    let status = Command::new(env!("CARGO_BIN_EXE_vellum"))
        .args(["status", "--dir"])
        .arg(&net)
        .output()
        .expect("vellum status");
    let table = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{table}");
    assert_eq!(table.matches("https://").count(), 4, "{table}");

    // `vellum gov`: org-1 proposes that joins need every organisation, naming that rule alone;
    // with two organisations that needs org-2 as well, whose approval executes it.
    // The connection and the key follow `command`, before its subcommand's `rest`.
    let gov = |key: &str, command: &str, rest: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_vellum"))
            .args(["gov", command, "--rpc", &url, "--ca"])
            .arg(&ca)
            .arg("--key")
            .arg(net.join(format!("keys/{key}-admin.key")))
            .args(rest)
            .output()
            .expect("vellum gov");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.success(),
            "vellum gov {command} {rest:?}: {text}"
        );
        text
    };
    let rules = gov("org-1", "rules", &[]);
    assert!(
        rules.contains("membership_policy          majority"),
        "{rules}"
    );
    assert!(rules.contains("no proposal has changed them"), "{rules}");
    let proposed = gov("org-1", "propose", &["rules", "--membership-policy", "all"]);
    assert!(
        proposed.contains("proposal 1 is open: 1 of the 2 approvals"),
        "{proposed}"
    );
    let approved = gov("org-2", "approve", &["1"]);
    assert!(approved.contains("proposal 1 executed"), "{approved}");
    let rules = gov("org-2", "rules", &[]);
    assert!(rules.contains("membership_policy          all"), "{rules}");
    assert!(
        rules.contains("rules_policy               majority"),
        "{rules}"
    );
    assert!(
        rules.contains("changes by proposal: 1, the last at height"),
        "{rules}"
    );

    // Python's standard library, trusting the CA, and then the system's roots only.
    let python = |cafile: Option<&std::path::Path>| {
        let script = r#"
import json, ssl, sys, urllib.request
url, cafile = sys.argv[1], sys.argv[2] or None
context = ssl.create_default_context(cafile=cafile)
body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "vellum_chainId", "params": []}).encode()
request = urllib.request.Request(url, body, {"content-type": "application/json"})
try:
    print(json.load(urllib.request.urlopen(request, context=context, timeout=20))["result"])
except urllib.error.URLError as e:
    print("refused:", e.reason)
"#;
        let output = Command::new("python3")
            .args(["-c", script, &url])
            .arg(cafile.map(|p| p.as_os_str()).unwrap_or_default())
            .output()
            .expect("python3");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    assert_eq!(python(Some(&ca)), "vellum-local");
    let refused = python(None);
    assert!(
        refused.starts_with("refused:") && refused.contains("CERTIFICATE_VERIFY_FAILED"),
        "{refused}"
    );
}

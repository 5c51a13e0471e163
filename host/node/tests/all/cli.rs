//! The command line itself: shell completions, and logs in the format an operator asks for.

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

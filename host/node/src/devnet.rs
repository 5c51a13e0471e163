//! `vellum devnet`: a local network in one command.
//!
//! Creates the network on first run (`init` under the data directory), starts one `vellum
//! node` process per validator on 127.0.0.1, waits until they finalize blocks, deploys the four
//! bundled use-case contracts (once: their addresses are kept in `contracts.json`), and prints
//! the endpoints. SIGINT (Ctrl-C) or SIGTERM sent to the devnet process alone stops it cleanly:
//! it sends SIGTERM to each validator, waits for them to stop, and exits (a validator still
//! running after [`STOP_GRACE`] is killed). A validator that exits on its own (a crash, a kill)
//! is reported and the others keep running. A second run resumes from the same directory.

use crate::{
    config::NodeConfig,
    init::{self, Options},
};
use anyhow::{anyhow, bail, Context as _};
use commonware_utils::{Faults as _, N3f1};
use serde_json::{json, Value};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

/// How long a clean stop waits for the validators before killing them.
pub const STOP_GRACE: Duration = Duration::from_secs(10);
use vellum_client::{Client, Signer};

/// The use-case contracts, built to wasm32 and committed (`contracts/artifacts`).
/// Deployed in this order: `escrow` is given the address of `points`.
pub const BUNDLED: [(&str, &[u8]); 5] = [
    (
        "points",
        include_bytes!("../../../contracts/artifacts/points.wasm"),
    ),
    (
        "ballot",
        include_bytes!("../../../contracts/artifacts/ballot.wasm"),
    ),
    (
        "notary",
        include_bytes!("../../../contracts/artifacts/notary.wasm"),
    ),
    (
        "trace",
        include_bytes!("../../../contracts/artifacts/trace.wasm"),
    ),
    (
        "escrow",
        include_bytes!("../../../contracts/artifacts/escrow.wasm"),
    ),
];

/// A running devnet.
pub struct Devnet {
    /// Its directory.
    pub dir: PathBuf,
    /// Each validator's JSON-RPC URL.
    pub urls: Vec<String>,
    /// The bundled contracts' addresses, by name.
    pub contracts: BTreeMap<String, String>,
    children: Vec<Child>,
}

impl Devnet {
    /// The first organisation's admin key (it deployed the contracts).
    pub fn admin_key(&self) -> PathBuf {
        self.dir.join("keys").join("org-1-admin.key")
    }

    /// Run until `stop` is set, then stop every validator cleanly ([`Devnet::terminate`]). A
    /// validator that exits meanwhile (a crash, a kill: what a developer testing fault
    /// tolerance does) is reported on stderr once, and the others keep running; only when
    /// every validator has exited does this return an error.
    pub fn wait(&mut self, stop: &AtomicBool) -> anyhow::Result<()> {
        let mut exited = vec![false; self.children.len()];
        loop {
            if stop.load(Ordering::Acquire) {
                self.terminate(STOP_GRACE);
                return Ok(());
            }
            for (i, child) in self.children.iter_mut().enumerate() {
                if exited[i] {
                    continue;
                }
                if let Some(status) = child.try_wait()? {
                    exited[i] = true;
                    let running = exited.iter().filter(|gone| !**gone).count();
                    eprintln!(
                        "validator {i} exited ({status}); see {}. The other {running} keep                          running ({} of {} must run for blocks to finalize); run the devnet                          again to bring it back",
                        self.dir.join(format!("validator-{i}/node.log")).display(),
                        N3f1::quorum(exited.len()),
                        exited.len(),
                    );
                }
            }
            if exited.iter().all(|gone| *gone) {
                bail!("every validator exited; see the node.log files");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stop every validator cleanly: SIGTERM to each, then wait up to `grace` in all for them to
    /// exit; any still running then is killed.
    pub fn terminate(&mut self, grace: Duration) {
        for child in &mut self.children {
            // Still running, so not reaped: its pid names it and no other process.
            if matches!(child.try_wait(), Ok(None)) {
                let pid = rustix::process::Pid::from_child(child);
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline
            && self
                .children
                .iter_mut()
                .any(|child| matches!(child.try_wait(), Ok(None)))
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stop();
    }

    /// Stop every validator: SIGKILL, which redb and the consensus journals survive.
    pub fn stop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.children.clear();
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Start (or resume) the devnet in `options.dir`, running `binary` for each validator.
pub async fn start(binary: &Path, options: &Options, deploy: bool) -> anyhow::Result<Devnet> {
    let configs = if options.dir.join("genesis.json").exists() {
        eprintln!("resuming the network in {}", options.dir.display());
        (0..)
            .map(|i| options.dir.join(format!("validator-{i}/node.json")))
            .take_while(|p| p.exists())
            .collect::<Vec<_>>()
    } else {
        eprintln!(
            "creating a {}-validator network in {}",
            options.validators,
            options.dir.display()
        );
        init::init(options)?.configs
    };
    let mut urls = Vec::new();
    let mut children = Vec::new();
    for (i, config) in configs.iter().enumerate() {
        let parsed = NodeConfig::load(config)?;
        urls.push(format!("http://{}", parsed.rpc));
        let log_path = config.with_file_name("node.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open {}", log_path.display()))?;
        let child = Command::new(binary)
            .arg("node")
            .arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start validator {i}"))?;
        children.push(child);
    }
    let mut devnet = Devnet {
        dir: options.dir.clone(),
        urls,
        contracts: BTreeMap::new(),
        children,
    };
    eprint!("waiting for the validators to finalize blocks");
    let deadline = Instant::now() + Duration::from_secs(120);
    let client = loop {
        for (i, child) in devnet.children.iter_mut().enumerate() {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "validator {i} exited at startup ({status}); see {}",
                    devnet.dir.join(format!("validator-{i}/node.log")).display()
                );
            }
        }
        if let Ok(client) = Client::connect(&devnet.urls[0]).await {
            if client.status().await?["height"].as_u64().unwrap_or(0) >= 1 {
                break client;
            }
        }
        if Instant::now() > deadline {
            bail!(
                "the validators did not finalize a block within 2 minutes; see the node.log files"
            );
        }
        eprint!(".");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    eprintln!(" ok");
    if deploy {
        devnet.contracts = deploy_bundled(&devnet, &client).await?;
    }
    Ok(devnet)
}

/// Deploy the bundled contracts unless `contracts.json` names live ones.
async fn deploy_bundled(
    devnet: &Devnet,
    client: &Client,
) -> anyhow::Result<BTreeMap<String, String>> {
    let record = devnet.dir.join("contracts.json");
    if let Ok(text) = std::fs::read_to_string(&record) {
        let known: BTreeMap<String, String> = serde_json::from_str(&text)?;
        let mut live = true;
        for address in known.values() {
            live &= client
                .call("vellum_getContract", jsonrpsee::rpc_params![address])
                .await
                .is_ok();
        }
        if live && known.len() == BUNDLED.len() {
            return Ok(known);
        }
    }
    let mut signer = Signer::load(&devnet.admin_key(), client).await?;
    let mut deployed = BTreeMap::new();
    for (name, code) in BUNDLED {
        eprint!("deploying {name} ({} KiB) ... ", code.len() / 1024);
        let init = match name {
            "escrow" => json!({"points": deployed.get("points")}),
            _ => json!({}),
        };
        let receipt = client
            .submit_and_wait(&signer.deploy(code.to_vec(), init))
            .await?;
        let address = receipt["contract"]
            .as_str()
            .ok_or_else(|| anyhow!("deploying {name} failed: {receipt}"))?
            .to_string();
        eprintln!("{address}");
        deployed.insert(name.to_string(), address);
    }
    std::fs::write(&record, serde_json::to_string_pretty(&deployed)?)
        .with_context(|| format!("cannot write {}", record.display()))?;
    Ok(deployed)
}

/// What to print once a devnet runs.
pub fn banner(devnet: &Devnet) -> String {
    let mut text = String::from(
        "\nVellum devnet is running.\n\nJSON-RPC (HTTP and WebSocket) and /metrics:\n",
    );
    for (i, url) in devnet.urls.iter().enumerate() {
        text.push_str(&format!("  validator {i}: {url}\n"));
    }
    if !devnet.contracts.is_empty() {
        text.push_str("\nContracts:\n");
        for (name, address) in &devnet.contracts {
            text.push_str(&format!("  {name:<7} {address}\n"));
        }
    }
    let first = &devnet.urls[0];
    text.push_str(&format!(
        "\nTry:\n  curl -s -H 'content-type: application/json' -d '{}' {first}\n",
        json!({"jsonrpc": "2.0", "id": 1, "method": "vellum_status", "params": []})
    ));
    text.push_str(&format!(
        "  vellum demo --rpc {first} --dir {}\n\nData: {} (a second run resumes it). Ctrl-C stops the network.\n",
        devnet.dir.display(),
        devnet.dir.display()
    ));
    text
}

/// The addresses `contracts.json` records in `dir`.
pub fn contracts(dir: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let path = dir.join("contracts.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {}; start the network with `vellum devnet` first",
            path.display()
        )
    })?;
    let map: BTreeMap<String, Value> = serde_json::from_str(&text)?;
    Ok(map
        .into_iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_string())))
        .collect())
}

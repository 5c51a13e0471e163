//! `vellum devnet`: a local network in one command.
//!
//! Creates the network on first run (`init` under the data directory), starts one `vellum
//! node` process per validator and per observer on 127.0.0.1, waits until they finalize blocks, deploys the four
//! bundled use-case contracts (once: their addresses are kept in `contracts.json`), and prints
//! the endpoints. SIGINT (Ctrl-C) or SIGTERM sent to the devnet process alone stops it cleanly:
//! it sends SIGTERM to each validator, waits for them to stop, and exits (a validator still
//! running after [`STOP_GRACE`] is killed). A validator that exits on its own (a crash, a kill)
//! is reported and the others keep running. A second run resumes from the same directory.

use crate::{
    config::NodeConfig,
    init::{self, Options},
    progress::spinner,
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
use vellum_client::{Client, Signer, Trust};

/// The use-case contracts, built to wasm32 and committed (`contracts/artifacts`).
/// Deployed in this order: `escrow` is given the address of `points`.
pub const BUNDLED: [(&str, &[u8]); 6] = [
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
    (
        "trade",
        include_bytes!("../../../contracts/artifacts/trade.wasm"),
    ),
];

/// A running devnet.
pub struct Devnet {
    /// Its directory.
    pub dir: PathBuf,
    /// Each validator's JSON-RPC URL.
    pub urls: Vec<String>,
    /// Each observer's JSON-RPC URL.
    pub observer_urls: Vec<String>,
    /// The bundled contracts' addresses, by name.
    pub contracts: BTreeMap<String, String>,
    /// What its nodes' certificates chain to, when they serve TLS.
    pub trust: Trust,
    /// Each node process, validators first, with its directory's name (`validator-0`).
    children: Vec<(String, Child)>,
}

impl Devnet {
    /// The first organisation's admin key (it deployed the contracts).
    pub fn admin_key(&self) -> PathBuf {
        self.dir.join("keys").join("org-1-admin.key")
    }

    /// Run until `stop` is set, then stop every node cleanly ([`Devnet::terminate`]). A node
    /// that exits meanwhile (a crash, a kill: what a developer testing fault tolerance does) is
    /// reported on stderr once, and the others keep running; only when every node has exited
    /// does this return an error.
    pub fn wait(&mut self, stop: &AtomicBool) -> anyhow::Result<()> {
        let mut exited = vec![false; self.children.len()];
        loop {
            if stop.load(Ordering::Acquire) {
                self.terminate(STOP_GRACE);
                return Ok(());
            }
            let validators = self.urls.len();
            for (i, (name, child)) in self.children.iter_mut().enumerate() {
                if exited[i] {
                    continue;
                }
                if let Some(status) = child.try_wait()? {
                    exited[i] = true;
                    let running = exited.iter().filter(|gone| !**gone).count();
                    let voting = exited[..validators].iter().filter(|gone| !**gone).count();
                    eprintln!(
                        "{name} exited ({status}); see {}. The other {running} nodes keep \
                         running, {voting} of them validators ({} of {validators} must run for \
                         blocks to finalize); run the devnet again to bring it back",
                        self.dir.join(format!("{name}/node.log")).display(),
                        N3f1::quorum(validators),
                    );
                }
            }
            if exited.iter().all(|gone| *gone) {
                bail!("every node exited; see the node.log files");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stop every node cleanly: SIGTERM to each, then wait up to `grace` in all for them to
    /// exit; any still running then is killed.
    pub fn terminate(&mut self, grace: Duration) {
        for (_, child) in &mut self.children {
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
                .any(|(_, child)| matches!(child.try_wait(), Ok(None)))
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stop();
    }

    /// Stop every node: SIGKILL, which redb and the consensus journals survive.
    pub fn stop(&mut self) {
        for (_, child) in &mut self.children {
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

/// What the nodes of the network in `dir` present: its CA (`tls/ca.pem`, when `init` made
/// one), or else the system's roots.
pub fn trust(dir: &Path) -> anyhow::Result<Trust> {
    let ca = dir.join("tls").join("ca.pem");
    Ok(match ca.exists() {
        true => Trust::ca_file(&ca)?,
        false => Trust::System,
    })
}

/// The node directories of the network in `dir`: `validator-0`, ..., then `observer-0`, ...
pub fn nodes(dir: &Path) -> Vec<String> {
    let named = |role: &'static str| {
        (0..)
            .map(move |i| format!("{role}-{i}"))
            .take_while(|name| dir.join(name).join("node.json").exists())
    };
    named("validator").chain(named("observer")).collect()
}

/// Start (or resume) the devnet in `options.dir`, running `binary` for each validator and
/// observer.
pub async fn start(binary: &Path, options: &Options, deploy: bool) -> anyhow::Result<Devnet> {
    if options.dir.join("genesis.json").exists() {
        eprintln!("resuming the network in {}", options.dir.display());
        let observers = nodes(&options.dir)
            .iter()
            .filter(|name| name.starts_with("observer"))
            .count();
        if options.observers > 0 && options.observers != observers {
            eprintln!(
                "note: --observers {} applies only to a new network; this one has {observers} \
                 (use another --dir for a new one)",
                options.observers
            );
        }
    } else {
        eprintln!(
            "creating a {}-validator network{} in {}",
            options.validators,
            match options.observers {
                0 => String::new(),
                1 => " with 1 observer".into(),
                n => format!(" with {n} observers"),
            },
            options.dir.display()
        );
        init::init(options)?;
    }
    let mut urls = Vec::new();
    let mut observer_urls = Vec::new();
    let mut children = Vec::new();
    for name in nodes(&options.dir) {
        let config = options.dir.join(&name).join("node.json");
        let parsed = NodeConfig::load(&config)?;
        let url = parsed.rpc_url();
        if name.starts_with("validator") {
            urls.push(url);
        } else {
            observer_urls.push(url);
        }
        let log_path = config.with_file_name("node.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open {}", log_path.display()))?;
        let child = Command::new(binary)
            .arg("node")
            .arg("--config")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        children.push((name, child));
    }
    let mut devnet = Devnet {
        dir: options.dir.clone(),
        urls,
        observer_urls,
        contracts: BTreeMap::new(),
        trust: trust(&options.dir)?,
        children,
    };
    let waiting = spinner("waiting for the validators to finalize blocks");
    let deadline = Instant::now() + Duration::from_secs(120);
    let client = loop {
        for (name, child) in &mut devnet.children {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "{name} exited at startup ({status}); see {}",
                    devnet.dir.join(format!("{name}/node.log")).display()
                );
            }
        }
        if let Ok(client) = Client::connect_with(&devnet.urls[0], devnet.trust.clone()).await {
            if client.status().await?["height"].as_u64().unwrap_or(0) >= 1 {
                break client;
            }
        }
        if Instant::now() > deadline {
            bail!(
                "the validators did not finalize a block within 2 minutes; see the node.log files"
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    waiting.finish_and_clear();
    eprintln!("the validators finalize blocks");
    if deploy {
        devnet.contracts = deploy_bundled(&devnet, &client).await?;
    }
    if !devnet.observer_urls.is_empty() {
        // Until each observer has what the validators had committed by now: a client of a node
        // still catching up would read stale nonces and contracts.
        let target = client.status().await?["height"].as_u64().unwrap_or(0);
        let waiting = spinner(&format!(
            "waiting for the observers to reach height {target}"
        ));
        let deadline = Instant::now() + Duration::from_secs(120);
        for url in &devnet.observer_urls {
            loop {
                let height = match Client::connect_with(url, devnet.trust.clone()).await {
                    Ok(observer) => observer.status().await.ok(),
                    Err(_) => None,
                }
                .and_then(|status| status["height"].as_u64());
                if height >= Some(target) {
                    break;
                }
                if Instant::now() > deadline {
                    bail!(
                        "the observer at {url} did not reach height {target} within 2 minutes; \
                         see its node.log"
                    );
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        waiting.finish_and_clear();
        eprintln!("the observers reached height {target}");
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
        let deploying = spinner(&format!("deploying {name} ({} KiB)", code.len() / 1024));
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
        deploying.finish_and_clear();
        eprintln!("deployed {name} ({} KiB) at {address}", code.len() / 1024);
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
    for (i, url) in devnet.observer_urls.iter().enumerate() {
        text.push_str(&format!("  observer {i}:  {url}\n"));
    }
    if !devnet.contracts.is_empty() {
        text.push_str("\nContracts:\n");
        for (name, address) in &devnet.contracts {
            text.push_str(&format!("  {name:<7} {address}\n"));
        }
    }
    let first = &devnet.urls[0];
    let (curl_ca, ca) = match devnet.trust {
        Trust::Ca(_) => {
            let ca = devnet.dir.join("tls").join("ca.pem");
            (
                format!(" --cacert {}", ca.display()),
                format!(" --ca {}", ca.display()),
            )
        }
        Trust::System => (String::new(), String::new()),
    };
    text.push_str(&format!(
        "\nExplorer: {first}/\n\nTry:\n  curl -s{curl_ca} -H 'content-type: application/json' -d '{}' {first}\n",
        json!({"jsonrpc": "2.0", "id": 1, "method": "vellum_status", "params": []})
    ));
    text.push_str(&format!(
        "  vellum demo --rpc {first}{ca} --dir {}\n\nData: {} (a second run resumes it). Ctrl-C stops the network.\n",
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

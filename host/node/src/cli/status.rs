//! `vellum status`: each node's health, one line per node.

use anyhow::bail;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use vellum::config::NodeConfig;
use vellum_client::Client;

/// Arguments of `vellum status`.
#[derive(clap::Args)]
pub struct Args {
    /// A node's JSON-RPC URL; repeat for several. Default: every node (validators, then
    /// observers) of the devnet in --dir, or else http://127.0.0.1:8100.
    #[arg(long)]
    rpc: Vec<String>,
    /// The devnet directory whose nodes to ask when no --rpc is given.
    #[arg(long, default_value = "vellum-devnet")]
    dir: PathBuf,
    /// One JSON object per node (its `vellum_status` answer, or its error) instead of a table.
    #[arg(long)]
    json: bool,
    /// For https:// nodes: the CA certificate to trust. Default: the devnet's in --dir
    /// (tls/ca.pem), if it has one.
    #[arg(long, env = "VELLUM_CA")]
    ca: Option<PathBuf>,
}

/// Ask every node for its status and print it; fail if any is unreachable or halted.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let urls = if args.rpc.is_empty() {
        devnet_urls(&args.dir)?
    } else {
        args.rpc.clone()
    };
    let now_ms = std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_millis());
    if !args.json {
        println!(
            "{:<24} {:<9} {:>8} {:>9} {:>9} {:>5} {:>9} {:>7}  state",
            "node", "role", "height", "finalized", "block age", "peers", "mempool", "syncing"
        );
    }
    let trust = match &args.ca {
        Some(_) => super::trust(args.ca.as_deref())?,
        None => vellum::devnet::trust(&args.dir)?,
    };
    let mut unwell = 0;
    for url in &urls {
        let answer = match Client::connect_with(url, trust.clone()).await {
            Ok(client) => client.status().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let halted = answer
            .as_ref()
            .ok()
            .and_then(|status| status["halted"].as_str().map(str::to_string));
        if answer.is_err() || halted.is_some() {
            unwell += 1;
        }
        if args.json {
            let line = match &answer {
                Ok(status) => json!({"node": url, "status": status}),
                Err(error) => json!({"node": url, "error": error}),
            };
            println!("{line}");
            continue;
        }
        match answer {
            Ok(status) => println!("{}", row(url, &status, now_ms)),
            Err(error) => println!("{url:<24} unreachable: {error}"),
        }
    }
    if unwell > 0 {
        bail!("{unwell} of {} nodes are unreachable or halted", urls.len());
    }
    Ok(())
}

/// One node's line of the table.
fn row(url: &str, status: &Value, now_ms: u128) -> String {
    let number = |field: &Value| field.as_u64().map_or("-".to_string(), |n| n.to_string());
    let age = status["time_ms"].as_u64().map_or("-".to_string(), |time| {
        format!(
            "{:.1} s",
            now_ms.saturating_sub(u128::from(time)) as f64 / 1e3
        )
    });
    let state = match status["halted"].as_str() {
        Some(report) => format!("HALTED: {report}"),
        None => "ok".to_string(),
    };
    format!(
        "{url:<24} {:<9} {:>8} {:>9} {age:>9} {:>5} {:>9} {:>7}  {state}",
        status["role"].as_str().unwrap_or("-"),
        number(&status["height"]),
        number(&status["finalized_tip"]),
        number(&status["peers"]),
        format!("{} tx", number(&status["mempool"]["transactions"])),
        status["syncing"]
            .as_bool()
            .map_or("-", |s| if s { "yes" } else { "no" }),
    )
}

/// The JSON-RPC URL of every node (validators, then observers) of the devnet in `dir`; the
/// default node's if there is no devnet there.
fn devnet_urls(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut urls = Vec::new();
    for name in vellum::devnet::nodes(dir) {
        let config = dir.join(name).join("node.json");
        urls.push(NodeConfig::load(&config)?.rpc_url());
    }
    if urls.is_empty() {
        urls.push("http://127.0.0.1:8100".to_string());
    }
    Ok(urls)
}

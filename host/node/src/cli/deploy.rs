//! `vellum deploy`: deploy a contract by transaction.

use super::{json_arg, print, Rpc};
use anyhow::{anyhow, Context as _};
use std::path::PathBuf;
use vellum_client::{receipt_failure, Signer};

/// Arguments of `vellum deploy`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    rpc: Rpc,
    /// The signer's key file.
    #[arg(long, env = "VELLUM_KEY")]
    key: PathBuf,
    /// The contract's wasm.
    wasm: PathBuf,
    /// JSON arguments of its `instantiate`.
    #[arg(long, default_value = "{}")]
    args: String,
}

/// Deploy, print the receipt and the new address.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let client = args.rpc.connect().await?;
    let code = std::fs::read(&args.wasm)
        .with_context(|| format!("cannot read {}", args.wasm.display()))?;
    let mut signer = Signer::load(&args.key, &client).await?;
    let waiting = vellum::progress::spinner(&format!(
        "deploying {} KiB, waiting for its block",
        code.len().div_ceil(1024)
    ));
    let receipt = client
        .submit_and_wait(&signer.deploy(code, json_arg(&args.args)?))
        .await;
    waiting.finish_and_clear();
    let receipt = receipt?;
    print(&receipt);
    match receipt["contract"].as_str() {
        Some(address) => eprintln!("deployed at {address}"),
        None => {
            let why = receipt_failure(&receipt).unwrap_or_else(|| "no contract address".into());
            return Err(anyhow!("the deploy failed: {why}"));
        }
    }
    Ok(())
}

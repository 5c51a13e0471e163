//! `vellum call`: call a contract method in a transaction.

use super::{json_arg, print, Rpc};
use anyhow::anyhow;
use std::path::PathBuf;
use vellum_client::{parse_address, receipt_failure, Signer};

/// Arguments of `vellum call`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    rpc: Rpc,
    /// The signer's key file.
    #[arg(long, env = "VELLUM_KEY")]
    key: PathBuf,
    /// The contract's address.
    contract: String,
    /// The method.
    method: String,
    /// Its JSON arguments.
    #[arg(default_value = "{}")]
    args: String,
}

/// Sign, submit, wait and print the receipt; fail if the call did not succeed.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let client = args.rpc.connect().await?;
    let mut signer = Signer::load(&args.key, &client).await?;
    let call = signer.call(
        parse_address(&args.contract)?,
        &args.method,
        json_arg(&args.args)?,
    );
    let waiting = vellum::progress::spinner("waiting for the call's block");
    let receipt = client.submit_and_wait(&call).await;
    waiting.finish_and_clear();
    let receipt = receipt?;
    print(&receipt);
    // The receipt is printed whatever it says; a failed call exits nonzero, as a failed query
    // does, so scripts can tell.
    match receipt_failure(&receipt) {
        Some(why) => Err(anyhow!("the call failed: {why}")),
        None => Ok(()),
    }
}

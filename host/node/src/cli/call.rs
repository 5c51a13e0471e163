//! `vellum call`: call a contract method in a transaction.

use super::{json_arg, print, Rpc};
use std::path::PathBuf;
use vellum_client::{parse_address, Signer};

/// Arguments of `vellum call`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    rpc: Rpc,
    /// The signer's key file.
    #[arg(long)]
    key: PathBuf,
    /// The contract's address.
    contract: String,
    /// The method.
    method: String,
    /// Its JSON arguments.
    #[arg(default_value = "{}")]
    args: String,
}

/// Sign, submit, wait and print the receipt.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let client = args.rpc.connect().await?;
    let mut signer = Signer::load(&args.key, &client).await?;
    let call = signer.call(
        parse_address(&args.contract)?,
        &args.method,
        json_arg(&args.args)?,
    );
    print(&client.submit_and_wait(&call).await?);
    Ok(())
}

//! `vellum tx`: a transaction's status, or its receipt once committed.

use super::{print, Rpc};
use jsonrpsee::rpc_params;
use std::time::Duration;

/// Arguments of `vellum tx`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    rpc: Rpc,
    /// `status` or `wait`.
    #[arg(value_parser = ["status", "wait"])]
    action: String,
    /// The transaction hash.
    hash: String,
}

/// Print the status, or wait for the receipt and print it.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let client = args.rpc.connect().await?;
    if args.action == "wait" {
        loop {
            if let Ok(receipt) = client
                .call("vellum_getTransactionReceipt", rpc_params![&args.hash])
                .await
            {
                print(&receipt);
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    print(
        &client
            .call("vellum_getTransaction", rpc_params![&args.hash])
            .await?,
    );
    Ok(())
}

//! `vellum query`: a read-only contract query.

use super::{json_arg, print, Rpc};
use vellum_client::parse_address;

/// Arguments of `vellum query`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    rpc: Rpc,
    /// The contract's address.
    contract: String,
    /// The `#[query]` method.
    method: String,
    /// Its JSON arguments.
    #[arg(default_value = "{}")]
    args: String,
}

/// Query and print the answer.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let client = args.rpc.connect().await?;
    let contract = parse_address(&args.contract)?;
    print(
        &client
            .query(&contract, &args.method, json_arg(&args.args)?)
            .await?,
    );
    Ok(())
}

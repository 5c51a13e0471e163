//! `vellum query`: a read-only contract query.

use super::{json_arg, print, Rpc};
use std::path::PathBuf;
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
    /// Read the state after the block at this height instead of the head (any height the node
    /// retains): the contract's storage and code as they were then.
    #[arg(long)]
    height: Option<u64>,
    /// Query as this member (its key file): the node checks a token it signs, and the
    /// contract's `caller()` is the member's address instead of the zero address.
    #[arg(long, env = "VELLUM_KEY")]
    key: Option<PathBuf>,
}

/// Query and print the answer.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let client = args.rpc.connect_as(args.key.as_deref()).await?;
    let contract = parse_address(&args.contract)?;
    let input = json_arg(&args.args)?;
    let answer = match args.height {
        None => client.query(&contract, &args.method, input).await?,
        Some(height) => {
            client
                .query_at(&contract, &args.method, input, height)
                .await?
        }
    };
    print(&answer);
    Ok(())
}

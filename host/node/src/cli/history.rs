//! `vellum history`: every version of a contract key.

use super::{print, Rpc};
use jsonrpsee::rpc_params;
use serde_json::json;

/// Arguments of `vellum history`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    rpc: Rpc,
    /// The contract's address.
    contract: String,
    /// The key (text, or 0x hex for bytes).
    key: String,
    /// Versions per page.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Only versions written at this height or later.
    #[arg(long)]
    from_height: Option<u64>,
    /// Only versions written at this height or earlier.
    #[arg(long)]
    to_height: Option<u64>,
    /// Read as this member (its key file), for a node whose read policy is not public.
    #[arg(long = "key", env = "VELLUM_KEY")]
    member_key: Option<std::path::PathBuf>,
}

/// Print the newest page of versions.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let client = args.rpc.connect_as(args.member_key.as_deref()).await?;
    let page = json!({
        "limit": args.limit,
        "order": "desc",
        "from_height": args.from_height,
        "to_height": args.to_height,
    });
    print(
        &client
            .call(
                "vellum_getHistory",
                rpc_params![args.contract, args.key, page],
            )
            .await?,
    );
    Ok(())
}

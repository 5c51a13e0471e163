//! `vellum demo`: the use cases end to end against a running network.

use super::Rpc;
use std::path::PathBuf;

/// Arguments of `vellum demo`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    rpc: Rpc,
    /// The devnet directory (for its admin key and contract addresses).
    #[arg(long, default_value = "vellum-devnet")]
    dir: PathBuf,
}

/// Tell the story.
pub async fn run(args: Args) -> anyhow::Result<()> {
    vellum::demo::run(&args.rpc.connect().await?, &args.dir).await
}

//! `vellum node`: one node, a validator or an observer, from its configuration file.

use anyhow::Context as _;
use std::path::PathBuf;
use vellum::config::NodeConfig;

/// Arguments of `vellum node`.
#[derive(clap::Args)]
pub struct Args {
    /// The node's node.json (`vellum init` writes one per validator and per observer).
    #[arg(long)]
    config: PathBuf,
}

/// Run the node until it halts or is interrupted.
pub fn run(args: Args) -> anyhow::Result<()> {
    NodeConfig::load(&args.config)
        .and_then(vellum::run::run)
        .with_context(|| format!("node {} stopped", args.config.display()))
}

//! `vellum node`: one validator, from its configuration file.

use anyhow::Context as _;
use std::path::PathBuf;
use vellum::config::NodeConfig;

/// Arguments of `vellum node`.
#[derive(clap::Args)]
pub struct Args {
    /// The validator's node.json.
    #[arg(long)]
    config: PathBuf,
}

/// Run the validator until it halts or is interrupted.
pub fn run(args: Args) -> anyhow::Result<()> {
    NodeConfig::load(&args.config)
        .and_then(vellum::run::run)
        .with_context(|| format!("validator {} stopped", args.config.display()))
}

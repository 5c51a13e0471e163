//! `vellum init`: a new network's files.

use super::Network;

/// Arguments of `vellum init`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    network: Network,
}

/// Create the files and say what to run next.
pub fn run(args: Args) -> anyhow::Result<()> {
    let created = vellum::init::init(&args.network.options())?;
    println!("genesis: {}", created.genesis.display());
    for (config, rpc) in created.configs.iter().zip(&created.rpc) {
        println!("validator: {}  (JSON-RPC http://{rpc})", config.display());
    }
    for key in &created.admin_keys {
        println!("admin key: {}", key.display());
    }
    if let Some(first) = created.configs.first() {
        println!("next: vellum node --config {}", first.display());
    }
    Ok(())
}

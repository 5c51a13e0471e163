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
    let options = args.network.options();
    let created = vellum::init::init(&options)?;
    println!("genesis: {}", created.genesis.display());
    for (i, (config, rpc)) in created.configs.iter().zip(&created.rpc).enumerate() {
        let role = if i < options.validators {
            "validator"
        } else {
            "observer"
        };
        println!("{role}: {}  (JSON-RPC http://{rpc})", config.display());
    }
    for key in &created.admin_keys {
        println!("admin key: {}", key.display());
    }
    if let Some(first) = created.configs.first() {
        println!("next: vellum node --config {}", first.display());
    }
    Ok(())
}

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
        let scheme = if options.tls { "https" } else { "http" };
        println!("{role}: {}  (JSON-RPC {scheme}://{rpc})", config.display());
    }
    if options.tls {
        let tls = options.dir.join("tls");
        println!(
            "JSON-RPC is served over TLS: clients trust {} (--ca, or VELLUM_CA); keep {} to sign \
             certificates for new nodes",
            tls.join("ca.pem").display(),
            tls.join("ca.key").display()
        );
    }
    for key in &created.admin_keys {
        println!("admin key: {}", key.display());
    }
    if let Some(first) = created.configs.first() {
        println!("next: vellum node --config {}", first.display());
    }
    Ok(())
}

//! `vellum devnet`: a local network in one command.

use super::Network;
use anyhow::Context as _;
use vellum::devnet;

/// Arguments of `vellum devnet`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    network: Network,
    /// Do not deploy the bundled contracts.
    #[arg(long)]
    no_contracts: bool,
}

/// Start the network, print its endpoints, and run until Ctrl-C or a validator exits.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let binary = std::env::current_exe().context("cannot find the vellum binary")?;
    let mut running = devnet::start(&binary, &args.network.options(), !args.no_contracts).await?;
    println!("{}", devnet::banner(&running));
    let waiter = tokio::task::spawn_blocking(move || {
        let result = running.wait();
        (running, result)
    });
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {
            eprintln!("stopping the network (its state stays in {})", args.network.dir.display());
            // The validators got the same Ctrl-C; give them a moment to stop cleanly.
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            Ok(())
        }
        done = waiter => {
            let (_running, result) = done.context("the devnet supervisor failed")?;
            result
        }
    }
}

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
    // One write, and its failure ignored: whoever reads the banner may close its end as soon as
    // it has it, and the network must not stop for that (println! wrote the final newline
    // apart, and panicked on the closed pipe, stopping all four validators).
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = out
            .write_all(format!("{}\n", devnet::banner(&running)).as_bytes())
            .and_then(|()| out.flush());
    }
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

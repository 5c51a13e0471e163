//! `vellum devnet`: a local network in one command.

use super::Network;
use anyhow::Context as _;
use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};
use tokio::signal::unix::{signal, SignalKind};
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

/// Start the network, print its endpoints, and run until SIGINT (Ctrl-C), SIGTERM, or every node
/// has exited; on a signal, stop the nodes cleanly and wait for them.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let binary = std::env::current_exe().context("cannot find the vellum binary")?;
    let mut running = devnet::start(&binary, &args.network.options(), !args.no_contracts).await?;
    // Installed before the banner: a signal sent by whoever reads it must not find the default
    // action (which would leave the validators running).
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
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
    let stop = Arc::new(AtomicBool::new(false));
    let waiter = tokio::task::spawn_blocking({
        let stop = stop.clone();
        move || running.wait(&stop)
    });
    let mut waiter = std::pin::pin!(waiter);
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
        done = &mut waiter => return done.context("the devnet supervisor failed")?,
    }
    eprintln!(
        "stopping the network (its state stays in {})",
        args.network.dir.display()
    );
    stop.store(true, Ordering::Release);
    waiter.await.context("the devnet supervisor failed")??;
    eprintln!("stopped");
    Ok(())
}

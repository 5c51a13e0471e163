//! `vellum trace`: a lot's provenance from the trace contract, timed.

use super::{print, Bundled};
use serde_json::json;
use std::time::Instant;

/// Arguments of `vellum trace`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    bundled: Bundled,
    /// The lot id.
    lot: String,
}

/// Trace the lot and say how long it took.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let (client, address) = args.bundled.connect("trace").await?;
    let started = Instant::now();
    let provenance = client
        .query(&address, "trace", json!({"lot": args.lot}))
        .await?;
    let took = started.elapsed();
    print(&provenance);
    eprintln!(
        "traced in {:.1} ms (one query, one round trip)",
        took.as_secs_f64() * 1e3
    );
    Ok(())
}

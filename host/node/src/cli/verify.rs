//! `vellum verify`: a document checked against the notary contract.

use super::{print, Bundled};
use anyhow::Context as _;
use serde_json::json;
use sha3::Digest as _;
use std::path::PathBuf;
use vellum_types::hex;

/// Arguments of `vellum verify`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    bundled: Bundled,
    /// The document.
    file: PathBuf,
}

/// Hash the file (SHA3-256) and ask the notary about it.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let (client, address) = args.bundled.connect("notary").await?;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let hash = hex(&sha3::Sha3_256::digest(&bytes));
    eprintln!("{}: SHA3-256 {hash}", args.file.display());
    print(
        &client
            .query(&address, "verify", json!({"hash": hash}))
            .await?,
    );
    Ok(())
}

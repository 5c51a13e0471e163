//! `vellum private`: private data shared only among the organisations it concerns
//! (docs/rpc.md, "Private data").

use super::{print, Rpc};
use anyhow::{anyhow, bail, Context as _};
use jsonrpsee::rpc_params;
use serde_json::Value;
use std::path::PathBuf;
use vellum_client::{receipt_failure, Signer};
use vellum_types::{hex, private::salted_hash, unhex, unhex32, Action};

/// Arguments of `vellum private`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Hand a file to your organisation's node for a collection of organisations; prints its
    /// salted hash (what a transaction may carry) and salt.
    Put {
        #[command(flatten)]
        rpc: Rpc,
        /// Your member key file (its organisation must be in the collection).
        #[arg(long, env = "VELLUM_KEY")]
        key: PathBuf,
        /// An organisation of the collection (repeat it; include your own).
        #[arg(long = "org", required = true)]
        organisations: Vec<String>,
        /// Delete the payload everywhere after this many blocks.
        #[arg(long)]
        blocks_to_live: Option<u64>,
        /// The payload.
        file: PathBuf,
    },
    /// Read a payload back (members of the collection's organisations only).
    Get {
        #[command(flatten)]
        rpc: Rpc,
        /// Your member key file.
        #[arg(long, env = "VELLUM_KEY")]
        key: PathBuf,
        /// The salted hash.
        hash: String,
        /// Write the payload to this file instead of printing it as hex.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Purge a payload from every node that holds it, by transaction (the hash stays on chain).
    Purge {
        #[command(flatten)]
        rpc: Rpc,
        /// Your member key file (its organisation must be in the collection).
        #[arg(long, env = "VELLUM_KEY")]
        key: PathBuf,
        /// The salted hash.
        hash: String,
    },
    /// Compute a disclosed payload's salted hash offline, keccak256(salt ‖ payload), to compare
    /// with the one on chain.
    Hash {
        /// The salt, 0x + 64 hex digits.
        #[arg(long)]
        salt: String,
        /// The payload.
        file: PathBuf,
    },
}

fn read(file: &PathBuf) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))
}

/// Run the subcommand.
pub async fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Put {
            rpc,
            key,
            organisations,
            blocks_to_live,
            file,
        } => {
            let payload = read(&file)?;
            let client = rpc.connect_as(Some(&key)).await?;
            let put = client
                .call(
                    "vellum_putPrivate",
                    rpc_params![organisations, hex(&payload), blocks_to_live],
                )
                .await?;
            print(&put);
        }
        Command::Get {
            rpc,
            key,
            hash,
            out,
        } => {
            let client = rpc.connect_as(Some(&key)).await?;
            let mut record = client.call("vellum_getPrivate", rpc_params![hash]).await?;
            if let Some(out) = out {
                let payload = record
                    .get("payload")
                    .and_then(Value::as_str)
                    .and_then(unhex)
                    .ok_or_else(|| anyhow!("the node's answer has no payload"))?;
                std::fs::write(&out, payload)
                    .with_context(|| format!("cannot write {}", out.display()))?;
                if let Some(fields) = record.as_object_mut() {
                    fields.remove("payload");
                }
            }
            print(&record);
        }
        Command::Purge { rpc, key, hash } => {
            let hash =
                unhex32(&hash).ok_or_else(|| anyhow!("the hash must be 0x + 64 hex digits"))?;
            let client = rpc.connect().await?;
            let mut signer = Signer::load(&key, &client).await?;
            let purge = signer.sign(Action::PurgePrivate { hash });
            let receipt = client.submit_and_wait(&purge).await?;
            print(&receipt);
            if let Some(why) = receipt_failure(&receipt) {
                bail!("the purge failed: {why}");
            }
        }
        Command::Hash { salt, file } => {
            let salt =
                unhex32(&salt).ok_or_else(|| anyhow!("the salt must be 0x + 64 hex digits"))?;
            println!("{}", hex(&salted_hash(&salt, &read(&file)?)));
        }
    }
    Ok(())
}

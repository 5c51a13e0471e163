//! `vellum proof`: fetch a receipt proof from a node, and check one offline against genesis.

use super::{print, Rpc};
use anyhow::Context as _;
use serde_json::{json, Value};
use std::path::PathBuf;
use vellum_types::{
    hex,
    proof::{ReceiptProof, Validators},
    unhex32, Genesis, Status,
};

/// Arguments of `vellum proof`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Fetch the proof that a committed transaction's receipt is in a finalized block, and
    /// save it (the bundle `docs/proofs.md` specifies).
    ///
    /// Example:
    ///
    ///   vellum proof receipt 0x5c1e...9a --out anchor.proof
    #[command(verbatim_doc_comment)]
    Receipt {
        #[command(flatten)]
        rpc: Rpc,
        /// The transaction hash.
        hash: String,
        /// Where to save the bundle.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a saved proof against a genesis file alone (no node), and print what it proves.
    ///
    /// Exits 0 if the proof holds, 2 if it does not.
    ///
    /// Example:
    ///
    ///   vellum proof check anchor.proof --genesis devnet/genesis.json
    #[command(verbatim_doc_comment)]
    Check {
        /// The bundle `vellum proof receipt` saved.
        file: PathBuf,
        /// The network's genesis file: it names the validators whose signatures count.
        #[arg(long)]
        genesis: PathBuf,
    },
}

/// Run `vellum proof`.
pub async fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Receipt { rpc, hash, out } => {
            let hash = unhex32(&hash).context("the hash must be 0x and 64 hex digits")?;
            let client = rpc.connect().await?;
            let proof = client.receipt_proof(&hash).await?;
            std::fs::write(&out, proof.to_bytes())
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "saved the proof of {} (block {}, certified at {}) to {}",
                hex(&hash),
                proof.finality.headers.first().map_or(0, |h| h.height),
                proof.finality.headers.last().map_or(0, |h| h.height),
                out.display()
            );
            Ok(())
        }
        Command::Check { file, genesis } => {
            let text = std::fs::read_to_string(&genesis)
                .with_context(|| format!("cannot read {}", genesis.display()))?;
            let genesis = Genesis::from_json(&text)?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            print(&check(&genesis, &bytes)?);
            Ok(())
        }
    }
}

/// Check `bundle` against `genesis`: what it proves, as JSON.
pub fn check(genesis: &Genesis, bundle: &[u8]) -> anyhow::Result<Value> {
    let validators = Validators::from_genesis(genesis)?;
    let proof = ReceiptProof::from_bytes(bundle)?;
    let finalized = proof
        .check(&validators)
        .context("the proof does not hold: do not trust this receipt")?;
    let receipt = &proof.receipt;
    let status = match &receipt.status {
        Status::Success => json!("success"),
        Status::ContractError { code, message } => {
            json!({"contract_error": {"code": code, "message": message}})
        }
        Status::Trap(text) => json!({"trap": text}),
        Status::OutOfFuel => json!("out_of_fuel"),
        Status::Refused(text) => json!({"refused": text}),
    };
    Ok(json!({
        "proven": true,
        "chain_id": genesis.chain_id,
        "transaction": hex(&receipt.transaction),
        "height": finalized.header.height,
        "index": proof.position,
        "block_time_ms": finalized.header.time_ms,
        "block_hash": hex(&finalized.header.hash()),
        "certified_height": finalized.certified_height,
        "signers": format!("{} of {} validators", finalized.signers, finalized.validators),
        "status": status,
        "fuel_used": receipt.fuel_used,
        "output": String::from_utf8_lossy(&receipt.output),
        "events": receipt.events.iter().map(|e| json!({
            "contract": hex(&e.contract),
            "topic": String::from_utf8_lossy(&e.topic),
            "data": String::from_utf8_lossy(&e.data),
        })).collect::<Vec<_>>(),
    }))
}

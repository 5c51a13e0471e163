//! `vellum proof`: fetch a receipt or state proof from a node, and check one offline against
//! genesis.

use super::{print, Rpc};
use anyhow::Context as _;
use serde_json::{json, Value};
use std::path::PathBuf;
use vellum_types::{
    hex,
    proof::{ReceiptProof, Validators},
    state::StateProof,
    unhex, unhex32, Genesis, Status,
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
    /// Fetch the proof of a key's value (or its absence) in a contract's state after the newest
    /// block the node can prove, and save it (the bundle `docs/proofs.md` specifies).
    ///
    /// Examples:
    ///
    ///   vellum proof state 0x3f0c...e1 0x09646f63756d656e7473... --out record.proof
    ///   vellum proof state 0x0000...00 0x6e6f6e63652f... --out nonce.proof   # ledger records
    #[command(verbatim_doc_comment, alias = "get")]
    State {
        #[command(flatten)]
        rpc: Rpc,
        /// The contract's address (32 zero bytes: the ledger's own records).
        contract: String,
        /// The key within the contract's state: 0x and hex digits, or text taken as its bytes.
        key: String,
        /// Where to save the bundle.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a saved proof (receipt or state) against a genesis file alone (no node), and print
    /// what it proves.
    ///
    /// Exits 0 if the proof holds, 2 if it does not.
    ///
    /// Example:
    ///
    ///   vellum proof check anchor.proof --genesis devnet/genesis.json
    #[command(verbatim_doc_comment)]
    Check {
        /// The bundle `vellum proof receipt` or `vellum proof state` saved.
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
        Command::State {
            rpc,
            contract,
            key,
            out,
        } => {
            let namespace =
                unhex32(&contract).context("the contract must be 0x and 64 hex digits")?;
            let key = unhex(&key).unwrap_or_else(|| key.into_bytes());
            let client = rpc.connect().await?;
            let proof = client.state_proof(&namespace, &key).await?;
            std::fs::write(&out, proof.to_bytes())
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "saved the proof of key {} ({}) after block {} (certified at {}) to {}",
                hex(&key),
                if proof.value.is_some() {
                    "present"
                } else {
                    "absent"
                },
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

/// Check `bundle` (a receipt or a state proof) against `genesis`: what it proves, as JSON.
pub fn check(genesis: &Genesis, bundle: &[u8]) -> anyhow::Result<Value> {
    let validators = Validators::from_genesis(genesis)?;
    // Each kind decodes only from exactly its own bytes.
    if let Ok(proof) = StateProof::from_bytes(bundle) {
        return check_state(genesis, &validators, &proof);
    }
    let proof = ReceiptProof::from_bytes(bundle)
        .context("the file is neither a receipt proof nor a state proof")?;
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

/// Check a state proof: the key's value (or absence) after a finalized block, as JSON.
pub fn check_state(
    genesis: &Genesis,
    validators: &Validators,
    proof: &StateProof,
) -> anyhow::Result<Value> {
    let finalized = proof
        .check(validators)
        .context("the proof does not hold: do not trust this value")?;
    Ok(json!({
        "proven": true,
        "chain_id": genesis.chain_id,
        "contract": hex(&proof.namespace),
        "key": hex(&proof.key),
        "value": proof.value.as_deref().map(hex),
        "value_text": proof.value.as_deref().map(String::from_utf8_lossy),
        "present": proof.value.is_some(),
        "height": finalized.header.height,
        "block_time_ms": finalized.header.time_ms,
        "block_hash": hex(&finalized.header.hash()),
        "state_root": hex(&finalized.header.state_root),
        "certified_height": finalized.certified_height,
        "signers": format!("{} of {} validators", finalized.signers, finalized.validators),
    }))
}

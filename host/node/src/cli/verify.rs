//! `vellum verify`: a document checked against the notary contract, by asking a node or, with
//! `--offline`, from a saved proof and the genesis file alone.

use super::{print, Bundled};
use anyhow::{bail, Context as _};
use serde_json::{json, Value};
use sha3::Digest as _;
use std::path::PathBuf;
use vellum_notary::{Document, Status};
use vellum_types::{hex, proof::Validators, state::StateProof, Genesis};

/// The notary contract's map of documents (`Map::new("documents")` in `contracts/notary`): a
/// document's record is at this prefix followed by the document's SHA3-256.
const DOCUMENTS: &[u8] = b"\x09documents";

/// Arguments of `vellum verify`.
///
/// Examples:
///
///   vellum verify contract.pdf                                 # ask the devnet's notary
///   vellum verify contract.pdf --save-proof contract.proof     # ... and keep a proof
///   vellum verify contract.pdf --offline --proof contract.proof --genesis vellum-devnet/genesis.json
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    bundled: Bundled,
    /// The document.
    file: PathBuf,
    /// Also fetch the proof of the document's record (or of its absence) and save it here, to
    /// check later with --offline, without a node.
    #[arg(long, value_name = "BUNDLE", conflicts_with = "offline")]
    save_proof: Option<PathBuf>,
    /// Ask no node: check the saved --proof against --genesis alone.
    #[arg(long, requires_all = ["proof", "genesis"])]
    offline: bool,
    /// The proof bundle --save-proof (or `vellum proof state`) saved.
    #[arg(long, value_name = "BUNDLE")]
    proof: Option<PathBuf>,
    /// The network's genesis file: it names the validators whose signatures count.
    #[arg(long)]
    genesis: Option<PathBuf>,
}

/// Hash the file (SHA3-256) and ask the notary about it, or check a saved proof about it.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let digest: [u8; 32] = sha3::Sha3_256::digest(&bytes).into();
    eprintln!("{}: SHA3-256 {}", args.file.display(), hex(&digest));
    if args.offline {
        let (Some(proof), Some(genesis)) = (&args.proof, &args.genesis) else {
            bail!("--offline needs --proof BUNDLE and --genesis FILE");
        };
        let text = std::fs::read_to_string(genesis)
            .with_context(|| format!("cannot read {}", genesis.display()))?;
        let genesis = Genesis::from_json(&text)?;
        let bundle =
            std::fs::read(proof).with_context(|| format!("cannot read {}", proof.display()))?;
        // The notary named by --contract or the devnet directory, if either is at hand.
        let notary = args.bundled.contract("notary").ok();
        let verdict = check_offline(&genesis, &bundle, &digest, notary.as_ref())?;
        eprintln!("{}", verdict["summary"].as_str().unwrap_or_default());
        print(&verdict);
        return Ok(());
    }
    let (client, address) = args.bundled.connect("notary").await?;
    print(
        &client
            .query(&address, "verify", json!({"hash": hex(&digest)}))
            .await?,
    );
    if let Some(out) = &args.save_proof {
        let proof = client.state_proof(&address, &record_key(&digest)).await?;
        std::fs::write(out, proof.to_bytes())
            .with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!(
            "saved the proof of its record after block {} to {}",
            proof.finality.headers.first().map_or(0, |h| h.height),
            out.display()
        );
    }
    Ok(())
}

/// Where the notary keeps the record of the document whose SHA3-256 is `digest`.
fn record_key(digest: &[u8; 32]) -> Vec<u8> {
    [DOCUMENTS, digest.as_slice()].concat()
}

/// Check `bundle` against `genesis` as the proof of the notary's record of the document whose
/// SHA3-256 is `digest` (in the contract `notary`, if given): the verdict, as JSON.
pub fn check_offline(
    genesis: &Genesis,
    bundle: &[u8],
    digest: &[u8; 32],
    notary: Option<&[u8; 32]>,
) -> anyhow::Result<Value> {
    let proof = StateProof::from_bytes(bundle).context("the bundle is not a state proof")?;
    if proof.key != record_key(digest) {
        bail!("the proof is about another key than this document's record: it proves nothing about this document");
    }
    if let Some(notary) = notary.filter(|n| **n != proof.namespace) {
        bail!(
            "the proof is about contract {}, not the notary {}",
            hex(&proof.namespace),
            hex(notary)
        );
    }
    let finalized = proof
        .check(&Validators::from_genesis(genesis)?)
        .context("the proof does not hold: do not trust it")?;
    let height = finalized.header.height;
    let signers = format!(
        "{} of {} validators",
        finalized.signers, finalized.validators
    );
    let Some(value) = &proof.value else {
        return Ok(json!({
            "proven": true,
            "verdict": "unknown",
            "summary": format!("not anchored as of height {height}"),
            "document": hex(digest),
            "contract": hex(&proof.namespace),
            "as_of_height": height,
            "signers": signers,
        }));
    };
    let record: Document = vellum_sdk::storage::decode(value)
        .map_err(|e| anyhow::anyhow!("the proven value is not a notary's record: {e}"))?;
    let anchored = record.anchored_at_height;
    let by = record.notary.to_string();
    let (status, summary) = match &record.status {
        Status::Valid => (
            "valid",
            format!("anchored at height {anchored} by notary {by}; valid as of height {height}"),
        ),
        Status::Revoked { reason, at_ms } => (
            "revoked",
            format!(
                "anchored at height {anchored} by notary {by}; revoked at {at_ms} ms ({reason}), as of height {height}"
            ),
        ),
        Status::Superseded { .. } => (
            "superseded",
            format!("anchored at height {anchored} by notary {by}; superseded as of height {height}"),
        ),
    };
    let record = serde_json::to_value(&record)?;
    Ok(json!({
        "proven": true,
        "verdict": status,
        "summary": summary,
        "document": hex(digest),
        "contract": hex(&proof.namespace),
        "anchored_at_height": anchored,
        "notary": by,
        "as_of_height": height,
        "record": record,
        "signers": signers,
    }))
}

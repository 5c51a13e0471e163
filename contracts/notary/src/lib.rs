//! Notarization of documents by hash (the consular-documents pattern on Fabric).
//!
//! Authorized notaries anchor the SHA3-256 hash of a document with its type and issuer; the chain
//! records who anchored it and when (block time). Anyone can verify a document by its hash and
//! learn whether it is valid, revoked (with the reason), superseded (by which version) or unknown.
//! No document content is ever on chain: only hashes and the metadata the notary chose to record.
#![no_std]

extern crate alloc;

use alloc::string::String;
use serde::{Deserialize, Serialize};
use vellum_sdk::{contract, ensure, env, Address, ContractError, Event, Hash, Item, Map, Result};

/// The contract type.
pub struct Notary;

/// Where a document stands. In JSON (results, events) it is tagged inside the object:
/// `{"status": "valid"}`, `{"status": "revoked", "reason": ..., "at_ms": ...}`,
/// `{"status": "superseded", "by": ..., "at_ms": ...}`. Stored, where the encoding is not
/// self-describing and so cannot read a tag inside, it is a plain enum (see `vellum_sdk::storage`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Anchored and in force.
    Valid,
    /// Withdrawn, with the notary's reason.
    Revoked {
        /// Why.
        reason: String,
        /// Block time of the revocation (ms).
        at_ms: u64,
    },
    /// Replaced by a newer version.
    Superseded {
        /// Hash of the new version.
        by: Hash,
        /// Block time of the replacement (ms).
        at_ms: u64,
    },
}

/// `Status` as JSON shows it.
#[derive(Serialize, Deserialize)]
#[serde(remote = "Status", rename_all = "snake_case", tag = "status")]
enum Tagged {
    Valid,
    Revoked { reason: String, at_ms: u64 },
    Superseded { by: Hash, at_ms: u64 },
}

/// `Status` as storage holds it.
#[derive(Serialize, Deserialize)]
#[serde(remote = "Status")]
enum Stored {
    Valid,
    Revoked { reason: String, at_ms: u64 },
    Superseded { by: Hash, at_ms: u64 },
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> core::result::Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            Tagged::serialize(self, serializer)
        } else {
            Stored::serialize(self, serializer)
        }
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> core::result::Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            Tagged::deserialize(deserializer)
        } else {
            Stored::deserialize(deserializer)
        }
    }
}

/// The record of an anchored document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// SHA3-256 of the document's bytes.
    pub hash: Hash,
    /// Kind of document, e.g. `"birth certificate"`.
    pub doc_type: String,
    /// Who issued the document, e.g. `"Consulate General, Lyon"`.
    pub issuer: String,
    /// The notary that anchored it.
    pub notary: Address,
    /// Block time of anchoring (ms).
    pub anchored_at_ms: u64,
    /// Block height of anchoring.
    pub anchored_at_height: u64,
    /// The version it replaced, if any.
    pub supersedes: Option<Hash>,
    /// Where it stands now.
    pub status: Status,
}

/// The answer to a verification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// `valid`, `revoked`, `superseded` or `unknown`.
    pub verdict: String,
    /// The record, unless unknown.
    pub document: Option<Document>,
}

/// The contract's errors, each with its stable code.
#[derive(Debug, ContractError)]
pub enum NotaryError {
    /// Managing notaries is the admin's.
    #[error(100, "only the admin manages notaries")]
    NotAdmin,
    /// Anchoring is for authorized notaries.
    #[error(101, "{0} is not an authorized notary")]
    NotANotary(Address),
    /// A document's status changes only by its notary or the admin.
    #[error(102, "only the anchoring notary or the admin may amend a document")]
    MayNotAmend,
    /// No document has this hash.
    #[error(103, "no document with hash {0}")]
    NoDocument(Hash),
    /// `remove_notary` of an address that is not one.
    #[error(104, "{0} is not a notary")]
    NoSuchNotary(Address),
    /// A text field is empty or too long.
    #[error(105, "{0} must be 1 to {TEXT_BYTES_MAX} bytes")]
    BadText(&'static str),
    /// The document was revoked or superseded.
    #[error(106, "document {0} is no longer valid")]
    NoLongerValid(Hash),
    /// The hash is anchored already.
    #[error(107, "document {0} is already anchored")]
    AlreadyAnchored(Hash),
}

/// A document was anchored: its record.
#[derive(Serialize, Event)]
pub struct Anchored<'a>(pub &'a Document);

/// A notary was authorized: `[notary, name]`.
#[derive(Serialize, Event)]
pub struct NotaryAdded<'a>(pub Address, pub &'a str);

/// A notary's authorization was withdrawn: its address.
#[derive(Serialize, Event)]
pub struct NotaryRemoved(pub Address);

/// A document was revoked: its record, revocation included.
#[derive(Serialize, Event)]
pub struct Revoked<'a>(pub &'a Document);

/// A document was replaced: `[old, new]`.
#[derive(Serialize, Event)]
pub struct Superseded(pub Hash, pub Hash);

const ADMIN: Item<Address> = Item::new("admin");
const NOTARIES: Map<Address, String> = Map::new("notaries");
const DOCUMENTS: Map<Hash, Document> = Map::new("documents");

/// Longest accepted `doc_type`, `issuer` or revocation reason, in bytes.
pub const TEXT_BYTES_MAX: usize = 256;

fn ensure_text(what: &'static str, text: &str) -> Result<()> {
    ensure!(
        !text.is_empty() && text.len() <= TEXT_BYTES_MAX,
        NotaryError::BadText(what)
    );
    Ok(())
}

fn ensure_admin() -> Result<()> {
    ensure!(env::caller() == ADMIN.get()?, NotaryError::NotAdmin);
    Ok(())
}

fn ensure_notary() -> Result<Address> {
    let caller = env::caller();
    ensure!(NOTARIES.has(&caller), NotaryError::NotANotary(caller));
    Ok(caller)
}

fn load_document(hash: Hash) -> Result<Document> {
    Ok(DOCUMENTS
        .load(&hash)?
        .ok_or(NotaryError::NoDocument(hash))?)
}

/// The anchoring notary or the admin may change a document's status.
fn ensure_may_amend(document: &Document) -> Result<()> {
    let caller = env::caller();
    ensure!(
        caller == document.notary || caller == ADMIN.get()?,
        NotaryError::MayNotAmend
    );
    ensure!(
        document.status == Status::Valid,
        NotaryError::NoLongerValid(document.hash)
    );
    Ok(())
}

fn anchor_new(
    hash: Hash,
    doc_type: String,
    issuer: String,
    supersedes: Option<Hash>,
) -> Result<Document> {
    let notary = ensure_notary()?;
    ensure_text("doc_type", &doc_type)?;
    ensure_text("issuer", &issuer)?;
    ensure!(!DOCUMENTS.has(&hash), NotaryError::AlreadyAnchored(hash));
    let document = Document {
        hash,
        doc_type,
        issuer,
        notary,
        anchored_at_ms: env::block_time_ms(),
        anchored_at_height: env::block_height(),
        supersedes,
        status: Status::Valid,
    };
    DOCUMENTS.save(&hash, &document);
    Anchored(&document).emit();
    Ok(document)
}

#[contract]
impl Notary {
    /// The deployer becomes the admin, who authorizes notaries.
    #[instantiate]
    pub fn instantiate() -> Result<()> {
        ADMIN.save(&env::caller());
        Ok(())
    }

    /// Authorize `notary` under a display `name` (admin only).
    #[execute]
    pub fn add_notary(notary: Address, name: String) -> Result<()> {
        ensure_admin()?;
        ensure_text("name", &name)?;
        NOTARIES.save(&notary, &name);
        NotaryAdded(notary, &name).emit();
        Ok(())
    }

    /// Withdraw `notary`'s authorization (admin only). Documents it anchored stay as they are.
    #[execute]
    pub fn remove_notary(notary: Address) -> Result<()> {
        ensure_admin()?;
        ensure!(NOTARIES.has(&notary), NotaryError::NoSuchNotary(notary));
        NOTARIES.remove(&notary);
        NotaryRemoved(notary).emit();
        Ok(())
    }

    /// Anchor a document by its SHA3-256 `hash` (notaries only).
    #[execute]
    pub fn anchor(hash: Hash, doc_type: String, issuer: String) -> Result<Document> {
        anchor_new(hash, doc_type, issuer, None)
    }

    /// Revoke the document `hash` with a `reason` (its notary or the admin).
    #[execute]
    pub fn revoke(hash: Hash, reason: String) -> Result<()> {
        let mut document = load_document(hash)?;
        ensure_may_amend(&document)?;
        ensure_text("reason", &reason)?;
        document.status = Status::Revoked {
            reason,
            at_ms: env::block_time_ms(),
        };
        DOCUMENTS.save(&hash, &document);
        Revoked(&document).emit();
        Ok(())
    }

    /// Replace document `old` by a new version `new`, anchored with the same type and issuer unless
    /// given (its notary or the admin, who must also be a notary to anchor).
    #[execute]
    pub fn supersede(
        old: Hash,
        new: Hash,
        doc_type: Option<String>,
        issuer: Option<String>,
    ) -> Result<Document> {
        let mut previous = load_document(old)?;
        ensure_may_amend(&previous)?;
        let doc_type = doc_type.unwrap_or_else(|| previous.doc_type.clone());
        let issuer = issuer.unwrap_or_else(|| previous.issuer.clone());
        let document = anchor_new(new, doc_type, issuer, Some(old))?;
        previous.status = Status::Superseded {
            by: new,
            at_ms: env::block_time_ms(),
        };
        DOCUMENTS.save(&old, &previous);
        Superseded(old, new).emit();
        Ok(document)
    }

    /// Verify a document by its hash.
    #[query]
    pub fn verify(hash: Hash) -> Result<Verification> {
        let document = DOCUMENTS.load(&hash)?;
        let verdict = match &document {
            None => "unknown",
            Some(d) => match d.status {
                Status::Valid => "valid",
                Status::Revoked { .. } => "revoked",
                Status::Superseded { .. } => "superseded",
            },
        };
        Ok(Verification {
            verdict: String::from(verdict),
            document,
        })
    }

    /// Whether `notary` is authorized, and its name.
    #[query]
    pub fn notary(notary: Address) -> Result<Option<String>> {
        NOTARIES.load(&notary)
    }
}

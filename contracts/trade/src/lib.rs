//! Trade finance: a shipment and its documents, between an exporter, an importer, their banks,
//! a carrier and customs.
//!
//! The exporter opens a shipment naming every party. The importer's bank issues a letter of
//! credit that names the documents payment waits for. Each document is submitted by the party
//! that issues it (the invoice by the exporter, the bill of lading by the carrier, the customs
//! declaration by the importer, ...) and examined by the party that checks it (customs for the
//! customs declaration, the importer's bank for the rest), which accepts or rejects it; a
//! rejected document may be submitted again. The importer's bank releases payment to the
//! exporter's bank once every document the letter of credit names is accepted.
//!
//! The contract never sees a document's content: each document (the letter of credit
//! included) is private data of the organisations it concerns (`vellum_putPrivate` on the
//! node), and the contract records only its salted hash, its issuer, the collection's
//! organisations and its status. Anyone later shown a document and its salt can check it
//! against the hash recorded here. The contract's two queries answer members only; its
//! storage, events and transaction arguments (parties, hashes, amounts, statuses) follow the
//! node's read policy.
#![no_std]

extern crate alloc;

use alloc::{string::String, vec::Vec};
use serde::{Deserialize, Serialize};
use vellum_sdk::{contract, ensure, env, Address, ContractError, Event, Hash, Map, Result};

/// The contract type.
pub struct Trade;

/// Longest shipment id, in bytes.
pub const ID_BYTES_MAX: usize = 64;
/// Longest description of the goods, or reason for a rejection, in bytes.
pub const TEXT_BYTES_MAX: usize = 256;
/// Most organisations a document's collection names (as the node's private data does).
pub const ORGANISATIONS_MAX: usize = 32;
/// Longest organisation name, in bytes.
pub const ORGANISATION_BYTES_MAX: usize = 128;

/// A party to a shipment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sells and ships the goods; opens the shipment.
    Exporter,
    /// Buys them.
    Importer,
    /// The exporter's bank: is paid under the letter of credit.
    ExporterBank,
    /// The importer's bank: issues the letter of credit, examines documents, pays.
    ImporterBank,
    /// Carries the goods; issues the bill of lading.
    Carrier,
    /// Clears the goods: examines the customs declaration.
    Customs,
}

/// A shipping document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The commercial invoice (the exporter's).
    Invoice,
    /// The packing list (the exporter's).
    PackingList,
    /// The certificate of origin (the exporter's).
    CertificateOfOrigin,
    /// The insurance certificate (the exporter's).
    Insurance,
    /// The bill of lading (the carrier's).
    BillOfLading,
    /// The import customs declaration (the importer's; customs examine it).
    CustomsDeclaration,
}

impl Kind {
    /// Who submits it.
    pub fn issuer(self) -> Role {
        match self {
            Kind::BillOfLading => Role::Carrier,
            Kind::CustomsDeclaration => Role::Importer,
            _ => Role::Exporter,
        }
    }

    /// Who accepts or rejects it.
    pub fn examiner(self) -> Role {
        match self {
            Kind::CustomsDeclaration => Role::Customs,
            _ => Role::ImporterBank,
        }
    }
}

/// Where a document stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    /// Waiting for its examiner.
    Submitted,
    /// Its examiner found it in order.
    Accepted,
    /// Its examiner refused it; its issuer may submit another.
    Rejected {
        /// Why.
        reason: String,
    },
}

/// A document as the chain knows it: never its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Which document.
    pub kind: Kind,
    /// The salted hash of its content, private data of `organisations`.
    pub hash: Hash,
    /// Who submitted it.
    pub issuer: Address,
    /// The organisations whose nodes hold its content.
    pub organisations: Vec<String>,
    /// Where it stands.
    pub status: DocumentStatus,
    /// The block it was submitted in.
    pub submitted_at: u64,
}

/// The letter of credit: the importer's bank's promise to pay against documents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    /// The salted hash of its text, private data of `organisations`.
    pub hash: Hash,
    /// The organisations whose nodes hold its text.
    pub organisations: Vec<String>,
    /// How much it pays, in the currency's smallest unit.
    pub amount: u128,
    /// Its currency (ISO 4217, e.g. `EUR`).
    pub currency: String,
    /// The documents payment waits for, sorted.
    pub required: Vec<Kind>,
}

/// Where a shipment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    /// Opened; no letter of credit yet.
    Open,
    /// The letter of credit is issued; documents are coming in.
    Credited,
    /// Payment was released: the shipment is closed.
    Paid,
}

/// A shipment and its documents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// Its id.
    pub id: String,
    /// What is shipped.
    pub goods: String,
    /// The exporter.
    pub exporter: Address,
    /// The importer.
    pub importer: Address,
    /// The exporter's bank.
    pub exporter_bank: Address,
    /// The importer's bank.
    pub importer_bank: Address,
    /// The carrier.
    pub carrier: Address,
    /// Customs.
    pub customs: Address,
    /// Where it stands.
    pub status: ShipmentStatus,
    /// The letter of credit, once issued.
    pub credit: Option<Credit>,
    /// Its documents, at most one of each kind (the latest submitted), in kind order.
    pub documents: Vec<Document>,
}

impl Shipment {
    fn party(&self, role: Role) -> Address {
        match role {
            Role::Exporter => self.exporter,
            Role::Importer => self.importer,
            Role::ExporterBank => self.exporter_bank,
            Role::ImporterBank => self.importer_bank,
            Role::Carrier => self.carrier,
            Role::Customs => self.customs,
        }
    }

    fn document(&mut self, kind: Kind) -> Option<&mut Document> {
        self.documents.iter_mut().find(|d| d.kind == kind)
    }

    /// The documents the letter of credit names that are not accepted yet.
    fn missing(&self) -> Vec<Kind> {
        let Some(credit) = &self.credit else {
            return Vec::new();
        };
        credit
            .required
            .iter()
            .copied()
            .filter(|kind| {
                !self
                    .documents
                    .iter()
                    .any(|d| d.kind == *kind && d.status == DocumentStatus::Accepted)
            })
            .collect()
    }
}

/// The contract's errors, each with its stable code.
#[derive(Debug, ContractError)]
pub enum TradeError {
    /// No shipment has this id.
    #[error(100, "no shipment `{0}`")]
    NoShipment(String),
    /// `open_shipment` with an id in use.
    #[error(101, "shipment `{0}` already exists")]
    ShipmentExists(String),
    /// The caller is not the party this needs.
    #[error(102, "only the shipment's {0:?} may do this")]
    NotAllowed(Role),
    /// A text out of its bounds.
    #[error(103, "`{0}` must be 1 to {1} bytes")]
    BadText(String, u64),
    /// A collection out of its bounds.
    #[error(
        104,
        "a document's organisations are 1 to {ORGANISATIONS_MAX} names of 1 to \
         {ORGANISATION_BYTES_MAX} bytes"
    )]
    BadOrganisations,
    /// `issue_credit` twice.
    #[error(105, "shipment `{0}` has its letter of credit already")]
    CreditIssued(String),
    /// A document before the letter of credit, or a credit of nothing.
    #[error(106, "shipment `{0}` has no letter of credit yet")]
    NoCredit(String),
    /// `issue_credit` for 0, or naming no document.
    #[error(
        107,
        "a letter of credit pays a positive amount against at least one document"
    )]
    EmptyCredit,
    /// Examining a document never submitted.
    #[error(108, "shipment `{0}` has no {1:?}")]
    NoDocument(String, Kind),
    /// Submitting or examining a document already accepted.
    #[error(109, "the {1:?} of shipment `{0}` is accepted already")]
    DocumentAccepted(String, Kind),
    /// Releasing payment before every required document is accepted.
    #[error(110, "payment of shipment `{0}` waits for: {1:?}")]
    DocumentsMissing(String, Vec<Kind>),
    /// Anything after payment.
    #[error(111, "shipment `{0}` is paid and closed")]
    Closed(String),
    /// Two parties with one address.
    #[error(112, "every party of a shipment must be a different address")]
    PartyTwice,
    /// Examining a document by a hash that is not the one submitted (it was replaced since).
    #[error(113, "the {1:?} of shipment `{0}` is {2}, not the document examined")]
    NotTheExamined(String, Kind, Hash),
    /// Examining a rejected document before its issuer submits it again.
    #[error(
        114,
        "the {1:?} of shipment `{0}` was rejected; its issuer must submit it again"
    )]
    DocumentRejected(String, Kind),
}

/// A shipment was opened: `[id, exporter, importer]`.
#[derive(Serialize, Event)]
pub struct ShipmentOpened<'a>(pub &'a str, pub Address, pub Address);

/// The letter of credit was issued: `[id, amount, currency, required]`.
#[derive(Serialize, Event)]
pub struct CreditIssued<'a>(pub &'a str, pub u128, pub &'a str, pub &'a [Kind]);

/// A document was submitted: `[id, kind, hash, issuer]`.
#[derive(Serialize, Event)]
pub struct DocumentSubmitted<'a>(pub &'a str, pub Kind, pub Hash, pub Address);

/// A document was accepted: `[id, kind]`.
#[derive(Serialize, Event)]
pub struct DocumentAccepted<'a>(pub &'a str, pub Kind);

/// A document was rejected: `[id, kind, reason]`.
#[derive(Serialize, Event)]
pub struct DocumentRejected<'a>(pub &'a str, pub Kind, pub &'a str);

/// Payment was released: `[id, amount, currency, exporter_bank]`.
#[derive(Serialize, Event)]
pub struct PaymentReleased<'a>(pub &'a str, pub u128, pub &'a str, pub Address);

const SHIPMENTS: Map<String, Shipment> = Map::new("shipments");

fn text(field: &str, value: &str, max: usize) -> Result<()> {
    ensure!(
        !value.is_empty() && value.len() <= max,
        TradeError::BadText(field.into(), max as u64)
    );
    Ok(())
}

/// A collection, sorted and without repeats, within its bounds.
fn collection(mut organisations: Vec<String>) -> Result<Vec<String>> {
    organisations.sort();
    organisations.dedup();
    ensure!(
        !organisations.is_empty()
            && organisations.len() <= ORGANISATIONS_MAX
            && organisations
                .iter()
                .all(|o| !o.is_empty() && o.len() <= ORGANISATION_BYTES_MAX),
        TradeError::BadOrganisations
    );
    Ok(organisations)
}

/// Whether no two of `parties` are equal. Every pair is compared in full, so the fuel it costs
/// is the same whatever the addresses (a sort, or a comparison that stops at the first
/// differing byte, would make a call's fuel depend on its caller's address).
fn distinct(parties: &[Address]) -> bool {
    let mut all = true;
    for (i, a) in parties.iter().enumerate() {
        for b in &parties[i + 1..] {
            let differ =
                a.0.iter()
                    .zip(b.0.iter())
                    .fold(0u8, |acc, (x, y)| acc | (x ^ y));
            all &= differ != 0;
        }
    }
    all
}

/// Shipment `id`, not yet paid, if the caller is its `role`.
fn shipment_as(id: &str, role: Role) -> Result<Shipment> {
    let shipment = SHIPMENTS
        .load(&String::from(id))?
        .ok_or_else(|| TradeError::NoShipment(id.into()))?;
    ensure!(
        shipment.status != ShipmentStatus::Paid,
        TradeError::Closed(id.into())
    );
    ensure!(
        env::caller() == shipment.party(role),
        TradeError::NotAllowed(role)
    );
    Ok(shipment)
}

/// The document `kind` of `shipment`, waiting for its examiner, if the caller is that examiner
/// and `hash` is the document it examined (an issuer may replace a submitted document; the
/// examiner decides on the one it read).
fn examined(id: &str, kind: Kind, hash: &Hash) -> Result<(Shipment, usize)> {
    let shipment = shipment_as(id, kind.examiner())?;
    let index = shipment
        .documents
        .iter()
        .position(|d| d.kind == kind)
        .ok_or_else(|| TradeError::NoDocument(id.into(), kind))?;
    let document = &shipment.documents[index];
    match document.status {
        DocumentStatus::Submitted => {}
        DocumentStatus::Accepted => {
            return Err(TradeError::DocumentAccepted(id.into(), kind).into())
        }
        DocumentStatus::Rejected { .. } => {
            return Err(TradeError::DocumentRejected(id.into(), kind).into())
        }
    }
    ensure!(
        document.hash == *hash,
        TradeError::NotTheExamined(id.into(), kind, document.hash)
    );
    Ok((shipment, index))
}

#[contract]
impl Trade {
    /// Nothing to set up.
    #[instantiate]
    pub fn instantiate() -> Result<()> {
        Ok(())
    }

    /// Open shipment `id` of `goods`, the caller as its exporter, naming every other party.
    #[execute]
    #[allow(clippy::too_many_arguments)]
    pub fn open_shipment(
        id: String,
        goods: String,
        importer: Address,
        exporter_bank: Address,
        importer_bank: Address,
        carrier: Address,
        customs: Address,
    ) -> Result<Shipment> {
        text("id", &id, ID_BYTES_MAX)?;
        text("goods", &goods, TEXT_BYTES_MAX)?;
        ensure!(!SHIPMENTS.has(&id), TradeError::ShipmentExists(id));
        let exporter = env::caller();
        let parties = [
            exporter,
            importer,
            exporter_bank,
            importer_bank,
            carrier,
            customs,
        ];
        ensure!(distinct(&parties), TradeError::PartyTwice);
        let shipment = Shipment {
            id: id.clone(),
            goods,
            exporter,
            importer,
            exporter_bank,
            importer_bank,
            carrier,
            customs,
            status: ShipmentStatus::Open,
            credit: None,
            documents: Vec::new(),
        };
        SHIPMENTS.save(&id, &shipment);
        ShipmentOpened(&id, exporter, importer).emit();
        Ok(shipment)
    }

    /// Issue the letter of credit of shipment `id` (its importer's bank): `amount` of
    /// `currency` against the `required` documents; `hash` is the salted hash of its text,
    /// private data of `organisations`.
    #[execute]
    pub fn issue_credit(
        id: String,
        hash: Hash,
        organisations: Vec<String>,
        amount: u128,
        currency: String,
        required: Vec<Kind>,
    ) -> Result<Credit> {
        let mut shipment = shipment_as(&id, Role::ImporterBank)?;
        ensure!(shipment.credit.is_none(), TradeError::CreditIssued(id));
        text("currency", &currency, 8)?;
        let mut required = required;
        required.sort();
        required.dedup();
        ensure!(amount > 0 && !required.is_empty(), TradeError::EmptyCredit);
        let credit = Credit {
            hash,
            organisations: collection(organisations)?,
            amount,
            currency,
            required,
        };
        CreditIssued(&id, credit.amount, &credit.currency, &credit.required).emit();
        shipment.credit = Some(credit.clone());
        shipment.status = ShipmentStatus::Credited;
        SHIPMENTS.save(&id, &shipment);
        Ok(credit)
    }

    /// Submit document `kind` of shipment `id` (its issuer: see [`Kind::issuer`]), replacing
    /// one not yet accepted; `hash` is the salted hash of its content, private data of
    /// `organisations`.
    #[execute]
    pub fn submit_document(
        id: String,
        kind: Kind,
        hash: Hash,
        organisations: Vec<String>,
    ) -> Result<Document> {
        let mut shipment = shipment_as(&id, kind.issuer())?;
        ensure!(shipment.credit.is_some(), TradeError::NoCredit(id));
        let document = Document {
            kind,
            hash,
            issuer: env::caller(),
            organisations: collection(organisations)?,
            status: DocumentStatus::Submitted,
            submitted_at: env::block_height(),
        };
        match shipment.document(kind) {
            Some(old) if old.status == DocumentStatus::Accepted => {
                return Err(TradeError::DocumentAccepted(id, kind).into());
            }
            Some(old) => *old = document.clone(),
            None => {
                shipment.documents.push(document.clone());
                shipment.documents.sort_by_key(|d| d.kind);
            }
        }
        DocumentSubmitted(&id, kind, hash, document.issuer).emit();
        SHIPMENTS.save(&id, &shipment);
        Ok(document)
    }

    /// Accept document `kind` of shipment `id` (its examiner: see [`Kind::examiner`]), the one
    /// with salted hash `hash`.
    #[execute]
    pub fn accept_document(id: String, kind: Kind, hash: Hash) -> Result<Document> {
        let (mut shipment, index) = examined(&id, kind, &hash)?;
        shipment.documents[index].status = DocumentStatus::Accepted;
        DocumentAccepted(&id, kind).emit();
        SHIPMENTS.save(&id, &shipment);
        Ok(shipment.documents.swap_remove(index))
    }

    /// Reject document `kind` of shipment `id`, the one with salted hash `hash`, for `reason`
    /// (its examiner); its issuer may submit another.
    #[execute]
    pub fn reject_document(id: String, kind: Kind, hash: Hash, reason: String) -> Result<Document> {
        text("reason", &reason, TEXT_BYTES_MAX)?;
        let (mut shipment, index) = examined(&id, kind, &hash)?;
        DocumentRejected(&id, kind, &reason).emit();
        shipment.documents[index].status = DocumentStatus::Rejected { reason };
        SHIPMENTS.save(&id, &shipment);
        Ok(shipment.documents.swap_remove(index))
    }

    /// Release payment of shipment `id` to its exporter's bank (its importer's bank), once
    /// every document the letter of credit names is accepted; the shipment closes.
    #[execute]
    pub fn release_payment(id: String) -> Result<Shipment> {
        let mut shipment = shipment_as(&id, Role::ImporterBank)?;
        let Some(credit) = &shipment.credit else {
            return Err(TradeError::NoCredit(id).into());
        };
        let missing = shipment.missing();
        ensure!(
            missing.is_empty(),
            TradeError::DocumentsMissing(id, missing)
        );
        PaymentReleased(&id, credit.amount, &credit.currency, shipment.exporter_bank).emit();
        shipment.status = ShipmentStatus::Paid;
        SHIPMENTS.save(&id, &shipment);
        Ok(shipment)
    }

    /// Shipment `id`: its parties, letter of credit and documents (hashes and statuses, never
    /// content). Members only.
    #[query(members)]
    pub fn shipment(id: String) -> Result<Shipment> {
        Ok(SHIPMENTS.load(&id)?.ok_or(TradeError::NoShipment(id))?)
    }

    /// The documents shipment `id`'s payment still waits for (empty before the letter of
    /// credit, and once all are accepted). Members only.
    #[query(members)]
    pub fn missing(id: String) -> Result<Vec<Kind>> {
        Ok(SHIPMENTS
            .load(&id)?
            .ok_or(TradeError::NoShipment(id))?
            .missing())
    }
}

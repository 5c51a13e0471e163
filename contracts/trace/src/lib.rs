//! Food traceability (the Walmart mango and pork pattern on Fabric).
//!
//! Registered parties (farms, packers, processors, distributors, retailers, inspectors) record the
//! life of lots of food: a farm creates a lot; custody passes from party to party; a processor
//! splits a lot into smaller ones or merges several into one; inspectors record results; a lot can
//! be recalled, which flags every lot made from it. `trace(lot)` answers, in one query, where a lot
//! came from and where it went: the whole upstream and downstream provenance graph, each lot with
//! its custody chain and inspections. Walmart's manual mango trace took almost 7 days; this is a
//! single read of the node's state.
#![no_std]

extern crate alloc;

use alloc::{collections::BTreeSet, collections::VecDeque, string::String, vec, vec::Vec};
use serde::{Deserialize, Serialize};
use vellum_sdk::{
    contract, ensure, env, env::Order, Address, ContractError, Event, Item, Map, Result,
};

/// The contract type.
pub struct Trace;

/// What a party does in the supply chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Grows food and creates lots.
    Farm,
    /// Packs and ships.
    Packer,
    /// Splits and merges lots.
    Processor,
    /// Moves lots between sites.
    Distributor,
    /// Sells to consumers.
    Retailer,
    /// Records inspections.
    Inspector,
}

/// A registered party.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// Its account.
    pub address: Address,
    /// Display name.
    pub name: String,
    /// Its role.
    pub role: Role,
}

/// A recall notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recall {
    /// The lot the recall was issued for (this lot or an ancestor).
    pub source: String,
    /// Why.
    pub reason: String,
    /// Block time (ms).
    pub at_ms: u64,
}

/// A lot of food.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lot {
    /// Identifier, unique on chain.
    pub id: String,
    /// What it is, e.g. `"Kent mangoes"`.
    pub product: String,
    /// How much is left in this lot.
    pub quantity: u64,
    /// Unit of `quantity`, e.g. `"kg"`.
    pub unit: String,
    /// The party that created it.
    pub origin: Address,
    /// The party that holds it now.
    pub owner: Address,
    /// Lots it was made from.
    pub parents: Vec<String>,
    /// Lots made from it.
    pub children: Vec<String>,
    /// False once wholly split or merged into other lots.
    pub active: bool,
    /// Set if this lot or an ancestor was recalled.
    pub recall: Option<Recall>,
    /// Block time of creation (ms).
    pub created_at_ms: u64,
    /// Custody handovers recorded.
    pub handovers: u32,
    /// Inspections recorded.
    pub inspections: u32,
}

/// A custody handover.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handover {
    /// Previous holder.
    pub from: Address,
    /// New holder.
    pub to: Address,
    /// Block time (ms).
    pub at_ms: u64,
    /// Block height.
    pub height: u64,
}

/// An inspection result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    /// The inspector.
    pub inspector: Address,
    /// Whether the lot passed.
    pub passed: bool,
    /// Notes.
    pub notes: String,
    /// Block time (ms).
    pub at_ms: u64,
}

/// A lot with its history, as `trace` returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotHistory {
    /// The lot.
    pub lot: Lot,
    /// Its custody chain, oldest first.
    pub custody: Vec<Handover>,
    /// Its inspections, oldest first.
    pub inspections: Vec<Inspection>,
}

/// The provenance graph around a lot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The lot asked about.
    pub lot: LotHistory,
    /// Every ancestor, nearest first.
    pub upstream: Vec<LotHistory>,
    /// Every descendant, nearest first.
    pub downstream: Vec<LotHistory>,
}

/// Most lots one `trace` or `recall` visits; beyond it the call fails rather than run unbounded.
pub const GRAPH_LOTS_MAX: usize = 512;
/// Most parts in one split or merge.
pub const PARTS_MAX: usize = 64;

/// The contract's errors, each with its stable code.
#[derive(Debug, ContractError)]
pub enum TraceError {
    /// Registering parties is the admin's.
    #[error(100, "only the admin registers parties")]
    NotAdmin,
    /// The caller is no registered party.
    #[error(101, "{0} is not a registered party")]
    NotAParty(Address),
    /// A handover to an address that is no registered party.
    #[error(102, "{0} is not a registered party to hand a lot to")]
    NoSuchParty(Address),
    /// The caller's role may not do this.
    #[error(103, "this needs a {needed:?}; {name} is a {role:?}")]
    WrongRole {
        /// The role it needs.
        needed: Role,
        /// The caller's name.
        name: String,
        /// The caller's role.
        role: Role,
    },
    /// Only the holder of a lot hands it over, splits or merges it.
    #[error(104, "{0} does not hold lot `{1}`")]
    NotTheHolder(Address, String),
    /// The lot was split or merged away.
    #[error(105, "lot `{0}` was split or merged away")]
    LotInactive(String),
    /// No lot has this id.
    #[error(106, "no lot `{0}`")]
    NoLot(String),
    /// A lot id is empty or too long.
    #[error(107, "lot ids are 1 to 64 bytes")]
    BadLotId,
    /// A lot with this id exists already.
    #[error(108, "lot `{0}` already exists")]
    LotExists(String),
    /// A party's name is empty or too long.
    #[error(109, "names are 1 to 128 bytes")]
    BadName,
    /// A lot or a part of nothing.
    #[error(110, "quantities must be positive")]
    ZeroQuantity,
    /// A handover to the holder itself.
    #[error(111, "cannot hand a lot to yourself")]
    HandoverToSelf,
    /// A split into no parts or too many.
    #[error(112, "a split makes 1 to {PARTS_MAX} parts")]
    SplitParts,
    /// A merge of fewer than two lots or too many.
    #[error(113, "a merge takes 2 to {PARTS_MAX} lots")]
    MergeLots,
    /// The same lot id twice in one split or merge.
    #[error(114, "lot `{0}` is listed twice")]
    ListedTwice(String),
    /// Quantities add up past the largest.
    #[error(115, "quantities overflow")]
    QuantityOverflow,
    /// A split of more than the lot holds.
    #[error(116, "parts total {total} {unit} but lot `{lot}` holds {held}")]
    SplitExceeds {
        /// What the parts add up to.
        total: u64,
        /// The lot's unit.
        unit: String,
        /// The lot split.
        lot: String,
        /// What it holds.
        held: u64,
    },
    /// Merged lots must share a unit.
    #[error(117, "merged lots must share a unit")]
    UnitsDiffer,
    /// Inspection notes are too long.
    #[error(118, "notes are at most 1024 bytes")]
    NotesTooLong,
    /// A recall by someone who may not.
    #[error(119, "only the admin, the lot's origin or an inspector may recall it")]
    MayNotRecall,
    /// A recall reason is empty or too long.
    #[error(120, "reasons are 1 to 256 bytes")]
    BadReason,
    /// A walk met more lots than [`GRAPH_LOTS_MAX`].
    #[error(121, "the graph around `{0}` exceeds {GRAPH_LOTS_MAX} lots")]
    GraphTooLarge(String),
}

/// A party was registered: its record.
#[derive(Serialize, Event)]
pub struct PartyRegistered<'a>(pub &'a Party);

/// A lot was created: its record.
#[derive(Serialize, Event)]
pub struct LotCreated<'a>(pub &'a Lot);

/// A lot changed hands: `[lot, from, to]`.
#[derive(Serialize, Event)]
pub struct HandedOver<'a>(pub &'a str, pub Address, pub Address);

/// A lot was split: `[lot, [[part, quantity], ...]]`.
#[derive(Serialize, Event)]
pub struct Split<'a>(pub &'a str, pub Vec<(&'a str, u64)>);

/// Lots were merged: `[[lot, ...], merged]`.
#[derive(Serialize, Event)]
pub struct Merged<'a>(pub &'a [String], pub &'a str);

/// A lot was inspected: `[lot, inspector, passed]`.
#[derive(Serialize, Event)]
pub struct Inspected<'a>(pub &'a str, pub Address, pub bool);

/// Lots were recalled: `[[lot, ...], recall]`, the source lot first.
#[derive(Serialize, Event)]
pub struct Recalled<'a>(pub &'a [String], pub &'a Recall);

const ADMIN: Item<Address> = Item::new("admin");
const PARTIES: Map<Address, Party> = Map::new("parties");
const LOTS: Map<String, Lot> = Map::new("lots");
const CUSTODY: Map<(String, u32), Handover> = Map::new("custody");
const INSPECTIONS: Map<(String, u32), Inspection> = Map::new("inspections");

fn load_lot(id: &str) -> Result<Lot> {
    Ok(LOTS
        .load(&String::from(id))?
        .ok_or_else(|| TraceError::NoLot(String::from(id)))?)
}

fn party(role: Option<Role>) -> Result<Address> {
    let caller = env::caller();
    let party = PARTIES
        .load(&caller)?
        .ok_or(TraceError::NotAParty(caller))?;
    if let Some(role) = role {
        ensure!(
            party.role == role,
            TraceError::WrongRole {
                needed: role,
                name: party.name,
                role: party.role,
            }
        );
    }
    Ok(caller)
}

/// The caller must be a party holding `lot`, which must still be active.
fn ensure_holder(lot: &Lot) -> Result<Address> {
    let caller = party(None)?;
    ensure!(
        caller == lot.owner,
        TraceError::NotTheHolder(caller, lot.id.clone())
    );
    ensure!(lot.active, TraceError::LotInactive(lot.id.clone()));
    Ok(caller)
}

fn ensure_new_id(id: &str) -> Result<()> {
    ensure!(!id.is_empty() && id.len() <= 64, TraceError::BadLotId);
    ensure!(
        !LOTS.has(&String::from(id)),
        TraceError::LotExists(String::from(id))
    );
    Ok(())
}

fn new_lot(
    id: String,
    product: String,
    quantity: u64,
    unit: String,
    owner: Address,
    parents: Vec<String>,
) -> Lot {
    Lot {
        id,
        product,
        quantity,
        unit,
        origin: owner,
        owner,
        parents,
        children: Vec::new(),
        active: true,
        recall: None,
        created_at_ms: env::block_time_ms(),
        handovers: 0,
        inspections: 0,
    }
}

fn history(lot: Lot) -> Result<LotHistory> {
    let custody = CUSTODY.prefix(&lot.id).entries(Order::Ascending)?;
    let inspections = INSPECTIONS.prefix(&lot.id).entries(Order::Ascending)?;
    Ok(LotHistory {
        lot,
        custody: custody.into_iter().map(|(_, h)| h).collect(),
        inspections: inspections.into_iter().map(|(_, i)| i).collect(),
    })
}

/// Breadth-first walk from `start` along `next` (parents or children), nearest first, without
/// `start` itself, bounded by [`GRAPH_LOTS_MAX`].
fn walk(start: &Lot, next: fn(&Lot) -> &Vec<String>) -> Result<Vec<Lot>> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    seen.insert(start.id.clone());
    let mut queue: VecDeque<String> = next(start).iter().cloned().collect();
    let mut found = Vec::new();
    while let Some(id) = queue.pop_front() {
        if !seen.insert(id.clone()) {
            continue;
        }
        ensure!(
            found.len() < GRAPH_LOTS_MAX,
            TraceError::GraphTooLarge(start.id.clone())
        );
        let lot = load_lot(&id)?;
        queue.extend(next(&lot).iter().cloned());
        found.push(lot);
    }
    Ok(found)
}

#[contract]
impl Trace {
    /// The deployer becomes the admin, who registers parties.
    #[instantiate]
    pub fn instantiate() -> Result<()> {
        ADMIN.save(&env::caller());
        Ok(())
    }

    /// Register `address` as a party (admin only).
    #[execute]
    pub fn register_party(address: Address, name: String, role: Role) -> Result<()> {
        ensure!(env::caller() == ADMIN.get()?, TraceError::NotAdmin);
        ensure!(!name.is_empty() && name.len() <= 128, TraceError::BadName);
        let party = Party {
            address,
            name,
            role,
        };
        PARTIES.save(&address, &party);
        PartyRegistered(&party).emit();
        Ok(())
    }

    /// Create a lot at its origin (farms only).
    #[execute]
    pub fn create_lot(id: String, product: String, quantity: u64, unit: String) -> Result<Lot> {
        let farm = party(Some(Role::Farm))?;
        ensure_new_id(&id)?;
        ensure!(quantity > 0, TraceError::ZeroQuantity);
        let lot = new_lot(id, product, quantity, unit, farm, Vec::new());
        LOTS.save(&lot.id, &lot);
        LotCreated(&lot).emit();
        Ok(lot)
    }

    /// Hand `lot` over to party `to` (the current holder only).
    #[execute]
    pub fn handover(lot: String, to: Address) -> Result<()> {
        let mut record = load_lot(&lot)?;
        let from = ensure_holder(&record)?;
        ensure!(PARTIES.has(&to), TraceError::NoSuchParty(to));
        ensure!(from != to, TraceError::HandoverToSelf);
        let handover = Handover {
            from,
            to,
            at_ms: env::block_time_ms(),
            height: env::block_height(),
        };
        CUSTODY.save(&(lot.clone(), record.handovers), &handover);
        record.handovers += 1;
        record.owner = to;
        LOTS.save(&lot, &record);
        HandedOver(&lot, from, to).emit();
        Ok(())
    }

    /// Split `quantity` out of `lot` into new lots `parts` (`[id, quantity]` each), held by the
    /// caller. A lot split down to nothing becomes inactive.
    #[execute]
    pub fn split(lot: String, parts: Vec<(String, u64)>) -> Result<Vec<Lot>> {
        let mut parent = load_lot(&lot)?;
        let holder = ensure_holder(&parent)?;
        ensure!(
            !parts.is_empty() && parts.len() <= PARTS_MAX,
            TraceError::SplitParts
        );
        let mut total: u64 = 0;
        let mut children = Vec::with_capacity(parts.len());
        for (id, quantity) in parts {
            ensure_new_id(&id)?;
            ensure!(
                children.iter().all(|c: &Lot| c.id != id),
                TraceError::ListedTwice(id)
            );
            ensure!(quantity > 0, TraceError::ZeroQuantity);
            total = total
                .checked_add(quantity)
                .ok_or(TraceError::QuantityOverflow)?;
            let mut child = new_lot(
                id,
                parent.product.clone(),
                quantity,
                parent.unit.clone(),
                holder,
                vec![lot.clone()],
            );
            child.recall = parent.recall.clone();
            children.push(child);
        }
        ensure!(
            total <= parent.quantity,
            TraceError::SplitExceeds {
                total,
                unit: parent.unit,
                lot,
                held: parent.quantity,
            }
        );
        parent.quantity -= total;
        parent.active = parent.quantity > 0;
        for child in &children {
            parent.children.push(child.id.clone());
            LOTS.save(&child.id, child);
        }
        LOTS.save(&lot, &parent);
        Split(
            &lot,
            children
                .iter()
                .map(|c| (c.id.as_str(), c.quantity))
                .collect(),
        )
        .emit();
        Ok(children)
    }

    /// Merge whole lots `lots` (same unit, all held by the caller) into a new lot `id`.
    #[execute]
    pub fn merge(lots: Vec<String>, id: String, product: String) -> Result<Lot> {
        ensure!(
            lots.len() >= 2 && lots.len() <= PARTS_MAX,
            TraceError::MergeLots
        );
        ensure_new_id(&id)?;
        let mut parents = Vec::with_capacity(lots.len());
        for lot_id in &lots {
            ensure!(
                parents.iter().all(|p: &Lot| &p.id != lot_id),
                TraceError::ListedTwice(lot_id.clone())
            );
            let lot = load_lot(lot_id)?;
            ensure_holder(&lot)?;
            parents.push(lot);
        }
        let unit = parents[0].unit.clone();
        ensure!(
            parents.iter().all(|p| p.unit == unit),
            TraceError::UnitsDiffer
        );
        let quantity = parents
            .iter()
            .try_fold(0u64, |sum, p| sum.checked_add(p.quantity))
            .ok_or(TraceError::QuantityOverflow)?;
        let mut merged = new_lot(id, product, quantity, unit, env::caller(), lots.clone());
        merged.recall = parents.iter().find_map(|p| p.recall.clone());
        for mut parent in parents {
            parent.children.push(merged.id.clone());
            parent.quantity = 0;
            parent.active = false;
            LOTS.save(&parent.id, &parent);
        }
        LOTS.save(&merged.id, &merged);
        Merged(&lots, &merged.id).emit();
        Ok(merged)
    }

    /// Record an inspection of `lot` (inspectors only).
    #[execute]
    pub fn inspect(lot: String, passed: bool, notes: String) -> Result<()> {
        let inspector = party(Some(Role::Inspector))?;
        let mut record = load_lot(&lot)?;
        ensure!(notes.len() <= 1024, TraceError::NotesTooLong);
        let inspection = Inspection {
            inspector,
            passed,
            notes,
            at_ms: env::block_time_ms(),
        };
        INSPECTIONS.save(&(lot.clone(), record.inspections), &inspection);
        record.inspections += 1;
        LOTS.save(&lot, &record);
        Inspected(&lot, inspector, passed).emit();
        Ok(())
    }

    /// Recall `lot` and every lot made from it (the admin, the lot's origin, or an inspector).
    /// Returns the ids recalled, the lot first.
    #[execute]
    pub fn recall(lot: String, reason: String) -> Result<Vec<String>> {
        let mut record = load_lot(&lot)?;
        let caller = env::caller();
        let inspector = PARTIES
            .load(&caller)?
            .is_some_and(|p| p.role == Role::Inspector);
        ensure!(
            caller == ADMIN.get()? || caller == record.origin || inspector,
            TraceError::MayNotRecall
        );
        ensure!(
            !reason.is_empty() && reason.len() <= 256,
            TraceError::BadReason
        );
        let recall = Recall {
            source: lot.clone(),
            reason,
            at_ms: env::block_time_ms(),
        };
        let downstream = walk(&record, |l| &l.children)?;
        record.recall = Some(recall.clone());
        LOTS.save(&lot, &record);
        let mut recalled = vec![lot.clone()];
        for mut descendant in downstream {
            descendant.recall = Some(recall.clone());
            LOTS.save(&descendant.id, &descendant);
            recalled.push(descendant.id);
        }
        Recalled(&recalled, &recall).emit();
        Ok(recalled)
    }

    /// Lot `id`.
    #[query]
    pub fn lot(id: String) -> Result<Lot> {
        load_lot(&id)
    }

    /// Party `address`, if registered.
    #[query]
    pub fn party_of(address: Address) -> Result<Option<Party>> {
        PARTIES.load(&address)
    }

    /// The whole provenance of `lot`: its own history, every ancestor and every descendant.
    #[query]
    pub fn trace(lot: String) -> Result<Provenance> {
        let record = load_lot(&lot)?;
        let upstream = walk(&record, |l| &l.parents)?;
        let downstream = walk(&record, |l| &l.children)?;
        Ok(Provenance {
            lot: history(record)?,
            upstream: upstream.into_iter().map(history).collect::<Result<_>>()?,
            downstream: downstream.into_iter().map(history).collect::<Result<_>>()?,
        })
    }
}

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

use alloc::{collections::BTreeSet, collections::VecDeque, format, string::String, vec, vec::Vec};
use serde::{Deserialize, Serialize};
use vellum_sdk::{contract, ensure, env, env::Order, Address, Error, Item, Map, Result};

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

const ADMIN: Item<Address> = Item::new("admin");
const PARTIES: Map<Address, Party> = Map::new("parties");
const LOTS: Map<String, Lot> = Map::new("lots");
const CUSTODY: Map<(String, u32), Handover> = Map::new("custody");
const INSPECTIONS: Map<(String, u32), Inspection> = Map::new("inspections");

fn load_lot(id: &str) -> Result<Lot> {
    LOTS.load(&String::from(id))?
        .ok_or_else(|| Error::not_found(format!("no lot `{id}`")))
}

fn party(role: Option<Role>) -> Result<Address> {
    let caller = env::caller();
    let party = PARTIES
        .load(&caller)?
        .ok_or_else(|| Error::unauthorized(format!("{caller} is not a registered party")))?;
    if let Some(role) = role {
        ensure!(
            party.role == role,
            Error::unauthorized(format!(
                "this needs a {role:?}; {} is a {:?}",
                party.name, party.role
            ))
        );
    }
    Ok(caller)
}

/// The caller must be a party holding `lot`, which must still be active.
fn ensure_holder(lot: &Lot) -> Result<Address> {
    let caller = party(None)?;
    ensure!(
        caller == lot.owner,
        Error::unauthorized(format!("{caller} does not hold lot `{}`", lot.id))
    );
    ensure!(
        lot.active,
        Error::invalid(format!("lot `{}` was split or merged away", lot.id))
    );
    Ok(caller)
}

fn ensure_new_id(id: &str) -> Result<()> {
    ensure!(
        !id.is_empty() && id.len() <= 64,
        Error::invalid("lot ids are 1 to 64 bytes")
    );
    ensure!(
        !LOTS.has(&String::from(id)),
        Error::conflict(format!("lot `{id}` already exists"))
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
            Error::invalid(format!(
                "the graph around `{}` exceeds {GRAPH_LOTS_MAX} lots",
                start.id
            ))
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
        ensure!(
            env::caller() == ADMIN.get()?,
            Error::unauthorized("only the admin registers parties")
        );
        ensure!(
            !name.is_empty() && name.len() <= 128,
            Error::invalid("names are 1 to 128 bytes")
        );
        let party = Party {
            address,
            name,
            role,
        };
        PARTIES.save(&address, &party);
        env::emit("party_registered", &party);
        Ok(())
    }

    /// Create a lot at its origin (farms only).
    #[execute]
    pub fn create_lot(id: String, product: String, quantity: u64, unit: String) -> Result<Lot> {
        let farm = party(Some(Role::Farm))?;
        ensure_new_id(&id)?;
        ensure!(quantity > 0, Error::invalid("quantity must be positive"));
        let lot = new_lot(id, product, quantity, unit, farm, Vec::new());
        LOTS.save(&lot.id, &lot);
        env::emit("lot_created", &lot);
        Ok(lot)
    }

    /// Hand `lot` over to party `to` (the current holder only).
    #[execute]
    pub fn handover(lot: String, to: Address) -> Result<()> {
        let mut record = load_lot(&lot)?;
        let from = ensure_holder(&record)?;
        ensure!(
            PARTIES.has(&to),
            Error::not_found(format!("{to} is not a registered party"))
        );
        ensure!(from != to, Error::invalid("cannot hand a lot to yourself"));
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
        env::emit("handed_over", &(&lot, from, to));
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
            Error::invalid(format!("1 to {PARTS_MAX} parts"))
        );
        let mut total: u64 = 0;
        let mut children = Vec::with_capacity(parts.len());
        for (id, quantity) in parts {
            ensure_new_id(&id)?;
            ensure!(
                children.iter().all(|c: &Lot| c.id != id),
                Error::invalid(format!("part `{id}` is listed twice"))
            );
            ensure!(
                quantity > 0,
                Error::invalid("part quantities must be positive")
            );
            total = total
                .checked_add(quantity)
                .ok_or_else(|| Error::invalid("quantities overflow"))?;
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
            Error::invalid(format!(
                "parts total {total} {} but lot `{lot}` holds {}",
                parent.unit, parent.quantity
            ))
        );
        parent.quantity -= total;
        parent.active = parent.quantity > 0;
        for child in &children {
            parent.children.push(child.id.clone());
            LOTS.save(&child.id, child);
        }
        LOTS.save(&lot, &parent);
        env::emit(
            "split",
            &(
                &lot,
                children
                    .iter()
                    .map(|c| (&c.id, c.quantity))
                    .collect::<Vec<_>>(),
            ),
        );
        Ok(children)
    }

    /// Merge whole lots `lots` (same unit, all held by the caller) into a new lot `id`.
    #[execute]
    pub fn merge(lots: Vec<String>, id: String, product: String) -> Result<Lot> {
        ensure!(
            lots.len() >= 2 && lots.len() <= PARTS_MAX,
            Error::invalid(format!("merge 2 to {PARTS_MAX} lots"))
        );
        ensure_new_id(&id)?;
        let mut parents = Vec::with_capacity(lots.len());
        for lot_id in &lots {
            ensure!(
                parents.iter().all(|p: &Lot| &p.id != lot_id),
                Error::invalid(format!("lot `{lot_id}` is listed twice"))
            );
            let lot = load_lot(lot_id)?;
            ensure_holder(&lot)?;
            parents.push(lot);
        }
        let unit = parents[0].unit.clone();
        ensure!(
            parents.iter().all(|p| p.unit == unit),
            Error::invalid("merged lots must share a unit")
        );
        let quantity = parents
            .iter()
            .try_fold(0u64, |sum, p| sum.checked_add(p.quantity))
            .ok_or_else(|| Error::invalid("quantities overflow"))?;
        let mut merged = new_lot(id, product, quantity, unit, env::caller(), lots.clone());
        merged.recall = parents.iter().find_map(|p| p.recall.clone());
        for mut parent in parents {
            parent.children.push(merged.id.clone());
            parent.quantity = 0;
            parent.active = false;
            LOTS.save(&parent.id, &parent);
        }
        LOTS.save(&merged.id, &merged);
        env::emit("merged", &(&lots, &merged.id));
        Ok(merged)
    }

    /// Record an inspection of `lot` (inspectors only).
    #[execute]
    pub fn inspect(lot: String, passed: bool, notes: String) -> Result<()> {
        let inspector = party(Some(Role::Inspector))?;
        let mut record = load_lot(&lot)?;
        ensure!(
            notes.len() <= 1024,
            Error::invalid("notes are at most 1024 bytes")
        );
        let inspection = Inspection {
            inspector,
            passed,
            notes,
            at_ms: env::block_time_ms(),
        };
        INSPECTIONS.save(&(lot.clone(), record.inspections), &inspection);
        record.inspections += 1;
        LOTS.save(&lot, &record);
        env::emit("inspected", &(&lot, inspector, passed));
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
            Error::unauthorized("only the admin, the lot's origin or an inspector may recall it")
        );
        ensure!(
            !reason.is_empty() && reason.len() <= 256,
            Error::invalid("reasons are 1 to 256 bytes")
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
        env::emit("recalled", &(&recalled, &recall));
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

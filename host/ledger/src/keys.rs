//! Where everything lives in the `state` and `history` tables: the key layout, in one place.
//!
//! A full state key is a 32-byte namespace followed by the key within it. A namespace is a
//! contract's address, or [`SYSTEM`] for the ledger's own records:
//!
//! | key within [`SYSTEM`] | value |
//! |---|---|
//! | `nonce/` ‖ address | next nonce, u64 big-endian |
//! | `member/` ‖ address | borsh(`records::Member`) |
//! | `alias/` ‖ keccak256(key) | the address of the account that rotated to the key (32 bytes) |
//! | `code/` ‖ code hash | the wasm |
//! | `contract/` ‖ address | borsh(`records::ContractInfo`) |
//! | `approval/` ‖ code hash ‖ organisation | height of a legacy `ApproveCode`, u64 big-endian |
//! | `organisation/` ‖ name | borsh(`records::Organisation`) |
//! | `organisations` | borsh(`Vec<String>`): the names of the organisations that have not left, sorted |
//! | `proposals` | the number of the last proposal, u64 big-endian |
//! | `proposal/` ‖ number u64 big-endian | borsh(`records::Proposal`) |
//! | `vote/` ‖ number u64 big-endian ‖ organisation | height of the organisation's approval, u64 big-endian |
//! | `executed/` ‖ number u64 big-endian | height the proposal executed at, u64 big-endian |
//!
//! A history key is `len(full key) u32 BE ‖ full key ‖ height u64 BE ‖ position u32 BE`, the
//! position of the first transaction whose version the row holds (`crate::store` has the rows),
//! so all versions of one key sort together, oldest first.
//!
//! An event index key is `selector (33) ‖ height u64 BE ‖ transaction u32 BE ‖ event u32 BE`,
//! where the selector is `0 ‖ contract`, `1 ‖ keccak256(topic)` or
//! `2 ‖ keccak256(contract ‖ topic)` ([`EventSelector`]): the events one filter wants sort
//! together, in chain order.

use std::ops::Bound;
use vellum_runtime::storage::successor;
use vellum_types::{keccak256, Address, Hash, LedgerEvent};

/// The namespace of the ledger's own records.
pub const SYSTEM: [u8; 32] = [0; 32];

/// The full key of `key` in `namespace`.
pub fn full_key(namespace: &[u8; 32], key: &[u8]) -> Vec<u8> {
    let mut full = Vec::with_capacity(32 + key.len());
    full.extend_from_slice(namespace);
    full.extend_from_slice(key);
    full
}

fn system(parts: &[&[u8]]) -> Vec<u8> {
    full_key(&SYSTEM, &parts.concat())
}

/// Where `address`'s next nonce is kept.
pub fn nonce_key(address: &Address) -> Vec<u8> {
    system(&[b"nonce/", address])
}

/// Where `address`'s membership is kept.
pub fn member_key(address: &Address) -> Vec<u8> {
    system(&[b"member/", address])
}

/// Where the account that rotated to the key whose own address is `key_address` is kept.
pub fn alias_key(key_address: &Address) -> Vec<u8> {
    system(&[b"alias/", key_address])
}

/// Where code with `hash` is kept.
pub fn code_key(hash: &Hash) -> Vec<u8> {
    system(&[b"code/", hash])
}

/// Where contract `address`'s record is kept.
pub fn contract_key(address: &Address) -> Vec<u8> {
    system(&[b"contract/", address])
}

/// Where `organisation`'s approval of `code_hash` is kept.
pub fn approval_key(code_hash: &Hash, organisation: &str) -> Vec<u8> {
    system(&[b"approval/", code_hash, organisation.as_bytes()])
}

/// Where organisation `name`'s record is kept.
pub fn organisation_key(name: &str) -> Vec<u8> {
    system(&[b"organisation/", name.as_bytes()])
}

/// Where the names of the organisations that have not left are kept.
pub fn organisations_key() -> Vec<u8> {
    system(&[b"organisations"])
}

/// Where the governance rules in force are kept, once a proposal has changed genesis's.
pub fn rules_key() -> Vec<u8> {
    system(&[b"rules"])
}

/// Where the number of the last proposal is kept.
pub fn proposals_key() -> Vec<u8> {
    system(&[b"proposals"])
}

/// Where proposal `id` is kept.
pub fn proposal_key(id: u64) -> Vec<u8> {
    system(&[b"proposal/", &id.to_be_bytes()])
}

/// Where the height proposal `id` executed at is kept.
pub fn executed_key(id: u64) -> Vec<u8> {
    system(&[b"executed/", &id.to_be_bytes()])
}

/// Where `organisation`'s approval of proposal `id` is kept.
pub fn vote_key(id: u64, organisation: &str) -> Vec<u8> {
    system(&[b"vote/", &id.to_be_bytes(), organisation.as_bytes()])
}

/// The prefix under which every version of `full` is stored in `history`.
pub(crate) fn history_prefix(full: &[u8]) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(4 + full.len() + 12);
    prefix.extend_from_slice(&(full.len() as u32).to_be_bytes());
    prefix.extend_from_slice(full);
    prefix
}

/// The history key of the row of `full`'s versions written by block `height` that starts with
/// the version of transaction `position`.
pub(crate) fn history_key(full: &[u8], height: u64, position: u32) -> Vec<u8> {
    let mut key = history_prefix(full);
    key.extend_from_slice(&height.to_be_bytes());
    key.extend_from_slice(&position.to_be_bytes());
    key
}

/// Bounds on keys within `namespace` as bounds on full keys: an unbounded end stops at the
/// namespace's edge, so a range never strays into the next namespace.
pub(crate) fn scoped_bounds(
    namespace: &[u8; 32],
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let scope = |bound: Bound<&[u8]>, unbounded: Bound<Vec<u8>>| match bound {
        Bound::Included(k) => Bound::Included(full_key(namespace, k)),
        Bound::Excluded(k) => Bound::Excluded(full_key(namespace, k)),
        Bound::Unbounded => unbounded,
    };
    let end = successor(namespace).map_or(Bound::Unbounded, Bound::Excluded);
    (
        scope(lower, Bound::Included(namespace.to_vec())),
        scope(upper, end),
    )
}

/// Which events a reader wants: those of one contract, with one topic, or both. With neither,
/// every event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventSelector {
    /// Only events this contract emitted.
    pub contract: Option<Address>,
    /// Only events with this topic.
    pub topic: Option<Vec<u8>>,
}

impl EventSelector {
    /// Whether `event` is one this selector wants.
    pub fn matches(&self, event: &LedgerEvent) -> bool {
        self.contract.is_none_or(|c| c == event.contract)
            && self.topic.as_ref().is_none_or(|t| *t == event.topic)
    }

    /// The index prefix of the events this selector wants; `None` for every event (read from
    /// the events table itself).
    pub(crate) fn prefix(&self) -> Option<[u8; 33]> {
        event_prefix(self.contract.as_ref(), self.topic.as_deref())
    }

    /// The index prefixes `event` is filed under: by contract, by topic, by both.
    pub(crate) fn prefixes_of(event: &LedgerEvent) -> [[u8; 33]; 3] {
        let (contract, topic) = (Some(&event.contract), Some(event.topic.as_slice()));
        [
            event_prefix(contract, None),
            event_prefix(None, topic),
            event_prefix(contract, topic),
        ]
        .map(|prefix| prefix.unwrap_or([0; 33]))
    }
}

/// `0 ‖ contract`, `1 ‖ keccak256(topic)` or `2 ‖ keccak256(contract ‖ topic)`; `None` with
/// neither.
fn event_prefix(contract: Option<&Address>, topic: Option<&[u8]>) -> Option<[u8; 33]> {
    let (tag, body) = match (contract, topic) {
        (None, None) => return None,
        (Some(contract), None) => (0, *contract),
        (None, Some(topic)) => (1, keccak256(topic)),
        (Some(contract), Some(topic)) => (2, keccak256(&[contract.as_slice(), topic].concat())),
    };
    let mut prefix = [0; 33];
    prefix[0] = tag;
    prefix[1..].copy_from_slice(&body);
    Some(prefix)
}

/// Where an event sits in the chain: block height, transaction position, event position.
pub type EventPosition = (u64, u32, u32);

/// The event index key of the event at `position` under `prefix`.
pub(crate) fn event_index_key(
    prefix: &[u8; 33],
    (height, index, event): EventPosition,
) -> [u8; 49] {
    let mut key = [0; 49];
    key[..33].copy_from_slice(prefix);
    key[33..41].copy_from_slice(&height.to_be_bytes());
    key[41..45].copy_from_slice(&index.to_be_bytes());
    key[45..].copy_from_slice(&event.to_be_bytes());
    key
}

/// The position in an event index key.
pub(crate) fn event_position(key: &[u8]) -> Option<EventPosition> {
    let height = key.get(33..41)?.try_into().ok()?;
    let index = key.get(41..45)?.try_into().ok()?;
    let event = key.get(45..49)?.try_into().ok()?;
    Some((
        u64::from_be_bytes(height),
        u32::from_be_bytes(index),
        u32::from_be_bytes(event),
    ))
}

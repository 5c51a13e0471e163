//! What the chain holds, listed: accounts (a member's organisation, role, nonce and
//! transactions) and the deployed contracts. The explorer reads these; so can anyone.

use crate::{
    json,
    methods::Reply,
    params::{bytes32, internal, invalid, limit, not_found, order, Budget},
    State,
};
use jsonrpsee::{server::RpcModule, types::ErrorObjectOwned};
use serde::Deserialize;
use serde_json::json;
use std::ops::Bound;
use vellum_ledger::{keys, ContractInfo, Order, Version, SYSTEM};
use vellum_types::{hex, Address, Receipt, Role};

/// Most transactions one page of `vellum_getAccountTransactions` returns: each costs a read
/// of its block's receipts.
pub const ACCOUNT_TRANSACTIONS_MAX: usize = 100;

/// A page of a list (`vellum_getAccountTransactions`, `vellum_getContracts`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Listing {
    cursor: Option<String>,
    limit: Option<usize>,
    order: Option<String>,
}

/// The key of `full` within the system namespace.
fn system_key(full: &[u8]) -> &[u8] {
    &full[SYSTEM.len()..]
}

fn account<N>(state: &State<N>, address: &Address) -> Reply {
    let address = &state.store.account_of(address).map_err(internal)?;
    let member = state
        .store
        .member(address)
        .map_err(internal)?
        .ok_or_else(|| not_found(format!("no member with address {}", hex(address))))?;
    let nonce = state.store.next_nonce(address).map_err(internal)?;
    Ok(json!({
        "address": hex(address),
        "public_key": hex(&member.public_key),
        "organisation": member.organisation,
        "role": match member.role {
            Role::Admin => "admin",
            Role::Member => "member",
        },
        "nonce": nonce,
    }))
}

/// A page of the versions of `full` (a key of the ledger's namespace, in full), newest first
/// unless `page` says otherwise, at most `limit`; and the cursor after it while more may remain.
fn versions<N>(
    state: &State<N>,
    full: &[u8],
    page: &Listing,
    limit: usize,
) -> Result<(Vec<Version>, Option<String>), ErrorObjectOwned> {
    let order = order(page.order.as_deref().or(Some("desc")))?;
    let cursor = match &page.cursor {
        Some(c) => Some(
            json::parse_version_cursor(c)
                .ok_or_else(|| invalid("cursor must be one returned as next_cursor"))?,
        ),
        None => None,
    };
    let versions = state
        .store
        .history(&SYSTEM, system_key(full), cursor, limit, order)
        .map_err(internal)?;
    let next = (versions.len() == limit)
        .then(|| {
            versions
                .last()
                .map(|v| json::version_cursor(v.height, v.position))
        })
        .flatten();
    Ok((versions, next))
}

/// The transactions `address` sent, found through the history of its nonce: each committed
/// transaction advances its sender's nonce once, so each version of the nonce key names one
/// (the block and the transaction's position in it).
fn account_transactions<N>(state: &State<N>, address: &Address, page: Listing) -> Reply {
    let address = &state.store.account_of(address).map_err(internal)?;
    let limit = limit(page.limit)?.min(ACCOUNT_TRANSACTIONS_MAX);
    let (versions, next) = versions(state, &keys::nonce_key(address), &page, limit)?;
    let mut receipts: Option<(u64, Vec<Receipt>)> = None;
    let mut out = Vec::with_capacity(versions.len());
    for version in &versions {
        if receipts.as_ref().map(|(h, _)| *h) != Some(version.height) {
            let read = state.store.receipts(version.height).map_err(internal)?;
            receipts = Some((version.height, read));
        }
        let Some(receipt) = receipts
            .as_ref()
            .and_then(|(_, r)| r.get(version.position as usize))
        else {
            continue;
        };
        let nonce = version
            .value
            .as_deref()
            .and_then(|v| <[u8; 8]>::try_from(v).ok())
            .map(|v| u64::from_be_bytes(v).saturating_sub(1));
        out.push(json!({
            "hash": hex(&receipt.transaction),
            "height": version.height,
            "index": version.position,
            "nonce": nonce,
            "status": json::status(&receipt.status)["status"],
        }));
    }
    let retained_from = state.store.history_pruned_below().map_err(internal)?;
    Ok(json!({ "transactions": out, "next_cursor": next, "retained_from": retained_from }))
}

/// Every version of the contract record at `address`, newest first: its deploy and each
/// upgrade, decoded (a raw read of the ledger's namespace is not public).
fn contract_history<N>(state: &State<N>, address: &Address, page: Listing) -> Reply {
    let limit = limit(page.limit)?;
    let (versions, next) = versions(state, &keys::contract_key(address), &page, limit)?;
    if versions.is_empty() && page.cursor.is_none() {
        return Err(not_found(format!("no contract at {}", hex(address))));
    }
    let mut out = Vec::with_capacity(versions.len());
    for version in &versions {
        let info = match &version.value {
            Some(bytes) => Some(borsh::from_slice::<ContractInfo>(bytes).map_err(internal)?),
            None => None,
        };
        out.push(json!({
            "height": version.height,
            "index": version.position,
            "version": info.as_ref().map(|i| i.version),
            "code_hash": info.as_ref().map(|i| hex(&i.code_hash)),
            "owner": info.as_ref().map(|i| i.owner.clone()),
        }));
    }
    let retained_from = state.store.history_pruned_below().map_err(internal)?;
    Ok(json!({ "versions": out, "next_cursor": next, "retained_from": retained_from }))
}

fn contracts<N>(state: &State<N>, page: Listing) -> Reply {
    let limit = limit(page.limit)?;
    let order = order(page.order.as_deref())?;
    let prefix = b"contract/";
    let mut end = prefix.to_vec();
    end[prefix.len() - 1] += 1;
    let cursor = match &page.cursor {
        Some(c) => Some(bytes32(c, "cursor")?),
        None => None,
    }
    .map(|address| [&prefix[..], &address].concat());
    let (lower, upper) = match (&cursor, order) {
        (Some(after), Order::Ascending) => {
            (Bound::Excluded(after.as_slice()), Bound::Excluded(&end[..]))
        }
        (Some(before), Order::Descending) => (
            Bound::Included(&prefix[..]),
            Bound::Excluded(before.as_slice()),
        ),
        (None, _) => (Bound::Included(&prefix[..]), Bound::Excluded(&end[..])),
    };
    let entries = state
        .store
        .range(&SYSTEM, lower, upper, limit, order)
        .map_err(internal)?;
    let mut budget = Budget::new(state.limits.response_bytes_max);
    let mut out = Vec::with_capacity(entries.len());
    let mut last = None;
    for (key, value) in &entries {
        if !budget.take(value.len()) && !out.is_empty() {
            break;
        }
        let address: Address = key[prefix.len()..]
            .try_into()
            .map_err(|_| internal("a contract record under a key that is not an address"))?;
        let info: ContractInfo = borsh::from_slice(value).map_err(internal)?;
        let owner = state.store.owner_of(&info.owner).map_err(internal)?;
        out.push(json::contract(&address, &info, &owner));
        last = Some(address);
    }
    let next = (out.len() < entries.len() || entries.len() == limit)
        .then(|| last.map(|a| hex(&a)))
        .flatten();
    Ok(json!({ "contracts": out, "next_cursor": next }))
}

pub(crate) fn register<N: crate::Node>(
    module: &mut RpcModule<State<N>>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_method("vellum_getAccount", |params, state, _| {
        let (address,): (String,) = params.parse()?;
        account(state, &bytes32(&address, "address")?)
    })?;
    module.register_method("vellum_getAccountTransactions", |params, state, _| {
        let mut seq = params.sequence();
        let address: String = seq.next()?;
        let page: Option<Listing> = seq.optional_next()?;
        account_transactions(
            state,
            &bytes32(&address, "address")?,
            page.unwrap_or_default(),
        )
    })?;
    module.register_method("vellum_getContractHistory", |params, state, _| {
        let mut seq = params.sequence();
        let address: String = seq.next()?;
        let page: Option<Listing> = seq.optional_next()?;
        contract_history(
            state,
            &bytes32(&address, "contract")?,
            page.unwrap_or_default(),
        )
    })?;
    module.register_method("vellum_getContracts", |params, state, _| {
        let mut seq = params.sequence();
        let page: Option<Listing> = seq.optional_next()?;
        contracts(state, page.unwrap_or_default())
    })?;
    Ok(())
}

//! Private data over JSON-RPC (`vellum_types::private`): `vellum_putPrivate` hands a payload
//! to this node for a collection of organisations and returns its salted hash;
//! `vellum_getPrivate` reads it back. Both need a caller token of a member, bound to this
//! node's organisation ([`code::PRIVATE_REFUSED`] without one); a put must name a collection of the member's organisation and this node's, and
//! a get answers only records of the member's organisation's collections ([`code::NOT_FOUND`]
//! for the others, as for a record the node does not hold).

use crate::{
    callers,
    methods::Reply,
    params::{bytes32, error, internal, invalid, not_found},
    State,
};
use jsonrpsee::{server::RpcModule, types::ErrorObjectOwned};
use serde_json::json;
use std::sync::Arc;
use vellum_ledger::{Member, PrivateStore, PrivateStoreError};
use vellum_types::{hex, private::PrivateRecord, rpc::code, unhex};

/// What a node that holds private data serves it from.
#[derive(Clone)]
pub struct Private {
    /// Its side store.
    pub store: Arc<PrivateStore>,
    /// The organisation the node belongs to: it holds only its collections' records.
    pub organisation: String,
}

fn refused(data: impl Into<String>) -> ErrorObjectOwned {
    error(code::PRIVATE_REFUSED, "Private data refused", data)
}

/// This node's side store and the calling member, or why the call is refused.
fn entitled<'a, N>(
    state: &'a State<N>,
    extensions: &http::Extensions,
) -> Result<(&'a Private, Member), ErrorObjectOwned> {
    let Some(private) = &state.private else {
        return Err(refused(
            "this node holds no private data: it belongs to no organisation (an observer \
             needs `organisation` in its node configuration)",
        ));
    };
    let (member, bound) = callers::member(&state.store, extensions)?;
    let member = member.ok_or_else(|| {
        refused(
            "private data is for members of its collection: send a caller token \
             (authorization: Vellum 0x…, docs/rpc.md \"Callers\")",
        )
    })?;
    // A token for any node could have been shown to another organisation's node, whose
    // operator could replay it here.
    if !bound {
        return Err(refused(format!(
            "private data needs a caller token bound to this node's organisation ({}): set its \
             `audience` (vellum_client::Client::connect_as does)",
            private.organisation
        )));
    }
    Ok((private, member))
}

fn record_json(record: &PrivateRecord, payload: bool) -> serde_json::Value {
    let mut value = json!({
        "hash": hex(&record.hash()),
        "salt": hex(&record.salt()),
        "organisations": record.organisations,
        "expires_at": record.expires_at,
        "size": record.payload.len(),
    });
    if payload {
        value["payload"] = json!(hex(&record.payload));
    }
    value
}

fn store_error(e: PrivateStoreError) -> ErrorObjectOwned {
    match e {
        PrivateStoreError::Malformed(e) => invalid(e.to_string()),
        full @ PrivateStoreError::Full { .. } => error(code::BUSY, "Busy", full.to_string()),
        other => internal(other),
    }
}

fn put<N: crate::Node>(
    state: &State<N>,
    extensions: &http::Extensions,
    mut organisations: Vec<String>,
    payload: &str,
    blocks_to_live: Option<u64>,
) -> Reply {
    let (private, member) = entitled(state, extensions)?;
    organisations.sort();
    organisations.dedup();
    // The organisations of the ledger as it stands: those that joined by proposal are there,
    // those that left are not.
    let members: Vec<String> = state
        .store
        .organisations()
        .map_err(internal)?
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    if let Some(unknown) = organisations.iter().find(|name| !members.contains(name)) {
        return Err(invalid(format!(
            "`{unknown}` is not an organisation of this network (`vellum orgs` lists them; one \
             that left is not)"
        )));
    }
    let payload =
        unhex(payload).ok_or_else(|| invalid("`payload` must be 0x-prefixed hex".to_string()))?;
    let mut record = PrivateRecord {
        organisations,
        expires_at: None,
        nonce: [0; 32],
        payload,
    };
    record.check().map_err(|e| invalid(e.to_string()))?;
    if !record.shared_with(&member.organisation) {
        return Err(refused(format!(
            "a member puts private data only in collections of its own organisation ({})",
            member.organisation
        )));
    }
    if !record.shared_with(&private.organisation) {
        return Err(refused(format!(
            "this node belongs to {}, which is not in the collection: hand the payload to a \
             node of your own organisation",
            private.organisation
        )));
    }
    if let Some(blocks) = blocks_to_live {
        let height = state.store.height().map_err(internal)?;
        let expires_at = height
            .checked_add(blocks)
            .filter(|_| blocks > 0)
            .ok_or_else(|| invalid("`blocks_to_live` must be 1 to 2^64 - 1 - the height"))?;
        record.expires_at = Some(expires_at);
    }
    getrandom::fill(&mut record.nonce).map_err(internal)?;
    let hash = private.store.put(&record).map_err(store_error)?;
    if !state.node.share_private(hash) {
        // Not kept unshared: the caller retries, with a new salt.
        private.store.purge(&hash).map_err(internal)?;
        return Err(error(
            code::BUSY,
            "Busy",
            "this node is sending too many private records to its peers; try again shortly",
        ));
    }
    Ok(record_json(&record, false))
}

fn get<N>(state: &State<N>, extensions: &http::Extensions, hash: &str) -> Reply {
    let (private, member) = entitled(state, extensions)?;
    let hash = bytes32(hash, "hash")?;
    // The same answer whether the node holds no such record or holds one the caller may not
    // read: a member outside the collection learns neither that it exists here nor whose it is.
    let absent = || {
        not_found(format!(
            "this node holds no private record {} that members of {} may read (it was never \
             shared with them, or it was purged or expired)",
            hex(&hash),
            member.organisation
        ))
    };
    let record = private
        .store
        .get(&hash)
        .map_err(internal)?
        .ok_or_else(absent)?;
    let height = state.store.height().map_err(internal)?;
    // Expired (the purge task deletes it within a few seconds): not served.
    if !record.shared_with(&member.organisation) || record.expires_at.is_some_and(|at| at <= height)
    {
        return Err(absent());
    }
    Ok(record_json(&record, true))
}

pub(crate) fn register<N: crate::Node>(
    module: &mut RpcModule<State<N>>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_blocking_method("vellum_putPrivate", |params, state, extensions| {
        let mut seq = params.sequence();
        let organisations: Vec<String> = seq.next()?;
        let payload: String = seq.next()?;
        let blocks_to_live: Option<u64> = seq.optional_next()?;
        put(&state, &extensions, organisations, &payload, blocks_to_live)
    })?;
    module.register_blocking_method("vellum_getPrivate", |params, state, extensions| {
        let (hash,): (String,) = params.parse()?;
        get(&state, &extensions, &hash)
    })?;
    Ok(())
}

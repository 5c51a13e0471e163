//! The request-response methods: status, transactions, blocks, queries, contract state,
//! history, events, seals and receipt proofs.

use crate::{
    access::{hide_arguments, hide_outcome, Viewer},
    code, json,
    params::{
        bytes32, decode_transaction, error, internal, invalid, key_bytes, limit, not_found, order,
        selector, Budget, EventFilter, Page, Range,
    },
    Node, State, WAIT_MAX,
};
use jsonrpsee::{
    server::RpcModule,
    types::{ErrorObject, ErrorObjectOwned},
};
use serde_json::{json, Value};
use std::{
    ops::{Bound, RangeInclusive},
    sync::Arc,
    time::Duration,
};
use tokio::sync::OwnedSemaphorePermit;
use vellum_ledger::{BlockError, Order, QueryResult, StoreError};
use vellum_types::{hex, proof, unhex, Hash, SignedTransaction};

/// How often a wait looks for its transaction's receipt.
const POLL: Duration = Duration::from_millis(20);

pub(crate) type Reply = Result<Value, ErrorObjectOwned>;

fn submit<N: Node>(
    state: &State<N>,
    transaction: SignedTransaction,
) -> Result<Hash, ErrorObjectOwned> {
    state.node.submit(transaction).map_err(|e| {
        error(
            code::TRANSACTION_REJECTED,
            "Transaction rejected",
            e.to_string(),
        )
    })
}

fn receipt<N>(state: &State<N>, hash: &Hash) -> Result<Option<Value>, ErrorObjectOwned> {
    Ok(state
        .store
        .receipt(hash)
        .map_err(internal)?
        .map(|(height, index, receipt)| json::receipt(height, index, &receipt)))
}

pub(crate) fn block<N>(state: &State<N>, height: u64, full: bool, viewer: &Viewer) -> Reply {
    let block = state
        .store
        .block(height)
        .map_err(internal)?
        .ok_or_else(|| not_found(format!("no block at height {height} yet")))?;
    if !full {
        return Ok(json::block(&block, None));
    }
    let receipts = state.store.receipts(height).map_err(internal)?;
    let bytes = block
        .transactions
        .iter()
        .map(|t| t.encoded_len())
        .chain(receipts.iter().map(|r| r.encoded_len()))
        .fold(0usize, usize::saturating_add);
    if bytes > state.limits.response_bytes_max {
        return Err(error(
            code::RESPONSE_TOO_LARGE,
            "Response too large",
            format!(
                "block {height} holds {bytes} bytes of transactions and receipts, more than this node's \
                 {} per answer; ask without `full` for its transaction hashes, then read each with \
                 vellum_getTransaction and vellum_getTransactionReceipt",
                state.limits.response_bytes_max
            ),
        ));
    }
    let mut shown = json::block(&block, Some(&receipts));
    if let Some(entries) = shown["transactions"].as_array_mut() {
        for (entry, transaction) in entries.iter_mut().zip(&block.transactions) {
            name_account(state, &mut entry["transaction"], transaction)?;
            if !viewer.sees(state, transaction)? {
                hide_arguments(&mut entry["transaction"]);
                hide_outcome(&mut entry["receipt"]);
            }
        }
    }
    Ok(shown)
}

fn events<N>(state: &State<N>, filter: EventFilter) -> Reply {
    let selector = selector(&filter)?;
    let head = state.store.height().map_err(internal)?;
    let limit = limit(filter.limit)?;
    // A cursor names the last event returned: the answer goes on just after it.
    let from = match &filter.cursor {
        Some(cursor) => Bound::Excluded(
            json::parse_event_cursor(cursor)
                .ok_or_else(|| invalid("cursor must be one returned as next_cursor"))?,
        ),
        None => Bound::Included((filter.from_height.unwrap_or(0), 0, 0)),
    };
    let to = filter.to_height.unwrap_or(head).min(head);
    // One more than the page, to know whether a cursor is needed.
    let found = state
        .store
        .events(&selector, from, to, limit + 1)
        .map_err(internal)?;
    let mut budget = Budget::new(state.limits.response_bytes_max);
    let mut out = Vec::new();
    let mut next = None;
    for (taken, found) in found.iter().enumerate() {
        let bytes = found.event.topic.len() + found.event.data.len();
        if taken == limit || !budget.take(bytes) {
            next = out
                .last()
                .map(|(position, _)| json::event_cursor(*position));
            break;
        }
        let (height, index, position) = found.position;
        let event = json::event(height, index, position, &found.transaction, &found.event);
        out.push((found.position, event));
    }
    Ok(json!({
        "events": out.into_iter().map(|(_, e)| e).collect::<Vec<_>>(),
        "next_cursor": next,
        "to_height": to,
    }))
}

fn status<N: Node>(state: &State<N>) -> Reply {
    let head = state.store.head().map_err(internal)?;
    let genesis = state.executor.genesis();
    let node = state.node.status();
    Ok(json!({
        "chain_id": genesis.chain_id,
        "role": if node.observer { "observer" } else { "validator" },
        "organisation": state.organisation(),
        "height": head.height,
        "hash": hex(&head.hash()),
        "state_root": hex(&head.state_root),
        "time_ms": head.time_ms,
        "finalized_tip": node.finalized_tip.max(head.height),
        "syncing": node.finalized_tip > head.height + 1,
        "peers": node.peers,
        "validators": genesis.validators.iter().map(|v| json!({
            "name": v.name, "organisation": v.organisation, "public_key": v.public_key,
        })).collect::<Vec<_>>(),
        "mempool": { "transactions": node.mempool_transactions, "bytes": node.mempool_bytes },
        "halted": node.halted,
    }))
}

/// Most proposals one `vellum_getProposals` returns.
pub const PROPOSALS_PAGE_MAX: usize = 100;

/// Proposals newest first, from the one before `before` (the newest without it), at most
/// `limit` (default and most [`PROPOSALS_PAGE_MAX`]), and the cursor of the next page.
fn proposals<N>(state: &State<N>, before: Option<u64>, limit: Option<usize>) -> Reply {
    let limit = limit
        .unwrap_or(PROPOSALS_PAGE_MAX)
        .clamp(1, PROPOSALS_PAGE_MAX);
    let height = state.store.head().map_err(internal)?.height;
    let last = state.store.last_proposal().map_err(internal)?;
    let top = before.map_or(last, |b| b.saturating_sub(1).min(last));
    let mut out = Vec::new();
    let mut budget = crate::params::Budget::new(state.limits.response_bytes_max);
    let mut id = top;
    while id > 0 && out.len() < limit {
        if let Some(status) = state.store.proposal(id).map_err(internal)? {
            let entry = json::proposal(&status, height);
            if !budget.take(entry.to_string().len()) && !out.is_empty() {
                break;
            }
            out.push(entry);
        }
        id -= 1;
    }
    Ok(json!({ "proposals": out, "next": (id > 0).then_some(id + 1) }))
}

fn query<N>(
    state: &State<N>,
    contract: &str,
    method: &str,
    args: Option<Value>,
    height: Option<u64>,
    caller: vellum_types::Address,
) -> Reply {
    let contract = bytes32(contract, "contract")?;
    crate::access::query(state, &caller, &contract, method)?;
    let args = match args {
        None | Some(Value::Null) => "{}".to_string(),
        Some(Value::String(text)) => text,
        Some(other) => other.to_string(),
    };
    match state
        .executor
        .query(&state.store, &contract, method, &args, caller, height)
        .map_err(|e| match e {
            BlockError::Store(
                e @ (StoreError::Beyond { .. }
                | StoreError::NotRetained { .. }
                | StoreError::TooFarBack { .. }),
            ) => invalid(e.to_string()),
            e => internal(e),
        })? {
        QueryResult::Success {
            output,
            fuel_used,
            height,
        } => Ok(json!({
            "output": json::output(&output),
            "fuel_used": fuel_used,
            "height": height,
        })),
        QueryResult::Failed(status) => Err(ErrorObject::owned(
            code::QUERY_FAILED,
            "Query failed",
            Some(json::status(&status)),
        )),
        QueryResult::Refused(reason) => Err(not_found(reason)),
    }
}

/// Whether `viewer` is refused the arguments and outcome of the committed transaction `hash`
/// (the transaction is read only when the policy may refuse anything).
fn withheld<N>(state: &State<N>, viewer: &Viewer, hash: &Hash) -> Result<bool, ErrorObjectOwned> {
    if !viewer.withholds() {
        return Ok(false);
    }
    let Some((height, index)) = state.store.transaction_location(hash).map_err(internal)? else {
        return Ok(false);
    };
    let block = state.store.block(height).map_err(internal)?;
    match block
        .as_ref()
        .and_then(|b| b.transactions.get(index as usize))
    {
        Some(transaction) => Ok(!viewer.sees(state, transaction)?),
        None => Ok(false),
    }
}

/// Make `shown` (`transaction` as `json::transaction` shows it) name the sender's account: the
/// account a rotated-to key signs for, rather than the key's own address.
fn name_account<N>(
    state: &State<N>,
    shown: &mut Value,
    transaction: &SignedTransaction,
) -> Result<(), ErrorObjectOwned> {
    let account = state
        .store
        .account_of(&transaction.sender())
        .map_err(internal)?;
    shown["sender_address"] = json!(hex(&account));
    Ok(())
}

fn transaction<N: Node>(state: &State<N>, hash: &Hash, viewer: &Viewer) -> Reply {
    if let Some((height, index)) = state.store.transaction_location(hash).map_err(internal)? {
        let block = state
            .store
            .block(height)
            .map_err(internal)?
            .ok_or_else(|| internal("indexed block missing"))?;
        let transaction = block
            .transactions
            .get(index as usize)
            .ok_or_else(|| internal("indexed transaction missing"))?;
        let mut shown = json::transaction(transaction);
        name_account(state, &mut shown, transaction)?;
        if !viewer.sees(state, transaction)? {
            hide_arguments(&mut shown);
        }
        return Ok(json!({
            "status": "committed",
            "height": height,
            "index": index,
            "transaction": shown,
        }));
    }
    if state.node.is_pending(hash) {
        return Ok(json!({ "status": "pending", "hash": hex(hash) }));
    }
    Err(not_found(format!(
        "{} is neither committed nor pending here",
        hex(hash)
    )))
}

fn history<N>(state: &State<N>, contract: &str, key: &str, page: Option<Page>) -> Reply {
    let contract = bytes32(contract, "contract")?;
    let page = page.unwrap_or_default();
    let cursor = match &page.cursor {
        Some(c) => Some(
            json::parse_version_cursor(c)
                .ok_or_else(|| invalid("cursor must be one returned as next_cursor"))?,
        ),
        None => None,
    };
    let limit = limit(page.limit)?;
    let order = order(page.order.as_deref())?;
    let versions = match history_heights(state, &page)? {
        Some(heights) => state
            .store
            .history_in(&contract, &key_bytes(key), heights, cursor, limit, order)
            .map_err(internal)?,
        None => Vec::new(),
    };
    let mut budget = Budget::new(state.limits.response_bytes_max);
    let fits = versions
        .iter()
        .take_while(|v| budget.take(v.value.as_ref().map_or(0, Vec::len)))
        .count();
    let next = (fits < versions.len() || versions.len() == limit)
        .then(|| {
            versions[..fits]
                .last()
                .map(|v| json::version_cursor(v.height, v.position))
        })
        .flatten();
    // Read after the versions: a block pruned meanwhile is below it, so no version the answer
    // lacks for pruning lies at or above it.
    let retained_from = state.store.history_pruned_below().map_err(internal)?;
    Ok(json!({
        "versions": versions[..fits].iter().map(json::version).collect::<Vec<_>>(),
        "next_cursor": next,
        "retained_from": retained_from,
    }))
}

/// The heights a page of history covers: `[from_height, to_height]` intersected with the blocks
/// whose time lies in `[from_time, to_time]` (ms since the Unix epoch); `None` when no block's
/// time lies there.
fn history_heights<N>(
    state: &State<N>,
    page: &Page,
) -> Result<Option<RangeInclusive<u64>>, ErrorObjectOwned> {
    let mut from = page.from_height.unwrap_or(0);
    let mut to = page.to_height.unwrap_or(u64::MAX);
    if let (Some(start), Some(end)) = (page.from_time, page.to_time) {
        if start > end {
            return Err(invalid(format!("from_time {start} is after to_time {end}")));
        }
    }
    if from > to {
        return Err(invalid(format!(
            "from_height {from} is above to_height {to}"
        )));
    }
    if let Some(start) = page.from_time {
        match state.store.height_at_time(start).map_err(internal)? {
            Some(height) => from = from.max(height),
            // No block is that recent yet.
            None => return Ok(None),
        }
    }
    if let Some(end) = page.to_time {
        // The last block at or before `end`: the one before the first after it.
        match state
            .store
            .height_at_time(end.saturating_add(1))
            .map_err(internal)?
        {
            Some(0) => return Ok(None),
            Some(after) => to = to.min(after - 1),
            None => {}
        }
    }
    Ok(Some(from..=to))
}

fn range<N>(state: &State<N>, contract: &str, range: Option<Range>) -> Reply {
    let contract = bytes32(contract, "contract")?;
    let range = range.unwrap_or_default();
    let order = order(range.order.as_deref())?;
    let limit = limit(range.limit)?;
    let start = range.start.as_deref().map(key_bytes);
    let end = range.end.as_deref().map(key_bytes);
    let cursor = range
        .cursor
        .as_deref()
        .map(|c| unhex(c).ok_or_else(|| invalid("cursor must be one returned as next_cursor")))
        .transpose()?;
    let mut lower = start.as_deref().map_or(Bound::Unbounded, Bound::Included);
    let mut upper = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    // A cursor is the last key returned: the next page starts just past it.
    match (&cursor, order) {
        (Some(after), Order::Ascending) => lower = tighter(lower, after, Order::Ascending),
        (Some(before), Order::Descending) => upper = tighter(upper, before, Order::Descending),
        (None, _) => {}
    }
    let entries = state
        .store
        .range(&contract, lower, upper, limit, order)
        .map_err(internal)?;
    let mut budget = Budget::new(state.limits.response_bytes_max);
    let fits = entries
        .iter()
        .take_while(|(k, v)| budget.take(k.len() + v.len()))
        .count();
    let next = (fits < entries.len() || entries.len() == limit)
        .then(|| entries[..fits].last().map(|(k, _)| hex(k)))
        .flatten();
    Ok(json!({
        "entries": entries[..fits]
            .iter()
            .map(|(k, v)| json!({"key": json::key(k), "value": json::output(v)}))
            .collect::<Vec<_>>(),
        "next_cursor": next,
    }))
}

/// `bound` narrowed to exclude `key` and everything before it (ascending) or after it
/// (descending), whichever of the two is narrower.
fn tighter<'a>(bound: Bound<&'a [u8]>, key: &'a [u8], order: Order) -> Bound<&'a [u8]> {
    let inside = match (bound, order) {
        (Bound::Unbounded, _) => true,
        (Bound::Included(b) | Bound::Excluded(b), Order::Ascending) => key >= b,
        (Bound::Included(b) | Bound::Excluded(b), Order::Descending) => key <= b,
    };
    if inside {
        Bound::Excluded(key)
    } else {
        bound
    }
}

pub(crate) fn register<N: Node>(
    module: &mut RpcModule<State<N>>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_method("vellum_chainId", |_, state, _| {
        state.executor.genesis().chain_id.clone()
    })?;
    module.register_method("vellum_status", |_, state, _| status(state))?;
    module.register_method("vellum_getNonce", |params, state, _| {
        let (address,): (String,) = params.parse()?;
        let address = bytes32(&address, "address")?;
        state.store.next_nonce(&address).map_err(internal)
    })?;
    module.register_method("vellum_sendRawTransaction", |params, state, _| {
        let (raw,): (String,) = params.parse()?;
        submit(state, decode_transaction(&raw)?).map(|hash| hex(&hash))
    })?;
    module.register_async_method(
        "vellum_sendRawTransactionAndWait",
        |params, state, extensions| async move {
            let mut seq = params.sequence();
            let raw: String = seq.next()?;
            let timeout_ms: Option<u64> = seq.optional_next()?;
            let transaction = decode_transaction(&raw)?;
            let sees = Viewer::new(&state, &extensions)?.sees(&state, &transaction)?;
            let hash = submit(&state, transaction)?;
            let wait = timeout_ms
                .map_or(Duration::from_secs(30), Duration::from_millis)
                .min(WAIT_MAX);
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                if let Some(mut receipt) = receipt(&state, &hash)? {
                    if !sees {
                        hide_outcome(&mut receipt);
                    }
                    return Ok::<Value, ErrorObjectOwned>(receipt);
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(error(
                        code::TIMEOUT,
                        "Not committed in time",
                        format!(
                            "{} is pending; poll vellum_getTransactionReceipt",
                            hex(&hash)
                        ),
                    ));
                }
                tokio::time::sleep(POLL).await;
            }
        },
    )?;
    module.register_method("vellum_getTransaction", |params, state, extensions| {
        let (hash,): (String,) = params.parse()?;
        let viewer = Viewer::new(state, extensions)?;
        transaction(state, &bytes32(&hash, "hash")?, &viewer)
    })?;
    module.register_method(
        "vellum_getTransactionReceipt",
        |params, state, extensions| {
            let (hash,): (String,) = params.parse()?;
            let hash = bytes32(&hash, "hash")?;
            let viewer = Viewer::new(state, extensions)?;
            let mut shown = receipt(state, &hash)?
                .ok_or_else(|| not_found(format!("no committed transaction {}", hex(&hash))))?;
            if withheld(state, &viewer, &hash)? {
                hide_outcome(&mut shown);
            }
            Ok::<Value, ErrorObjectOwned>(shown)
        },
    )?;
    module.register_method("vellum_getBlockByNumber", |params, state, extensions| {
        let mut seq = params.sequence();
        let height: u64 = seq.next()?;
        let full: Option<bool> = seq.optional_next()?;
        let viewer = Viewer::new(state, extensions)?;
        block(state, height, full.unwrap_or(false), &viewer)
    })?;
    module.register_method("vellum_getBlockByHash", |params, state, extensions| {
        let mut seq = params.sequence();
        let hash: String = seq.next()?;
        let full: Option<bool> = seq.optional_next()?;
        let hash = bytes32(&hash, "hash")?;
        let height = state
            .store
            .height_of(&hash)
            .map_err(internal)?
            .ok_or_else(|| not_found(format!("no block with hash {}", hex(&hash))))?;
        let viewer = Viewer::new(state, extensions)?;
        block(state, height, full.unwrap_or(false), &viewer)
    })?;
    module.register_async_method("vellum_query", |params, state, extensions| async move {
        let mut seq = params.sequence();
        let contract: String = seq.next()?;
        let method: String = seq.next()?;
        let args: Option<Value> = seq.optional_next()?;
        let height: Option<u64> = seq.optional_next()?;
        let caller = crate::callers::current_caller(&state.store, &extensions)?;
        let permit = turn(&state).await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            query(&state, &contract, &method, args, height, caller)
        })
        .await
        .map_err(internal)?
    })?;
    module.register_method("vellum_getContract", |params, state, _| {
        let (contract,): (String,) = params.parse()?;
        let address = bytes32(&contract, "contract")?;
        let info = state
            .store
            .contract(&address)
            .map_err(internal)?
            .ok_or_else(|| not_found(format!("no contract at {}", hex(&address))))?;
        let owner = state.store.owner_of(&info.owner).map_err(internal)?;
        Ok::<Value, ErrorObjectOwned>(json::contract(&address, &info, &owner))
    })?;
    module.register_method("vellum_getProposal", |params, state, extensions| {
        let (id,): (u64,) = params.parse()?;
        crate::access::storage(state, extensions, &vellum_ledger::SYSTEM)?;
        let height = state.store.head().map_err(internal)?.height;
        let status = state
            .store
            .proposal(id)
            .map_err(internal)?
            .ok_or_else(|| not_found(format!("there is no proposal {id}")))?;
        Ok::<Value, ErrorObjectOwned>(json::proposal(&status, height))
    })?;
    module.register_method("vellum_getProposals", |params, state, extensions| {
        let mut seq = params.sequence();
        let before: Option<u64> = seq.optional_next()?;
        let limit: Option<usize> = seq.optional_next()?;
        crate::access::storage(state, extensions, &vellum_ledger::SYSTEM)?;
        proposals(state, before, limit)
    })?;
    module.register_method("vellum_getRules", |_, state, extensions| {
        crate::access::storage(state, extensions, &vellum_ledger::SYSTEM)?;
        let (rules, sequence, changed_at) = match state.store.rules().map_err(internal)? {
            Some(record) => (record.rules, record.sequence, Some(record.changed_at)),
            None => (state.executor.genesis().rules(), 0, None),
        };
        Ok::<Value, ErrorObjectOwned>(json!({
            "rules": json::rules(&rules),
            "sequence": sequence,
            "changed_at": changed_at,
        }))
    })?;
    module.register_method("vellum_getOrganisations", |_, state, extensions| {
        crate::access::storage(state, extensions, &vellum_ledger::SYSTEM)?;
        let organisations = state.store.organisations().map_err(internal)?;
        Ok::<Value, ErrorObjectOwned>(Value::Array(
            organisations
                .iter()
                .map(|(name, record)| json!({ "name": name, "joined_at": record.joined_at }))
                .collect(),
        ))
    })?;
    module.register_method("vellum_getHistory", |params, state, extensions| {
        let mut seq = params.sequence();
        let contract: String = seq.next()?;
        let key: String = seq.next()?;
        let page: Option<Page> = seq.optional_next()?;
        crate::access::storage(state, extensions, &bytes32(&contract, "contract")?)?;
        history(state, &contract, &key, page)
    })?;
    module.register_method("vellum_getRange", |params, state, extensions| {
        let mut seq = params.sequence();
        let contract: String = seq.next()?;
        let bounds: Option<Range> = seq.optional_next()?;
        crate::access::storage(state, extensions, &bytes32(&contract, "contract")?)?;
        range(state, &contract, bounds)
    })?;
    module.register_method("vellum_getEvents", |params, state, extensions| {
        let (filter,): (EventFilter,) = params.parse()?;
        let contract = filter
            .contract
            .as_deref()
            .map(|c| bytes32(c, "contract"))
            .transpose()?;
        crate::access::events(state, extensions, contract.as_ref())?;
        events(state, filter)
    })?;
    module.register_method("vellum_getSeal", |params, state, _| {
        let (height,): (u64,) = params.parse()?;
        seal(state, height)
    })?;
    module.register_method("vellum_getReceiptProof", |params, state, extensions| {
        let (hash,): (String,) = params.parse()?;
        let hash = bytes32(&hash, "hash")?;
        // A proof carries the whole receipt: nothing of it can be withheld.
        if withheld(state, &Viewer::new(state, extensions)?, &hash)? {
            return Err(error(
                code::READ_REFUSED,
                "Read refused",
                "this node's read policy withholds this transaction's outcome from this \
                 caller, and a proof carries all of it (docs/rpc.md, \"Read policy\")",
            ));
        }
        receipt_proof(state, &hash)
    })?;
    module.register_async_method("vellum_getProof", |params, state, extensions| async move {
        let mut seq = params.sequence();
        let contract: String = seq.next()?;
        let key: String = seq.next()?;
        let height: Option<u64> = seq.optional_next()?;
        let namespace = bytes32(&contract, "contract")?;
        crate::access::storage(&state, &extensions, &namespace)?;
        let key = key_bytes(&key);
        // A proof waits on the state commitment's thread: it takes a query's turn.
        let permit = turn(&state).await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            state_proof(&state, &namespace, &key, height)
        })
        .await
        .map_err(internal)?
    })?;
    Ok(())
}

/// A turn to run a query: at most `queries_max` run at once, each on a blocking thread of the
/// server's, so queries never hold the threads that serve connections.
async fn turn<N>(state: &Arc<State<N>>) -> Result<OwnedSemaphorePermit, ErrorObjectOwned> {
    let wait = state.limits.query_wait_max;
    match tokio::time::timeout(wait, state.queries.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(closed)) => Err(internal(closed)),
        Err(_) => Err(error(
            code::BUSY,
            "Busy",
            format!(
                "{} queries are running and none finished within {} ms; retry shortly",
                state.limits.queries_max,
                wait.as_millis()
            ),
        )),
    }
}

fn state_proof<N>(
    state: &State<N>,
    namespace: &[u8; 32],
    key: &[u8],
    height: Option<u64>,
) -> Reply {
    let refuse = |newest: u64, asked: u64| {
        invalid(format!(
            "proofs are served for the state after the newest block ({newest}), not height \
             {asked}; omit the height"
        ))
    };
    let newest = state.store.height().map_err(internal)?;
    if let Some(asked) = height.filter(|h| *h != newest) {
        return Err(refuse(newest, asked));
    }
    let bundle = state
        .store
        .state_bundle(namespace, key)
        .map_err(internal)?
        .ok_or_else(|| {
            not_found(
                "no finalization certificate covers the newest block here yet; retry in a moment"
                    .to_string(),
            )
        })?;
    let header = bundle
        .finality
        .headers
        .first()
        .ok_or_else(|| internal("a finality proof without headers"))?;
    if let Some(asked) = height.filter(|h| *h != header.height) {
        return Err(refuse(header.height, asked));
    }
    let bytes = bundle.to_bytes();
    fits_an_answer(state, &bytes)?;
    Ok(json!({
        "height": header.height,
        "state_root": hex(&header.state_root),
        "value": bundle.value.as_deref().map(hex),
        "certified_height": bundle.finality.headers.last().map_or(header.height, |h| h.height),
        "proof": hex(&bytes),
    }))
}

fn seal<N>(state: &State<N>, height: u64) -> Reply {
    let bytes = state
        .store
        .seal(height)
        .map_err(internal)?
        .ok_or_else(|| not_found(format!("no sealed block at height {height}")))?;
    let seal = proof::Seal::decode(&bytes).map_err(internal)?;
    Ok(json!({
        "height": height,
        "epoch": seal.round.epoch,
        "view": seal.round.view,
        "certified": seal.finalization.is_some(),
        "signers": seal.finalization.as_ref().map(|f| f.certificate.signers.count()),
        "seal": hex(&bytes),
    }))
}

/// Refuse a proof bundle whose hex would exceed the node's `response_bytes_max`.
fn fits_an_answer<N>(state: &State<N>, bundle: &[u8]) -> Result<(), ErrorObjectOwned> {
    if bundle.len().saturating_mul(2) > state.limits.response_bytes_max {
        return Err(error(
            code::RESPONSE_TOO_LARGE,
            "Response too large",
            format!(
                "the proof takes {} bytes, more than this node's {} per answer",
                bundle.len(),
                state.limits.response_bytes_max
            ),
        ));
    }
    Ok(())
}

fn receipt_proof<N>(state: &State<N>, hash: &Hash) -> Reply {
    let Some((height, index, receipt)) = state.store.receipt(hash).map_err(internal)? else {
        return Err(not_found(format!("no committed transaction {}", hex(hash))));
    };
    let proof = state
        .store
        .receipt_proof(hash)
        .map_err(internal)?
        .ok_or_else(|| {
            not_found(format!(
                "{} is committed at height {height}, but no finalization certificate covers its \
                 block here yet; retry in a moment",
                hex(hash)
            ))
        })?;
    let bundle = proof.to_bytes();
    fits_an_answer(state, &bundle)?;
    let certified_height = proof.finality.headers.last().map_or(height, |h| h.height);
    Ok(json!({
        "receipt": json::receipt(height, index, &receipt),
        "certified_height": certified_height,
        "proof": hex(&bundle),
    }))
}

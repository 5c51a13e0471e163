//! The request-response methods: status, transactions, blocks, queries, contract state,
//! history and events.

use crate::{
    code, json,
    params::{
        bytes32, decode_transaction, error, internal, invalid, key_bytes, limit, not_found, order,
        EventFilter, Matcher, Page, Range,
    },
    Node, State, WAIT_MAX,
};
use jsonrpsee::{
    server::RpcModule,
    types::{ErrorObject, ErrorObjectOwned},
};
use serde_json::{json, Value};
use std::{ops::Bound, time::Duration};
use vellum_ledger::QueryResult;
use vellum_types::{hex, Hash};

/// How often a wait looks for its transaction's receipt.
const POLL: Duration = Duration::from_millis(20);

pub(crate) type Reply = Result<Value, ErrorObjectOwned>;

fn submit<N: Node>(state: &State<N>, raw: &str) -> Result<Hash, ErrorObjectOwned> {
    let transaction = decode_transaction(raw)?;
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

pub(crate) fn block<N>(state: &State<N>, height: u64, full: bool) -> Reply {
    let block = state
        .store
        .block(height)
        .map_err(internal)?
        .ok_or_else(|| not_found(format!("no block at height {height} yet")))?;
    let receipts = if full {
        Some(state.store.receipts(height).map_err(internal)?)
    } else {
        None
    };
    Ok(json::block(&block, receipts.as_deref()))
}

/// The events of block `height` that `matcher` wants, with their positions.
pub(crate) fn block_events<N>(
    state: &State<N>,
    height: u64,
    matcher: &Matcher,
) -> Result<Vec<(u32, u32, Value)>, ErrorObjectOwned> {
    let receipts = state.store.receipts(height).map_err(internal)?;
    let mut out = Vec::new();
    for (index, receipt) in receipts.iter().enumerate() {
        for (position, event) in receipt.events.iter().enumerate() {
            if matcher.matches(event) {
                out.push((
                    index as u32,
                    position as u32,
                    json::event(
                        height,
                        index as u32,
                        position as u32,
                        &receipt.transaction,
                        event,
                    ),
                ));
            }
        }
    }
    Ok(out)
}

fn events<N>(state: &State<N>, filter: EventFilter) -> Reply {
    let matcher = Matcher::new(&filter)?;
    let head = state.store.height().map_err(internal)?;
    let limit = limit(filter.limit)?;
    let after = match &filter.cursor {
        Some(cursor) => Some(
            json::parse_event_cursor(cursor)
                .ok_or_else(|| invalid("cursor must be one returned as next_cursor"))?,
        ),
        None => None,
    };
    // A cursor names the last event returned, or (a scan cut short) the last block scanned.
    let from = match after {
        None => filter.from_height.unwrap_or(0),
        Some((height, u32::MAX, u32::MAX)) => height.saturating_add(1),
        Some((height, _, _)) => height,
    };
    let to = filter.to_height.unwrap_or(head).min(head);
    // One call scans a bounded run of blocks; past it, the caller goes on from a cursor that
    // points just before the first block not scanned.
    let scan_end = from.saturating_add(state.limits.event_scan_blocks_max.max(1) - 1);
    let (to, scan_cursor) = if scan_end < to {
        (
            scan_end,
            Some(json::event_cursor((scan_end, u32::MAX, u32::MAX))),
        )
    } else {
        (to, None)
    };
    let mut out: Vec<((u64, u32, u32), Value)> = Vec::new();
    let mut next = None;
    'blocks: for height in from..=to {
        for (index, position, event) in block_events(state, height, &matcher)? {
            if after.is_some_and(|a| (height, index, position) <= a) {
                continue;
            }
            if out.len() == limit {
                next = out
                    .last()
                    .map(|(position, _)| json::event_cursor(*position));
                break 'blocks;
            }
            out.push(((height, index, position), event));
        }
    }
    let next = next.or(scan_cursor);
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

fn query<N>(
    state: &State<N>,
    contract: &str,
    method: &str,
    args: Option<Value>,
    height: Option<u64>,
) -> Reply {
    let contract = bytes32(contract, "contract")?;
    let head = state.store.height().map_err(internal)?;
    if height.is_some_and(|h| h != head) {
        return Err(invalid(format!(
            "queries run against the head (height {head}); for a key's value at a past height use vellum_getHistory"
        )));
    }
    let args = match args {
        None | Some(Value::Null) => "{}".to_string(),
        Some(Value::String(text)) => text,
        Some(other) => other.to_string(),
    };
    match state
        .executor
        .query(&state.store, &contract, method, &args, [0; 32])
        .map_err(internal)?
    {
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

fn transaction<N: Node>(state: &State<N>, hash: &Hash) -> Reply {
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
        return Ok(json!({
            "status": "committed",
            "height": height,
            "index": index,
            "transaction": json::transaction(transaction),
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
    let versions = state
        .store
        .history(
            &contract,
            &key_bytes(key),
            cursor,
            limit,
            order(page.order.as_deref())?,
        )
        .map_err(internal)?;
    let next = (versions.len() == limit)
        .then(|| {
            versions
                .last()
                .map(|v| json::version_cursor(v.height, v.position))
        })
        .flatten();
    Ok(json!({
        "versions": versions.iter().map(json::version).collect::<Vec<_>>(),
        "next_cursor": next,
    }))
}

fn range<N>(state: &State<N>, contract: &str, range: Option<Range>) -> Reply {
    let contract = bytes32(contract, "contract")?;
    let range = range.unwrap_or_default();
    let start = range.start.as_deref().map(key_bytes);
    let end = range.end.as_deref().map(key_bytes);
    let lower = start.as_deref().map_or(Bound::Unbounded, Bound::Included);
    let upper = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    let entries = state
        .store
        .range(
            &contract,
            lower,
            upper,
            limit(range.limit)?,
            order(range.order.as_deref())?,
        )
        .map_err(internal)?;
    Ok(json!({
        "entries": entries
            .iter()
            .map(|(k, v)| json!({"key": json::key(k), "value": json::output(v)}))
            .collect::<Vec<_>>(),
    }))
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
        submit(state, &raw).map(|hash| hex(&hash))
    })?;
    module.register_async_method(
        "vellum_sendRawTransactionAndWait",
        |params, state, _| async move {
            let mut seq = params.sequence();
            let raw: String = seq.next()?;
            let timeout_ms: Option<u64> = seq.optional_next()?;
            let hash = submit(&state, &raw)?;
            let wait = timeout_ms
                .map_or(Duration::from_secs(30), Duration::from_millis)
                .min(WAIT_MAX);
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                if let Some(receipt) = receipt(&state, &hash)? {
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
    module.register_method("vellum_getTransaction", |params, state, _| {
        let (hash,): (String,) = params.parse()?;
        transaction(state, &bytes32(&hash, "hash")?)
    })?;
    module.register_method("vellum_getTransactionReceipt", |params, state, _| {
        let (hash,): (String,) = params.parse()?;
        let hash = bytes32(&hash, "hash")?;
        receipt(state, &hash)?
            .ok_or_else(|| not_found(format!("no committed transaction {}", hex(&hash))))
    })?;
    module.register_method("vellum_getBlockByNumber", |params, state, _| {
        let mut seq = params.sequence();
        let height: u64 = seq.next()?;
        let full: Option<bool> = seq.optional_next()?;
        block(state, height, full.unwrap_or(false))
    })?;
    module.register_method("vellum_getBlockByHash", |params, state, _| {
        let mut seq = params.sequence();
        let hash: String = seq.next()?;
        let full: Option<bool> = seq.optional_next()?;
        let hash = bytes32(&hash, "hash")?;
        let height = state
            .store
            .height_of(&hash)
            .map_err(internal)?
            .ok_or_else(|| not_found(format!("no block with hash {}", hex(&hash))))?;
        block(state, height, full.unwrap_or(false))
    })?;
    module.register_async_method("vellum_query", |params, state, _| async move {
        let mut seq = params.sequence();
        let contract: String = seq.next()?;
        let method: String = seq.next()?;
        let args: Option<Value> = seq.optional_next()?;
        let height: Option<u64> = seq.optional_next()?;
        // A turn first: at most `queries_max` run at once, each on a blocking thread of the
        // server's, so queries never hold the threads that serve connections.
        let wait = state.limits.query_wait_max;
        let permit = match tokio::time::timeout(wait, state.queries.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(closed)) => return Err(internal(closed)),
            Err(_) => {
                return Err(error(
                    code::BUSY,
                    "Busy",
                    format!(
                        "{} queries are running and none finished within {} ms; retry shortly",
                        state.limits.queries_max,
                        wait.as_millis()
                    ),
                ))
            }
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            query(&state, &contract, &method, args, height)
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
        Ok::<Value, ErrorObjectOwned>(json::contract(&address, &info))
    })?;
    module.register_method("vellum_getHistory", |params, state, _| {
        let mut seq = params.sequence();
        let contract: String = seq.next()?;
        let key: String = seq.next()?;
        let page: Option<Page> = seq.optional_next()?;
        history(state, &contract, &key, page)
    })?;
    module.register_method("vellum_getRange", |params, state, _| {
        let mut seq = params.sequence();
        let contract: String = seq.next()?;
        let bounds: Option<Range> = seq.optional_next()?;
        range(state, &contract, bounds)
    })?;
    module.register_method("vellum_getEvents", |params, state, _| {
        let (filter,): (EventFilter,) = params.parse()?;
        events(state, filter)
    })?;
    Ok(())
}

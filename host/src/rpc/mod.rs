//! JSON-RPC 2.0 over HTTP and WebSocket, and Prometheus metrics, on one port.
//!
//! Methods are in the `vellum_` namespace and documented, with a curl example each, in
//! `docs/rpc.md`. They read the node's redb store and submit to its mempool; they never reach
//! into consensus. Malformed requests get JSON-RPC's standard codes (jsonrpsee answers parse
//! errors, invalid requests, unknown methods and batches); everything else gets one of the
//! application codes in [`code`], with a `data` field saying what was wrong and what to do.
//! Subscriptions (WebSocket) replay from a given height before following new blocks, so a
//! client that reconnects with the last height it saw misses nothing.

mod json;
mod metrics;

use crate::{
    consensus::Submitter,
    ledger::{
        transaction::{hex, unhex},
        Address, Hash, QueryResult, SignedTransaction,
    },
};
use jsonrpsee::{
    core::SubscriptionResult,
    server::{
        PendingSubscriptionSink, RpcModule, Server, ServerConfig, ServerHandle, SubscriptionMessage,
    },
    types::{ErrorObject, ErrorObjectOwned, Params},
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::{net::SocketAddr, ops::Bound, sync::Arc, time::Duration};
use vellum_runtime::Order;

/// Application error codes (EIP-1474 style); the standard ones (-32700, -32600, -32601,
/// -32602, -32603) keep their JSON-RPC meaning.
pub mod code {
    /// Nothing with that hash, height or address.
    pub const NOT_FOUND: i32 = -32001;
    /// A contract query failed (the contract returned an error, trapped or ran out of fuel).
    pub const QUERY_FAILED: i32 = -32002;
    /// The transaction was refused: encoding, signature, chain, membership, nonce, a full pool.
    pub const TRANSACTION_REJECTED: i32 = -32003;
    /// The transaction was accepted but not committed within the wait.
    pub const TIMEOUT: i32 = -32004;
    /// A parameter is malformed (the standard code, with the reason in `data`).
    pub const INVALID_PARAMS: i32 = -32602;
    /// The node failed to read its own store.
    pub const INTERNAL: i32 = -32603;
}

/// Largest request body accepted (a deploy carries up to 3 MiB of wasm, hex-encoded).
pub const REQUEST_BYTES_MAX: u32 = 8 << 20;
/// Most items one page returns.
pub const PAGE_MAX: usize = 1_000;
/// Longest `vellum_sendRawTransactionAndWait` waits.
pub const WAIT_MAX: Duration = Duration::from_secs(60);
/// How often subscriptions and waits look for new blocks.
const POLL: Duration = Duration::from_millis(20);

/// What the methods serve from.
pub struct State {
    submitter: Submitter,
    metrics: Box<dyn Fn() -> String + Send + Sync>,
}

impl State {
    /// Serve `submitter`'s ledger; `/metrics` encodes `metrics`' registry.
    pub fn new(submitter: Submitter, metrics: impl commonware_runtime::Metrics + Sync) -> Self {
        Self {
            submitter,
            metrics: Box::new(move || metrics.encode()),
        }
    }
}

/// Start serving on `address`.
pub async fn serve(address: SocketAddr, state: State) -> std::io::Result<ServerHandle> {
    let state = Arc::new(state);
    let layer = metrics::Layer::new({
        let state = state.clone();
        move || (state.metrics)()
    });
    let server = Server::builder()
        .set_config(
            ServerConfig::builder()
                .max_request_body_size(REQUEST_BYTES_MAX)
                .max_response_body_size(64 << 20)
                .build(),
        )
        .set_http_middleware(tower::ServiceBuilder::new().layer(layer))
        .build(address)
        .await?;
    let mut module = RpcModule::from_arc(state);
    register(&mut module).map_err(std::io::Error::other)?;
    Ok(server.start(module))
}

type Reply = Result<Value, ErrorObjectOwned>;

fn error(code: i32, message: &str, data: impl Into<String>) -> ErrorObjectOwned {
    ErrorObject::owned(code, message, Some(data.into()))
}

fn invalid(data: impl Into<String>) -> ErrorObjectOwned {
    error(code::INVALID_PARAMS, "Invalid params", data)
}

fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    error(code::INTERNAL, "Internal error", e.to_string())
}

fn not_found(data: impl Into<String>) -> ErrorObjectOwned {
    error(code::NOT_FOUND, "Not found", data)
}

fn bytes32(text: &str, what: &str) -> Result<[u8; 32], ErrorObjectOwned> {
    unhex(text)
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| invalid(format!("{what} must be 0x and 64 hex digits")))
}

/// A contract key: `0x` hex for bytes, anything else as its UTF-8 bytes.
fn key_bytes(text: &str) -> Vec<u8> {
    unhex(text).unwrap_or_else(|| text.as_bytes().to_vec())
}

fn order(text: Option<&str>) -> Result<Order, ErrorObjectOwned> {
    match text.unwrap_or("asc") {
        "asc" => Ok(Order::Ascending),
        "desc" => Ok(Order::Descending),
        other => Err(invalid(format!(
            "order must be \"asc\" or \"desc\", not {other:?}"
        ))),
    }
}

fn limit(requested: Option<usize>) -> Result<usize, ErrorObjectOwned> {
    match requested.unwrap_or(100) {
        0 => Err(invalid("limit must be at least 1")),
        n if n > PAGE_MAX => Err(invalid(format!("limit is at most {PAGE_MAX}"))),
        n => Ok(n),
    }
}

fn decode_transaction(raw: &str) -> Result<SignedTransaction, ErrorObjectOwned> {
    let bytes = unhex(raw).ok_or_else(|| {
        invalid("expected 0x-prefixed hex of a borsh SignedTransaction (docs/transactions.md)")
    })?;
    SignedTransaction::decode(&bytes).map_err(|e| {
        error(
            code::TRANSACTION_REJECTED,
            "Transaction rejected",
            e.to_string(),
        )
    })
}

fn submit(state: &State, raw: &str) -> Result<Hash, ErrorObjectOwned> {
    let transaction = decode_transaction(raw)?;
    state
        .submitter
        .submit(transaction)
        .map_err(|e| error(code::TRANSACTION_REJECTED, "Transaction rejected", e))
}

fn receipt(state: &State, hash: &Hash) -> Result<Option<Value>, ErrorObjectOwned> {
    let store = state.submitter.ledger().store();
    Ok(store
        .receipt(hash)
        .map_err(internal)?
        .map(|(height, index, receipt)| json::receipt(height, index, &receipt)))
}

fn block(state: &State, height: u64, full: bool) -> Reply {
    let store = state.submitter.ledger().store();
    let block = store
        .block(height)
        .map_err(internal)?
        .ok_or_else(|| not_found(format!("no block at height {height} yet")))?;
    let receipts = if full {
        Some(store.receipts(height).map_err(internal)?)
    } else {
        None
    };
    Ok(json::block(&block, receipts.as_deref()))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Page {
    cursor: Option<String>,
    limit: Option<usize>,
    order: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Range {
    start: Option<String>,
    end: Option<String>,
    limit: Option<usize>,
    order: Option<String>,
}

/// Which events a query or subscription wants.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct EventFilter {
    contract: Option<String>,
    topic: Option<String>,
    from_height: Option<u64>,
    to_height: Option<u64>,
    cursor: Option<String>,
    limit: Option<usize>,
}

/// A filter's contract and topic, parsed.
struct Matcher {
    contract: Option<Address>,
    topic: Option<Vec<u8>>,
}

impl Matcher {
    fn new(filter: &EventFilter) -> Result<Self, ErrorObjectOwned> {
        Ok(Self {
            contract: filter
                .contract
                .as_deref()
                .map(|c| bytes32(c, "contract"))
                .transpose()?,
            topic: filter.topic.as_ref().map(|t| t.as_bytes().to_vec()),
        })
    }

    fn matches(&self, event: &crate::ledger::LedgerEvent) -> bool {
        self.contract.is_none_or(|c| c == event.contract)
            && self.topic.as_ref().is_none_or(|t| *t == event.topic)
    }
}

/// The events of block `height` that `matcher` wants, with their positions.
fn block_events(
    state: &State,
    height: u64,
    matcher: &Matcher,
) -> Result<Vec<(u32, u32, Value)>, ErrorObjectOwned> {
    let store = state.submitter.ledger().store();
    let receipts = store.receipts(height).map_err(internal)?;
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

fn events(state: &State, filter: EventFilter) -> Reply {
    let matcher = Matcher::new(&filter)?;
    let head = state
        .submitter
        .ledger()
        .store()
        .height()
        .map_err(internal)?;
    let limit = limit(filter.limit)?;
    let after = match &filter.cursor {
        Some(cursor) => Some(
            json::parse_event_cursor(cursor)
                .ok_or_else(|| invalid("cursor must be one returned as next_cursor"))?,
        ),
        None => None,
    };
    let from = after.map_or(filter.from_height.unwrap_or(0), |(h, _, _)| h);
    let to = filter.to_height.unwrap_or(head).min(head);
    let mut out = Vec::new();
    let mut next = None;
    'blocks: for height in from..=to {
        for (index, position, event) in block_events(state, height, &matcher)? {
            if after.is_some_and(|a| (height, index, position) <= a) {
                continue;
            }
            if out.len() == limit {
                next = Some(json::event_cursor(out_last(&out)));
                break 'blocks;
            }
            out.push(((height, index, position), event));
        }
    }
    Ok(json!({
        "events": out.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>(),
        "next_cursor": next,
        "to_height": to,
    }))
}

fn out_last(out: &[((u64, u32, u32), Value)]) -> (u64, u32, u32) {
    out.last().map_or((0, 0, 0), |(position, _)| *position)
}

fn status(state: &State) -> Reply {
    let ledger = state.submitter.ledger();
    let head = ledger.store().head().map_err(internal)?;
    let genesis = ledger.executor().genesis();
    let peers = (state.metrics)()
        .lines()
        .find_map(|line| line.strip_prefix("network_tracker_directory_connected "))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .map(|value| value as u64);
    let tip = ledger.finalized_tip();
    let mempool = ledger.mempool();
    Ok(json!({
        "chain_id": genesis.chain_id,
        "height": head.height,
        "hash": hex(&head.hash()),
        "state_root": hex(&head.state_root),
        "time_ms": head.time_ms,
        "finalized_tip": tip.max(head.height),
        "syncing": tip > head.height + 1,
        "peers": peers,
        "validators": genesis.validators.iter().map(|v| json!({
            "name": v.name, "organisation": v.organisation, "public_key": v.public_key,
        })).collect::<Vec<_>>(),
        "mempool": { "transactions": mempool.len(), "bytes": mempool.bytes() },
        "halted": ledger.halted().map(|h| h.to_string()),
    }))
}

fn query(
    state: &State,
    contract: &str,
    method: &str,
    args: Option<Value>,
    height: Option<u64>,
) -> Reply {
    let ledger = state.submitter.ledger();
    let contract = bytes32(contract, "contract")?;
    let head = ledger.store().height().map_err(internal)?;
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
    match ledger
        .executor()
        .query(ledger.store(), &contract, method, &args, [0; 32])
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

fn register(module: &mut RpcModule<State>) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_method("vellum_chainId", |_, state, _| {
        state
            .submitter
            .ledger()
            .executor()
            .genesis()
            .chain_id
            .clone()
    })?;
    module.register_method("vellum_status", |_, state, _| status(state))?;
    module.register_method("vellum_getNonce", |params, state, _| {
        let (address,): (String,) = params.parse()?;
        let address = bytes32(&address, "address")?;
        state
            .submitter
            .ledger()
            .store()
            .next_nonce(&address)
            .map_err(internal)
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
        let hash = bytes32(&hash, "hash")?;
        let store = state.submitter.ledger().store();
        if let Some((height, index)) = store.transaction_location(&hash).map_err(internal)? {
            let block = store.block(height).map_err(internal)?.ok_or_else(|| internal("indexed block missing"))?;
            let transaction = block.transactions.get(index as usize).ok_or_else(|| internal("indexed transaction missing"))?;
            return Ok(json!({ "status": "committed", "height": height, "index": index, "transaction": json::transaction(transaction) }));
        }
        if state.submitter.ledger().mempool().contains(&hash) {
            return Ok(json!({ "status": "pending", "hash": hex(&hash) }));
        }
        Err(not_found(format!("{} is neither committed nor pending here", hex(&hash))))
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
            .submitter
            .ledger()
            .store()
            .height_of(&hash)
            .map_err(internal)?
            .ok_or_else(|| not_found(format!("no block with hash {}", hex(&hash))))?;
        block(state, height, full.unwrap_or(false))
    })?;
    module.register_method("vellum_query", |params, state, _| {
        let mut seq = params.sequence();
        let contract: String = seq.next()?;
        let method: String = seq.next()?;
        let args: Option<Value> = seq.optional_next()?;
        let height: Option<u64> = seq.optional_next()?;
        query(state, &contract, &method, args, height)
    })?;
    module.register_method("vellum_getContract", |params, state, _| {
        let (contract,): (String,) = params.parse()?;
        let address = bytes32(&contract, "contract")?;
        let store = state.submitter.ledger().store();
        let bytes = store
            .get(
                &crate::ledger::SYSTEM,
                &crate::ledger::records::contract_key(&address)[32..],
            )
            .map_err(internal)?
            .ok_or_else(|| not_found(format!("no contract at {}", hex(&address))))?;
        let info: crate::ledger::records::ContractInfo =
            borsh::from_slice(&bytes).map_err(internal)?;
        Ok::<Value, ErrorObjectOwned>(json::contract(&address, &info))
    })?;
    module.register_method("vellum_getHistory", |params, state, _| {
        let mut seq = params.sequence();
        let contract: String = seq.next()?;
        let key: String = seq.next()?;
        let page: Option<Page> = seq.optional_next()?;
        let contract = bytes32(&contract, "contract")?;
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
            .submitter
            .ledger()
            .store()
            .history(
                &contract,
                &key_bytes(&key),
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
        Ok::<Value, ErrorObjectOwned>(json!({
            "versions": versions.iter().map(json::version).collect::<Vec<_>>(),
            "next_cursor": next,
        }))
    })?;
    module.register_method("vellum_getRange", |params, state, _| {
        let mut seq = params.sequence();
        let contract: String = seq.next()?;
        let range: Option<Range> = seq.optional_next()?;
        let contract = bytes32(&contract, "contract")?;
        let range = range.unwrap_or_default();
        let start = range.start.as_deref().map(key_bytes);
        let end = range.end.as_deref().map(key_bytes);
        let lower = start.as_deref().map_or(Bound::Unbounded, Bound::Included);
        let upper = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        let entries = state
            .submitter
            .ledger()
            .store()
            .range(&contract, lower, upper, limit(range.limit)?, order(range.order.as_deref())?)
            .map_err(internal)?;
        Ok::<Value, ErrorObjectOwned>(json!({
            "entries": entries.iter().map(|(k, v)| json!({"key": json::key(k), "value": json::output(v)})).collect::<Vec<_>>(),
        }))
    })?;
    module.register_method("vellum_getEvents", |params, state, _| {
        let (filter,): (EventFilter,) = params.parse()?;
        events(state, filter)
    })?;
    module.register_subscription(
        "vellum_subscribeBlocks",
        "vellum_block",
        "vellum_unsubscribeBlocks",
        |params, pending, state, _| async move { follow_blocks(params, pending, state).await },
    )?;
    module.register_subscription(
        "vellum_subscribeEvents",
        "vellum_event",
        "vellum_unsubscribeEvents",
        |params, pending, state, _| async move { follow_events(params, pending, state).await },
    )?;
    Ok(())
}

/// Blocks from `from_height` (default: the next one), then every new one, in order.
async fn follow_blocks(
    params: Params<'static>,
    pending: PendingSubscriptionSink,
    state: Arc<State>,
) -> SubscriptionResult {
    match params.sequence().optional_next::<u64>() {
        Ok(from) => {
            follow(pending, &state, from, |state, height| {
                block(state, height, false).map(|b| vec![b])
            })
            .await
        }
        Err(e) => {
            pending.reject(e).await;
            Ok(())
        }
    }
}

/// Events matching a filter from `from_height` (default: the next block), then as blocks
/// commit.
async fn follow_events(
    params: Params<'static>,
    pending: PendingSubscriptionSink,
    state: Arc<State>,
) -> SubscriptionResult {
    let parsed = params
        .parse::<(EventFilter,)>()
        .and_then(|(filter,)| Matcher::new(&filter).map(|m| (filter.from_height, m)));
    match parsed {
        Ok((from, matcher)) => {
            follow(pending, &state, from, |state, height| {
                Ok(block_events(state, height, &matcher)?
                    .into_iter()
                    .map(|(_, _, event)| event)
                    .collect())
            })
            .await
        }
        Err(e) => {
            pending.reject(e).await;
            Ok(())
        }
    }
}

/// Send `items(height)` for every block from `from` (default: the next one) as it commits,
/// until the client goes away.
async fn follow(
    pending: PendingSubscriptionSink,
    state: &State,
    from: Option<u64>,
    items: impl Fn(&State, u64) -> Result<Vec<Value>, ErrorObjectOwned>,
) -> SubscriptionResult {
    let store = state.submitter.ledger().store().clone();
    let mut next = match from {
        Some(height) => height,
        None => store.height()? + 1,
    };
    let sink = pending.accept().await?;
    loop {
        while next <= store.height()? {
            for item in items(state, next).map_err(|e| e.message().to_string())? {
                let message = serde_json::value::to_raw_value(&item)?;
                sink.send(SubscriptionMessage::from(message)).await?;
            }
            next += 1;
        }
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

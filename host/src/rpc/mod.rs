//! JSON-RPC 2.0 over HTTP and WebSocket, and Prometheus metrics, on one port.
//!
//! Methods are in the `vellum_` namespace. Requests run against the node's ledger and mempool
//! only: the RPC layer reads the store and submits to the mempool, and never reaches into
//! consensus. Failures use JSON-RPC's standard codes for malformed requests and the
//! application codes of [`code`], with a `data` field saying what was wrong.

mod metrics;

use crate::{
    consensus::Submitter,
    ledger::{
        transaction::{hex, keccak256, unhex},
        Block, Receipt, SignedTransaction, Status,
    },
};
use jsonrpsee::{
    server::{RpcModule, Server, ServerConfig, ServerHandle},
    types::{ErrorObject, ErrorObjectOwned, Params},
};
use serde_json::{json, Value};
use std::{net::SocketAddr, sync::Arc};

/// Application error codes (EIP-1474 style).
pub mod code {
    /// The transaction was refused: bad encoding, signature, nonce, membership, or a full pool.
    pub const TRANSACTION_REJECTED: i32 = -32003;
    /// Nothing with that hash or height.
    pub const NOT_FOUND: i32 = -32001;
    /// The node failed to read its own store.
    pub const INTERNAL: i32 = -32603;
    /// A parameter is malformed.
    pub const INVALID_PARAMS: i32 = -32602;
}

/// Largest request body accepted.
pub const REQUEST_BYTES_MAX: u32 = 8 << 20;

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
                .build(),
        )
        .set_http_middleware(tower::ServiceBuilder::new().layer(layer))
        .build(address)
        .await?;
    let mut module = RpcModule::from_arc(state);
    register(&mut module).map_err(std::io::Error::other)?;
    Ok(server.start(module))
}

fn error(code: i32, message: &str, data: impl Into<String>) -> ErrorObjectOwned {
    ErrorObject::owned(code, message, Some(data.into()))
}

fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    error(code::INTERNAL, "node failure", e.to_string())
}

fn hash_param(params: &Params) -> Result<[u8; 32], ErrorObjectOwned> {
    let (text,): (String,) = params.parse()?;
    unhex(&text)
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| {
            error(
                code::INVALID_PARAMS,
                "invalid params",
                "expected a 0x-prefixed 32-byte hex hash",
            )
        })
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
    module.register_method("vellum_sendRawTransaction", |params, state, _| {
        let (raw,): (String,) = params.parse()?;
        let bytes = unhex(&raw).ok_or_else(|| {
            error(
                code::INVALID_PARAMS,
                "invalid params",
                "expected 0x-prefixed hex of a borsh SignedTransaction",
            )
        })?;
        let transaction = SignedTransaction::decode(&bytes).map_err(|e| {
            error(
                code::TRANSACTION_REJECTED,
                "transaction rejected",
                e.to_string(),
            )
        })?;
        state
            .submitter
            .submit(transaction)
            .map(|hash| hex(&hash))
            .map_err(|e| error(code::TRANSACTION_REJECTED, "transaction rejected", e))
    })?;
    module.register_method("vellum_getBlockByNumber", |params, state, _| {
        let (height,): (u64,) = params.parse()?;
        let store = state.submitter.ledger().store();
        let block = store.block(height).map_err(internal)?.ok_or_else(|| {
            error(
                code::NOT_FOUND,
                "not found",
                format!("no block at height {height}"),
            )
        })?;
        Ok::<Value, ErrorObjectOwned>(block_json(&block))
    })?;
    module.register_method("vellum_getTransactionReceipt", |params, state, _| {
        let hash = hash_param(&params)?;
        let store = state.submitter.ledger().store();
        let (height, index, receipt) =
            store.receipt(&hash).map_err(internal)?.ok_or_else(|| {
                error(
                    code::NOT_FOUND,
                    "not found",
                    format!("no committed transaction {}", hex(&hash)),
                )
            })?;
        Ok::<Value, ErrorObjectOwned>(receipt_json(height, index, &receipt))
    })?;
    Ok(())
}

fn status(state: &State) -> Result<Value, ErrorObjectOwned> {
    let ledger = state.submitter.ledger();
    let head = ledger.store().head().map_err(internal)?;
    let mempool = ledger.mempool();
    Ok(json!({
        "chain_id": ledger.executor().genesis().chain_id,
        "height": head.height,
        "hash": hex(&head.hash()),
        "state_root": hex(&head.state_root),
        "time_ms": head.time_ms,
        "validators": ledger.executor().genesis().validators.len(),
        "mempool": { "transactions": mempool.len(), "bytes": mempool.bytes() },
        "halted": ledger.halted().map(|h| h.to_string()),
    }))
}

fn block_json(block: &Block) -> Value {
    let header = &block.header;
    json!({
        "height": header.height,
        "hash": hex(&header.hash()),
        "parent": hex(&header.parent),
        "time_ms": header.time_ms,
        "proposer": hex(&header.proposer),
        "transactions_root": hex(&header.transactions_root),
        "receipts_root": hex(&header.receipts_root),
        "state_root": hex(&header.state_root),
        "fuel_used": header.fuel_used,
        "schedule_version": header.schedule_version,
        "transactions": block.transactions.iter().map(|t| hex(&t.hash())).collect::<Vec<_>>(),
    })
}

fn receipt_json(height: u64, index: u32, receipt: &Receipt) -> Value {
    let (status, error) = match &receipt.status {
        Status::Success => ("success", Value::Null),
        Status::ContractError { code, message } => {
            ("contract_error", json!({"code": code, "message": message}))
        }
        Status::Trap(trap) => ("trap", json!(trap)),
        Status::OutOfFuel => ("out_of_fuel", Value::Null),
        Status::Refused(reason) => ("refused", json!(reason)),
    };
    json!({
        "transaction": hex(&receipt.transaction),
        "height": height,
        "index": index,
        "status": status,
        "error": error,
        "output": String::from_utf8_lossy(&receipt.output),
        "fuel_used": receipt.fuel_used,
        "contract": receipt.contract.map(|c| hex(&c)),
        "events": receipt.events.iter().map(|e| json!({
            "contract": hex(&e.contract),
            "topic": String::from_utf8_lossy(&e.topic),
            "data": String::from_utf8_lossy(&e.data),
        })).collect::<Vec<_>>(),
        "receipt_hash": hex(&keccak256(&borsh::to_vec(receipt).unwrap_or_default())),
    })
}

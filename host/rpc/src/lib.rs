//! JSON-RPC 2.0 over HTTP and WebSocket, and Prometheus metrics, on one port.
//!
//! # This room
//!
//! Methods are in the `vellum_` namespace and documented, with a curl example each, in
//! `docs/rpc.md`. They read the ledger through its public read API (the [`Store`]'s reads and
//! [`Executor::query`]) and reach the rest of the node through one trait, [`Node`]: submit a
//! transaction, ask whether one is pending, report status and metrics. The node implements it
//! over consensus; this crate never names a consensus type, so nothing here can reach into
//! ordering.
//!
//! Malformed requests get JSON-RPC's standard codes (jsonrpsee answers parse errors, invalid
//! requests, unknown methods and batches); everything else gets one of the application codes
//! in [`code`], with a `data` field saying what was wrong and what to do. Subscriptions
//! (WebSocket) replay from a given height before following new blocks, so a client that
//! reconnects with the last height it saw misses nothing.
//!
//! It may use `vellum-types`, `vellum-ledger`, jsonrpsee and tokio. It must never know about
//! consensus, networks between validators or the CLI.

mod json;
mod methods;
mod metrics;
mod params;
mod subscriptions;

pub use vellum_types::rpc::{code, REQUEST_BYTES_MAX};

use jsonrpsee::server::{RpcModule, Server, ServerConfig, ServerHandle};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use vellum_ledger::{Executor, Store};
use vellum_types::{Hash, SignedTransaction};

/// Most items one page returns.
pub const PAGE_MAX: usize = 1_000;
/// Longest `vellum_sendRawTransactionAndWait` waits.
pub const WAIT_MAX: Duration = Duration::from_secs(60);
/// Largest response body.
pub const RESPONSE_BYTES_MAX: u32 = 64 << 20;

/// What the JSON-RPC server needs from the node beyond the ledger's reads.
pub trait Node: Send + Sync + 'static {
    /// Why a submission was refused.
    type SubmitError: std::error::Error + Send + Sync + 'static;

    /// Check `transaction`, queue it and pass it on to the validators; its hash.
    fn submit(&self, transaction: SignedTransaction) -> Result<Hash, Self::SubmitError>;

    /// Whether a transaction with `hash` waits in this node's pool.
    fn is_pending(&self, hash: &Hash) -> bool;

    /// What `vellum_status` reports beyond the head.
    fn status(&self) -> NodeStatus;

    /// The node's metrics, in Prometheus text format.
    fn metrics(&self) -> String;
}

/// The node's state beyond its ledger, as `vellum_status` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStatus {
    /// The highest height the network is known to have finalized.
    pub finalized_tip: u64,
    /// Validators this node is connected to, if it knows.
    pub peers: Option<u64>,
    /// Transactions in its pool.
    pub mempool_transactions: usize,
    /// Their encoded bytes.
    pub mempool_bytes: usize,
    /// Why it halted, if it did.
    pub halted: Option<String>,
}

/// What the methods serve from.
pub struct State<N> {
    store: Arc<Store>,
    executor: Arc<Executor>,
    node: N,
}

impl<N: Node> State<N> {
    /// Serve `store`'s ledger, running queries with `executor`, submitting to `node`.
    pub fn new(store: Arc<Store>, executor: Arc<Executor>, node: N) -> Self {
        Self {
            store,
            executor,
            node,
        }
    }
}

/// Start serving on `address`.
pub async fn serve<N: Node>(address: SocketAddr, state: State<N>) -> std::io::Result<ServerHandle> {
    let state = Arc::new(state);
    let layer = metrics::Layer::new({
        let state = state.clone();
        move || state.node.metrics()
    });
    let server = Server::builder()
        .set_config(
            ServerConfig::builder()
                .max_request_body_size(REQUEST_BYTES_MAX)
                .max_response_body_size(RESPONSE_BYTES_MAX)
                .build(),
        )
        .set_http_middleware(tower::ServiceBuilder::new().layer(layer))
        .build(address)
        .await?;
    let mut module = RpcModule::from_arc(state);
    methods::register(&mut module).map_err(std::io::Error::other)?;
    subscriptions::register(&mut module).map_err(std::io::Error::other)?;
    Ok(server.start(module))
}

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

mod access;
mod callers;
mod connections;
mod directory;
mod gates;
mod json;
mod methods;
mod params;
mod private;
mod subscriptions;
mod tls;

pub use access::ReadPolicy;
pub use directory::ACCOUNT_TRANSACTIONS_MAX;
pub use gates::EXPLORER;
pub use private::Private;
pub use tls::{Tls, TlsError};
pub use vellum_types::rpc::{code, REQUEST_BYTES_MAX};

use jsonrpsee::server::{
    serve_with_graceful_shutdown, stop_channel, BatchRequestConfig, Methods, PingConfig, RpcModule,
    Server as Jsonrpsee, ServerConfig, ServerHandle,
};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tokio::sync::{watch, Semaphore};
use vellum_ledger::{Executor, Store};
use vellum_types::{Hash, SignedTransaction};

/// Most items one page returns.
pub const PAGE_MAX: usize = 1_000;
/// Longest `vellum_sendRawTransactionAndWait` waits.
pub const WAIT_MAX: Duration = Duration::from_secs(60);
/// Largest response body the server sends, whatever [`Limits::response_bytes_max`] says: a
/// backstop, never reached by a paged answer.
pub const RESPONSE_BYTES_MAX: u32 = 64 << 20;

/// The bounds on what callers can make the server do. Every one is per node; the defaults suit
/// a validator on two cores.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Threads serving connections. They are the server's own: no request, however heavy, runs
    /// on the threads that vote and execute blocks.
    pub workers: usize,
    /// Open TCP connections (HTTP and WebSocket together). Past it a new one takes the place of
    /// an open one: never answered before answered, then of the address holding the most, then
    /// silent longest (see `connections.rs`); a socket that cannot take one within a second is
    /// closed.
    pub connections_max: u32,
    /// How long a connection may move no byte before it is closed. WebSocket clients are pinged
    /// every `ws_ping`, so a live one is never idle this long.
    pub idle_max: Duration,
    /// How often the server pings a WebSocket client; one that answers none of them for twice
    /// this long is dropped (the pings themselves keep its bytes moving, so `idle_max` never
    /// would).
    pub ws_ping: Duration,
    /// Calls in one JSON-RPC batch.
    pub batch_max: u32,
    /// Subscriptions on one WebSocket connection.
    pub subscriptions_per_connection_max: u32,
    /// Contract queries (`vellum_query`) running at once, each on a thread of its own and each
    /// bounded by the chain's `query_fuel_max`.
    pub queries_max: usize,
    /// How long a query waits for a turn before it is refused with [`code::BUSY`].
    pub query_wait_max: Duration,
    /// Bytes of data (keys, values, events, transactions; JSON adds its own framing) one answer
    /// carries. A paged answer stops before the item that would pass it and returns a cursor,
    /// yet always carries at least one item (each is bounded by the chain's limits); a block in
    /// full that passes it is refused with [`code::RESPONSE_TOO_LARGE`].
    pub response_bytes_max: usize,
    /// Host names (beyond IP addresses and `localhost`) a request may name in its `Host`
    /// header; a browser request must also come from the node's own origin (see `docs/rpc.md`).
    pub hosts: Vec<String>,
    /// Who may read contracts' raw storage, events, and transactions' arguments and outcomes
    /// ([`ReadPolicy`]); the ledger's own records are members' only whatever it says.
    pub read_policy: ReadPolicy,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            workers: 2,
            connections_max: 256,
            idle_max: Duration::from_secs(60),
            ws_ping: Duration::from_secs(20),
            batch_max: 100,
            subscriptions_per_connection_max: 64,
            queries_max: 1,
            query_wait_max: Duration::from_secs(2),
            response_bytes_max: 4 << 20,
            hosts: Vec::new(),
            read_policy: ReadPolicy::Public,
        }
    }
}

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

    /// Send the record with salted hash `hash` (already in this node's side store) to the nodes
    /// of its collection's organisations; `false` if too many records wait to be sent.
    fn share_private(&self, hash: Hash) -> bool;
}

/// The node's state beyond its ledger, as `vellum_status` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStatus {
    /// Whether this node is an observer (follows the validators without voting) rather than a
    /// validator.
    pub observer: bool,
    /// The highest height the network is known to have finalized.
    pub finalized_tip: u64,
    /// Peers (validators and observers) this node is connected to, if it knows.
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
    limits: Limits,
    /// Turns for contract queries.
    queries: Arc<Semaphore>,
    /// The committed height, as one watcher sees it: subscriptions wait on it instead of each
    /// polling the store.
    head: watch::Receiver<u64>,
    head_sender: watch::Sender<u64>,
    /// The side store of private data, on a node that belongs to an organisation.
    private: Option<Private>,
}

impl<N: Node> State<N> {
    /// Serve `store`'s ledger, running queries with `executor`, submitting to `node`, within
    /// the default [`Limits`].
    pub fn new(store: Arc<Store>, executor: Arc<Executor>, node: N) -> Self {
        Self::with_limits(store, executor, node, Limits::default())
    }

    /// The same, within `limits`.
    pub fn with_limits(
        store: Arc<Store>,
        executor: Arc<Executor>,
        node: N,
        limits: Limits,
    ) -> Self {
        let (head_sender, head) = watch::channel(0);
        Self {
            store,
            executor,
            node,
            queries: Arc::new(Semaphore::new(limits.queries_max.max(1))),
            limits,
            head,
            head_sender,
            private: None,
        }
    }

    /// The organisation this node belongs to, if it was given one (with its private data).
    pub(crate) fn organisation(&self) -> Option<&str> {
        self.private.as_ref().map(|p| p.organisation.as_str())
    }

    /// Serve `vellum_putPrivate` and `vellum_getPrivate` from `private`.
    pub fn with_private(mut self, private: Private) -> Self {
        self.private = Some(private);
        self
    }
}

/// A running server. It has its own threads; dropping it stops them.
pub struct Server {
    handle: ServerHandle,
    address: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Stop accepting and close every connection.
    pub fn stop(&self) {
        let _ = self.handle.stop();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.handle.stop();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// How often the one watcher looks for a new committed height.
const HEAD_POLL: Duration = Duration::from_millis(20);

/// Start serving plain HTTP and WebSocket on `address`, on threads of the server's own
/// (`Limits::workers`, named `vellum-rpc`), so that callers share those and never the caller's
/// runtime.
pub async fn serve<N: Node>(address: SocketAddr, state: State<N>) -> std::io::Result<Server> {
    serve_with(address, state, None).await
}

/// The same, over TLS (HTTPS and WSS only) when `tls` is given.
pub async fn serve_with<N: Node>(
    address: SocketAddr,
    state: State<N>,
    tls: Option<Tls>,
) -> std::io::Result<Server> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(state.limits.workers.max(1))
        .max_blocking_threads(state.limits.queries_max.max(1) + 1)
        .thread_name("vellum-rpc")
        .enable_all()
        .build()?;
    let state = Arc::new(state);
    let started = runtime.spawn(start(address, state.clone(), tls));
    let (handle, address) = started.await.map_err(std::io::Error::other)??;
    runtime.spawn(watch_head(state));
    Ok(Server {
        handle,
        address,
        runtime: Some(runtime),
    })
}

async fn start<N: Node>(
    address: SocketAddr,
    state: Arc<State<N>>,
    tls: Option<Tls>,
) -> std::io::Result<(ServerHandle, SocketAddr)> {
    let limits = state.limits.clone();
    let metrics = gates::Layer::metrics({
        let state = state.clone();
        move || state.node.metrics()
    });
    let builder = Jsonrpsee::builder()
        .set_config(
            ServerConfig::builder()
                .max_request_body_size(REQUEST_BYTES_MAX)
                .max_response_body_size(RESPONSE_BYTES_MAX)
                .max_connections(limits.connections_max)
                .max_subscriptions_per_connection(limits.subscriptions_per_connection_max)
                .set_batch_request_config(BatchRequestConfig::Limit(limits.batch_max))
                .enable_ws_ping(
                    PingConfig::new()
                        .ping_interval(limits.ws_ping)
                        .inactive_limit(2 * limits.ws_ping),
                )
                .build(),
        )
        .set_http_middleware(
            tower::ServiceBuilder::new()
                .layer(gates::Layer::origins(limits.hosts.clone()))
                .layer(callers::gate(
                    &state.executor.genesis().chain_id,
                    state.organisation().map(str::to_string),
                    state.store.clone(),
                ))
                .layer(metrics)
                .layer(gates::Layer::explorer(
                    std::env::var_os("VELLUM_EXPLORER_DIR").map(Into::into),
                )),
        )
        .to_service_builder();
    let methods: Methods = module(state).map_err(std::io::Error::other)?.into();
    let listener = tokio::net::TcpListener::bind(address).await?;
    let address = listener.local_addr()?;
    let (stop, handle) = stop_channel();
    let connections = connections::Connections::new(limits.connections_max as usize);
    tokio::spawn(async move {
        loop {
            let (socket, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    // Out of file descriptors, most likely: let connections close first.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = stop.clone().shutdown() => return,
            };
            // No place for it: the socket is dropped, so closed, at once.
            let Some(admission) = connections.admit(peer.ip()) else {
                continue;
            };
            let _ = socket.set_nodelay(true);
            let service = builder.clone().build(methods.clone(), stop.clone());
            let stopped = stop.clone().shutdown();
            let connections = connections.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let Some(slot) = connections.place(admission, peer.ip()).await else {
                    return;
                };
                let socket = connections::Watched::new(socket, slot.activity().clone());
                // The handshake runs in the slot, under the same bounds as the requests.
                let served = async move {
                    match tls {
                        None => serve_with_graceful_shutdown(socket, service, stopped).await,
                        Some(tls) => match tls.acceptor.accept(socket).await {
                            Ok(socket) => {
                                serve_with_graceful_shutdown(socket, service, stopped).await
                            }
                            Err(_) => Ok(()),
                        },
                    }
                };
                tokio::select! {
                    _ = served => {}
                    _ = slot.activity().idle(limits.idle_max) => {}
                    _ = slot.displaced() => {}
                }
            });
        }
    });
    Ok((handle, address))
}

/// Every method and subscription over `state`, without a server: what [`serve`] serves, for
/// calling in-process (`RpcModule::call`, `raw_json_request`) and for fuzzing the parameters.
pub fn module<N: Node>(
    state: Arc<State<N>>,
) -> Result<RpcModule<State<N>>, jsonrpsee::core::RegisterMethodError> {
    let mut module = RpcModule::from_arc(state);
    methods::register(&mut module)?;
    directory::register(&mut module)?;
    private::register(&mut module)?;
    subscriptions::register(&mut module)?;
    Ok(module)
}

/// Publish the committed height to every subscription (the task ends with the server's runtime).
async fn watch_head<N: Node>(state: Arc<State<N>>) {
    loop {
        if let Ok(height) = state.store.height() {
            state.head_sender.send_if_modified(|seen| {
                let changed = *seen != height;
                *seen = height;
                changed
            });
        }
        tokio::time::sleep(HEAD_POLL).await;
    }
}

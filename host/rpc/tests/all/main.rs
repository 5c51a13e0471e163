//! The JSON-RPC server against callers who want to stall it: a real redb ledger, real wasm, the
//! real server on 127.0.0.1, and jsonrpsee's clients. The rest of the node (consensus) is not
//! here: [`Offline`] stands in for it and refuses every submission.

use jsonrpsee::{
    core::{
        client::{ClientT, Subscription, SubscriptionClientT},
        ClientError,
    },
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
    ws_client::WsClientBuilder,
};
use serde_json::{json, Value};
use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    sync::Arc,
    time::Duration,
};
use vellum_ledger::testing::{call, genesis, sign, Node, CHAIN};
use vellum_rpc::{code, Limits, NodeStatus, Server, State};
use vellum_types::{Action, DeployPolicy, Hash, SignedTransaction, Status};

/// The rest of the node: nothing pending, every submission refused.
struct Offline;

impl vellum_rpc::Node for Offline {
    type SubmitError = std::io::Error;

    fn submit(&self, _: SignedTransaction) -> Result<Hash, std::io::Error> {
        Err(std::io::Error::other("this node is offline"))
    }

    fn is_pending(&self, _: &Hash) -> bool {
        false
    }

    fn status(&self) -> NodeStatus {
        NodeStatus::default()
    }

    fn metrics(&self) -> String {
        String::new()
    }

    fn share_private(&self, _: Hash) -> bool {
        true
    }
}

/// A contract whose query `spin` loops until its fuel runs out, whose query `whoami` returns
/// its caller's address, and whose transaction `shout` emits one event.
fn spinner() -> Vec<u8> {
    wat::parse_str(
        r#"(module
             (import "vellum" "emit_event" (func $emit (param i32 i32 i32 i32)))
             (import "vellum" "caller" (func $caller (param i32)))
             (import "vellum" "set_return" (func $return (param i32 i32)))
             (memory (export "memory") 1)
             (data (i32.const 0) "shout{}")
             (func (export "instantiate"))
             (func (export "query.spin") (loop $l (br $l)))
             (func (export "query.whoami")
               (call $caller (i32.const 64))
               (call $return (i32.const 64) (i32.const 32)))
             (func (export "execute.shout") (call $emit (i32.const 0) (i32.const 5) (i32.const 5) (i32.const 2))))"#,
    )
    .expect("valid wat")
}

/// A ledger holding the spinner (deployed in block 1), `empty` empty blocks after it, and
/// then one block whose three transactions each emit an event. The ledger's queries may use
/// `query_fuel_max`.
fn ledger(query_fuel_max: u64, empty: u64) -> (Node, [u8; 32]) {
    let mut genesis = genesis(DeployPolicy::AnyAdmin);
    genesis.limits.query_fuel_max = query_fuel_max;
    let node = Node::new(genesis);
    let deployed = node.block(vec![sign(
        1,
        0,
        Action::Deploy {
            code: spinner(),
            init_args: String::new(),
        },
    )]);
    assert_eq!(deployed.receipts[0].status, Status::Success, "{deployed:?}");
    let contract = deployed.receipts[0].contract.expect("an address");
    for _ in 0..empty {
        node.block(vec![]);
    }
    let shout = node.block(
        (1..=3)
            .map(|nonce| call(1, nonce, contract, "shout", json!({})))
            .collect(),
    );
    assert!(
        shout.receipts.iter().all(|r| r.status == Status::Success),
        "{shout:?}"
    );
    (node, contract)
}

/// Serve `node` within `limits`, from a runtime of the caller's that is then left undriven:
/// the stand-in for a validator whose consensus threads are all busy.
fn serve(node: Node, limits: Limits) -> (Server, tokio::runtime::Runtime, tempfile::TempDir) {
    let Node {
        store,
        executor,
        dir,
    } = node;
    let state = State::with_limits(Arc::new(store), Arc::new(executor), Offline, limits);
    let (server, caller) = serve_state(state);
    (server, caller, dir)
}

/// Serve `state` as [`serve`] does.
fn serve_state(state: State<Offline>) -> (Server, tokio::runtime::Runtime) {
    let caller = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let address: SocketAddr = "127.0.0.1:0".parse().expect("address");
    let server = caller
        .block_on(vellum_rpc::serve(address, state))
        .expect("the server starts");
    (server, caller)
}

/// A client of `server` for a member (key 3, of bank-a): the ledger's own records are members'
/// only.
fn client(server: &Server) -> HttpClient {
    HttpClientBuilder::default()
        .set_headers(caller_headers(3, 30 * 60 * 1000))
        .request_timeout(Duration::from_secs(20))
        .build(format!("http://{}", server.local_addr()))
        .expect("client")
}

fn error_code(error: ClientError) -> i32 {
    match error {
        ClientError::Call(error) => error.code(),
        other => panic!("expected an error object, got {other}"),
    }
}

/// A runtime for the test's own clients.
fn clients() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn the_server_answers_while_the_runtime_that_started_it_is_stalled() {
    let (node, contract) = ledger(50_000_000, 0);
    let (server, _stalled, _dir) = serve(node, Limits::default());
    clients().block_on(async {
        let client = client(&server);
        let chain: String = client
            .request("vellum_chainId", rpc_params![])
            .await
            .expect("an answer");
        assert_eq!(chain, vellum_ledger::testing::CHAIN);
        // A query that spins to its fuel cap fails as a query, and the server goes on.
        let spun = client
            .request::<Value, _>(
                "vellum_query",
                rpc_params![vellum_types::hex(&contract), "spin"],
            )
            .await
            .expect_err("it runs out of fuel");
        assert_eq!(error_code(spun), code::QUERY_FAILED);
        let status: Value = client
            .request("vellum_status", rpc_params![])
            .await
            .expect("an answer");
        assert_eq!(status["height"], 2);
    });
}

#[test]
fn queries_past_the_bound_are_refused_busy_not_queued_forever() {
    // Each query spins for a long while (seconds); one runs at a time and no one waits.
    let (node, contract) = ledger(2_000_000_000, 0);
    let limits = Limits {
        queries_max: 1,
        query_wait_max: Duration::ZERO,
        ..Limits::default()
    };
    let (server, _stalled, _dir) = serve(node, limits);
    let codes = clients().block_on(async {
        let spins = (0..4).map(|_| {
            let client = client(&server);
            let contract = vellum_types::hex(&contract);
            async move {
                let result = client
                    .request::<Value, _>("vellum_query", rpc_params![contract, "spin"])
                    .await;
                error_code(result.expect_err("no spin succeeds"))
            }
        });
        futures_join_all(spins).await
    });
    let busy = codes.iter().filter(|&&c| c == code::BUSY).count();
    let failed = codes.iter().filter(|&&c| c == code::QUERY_FAILED).count();
    assert!(busy >= 1 && failed >= 1 && busy + failed == 4, "{codes:?}");
}

/// Queries share the runtime's instance slots (64) with block execution. A flood of
/// concurrent spinning queries holds at most `queries_max` of them, so the blocks the validator
/// executes meanwhile get theirs: with every query running at once, the 65th instance failed
/// and block execution with it, which halts a validator.
#[test]
fn a_flood_of_queries_leaves_block_execution_its_instances() {
    let (node, contract) = ledger(2_000_000_000, 0);
    let Node {
        store,
        executor,
        dir: _dir,
    } = node;
    let (store, executor) = (Arc::new(store), Arc::new(executor));
    let state = State::with_limits(store.clone(), executor.clone(), Offline, Limits::default());
    let (server, _stalled) = serve_state(state);
    let clients = clients();
    let flood: Vec<_> = (0..100)
        .map(|_| {
            let client = client(&server);
            let contract = vellum_types::hex(&contract);
            clients.spawn(async move {
                let result = client
                    .request::<Value, _>("vellum_query", rpc_params![contract, "spin"])
                    .await;
                error_code(result.expect_err("no spin succeeds"))
            })
        })
        .collect();
    // Let the flood reach the server; then execute blocks while its queries run or wait.
    std::thread::sleep(Duration::from_millis(500));
    for nonce in 4..7 {
        let head = store.head().expect("head");
        let proposal = vellum_ledger::testing::next_proposal(
            &head,
            vec![call(1, nonce, contract, "shout", json!({}))],
        );
        let executed = executor
            .execute(&store, proposal)
            .expect("the block executes beside the flood");
        assert_eq!(executed.receipts[0].status, Status::Success);
        store.commit(&executed).expect("commit");
    }
    let codes: Vec<i32> = clients.block_on(async {
        let mut codes = Vec::new();
        for spin in flood {
            codes.push(spin.await.expect("the client task ends"));
        }
        codes
    });
    assert!(
        codes
            .iter()
            .all(|&c| c == code::BUSY || c == code::QUERY_FAILED),
        "{codes:?}"
    );
    assert!(codes.contains(&code::QUERY_FAILED), "{codes:?}");
}

/// Run `futures` to completion, concurrently, in order.
async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.expect("the task completes"));
    }
    out
}

/// POST `body` to `address` with `headers` (each ending in CRLF; `host` if none is given):
/// the status code and the response body.
fn exchange(address: SocketAddr, headers: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let host = if headers.contains("host:") {
        String::new()
    } else {
        format!("host: {address}\r\n")
    };
    write!(
        stream,
        "POST / HTTP/1.1\r\n{host}{headers}content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, body)| body.to_string());
    (status, body)
}

/// POST `body` to `address`; the response body.
fn post(address: SocketAddr, body: &str) -> String {
    exchange(address, "", body).1
}

#[test]
fn a_batch_past_the_bound_gets_one_error_and_a_batch_within_it_every_answer() {
    let (node, _) = ledger(50_000_000, 0);
    let (server, _stalled, _dir) = serve(node, Limits::default());
    let batch = |n: usize| {
        let calls: Vec<Value> = (0..n)
            .map(|id| json!({"jsonrpc": "2.0", "id": id, "method": "vellum_chainId", "params": []}))
            .collect();
        Value::Array(calls).to_string()
    };
    let answers: Value =
        serde_json::from_str(&post(server.local_addr(), &batch(100))).expect("json");
    assert_eq!(answers.as_array().map(Vec::len), Some(100));
    let answer: Value =
        serde_json::from_str(&post(server.local_addr(), &batch(101))).expect("json");
    assert_eq!(answer["error"]["code"], -32010, "{answer}");
}

#[test]
fn one_connection_holds_a_bounded_number_of_subscriptions() {
    let (node, _) = ledger(50_000_000, 0);
    let limits = Limits {
        subscriptions_per_connection_max: 8,
        ..Limits::default()
    };
    let (server, _stalled, _dir) = serve(node, limits);
    clients().block_on(async {
        let ws = WsClientBuilder::default()
            .build(format!("ws://{}", server.local_addr()))
            .await
            .expect("connect");
        let mut held: Vec<Subscription<Value>> = Vec::new();
        for _ in 0..8 {
            held.push(
                ws.subscribe(
                    "vellum_subscribeBlocks",
                    rpc_params![1],
                    "vellum_unsubscribeBlocks",
                )
                .await
                .expect("within the bound"),
            );
        }
        let refused = ws
            .subscribe::<Value, _>(
                "vellum_subscribeBlocks",
                rpc_params![1],
                "vellum_unsubscribeBlocks",
            )
            .await
            .expect_err("past the bound");
        assert_eq!(error_code(refused), -32006);
        // The ones held replay the chain from block 1.
        let first = held[0].next().await.expect("a block").expect("json");
        assert_eq!(first["height"], 1);
        let second = held[7].next().await.expect("a block").expect("json");
        assert_eq!(second["height"], 1);
    });
}

/// Every page of `method` from `first` (its params with `cursor` to fill in at `slot`), each
/// going on from the cursor of the one before; the items under `field` and the page count.
async fn pages(
    client: &HttpClient,
    method: &str,
    first: Value,
    field: &str,
) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for count in 1..=100 {
        let mut params = first.clone();
        if let Some(cursor) = &cursor {
            let last = params
                .as_array_mut()
                .and_then(|a| a.last_mut())
                .expect("an object");
            last["cursor"] = json!(cursor);
        }
        let mut request = jsonrpsee::core::params::ArrayParams::new();
        for param in params.as_array().expect("an array") {
            request.insert(param).expect("a param");
        }
        let page: Value = client.request(method, request).await.expect("a page");
        items.extend(page[field].as_array().cloned().expect("items"));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return (items, count),
        }
    }
    panic!("{method} never ended");
}

#[test]
fn events_are_read_from_the_index_however_long_the_chain() {
    // Block 1 deploys, then 12,000 empty blocks (more than the 10,000 one call used to scan),
    // then the three events: one answer, no cursor.
    let (node, contract) = ledger(50_000_000, 12_000);
    let (server, _stalled, _dir) = serve(node, Limits::default());
    let (events, count) = clients().block_on(async {
        let client = client(&server);
        let filter = json!({"contract": vellum_types::hex(&contract), "from_height": 0});
        pages(&client, "vellum_getEvents", json!([filter]), "events").await
    });
    assert_eq!(count, 1);
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(events
        .iter()
        .all(|e| e["height"] == 12_002 && e["topic"] == "shout"));
}

#[test]
fn answers_are_paged_within_the_byte_budget_and_the_cursors_miss_nothing() {
    let (node, contract) = ledger(50_000_000, 2);
    let contract = vellum_types::hex(&contract);
    let system = vellum_types::hex(&[0; 32]);
    let signer =
        vellum_types::address_of(&vellum_types::public_key(&vellum_ledger::testing::key(1)));
    let nonce_key = vellum_types::hex(&[b"nonce/".as_slice(), &signer].concat());
    let ask = |limits: Limits| {
        let (server, _stalled, _dir) = serve(ledger(50_000_000, 2).0, limits);
        clients().block_on(async {
            let client = client(&server);
            let events = pages(
                &client,
                "vellum_getEvents",
                json!([{"contract": contract, "limit": 1000}]),
                "events",
            )
            .await;
            let ascending = pages(
                &client,
                "vellum_getRange",
                json!([system, {"limit": 1000}]),
                "entries",
            )
            .await;
            let descending = pages(
                &client,
                "vellum_getRange",
                json!([system, {"order": "desc", "limit": 1000}]),
                "entries",
            )
            .await;
            let history = pages(
                &client,
                "vellum_getHistory",
                json!([system, nonce_key, {"limit": 1000}]),
                "versions",
            )
            .await;
            let block = client
                .request::<Value, _>("vellum_getBlockByNumber", rpc_params![1, true])
                .await;
            (events, ascending, descending, history, block)
        })
    };
    drop(node);
    let whole = ask(Limits::default());
    // One byte: every answer carries exactly one item, and a cursor while more remain.
    let tiny = ask(Limits {
        response_bytes_max: 1,
        ..Limits::default()
    });
    assert_eq!(whole.0 .1, 1);
    assert_eq!(whole.0 .0.len(), 3);
    assert_eq!(tiny.0, (whole.0 .0.clone(), 3));
    assert_eq!(whole.1 .1, 1);
    assert!(whole.1 .0.len() > 4, "{:?}", whole.1 .0);
    assert_eq!(tiny.1, (whole.1 .0.clone(), whole.1 .0.len()));
    let mut reversed = whole.1 .0.clone();
    reversed.reverse();
    assert_eq!(whole.2 .0, reversed);
    assert_eq!(tiny.2, (reversed.clone(), reversed.len()));
    assert_eq!(tiny.3 .0, whole.3 .0);
    // A block in full cannot be paged: past the budget it is refused, saying what to do.
    assert_eq!(
        whole.4.expect("the block")["transactions"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        error_code(tiny.4.expect_err("too large")),
        code::RESPONSE_TOO_LARGE
    );
}

/// Whether the server closed `socket` within `patience` (a read that ends, with no response).
fn closed_by_server(socket: &mut TcpStream, patience: Duration) -> bool {
    socket.set_read_timeout(Some(patience)).expect("timeout");
    let mut buffer = [0u8; 256];
    loop {
        match socket.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(error) => {
                return matches!(
                    error.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                )
            }
        }
    }
}

#[test]
fn silent_sockets_are_closed() {
    let (node, _) = ledger(50_000_000, 0);
    let limits = Limits {
        idle_max: Duration::from_secs(1),
        ..Limits::default()
    };
    let (server, _stalled, _dir) = serve(node, limits);
    let address = server.local_addr();
    // One says nothing, two stop halfway through a header.
    let mut silent = TcpStream::connect(address).expect("connect");
    let mut partial: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut socket = TcpStream::connect(address).expect("connect");
            socket
                .write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-le")
                .expect("send");
            socket
        })
        .collect();
    assert!(closed_by_server(&mut silent, Duration::from_secs(10)));
    for socket in &mut partial {
        assert!(closed_by_server(socket, Duration::from_secs(10)));
    }
}

/// `vellum_chainId` over the keep-alive connection `socket`; the response's body.
fn chain_id_over(socket: &mut TcpStream) -> String {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "vellum_chainId", "params": []});
    let body = body.to_string();
    write!(
        socket,
        "POST / HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut response = Vec::new();
    let mut buffer = [0u8; 1024];
    while !String::from_utf8_lossy(&response).contains(CHAIN) {
        match socket.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => response.extend_from_slice(&buffer[..n]),
        }
    }
    String::from_utf8_lossy(&response).into_owned()
}

#[test]
fn sockets_that_only_hold_a_place_cannot_lock_clients_out() {
    let (node, _) = ledger(50_000_000, 0);
    let limits = Limits {
        connections_max: 3,
        idle_max: Duration::from_secs(600),
        ..Limits::default()
    };
    let (server, _stalled, _dir) = serve(node, limits);
    let address = server.local_addr();
    // A client that was answered keeps its connection open, then two sockets take the other
    // places: one says nothing, one stops halfway through a header.
    let mut client = TcpStream::connect(address).expect("connect");
    assert!(chain_id_over(&mut client).contains(CHAIN));
    let mut silent = TcpStream::connect(address).expect("connect");
    std::thread::sleep(Duration::from_millis(50));
    let mut partial = TcpStream::connect(address).expect("connect");
    partial
        .write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-le")
        .expect("send");
    std::thread::sleep(Duration::from_millis(50));
    // Every place is taken, and a newcomer is answered all the same: it displaces the socket
    // that never was, silent longest.
    let response = post(
        address,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "vellum_chainId", "params": []}).to_string(),
    );
    assert!(response.contains(CHAIN), "{response}");
    assert!(closed_by_server(&mut silent, Duration::from_secs(5)));
    // The place that answer used is free again; the newcomer after the next displaces the
    // half-sent header, not the older client that was answered.
    let _first = TcpStream::connect(address).expect("connect");
    std::thread::sleep(Duration::from_millis(200));
    let mut newcomer = TcpStream::connect(address).expect("connect");
    assert!(closed_by_server(&mut partial, Duration::from_secs(5)));
    assert!(chain_id_over(&mut client).contains(CHAIN));
    assert!(chain_id_over(&mut newcomer).contains(CHAIN));
    // However many sockets an attacker opens, each newcomer's place is the oldest of them:
    // once the server has dealt with all 20, one of them holds the place `_first` held, and the
    // two clients it answered keep theirs. (Waiting for that, rather than for a fixed time,
    // keeps the test exact on a loaded machine.)
    let mut hoard: Vec<TcpStream> = (0..20)
        .map(|_| connect_from([127, 0, 0, 2], address))
        .collect();
    assert_eq!(closed_within(&mut hoard, 19, Duration::from_secs(20)), 19);
    let response = post(
        address,
        &json!({"jsonrpc": "2.0", "id": 2, "method": "vellum_chainId", "params": []}).to_string(),
    );
    assert!(response.contains(CHAIN), "{response}");
    assert!(chain_id_over(&mut client).contains(CHAIN));
    assert!(chain_id_over(&mut newcomer).contains(CHAIN));
}

/// How many of `sockets` the server has closed, waiting up to `patience` for `expected` of them
/// (and a moment longer, so that one too many shows).
fn closed_within(sockets: &mut [TcpStream], expected: usize, patience: Duration) -> usize {
    let deadline = std::time::Instant::now() + patience;
    let mut closed = vec![false; sockets.len()];
    let mut settled_at = None;
    loop {
        for (socket, closed) in sockets.iter_mut().zip(closed.iter_mut()) {
            if !*closed {
                *closed = closed_by_server(socket, Duration::from_millis(5));
            }
        }
        let count = closed.iter().filter(|c| **c).count();
        let now = std::time::Instant::now();
        if count >= expected && settled_at.is_none() {
            settled_at = Some(now);
        }
        if now >= deadline || settled_at.is_some_and(|at| now >= at + Duration::from_millis(300)) {
            return count;
        }
    }
}

/// A socket to `address` from the loopback address `from` (127.0.0.0/8 is all loopback).
fn connect_from(from: [u8; 4], address: SocketAddr) -> TcpStream {
    let socket = clients().block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::from((from, 0)))
            .expect("bind a loopback address");
        socket.connect(address).await.expect("connect")
    });
    let socket = socket.into_std().expect("std socket");
    socket.set_nonblocking(false).expect("blocking");
    socket
}

#[test]
fn one_address_flooding_connections_displaces_its_own_not_a_newcomer_from_another() {
    let (node, _) = ledger(50_000_000, 0);
    let limits = Limits {
        connections_max: 4,
        idle_max: Duration::from_secs(600),
        ..Limits::default()
    };
    let (server, _stalled, _dir) = serve(node, limits);
    let address = server.local_addr();
    // A client connects from one address and has not sent its request yet; another address
    // then opens socket after socket, far more than there are places.
    let mut newcomer = connect_from([127, 0, 0, 1], address);
    std::thread::sleep(Duration::from_millis(50));
    let mut flood = Vec::new();
    for _ in 0..40 {
        flood.push(connect_from([127, 0, 0, 2], address));
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    // The oldest silent socket is the newcomer's, but the flooding address holds the most
    // places: it gives up its own.
    assert!(chain_id_over(&mut newcomer).contains(CHAIN));
    drop(flood);
}

/// The status a WebSocket upgrade to `address` with `headers` gets.
fn upgrade_status(address: SocketAddr, headers: &str) -> u16 {
    upgrade(address, headers).0
}

/// A WebSocket upgrade of a raw socket to `address` with `headers`: the response's status, and
/// the socket (which then answers nothing, pings included).
fn upgrade(address: SocketAddr, headers: &str) -> (u16, TcpStream) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(
        stream,
        "GET / HTTP/1.1\r\nhost: {address}\r\n{headers}upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n"
    )
    .expect("send");
    let mut head = Vec::new();
    let mut buffer = [0u8; 512];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    let status = String::from_utf8_lossy(&head)
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, stream)
}

/// The server's pings keep a WebSocket's bytes moving, so only its pongs tell a live client
/// from one that only holds a place: a socket that answers no ping is dropped after two ping
/// intervals, while a client that answers stays connected however long it says nothing.
#[test]
fn websockets_that_answer_no_ping_are_dropped() {
    let (node, _) = ledger(50_000_000, 0);
    let ws_ping = Duration::from_secs(2);
    let limits = Limits {
        ws_ping,
        ..Limits::default()
    };
    let (server, _stalled, _dir) = serve(node, limits);
    let address = server.local_addr();
    let clients = clients();
    let answering = clients
        .block_on(WsClientBuilder::default().build(format!("ws://{address}")))
        .expect("a WebSocket client connects");
    let (status, mut mute) = upgrade(address, "");
    assert_eq!(status, 101);
    assert!(
        closed_by_server(&mut mute, Duration::from_secs(20)),
        "a socket that answers no ping is closed"
    );
    std::thread::sleep(3 * ws_ping);
    let chain: String = clients
        .block_on(answering.request("vellum_chainId", rpc_params![]))
        .expect("the client that answers pings is still connected");
    assert_eq!(chain, CHAIN);
}

#[test]
fn a_web_page_on_another_origin_cannot_open_a_websocket() {
    let (node, _) = ledger(50_000_000, 0);
    let (server, _stalled, _dir) = serve(node, Limits::default());
    let address = server.local_addr();
    assert_eq!(upgrade_status(address, ""), 101);
    assert_eq!(
        upgrade_status(address, &format!("origin: http://{address}\r\n")),
        101
    );
    assert_eq!(
        upgrade_status(address, "origin: http://evil.example\r\n"),
        403
    );
}

/// The status a `vellum_chainId` request to `address` with `headers` gets.
fn status_of(address: SocketAddr, headers: &str) -> u16 {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "vellum_chainId", "params": []});
    exchange(address, headers, &body.to_string()).0
}

#[test]
fn browsers_on_other_origins_and_unknown_host_names_are_refused() {
    let (node, _) = ledger(50_000_000, 0);
    let limits = Limits {
        hosts: vec!["rpc.bank.example".into()],
        ..Limits::default()
    };
    let (server, _stalled, _dir) = serve(node, limits);
    let address = server.local_addr();
    let own = format!("host: {address}\r\n");
    // Clients that are not browsers send no Origin.
    assert_eq!(status_of(address, &own), 200);
    assert_eq!(status_of(address, "host: localhost:8100\r\n"), 200);
    assert_eq!(status_of(address, "host: rpc.bank.example\r\n"), 200);
    // A page the node serves itself.
    assert_eq!(
        status_of(address, &format!("{own}origin: http://{address}\r\n")),
        200
    );
    // Any other page, and DNS rebinding (a name the operator never allowed).
    assert_eq!(
        status_of(address, &format!("{own}origin: http://evil.example\r\n")),
        403
    );
    assert_eq!(
        status_of(
            address,
            "host: evil.example:8100\r\norigin: http://evil.example:8100\r\n"
        ),
        403
    );
}

/// `vellum_query` at a past height answers from that height's state (beyond the head it is
/// refused, saying why), and `vellum_getHistory` takes height and time ranges.
#[test]
fn queries_and_history_read_past_heights() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let deployed = node.block(vec![sign(
        1,
        0,
        Action::Deploy {
            code: vellum_ledger::testing::artifact("points"),
            init_args: "{}".into(),
        },
    )]);
    let points = deployed.receipts[0].contract.expect("an address");
    let admin =
        vellum_types::address_of(&vellum_types::public_key(&vellum_ledger::testing::key(1)));
    let register = json!({"id": "air", "name": "Air", "admin": vellum_types::hex(&admin)});
    node.block(vec![call(1, 1, points, "register_issuer", register)]);
    let mint = |nonce, amount: u64| {
        let args = json!({"issuer": "air", "to": vellum_types::hex(&admin), "amount": amount});
        call(1, nonce, points, "mint", args)
    };
    let minted = [node.block(vec![mint(2, 10)]), node.block(vec![mint(3, 20)])];
    let (first, second) = (
        minted[0].block.header.clone(),
        minted[1].block.header.clone(),
    );
    let (server, _stalled, _dir) = serve(node, Limits::default());
    let points = vellum_types::hex(&points);
    let nonce_key = vellum_types::hex(&[b"nonce/".as_slice(), &admin].concat());
    let system = vellum_types::hex(&[0; 32]);
    clients().block_on(async {
        let client = client(&server);
        let balance = |height: Option<u64>| {
            let args = json!({"issuer": "air", "member": vellum_types::hex(&admin)});
            let params = match height {
                Some(height) => rpc_params![&points, "balance", args, height],
                None => rpc_params![&points, "balance", args],
            };
            client.request::<Value, _>("vellum_query", params)
        };
        let at_first = balance(Some(first.height)).await.expect("an answer");
        assert_eq!(at_first["output"], json!(10), "{at_first}");
        assert_eq!(at_first["height"], first.height);
        let at_second = balance(Some(second.height)).await.expect("an answer");
        assert_eq!(at_second["output"], json!(30), "{at_second}");
        let before = balance(Some(first.height - 1)).await.expect("an answer");
        assert_eq!(before["output"], json!(0), "{before}");
        assert_eq!(balance(None).await.expect("an answer")["output"], json!(30));
        // Before the deploy there was no contract at all.
        let error = balance(Some(0)).await.expect_err("no contract then");
        assert_eq!(error_code(error), code::NOT_FOUND);
        match balance(Some(second.height + 1)).await {
            Err(ClientError::Call(error)) => {
                assert_eq!(error.code(), -32602);
                let reason = error.data().map(|data| data.get().to_string());
                assert!(
                    reason.is_some_and(|r| r.contains("beyond the head")),
                    "{error:?}"
                );
            }
            other => panic!("expected a refusal, got {other:?}"),
        }

        // The admin's nonce was written in each of the four blocks.
        let heights = |page: Value| {
            let client = &client;
            let (system, nonce_key) = (system.clone(), nonce_key.clone());
            async move {
                let answer = client
                    .request::<Value, _>("vellum_getHistory", rpc_params![system, nonce_key, page])
                    .await?;
                Ok::<_, ClientError>(
                    answer["versions"]
                        .as_array()
                        .expect("versions")
                        .iter()
                        .map(|v| v["height"].as_u64().expect("a height"))
                        .collect::<Vec<_>>(),
                )
            }
        };
        let all = heights(json!({})).await.expect("a page");
        assert_eq!(all, [1, 2, first.height, second.height]);
        let ranged = json!({"from_height": 2, "to_height": first.height});
        assert_eq!(heights(ranged).await.expect("a page"), [2, first.height]);
        let timed = json!({"from_time": first.time_ms, "to_time": second.time_ms - 1});
        assert_eq!(heights(timed).await.expect("a page"), [first.height]);
        let until = json!({"to_time": first.time_ms - 1, "order": "desc"});
        assert_eq!(heights(until).await.expect("a page"), [2, 1]);
        let later = json!({"from_time": second.time_ms + 1});
        assert_eq!(heights(later).await.expect("a page"), Vec::<u64>::new());
        let upside_down = json!({"from_height": 3, "to_height": 2});
        let error = heights(upside_down).await.expect_err("refused");
        assert_eq!(error_code(error), -32602);
    });
}

/// Every call tree that may run at once fits the runtime's instance slots: block building,
/// verification and finalization, and `queries_max` queries by default, each holding up to
/// `call_depth_max + 1` instances (docs/security.md, "Instances"). Raising either without more
/// slots would let queries starve block execution of instances.
#[test]
fn concurrent_call_trees_fit_the_instance_slots() {
    let trees = 3 + Limits::default().queries_max;
    let deepest = vellum_runtime::Schedule::default().limits.call_depth_max as usize + 1;
    let slots = vellum_runtime::engine::CONCURRENT_INSTANCES_MAX as usize;
    assert!(
        trees * deepest <= slots,
        "{trees} call trees of up to {deepest} instances need more than {slots} slots"
    );
}

/// A member's account (organisation, role, nonce) and the transactions it sent, newest first
/// and paged; the deployed contracts, listed.
#[test]
fn accounts_and_contracts_are_listed() {
    let (node, contract) = ledger(50_000_000, 2);
    let (server, _stalled, _dir) = serve(node, Limits::default());
    let client = client(&server);
    let runtime = clients();
    let admin =
        vellum_types::address_of(&vellum_types::public_key(&vellum_ledger::testing::key(1)));
    runtime.block_on(async {
        let account: Value = client
            .request("vellum_getAccount", rpc_params![vellum_types::hex(&admin)])
            .await
            .expect("the admin's account");
        assert_eq!(account["organisation"], "bank-a");
        assert_eq!(account["role"], "admin");
        // The deploy and three calls.
        assert_eq!(account["nonce"], 4);

        // Newest first, three to a page, then the last one.
        let first: Value = client
            .request(
                "vellum_getAccountTransactions",
                rpc_params![vellum_types::hex(&admin), json!({"limit": 3})],
            )
            .await
            .expect("a page");
        let nonces = |page: &Value| {
            page["transactions"]
                .as_array()
                .expect("transactions")
                .iter()
                .map(|t| t["nonce"].as_u64().expect("a nonce"))
                .collect::<Vec<_>>()
        };
        assert_eq!(nonces(&first), [3, 2, 1]);
        let cursor = first["next_cursor"].as_str().expect("more remain");
        let rest: Value = client
            .request(
                "vellum_getAccountTransactions",
                rpc_params![
                    vellum_types::hex(&admin),
                    json!({"limit": 3, "cursor": cursor})
                ],
            )
            .await
            .expect("the next page");
        assert_eq!(nonces(&rest), [0]);
        assert_eq!(rest["next_cursor"], Value::Null);
        // Each names its committed transaction: the deploy is the oldest.
        let deploy = &rest["transactions"][0];
        let receipt: Value = client
            .request(
                "vellum_getTransactionReceipt",
                rpc_params![deploy["hash"].as_str().expect("a hash")],
            )
            .await
            .expect("its receipt");
        assert_eq!(receipt["contract"], vellum_types::hex(&contract));
        assert_eq!(receipt["height"], deploy["height"]);
        assert_eq!(deploy["status"], "success");

        let contracts: Value = client
            .request("vellum_getContracts", rpc_params![])
            .await
            .expect("the contracts");
        assert_eq!(
            contracts["contracts"],
            json!([client
                .request::<Value, _>(
                    "vellum_getContract",
                    rpc_params![vellum_types::hex(&contract)]
                )
                .await
                .expect("the contract")])
        );
        assert_eq!(contracts["next_cursor"], Value::Null);
        let history: Value = client
            .request(
                "vellum_getContractHistory",
                rpc_params![vellum_types::hex(&contract)],
            )
            .await
            .expect("its versions");
        assert_eq!(
            history["versions"],
            json!([{"height": receipt["height"], "index": 0, "version": 1,
                    "code_hash": vellum_types::hex(&vellum_types::keccak256(&spinner())),
                    "owner": "bank-a"}])
        );

        let nobody =
            vellum_types::address_of(&vellum_types::public_key(&vellum_ledger::testing::key(9)));
        let refused = client
            .request::<Value, _>("vellum_getAccount", rpc_params![vellum_types::hex(&nobody)])
            .await
            .expect_err("not a member");
        assert_eq!(error_code(refused), code::NOT_FOUND);
    });
}

/// GET `path` from `address`: the status, the headers (lowercase) and the body.
fn get(address: SocketAddr, path: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

/// The explorer's files are served as embedded, each with its type and a policy that lets the
/// page reach only its own node; other paths are not.
#[test]
fn the_explorer_is_served_from_the_binary() {
    let (node, _) = ledger(50_000_000, 0);
    let (server, _stalled, _dir) = serve(node, Limits::default());
    let address = server.local_addr();
    for (path, content_type, embedded) in vellum_rpc::EXPLORER {
        let (status, head, body) = get(address, path);
        assert_eq!(status, 200, "{path}");
        assert!(
            head.contains(&format!("content-type: {content_type}")),
            "{path}: {head}"
        );
        assert!(
            head.contains("content-security-policy: default-src 'none'"),
            "{head}"
        );
        assert_eq!(body.as_bytes(), embedded, "{path}");
    }
    assert!(get(address, "/").2.contains("explorer.js"));
    assert_ne!(get(address, "/nothing.js").0, 200);
}

/// A CA, and a certificate for `127.0.0.1` it signed: (CA certificate, server chain, key).
fn certificates() -> (
    rustls_pki_types::CertificateDer<'static>,
    Vec<rustls_pki_types::CertificateDer<'static>>,
    rustls_pki_types::PrivateKeyDer<'static>,
) {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_certificate = ca.self_signed(&ca_key).expect("CA");
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate().expect("key");
    let server = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("certificate");
    (
        ca_certificate.der().clone(),
        vec![server.der().clone()],
        rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
}

/// Over TLS the node answers HTTPS and WSS clients that trust its CA, and nothing else: not a
/// client that trusts other roots, not plain HTTP.
#[test]
fn over_tls_only_clients_that_trust_the_ca_are_answered() {
    let (ca, chain, key) = certificates();
    let (node, _) = ledger(50_000_000, 0);
    let Node {
        store,
        executor,
        dir: _dir,
    } = node;
    let state = State::new(Arc::new(store), Arc::new(executor), Offline);
    let caller = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let tls = vellum_rpc::Tls::new(chain, key).expect("a TLS configuration");
    let server = caller
        .block_on(vellum_rpc::serve_with(
            "127.0.0.1:0".parse().expect("address"),
            state,
            Some(tls),
        ))
        .expect("the server starts");
    let address = server.local_addr();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).expect("a root");
    let trusting = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let runtime = clients();
    runtime.block_on(async {
        let https = HttpClientBuilder::default()
            .with_custom_cert_store(trusting.clone())
            .build(format!("https://{address}"))
            .expect("client");
        let chain: String = https
            .request("vellum_chainId", rpc_params![])
            .await
            .expect("answered over HTTPS");
        assert_eq!(chain, CHAIN);
        let wss = WsClientBuilder::default()
            .with_custom_cert_store(trusting)
            .build(format!("wss://{address}"))
            .await
            .expect("a WSS connection");
        let mut blocks: Subscription<Value> = wss
            .subscribe(
                "vellum_subscribeBlocks",
                rpc_params![1],
                "vellum_unsubscribeBlocks",
            )
            .await
            .expect("subscribed over WSS");
        let first = blocks.next().await.expect("a block").expect("decoded");
        assert_eq!(first["height"], 1);

        // The system's roots do not include this CA.
        let stranger = HttpClientBuilder::default()
            .build(format!("https://{address}"))
            .expect("client");
        let refused = stranger
            .request::<String, _>("vellum_chainId", rpc_params![])
            .await
            .expect_err("an untrusted certificate");
        let mut cause: Option<&dyn std::error::Error> = Some(&refused);
        let mut reasons = Vec::new();
        while let Some(error) = cause {
            reasons.push(error.to_string());
            cause = error.source();
        }
        assert!(
            reasons
                .iter()
                .any(|r| r.contains("invalid peer certificate")),
            "{reasons:?}"
        );
    });
    // Plain HTTP gets no answer: the bytes are not a TLS handshake, and the connection closes.
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "vellum_chainId", "params": []});
    let mut socket = TcpStream::connect(address).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let _ = write!(
        socket,
        "POST / HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.to_string().len()
    );
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer);
    assert!(
        !String::from_utf8_lossy(&answer).contains("vellum"),
        "plain HTTP was answered"
    );
    drop(caller);
}

/// The headers that prove `key`'s member is calling, with a token expiring `expires_in_ms` from
/// now (negative: already expired).
fn caller_headers(key: u8, expires_in_ms: i64) -> jsonrpsee::http_client::HeaderMap {
    bound_caller_headers(key, expires_in_ms, None)
}

/// The same, for the nodes of `audience` only.
fn bound_caller_headers(
    key: u8,
    expires_in_ms: i64,
    audience: Option<&str>,
) -> jsonrpsee::http_client::HeaderMap {
    let now = std::time::UNIX_EPOCH.elapsed().expect("clock").as_millis() as i64;
    let token = vellum_types::caller::CallerToken::new(
        &vellum_ledger::testing::key(key),
        CHAIN,
        (now + expires_in_ms) as u64,
        audience,
    );
    let mut headers = jsonrpsee::http_client::HeaderMap::new();
    headers.insert(
        "authorization",
        format!("Vellum {}", token.encode())
            .parse()
            .expect("a header"),
    );
    headers
}

/// A query sees the caller a member's token proves (the zero address for an anonymous one),
/// over HTTP and over a WebSocket connection; a token of someone who is not a member, an
/// expired one, one bound to another organisation's nodes, or garbage is refused with HTTP 401
/// and the reason, before JSON-RPC runs.
#[test]
fn queries_see_the_caller_a_member_token_proves() {
    let (node, contract) = ledger(50_000_000, 0);
    let (server, _stalled, _dir) = serve(node, Limits::default());
    let address = server.local_addr();
    let member =
        vellum_types::address_of(&vellum_types::public_key(&vellum_ledger::testing::key(3)));
    let whoami = |headers: jsonrpsee::http_client::HeaderMap| {
        let client = HttpClientBuilder::default()
            .set_headers(headers)
            .build(format!("http://{address}"))
            .expect("client");
        async move {
            client
                .request::<Value, _>(
                    "vellum_query",
                    rpc_params![vellum_types::hex(&contract), "whoami"],
                )
                .await
        }
    };
    let runtime = clients();
    runtime.block_on(async {
        let anonymous = whoami(Default::default()).await.expect("anonymous");
        assert_eq!(anonymous["output"]["hex"], vellum_types::hex(&[0u8; 32]));
        let proven = whoami(caller_headers(3, 60_000)).await.expect("a member");
        assert_eq!(proven["output"]["hex"], vellum_types::hex(&member));

        let ws = WsClientBuilder::default()
            .set_headers(caller_headers(3, 60_000))
            .build(format!("ws://{address}"))
            .await
            .expect("a WebSocket connection");
        let over_ws: Value = ws
            .request(
                "vellum_query",
                rpc_params![vellum_types::hex(&contract), "whoami"],
            )
            .await
            .expect("a query over the connection");
        assert_eq!(over_ws["output"]["hex"], vellum_types::hex(&member));

        // A connection outliving its token is refused from then on.
        let brief = WsClientBuilder::default()
            .set_headers(caller_headers(3, 1_000))
            .build(format!("ws://{address}"))
            .await
            .expect("a WebSocket connection");
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let expired = brief
            .request::<Value, _>(
                "vellum_query",
                rpc_params![vellum_types::hex(&contract), "whoami"],
            )
            .await
            .expect_err("the token expired");
        assert_eq!(error_code(expired), code::UNAUTHORIZED);
    });
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "vellum_chainId", "params": []});
    for (headers, reason) in [
        (caller_headers(9, 60_000), "not a member"),
        (caller_headers(3, -1), "expired"),
        (caller_headers(3, 2 * 60 * 60 * 1000), "more than an hour"),
        // Bound to the nodes of an organisation, and this node is of none.
        (
            bound_caller_headers(3, 60_000, Some("bank-a")),
            "for the nodes of `bank-a`",
        ),
    ] {
        let header = format!(
            "authorization: {}\r\n",
            headers["authorization"].to_str().expect("text")
        );
        let (status, answer) = exchange(address, &header, &body.to_string());
        assert_eq!(status, 401, "{reason}: {answer}");
        assert!(answer.contains(reason), "{reason}: {answer}");
    }
    let (status, answer) = exchange(address, "authorization: Bearer x\r\n", &body.to_string());
    assert_eq!(status, 401, "{answer}");
    assert!(answer.contains("Vellum 0x"), "{answer}");
}

/// Raw storage and event reads follow the node's read policy, and the ledger's own records are
/// members' only under every policy; a refusal is -32031 with who may read and how to prove it.
#[test]
fn raw_storage_and_event_reads_follow_the_read_policy() {
    use vellum_rpc::ReadPolicy;
    let system = vellum_types::hex(&[0u8; 32]);
    for policy in [
        ReadPolicy::Public,
        ReadPolicy::Members,
        ReadPolicy::Organisation,
    ] {
        // The spinner was deployed by key 1, an admin of bank-a, which owns it.
        let (node, contract) = ledger(50_000_000, 0);
        let contract = vellum_types::hex(&contract);
        let limits = Limits {
            read_policy: policy,
            ..Limits::default()
        };
        let (server, _stalled, _dir) = serve(node, limits);
        let address = server.local_addr();
        let runtime = clients();
        // Who reads (a key, or anonymous) -> (contract's storage, the ledger's records).
        let expected = |reader: Option<u8>| -> (bool, bool) {
            let member = reader.is_some();
            let same_organisation = matches!(reader, Some(1 | 3));
            let storage = match policy {
                ReadPolicy::Public => true,
                ReadPolicy::Members => member,
                ReadPolicy::Organisation => same_organisation,
            };
            (storage, member)
        };
        for reader in [None, Some(1), Some(2), Some(3)] {
            let headers = reader.map_or_else(Default::default, |key| caller_headers(key, 60_000));
            let client = HttpClientBuilder::default()
                .set_headers(headers)
                .build(format!("http://{address}"))
                .expect("client");
            let (storage, records) = expected(reader);
            runtime.block_on(async {
                for (namespace, allowed) in [(&contract, storage), (&system, records)] {
                    let calls: [(&str, jsonrpsee::core::params::ArrayParams); 2] = [
                        ("vellum_getRange", rpc_params![namespace]),
                        ("vellum_getHistory", rpc_params![namespace, "0x00"]),
                    ];
                    for (method, params) in calls {
                        let answer = client.request::<Value, _>(method, params).await;
                        match (allowed, answer) {
                            (true, Ok(_)) => {}
                            (false, Err(e)) => assert_eq!(
                                error_code(e),
                                code::READ_REFUSED,
                                "{policy:?} {reader:?} {method} {namespace}"
                            ),
                            (allowed, answer) => panic!(
                                "{policy:?} {reader:?} {method} {namespace}: expected allowed = \
                                 {allowed}, got {answer:?}"
                            ),
                        }
                    }
                    // Events: of one contract as its storage; of every contract, anyone's under
                    // `public`, members' under `members`, and nobody's under `organisation`,
                    // which needs a contract named.
                    let (filter, allowed_events) = match namespace == &contract {
                        true => (json!({"contract": namespace}), allowed),
                        false => (
                            json!({}),
                            match policy {
                                ReadPolicy::Public => true,
                                ReadPolicy::Members => reader.is_some(),
                                ReadPolicy::Organisation => false,
                            },
                        ),
                    };
                    let answer = client
                        .request::<Value, _>("vellum_getEvents", rpc_params![filter.clone()])
                        .await;
                    assert_eq!(
                        answer.is_ok(),
                        allowed_events,
                        "{policy:?} {reader:?} getEvents {filter}: {answer:?}"
                    );
                    if let Err(e) = answer {
                        assert_eq!(error_code(e), code::READ_REFUSED);
                    }
                    let ws = WsClientBuilder::default()
                        .set_headers(
                            reader.map_or_else(Default::default, |k| caller_headers(k, 60_000)),
                        )
                        .build(format!("ws://{address}"))
                        .await
                        .expect("a WebSocket connection");
                    let subscribed = ws
                        .subscribe::<Value, _>(
                            "vellum_subscribeEvents",
                            rpc_params![filter.clone()],
                            "vellum_unsubscribeEvents",
                        )
                        .await;
                    assert_eq!(
                        subscribed.is_ok(),
                        allowed_events,
                        "{policy:?} {reader:?} subscribeEvents {filter}"
                    );
                    // A proof needs a stored certificate this ledger has not: -32001 once the
                    // read is allowed, -32031 before.
                    let proof = client
                        .request::<Value, _>("vellum_getProof", rpc_params![namespace, "0x00"])
                        .await
                        .expect_err("no certificate");
                    let code = error_code(proof);
                    assert_eq!(
                        code == code::READ_REFUSED,
                        !allowed,
                        "{policy:?} {reader:?} getProof {namespace}: {code}"
                    );
                }
            });
        }
    }
}

/// A transaction's arguments, and its receipt's output and events, are withheld from callers
/// the read policy does not entitle (`hidden` says so), in getTransaction, the receipt and a
/// block in full; the rest (hashes, status, fuel) stays public.
#[test]
fn transaction_arguments_and_outcomes_follow_the_read_policy() {
    use vellum_rpc::ReadPolicy;
    for policy in [
        ReadPolicy::Public,
        ReadPolicy::Members,
        ReadPolicy::Organisation,
    ] {
        // Key 1 (bank-a) deployed the spinner in block 1 and called `shout` in block 2.
        let (node, _) = ledger(50_000_000, 0);
        let limits = Limits {
            read_policy: policy,
            ..Limits::default()
        };
        let (server, _stalled, _dir) = serve(node, limits);
        let address = server.local_addr();
        let runtime = clients();
        for reader in [None, Some(1), Some(2), Some(3)] {
            let sees = match policy {
                ReadPolicy::Public => true,
                ReadPolicy::Members => reader.is_some(),
                ReadPolicy::Organisation => matches!(reader, Some(1 | 3)),
            };
            let client = HttpClientBuilder::default()
                .set_headers(reader.map_or_else(Default::default, |k| caller_headers(k, 60_000)))
                .build(format!("http://{address}"))
                .expect("client");
            runtime.block_on(async {
                let what = format!("{policy:?} {reader:?}");
                let block: Value = client
                    .request("vellum_getBlockByNumber", rpc_params![2, true])
                    .await
                    .expect("the block");
                let entry = &block["transactions"][0];
                assert_eq!(entry["receipt"]["status"], "success", "{what}");
                assert_eq!(
                    entry["transaction"]["action"]["call"]["args"].is_string(),
                    sees,
                    "{what}: {entry}"
                );
                assert_eq!(
                    entry["receipt"]["events"].as_array().map(Vec::len),
                    Some(if sees { 1 } else { 0 }),
                    "{what}"
                );
                assert_eq!(entry["receipt"]["hidden"].is_string(), !sees, "{what}");
                let hash = entry["receipt"]["transaction"].as_str().expect("a hash");
                let transaction: Value = client
                    .request("vellum_getTransaction", rpc_params![hash])
                    .await
                    .expect("the transaction");
                assert_eq!(
                    transaction["transaction"]["action"]["call"]["args"].is_string(),
                    sees,
                    "{what}"
                );
                assert_eq!(
                    transaction["transaction"]["action"]["call"]["method"], "shout",
                    "{what}"
                );
                let receipt: Value = client
                    .request("vellum_getTransactionReceipt", rpc_params![hash])
                    .await
                    .expect("the receipt");
                assert_eq!(receipt["hidden"].is_string(), !sees, "{what}");
                assert_eq!(
                    receipt["fuel_used"], entry["receipt"]["fuel_used"],
                    "{what}"
                );
                // A proof carries the whole receipt: refused, rather than cut. (This ledger
                // has no certificate: -32001 once the read is allowed.)
                let proof = client
                    .request::<Value, _>("vellum_getReceiptProof", rpc_params![hash])
                    .await
                    .expect_err("no certificate");
                assert_eq!(error_code(proof) == code::READ_REFUSED, !sees, "{what}");
            });
        }
    }
}

/// A query the contract's interface marks for members only (`#[query(members)]` writes
/// `"access": "members"`) is answered only to a caller proving a member's key, even on a public
/// node; the contract's other queries stay public.
#[test]
fn a_members_only_query_is_refused_to_anonymous_callers() {
    let interface = r#"{"abi":1,"contract":"Guarded","methods":[{"name":"whoami","kind":"query","entry_point":"query.whoami","args":[],"returns":"Address","doc":"","access":"members"},{"name":"anyone","kind":"query","entry_point":"query.anyone","args":[],"returns":"Address","doc":""}]}"#;
    let module = format!(
        r#"(module
             (import "vellum" "caller" (func $caller (param i32)))
             (import "vellum" "set_return" (func $return (param i32 i32)))
             (memory (export "memory") 1)
             (func (export "instantiate"))
             (func (export "query.whoami")
               (call $caller (i32.const 64))
               (call $return (i32.const 64) (i32.const 32)))
             (func (export "query.anyone")
               (call $caller (i32.const 64))
               (call $return (i32.const 64) (i32.const 32)))
             (@custom "vellum:interface" "{}"))"#,
        interface.replace('"', "\\\"")
    );
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let deployed = node.block(vec![sign(
        1,
        0,
        Action::Deploy {
            code: wat::parse_str(&module).expect("valid wat"),
            init_args: String::new(),
        },
    )]);
    assert_eq!(deployed.receipts[0].status, Status::Success, "{deployed:?}");
    let contract = vellum_types::hex(&deployed.receipts[0].contract.expect("an address"));
    let (server, _stalled, _dir) = serve(node, Limits::default());
    let address = server.local_addr();
    let runtime = clients();
    runtime.block_on(async {
        let anonymous = HttpClientBuilder::default()
            .build(format!("http://{address}"))
            .expect("client");
        let refused = anonymous
            .request::<Value, _>("vellum_query", rpc_params![&contract, "whoami"])
            .await
            .expect_err("members only");
        assert_eq!(error_code(refused), code::READ_REFUSED);
        let public: Value = anonymous
            .request("vellum_query", rpc_params![&contract, "anyone"])
            .await
            .expect("a public query");
        assert_eq!(public["output"]["hex"], vellum_types::hex(&[0u8; 32]));
        let member = client(&server);
        let answered: Value = member
            .request("vellum_query", rpc_params![&contract, "whoami"])
            .await
            .expect("a member's query");
        assert_eq!(
            answered["output"]["hex"],
            vellum_types::hex(&vellum_types::address_of(&vellum_types::public_key(
                &vellum_ledger::testing::key(3)
            )))
        );
    });
}

/// A token stops proving anything once its member is removed: membership is read on each
/// request, not when the token was signed.
#[test]
fn a_removed_members_token_is_refused() {
    let (node, _) = ledger(50_000_000, 0);
    // Key 1, bank-a's admin, removes key 3, bank-a's member.
    let removed = node.block(vec![sign(
        1,
        4,
        Action::RemoveMember {
            public_key: vellum_types::public_key(&vellum_ledger::testing::key(3)),
        },
    )]);
    assert_eq!(removed.receipts[0].status, Status::Success, "{removed:?}");
    let (server, _stalled, _dir) = serve(node, Limits::default());
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "vellum_chainId", "params": []});
    let header = |key| {
        format!(
            "authorization: {}\r\n",
            caller_headers(key, 60_000)["authorization"]
                .to_str()
                .expect("text")
        )
    };
    let (status, answer) = exchange(server.local_addr(), &header(3), &body.to_string());
    assert_eq!(status, 401, "{answer}");
    assert!(answer.contains("not a member"), "{answer}");
    let (status, _) = exchange(server.local_addr(), &header(1), &body.to_string());
    assert_eq!(status, 200);
}

/// Proposals and organisations are served to members only; a proposal shows its change, its
/// approvals and its state; the keys of an organisation that left prove no caller any more.
#[test]
fn proposals_are_listed_for_members_and_a_removed_organisation_proves_no_caller() {
    use vellum_types::Change;
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let propose = |key, nonce, change| sign(key, nonce, Action::Propose { change });
    let approve = |key, nonce, proposal| sign(key, nonce, Action::Approve { proposal });
    let newcomer = vellum_types::public_key(&vellum_ledger::testing::key(7));
    // 1: bank-d joins (bank-a and bank-b of three); 2: it leaves (two of the other three);
    // 3: bank-e's joining, left open.
    let executed = node.block(vec![
        propose(
            1,
            0,
            Change::AddOrganisation {
                name: "bank-d".into(),
                admins: vec![newcomer],
            },
        ),
        approve(2, 0, 1),
    ]);
    assert!(executed
        .receipts
        .iter()
        .all(|r| r.status == Status::Success));
    let executed = node.block(vec![
        propose(
            1,
            1,
            Change::RemoveOrganisation {
                name: "bank-d".into(),
                successor: "bank-a".into(),
            },
        ),
        approve(2, 1, 2),
        approve(4, 0, 2),
        propose(
            1,
            2,
            Change::AddOrganisation {
                name: "bank-e".into(),
                admins: vec![vellum_types::public_key(&vellum_ledger::testing::key(8))],
            },
        ),
    ]);
    assert!(executed
        .receipts
        .iter()
        .all(|r| r.status == Status::Success));
    let height = executed.block.header.height;
    let (server, _stalled, _dir) = serve(node, Limits::default());
    let runtime = clients();
    runtime.block_on(async {
        let anonymous = HttpClientBuilder::default()
            .build(format!("http://{}", server.local_addr()))
            .expect("client");
        let refused = anonymous
            .request::<Value, _>("vellum_getProposals", rpc_params![])
            .await
            .expect_err("members only");
        assert_eq!(error_code(refused), code::READ_REFUSED);

        let member = client(&server);
        let page: Value = member
            .request("vellum_getProposals", rpc_params![])
            .await
            .expect("proposals");
        let listed: Vec<(u64, &str)> = page["proposals"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|p| (p["id"].as_u64().unwrap(), p["state"].as_str().unwrap()))
            .collect();
        assert_eq!(listed, [(3, "open"), (2, "executed"), (1, "executed")]);
        assert_eq!(page["next"], Value::Null);
        let second: Value = member
            .request("vellum_getProposals", rpc_params![3, 1])
            .await
            .expect("a page");
        assert_eq!(second["proposals"][0]["id"], 2);
        assert_eq!(second["next"], 2);

        let removal: Value = member
            .request("vellum_getProposal", rpc_params![2])
            .await
            .expect("proposal 2");
        assert_eq!(removal["change"]["kind"], "remove_organisation");
        assert_eq!(removal["change"]["successor"], "bank-a");
        assert_eq!(removal["executed_at"], height);
        let approvals: Vec<&str> = removal["approvals"]
            .as_array()
            .expect("approvals")
            .iter()
            .map(|a| a["organisation"].as_str().unwrap())
            .collect();
        assert_eq!(approvals, ["bank-a", "bank-b", "bank-c"]);
        let missing = member
            .request::<Value, _>("vellum_getProposal", rpc_params![4])
            .await
            .expect_err("no proposal 4");
        assert_eq!(error_code(missing), code::NOT_FOUND);

        let organisations: Value = member
            .request("vellum_getOrganisations", rpc_params![])
            .await
            .expect("organisations");
        let names: Vec<&str> = organisations
            .as_array()
            .expect("a list")
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["bank-a", "bank-b", "bank-c"]);
    });
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "vellum_chainId", "params": []});
    let header = format!(
        "authorization: {}\r\n",
        caller_headers(7, 60_000)["authorization"]
            .to_str()
            .expect("text")
    );
    let (status, answer) = exchange(server.local_addr(), &header, &body.to_string());
    assert_eq!(status, 401, "{answer}");
    assert!(answer.contains("not a member"), "{answer}");
}

/// The governance rules in force are genesis's until a proposal changes them, then the
/// proposal's, with how many changes and the last one's height; members only.
#[test]
fn the_rules_in_force_are_served_to_members() {
    use vellum_types::{Change, Policy, Rules};
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let rules = Rules {
        membership_policy: Policy::All,
        proposal_lifetime_blocks: 10,
        ..node.executor.genesis().rules()
    };
    let (server, _stalled, _dir) = serve(node, Limits::default());
    let runtime = clients();
    let genesis_rules = runtime.block_on(async {
        let refused = HttpClientBuilder::default()
            .build(format!("http://{}", server.local_addr()))
            .expect("client")
            .request::<Value, _>("vellum_getRules", rpc_params![])
            .await
            .expect_err("members only");
        assert_eq!(error_code(refused), code::READ_REFUSED);
        let answer: Value = client(&server)
            .request("vellum_getRules", rpc_params![])
            .await
            .expect("rules");
        answer
    });
    assert_eq!(
        genesis_rules,
        json!({
            "rules": {
                "deploy_policy": "any_admin", "upgrade_policy": "owner",
                "upgrade_policy_minimum": "owner", "membership_policy": "majority",
                "rules_policy": "majority", "proposal_lifetime_blocks": 100_000,
            },
            "sequence": 0,
            "changed_at": null,
        })
    );
    drop(server);

    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let executed = node.block(vec![
        sign(
            1,
            0,
            Action::Propose {
                change: Change::SetRules { rules, sequence: 0 },
            },
        ),
        sign(2, 0, Action::Approve { proposal: 1 }),
    ]);
    assert!(executed
        .receipts
        .iter()
        .all(|r| r.status == Status::Success));
    let height = executed.block.header.height;
    let (server, _stalled, _dir) = serve(node, Limits::default());
    runtime.block_on(async {
        let member = client(&server);
        let answer: Value = member
            .request("vellum_getRules", rpc_params![])
            .await
            .expect("rules");
        assert_eq!(answer["rules"]["membership_policy"], "all");
        assert_eq!(answer["rules"]["proposal_lifetime_blocks"], 10);
        assert_eq!(
            (answer["sequence"].as_u64(), answer["changed_at"].as_u64()),
            (Some(1), Some(height))
        );
        let proposal: Value = member
            .request("vellum_getProposal", rpc_params![1])
            .await
            .expect("proposal 1");
        assert_eq!(proposal["change"]["kind"], "set_rules");
        assert_eq!(proposal["change"]["rules"], answer["rules"]);
        assert_eq!(proposal["sequence"], 0);
        assert_eq!(proposal["state"], "executed");
    });
}

/// A query over a WebSocket connection whose token's key stops signing for a member while it
/// stays open (the member is removed, or rotates to another key) is refused from then on: the
/// contract never sees a caller that is no longer a member. After a rotation, the new key's
/// token queries as the same account, and the old key's token is refused at the door.
#[test]
fn a_connection_outliving_its_members_membership_queries_no_more() {
    let member = vellum_ledger::testing::key(3);
    let account = vellum_types::address_of(&vellum_types::public_key(&member));
    // Key 1, bank-a's admin, removes key 3; or key 3 rotates to key 13.
    let removal = sign(
        1,
        4,
        Action::RemoveMember {
            public_key: vellum_types::public_key(&member),
        },
    );
    let rotation = sign(
        3,
        0,
        Action::RotateKey {
            account,
            public_key: vellum_types::public_key(&vellum_ledger::testing::key(13)),
            proof: vellum_types::transaction::prove_rotation(
                &vellum_ledger::testing::key(13),
                CHAIN,
                &account,
            ),
        },
    );
    for (ending, rotated) in [(removal, false), (rotation, true)] {
        let (node, contract) = ledger(50_000_000, 0);
        let Node {
            store,
            executor,
            dir,
        } = node;
        let (store, executor) = (Arc::new(store), Arc::new(executor));
        // Events are members' only: a subscription is a read that outlives its request too.
        let limits = Limits {
            read_policy: vellum_rpc::ReadPolicy::Members,
            ..Limits::default()
        };
        let state = State::with_limits(store.clone(), executor.clone(), Offline, limits);
        let (server, _stalled) = serve_state(state);
        let runtime = clients();
        runtime.block_on(async {
            let connect = |key| {
                WsClientBuilder::default()
                    .set_headers(caller_headers(key, 60_000))
                    .build(format!("ws://{}", server.local_addr()))
            };
            async fn whoami(
                ws: &jsonrpsee::ws_client::WsClient,
                contract: &[u8; 32],
            ) -> Result<Value, jsonrpsee::core::client::Error> {
                ws.request(
                    "vellum_query",
                    rpc_params![vellum_types::hex(contract), "whoami"],
                )
                .await
            }
            let ws = connect(3).await.expect("a WebSocket connection");
            let seen = whoami(&ws, &contract).await.expect("a member's query");
            assert_eq!(seen["output"]["hex"], vellum_types::hex(&account));
            let mut events = ws
                .subscribe::<Value, _>(
                    "vellum_subscribeEvents",
                    rpc_params![json!({})],
                    "vellum_unsubscribeEvents",
                )
                .await
                .expect("a member's event subscription");
            // The ending transaction, then an event the member may no longer read.
            // Key 1 sent nonces 0 to 3, and 4 if it removed the member.
            let nonce = if rotated { 4 } else { 5 };
            for transaction in [ending.clone(), call(1, nonce, contract, "shout", json!({}))] {
                let head = store.head().expect("head");
                let executed = executor
                    .execute(
                        &store,
                        vellum_ledger::testing::next_proposal(&head, vec![transaction]),
                    )
                    .expect("a valid block");
                assert_eq!(executed.receipts[0].status, Status::Success);
                store.commit(&executed).expect("commit");
            }
            let refused = whoami(&ws, &contract)
                .await
                .expect_err("no longer a member");
            assert_eq!(error_code(refused), code::UNAUTHORIZED);
            let next = tokio::time::timeout(Duration::from_secs(20), events.next())
                .await
                .expect("the subscription ends");
            assert!(
                !matches!(next, Some(Ok(_))),
                "an event reached a caller that is no longer a member: {next:?}"
            );
            if rotated {
                let ws = connect(13).await.expect("the new key's connection");
                let seen = whoami(&ws, &contract)
                    .await
                    .expect("the rotated member's query");
                assert_eq!(seen["output"]["hex"], vellum_types::hex(&account));
                let old = connect(3)
                    .await
                    .expect_err("the old key is refused at the door");
                assert!(old.to_string().contains("401"), "{old}");
            }
        });
        drop(dir);
    }
}

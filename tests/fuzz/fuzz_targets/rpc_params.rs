//! A JSON-RPC call with arbitrary params to any method (what any caller can send), against a
//! real ledger: parsing never panics, every answer is a JSON-RPC response with exactly one of a
//! result and an error, and none passes the response budget by more than one item.
//!
//! Input: one byte choosing the method, then the params as JSON text.
#![no_main]

use jsonrpsee::server::RpcModule;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use std::sync::{Arc, OnceLock};
use vellum_ledger::testing::{artifact, call, genesis, sign, Node};
use vellum_rpc::{Limits, NodeStatus, State};
use vellum_types::{Action, DeployPolicy, Hash, SignedTransaction};

const METHODS: &[&str] = &[
    "vellum_chainId",
    "vellum_status",
    "vellum_getNonce",
    "vellum_sendRawTransaction",
    "vellum_sendRawTransactionAndWait",
    "vellum_getTransaction",
    "vellum_getTransactionReceipt",
    "vellum_getBlockByNumber",
    "vellum_getBlockByHash",
    "vellum_query",
    "vellum_getContract",
    "vellum_getHistory",
    "vellum_getRange",
    "vellum_getEvents",
    "vellum_getSeal",
    "vellum_getReceiptProof",
    "vellum_getProof",
    "vellum_getAccount",
    "vellum_getAccountTransactions",
    "vellum_getContracts",
    "vellum_getContractHistory",
    "vellum_putPrivate",
    "vellum_getPrivate",
];

/// The rest of the node: nothing pending, every submission refused.
struct Offline;

impl vellum_rpc::Node for Offline {
    type SubmitError = std::io::Error;

    fn submit(&self, _: SignedTransaction) -> Result<Hash, std::io::Error> {
        Err(std::io::Error::other("offline"))
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

struct Fixture {
    runtime: tokio::runtime::Runtime,
    module: RpcModule<State<Offline>>,
    _dir: tempfile::TempDir,
}

/// A ledger with the points contract deployed (block 1) and an issuer registered (block 2).
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let node = Node::new(genesis(DeployPolicy::AnyAdmin));
        let deployed = node.block(vec![sign(
            1,
            0,
            Action::Deploy {
                code: artifact("points"),
                init_args: "{}".into(),
            },
        )]);
        let points = deployed.receipts[0].contract.expect("deployed");
        let admin = vellum_types::hex(&vellum_types::address_of(&vellum_types::public_key(
            &vellum_ledger::testing::key(1),
        )));
        node.block(vec![call(
            1,
            1,
            points,
            "register_issuer",
            json!({"id": "air", "name": "Air", "admin": admin}),
        )]);
        let Node {
            store,
            executor,
            dir,
        } = node;
        let private = vellum_ledger::PrivateStore::open(&dir.path().join("private"), Default::default())
            .expect("private data store");
        let state = State::with_limits(Arc::new(store), Arc::new(executor), Offline, Limits::default())
            .with_private(vellum_rpc::Private {
                store: Arc::new(private),
                organisation: "bank-a".into(),
            });
        Fixture {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            module: vellum_rpc::module(Arc::new(state)).expect("module"),
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, params)) = data.split_first() else {
        return;
    };
    let Ok(params) = std::str::from_utf8(params) else {
        return;
    };
    let method = METHODS[selector as usize % METHODS.len()];
    let request = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#);
    let fixture = fixture();
    // Not a JSON-RPC request at all: the server answers a parse error before any method runs.
    let Ok((response, _)) = fixture
        .runtime
        .block_on(fixture.module.raw_json_request(&request, 1))
    else {
        return;
    };
    let answer: Value = serde_json::from_str(response.get()).expect("an answer is JSON");
    assert!(
        answer.get("result").is_some() != answer.get("error").is_some(),
        "{method}({params}) -> {answer}"
    );
    // The fixture's largest item is far below a MiB.
    assert!(response.get().len() <= 2 * Limits::default().response_bytes_max + (1 << 20));
});

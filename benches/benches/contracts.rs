//! Contract benchmarks: every entry point of the four contracts, run two ways from one fixed
//! pre-state: natively (the contract compiled for this machine, through the SDK's `TestHost`)
//! and as its committed wasm artifact (through the node's runtime: pooled instance, fuel
//! metered). The two figures of an entry point are the same logic, so their ratio is the price
//! of wasm. Each iteration starts from the same state and its writes are discarded, so a figure
//! does not drift as the benchmark runs.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use serde_json::{json, Value};
use std::{collections::BTreeMap, path::PathBuf, sync::Arc};
use vellum_ballot::{commitment, Ballot, Choice};
use vellum_benches::trace_graph;
use vellum_notary::Notary;
use vellum_points::Points;
use vellum_runtime::{
    Call, Context, Execution, MemoryReset, MemoryStorage, Runtime, RuntimeConfig, Storage, Write,
};
use vellum_sdk::{
    testing::{Host, Mode, TestHost, CONTRACT_ADDRESS, DEFAULT_BLOCK, FUEL_LIMIT},
    Address, Contract, Hash,
};
use vellum_trace::Trace;

/// One measured call.
struct Case {
    caller: Address,
    entry_point: String,
    input: Vec<u8>,
}

impl Case {
    fn is_query(&self) -> bool {
        self.entry_point.starts_with("query.")
    }
}

fn instantiate(caller: Address) -> Case {
    Case {
        caller,
        entry_point: "instantiate".into(),
        input: b"{}".to_vec(),
    }
}

fn execute(caller: Address, method: &str, args: Value) -> Case {
    Case {
        caller,
        entry_point: format!("execute.{method}"),
        input: args.to_string().into_bytes(),
    }
}

fn query(method: &str, args: Value) -> Case {
    Case {
        caller: Address::default(),
        entry_point: format!("query.{method}"),
        input: args.to_string().into_bytes(),
    }
}

/// Run `setup` natively, then benchmark every case from the state it leaves (`instantiate`
/// from empty state). Panics if a case fails or an entry point of `C` has no case, so a method
/// added to a contract cannot silently go unmeasured.
fn bench_contract<C: Contract + 'static>(
    c: &mut Criterion,
    name: &str,
    setup: impl FnOnce(&mut TestHost<C>),
    cases: Vec<Case>,
) {
    let mut host = TestHost::<C>::new();
    setup(&mut host);
    let state = host.state().clone();

    let interface: Value = serde_json::from_str(C::INTERFACE).expect("interface is JSON");
    for method in interface["methods"].as_array().expect("methods") {
        let entry_point = method["entry_point"].as_str().expect("entry point");
        assert!(
            cases.iter().any(|case| case.entry_point == entry_point),
            "{name}: no benchmark case for `{entry_point}`"
        );
    }

    let (runtime, contract) = prepared(name, MemoryReset::default());
    let empty = BTreeMap::new();

    let mut group = c.benchmark_group("contracts::call");
    for case in cases {
        let pre = if case.entry_point == "instantiate" {
            &empty
        } else {
            &state
        };
        let storage = storage_of(pre);
        let label = format!("contract={name} entry={}", case.entry_point);
        group.bench_function(format!("{label} host=native"), |b| {
            b.iter_batched(
                || {
                    let mut host = TestHost::<C>::new();
                    for (key, value) in pre {
                        host.seed(key.clone(), value.clone());
                    }
                    host
                },
                |mut host| {
                    let mode = if case.is_query() {
                        Mode::Query
                    } else {
                        Mode::Transaction
                    };
                    let reply = host.call(case.caller, &case.entry_point, &case.input, mode);
                    assert!(reply.is_ok(), "{label}: {:?}", reply.result);
                    host
                },
                BatchSize::SmallInput,
            )
        });
        group.bench_function(format!("{label} host=wasm"), |b| {
            b.iter(|| run_wasm(&runtime, &contract, &case, storage.clone()))
        });
    }
    group.finish();
}

/// A runtime resetting memory with `reset`, and contract `name` prepared from its artifact.
fn prepared(name: &str, reset: MemoryReset) -> (Runtime, Arc<vellum_runtime::Contract>) {
    let runtime = Runtime::new(RuntimeConfig {
        memory_reset: reset,
        ..RuntimeConfig::default()
    })
    .expect("engine builds");
    let artifact = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../contracts/artifacts/{name}.wasm"));
    let wasm = std::fs::read(&artifact).expect("the committed artifact exists");
    let contract = runtime.prepare(&wasm).expect("the artifact is valid");
    (runtime, contract)
}

/// A storage holding `state`.
fn storage_of(state: &BTreeMap<Vec<u8>, Vec<u8>>) -> Arc<dyn Storage> {
    let mut storage = MemoryStorage::new();
    let writes: Vec<Write> = state
        .iter()
        .map(|(key, value)| Write {
            key: key.clone(),
            value: Some(value.clone()),
        })
        .collect();
    storage.apply(&writes);
    Arc::new(storage)
}

/// Run `case` through the runtime against `storage`; it must succeed.
fn run_wasm(
    runtime: &Runtime,
    contract: &vellum_runtime::Contract,
    case: &Case,
    storage: Arc<dyn Storage>,
) -> Execution {
    let call = Call {
        entry_point: &case.entry_point,
        input: &case.input,
        context: Context {
            caller: case.caller.0,
            contract: CONTRACT_ADDRESS.0,
            block_height: DEFAULT_BLOCK.0,
            block_time_ms: DEFAULT_BLOCK.1,
        },
        fuel_limit: FUEL_LIMIT,
        mode: if case.is_query() {
            vellum_runtime::Mode::Query
        } else {
            vellum_runtime::Mode::Transaction
        },
    };
    let execution = runtime
        .execute(contract, call, storage)
        .expect("the runtime completes the call");
    assert!(
        execution.outcome.is_success(),
        "{}: {:?}",
        case.entry_point,
        execution.outcome
    );
    execution
}

/// Assert that a setup step succeeded.
fn ok(reply: vellum_sdk::testing::Reply) {
    assert!(reply.is_ok(), "setup step failed: {:?}", reply.result);
}

const OPERATOR: Address = Address([0x01; 32]);
const AIRLINE: Address = Address([0xa1; 32]);
const BANK: Address = Address([0xb1; 32]);
const ALICE: Address = Address([0xa0; 32]);
const BOB: Address = Address([0xb0; 32]);

/// Two issuers with an agreed rate; Alice holds air points and has moved some.
fn points_setup(host: &mut TestHost<Points>) {
    ok(host.instantiate(OPERATOR, json!({})));
    for (id, admin) in [("air", AIRLINE), ("bank", BANK)] {
        ok(host.execute(
            OPERATOR,
            "register_issuer",
            json!({"id": id, "name": id.to_uppercase(), "admin": admin}),
        ));
    }
    ok(host.execute(
        AIRLINE,
        "mint",
        json!({"issuer": "air", "to": ALICE, "amount": 1_000_000}),
    ));
    let rate = json!({"from": "air", "to": "bank", "numerator": 1, "denominator": 10});
    ok(host.execute(AIRLINE, "agree_rate", rate.clone()));
    ok(host.execute(BANK, "agree_rate", rate));
    for _ in 0..10 {
        ok(host.execute(
            ALICE,
            "transfer",
            json!({"issuer": "air", "to": BOB, "amount": 10}),
        ));
    }
    ok(host.execute(
        ALICE,
        "approve",
        json!({"issuer": "air", "spender": BOB, "amount": 1_000}),
    ));
}

fn alice_transfers() -> Case {
    execute(
        ALICE,
        "transfer",
        json!({"issuer": "air", "to": BOB, "amount": 10}),
    )
}

fn points(c: &mut Criterion) {
    let cases = vec![
        instantiate(OPERATOR),
        execute(
            OPERATOR,
            "register_issuer",
            json!({"id": "sea", "name": "SEA", "admin": BANK}),
        ),
        execute(
            AIRLINE,
            "mint",
            json!({"issuer": "air", "to": BOB, "amount": 100}),
        ),
        alice_transfers(),
        execute(ALICE, "redeem", json!({"issuer": "air", "amount": 10})),
        execute(
            ALICE,
            "approve",
            json!({"issuer": "air", "spender": BANK, "amount": 500}),
        ),
        execute(
            BOB,
            "transfer_from",
            json!({"issuer": "air", "from": ALICE, "to": BANK, "amount": 10}),
        ),
        execute(
            BANK,
            "agree_rate",
            json!({"from": "bank", "to": "air", "numerator": 10, "denominator": 1}),
        ),
        execute(
            ALICE,
            "swap",
            json!({"from": "air", "to": "bank", "amount": 300}),
        ),
        query("balance", json!({"issuer": "air", "member": ALICE})),
        query(
            "allowance",
            json!({"issuer": "air", "owner": ALICE, "spender": BOB}),
        ),
        query("issuer", json!({"id": "air"})),
        query("rate", json!({"from": "air", "to": "bank"})),
        query(
            "history",
            json!({"member": ALICE, "before": null, "limit": 10}),
        ),
    ];
    bench_contract(c, "points", points_setup, cases);
}

/// A point transfer with each way of resetting memory between calls, in one run.
fn memory_reset(c: &mut Criterion) {
    let mut host = TestHost::<Points>::new();
    points_setup(&mut host);
    let storage = storage_of(host.state());
    let case = alice_transfers();
    let mut group = c.benchmark_group("runtime::memory_reset");
    for (label, reset) in [
        ("dirty_pages", MemoryReset::DirtyPages),
        ("memset", MemoryReset::Memset),
    ] {
        let (runtime, contract) = prepared("points", reset);
        group.bench_function(
            format!("reset={label} contract=points entry=execute.transfer"),
            |b| b.iter(|| run_wasm(&runtime, &contract, &case, storage.clone())),
        );
    }
    group.finish();
}

const ORGANISER: Address = Address([0xf0; 32]);

/// Shareholders of a meeting: 100 voters with 1 to 100 shares each.
fn voters() -> Vec<Address> {
    (1..=100u8).map(|i| Address([i; 32])).collect()
}

fn meeting(id: &str, secret: bool) -> Value {
    let registry: Vec<Value> = voters()
        .iter()
        .zip(1u64..)
        .map(|(voter, shares)| json!([voter, shares]))
        .collect();
    json!({
        "id": id, "title": "General Meeting",
        "items": ["Approve the accounts", "Elect the board"],
        "voters": registry, "quorum_bps": 5000, "secret": secret,
    })
}

/// A public meeting open (`agm`) and one closed (`done`), a secret meeting open (`egm`) and
/// one revealing (`rev`), each with a vote or commitment from the first voter.
fn ballot(c: &mut Criterion) {
    let first = voters()[0];
    let second = voters()[1];
    let salted = |meeting: &str, voter: Address| commitment(meeting, 0, voter, Choice::For, "s");
    let setup = |host: &mut TestHost<Ballot>| {
        ok(host.instantiate(ORGANISER, json!({})));
        for (id, secret) in [
            ("agm", false),
            ("done", false),
            ("egm", true),
            ("rev", true),
        ] {
            ok(host.execute(ORGANISER, "create_meeting", meeting(id, secret)));
        }
        for id in ["agm", "done"] {
            ok(host.execute(
                first,
                "vote",
                json!({"meeting": id, "item": 0, "choice": "for"}),
            ));
        }
        for id in ["egm", "rev"] {
            ok(host.execute(
                first,
                "commit_vote",
                json!({"meeting": id, "item": 0, "commitment": salted(id, first)}),
            ));
        }
        for id in ["done", "rev"] {
            ok(host.execute(ORGANISER, "close", json!({"meeting": id})));
        }
    };
    let cases = vec![
        instantiate(ORGANISER),
        execute(ORGANISER, "create_meeting", meeting("new", false)),
        execute(
            second,
            "vote",
            json!({"meeting": "agm", "item": 0, "choice": "against"}),
        ),
        execute(
            second,
            "commit_vote",
            json!({"meeting": "egm", "item": 0, "commitment": salted("egm", second)}),
        ),
        execute(
            first,
            "reveal_vote",
            json!({"meeting": "rev", "item": 0, "choice": "for", "salt": "s"}),
        ),
        execute(ORGANISER, "close", json!({"meeting": "agm"})),
        execute(ORGANISER, "finish", json!({"meeting": "rev"})),
        query("meeting", json!({"id": "agm"})),
        query(
            "vote_of",
            json!({"meeting": "agm", "item": 0, "voter": first}),
        ),
        query("tally", json!({"meeting": "done"})),
    ];
    bench_contract(c, "ballot", setup, cases);
}

const ADMIN: Address = Address([0xad; 32]);
const CONSUL: Address = Address([0xc1; 32]);
const CLERK: Address = Address([0xc2; 32]);

fn document(n: u8) -> Hash {
    Hash([n; 32])
}

/// Two notaries, each with an anchored document.
fn notary(c: &mut Criterion) {
    let anchor = |n: u8| json!({"hash": document(n), "doc_type": "passport", "issuer": "Consulate General, Lyon"});
    let setup = |host: &mut TestHost<Notary>| {
        ok(host.instantiate(ADMIN, json!({})));
        for (notary, name) in [(CONSUL, "Consulate"), (CLERK, "Clerk of court")] {
            ok(host.execute(ADMIN, "add_notary", json!({"notary": notary, "name": name})));
        }
        ok(host.execute(CONSUL, "anchor", anchor(1)));
        ok(host.execute(CLERK, "anchor", anchor(2)));
    };
    let cases = vec![
        instantiate(ADMIN),
        execute(
            ADMIN,
            "add_notary",
            json!({"notary": BOB, "name": "Land registry"}),
        ),
        execute(ADMIN, "remove_notary", json!({"notary": CLERK})),
        execute(CONSUL, "anchor", anchor(3)),
        execute(
            CONSUL,
            "revoke",
            json!({"hash": document(1), "reason": "reported lost"}),
        ),
        execute(
            CONSUL,
            "supersede",
            json!({"old": document(1), "new": document(3), "doc_type": null, "issuer": null}),
        ),
        query("verify", json!({"hash": document(1)})),
        query("notary", json!({"notary": CONSUL})),
    ];
    bench_contract(c, "notary", setup, cases);
}

const DISTRIBUTOR: Address = Address([0xd1; 32]);
const INSPECTOR: Address = Address([0x1e; 32]);

/// The ten-hop provenance graph of `trace_graph`, an inspector, and a second lot at the farm.
fn trace(c: &mut Criterion) {
    let address = |a: Address| serde_json::to_value(a).expect("addresses serialize");
    let setup = |host: &mut TestHost<Trace>| {
        ok(host.instantiate(ADMIN, json!({})));
        let (farm, distributor) = (address(ADMIN), address(DISTRIBUTOR));
        let calls = trace_graph(
            farm.as_str().expect("hex"),
            distributor.as_str().expect("hex"),
        );
        for (method, args) in calls {
            ok(host.execute(ADMIN, method, args));
        }
        ok(host.execute(
            ADMIN,
            "register_party",
            json!({"address": INSPECTOR, "name": "FDA field office", "role": "inspector"}),
        ));
        ok(host.execute(
            ADMIN,
            "create_lot",
            json!({"id": "extra", "product": "mangoes", "quantity": 100, "unit": "kg"}),
        ));
    };
    let cases = vec![
        instantiate(ADMIN),
        execute(
            ADMIN,
            "register_party",
            json!({"address": BOB, "name": "Store 1832", "role": "retailer"}),
        ),
        execute(
            ADMIN,
            "create_lot",
            json!({"id": "new", "product": "mangoes", "quantity": 100, "unit": "kg"}),
        ),
        execute(
            ADMIN,
            "handover",
            json!({"lot": "lot-10", "to": DISTRIBUTOR}),
        ),
        execute(
            ADMIN,
            "split",
            json!({"lot": "lot-10", "parts": [["a", 10], ["b", 10]]}),
        ),
        execute(
            ADMIN,
            "merge",
            json!({"lots": ["lot-10", "extra"], "id": "merged", "product": "mangoes"}),
        ),
        execute(
            INSPECTOR,
            "inspect",
            json!({"lot": "lot-10", "passed": true, "notes": "no residue found"}),
        ),
        execute(
            ADMIN,
            "recall",
            json!({"lot": "lot-0", "reason": "listeria at the farm"}),
        ),
        query("lot", json!({"id": "lot-10"})),
        query("party_of", json!({"address": DISTRIBUTOR})),
        query("trace", json!({"lot": "lot-10"})),
    ];
    bench_contract(c, "trace", setup, cases);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(1));
    targets = memory_reset, points, ballot, notary, trace
}
criterion_main!(benches);

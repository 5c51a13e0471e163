//! The trace contract, natively and as its committed wasm artifact: mangoes move farm -> packer ->
//! distributor -> store through a split and a merge, are traced in one query, and recalled. Both
//! hosts must agree call by call; the wasm run measures the fuel table.

use serde_json::{json, Value};
use vellum_sdk::{
    testing::{Host, Recorder, TestHost},
    Address,
};
use vellum_trace::{Trace, TraceError};

const ADMIN: Address = Address([0xad; 32]);
const FARM: Address = Address([0x01; 32]);
const FARM_2: Address = Address([0x02; 32]);
const PACKER: Address = Address([0x03; 32]);
const DISTRIBUTOR: Address = Address([0x04; 32]);
const STORE: Address = Address([0x05; 32]);
const INSPECTOR: Address = Address([0x06; 32]);
const STRANGER: Address = Address([0xee; 32]);

#[cfg(feature = "wasm")]
fn wasm() -> Recorder<vellum_sdk::testing::WasmHost> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../artifacts/trace.wasm");
    Recorder::new(
        vellum_sdk::testing::WasmHost::from_file(path).expect("the committed artifact loads"),
    )
}

fn ids(lots: &Value) -> Vec<String> {
    lots.as_array()
        .unwrap()
        .iter()
        .map(|l| l["lot"]["id"].as_str().unwrap().to_string())
        .collect()
}

fn scenario(run: &mut Recorder<impl Host>) {
    assert!(run.instantiate(ADMIN, json!({})).is_ok());
    for (address, name, role) in [
        (FARM, "Finca Sol", "farm"),
        (FARM_2, "Finca Luna", "farm"),
        (PACKER, "Packhouse Norte", "packer"),
        (DISTRIBUTOR, "DC 6094", "distributor"),
        (STORE, "Store 1832", "retailer"),
        (INSPECTOR, "FDA field office", "inspector"),
    ] {
        assert!(run
            .execute(
                ADMIN,
                "register_party",
                json!({"address": address, "name": name, "role": role})
            )
            .is_ok());
    }
    let packer = run.query("party_of", json!({"address": PACKER}));
    assert_eq!(packer.json()["role"], json!("packer"));
    let stranger = run.query("party_of", json!({"address": STRANGER}));
    assert_eq!(stranger.json(), json!(null));
    assert_eq!(
        run.execute(
            STRANGER,
            "register_party",
            json!({"address": STRANGER, "name": "x", "role": "farm"})
        )
        .error()
        .code,
        TraceError::NOT_ADMIN
    );

    let create = |id: &str, qty: u64| json!({"id": id, "product": "Kent mangoes", "quantity": qty, "unit": "kg"});
    assert_eq!(
        run.execute(PACKER, "create_lot", create("m-1", 1000))
            .error()
            .code,
        TraceError::WRONG_ROLE,
        "farms only"
    );
    run.set_block(2, 1_700_000_000_000);
    assert!(run.execute(FARM, "create_lot", create("m-1", 1000)).is_ok());
    assert!(run
        .execute(FARM_2, "create_lot", create("m-2", 400))
        .is_ok());
    assert_eq!(
        run.execute(FARM, "create_lot", create("m-1", 5))
            .error()
            .code,
        TraceError::LOT_EXISTS
    );

    let handover = |lot: &str, to: Address| json!({"lot": lot, "to": to});
    assert_eq!(
        run.execute(STRANGER, "handover", handover("m-1", PACKER))
            .error()
            .code,
        TraceError::NOT_A_PARTY
    );
    assert_eq!(
        run.execute(FARM, "handover", handover("m-1", STRANGER))
            .error()
            .code,
        TraceError::NO_SUCH_PARTY
    );
    run.set_block(3, 1_700_000_060_000);
    assert!(run
        .execute(FARM, "handover", handover("m-1", PACKER))
        .is_ok());
    assert!(run
        .execute(FARM_2, "handover", handover("m-2", PACKER))
        .is_ok());
    assert_eq!(
        run.execute(FARM, "handover", handover("m-1", DISTRIBUTOR))
            .error()
            .code,
        TraceError::NOT_THE_HOLDER,
        "no longer holds it"
    );

    // The packer merges both farms' lots, then splits cases for two destinations.
    assert!(run
        .execute(
            INSPECTOR,
            "inspect",
            json!({"lot": "m-1", "passed": true, "notes": "residue test ok"})
        )
        .is_ok());
    assert_eq!(
        run.execute(
            PACKER,
            "inspect",
            json!({"lot": "m-1", "passed": true, "notes": ""})
        )
        .error()
        .code,
        TraceError::WRONG_ROLE
    );
    let merged = run
        .execute(
            PACKER,
            "merge",
            json!({"lots": ["m-1", "m-2"], "id": "p-1", "product": "Kent mangoes, packed"}),
        )
        .json();
    assert_eq!(merged["quantity"], json!(1400));
    assert_eq!(
        run.execute(PACKER, "handover", handover("m-1", DISTRIBUTOR))
            .error()
            .code,
        TraceError::LOT_INACTIVE,
        "merged away"
    );
    let split = json!({"lot": "p-1", "parts": [["c-1", 600], ["c-2", 700]]});
    assert_eq!(
        run.execute(
            PACKER,
            "split",
            json!({"lot": "p-1", "parts": [["c-9", 1401]]})
        )
        .error()
        .code,
        TraceError::SPLIT_EXCEEDS
    );
    let parts = run.execute(PACKER, "split", split).json();
    assert_eq!(parts.as_array().unwrap().len(), 2);
    assert_eq!(
        run.query("lot", json!({"id": "p-1"})).json()["quantity"],
        json!(100),
        "100 kg left over"
    );

    run.set_block(4, 1_700_000_120_000);
    assert!(run
        .execute(PACKER, "handover", handover("c-1", DISTRIBUTOR))
        .is_ok());
    assert!(run
        .execute(DISTRIBUTOR, "handover", handover("c-1", STORE))
        .is_ok());

    // One query: where did the store's case come from, and what else came from its sources?
    let provenance = run.query("trace", json!({"lot": "c-1"})).json();
    let custody: Vec<&Value> = provenance["lot"]["custody"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(custody.len(), 2);
    assert_eq!(custody[1]["to"], json!(STORE));
    assert_eq!(ids(&provenance["upstream"]), ["p-1", "m-1", "m-2"]);
    assert_eq!(ids(&provenance["downstream"]), Vec::<String>::new());
    let upstream_m1 = &provenance["upstream"][1];
    assert_eq!(upstream_m1["inspections"][0]["passed"], json!(true));
    assert_eq!(upstream_m1["custody"][0]["from"], json!(FARM));
    let from_farm = run.query("trace", json!({"lot": "m-2"})).json();
    assert_eq!(ids(&from_farm["downstream"]), ["p-1", "c-1", "c-2"]);

    // Recall of one farm's lot flags everything made from it, and nothing else.
    assert_eq!(
        run.execute(STORE, "recall", json!({"lot": "m-2", "reason": "x"}))
            .error()
            .code,
        TraceError::MAY_NOT_RECALL
    );
    let recalled = run
        .execute(
            FARM_2,
            "recall",
            json!({"lot": "m-2", "reason": "Listeria at Finca Luna"}),
        )
        .json();
    assert_eq!(recalled, json!(["m-2", "p-1", "c-1", "c-2"]));
    assert_eq!(
        run.query("lot", json!({"id": "c-1"})).json()["recall"]["source"],
        json!("m-2")
    );
    assert_eq!(
        run.query("lot", json!({"id": "m-1"})).json()["recall"],
        json!(null)
    );
    assert_eq!(
        run.query("lot", json!({"id": "nope"})).error().code,
        TraceError::NO_LOT
    );
}

#[test]
fn native_run_follows_the_rules() {
    scenario(&mut Recorder::new(TestHost::<Trace>::new()));
}

#[cfg(feature = "wasm")]
#[test]
fn wasm_artifact_matches_the_native_run_and_the_readme_fuel_table() {
    vellum_sdk::testing::check_artifact::<Trace>(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../artifacts/trace.wasm"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"),
        scenario,
    );
}

/// The trace query over a 10-hop chain of splits stays one query, whatever the depth.
#[cfg(feature = "wasm")]
#[test]
fn a_ten_hop_chain_is_traced_in_one_query() {
    let mut run = Recorder::new(wasm().host);
    assert!(run.instantiate(ADMIN, json!({})).is_ok());
    assert!(run
        .execute(
            ADMIN,
            "register_party",
            json!({"address": FARM, "name": "Finca", "role": "farm"})
        )
        .is_ok());
    assert!(run
        .execute(
            FARM,
            "create_lot",
            json!({"id": "hop-0", "product": "pork", "quantity": 1 << 20, "unit": "g"})
        )
        .is_ok());
    for hop in 1..=10 {
        let parts = json!([[format!("hop-{hop}"), 1u64 << (20 - hop)]]);
        assert!(run
            .execute(
                FARM,
                "split",
                json!({"lot": format!("hop-{}", hop - 1), "parts": parts})
            )
            .is_ok());
    }
    let provenance = run.query("trace", json!({"lot": "hop-10"}));
    assert_eq!(provenance.json()["upstream"].as_array().unwrap().len(), 10);
    assert!(provenance.fuel_used.unwrap() > 0);
}

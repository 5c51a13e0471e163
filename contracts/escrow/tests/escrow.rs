//! The escrow, natively and as its committed wasm artifact, each beside the `points` contract it
//! calls (natively and as wasm): a buyer escrows points, the seller receives them on release, the
//! buyer gets them back on refund, and nobody else can move them. Both runs must agree call by
//! call and on both contracts' state; the wasm run measures the README's fuel table.

use serde_json::{json, Value};
use vellum_escrow::{Escrow, EscrowError};
use vellum_points::{Points, PointsError};
use vellum_sdk::{
    testing::{Host, Mode, Recorder, TestHost, CONTRACT_ADDRESS, DEFAULT_BLOCK},
    Address,
};

const POINTS: Address = Address([0x90; 32]);
const OPERATOR: Address = Address([0x01; 32]);
const AIRLINE: Address = Address([0xa1; 32]);
const BUYER: Address = Address([0xb0; 32]);
const SELLER: Address = Address([0x5e; 32]);
const STRANGER: Address = Address([0xee; 32]);
const ESCROW: Address = CONTRACT_ADDRESS;

fn points(run: &mut Recorder<Box<dyn Host>>, caller: Address, method: &str, args: Value) {
    let reply = run.host.execute_at(POINTS, caller, method, args);
    assert!(reply.is_ok(), "points.{method}: {reply:?}");
}

fn balance(run: &mut Recorder<Box<dyn Host>>, member: Address) -> u64 {
    let args = json!({"issuer": "air", "member": member}).to_string();
    run.host
        .call_at(
            POINTS,
            Address::default(),
            "query.balance",
            args.as_bytes(),
            Mode::Query,
        )
        .value()
}

fn scenario(run: &mut Recorder<Box<dyn Host>>) {
    // The airline's points, 1,000 of them the buyer's.
    let reply = run
        .host
        .call_at(POINTS, OPERATOR, "instantiate", b"{}", Mode::Transaction);
    assert!(reply.is_ok(), "{reply:?}");
    points(
        run,
        OPERATOR,
        "register_issuer",
        json!({"id": "air", "name": "Air", "admin": AIRLINE}),
    );
    points(
        run,
        AIRLINE,
        "mint",
        json!({"issuer": "air", "to": BUYER, "amount": 1000}),
    );
    assert!(run.instantiate(OPERATOR, json!({"points": POINTS})).is_ok());

    // Without the buyer's approval at `points`, the escrow cannot take a point.
    let open = |amount: u64, expires_in_ms: u64| json!({"seller": SELLER, "issuer": "air", "amount": amount, "expires_in_ms": expires_in_ms});
    let refused = run.execute(BUYER, "open", open(300, 60_000));
    assert_eq!(refused.error().code, PointsError::ALLOWANCE_EXCEEDED);
    assert_eq!(balance(run, BUYER), 1000);

    // Escrowed: the escrow holds the points in its own name.
    points(
        run,
        BUYER,
        "approve",
        json!({"issuer": "air", "spender": ESCROW, "amount": 300}),
    );
    assert_eq!(
        run.execute(BUYER, "open", open(300, 60_000)).json(),
        json!(0)
    );
    assert_eq!((balance(run, BUYER), balance(run, ESCROW)), (700, 300));
    assert_eq!(
        run.execute(BUYER, "open", open(1, 0)).error().code,
        PointsError::ALLOWANCE_EXCEEDED
    );
    // Nobody but the buyer releases, and the buyer cannot take them back before the deadline.
    for who in [STRANGER, SELLER] {
        let reply = run.execute(who, "release", json!({"id": 0}));
        assert_eq!(reply.error().code, EscrowError::NOT_THE_BUYER);
    }
    for (who, code) in [
        (STRANGER, EscrowError::MAY_NOT_REFUND),
        (BUYER, EscrowError::BEFORE_DEADLINE),
    ] {
        let reply = run.execute(who, "refund", json!({"id": 0}));
        assert_eq!(reply.error().code, code);
    }
    // Released: the seller has them, once.
    let released = run.execute(BUYER, "release", json!({"id": 0}));
    assert_eq!(released.json()["state"], json!("released"));
    assert_eq!((balance(run, SELLER), balance(run, ESCROW)), (300, 0));
    let topics: Vec<(Address, &str)> = released
        .events
        .iter()
        .map(|e| (e.contract, e.topic.as_str()))
        .collect();
    assert_eq!(topics, [(POINTS, "transferred"), (ESCROW, "released")]);
    assert_eq!(
        run.execute(BUYER, "release", json!({"id": 0})).error().code,
        EscrowError::DEAL_CLOSED
    );
    assert_eq!(
        run.execute(SELLER, "refund", json!({"id": 0})).error().code,
        EscrowError::DEAL_CLOSED
    );

    // Refunded by the seller: the buyer has them back.
    points(
        run,
        BUYER,
        "approve",
        json!({"issuer": "air", "spender": ESCROW, "amount": 300}),
    );
    assert_eq!(
        run.execute(BUYER, "open", open(200, 1_000)).json(),
        json!(1)
    );
    assert_eq!(
        run.execute(SELLER, "refund", json!({"id": 1})).json()["state"],
        json!("refunded")
    );
    assert_eq!(balance(run, BUYER), 700);

    // Taken back by the buyer after the deadline, not before.
    assert_eq!(
        run.execute(BUYER, "open", open(100, 1_000)).json(),
        json!(2)
    );
    assert_eq!(
        run.execute(BUYER, "refund", json!({"id": 2})).error().code,
        EscrowError::BEFORE_DEADLINE
    );
    run.set_block(DEFAULT_BLOCK.0 + 1, DEFAULT_BLOCK.1 + 1_001);
    assert!(run.execute(BUYER, "refund", json!({"id": 2})).is_ok());
    assert_eq!(
        (
            balance(run, BUYER),
            balance(run, SELLER),
            balance(run, ESCROW)
        ),
        (700, 300, 0)
    );
    assert_eq!(
        run.query("deal", json!({"id": 1})).json()["state"],
        json!("refunded")
    );
    assert_eq!(
        run.query("deal", json!({"id": 9})).error().code,
        EscrowError::NO_DEAL
    );
}

fn native() -> Recorder<Box<dyn Host>> {
    let mut native = TestHost::<Escrow>::new();
    native.deploy::<Points>(POINTS);
    Recorder::new(Box::new(native) as Box<dyn Host>)
}

#[test]
fn native_run_follows_the_rules() {
    scenario(&mut native());
}

#[cfg(feature = "wasm")]
#[test]
fn native_and_wasm_runs_agree_and_the_fuel_table_is_measured() {
    use vellum_sdk::testing::{assert_equivalent, check_fuel_table, fuel_table, WasmHost};
    let artifact = |name: &str| format!("{}/../artifacts/{name}.wasm", env!("CARGO_MANIFEST_DIR"));

    let mut native = native();
    scenario(&mut native);

    let mut wasm = WasmHost::from_file(artifact("escrow")).expect("the escrow artifact loads");
    wasm.deploy_file(POINTS, artifact("points"))
        .expect("the points artifact loads");
    let mut wasm = Recorder::new(Box::new(wasm) as Box<dyn Host>);
    scenario(&mut wasm);

    assert_equivalent(&native, &wasm);
    assert_eq!(native.host.state_at(&POINTS), wasm.host.state_at(&POINTS));
    check_fuel_table(
        concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"),
        &fuel_table(
            &wasm,
            &std::fs::read(artifact("escrow")).expect("the escrow artifact"),
        ),
    );
}

//! The points contract, natively and as its committed wasm artifact: the same scenario must give
//! the same results, events and state on both, and the wasm run measures the README's fuel table.

use serde_json::json;
use vellum_points::{Points, PointsError};
use vellum_sdk::{
    testing::{Failure, Host, Recorder, TestHost},
    Address, Error,
};

const OPERATOR: Address = Address([0x01; 32]);
const AIRLINE: Address = Address([0xa1; 32]);
const BANK: Address = Address([0xb1; 32]);
const ALICE: Address = Address([0xa0; 32]);
const BOB: Address = Address([0xb0; 32]);
const MALLORY: Address = Address([0xee; 32]);

/// Issuers register, mint, agree a rate and a member swaps; every rule is exercised on the way.
fn scenario(run: &mut Recorder<impl Host>) {
    assert!(run.instantiate(OPERATOR, json!({})).is_ok());
    let register = |run: &mut Recorder<_>, caller, id: &str, admin: Address| {
        run.execute(
            caller,
            "register_issuer",
            json!({"id": id, "name": id.to_uppercase(), "admin": admin}),
        )
    };
    assert_eq!(
        register(run, MALLORY, "air", MALLORY).error().code,
        PointsError::NOT_OPERATOR
    );
    assert!(register(run, OPERATOR, "air", AIRLINE).is_ok());
    assert!(register(run, OPERATOR, "bank", BANK).is_ok());
    assert_eq!(
        register(run, OPERATOR, "air", AIRLINE).error().code,
        PointsError::ISSUER_EXISTS
    );

    // Minting is the issuer admin's alone.
    assert_eq!(
        run.execute(
            BANK,
            "mint",
            json!({"issuer": "air", "to": ALICE, "amount": 10})
        )
        .error()
        .code,
        PointsError::NOT_ISSUER_ADMIN
    );
    assert_eq!(
        run.execute(
            AIRLINE,
            "mint",
            json!({"issuer": "air", "to": ALICE, "amount": 1000})
        )
        .json(),
        json!(1000)
    );
    assert_eq!(
        run.execute(
            BANK,
            "mint",
            json!({"issuer": "bank", "to": BOB, "amount": 50})
        )
        .json(),
        json!(50)
    );
    assert_eq!(
        run.execute(
            AIRLINE,
            "mint",
            json!({"issuer": "nope", "to": ALICE, "amount": 1})
        )
        .error()
        .code,
        PointsError::NO_ISSUER
    );
    assert_eq!(
        run.execute(
            AIRLINE,
            "mint",
            json!({"issuer": "air", "to": ALICE, "amount": 0})
        )
        .error()
        .code,
        PointsError::ZERO_AMOUNT
    );

    // Transfers move points and fail cleanly when short.
    assert!(run
        .execute(
            ALICE,
            "transfer",
            json!({"issuer": "air", "to": BOB, "amount": 100})
        )
        .is_ok());
    let short = run.execute(
        BOB,
        "transfer",
        json!({"issuer": "air", "to": ALICE, "amount": 101}),
    );
    assert_eq!(short.error().code, PointsError::INSUFFICIENT_BALANCE);
    assert!(
        short.error().message.contains("insufficient"),
        "{}",
        short.error().message
    );

    // Another account (an escrow contract, say) moves points only within an allowance.
    let take = |amount: u64| json!({"issuer": "air", "from": BOB, "to": MALLORY, "amount": amount});
    assert_eq!(
        run.execute(MALLORY, "transfer_from", take(30)).error().code,
        PointsError::ALLOWANCE_EXCEEDED
    );
    assert!(run
        .execute(
            BOB,
            "approve",
            json!({"issuer": "air", "spender": MALLORY, "amount": 30})
        )
        .is_ok());
    let allowance = json!({"issuer": "air", "owner": BOB, "spender": MALLORY});
    assert_eq!(run.query("allowance", allowance.clone()).json(), json!(30));
    assert_eq!(
        run.execute(MALLORY, "transfer_from", take(40)).error().code,
        PointsError::ALLOWANCE_EXCEEDED
    );
    assert!(run.execute(MALLORY, "transfer_from", take(30)).is_ok());
    assert_eq!(run.query("allowance", allowance).json(), json!(0));
    assert_eq!(
        run.execute(MALLORY, "transfer_from", take(1)).error().code,
        PointsError::ALLOWANCE_EXCEEDED
    );
    assert_eq!(
        run.query("balance", json!({"issuer": "air", "member": BOB}))
            .json(),
        json!(70)
    );

    // A swap needs a rate both issuers agreed to, on identical terms.
    let swap = json!({"from": "air", "to": "bank", "amount": 300});
    assert_eq!(
        run.execute(ALICE, "swap", swap.clone()).error().code,
        PointsError::NO_RATE
    );
    let rate = json!({"from": "air", "to": "bank", "numerator": 1, "denominator": 10});
    assert_eq!(
        run.execute(MALLORY, "agree_rate", rate.clone())
            .error()
            .code,
        PointsError::NOT_RATE_PARTY
    );
    let half = run.execute(AIRLINE, "agree_rate", rate.clone()).json();
    assert_eq!(half["agreed_by_from"], json!(true));
    assert_eq!(half["agreed_by_to"], json!(false));
    assert_eq!(
        run.execute(ALICE, "swap", swap.clone()).error().code,
        PointsError::NO_RATE
    );
    // The bank proposing other terms restarts the agreement.
    let other = json!({"from": "air", "to": "bank", "numerator": 1, "denominator": 20});
    assert_eq!(
        run.execute(BANK, "agree_rate", other).json()["agreed_by_from"],
        json!(false)
    );
    assert!(run.execute(AIRLINE, "agree_rate", rate.clone()).is_ok());
    assert_eq!(
        run.execute(BANK, "agree_rate", rate).json()["agreed_by_from"],
        json!(true)
    );
    let agreed = run
        .query("rate", json!({"from": "air", "to": "bank"}))
        .json();
    assert_eq!(agreed["numerator"], json!(1));
    assert_eq!(agreed["agreed_by_to"], json!(true));
    let reverse = run.query("rate", json!({"from": "bank", "to": "air"}));
    assert_eq!(reverse.json(), json!(null), "rates are directional");

    // Both legs in one call: 300 air points out, 30 bank points in, supplies follow.
    assert_eq!(run.execute(ALICE, "swap", swap).json(), json!(30));
    let too_small = json!({"from": "air", "to": "bank", "amount": 5});
    assert_eq!(
        run.execute(ALICE, "swap", too_small).error().code,
        PointsError::CONVERTS_TO_ZERO
    );
    let too_much = json!({"from": "air", "to": "bank", "amount": 1000});
    assert_eq!(
        run.execute(ALICE, "swap", too_much).error().code,
        PointsError::INSUFFICIENT_BALANCE
    );
    assert_eq!(
        run.query("balance", json!({"issuer": "air", "member": ALICE}))
            .json(),
        json!(600)
    );
    assert_eq!(
        run.query("balance", json!({"issuer": "bank", "member": ALICE}))
            .json(),
        json!(30)
    );
    assert_eq!(
        run.query("issuer", json!({"id": "air"})).json()["supply"],
        json!(700)
    );
    assert_eq!(
        run.query("issuer", json!({"id": "bank"})).json()["supply"],
        json!(80)
    );

    assert!(run
        .execute(ALICE, "redeem", json!({"issuer": "bank", "amount": 30}))
        .is_ok());
    assert_eq!(
        run.query("balance", json!({"issuer": "bank", "member": ALICE}))
            .json(),
        json!(0)
    );

    // History pages newest first, with a cursor.
    let page = run
        .query(
            "history",
            json!({"member": ALICE, "before": null, "limit": 2}),
        )
        .json();
    let kinds: Vec<&str> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[1]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["redeemed", "swapped_in"]);
    let cursor = page[1][0].as_u64().unwrap();
    let rest = run
        .query(
            "history",
            json!({"member": ALICE, "before": cursor, "limit": 10}),
        )
        .json();
    let kinds: Vec<&str> = rest
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[1]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["swapped_out", "sent", "minted"]);

    // Queries cannot write; bad arguments are a clear error.
    assert_eq!(
        run.query("balance", json!({"issuer": "air"})).error().code,
        Error::INVALID_ARGUMENTS
    );
    assert!(matches!(
        run.query("nonexistent", json!({})).result,
        Err(Failure::Trap(_))
    ));
}

#[test]
fn native_run_follows_the_rules() {
    scenario(&mut Recorder::new(TestHost::<Points>::new()));
}

#[cfg(feature = "wasm")]
#[test]
fn wasm_artifact_matches_the_native_run_and_the_readme_fuel_table() {
    vellum_sdk::testing::check_artifact::<Points>(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../artifacts/points.wasm"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"),
        scenario,
    );
}

#[test]
fn swap_events_let_an_auditor_follow_both_legs() {
    let mut run = Recorder::new(TestHost::<Points>::new());
    scenario(&mut run);
    let swap = run
        .steps
        .iter()
        .find(|s| s.entry_point == "execute.swap" && s.reply.is_ok())
        .expect("a successful swap");
    assert_eq!(swap.reply.events.len(), 1);
    assert_eq!(swap.reply.events[0].topic, "swapped");
    assert_eq!(
        swap.reply.events[0].json(),
        json!([ALICE, "air", 300, "bank", 30])
    );
}

//! Trade, natively (`cargo test -p vellum-trade`: seconds, no wasm runtime) and, with
//! `--features wasm`, as its built artifact (`scripts/build-contracts.sh trade` first): the same
//! scenario must give the same results, events and state on both hosts, and the wasm run measures
//! the fuel table in README.md (`UPDATE_FUEL_TABLES=1` writes it).

use serde_json::{json, Value};
use vellum_sdk::{
    testing::{Host, Recorder, TestHost},
    Address, Error,
};
use vellum_trade::{Trade, TradeError};

const EXPORTER: Address = Address([0xe1; 32]);
const IMPORTER: Address = Address([0x11; 32]);
const EXPORTER_BANK: Address = Address([0xeb; 32]);
const IMPORTER_BANK: Address = Address([0x1b; 32]);
const CARRIER: Address = Address([0xca; 32]);
const CUSTOMS: Address = Address([0xc5; 32]);
const STRANGER: Address = Address([0x99; 32]);

fn hash(n: u8) -> String {
    format!("0x{}", format!("{n:02x}").repeat(32))
}

fn open(id: &str) -> Value {
    json!({
        "id": id, "goods": "2,000 kg of mangoes",
        "importer": IMPORTER, "exporter_bank": EXPORTER_BANK, "importer_bank": IMPORTER_BANK,
        "carrier": CARRIER, "customs": CUSTOMS,
    })
}

fn submit(kind: &str, n: u8) -> Value {
    json!({"id": "s1", "kind": kind, "hash": hash(n), "organisations": ["org-2", "org-1"]})
}

/// Every rule, on any host.
fn scenario(run: &mut Recorder<impl Host>) {
    assert!(run.instantiate(EXPORTER, json!({})).is_ok());
    let opened = run.execute(EXPORTER, "open_shipment", open("s1"));
    assert_eq!(opened.json()["status"], "open");
    assert_eq!(opened.events[0].topic, "shipment_opened");
    assert_eq!(opened.events[0].json(), json!(["s1", EXPORTER, IMPORTER]));
    assert_eq!(
        run.execute(EXPORTER, "open_shipment", open("s1"))
            .error()
            .code,
        TradeError::SHIPMENT_EXISTS
    );
    let mut twice = open("s2");
    twice["carrier"] = json!(IMPORTER);
    assert_eq!(
        run.execute(EXPORTER, "open_shipment", twice).error().code,
        TradeError::PARTY_TWICE
    );
    assert_eq!(
        run.execute(EXPORTER, "open_shipment", open(""))
            .error()
            .code,
        TradeError::BAD_TEXT
    );

    // No document before the letter of credit; only the importer's bank issues it.
    assert_eq!(
        run.execute(EXPORTER, "submit_document", submit("invoice", 1))
            .error()
            .code,
        TradeError::NO_CREDIT
    );
    let credit = json!({
        "id": "s1", "hash": hash(0xc0), "organisations": ["org-1", "org-2"], "amount": 48_000,
        "currency": "EUR", "required": ["bill_of_lading", "invoice", "customs_declaration", "invoice"],
    });
    assert_eq!(
        run.execute(IMPORTER, "issue_credit", credit.clone())
            .error()
            .code,
        TradeError::NOT_ALLOWED
    );
    let mut nothing = credit.clone();
    nothing["amount"] = json!(0);
    assert_eq!(
        run.execute(IMPORTER_BANK, "issue_credit", nothing)
            .error()
            .code,
        TradeError::EMPTY_CREDIT
    );
    let issued = run.execute(IMPORTER_BANK, "issue_credit", credit.clone());
    assert_eq!(
        issued.json()["required"],
        json!(["invoice", "bill_of_lading", "customs_declaration"])
    );
    assert_eq!(issued.events[0].topic, "credit_issued");
    assert_eq!(
        run.execute(IMPORTER_BANK, "issue_credit", credit)
            .error()
            .code,
        TradeError::CREDIT_ISSUED
    );

    // Each document from its issuer only.
    assert_eq!(
        run.execute(EXPORTER, "submit_document", submit("bill_of_lading", 2))
            .error()
            .code,
        TradeError::NOT_ALLOWED
    );
    assert_eq!(
        run.execute(EXPORTER, "submit_document", submit("passport", 2))
            .error()
            .code,
        Error::INVALID_ARGUMENTS
    );
    let invoice = run.execute(EXPORTER, "submit_document", submit("invoice", 1));
    assert_eq!(invoice.json()["status"], "submitted");
    assert_eq!(invoice.json()["organisations"], json!(["org-1", "org-2"]));
    assert_eq!(
        invoice.events[0].json(),
        json!(["s1", "invoice", hash(1), EXPORTER])
    );
    assert!(run
        .execute(CARRIER, "submit_document", submit("bill_of_lading", 2))
        .is_ok());
    assert!(run
        .execute(
            IMPORTER,
            "submit_document",
            submit("customs_declaration", 3)
        )
        .is_ok());
    assert_eq!(
        run.query("missing", json!({"id": "s1"})).json(),
        json!(["invoice", "bill_of_lading", "customs_declaration"])
    );

    // Each document examined by its examiner only: customs for the declaration.
    let accept = |kind: &str, n: u8| json!({"id": "s1", "kind": kind, "hash": hash(n)});
    assert_eq!(
        run.execute(
            IMPORTER_BANK,
            "accept_document",
            accept("customs_declaration", 3)
        )
        .error()
        .code,
        TradeError::NOT_ALLOWED
    );
    assert!(run
        .execute(CUSTOMS, "accept_document", accept("customs_declaration", 3))
        .is_ok());
    assert_eq!(
        run.execute(CUSTOMS, "accept_document", accept("customs_declaration", 3))
            .error()
            .code,
        TradeError::DOCUMENT_ACCEPTED
    );
    assert_eq!(
        run.execute(
            IMPORTER,
            "submit_document",
            submit("customs_declaration", 4)
        )
        .error()
        .code,
        TradeError::DOCUMENT_ACCEPTED
    );
    assert_eq!(
        run.execute(IMPORTER_BANK, "accept_document", accept("insurance", 6))
            .error()
            .code,
        TradeError::NO_DOCUMENT
    );
    // The examiner decides on the document it read: once the invoice is replaced, accepting
    // the first one is refused.
    assert!(run
        .execute(EXPORTER, "submit_document", submit("invoice", 7))
        .is_ok());
    let stale = run.execute(IMPORTER_BANK, "accept_document", accept("invoice", 1));
    assert_eq!(stale.error().code, TradeError::NOT_THE_EXAMINED);
    // A rejected invoice cannot be examined again until it is submitted again, and then is.
    let reject = |n: u8| json!({"id": "s1", "kind": "invoice", "hash": hash(n), "reason": "amount differs from the credit"});
    let rejected = run.execute(IMPORTER_BANK, "reject_document", reject(7));
    assert_eq!(
        rejected.json()["status"],
        json!({"rejected": {"reason": "amount differs from the credit"}})
    );
    assert_eq!(
        run.execute(IMPORTER_BANK, "accept_document", accept("invoice", 7))
            .error()
            .code,
        TradeError::DOCUMENT_REJECTED
    );
    assert_eq!(
        run.execute(IMPORTER_BANK, "reject_document", reject(7))
            .error()
            .code,
        TradeError::DOCUMENT_REJECTED
    );
    assert!(run
        .execute(EXPORTER, "submit_document", submit("invoice", 5))
        .is_ok());
    assert!(run
        .execute(IMPORTER_BANK, "accept_document", accept("invoice", 5))
        .is_ok());

    // Payment waits for the bill of lading.
    let pay = json!({"id": "s1"});
    let waiting = run.execute(IMPORTER_BANK, "release_payment", pay.clone());
    assert_eq!(waiting.error().code, TradeError::DOCUMENTS_MISSING);
    assert_eq!(
        waiting.error().message,
        "payment of shipment `s1` waits for: [BillOfLading]"
    );
    assert!(run
        .execute(
            IMPORTER_BANK,
            "accept_document",
            accept("bill_of_lading", 2)
        )
        .is_ok());
    assert_eq!(
        run.execute(STRANGER, "release_payment", pay.clone())
            .error()
            .code,
        TradeError::NOT_ALLOWED
    );
    let paid = run.execute(IMPORTER_BANK, "release_payment", pay.clone());
    assert_eq!(paid.json()["status"], "paid");
    assert_eq!(paid.events[0].topic, "payment_released");
    assert_eq!(
        paid.events[0].json(),
        json!(["s1", 48_000, "EUR", EXPORTER_BANK])
    );
    assert_eq!(
        run.execute(IMPORTER_BANK, "release_payment", pay)
            .error()
            .code,
        TradeError::CLOSED
    );

    let shipment = run.query("shipment", json!({"id": "s1"})).json();
    assert_eq!(shipment["documents"].as_array().map(Vec::len), Some(3));
    assert_eq!(shipment["documents"][0]["hash"], hash(5));
    assert_eq!(run.query("missing", json!({"id": "s1"})).json(), json!([]));
    assert_eq!(
        run.query("shipment", json!({"id": "s9"})).error().code,
        TradeError::NO_SHIPMENT
    );
}

#[test]
fn native_run_follows_the_rules() {
    scenario(&mut Recorder::new(TestHost::<Trade>::new()));
}

#[cfg(feature = "wasm")]
#[test]
fn wasm_artifact_matches_the_native_run_and_the_readme_fuel_table() {
    vellum_sdk::testing::check_artifact::<Trade>(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../artifacts/trade.wasm"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"),
        scenario,
    );
}

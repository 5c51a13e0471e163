//! The notary contract, natively and as its committed wasm artifact: a consulate anchors a
//! document, a third party verifies it, it is superseded and another revoked; both hosts must
//! agree call by call, and the wasm run measures the fuel table.

use serde_json::json;
use vellum_notary::{Notary, NotaryError};
use vellum_sdk::{
    env::sha3_256,
    testing::{Host, Recorder, TestHost},
    Address, Error, Hash,
};

const ADMIN: Address = Address([0xad; 32]);
const CONSUL: Address = Address([0xc1; 32]);
const CLERK: Address = Address([0xc2; 32]);
const STRANGER: Address = Address([0xee; 32]);

fn document(text: &str) -> Hash {
    Hash(sha3_256(text.as_bytes()))
}

fn scenario(run: &mut Recorder<impl Host>) {
    let passport = document("passport application #1, scanned PDF bytes");
    let passport_v2 = document("passport application #1, corrected");
    let birth = document("birth certificate of J. Doe");

    assert!(run.instantiate(ADMIN, json!({})).is_ok());
    assert_eq!(
        run.execute(
            STRANGER,
            "add_notary",
            json!({"notary": STRANGER, "name": "me"})
        )
        .error()
        .code,
        NotaryError::NOT_ADMIN
    );
    assert!(run
        .execute(
            ADMIN,
            "add_notary",
            json!({"notary": CONSUL, "name": "Consul, Lyon"})
        )
        .is_ok());
    assert!(run
        .execute(
            ADMIN,
            "add_notary",
            json!({"notary": CLERK, "name": "Clerk, Lyon"})
        )
        .is_ok());

    let anchor = |hash: Hash, doc_type: &str| json!({"hash": hash, "doc_type": doc_type, "issuer": "Consulate General, Lyon"});
    assert_eq!(
        run.execute(STRANGER, "anchor", anchor(passport, "passport"))
            .error()
            .code,
        NotaryError::NOT_A_NOTARY
    );
    assert_eq!(
        run.execute(STRANGER, "anchor", anchor(passport, "passport"))
            .error()
            .message,
        format!("{STRANGER} is not an authorized notary")
    );
    run.set_block(10, 1_700_000_100_000);
    let anchored = run
        .execute(CONSUL, "anchor", anchor(passport, "passport"))
        .json();
    assert_eq!(anchored["notary"], json!(CONSUL));
    assert_eq!(anchored["anchored_at_ms"], json!(1_700_000_100_000u64));
    assert_eq!(anchored["anchored_at_height"], json!(10));
    assert_eq!(
        run.execute(CLERK, "anchor", anchor(passport, "passport"))
            .error()
            .code,
        NotaryError::ALREADY_ANCHORED
    );
    assert!(run
        .execute(CLERK, "anchor", anchor(birth, "birth certificate"))
        .is_ok());
    assert_eq!(
        run.execute(CLERK, "anchor", anchor(document("x"), ""))
            .error()
            .code,
        NotaryError::BAD_TEXT,
        "empty doc_type"
    );

    // A third party verifies by hash alone.
    let verify =
        |run: &mut Recorder<_>, hash: Hash| run.query("verify", json!({"hash": hash})).json();
    assert_eq!(verify(run, passport)["verdict"], json!("valid"));
    assert_eq!(
        verify(run, document("never anchored"))["verdict"],
        json!("unknown")
    );
    assert_eq!(
        verify(run, document("never anchored"))["document"],
        json!(null)
    );

    // Only the anchoring notary (or the admin) amends; a new version supersedes the old.
    let supersede = json!({"old": passport, "new": passport_v2, "doc_type": null, "issuer": null});
    assert_eq!(
        run.execute(CLERK, "supersede", supersede.clone())
            .error()
            .code,
        NotaryError::MAY_NOT_AMEND
    );
    run.set_block(11, 1_700_000_200_000);
    let reply = run.execute(CONSUL, "supersede", supersede.clone());
    let topics: Vec<&str> = reply.events.iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(topics, ["anchored", "superseded"]);
    assert_eq!(reply.events[1].json(), json!([passport, passport_v2]));
    let newer = reply.json();
    assert_eq!(newer["supersedes"], json!(passport));
    assert_eq!(newer["doc_type"], json!("passport"));
    let old = verify(run, passport);
    assert_eq!(old["verdict"], json!("superseded"));
    assert_eq!(
        old["document"]["status"],
        json!({"status": "superseded", "by": passport_v2, "at_ms": 1_700_000_200_000u64})
    );
    assert_eq!(verify(run, passport_v2)["verdict"], json!("valid"));
    assert_eq!(
        run.execute(CONSUL, "supersede", supersede).error().code,
        NotaryError::NO_LONGER_VALID,
        "already superseded"
    );

    // Revocation records the reason; revoked stays revoked.
    let revoke = json!({"hash": birth, "reason": "issued in error"});
    assert_eq!(
        run.execute(STRANGER, "revoke", revoke.clone()).error().code,
        NotaryError::MAY_NOT_AMEND
    );
    assert!(run.execute(ADMIN, "revoke", revoke.clone()).is_ok());
    let revoked = verify(run, birth);
    assert_eq!(revoked["verdict"], json!("revoked"));
    assert_eq!(
        revoked["document"]["status"]["reason"],
        json!("issued in error")
    );
    assert_eq!(
        run.execute(CLERK, "revoke", revoke).error().code,
        NotaryError::NO_LONGER_VALID
    );

    // A removed notary can no longer anchor; its documents stand.
    assert!(run
        .execute(ADMIN, "remove_notary", json!({"notary": CONSUL}))
        .is_ok());
    assert_eq!(
        run.query("notary", json!({"notary": CONSUL})).json(),
        json!(null)
    );
    assert_eq!(
        run.execute(CONSUL, "anchor", anchor(document("late"), "visa"))
            .error()
            .code,
        NotaryError::NOT_A_NOTARY
    );
    assert_eq!(verify(run, passport_v2)["verdict"], json!("valid"));
    assert_eq!(
        run.query("verify", json!({"hash": "0x1234"})).error().code,
        Error::INVALID_ARGUMENTS
    );
}

#[test]
fn native_run_follows_the_rules() {
    scenario(&mut Recorder::new(TestHost::<Notary>::new()));
}

#[cfg(feature = "wasm")]
#[test]
fn wasm_artifact_matches_the_native_run_and_the_readme_fuel_table() {
    vellum_sdk::testing::check_artifact::<Notary>(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../artifacts/notary.wasm"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"),
        scenario,
    );
}

#[test]
fn no_document_content_reaches_the_chain() {
    let secret = "passport application #1, scanned PDF bytes";
    let mut run = Recorder::new(TestHost::<Notary>::new());
    scenario(&mut run);
    for value in run.host.state().values() {
        assert!(!String::from_utf8_lossy(value).contains(secret));
    }
}

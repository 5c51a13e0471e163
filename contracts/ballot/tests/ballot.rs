//! The ballot contract, natively and as its committed wasm artifact: a public and a secret general
//! meeting, run on both hosts and compared call by call; the wasm run measures the fuel table.

use serde_json::{json, Value};
use vellum_ballot::{commitment, Ballot, BallotError, Choice};
use vellum_sdk::{
    testing::{Host, Recorder, TestHost},
    Address, Error,
};

const ORGANISER: Address = Address([0x0a; 32]);
const FUND: Address = Address([0xf1; 32]); // 600 shares
const FAMILY: Address = Address([0xf2; 32]); // 300 shares
const SMALL: Address = Address([0xf3; 32]); // 100 shares
const OUTSIDER: Address = Address([0xee; 32]);

fn registry() -> Value {
    json!([[FUND, 600], [FAMILY, 300], [SMALL, 100]])
}

fn vote(
    run: &mut Recorder<impl Host>,
    voter: Address,
    item: u32,
    choice: &str,
) -> vellum_sdk::testing::Reply {
    run.execute(
        voter,
        "vote",
        json!({"meeting": "agm", "item": item, "choice": choice}),
    )
}

/// A public AGM with two items, then a secret EGM decided by commit and reveal.
fn scenario(run: &mut Recorder<impl Host>) {
    assert!(run.instantiate(ORGANISER, json!({})).is_ok());
    let agm = json!({
        "id": "agm", "title": "Annual General Meeting 2026",
        "items": ["Approve the accounts", "Re-elect the chair"],
        "voters": registry(), "quorum_bps": 5000, "secret": false,
    });
    let created = run.execute(ORGANISER, "create_meeting", agm.clone()).json();
    assert_eq!(created["total_shares"], json!(1000));
    assert_eq!(
        run.execute(ORGANISER, "create_meeting", agm).error().code,
        BallotError::MEETING_EXISTS
    );
    let duplicate = json!({
        "id": "dup", "title": "t", "items": ["x"], "voters": [[FUND, 1], [FUND, 2]],
        "quorum_bps": 0, "secret": false,
    });
    assert_eq!(
        run.execute(ORGANISER, "create_meeting", duplicate)
            .error()
            .code,
        BallotError::VOTER_TWICE
    );

    assert!(vote(run, FUND, 0, "for").is_ok());
    assert!(vote(run, FAMILY, 0, "against").is_ok());
    assert!(vote(run, SMALL, 0, "abstain").is_ok());
    assert!(vote(run, FAMILY, 1, "for").is_ok());
    assert_eq!(
        vote(run, FUND, 0, "against").error().code,
        BallotError::ALREADY_VOTED,
        "one vote per item"
    );
    assert_eq!(
        vote(run, OUTSIDER, 0, "for").error().code,
        BallotError::NOT_A_VOTER
    );
    assert_eq!(vote(run, FUND, 7, "for").error().code, BallotError::NO_ITEM);
    assert_eq!(
        vote(run, FUND, 1, "maybe").error().code,
        Error::INVALID_ARGUMENTS
    );
    // No tally while open; only the organiser closes; no votes after close.
    assert_eq!(
        run.query("tally", json!({"meeting": "agm"})).error().code,
        BallotError::WRONG_STATUS
    );
    assert_eq!(
        run.execute(FUND, "close", json!({"meeting": "agm"}))
            .error()
            .code,
        BallotError::NOT_ORGANISER
    );
    assert_eq!(
        run.execute(ORGANISER, "close", json!({"meeting": "agm"}))
            .json(),
        json!("closed")
    );
    assert_eq!(
        vote(run, SMALL, 1, "for").error().code,
        BallotError::WRONG_STATUS
    );
    let meeting = run.query("meeting", json!({"id": "agm"}));
    assert_eq!(meeting.json()["status"], json!("closed"));
    let unknown = run.query("meeting", json!({"id": "nope"}));
    assert_eq!(unknown.error().code, BallotError::NO_MEETING);

    let tally = run.query("tally", json!({"meeting": "agm"})).json();
    // Item 0: 600 for, 300 against, 100 abstain: quorum (1000 >= 500) and passed.
    assert_eq!(tally[0]["for_shares"], json!(600));
    assert_eq!(tally[0]["against_shares"], json!(300));
    assert_eq!(tally[0]["abstain_shares"], json!(100));
    assert_eq!(tally[0]["passed"], json!(true));
    // Item 1: only 300 of 1000 shares voted: no quorum, not passed despite no votes against.
    assert_eq!(tally[1]["quorum_reached"], json!(false));
    assert_eq!(tally[1]["passed"], json!(false));

    // A secret meeting: commitments while open, reveals after close, tally after finish.
    let egm = json!({
        "id": "egm", "title": "Extraordinary General Meeting", "items": ["Approve the merger"],
        "voters": registry(), "quorum_bps": 6000, "secret": true,
    });
    assert!(run.execute(ORGANISER, "create_meeting", egm).is_ok());
    let secret =
        |voter: Address, choice: Choice, salt: &str| commitment("egm", 0, voter, choice, salt);
    for (voter, choice, salt) in [
        (FUND, Choice::Against, "s1"),
        (FAMILY, Choice::For, "s2"),
        (SMALL, Choice::For, "s3"),
    ] {
        let reply = run.execute(
            voter,
            "commit_vote",
            json!({"meeting": "egm", "item": 0, "commitment": secret(voter, choice, salt)}),
        );
        assert!(reply.is_ok(), "{reply:?}");
    }
    assert_eq!(
        run.execute(
            FUND,
            "vote",
            json!({"meeting": "egm", "item": 0, "choice": "for"})
        )
        .error()
        .code,
        BallotError::SECRET_MEETING,
        "no open votes in a secret meeting"
    );
    // Nothing is visible before reveal.
    assert_eq!(
        run.query(
            "vote_of",
            json!({"meeting": "egm", "item": 0, "voter": FUND})
        )
        .json(),
        json!(null)
    );
    let reveal = |choice: &str, salt: &str| json!({"meeting": "egm", "item": 0, "choice": choice, "salt": salt});
    assert_eq!(
        run.execute(FUND, "reveal_vote", reveal("against", "s1"))
            .error()
            .code,
        BallotError::WRONG_STATUS,
        "not yet closed"
    );
    assert_eq!(
        run.execute(ORGANISER, "close", json!({"meeting": "egm"}))
            .json(),
        json!("revealing")
    );
    // A reveal that does not match its commitment does not count.
    assert_eq!(
        run.execute(FUND, "reveal_vote", reveal("for", "s1"))
            .error()
            .code,
        BallotError::COMMITMENT_MISMATCH
    );
    assert!(run
        .execute(FUND, "reveal_vote", reveal("against", "s1"))
        .is_ok());
    assert!(run
        .execute(FAMILY, "reveal_vote", reveal("for", "s2"))
        .is_ok());
    // SMALL never reveals.
    assert!(run
        .execute(ORGANISER, "finish", json!({"meeting": "egm"}))
        .is_ok());
    let tally = run.query("tally", json!({"meeting": "egm"})).json();
    assert_eq!(tally[0]["for_shares"], json!(300));
    assert_eq!(tally[0]["against_shares"], json!(600));
    assert_eq!(
        tally[0]["quorum_reached"],
        json!(true),
        "900 of 1000 shares revealed"
    );
    assert_eq!(tally[0]["passed"], json!(false));
}

#[test]
fn native_run_follows_the_rules() {
    scenario(&mut Recorder::new(TestHost::<Ballot>::new()));
}

#[cfg(feature = "wasm")]
#[test]
fn wasm_artifact_matches_the_native_run_and_the_readme_fuel_table() {
    vellum_sdk::testing::check_artifact::<Ballot>(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../artifacts/ballot.wasm"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"),
        scenario,
    );
}

/// Anyone can recount a meeting from its events alone and reach the contract's tally.
#[test]
fn a_recount_from_events_matches_the_tally() {
    let mut run = Recorder::new(TestHost::<Ballot>::new());
    scenario(&mut run);
    for meeting in ["agm", "egm"] {
        let mut recount = [[0u64; 3]; 2];
        for event in run.steps.iter().flat_map(|s| &s.reply.events) {
            if event.topic != "vote_cast" && event.topic != "vote_revealed" {
                continue;
            }
            let [id, item, _voter, choice, shares] =
                serde_json::from_value::<[Value; 5]>(event.json()).unwrap();
            if id != meeting {
                continue;
            }
            let column = ["for", "against", "abstain"]
                .iter()
                .position(|c| choice == *c)
                .unwrap();
            recount[item.as_u64().unwrap() as usize][column] += shares.as_u64().unwrap();
        }
        let tally = run.query("tally", json!({"meeting": meeting})).json();
        for (item, row) in tally.as_array().unwrap().iter().enumerate() {
            let from_contract = [
                &row["for_shares"],
                &row["against_shares"],
                &row["abstain_shares"],
            ]
            .map(|v| v.as_u64().unwrap());
            assert_eq!(recount[item], from_contract, "{meeting} item {item}");
        }
    }
}

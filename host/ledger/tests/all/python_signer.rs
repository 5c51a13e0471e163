//! A transaction signed in Python, from `docs/transactions.md` alone, with PyPI's `ecdsa` and
//! `pycryptodome` (an implementation independent of ours), is accepted and executed by a node.
//!
//! The Python packages go in a virtualenv (`tests/python/venv.rs`).

use super::*;
use std::{path::PathBuf, process::Command};

#[path = "../../../../tests/python/venv.rs"]
mod venv;
use vellum_types::{hex, unhex};

fn python() -> PathBuf {
    venv::python(
        &["ecdsa==0.19.1", "pycryptodome==3.23.0"],
        "import ecdsa, Crypto",
    )
}

/// Run the Python signer with `args`; returns the decoded transaction, checked to have the hash
/// Python computed.
fn python_signed(args: &[String]) -> SignedTransaction {
    let output = Command::new(python())
        .arg(venv::script("sign_transaction.py"))
        .args(args)
        .output()
        .expect("run the Python signer");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let (raw, hash) = stdout.trim().split_once(' ').expect("two fields");
    let transaction = SignedTransaction::decode(&unhex(raw).expect("hex")).expect("it decodes");
    assert_eq!(
        hex(&transaction.hash()),
        hash,
        "both sides compute the same hash"
    );
    transaction
}

/// A key rotation signed in Python, its proof included, from `docs/transactions.md` alone: the
/// node executes it, and the new key then signs for the account.
#[test]
fn a_key_rotation_signed_in_python_is_executed() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let account = address(3);
    let rotation = python_signed(&[
        hex(&key(3).to_bytes()),
        CHAIN.into(),
        "0".into(),
        "rotate".into(),
        hex(&account),
        hex(&key(13).to_bytes()),
    ]);
    node.executor
        .check(&node.store, &rotation)
        .expect("the node's entry checks accept it");
    let executed = node.block(vec![rotation]);
    assert_eq!(
        executed.receipts[0].status,
        Status::Success,
        "{:?}",
        executed.receipts[0]
    );
    let member = node
        .store
        .member(&account)
        .unwrap()
        .expect("still a member");
    assert_eq!(member.public_key, public_key(&key(13)));
}

#[test]
fn a_transaction_signed_in_python_is_accepted_and_executed() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let deploy = sign(
        1,
        0,
        Action::Deploy {
            code: artifact("points"),
            init_args: "{}".into(),
        },
    );
    let deployed = node.block(vec![deploy]);
    let contract = deployed.receipts[0].contract.expect("deployed");

    let me = hex(&address_of(&public_key(&key(1))));
    let args = json!({"id": "air", "name": "Air", "admin": me}).to_string();
    let transaction = python_signed(&[
        hex(&key(1).to_bytes()),
        CHAIN.into(),
        "1".into(),
        hex(&contract),
        "register_issuer".into(),
        args,
    ]);
    let hash = hex(&transaction.hash());
    assert_eq!(
        node.executor
            .check(&node.store, &transaction)
            .map(|h| hex(&h))
            .ok(),
        Some(hash),
        "the node's entry checks accept it"
    );
    let executed = node.block(vec![transaction]);
    assert_eq!(
        executed.receipts[0].status,
        Status::Success,
        "{:?}",
        executed.receipts[0]
    );
}

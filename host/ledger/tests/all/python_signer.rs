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

    let script = venv::script("sign_transaction.py");
    let me = hex(&address_of(&public_key(&key(1))));
    let args = json!({"id": "air", "name": "Air", "admin": me}).to_string();
    let output = Command::new(python())
        .arg(&script)
        .arg(hex(&key(1).to_bytes()))
        .arg(CHAIN)
        .arg("1")
        .arg(hex(&contract))
        .arg("register_issuer")
        .arg(&args)
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
    assert_eq!(
        node.executor
            .check(&node.store, &transaction)
            .map(|h| hex(&h))
            .ok(),
        Some(hash.to_string()),
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

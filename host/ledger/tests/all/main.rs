//! A single node executing blocks of real signed transactions against a real redb file: one
//! test binary, a module per topic.

mod calls;
mod contracts;
mod events;
mod governance;
mod history;
mod membership;
mod python_signer;
mod store;
mod validity;

use serde_json::json;
use vellum_ledger::{
    keys,
    testing::{artifact, call, genesis, key, next_proposal, sign, Node, CHAIN, FUEL},
    BlockError, ContractInfo, EntryError, ExecutedBlock, Order, Proposal, SYSTEM,
};
use vellum_runtime::RuntimeConfig;
use vellum_sdk::{
    testing::{Host, TestHost},
    Address as SdkAddress,
};
use vellum_types::{
    address_of, public_key, Action, DeployPolicy, Role, SignedTransaction, Status, TransactionError,
};

fn address(seed: u8) -> [u8; 32] {
    address_of(&public_key(&key(seed)))
}

fn deploy(node: &Node, signer: u8, nonce: u64, name: &str) -> [u8; 32] {
    let executed = node.block(vec![sign(
        signer,
        nonce,
        Action::Deploy {
            code: artifact(name),
            init_args: "{}".into(),
        },
    )]);
    let receipt = &executed.receipts[0];
    assert_eq!(receipt.status, Status::Success, "{receipt:?}");
    receipt
        .contract
        .expect("deploy returns the contract address")
}

/// The points contract, deployed by signer 1 (nonce 0), with issuer "air" registered by it as
/// the issuer's admin (nonce 1).
fn points_with_issuer(node: &Node) -> [u8; 32] {
    let points = deploy(node, 1, 0, "points");
    node.block(vec![call(
        1,
        1,
        points,
        "register_issuer",
        json!({"id": "air", "name": "Air", "admin": SdkAddress(address(1))}),
    )]);
    points
}

/// The contract's namespace of committed state, keys relative to the contract.
fn contract_state(node: &Node, contract: &[u8; 32]) -> Vec<(Vec<u8>, Vec<u8>)> {
    node.store
        .state_entries()
        .expect("state")
        .into_iter()
        .filter(|(k, _)| k.starts_with(contract))
        .map(|(k, v)| (k[32..].to_vec(), v))
        .collect()
}

/// The rule the first invalid transaction of `transactions` breaks, with its position.
fn rejection(node: &Node, transactions: Vec<SignedTransaction>) -> (usize, TransactionError) {
    match node
        .executor
        .execute(&node.store, node.proposal(transactions))
    {
        Err(BlockError::Transaction { index, error, .. }) => (index, error),
        other => panic!("expected a transaction rejection, got {other:?}"),
    }
}

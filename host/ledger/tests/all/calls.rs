//! Contracts calling contracts inside a block: the callee's writes land in its own namespace,
//! the receipt carries the whole tree's events in order, a failed callee leaves nothing, queries
//! call through, and two nodes agree on every byte and unit of fuel.

use super::*;
use vellum_ledger::QueryResult;

const COUNTER: &str = include_str!("../../../../runtime/tests/fixtures/counter.wat");

/// A contract that calls the one at `target`: `bump` emits `called` and calls its
/// `execute.bump`; `fail_handled` calls its `execute.fail` and succeeds anyway;
/// `fail_propagated` aborts (code 7) when that call fails; `count` calls its `query.get`. Each
/// returns the call's status byte followed by the callee's answer.
fn caller_of(target: &[u8; 32]) -> Vec<u8> {
    let address: String = target.iter().map(|b| format!("\\{b:02x}")).collect();
    wat::parse_str(format!(
        r#"(module
  (import "vellum" "call" (func $call (param i32 i32 i32 i32 i32 i64) (result i32)))
  (import "vellum" "set_return" (func $ret (param i32 i32)))
  (import "vellum" "abort" (func $abort (param i32 i32 i32)))
  (import "vellum" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (import "vellum" "value_len" (func $value_len (result i32)))
  (import "vellum" "value_read" (func $value_read (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{address}")
  (data (i32.const 32) "execute.bump")
  (data (i32.const 48) "execute.fail")
  (data (i32.const 64) "query.get")
  (data (i32.const 80) "called")
  (func $forward (param $entry i32) (param $len i32) (result i32)
    (local $status i32)
    (local.set $status (call $call (i32.const 0) (local.get $entry) (local.get $len)
      (i32.const 0) (i32.const 0) (i64.const -1)))
    (i32.store8 (i32.const 1024) (local.get $status))
    (call $value_read (i32.const 1025))
    (call $ret (i32.const 1024) (i32.add (i32.const 1) (call $value_len)))
    (local.get $status))
  (func (export "instantiate"))
  (func (export "execute.bump")
    (call $emit (i32.const 80) (i32.const 6) (i32.const 80) (i32.const 0))
    (drop (call $forward (i32.const 32) (i32.const 12))))
  (func (export "execute.fail_handled") (drop (call $forward (i32.const 48) (i32.const 12))))
  (func (export "execute.fail_propagated")
    (if (call $forward (i32.const 48) (i32.const 12))
      (then (call $abort (i32.const 7) (i32.const 80) (i32.const 6)))))
  (func (export "query.count") (drop (call $forward (i32.const 64) (i32.const 9)))))"#
    ))
    .expect("the caller's WAT parses")
}

fn deploy_code(node: &Node, nonce: u64, code: Vec<u8>) -> [u8; 32] {
    let executed = node.block(vec![sign(
        1,
        nonce,
        Action::Deploy {
            code,
            init_args: String::new(),
        },
    )]);
    let receipt = &executed.receipts[0];
    assert_eq!(receipt.status, Status::Success, "{receipt:?}");
    receipt.contract.expect("deployed")
}

#[test]
fn contracts_call_each_other_inside_a_block_and_every_node_agrees() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let counter = deploy_code(&node, 0, wat::parse_str(COUNTER).expect("WAT parses"));
    let caller = deploy_code(&node, 1, caller_of(&counter));
    let transactions = vec![
        call(1, 2, caller, "bump", json!({})),
        call(1, 3, caller, "fail_handled", json!({})),
        call(1, 4, caller, "fail_propagated", json!({})),
    ];
    let executed = node.block(transactions.clone());
    let [bumped, handled, propagated] = &executed.receipts[..] else {
        panic!("three receipts");
    };

    assert_eq!(bumped.status, Status::Success, "{bumped:?}");
    assert_eq!(bumped.output, b"\0ok");
    let events: Vec<([u8; 32], &[u8])> = bumped
        .events
        .iter()
        .map(|e| (e.contract, e.topic.as_slice()))
        .collect();
    assert_eq!(
        events,
        [(caller, &b"called"[..]), (counter, &b"bumped"[..])]
    );
    // The callee's write is in its own namespace.
    assert_eq!(contract_state(&node, &counter), [(b"n".to_vec(), vec![1])]);

    // A failure the caller handles: the callee's write and event are gone, the caller succeeds.
    assert_eq!(handled.status, Status::Success, "{handled:?}");
    assert_eq!(handled.output, b"\x01\0\0\0\x2anope");
    assert!(handled.events.is_empty());
    // A failure the caller passes on: nothing of the transaction stays but its fuel.
    assert!(
        matches!(&propagated.status, Status::ContractError { code: 7, .. }),
        "{propagated:?}"
    );
    assert!(propagated.fuel_used > 0);
    assert_eq!(contract_state(&node, &counter), [(b"n".to_vec(), vec![1])]);

    // A query calls through, read-only.
    let answer = node
        .executor
        .query(&node.store, &caller, "count", "{}", [0; 32], None)
        .expect("the query runs");
    assert!(
        matches!(&answer, QueryResult::Success { output, .. } if output == &[0, 1]),
        "{answer:?}"
    );

    // Another node executing the same blocks computes the same receipts, fuel and state root.
    let other = Node::new(genesis(DeployPolicy::AnyAdmin));
    assert_eq!(
        deploy_code(&other, 0, wat::parse_str(COUNTER).expect("WAT parses")),
        counter
    );
    assert_eq!(deploy_code(&other, 1, caller_of(&counter)), caller);
    let again = other.block(transactions);
    assert_eq!(again.receipts, executed.receipts);
    assert_eq!(again.block.header, executed.block.header);
}

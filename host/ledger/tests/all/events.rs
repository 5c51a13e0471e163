//! The event index against a model: a scan of every receipt.

use super::*;
use std::ops::Bound;
use vellum_ledger::{EventSelector, IndexedEvent, Store};

/// A contract whose `execute.a` emits one event with topic `a` and `execute.b` two with topic
/// `b`.
fn emitter() -> Vec<u8> {
    wat::parse_str(
        r#"(module
             (import "vellum" "emit_event" (func $emit (param i32 i32 i32 i32)))
             (memory (export "memory") 1)
             (data (i32.const 0) "ab{}")
             (func (export "instantiate"))
             (func (export "execute.a") (call $emit (i32.const 0) (i32.const 1) (i32.const 2) (i32.const 2)))
             (func (export "execute.b")
               (call $emit (i32.const 1) (i32.const 1) (i32.const 2) (i32.const 2))
               (call $emit (i32.const 1) (i32.const 1) (i32.const 2) (i32.const 2))))"#,
    )
    .expect("valid wat")
}

/// Every event `selector` wants with height in `from..=to`, read from the receipts.
fn scanned(store: &Store, selector: &EventSelector, from: u64, to: u64) -> Vec<IndexedEvent> {
    let mut out = Vec::new();
    for height in from..=to {
        for (tx, receipt) in store.receipts(height).expect("receipts").iter().enumerate() {
            for (at, event) in receipt.events.iter().enumerate() {
                if selector.matches(event) {
                    out.push(IndexedEvent {
                        position: (height, tx as u32, at as u32),
                        transaction: receipt.transaction,
                        event: event.clone(),
                    });
                }
            }
        }
    }
    out
}

/// The same through the index, a page of `limit` at a time, each page going on after the last
/// event of the one before.
fn paged(
    store: &Store,
    selector: &EventSelector,
    from: u64,
    to: u64,
    limit: usize,
) -> Vec<IndexedEvent> {
    let mut out: Vec<IndexedEvent> = Vec::new();
    loop {
        let start = out.last().map_or(Bound::Included((from, 0, 0)), |e| {
            Bound::Excluded(e.position)
        });
        let page = store.events(selector, start, to, limit).expect("events");
        assert!(page.len() <= limit);
        let last = page.len() < limit;
        out.extend(page);
        if last {
            return out;
        }
    }
}

fn check(store: &Store, contracts: &[[u8; 32]]) {
    let head = store.height().expect("height");
    let mut selectors = Vec::new();
    for contract in [None, Some(contracts[0]), Some(contracts[1]), Some([9; 32])] {
        for topic in [
            None,
            Some(b"a".to_vec()),
            Some(b"b".to_vec()),
            Some(b"c".to_vec()),
        ] {
            selectors.push(EventSelector {
                contract,
                topic: topic.clone(),
            });
        }
    }
    let mut compared = 0;
    for selector in &selectors {
        for (from, to) in [(0, head), (5, head), (7, 19), (head, head), (head, 0)] {
            let expected = scanned(store, selector, from, to);
            for limit in [1, 3, 1_000] {
                assert_eq!(
                    paged(store, selector, from, to, limit),
                    expected,
                    "{selector:?} from {from} to {to}, pages of {limit}"
                );
            }
            compared += expected.len();
        }
    }
    assert!(compared > 100, "the chain has events to find: {compared}");
}

#[test]
fn the_event_index_answers_every_filter_like_a_scan_of_the_receipts() {
    let genesis = genesis(DeployPolicy::AnyAdmin);
    let node = Node::new(genesis.clone());
    let contracts: Vec<[u8; 32]> = (0..2)
        .map(|nonce| {
            let deployed = node.block(vec![sign(
                1,
                nonce,
                Action::Deploy {
                    code: emitter(),
                    init_args: String::new(),
                },
            )]);
            assert_eq!(deployed.receipts[0].status, Status::Success);
            deployed.receipts[0].contract.expect("an address")
        })
        .collect();
    // 30 blocks of zero to three calls, chosen by a fixed sequence: some blocks are empty.
    let mut nonce = 2;
    let mut seed: u32 = 7;
    for _ in 0..30 {
        let mut calls = Vec::new();
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        for i in 0..(seed >> 16) % 4 {
            let contract = contracts[((seed >> (20 + i)) & 1) as usize];
            let method = if (seed >> (24 + i)) & 1 == 0 {
                "a"
            } else {
                "b"
            };
            calls.push(call(1, nonce, contract, method, json!({})));
            nonce += 1;
        }
        let executed = node.block(calls);
        assert!(executed
            .receipts
            .iter()
            .all(|r| r.status == Status::Success));
    }
    check(&node.store, &contracts);

    // A store written before the index existed: no index tables, no mark. Opening it builds the
    // index from the receipts.
    let Node { store, dir, .. } = node;
    drop(store);
    let path = dir.path().join("ledger.redb");
    {
        let db = redb::Database::open(&path).expect("open");
        let write = db.begin_write().expect("write");
        write
            .delete_table(redb::TableDefinition::<(u64, u32, u32), &[u8]>::new(
                "events",
            ))
            .expect("events dropped");
        write
            .delete_table(redb::TableDefinition::<&[u8], ()>::new("event_index"))
            .expect("index dropped");
        write
            .open_table(redb::TableDefinition::<&str, &[u8]>::new("meta"))
            .expect("meta")
            .remove("events_indexed")
            .expect("mark removed");
        write.commit().expect("commit");
    }
    let reopened = Store::open(&path, &genesis).expect("reopens");
    check(&reopened, &contracts);
}

//! A single node executing blocks of real signed transactions against a real redb file.

mod common;

use common::*;
use serde_json::json;
use vellum::ledger::{
    records::{self, ContractInfo},
    transaction::{address_of, public_key, Action, TransactionError},
    BlockError, DeployPolicy, ExecutedBlock, Status, SYSTEM,
};
use vellum_runtime::{Order, RuntimeConfig};
use vellum_sdk::{
    testing::{Host, TestHost},
    Address as SdkAddress,
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

#[test]
fn signed_transactions_deploy_and_call_a_contract_like_the_native_model() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let points = deploy(&node, 1, 0, "points");
    let info: ContractInfo = borsh::from_slice(
        &node
            .store
            .get(&SYSTEM, &records::contract_key(&points)[32..])
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(info.version, 1);
    assert!(info.interface.contains("execute.swap"));

    // The same calls through the ledger and through the SDK's native host must leave the
    // contract's state byte for byte the same.
    let (operator, member) = (SdkAddress(address(1)), SdkAddress(address(3)));
    let calls = [
        (
            1u8,
            "register_issuer",
            json!({"id": "air", "name": "Air", "admin": operator}),
        ),
        (
            1,
            "mint",
            json!({"issuer": "air", "to": member, "amount": 500}),
        ),
        (
            3,
            "transfer",
            json!({"issuer": "air", "to": operator, "amount": 120}),
        ),
        (
            3,
            "transfer",
            json!({"issuer": "air", "to": operator, "amount": 1000}),
        ), // fails: short
        (
            1,
            "mint",
            json!({"issuer": "air", "to": member, "amount": 5}),
        ),
    ];
    let mut model = TestHost::<vellum_points::Points>::new();
    model.instantiate(operator, json!({}));
    let next = node.proposal(vec![]);
    model.set_block(next.height, next.time_ms);
    let mut nonces = [0u64; 10];
    nonces[1] = 1;
    let transactions = calls
        .iter()
        .map(|(signer, method, args)| {
            model.execute(SdkAddress(address(*signer)), method, args.clone());
            let nonce = nonces[*signer as usize];
            nonces[*signer as usize] += 1;
            call(*signer, nonce, points, method, args.clone())
        })
        .collect();
    let executed = node.block(transactions);
    let statuses: Vec<bool> = executed
        .receipts
        .iter()
        .map(|r| r.status == Status::Success)
        .collect();
    assert_eq!(statuses, [true, true, true, false, true]);
    assert!(
        matches!(&executed.receipts[3].status, Status::ContractError { code: 4, message } if message.contains("insufficient"))
    );
    assert!(executed.receipts[3].events.is_empty());
    assert_eq!(executed.receipts[1].output, b"500");
    assert_eq!(executed.receipts[1].events[0].topic, b"minted");
    assert_eq!(executed.receipts[1].events[0].contract, points);
    let model_state: Vec<(Vec<u8>, Vec<u8>)> = model
        .state()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(contract_state(&node, &points), model_state);

    // Receipts are served by transaction hash.
    let hash = executed.block.transactions[2].hash();
    let (height, position, receipt) = node.store.receipt(&hash).unwrap().expect("receipt indexed");
    assert_eq!((height, position), (2, 2));
    assert_eq!(receipt, executed.receipts[2]);
    // Failed transactions still advance their sender's nonce.
    let nonce = node
        .store
        .get(&SYSTEM, &records::nonce_key(&address(3))[32..])
        .unwrap()
        .unwrap();
    assert_eq!(nonce, 2u64.to_be_bytes());
}

#[test]
fn the_history_of_a_key_is_a_range_scan_and_past_state_is_served_from_it() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let points = deploy(&node, 1, 0, "points");
    let operator = SdkAddress(address(1));
    node.block(vec![call(
        1,
        1,
        points,
        "register_issuer",
        json!({"id": "air", "name": "Air", "admin": operator}),
    )]);
    let mut expected = Vec::new();
    for (i, amount) in [10u64, 20, 30].iter().enumerate() {
        let executed = node.block(vec![call(
            1,
            2 + i as u64,
            points,
            "mint",
            json!({"issuer": "air", "to": operator, "amount": amount}),
        )]);
        expected.push(executed.block.header.height);
    }
    // Find the balance key: the only key whose history has three versions.
    let keys: Vec<Vec<u8>> = contract_state(&node, &points)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let balance = keys
        .iter()
        .find(|k| {
            node.store
                .history(&points, k, None, 10, Order::Ascending)
                .unwrap()
                .len()
                == 3
        })
        .expect("a key minted three times");
    let versions = node
        .store
        .history(&points, balance, None, 10, Order::Ascending)
        .unwrap();
    let heights: Vec<u64> = versions.iter().map(|v| v.height).collect();
    assert_eq!(heights, expected);
    let values: Vec<&[u8]> = versions
        .iter()
        .map(|v| v.value.as_deref().unwrap())
        .collect();
    assert_eq!(values, [&b"10"[..], b"30", b"60"]);

    // Newest first, paged by cursor.
    let page = node
        .store
        .history(&points, balance, None, 2, Order::Descending)
        .unwrap();
    assert_eq!(
        page.iter().map(|v| v.height).collect::<Vec<_>>(),
        [expected[2], expected[1]]
    );
    let rest = node
        .store
        .history(
            &points,
            balance,
            Some((page[1].height, page[1].position)),
            2,
            Order::Descending,
        )
        .unwrap();
    assert_eq!(
        rest.iter().map(|v| v.height).collect::<Vec<_>>(),
        [expected[0]]
    );

    // Reads at a past height.
    assert_eq!(
        node.store
            .get_at(&points, balance, expected[0] - 1)
            .unwrap(),
        None
    );
    assert_eq!(
        node.store
            .get_at(&points, balance, expected[1])
            .unwrap()
            .as_deref(),
        Some(&b"30"[..])
    );
    assert_eq!(
        node.store
            .get_at(&points, balance, u64::MAX)
            .unwrap()
            .as_deref(),
        Some(&b"60"[..])
    );
}

fn rejection(
    node: &Node,
    transactions: Vec<vellum::ledger::SignedTransaction>,
) -> (usize, TransactionError) {
    match node
        .executor
        .execute(&node.store, node.proposal(transactions))
    {
        Err(BlockError::Transaction { index, error, .. }) => (index, error),
        other => panic!("expected a transaction rejection, got {other:?}"),
    }
}

#[test]
fn each_invalid_transaction_class_is_rejected_with_its_own_error() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let points = deploy(&node, 1, 0, "points");
    let good = || {
        call(
            1,
            1,
            points,
            "register_issuer",
            json!({"id": "a", "name": "A", "admin": SdkAddress(address(1))}),
        )
    };

    let mut forged = good();
    forged.transaction.fuel_limit += 1;
    assert_eq!(
        rejection(&node, vec![forged]),
        (0, TransactionError::BadSignature)
    );

    let mut high_s = good();
    let signature = k256::ecdsa::Signature::from_slice(&high_s.signature).unwrap();
    let (r, s) = signature.split_scalars();
    high_s.signature = k256::ecdsa::Signature::from_scalars(r, -*s)
        .unwrap()
        .to_bytes()
        .into();
    assert_eq!(rejection(&node, vec![high_s]), (0, TransactionError::HighS));

    let mut other_chain = good().transaction;
    other_chain.chain_id = "elsewhere".into();
    assert!(matches!(
        rejection(&node, vec![other_chain.sign(&key(1))]),
        (0, TransactionError::WrongChain { .. })
    ));

    assert!(matches!(
        rejection(&node, vec![call(9, 0, points, "x", json!({}))]),
        (0, TransactionError::UnknownSender(_))
    ));
    assert_eq!(
        rejection(&node, vec![call(1, 5, points, "x", json!({}))]),
        (
            0,
            TransactionError::BadNonce {
                expected: 1,
                found: 5
            }
        )
    );
    assert!(matches!(
        rejection(&node, vec![good(), good()]),
        (1, TransactionError::Duplicate(_))
    ));

    let mut greedy = good().transaction;
    greedy.fuel_limit = vellum::ledger::genesis::ChainLimits::default().transaction_fuel_max + 1;
    assert!(matches!(
        rejection(&node, vec![greedy.sign(&key(1))]),
        (0, TransactionError::FuelLimit { .. })
    ));

    // A committed transaction cannot be replayed.
    let once = good();
    node.block(vec![once.clone()]);
    assert!(matches!(
        rejection(&node, vec![once]),
        (0, TransactionError::Duplicate(_))
    ));

    // Malformed bytes never become a transaction.
    let bytes = good().encode();
    assert!(matches!(
        vellum::ledger::SignedTransaction::decode(&bytes[..bytes.len() - 1]),
        Err(TransactionError::Malformed(_))
    ));

    // Proposals that do not extend the head are rejected too.
    let mut stale = node.proposal(vec![]);
    stale.height -= 1;
    assert!(matches!(
        node.executor.execute(&node.store, stale),
        Err(BlockError::WrongParent { .. })
    ));
    let mut early = node.proposal(vec![]);
    early.time_ms = 0;
    assert!(matches!(
        node.executor.execute(&node.store, early),
        Err(BlockError::TimeNotIncreasing { .. })
    ));
}

#[test]
fn hostile_contracts_deployed_by_transaction_fail_alone() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let hostile = wat::parse_str(
        r#"(module
             (import "vellum" "storage_set" (func $set (param i32 i32 i32 i32)))
             (memory (export "memory") 1)
             (func (export "instantiate"))
             (func (export "execute.spin") (call $set (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)) (loop $l (br $l)))
             (func $r (export "execute.recurse") (call $r))
             (func (export "execute.bomb") (drop (memory.grow (i32.const 60000)))
               (call $set (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)) unreachable))"#,
    )
    .unwrap();
    let executed = node.block(vec![sign(
        1,
        0,
        Action::Deploy {
            code: hostile,
            init_args: String::new(),
        },
    )]);
    let contract = executed.receipts[0].contract.expect("deployed");
    let before = node.store.state_entries().unwrap();
    let executed = node.block(vec![
        call(1, 1, contract, "spin", json!({})),
        call(1, 2, contract, "recurse", json!({})),
        call(1, 3, contract, "bomb", json!({})),
    ]);
    assert_eq!(executed.receipts[0].status, Status::OutOfFuel);
    assert_eq!(executed.receipts[0].fuel_used, FUEL);
    assert!(matches!(&executed.receipts[1].status, Status::Trap(t) if t.contains("stack")));
    assert!(matches!(&executed.receipts[2].status, Status::Trap(t) if t.contains("unreachable")));
    // Only the sender's nonce moved.
    let after = node.store.state_entries().unwrap();
    let changed: Vec<&Vec<u8>> = after
        .iter()
        .filter(|e| !before.contains(e))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(changed, [&records::nonce_key(&address(1))]);

    // Invalid code is refused at deploy with the validator's reason, and the node goes on.
    let executed = node.block(vec![sign(
        1,
        4,
        Action::Deploy {
            code: b"\0asm junk".to_vec(),
            init_args: String::new(),
        },
    )]);
    assert!(
        matches!(&executed.receipts[0].status, Status::Refused(m) if m.contains("invalid contract code"))
    );
    let start = wat::parse_str(r#"(module (memory (export "memory") 1) (func $s) (start $s) (func (export "instantiate")))"#).unwrap();
    let executed = node.block(vec![sign(
        1,
        5,
        Action::Deploy {
            code: start,
            init_args: String::new(),
        },
    )]);
    assert!(
        matches!(&executed.receipts[0].status, Status::Refused(m) if m.contains("start function"))
    );
}

#[test]
fn membership_and_code_policy_are_enforced_on_chain() {
    let node = Node::new(genesis(DeployPolicy::MajorityOfOrganisations));
    let code = artifact("notary");
    let hash = vellum_runtime::CodeHash::of(&code).0;
    let deploy_tx = |nonce| {
        sign(
            1,
            nonce,
            Action::Deploy {
                code: code.clone(),
                init_args: "{}".into(),
            },
        )
    };

    // A plain member cannot approve; one approval of three organisations is not a majority.
    let executed = node.block(vec![
        sign(3, 0, Action::ApproveCode { code_hash: hash }),
        sign(1, 0, Action::ApproveCode { code_hash: hash }),
        deploy_tx(1),
    ]);
    assert!(
        matches!(&executed.receipts[0].status, Status::Refused(m) if m.contains("admins approve"))
    );
    assert_eq!(executed.receipts[1].status, Status::Success);
    assert!(
        matches!(&executed.receipts[2].status, Status::Refused(m) if m.contains("approved by 1 of 3"))
    );
    // A second organisation's approval makes a majority.
    let executed = node.block(vec![
        sign(2, 0, Action::ApproveCode { code_hash: hash }),
        deploy_tx(2),
    ]);
    assert_eq!(
        executed.receipts[1].status,
        Status::Success,
        "{:?}",
        executed.receipts[1]
    );

    // Admins manage their own organisation's members only.
    let newcomer = public_key(&key(9));
    let add = |signer, nonce, organisation: &str| {
        sign(
            signer,
            nonce,
            Action::AddMember {
                public_key: newcomer,
                organisation: organisation.into(),
                role: vellum::ledger::Role::Member,
            },
        )
    };
    let executed = node.block(vec![
        add(2, 1, "bank-a"),
        add(3, 1, "bank-a"),
        add(1, 3, "bank-a"),
    ]);
    let statuses: Vec<bool> = executed
        .receipts
        .iter()
        .map(|r| r.status == Status::Success)
        .collect();
    assert_eq!(statuses, [false, false, true]);
    // The newcomer can now transact; once removed, it cannot.
    node.block(vec![sign(9, 0, Action::ApproveCode { code_hash: hash })]);
    let executed = node.block(vec![sign(
        1,
        4,
        Action::RemoveMember {
            public_key: newcomer,
        },
    )]);
    assert_eq!(executed.receipts[0].status, Status::Success);
    assert!(matches!(
        rejection(
            &node,
            vec![sign(9, 1, Action::ApproveCode { code_hash: hash })]
        ),
        (0, TransactionError::UnknownSender(_))
    ));
}

#[test]
fn upgrades_keep_address_and_state_and_record_the_version() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let points = deploy(&node, 1, 0, "points");
    let operator = SdkAddress(address(1));
    node.block(vec![call(
        1,
        1,
        points,
        "register_issuer",
        json!({"id": "air", "name": "Air", "admin": operator}),
    )]);
    let state_before = contract_state(&node, &points);
    // A plain member may not upgrade; an admin may, to any valid code.
    let upgrade = |signer, nonce| {
        sign(
            signer,
            nonce,
            Action::Upgrade {
                contract: points,
                code: artifact("notary"),
                migrate_args: String::new(),
            },
        )
    };
    let executed = node.block(vec![upgrade(3, 0), upgrade(1, 2)]);
    assert!(matches!(executed.receipts[0].status, Status::Refused(_)));
    assert_eq!(executed.receipts[1].status, Status::Success);
    let info: ContractInfo = borsh::from_slice(
        &node
            .store
            .get(&SYSTEM, &records::contract_key(&points)[32..])
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(info.version, 2);
    assert_eq!(
        info.code_hash,
        vellum_runtime::CodeHash::of(&artifact("notary")).0
    );
    assert_eq!(
        contract_state(&node, &points),
        state_before,
        "state survives an upgrade"
    );
    // Calls now reach the new code at the same address.
    let executed = node.block(vec![call(1, 3, points, "mint", json!({}))]);
    assert!(
        matches!(&executed.receipts[0].status, Status::Trap(t) if t.contains("no entry point"))
    );
}

/// The same blocks on two fresh stores, one with a warm artifact cache, give identical headers,
/// receipts and state.
#[test]
fn execution_is_deterministic_across_nodes_and_cache_states() {
    let artifacts = tempfile::tempdir().unwrap();
    let warm = RuntimeConfig {
        artifact_dir: Some(artifacts.path().to_path_buf()),
        ..RuntimeConfig::default()
    };
    // Warm the cache with the contract this scenario deploys.
    vellum_runtime::Runtime::new(warm.clone())
        .unwrap()
        .prepare(&artifact("points"))
        .unwrap();
    let a = Node::new(genesis(DeployPolicy::AnyAdmin));
    let b = Node::with_runtime(genesis(DeployPolicy::AnyAdmin), warm);
    let points = vellum::ledger::records::contract_address(&address(1), 0);
    let operator = SdkAddress(address(1));
    let blocks = vec![
        vec![sign(
            1,
            0,
            Action::Deploy {
                code: artifact("points"),
                init_args: "{}".into(),
            },
        )],
        vec![
            call(
                1,
                1,
                points,
                "register_issuer",
                json!({"id": "air", "name": "Air", "admin": operator}),
            ),
            call(
                1,
                2,
                points,
                "mint",
                json!({"issuer": "air", "to": SdkAddress(address(3)), "amount": 77}),
            ),
            call(
                3,
                0,
                points,
                "transfer",
                json!({"issuer": "air", "to": operator, "amount": 7}),
            ),
        ],
    ];
    for transactions in blocks {
        let x = a.block(transactions.clone());
        let y = b.block(transactions);
        assert_eq!(x.block.header, y.block.header);
        assert_eq!(x.receipts, y.receipts);
    }
    assert_eq!(
        a.store.state_entries().unwrap(),
        b.store.state_entries().unwrap()
    );
}

#[test]
fn a_store_refuses_another_genesis_and_reopens_at_its_head() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    deploy(&node, 1, 0, "points");
    let head = node.store.head().unwrap();
    let path = node.path().join("ledger.redb");
    let Node { store, dir, .. } = node;
    drop(store);
    let reopened = vellum::ledger::Store::open(&path, &genesis(DeployPolicy::AnyAdmin)).unwrap();
    assert_eq!(reopened.head().unwrap(), head);
    drop(reopened);
    let other = genesis(DeployPolicy::MajorityOfOrganisations);
    assert!(matches!(
        vellum::ledger::Store::open(&path, &other),
        Err(vellum::ledger::StoreError::GenesisMismatch { .. })
    ));
    drop(dir);
}

/// Blocks executed while their predecessor is still being committed come out identical to
/// blocks executed one after another, and a transaction of the in-flight block cannot be replayed.
#[test]
fn pipelined_execution_matches_sequential_execution() {
    let sequential = Node::new(genesis(DeployPolicy::AnyAdmin));
    let piped = Node::new(genesis(DeployPolicy::AnyAdmin));
    let points = vellum::ledger::records::contract_address(&address(1), 0);
    let operator = SdkAddress(address(1));
    let mut blocks = vec![vec![
        sign(
            1,
            0,
            Action::Deploy {
                code: artifact("points"),
                init_args: "{}".into(),
            },
        ),
        call(
            1,
            1,
            points,
            "register_issuer",
            json!({"id": "air", "name": "Air", "admin": operator}),
        ),
    ]];
    for round in 0..4u64 {
        blocks.push((0..5).map(|i| call(1, 2 + round * 5 + i, points, "mint", json!({"issuer": "air", "to": SdkAddress([i as u8; 32]), "amount": round + 1}))).collect());
    }
    let Node {
        store,
        executor,
        dir,
    } = piped;
    let store = std::sync::Arc::new(store);
    let mut pipeline = vellum::ledger::Pipeline::new(store.clone());
    for (height, transactions) in blocks.iter().enumerate() {
        let expected = sequential.block(transactions.clone());
        let head = pipeline_head(&expected);
        let proposal = vellum::ledger::Proposal {
            transactions: transactions.clone(),
            ..head
        };
        // Replaying a transaction of the block still being committed is caught.
        if height > 0 {
            let replay = vellum::ledger::Proposal {
                transactions: vec![blocks[height - 1][0].clone()],
                ..proposal.clone()
            };
            let pending = pipeline.push(&executor, proposal).expect("valid block");
            assert_eq!(pending.block.header, expected.block.header);
            let next = vellum::ledger::Proposal {
                height: replay.height + 1,
                parent: pending.block.header.hash(),
                time_ms: replay.time_ms + 1_000,
                ..replay
            };
            let result = executor.execute_after(&store, &[&pending], next);
            assert!(
                matches!(
                    result,
                    Err(BlockError::Transaction {
                        error: TransactionError::Duplicate(_),
                        ..
                    })
                ),
                "{result:?}"
            );
        } else {
            let pending = pipeline.push(&executor, proposal).expect("valid block");
            assert_eq!(pending.block.header, expected.block.header);
        }
    }
    pipeline.flush().expect("durable");
    assert_eq!(
        store.state_entries().unwrap(),
        sequential.store.state_entries().unwrap()
    );
    drop(dir);
}

/// The proposal fields (height, parent, time) of an already executed block.
fn pipeline_head(executed: &vellum::ledger::ExecutedBlock) -> vellum::ledger::Proposal {
    let header = &executed.block.header;
    vellum::ledger::Proposal {
        height: header.height,
        parent: header.parent,
        time_ms: header.time_ms,
        proposer: header.proposer,
        transactions: Vec::new(),
    }
}

/// Each use-case contract deploys by transaction and runs a first method through the ledger.
#[test]
fn all_four_contracts_deploy_and_run_by_transaction() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let names = ["points", "ballot", "notary", "trace"];
    let deploys = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            sign(
                1,
                i as u64,
                Action::Deploy {
                    code: artifact(name),
                    init_args: "{}".into(),
                },
            )
        })
        .collect();
    let executed = node.block(deploys);
    let addresses: Vec<[u8; 32]> = executed
        .receipts
        .iter()
        .map(|r| r.contract.unwrap_or_else(|| panic!("{r:?}")))
        .collect();
    let me = SdkAddress(address(1));
    let document = format!("0x{}", "ab".repeat(32));
    let calls = vec![
        call(
            1,
            4,
            addresses[0],
            "register_issuer",
            json!({"id": "air", "name": "Air", "admin": me}),
        ),
        call(
            1,
            5,
            addresses[1],
            "create_meeting",
            json!({"id": "agm", "title": "AGM", "items": ["accounts"], "voters": [[me, 10]], "quorum_bps": 5000, "secret": false}),
        ),
        call(
            1,
            6,
            addresses[2],
            "add_notary",
            json!({"notary": me, "name": "Consul"}),
        ),
        call(
            1,
            7,
            addresses[2],
            "anchor",
            json!({"hash": document, "doc_type": "passport", "issuer": "Consulate"}),
        ),
        call(
            1,
            8,
            addresses[3],
            "register_party",
            json!({"address": me, "name": "Finca", "role": "farm"}),
        ),
        call(
            1,
            9,
            addresses[3],
            "create_lot",
            json!({"id": "m-1", "product": "mangoes", "quantity": 10, "unit": "kg"}),
        ),
    ];
    let executed = node.block(calls);
    for receipt in &executed.receipts {
        assert_eq!(receipt.status, Status::Success, "{receipt:?}");
        assert!(!receipt.events.is_empty());
    }
    let topics: Vec<&[u8]> = executed
        .receipts
        .iter()
        .map(|r| r.events[0].topic.as_slice())
        .collect();
    assert_eq!(
        topics,
        [
            &b"issuer_registered"[..],
            b"meeting_created",
            b"notary_added",
            b"anchored",
            b"party_registered",
            b"lot_created"
        ]
    );
}

/// What a mempool asks before accepting a transaction: the same rules a block enforces.
#[test]
fn entry_checks_reject_each_class_before_execution() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let contract = [9; 32];
    let good = call(1, 0, contract, "ping", json!({}));
    assert_eq!(node.executor.check(&node.store, &good), Ok(good.hash()));
    let check = |tx| node.executor.check(&node.store, &tx).unwrap_err();
    assert_eq!(
        check(call(1, 3, contract, "ping", json!({}))),
        TransactionError::BadNonce {
            expected: 0,
            found: 3
        }
    );
    assert!(matches!(
        check(call(9, 0, contract, "ping", json!({}))),
        TransactionError::UnknownSender(_)
    ));
    let mut forged = good.clone();
    forged.transaction.fuel_limit -= 1;
    assert_eq!(check(forged.clone()), TransactionError::BadSignature);
    // A pool may hold a nonce ahead of the next one, but never an unsigned one.
    let ahead = call(1, 3, contract, "ping", json!({}));
    let entry = |tx: &_, window| node.executor.check_entry(&node.store, tx, window);
    assert_eq!(entry(&ahead, 4), Ok((ahead.hash(), 0)));
    assert!(matches!(
        entry(&ahead, 3),
        Err(TransactionError::BadNonce { .. })
    ));
    let mut forged_ahead = ahead.clone();
    forged_ahead.transaction.fuel_limit -= 1;
    assert_eq!(entry(&forged_ahead, 4), Err(TransactionError::BadSignature));
    let mut elsewhere = good.transaction.clone();
    elsewhere.chain_id = "other".into();
    assert!(matches!(
        check(elsewhere.sign(&key(1))),
        TransactionError::WrongChain { .. }
    ));
    // Once committed (its call fails: no contract there), the same bytes are a replay.
    let executed = node.block(vec![good.clone()]);
    assert!(matches!(executed.receipts[0].status, Status::Refused(_)));
    assert!(matches!(check(good), TransactionError::Duplicate(_)));
}

/// Found in review: an admin could move another organisation's admin into its own organisation
/// (and demote it) by adding its key.
#[test]
fn an_organisation_cannot_take_over_another_organisations_identities() {
    let node = Node::new(genesis(DeployPolicy::MajorityOfOrganisations));
    let takeover = sign(
        1,
        0,
        Action::AddMember {
            public_key: public_key(&key(2)),
            organisation: "bank-a".into(),
            role: vellum::ledger::Role::Member,
        },
    );
    let executed = node.block(vec![takeover]);
    assert!(
        matches!(&executed.receipts[0].status, Status::Refused(m) if m.contains("already a member")),
        "{:?}",
        executed.receipts[0]
    );
    // bank-b's admin is still an admin of bank-b: its approval still counts.
    let hash = [5; 32];
    let executed = node.block(vec![sign(2, 0, Action::ApproveCode { code_hash: hash })]);
    assert_eq!(executed.receipts[0].status, Status::Success);
}

#[test]
fn blocks_are_bounded_in_time_step_bytes_and_receipts() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let mut leap = node.proposal(vec![]);
    leap.time_ms += 2 * 3_600_000;
    assert!(matches!(
        node.executor.execute(&node.store, leap),
        Err(BlockError::LimitExceeded {
            what: "time step (ms)",
            ..
        })
    ));

    let huge = sign(
        1,
        0,
        Action::Deploy {
            code: vec![0; vellum::ledger::transaction::TRANSACTION_BYTES_MAX],
            init_args: String::new(),
        },
    );
    let result = node
        .executor
        .execute(&node.store, node.proposal(vec![huge]));
    assert!(
        matches!(
            result,
            Err(BlockError::Transaction {
                error: TransactionError::TooLarge { .. },
                ..
            })
        ),
        "{result:?}"
    );

    // Receipts count against the block: with a 2 KB budget, a few registrations overflow it.
    let mut small = genesis(DeployPolicy::AnyAdmin);
    small.limits.block_receipt_bytes_max = 2_000;
    let node = Node::new(small);
    let points = deploy(&node, 1, 0, "points");
    let operator = SdkAddress(address(1));
    let calls = (1..=10)
        .map(|i| {
            call(
                1,
                i,
                points,
                "register_issuer",
                json!({"id": format!("i{i}"), "name": "x".repeat(100), "admin": operator}),
            )
        })
        .collect();
    let result = node.executor.execute(&node.store, node.proposal(calls));
    assert!(
        matches!(
            result,
            Err(BlockError::LimitExceeded {
                what: "receipt bytes",
                ..
            })
        ),
        "{result:?}"
    );
}

#[test]
fn the_store_commits_only_the_block_that_extends_its_head() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let executed = node
        .executor
        .execute(&node.store, node.proposal(vec![]))
        .unwrap();
    node.store.commit(&executed).unwrap();
    assert!(matches!(
        node.store.commit(&executed),
        Err(vellum::ledger::StoreError::NotNext {
            height: 1,
            head: 1,
            ..
        })
    ));
    assert_eq!(node.store.height().unwrap(), 1);
}

#[test]
fn a_builder_leaves_out_invalid_candidates_and_its_block_verifies() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let approve = |nonce: u64| Action::ApproveCode {
        code_hash: vellum::ledger::transaction::keccak256(&nonce.to_be_bytes()),
    };
    let mut forged = sign(2, 0, approve(100));
    forged.signature[7] ^= 1;
    let candidates = vec![
        sign(1, 0, approve(0)),
        sign(1, 2, approve(2)), // a nonce gap
        forged,
        sign(1, 1, approve(1)),
        sign(9, 0, approve(9)), // not a member
        sign(1, 0, approve(0)), // a duplicate
    ];
    let (built, skipped) = node
        .executor
        .build(&node.store, &[], node.proposal(candidates.clone()))
        .expect("a block is built");
    let nonces: Vec<u64> = built
        .block
        .transactions
        .iter()
        .map(|t| t.transaction.nonce)
        .collect();
    assert_eq!(nonces, vec![0, 1]);
    // Each left-out candidate comes back with its reason.
    let reason = |i: usize| {
        skipped
            .iter()
            .find(|(hash, _)| *hash == candidates[i].hash())
            .map(|(_, e)| e.clone())
    };
    assert_eq!(skipped.len(), 4, "{skipped:?}");
    assert!(matches!(
        reason(1),
        Some(TransactionError::BadNonce {
            expected: 1,
            found: 2
        })
    ));
    assert!(matches!(
        reason(2),
        Some(TransactionError::BadSignature | TransactionError::BadPublicKey)
    ));
    assert!(matches!(
        reason(4),
        Some(TransactionError::UnknownSender(_))
    ));
    assert!(matches!(reason(5), Some(TransactionError::Duplicate(_))));
    // A verifier that executes exactly the included transactions gets the same header.
    let verified = node
        .executor
        .execute(&node.store, node.proposal(built.block.transactions.clone()))
        .expect("the built block is valid");
    assert_eq!(verified.block.header, built.block.header);
    assert_eq!(verified.receipts, built.receipts);

    // Block limits stop the builder instead of invalidating the block.
    let mut limited = genesis(DeployPolicy::AnyAdmin);
    limited.limits.block_transactions_max = 2;
    let small = Node::new(limited);
    let many: Vec<_> = (0..5).map(|n| sign(1, n, approve(n))).collect();
    let (built, skipped) = small
        .executor
        .build(&small.store, &[], small.proposal(many))
        .expect("a block is built");
    assert_eq!(built.block.transactions.len(), 2);
    assert!(skipped.is_empty());
}

#[test]
fn a_chain_of_uncommitted_blocks_executes_like_committed_ones() {
    let sequential = Node::new(genesis(DeployPolicy::AnyAdmin));
    let chained = Node::new(genesis(DeployPolicy::AnyAdmin));
    let approve = |nonce: u64| {
        sign(
            1,
            nonce,
            Action::ApproveCode {
                code_hash: vellum::ledger::transaction::keccak256(&nonce.to_be_bytes()),
            },
        )
    };
    let mut pending: Vec<ExecutedBlock> = Vec::new();
    for height in 0..3u64 {
        let transactions = vec![approve(2 * height), approve(2 * height + 1)];
        let expected = sequential.block(transactions.clone());
        let below: Vec<&ExecutedBlock> = pending.iter().collect();
        let executed = chained
            .executor
            .execute_after(
                &chained.store,
                &below,
                vellum::ledger::Proposal {
                    transactions,
                    ..pipeline_head(&expected)
                },
            )
            .expect("valid on top of the uncommitted chain");
        assert_eq!(executed.block.header, expected.block.header);
        pending.push(executed);
    }
    // Commit the first block only: the chain above it still executes, its landed part skipped.
    chained.store.commit(&pending[0]).expect("commit");
    let below: Vec<&ExecutedBlock> = pending.iter().collect();
    let next = sequential.block(vec![approve(6)]);
    let executed = chained
        .executor
        .execute_after(
            &chained.store,
            &below,
            vellum::ledger::Proposal {
                transactions: vec![approve(6)],
                ..pipeline_head(&next)
            },
        )
        .expect("valid");
    assert_eq!(executed.block.header, next.block.header);
    // A chain that does not extend the store is refused.
    let result = chained
        .executor
        .execute_after(&chained.store, &below[2..], pipeline_head(&next));
    assert!(
        matches!(result, Err(BlockError::WrongParent { .. })),
        "{result:?}"
    );
}

//! Contracts deployed, called and upgraded by signed transaction, against the native model.

use super::*;

#[test]
fn signed_transactions_deploy_and_call_a_contract_like_the_native_model() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let points = deploy(&node, 1, 0, "points");
    let info: ContractInfo = node.store.contract(&points).unwrap().unwrap();
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
        matches!(&executed.receipts[3].status, Status::ContractError { code, message }
            if *code == vellum_points::PointsError::INSUFFICIENT_BALANCE && message.contains("insufficient"))
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
    assert_eq!(node.store.next_nonce(&address(3)).unwrap(), 2);
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
    assert_eq!(changed, [&keys::nonce_key(&address(1))]);

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
fn upgrades_keep_address_and_state_and_record_the_version() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let points = points_with_issuer(&node);
    let state_before = contract_state(&node, &points);
    // A plain member may not upgrade, nor may another organisation's admin (before, any admin
    // of any organisation could replace any contract); an admin of the owner may, to any valid
    // code.
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
    let executed = node.block(vec![upgrade(3, 0), upgrade(2, 0), upgrade(1, 2)]);
    assert!(matches!(executed.receipts[0].status, Status::Refused(_)));
    assert!(
        matches!(&executed.receipts[1].status,
            Status::Refused(why) if why.contains("belongs to organisation bank-a")),
        "{:?}",
        executed.receipts[1].status
    );
    assert_eq!(executed.receipts[2].status, Status::Success);
    let info: ContractInfo = node.store.contract(&points).unwrap().unwrap();
    assert_eq!(info.version, 2);
    assert_eq!(info.owner, "bank-a");
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

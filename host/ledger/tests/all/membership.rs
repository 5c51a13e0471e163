//! Membership and the code policy, enforced on chain.

use super::*;
use vellum_types::transaction::prove_rotation;

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

    // Under majority_of_organisations a plain deploy is refused, whatever was approved by
    // ApproveCode (before, an approval covered the code hash for any deploy or upgrade): the
    // deploy is proposed, and executes on a second organisation's approval.
    let executed = node.block(vec![
        sign(1, 0, Action::ApproveCode { code_hash: hash }),
        sign(2, 0, Action::ApproveCode { code_hash: hash }),
        deploy_tx(1),
    ]);
    assert_eq!(executed.receipts[1].status, Status::Success);
    assert!(
        matches!(&executed.receipts[2].status, Status::Refused(m) if m.contains("propose it")),
        "{:?}",
        executed.receipts[2]
    );
    let propose = |signer, nonce| {
        sign(
            signer,
            nonce,
            Action::Propose {
                change: vellum_types::Change::Deploy {
                    code: code.clone(),
                    init_args: "{}".into(),
                    upgrade_policy: vellum_types::Policy::Owner,
                },
            },
        )
    };
    let executed = node.block(vec![
        propose(3, 0),
        propose(1, 2),
        sign(2, 1, Action::Approve { proposal: 1 }),
    ]);
    assert!(
        matches!(&executed.receipts[0].status, Status::Refused(m) if m.contains("admins propose"))
    );
    assert_eq!(executed.receipts[1].status, Status::Success);
    assert_eq!(
        executed.receipts[2].status,
        Status::Success,
        "{:?}",
        executed.receipts[2]
    );
    // The contract is the proposer's, at the address of its proposing transaction.
    let contract = vellum_ledger::records::contract_address(&address(1), 2);
    let info = node.store.contract(&contract).unwrap().expect("deployed");
    assert_eq!(info.owner, "bank-a");

    // Admins manage their own organisation's members only.
    let newcomer = public_key(&key(9));
    let add = |signer, nonce, organisation: &str| {
        sign(
            signer,
            nonce,
            Action::AddMember {
                public_key: newcomer,
                organisation: organisation.into(),
                role: Role::Member,
            },
        )
    };
    let executed = node.block(vec![
        add(2, 2, "bank-a"),
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
            role: Role::Member,
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

/// A purge of private data is any member's to send: it succeeds, writes nothing to the world
/// state but the sender's nonce (the holders act on it from the block, off chain), and returns
/// the sender's organisation; a
/// stranger's is rejected like any transaction from a non-member.
#[test]
fn a_private_data_purge_changes_only_the_nonce() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let purge = Action::PurgePrivate { hash: [9; 32] };
    let executed = node.block(vec![sign(3, 0, purge.clone())]);
    assert_eq!(executed.receipts[0].status, Status::Success);
    assert_eq!(executed.writes.len(), 1, "{:?}", executed.writes);
    assert!(executed.receipts[0].events.is_empty());
    // Its output is the sender's organisation at the block, for every holder to judge it by.
    assert_eq!(executed.receipts[0].output, b"bank-a");
    let stranger = node.executor.check(&node.store, &sign(9, 0, purge));
    assert!(stranger.is_err(), "{stranger:?}");
}

/// The hash of test document `n`, as the notary takes it.
fn document(n: u8) -> String {
    format!("0x{}", format!("{n:02x}").repeat(32))
}

/// Whether `status` is a refusal whose text contains `needle`.
fn refused_with(status: &Status, needle: &str) -> bool {
    matches!(status, Status::Refused(text) if text.contains(needle))
}

/// A key rotation keeps the account: its address, its nonce, its balances and the roles
/// contracts gave it (notary, points issuer admin) survive, the old key is refused from the next transaction (by the entry check and in
/// blocks), and a key signs for one account, once. An admin rotates a member's key after a
/// loss; another organisation's admin cannot.
#[test]
fn a_rotated_key_keeps_the_account_and_its_roles_and_the_old_key_is_refused() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let notary = deploy(&node, 1, 0, "notary");
    let member = address(3);
    node.block(vec![call(
        1,
        1,
        notary,
        "add_notary",
        json!({"notary": SdkAddress(member), "name": "Member"}),
    )]);
    // bank-c's admin runs the points contract: the member holds 100 `air` points and is the
    // admin of issuer `sea`.
    let points = deploy(&node, 4, 0, "points");
    let me = SdkAddress(address(4));
    let executed = node.block(vec![
        call(
            4,
            1,
            points,
            "register_issuer",
            json!({"id": "air", "name": "Air", "admin": me}),
        ),
        call(
            4,
            2,
            points,
            "mint",
            json!({"issuer": "air", "to": SdkAddress(member), "amount": 100}),
        ),
        call(
            4,
            3,
            points,
            "register_issuer",
            json!({"id": "sea", "name": "Sea", "admin": SdkAddress(member)}),
        ),
    ]);
    assert!(
        executed
            .receipts
            .iter()
            .all(|r| r.status == Status::Success),
        "{executed:?}"
    );
    let balance = |issuer: &str, holder: [u8; 32]| {
        let answer = node
            .executor
            .query(
                &node.store,
                &points,
                "balance",
                &json!({"issuer": issuer, "member": SdkAddress(holder)}).to_string(),
                [0; 32],
                None,
            )
            .expect("the query runs");
        match answer {
            vellum_ledger::QueryResult::Success { output, .. } => {
                serde_json::from_slice::<u128>(&output).expect("a balance")
            }
            other => panic!("{other:?}"),
        }
    };
    // A rotation to key `seed`, proven by key `prover`'s signature.
    let rotate_proven = |signer, nonce, account, seed, prover| {
        sign(
            signer,
            nonce,
            Action::RotateKey {
                account,
                public_key: public_key(&key(seed)),
                proof: prove_rotation(&key(prover), CHAIN, &account),
            },
        )
    };
    let rotate = |signer, nonce, account, seed| rotate_proven(signer, nonce, account, seed, seed);

    // bank-b's admin cannot rotate bank-a's member; nor can the member bind a key whose holder
    // did not sign the rotation (key 12's proof for key 13, or key 13's for another account);
    // it rotates itself to key 13, and its old key is refused in the rest of the same block.
    let mut forged = rotate_proven(3, 1, member, 13, 13);
    if let Action::RotateKey { proof, .. } = &mut forged.transaction.action {
        *proof = prove_rotation(&key(13), CHAIN, &address(2));
    }
    let forged = sign(3, 1, forged.transaction.action);
    let executed = node.block(vec![
        rotate(2, 0, member, 12),
        rotate_proven(3, 0, member, 13, 12),
        forged,
        rotate(3, 2, member, 13),
    ]);
    assert!(refused_with(
        &executed.receipts[0].status,
        "only the account itself or an admin of `bank-a`"
    ));
    for receipt in &executed.receipts[1..3] {
        assert!(
            refused_with(&receipt.status, "the proof is not the new key's signature"),
            "{receipt:?}"
        );
    }
    assert_eq!(executed.receipts[3].status, Status::Success);
    let old = call(
        3,
        3,
        notary,
        "anchor",
        json!({"hash": document(1), "doc_type": "deed", "issuer": "Land"}),
    );
    assert!(matches!(
        node.executor.check(&node.store, &old),
        Err(EntryError::Rejected(TransactionError::KeyRotated { .. }))
    ));
    assert!(matches!(
        rejection(&node, vec![old]),
        (0, TransactionError::KeyRotated { .. })
    ));
    assert_eq!(
        node.store.member(&member).unwrap().map(|m| m.public_key),
        Some(public_key(&key(13)))
    );

    // The new key signs for the account at the account's next nonce: the contract sees the
    // same caller, a notary still, and the old address's nonce history goes on.
    let new_key_address = address_of(&public_key(&key(13)));
    assert_eq!(node.store.next_nonce(&new_key_address).unwrap(), 3);
    assert_eq!(node.store.account_of(&new_key_address).unwrap(), member);
    let anchor = call(
        13,
        3,
        notary,
        "anchor",
        json!({"hash": document(2), "doc_type": "deed", "issuer": "Land"}),
    );
    node.executor.check(&node.store, &anchor).expect("admitted");
    // Its balance and its issuer role are the account's, so the new key spends and mints.
    assert_eq!(balance("air", member), 100);
    let executed = node.block(vec![
        anchor,
        call(
            13,
            4,
            points,
            "transfer",
            json!({"issuer": "air", "to": me, "amount": 40}),
        ),
        call(
            13,
            5,
            points,
            "mint",
            json!({"issuer": "sea", "to": me, "amount": 7}),
        ),
    ]);
    for receipt in &executed.receipts {
        assert_eq!(receipt.status, Status::Success, "{receipt:?}");
    }
    assert_eq!(balance("air", member), 60);
    assert_eq!(balance("sea", address(4)), 7);
    assert_eq!(node.store.next_nonce(&member).unwrap(), 6);
    // A block with the old key's transaction at the new nonce is rejected too.
    let replay = call(
        3,
        6,
        notary,
        "anchor",
        json!({"hash": document(3), "doc_type": "deed", "issuer": "Land"}),
    );
    assert!(matches!(
        rejection(&node, vec![replay]),
        (0, TransactionError::KeyRotated { .. })
    ));

    // A key is used once: not another member's, not one an account already rotated to (for a
    // rotation or as a new member), not the account's own first key back.
    let executed = node.block(vec![
        rotate(13, 6, member, 2),
        rotate(13, 7, member, 13),
        rotate(13, 8, member, 3),
        sign(
            1,
            2,
            Action::AddMember {
                public_key: public_key(&key(13)),
                organisation: "bank-a".into(),
                role: Role::Member,
            },
        ),
    ]);
    let refusals = [
        "already a member",
        "used once",
        "already a member",
        "used once",
    ];
    for (receipt, refusal) in executed.receipts.iter().zip(refusals) {
        assert!(refused_with(&receipt.status, refusal), "{receipt:?}");
    }

    // The member lost key 13: its organisation's admin rotates it to key 14.
    let executed = node.block(vec![rotate(1, 3, member, 14)]);
    assert_eq!(executed.receipts[0].status, Status::Success);
    assert!(matches!(
        node.executor
            .check(&node.store, &call(13, 9, notary, "anchor", json!({}))),
        Err(EntryError::Rejected(TransactionError::KeyRotated { .. }))
    ));
    let executed = node.block(vec![call(
        14,
        9,
        notary,
        "revoke",
        json!({"hash": document(2), "reason": "superseded"}),
    )]);
    assert_eq!(
        executed.receipts[0].status,
        Status::Success,
        "{:?}",
        executed.receipts[0]
    );

    // Removed by a former key, the account is gone: its current key signs for no one.
    node.block(vec![sign(
        1,
        4,
        Action::RemoveMember {
            public_key: public_key(&key(3)),
        },
    )]);
    assert!(matches!(
        node.executor
            .check(&node.store, &call(14, 10, notary, "anchor", json!({}))),
        Err(EntryError::Rejected(TransactionError::UnknownSender(_)))
    ));
    // Its first key, free now, is not given to another account: its address keeps naming the
    // account that sent transactions from it.
    let executed = node.block(vec![rotate(4, 4, address(4), 3)]);
    assert!(refused_with(
        &executed.receipts[0].status,
        "an account that sent transactions"
    ));
}

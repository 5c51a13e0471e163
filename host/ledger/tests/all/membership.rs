//! Membership and the code policy, enforced on chain.

use super::*;

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

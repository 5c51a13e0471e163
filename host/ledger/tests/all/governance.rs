//! Governance on chain: contract ownership and upgrade policies, proposals with approvals,
//! withdrawals and expiry, organisations joining and leaving.

use super::*;
use std::collections::HashMap;
use vellum_types::{Change, Genesis, Policy};

/// Signs for the test keys with each one's next nonce.
#[derive(Default)]
struct Signer {
    nonces: HashMap<u8, u64>,
}

impl Signer {
    fn sign(&mut self, key: u8, action: Action) -> SignedTransaction {
        let nonce = self.nonces.entry(key).or_default();
        *nonce += 1;
        sign(key, *nonce - 1, action)
    }

    fn propose(&mut self, key: u8, change: Change) -> SignedTransaction {
        self.sign(key, Action::Propose { change })
    }

    fn approve(&mut self, key: u8, proposal: u64) -> SignedTransaction {
        self.sign(key, Action::Approve { proposal })
    }

    fn withdraw(&mut self, key: u8, proposal: u64) -> SignedTransaction {
        self.sign(key, Action::Withdraw { proposal })
    }
}

/// Key 1 (bank-a's admin) deploys the notary with `policy`, by a proposal that its own approval
/// executes at once (the deploy policy is any_admin).
fn notary_owned_by_bank_a(node: &Node, signer: &mut Signer, policy: Policy) -> [u8; 32] {
    let executed = node.block(vec![signer.propose(
        1,
        Change::Deploy {
            code: artifact("notary"),
            init_args: "{}".into(),
            upgrade_policy: policy,
        },
    )]);
    let receipt = &executed.receipts[0];
    assert_eq!(receipt.status, Status::Success, "{receipt:?}");
    let contract = receipt.contract.expect("the deploy's address");
    let info = node.store.contract(&contract).unwrap().unwrap();
    assert_eq!(
        (info.owner.as_str(), info.upgrade_policy),
        ("bank-a", policy)
    );
    contract
}

fn info(node: &Node, contract: &[u8; 32]) -> ContractInfo {
    node.store.contract(contract).unwrap().unwrap()
}

fn refused(status: &Status, needle: &str) -> bool {
    matches!(status, Status::Refused(why) if why.contains(needle))
}

/// What a receipt of a proposal or an approval says: the proposal's number and whether it
/// executed.
fn outcome(receipt: &vellum_types::Receipt) -> (u64, bool) {
    assert_eq!(receipt.status, Status::Success, "{receipt:?}");
    let output: serde_json::Value = serde_json::from_slice(&receipt.output).expect("JSON");
    (
        output["proposal"].as_u64().expect("a number"),
        output["executed"].as_bool().expect("a flag"),
    )
}

/// Before, an admin of any organisation could upgrade any contract. Now, under every policy,
/// the other organisations together can neither upgrade, freeze nor change the policy of a
/// contract they do not own, directly or by proposal; its owner's approval makes the change.
#[test]
fn no_other_organisation_can_change_a_contract_it_does_not_own_under_any_policy() {
    for policy in [
        Policy::AnyAdmin,
        Policy::Owner,
        Policy::MOfN { m: 2 },
        Policy::Majority,
        Policy::All,
    ] {
        let node = Node::new(genesis(DeployPolicy::AnyAdmin));
        let mut signer = Signer::default();
        let notary = notary_owned_by_bank_a(&node, &mut signer, policy);
        let version = info(&node, &notary).version;
        let changes = [
            Change::Upgrade {
                contract: notary,
                version,
                code: artifact("points"),
                migrate_args: String::new(),
            },
            Change::Freeze { contract: notary },
            Change::SetUpgradePolicy {
                contract: notary,
                policy: Policy::AnyAdmin,
            },
        ];
        // Directly: refused.
        let executed = node.block(vec![signer.sign(
            2,
            Action::Upgrade {
                contract: notary,
                code: artifact("points"),
                migrate_args: String::new(),
            },
        )]);
        assert!(
            refused(
                &executed.receipts[0].status,
                "belongs to organisation bank-a"
            ),
            "{policy}: {:?}",
            executed.receipts[0]
        );
        // By proposal, approved by both other organisations: never executed.
        for change in changes {
            let executed = node.block(vec![signer.propose(2, change)]);
            let (id, done) = outcome(&executed.receipts[0]);
            assert!(!done, "{policy}: executed on bank-b's proposal alone");
            let executed = node.block(vec![signer.approve(4, id)]);
            assert_eq!(outcome(&executed.receipts[0]), (id, false), "{policy}");
        }
        let after = info(&node, &notary);
        assert_eq!(
            (after.version, after.frozen, after.upgrade_policy),
            (version, false, policy),
            "{policy}: the contract changed without its owner"
        );
        // The owner's approval of the freeze (proposal 3 of this network) makes it, when the
        // policy's count is met (it is: bank-b and bank-c approved, and all is three).
        let executed = node.block(vec![signer.approve(1, 3)]);
        assert_eq!(outcome(&executed.receipts[0]), (3, true), "{policy}");
        assert!(info(&node, &notary).frozen, "{policy}");
    }
}

/// Before, an approval covered a code hash on any contract. Now an approval is of one proposal,
/// which names its contract and version: executing it changes that contract only, once.
#[test]
fn an_approval_for_one_contract_cannot_be_used_on_another() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let mut signer = Signer::default();
    let a = notary_owned_by_bank_a(&node, &mut signer, Policy::MOfN { m: 2 });
    let b = notary_owned_by_bank_a(&node, &mut signer, Policy::MOfN { m: 2 });
    let upgrade_a = Change::Upgrade {
        contract: a,
        version: 1,
        code: artifact("points"),
        migrate_args: String::new(),
    };
    let executed = node.block(vec![signer.propose(1, upgrade_a), signer.approve(2, 3)]);
    assert_eq!(outcome(&executed.receipts[0]), (3, false));
    assert_eq!(outcome(&executed.receipts[1]), (3, true));
    assert_eq!(info(&node, &a).version, 2);
    // The same code, on b, by its owner alone: its policy wants two organisations.
    let executed = node.block(vec![
        signer.sign(
            1,
            Action::Upgrade {
                contract: b,
                code: artifact("points"),
                migrate_args: String::new(),
            },
        ),
        signer.approve(4, 3),
    ]);
    assert!(
        refused(&executed.receipts[0].status, "m_of_n:2"),
        "{:?}",
        executed.receipts[0]
    );
    assert!(refused(
        &executed.receipts[1].status,
        "was executed at height"
    ));
    assert_eq!(info(&node, &b).version, 1);
    assert_eq!(info(&node, &a).version, 2);
}

/// Withdrawn approvals do not count, nor does any approval once the proposal expired.
#[test]
fn withdrawn_and_expired_approvals_do_not_count() {
    let mut network: Genesis = genesis(DeployPolicy::AnyAdmin);
    network.governance.proposal_lifetime_blocks = 3;
    let node = Node::new(network);
    let mut signer = Signer::default();
    let notary = notary_owned_by_bank_a(&node, &mut signer, Policy::All);
    let freeze = Change::Freeze { contract: notary };
    // bank-a proposes, bank-b approves then withdraws, bank-c approves: two of three.
    let executed = node.block(vec![
        signer.propose(1, freeze.clone()),
        signer.approve(2, 2),
        signer.withdraw(2, 2),
        signer.approve(4, 2),
    ]);
    assert_eq!(outcome(&executed.receipts[3]), (2, false));
    assert!(!info(&node, &notary).frozen);
    let status = node.store.proposal(2).unwrap().unwrap();
    assert_eq!(status.executed_at, None);
    let names: Vec<&str> = status.approvals.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["bank-a", "bank-c"]);
    // A withdrawal of an approval never given is refused.
    let executed = node.block(vec![signer.withdraw(2, 2)]);
    assert!(refused(&executed.receipts[0].status, "has not approved"));

    // Another may execute up to three blocks after its own; bank-c's approval comes
    // a block later.
    let executed = node.block(vec![signer.propose(1, freeze), signer.approve(2, 3)]);
    let height = executed.block.header.height;
    assert_eq!(outcome(&executed.receipts[1]), (3, false));
    for _ in 0..3 {
        node.block(vec![]);
    }
    let executed = node.block(vec![signer.approve(4, 3)]);
    assert_eq!(executed.block.header.height, height + 4);
    assert!(
        refused(
            &executed.receipts[0].status,
            &format!("proposal 3 expired after height {}", height + 3)
        ),
        "{:?}",
        executed.receipts[0]
    );
    assert!(!info(&node, &notary).frozen);
}

/// A proposal executes in the transaction whose approval meets its policy, at that height, and
/// never again; a change that fails leaves nothing behind, not even the approval.
#[test]
fn proposals_execute_exactly_once_and_atomically() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let mut signer = Signer::default();
    let newcomer = public_key(&key(7));
    let join = Change::AddOrganisation {
        name: "bank-d".into(),
        admins: vec![newcomer],
    };
    // Majority of three is two: bank-a's proposal alone does not let bank-d in.
    let executed = node.block(vec![signer.propose(1, join)]);
    assert_eq!(outcome(&executed.receipts[0]), (1, false));
    assert!(node
        .executor
        .check(
            &node.store,
            &sign(7, 0, Action::PurgePrivate { hash: [0; 32] })
        )
        .is_err());
    let executed = node.block(vec![signer.approve(2, 1), signer.approve(4, 1)]);
    let height = executed.block.header.height;
    assert_eq!(outcome(&executed.receipts[0]), (1, true));
    assert!(refused(
        &executed.receipts[1].status,
        &format!("executed at height {height}")
    ));
    assert_eq!(
        node.store.proposal(1).unwrap().unwrap().executed_at,
        Some(height)
    );
    let names: Vec<String> = node
        .store
        .organisations()
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["bank-a", "bank-b", "bank-c", "bank-d"]);
    // bank-d's admin transacts from the next block, and now counts in majorities (three of
    // four).
    let executed = node.block(vec![signer.sign(7, Action::PurgePrivate { hash: [0; 32] })]);
    assert_eq!(executed.receipts[0].status, Status::Success);

    // An upgrade whose migration cannot run: the approval that would execute it fails, and is
    // not recorded; the contract is unchanged.
    let notary = notary_owned_by_bank_a(&node, &mut signer, Policy::MOfN { m: 2 });
    let executed = node.block(vec![signer.propose(
        1,
        Change::Upgrade {
            contract: notary,
            version: 1,
            code: artifact("points"),
            migrate_args: r#"{"from": 1}"#.into(),
        },
    )]);
    let (id, _) = outcome(&executed.receipts[0]);
    let executed = node.block(vec![signer.approve(2, id)]);
    assert!(
        refused(&executed.receipts[0].status, "no `migrate` entry point"),
        "{:?}",
        executed.receipts[0]
    );
    let status = node.store.proposal(id).unwrap().unwrap();
    assert_eq!(status.executed_at, None);
    assert_eq!(status.approvals.len(), 1, "{status:?}");
    assert_eq!(info(&node, &notary).version, 1);
}

/// An organisation that leaves: its keys are refused from the next block (by the mempool and in
/// blocks), and its contracts pass to its successor.
#[test]
fn a_removed_organisations_keys_are_refused_from_the_next_block() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let mut signer = Signer::default();
    let join = Change::AddOrganisation {
        name: "bank-d".into(),
        admins: vec![public_key(&key(7))],
    };
    node.block(vec![signer.propose(1, join), signer.approve(2, 1)]);
    // bank-d deploys a contract of its own.
    let executed = node.block(vec![signer.sign(
        7,
        Action::Deploy {
            code: artifact("notary"),
            init_args: "{}".into(),
        },
    )]);
    let contract = executed.receipts[0].contract.expect("deployed");
    let leave = Change::RemoveOrganisation {
        name: "bank-d".into(),
        successor: "bank-b".into(),
    };
    // The others decide: bank-d's approval is refused, and a majority of the others is not
    // enough: more than half of all four must agree, so two cannot put out a third.
    let executed = node.block(vec![
        signer.propose(1, leave),
        signer.approve(7, 2),
        signer.approve(2, 2),
        signer.approve(4, 2),
    ]);
    assert!(refused(
        &executed.receipts[1].status,
        "the other organisations decide it"
    ));
    assert_eq!(outcome(&executed.receipts[2]), (2, false));
    assert_eq!(outcome(&executed.receipts[3]), (2, true));
    let late = signer.sign(7, Action::PurgePrivate { hash: [0; 32] });
    assert!(matches!(
        node.executor.check(&node.store, &late),
        Err(EntryError::Rejected(
            TransactionError::OrganisationRemoved { .. }
        ))
    ));
    assert!(matches!(
        rejection(&node, vec![late]),
        (0, TransactionError::OrganisationRemoved { .. })
    ));
    // Its contract is bank-b's now: bank-b's admin upgrades it, bank-a's cannot.
    let upgrade = |signer: &mut Signer, key| {
        signer.sign(
            key,
            Action::Upgrade {
                contract,
                code: artifact("points"),
                migrate_args: String::new(),
            },
        )
    };
    let executed = node.block(vec![upgrade(&mut signer, 1), upgrade(&mut signer, 2)]);
    assert!(refused(
        &executed.receipts[0].status,
        "belongs to organisation bank-b"
    ));
    assert_eq!(executed.receipts[1].status, Status::Success);
    // The name is not reused.
    let rejoin = Change::AddOrganisation {
        name: "bank-d".into(),
        admins: vec![public_key(&key(8))],
    };
    let executed = node.block(vec![signer.propose(1, rejoin)]);
    assert!(refused(
        &executed.receipts[0].status,
        "names are not reused"
    ));
}

/// A frozen contract takes no calls, directly or from another contract, and still serves
/// queries; unfrozen, it takes calls again.
#[test]
fn a_frozen_contract_serves_queries_but_takes_no_calls() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let mut signer = Signer::default();
    let notary = notary_owned_by_bank_a(&node, &mut signer, Policy::Owner);
    let add = |signer: &mut Signer| {
        signer.sign(
            1,
            Action::Call {
                contract: notary,
                method: "add_notary".into(),
                args: json!({"notary": SdkAddress(address(3)), "name": "n"}).to_string(),
            },
        )
    };
    let executed = node.block(vec![
        signer.propose(1, Change::Freeze { contract: notary }),
        add(&mut signer),
    ]);
    assert!(outcome(&executed.receipts[0]).1);
    assert!(
        refused(&executed.receipts[1].status, "is frozen"),
        "{:?}",
        executed.receipts[1]
    );
    let query = node
        .executor
        .query(
            &node.store,
            &notary,
            "notary",
            &json!({"notary": SdkAddress(address(3))}).to_string(),
            [0; 32],
            None,
        )
        .unwrap();
    assert!(
        matches!(query, vellum_ledger::QueryResult::Success { .. }),
        "{query:?}"
    );
    let executed = node.block(vec![
        signer.propose(1, Change::Unfreeze { contract: notary }),
        add(&mut signer),
    ]);
    assert_eq!(
        executed.receipts[1].status,
        Status::Success,
        "{:?}",
        executed.receipts[1]
    );
}

/// A contract's upgrade policy cannot be set below the network's minimum, at deploy or later.
#[test]
fn upgrade_policies_respect_the_networks_minimum() {
    let mut network = genesis(DeployPolicy::AnyAdmin);
    network.governance.upgrade_policy = Policy::Majority;
    network.governance.upgrade_policy_minimum = Policy::MOfN { m: 2 };
    let node = Node::new(network);
    let mut signer = Signer::default();
    let executed = node.block(vec![signer.propose(
        1,
        Change::Deploy {
            code: artifact("notary"),
            init_args: "{}".into(),
            upgrade_policy: Policy::Owner,
        },
    )]);
    assert!(refused(
        &executed.receipts[0].status,
        "less strict than the network's minimum"
    ));
    // A plain deploy takes genesis's default policy, which then needs a proposal to upgrade.
    let contract = deploy(&node, 1, 1, "notary");
    assert_eq!(info(&node, &contract).upgrade_policy, Policy::Majority);

    // A default that was strict enough for three organisations is not for four: m_of_n:2 against
    // a majority of four (three). Plain deploys are then refused, with what to do.
    let mut network = genesis(DeployPolicy::AnyAdmin);
    network.governance.upgrade_policy = Policy::MOfN { m: 2 };
    network.governance.upgrade_policy_minimum = Policy::Majority;
    let node = Node::new(network);
    let mut signer = Signer::default();
    deploy(&node, 1, 0, "notary");
    signer.nonces.insert(1, 1);
    let join = Change::AddOrganisation {
        name: "bank-d".into(),
        admins: vec![public_key(&key(7))],
    };
    let executed = node.block(vec![signer.propose(1, join), signer.approve(2, 1)]);
    assert_eq!(outcome(&executed.receipts[1]), (1, true));
    let executed = node.block(vec![signer.sign(
        1,
        Action::Deploy {
            code: artifact("notary"),
            init_args: "{}".into(),
        },
    )]);
    assert!(
        refused(
            &executed.receipts[0].status,
            "propose the deploy with a stricter policy"
        ),
        "{:?}",
        executed.receipts[0]
    );
}

/// A proposal to change a contract names the contract's sequence (its count of changes) when
/// made: once another change is made first, it no longer executes (Fabric's sequence number).
/// An organisation approves once; a change that could not be made now is refused when proposed.
#[test]
fn a_change_executes_only_at_the_sequence_it_was_proposed_at() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let mut signer = Signer::default();
    let notary = notary_owned_by_bank_a(&node, &mut signer, Policy::MOfN { m: 2 });
    assert_eq!(info(&node, &notary).sequence, 0);
    let executed = node.block(vec![
        signer.propose(1, Change::Freeze { contract: notary }),
        signer.propose(
            1,
            Change::SetUpgradePolicy {
                contract: notary,
                policy: Policy::All,
            },
        ),
        signer.approve(1, 2),
    ]);
    assert_eq!(outcome(&executed.receipts[0]), (2, false));
    assert_eq!(outcome(&executed.receipts[1]), (3, false));
    assert!(refused(
        &executed.receipts[2].status,
        "organisation bank-a approved proposal 2 at height"
    ));
    let executed = node.block(vec![signer.approve(2, 3), signer.approve(2, 2)]);
    assert_eq!(outcome(&executed.receipts[0]), (3, true));
    assert!(
        refused(&executed.receipts[1].status, "propose the change again"),
        "{:?}",
        executed.receipts[1]
    );
    let after = info(&node, &notary);
    assert_eq!(
        (after.sequence, after.frozen, after.upgrade_policy),
        (1, false, Policy::All)
    );

    // Refused when proposed, taking no number: a bad name, an upgrade of another version, an
    // organisation that is not one.
    let executed = node.block(vec![
        signer.propose(
            1,
            Change::AddOrganisation {
                name: "Bank D!".into(),
                admins: vec![public_key(&key(7))],
            },
        ),
        signer.propose(
            1,
            Change::Upgrade {
                contract: notary,
                version: 7,
                code: artifact("points"),
                migrate_args: String::new(),
            },
        ),
        signer.propose(
            1,
            Change::RemoveOrganisation {
                name: "bank-z".into(),
                successor: "bank-a".into(),
            },
        ),
    ]);
    let executed_more = node.block(vec![
        signer.propose(1, Change::Unfreeze { contract: notary }),
        signer.propose(
            1,
            Change::RemoveOrganisation {
                name: "x".repeat(100_000),
                successor: "bank-a".into(),
            },
        ),
    ]);
    assert!(refused(
        &executed_more.receipts[0].status,
        "is not frozen already"
    ));
    // A refusal quoting what was sent stays small.
    match &executed_more.receipts[1].status {
        Status::Refused(why) => assert!(why.len() < 2048, "{} bytes", why.len()),
        other => panic!("{other:?}"),
    }
    let statuses: Vec<_> = executed.receipts.iter().map(|r| &r.status).collect();
    assert!(
        refused(statuses[0], "is not an organisation name"),
        "{statuses:?}"
    );
    assert!(
        refused(statuses[1], "is at version 1, not 7"),
        "{statuses:?}"
    );
    assert!(
        refused(statuses[2], "is not an organisation of the network"),
        "{statuses:?}"
    );
    assert_eq!(node.store.last_proposal().unwrap(), 3);
}

/// The governance rules change by a proposal under the rules policy (this genesis's: all,
/// where organisations join by a majority), which names every rule; the new rules govern every
/// vote and deploy from the next transaction, proposals made before included, and a competing
/// change of the rules made against the old ones no longer executes. Rules that could not work
/// are refused.
#[test]
fn the_rules_change_by_proposal_and_govern_from_the_next_transaction() {
    let mut network = genesis(DeployPolicy::AnyAdmin);
    network.governance.rules_policy = Policy::All;
    let node = Node::new(network);
    let mut signer = Signer::default();
    let genesis_rules = node.executor.genesis().rules();
    assert_eq!(
        (genesis_rules.rules_policy, genesis_rules.membership_policy),
        (Policy::All, Policy::Majority)
    );
    assert_eq!(node.store.rules().unwrap(), None);
    // Deploys and joins by all, rules changes by a majority.
    let strict = vellum_types::Rules {
        deploy_policy: Policy::All,
        membership_policy: Policy::All,
        rules_policy: Policy::Majority,
        proposal_lifetime_blocks: 5,
        ..genesis_rules
    };
    let looser = vellum_types::Rules {
        upgrade_policy: Policy::Majority,
        ..genesis_rules
    };
    let set = |rules, sequence| Change::SetRules { rules, sequence };
    let join = |name: &str, seed| Change::AddOrganisation {
        name: name.into(),
        admins: vec![public_key(&key(seed))],
    };

    // Rules that cannot work, and rules that change nothing, are refused when proposed.
    let broken = vellum_types::Rules {
        rules_policy: Policy::AnyAdmin,
        ..genesis_rules
    };
    let executed = node.block(vec![
        signer.propose(1, set(broken, 0)),
        signer.propose(1, set(genesis_rules, 0)),
        signer.propose(1, set(strict, 1)),
    ]);
    let statuses: Vec<&Status> = executed.receipts.iter().map(|r| &r.status).collect();
    assert!(
        refused(
            statuses[0],
            "rules_policy is any_admin; it must be majority or all"
        ),
        "{statuses:?}"
    );
    assert!(refused(statuses[1], "in force already"), "{statuses:?}");
    assert!(
        refused(statuses[2], "the rules have had 0 changes, not 1"),
        "{statuses:?}"
    );

    // 1: bank-d's joining, under genesis's majority; 2: the strict rules; 3: a looser change
    // of the rules, made against genesis's too. The strict rules need all three.
    let executed = node.block(vec![
        signer.propose(1, join("bank-d", 7)),
        signer.propose(1, set(strict, 0)),
        signer.propose(2, set(looser, 0)),
        signer.approve(2, 2),
    ]);
    let outcomes: Vec<(u64, bool)> = executed.receipts.iter().map(outcome).collect();
    assert_eq!(outcomes, [(1, false), (2, false), (3, false), (2, false)]);
    let executed = node.block(vec![signer.approve(4, 2)]);
    assert_eq!(outcome(&executed.receipts[0]), (2, true));
    let height = executed.block.header.height;
    let record = node.store.rules().unwrap().expect("rules set");
    assert_eq!(
        (record.rules, record.sequence, record.changed_at),
        (strict, 1, height)
    );
    assert_eq!(
        node.store.proposal(2).unwrap().unwrap().proposal.sequence,
        Some(0)
    );

    // The competing change was made at sequence 0: it never executes, and another made against
    // the rules read before the change is refused.
    let executed = node.block(vec![
        signer.approve(4, 3),
        signer.propose(4, set(looser, 0)),
    ]);
    let statuses: Vec<&Status> = executed.receipts.iter().map(|r| &r.status).collect();
    assert!(
        refused(statuses[0], "the rules have had 1 changes"),
        "{statuses:?}"
    );
    assert!(
        refused(statuses[1], "the rules have had 1 changes, not 0"),
        "{statuses:?}"
    );
    // bank-d's joining, proposed under a majority, now needs all three.
    let executed = node.block(vec![signer.approve(2, 1)]);
    assert_eq!(outcome(&executed.receipts[0]), (1, false));
    let executed = node.block(vec![signer.approve(4, 1)]);
    assert_eq!(outcome(&executed.receipts[0]), (1, true));
    // A plain deploy needs all four organisations now; a proposal lives five blocks.
    let executed = node.block(vec![
        signer.sign(
            1,
            Action::Deploy {
                code: artifact("notary"),
                init_args: "{}".into(),
            },
        ),
        signer.propose(1, join("bank-e", 8)),
        signer.propose(
            1,
            Change::Deploy {
                code: artifact("notary"),
                init_args: "{}".into(),
                upgrade_policy: Policy::Owner,
            },
        ),
    ]);
    assert!(
        refused(&executed.receipts[0].status, "the deploy policy is all"),
        "{:?}",
        executed.receipts[0]
    );
    assert_eq!(outcome(&executed.receipts[2]), (5, false));
    let proposal = node.store.proposal(4).unwrap().unwrap().proposal;
    assert_eq!(proposal.expires_at, executed.block.header.height + 5);
    // A proposal made before keeps the lifetime of its day.
    let first = node.store.proposal(1).unwrap().unwrap().proposal;
    assert_eq!(first.expires_at, first.proposed_at + 100_000);

    // Changing the rules again needs a majority of the four: three.
    let executed = node.block(vec![
        signer.propose(1, set(genesis_rules, 1)),
        signer.approve(2, 6),
        signer.approve(4, 6),
    ]);
    let outcomes: Vec<(u64, bool)> = executed.receipts.iter().map(outcome).collect();
    assert_eq!(outcomes, [(6, false), (6, false), (6, true)]);
    let record = node.store.rules().unwrap().expect("rules set");
    assert_eq!((record.rules, record.sequence), (genesis_rules, 2));
}

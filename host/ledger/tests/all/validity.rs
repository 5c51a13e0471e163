//! Which transactions and blocks are valid: each rejection class, the entry check a pool
//! runs, the block limits, and a builder that leaves invalid candidates out.

use super::*;
use vellum_ledger::QueryResult;

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
    greedy.fuel_limit = vellum_types::ChainLimits::default().transaction_fuel_max + 1;
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
        SignedTransaction::decode(&bytes[..bytes.len() - 1]),
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

/// What a mempool asks before accepting a transaction: the same rules a block enforces.
#[test]
fn entry_checks_reject_each_class_before_execution() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let contract = [9; 32];
    let good = call(1, 0, contract, "ping", json!({}));
    assert_eq!(
        node.executor.check(&node.store, &good).ok(),
        Some(good.hash())
    );
    let check = |tx| match node.executor.check(&node.store, &tx) {
        Err(EntryError::Rejected(error)) => error,
        other => panic!("expected a rejection, got {other:?}"),
    };
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
    let entry = |tx: &_, window| {
        node.executor
            .check_entry(&node.store, tx, window)
            .map_err(|error| match error {
                EntryError::Rejected(error) => error,
                other => panic!("expected a rejection, got {other:?}"),
            })
    };
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

/// A transaction that breaks several rules is refused by the cheapest: the rules that need no
/// state (chain, fuel limit) before any read of the store, membership and nonce before the
/// signature (~70 us). A flood from strangers, another chain or spent nonces, signed or not,
/// costs no signature check, and a stranger's costs one read.
#[test]
fn entry_checks_refuse_by_the_cheapest_rule_first() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let max = node.executor.genesis().limits.transaction_fuel_max;
    let check = |tx: SignedTransaction| match node.executor.check_entry(&node.store, &tx, 1) {
        Err(EntryError::Rejected(error)) => error,
        other => panic!("expected a rejection, got {other:?}"),
    };
    // Signed by a stranger (9) with a nonce far ahead, then altered: every rule is broken.
    let broken = |chain: &str, fuel_limit: u64, signer: u8, nonce: u64| {
        let mut transaction = vellum_types::Transaction {
            chain_id: chain.into(),
            sender: public_key(&key(signer)),
            nonce,
            fuel_limit,
            action: Action::ApproveCode { code_hash: [1; 32] },
        }
        .sign(&key(signer));
        transaction.signature[7] ^= 1;
        transaction
    };
    assert!(matches!(
        check(broken("elsewhere", max + 1, 9, 5)),
        TransactionError::WrongChain { .. }
    ));
    assert_eq!(
        check(broken(CHAIN, max + 1, 9, 5)),
        TransactionError::FuelLimit {
            found: max + 1,
            max
        }
    );
    assert!(matches!(
        check(broken(CHAIN, FUEL, 9, 5)),
        TransactionError::UnknownSender(_)
    ));
    assert_eq!(
        check(broken(CHAIN, FUEL, 1, 5)),
        TransactionError::BadNonce {
            expected: 0,
            found: 5
        }
    );
    assert_eq!(
        check(broken(CHAIN, FUEL, 1, 0)),
        TransactionError::BadSignature
    );
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
            code: vec![0; vellum_types::TRANSACTION_BYTES_MAX],
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
fn a_builder_leaves_out_invalid_candidates_and_its_block_verifies() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let approve = |nonce: u64| Action::ApproveCode {
        code_hash: vellum_types::keccak256(&nonce.to_be_bytes()),
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
        .build(&node.store, &[], node.proposal(candidates.clone()), &|| {
            false
        })
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
        .build(&small.store, &[], small.proposal(many), &|| false)
        .expect("a block is built");
    assert_eq!(built.block.transactions.len(), 2);
    assert!(skipped.is_empty());
}

/// A transaction signed by `signer` with its own fuel limit.
fn with_fuel(signer: u8, nonce: u64, fuel_limit: u64, action: Action) -> SignedTransaction {
    vellum_types::Transaction {
        chain_id: vellum_ledger::testing::CHAIN.into(),
        sender: vellum_types::public_key(&key(signer)),
        nonce,
        fuel_limit,
        action,
    }
    .sign(&key(signer))
}

/// `block_fuel_max` bounds the fuel a block's transactions use: one enters while its own limit
/// fits in what the ones before it left, so a block is not cut short by generous limits.
#[test]
fn block_fuel_counts_what_transactions_use_and_a_limit_must_fit_what_is_left() {
    let approve = |n: u64| Action::ApproveCode {
        code_hash: vellum_types::keccak256(&n.to_be_bytes()),
    };
    // What one approval uses, measured.
    let probe = Node::new(genesis(DeployPolicy::AnyAdmin));
    let used = probe.block(vec![sign(1, 0, approve(0))]).receipts[0].fuel_used;
    assert!(used > 0 && used < FUEL / 100);

    let mut limits = genesis(DeployPolicy::AnyAdmin);
    limits.limits.transaction_fuel_max = FUEL;
    limits.limits.block_fuel_max = FUEL + 3 * used;
    let node = Node::new(limits);
    // Five limits of FUEL each ask for 5 * FUEL; the block's budget is FUEL + 3 uses. Under a
    // budget on limits only one would enter; on fuel used, four do: the fifth's limit no longer
    // fits in what is left, but a small one after it still does.
    let mut candidates: Vec<_> = (0..5).map(|n| sign(1, n, approve(n))).collect();
    candidates.push(with_fuel(2, 0, used, approve(100)));
    let (built, skipped) = node
        .executor
        .build(&node.store, &[], node.proposal(candidates.clone()), &|| {
            false
        })
        .expect("a block is built");
    let included: Vec<_> = built.block.transactions.iter().map(|t| t.hash()).collect();
    let expected: Vec<_> = [0, 1, 2, 3, 5]
        .iter()
        .map(|&i| candidates[i].hash())
        .collect();
    assert_eq!(included, expected);
    assert!(
        skipped.is_empty(),
        "a candidate without room waits: {skipped:?}"
    );
    assert!(built.block.header.fuel_used <= FUEL + 3 * used);

    // A verifier holds a proposal to the same rule, at the same position.
    let result = node
        .executor
        .execute(&node.store, node.proposal(candidates[..5].to_vec()));
    assert!(
        matches!(result, Err(BlockError::LimitExceeded { what: "fuel", .. })),
        "{result:?}"
    );
    let verified = node
        .executor
        .execute(&node.store, node.proposal(built.block.transactions.clone()))
        .expect("the built block verifies");
    assert_eq!(verified.block.header, built.block.header);
}

/// One transaction cannot fill a block's receipts: a receipt above
/// `transaction_receipt_bytes_max` fails the transaction (its effects are dropped, its nonce
/// is spent), and the block goes on.
#[test]
fn an_oversized_receipt_fails_its_transaction_and_the_block_goes_on() {
    let mut small = genesis(DeployPolicy::AnyAdmin);
    small.limits.transaction_receipt_bytes_max = 1_000;
    let node = Node::new(small);
    let points = deploy(&node, 1, 0, "points");
    let register = |nonce, id: &str, name: String| {
        call(
            1,
            nonce,
            points,
            "register_issuer",
            json!({"id": id, "name": name, "admin": SdkAddress(address(1))}),
        )
    };
    let executed = node.block(vec![
        register(1, "big", "x".repeat(2_000)),
        register(2, "small", "y".into()),
    ]);
    match &executed.receipts[0].status {
        Status::Refused(message) => assert!(message.contains("receipt"), "{message}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(executed.receipts[0].events.is_empty());
    assert_eq!(executed.receipts[1].status, Status::Success);
    // The refused registration wrote nothing; the next one did.
    let issuer = |id: &str| {
        node.executor
            .query(
                &node.store,
                &points,
                "issuer",
                &json!({ "id": id }).to_string(),
                [0; 32],
                None,
            )
            .expect("the query runs")
    };
    assert!(matches!(issuer("small"), QueryResult::Success { .. }));
    assert!(matches!(issuer("big"), QueryResult::Failed(_)));
}

#[test]
fn building_stops_taking_candidates_once_out_of_time_and_the_block_still_verifies() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let approve = |n: u64| Action::ApproveCode {
        code_hash: vellum_types::keccak256(&n.to_be_bytes()),
    };
    let candidates: Vec<_> = (0..6).map(|n| sign(1, n, approve(n))).collect();
    // The clock runs out after the third candidate: the builder asks before each one.
    let asked = std::cell::Cell::new(0);
    let out_of_time = || {
        asked.set(asked.get() + 1);
        asked.get() > 3
    };
    let (built, skipped) = node
        .executor
        .build(
            &node.store,
            &[],
            node.proposal(candidates.clone()),
            &out_of_time,
        )
        .expect("a block is built");
    let included: Vec<_> = built.block.transactions.iter().map(|t| t.hash()).collect();
    let expected: Vec<_> = candidates[..3].iter().map(|t| t.hash()).collect();
    assert_eq!(included, expected);
    assert!(
        skipped.is_empty(),
        "the rest wait for a later block: {skipped:?}"
    );
    // Out of time before the first: an empty block, which verifies like any other.
    let (empty, _) = node
        .executor
        .build(&node.store, &[], node.proposal(candidates.clone()), &|| {
            true
        })
        .expect("an empty block is built");
    assert!(empty.block.transactions.is_empty());
    let verified = node
        .executor
        .execute(&node.store, node.proposal(built.block.transactions.clone()))
        .expect("the built block verifies");
    assert_eq!(verified.block.header, built.block.header);
}

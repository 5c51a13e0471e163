//! The store and the pipeline: determinism across nodes, genesis checks, commits that must
//! extend the head, and blocks executed on top of uncommitted ones.

use super::*;

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
    let points = vellum_ledger::records::contract_address(&address(1), 0);
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
    let reopened = vellum_ledger::Store::open(&path, &genesis(DeployPolicy::AnyAdmin)).unwrap();
    assert_eq!(reopened.head().unwrap(), head);
    drop(reopened);
    let other = genesis(DeployPolicy::MajorityOfOrganisations);
    assert!(matches!(
        vellum_ledger::Store::open(&path, &other),
        Err(vellum_ledger::StoreError::GenesisMismatch { .. })
    ));
    drop(dir);
}

/// Blocks executed while their predecessor is still being committed come out identical to
/// blocks executed one after another, and a transaction of the in-flight block cannot be replayed.
#[test]
fn pipelined_execution_matches_sequential_execution() {
    let sequential = Node::new(genesis(DeployPolicy::AnyAdmin));
    let piped = Node::new(genesis(DeployPolicy::AnyAdmin));
    let points = vellum_ledger::records::contract_address(&address(1), 0);
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
    let mut pipeline = vellum_ledger::Pipeline::new(store.clone());
    for (height, transactions) in blocks.iter().enumerate() {
        let expected = sequential.block(transactions.clone());
        let proposal = Proposal::replay(expected.block.clone());
        // Replaying a transaction of the block still being committed is caught.
        if height > 0 {
            let replay = Proposal {
                transactions: vec![blocks[height - 1][0].clone()],
                ..proposal.clone()
            };
            let pending = pipeline.push(&executor, proposal).expect("valid block");
            assert_eq!(pending.block.header, expected.block.header);
            let next = Proposal {
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
        Err(vellum_ledger::StoreError::NotNext {
            height: 1,
            head: 1,
            ..
        })
    ));
    assert_eq!(node.store.height().unwrap(), 1);
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
                code_hash: vellum_types::keccak256(&nonce.to_be_bytes()),
            },
        )
    };
    let mut pending: Vec<ExecutedBlock> = Vec::new();
    for height in 0..3u64 {
        let expected = sequential.block(vec![approve(2 * height), approve(2 * height + 1)]);
        let below: Vec<&ExecutedBlock> = pending.iter().collect();
        let executed = chained
            .executor
            .execute_after(
                &chained.store,
                &below,
                Proposal::replay(expected.block.clone()),
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
        .execute_after(&chained.store, &below, Proposal::replay(next.block.clone()))
        .expect("valid");
    assert_eq!(executed.block.header, next.block.header);
    // A chain that does not extend the store is refused.
    let result = chained.executor.execute_after(
        &chained.store,
        &below[2..],
        Proposal::replay(next.block.clone()),
    );
    assert!(
        matches!(result, Err(BlockError::WrongParent { .. })),
        "{result:?}"
    );
}

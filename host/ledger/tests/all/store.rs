//! The store and the pipeline: determinism across nodes, genesis checks, commits that must
//! extend the head, and blocks executed on top of uncommitted ones.

use super::*;
use redb::ReadableTable as _;

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
    // Open elsewhere (a node still running or still exiting on the directory): refused, saying
    // so and what to do.
    let locked = vellum_ledger::Store::open(&path, &genesis(DeployPolicy::AnyAdmin))
        .map(|_| ())
        .expect_err("the store is open");
    assert!(
        matches!(&locked, vellum_ledger::StoreError::Locked { path: p } if *p == path),
        "{locked:?}"
    );
    assert!(locked.to_string().contains("stop it"), "{locked}");
    drop(reopened);
    let other = genesis(DeployPolicy::MajorityOfOrganisations);
    assert!(matches!(
        vellum_ledger::Store::open(&path, &other),
        Err(vellum_ledger::StoreError::GenesisMismatch { .. })
    ));
    // A store written before governance records no format: its contract records cannot be read
    // as today's, so it is refused with what to do, not misread.
    {
        let db = redb::Database::create(&path).unwrap();
        let write = db.begin_write().unwrap();
        write
            .open_table(redb::TableDefinition::<&str, &[u8]>::new("meta"))
            .unwrap()
            .remove("format")
            .unwrap();
        write.commit().unwrap();
    }
    let refused = vellum_ledger::Store::open(&path, &genesis(DeployPolicy::AnyAdmin))
        .err()
        .expect("refused");
    assert!(
        matches!(
            refused,
            vellum_ledger::StoreError::Format {
                found: 1,
                expected: 3
            }
        ),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("new genesis file"),
        "{refused}"
    );
    drop(dir);
}

/// A store of format 2 (a `history` row per version) opens converted to format 3 (a row per key
/// and block), every key's history reading as it did, and takes new blocks.
#[test]
fn a_format_2_store_is_converted_when_opened() {
    use redb::ReadableTable;
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let points = points_with_issuer(&node);
    let operator = SdkAddress(address(1));
    // Blocks in which one key (the operator's balance, its nonce) changes several times.
    for nonce in [2u64, 5] {
        node.block(
            (nonce..nonce + 3)
                .map(|n| {
                    call(
                        1,
                        n,
                        points,
                        "mint",
                        json!({"issuer": "air", "to": operator, "amount": n}),
                    )
                })
                .collect(),
        );
    }
    let histories = |store: &vellum_ledger::Store| {
        store
            .state_entries()
            .unwrap()
            .into_iter()
            .map(|(full, _)| {
                let (namespace, key) = full.split_at(32);
                let namespace: [u8; 32] = namespace.try_into().unwrap();
                store
                    .history(&namespace, key, None, 1_000, Order::Ascending)
                    .unwrap()
            })
            .collect::<Vec<_>>()
    };
    let before = histories(&node.store);
    assert!(before.iter().any(|versions| versions.len() >= 4));
    let head = node.store.head().unwrap();
    let path = node.path().join("ledger.redb");
    let Node { store, dir, .. } = node;
    drop(store);
    // Rewrite the store as format 2 wrote it: a row per version, keyed by its own position,
    // holding borsh(Option<value>).
    {
        let history = redb::TableDefinition::<&[u8], &[u8]>::new("history");
        let db = redb::Database::create(&path).unwrap();
        let write = db.begin_write().unwrap();
        {
            let mut table = write.open_table(history).unwrap();
            let rows: Vec<(Vec<u8>, Vec<u8>)> = table
                .iter()
                .unwrap()
                .map(|entry| {
                    let (k, v) = entry.unwrap();
                    (k.value().to_vec(), v.value().to_vec())
                })
                .collect();
            assert!(rows.len() < before.iter().map(Vec::len).sum::<usize>());
            for (key, row) in rows {
                table.remove(key.as_slice()).unwrap();
                let versions: Vec<(u32, Option<Vec<u8>>)> = borsh::from_slice(&row).unwrap();
                for (position, value) in versions {
                    let mut old = key[..key.len() - 4].to_vec();
                    old.extend_from_slice(&position.to_be_bytes());
                    table
                        .insert(old.as_slice(), borsh::to_vec(&value).unwrap().as_slice())
                        .unwrap();
                }
            }
            write
                .open_table(redb::TableDefinition::<&str, &[u8]>::new("meta"))
                .unwrap()
                .insert("format", 2u64.to_be_bytes().as_slice())
                .unwrap();
        }
        write.commit().unwrap();
    }
    let converted = vellum_ledger::Store::open(&path, &genesis(DeployPolicy::AnyAdmin)).unwrap();
    assert_eq!(converted.head().unwrap(), head);
    assert_eq!(histories(&converted), before);
    // Converted once: reopening finds format 3.
    drop(converted);
    let node = Node {
        store: vellum_ledger::Store::open(&path, &genesis(DeployPolicy::AnyAdmin)).unwrap(),
        executor: vellum_ledger::Executor::new(
            genesis(DeployPolicy::AnyAdmin),
            RuntimeConfig::default(),
        )
        .unwrap(),
        dir,
    };
    node.block(vec![call(
        1,
        8,
        points,
        "mint",
        json!({"issuer": "air", "to": operator, "amount": 1}),
    )]);
    let after = histories(&node.store);
    assert!(after.iter().map(Vec::len).sum::<usize>() > before.iter().map(Vec::len).sum::<usize>());
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

/// Every key's proof from a store verifies against the head's `state_root` with the value the
/// store serves, for a present key and an absent one; a value altered in redb behind the
/// store's back no longer verifies.
#[test]
fn state_proofs_verify_against_the_header_and_a_tampered_value_does_not() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    deploy(&node, 1, 0, "points");
    let head = node.store.head().unwrap();
    let nonce = vellum_ledger::keys::nonce_key(&address(1));
    let (proved, value) = node.store.state_proof(&SYSTEM, &nonce[32..]).unwrap();
    assert_eq!((proved.height, proved.root), (head.height, head.state_root));
    assert_eq!(value, node.store.get(&SYSTEM, &nonce[32..]).unwrap());
    assert!(value.is_some());
    assert!(proved
        .proof
        .verify(&nonce, value.as_deref(), &head.state_root));
    let absent = vellum_ledger::keys::nonce_key(&address(9));
    let (proved, none) = node.store.state_proof(&SYSTEM, &absent[32..]).unwrap();
    assert_eq!(none, None);
    assert!(proved.proof.verify(&absent, None, &head.state_root));
    assert!(!proved.proof.verify(&nonce, None, &head.state_root));

    // Tamper with the nonce in redb's state and history, as a dishonest operator could.
    let path = node.path().join("ledger.redb");
    let Node { store, dir, .. } = node;
    drop(store);
    {
        let db = redb::Database::open(&path).unwrap();
        let write = db.begin_write().unwrap();
        {
            let mut state = write
                .open_table(redb::TableDefinition::<&[u8], &[u8]>::new("state"))
                .unwrap();
            state.insert(nonce.as_slice(), [7u8; 8].as_slice()).unwrap();
            let mut history = write
                .open_table(redb::TableDefinition::<&[u8], &[u8]>::new("history"))
                .unwrap();
            let keys: Vec<Vec<u8>> = history
                .iter()
                .unwrap()
                .map(|e| e.unwrap().0.value().to_vec())
                .filter(|k| k.windows(nonce.len()).any(|w| w == nonce.as_slice()))
                .collect();
            assert!(!keys.is_empty());
            for key in keys {
                // A row of the block's versions of the key, the first at the key's position.
                let position = u32::from_be_bytes(key[key.len() - 4..].try_into().unwrap());
                let forged = borsh::to_vec(&vec![(position, Some(vec![7u8; 8]))]).unwrap();
                history.insert(key.as_slice(), forged.as_slice()).unwrap();
            }
        }
        write.commit().unwrap();
    }
    let store = vellum_ledger::Store::open(&path, &genesis(DeployPolicy::AnyAdmin)).unwrap();
    let (proved, forged) = store.state_proof(&SYSTEM, &nonce[32..]).unwrap();
    assert_eq!(forged, Some(vec![7u8; 8]));
    assert!(!proved
        .proof
        .verify(&nonce, forged.as_deref(), &head.state_root));
    drop((store, dir));
}

/// A block the commitment took but redb did not (the node stopped between the two) is rewound
/// when the store reopens: the head is redb's, and a different block commits at that height.
#[test]
fn a_block_only_the_commitment_took_is_rewound_on_reopening() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    deploy(&node, 1, 0, "points");
    let head = node.store.head().unwrap();
    let lost = node
        .executor
        .execute(
            &node.store,
            node.proposal(vec![sign(
                2,
                0,
                Action::Deploy {
                    code: artifact("points"),
                    init_args: "{}".into(),
                },
            )]),
        )
        .unwrap();
    node.store
        .commitment()
        .apply(
            &head.state_root,
            vellum_ledger::commitment::Link {
                height: lost.block.header.height,
                root: lost.block.header.state_root,
                writes: &lost.writes,
            },
        )
        .unwrap();
    let path = node.path().join("ledger.redb");
    let Node {
        store,
        executor,
        dir,
    } = node;
    drop(store);
    let store = vellum_ledger::Store::open(&path, &genesis(DeployPolicy::AnyAdmin)).unwrap();
    assert_eq!(store.head().unwrap(), head);
    assert_eq!(store.commitment().opened().root, head.state_root);
    let instead = executor
        .execute(
            &store,
            next_proposal(
                &head,
                vec![sign(
                    4,
                    0,
                    Action::Deploy {
                        code: artifact("notary"),
                        init_args: "{}".into(),
                    },
                )],
            ),
        )
        .unwrap();
    assert_ne!(
        instead.block.header.state_root,
        lost.block.header.state_root
    );
    store.commit(&instead).unwrap();
    let nonce = vellum_ledger::keys::nonce_key(&address(4));
    let (proved, value) = store.state_proof(&SYSTEM, &nonce[32..]).unwrap();
    assert_eq!(proved.root, instead.block.header.state_root);
    assert!(proved.proof.verify(&nonce, value.as_deref(), &proved.root));
    drop((store, dir));
}

//! The history index: every version of a key, and state at a past height.

use super::*;

#[test]
fn the_history_of_a_key_is_a_range_scan_and_past_state_is_served_from_it() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let points = points_with_issuer(&node);
    let operator = SdkAddress(address(1));
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
    // A balance is stored in the SDK's encoding (postcard: a u128 is a varint).
    let stored = |balance: u128| vellum_sdk::storage::encode(&balance);
    assert_eq!(values, [stored(10), stored(30), stored(60)]);

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
        Some(stored(30).as_slice())
    );
    assert_eq!(
        node.store
            .get_at(&points, balance, u64::MAX)
            .unwrap()
            .as_deref(),
        Some(stored(60).as_slice())
    );
}

/// Every entry of a past-state view, in `order`, found as a contract's iteration finds them:
/// one `first` after another.
fn scan(view: &vellum_runtime::Overlay, order: Order) -> Vec<(Vec<u8>, Vec<u8>)> {
    use std::ops::Bound;
    use vellum_runtime::Storage as _;
    let mut entries = Vec::new();
    let mut last: Option<Vec<u8>> = None;
    loop {
        let edge = match &last {
            Some(key) => Bound::Excluded(key.as_slice()),
            None => Bound::Unbounded,
        };
        let (lower, upper) = match order {
            Order::Ascending => (edge, Bound::Unbounded),
            Order::Descending => (Bound::Unbounded, edge),
        };
        let Some((key, value)) = view.first(lower, upper, order).expect("a read") else {
            return entries;
        };
        last = Some(key.clone());
        entries.push((key, value));
    }
}

/// State read at each past height is the state as it was when that height was the head: every
/// entry, found by key and by iteration in both orders (keys removed since are back, keys
/// written since are not there), and a contract query at that height answers as it did then.
/// The history of a key is served by height range.
#[test]
fn state_at_a_past_height_is_the_state_of_that_height() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let points = points_with_issuer(&node);
    let balance = |height: Option<u64>, member: u8| {
        let args = json!({"issuer": "air", "member": SdkAddress(address(member))});
        match node
            .executor
            .query(
                &node.store,
                &points,
                "balance",
                &args.to_string(),
                [0; 32],
                height,
            )
            .expect("the query runs")
        {
            vellum_ledger::QueryResult::Success { output, height, .. } => (output, height),
            other => panic!("the balance query failed: {other:?}"),
        }
    };
    let mint = |nonce: u64, member: u8, amount: u64| {
        call(
            1,
            nonce,
            points,
            "mint",
            json!({"issuer": "air", "to": SdkAddress(address(member)), "amount": amount}),
        )
    };
    let transfer = |from: u8, nonce: u64, to: u8, amount: u64| {
        call(
            from,
            nonce,
            points,
            "transfer",
            json!({"issuer": "air", "to": SdkAddress(address(to)), "amount": amount}),
        )
    };
    let blocks = vec![
        vec![mint(2, 3, 50), mint(3, 4, 5)],
        // Member 4's balance reaches zero: its key is removed.
        vec![transfer(4, 0, 3, 5)],
        vec![transfer(3, 0, 5, 20), mint(4, 4, 1)],
        vec![transfer(3, 1, 4, 2)],
        vec![],
    ];
    let mut recorded = Vec::new();
    for transactions in blocks {
        let executed = node.block(transactions);
        let height = executed.block.header.height;
        let state = node.store.state_entries().expect("state");
        recorded.push((height, state, balance(None, 3), balance(None, 4)));
    }
    let head = recorded.last().expect("blocks").0;
    for (height, state, three, four) in &recorded {
        let past = node.store.past(*height).expect("a retained height");
        assert_eq!(past.header.height, *height);
        let view = past.into_overlay();
        for (key, value) in state {
            assert_eq!(view.get(key).unwrap().as_ref(), Some(value), "at {height}");
        }
        assert_eq!(&scan(&view, Order::Ascending), state, "at {height}");
        let mut descending = scan(&view, Order::Descending);
        descending.reverse();
        assert_eq!(&descending, state, "at {height}");
        assert_eq!(&balance(Some(*height), 3), three, "at {height}");
        assert_eq!(&balance(Some(*height), 4), four, "at {height}");
    }
    // Member 4's balance over time: 5, removed (0), 1, 3.
    let fours: Vec<_> = recorded.iter().map(|r| r.3 .0.clone()).collect();
    assert_eq!(fours, [&b"5"[..], b"0", b"1", b"3", b"3"]);
    assert!(matches!(
        node.store.past(head + 1),
        Err(vellum_ledger::StoreError::Beyond { height, head: h }) if height == head + 1 && h == head
    ));

    // History by height range: member 3's balance key changed in each of the first four of
    // these blocks.
    let fifty = vellum_sdk::storage::encode(&50u128);
    let key = state_key_of(&node, &points, |value| value == fifty);
    let heights = |range: std::ops::RangeInclusive<u64>, order| {
        node.store
            .history_in(&points, &key, range, None, 10, order)
            .unwrap()
            .iter()
            .map(|v| v.height)
            .collect::<Vec<_>>()
    };
    let first = recorded[0].0;
    assert_eq!(
        heights(0..=u64::MAX, Order::Ascending),
        [first, first + 1, first + 2, first + 3]
    );
    assert_eq!(
        heights(first + 1..=first + 3, Order::Ascending),
        [first + 1, first + 2, first + 3]
    );
    assert_eq!(
        heights(first + 1..=first + 2, Order::Descending),
        [first + 2, first + 1]
    );
    assert_eq!(
        heights(first + 3..=first + 1, Order::Ascending),
        Vec::<u64>::new()
    );
}

/// The key of `contract` whose first version's value satisfies `test`.
fn state_key_of(node: &Node, contract: &[u8; 32], test: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    node.store
        .state_entries()
        .unwrap()
        .into_iter()
        .filter(|(k, _)| k.starts_with(contract))
        .map(|(k, _)| k[32..].to_vec())
        .find(|k| {
            node.store
                .history(contract, k, None, 1, Order::Ascending)
                .unwrap()
                .first()
                .and_then(|v| v.value.as_deref())
                .is_some_and(&test)
        })
        .expect("a key with that first value")
}

/// With `retain_state(n)`, state can be read `n` blocks back and no further: older undo records
/// are deleted when the setting is made and as each block commits, and a read further back is
/// refused at once, naming the first missing record.
#[test]
fn state_is_read_back_only_as_far_as_the_store_retains() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let points = points_with_issuer(&node);
    let mint = |nonce: u64, amount: u64| {
        call(
            1,
            nonce,
            points,
            "mint",
            json!({"issuer": "air", "to": SdkAddress(address(3)), "amount": amount}),
        )
    };
    for nonce in 2..6 {
        node.block(vec![mint(nonce, 1)]);
    }
    let head = node.store.height().unwrap();
    // Every record is kept by default.
    node.store.past(0).expect("all of it is retained");
    node.store.retain_state(3).unwrap();
    node.store.past(head - 3).expect("three blocks back");
    let refused = node.store.past(head - 4).map(|_| ());
    assert!(
        matches!(refused, Err(vellum_ledger::StoreError::NotRetained { height, missing })
            if height == head - 4 && missing == head - 3),
        "{refused:?}"
    );
    // As blocks commit, the window moves with the head.
    for nonce in 6..9 {
        node.block(vec![mint(nonce, 1)]);
    }
    let head = node.store.height().unwrap();
    let one = vellum_sdk::storage::encode(&1u128);
    let key = [&points[..], &state_key_of(&node, &points, |v| v == one)].concat();
    let balance = |height: u64| {
        let past = node.store.past(height).expect("retained");
        let value = past.into_overlay().get(&key).unwrap().expect("a balance");
        vellum_sdk::storage::decode::<u128>(&value).unwrap()
    };
    assert_eq!(balance(head), 7);
    assert_eq!(balance(head - 3), 4);
    assert!(matches!(
        node.store.past(head - 4),
        Err(vellum_ledger::StoreError::NotRetained { .. })
    ));
}

/// One generated block's versions: (transaction position, key index, value).
type Versions = Vec<(u32, usize, Option<Vec<u8>>)>;

/// Blocks whose transactions write three keys, some of them many times per block and with
/// values large enough to fill several history rows.
fn blocks() -> impl proptest::strategy::Strategy<Value = Vec<Versions>> {
    use proptest::prelude::*;
    let version = (
        0usize..3,
        prop::option::of((0usize..6_000, any::<u8>()).prop_map(|(len, byte)| vec![byte; len])),
    );
    let transaction = prop::collection::vec(version, 0..3);
    prop::collection::vec(prop::collection::vec(transaction, 0..24), 1..5).prop_map(|blocks| {
        blocks
            .into_iter()
            .map(|transactions| {
                let mut versions = Versions::new();
                for (position, writes) in transactions.into_iter().enumerate() {
                    let mut seen = std::collections::BTreeSet::new();
                    for (key, value) in writes {
                        // One version per key and transaction, as the executor records.
                        if seen.insert(key) {
                            versions.push((position as u32, key, value));
                        }
                    }
                }
                versions
            })
            .collect()
    })
}

/// A block of no transactions on `store`'s head that records `versions` and leaves each key at
/// its last one, its state root from the store's commitment.
fn block_of(store: &vellum_ledger::Store, keys: &[Vec<u8>], versions: &Versions) -> ExecutedBlock {
    let head = store.head().unwrap();
    let height = head.height + 1;
    let last: std::collections::BTreeMap<_, _> = versions
        .iter()
        .map(|(_, key, value)| (keys[*key].clone(), value.clone()))
        .collect();
    let writes: Vec<_> = last.into_iter().collect();
    let state_root = store
        .commitment()
        .root_after(&head.state_root, &[], height, &writes)
        .unwrap();
    ExecutedBlock {
        block: vellum_types::Block {
            header: vellum_types::Header {
                height,
                parent: head.hash(),
                time_ms: head.time_ms + 1_000,
                proposer: [0; 32],
                transactions_root: vellum_types::merkle_root(std::iter::empty()),
                receipts_root: vellum_types::merkle_root(std::iter::empty()),
                state_root,
                fuel_used: 0,
                schedule_version: head.schedule_version,
            },
            transactions: Vec::new(),
        },
        receipts: Vec::new(),
        versions: versions
            .iter()
            .map(|(position, key, value)| (*position, keys[*key].clone(), value.clone()))
            .collect(),
        writes,
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// History rows hold a block's versions of a key (several rows where they pass
    /// `HISTORY_ROW_BYTES`), and every read of a key's history (either order, from every cursor,
    /// over height ranges, with limits) returns what a list of every version, one by one, gives.
    #[test]
    fn history_reads_as_every_version_in_order(blocks in blocks()) {
        let dir = tempfile::tempdir().unwrap();
        let store =
            vellum_ledger::Store::open(&dir.path().join("ledger.redb"), &genesis(DeployPolicy::AnyAdmin))
                .unwrap();
        let namespace = [7; 32];
        let keys: Vec<Vec<u8>> = (0..4u8).map(|k| keys::full_key(&namespace, &[k])).collect();
        // Every version: (key index, height, position, value), in (height, position) order.
        let mut model = Vec::new();
        for versions in &blocks {
            let executed = block_of(&store, &keys, versions);
            let height = executed.block.header.height;
            store.commit(&executed).unwrap();
            model.extend(versions.iter().map(|(p, k, v)| (*k, height, *p, v.clone())));
        }
        let head = store.head().unwrap().height;
        let mut cursors = vec![None, Some((0, 0)), Some((u64::MAX, u32::MAX))];
        for (_, height, position, _) in &model {
            cursors.extend([Some((*height, *position)), Some((*height, position + 1))]);
        }
        for key in 0..keys.len() {
            let all: Vec<_> = model.iter().filter(|v| v.0 == key).collect();
            for (order, cursor, heights, limit) in reads(&cursors, head) {
                let read = store
                    .history_in(&namespace, &[key as u8], heights.clone(), cursor, limit, order)
                    .unwrap();
                let read: Vec<_> = read.into_iter().map(|v| (v.height, v.position, v.value)).collect();
                let mut expected: Vec<_> = all
                    .iter()
                    .filter(|v| heights.contains(&v.1))
                    .filter(|v| match (order, cursor) {
                        (Order::Ascending, Some(c)) => (v.1, v.2) > c,
                        (Order::Descending, Some(c)) => (v.1, v.2) < c,
                        (_, None) => true,
                    })
                    .map(|v| (v.1, v.2, v.3.clone()))
                    .collect();
                if order == Order::Descending {
                    expected.reverse();
                }
                expected.truncate(limit);
                proptest::prop_assert_eq!(read, expected, "key {} {:?} from {:?} in {:?}, {}", key, order, cursor, heights, limit);
            }
        }
    }
}

/// A history read: order, cursor, height range, limit.
type Read = (
    Order,
    Option<(u64, u32)>,
    std::ops::RangeInclusive<u64>,
    usize,
);

/// Every read a key's history is tried with.
fn reads(cursors: &[Option<(u64, u32)>], head: u64) -> Vec<Read> {
    // The last range is empty (its start is past its end).
    #[allow(clippy::reversed_empty_ranges)]
    let ranges = [0..=u64::MAX, 2..=head, head..=head, 3..=2];
    let mut all = Vec::new();
    for order in [Order::Ascending, Order::Descending] {
        for cursor in cursors {
            for heights in &ranges {
                for limit in [1, 3, 1_000] {
                    all.push((order, *cursor, heights.clone(), limit));
                }
            }
        }
    }
    all
}

/// A store that keeps the history of its newest three blocks: older versions go as blocks
/// commit, but each key's newest version before the horizon stays, so its value at every
/// retained height (which proofs read) is still there; the horizon is reported; and past state
/// stays bounded by its own retention though the pruning keeps undo records longer.
#[test]
fn history_is_pruned_to_its_retention_and_keeps_each_keys_value() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let points = points_with_issuer(&node);
    node.store.retain_history(3);
    let often = SdkAddress(address(1));
    let once = SdkAddress(address(2));
    let mint = |nonce, to: &SdkAddress, amount: u64| {
        call(
            1,
            nonce,
            points,
            "mint",
            json!({"issuer": "air", "to": to, "amount": amount}),
        )
    };
    let mut heights = Vec::new();
    for i in 0..7u64 {
        let mut block = vec![mint(2 + 2 * i, &often, 1)];
        // The second account's balance is written once, in the first of these blocks.
        let filler = if i == 0 { &once } else { &often };
        block.push(mint(3 + 2 * i, filler, if i == 0 { 5 } else { 1 }));
        let executed = node.block(block);
        assert!(executed
            .receipts
            .iter()
            .all(|r| r.status == Status::Success));
        heights.push(executed.block.header.height);
        // Set once the pruning is under way: it must not take the undo records it still needs.
        if i == 0 {
            node.store.retain_state(1).unwrap();
        }
    }
    let head = heights[6];
    assert_eq!(node.store.history_pruned_below().unwrap(), head - 2);

    // Find the two balance keys by their values now.
    let stored = |balance: u128| vellum_sdk::storage::encode(&balance);
    let state = contract_state(&node, &points);
    let key_holding = |value: Vec<u8>| {
        state
            .iter()
            .find(|(_, v)| *v == value)
            .map(|(k, _)| k.clone())
            .expect("a key with that value")
    };
    let often_key = key_holding(stored(13));
    let once_key = key_holding(stored(5));

    // The often-written balance keeps its versions from the horizon on, and the newest before.
    let versions = node
        .store
        .history(&points, &often_key, None, 100, Order::Ascending)
        .unwrap();
    let kept: Vec<u64> = versions.iter().map(|v| v.height).collect();
    assert_eq!(
        kept,
        [
            heights[3], heights[3], heights[4], heights[4], heights[5], heights[5], heights[6],
            heights[6]
        ]
    );
    // The balance written once keeps that version: it is still the value.
    let versions = node
        .store
        .history(&points, &once_key, None, 100, Order::Ascending)
        .unwrap();
    assert_eq!(
        versions.iter().map(|v| v.height).collect::<Vec<_>>(),
        [heights[0]]
    );
    assert_eq!(
        node.store.get_at(&points, &once_key, head).unwrap(),
        Some(stored(5))
    );
    assert_eq!(
        node.store.get_at(&points, &often_key, head - 2).unwrap(),
        Some(stored(9))
    );
    let (_, proved) = node.store.state_proof(&points, &once_key).unwrap();
    assert_eq!(proved, Some(stored(5)));
    // The signer's nonce, written by every block since the deploy, is pruned as far back as
    // the deploy's block.
    let nonce = keys::nonce_key(&address(1));
    let versions = node
        .store
        .history(&SYSTEM, &nonce[32..], None, 100, Order::Ascending)
        .unwrap();
    assert_eq!(versions.first().map(|v| v.height), Some(heights[3]));

    // Past state: one block back, as `retain_state(1)` says, and no further.
    node.store.past(head - 1).expect("one block back");
    assert!(matches!(
        node.store.past(head - 2),
        Err(vellum_ledger::StoreError::NotRetained { .. })
    ));
}

/// A history retention set on a store whose older undo records are gone (a state retention
/// ran before it) prunes from the blocks it can read on, a bounded amount per commit: versions
/// written by the blocks without records stay, instead of every key's whole past being swept in
/// one commit.
#[test]
fn a_history_retention_set_late_prunes_only_what_undo_records_name() {
    let node = Node::new(genesis(DeployPolicy::AnyAdmin));
    let points = points_with_issuer(&node);
    node.store.retain_state(1).unwrap();
    let operator = SdkAddress(address(1));
    let mut heights = Vec::new();
    let mut mint = |nonce| {
        let executed = node.block(vec![call(
            1,
            nonce,
            points,
            "mint",
            json!({"issuer": "air", "to": operator, "amount": 1}),
        )]);
        heights.push(executed.block.header.height);
    };
    for nonce in 2..7 {
        mint(nonce);
    }
    node.store.retain_history(2);
    for nonce in 7..11 {
        mint(nonce);
    }
    let nonce = keys::nonce_key(&address(1));
    let kept: Vec<u64> = node
        .store
        .history(&SYSTEM, &nonce[32..], None, 100, Order::Ascending)
        .unwrap()
        .iter()
        .map(|v| v.height)
        .collect();
    // Blocks 0-2 of the mints had lost their undo records: their versions stay. From block 3
    // on the records were kept for the pruning, which leaves the retained two and the newest
    // before them.
    for h in &heights[..3] {
        assert!(kept.contains(h), "{h} in {kept:?}");
    }
    assert_eq!(kept[kept.len() - 3..], heights[6..]);
    for h in &heights[3..6] {
        assert!(!kept.contains(h), "{h} in {kept:?}");
    }
    assert_eq!(node.store.history_pruned_below().unwrap(), heights[8] - 1);
}

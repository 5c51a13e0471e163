//! The history index: every version of a key, and state at a past height.

use super::*;

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

//! The fuel tables in the contract READMEs are what a user sees in receipts: each bundled contract
//! is deployed again on a real `vellum devnet` (its `instantiate` row), and called as its
//! scenario (`contracts/*/tests`) calls it, with the same arguments, on the same fresh state.
//! The receipts' `fuel_used` must be the README's receipt figures.

use super::{devnet::Devnet, free_ports, one_network_at_a_time};
use serde_json::{json, Value};
use std::{collections::BTreeMap, path::Path};
use vellum_client::{Client, Signer};
use vellum_types::hex;

/// The README's rows: each entry point's lowest and highest receipt fuel, and how many calls
/// were measured.
type Rows = BTreeMap<String, (u64, u64, usize)>;

/// The receipt columns of the fuel table in `contracts/NAME/README.md`.
fn readme_rows(name: &str) -> Rows {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../contracts/{name}/README.md"));
    let readme = std::fs::read_to_string(&path).expect("the contract's README");
    let table = readme
        .split("<!-- fuel:begin -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- fuel:end -->").next())
        .expect("the README has a fuel table");
    table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            // ["", entry, contract min, contract max, receipt min, receipt max, calls, ""]
            let entry = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let min = cells.get(4)?.parse().ok()?;
            let max = cells.get(5)?.parse().ok()?;
            let calls = cells.get(6)?.parse().ok()?;
            Some((entry.to_string(), (min, max, calls)))
        })
        .collect()
}

fn artifact(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../contracts/artifacts/{name}.wasm"));
    std::fs::read(path).expect("the committed artifact")
}

fn address(text: &str) -> [u8; 32] {
    vellum_types::unhex32(text).expect("an address")
}

/// `fuel_used` of a successful receipt.
fn fuel_of(receipt: &Value) -> u64 {
    assert_eq!(receipt["status"], "success", "{receipt}");
    receipt["fuel_used"].as_u64().expect("fuel_used")
}

/// Assert that `receipt`'s fuel is the README's figure for `entry` of contract `name`: the lowest
/// or the highest (a row measured once has one figure).
fn assert_in_readme(name: &str, entry: &str, receipt: &Value) {
    let rows = readme_rows(name);
    let (min, max, _) = *rows
        .get(entry)
        .unwrap_or_else(|| panic!("{name}'s README has no receipt fuel for {entry}: {rows:?}"));
    let fuel = fuel_of(receipt);
    assert!(
        fuel == min || fuel == max,
        "{name} {entry}: the devnet's receipt used {fuel} fuel; the README says {min}..{max}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_fuel_tables_match_devnet_receipts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("devnet");
    let _network = one_network_at_a_time().await;
    let base = free_ports();
    let (_devnet, _) = Devnet::start(&net, base, base + 5);
    let client = Client::connect(&format!("http://127.0.0.1:{}", base + 5))
        .await
        .expect("connect");
    assert_eq!(
        client.chain_id(),
        vellum_sdk::testing::FUEL_TABLE_CHAIN_ID,
        "the README figures are for the devnet's chain id"
    );
    let mut signer = Signer::load(&net.join("keys/org-1-admin.key"), &client)
        .await
        .expect("signer");

    // Each contract deployed afresh: the deploy's receipt is the `instantiate` row. The escrow
    // gets a `points` of its own, for its story below.
    let mut deployed: BTreeMap<&str, [u8; 32]> = BTreeMap::new();
    for (name, artifact_name) in [
        ("points", "points"),
        ("ballot", "ballot"),
        ("notary", "notary"),
        ("trace", "trace"),
        ("escrowed points", "points"),
        ("escrow", "escrow"),
        ("trade", "trade"),
    ] {
        let init = match name {
            "escrow" => json!({"points": hex(&deployed["escrowed points"])}),
            _ => json!({}),
        };
        let deploy = signer.deploy(artifact(artifact_name), init);
        let receipt = client.submit_and_wait(&deploy).await.expect("deployed");
        let rows = readme_rows(artifact_name);
        assert_eq!(
            Some(&(fuel_of(&receipt), fuel_of(&receipt), 1)),
            rows.get("instantiate"),
            "{name}: the deploy's receipt against the README's instantiate row"
        );
        let contract = receipt["contract"].as_str().expect("the new contract");
        deployed.insert(name, address(contract));
    }

    // Calls as the scenarios make them, with their arguments, in their order, on the same fresh
    // state, by the deployer (the scenario's operator, organiser, admin or exporter): every
    // successful call of `points.register_issuer`, `ballot.create_meeting`, `notary.add_notary`,
    // `trace.register_party` and `trade.open_shipment`, so their receipts must show exactly the README's lowest and
    // highest figures.
    let party = |address: u8, name: &str, role: &str| json!({"address": hex(&[address; 32]), "name": name, "role": role});
    let meeting = |id: &str, title: &str, items: &[&str], quorum_bps: u32, secret: bool| {
        json!({
            "id": id, "title": title, "items": items,
            "voters": [[hex(&[0xf1; 32]), 600], [hex(&[0xf2; 32]), 300], [hex(&[0xf3; 32]), 100]],
            "quorum_bps": quorum_bps, "secret": secret,
        })
    };
    let groups = [
        (
            "points",
            "register_issuer",
            vec![
                json!({"id": "air", "name": "AIR", "admin": hex(&[0xa1; 32])}),
                json!({"id": "bank", "name": "BANK", "admin": hex(&[0xb1; 32])}),
            ],
        ),
        (
            "ballot",
            "create_meeting",
            vec![
                meeting(
                    "agm",
                    "Annual General Meeting 2026",
                    &["Approve the accounts", "Re-elect the chair"],
                    5000,
                    false,
                ),
                meeting(
                    "egm",
                    "Extraordinary General Meeting",
                    &["Approve the merger"],
                    6000,
                    true,
                ),
            ],
        ),
        (
            "notary",
            "add_notary",
            vec![
                json!({"notary": hex(&[0xc1; 32]), "name": "Consul, Lyon"}),
                json!({"notary": hex(&[0xc2; 32]), "name": "Clerk, Lyon"}),
            ],
        ),
        (
            "trace",
            "register_party",
            vec![
                party(0x01, "Finca Sol", "farm"),
                party(0x02, "Finca Luna", "farm"),
                party(0x03, "Packhouse Norte", "packer"),
                party(0x04, "DC 6094", "distributor"),
                party(0x05, "Store 1832", "retailer"),
                party(0x06, "FDA field office", "inspector"),
            ],
        ),
        (
            "trade",
            "open_shipment",
            vec![json!({
                "id": "s1", "goods": "2,000 kg of mangoes",
                "importer": hex(&[0x11; 32]), "exporter_bank": hex(&[0xeb; 32]),
                "importer_bank": hex(&[0x1b; 32]), "carrier": hex(&[0xca; 32]),
                "customs": hex(&[0xc5; 32]),
            })],
        ),
    ];
    for (name, method, calls) in groups {
        let entry = format!("execute.{method}");
        let row = readme_rows(name)[&entry];
        assert_eq!(
            row.2,
            calls.len(),
            "{name} {entry}: the README measured other calls"
        );
        let mut fuels = Vec::new();
        for args in calls {
            let call = signer.call(deployed[name], method, args);
            let receipt = client.submit_and_wait(&call).await.expect("committed");
            fuels.push(fuel_of(&receipt));
        }
        let (min, max) = (fuels.iter().min(), fuels.iter().max());
        assert_eq!(
            (min.copied(), max.copied()),
            (Some(row.0), Some(row.1)),
            "{name} {entry}: the devnet's receipts used {fuels:?}; the README says {}..{}",
            row.0,
            row.1
        );
    }

    // The escrow's first deal, on the state its scenario builds first: an issuer, 1,000 points
    // of the buyer's, 300 of them approved to the escrow. The signer is operator, issuer admin
    // and buyer at once; the deal's `open` calls into `points`, whose fuel it pays.
    let me = hex(&signer.address());
    let points = deployed["escrowed points"];
    let escrow = hex(&deployed["escrow"]);
    for (method, args) in [
        (
            "register_issuer",
            json!({"id": "air", "name": "Air", "admin": me}),
        ),
        ("mint", json!({"issuer": "air", "to": me, "amount": 1000})),
        (
            "approve",
            json!({"issuer": "air", "spender": escrow, "amount": 300}),
        ),
    ] {
        let call = signer.call(points, method, args);
        let receipt = client.submit_and_wait(&call).await.expect("committed");
        fuel_of(&receipt);
    }
    let open = signer.call(
        deployed["escrow"],
        "open",
        json!({"seller": hex(&[0x5e; 32]), "issuer": "air", "amount": 300, "expires_in_ms": 60_000}),
    );
    let receipt = client.submit_and_wait(&open).await.expect("committed");
    assert_in_readme("escrow", "execute.open", &receipt);
}

//! Private data on a devnet of four validators and three organisations (validators 0 and 3 are
//! org-1's, 1 is org-2's, 2 is org-3's): a payload for org-1 and org-2 reaches their nodes and
//! never org-3's, on disk and over JSON-RPC; the chain holds only its salted hash; it survives
//! a restart of the network; a purge by transaction and an expiry remove it everywhere.

use super::{devnet::Devnet, free_ports, one_network_at_a_time};
use jsonrpsee::rpc_params;
use serde_json::Value;
use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};
use vellum_client::{Client, Signer, Trust};
use vellum_types::{hex, private::salted_hash, rpc::code, unhex, unhex32, Action, Change};

/// Whether any file under `dir` (recursively) contains `needle`.
fn on_disk(dir: &Path, needle: &[u8]) -> Option<PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                if bytes.windows(needle.len()).any(|window| window == needle) {
                    return Some(path);
                }
            }
        }
    }
    None
}

/// Each validator's JSON-RPC URL.
fn url(base: u16, validator: u16) -> String {
    format!("http://127.0.0.1:{}", base + 5 + validator)
}

/// A client of `validator` signed in as `organisation`'s admin (anonymous without one).
async fn client(net: &Path, base: u16, validator: u16, organisation: Option<u8>) -> Client {
    let url = url(base, validator);
    match organisation {
        None => Client::connect(&url).await.expect("connect"),
        Some(o) => {
            let key = vellum_client::read_member_key(&net.join(format!("keys/org-{o}-admin.key")))
                .expect("admin key");
            Client::connect_as(&url, Trust::System, &key)
                .await
                .expect("connect as an admin")
        }
    }
}

async fn get(client: &Client, hash: &str) -> Result<Value, vellum_client::Error> {
    client.call("vellum_getPrivate", rpc_params![hash]).await
}

/// Wait up to 30 s for `done` to hold of `hash`'s reading through `client`.
async fn until(
    client: &Client,
    hash: &str,
    what: &str,
    done: impl Fn(&Result<Value, vellum_client::Error>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let read = get(client, hash).await;
        if done(&read) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: still {read:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Put `payload` for org-1 and org-2 through `client`.
async fn put_as(client: &Client, payload: &[u8]) -> Result<Value, vellum_client::Error> {
    client
        .call(
            "vellum_putPrivate",
            rpc_params![["org-1", "org-2"], hex(payload)],
        )
        .await
}

/// Sign `action` as `signer`, submit it through `client` and wait for it to succeed.
async fn commit(client: &Client, signer: &mut Signer, action: Action) {
    let receipt = client
        .submit_and_wait(&signer.sign(action))
        .await
        .expect("committed");
    assert_eq!(vellum_client::receipt_failure(&receipt), None, "{receipt}");
}

fn refused(read: Result<Value, vellum_client::Error>) -> String {
    let error = read.expect_err("refused");
    assert_eq!(error.code(), Some(code::PRIVATE_REFUSED), "{error}");
    error.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_data_reaches_its_collection_only_and_is_purged_everywhere() {
    let _network = one_network_at_a_time().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("net");
    let base = free_ports();
    let args = ["--validators", "4", "--organisations", "3"];
    let devnet = Devnet::start_with(&net, base, base + 5, &args).0;

    // Random bytes, so that finding them on disk means this payload.
    let mut payload = b"bill of lading ".to_vec();
    payload.extend((0..64u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8 ^ (base as u8)));
    let org1 = client(&net, base, 0, Some(1)).await;
    let put = org1
        .call(
            "vellum_putPrivate",
            rpc_params![["org-2", "org-1"], hex(&payload)],
        )
        .await
        .expect("an org-1 admin puts through an org-1 node");
    let hash = put["hash"].as_str().expect("hash").to_string();
    let salt = unhex32(put["salt"].as_str().expect("salt")).expect("32 bytes");
    assert_eq!(hash, hex(&salted_hash(&salt, &payload)));
    assert_eq!(put["organisations"], serde_json::json!(["org-1", "org-2"]));

    // Who may not put: an anonymous caller, a member outside the collection, and anyone
    // through a node outside it.
    let anonymous = client(&net, base, 0, None).await;
    refused(put_as(&anonymous, &payload).await);
    let org3_at_0 = client(&net, base, 0, Some(3)).await;
    assert!(refused(put_as(&org3_at_0, &payload).await).contains("own organisation"));
    let org1_at_2 = client(&net, base, 2, Some(1)).await;
    assert!(refused(put_as(&org1_at_2, &payload).await).contains("not in the collection"));

    // It reaches org-2's node and org-1's other node.
    let org2 = client(&net, base, 1, Some(2)).await;
    let payload_hex = hex(&payload);
    let has_payload = |read: &Result<Value, vellum_client::Error>| {
        read.as_ref()
            .is_ok_and(|record| record["payload"] == payload_hex.as_str())
    };
    until(&org2, &hash, "org-2's node", has_payload).await;
    let org1_at_3 = client(&net, base, 3, Some(1)).await;
    until(&org1_at_3, &hash, "org-1's second node", has_payload).await;
    // Org-3 reads it nowhere: where it is held, it is "not found" for org-3's members as it
    // would be if the node did not hold it; org-3's own node does not hold it.
    let hidden = get(&org3_at_0, &hash).await.expect_err("not for org-3");
    assert_eq!(hidden.code(), Some(code::NOT_FOUND), "{hidden}");
    let org3 = client(&net, base, 2, Some(3)).await;
    let absent = get(&org3, &hash).await.expect_err("not on org-3's node");
    assert_eq!(absent.code(), Some(code::NOT_FOUND), "{absent}");
    refused(get(&client(&net, base, 1, None).await, &hash).await);
    // A token for any node (not bound to org-2's) could have been shown to another
    // organisation's operator: refused for private data, though accepted for the rest.
    let unbound = {
        use jsonrpsee::core::client::ClientT as _;
        let key = vellum_client::read_member_key(&net.join("keys/org-2-admin.key")).expect("key");
        let now = std::time::UNIX_EPOCH.elapsed().expect("clock").as_millis() as u64;
        let token =
            vellum_types::caller::CallerToken::new(&key, "vellum-local", now + 60_000, None);
        let mut headers = jsonrpsee::http_client::HeaderMap::new();
        let value = format!("Vellum {}", token.encode());
        headers.insert("authorization", value.parse().expect("a header"));
        let client = jsonrpsee::http_client::HttpClientBuilder::default()
            .set_headers(headers)
            .build(url(base, 1))
            .expect("client");
        let refused = client
            .request::<Value, _>("vellum_getPrivate", rpc_params![&hash])
            .await
            .expect_err("refused");
        let jsonrpsee::core::ClientError::Call(error) = refused else {
            panic!("{refused}")
        };
        assert_eq!(error.code(), code::PRIVATE_REFUSED);
        error
            .data()
            .map(|data| data.get().to_string())
            .unwrap_or_default()
    };
    assert!(
        unbound.contains("bound to this node's organisation"),
        "{unbound}"
    );

    // On disk: in the side stores of org-1's and org-2's nodes, nowhere on org-3's node, and in
    // no node's ledger or consensus journals (the chain carries only hashes).
    for validator in [0, 1, 3] {
        let found = on_disk(&net.join(format!("validator-{validator}")), &payload);
        assert!(
            found
                .as_ref()
                .is_some_and(|path| path.to_string_lossy().contains("/private/")),
            "validator {validator}: {found:?}"
        );
    }
    assert_eq!(on_disk(&net.join("validator-2"), &payload), None);

    // A network restart (every node killed): org-2's node still serves it.
    drop(devnet);
    let devnet = Devnet::start_with(&net, base, base + 5, &args).0;
    let org2 = client(&net, base, 1, Some(2)).await;
    until(&org2, &hash, "org-2's node after a restart", has_payload).await;

    // A purge by a member outside the collection changes nothing; by one inside, it deletes the
    // payload everywhere, and the chain keeps the hash (in the transaction).
    let purge = |organisation: u8, validator: u16| {
        let net = net.clone();
        let hash = unhex32(&hash).expect("hash");
        async move {
            let client = client(&net, base, validator, None).await;
            let key = net.join(format!("keys/org-{organisation}-admin.key"));
            let mut signer = Signer::load(&key, &client).await.expect("signer");
            let receipt = client
                .submit_and_wait(&signer.sign(Action::PurgePrivate { hash }))
                .await
                .expect("committed");
            assert_eq!(receipt["status"], "success", "{receipt}");
        }
    };
    purge(3, 2).await;
    // The holders apply purges within a second of the commit (private::RETRY).
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(has_payload(&get(&org2, &hash).await));
    purge(2, 1).await;
    let gone = |read: &Result<Value, vellum_client::Error>| {
        read.as_ref()
            .is_err_and(|e| e.code() == Some(code::NOT_FOUND))
    };
    until(&org2, &hash, "org-2's node after the purge", gone).await;
    until(
        &client(&net, base, 0, Some(1)).await,
        &hash,
        "org-1's node after the purge",
        gone,
    )
    .await;
    until(
        &client(&net, base, 3, Some(1)).await,
        &hash,
        "org-1's second node after the purge",
        gone,
    )
    .await;
    for validator in 0..4 {
        assert_eq!(
            on_disk(&net.join(format!("validator-{validator}")), &payload),
            None,
            "validator {validator} still holds the payload"
        );
    }
    let hash_bytes = unhex(&hash).expect("hex");
    assert!(
        on_disk(&net.join("validator-1"), &hash_bytes).is_some(),
        "the chain keeps the hash"
    );

    // An expiry: gone from every holder once the chain passes its height.
    let org1 = client(&net, base, 0, Some(1)).await;
    let short = org1
        .call(
            "vellum_putPrivate",
            rpc_params![["org-1", "org-2"], hex(b"short-lived"), 3],
        )
        .await
        .expect("put");
    let short_hash = short["hash"].as_str().expect("hash").to_string();
    assert!(short["expires_at"].as_u64().is_some(), "{short}");
    until(
        &org2,
        &short_hash,
        "the short-lived payload on org-2's node",
        |read| read.is_ok(),
    )
    .await;
    until(&org2, &short_hash, "org-2's node after the expiry", gone).await;
    until(&org1, &short_hash, "org-1's node after the expiry", gone).await;

    // A collection may name an organisation that joined by proposal (before, only those of
    // the genesis file), and not one that has left (before, a genesis organisation that had
    // left was still accepted).
    let mut admins = Vec::new();
    for o in 1..=3 {
        let key = net.join(format!("keys/org-{o}-admin.key"));
        admins.push(Signer::load(&key, &org1).await.expect("admin key"));
    }
    let harbour = k256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("a key");
    let join = Action::Propose {
        change: Change::AddOrganisation {
            name: "harbour".into(),
            admins: vec![vellum_types::public_key(&harbour)],
        },
    };
    let leave = Action::Propose {
        change: Change::RemoveOrganisation {
            name: "harbour".into(),
            successor: "org-1".into(),
        },
    };
    let put_for_harbour = || async {
        org1.call(
            "vellum_putPrivate",
            rpc_params![["org-1", "harbour"], hex(b"manifest")],
        )
        .await
    };
    let unknown = put_for_harbour()
        .await
        .expect_err("harbour is no organisation yet");
    assert_eq!(unknown.code(), Some(code::INVALID_PARAMS), "{unknown}");
    // Two of three let harbour in; the other three put it out.
    let steps = [
        (0, join),
        (1, Action::Approve { proposal: 1 }),
        (0, leave),
        (1, Action::Approve { proposal: 2 }),
        (2, Action::Approve { proposal: 2 }),
    ];
    let mut steps = steps.into_iter();
    for (admin, action) in steps.by_ref().take(2) {
        commit(&org1, &mut admins[admin], action).await;
    }
    let put = put_for_harbour().await.expect("harbour joined");
    assert_eq!(
        put["organisations"],
        serde_json::json!(["harbour", "org-1"])
    );
    for (admin, action) in steps {
        commit(&org1, &mut admins[admin], action).await;
    }
    let left = put_for_harbour().await.expect_err("harbour left");
    assert!(left.to_string().contains("one that left is not"), "{left}");
    drop(devnet);
}

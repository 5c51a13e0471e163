//! The explorer every node serves at `/`, in a real browser: headless Chromium driven through
//! WebDriver (Debian's `chromium` and `chromium-driver`) against `vellum devnet` after the demo,
//! with a lot handed over ten times and three documents (anchored, revoked, unknown). Each page
//! must load with no console message, show what JSON-RPC returns, and the overview must follow
//! new blocks live. A screenshot of each page is saved under `target/tmp/explorer/`.

use super::{devnet::Devnet, free_ports, one_network_at_a_time};
use fantoccini::{wd::WebDriverCompatibleCommand, Client as Browser, ClientBuilder, Locator};
use jsonrpsee::rpc_params;
use serde_json::{json, Value};
use sha3::Digest as _;
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};
use vellum_client::{parse_address, Client, Signer};
use vellum_types::hex;

/// The WebDriver server and the browser's profile directory; dropping it stops both the server
/// and every browser process it started (they outlive a killed chromedriver otherwise, as when
/// a test fails before it closes its session).
struct Chromedriver {
    server: Child,
    profile: tempfile::TempDir,
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = Command::new("pkill")
            .arg("-KILL")
            .arg("-f")
            .arg(self.profile.path())
            .status();
    }
}

/// Start `chromedriver` on `port` and open a headless Chromium session through it.
async fn browser(port: u16) -> (Chromedriver, Browser) {
    let profile = tempfile::tempdir().expect("a profile directory");
    let server = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver runs the browser tests: apt-get install -y chromium chromium-driver");
    let user_data = format!("--user-data-dir={}", profile.path().display());
    let driver = Chromedriver { server, profile };
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", user_data],
        },
        "goog:loggingPrefs": {"browser": "ALL"},
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!("an object")
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    for _ in 0..100 {
        match ClientBuilder::new(connector.clone())
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(browser) => return (driver, browser),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("no WebDriver session within 10 s");
}

/// Chromedriver's browser log since the last read (`POST /session/{id}/se/log`).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

/// The explorer of one node, in one browser.
struct Explorer {
    browser: Browser,
    base: String,
    shots: PathBuf,
}

impl Explorer {
    /// Open `route` (`#/…`) afresh and wait until the page `kind` has drawn its data; save a
    /// screenshot as `name`.png; the browser logged nothing on the way.
    async fn open(&self, route: &str, kind: &str, name: &str) {
        self.browser.goto("about:blank").await.expect("blank");
        self.log().await;
        self.browser
            .goto(&format!("{}/#{route}", self.base))
            .await
            .expect("navigate");
        self.ready(kind, route).await;
        self.shot(name).await;
        let log = self.log().await;
        assert!(log.is_empty(), "{route}: the browser logged {log:#?}");
    }

    /// Wait until the page `kind` says it has drawn its data.
    async fn ready(&self, kind: &str, what: &str) {
        let ready = format!("main#page[data-page=\"{kind}\"][data-ready=\"1\"]");
        if let Err(e) = self
            .browser
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(&ready))
            .await
        {
            let error = self.text("#error").await;
            let log = self.log().await;
            panic!(
                "{what}: the page `{kind}` did not draw ({e}); #error: {error:?}; log: {log:#?}"
            );
        }
    }

    async fn shot(&self, name: &str) {
        let png = self.browser.screenshot().await.expect("screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("save screenshot");
    }

    /// What the browser logged since the last read.
    async fn log(&self) -> Vec<Value> {
        match self
            .browser
            .issue_cmd(BrowserLog)
            .await
            .expect("browser log")
        {
            Value::Array(entries) => entries,
            other => panic!("a log is an array, not {other}"),
        }
    }

    async fn all(&self, css: &str) -> Vec<fantoccini::elements::Element> {
        self.browser.find_all(Locator::Css(css)).await.expect(css)
    }

    async fn count(&self, css: &str) -> usize {
        self.all(css).await.len()
    }

    /// The text of the first element matching `css`, if there is one.
    async fn text(&self, css: &str) -> Option<String> {
        let element = self.browser.find(Locator::Css(css)).await.ok()?;
        element.text().await.ok()
    }

    /// The text and title of `css`, which must exist.
    async fn shown(&self, css: &str) -> String {
        let element = self.browser.find(Locator::Css(css)).await.expect(css);
        let text = element.text().await.expect("text");
        let title = element
            .attr("title")
            .await
            .expect("title")
            .unwrap_or_default();
        format!("{text} {title}")
    }

    /// The raw value `css` shows (its `data-value`), which must exist.
    async fn value(&self, css: &str) -> String {
        let element = self.browser.find(Locator::Css(css)).await.expect(css);
        element
            .attr("data-value")
            .await
            .expect("data-value")
            .unwrap_or_else(|| panic!("{css} has no data-value"))
    }

    /// Wait up to 20 s for `check` to hold of the text of `css`.
    async fn until(&self, css: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
        let mut seen = None;
        for _ in 0..200 {
            seen = self.text(css).await;
            if seen.as_deref().is_some_and(&check) {
                return seen.unwrap_or_default();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{what}: {css} shows {seen:?}");
    }
}

/// The digits of `text`, as a number (thousands separators and units dropped).
fn number(text: &str) -> u64 {
    text.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_else(|_| panic!("no number in {text:?}"))
}

/// Submit `transaction` and wait for its receipt, which must be a success.
async fn commit(
    client: &Client,
    transaction: vellum_types::SignedTransaction,
    what: &str,
) -> Value {
    let receipt = client.submit_and_wait(&transaction).await.expect(what);
    assert_eq!(receipt["status"], "success", "{what}: {receipt}");
    receipt
}

/// The first event of `contract` whose data `pick` accepts, among its first thousand.
async fn event(client: &Client, contract: &str, pick: impl Fn(&Value) -> bool) -> Value {
    let events = client
        .call(
            "vellum_getEvents",
            rpc_params![json!({"contract": contract, "limit": 1000})],
        )
        .await
        .expect("events");
    events["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| pick(&e["data"]))
        .cloned()
        .unwrap_or_else(|| panic!("no such event of {contract}: {events}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorer_shows_the_chain_in_a_real_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = dir.path().join("devnet");
    let _network = one_network_at_a_time().await;
    let base = free_ports();
    let (_devnet, _) = Devnet::start(&net, base, base + 5);
    let url = format!("http://127.0.0.1:{}", base + 5);
    let client = Client::connect(&url).await.expect("connect");
    vellum::demo::run(&client, &net)
        .await
        .expect("the demo runs");
    let contracts = vellum::devnet::contracts(&net).expect("contracts.json");
    let name = |n: &str| contracts[n].clone();
    let (notary, trace, ballot, points) = (
        name("notary"),
        name("trace"),
        name("ballot"),
        name("points"),
    );
    let mut farm = Signer::load(&net.join("keys/org-1-admin.key"), &client)
        .await
        .expect("signer");
    let mut carrier = Signer::load(&net.join("keys/org-2-admin.key"), &client)
        .await
        .expect("signer");

    // A lot handed over ten times, between a farm and a distributor.
    let trace_address = parse_address(&trace).expect("address");
    for (signer, party, role) in [
        (farm.address(), "Finca Sol", "farm"),
        (carrier.address(), "Ruta Fría", "distributor"),
    ] {
        let register = farm.call(
            trace_address,
            "register_party",
            json!({"address": hex(&signer), "name": party, "role": role}),
        );
        commit(&client, register, "register a party").await;
    }
    let lot = "LOT-TEN-HOPS";
    let create = farm.call(
        trace_address,
        "create_lot",
        json!({"id": lot, "product": "Kent mangoes", "quantity": 400, "unit": "kg"}),
    );
    commit(&client, create, "create the lot").await;
    for hop in 0..10 {
        let (from, to) = if hop % 2 == 0 {
            (&mut farm, carrier.address())
        } else {
            (&mut carrier, farm.address())
        };
        let handover = from.call(
            trace_address,
            "handover",
            json!({"lot": lot, "to": hex(&to)}),
        );
        commit(&client, handover, "hand the lot over").await;
    }

    // Three documents: anchored, revoked, never seen.
    let notary_address = parse_address(&notary).expect("address");
    let add = farm.call(
        notary_address,
        "add_notary",
        json!({"notary": hex(&farm.address()), "name": "Notaría Central"}),
    );
    commit(&client, add, "add a notary").await;
    let files = dir.path().join("documents");
    std::fs::create_dir_all(&files).expect("mkdir");
    let document = |name: &str, text: &str| {
        let path = files.join(name);
        std::fs::write(&path, text).expect("write");
        (path, hex(&sha3::Sha3_256::digest(text.as_bytes())))
    };
    let (anchored, anchored_hash) = document("deed.txt", "the deed to the mill, 1887");
    let (revoked, revoked_hash) = document("permit.txt", "a permit that was forged");
    let (unknown, _) = document("letter.txt", "a letter nobody notarized");
    let mut anchor_receipt = Value::Null;
    for hash in [&anchored_hash, &revoked_hash] {
        let anchor = farm.call(
            notary_address,
            "anchor",
            json!({"hash": hash, "doc_type": "deed", "issuer": "Land Registry"}),
        );
        anchor_receipt = commit(&client, anchor, "anchor").await;
    }
    let revoke = farm.call(
        notary_address,
        "revoke",
        json!({"hash": revoked_hash, "reason": "forged"}),
    );
    commit(&client, revoke, "revoke").await;

    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("explorer");
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    let (_driver, browser) = browser(free_ports()).await;
    let explorer = Explorer {
        browser,
        base: url.clone(),
        shots,
    };

    // Overview: the head, the four validators, and the next blocks as they come.
    explorer.open("/", "overview", "overview").await;
    let head = number(&explorer.text("#height").await.expect("#height"));
    let status = client.status().await.expect("status");
    assert!(head <= status["height"].as_u64().expect("height"));
    assert_eq!(explorer.count("tr[data-validator]").await, 4);
    assert!(explorer.count("#chart").await == 1, "no chart");
    explorer
        .until("#height", "the overview follows new blocks", |h| {
            h.chars().any(|c| c.is_ascii_digit()) && number(h) >= head + 3
        })
        .await;
    assert!(explorer.count("#latest-blocks tr[data-height]").await > 0);

    // Blocks, one block, one transaction with its receipt.
    explorer.open("/blocks", "blocks", "blocks").await;
    assert!(explorer.count("tr[data-height]").await > 0);
    let height = anchor_receipt["height"].as_u64().expect("height");
    let block = client
        .call("vellum_getBlockByNumber", rpc_params![height])
        .await
        .expect("block");
    explorer
        .open(&format!("/block/{height}"), "block", "block")
        .await;
    let hash = block["hash"].as_str().expect("hash");
    assert_eq!(explorer.value("[data-field=\"hash\"]").await, hash);
    let transaction = anchor_receipt["transaction"].as_str().expect("hash");
    assert_eq!(
        explorer
            .count(&format!("tr[data-tx=\"{transaction}\"]"))
            .await,
        1
    );
    explorer
        .open(&format!("/tx/{transaction}"), "transaction", "transaction")
        .await;
    assert_eq!(explorer.value("[data-field=\"status\"]").await, "success");
    assert!(explorer
        .shown("[data-field=\"status\"]")
        .await
        .contains("success"));
    assert_eq!(
        number(&explorer.value("[data-field=\"fuel_used\"]").await),
        anchor_receipt["fuel_used"].as_u64().expect("fuel")
    );
    assert!(explorer
        .shown("[data-field=\"args\"]")
        .await
        .contains(&revoked_hash));
    assert_eq!(
        explorer.count("[data-event]").await,
        anchor_receipt["events"].as_array().expect("events").len()
    );

    // Contracts, one contract's interface, and a query run from its form.
    explorer.open("/contracts", "contracts", "contracts").await;
    let listed = client
        .call("vellum_getContracts", rpc_params![])
        .await
        .expect("contracts");
    assert_eq!(
        explorer.count("tr[data-contract]").await,
        listed["contracts"].as_array().expect("contracts").len()
    );
    explorer
        .open(&format!("/contract/{notary}"), "contract", "contract")
        .await;
    assert_eq!(explorer.count("[data-method=\"verify\"]").await, 1);
    assert_eq!(explorer.count("[data-method=\"anchor\"]").await, 1);
    let form = explorer
        .browser
        .form(Locator::Css("form#query"))
        .await
        .expect("the query form");
    form.set(Locator::Css("select[name=method]"), "verify")
        .await
        .expect("method");
    form.set(
        Locator::Css("textarea[name=args]"),
        &json!({"hash": anchored_hash}).to_string(),
    )
    .await
    .expect("arguments");
    form.submit().await.expect("submit");
    explorer
        .until("#query-result", "the query form", |r| r.contains("valid"))
        .await;
    assert!(explorer.count("#storage tr[data-key]").await > 0);
    explorer.shot("contract-query").await;

    // An account.
    let me = hex(&farm.address());
    let account = client
        .call("vellum_getAccount", rpc_params![&me])
        .await
        .expect("account");
    explorer
        .open(&format!("/account/{me}"), "account", "account")
        .await;
    assert_eq!(
        explorer.value("[data-field=\"organisation\"]").await,
        account["organisation"].as_str().expect("organisation")
    );
    assert!(explorer
        .shown("[data-field=\"organisation\"]")
        .await
        .contains(account["organisation"].as_str().expect("organisation")));
    assert_eq!(
        number(&explorer.value("[data-field=\"nonce\"]").await),
        account["nonce"].as_u64().expect("nonce")
    );
    assert!(explorer.count("tr[data-tx]").await > 0);

    // The use cases: the lot's ten hops, the documents, the meeting, the points.
    explorer.open("/apps", "apps", "apps").await;
    explorer
        .open(&format!("/trace/{trace}/{lot}"), "trace", "trace")
        .await;
    assert_eq!(explorer.count(&format!("g[data-lot=\"{lot}\"]")).await, 1);
    assert_eq!(
        explorer.count("svg#provenance [data-hop]").await,
        10,
        "every hop of the lot is drawn"
    );
    // The demo's lot: handed along the chain, then recalled.
    let mango = event(&client, &trace, |data| {
        data["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("mango-"))
    })
    .await;
    let mango = mango["data"]["id"].as_str().expect("id");
    explorer
        .open(
            &format!("/trace/{trace}/{mango}"),
            "trace",
            "trace-recalled",
        )
        .await;
    assert!(explorer.count("svg#provenance [data-hop]").await > 0);
    assert!(explorer.count("svg#provenance [data-recalled]").await > 0);

    for (file, verdict) in [
        (&anchored, "anchored"),
        (&revoked, "revoked"),
        (&unknown, "unknown"),
    ] {
        explorer
            .open(&format!("/document/{notary}"), "document", "document")
            .await;
        drop_file(&explorer, file).await;
        let shown = explorer
            .browser
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("#verdict[data-verdict]"))
            .await
            .expect("a verdict");
        assert_eq!(
            shown
                .attr("data-verdict")
                .await
                .expect("verdict")
                .as_deref(),
            Some(verdict),
            "{}",
            file.display()
        );
        explorer.shot(&format!("document-{verdict}")).await;
    }
    let log = explorer.log().await;
    assert!(log.is_empty(), "the document page logged {log:#?}");

    let meeting = event(&client, &ballot, |data| {
        data["id"].as_str().is_some_and(|id| id.starts_with("agm-"))
    })
    .await;
    let id = meeting["data"]["id"].as_str().expect("id");
    let tally = client
        .query(
            &parse_address(&ballot).expect("address"),
            "tally",
            json!({"meeting": id}),
        )
        .await
        .expect("tally");
    explorer
        .open(&format!("/meeting/{ballot}/{id}"), "meeting", "meeting")
        .await;
    assert_eq!(
        explorer.count("#tally tr[data-item]").await,
        tally["output"].as_array().expect("items").len()
    );

    // The member who swapped: a swap event's data is [member, from, amount, to, received].
    let swap = event(&client, &points, |data| {
        data.as_array().is_some_and(|d| d.len() == 5)
    })
    .await;
    let member = swap["data"][0].as_str().expect("member");
    explorer
        .open(&format!("/points/{points}/{member}"), "points", "points")
        .await;
    // A row per issuer, each with the balance the contract's query gives.
    let rows = explorer.all("#balances tr[data-issuer]").await;
    assert!(rows.len() >= 2, "the swap's two issuers at least");
    for row in rows {
        let issuer = row
            .attr("data-issuer")
            .await
            .expect("attribute")
            .expect("an issuer");
        let balance = client
            .query(
                &parse_address(&points).expect("address"),
                "balance",
                json!({"issuer": issuer, "member": member}),
            )
            .await
            .expect("balance");
        let shown = row
            .find(Locator::Css("td:last-child"))
            .await
            .expect("a balance cell")
            .text()
            .await
            .expect("text");
        assert_eq!(
            number(&shown),
            balance["output"].as_u64().expect("a balance"),
            "{issuer}"
        );
    }
    assert!(explorer.count("#swaps tr").await > 0);

    // Each use case's index: the lots, the meetings, the issuers, the escrow's deals.
    let escrow = name("escrow");
    for (route, kind) in [
        (format!("/trace/{trace}"), "lots"),
        (format!("/meeting/{ballot}"), "meetings"),
        (format!("/points/{points}"), "issuers"),
        (format!("/escrow/{escrow}"), "escrow"),
    ] {
        explorer.open(&route, kind, kind).await;
    }
    explorer
        .open(&format!("/trace/{trace}"), "lots", "lots")
        .await;
    assert_eq!(explorer.count(&format!("tr[data-lot=\"{lot}\"]")).await, 1);

    // Search by height finds the block.
    explorer.open("/", "overview", "overview-again").await;
    let search = explorer
        .browser
        .form(Locator::Css("form#search"))
        .await
        .expect("search");
    search
        .set(Locator::Css("input[name=q]"), &height.to_string())
        .await
        .expect("query");
    search.submit().await.expect("search");
    explorer.ready("block", "search by height").await;
    assert_eq!(explorer.value("[data-field=\"hash\"]").await, hash);

    explorer.browser.close().await.expect("close the browser");
}

/// Give the document page `file` through its file input, as a person picking a file does.
async fn drop_file(explorer: &Explorer, file: &Path) {
    let input = explorer
        .browser
        .find(Locator::Css("input#document-file"))
        .await
        .expect("the file input");
    input
        .send_keys(&file.display().to_string())
        .await
        .expect("choose the file");
}

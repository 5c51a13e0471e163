//! `vellum bench`: a load generator that measures a network end to end through JSON-RPC.
//!
//! It prepares accounts (members with point balances), pre-signs every transaction before the
//! clock starts, submits them open-loop at a target rate (or as fast as the node takes them)
//! from several concurrent connections, and follows committed blocks over a WebSocket
//! subscription. A submission that gets no answer is sent again to the next node, and the
//! subscription moves to the next node if its node goes away, so one node down costs the run
//! nothing but that node's share of the work. Each transaction's latency is submit → committed as seen by the subscriber
//! (which polls its node every 20 ms). It reports throughput, latency percentiles, the blocks
//! finalized per second while it ran, and rejections.
//!
//! [`Attack`]s run beside a load, so a report with one and a report without it, taken in one
//! run, show what the attack costs honest users.

use crate::keys::generate_member_key;
use anyhow::{anyhow, bail, Context as _};
use indicatif::{ProgressBar, ProgressStyle};
use jsonrpsee::core::{
    client::{ClientT as _, Subscription, SubscriptionClientT as _},
    params::BatchRequestBuilder,
};
use jsonrpsee::{http_client::HttpClientBuilder, ws_client::WsClientBuilder};
use serde_json::json;
use std::{
    collections::HashMap,
    path::Path,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use vellum_client::{Client, Signer};
use vellum_types::{hex, public_key, Action, Role, SignedTransaction};

/// What to run.
#[derive(Clone, Debug)]
pub struct Load {
    /// Transactions to submit.
    pub transactions: usize,
    /// Sending accounts (each sends transactions / accounts, in nonce order).
    pub accounts: usize,
    /// Target rate in transactions per second; 0 submits as fast as the node accepts.
    pub rate: u64,
    /// Concurrent submitting connections.
    pub connections: usize,
    /// Transactions per request: 1 sends each alone, more send them as one JSON-RPC batch (at
    /// most 100, the node's bound on calls in a batch).
    pub batch: usize,
    /// `transfer` (point transfers) or `mix` (transfers, notarizations, lots and votes).
    pub mix: Mix,
}

/// The workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mix {
    /// Point transfers between many accounts.
    Transfer,
    /// Round-robin over the four contracts: transfers, notary anchors, trace lots, ballot votes.
    All,
}

/// What was measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// Transactions submitted and accepted.
    pub accepted: usize,
    /// Refused at submission.
    pub rejected: usize,
    /// Seen committed.
    pub committed: usize,
    /// Committed with a failed status (counted in `committed`).
    pub failed: usize,
    /// From the first submission to the last commit.
    pub elapsed: Duration,
    /// Submit → committed latencies, sorted.
    pub latencies: Vec<Duration>,
    /// Blocks committed from the first submission to the last commit.
    pub blocks: u64,
    /// Why the first failed transaction failed.
    pub first_failure: Option<String>,
    /// Accepted transactions that never committed, the first few: each one's sender and
    /// nonce, and where each node has it.
    pub lost: Vec<String>,
}

impl Report {
    /// An error if some accepted transaction never committed: the figures then measure a load
    /// that did not finish.
    pub fn complete(&self) -> anyhow::Result<()> {
        if self.committed < self.accepted {
            bail!(
                "{} of the {} accepted transactions never committed",
                self.accepted - self.committed,
                self.accepted
            );
        }
        Ok(())
    }

    /// Committed transactions per second.
    pub fn throughput(&self) -> f64 {
        self.committed as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Blocks committed per second while the load ran.
    pub fn block_rate(&self) -> f64 {
        self.blocks as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `p`th percentile latency (0..=100).
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((p / 100.0) * (self.latencies.len() - 1) as f64).round() as usize;
        self.latencies[index.min(self.latencies.len() - 1)]
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        writeln!(
            f,
            "committed   {} of {} accepted ({} rejected at submission, {} failed in execution)",
            self.committed, self.accepted, self.rejected, self.failed
        )?;
        writeln!(f, "elapsed     {:.2} s", self.elapsed.as_secs_f64())?;
        writeln!(f, "throughput  {:.0} tx/s", self.throughput())?;
        writeln!(
            f,
            "blocks      {} ({:.2} per second)",
            self.blocks,
            self.block_rate()
        )?;
        write!(
            f,
            "latency     p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms (submit -> committed)",
            ms(self.percentile(50.0)),
            ms(self.percentile(90.0)),
            ms(self.percentile(99.0)),
            ms(self.percentile(100.0))
        )?;
        if let Some(failure) = &self.first_failure {
            write!(f, "\nfirst failure: {failure}")?;
        }
        for lost in &self.lost {
            write!(f, "\nnever committed: {lost}")?;
        }
        Ok(())
    }
}

/// The contracts a load uses, by name.
pub type Contracts = HashMap<String, [u8; 32]>;

/// Run `load` against the nodes at `urls`, with the admin key at `admin` (an organisation
/// admin, as `vellum devnet` writes) and the bundled `contracts`.
pub async fn run(
    urls: &[String],
    admin: &Path,
    contracts: &Contracts,
    load: &Load,
) -> anyhow::Result<Report> {
    if urls.is_empty() || load.accounts == 0 || load.connections == 0 {
        bail!("a load needs at least one node, one account and one connection");
    }
    let per_account = load.transactions.div_ceil(load.accounts);
    if per_account > 1_000 {
        bail!("{per_account} transactions per account exceeds a sender's mempool share; use --accounts {}", load.transactions.div_ceil(1_000));
    }
    let (mut following, client) = connect_any(urls, 0).await?;
    // Names unique to this run, so loads can run again on the same chain.
    let tag = format!(
        "{:x}",
        client.status().await?["time_ms"].as_u64().unwrap_or(0)
    );
    let mut signers = prepare(&client, admin, contracts, load, &tag).await?;

    eprintln!("pre-signing {} transactions", load.transactions);
    let signing = crate::progress::bar(load.transactions as u64, "signed");
    let mut transactions = Vec::with_capacity(load.transactions);
    for round in 0..per_account {
        for (i, signer) in signers.iter_mut().enumerate() {
            if transactions.len() == load.transactions {
                break;
            }
            let kind = if load.mix == Mix::All {
                (round + i) % 4
            } else {
                0
            };
            transactions.push(work(signer, kind, contracts, &tag, round, i)?);
            signing.inc(1);
        }
    }
    signing.finish_and_clear();
    // Each with its hash, computed once: blocks name transactions by it.
    let transactions: Vec<(String, SignedTransaction)> = transactions
        .into_iter()
        .map(|t| (hex(&t.hash()), t))
        .collect();
    let origins: HashMap<String, (String, u64)> = transactions
        .iter()
        .map(|(hash, t)| {
            (
                hash.clone(),
                (hex(&t.transaction.sender), t.transaction.nonce),
            )
        })
        .collect();

    let start_height = client.status().await?["height"].as_u64().unwrap_or(0);
    let (mut _ws, mut blocks) = client.blocks(Some(start_height + 1)).await?;
    let submitted: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let progress = ProgressBar::new(load.transactions as u64);
    progress.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} committed ({per_sec}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );

    let started = Instant::now();
    let queue = Arc::new(Mutex::new(transactions.into_iter().enumerate()));
    let mut senders = Vec::new();
    for connection in 0..load.connections {
        let urls = urls.to_vec();
        let queue = queue.clone();
        let submitted = submitted.clone();
        let rate = load.rate;
        let batch = load.batch.clamp(1, BATCH_MAX);
        senders.push(tokio::spawn(async move {
            let mut sender = Sender::new(urls, connection);
            let (mut accepted, mut rejected) = (0usize, 0usize);
            loop {
                let next: Vec<_> = queue
                    .lock()
                    .map_err(|_| anyhow!("poisoned"))?
                    .by_ref()
                    .take(batch)
                    .collect();
                let Some((index, _)) = next.first() else {
                    break;
                };
                if rate > 0 {
                    // Open loop: transaction i goes at i / rate, whether or not earlier ones
                    // were answered (a batch at its first one's time).
                    let due = started + Duration::from_secs_f64(*index as f64 / rate as f64);
                    tokio::time::sleep_until(due.into()).await;
                }
                let (hashes, transactions): (Vec<String>, Vec<SignedTransaction>) =
                    next.into_iter().map(|(_, pair)| pair).unzip();
                // Counted as sent before the request goes: a block may commit the first of a
                // batch before the node has answered for the last.
                let sent = Instant::now();
                {
                    let mut submitted = submitted.lock().map_err(|_| anyhow!("poisoned"))?;
                    for hash in &hashes {
                        submitted.insert(hash.clone(), sent);
                    }
                }
                let answers = sender.submit_all(&transactions).await;
                let mut submitted = submitted.lock().map_err(|_| anyhow!("poisoned"))?;
                for (hash, taken) in hashes.iter().zip(answers) {
                    if taken {
                        accepted += 1;
                    } else {
                        submitted.remove(hash);
                        rejected += 1;
                    }
                }
            }
            Ok::<_, anyhow::Error>((accepted, rejected))
        }));
    }

    let mut latencies = Vec::new();
    let mut committed = 0;
    let mut failed = 0;
    let mut first_failure = None;
    let mut last_commit = started;
    let mut last_height = start_height;
    let mut idle_since = Instant::now();
    // The highest block the subscription delivered.
    let mut followed = start_height;
    let (mut accepted, mut rejected) = (0, 0);
    let mut sending = Some(futures::future::join_all(senders));
    loop {
        if let Some(all) = sending.as_mut() {
            if let Some(results) = futures::FutureExt::now_or_never(all) {
                for result in results {
                    let (a, r) = result.context("a sender task failed")??;
                    accepted += a;
                    rejected += r;
                }
                sending = None;
            }
        }
        if sending.is_none() && committed >= accepted {
            break;
        }
        // Only commits of this load's transactions count: empty blocks keep coming.
        if sending.is_none() && idle_since.elapsed() > IDLE_MAX {
            progress.println(format!(
                "none of the {} transactions still pending committed for {} s; stopping",
                accepted.saturating_sub(committed),
                IDLE_MAX.as_secs()
            ));
            break;
        }
        let block = match tokio::time::timeout(Duration::from_secs(1), blocks.next()).await {
            Ok(Some(Ok(block))) => block,
            // The node stopped or dropped the subscription: follow another from the next height.
            Ok(Some(Err(_)) | None) => {
                let (index, next) = connect_any(urls, following + 1).await?;
                progress.println(format!(
                    "the block subscription to {} ended; following {} from height {}",
                    urls[following],
                    urls[index],
                    followed + 1
                ));
                following = index;
                (_ws, blocks) = next.blocks(Some(followed + 1)).await?;
                continue;
            }
            Err(_) => continue,
        };
        let seen = Instant::now();
        let height = block["height"].as_u64().unwrap_or(0);
        followed = followed.max(height);
        let hashes: Vec<String> = block["transactions"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|h| h.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let mut ours = 0;
        {
            let mut submitted = submitted.lock().map_err(|_| anyhow!("poisoned"))?;
            for hash in &hashes {
                if let Some(sent) = submitted.remove(hash) {
                    latencies.push(seen.duration_since(sent));
                    ours += 1;
                }
            }
        }
        if ours > 0 {
            idle_since = seen;
            committed += ours;
            last_commit = seen;
            last_height = height;
            progress.set_position(committed as u64);
            progress.set_message(format!("height {height}"));
            if load.mix == Mix::All || committed < 50 {
                let failures = failures(&client, height).await?;
                failed += failures.len();
                first_failure = first_failure.or(failures.into_iter().next());
            }
        }
    }
    progress.finish_and_clear();
    latencies.sort();
    let lost = lost(urls, &submitted, &origins).await;
    Ok(Report {
        accepted,
        rejected,
        committed,
        failed,
        elapsed: last_commit.duration_since(started),
        latencies,
        blocks: last_height.saturating_sub(start_height),
        first_failure,
        lost,
    })
}

/// The first [`LOST_SHOWN`] accepted transactions still in `submitted` (never seen committed):
/// each one's sender and nonce, and what each node says of it.
async fn lost(
    urls: &[String],
    submitted: &Mutex<HashMap<String, Instant>>,
    origins: &HashMap<String, (String, u64)>,
) -> Vec<String> {
    let mut hashes: Vec<String> = match submitted.lock() {
        Ok(submitted) => submitted.keys().cloned().collect(),
        Err(_) => return Vec::new(),
    };
    hashes.sort_by_key(|hash| origins.get(hash).cloned());
    let mut shown = Vec::new();
    for hash in hashes.into_iter().take(LOST_SHOWN) {
        let (sender, nonce) = origins.get(&hash).cloned().unwrap_or_default();
        let mut where_ = Vec::new();
        for url in urls {
            let status = match Client::connect(url).await {
                Ok(client) => match client
                    .call("vellum_getTransaction", jsonrpsee::rpc_params![&hash])
                    .await
                {
                    Ok(found) => found["status"].as_str().unwrap_or("?").to_string(),
                    Err(_) => "absent".to_string(),
                },
                Err(_) => "unreachable".to_string(),
            };
            where_.push(format!("{url} {status}"));
        }
        shown.push(format!(
            "{hash} (sender {sender} nonce {nonce}): {}",
            where_.join(", ")
        ));
    }
    shown
}

/// Lost transactions a report names.
const LOST_SHOWN: usize = 5;

/// How long a load waits, once every transaction is sent, for one of its pending transactions
/// to commit before it stops and reports what did.
const IDLE_MAX: Duration = Duration::from_secs(30);

/// The first node of `urls`, starting at `start` and wrapping around, that answers; with its
/// index.
async fn connect_any(urls: &[String], start: usize) -> anyhow::Result<(usize, Client)> {
    let mut errors = Vec::new();
    for offset in 0..urls.len() {
        let index = (start + offset) % urls.len();
        match Client::connect(&urls[index]).await {
            Ok(client) => return Ok((index, client)),
            Err(e) => errors.push(e.to_string()),
        }
    }
    bail!("no node answers: {}", errors.join("; "))
}

/// One submitting connection. A transaction whose submission gets no answer (the node is down,
/// the connection broke) is sent again to the next node, so that a node going down leaves no
/// nonce gap behind it; a node's refusal is final.
struct Sender {
    urls: Vec<String>,
    /// The node it sends to now, and its client once connected.
    current: usize,
    client: Option<Client>,
}

/// Rounds over every node a transaction is tried for before it counts as rejected.
const SEND_ROUNDS: usize = 3;

/// Most transactions in one request: the node's default bound on calls in a JSON-RPC batch.
pub const BATCH_MAX: usize = 100;

impl Sender {
    /// Submit `transactions`, in one JSON-RPC batch when there are several: whether a node
    /// accepted each. A batch that gets no answer is sent again one
    /// transaction at a time, through [`Sender::submit`]'s failover (a copy that did arrive is
    /// answered "already pending", and counts as accepted).
    async fn submit_all(&mut self, transactions: &[SignedTransaction]) -> Vec<bool> {
        if let [transaction] = transactions {
            return vec![self.submit(transaction, false).await];
        }
        if let Some(client) = self.client.as_ref() {
            if let Ok(answers) = client.submit_batch(transactions).await {
                if answers.len() == transactions.len() {
                    return answers.iter().map(Result::is_ok).collect();
                }
            }
        }
        let mut taken = Vec::with_capacity(transactions.len());
        for transaction in transactions {
            taken.push(self.submit(transaction, true).await);
        }
        taken
    }

    fn new(urls: Vec<String>, first: usize) -> Self {
        let current = first % urls.len();
        Self {
            urls,
            current,
            client: None,
        }
    }

    /// Submit `transaction`: whether a node accepted it (or already held it); not if a node
    /// refused it or none answered. `resent`: an earlier request may have delivered it.
    async fn submit(&mut self, transaction: &SignedTransaction, resent: bool) -> bool {
        for attempt in 0..SEND_ROUNDS * self.urls.len() {
            if attempt > 0 && attempt % self.urls.len() == 0 {
                // Every node was tried: give them a moment (a restart) before the next round.
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            if self.client.is_none() {
                match Client::connect(&self.urls[self.current]).await {
                    Ok(client) => self.client = Some(client),
                    Err(_) => {
                        self.current = (self.current + 1) % self.urls.len();
                        continue;
                    }
                }
            }
            let Some(client) = self.client.as_ref() else {
                return false;
            };
            match client.submit(transaction).await {
                Ok(_) => return true,
                // An earlier attempt reached a node after all (its answer was lost).
                Err(vellum_client::Error::Rpc {
                    data: Some(data), ..
                }) if (resent || attempt > 0) && data.contains("already pending") => {
                    return true;
                }
                Err(vellum_client::Error::Rpc { .. }) => return false,
                Err(_) => {
                    self.client = None;
                    self.current = (self.current + 1) % self.urls.len();
                }
            }
        }
        false
    }
}

/// What went wrong with each failed transaction of block `height`.
async fn failures(client: &Client, height: u64) -> anyhow::Result<Vec<String>> {
    let block = client
        .call(
            "vellum_getBlockByNumber",
            jsonrpsee::rpc_params![height, true],
        )
        .await?;
    Ok(block["transactions"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter(|t| t["receipt"]["status"] != "success")
                .map(|t| {
                    format!(
                        "{} {}: {}",
                        t["transaction"]["action"], t["receipt"]["status"], t["receipt"]["error"]
                    )
                })
                .collect()
        })
        .unwrap_or_default())
}

/// One transaction of kind `kind` for `signer`'s `round`th turn.
fn work(
    signer: &mut Signer,
    kind: usize,
    contracts: &Contracts,
    tag: &str,
    round: usize,
    account: usize,
) -> anyhow::Result<SignedTransaction> {
    let contract = |name: &str| {
        contracts
            .get(name)
            .copied()
            .ok_or_else(|| anyhow!("no {name} contract"))
    };
    Ok(match kind {
        0 => signer.call(contract("points")?, "transfer", json!({"issuer": format!("bench-{tag}"), "to": hex(&[0x11; 32]), "amount": 1})),
        1 => {
            let document = vellum_types::keccak256(format!("{tag}/{account}/{round}").as_bytes());
            signer.call(contract("notary")?, "anchor", json!({"hash": hex(&document), "doc_type": "bench", "issuer": "bench"}))
        }
        2 => signer.call(contract("trace")?, "create_lot", json!({"id": format!("{tag}-{account}-{round}"), "product": "mangoes", "quantity": 10, "unit": "kg"})),
        // An account votes every fourth round: 64 items a meeting, one meeting per 256 rounds.
        _ => signer.call(contract("ballot")?, "vote", json!({"meeting": format!("bench-{tag}-{}", round / 256), "item": (round / 4) % 64, "choice": "for"})),
    })
}

/// Create `load.accounts` members, fund them with points and, for a mix, make them notaries,
/// farms and voters.
async fn prepare(
    client: &Client,
    admin: &Path,
    contracts: &Contracts,
    load: &Load,
    tag: &str,
) -> anyhow::Result<Vec<Signer>> {
    let mut admin = Signer::load(admin, client).await?;
    let me = hex(&admin.address());
    let contract = |name: &str| {
        contracts
            .get(name)
            .copied()
            .ok_or_else(|| anyhow!("no {name} contract"))
    };
    eprintln!("preparing {} accounts", load.accounts);
    let progress = ProgressBar::new(load.accounts as u64);
    let keys: Vec<_> = (0..load.accounts)
        .map(|_| generate_member_key())
        .collect::<anyhow::Result<_>>()?;
    let issuer = format!("bench-{tag}");
    let mut setup = vec![admin.call(
        contract("points")?,
        "register_issuer",
        json!({"id": issuer, "name": "Bench", "admin": me}),
    )];
    if load.mix == Mix::All {
        let voters: Vec<_> = keys
            .iter()
            .map(|k| json!([hex(&vellum_types::address_of(&public_key(k))), 1]))
            .collect();
        let items: Vec<String> = (0..64).map(|i| format!("item {i}")).collect();
        let rounds = load.transactions.div_ceil(load.accounts);
        for meeting in 0..rounds.div_ceil(256) {
            setup.push(admin.call(contract("ballot")?, "create_meeting", json!({"id": format!("{issuer}-{meeting}"), "title": "Bench", "items": items, "voters": voters, "quorum_bps": 1, "secret": false})));
        }
    }
    for key in &keys {
        let address = hex(&vellum_types::address_of(&public_key(key)));
        setup.push(admin.sign(Action::AddMember {
            public_key: public_key(key),
            organisation: "org-1".into(),
            role: Role::Member,
        }));
        setup.push(admin.call(
            contract("points")?,
            "mint",
            json!({"issuer": issuer, "to": address, "amount": 1_000_000}),
        ));
        if load.mix == Mix::All {
            setup.push(admin.call(
                contract("notary")?,
                "add_notary",
                json!({"notary": address, "name": "bench"}),
            ));
            setup.push(admin.call(
                contract("trace")?,
                "register_party",
                json!({"address": address, "name": "bench", "role": "farm"}),
            ));
        }
    }
    // One sender's nonces in order; the last one's receipt means all are in.
    let last = setup.len() - 1;
    for (i, transaction) in setup.iter().enumerate() {
        if i == last {
            let receipt = client.submit_and_wait(transaction).await?;
            if receipt["status"] != "success" {
                bail!("preparing the accounts failed: {receipt}");
            }
        } else {
            client
                .submit(transaction)
                .await
                .context("preparing the accounts")?;
        }
        progress.set_position((i * load.accounts / setup.len()) as u64);
    }
    progress.finish_and_clear();
    let mut signers = Vec::with_capacity(keys.len());
    for key in keys {
        signers.push(Signer::new(key, client).await?);
    }
    Ok(signers)
}

/// A load an attacker puts on a node beside the honest one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    /// `callers` concurrent callers repeating one contract query that spins until its fuel runs
    /// out, all against the first node.
    Queries {
        /// Concurrent callers.
        callers: usize,
    },
    /// `senders` new member keys (the admin adds them, as one hostile admin could), each
    /// sending deploys of 1 MiB of junk with nonces past a gap it never fills, as fast as the
    /// node accepts them, to the first node, which gossips them to all.
    Gaps {
        /// Member keys flooding.
        senders: usize,
    },
    /// `callers` concurrent callers repeating a query for events over the whole chain with a
    /// topic nothing emits, each also holding a subscription to every event from height 0, all
    /// against the first node.
    Events {
        /// Concurrent callers.
        callers: usize,
    },
    /// `callers` concurrent callers repeating batches of the most calls a batch may hold (100),
    /// each asking for a block with its transactions, against the first node.
    Batches {
        /// Concurrent callers.
        callers: usize,
    },
    /// `sockets` TCP connections to the first node (from 127.0.0.2 when it is on loopback) that
    /// never send a request; one in ten sends
    /// half a request header and then a byte every five seconds. A closed one is opened again
    /// 100 ms later.
    Sockets {
        /// Connections held.
        sockets: usize,
    },
}

/// A running attack; dropping it stops it.
pub struct Attacking {
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicU64>,
    refused: Arc<AtomicU64>,
}

impl Attacking {
    /// So far, what the node answered and what it refused: queries (every one runs out of fuel)
    /// and refusals as busy; gapped transactions accepted into the pool and refused; event
    /// queries and subscriptions answered and refused; batches answered and refused; sockets
    /// held and closed by the node.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.answered.load(Ordering::Relaxed),
            self.refused.load(Ordering::Relaxed),
        )
    }
}

impl Drop for Attacking {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A contract whose one query loops until its fuel runs out.
const SPINNER: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "instantiate"))
  (func (export "query.spin") (loop $l (br $l))))"#;

/// Start `attack` against the node at `url`, deploying what it needs with the admin key at
/// `admin`.
pub async fn attack(url: &str, admin: &Path, attack: Attack) -> anyhow::Result<Attacking> {
    let attacking = Attacking {
        stop: Arc::new(AtomicBool::new(false)),
        answered: Arc::new(AtomicU64::new(0)),
        refused: Arc::new(AtomicU64::new(0)),
    };
    match attack {
        Attack::Queries { callers } => spin_queries(url, admin, callers, &attacking).await?,
        Attack::Gaps { senders } => flood_gaps(url, admin, senders, &attacking).await?,
        Attack::Events { callers } => scan_events(url, callers, &attacking).await?,
        Attack::Batches { callers } => send_batches(url, callers, &attacking).await?,
        Attack::Sockets { sockets } => hold_sockets(url, sockets, &attacking)?,
    }
    Ok(attacking)
}

async fn spin_queries(
    url: &str,
    admin: &Path,
    callers: usize,
    attacking: &Attacking,
) -> anyhow::Result<()> {
    let client = Client::connect(url).await?;
    let mut admin = Signer::load(admin, &client).await?;
    let code = wat::parse_str(SPINNER).context("the spinner's text")?;
    let receipt = client
        .submit_and_wait(&admin.deploy(code, json!({})))
        .await
        .context("deploying the spinner")?;
    let spinner = receipt["contract"]
        .as_str()
        .ok_or_else(|| anyhow!("the spinner was not deployed: {receipt}"))?
        .to_string();
    for _ in 0..callers {
        let client = Client::connect(url).await?;
        let (stop, answered, refused) = (
            attacking.stop.clone(),
            attacking.answered.clone(),
            attacking.refused.clone(),
        );
        let spinner = spinner.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let result = client
                    .call(
                        "vellum_query",
                        jsonrpsee::rpc_params![spinner.as_str(), "spin"],
                    )
                    .await;
                match result.err().and_then(|e| e.code()) {
                    Some(vellum_types::rpc::code::BUSY) => refused.fetch_add(1, Ordering::Relaxed),
                    _ => answered.fetch_add(1, Ordering::Relaxed),
                };
            }
        });
    }
    Ok(())
}

/// Junk each gapped deploy carries.
const GAP_JUNK_BYTES: usize = 1 << 20;

async fn flood_gaps(
    url: &str,
    admin: &Path,
    senders: usize,
    attacking: &Attacking,
) -> anyhow::Result<()> {
    let client = Client::connect(url).await?;
    let mut admin = Signer::load(admin, &client).await?;
    let keys = (0..senders)
        .map(|_| generate_member_key())
        .collect::<anyhow::Result<Vec<_>>>()?;
    let added: Vec<SignedTransaction> = keys
        .iter()
        .map(|key| {
            admin.sign(Action::AddMember {
                public_key: public_key(key),
                organisation: "org-1".into(),
                role: Role::Member,
            })
        })
        .collect();
    if let Some((last, rest)) = added.split_last() {
        for transaction in rest {
            client.submit(transaction).await?;
        }
        let receipt = client
            .submit_and_wait(last)
            .await
            .context("adding the attacking members")?;
        if receipt["status"] != "success" {
            bail!("adding the attacking members failed: {receipt}");
        }
    }
    for key in keys {
        let client = Client::connect(url).await?;
        let mut signer = Signer::new(key, &client).await?;
        // The nonce signed here is never sent: every later one waits behind the gap.
        let _gap = signer.sign(Action::ApproveCode { code_hash: [0; 32] });
        let (stop, accepted, refused) = (
            attacking.stop.clone(),
            attacking.answered.clone(),
            attacking.refused.clone(),
        );
        tokio::spawn(async move {
            let mut round = 0u8;
            while !stop.load(Ordering::Relaxed) {
                round = round.wrapping_add(1);
                let junk = signer.deploy(vec![round; GAP_JUNK_BYTES], json!({}));
                if client.submit(&junk).await.is_ok() {
                    accepted.fetch_add(1, Ordering::Relaxed);
                } else {
                    refused.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        });
    }
    Ok(())
}

async fn scan_events(url: &str, callers: usize, attacking: &Attacking) -> anyhow::Result<()> {
    let ws = url.replacen("http", "ws", 1);
    for _ in 0..callers {
        let client = Client::connect(url).await?;
        let (stop, answered, refused) = (
            attacking.stop.clone(),
            attacking.answered.clone(),
            attacking.refused.clone(),
        );
        let ws = ws.clone();
        tokio::spawn(async move {
            let subscription = match WsClientBuilder::default().build(&ws).await {
                Ok(subscriber) => {
                    let subscription: Result<Subscription<serde_json::Value>, _> = subscriber
                        .subscribe(
                            "vellum_subscribeEvents",
                            jsonrpsee::rpc_params![json!({"from_height": 0})],
                            "vellum_unsubscribeEvents",
                        )
                        .await;
                    subscription.ok().map(|s| (subscriber, s))
                }
                Err(_) => None,
            };
            match subscription {
                Some((subscriber, mut subscription)) => {
                    answered.fetch_add(1, Ordering::Relaxed);
                    let stop = stop.clone();
                    tokio::spawn(async move {
                        let _subscriber = subscriber;
                        while !stop.load(Ordering::Relaxed) {
                            if subscription.next().await.is_none() {
                                return;
                            }
                        }
                    });
                }
                None => {
                    refused.fetch_add(1, Ordering::Relaxed);
                }
            }
            let filter = json!({"topic": "nothing-emits-this", "from_height": 0, "limit": 1000});
            while !stop.load(Ordering::Relaxed) {
                let result = client
                    .call("vellum_getEvents", jsonrpsee::rpc_params![filter.clone()])
                    .await;
                match result {
                    Ok(_) => answered.fetch_add(1, Ordering::Relaxed),
                    Err(_) => refused.fetch_add(1, Ordering::Relaxed),
                };
            }
        });
    }
    Ok(())
}

/// Calls in each attacking batch: the most a batch may hold by default.
pub const BATCH_CALLS: usize = 100;

async fn send_batches(url: &str, callers: usize, attacking: &Attacking) -> anyhow::Result<()> {
    for _ in 0..callers {
        let client = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(30))
            .build(url)
            .context("the attacking client")?;
        let (stop, answered, refused) = (
            attacking.stop.clone(),
            attacking.answered.clone(),
            attacking.refused.clone(),
        );
        tokio::spawn(async move {
            let mut height = 1u64;
            while !stop.load(Ordering::Relaxed) {
                let mut batch = BatchRequestBuilder::new();
                for _ in 0..BATCH_CALLS {
                    height = height % 200 + 1;
                    if batch
                        .insert(
                            "vellum_getBlockByNumber",
                            jsonrpsee::rpc_params![height, true],
                        )
                        .is_err()
                    {
                        return;
                    }
                }
                match client.batch_request::<serde_json::Value>(batch).await {
                    Ok(_) => answered.fetch_add(1, Ordering::Relaxed),
                    Err(_) => refused.fetch_add(1, Ordering::Relaxed),
                };
            }
        });
    }
    Ok(())
}

/// A connection to `address`; to a loopback address, from 127.0.0.2, so that the node sees the
/// attacker at another address than the honest load (as it would on a network).
async fn connect_from_elsewhere(address: &str) -> std::io::Result<tokio::net::TcpStream> {
    let target: std::net::SocketAddr = address.parse().map_err(std::io::Error::other)?;
    let socket = tokio::net::TcpSocket::new_v4()?;
    if target.ip().is_loopback() {
        socket.bind(std::net::SocketAddr::from(([127, 0, 0, 2], 0)))?;
    }
    socket.connect(target).await
}

fn hold_sockets(url: &str, sockets: usize, attacking: &Attacking) -> anyhow::Result<()> {
    let address = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    for index in 0..sockets {
        let (stop, held, closed) = (
            attacking.stop.clone(),
            attacking.answered.clone(),
            attacking.refused.clone(),
        );
        let address = address.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut socket) = connect_from_elsewhere(&address).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                held.fetch_add(1, Ordering::Relaxed);
                let slow = index % 10 == 0;
                if slow {
                    let _ = socket
                        .write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-le")
                        .await;
                }
                // Until the node closes it (a read of 0 bytes or an error) or the attack ends.
                let mut buffer = [0u8; 64];
                while !stop.load(Ordering::Relaxed) {
                    let read =
                        tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buffer));
                    match read.await {
                        Ok(Ok(0)) | Ok(Err(_)) => break,
                        Ok(Ok(_)) => {}
                        Err(_) if slow => {
                            if socket.write_all(b"n").await.is_err() {
                                break;
                            }
                        }
                        Err(_) => {}
                    }
                }
                closed.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
    }
    Ok(())
}

//! `vellum bench`: the load generator, against given nodes or a fresh devnet.

use anyhow::Context as _;
use std::path::PathBuf;
use vellum::{
    bench::{Attack, Load, Mix},
    devnet,
    init::Options,
};
use vellum_client::parse_address;

/// Arguments of `vellum bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Nodes to submit to (repeat for several; connections are spread across them, a send that
    /// gets no answer goes to the next node, and blocks are followed on the first node that
    /// answers, then the next if it goes away); omit to start a fresh devnet.
    #[arg(long)]
    rpc: Vec<String>,
    /// With --rpc: the devnet directory holding the admin key and contracts.
    #[arg(long, default_value = "vellum-devnet")]
    dir: PathBuf,
    /// Validators of the devnet to start (without --rpc).
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Transactions to submit.
    #[arg(long, default_value_t = 20_000)]
    transactions: usize,
    /// Sending accounts (each sends transactions / accounts).
    #[arg(long, default_value_t = 100)]
    accounts: usize,
    /// Target rate, transactions per second (open loop); 0 = as fast as possible.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Concurrent submitting connections.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Transactions per request: 1 sends each alone; up to 100 send them as one JSON-RPC batch.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=100))]
    batch: u16,
    /// `transfer`: point transfers; `mix`: transfers, notarizations, lots and votes.
    #[arg(long, default_value = "transfer", value_parser = ["transfer", "mix"])]
    mix: String,
    /// Run the load twice, without and then with an attack beside it, and report both. All
    /// against the first node: `queries` is --attackers callers repeating a query that spins
    /// until its fuel runs out; `gaps` is --attackers member keys (added by the admin) sending
    /// 1 MiB junk deploys with nonces past a gap, as fast as the node accepts them; `events` is
    /// --attackers callers repeating a whole-chain event query that matches nothing, each also
    /// subscribed to every event from height 0; `batches` is --attackers callers repeating
    /// batches of 100 full-block reads; `sockets` is --attackers TCP connections (from
    /// 127.0.0.2 on loopback) that never send a request (one in ten sends half a header, then a
    /// byte every 5 s).
    #[arg(long, value_parser = ["queries", "gaps", "events", "batches", "sockets"])]
    attack: Option<String>,
    /// Attackers (with --attack): callers, member keys or sockets.
    #[arg(long, default_value_t = 8)]
    attackers: usize,
}

/// Run the load and print the report.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let load = Load {
        transactions: args.transactions,
        accounts: args.accounts,
        rate: args.rate,
        connections: args.connections,
        batch: usize::from(args.batch),
        mix: if args.mix == "mix" {
            Mix::All
        } else {
            Mix::Transfer
        },
    };
    let (urls, dir, _devnet, _scratch) = if args.rpc.is_empty() {
        let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
        let options = Options {
            dir: scratch.path().join("devnet"),
            chain_id: "vellum-bench".into(),
            validators: args.validators,
            observers: 0,
            organisations: 1,
            host: "127.0.0.1".parse()?,
            p2p_port: 7300,
            rpc_port: 8300,
            timeouts: Default::default(),
            tls: false,
            read_policy: Default::default(),
        };
        let binary = std::env::current_exe().context("cannot find the vellum binary")?;
        let running = devnet::start(&binary, &options, true).await?;
        (
            running.urls.clone(),
            options.dir.clone(),
            Some(running),
            Some(scratch),
        )
    } else {
        (args.rpc, args.dir, None, None)
    };
    let contracts = devnet::contracts(&dir)?
        .into_iter()
        .map(|(name, address)| Ok((name, parse_address(&address)?)))
        .collect::<anyhow::Result<_>>()?;
    let admin = dir.join("keys/org-1-admin.key");
    let report = vellum::bench::run(&urls, &admin, &contracts, &load).await?;
    println!(
        "{} validator(s), {} transactions, mix {}, rate {}",
        urls.len(),
        args.transactions,
        args.mix,
        if args.rate == 0 {
            "max".to_string()
        } else {
            format!("{}/s", args.rate)
        }
    );
    if args.attack.is_none() {
        println!("{report}");
        return report.complete();
    }
    println!("-- without attack\n{report}");
    let without = report.complete();
    let attack = match args.attack.as_deref() {
        Some("gaps") => Attack::Gaps {
            senders: args.attackers,
        },
        Some("events") => Attack::Events {
            callers: args.attackers,
        },
        Some("batches") => Attack::Batches {
            callers: args.attackers,
        },
        Some("sockets") => Attack::Sockets {
            sockets: args.attackers,
        },
        _ => Attack::Queries {
            callers: args.attackers,
        },
    };
    let attacking = vellum::bench::attack(&urls[0], &admin, attack).await?;
    let report = vellum::bench::run(&urls, &admin, &contracts, &load).await?;
    let (answered, refused) = attacking.counts();
    drop(attacking);
    let what = match attack {
        Attack::Gaps { senders } => format!(
            "{senders} member keys flooding 1 MiB deploys behind a nonce gap into {} ({answered} accepted, {refused} refused)",
            urls[0]
        ),
        Attack::Events { callers } => format!(
            "{callers} callers repeating a whole-chain event query and subscribed to every event, against {} ({answered} answered, {refused} refused)",
            urls[0]
        ),
        Attack::Batches { callers } => format!(
            "{callers} callers repeating batches of {} full-block reads against {} ({answered} answered, {refused} refused)",
            vellum::bench::BATCH_CALLS,
            urls[0]
        ),
        Attack::Sockets { sockets } => format!(
            "{sockets} sockets that never send a request held against {} ({answered} opened, {refused} closed by the node)",
            urls[0]
        ),
        Attack::Queries { callers } => format!(
            "{callers} callers repeating a spinning query against {} ({answered} answered, {refused} refused busy)",
            urls[0]
        ),
    };
    println!("-- with {what}\n{report}");
    without.and(report.complete())
}

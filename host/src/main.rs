//! The `vellum` command: run a network, run a validator, and talk to one.

use anyhow::{anyhow, Context as _};
use clap::{Parser, Subcommand};
use serde_json::{json, Value};
use sha3::Digest as _;
use std::{net::IpAddr, path::PathBuf, time::Instant};
use vellum::{
    client::{self, parse_address, Client, Signer},
    ledger::transaction::{address_of, hex, public_key},
    node::{self, devnet, init},
};

/// Vellum: a permissioned blockchain node running deterministic WebAssembly contracts.
///
/// Start a local network with the use-case contracts deployed:
///
///   vellum devnet
///
/// then, in another terminal, watch the use cases run end to end:
///
///   vellum demo
///
/// Commands that talk to a node take --rpc (default http://127.0.0.1:8100); commands that
/// sign take --key, a file holding a secp256k1 secret key (`vellum keys new` makes one;
/// `vellum init` and `vellum devnet` write an admin key per organisation under keys/).
#[derive(Parser)]
#[command(name = "vellum", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct Rpc {
    /// The node's JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8100", env = "VELLUM_RPC")]
    rpc: String,
}

/// Where a bundled use-case contract is.
#[derive(clap::Args, Clone)]
struct Bundled {
    #[command(flatten)]
    rpc: Rpc,
    /// The contract's address (default: the devnet's, recorded in --dir).
    #[arg(long)]
    contract: Option<String>,
    /// The devnet directory.
    #[arg(long, default_value = "vellum-devnet")]
    dir: PathBuf,
}

impl Bundled {
    async fn connect(&self, name: &str) -> anyhow::Result<(Client, [u8; 32])> {
        let address = match &self.contract {
            Some(address) => address.clone(),
            None => devnet::contracts(&self.dir)?.remove(name).ok_or_else(|| {
                anyhow!(
                    "no {name} contract in {}; pass --contract",
                    self.dir.display()
                )
            })?,
        };
        Ok((
            Client::connect(&self.rpc.rpc).await?,
            parse_address(&address)?,
        ))
    }
}

#[derive(clap::Args, Clone)]
struct Network {
    /// Directory of the network (created on first run).
    #[arg(long, default_value = "vellum-devnet")]
    dir: PathBuf,
    /// Number of validators (3f + 1 tolerates f faulty ones).
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Number of organisations; validators are spread across them.
    #[arg(long, default_value_t = 2)]
    organisations: usize,
    /// The chain id every transaction must carry.
    #[arg(long, default_value = "vellum-local")]
    chain_id: String,
    /// Address validators listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// First peer-to-peer port (validator i uses this + i).
    #[arg(long, default_value_t = 7100)]
    p2p_port: u16,
    /// First JSON-RPC port (validator i uses this + i).
    #[arg(long, default_value_t = 8100)]
    rpc_port: u16,
}

impl Network {
    fn options(&self) -> init::Options {
        init::Options {
            dir: self.dir.clone(),
            chain_id: self.chain_id.clone(),
            validators: self.validators,
            organisations: self.organisations,
            host: self.host,
            p2p_port: self.p2p_port,
            rpc_port: self.rpc_port,
            timeouts: node::Timeouts::default(),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Start a local network on 127.0.0.1 and deploy the use-case contracts.
    ///
    /// The first run creates the network under --dir; later runs resume it. Ctrl-C stops it.
    Devnet {
        #[command(flatten)]
        network: Network,
        /// Do not deploy the bundled contracts.
        #[arg(long)]
        no_contracts: bool,
    },
    /// Run the four use cases end to end against a running network, and tell the story.
    Demo {
        #[command(flatten)]
        rpc: Rpc,
        /// The devnet directory (for its admin key and contract addresses).
        #[arg(long, default_value = "vellum-devnet")]
        dir: PathBuf,
    },
    /// Create a network's files: genesis, validator keys and configurations, admin keys.
    Init {
        #[command(flatten)]
        network: Network,
    },
    /// Run one validator from its configuration file (written by `init` or `devnet`).
    ///
    /// Stops cleanly on Ctrl-C; a restart resumes from its data directory. If its execution
    /// ever disagrees with a finalized block, it halts with a report and exit code 2.
    Node {
        /// The validator's node.json.
        #[arg(long)]
        config: PathBuf,
    },
    /// Measure a network end to end: pre-signed transactions over JSON-RPC, commits followed
    /// over WebSocket; prints throughput and latency percentiles.
    ///
    /// Without --rpc it starts a fresh devnet of --validators in a temporary directory (on
    /// ports 7300/8300 + i, so a running devnet is left alone) and stops it afterwards.
    Bench {
        /// Nodes to submit to (repeat for several); omit to start a fresh devnet.
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
        /// `transfer`: point transfers; `mix`: transfers, notarizations, lots and votes.
        #[arg(long, default_value = "transfer", value_parser = ["transfer", "mix"])]
        mix: String,
    },
    /// Transaction keys (secp256k1).
    Keys {
        #[command(subcommand)]
        command: Keys,
    },
    /// Deploy a contract (wasm) and print its address.
    Deploy {
        #[command(flatten)]
        rpc: Rpc,
        /// The signer's key file.
        #[arg(long)]
        key: PathBuf,
        /// The contract's wasm.
        wasm: PathBuf,
        /// JSON arguments of its `instantiate`.
        #[arg(long, default_value = "{}")]
        args: String,
    },
    /// Call a contract method in a transaction and print the receipt.
    Call {
        #[command(flatten)]
        rpc: Rpc,
        /// The signer's key file.
        #[arg(long)]
        key: PathBuf,
        /// The contract's address.
        contract: String,
        /// The method.
        method: String,
        /// Its JSON arguments.
        #[arg(default_value = "{}")]
        args: String,
    },
    /// Query a contract read-only (no transaction, no fee).
    Query {
        #[command(flatten)]
        rpc: Rpc,
        /// The contract's address.
        contract: String,
        /// The `#[query]` method.
        method: String,
        /// Its JSON arguments.
        #[arg(default_value = "{}")]
        args: String,
    },
    /// A transaction's status, or wait for its receipt.
    Tx {
        #[command(flatten)]
        rpc: Rpc,
        /// `status` or `wait`.
        #[arg(value_parser = ["status", "wait"])]
        action: String,
        /// The transaction hash.
        hash: String,
    },
    /// Every version of a contract key, newest first.
    History {
        #[command(flatten)]
        rpc: Rpc,
        /// The contract's address.
        contract: String,
        /// The key (text, or 0x hex for bytes).
        key: String,
        /// Versions per page.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Trace a lot through the food supply chain (the trace contract), and time it.
    Trace {
        #[command(flatten)]
        bundled: Bundled,
        /// The lot id.
        lot: String,
    },
    /// Verify a document against the notary contract: hash the file (SHA3-256), look it up.
    Verify {
        #[command(flatten)]
        bundled: Bundled,
        /// The document.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum Keys {
    /// Make a new key and write it to a file.
    New {
        /// Where to write it (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
    },
    /// Show a key's public key and address.
    Show {
        /// The key file.
        key: PathBuf,
    },
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,vellum=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Node { config } => node::Config::load(&config)
            .and_then(node::run)
            .with_context(|| format!("validator {} stopped", config.display())),
        Command::Init { network } => init::init(&network.options()).map(|created| {
            println!("genesis: {}", created.genesis.display());
            for (config, rpc) in created.configs.iter().zip(&created.rpc) {
                println!("validator: {}  (JSON-RPC http://{rpc})", config.display());
            }
            for key in &created.admin_keys {
                println!("admin key: {}", key.display());
            }
            println!(
                "next: vellum node --config {}",
                created.configs[0].display()
            );
        }),
        Command::Keys { command } => keys(command),
        command => tokio::runtime::Runtime::new()
            .context("cannot start an async runtime")
            .and_then(|runtime| runtime.block_on(client_command(command))),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

fn keys(command: Keys) -> anyhow::Result<()> {
    match command {
        Keys::New { out } => {
            if out.exists() {
                return Err(anyhow!("{} exists; choose another --out", out.display()));
            }
            let key = init::generate_transaction_key()?;
            std::fs::write(&out, hex(&key.to_bytes()))
                .with_context(|| format!("cannot write {}", out.display()))?;
            show(&key);
            println!("written to {}", out.display());
            Ok(())
        }
        Keys::Show { key } => {
            show(&client::read_key(&key)?);
            Ok(())
        }
    }
}

fn show(key: &k256::ecdsa::SigningKey) {
    let public = public_key(key);
    println!("public key: {}", hex(&public));
    println!("address:    {}", hex(&address_of(&public)));
}

fn json_arg(text: &str) -> anyhow::Result<Value> {
    serde_json::from_str(text)
        .with_context(|| format!("arguments must be JSON, e.g. '{{\"id\": \"x\"}}'; got {text}"))
}

fn print(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

async fn client_command(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Devnet {
            network,
            no_contracts,
        } => {
            let binary = std::env::current_exe().context("cannot find the vellum binary")?;
            let mut running = devnet::start(&binary, &network.options(), !no_contracts).await?;
            println!("{}", devnet::banner(&running));
            let waiter = tokio::task::spawn_blocking(move || {
                let result = running.wait();
                (running, result)
            });
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {
                    eprintln!("stopping the network (its state stays in {})", network.dir.display());
                    // The validators got the same Ctrl-C; give them a moment to stop cleanly.
                    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                    Ok(())
                }
                done = waiter => {
                    let (_running, result) = done.context("the devnet supervisor failed")?;
                    result
                }
            }
        }
        Command::Bench {
            rpc,
            dir,
            validators,
            transactions,
            accounts,
            rate,
            connections,
            mix,
        } => {
            let load = vellum::bench::Load {
                transactions,
                accounts,
                rate,
                connections,
                mix: if mix == "mix" {
                    vellum::bench::Mix::All
                } else {
                    vellum::bench::Mix::Transfer
                },
            };
            let (urls, dir, _devnet, _scratch) = if rpc.is_empty() {
                let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
                let options = init::Options {
                    dir: scratch.path().join("devnet"),
                    chain_id: "vellum-bench".into(),
                    validators,
                    organisations: 1,
                    host: "127.0.0.1".parse()?,
                    p2p_port: 7300,
                    rpc_port: 8300,
                    timeouts: node::Timeouts::default(),
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
                (rpc, dir, None, None)
            };
            let contracts = devnet::contracts(&dir)?
                .into_iter()
                .map(|(name, address)| Ok((name, parse_address(&address)?)))
                .collect::<anyhow::Result<_>>()?;
            let report =
                vellum::bench::run(&urls, &dir.join("keys/org-1-admin.key"), &contracts, &load)
                    .await?;
            println!(
                "{} validator(s), {transactions} transactions, mix {mix}, rate {}",
                urls.len(),
                if rate == 0 {
                    "max".to_string()
                } else {
                    format!("{rate}/s")
                }
            );
            println!("{report}");
            Ok(())
        }
        Command::Demo { rpc, dir } => {
            vellum::demo::run(&Client::connect(&rpc.rpc).await?, &dir).await
        }
        Command::Deploy {
            rpc,
            key,
            wasm,
            args,
        } => {
            let client = Client::connect(&rpc.rpc).await?;
            let code =
                std::fs::read(&wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
            let mut signer = Signer::load(&key, &client).await?;
            let receipt = client
                .submit_and_wait(&signer.deploy(code, json_arg(&args)?))
                .await?;
            print(&receipt);
            match receipt["contract"].as_str() {
                Some(address) => eprintln!("deployed at {address}"),
                None => return Err(anyhow!("the deploy failed: {}", receipt["error"])),
            }
            Ok(())
        }
        Command::Call {
            rpc,
            key,
            contract,
            method,
            args,
        } => {
            let client = Client::connect(&rpc.rpc).await?;
            let mut signer = Signer::load(&key, &client).await?;
            let call = signer.call(parse_address(&contract)?, &method, json_arg(&args)?);
            let receipt = client.submit_and_wait(&call).await?;
            print(&receipt);
            Ok(())
        }
        Command::Query {
            rpc,
            contract,
            method,
            args,
        } => {
            let client = Client::connect(&rpc.rpc).await?;
            print(
                &client
                    .query(&parse_address(&contract)?, &method, json_arg(&args)?)
                    .await?,
            );
            Ok(())
        }
        Command::Tx { rpc, action, hash } => {
            let client = Client::connect(&rpc.rpc).await?;
            if action == "wait" {
                loop {
                    if let Ok(receipt) = client
                        .call(
                            "vellum_getTransactionReceipt",
                            jsonrpsee::rpc_params![&hash],
                        )
                        .await
                    {
                        print(&receipt);
                        return Ok(());
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
            print(
                &client
                    .call("vellum_getTransaction", jsonrpsee::rpc_params![&hash])
                    .await?,
            );
            Ok(())
        }
        Command::History {
            rpc,
            contract,
            key,
            limit,
        } => {
            let client = Client::connect(&rpc.rpc).await?;
            let page = json!({"limit": limit, "order": "desc"});
            print(
                &client
                    .call(
                        "vellum_getHistory",
                        jsonrpsee::rpc_params![contract, key, page],
                    )
                    .await?,
            );
            Ok(())
        }
        Command::Trace { bundled, lot } => {
            let (client, address) = bundled.connect("trace").await?;
            let started = Instant::now();
            let provenance = client.query(&address, "trace", json!({"lot": lot})).await?;
            let took = started.elapsed();
            print(&provenance);
            eprintln!(
                "traced in {:.1} ms (one query, one round trip)",
                took.as_secs_f64() * 1e3
            );
            Ok(())
        }
        Command::Verify { bundled, file } => {
            let (client, address) = bundled.connect("notary").await?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let hash = hex(&sha3::Sha3_256::digest(&bytes));
            eprintln!("{}: SHA3-256 {hash}", file.display());
            print(
                &client
                    .query(&address, "verify", json!({"hash": hash}))
                    .await?,
            );
            Ok(())
        }
        Command::Node { .. } | Command::Init { .. } | Command::Keys { .. } => {
            unreachable!("handled synchronously")
        }
    }
}

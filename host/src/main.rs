//! The `vellum` command: create a network, run a validator.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::{net::IpAddr, path::PathBuf};
use vellum::node::{self, init};

/// Vellum: a permissioned blockchain node running deterministic WebAssembly contracts.
///
/// Start a network in two steps:
///
///   vellum init --dir net --validators 4
///
///   vellum node --config net/validator-0/node.json   (one per validator)
#[derive(Parser)]
#[command(name = "vellum", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a network: genesis, validator keys and configurations, organisation admin keys.
    ///
    /// Validator i listens for peers on --p2p-port + i and serves JSON-RPC on --rpc-port + i.
    /// Organisation admin keys (secp256k1, for signing transactions) are written to
    /// <dir>/keys/.
    Init {
        /// Directory to create the network in.
        #[arg(long, default_value = "vellum-net")]
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
        /// First peer-to-peer port.
        #[arg(long, default_value_t = 7100)]
        p2p_port: u16,
        /// First JSON-RPC port.
        #[arg(long, default_value_t = 8100)]
        rpc_port: u16,
    },
    /// Run one validator from its configuration file (written by `vellum init`).
    ///
    /// Stops cleanly on Ctrl-C; a restart resumes from its data directory. If this validator's
    /// execution ever disagrees with a finalized block, it halts with a report and exit code 2.
    Node {
        /// The validator's node.json.
        #[arg(long)]
        config: PathBuf,
    },
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init {
            dir,
            validators,
            organisations,
            chain_id,
            host,
            p2p_port,
            rpc_port,
        } => init::init(&init::Options {
            dir,
            chain_id,
            validators,
            organisations,
            host,
            p2p_port,
            rpc_port,
            timeouts: node::Timeouts::default(),
        })
        .map(|network| {
            println!("genesis: {}", network.genesis.display());
            for (config, rpc) in network.configs.iter().zip(&network.rpc) {
                println!("validator: {}  (JSON-RPC http://{rpc})", config.display());
            }
            for key in &network.admin_keys {
                println!("admin key: {}", key.display());
            }
            println!(
                "next: vellum node --config {}",
                network.configs[0].display()
            );
        }),
        Command::Node { config } => node::Config::load(&config)
            .and_then(node::run)
            .with_context(|| format!("validator {} stopped", config.display())),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

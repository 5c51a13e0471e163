//! The `vellum` command: run a network, run a validator, and talk to one. Each command is a
//! module of `cli/`.

mod cli;

/// mimalloc instead of the system's allocator: glibc's malloc and free took 7 % of both cores
/// under `vellum bench` (BENCHMARKS.md, "Where one validator's time goes").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

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
    /// What to log: a level (`debug`) or a filter (`warn,vellum=debug`). Overrides RUST_LOG;
    /// without either, `warn,vellum=info`.
    #[arg(long, global = true)]
    log_level: Option<String>,
    /// How logs are written to stderr: `text` (in colour only on a terminal) or `json` (one
    /// object per line, for log shippers).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// How logs are written.
#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// What is logged without `--log-level` or `RUST_LOG`: warnings, and the node's own progress.
/// The platform certificate verifier's own error line is left out: the client's error already
/// says the certificate is untrusted and what to pass.
const DEFAULT_LOGS: &str = "warn,vellum=info,rustls_platform_verifier=off";

/// Install the process's log subscriber, writing to stderr.
fn init_logs(level: Option<&str>, format: LogFormat) -> anyhow::Result<()> {
    use tracing_subscriber::EnvFilter;
    let filter = match level {
        Some(level) => EnvFilter::try_new(level).map_err(|e| {
            anyhow::anyhow!(
                "--log-level {level}: {e}; give a level (info) or a filter (warn,vellum=debug)"
            )
        })?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOGS)),
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        // Colour only on a terminal: a validator's stderr is often a file (the devnet's
        // node.log) or a log shipper, where escape codes are noise.
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => logs.json().init(),
    }
    Ok(())
}

#[derive(Subcommand)]
enum Command {
    /// Start a local network on 127.0.0.1 and deploy the use-case contracts.
    ///
    /// The first run creates the network under --dir; later runs resume it. Ctrl-C (SIGINT) or
    /// SIGTERM stops it: each node is stopped cleanly and waited for.
    ///
    /// Examples:
    ///
    ///   vellum devnet
    ///   vellum devnet --dir net2 --observers 1 --p2p-port 7200 --rpc-port 8200
    #[command(verbatim_doc_comment)]
    Devnet(cli::devnet::Args),
    /// Run the six use cases end to end against a running network, and tell the story.
    Demo(cli::demo::Args),
    /// Create a network's files: genesis, validator and observer keys and configurations, admin
    /// keys.
    Init(cli::init::Args),
    /// Run one node from its configuration file (written by `init` or `devnet`).
    ///
    /// A node whose key is a validator's in the genesis proposes and votes; one listed among the
    /// configuration's `observers` follows without voting: it checks each finalization
    /// certificate against the validator set, executes and commits the blocks, serves the same
    /// JSON-RPC, and forwards transactions submitted to it to the validators.
    ///
    /// Stops cleanly on Ctrl-C (SIGINT) or SIGTERM; a restart resumes from its data directory.
    /// Logs go to stderr, in colour only on a terminal. If its execution ever disagrees with a
    /// finalized block, it halts with a report and exit code 2.
    Node(cli::node::Args),
    /// Measure a network end to end: pre-signed transactions over JSON-RPC, commits followed
    /// over WebSocket; prints throughput and latency percentiles.
    ///
    /// Without --rpc it starts a fresh devnet of --validators in a temporary directory (on
    /// ports 7300/8300 + i, so a running devnet is left alone) and stops it afterwards.
    ///
    /// Examples:
    ///
    ///   vellum bench --transactions 20000 --accounts 100
    ///   vellum bench --validators 1 --batch 50
    ///   vellum bench --rate 20 --transactions 400 --attack queries --attackers 8
    #[command(verbatim_doc_comment)]
    Bench(cli::bench::Args),
    /// Transaction keys (secp256k1).
    Keys(cli::keys::Args),
    /// Deploy a contract (wasm) and print its address.
    Deploy(cli::deploy::Args),
    /// Call a contract method in a transaction and print the receipt.
    Call(cli::call::Args),
    /// Query a contract read-only (no transaction, no fee), at the head or a past height.
    ///
    /// Examples:
    ///
    ///   vellum query 0x3f0c...e1 balance '{"issuer": "air", "member": "0x9a..."}'
    ///   vellum query 0x3f0c...e1 verify '{"hash": "0x5152..."}' --height 120
    #[command(verbatim_doc_comment)]
    Query(cli::query::Args),
    /// A transaction's status, or wait for its receipt.
    Tx(cli::tx::Args),
    /// Each node's health in one line: height, finalized tip, block age, peers, mempool,
    /// syncing, halted. Exits 1 if any node is unreachable or halted.
    ///
    /// Examples:
    ///
    ///   vellum status                      # every node of ./vellum-devnet
    ///   vellum status --rpc http://10.0.0.5:8100 --rpc http://10.0.0.6:8100
    ///   vellum status --json
    #[command(verbatim_doc_comment)]
    Status(cli::status::Args),
    /// Every version of a contract key, newest first.
    ///
    /// Examples:
    ///
    ///   vellum history 0x3f0c...e1 admin
    ///   vellum history 0x3f0c...e1 0x09646f63... --from-height 100 --to-height 200
    #[command(verbatim_doc_comment)]
    History(cli::history::Args),
    /// Trace a lot through the food supply chain (the trace contract), and time it.
    Trace(cli::trace::Args),
    /// Verify a document against the notary contract: hash the file (SHA3-256), look it up.
    Verify(cli::verify::Args),
    /// Proofs anyone can check offline: fetch a receipt proof, check one against genesis.
    Proof(cli::proof::Args),
    /// Private data: payloads held only by the nodes of the organisations they concern, with
    /// their salted hash for the chain.
    ///
    /// Examples:
    ///
    ///   vellum private put --key vellum-devnet/keys/org-1-admin.key --org org-1 --org org-2 invoice.pdf
    ///   vellum private get --key vellum-devnet/keys/org-2-admin.key 0x5152... --out invoice.pdf
    ///   vellum private hash --salt 0x9f3e... invoice.pdf
    ///   vellum private purge --key vellum-devnet/keys/org-1-admin.key 0x5152...
    #[command(verbatim_doc_comment)]
    Private(cli::private::Args),
    /// Governance: propose a change, approve or withdraw approval, show and list proposals
    /// (docs/governance.md). A change executes, once, in the transaction whose approval meets
    /// its policy; a contract's changes always need its owner's approval.
    ///
    /// Examples:
    ///
    ///   vellum gov propose --key org-1-admin.key upgrade 0x3f0c...e1 notary_v2.wasm
    ///   vellum gov propose --key org-1-admin.key add-org bank-c --admin 0x02b4...
    ///   vellum gov propose --key org-1-admin.key policy 0x3f0c...e1 m_of_n:2
    ///   vellum gov propose --key org-1-admin.key rules --membership-policy all
    ///   vellum gov rules --key org-2-admin.key
    ///   vellum gov approve --key org-2-admin.key 4
    ///   vellum gov withdraw --key org-2-admin.key 4
    ///   vellum gov list --key org-2-admin.key
    ///   vellum gov show --key org-2-admin.key 4
    #[command(verbatim_doc_comment)]
    Gov(cli::gov::Args),
    /// Upgrade a contract your organisation owns: proposes the upgrade, which executes at once
    /// if your organisation's approval meets the contract's policy (else others approve it
    /// with `vellum gov approve`).
    ///
    /// Examples:
    ///
    ///   vellum upgrade --key vellum-devnet/keys/org-1-admin.key 0x3f0c...e1 notary_v2.wasm
    ///   vellum upgrade --key org-1-admin.key 0x3f0c...e1 v3.wasm --args '{"from": 2}' --version 2
    #[command(verbatim_doc_comment)]
    Upgrade(cli::gov::UpgradeCommand),
    /// Freeze a contract your organisation owns (it refuses calls, still serves queries), or
    /// unfreeze it; by proposal, like `vellum upgrade`.
    ///
    /// Examples:
    ///
    ///   vellum freeze --key vellum-devnet/keys/org-1-admin.key 0x3f0c...e1
    ///   vellum freeze --key vellum-devnet/keys/org-1-admin.key 0x3f0c...e1 --unfreeze
    #[command(verbatim_doc_comment)]
    Freeze(cli::gov::FreezeCommand),
    /// Add or remove an identity of your organisation (admins only), or rotate a key.
    ///
    /// A rotation keeps the account's address, nonce and every role contracts gave it; the old
    /// key is refused from the next transaction. Sign it with the account's current key, or,
    /// after a loss, with an admin key of its organisation and `--account`. The new key's holder
    /// signs a proof that it agrees: `--new-key` makes it from the key file; an admin who does
    /// not hold the key passes the public key and the proof `vellum members prove` printed.
    ///
    /// Examples:
    ///
    ///   vellum members add --key org-1-admin.key --org org-1 0x03a1...
    ///   vellum members add --key org-1-admin.key --org org-1 --role admin 0x03a1...
    ///   vellum members remove --key org-1-admin.key 0x03a1...
    ///   vellum keys new --out new.key && vellum members rotate --key old.key --new-key new.key
    ///   vellum members prove --key new.key --account 0x5be2...     # by the new key's holder
    ///   vellum members rotate --key org-1-admin.key --account 0x5be2... \
    ///     --public-key 0x02f9... --proof 0x8c1d...
    #[command(verbatim_doc_comment)]
    Members(cli::gov::MembersCommand),
    /// The organisations of the network (members only: pass your key).
    ///
    /// Examples:
    ///
    ///   vellum orgs --key vellum-devnet/keys/org-1-admin.key
    #[command(verbatim_doc_comment)]
    Orgs(cli::gov::Member),
    /// The validator set the node follows.
    ///
    /// Examples:
    ///
    ///   vellum validators
    ///   vellum validators --rpc http://10.0.0.5:8100
    #[command(verbatim_doc_comment)]
    Validators(cli::Rpc),
    /// Start a new contract from the template: a crate in contracts/, tests on both hosts, a
    /// README with its tables.
    ///
    /// Examples:
    ///
    ///   vellum new contract loyalty_v2
    ///   cargo test -p vellum-loyalty_v2 && scripts/build-contracts.sh loyalty_v2
    #[command(verbatim_doc_comment)]
    New(cli::new::Args),
    /// Print a shell completion script.
    ///
    /// Examples:
    ///
    ///   vellum completions bash > ~/.local/share/bash-completion/completions/vellum
    ///   vellum completions zsh > ~/.zfunc/_vellum
    ///   vellum completions fish > ~/.config/fish/completions/vellum.fish
    #[command(verbatim_doc_comment)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = init_logs(cli.log_level.as_deref(), cli.log_format) {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
    let result = match cli.command {
        Command::Node(args) => cli::node::run(args),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "vellum",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Init(args) => cli::init::run(args),
        Command::Keys(args) => cli::keys::run(args),
        Command::New(args) => cli::new::run(args),
        command => tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|runtime| runtime.block_on(client_command(command))),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

/// The commands that run on an async runtime.
async fn client_command(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Devnet(args) => cli::devnet::run(args).await,
        Command::Demo(args) => cli::demo::run(args).await,
        Command::Bench(args) => cli::bench::run(args).await,
        Command::Deploy(args) => cli::deploy::run(args).await,
        Command::Call(args) => cli::call::run(args).await,
        Command::Query(args) => cli::query::run(args).await,
        Command::Status(args) => cli::status::run(args).await,
        Command::Tx(args) => cli::tx::run(args).await,
        Command::History(args) => cli::history::run(args).await,
        Command::Trace(args) => cli::trace::run(args).await,
        Command::Verify(args) => cli::verify::run(args).await,
        Command::Proof(args) => cli::proof::run(args).await,
        Command::Private(args) => cli::private::run(args).await,
        Command::Gov(args) => cli::gov::run(args).await,
        Command::Upgrade(args) => cli::gov::upgrade(args).await,
        Command::Freeze(args) => cli::gov::freeze(args).await,
        Command::Members(args) => cli::gov::members(args).await,
        Command::Orgs(args) => cli::gov::orgs(args).await,
        Command::Validators(rpc) => cli::gov::validators(rpc).await,
        Command::Node(_)
        | Command::Init(_)
        | Command::Keys(_)
        | Command::New(_)
        | Command::Completions { .. } => {
            unreachable!("handled without an async runtime")
        }
    }
}

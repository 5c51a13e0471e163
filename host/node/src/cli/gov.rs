//! `vellum gov`, `vellum upgrade`, `vellum freeze`, `vellum members`, `vellum orgs` and
//! `vellum validators`: changing a running network together (docs/governance.md).

use super::{json_arg, print, Rpc};
use anyhow::{anyhow, bail, Context as _};
use jsonrpsee::rpc_params;
use serde_json::Value;
use std::path::{Path, PathBuf};
use vellum_client::{parse_address, receipt_failure, Client, Signer};
use vellum_types::{
    genesis::parse_public_key, hex, transaction::prove_rotation, Action, Address, Change, Policy,
    Role, Rules,
};

/// Who signs, and where.
#[derive(clap::Args)]
pub struct Member {
    #[command(flatten)]
    rpc: Rpc,
    /// Your key file: an admin's to propose, approve or withdraw; any member's to read.
    #[arg(long, env = "VELLUM_KEY")]
    key: PathBuf,
}

impl Member {
    /// Connect with a caller token (proposals are the ledger's own records: members only).
    async fn connect(&self) -> anyhow::Result<Client> {
        self.rpc.connect_as(Some(&self.key)).await
    }

    /// Sign `action`, submit it, wait for its receipt and print it; fail if it failed.
    async fn send(&self, action: Action, what: &str) -> anyhow::Result<Value> {
        self.send_for(|_, _| Ok(action), what).await
    }

    /// [`Member::send`] of the action `action` makes for the signer's account and the chain id.
    async fn send_for(
        &self,
        action: impl FnOnce(Address, &str) -> anyhow::Result<Action>,
        what: &str,
    ) -> anyhow::Result<Value> {
        let client = self.connect().await?;
        let mut signer = Signer::load(&self.key, &client).await?;
        let action = action(signer.address(), client.chain_id())?;
        let waiting = vellum::progress::spinner(&format!("{what}, waiting for its block"));
        let receipt = client.submit_and_wait(&signer.sign(action)).await;
        waiting.finish_and_clear();
        let receipt = receipt?;
        print(&receipt);
        if let Some(why) = receipt_failure(&receipt) {
            bail!("{what} failed: {why}");
        }
        Ok(receipt)
    }

    /// Propose `change` and say what became of it.
    async fn propose(&self, change: Change) -> anyhow::Result<()> {
        let what = format!("proposing {}", change.kind());
        let receipt = self.send(Action::Propose { change }, &what).await?;
        report(&receipt);
        Ok(())
    }
}

/// Say whether a proposal's receipt executed it, and what it still needs if not.
fn report(receipt: &Value) {
    let output = &receipt["output"];
    let id = &output["proposal"];
    match output["executed"].as_bool() {
        Some(true) => eprintln!("proposal {id} executed"),
        _ => {
            let approvals: Vec<&str> = output["approvals"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let owner = match output["owner"].as_str() {
                Some(owner) if !approvals.contains(&owner) => {
                    format!("; the owner {owner} must approve too")
                }
                _ => String::new(),
            };
            eprintln!(
                "proposal {id} is open: {} of the {} approvals it needs ({}){owner}; other \
                 organisations' admins approve it with `vellum gov approve {id}`",
                approvals.len(),
                output["required"],
                approvals.join(", ")
            );
        }
    }
}

/// Arguments of `vellum gov`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Propose a change; your organisation approves it at once, and it executes if that meets
    /// its policy.
    Propose {
        #[command(flatten)]
        member: Member,
        #[command(subcommand)]
        change: Proposed,
    },
    /// Approve a proposal for your organisation; it executes in your transaction if that meets
    /// its policy.
    Approve {
        #[command(flatten)]
        member: Member,
        /// The proposal's number.
        proposal: u64,
    },
    /// Withdraw your organisation's approval of an open proposal.
    Withdraw {
        #[command(flatten)]
        member: Member,
        /// The proposal's number.
        proposal: u64,
    },
    /// Show a proposal: its change, approvals and state (open, executed, expired).
    Show {
        #[command(flatten)]
        member: Member,
        /// The proposal's number.
        proposal: u64,
    },
    /// Show the governance rules in force: each policy, the proposal lifetime, and how many
    /// times proposals have changed them.
    Rules {
        #[command(flatten)]
        member: Member,
    },
    /// List proposals, newest first.
    List {
        #[command(flatten)]
        member: Member,
        /// Only those numbered below this (the `next` of a previous page).
        #[arg(long)]
        before: Option<u64>,
        /// At most this many (up to 100).
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

#[derive(clap::Subcommand)]
enum Proposed {
    /// Deploy a contract owned by your organisation, with an upgrade policy.
    Deploy {
        /// The contract's wasm.
        wasm: PathBuf,
        /// JSON arguments of its `instantiate`.
        #[arg(long, default_value = "{}")]
        args: String,
        /// Who must approve its changes besides your organisation: any_admin, owner, m_of_n:M,
        /// majority or all.
        #[arg(long, default_value = "owner", value_parser = policy)]
        policy: Policy,
    },
    /// Upgrade a contract from its current version (or --version) to new code.
    Upgrade(UpgradeArgs),
    /// Freeze a contract: it refuses calls and still serves queries.
    Freeze {
        /// The contract's address.
        contract: String,
    },
    /// Let a frozen contract take calls again.
    Unfreeze {
        /// The contract's address.
        contract: String,
    },
    /// Change who must approve a contract's changes besides its owner.
    Policy {
        /// The contract's address.
        contract: String,
        /// any_admin, owner, m_of_n:M, majority or all.
        #[arg(value_parser = policy)]
        policy: Policy,
    },
    /// Let an organisation join with its first admins.
    AddOrg {
        /// Its name (a-z, 0-9, -, _ and ., at most 64 bytes).
        name: String,
        /// An admin's public key, 0x + 66 hex digits (`vellum keys show`); repeat it.
        #[arg(long = "admin", required = true)]
        admins: Vec<String>,
    },
    /// Remove an organisation; its keys are refused from the next transaction, its contracts pass
    /// to --successor.
    RemoveOrg {
        /// The leaving organisation.
        name: String,
        /// The organisation that takes over its contracts.
        #[arg(long)]
        successor: String,
    },
    /// Change the network's governance rules (needs the rules policy). Each rule left out keeps
    /// its value in force; the proposal names them all, and executes only if no other change
    /// of the rules executes first.
    Rules(RulesArgs),
}

/// The rules a `vellum gov propose rules` changes; policies are any_admin, owner, m_of_n:M,
/// majority or all.
#[derive(clap::Args)]
pub struct RulesArgs {
    /// Who must approve a deploy (a plain deploy is allowed when one organisation meets it).
    #[arg(long, value_parser = policy)]
    deploy_policy: Option<Policy>,
    /// The upgrade policy of a contract deployed without choosing one.
    #[arg(long, value_parser = policy)]
    upgrade_policy: Option<Policy>,
    /// The least strict upgrade policy a contract may be given.
    #[arg(long, value_parser = policy)]
    upgrade_policy_minimum: Option<Policy>,
    /// Who must approve an organisation joining or leaving: majority or all.
    #[arg(long, value_parser = policy)]
    membership_policy: Option<Policy>,
    /// Who must approve changing the rules: majority or all.
    #[arg(long, value_parser = policy)]
    rules_policy: Option<Policy>,
    /// Blocks after its own in which a proposal may still execute.
    #[arg(long)]
    proposal_lifetime_blocks: Option<u64>,
}

impl RulesArgs {
    /// The rules in force (from the node) with the given ones changed.
    async fn change(self, client: &Client) -> anyhow::Result<Change> {
        let (mut rules, sequence) = rules_in_force(client).await?;
        let before = rules;
        let policies = [
            (self.deploy_policy, &mut rules.deploy_policy),
            (self.upgrade_policy, &mut rules.upgrade_policy),
            (
                self.upgrade_policy_minimum,
                &mut rules.upgrade_policy_minimum,
            ),
            (self.membership_policy, &mut rules.membership_policy),
            (self.rules_policy, &mut rules.rules_policy),
        ];
        for (new, rule) in policies {
            if let Some(new) = new {
                *rule = new;
            }
        }
        if let Some(blocks) = self.proposal_lifetime_blocks {
            rules.proposal_lifetime_blocks = blocks;
        }
        if rules == before {
            bail!(
                "these are the rules in force already (`vellum gov rules`); name a rule to change, \
                 e.g. --membership-policy all"
            );
        }
        Ok(Change::SetRules { rules, sequence })
    }
}

/// The governance rules in force, as the node reports them, and their sequence.
async fn rules_in_force(client: &Client) -> anyhow::Result<(Rules, u64)> {
    let answer = client.call("vellum_getRules", rpc_params![]).await?;
    let rules = &answer["rules"];
    let policy = |name: &str| {
        rules[name]
            .as_str()
            .and_then(Policy::parse)
            .ok_or_else(|| anyhow!("the node did not say the rule {name}"))
    };
    let sequence = answer["sequence"]
        .as_u64()
        .ok_or_else(|| anyhow!("the node did not say the rules' sequence"))?;
    let rules = Rules {
        deploy_policy: policy("deploy_policy")?,
        upgrade_policy: policy("upgrade_policy")?,
        upgrade_policy_minimum: policy("upgrade_policy_minimum")?,
        membership_policy: policy("membership_policy")?,
        rules_policy: policy("rules_policy")?,
        proposal_lifetime_blocks: rules["proposal_lifetime_blocks"]
            .as_u64()
            .ok_or_else(|| anyhow!("the node did not say the proposal lifetime"))?,
    };
    Ok((rules, sequence))
}

/// What a proposed upgrade names.
#[derive(clap::Args)]
pub struct UpgradeArgs {
    /// The contract's address.
    contract: String,
    /// The new wasm.
    wasm: PathBuf,
    /// JSON arguments of its `migrate`.
    #[arg(long, default_value = "")]
    args: String,
    /// The version the upgrade replaces (default: the current one).
    #[arg(long)]
    version: Option<u32>,
}

fn policy(text: &str) -> Result<Policy, String> {
    Policy::parse(text).ok_or_else(|| {
        format!("`{text}` is not a policy: any_admin, owner, m_of_n:M (M >= 1), majority or all")
    })
}

fn read_wasm(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn address(text: &str) -> anyhow::Result<Address> {
    Ok(parse_address(text)?)
}

impl UpgradeArgs {
    async fn change(self, client: &Client) -> anyhow::Result<Change> {
        let contract = address(&self.contract)?;
        let version = match self.version {
            Some(version) => version,
            None => client
                .call("vellum_getContract", rpc_params![&self.contract])
                .await?["version"]
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| anyhow!("the node did not say the contract's version"))?,
        };
        let migrate_args = match self.args.trim() {
            "" => String::new(),
            args => json_arg(args)?.to_string(),
        };
        Ok(Change::Upgrade {
            contract,
            version,
            code: read_wasm(&self.wasm)?,
            migrate_args,
        })
    }
}

async fn proposed(change: Proposed, client: &Client) -> anyhow::Result<Change> {
    Ok(match change {
        Proposed::Deploy { wasm, args, policy } => Change::Deploy {
            code: read_wasm(&wasm)?,
            init_args: json_arg(&args)?.to_string(),
            upgrade_policy: policy,
        },
        Proposed::Upgrade(upgrade) => upgrade.change(client).await?,
        Proposed::Freeze { contract } => Change::Freeze {
            contract: address(&contract)?,
        },
        Proposed::Unfreeze { contract } => Change::Unfreeze {
            contract: address(&contract)?,
        },
        Proposed::Policy { contract, policy } => Change::SetUpgradePolicy {
            contract: address(&contract)?,
            policy,
        },
        Proposed::AddOrg { name, admins } => Change::AddOrganisation {
            name,
            admins: admins
                .iter()
                .map(|key| {
                    parse_public_key(key).ok_or_else(|| {
                        anyhow!("`{key}` is not a compressed secp256k1 public key (0x + 66 hex)")
                    })
                })
                .collect::<anyhow::Result<_>>()?,
        },
        Proposed::RemoveOrg { name, successor } => Change::RemoveOrganisation { name, successor },
        Proposed::Rules(rules) => rules.change(client).await?,
    })
}

/// Run `vellum gov`.
pub async fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Propose { member, change } => {
            let client = member.connect().await?;
            let change = proposed(change, &client).await?;
            member.propose(change).await
        }
        Command::Approve { member, proposal } => {
            let receipt = member
                .send(
                    Action::Approve { proposal },
                    &format!("approving proposal {proposal}"),
                )
                .await?;
            report(&receipt);
            Ok(())
        }
        Command::Withdraw { member, proposal } => {
            let what = format!("withdrawing the approval of proposal {proposal}");
            member.send(Action::Withdraw { proposal }, &what).await?;
            Ok(())
        }
        Command::Show { member, proposal } => {
            let client = member.connect().await?;
            print(
                &client
                    .call("vellum_getProposal", rpc_params![proposal])
                    .await?,
            );
            Ok(())
        }
        Command::Rules { member } => {
            let client = member.connect().await?;
            let answer = client.call("vellum_getRules", rpc_params![]).await?;
            for (name, value) in answer["rules"].as_object().into_iter().flatten() {
                let value = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_string);
                println!("{name:<26} {value}");
            }
            match answer["changed_at"].as_u64() {
                Some(height) => eprintln!(
                    "changes by proposal: {}, the last at height {height}",
                    answer["sequence"]
                ),
                None => eprintln!("genesis's rules: no proposal has changed them"),
            }
            Ok(())
        }
        Command::List {
            member,
            before,
            limit,
        } => {
            let client = member.connect().await?;
            let page = client
                .call("vellum_getProposals", rpc_params![before, limit])
                .await?;
            for proposal in page["proposals"].as_array().into_iter().flatten() {
                let change = &proposal["change"];
                let target = change["contract"]
                    .as_str()
                    .or(change["name"].as_str())
                    .or(change["code_hash"].as_str())
                    .unwrap_or("");
                let approvals: Vec<&str> = proposal["approvals"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a["organisation"].as_str())
                    .collect();
                println!(
                    "{:>5}  {:<9} {:<20} {target}  approved by {}",
                    proposal["id"],
                    proposal["state"].as_str().unwrap_or(""),
                    change["kind"].as_str().unwrap_or(""),
                    approvals.join(", ")
                );
            }
            if let Some(next) = page["next"].as_u64() {
                eprintln!("more: --before {next}");
            }
            Ok(())
        }
    }
}

/// Arguments of `vellum upgrade`.
#[derive(clap::Args)]
pub struct UpgradeCommand {
    #[command(flatten)]
    member: Member,
    #[command(flatten)]
    upgrade: UpgradeArgs,
}

/// Run `vellum upgrade`: propose the upgrade, which executes at once when the owner's approval
/// meets the contract's policy.
pub async fn upgrade(args: UpgradeCommand) -> anyhow::Result<()> {
    let client = args.member.connect().await?;
    let change = args.upgrade.change(&client).await?;
    args.member.propose(change).await
}

/// Arguments of `vellum freeze`.
#[derive(clap::Args)]
pub struct FreezeCommand {
    #[command(flatten)]
    member: Member,
    /// The contract's address.
    contract: String,
    /// Unfreeze it instead.
    #[arg(long)]
    unfreeze: bool,
}

/// Run `vellum freeze`.
pub async fn freeze(args: FreezeCommand) -> anyhow::Result<()> {
    let contract = address(&args.contract)?;
    let change = match args.unfreeze {
        true => Change::Unfreeze { contract },
        false => Change::Freeze { contract },
    };
    args.member.propose(change).await
}

/// Arguments of `vellum members`.
#[derive(clap::Args)]
pub struct MembersCommand {
    #[command(subcommand)]
    command: MembersAction,
}

#[derive(clap::Subcommand)]
enum MembersAction {
    /// Add an identity to your organisation (admins only).
    Add {
        #[command(flatten)]
        member: Member,
        /// Its public key, 0x + 66 hex digits (`vellum keys show`).
        public_key: String,
        /// Your organisation.
        #[arg(long)]
        org: String,
        /// Its role.
        #[arg(long, value_parser = ["member", "admin"], default_value = "member")]
        role: String,
    },
    /// Remove an identity of your organisation (admins only).
    Remove {
        #[command(flatten)]
        member: Member,
        /// Its public key (its current or a former one).
        public_key: String,
    },
    /// Give an account a new key, keeping its address, nonce and roles; its old key is refused
    /// from the next transaction.
    Rotate {
        #[command(flatten)]
        member: Member,
        /// The new key's file (`vellum keys new`), never used by any account before: it signs
        /// the rotation's proof.
        #[arg(long, required_unless_present = "public_key")]
        new_key: Option<PathBuf>,
        /// Instead of --new-key, for an admin who does not hold it: the new public key, with
        /// the proof its holder made with `vellum members prove`.
        #[arg(long, conflicts_with = "new_key", requires = "proof")]
        public_key: Option<String>,
        /// The proof that goes with --public-key.
        #[arg(long, requires = "public_key")]
        proof: Option<String>,
        /// The account to rotate: yours by default; an admin names a member of its organisation.
        #[arg(long)]
        account: Option<String>,
    },
    /// Sign, with a new key, the proof that it agrees to sign for an account: what an admin
    /// needs to rotate a member's key after a loss (`vellum members rotate --public-key
    /// --proof`).
    Prove {
        #[command(flatten)]
        rpc: Rpc,
        /// The new key's file.
        #[arg(long)]
        key: PathBuf,
        /// The account's address.
        #[arg(long)]
        account: String,
    },
}

fn public_key(text: &str) -> anyhow::Result<vellum_types::PublicKey> {
    parse_public_key(text)
        .ok_or_else(|| anyhow!("`{text}` is not a compressed secp256k1 public key (0x + 66 hex)"))
}

/// Run `vellum members`.
pub async fn members(args: MembersCommand) -> anyhow::Result<()> {
    match args.command {
        MembersAction::Add {
            member,
            public_key: key,
            org,
            role,
        } => {
            let role = if role == "admin" {
                Role::Admin
            } else {
                Role::Member
            };
            let action = Action::AddMember {
                public_key: public_key(&key)?,
                organisation: org,
                role,
            };
            member.send(action, "adding the member").await?;
        }
        MembersAction::Remove {
            member,
            public_key: key,
        } => {
            let action = Action::RemoveMember {
                public_key: public_key(&key)?,
            };
            member.send(action, "removing the member").await?;
        }
        MembersAction::Rotate {
            member,
            new_key,
            public_key: given,
            proof,
            account,
        } => {
            let account = account.as_deref().map(address).transpose()?;
            let new_key = new_key
                .as_deref()
                .map(vellum_client::read_member_key)
                .transpose()?;
            let given = match (given, proof) {
                (Some(key), Some(proof)) => {
                    let proof = vellum_types::unhex(&proof)
                        .and_then(|p| <[u8; 64]>::try_from(p).ok())
                        .ok_or_else(|| anyhow!("--proof must be 0x + 128 hex digits"))?;
                    Some((public_key(&key)?, proof))
                }
                _ => None,
            };
            member
                .send_for(
                    |own, chain_id| {
                        let account = account.unwrap_or(own);
                        let (public_key, proof) = match (&new_key, given) {
                            (Some(key), _) => (
                                vellum_types::public_key(key),
                                prove_rotation(key, chain_id, &account),
                            ),
                            (None, Some(given)) => given,
                            (None, None) => bail!("pass --new-key, or --public-key with --proof"),
                        };
                        Ok(Action::RotateKey {
                            account,
                            public_key,
                            proof,
                        })
                    },
                    "rotating the key",
                )
                .await?;
            println!(
                "rotated: the new key signs for the account; its previous key is refused from \
                 the next transaction"
            );
        }
        MembersAction::Prove { rpc, key, account } => {
            let client = rpc.connect().await?;
            let key = vellum_client::read_member_key(&key)?;
            let account = address(&account)?;
            println!("public key: {}", hex(&vellum_types::public_key(&key)));
            println!(
                "proof:      {}",
                hex(&prove_rotation(&key, client.chain_id(), &account))
            );
        }
    }
    Ok(())
}

/// Run `vellum orgs`: the organisations of the network.
pub async fn orgs(member: Member) -> anyhow::Result<()> {
    let client = member.connect().await?;
    for org in client
        .call("vellum_getOrganisations", rpc_params![])
        .await?
        .as_array()
        .into_iter()
        .flatten()
    {
        println!(
            "{:<24} joined at {}",
            org["name"].as_str().unwrap_or(""),
            org["joined_at"]
        );
    }
    Ok(())
}

/// Run `vellum validators`: the validator set the node follows.
pub async fn validators(rpc: Rpc) -> anyhow::Result<()> {
    let status = rpc.connect().await?.status().await?;
    for validator in status["validators"].as_array().into_iter().flatten() {
        println!(
            "{:<16} {:<24} {}",
            validator["name"].as_str().unwrap_or(""),
            validator["organisation"].as_str().unwrap_or(""),
            validator["public_key"].as_str().unwrap_or("")
        );
    }
    Ok(())
}

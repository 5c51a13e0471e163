//! What each action does: deploy, call, upgrade, approve, add and remove members, and the
//! runtime call underneath them.

use super::{
    admission::{rotated, unknown},
    error::Refusal,
    state::BlockContext,
    BlockError, Executor, METHOD_BYTES_MAX,
};
use crate::{
    executed::StateWrite,
    keys::{self, full_key},
    records::{self, ContractInfo, Member, Signing},
    store::StoreError,
};
use std::sync::Arc;
use vellum_runtime::{Call, CodeHash, Context, Contract, Mode, Outcome, PrepareError};
use vellum_types::{
    address_of, hex, transaction::rotation_proven, Action, Address, Hash, LedgerEvent, Policy,
    Receipt, Role, SignedTransaction, Status, TransactionError,
};

/// The effects of a transaction that succeeded.
pub(super) struct Effects {
    pub(super) output: Vec<u8>,
    pub(super) events: Vec<LedgerEvent>,
    pub(super) writes: Vec<StateWrite>,
    pub(super) contract: Option<Address>,
    pub(super) fuel_used: u64,
}

/// Why a transaction failed, and the fuel it used getting there.
pub(super) struct Failure {
    pub(super) status: Status,
    pub(super) fuel_used: u64,
}

pub(super) fn refused(message: impl Into<String>) -> Failure {
    let mut message = message.into();
    // A refusal may quote what the transaction sent (names, keys): its receipt stays small
    // whatever that was. Cut at a character boundary, the same on every node.
    if message.len() > REFUSAL_BYTES_MAX {
        let mut end = REFUSAL_BYTES_MAX;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    Failure {
        status: Status::Refused(message),
        fuel_used: 0,
    }
}

/// Longest refusal text in a receipt, in bytes (before the `…` that marks a cut).
pub const REFUSAL_BYTES_MAX: usize = 1024;

/// The receipt of code that does not prepare (see `Executor::prepare`): a refusal whose text
/// never carries the compiler's own wording.
fn unprepared(error: PrepareError) -> Failure {
    match error {
        PrepareError::Invalid(error) => refused(format!("invalid contract code: {error}")),
        PrepareError::Instrument(_) | PrepareError::Compile(_) => refused(
            "the code passes validation but this runtime cannot compile it; report the code \
             hash to Vellum's developers",
        ),
    }
}

/// Who is executing what, within a block.
pub(super) struct Caller<'a> {
    pub(super) context: &'a BlockContext,
    pub(super) sender: Address,
    pub(super) nonce: u64,
    pub(super) member: &'a Member,
    pub(super) fuel: u64,
}

pub(super) fn system_effects(writes: Vec<StateWrite>) -> Effects {
    Effects {
        output: Vec::new(),
        events: Vec::new(),
        writes,
        contract: None,
        fuel_used: 0,
    }
}

/// A call's outcome as a receipt sees it: its return data, or how it failed. The one mapping from
/// the runtime's outcomes to receipt statuses, for transactions and queries alike.
pub(super) fn status_of(outcome: Outcome) -> Result<Vec<u8>, Status> {
    match outcome {
        Outcome::Success(output) => Ok(output),
        Outcome::ContractError { code, message } => Err(Status::ContractError { code, message }),
        Outcome::Trap(kind) => Err(Status::Trap(kind.to_string())),
        Outcome::OutOfFuel => Err(Status::OutOfFuel),
    }
}

/// A sender whose transaction passed every check at its position in a block.
pub(super) struct Sender {
    address: Address,
    member: Member,
    nonce: u64,
}

impl Executor {
    /// The checks on `signed`'s sender at its position in a block: chain, fuel limit,
    /// membership and nonce, against the block's state so far.
    pub(super) fn check_in_block(
        &self,
        context: &BlockContext,
        signed: &SignedTransaction,
    ) -> Result<Sender, Refusal> {
        let signing = records::signing(
            &signed.transaction.sender,
            |own| context.record(&keys::alias_key(own), "alias"),
            |account| context.record(&keys::member_key(account), "member"),
        )?;
        let (address, member, known) = match signing {
            Signing::Current { account, member } => (account, Some(member), Ok(())),
            Signing::Retired { account } => (account, None, Err(rotated(signed, &account))),
            Signing::Unknown => (signed.sender(), None, Err(unknown(signed))),
        };
        let nonce = context.read(&keys::nonce_key(&address))?;
        let nonce = self
            .check_sender(signed, known, nonce)
            .map_err(Refusal::Invalid)?;
        let member = member.ok_or_else(|| Refusal::Invalid(unknown(signed)))?;
        let organisation: Option<records::Organisation> = context.record(
            &keys::organisation_key(&member.organisation),
            "organisation",
        )?;
        if organisation.is_some_and(|o| o.removed.is_some()) {
            return Err(Refusal::Invalid(TransactionError::OrganisationRemoved {
                sender: hex(&address),
                organisation: member.organisation,
            }));
        }
        Ok(Sender {
            address,
            member,
            nonce,
        })
    }

    /// Run `signed` (checked: [`Executor::check_in_block`]) and say what it did: its receipt, and
    /// the state writes to apply (the nonce's, and its effects' if it succeeded). A receipt
    /// larger than `transaction_receipt_bytes_max` turns into a failure: a transaction cannot
    /// make a block's receipts overflow on its own.
    pub(super) fn run_transaction(
        &self,
        context: &BlockContext,
        signed: &SignedTransaction,
        hash: Hash,
        sender: Sender,
    ) -> Result<(Receipt, Vec<StateWrite>), BlockError> {
        let nonce_write = (
            keys::nonce_key(&sender.address),
            Some((sender.nonce + 1).to_be_bytes().to_vec()),
        );
        let tx = &signed.transaction;
        let intrinsic = signed.intrinsic_fuel();
        let result = if intrinsic > tx.fuel_limit {
            Err(Failure {
                status: Status::OutOfFuel,
                fuel_used: tx.fuel_limit,
            })
        } else {
            let call = Caller {
                context,
                sender: sender.address,
                nonce: sender.nonce,
                member: &sender.member,
                fuel: tx.fuel_limit - intrinsic,
            };
            self.dispatch(&call, &tx.action)?
        };
        let failed = |failure: Failure| Receipt {
            transaction: hash,
            status: failure.status,
            output: Vec::new(),
            fuel_used: intrinsic
                .saturating_add(failure.fuel_used)
                .min(tx.fuel_limit),
            events: Vec::new(),
            contract: None,
        };
        let (receipt, writes) = match result {
            Ok(effects) => {
                let receipt = Receipt {
                    transaction: hash,
                    status: Status::Success,
                    output: effects.output,
                    fuel_used: intrinsic + effects.fuel_used,
                    events: effects.events,
                    contract: effects.contract,
                };
                let size = receipt.encoded_len() as u64;
                let max = self.genesis.limits.transaction_receipt_bytes_max;
                if size > max {
                    let failure = Failure {
                        status: Status::Refused(format!(
                            "its receipt (return data and events) is {size} bytes; a \
                             transaction's receipt may hold at most {max}"
                        )),
                        fuel_used: effects.fuel_used,
                    };
                    (failed(failure), vec![nonce_write])
                } else {
                    let mut writes = vec![nonce_write];
                    writes.extend(effects.writes);
                    (receipt, writes)
                }
            }
            Err(failure) => (failed(failure), vec![nonce_write]),
        };
        Ok((receipt, writes))
    }

    fn dispatch(
        &self,
        call: &Caller<'_>,
        action: &Action,
    ) -> Result<Result<Effects, Failure>, BlockError> {
        match action {
            Action::Deploy { code, init_args } => self.deploy(call, code, init_args),
            Action::Call {
                contract,
                method,
                args,
            } => self.call(call, contract, method, args),
            Action::Upgrade {
                contract,
                code,
                migrate_args,
            } => self.upgrade(call, contract, code, migrate_args),
            Action::ApproveCode { code_hash } => Ok(self.approve(call, code_hash)),
            Action::AddMember {
                public_key,
                organisation,
                role,
            } => self.add_member(call, public_key, organisation, *role),
            Action::RemoveMember { public_key } => self.remove_member(call, public_key),
            Action::RotateKey {
                account,
                public_key,
                proof,
            } => self.rotate_key(call, account, public_key, proof),
            Action::Propose { change } => self.propose(call, change),
            Action::Approve { proposal } => self.approve_proposal(call, *proposal),
            Action::Withdraw { proposal } => self.withdraw(call, *proposal),
            // Nothing in the world state changes: the holders of the payload read the
            // transaction from the finalized block (private data is not state, so that every
            // validator executes the same way whatever it holds). Its output is the sender's
            // organisation now, so that every holder judges it by the same organisation
            // whenever it reads the block.
            Action::PurgePrivate { .. } => Ok(Ok(Effects {
                output: call.member.organisation.clone().into_bytes(),
                ..system_effects(Vec::new())
            })),
        }
    }

    fn run(
        &self,
        call: &Caller<'_>,
        contract: &Contract,
        address: Address,
        entry_point: &str,
        input: &str,
        fuel: u64,
    ) -> Result<Result<Effects, Failure>, BlockError> {
        let execution = self.runtime.execute_in(
            contract,
            Call {
                entry_point,
                input: input.as_bytes(),
                context: Context {
                    caller: call.sender,
                    contract: address,
                    block_height: call.context.height,
                    block_time_ms: call.context.time_ms,
                },
                fuel_limit: fuel,
                mode: Mode::Transaction,
            },
            call.context.world(false),
        )?;
        let status = match status_of(execution.outcome) {
            Ok(output) => {
                let own = execution.writes.into_iter().map(|w| (address, w));
                let others = execution
                    .other_writes
                    .into_iter()
                    .flat_map(|(contract, writes)| writes.into_iter().map(move |w| (contract, w)));
                return Ok(Ok(Effects {
                    output,
                    events: execution
                        .events
                        .into_iter()
                        .map(|e| LedgerEvent {
                            contract: e.contract,
                            topic: e.topic,
                            data: e.data,
                        })
                        .collect(),
                    writes: own
                        .chain(others)
                        .map(|(contract, w)| (full_key(&contract, &w.key), w.value))
                        .collect(),
                    contract: None,
                    fuel_used: execution.fuel_used,
                }));
            }
            Err(status) => status,
        };
        Ok(Err(Failure {
            status,
            fuel_used: execution.fuel_used,
        }))
    }

    /// Code a deploy or upgrade may install: valid, and prepared.
    pub(super) fn admit_code(
        &self,
        code: &[u8],
    ) -> Result<Result<(Hash, Arc<Contract>), Failure>, BlockError> {
        let code_hash = CodeHash::of(code).0;
        Ok(self.prepare(code)?.map(|contract| (code_hash, contract)))
    }

    /// Code that validation refuses, or that this runtime cannot instrument or compile, is
    /// refused with a receipt. Validation admits only what the compiler handles (the
    /// `wasm_validate` fuzz target checks it), so a failure past it is a defect of the runtime,
    /// the same on every node running it: a receipt keeps the chain going, where a halt would
    /// stop every validator at once. The receipt's text is fixed, never the compiler's wording.
    /// A node whose failure is its own (out of memory) computes a receipt the others do not:
    /// it votes against their block, and halts on the divergence if that block is finalized.
    fn prepare(&self, code: &[u8]) -> Result<Result<Arc<Contract>, Failure>, BlockError> {
        Ok(self.runtime.prepare(code).map_err(unprepared))
    }

    /// A plain deploy: allowed when the deploy policy is met by the sender's organisation alone
    /// (otherwise the deploy needs a proposal), with the default upgrade policy in force.
    fn deploy(
        &self,
        call: &Caller<'_>,
        code: &[u8],
        init_args: &str,
    ) -> Result<Result<Effects, Failure>, BlockError> {
        if call.member.role != Role::Admin {
            return Ok(Err(refused(
                "only organisation admins deploy or upgrade contracts",
            )));
        }
        let rules = self.rules(call.context)?.rules;
        let policy = rules.deploy_policy;
        let organisations = self.organisations(call.context)?.len();
        if !policy.met(1, organisations) {
            return Ok(Err(refused(format!(
                "the deploy policy is {policy}: {} of {organisations} organisations must approve \
                 a deploy; propose it (`vellum gov propose deploy`)",
                policy.required(organisations)
            ))));
        }
        let upgrade_policy = rules.upgrade_policy;
        // The default was checked against the minimum for the organisations of its day; with
        // more, it may need fewer of them than the minimum does.
        if super::governance::policy_allowed(
            upgrade_policy,
            rules.upgrade_policy_minimum,
            organisations,
        )
        .is_err()
        {
            return Ok(Err(refused(format!(
                "the network's default upgrade policy {upgrade_policy} is less strict than its \
                 minimum {} with {organisations} organisations: propose the deploy with a \
                 stricter policy (`vellum gov propose deploy --policy`)",
                rules.upgrade_policy_minimum
            ))));
        }
        self.deploy_as(call, code, init_args, upgrade_policy)
    }

    /// Deploy `code` for `call`'s sender at the address of its nonce, owned by its organisation.
    pub(super) fn deploy_as(
        &self,
        call: &Caller<'_>,
        code: &[u8],
        init_args: &str,
        upgrade_policy: Policy,
    ) -> Result<Result<Effects, Failure>, BlockError> {
        let (code_hash, contract) = match self.admit_code(code)? {
            Ok(admitted) => admitted,
            Err(failure) => return Ok(Err(failure)),
        };
        let address = records::contract_address(&call.sender, call.nonce);
        let mut effects = match self.run(
            call,
            &contract,
            address,
            "instantiate",
            init_args,
            call.fuel,
        )? {
            Ok(effects) => effects,
            Err(failure) => return Ok(Err(failure)),
        };
        let info = ContractInfo {
            code_hash,
            version: 1,
            deployer: call.sender,
            owner: call.member.organisation.clone(),
            deployed_at: call.context.height,
            interface: interface_of(code),
            upgrade_policy,
            frozen: false,
            sequence: 0,
        };
        effects
            .writes
            .push((keys::code_key(&code_hash), Some(code.to_vec())));
        effects.writes.push((
            keys::contract_key(&address),
            Some(borsh::to_vec(&info).unwrap_or_default()),
        ));
        effects.contract = Some(address);
        Ok(Ok(effects))
    }

    pub(super) fn loaded(
        &self,
        call: &Caller<'_>,
        info: &ContractInfo,
    ) -> Result<Arc<Contract>, BlockError> {
        if let Some(contract) = self.runtime.cached(&CodeHash(info.code_hash)) {
            return Ok(contract);
        }
        let code = call
            .context
            .read(&keys::code_key(&info.code_hash))?
            .ok_or_else(|| {
                BlockError::Store(StoreError::Corrupt {
                    table: "state",
                    detail: format!("code {} is missing", hex(&info.code_hash)),
                })
            })?;
        self.runtime
            .prepare(&code)
            .map_err(|source| BlockError::StoredCode {
                code_hash: hex(&info.code_hash),
                source,
            })
    }

    fn call(
        &self,
        call: &Caller<'_>,
        address: &Address,
        method: &str,
        args: &str,
    ) -> Result<Result<Effects, Failure>, BlockError> {
        if method.is_empty()
            || method.len() > METHOD_BYTES_MAX
            || !method
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            let shown: String = method.chars().take(METHOD_BYTES_MAX).collect();
            return Ok(Err(refused(format!("`{shown}` is not a method name (letters, digits and _, at most {METHOD_BYTES_MAX} bytes)"))));
        }
        let Some(info) = call
            .context
            .record::<ContractInfo>(&keys::contract_key(address), "contract")?
        else {
            return Ok(Err(refused(format!("no contract at {}", hex(address)))));
        };
        if info.frozen {
            return Ok(Err(refused(format!(
                "contract {} is frozen: it serves queries but takes no calls until its owner \
                 unfreezes it",
                hex(address)
            ))));
        }
        let contract = self.loaded(call, &info)?;
        self.run(
            call,
            &contract,
            *address,
            &format!("execute.{method}"),
            args,
            call.fuel,
        )
    }

    /// A plain upgrade: by an admin of the contract's owner, when its upgrade policy is met by
    /// the owner alone (otherwise the upgrade needs a proposal).
    fn upgrade(
        &self,
        call: &Caller<'_>,
        address: &Address,
        code: &[u8],
        migrate_args: &str,
    ) -> Result<Result<Effects, Failure>, BlockError> {
        let Some(info) = call
            .context
            .record::<ContractInfo>(&keys::contract_key(address), "contract")?
        else {
            return Ok(Err(refused(format!("no contract at {}", hex(address)))));
        };
        let owner = self.owner_of(call.context, &info.owner)?;
        if call.member.role != Role::Admin || call.member.organisation != owner {
            return Ok(Err(refused(format!(
                "contract {} belongs to organisation {owner}; only its admins may upgrade it",
                hex(address),
            ))));
        }
        let organisations = self.organisations(call.context)?.len();
        if !info.upgrade_policy.met(1, organisations) {
            return Ok(Err(refused(format!(
                "contract {}'s upgrade policy is {}: {} of {organisations} organisations must \
                 approve an upgrade; propose it (`vellum gov propose upgrade`)",
                hex(address),
                info.upgrade_policy,
                info.upgrade_policy.required(organisations)
            ))));
        }
        self.upgrade_to(call, address, info, code, migrate_args)
    }

    /// Install `code` over the contract at `address` (record `info`) and run its `migrate`.
    pub(super) fn upgrade_to(
        &self,
        call: &Caller<'_>,
        address: &Address,
        mut info: ContractInfo,
        code: &[u8],
        migrate_args: &str,
    ) -> Result<Result<Effects, Failure>, BlockError> {
        let (code_hash, contract) = match self.admit_code(code)? {
            Ok(admitted) => admitted,
            Err(failure) => return Ok(Err(failure)),
        };
        let mut effects = if contract.entry_points().any(|e| e == "migrate") {
            match self.run(
                call,
                &contract,
                *address,
                "migrate",
                migrate_args,
                call.fuel,
            )? {
                Ok(effects) => effects,
                Err(failure) => return Ok(Err(failure)),
            }
        } else if matches!(migrate_args.trim(), "" | "{}" | "null") {
            Effects {
                output: Vec::new(),
                events: Vec::new(),
                writes: Vec::new(),
                contract: None,
                fuel_used: 0,
            }
        } else {
            return Ok(Err(refused(
                "the new code has no `migrate` entry point to take migrate_args",
            )));
        };
        info.code_hash = code_hash;
        info.version += 1;
        info.sequence += 1;
        info.interface = interface_of(code);
        effects
            .writes
            .push((keys::code_key(&code_hash), Some(code.to_vec())));
        effects.writes.push((
            keys::contract_key(address),
            Some(borsh::to_vec(&info).unwrap_or_default()),
        ));
        Ok(Ok(effects))
    }

    /// The legacy `ApproveCode`: recorded, and counted by no rule since deploys and upgrades are
    /// approved by proposal.
    fn approve(&self, call: &Caller<'_>, code_hash: &Hash) -> Result<Effects, Failure> {
        if call.member.role != Role::Admin {
            return Err(refused("only organisation admins approve code"));
        }
        let key = keys::approval_key(code_hash, &call.member.organisation);
        Ok(system_effects(vec![(
            key,
            Some(call.context.height.to_be_bytes().to_vec()),
        )]))
    }

    fn add_member(
        &self,
        call: &Caller<'_>,
        public_key: &[u8; 33],
        organisation: &str,
        role: Role,
    ) -> Result<Result<Effects, Failure>, BlockError> {
        if call.member.role != Role::Admin || call.member.organisation != organisation {
            return Ok(Err(refused(format!(
                "only admins of `{organisation}` add its members"
            ))));
        }
        if k256::PublicKey::from_sec1_bytes(public_key).is_err() {
            return Ok(Err(refused("not a compressed secp256k1 public key")));
        }
        // An identity belongs to one organisation and changes only through that organisation's
        // admins: adding an existing member would let one organisation take over (or demote)
        // another's identities.
        if let Some(failure) = key_in_use(call.context, public_key)? {
            return Ok(Err(failure));
        }
        let key = keys::member_key(&address_of(public_key));
        let member = Member {
            public_key: *public_key,
            organisation: organisation.to_string(),
            role,
        };
        Ok(Ok(system_effects(vec![(
            key,
            Some(borsh::to_vec(&member).unwrap_or_default()),
        )])))
    }

    fn remove_member(
        &self,
        call: &Caller<'_>,
        public_key: &[u8; 33],
    ) -> Result<Result<Effects, Failure>, BlockError> {
        // The member whose current or former key this is.
        let address = records::account_of(&address_of(public_key), |own| {
            call.context.record(&keys::alias_key(own), "alias")
        })?;
        let Some(target) = call
            .context
            .record::<Member>(&keys::member_key(&address), "member")?
        else {
            return Ok(Err(refused(format!("{} is not a member", hex(&address)))));
        };
        if call.member.role != Role::Admin || call.member.organisation != target.organisation {
            return Ok(Err(refused(format!(
                "only admins of `{}` remove its members",
                target.organisation
            ))));
        }
        if address == call.sender {
            return Ok(Err(refused("an admin cannot remove itself")));
        }
        Ok(Ok(system_effects(vec![(keys::member_key(&address), None)])))
    }

    /// Make `public_key` the key of member `account`: the account's own transaction, or an
    /// admin's of its organisation. Its membership keeps its address (so its nonce and every
    /// role a contract gave it) and takes the new key; the key's alias names the account.
    fn rotate_key(
        &self,
        call: &Caller<'_>,
        account: &Address,
        public_key: &[u8; 33],
        proof: &[u8; 64],
    ) -> Result<Result<Effects, Failure>, BlockError> {
        let Some(mut target) = call
            .context
            .record::<Member>(&keys::member_key(account), "member")?
        else {
            return Ok(Err(refused(format!("{} is not a member", hex(account)))));
        };
        let admin =
            call.member.role == Role::Admin && call.member.organisation == target.organisation;
        if *account != call.sender && !admin {
            return Ok(Err(refused(format!(
                "only the account itself or an admin of `{}` rotates its key",
                target.organisation
            ))));
        }
        if k256::PublicKey::from_sec1_bytes(public_key).is_err() {
            return Ok(Err(refused("not a compressed secp256k1 public key")));
        }
        if let Some(failure) = key_in_use(call.context, public_key)? {
            return Ok(Err(failure));
        }
        // A key that ever signed for an account (its own address has a nonce) is not given to
        // another: that address keeps naming the account it was.
        let own = address_of(public_key);
        if call.context.read(&keys::nonce_key(&own))?.is_some() {
            return Ok(Err(refused(format!(
                "{} is the address of an account that sent transactions; a key is used once",
                hex(&own)
            ))));
        }
        if !rotation_proven(public_key, proof, &self.genesis.chain_id, account) {
            return Ok(Err(refused(
                "the proof is not the new key's signature of this rotation: sign \
                 keccak256(\"vellum-rotate-key-v1\" ‖ borsh(chain id) ‖ account ‖ new key) with the \
                 new key (docs/transactions.md §5)",
            )));
        }
        target.public_key = *public_key;
        Ok(Ok(system_effects(vec![
            (
                keys::member_key(account),
                Some(borsh::to_vec(&target).unwrap_or_default()),
            ),
            (keys::alias_key(&own), Some(account.to_vec())),
        ])))
    }
}

/// Why `public_key` cannot be given to an identity, if it cannot: a key signs for one account,
/// once. It may not be a member's address key (current or rotated away from) nor a key some
/// account rotated to.
pub(super) fn key_in_use(
    context: &BlockContext,
    public_key: &[u8; 33],
) -> Result<Option<Failure>, BlockError> {
    let own = address_of(public_key);
    if context.read(&keys::member_key(&own))?.is_some() {
        return Ok(Some(refused(format!(
            "{} is already a member; its organisation must remove it first",
            hex(&own)
        ))));
    }
    if let Some(account) = context.record::<Address>(&keys::alias_key(&own), "alias")? {
        return Ok(Some(refused(format!(
            "key {} was given to account {} by a key rotation; a key is used once",
            hex(public_key),
            hex(&account)
        ))));
    }
    Ok(None)
}

/// The `vellum:interface` custom section of `code`, or empty.
pub fn interface_of(code: &[u8]) -> String {
    wasmparser::Parser::new(0)
        .parse_all(code)
        .filter_map(Result::ok)
        .find_map(|payload| match payload {
            wasmparser::Payload::CustomSection(reader) if reader.name() == "vellum:interface" => {
                Some(String::from_utf8_lossy(reader.data()).into_owned())
            }
            _ => None,
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Code that passes validation but does not compile is a runtime defect the same on every
    /// validator: a refused deploy with a fixed text, never an error that halts them all, and
    /// never wording that changes with the compiler's version. (No module is known to reach
    /// this; the `wasm_validate` fuzz target checks that whatever validation admits prepares.)
    #[test]
    fn code_that_does_not_compile_is_refused_with_a_fixed_text() {
        let first = unprepared(PrepareError::Compile("cranelift: one wording".into()));
        let second = unprepared(PrepareError::Compile("cranelift: another wording".into()));
        let Status::Refused(text) = &first.status else {
            panic!("expected a refusal, got {:?}", first.status);
        };
        assert!(text.contains("cannot compile"), "{text}");
        assert!(!text.contains("cranelift"), "{text}");
        assert_eq!(first.status, second.status);
        assert_eq!(first.fuel_used, 0);
    }
}

//! Proposals: propose, approve, withdraw, and the changes they execute once their policy is met
//! (`docs/governance.md`).

use super::{
    actions::{refused, system_effects, Caller, Effects, Failure},
    state::BlockContext,
    BlockError, Executor,
};
use crate::{
    executed::StateWrite,
    keys,
    records::{ContractInfo, Member, Organisation, Proposal, Removal, RulesRecord},
};
use vellum_types::{
    address_of,
    governance::{valid_organisation_name, JOINING_ADMINS_MAX, ORGANISATIONS_MAX},
    hex, Change, Policy, Role,
};

type Outcome = Result<Result<Effects, Failure>, BlockError>;

/// Who must approve a change: the policy, and the organisation whose approval is needed besides
/// (a contract's owner).
struct Requirement {
    policy: Policy,
    owner: Option<String>,
    /// The record of the contract changed, for a change to one.
    contract: Option<ContractInfo>,
    /// The sequence the change must be made at: the contract's, or the rules'.
    sequence: Option<u64>,
}

/// A vote's receipt output.
#[derive(serde::Serialize)]
struct Vote<'a> {
    /// The proposal's number.
    proposal: u64,
    /// The organisations whose approvals count, this one's included.
    approvals: Vec<&'a str>,
    /// How many approvals the policy needs.
    required: usize,
    /// The organisation whose approval is needed besides, for a change to a contract.
    owner: Option<&'a str>,
    /// Whether the change was made by this transaction.
    executed: bool,
    /// The output of the code the change ran (`instantiate` or `migrate`), if any.
    output: Option<String>,
}

impl Executor {
    /// The governance rules in force: genesis's at sequence 0 until a proposal changes them.
    pub(super) fn rules(&self, context: &BlockContext) -> Result<RulesRecord, BlockError> {
        Ok(context
            .record::<RulesRecord>(&keys::rules_key(), "rules")?
            .unwrap_or_else(|| RulesRecord {
                rules: self.genesis.rules(),
                sequence: 0,
                changed_at: 0,
            }))
    }

    /// The names of the organisations that have not left, sorted.
    pub(super) fn organisations(&self, context: &BlockContext) -> Result<Vec<String>, BlockError> {
        Ok(context
            .record::<Vec<String>>(&keys::organisations_key(), "organisations")?
            .unwrap_or_default())
    }

    /// The organisation that owns what `owner` owned ([`crate::records::owner_of`]).
    pub(super) fn owner_of(
        &self,
        context: &BlockContext,
        owner: &str,
    ) -> Result<String, BlockError> {
        crate::records::owner_of(owner, |name| {
            context.record(&keys::organisation_key(name), "organisation")
        })
    }

    pub(super) fn propose(&self, call: &Caller<'_>, change: &Change) -> Outcome {
        if call.member.role != Role::Admin {
            return Ok(Err(refused("only organisation admins propose changes")));
        }
        // A proposal that could not execute now is refused rather than left to expire.
        let organisations = self.organisations(call.context)?;
        let sequence = match self.check_change(call, change, &organisations)? {
            Ok(sequence) => sequence,
            Err(failure) => return Ok(Err(failure)),
        };
        let last = crate::store::nonce_of(call.context.read(&keys::proposals_key())?);
        let id = last + 1;
        let lifetime = self.rules(call.context)?.rules.proposal_lifetime_blocks;
        let proposal = Proposal {
            id,
            proposer: call.sender,
            organisation: call.member.organisation.clone(),
            nonce: call.nonce,
            change: change.clone(),
            proposed_at: call.context.height,
            expires_at: call.context.height.saturating_add(lifetime),
            sequence,
        };
        let writes = vec![
            (keys::proposals_key(), Some(id.to_be_bytes().to_vec())),
            (
                keys::proposal_key(id),
                Some(borsh::to_vec(&proposal).unwrap_or_default()),
            ),
        ];
        self.vote(call, &proposal, writes)
    }

    pub(super) fn approve_proposal(&self, call: &Caller<'_>, id: u64) -> Outcome {
        if call.member.role != Role::Admin {
            return Ok(Err(refused("only organisation admins approve proposals")));
        }
        let proposal = match self.open_proposal(call.context, id)? {
            Ok(proposal) => proposal,
            Err(failure) => return Ok(Err(failure)),
        };
        let organisation = &call.member.organisation;
        if let Some(height) = call.context.read(&keys::vote_key(id, organisation))? {
            return Ok(Err(refused(format!(
                "organisation {organisation} approved proposal {id} at height {} already",
                crate::store::nonce_of(Some(height))
            ))));
        }
        self.vote(call, &proposal, Vec::new())
    }

    pub(super) fn withdraw(&self, call: &Caller<'_>, id: u64) -> Outcome {
        if call.member.role != Role::Admin {
            return Ok(Err(refused("only organisation admins withdraw approvals")));
        }
        if let Err(failure) = self.open_proposal(call.context, id)? {
            return Ok(Err(failure));
        }
        let key = keys::vote_key(id, &call.member.organisation);
        if call.context.read(&key)?.is_none() {
            return Ok(Err(refused(format!(
                "organisation {} has not approved proposal {id}",
                call.member.organisation
            ))));
        }
        Ok(Ok(system_effects(vec![(key, None)])))
    }

    /// Proposal `id` if it may still execute.
    fn open_proposal(
        &self,
        context: &BlockContext,
        id: u64,
    ) -> Result<Result<Proposal, Failure>, BlockError> {
        let Some(proposal) = context.record::<Proposal>(&keys::proposal_key(id), "proposal")?
        else {
            return Ok(Err(refused(format!("there is no proposal {id}"))));
        };
        if let Some(height) = context.read(&keys::executed_key(id))? {
            return Ok(Err(refused(format!(
                "proposal {id} was executed at height {}",
                crate::store::nonce_of(Some(height))
            ))));
        }
        if context.height > proposal.expires_at {
            return Ok(Err(refused(format!(
                "proposal {id} expired after height {}",
                proposal.expires_at
            ))));
        }
        if let (Change::SetRules { .. }, Some(sequence)) = (&proposal.change, proposal.sequence) {
            let current = self.rules(context)?;
            if current.sequence != sequence {
                return Ok(Err(stale_rules(&current, &proposal)));
            }
        }
        if let (Some(contract), Some(sequence)) = (proposal.change.contract(), proposal.sequence) {
            if let Some(info) =
                context.record::<ContractInfo>(&keys::contract_key(contract), "contract")?
            {
                if info.sequence != sequence {
                    return Ok(Err(stale(contract, &info, &proposal)));
                }
            }
        }
        Ok(Ok(proposal))
    }

    /// Whether `change` could be made now, checked when it is proposed (and again, by the
    /// change itself, when it executes); for a change to a contract, the contract's sequence.
    fn check_change(
        &self,
        call: &Caller<'_>,
        change: &Change,
        organisations: &[String],
    ) -> Result<Result<Option<u64>, Failure>, BlockError> {
        let requirement = match self.requirement(call.context, change)? {
            Ok(requirement) => requirement,
            Err(failure) => return Ok(Err(failure)),
        };
        let current = self.rules(call.context)?;
        let minimum = current.rules.upgrade_policy_minimum;
        let checked = match change {
            Change::Deploy {
                code,
                upgrade_policy,
                ..
            } => match policy_allowed(*upgrade_policy, minimum, organisations.len()) {
                Ok(()) => self.admit_code(code)?.map(drop),
                Err(failure) => Err(failure),
            },
            Change::Upgrade {
                contract,
                version,
                code,
                ..
            } => match &requirement.contract {
                Some(info) if info.version != *version => Err(refused(format!(
                    "contract {} is at version {}, not {version}",
                    hex(contract),
                    info.version
                ))),
                _ => self.admit_code(code)?.map(drop),
            },
            Change::SetUpgradePolicy { policy, .. } => {
                policy_allowed(*policy, minimum, organisations.len())
            }
            Change::Freeze { contract } | Change::Unfreeze { contract } => {
                let freeze = matches!(change, Change::Freeze { .. });
                match &requirement.contract {
                    Some(info) if info.frozen == freeze => Err(refused(format!(
                        "contract {} is {} already",
                        hex(contract),
                        if freeze { "frozen" } else { "not frozen" }
                    ))),
                    _ => Ok(()),
                }
            }
            Change::AddOrganisation { name, admins } => self
                .add_organisation(call, name, admins, organisations)?
                .map(drop),
            Change::RemoveOrganisation { name, successor } => self
                .remove_organisation(call, name, successor, organisations)?
                .map(drop),
            Change::SetRules { rules, sequence } => {
                if *sequence != current.sequence {
                    Err(refused(format!(
                        "the rules have had {} changes, not {sequence}: read them again \
                         (`vellum gov rules`) and propose against those",
                        current.sequence
                    )))
                } else if let Err(rule) = rules.check(organisations.len()) {
                    Err(refused(format!("these rules cannot work: {rule}")))
                } else if *rules == current.rules {
                    Err(refused("these are the rules in force already"))
                } else {
                    Ok(())
                }
            }
        };
        Ok(checked.map(|()| requirement.sequence))
    }

    /// Record `call`'s organisation's approval of `proposal` (with `writes` before it), and
    /// execute the change if the approvals now meet its policy.
    fn vote(&self, call: &Caller<'_>, proposal: &Proposal, mut writes: Vec<StateWrite>) -> Outcome {
        let requirement = match self.requirement(call.context, &proposal.change)? {
            Ok(requirement) => requirement,
            Err(failure) => return Ok(Err(failure)),
        };
        let organisation = &call.member.organisation;
        let organisations = self.organisations(call.context)?;
        // An organisation's own removal is decided by the others: it neither votes nor counts.
        let subject = match &proposal.change {
            Change::RemoveOrganisation { name, .. } => Some(name.as_str()),
            _ => None,
        };
        if subject == Some(organisation.as_str()) {
            return Ok(Err(refused(format!(
                "proposal {} removes organisation {organisation}: the other organisations decide it",
                proposal.id
            ))));
        }
        let electorate: Vec<&str> = organisations
            .iter()
            .map(String::as_str)
            .filter(|name| Some(*name) != subject)
            .collect();
        let mut approvals = Vec::new();
        for name in &electorate {
            if *name == organisation
                || call
                    .context
                    .read(&keys::vote_key(proposal.id, name))?
                    .is_some()
            {
                approvals.push(*name);
            }
        }
        writes.push((
            keys::vote_key(proposal.id, organisation),
            Some(call.context.height.to_be_bytes().to_vec()),
        ));
        // A removal needs, besides, more than half of all the organisations (the leaving one
        // included): otherwise the others could shrink the network one by one.
        let required = match subject {
            Some(_) => requirement
                .policy
                .required(electorate.len())
                .max(Policy::Majority.required(organisations.len())),
            None => requirement.policy.required(electorate.len()),
        };
        let met = requirement
            .owner
            .as_ref()
            .is_none_or(|owner| approvals.contains(&owner.as_str()))
            && approvals.len() >= required;
        let mut effects = if met {
            match self.execute_change(call, proposal, &organisations)? {
                Ok(effects) => effects,
                Err(failure) => return Ok(Err(failure)),
            }
        } else {
            system_effects(Vec::new())
        };
        if met {
            writes.push((
                keys::executed_key(proposal.id),
                Some(call.context.height.to_be_bytes().to_vec()),
            ));
        }
        writes.append(&mut effects.writes);
        effects.writes = writes;
        let output = (!effects.output.is_empty())
            .then(|| String::from_utf8_lossy(&effects.output).into_owned());
        effects.output = serde_json::to_vec(&Vote {
            proposal: proposal.id,
            approvals,
            required,
            owner: requirement.owner.as_deref(),
            executed: met,
            output,
        })
        .unwrap_or_default();
        Ok(Ok(effects))
    }

    /// Who must approve `change`, or why it cannot be made at all.
    fn requirement(
        &self,
        context: &BlockContext,
        change: &Change,
    ) -> Result<Result<Requirement, Failure>, BlockError> {
        if let Some(contract) = change.contract() {
            let Some(info) =
                context.record::<ContractInfo>(&keys::contract_key(contract), "contract")?
            else {
                return Ok(Err(refused(format!("no contract at {}", hex(contract)))));
            };
            return Ok(Ok(Requirement {
                policy: info.upgrade_policy,
                owner: Some(self.owner_of(context, &info.owner)?),
                sequence: Some(info.sequence),
                contract: Some(info),
            }));
        }
        let current = self.rules(context)?;
        let (policy, sequence) = match change {
            Change::Deploy { .. } => (current.rules.deploy_policy, None),
            Change::SetRules { .. } => (current.rules.rules_policy, Some(current.sequence)),
            _ => (current.rules.membership_policy, None),
        };
        Ok(Ok(Requirement {
            policy,
            owner: None,
            contract: None,
            sequence,
        }))
    }

    /// The proposer of `proposal`, as the caller a deploy's `instantiate` or an upgrade's
    /// `migrate` sees: it must still be an identity of the organisation it proposed for.
    fn proposer(
        &self,
        context: &BlockContext,
        proposal: &Proposal,
    ) -> Result<Result<Member, Failure>, BlockError> {
        let member = context.record::<Member>(&keys::member_key(&proposal.proposer), "member")?;
        let removed = context
            .record::<Organisation>(
                &keys::organisation_key(&proposal.organisation),
                "organisation",
            )?
            .is_none_or(|record| record.removed.is_some());
        match member {
            Some(member)
                if member.organisation == proposal.organisation
                    && member.role == Role::Admin
                    && !removed =>
            {
                Ok(Ok(member))
            }
            _ => Ok(Err(refused(format!(
                "the proposer {} is no longer an admin of organisation {}; propose the change again",
                hex(&proposal.proposer),
                proposal.organisation
            )))),
        }
    }

    /// Make `proposal`'s change, its policy being met.
    fn execute_change(
        &self,
        call: &Caller<'_>,
        proposal: &Proposal,
        organisations: &[String],
    ) -> Outcome {
        let contract_info = |address| -> Result<Result<ContractInfo, Failure>, BlockError> {
            let info = call
                .context
                .record::<ContractInfo>(&keys::contract_key(address), "contract")?
                .ok_or_else(|| {
                    BlockError::Store(crate::store::StoreError::Corrupt {
                        table: "state",
                        detail: format!("contract {} vanished", hex(address)),
                    })
                })?;
            if Some(info.sequence) != proposal.sequence {
                return Ok(Err(stale(address, &info, proposal)));
            }
            Ok(Ok(info))
        };
        let set_info = |address, mut info: ContractInfo| {
            info.sequence += 1;
            system_effects(vec![(
                keys::contract_key(address),
                Some(borsh::to_vec(&info).unwrap_or_default()),
            )])
        };
        // Code runs as the proposer, as if it had made the change with the proposing
        // transaction (whose nonce gives a deployed contract its address).
        let as_proposer = |f: &dyn Fn(&Caller<'_>) -> Outcome| -> Outcome {
            let member = match self.proposer(call.context, proposal)? {
                Ok(member) => member,
                Err(failure) => return Ok(Err(failure)),
            };
            f(&Caller {
                context: call.context,
                sender: proposal.proposer,
                nonce: proposal.nonce,
                member: &member,
                fuel: call.fuel,
            })
        };
        let current = self.rules(call.context)?;
        let minimum = current.rules.upgrade_policy_minimum;
        match &proposal.change {
            Change::Deploy {
                code,
                init_args,
                upgrade_policy,
            } => {
                if let Err(failure) = policy_allowed(*upgrade_policy, minimum, organisations.len())
                {
                    return Ok(Err(failure));
                }
                as_proposer(&|proposer| self.deploy_as(proposer, code, init_args, *upgrade_policy))
            }
            Change::Upgrade {
                contract,
                code,
                migrate_args,
                ..
            } => {
                let info = match contract_info(contract)? {
                    Ok(info) => info,
                    Err(failure) => return Ok(Err(failure)),
                };
                as_proposer(&|proposer| {
                    self.upgrade_to(proposer, contract, info.clone(), code, migrate_args)
                })
            }
            Change::Freeze { contract } | Change::Unfreeze { contract } => {
                let mut info = match contract_info(contract)? {
                    Ok(info) => info,
                    Err(failure) => return Ok(Err(failure)),
                };
                info.frozen = matches!(proposal.change, Change::Freeze { .. });
                Ok(Ok(set_info(contract, info)))
            }
            Change::SetUpgradePolicy { contract, policy } => {
                if let Err(failure) = policy_allowed(*policy, minimum, organisations.len()) {
                    return Ok(Err(failure));
                }
                let mut info = match contract_info(contract)? {
                    Ok(info) => info,
                    Err(failure) => return Ok(Err(failure)),
                };
                info.upgrade_policy = *policy;
                Ok(Ok(set_info(contract, info)))
            }
            Change::AddOrganisation { name, admins } => {
                self.add_organisation(call, name, admins, organisations)
            }
            Change::RemoveOrganisation { name, successor } => {
                self.remove_organisation(call, name, successor, organisations)
            }
            Change::SetRules { rules, sequence } => {
                if *sequence != current.sequence || proposal.sequence != Some(current.sequence) {
                    return Ok(Err(stale_rules(&current, proposal)));
                }
                // The organisations may have changed since it was proposed.
                if let Err(rule) = rules.check(organisations.len()) {
                    return Ok(Err(refused(format!("these rules cannot work: {rule}"))));
                }
                let record = RulesRecord {
                    rules: *rules,
                    sequence: current.sequence + 1,
                    changed_at: call.context.height,
                };
                Ok(Ok(system_effects(vec![(
                    keys::rules_key(),
                    Some(borsh::to_vec(&record).unwrap_or_default()),
                )])))
            }
        }
    }

    fn add_organisation(
        &self,
        call: &Caller<'_>,
        name: &str,
        admins: &[vellum_types::PublicKey],
        organisations: &[String],
    ) -> Outcome {
        if !valid_organisation_name(name) {
            return Ok(Err(refused(format!(
                "`{}` is not an organisation name (1 to 64 bytes of a-z, 0-9, -, _ and .)",
                name.chars().take(64).collect::<String>()
            ))));
        }
        if let Some(record) = call
            .context
            .record::<Organisation>(&keys::organisation_key(name), "organisation")?
        {
            let when = match record.removed {
                Some(removal) => format!("left at height {}; names are not reused", removal.height),
                None => "is a member".to_string(),
            };
            return Ok(Err(refused(format!("organisation `{name}` {when}"))));
        }
        if organisations.len() >= ORGANISATIONS_MAX {
            return Ok(Err(refused(format!(
                "the network has {ORGANISATIONS_MAX} organisations, its most"
            ))));
        }
        if admins.is_empty() || admins.len() > JOINING_ADMINS_MAX {
            return Ok(Err(refused(format!(
                "an organisation joins with 1 to {JOINING_ADMINS_MAX} admin keys"
            ))));
        }
        let mut writes = Vec::new();
        for (i, key) in admins.iter().enumerate() {
            if k256::PublicKey::from_sec1_bytes(key).is_err() {
                return Ok(Err(refused(format!(
                    "{} is not a compressed secp256k1 public key",
                    hex(key)
                ))));
            }
            if admins[..i].contains(key) {
                return Ok(Err(refused(format!("{} is listed twice", hex(key)))));
            }
            if let Some(failure) = super::actions::key_in_use(call.context, key)? {
                return Ok(Err(failure));
            }
            let member_key = keys::member_key(&address_of(key));
            let member = Member {
                public_key: *key,
                organisation: name.to_string(),
                role: Role::Admin,
            };
            writes.push((member_key, Some(borsh::to_vec(&member).unwrap_or_default())));
        }
        let record = Organisation {
            joined_at: call.context.height,
            removed: None,
        };
        writes.push((
            keys::organisation_key(name),
            Some(borsh::to_vec(&record).unwrap_or_default()),
        ));
        let mut names = organisations.to_vec();
        names.push(name.to_string());
        names.sort();
        writes.push((
            keys::organisations_key(),
            Some(borsh::to_vec(&names).unwrap_or_default()),
        ));
        Ok(Ok(system_effects(writes)))
    }

    fn remove_organisation(
        &self,
        call: &Caller<'_>,
        name: &str,
        successor: &str,
        organisations: &[String],
    ) -> Outcome {
        let member_of = |n: &str| organisations.iter().any(|o| o == n);
        if !member_of(name) {
            return Ok(Err(refused(format!(
                "`{name}` is not an organisation of the network"
            ))));
        }
        if successor == name || !member_of(successor) {
            return Ok(Err(refused(format!(
                "the successor `{successor}` must be another organisation of the network"
            ))));
        }
        if let Some(validator) = self
            .genesis
            .validators
            .iter()
            .find(|v| v.organisation == name)
        {
            return Ok(Err(refused(format!(
                "`{name}` operates validator {}; validator set changes are not supported yet, \
                 so an organisation with a validator cannot leave",
                validator.name
            ))));
        }
        let Some(mut record) = call
            .context
            .record::<Organisation>(&keys::organisation_key(name), "organisation")?
        else {
            return Ok(Err(refused(format!("`{name}` has no record"))));
        };
        record.removed = Some(Removal {
            height: call.context.height,
            successor: successor.to_string(),
        });
        let names: Vec<String> = organisations
            .iter()
            .filter(|o| *o != name)
            .cloned()
            .collect();
        Ok(Ok(system_effects(vec![
            (
                keys::organisation_key(name),
                Some(borsh::to_vec(&record).unwrap_or_default()),
            ),
            (
                keys::organisations_key(),
                Some(borsh::to_vec(&names).unwrap_or_default()),
            ),
        ])))
    }
}

/// Whether a contract may have `policy`, with `organisations` organisations and the network's
/// `minimum`.
pub(super) fn policy_allowed(
    policy: Policy,
    minimum: Policy,
    organisations: usize,
) -> Result<(), Failure> {
    if policy == (Policy::MOfN { m: 0 }) {
        return Err(refused("m_of_n needs m of at least 1"));
    }
    if policy.required(organisations) < minimum.required(organisations) {
        return Err(refused(format!(
            "upgrade policy {policy} is less strict than the network's minimum {minimum}"
        )));
    }
    Ok(())
}

/// Why `proposal` can no longer change the rules (record `current`): another change came first.
fn stale_rules(current: &RulesRecord, proposal: &Proposal) -> Failure {
    refused(format!(
        "the rules have had {} changes, the last at height {}; proposal {} was made after {}: \
         propose the change again",
        current.sequence,
        current.changed_at,
        proposal.id,
        proposal.sequence.unwrap_or_default()
    ))
}

/// Why `proposal` can no longer change `contract` (record `info`): another change came first.
fn stale(contract: &[u8; 32], info: &ContractInfo, proposal: &Proposal) -> Failure {
    refused(format!(
        "contract {} has had {} changes; proposal {} was made after {}: propose the change again",
        hex(contract),
        info.sequence,
        proposal.id,
        proposal.sequence.unwrap_or_default()
    ))
}

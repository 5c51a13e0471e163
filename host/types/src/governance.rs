//! Governance: the changes organisations make to a running network together, the policies that
//! say who must approve each, and the rules genesis sets for them (`docs/governance.md`).
//!
//! A change is made by a proposal ([`Action::Propose`](crate::Action::Propose)) that names it
//! exactly. Admins approve it for their organisation or withdraw that approval; it executes, once
//! and atomically, in the transaction whose approval meets its policy, and not after it expires.

use crate::transaction::{Address, PublicKey};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Longest organisation name, in bytes.
pub const ORGANISATION_NAME_BYTES_MAX: usize = 64;
/// Most organisations a network may have at once.
pub const ORGANISATIONS_MAX: usize = 64;
/// Most admin keys an organisation may join with.
pub const JOINING_ADMINS_MAX: usize = 16;

/// Who must approve a change. For a change to a contract the owning organisation's approval is
/// always needed as well: the policy says who else must agree.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// One organisation: any whose admin approves (the owner, for a contract).
    AnyAdmin,
    /// The owning organisation alone (one organisation, where nothing is owned).
    Owner,
    /// `m` organisations (every organisation, while there are fewer than `m`).
    MOfN {
        /// How many.
        m: u32,
    },
    /// More than half of the organisations.
    Majority,
    /// Every organisation.
    All,
}

impl Policy {
    /// How many organisations of `organisations` must approve.
    pub fn required(&self, organisations: usize) -> usize {
        match self {
            Policy::AnyAdmin | Policy::Owner => 1,
            Policy::MOfN { m } => (*m as usize).clamp(1, organisations.max(1)),
            Policy::Majority => organisations / 2 + 1,
            Policy::All => organisations.max(1),
        }
    }

    /// Whether `approvals` organisations (the owner's among them, where there is one) of
    /// `organisations` meet the policy.
    pub fn met(&self, approvals: usize, organisations: usize) -> bool {
        approvals >= self.required(organisations)
    }

    /// The policy as `vellum gov` writes it: `any_admin`, `owner`, `m_of_n:M`, `majority`, `all`.
    pub fn parse(text: &str) -> Option<Policy> {
        match text {
            "any_admin" => Some(Policy::AnyAdmin),
            "owner" => Some(Policy::Owner),
            "majority" => Some(Policy::Majority),
            "all" => Some(Policy::All),
            _ => {
                let m = text.strip_prefix("m_of_n:")?.parse().ok()?;
                (m > 0).then_some(Policy::MOfN { m })
            }
        }
    }
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Policy::AnyAdmin => f.write_str("any_admin"),
            Policy::Owner => f.write_str("owner"),
            Policy::MOfN { m } => write!(f, "m_of_n:{m}"),
            Policy::Majority => f.write_str("majority"),
            Policy::All => f.write_str("all"),
        }
    }
}

/// What a proposal changes.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Change {
    /// Deploy `code` as a new contract owned by the proposer's organisation, with
    /// `upgrade_policy`, under the deploy policy in force. Its address is the one a plain deploy
    /// by the proposer would get with the proposal's transaction nonce.
    Deploy {
        /// The wasm.
        code: Vec<u8>,
        /// JSON arguments of `instantiate`.
        init_args: String,
        /// Who must approve the contract's later changes, besides its owner.
        upgrade_policy: Policy,
    },
    /// Replace `contract`'s code if it is still at `version`, and run `migrate`.
    Upgrade {
        /// The contract.
        contract: Address,
        /// Its version the proposal was made against; any other refuses the change.
        version: u32,
        /// The new wasm.
        code: Vec<u8>,
        /// JSON arguments of `migrate`.
        migrate_args: String,
    },
    /// Make `contract` refuse calls (queries still run).
    Freeze {
        /// The contract.
        contract: Address,
    },
    /// Let a frozen `contract` take calls again.
    Unfreeze {
        /// The contract.
        contract: Address,
    },
    /// Change who must approve `contract`'s changes.
    SetUpgradePolicy {
        /// The contract.
        contract: Address,
        /// The new policy (at least as strict as the minimum in force).
        policy: Policy,
    },
    /// Let organisation `name` join, with `admins` as its first identities (admins).
    AddOrganisation {
        /// Its name: 1 to 64 bytes of `a-z`, `0-9`, `-`, `_`, `.`, never used before.
        name: String,
        /// Its admins' keys, 1 to 16, none a member already.
        admins: Vec<PublicKey>,
    },
    /// Remove organisation `name`: its identities are refused from the next transaction and the
    /// contracts it owns pass to `successor`.
    RemoveOrganisation {
        /// The leaving organisation.
        name: String,
        /// The organisation that takes over its contracts.
        successor: String,
    },
    /// Replace the network's governance rules, all of them, with `rules`, if the rules in force
    /// are still at `sequence`.
    SetRules {
        /// The rules from the next transaction on.
        rules: Rules,
        /// How many changes the rules the proposer read had had (`vellum_getRules`): the
        /// proposal is refused, and never executes, at any other.
        sequence: u64,
    },
}

impl Change {
    /// The contract the change is to, if it is to one.
    pub fn contract(&self) -> Option<&Address> {
        match self {
            Change::Upgrade { contract, .. }
            | Change::Freeze { contract }
            | Change::Unfreeze { contract }
            | Change::SetUpgradePolicy { contract, .. } => Some(contract),
            Change::Deploy { .. }
            | Change::AddOrganisation { .. }
            | Change::RemoveOrganisation { .. }
            | Change::SetRules { .. } => None,
        }
    }

    /// A short name of its kind, for lists and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Deploy { .. } => "deploy",
            Change::Upgrade { .. } => "upgrade",
            Change::Freeze { .. } => "freeze",
            Change::Unfreeze { .. } => "unfreeze",
            Change::SetUpgradePolicy { .. } => "set_upgrade_policy",
            Change::AddOrganisation { .. } => "add_organisation",
            Change::RemoveOrganisation { .. } => "remove_organisation",
            Change::SetRules { .. } => "set_rules",
        }
    }
}

/// Whether `name` may name an organisation that joins by proposal.
pub fn valid_organisation_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= ORGANISATION_NAME_BYTES_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
}

/// The governance rules in force: genesis's ([`crate::Genesis::rules`]) until a
/// [`Change::SetRules`] proposal replaces them.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
pub struct Rules {
    /// Who must approve deploying a new contract; a plain `Deploy` is allowed when one
    /// organisation meets it.
    pub deploy_policy: Policy,
    /// The upgrade policy of a contract deployed without choosing one.
    pub upgrade_policy: Policy,
    /// The least strict upgrade policy a contract may be given (counted when it is given).
    pub upgrade_policy_minimum: Policy,
    /// Who must approve adding or removing an organisation: `majority` or `all`.
    pub membership_policy: Policy,
    /// Who must approve changing these rules: `majority` or `all`.
    pub rules_policy: Policy,
    /// Blocks after its proposal's block in which a proposal may still execute.
    pub proposal_lifetime_blocks: u64,
}

impl Rules {
    /// Why these rules cannot govern a network of `organisations` organisations, naming the
    /// rule, or `Ok` if they can.
    pub fn check(&self, organisations: usize) -> Result<(), String> {
        if self.proposal_lifetime_blocks == 0 {
            return Err("proposal_lifetime_blocks is 0".into());
        }
        for (name, policy) in self.policies() {
            if policy == (Policy::MOfN { m: 0 }) {
                return Err(format!("{name} is m_of_n with m = 0"));
            }
        }
        // Fewer than a majority could let organisations in until they are one, put others out
        // and take their contracts, or rewrite the rules that forbid it.
        for (name, policy) in [
            ("membership_policy", self.membership_policy),
            ("rules_policy", self.rules_policy),
        ] {
            if !matches!(policy, Policy::Majority | Policy::All) {
                return Err(format!("{name} is {policy}; it must be majority or all"));
            }
        }
        let n = organisations;
        if self.upgrade_policy.required(n) < self.upgrade_policy_minimum.required(n) {
            return Err(format!(
                "upgrade_policy {} is less strict than upgrade_policy_minimum {}",
                self.upgrade_policy, self.upgrade_policy_minimum
            ));
        }
        Ok(())
    }

    /// Each policy with its field's name.
    pub fn policies(&self) -> [(&'static str, Policy); 5] {
        [
            ("deploy_policy", self.deploy_policy),
            ("upgrade_policy", self.upgrade_policy),
            ("upgrade_policy_minimum", self.upgrade_policy_minimum),
            ("membership_policy", self.membership_policy),
            ("rules_policy", self.rules_policy),
        ]
    }
}

/// The governance rules genesis sets. Fields left out take their defaults; left out of the
/// genesis file (and of its hash) when all are defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Governance {
    /// The upgrade policy of a contract deployed without choosing one.
    pub upgrade_policy: Policy,
    /// The least strict upgrade policy a contract may have: one needing fewer organisations
    /// (counted when it is chosen) is refused.
    pub upgrade_policy_minimum: Policy,
    /// Who must approve adding or removing an organisation: `majority` or `all` (a removal is
    /// decided by the other organisations).
    pub membership_policy: Policy,
    /// Blocks after its proposal's block in which a proposal may still execute.
    pub proposal_lifetime_blocks: u64,
    /// Who must approve changing these rules (and the deploy policy): `majority` or `all`.
    /// Left out of the file (and of its hash) when it is the default, `majority`, so that the
    /// hash of a genesis file written before it existed is unchanged.
    #[serde(skip_serializing_if = "Governance::is_default_rules_policy")]
    pub rules_policy: Policy,
}

impl Default for Governance {
    fn default() -> Self {
        Self {
            upgrade_policy: Policy::Owner,
            upgrade_policy_minimum: Policy::Owner,
            membership_policy: Policy::Majority,
            proposal_lifetime_blocks: 100_000,
            rules_policy: Policy::Majority,
        }
    }
}

impl Governance {
    /// Whether every field has its default.
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    fn is_default_rules_policy(policy: &Policy) -> bool {
        *policy == Self::default().rules_policy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_count_organisations() {
        assert_eq!(Policy::Owner.required(5), 1);
        assert_eq!(Policy::MOfN { m: 3 }.required(5), 3);
        assert_eq!(Policy::MOfN { m: 9 }.required(5), 5);
        assert_eq!(Policy::Majority.required(4), 3);
        assert_eq!(Policy::Majority.required(5), 3);
        assert_eq!(Policy::All.required(5), 5);
        assert!(!Policy::All.met(4, 5));
        for policy in [
            Policy::AnyAdmin,
            Policy::Owner,
            Policy::MOfN { m: 2 },
            Policy::Majority,
            Policy::All,
        ] {
            assert_eq!(Policy::parse(&policy.to_string()), Some(policy));
        }
        assert_eq!(Policy::parse("m_of_n:0"), None);
        assert_eq!(Policy::parse("most"), None);
    }

    /// `SetRules` is encoded as `docs/transactions.md` says: variant 7, each rule in order, then
    /// the sequence.
    #[test]
    fn a_change_of_the_rules_is_encoded_as_documented() {
        let rules = Rules {
            deploy_policy: Policy::AnyAdmin,
            upgrade_policy: Policy::MOfN { m: 2 },
            upgrade_policy_minimum: Policy::Owner,
            membership_policy: Policy::Majority,
            rules_policy: Policy::All,
            proposal_lifetime_blocks: 1_000,
        };
        let mut expected = vec![7, 0, 2, 2, 0, 0, 0, 1, 3, 4];
        expected.extend_from_slice(&1_000u64.to_le_bytes());
        expected.extend_from_slice(&5u64.to_le_bytes());
        assert_eq!(
            borsh::to_vec(&Change::SetRules { rules, sequence: 5 }).expect("encodes"),
            expected
        );
        assert_eq!(rules.check(3), Ok(()));
        let loose = Rules {
            upgrade_policy: Policy::Owner,
            upgrade_policy_minimum: Policy::All,
            ..rules
        };
        assert!(loose.check(3).unwrap_err().contains("less strict"));
    }

    #[test]
    fn policies_read_as_genesis_writes_them() {
        let text = r#"{"upgrade_policy": {"m_of_n": {"m": 2}}, "membership_policy": "all"}"#;
        let governance: Governance = serde_json::from_str(text).expect("parses");
        assert_eq!(governance.upgrade_policy, Policy::MOfN { m: 2 });
        assert_eq!(governance.membership_policy, Policy::All);
        assert_eq!(governance.upgrade_policy_minimum, Policy::Owner);
    }
}

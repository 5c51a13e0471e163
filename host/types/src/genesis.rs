//! The genesis file: the network's founding organisations, identities and rules.
//!
//! Like Fabric's channel configuration, it names who may take part: every organisation with its
//! admins and members (secp256k1 public keys), the policy for deploying and upgrading code, and
//! the chain's limits. All nodes of a network start from the same file; its hash is the first
//! block's parent, so nodes started from different files can never agree on a block.

use crate::{
    governance::{Governance, Policy, Rules, ORGANISATIONS_MAX},
    hex::{hex, unhex},
    transaction::{keccak256, Hash, PublicKey, Role},
};
use serde::{Deserialize, Serialize};

/// Who must agree before code is deployed or upgraded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployPolicy {
    /// Any organisation admin may deploy a contract, by a plain `Deploy`.
    AnyAdmin,
    /// A deploy is a proposal (`Change::Deploy`) that more than half of the organisations
    /// approve, like Fabric's chaincode lifecycle. (Upgrades follow each contract's own policy.)
    MajorityOfOrganisations,
}

/// An identity listed in genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisMember {
    /// Compressed secp256k1 key, `0x` + 66 hex digits.
    pub public_key: String,
    /// Its role.
    pub role: Role,
}

/// A founding organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Unique name, e.g. `"bank-a"`.
    pub name: String,
    /// Its identities; at least one admin.
    pub members: Vec<GenesisMember>,
}

/// Chain-wide limits, agreed at genesis. Fields left out of a genesis file take their defaults.
///
/// Fuel is the runtime's unit (one wasm operator; host functions priced at about a nanosecond a
/// unit, `runtime/src/schedule.rs`), so fuel limits are time limits: `block_fuel_max` bounds how
/// long any validator needs to execute a block, and must stay well inside the consensus timeouts
/// (a block is verified by execution before validators vote to finalize it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChainLimits {
    /// Fuel one transaction may request.
    pub transaction_fuel_max: u64,
    /// Fuel one block's transactions may use together. A transaction enters a block only if its
    /// fuel limit fits in what the transactions before it left of this budget, so the fuel a
    /// block can use is bounded without every transaction having to request little.
    pub block_fuel_max: u64,
    /// Fuel one read-only query (JSON-RPC `vellum_query`) may use.
    pub query_fuel_max: u64,
    /// Transactions in one block.
    pub block_transactions_max: usize,
    /// Sum of the encoded sizes of one block's transactions.
    pub block_bytes_max: u64,
    /// Encoded size of one transaction's receipt (return data and events); a transaction whose
    /// receipt would be larger fails with its effects discarded.
    pub transaction_receipt_bytes_max: u64,
    /// Sum of the encoded sizes of one block's receipts.
    pub block_receipt_bytes_max: u64,
    /// Largest step from a block's time to its child's: a proposer cannot push the chain's clock
    /// far into the future, where no later block could follow.
    pub block_time_step_max_ms: u64,
}

impl Default for ChainLimits {
    fn default() -> Self {
        Self {
            transaction_fuel_max: 100_000_000,
            block_fuel_max: 1_000_000_000,
            query_fuel_max: 50_000_000,
            block_transactions_max: 10_000,
            block_bytes_max: 32 * 1024 * 1024,
            transaction_receipt_bytes_max: 2 * 1024 * 1024,
            block_receipt_bytes_max: 64 * 1024 * 1024,
            block_time_step_max_ms: 3_600_000,
        }
    }
}

impl ChainLimits {
    /// The rules between the limits, or the first one broken.
    fn check(&self) -> Result<(), String> {
        let rules = [
            (
                self.transaction_fuel_max > 0,
                "transaction_fuel_max must be positive",
            ),
            (
                self.transaction_fuel_max <= self.block_fuel_max,
                "transaction_fuel_max must not exceed block_fuel_max",
            ),
            (self.query_fuel_max > 0, "query_fuel_max must be positive"),
            (
                self.block_transactions_max > 0,
                "block_transactions_max must be positive",
            ),
            (
                self.block_bytes_max >= crate::TRANSACTION_BYTES_MAX as u64,
                "block_bytes_max must hold the largest transaction (3 MiB)",
            ),
            (
                self.transaction_receipt_bytes_max >= RECEIPT_BYTES_MIN,
                "transaction_receipt_bytes_max must be at least 4096",
            ),
            (
                self.transaction_receipt_bytes_max <= self.block_receipt_bytes_max,
                "transaction_receipt_bytes_max must not exceed block_receipt_bytes_max",
            ),
            (
                self.block_time_step_max_ms > 0,
                "block_time_step_max_ms must be positive",
            ),
        ];
        match rules.iter().find(|(holds, _)| !holds) {
            Some((_, rule)) => Err((*rule).to_string()),
            None => Ok(()),
        }
    }
}

/// The smallest per-transaction receipt budget: room for any failure receipt (a status with a
/// short message), so the first transaction of a block always fits.
pub const RECEIPT_BYTES_MIN: u64 = 4096;

/// Who may read contracts' raw storage, events, and transactions' arguments and outcomes over
/// JSON-RPC. Ordered from the most open to the strictest: a node applies the stricter of the
/// genesis file's and its own configuration's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadPolicy {
    /// Anyone (the ledger's own namespace excepted).
    #[default]
    Public,
    /// Any member, proven by a caller token.
    Members,
    /// Members of the organisation that owns the contract.
    Organisation,
}

impl ReadPolicy {
    /// Its name in JSON.
    pub fn name(self) -> &'static str {
        match self {
            ReadPolicy::Public => "public",
            ReadPolicy::Members => "members",
            ReadPolicy::Organisation => "organisation",
        }
    }

    fn is_public(&self) -> bool {
        *self == ReadPolicy::Public
    }
}

/// The genesis file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// The network's name; every transaction carries it.
    pub chain_id: String,
    /// Genesis time, ms since the Unix epoch: the lower bound for block 1's time.
    pub time_ms: u64,
    /// The founding organisations.
    pub organisations: Vec<Organisation>,
    /// Who must approve a new contract.
    pub deploy_policy: DeployPolicy,
    /// Limits.
    #[serde(default)]
    pub limits: ChainLimits,
    /// The validators that order blocks. A ledger driven without consensus (tests, tools) may
    /// have none; a network needs at least one, and tolerates `f` faulty of `3f + 1`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validators: Vec<Validator>,
    /// The network's read policy: the least every node applies (a node's configuration may
    /// only make it stricter). Left out of the file (and of the hash) when `public`.
    #[serde(default, skip_serializing_if = "ReadPolicy::is_public")]
    pub read_policy: ReadPolicy,
    /// Governance rules (`docs/governance.md`). Left out of the file (and of the hash) when
    /// every rule has its default.
    #[serde(default, skip_serializing_if = "Governance::is_default")]
    pub governance: Governance,
}

/// A validator: a consensus identity, separate from the secp256k1 keys that sign transactions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validator {
    /// A name for logs and metrics.
    pub name: String,
    /// The organisation operating it.
    pub organisation: String,
    /// Its ed25519 public key, `0x`-prefixed hex (32 bytes).
    pub public_key: String,
}

/// A genesis file that cannot start a network.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// Not valid JSON for a genesis file.
    #[error("genesis file is not valid: {0}")]
    Parse(#[from] serde_json::Error),
    /// A rule broken.
    #[error("genesis file: {0}")]
    Invalid(String),
}

/// Parse a `0x`-prefixed hex compressed public key.
pub fn parse_public_key(text: &str) -> Option<PublicKey> {
    let key: [u8; 33] = unhex(text)?.try_into().ok()?;
    k256::PublicKey::from_sec1_bytes(&key).ok()?;
    Some(key)
}

impl Genesis {
    /// Parse and check a genesis file.
    pub fn from_json(text: &str) -> Result<Self, GenesisError> {
        let genesis: Genesis = serde_json::from_str(text)?;
        genesis.check()?;
        Ok(genesis)
    }

    /// The hash every node must agree on: keccak256 of the canonical JSON encoding.
    pub fn hash(&self) -> Hash {
        keccak256(&serde_json::to_vec(self).unwrap_or_default())
    }

    /// The governance rules it sets, in force until a proposal replaces them.
    pub fn rules(&self) -> Rules {
        let governance = &self.governance;
        Rules {
            deploy_policy: match self.deploy_policy {
                DeployPolicy::AnyAdmin => Policy::AnyAdmin,
                DeployPolicy::MajorityOfOrganisations => Policy::Majority,
            },
            upgrade_policy: governance.upgrade_policy,
            upgrade_policy_minimum: governance.upgrade_policy_minimum,
            membership_policy: governance.membership_policy,
            rules_policy: governance.rules_policy,
            proposal_lifetime_blocks: governance.proposal_lifetime_blocks,
        }
    }

    /// Whether `name` is one of its organisations.
    pub fn has_organisation(&self, name: &str) -> bool {
        self.organisations.iter().any(|o| o.name == name)
    }

    /// Every identity with its organisation and role.
    pub fn identities(&self) -> impl Iterator<Item = (PublicKey, &str, Role)> + '_ {
        self.organisations.iter().flat_map(|org| {
            org.members.iter().filter_map(move |m| {
                parse_public_key(&m.public_key).map(|key| (key, org.name.as_str(), m.role))
            })
        })
    }

    fn check(&self) -> Result<(), GenesisError> {
        let fail = |message: String| Err(GenesisError::Invalid(message));
        if let Err(rule) = self.limits.check() {
            return fail(format!("limits: {rule}"));
        }
        if self.chain_id.is_empty() {
            return fail("chain_id is empty".into());
        }
        if self.organisations.is_empty() {
            return fail("no organisations".into());
        }
        if self.organisations.len() > ORGANISATIONS_MAX {
            return fail(format!(
                "{} organisations; a network may have at most {ORGANISATIONS_MAX}",
                self.organisations.len()
            ));
        }
        if let Err(rule) = self.rules().check(self.organisations.len()) {
            return fail(format!("governance: {rule}"));
        }
        let mut names = std::collections::BTreeSet::new();
        let mut keys = std::collections::BTreeSet::new();
        for org in &self.organisations {
            if !names.insert(&org.name) {
                return fail(format!("organisation `{}` is listed twice", org.name));
            }
            if !org.members.iter().any(|m| m.role == Role::Admin) {
                return fail(format!("organisation `{}` has no admin", org.name));
            }
            for member in &org.members {
                let Some(key) = parse_public_key(&member.public_key) else {
                    return fail(format!(
                        "`{}` is not a compressed secp256k1 public key",
                        member.public_key
                    ));
                };
                if !keys.insert(key) {
                    return fail(format!("key {} is listed twice", hex(&key)));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A genesis file without `read_policy` is `public`, and hashes as it did before the field
    /// existed (it is left out when `public`); any other policy is written and hashed.
    #[test]
    fn the_read_policy_is_left_out_when_public() {
        let text = r#"{"chain_id": "c", "time_ms": 1, "deploy_policy": "any_admin",
            "organisations": [{"name": "o", "members": [{"role": "admin",
            "public_key": "0x0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"}]}]}"#;
        let mut genesis = Genesis::from_json(text).expect("valid");
        assert_eq!(genesis.read_policy, ReadPolicy::Public);
        let encoded = serde_json::to_string(&genesis).expect("encodes");
        assert!(!encoded.contains("read_policy"), "{encoded}");
        let public = genesis.hash();
        genesis.read_policy = ReadPolicy::Members;
        let encoded = serde_json::to_string(&genesis).expect("encodes");
        assert!(encoded.contains(r#""read_policy":"members""#), "{encoded}");
        assert_ne!(genesis.hash(), public);
        assert!(ReadPolicy::Public < ReadPolicy::Members);
        assert!(ReadPolicy::Members < ReadPolicy::Organisation);
    }

    /// The governance rules genesis sets are checked: each refused rule names itself.
    #[test]
    fn governance_rules_that_cannot_work_are_refused() {
        let text = |governance: &str| {
            format!(
                r#"{{"chain_id": "c", "time_ms": 1, "deploy_policy": "any_admin", {governance}
                "organisations": [{{"name": "o", "members": [{{"role": "admin",
                "public_key": "0x0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"}}]}},
                {{"name": "p", "members": [{{"role": "admin",
                "public_key": "0x02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5"}}]}}]}}"#
            )
        };
        let plain = Genesis::from_json(&text("")).expect("valid");
        assert!(plain.governance.is_default());
        for (governance, refusal) in [
            (
                r#""proposal_lifetime_blocks": 0"#,
                "proposal_lifetime_blocks is 0",
            ),
            (
                r#""membership_policy": "any_admin""#,
                "it must be majority or all",
            ),
            (
                r#""membership_policy": {"m_of_n": {"m": 1}}"#,
                "it must be majority or all",
            ),
            (
                r#""upgrade_policy": {"m_of_n": {"m": 0}}"#,
                "m_of_n with m = 0",
            ),
            (
                r#""upgrade_policy": "owner", "upgrade_policy_minimum": "all""#,
                "less strict than upgrade_policy_minimum",
            ),
            (
                r#""rules_policy": "owner""#,
                "rules_policy is owner; it must be majority or all",
            ),
        ] {
            let error = Genesis::from_json(&text(&format!(r#""governance": {{{governance}}},"#)))
                .expect_err(governance)
                .to_string();
            assert!(error.contains(refusal), "{governance}: {error}");
        }
        let strict = Genesis::from_json(&text(
            r#""governance": {"membership_policy": "all", "upgrade_policy": "majority"},"#,
        ))
        .expect("valid");
        assert_eq!(strict.governance.membership_policy, Policy::All);
        assert_ne!(strict.hash(), plain.hash());
        // The rules policy joined the rules later: left at its default it is not written, so
        // every genesis file written before (whose hash is of what is written) keeps its hash.
        let written = serde_json::to_string(&strict).expect("JSON");
        assert!(written.contains("membership_policy") && !written.contains("rules_policy"));
        let unanimous =
            Genesis::from_json(&text(r#""governance": {"rules_policy": "all"},"#)).expect("valid");
        assert_eq!(unanimous.rules().rules_policy, Policy::All);
        assert!(serde_json::to_string(&unanimous)
            .expect("JSON")
            .contains("rules_policy"));
    }
}

//! The ledger's own records, kept in the [`SYSTEM`](crate::keys::SYSTEM) namespace of state
//! ([`crate::keys`] says where each one lives).

use borsh::{BorshDeserialize, BorshSerialize};
use vellum_types::{address_of, keccak256, Address, Change, Hash, Policy, PublicKey, Role, Rules};

/// A registered identity.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Member {
    /// Its key.
    pub public_key: PublicKey,
    /// Its organisation.
    pub organisation: String,
    /// Its role there.
    pub role: Role,
}

/// What a key signs for ([`signing`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signing {
    /// It is the current key of member `account`.
    Current {
        /// The account's address.
        account: Address,
        /// Its membership.
        member: Member,
    },
    /// It signed for `account` until the account rotated to another key.
    Retired {
        /// The account's address.
        account: Address,
    },
    /// It signs for no member.
    Unknown,
}

/// The account `address` names, with `alias` reading the account a rotated-to key was given
/// ([`crate::keys::alias_key`]): that account if `address` is such a key's own address, or else
/// `address` itself.
pub fn account_of<E>(
    address: &Address,
    alias: impl FnOnce(&Address) -> Result<Option<Address>, E>,
) -> Result<Address, E> {
    Ok(alias(address)?.unwrap_or(*address))
}

/// What `public_key` signs for, with `alias` reading the account a rotated-to key was given
/// ([`crate::keys::alias_key`]) and `member` reading a membership. A key's account is the one
/// its alias names, or else the key's own address (an account's first key); it signs for that
/// account while the account's membership still holds this key.
pub fn signing<E>(
    public_key: &PublicKey,
    alias: impl FnOnce(&Address) -> Result<Option<Address>, E>,
    member: impl FnOnce(&Address) -> Result<Option<Member>, E>,
) -> Result<Signing, E> {
    let account = account_of(&address_of(public_key), alias)?;
    Ok(match member(&account)? {
        Some(member) if member.public_key == *public_key => Signing::Current { account, member },
        Some(_) => Signing::Retired { account },
        None => Signing::Unknown,
    })
}

/// A deployed contract.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ContractInfo {
    /// keccak256 of its current wasm.
    pub code_hash: Hash,
    /// 1 at deploy, one more per upgrade.
    pub version: u32,
    /// Who deployed it.
    pub deployer: Address,
    /// The organisation that owns it: its deployer's, or the successor of an owner that left
    /// ([`Organisation::removed`]). Every change to the contract needs its approval.
    pub owner: String,
    /// Height of the deploy.
    pub deployed_at: u64,
    /// Its interface JSON (the `vellum:interface` custom section), or empty.
    pub interface: String,
    /// Who must approve its changes besides its owner.
    pub upgrade_policy: Policy,
    /// Whether it refuses calls (it still serves queries).
    pub frozen: bool,
    /// How many changes (upgrades, freezes, unfreezes, policy changes) it has had: 0 at deploy.
    /// A proposal to change it names the sequence it was made against and fails on any other.
    pub sequence: u64,
}

/// An organisation of the network, founding or joined by proposal.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Organisation {
    /// The height it joined at (0 for founding organisations).
    pub joined_at: u64,
    /// Set when it left: its identities are refused from the next transaction on.
    pub removed: Option<Removal>,
}

/// When an organisation left, and who took its contracts over.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Removal {
    /// The height of the proposal's execution.
    pub height: u64,
    /// The organisation its contracts passed to.
    pub successor: String,
}

/// The governance rules in force, once a proposal has changed genesis's (before, genesis's
/// rules at sequence 0).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct RulesRecord {
    /// The rules.
    pub rules: Rules,
    /// How many proposals have changed the rules: a proposal to change them executes only at
    /// the sequence it was made at.
    pub sequence: u64,
    /// The height of the last change, 0 for genesis's rules.
    pub changed_at: u64,
}

/// A governance proposal.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Proposal {
    /// Its number: 1 for the first.
    pub id: u64,
    /// Who proposed it.
    pub proposer: Address,
    /// The proposer's organisation.
    pub organisation: String,
    /// The nonce of the proposing transaction (a proposed deploy's address depends on it).
    pub nonce: u64,
    /// What it changes.
    pub change: Change,
    /// The height it was proposed at.
    pub proposed_at: u64,
    /// The last height at which it may execute.
    pub expires_at: u64,
    /// For a change to a contract, the contract's [`ContractInfo::sequence`] when proposed; for a
    /// change of the rules, [`RulesRecord::sequence`]: the change executes only while it is
    /// still at it.
    pub sequence: Option<u64>,
}

/// The address of the contract `deployer` creates with its transaction of `nonce`.
pub fn contract_address(deployer: &Address, nonce: u64) -> Address {
    keccak256(
        &[
            b"vellum/contract".as_slice(),
            deployer,
            &nonce.to_be_bytes(),
        ]
        .concat(),
    )
}

/// Longest chain of successors [`owner_of`] follows. Successors are organisations that had not
/// left, so a chain is never longer than the number of organisations that ever left; this only
/// bounds the work a corrupt store could cause.
pub const SUCCESSION_STEPS_MAX: usize = 4096;

/// The organisation that owns what `owner` owned: `owner`, or the successor it left its
/// contracts to (and so on), with `organisation` looking up an organisation's record.
pub fn owner_of<E>(
    owner: &str,
    mut organisation: impl FnMut(&str) -> Result<Option<Organisation>, E>,
) -> Result<String, E> {
    let mut owner = owner.to_string();
    for _ in 0..SUCCESSION_STEPS_MAX {
        match organisation(&owner)? {
            Some(Organisation {
                removed: Some(Removal { successor, .. }),
                ..
            }) => owner = successor,
            _ => break,
        }
    }
    Ok(owner)
}

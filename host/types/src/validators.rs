//! The validator set a genesis file names, and the namespace its signatures are made in.

use crate::{hex::unhex, Genesis};
use commonware_codec::DecodeExt as _;
use commonware_cryptography::ed25519;
use commonware_utils::ordered::Set;

/// A validator's identity: its ed25519 public key (transactions are signed with secp256k1
/// keys, which are a member's, not a validator's).
pub type ValidatorKey = ed25519::PublicKey;

/// Why a genesis file's validator set cannot run consensus.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    /// No validators are listed.
    #[error("the genesis file names no validators; add at least one under `validators`")]
    Empty,
    /// A listed key is not an ed25519 public key.
    #[error("validator `{name}`: public_key must be 0x and 64 hex digits of an ed25519 key")]
    BadKey {
        /// The validator's name.
        name: String,
    },
    /// A key is listed twice.
    #[error("the genesis file names validator key {0} twice")]
    Duplicate(String),
}

/// The validator set `genesis` names.
pub fn participants(genesis: &Genesis) -> Result<Set<ValidatorKey>, ValidatorSetError> {
    if genesis.validators.is_empty() {
        return Err(ValidatorSetError::Empty);
    }
    let mut keys = Vec::with_capacity(genesis.validators.len());
    for validator in &genesis.validators {
        let key = parse_validator_key(&validator.public_key).ok_or_else(|| {
            ValidatorSetError::BadKey {
                name: validator.name.clone(),
            }
        })?;
        if keys.contains(&key) {
            return Err(ValidatorSetError::Duplicate(validator.public_key.clone()));
        }
        keys.push(key);
    }
    Ok(Set::from_iter_dedup(keys))
}

/// Parse a `0x`-prefixed hex ed25519 public key.
pub fn parse_validator_key(text: &str) -> Option<ValidatorKey> {
    ValidatorKey::decode(unhex(text)?).ok()
}

/// The namespace every consensus signature of this chain is made in, so that a vote on one
/// chain can never count on another.
pub fn namespace(genesis: &Genesis) -> Vec<u8> {
    format!("vellum/{}", genesis.chain_id).into_bytes()
}

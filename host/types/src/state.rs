//! Proofs of one key's value, or of its absence, against a header's `state_root`, and the bundle
//! that carries one with its block's finality (`vellum_getProof`, `vellum proof state`).
//!
//! `state_root` is the root of a QMDB (commonware-storage's `qmdb::current::ordered::fixed`,
//! Merkle family `mmr`, 32-byte bitmap chunks, SHA-256) that maps `keccak256(full key)` to
//! `keccak256(value)` for every key in state; `docs/proofs.md` says how the ledger builds it. A
//! [`KeyProof`] is QMDB's own proof, checked by QMDB's own verifier: this module only names the
//! parameters and carries the bytes.

use crate::{
    proof::{Finality, Finalized, ProofError, Validators},
    transaction::{keccak256, Hash},
};
use borsh::{BorshDeserialize, BorshSerialize};
use commonware_codec::{Decode as _, Encode as _};
use commonware_cryptography::{keccak256::Digest, sha256, Sha256};
use commonware_storage::{
    merkle::mmr,
    qmdb::{
        any::value::FixedEncoding,
        current::ordered::proof::constant::{ExclusionProof, KeyValueProof},
    },
};

/// Bytes of bitmap per grafted chunk in the state commitment (QMDB's `N`): one digest.
pub const CHUNK_BYTES: usize = 32;

/// The most digests a decoded proof may carry (a proof in a log of 2^64 operations needs under
/// 130).
pub const PROOF_DIGESTS_MAX: usize = 256;

/// QMDB's proof that a key holds a value (its digest).
pub type ValueProof = KeyValueProof<mmr::Family, Digest, sha256::Digest, CHUNK_BYTES>;

/// QMDB's proof that a key holds no value.
pub type AbsenceProof =
    ExclusionProof<mmr::Family, Digest, FixedEncoding<Digest>, sha256::Digest, CHUNK_BYTES>;

/// The commitment's key for a full state key (namespace ‖ key): `keccak256(full key)`.
pub fn key_digest(full_key: &[u8]) -> Digest {
    Digest(keccak256(full_key))
}

/// A proof of a key's value or of its absence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyProof {
    /// The key holds a value whose digest is `value`.
    Value {
        /// `keccak256(value)`.
        value: Hash,
        /// The proof.
        proof: ValueProof,
    },
    /// The key holds no value.
    Absent(AbsenceProof),
}

impl KeyProof {
    /// Decode a proof's bytes (commonware's codec): of a value whose digest is `value`, or
    /// (`None`) of absence. The bytes must be exactly one proof.
    pub fn decode(value: Option<Hash>, bytes: &[u8]) -> Result<Self, ProofError> {
        Ok(match value {
            Some(value) => KeyProof::Value {
                value,
                proof: ValueProof::decode_cfg(bytes.to_vec(), &(PROOF_DIGESTS_MAX, ()))?,
            },
            None => KeyProof::Absent(AbsenceProof::decode_cfg(
                bytes.to_vec(),
                &(PROOF_DIGESTS_MAX, (), ()),
            )?),
        })
    }

    /// The proof's bytes in commonware's codec.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            KeyProof::Value { proof, .. } => proof.encode().to_vec(),
            KeyProof::Absent(proof) => proof.encode().to_vec(),
        }
    }

    /// Whether this proves that `full_key` holds `value` (`None`: no value) under `root`.
    pub fn verify(&self, full_key: &[u8], value: Option<&[u8]>, root: &Hash) -> bool {
        let key = key_digest(full_key);
        let root = sha256::Digest(*root);
        match (self, value) {
            (
                KeyProof::Value {
                    proof,
                    value: digest,
                },
                Some(value),
            ) => {
                *digest == keccak256(value)
                    && proof.verify::<Sha256, FixedEncoding<Digest>>(key, Digest(*digest), &root)
            }
            (KeyProof::Absent(proof), None) => proof.verify::<Sha256>(&key, &root),
            _ => false,
        }
    }
}

/// A key's value (or absence) in a finalized block's state: what `vellum_getProof` serves and
/// `vellum proof state` saves.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct StateProof {
    /// The namespace: a contract's address, or 32 zero bytes for the ledger's own records.
    pub namespace: [u8; 32],
    /// The key within it.
    pub key: Vec<u8>,
    /// Its value after the block, or `None` if it had none.
    pub value: Option<Vec<u8>>,
    /// The [`KeyProof`]'s bytes.
    pub proof: Vec<u8>,
    /// That the block is final; its first header's `state_root` is what the proof is against.
    pub finality: Finality,
}

impl StateProof {
    /// Check the bundle against `validators`: the block is final, and the key held this value
    /// (or none) in the state after it.
    pub fn check(&self, validators: &Validators) -> Result<Finalized, ProofError> {
        let finalized = self.finality.check(validators)?;
        let digest = self.value.as_deref().map(keccak256);
        let proof = KeyProof::decode(digest, &self.proof)?;
        let mut full_key = self.namespace.to_vec();
        full_key.extend_from_slice(&self.key);
        if !proof.verify(
            &full_key,
            self.value.as_deref(),
            &finalized.header.state_root,
        ) {
            return Err(ProofError::State);
        }
        Ok(finalized)
    }

    /// Its borsh encoding: the bundle `vellum proof state` saves.
    pub fn to_bytes(&self) -> Vec<u8> {
        borsh::to_vec(self).unwrap_or_default()
    }

    /// Decode a bundle; the bytes must be exactly one proof.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProofError> {
        borsh::from_slice(bytes).map_err(|e| ProofError::Decode(e.to_string()))
    }
}

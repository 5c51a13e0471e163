//! Private data: a payload held only by the nodes of the organisations it concerns (its
//! collection), while the chain carries only its salted hash.
//!
//! A member hands a payload to its own node (`vellum_putPrivate`); the node draws a 32-byte
//! random nonce, derives the salt from it and the record's collection and expiry
//! ([`PrivateRecord::salt`]), computes [`salted_hash`], keeps the [`PrivateRecord`] in its side
//! store and sends it over the authenticated p2p network to the nodes of the collection's other
//! organisations. Transactions and contracts carry the hash only, so execution is the same on
//! every validator; anyone shown the payload and its salt can recompute the hash and compare it
//! with the chain. The salt keeps a guessable payload (a yes/no, an amount) from being found by
//! hashing candidates, and, derived as it is, binds the collection and the expiry to the hash:
//! a holder that changed either would hold a record with another hash. A record is purged when
//! the chain reaches its `expires_at` height, or by an
//! [`Action::PurgePrivate`](crate::Action::PurgePrivate) transaction from a member of one of its
//! organisations; its hash stays wherever the chain recorded it.

use crate::{keccak256, Hash};
use borsh::{BorshDeserialize, BorshSerialize};

/// Largest payload one record holds.
pub const PAYLOAD_BYTES_MAX: usize = 256 << 10;

/// Most organisations one collection names.
pub const COLLECTION_ORGANISATIONS_MAX: usize = 32;

/// Longest organisation name in a collection (as in genesis files, in practice far shorter).
pub const ORGANISATION_NAME_BYTES_MAX: usize = 128;

/// What a record's salt derivation begins with.
pub const SALT_DOMAIN: &[u8] = b"vellum-private-salt-v1";

/// A private payload with what its holders need to keep, share and purge it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PrivateRecord {
    /// The organisations whose nodes may hold it and whose members may read it: sorted, distinct.
    pub organisations: Vec<String>,
    /// The height at which every holder deletes it, if it has one.
    pub expires_at: Option<u64>,
    /// 32 random bytes drawn by the node that accepted the payload.
    pub nonce: [u8; 32],
    /// The payload.
    pub payload: Vec<u8>,
}

/// Why a record is malformed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PrivateError {
    /// Bigger than [`PAYLOAD_BYTES_MAX`].
    #[error("the payload is {0} bytes; a private payload holds at most {PAYLOAD_BYTES_MAX}")]
    TooLarge(usize),
    /// No organisation, or more than [`COLLECTION_ORGANISATIONS_MAX`].
    #[error(
        "a collection names 1 to {COLLECTION_ORGANISATIONS_MAX} organisations; this one names {0}"
    )]
    Organisations(usize),
    /// Not sorted and distinct, or a name empty or too long.
    #[error(
        "a collection's organisations must be sorted, distinct names of 1 to \
         {ORGANISATION_NAME_BYTES_MAX} bytes"
    )]
    Names,
}

/// `keccak256(salt ‖ payload)`: what the chain carries for a private payload.
pub fn salted_hash(salt: &[u8; 32], payload: &[u8]) -> Hash {
    let mut bytes = Vec::with_capacity(32 + payload.len());
    bytes.extend_from_slice(salt);
    bytes.extend_from_slice(payload);
    keccak256(&bytes)
}

impl PrivateRecord {
    /// Its salt: `keccak256(SALT_DOMAIN ‖ nonce ‖ borsh(organisations) ‖ borsh(expires_at))`.
    pub fn salt(&self) -> [u8; 32] {
        let mut bytes = SALT_DOMAIN.to_vec();
        bytes.extend_from_slice(&self.nonce);
        // Writing to a Vec cannot fail.
        let _ = borsh::to_writer(&mut bytes, &(&self.organisations, &self.expires_at));
        keccak256(&bytes)
    }

    /// Its salted hash, `keccak256(salt ‖ payload)`.
    pub fn hash(&self) -> Hash {
        salted_hash(&self.salt(), &self.payload)
    }

    /// Whether it is within the bounds every holder applies.
    pub fn check(&self) -> Result<(), PrivateError> {
        if self.payload.len() > PAYLOAD_BYTES_MAX {
            return Err(PrivateError::TooLarge(self.payload.len()));
        }
        let count = self.organisations.len();
        if count == 0 || count > COLLECTION_ORGANISATIONS_MAX {
            return Err(PrivateError::Organisations(count));
        }
        let named = self
            .organisations
            .iter()
            .all(|name| !name.is_empty() && name.len() <= ORGANISATION_NAME_BYTES_MAX);
        let ordered = self.organisations.windows(2).all(|pair| pair[0] < pair[1]);
        if !named || !ordered {
            return Err(PrivateError::Names);
        }
        Ok(())
    }

    /// Whether `organisation` is one of its collection's.
    pub fn shared_with(&self, organisation: &str) -> bool {
        self.organisations
            .binary_search_by(|name| name.as_str().cmp(organisation))
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(organisations: &[&str]) -> PrivateRecord {
        PrivateRecord {
            organisations: organisations.iter().map(|name| name.to_string()).collect(),
            expires_at: None,
            nonce: [7; 32],
            payload: b"invoice 42".to_vec(),
        }
    }

    /// The hash is keccak256(salt ‖ payload), and the salt commits to the nonce, the collection
    /// and the expiry: changing any of them changes the hash.
    #[test]
    fn the_hash_binds_the_payload_the_collection_and_the_expiry() {
        let record = record(&["org-1"]);
        let mut salted = record.salt().to_vec();
        salted.extend_from_slice(b"invoice 42");
        assert_eq!(record.hash(), keccak256(&salted));
        let mut derivation = SALT_DOMAIN.to_vec();
        derivation.extend_from_slice(&[7; 32]);
        derivation.extend_from_slice(&[1, 0, 0, 0, 5, 0, 0, 0]);
        derivation.extend_from_slice(b"org-1");
        derivation.push(0);
        assert_eq!(record.salt(), keccak256(&derivation));
        let variants = [
            PrivateRecord {
                nonce: [8; 32],
                ..record.clone()
            },
            PrivateRecord {
                organisations: vec!["org-1".into(), "org-3".into()],
                ..record.clone()
            },
            PrivateRecord {
                expires_at: Some(9),
                ..record.clone()
            },
            PrivateRecord {
                payload: b"invoice 43".to_vec(),
                ..record.clone()
            },
        ];
        for variant in variants {
            assert_ne!(variant.hash(), record.hash(), "{variant:?}");
        }
    }

    #[test]
    fn collections_are_sorted_distinct_and_bounded() {
        assert_eq!(record(&["org-1", "org-2"]).check(), Ok(()));
        assert_eq!(record(&[]).check(), Err(PrivateError::Organisations(0)));
        assert_eq!(
            record(&["org-2", "org-1"]).check(),
            Err(PrivateError::Names)
        );
        assert_eq!(
            record(&["org-1", "org-1"]).check(),
            Err(PrivateError::Names)
        );
        assert_eq!(record(&[""]).check(), Err(PrivateError::Names));
        let many: Vec<String> = (0..=COLLECTION_ORGANISATIONS_MAX)
            .map(|i| format!("org-{i:03}"))
            .collect();
        let names: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            record(&names).check(),
            Err(PrivateError::Organisations(
                COLLECTION_ORGANISATIONS_MAX + 1
            ))
        );
        let mut big = record(&["org-1"]);
        big.payload = vec![0; PAYLOAD_BYTES_MAX + 1];
        assert_eq!(
            big.check(),
            Err(PrivateError::TooLarge(PAYLOAD_BYTES_MAX + 1))
        );
        let shared = record(&["org-1", "org-3"]);
        assert!(shared.shared_with("org-3"));
        assert!(!shared.shared_with("org-2"));
    }
}

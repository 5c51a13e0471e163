//! A caller's proof of identity for JSON-RPC reads: a short-lived token a member signs with its
//! transaction key, so that queries see the real caller (`caller()` in the ABI) and reads can be
//! limited to those entitled to them.
//!
//! The token is `borsh(CallerToken)` in `0x` hex, sent in the `authorization` header as
//! `Vellum 0x…`. It is signed as a transaction is (`docs/transactions.md`): secp256k1 ECDSA,
//! low-S, over a Keccak-256 prehash; but the prehash is `keccak256(CALLER_DOMAIN ‖
//! borsh(CallerClaim))`, so a token's signature can never pass as a transaction's, nor the
//! reverse. A transaction's signed bytes begin with its chain id's length (u32 little-endian,
//! at most a few hundred), while [`CALLER_DOMAIN`]'s first four bytes read as a length above a
//! billion.

use crate::{
    address_of, keccak256,
    transaction::{sign_prehash, verify_prehash, SignatureFault},
    Address, Hash, PublicKey,
};
use borsh::{BorshDeserialize, BorshSerialize};
use k256::ecdsa::SigningKey;

/// What a token's prehash begins with.
pub const CALLER_DOMAIN: &[u8] = b"vellum-rpc-caller-v1";

/// The longest a node accepts a token to live: one that expires later is refused.
pub const CALLER_LIFETIME_MAX_MS: u64 = 60 * 60 * 1000;

/// What a token claims.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CallerClaim {
    /// The chain it is for.
    pub chain_id: String,
    /// The member's public key (compressed SEC1).
    pub public_key: PublicKey,
    /// When it stops being accepted, in milliseconds since the Unix epoch.
    pub expires_ms: u64,
    /// The organisation whose nodes may accept it, or `None` for any node. A token bound to
    /// one organisation cannot be replayed to another's nodes by the operator it was shown to;
    /// private data is served only to tokens bound to the serving node's organisation.
    pub audience: Option<String>,
}

/// A signed claim.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CallerToken {
    /// The claim.
    pub claim: CallerClaim,
    /// `r ‖ s`, low-S, over [`CallerClaim::signing_hash`].
    pub signature: [u8; 64],
}

/// Why a token is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallerError {
    /// Not `0x` hex of a borsh token.
    #[error("the caller token is not 0x hex of a borsh CallerToken")]
    Malformed,
    /// The public key is not a compressed secp256k1 key.
    #[error("the caller token's public key is not a compressed secp256k1 key")]
    BadPublicKey,
    /// The signature does not verify (or has a high S).
    #[error("the caller token's signature does not match its public key")]
    BadSignature,
    /// Another chain's.
    #[error("the caller token is for chain `{found}`; this is `{expected}`")]
    WrongChain {
        /// This chain.
        expected: String,
        /// The one named.
        found: String,
    },
    /// Expired.
    #[error("the caller token expired; sign a new one")]
    Expired,
    /// Bound to another organisation's nodes.
    #[error(
        "the caller token is for the nodes of `{audience}`; this node is {node}: sign one for it"
    )]
    WrongAudience {
        /// The organisation named.
        audience: String,
        /// This node's organisation, described.
        node: String,
    },
    /// Lives longer than [`CALLER_LIFETIME_MAX_MS`].
    #[error("the caller token expires more than an hour from now; sign one that expires sooner")]
    TooLong,
}

impl CallerClaim {
    /// The prehash its signature covers.
    pub fn signing_hash(&self) -> Hash {
        let mut bytes = CALLER_DOMAIN.to_vec();
        bytes.extend_from_slice(&borsh::to_vec(self).unwrap_or_default());
        keccak256(&bytes)
    }

    /// Sign with `key`, whose public key the claim must carry.
    pub fn sign(self, key: &SigningKey) -> CallerToken {
        CallerToken {
            signature: sign_prehash(key, &self.signing_hash()),
            claim: self,
        }
    }
}

impl CallerToken {
    /// A token for `key` on `chain_id`, expiring at `expires_ms`, accepted by the nodes of
    /// `audience` (an organisation), or by any node without one.
    pub fn new(key: &SigningKey, chain_id: &str, expires_ms: u64, audience: Option<&str>) -> Self {
        CallerClaim {
            chain_id: chain_id.to_string(),
            public_key: crate::public_key(key),
            expires_ms,
            audience: audience.map(str::to_string),
        }
        .sign(key)
    }

    /// `0x` hex of its borsh encoding: what the `authorization` header carries after `Vellum `.
    pub fn encode(&self) -> String {
        crate::hex(&borsh::to_vec(self).unwrap_or_default())
    }

    /// A token from [`CallerToken::encode`]'s text.
    pub fn decode(text: &str) -> Result<Self, CallerError> {
        let bytes = crate::unhex(text.trim()).ok_or(CallerError::Malformed)?;
        borsh::from_slice(&bytes).map_err(|_| CallerError::Malformed)
    }

    /// The caller's address, if the token is for `chain_id`, for the nodes of `organisation`
    /// (the verifying node's, if it has one) or for any node, signed by its key, unexpired at
    /// `now_ms` and expiring no later than [`CALLER_LIFETIME_MAX_MS`] after it.
    pub fn verify(
        &self,
        chain_id: &str,
        organisation: Option<&str>,
        now_ms: u64,
    ) -> Result<Address, CallerError> {
        if self.claim.chain_id != chain_id {
            return Err(CallerError::WrongChain {
                expected: chain_id.to_string(),
                found: self.claim.chain_id.clone(),
            });
        }
        if let Some(audience) = &self.claim.audience {
            if Some(audience.as_str()) != organisation {
                return Err(CallerError::WrongAudience {
                    audience: audience.clone(),
                    node: organisation.map_or("of no organisation".into(), |o| format!("`{o}`'s")),
                });
            }
        }
        if self.claim.expires_ms <= now_ms {
            return Err(CallerError::Expired);
        }
        if self.claim.expires_ms - now_ms > CALLER_LIFETIME_MAX_MS {
            return Err(CallerError::TooLong);
        }
        verify_prehash(
            &self.claim.public_key,
            &self.signature,
            &self.claim.signing_hash(),
        )
        .map_err(|fault| match fault {
            SignatureFault::BadPublicKey => CallerError::BadPublicKey,
            SignatureFault::HighS | SignatureFault::Mismatch => CallerError::BadSignature,
        })?;
        Ok(address_of(&self.claim.public_key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Action, SignedTransaction, Transaction};

    const NOW: u64 = 1_800_000_000_000;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_slice(&[seed; 32]).expect("valid scalar")
    }

    #[test]
    fn a_token_proves_its_signer_on_its_chain_for_its_lifetime() {
        let token = CallerToken::new(&key(1), "test", NOW + 60_000, None);
        let decoded = CallerToken::decode(&token.encode()).expect("decodes");
        assert_eq!(
            decoded.verify("test", Some("org-1"), NOW),
            Ok(address_of(&crate::public_key(&key(1))))
        );
        assert!(matches!(
            decoded.verify("other", None, NOW),
            Err(CallerError::WrongChain { .. })
        ));
        assert_eq!(
            decoded.verify("test", None, NOW + 60_000),
            Err(CallerError::Expired)
        );
        let long = CallerToken::new(&key(1), "test", NOW + CALLER_LIFETIME_MAX_MS + 1, None);
        assert_eq!(long.verify("test", None, NOW), Err(CallerError::TooLong));
        assert_eq!(CallerToken::decode("0x00"), Err(CallerError::Malformed));
    }

    #[test]
    fn a_token_signed_by_another_key_or_altered_is_refused() {
        let mut token = CallerToken::new(&key(1), "test", NOW + 60_000, None);
        token.claim.public_key = crate::public_key(&key(2));
        assert_eq!(
            token.verify("test", None, NOW),
            Err(CallerError::BadSignature)
        );
        let mut token = CallerToken::new(&key(1), "test", NOW + 60_000, None);
        token.claim.expires_ms += 1;
        assert_eq!(
            token.verify("test", None, NOW),
            Err(CallerError::BadSignature)
        );
        // Unbinding a bound token, or binding it elsewhere, breaks its signature.
        let mut token = CallerToken::new(&key(1), "test", NOW + 60_000, Some("org-1"));
        token.claim.audience = None;
        assert_eq!(
            token.verify("test", None, NOW),
            Err(CallerError::BadSignature)
        );
        token.claim.audience = Some("org-2".into());
        assert_eq!(
            token.verify("test", Some("org-2"), NOW),
            Err(CallerError::BadSignature)
        );
    }

    /// A token bound to an organisation is accepted by its nodes only.
    #[test]
    fn a_bound_token_is_accepted_by_its_organisations_nodes_only() {
        let token = CallerToken::new(&key(1), "test", NOW + 60_000, Some("org-1"));
        assert!(token.verify("test", Some("org-1"), NOW).is_ok());
        for node in [Some("org-2"), None] {
            assert!(matches!(
                token.verify("test", node, NOW),
                Err(CallerError::WrongAudience { .. })
            ));
        }
    }

    /// A token's signature over its claim never verifies as a transaction's, however the token's
    /// fields are chosen: the prehashes differ by construction (the domain), and a transaction
    /// whose encoding began with the domain would need a chain id over a billion bytes long.
    #[test]
    fn a_token_cannot_pass_as_a_transaction() {
        let signer = key(1);
        let token = CallerToken::new(&signer, "test", NOW + 60_000, None);
        let transaction = Transaction {
            chain_id: "test".into(),
            sender: crate::public_key(&signer),
            nonce: 0,
            fuel_limit: 1,
            action: Action::Call {
                contract: [0; 32],
                method: "m".into(),
                args: String::new(),
            },
        };
        let forged = SignedTransaction {
            transaction,
            signature: token.signature,
        };
        assert!(forged.verify_signature().is_err());

        // And the reverse: a transaction's signature replayed as a token's.
        let signed = forged.transaction.sign(&signer);
        assert!(signed.verify_signature().is_ok());
        let replayed = CallerToken {
            claim: token.claim.clone(),
            signature: signed.signature,
        };
        assert_eq!(
            replayed.verify("test", None, NOW),
            Err(CallerError::BadSignature)
        );
        let length = u32::from_le_bytes(CALLER_DOMAIN[..4].try_into().expect("four bytes"));
        assert!(length > 1_000_000_000, "{length}");
    }
}

//! Signed transactions: the only way anything changes on a Vellum ledger.
//!
//! The wire format is borsh (`docs/transactions.md` specifies it byte by byte), chosen because it
//! is canonical for these types (one value, one encoding) and integrators have libraries for it in
//! most languages. A transaction is signed with ECDSA over secp256k1 on `keccak256(borsh(tx))`;
//! only low-S signatures are accepted, so a signed transaction has exactly one valid encoding and
//! its hash, `keccak256(borsh(signed))`, identifies it.

use borsh::{BorshDeserialize, BorshSerialize};
use k256::ecdsa::SigningKey;
use sha3::{Digest, Keccak256};

/// A 32-byte account or contract address (the ABI's: what `caller()` returns to a contract).
pub use vellum_abi::Address;

/// A 32-byte Keccak-256 digest.
pub type Hash = [u8; 32];

/// A compressed SEC1 secp256k1 public key.
pub type PublicKey = [u8; 33];

/// Largest accepted encoded signed transaction (room for a 2 MiB contract plus arguments).
pub const TRANSACTION_BYTES_MAX: usize = 3 * 1024 * 1024;

/// Fuel every transaction pays before it runs: its signature check, decoding and bookkeeping.
pub const INTRINSIC_FUEL_BASE: u64 = 50_000;
/// Fuel per byte of the encoded signed transaction (storing and gossiping it).
pub const INTRINSIC_FUEL_PER_BYTE: u64 = 10;

/// Keccak-256 of `data`.
pub fn keccak256(data: &[u8]) -> Hash {
    Keccak256::digest(data).into()
}

/// The address of the account holding `public_key`: `keccak256(public_key)` over its 33-byte
/// compressed form.
pub fn address_of(public_key: &PublicKey) -> Address {
    keccak256(public_key)
}

/// A member's role in its organisation.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages the organisation's members and approves code.
    Admin,
    /// Submits transactions.
    Member,
}

/// What a transaction does.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Action {
    /// Deploy `code` as a new contract and run its `instantiate` with JSON `init_args`.
    Deploy {
        /// The contract's wasm.
        code: Vec<u8>,
        /// JSON arguments of `instantiate`.
        init_args: String,
    },
    /// Call `execute.<method>` of `contract` with JSON `args`.
    Call {
        /// The contract's address.
        contract: Address,
        /// The `#[execute]` method.
        method: String,
        /// JSON arguments.
        args: String,
    },
    /// Replace `contract`'s code, keeping its address and state, and run `migrate` with JSON
    /// `migrate_args` if the new code exports it.
    Upgrade {
        /// The contract's address.
        contract: Address,
        /// The new wasm.
        code: Vec<u8>,
        /// JSON arguments of `migrate`.
        migrate_args: String,
    },
    /// Approve code (by hash) for deploy or upgrade on behalf of the sender's organisation, under
    /// the `majority_of_organisations` policy.
    ApproveCode {
        /// keccak256 of the wasm.
        code_hash: Hash,
    },
    /// Add an identity to an organisation (an admin of that organisation only).
    AddMember {
        /// The new member's key.
        public_key: PublicKey,
        /// Its organisation.
        organisation: String,
        /// Its role.
        role: Role,
    },
    /// Remove an identity (an admin of its organisation only).
    RemoveMember {
        /// The member's key.
        public_key: PublicKey,
    },
    /// Ask every node holding the private payload whose salted hash is `hash` to delete it
    /// ([`crate::private`]). Any member may send it; a holder acts on it only if the sender's
    /// organisation is one of the payload's collection. The chain keeps the transaction, and so
    /// the hash.
    PurgePrivate {
        /// The payload's salted hash.
        hash: Hash,
    },
    /// Propose `change` ([`crate::governance`]); the proposal's number is the next one, and the
    /// sender's organisation approves it at once (admins only).
    Propose {
        /// What it changes.
        change: crate::governance::Change,
    },
    /// Approve proposal `proposal` for the sender's organisation (admins only); the change
    /// executes in this transaction if that meets its policy.
    Approve {
        /// The proposal's number.
        proposal: u64,
    },
    /// Withdraw the sender's organisation's approval of open proposal `proposal` (admins only).
    Withdraw {
        /// The proposal's number.
        proposal: u64,
    },
    /// Make `public_key` the key that signs for `account`, whose address, nonce and roles stay:
    /// the account itself (signed with its current key), or an admin of its organisation (after
    /// a loss). The previous key is refused from the next transaction on; a key signs for one
    /// account, once.
    RotateKey {
        /// The account's address.
        account: Address,
        /// Its new key.
        public_key: PublicKey,
        /// The new key's signature of [`rotation_message`] (`r ‖ s`, low-S): its holder agrees
        /// to sign for `account`, so no one can bind someone else's key.
        proof: [u8; 64],
    },
}

/// Domain tag of a key rotation's proof: a transaction's signed bytes begin with its chain id's
/// length as a `u32`, which these bytes would make over a billion, and a caller token's with
/// another tag, so none of the three signatures passes for another.
pub const ROTATION_TAG: &[u8] = b"vellum-rotate-key-v1";

/// What a new key signs to accept signing for `account` on chain `chain_id`:
/// `keccak256(ROTATION_TAG ‖ borsh(chain_id) ‖ account ‖ public_key)`.
pub fn rotation_message(chain_id: &str, account: &Address, public_key: &PublicKey) -> Hash {
    let mut bytes = ROTATION_TAG.to_vec();
    bytes.extend_from_slice(&(chain_id.len() as u32).to_le_bytes());
    bytes.extend_from_slice(chain_id.as_bytes());
    bytes.extend_from_slice(account);
    bytes.extend_from_slice(public_key);
    keccak256(&bytes)
}

/// The proof of a rotation of `account` to `key` on chain `chain_id` ([`Action::RotateKey`]).
pub fn prove_rotation(key: &SigningKey, chain_id: &str, account: &Address) -> [u8; 64] {
    sign_prehash(key, &rotation_message(chain_id, account, &public_key(key)))
}

/// Whether `proof` is `public_key`'s signature of the rotation of `account` on `chain_id`.
pub fn rotation_proven(
    public_key: &PublicKey,
    proof: &[u8; 64],
    chain_id: &str,
    account: &Address,
) -> bool {
    verify_prehash(
        public_key,
        proof,
        &rotation_message(chain_id, account, public_key),
    )
    .is_ok()
}

/// The signed part of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Transaction {
    /// The network it is meant for; a transaction for another chain is rejected.
    pub chain_id: String,
    /// The signer's key.
    pub sender: PublicKey,
    /// The sender's next nonce: 0 for its first transaction, then one more each time.
    pub nonce: u64,
    /// Fuel the transaction may consume.
    pub fuel_limit: u64,
    /// What it does.
    pub action: Action,
}

/// A transaction with its signature: what clients submit and blocks carry.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignedTransaction {
    /// The signed content.
    pub transaction: Transaction,
    /// `r || s`, 64 bytes, low-S.
    pub signature: [u8; 64],
}

/// Why a transaction was rejected before execution.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    /// The bytes are not a borsh-encoded signed transaction (or have bytes left over).
    #[error("malformed transaction: {0}")]
    Malformed(String),
    /// The encoding is larger than [`TRANSACTION_BYTES_MAX`].
    #[error("transaction is {size} bytes; the limit is {max}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The sender field is not a valid compressed secp256k1 key.
    #[error("sender is not a valid compressed secp256k1 public key")]
    BadPublicKey,
    /// The signature's `s` is in the upper half of the curve order.
    #[error("signature has a high S value; sign with low-S normalisation")]
    HighS,
    /// The signature does not verify against the sender's key.
    #[error("signature does not match the sender's key")]
    BadSignature,
    /// The transaction names another chain.
    #[error("transaction is for chain `{found}`; this is `{expected}`")]
    WrongChain {
        /// This chain.
        expected: String,
        /// The one named.
        found: String,
    },
    /// The sender is not a registered identity.
    #[error("sender {0} is not a member of this network")]
    UnknownSender(String),
    /// The sender's organisation has been removed from the network (by proposal).
    #[error("sender {sender} belongs to organisation `{organisation}`, which has left the network; its keys are refused")]
    OrganisationRemoved {
        /// The sender's address.
        sender: String,
        /// Its organisation.
        organisation: String,
    },
    /// The key signed for an account that has rotated to another key since.
    #[error("sender key {sender} was replaced by a key rotation of account {account}; sign with the account's current key")]
    KeyRotated {
        /// The key's address.
        sender: String,
        /// The account it signed for.
        account: String,
    },
    /// The nonce is not the sender's next one.
    #[error("nonce {found} is not the sender's next nonce {expected}")]
    BadNonce {
        /// The next nonce.
        expected: u64,
        /// The one given.
        found: u64,
    },
    /// A transaction with this hash was already committed (or appears twice in a block).
    #[error("transaction {0} was already submitted")]
    Duplicate(String),
    /// The fuel limit is above the per-transaction maximum.
    #[error("fuel limit {found} exceeds the maximum {max}")]
    FuelLimit {
        /// The limit requested.
        found: u64,
        /// The maximum.
        max: u64,
    },
}

impl TransactionError {
    /// Whether the sender's key stopped signing for a member (the member was removed, rotated
    /// to another key, or its organisation left). Like every state rule it holds on the
    /// branch checked, but no later block undoes it: a pool drops such transactions rather
    /// than offer them to every block until they expire.
    pub fn sender_gone(&self) -> bool {
        matches!(
            self,
            TransactionError::UnknownSender(_)
                | TransactionError::OrganisationRemoved { .. }
                | TransactionError::KeyRotated { .. }
        )
    }

    /// Whether the rule broken depends on the ledger's state (membership, nonces, what was
    /// committed), so the transaction may be valid on another branch or later; otherwise it is
    /// invalid for good (its encoding, signature, chain or fuel limit).
    pub fn depends_on_state(&self) -> bool {
        matches!(
            self,
            TransactionError::UnknownSender(_)
                | TransactionError::OrganisationRemoved { .. }
                | TransactionError::KeyRotated { .. }
                | TransactionError::BadNonce { .. }
                | TransactionError::Duplicate(_)
        )
    }
}

impl Transaction {
    /// The borsh encoding that is signed.
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).unwrap_or_default()
    }

    /// `keccak256(encode())`: the message the signature covers.
    pub fn signing_hash(&self) -> Hash {
        keccak256(&self.encode())
    }

    /// Sign with `key` (low-S). The sender field must be `key`'s public key.
    pub fn sign(self, key: &SigningKey) -> SignedTransaction {
        SignedTransaction {
            signature: sign_prehash(key, &self.signing_hash()),
            transaction: self,
        }
    }
}

/// `r ‖ s` of `key`'s ECDSA signature over `prehash`, low-S: how transactions and caller tokens
/// (`crate::caller`) are signed.
pub(crate) fn sign_prehash(key: &SigningKey, prehash: &Hash) -> [u8; 64] {
    let (signature, _) = key
        .sign_prehash_recoverable(prehash)
        .unwrap_or_else(|_| unreachable!("a 32-byte prehash is always signable"));
    signature
        .normalize_s()
        .unwrap_or(signature)
        .to_bytes()
        .into()
}

/// Why a signature made by [`sign_prehash`] does not verify.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SignatureFault {
    /// The public key is not a compressed secp256k1 key.
    BadPublicKey,
    /// `s` is in the upper half of the curve order.
    HighS,
    /// Not a signature, or not this key's over this prehash.
    Mismatch,
}

/// Check `signature` (`r ‖ s`, low-S) by `public_key` over `prehash`: with libsecp256k1 where
/// it builds, 2.5x as fast as k256 (BENCHMARKS.md); with k256 on wasm32. A test keeps the two
/// verdicts equal, fault for fault.
pub(crate) fn verify_prehash(
    public_key: &PublicKey,
    signature: &[u8; 64],
    prehash: &Hash,
) -> Result<(), SignatureFault> {
    #[cfg(not(target_arch = "wasm32"))]
    return verify_prehash_libsecp256k1(public_key, signature, prehash);
    #[cfg(target_arch = "wasm32")]
    return verify_prehash_k256(public_key, signature, prehash);
}

/// [`verify_prehash`] with k256.
#[cfg(any(test, target_arch = "wasm32"))]
pub(crate) fn verify_prehash_k256(
    public_key: &PublicKey,
    signature: &[u8; 64],
    prehash: &Hash,
) -> Result<(), SignatureFault> {
    use k256::ecdsa::{signature::hazmat::PrehashVerifier, Signature, VerifyingKey};
    let key =
        VerifyingKey::from_sec1_bytes(public_key).map_err(|_| SignatureFault::BadPublicKey)?;
    let signature = Signature::from_slice(signature).map_err(|_| SignatureFault::Mismatch)?;
    if signature.normalize_s().is_some() {
        return Err(SignatureFault::HighS);
    }
    key.verify_prehash(prehash, &signature)
        .map_err(|_| SignatureFault::Mismatch)
}

/// [`verify_prehash`] with libsecp256k1, its faults in k256's order: the key, then a signature
/// that is not one (`r` or `s` zero, or not below the curve order), then a high `s`, then the
/// check itself.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn verify_prehash_libsecp256k1(
    public_key: &PublicKey,
    signature: &[u8; 64],
    prehash: &Hash,
) -> Result<(), SignatureFault> {
    use secp256k1::{ecdsa, Message, Secp256k1, VerifyOnly};
    static CONTEXT: std::sync::OnceLock<Secp256k1<VerifyOnly>> = std::sync::OnceLock::new();
    let context = CONTEXT.get_or_init(Secp256k1::verification_only);
    let key =
        secp256k1::PublicKey::from_slice(public_key).map_err(|_| SignatureFault::BadPublicKey)?;
    // libsecp256k1 parses a zero `r` or `s` (and then fails the check); k256 refuses it as no
    // signature, before it looks at `s`'s half.
    if signature[..32].iter().all(|b| *b == 0) || signature[32..].iter().all(|b| *b == 0) {
        return Err(SignatureFault::Mismatch);
    }
    let parsed = ecdsa::Signature::from_compact(signature).map_err(|_| SignatureFault::Mismatch)?;
    let mut normalized = parsed;
    normalized.normalize_s();
    if normalized != parsed {
        return Err(SignatureFault::HighS);
    }
    context
        .verify_ecdsa(Message::from_digest(*prehash), &parsed, &key)
        .map_err(|_| SignatureFault::Mismatch)
}

/// The compressed public key of `key`.
pub fn public_key(key: &SigningKey) -> PublicKey {
    let point = key.verifying_key().to_encoded_point(true);
    let mut out = [0u8; 33];
    out.copy_from_slice(point.as_bytes());
    out
}

impl SignedTransaction {
    /// Decode a signed transaction, rejecting oversize input and trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, TransactionError> {
        if bytes.len() > TRANSACTION_BYTES_MAX {
            return Err(TransactionError::TooLarge {
                size: bytes.len(),
                max: TRANSACTION_BYTES_MAX,
            });
        }
        borsh::from_slice(bytes).map_err(|e| TransactionError::Malformed(e.to_string()))
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).unwrap_or_default()
    }

    /// The length of [`SignedTransaction::encode`], without encoding.
    pub fn encoded_len(&self) -> usize {
        borsh::object_length(self).unwrap_or(usize::MAX)
    }

    /// The fuel it pays before its action runs: `INTRINSIC_FUEL_BASE + INTRINSIC_FUEL_PER_BYTE ×
    /// encoded_len()`. A receipt's `fuel_used` is this plus what the action used.
    pub fn intrinsic_fuel(&self) -> u64 {
        INTRINSIC_FUEL_BASE
            .saturating_add(INTRINSIC_FUEL_PER_BYTE.saturating_mul(self.encoded_len() as u64))
    }

    /// `keccak256(encode())`: the transaction's identity.
    pub fn hash(&self) -> Hash {
        keccak256(&self.encode())
    }

    /// The address of the sender's key: the account it signs for, unless the account rotated
    /// to this key (`Action::RotateKey`), which only the ledger knows.
    pub fn sender(&self) -> Address {
        address_of(&self.transaction.sender)
    }

    /// Check the signature: a valid key, a low-S signature, and a match.
    pub fn verify_signature(&self) -> Result<(), TransactionError> {
        verify_prehash(
            &self.transaction.sender,
            &self.signature,
            &self.transaction.signing_hash(),
        )
        .map_err(|fault| match fault {
            SignatureFault::BadPublicKey => TransactionError::BadPublicKey,
            SignatureFault::HighS => TransactionError::HighS,
            SignatureFault::Mismatch => TransactionError::BadSignature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::ecdsa::Signature;

    /// libsecp256k1 and k256 agree on every signature: valid ones, each bit of a valid one
    /// flipped, a high `s`, and the boundary values of `r` and `s` (zero, the half order, the
    /// order and beyond), for keys whose bits are flipped too (off the curve, wrong prefix).
    /// Consensus depends on it: a node built either way accepts exactly the same transactions.
    #[test]
    fn libsecp256k1_and_k256_accept_the_same_signatures_with_the_same_faults() {
        const ORDER: [u8; 32] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c,
            0xd0, 0x36, 0x41, 0x41,
        ];
        const HALF: [u8; 32] = [
            0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46,
            0x68, 0x1b, 0x20, 0xa0,
        ];
        let plus = |value: [u8; 32], add: u8| {
            let mut out = value;
            let mut carry = add as u16;
            for byte in out.iter_mut().rev() {
                let sum = *byte as u16 + carry;
                *byte = sum as u8;
                carry = sum >> 8;
            }
            out
        };
        let boundaries = [
            [0u8; 32],
            plus([0; 32], 1),
            HALF,
            plus(HALF, 1),
            plus(ORDER, 255),
            ORDER,
            plus(ORDER, 1),
            [0xff; 32],
        ];
        let mut compared = 0;
        let mut agree = |key: &PublicKey, signature: &[u8; 64], prehash: &Hash| {
            assert_eq!(
                verify_prehash_libsecp256k1(key, signature, prehash),
                verify_prehash_k256(key, signature, prehash),
                "key {key:?} signature {signature:?} prehash {prehash:?}"
            );
            compared += 1;
        };
        for seed in 1..=12u8 {
            let key = SigningKey::from_slice(&keccak256(&[seed])).expect("a scalar");
            let public = public_key(&key);
            let prehash = keccak256(&[seed, 1]);
            let signature = sign_prehash(&key, &prehash);
            agree(&public, &signature, &prehash);
            assert_eq!(
                verify_prehash_libsecp256k1(&public, &signature, &prehash),
                Ok(())
            );
            for bit in (0..512).step_by(7 + seed as usize) {
                let mut flipped = signature;
                flipped[bit / 8] ^= 1 << (bit % 8);
                agree(&public, &flipped, &prehash);
            }
            for bit in (0..264).step_by(5 + seed as usize) {
                let mut flipped = public;
                flipped[bit / 8] ^= 1 << (bit % 8);
                agree(&flipped, &signature, &prehash);
            }
            let mut other = prehash;
            other[seed as usize] ^= 1;
            agree(&public, &signature, &other);
            let high = Signature::from_slice(&signature).expect("valid");
            let (r, s) = high.split_scalars();
            let high: [u8; 64] = Signature::from_scalars(r, -*s)
                .expect("valid")
                .to_bytes()
                .into();
            agree(&public, &high, &prehash);
            for value in boundaries {
                let mut as_r = signature;
                as_r[..32].copy_from_slice(&value);
                agree(&public, &as_r, &prehash);
                let mut as_s = signature;
                as_s[32..].copy_from_slice(&value);
                agree(&public, &as_s, &prehash);
                for other in boundaries {
                    let mut both = [0u8; 64];
                    both[..32].copy_from_slice(&value);
                    both[32..].copy_from_slice(&other);
                    agree(&public, &both, &prehash);
                }
            }
        }
        assert!(compared > 1_000, "{compared} cases");
    }

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_slice(&[seed; 32]).expect("valid scalar")
    }

    fn transaction(key: &SigningKey) -> Transaction {
        Transaction {
            chain_id: "test".into(),
            sender: public_key(key),
            nonce: 7,
            fuel_limit: 1_000_000,
            action: Action::Call {
                contract: [9; 32],
                method: "transfer".into(),
                args: "{}".into(),
            },
        }
    }

    #[test]
    fn signed_transactions_round_trip_and_verify() {
        let signed = transaction(&key(1)).sign(&key(1));
        let decoded = SignedTransaction::decode(&signed.encode()).expect("decodes");
        assert_eq!(decoded, signed);
        assert_eq!(decoded.hash(), signed.hash());
        decoded.verify_signature().expect("valid");
    }

    #[test]
    fn each_rejection_class_has_its_own_error() {
        let signed = transaction(&key(1)).sign(&key(1));
        let mut forged = signed.clone();
        forged.transaction.nonce += 1;
        assert_eq!(
            forged.verify_signature(),
            Err(TransactionError::BadSignature)
        );

        let mut wrong_key = transaction(&key(2)).sign(&key(1));
        wrong_key.transaction.sender = public_key(&key(2));
        assert_eq!(
            wrong_key.verify_signature(),
            Err(TransactionError::BadSignature)
        );

        let mut high_s = signed.clone();
        let low = Signature::from_slice(&signed.signature).expect("valid");
        let (r, s) = low.split_scalars();
        let flipped = Signature::from_scalars(r, -*s).expect("valid");
        high_s.signature = flipped.to_bytes().into();
        assert_eq!(high_s.verify_signature(), Err(TransactionError::HighS));

        let mut bad_key = signed.clone();
        bad_key.transaction.sender = [7; 33];
        assert_eq!(
            bad_key.verify_signature(),
            Err(TransactionError::BadPublicKey)
        );

        let mut bytes = signed.encode();
        bytes.push(0);
        assert!(matches!(
            SignedTransaction::decode(&bytes),
            Err(TransactionError::Malformed(_))
        ));
        assert!(matches!(
            SignedTransaction::decode(&bytes[..10]),
            Err(TransactionError::Malformed(_))
        ));
        let huge = vec![0u8; TRANSACTION_BYTES_MAX + 1];
        assert!(matches!(
            SignedTransaction::decode(&huge),
            Err(TransactionError::TooLarge { .. })
        ));
    }
}

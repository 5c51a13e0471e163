//! Answers a client checks offline, against nothing but the genesis file: that a block was
//! finalized by the validators genesis names, and that a receipt is the one that block holds.
//! `docs/proofs.md` specifies every byte, so that a verifier can be written from it alone.
//!
//! - A [`Seal`] is the consensus evidence a node stores beside a committed block: the round the
//!   block was proposed in and, when the network produced one naming it, the finalization
//!   certificate (a quorum of the validators' ed25519 signatures over the block's digest).
//! - A [`Finality`] proof is a block's header, the headers after it up to one whose seal holds a
//!   certificate (a block finalized as the ancestor of a later certified block has none of its
//!   own; the later certificate covers it through the parent hashes), and that seal.
//! - A [`ReceiptProof`] is a receipt, its Merkle path to its block's `receipts_root`, and the
//!   block's [`Finality`].
//!
//! Checking a proof needs no node: the certificate's signatures are checked against the keys of
//! the genesis validators, in the namespace consensus signs in, by commonware's own ed25519; the
//! Merkle path by commonware's `bmt`.

use crate::{
    block::Receipt,
    transaction::{keccak256, Hash},
    validators::{self, ValidatorKey, ValidatorSetError},
    Genesis, Header,
};
use borsh::{BorshDeserialize, BorshSerialize};
use bytes::BufMut;
use commonware_codec::{
    varint::UInt, Buf, EncodeSize, Error as CodecError, Read, ReadExt as _, Write,
};
use commonware_cryptography::{
    ed25519::certificate::Certificate, keccak256::Digest, Keccak256, Verifier as _,
};
use commonware_storage::bmt;
use commonware_utils::{
    ordered::{Quorum as _, Set},
    N3f1,
};

/// What commonware's simplex appends to the chain's namespace for finalize votes.
const FINALIZE_SUFFIX: &[u8] = b"_FINALIZE";

/// The most headers a [`Finality`] proof may chain, from the proven block to the certified one.
/// A node builds one only if a certificate names a block within this many of the proven one.
pub const FINALITY_HEADERS_MAX: usize = 1_024;

/// Why a proof does not hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The bundle's bytes are not a proof.
    #[error("the proof does not decode: {0}")]
    Decode(String),
    /// The seal carries no finalization certificate.
    #[error("the last header's seal carries no finalization certificate")]
    Uncertified,
    /// The proof holds no header, or more than [`FINALITY_HEADERS_MAX`].
    #[error("a finality proof holds 1 to {FINALITY_HEADERS_MAX} headers, this one {0}")]
    Headers(usize),
    /// A header is not the parent of the one after it.
    #[error("the header at height {0} is not the parent of the header after it")]
    BrokenChain(u64),
    /// The certificate is for another block than the last header (or another round).
    #[error("the certificate names another block than the last header")]
    WrongBlock,
    /// The certificate's signatures are not a quorum of valid signatures of the genesis
    /// validators.
    #[error("the certificate is not a quorum of valid signatures of the genesis validators")]
    Certificate,
    /// The state proof does not show the key holding the bundle's value under the block's
    /// `state_root`.
    #[error("the key's value is not proven: the state proof does not lead to state_root with this value")]
    State,
    /// The receipt's Merkle path does not lead to the block's `receipts_root`.
    #[error("the receipt is not in the block: its Merkle path does not lead to receipts_root")]
    Receipt,
    /// The genesis file names no usable validator set.
    #[error(transparent)]
    Validators(#[from] ValidatorSetError),
}

impl From<CodecError> for ProofError {
    fn from(error: CodecError) -> Self {
        Self::Decode(error.to_string())
    }
}

/// A consensus round: its epoch and view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Round {
    /// The epoch (0 while the validator set is the genesis one).
    pub epoch: u64,
    /// The view within it.
    pub view: u64,
}

/// A finalization certificate: the proposal it finalizes and a quorum's signatures over it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finalization {
    /// The round the proposal was made in.
    pub round: Round,
    /// The view of the proposal's parent.
    pub parent_view: u64,
    /// The digest of the finalized block.
    pub payload: Hash,
    /// Who signed, and their signatures.
    pub certificate: Certificate,
}

/// The consensus evidence stored beside a committed block (`vellum_getSeal`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seal {
    /// The round the block was proposed in.
    pub round: Round,
    /// The round's leader (ed25519 public key).
    pub leader: [u8; 32],
    /// The parent's view and digest.
    pub parent: (u64, Hash),
    /// The certificate finalizing this block, if the network produced one naming it.
    pub finalization: Option<Finalization>,
}

impl Seal {
    /// Decode a seal; the bytes must be exactly one seal's canonical encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProofError> {
        Ok(<Self as commonware_codec::Decode>::decode_cfg(
            bytes.to_vec(),
            &(),
        )?)
    }

    /// Its encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encode_size());
        self.write(&mut out);
        out
    }

    /// The encoding of the round context alone (round, leader, parent): what a block's digest
    /// commits to beside its header.
    pub fn context_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write_round(&self.round, &mut out);
        self.leader.write(&mut out);
        UInt(self.parent.0).write(&mut out);
        self.parent.1.write(&mut out);
        out
    }

    /// The digest consensus voted on for the block with `header` proposed in this seal's round:
    /// `keccak256(context_bytes || header.hash())`.
    pub fn digest_of(&self, header: &Header) -> Hash {
        let mut preimage = self.context_bytes();
        preimage.extend_from_slice(&header.hash());
        keccak256(&preimage)
    }
}

fn write_round(round: &Round, buf: &mut impl BufMut) {
    UInt(round.epoch).write(buf);
    UInt(round.view).write(buf);
}

fn read_round(buf: &mut impl Buf) -> Result<Round, CodecError> {
    Ok(Round {
        epoch: UInt::<u64>::read(buf)?.into(),
        view: UInt::<u64>::read(buf)?.into(),
    })
}

fn round_size(round: &Round) -> usize {
    UInt(round.epoch).encode_size() + UInt(round.view).encode_size()
}

impl Finalization {
    /// The message its signers signed: the proposal's encoding.
    fn message(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write_round(&self.round, &mut out);
        UInt(self.parent_view).write(&mut out);
        self.payload.write(&mut out);
        out
    }
}

impl Write for Seal {
    fn write(&self, buf: &mut impl BufMut) {
        write_round(&self.round, buf);
        self.leader.write(buf);
        UInt(self.parent.0).write(buf);
        self.parent.1.write(buf);
        self.finalization.is_some().write(buf);
        if let Some(finalization) = &self.finalization {
            write_round(&finalization.round, buf);
            UInt(finalization.parent_view).write(buf);
            finalization.payload.write(buf);
            finalization.certificate.write(buf);
        }
    }
}

impl EncodeSize for Seal {
    fn encode_size(&self) -> usize {
        let context = round_size(&self.round) + 32 + UInt(self.parent.0).encode_size() + 32 + 1;
        context
            + self.finalization.as_ref().map_or(0, |f| {
                round_size(&f.round)
                    + UInt(f.parent_view).encode_size()
                    + 32
                    + f.certificate.encode_size()
            })
    }
}

impl Read for Seal {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let round = read_round(buf)?;
        let leader = <[u8; 32]>::read(buf)?;
        let parent = (UInt::<u64>::read(buf)?.into(), <[u8; 32]>::read(buf)?);
        let finalization = if bool::read(buf)? {
            let round = read_round(buf)?;
            let parent_view = UInt::<u64>::read(buf)?.into();
            let payload = <[u8; 32]>::read(buf)?;
            // The signer count is checked against the validator set when the proof is checked.
            let certificate = Certificate::read_cfg(buf, &(u32::MAX as usize))?;
            Some(Finalization {
                round,
                parent_view,
                payload,
                certificate,
            })
        } else {
            None
        };
        Ok(Self {
            round,
            leader,
            parent,
            finalization,
        })
    }
}

/// The validator set a genesis file names, as a verifier needs it: the keys in consensus order
/// and the namespace finalize votes are signed in.
#[derive(Clone, Debug)]
pub struct Validators {
    keys: Set<ValidatorKey>,
    namespace: Vec<u8>,
}

impl Validators {
    /// The validators `genesis` names.
    pub fn from_genesis(genesis: &Genesis) -> Result<Self, ProofError> {
        let mut namespace = validators::namespace(genesis);
        namespace.extend_from_slice(FINALIZE_SUFFIX);
        Ok(Self {
            keys: validators::participants(genesis)?,
            namespace,
        })
    }

    /// How many validators sign a certificate at least.
    pub fn quorum(&self) -> usize {
        self.keys.quorum::<N3f1>() as usize
    }

    /// Check that `finalization` carries a quorum of valid signatures, by distinct genesis
    /// validators, over its proposal (the rule commonware's simplex applies); the signer count.
    pub fn check(&self, finalization: &Finalization) -> Result<usize, ProofError> {
        let certificate = &finalization.certificate;
        let signers = certificate.signers.count();
        if certificate.signers.len() != self.keys.len()
            || signers != certificate.signatures.len()
            || signers < self.quorum()
        {
            return Err(ProofError::Certificate);
        }
        let message = finalization.message();
        for (signer, signature) in certificate.signers.iter().zip(&certificate.signatures) {
            let key = self.keys.key(signer).ok_or(ProofError::Certificate)?;
            let signature = signature.get().ok_or(ProofError::Certificate)?;
            if !key.verify(&self.namespace, &message, signature) {
                return Err(ProofError::Certificate);
            }
        }
        Ok(signers)
    }
}

/// That a block was finalized: its header, the headers after it up to a certified one, and the
/// certified one's seal.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Finality {
    /// The proven block's header first; each next header is the child of the one before; the
    /// last is the block the seal's certificate names.
    pub headers: Vec<Header>,
    /// The last header's seal ([`Seal::encode`]).
    pub seal: Vec<u8>,
}

/// What a checked [`Finality`] proof established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finalized {
    /// The proven block's header.
    pub header: Header,
    /// The height of the block the certificate names.
    pub certified_height: u64,
    /// How many validators signed the certificate.
    pub signers: usize,
    /// How many validators genesis names.
    pub validators: usize,
}

impl Finality {
    /// Check the proof against `validators`.
    pub fn check(&self, validators: &Validators) -> Result<Finalized, ProofError> {
        let (Some(first), Some(last)) = (self.headers.first(), self.headers.last()) else {
            return Err(ProofError::Headers(0));
        };
        if self.headers.len() > FINALITY_HEADERS_MAX {
            return Err(ProofError::Headers(self.headers.len()));
        }
        for pair in self.headers.windows(2) {
            if pair[1].parent != pair[0].hash() || pair[1].height != pair[0].height + 1 {
                return Err(ProofError::BrokenChain(pair[0].height));
            }
        }
        let seal = Seal::decode(&self.seal)?;
        let finalization = seal.finalization.as_ref().ok_or(ProofError::Uncertified)?;
        if finalization.round != seal.round || finalization.payload != seal.digest_of(last) {
            return Err(ProofError::WrongBlock);
        }
        let signers = validators.check(finalization)?;
        Ok(Finalized {
            header: first.clone(),
            certified_height: last.height,
            signers,
            validators: validators.keys.len(),
        })
    }
}

/// A receipt, its Merkle path to its block's `receipts_root`, and the block's finality.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ReceiptProof {
    /// The receipt.
    pub receipt: Receipt,
    /// Its position in the block (its transaction's).
    pub position: u32,
    /// How many receipts the block holds.
    pub leaf_count: u32,
    /// The sibling hashes from the leaf up (commonware `bmt`).
    pub siblings: Vec<Hash>,
    /// That the block is final.
    pub finality: Finality,
}

impl ReceiptProof {
    /// Build the proof for the receipt at `position` among `receipts` (a block's, in order),
    /// given that block's finality.
    pub fn build(
        receipts: &[Receipt],
        position: u32,
        finality: Finality,
    ) -> Result<Self, ProofError> {
        let receipt = receipts
            .get(position as usize)
            .ok_or(ProofError::Receipt)?
            .clone();
        let mut builder = bmt::Builder::<Keccak256>::new(receipts.len());
        for receipt in receipts {
            builder.add(&Digest(receipt.hash()));
        }
        let proof = builder
            .build()
            .proof(position)
            .map_err(|_| ProofError::Receipt)?;
        Ok(Self {
            receipt,
            position,
            leaf_count: proof.leaf_count,
            siblings: proof.siblings.iter().map(|d| d.0).collect(),
            finality,
        })
    }

    /// Check the proof against `validators`: the block is final, and this receipt is the one at
    /// `position` in it.
    pub fn check(&self, validators: &Validators) -> Result<Finalized, ProofError> {
        let finalized = self.finality.check(validators)?;
        let proof = bmt::Proof::<Digest> {
            leaf_count: self.leaf_count,
            siblings: self.siblings.iter().map(|s| Digest(*s)).collect(),
        };
        proof
            .verify_element_inclusion::<Keccak256>(
                &Digest(self.receipt.hash()),
                self.position,
                &Digest(finalized.header.receipts_root),
            )
            .map_err(|_| ProofError::Receipt)?;
        Ok(finalized)
    }

    /// Its borsh encoding: the bundle `vellum proof receipt` saves.
    pub fn to_bytes(&self) -> Vec<u8> {
        borsh::to_vec(self).unwrap_or_default()
    }

    /// Decode a bundle; the bytes must be exactly one proof.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProofError> {
        borsh::from_slice(bytes).map_err(|e| ProofError::Decode(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seal_without_a_certificate_round_trips_and_proves_nothing() {
        let seal = Seal {
            round: Round {
                epoch: 0,
                view: 300,
            },
            leader: [7; 32],
            parent: (299, [9; 32]),
            finalization: None,
        };
        let bytes = seal.encode();
        assert_eq!(bytes.len(), seal.encode_size());
        assert_eq!(Seal::decode(&bytes), Ok(seal.clone()));
        // One byte more, or one less, is not a seal.
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Seal::decode(&longer).is_err());
        assert!(Seal::decode(&bytes[..bytes.len() - 1]).is_err());
    }
}

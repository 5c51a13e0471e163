//! Byzantine-fault-tolerant ordering of blocks across validators, on commonware.
//!
//! Nothing here is a consensus protocol of our own. commonware's `simplex` orders block
//! digests (2 network hops to a notarized block, 3 to finality; votes journaled so a restarted
//! validator never signs twice), `marshal` disseminates blocks, backfills what a validator
//! missed and hands finalized blocks to the ledger in height order, and `p2p` carries it all
//! over authenticated, encrypted connections between known validator keys. With `3f + 1`
//! validators, no `f` of them can finalize two blocks at one height or stop the rest.
//!
//! What this module adds is the exact fit to the ledger:
//!
//! - [`block`]: the block consensus orders, and its canonical encoding;
//! - [`application`]: propose, verify (by re-execution: a certificate covers the block's own
//!   post-state), commit on finalization, and the halt on divergence;
//! - [`mempool`] and [`gossip`]: bounded pending transactions, shared between validators;
//! - [`engine`]: the wiring, generic over runtime and network so that the deterministic
//!   simulation in `host/tests/simulation.rs` runs exactly what a node runs.
//!
//! `docs/consensus.md` describes the design and its guarantees.

pub mod application;
pub mod block;
pub mod engine;
pub mod gossip;
pub mod mempool;

pub use application::{Application, Divergence, Halt, Ledger};
pub use block::{Block, Context, Digest, PublicKey};
pub use engine::{start, Channels, Config, Timeouts};
pub use gossip::Submitter;
pub use mempool::Mempool;

use crate::ledger::Genesis;
use commonware_codec::{DecodeExt as _, EncodeSize, Error, Read, ReadExt as _, Write};
use commonware_utils::ordered::Set;

/// The validator set a genesis names, or what is wrong with it.
pub fn participants(genesis: &Genesis) -> Result<Set<PublicKey>, String> {
    if genesis.validators.is_empty() {
        return Err(
            "the genesis file names no validators; add at least one under `validators`".into(),
        );
    }
    let mut keys = Vec::with_capacity(genesis.validators.len());
    for validator in &genesis.validators {
        let key = parse_validator_key(&validator.public_key).ok_or_else(|| {
            format!(
                "validator `{}`: public_key must be 0x and 64 hex digits of an ed25519 key",
                validator.name
            )
        })?;
        keys.push(key);
    }
    let count = keys.len();
    let set = Set::from_iter_dedup(keys);
    if set.len() != count {
        return Err("the genesis file names a validator key twice".into());
    }
    Ok(set)
}

/// Parse a `0x`-prefixed hex ed25519 public key.
pub fn parse_validator_key(text: &str) -> Option<PublicKey> {
    let bytes = crate::ledger::transaction::unhex(text)?;
    PublicKey::decode(bytes).ok()
}

/// The namespace every consensus signature of this chain is made in, so that a vote on one
/// chain can never count on another.
pub fn namespace(genesis: &Genesis) -> Vec<u8> {
    format!("vellum/{}", genesis.chain_id).into_bytes()
}
use commonware_codec::Buf;
use commonware_consensus::simplex::{scheme::ed25519::Scheme, types::Finalization};
use commonware_cryptography::certificate::Verifier as _;

/// The consensus evidence stored beside a committed block: the round it was proposed in (which
/// its digest commits to) and, if the network produced one naming this height, its
/// finalization certificate. A block finalized only as the ancestor of a later certified block
/// has no certificate of its own; the later certificate covers it through the parent digests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seal {
    /// The round.
    pub context: Context,
    /// The certificate.
    pub finalization: Option<Finalization<Scheme, Digest>>,
}

impl Seal {
    /// Whether this seal proves that the block with `header` was finalized by the validator set
    /// `verifier` holds (`Scheme::verifier(namespace, participants)`): its certificate must name
    /// this block's digest in this round and carry a quorum of valid signatures. A seal without
    /// a certificate proves nothing by itself (a later certified block covers it).
    pub fn proves(&self, header: &crate::ledger::Header, verifier: &Scheme) -> bool {
        let Some(finalization) = &self.finalization else {
            return false;
        };
        finalization.proposal.payload == block::digest_of(&self.context, header)
            && finalization.proposal.round == self.context.round
            && finalization.verify(&mut rand::rng(), verifier, &commonware_parallel::Sequential)
    }

    /// The encoding the store keeps.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encode_size());
        self.write(&mut out);
        out
    }

    /// Decode a stored seal.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        <Self as commonware_codec::Decode>::decode_cfg(bytes.to_vec(), &())
    }
}

impl Write for Seal {
    fn write(&self, buf: &mut impl bytes::BufMut) {
        self.context.write(buf);
        self.finalization.write(buf);
    }
}

impl EncodeSize for Seal {
    fn encode_size(&self) -> usize {
        self.context.encode_size() + self.finalization.encode_size()
    }
}

impl Read for Seal {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        let context = Context::read(buf)?;
        let finalization = Option::<Finalization<Scheme, Digest>>::read_cfg(
            buf,
            &Scheme::certificate_codec_config_unbounded(),
        )?;
        Ok(Self {
            context,
            finalization,
        })
    }
}

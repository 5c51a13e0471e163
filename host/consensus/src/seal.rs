//! The consensus evidence stored beside a committed block.

use crate::block::{digest_of, Context, Digest};
use commonware_codec::{Buf, EncodeSize, Error, Read, ReadExt as _, Write};
use commonware_consensus::simplex::{scheme::ed25519::Scheme, types::Finalization};
use commonware_cryptography::certificate::Verifier as _;
use vellum_types::Header;

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
    pub fn proves(&self, header: &Header, verifier: &Scheme) -> bool {
        let Some(finalization) = &self.finalization else {
            return false;
        };
        finalization.proposal.payload == digest_of(&self.context, header)
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

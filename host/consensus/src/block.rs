//! The block consensus orders: a ledger block sealed to the consensus round that proposed it.
//!
//! Simplex agrees on 32-byte digests; marshal disseminates the blocks behind them. A
//! [`RoundBlock`] carries three things:
//!
//! - the simplex [`Context`] it was proposed in (round, leader, parent view and digest), which
//!   the deferred-verification wrapper requires the digest to commit to, so that a block cannot
//!   be replayed into another round or onto another parent;
//! - the ledger [`Block`]: header and transactions;
//! - the hash of each transaction's receipt, whose Merkle root is the header's `receipts_root`.
//!   They cost 32 bytes a transaction and buy two things: anyone holding a block can prove a
//!   receipt against it, and a validator whose own execution disagrees with a certified block
//!   can name the first transaction where it parted ways (see [`super::application`]).
//!
//! The digest is `keccak256(encode(context) || header.hash())`. The header commits to the
//! transactions and receipts by their Merkle roots, and decoding rejects a body that does not
//! match them, so two blocks with one digest are the same block, bit for bit.
//!
//! Encoding (canonical; `decode(encode(b)) == b` and every decodable byte string re-encodes to
//! itself): the context in commonware's codec, then the ledger block in borsh prefixed by its
//! length as a varint, then the receipt hashes prefixed by their count.

use bytes::BufMut;
use commonware_codec::{varint::UInt, Buf, EncodeSize, Error, Read, ReadExt, Write};
use commonware_consensus::{
    simplex::types::Context as SimplexContext,
    types::{Epoch, Height, Round, View},
    Heightable,
};
use commonware_cryptography::{ed25519, Digestible, Signer as _};
use vellum_ledger::ExecutedBlock;
use vellum_types::{keccak256, merkle_root, Block, Hash, Header, Receipt, SignedTransaction};

/// The digest consensus votes on.
pub type Digest = commonware_cryptography::keccak256::Digest;
pub use vellum_types::validators::ValidatorKey;
/// The round a block was proposed in.
pub type Context = SimplexContext<Digest, ValidatorKey>;

/// The most bytes a ledger block may take in a consensus block; the network's message limit is
/// lower still.
const LEDGER_BLOCK_BYTES_MAX: usize = 64 << 20;

/// The digest of the block with `header` proposed in `context`: what consensus votes on.
pub fn digest_of(context: &Context, header: &Header) -> Digest {
    let mut preimage = commonware_codec::Encode::encode(context).to_vec();
    preimage.extend_from_slice(&header.hash());
    Digest::from(keccak256(&preimage))
}

/// A ledger block sealed to its consensus round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundBlock {
    context: Context,
    ledger: Block,
    receipts: Vec<Hash>,
    digest: Digest,
}

impl RoundBlock {
    /// Seal `executed`, proposed in `context`.
    pub fn new(context: Context, executed: &ExecutedBlock) -> Self {
        let receipts = executed.receipts.iter().map(Receipt::hash).collect();
        Self::assemble(context, executed.block.clone(), receipts)
    }

    /// The block every validator starts from: ledger block 0, in round 0 of epoch 0, with a
    /// leader no one holds the key of.
    pub fn genesis(ledger: Block) -> Self {
        let context = Context {
            round: Round::new(Epoch::zero(), View::zero()),
            leader: ed25519::PrivateKey::from_seed(0).public_key(),
            parent: (View::zero(), Digest::from([0u8; 32])),
        };
        Self::assemble(context, ledger, Vec::new())
    }

    /// A block from its parts, as a decoder sees them: nothing is checked here (decoding checks
    /// the roots; verification executes the block).
    pub fn assemble(context: Context, ledger: Block, receipts: Vec<Hash>) -> Self {
        let digest = digest_of(&context, &ledger.header);
        Self {
            context,
            ledger,
            receipts,
            digest,
        }
    }

    /// The round it was proposed in.
    pub fn round_context(&self) -> &Context {
        &self.context
    }

    /// The ledger block.
    pub fn ledger(&self) -> &Block {
        &self.ledger
    }

    /// The ledger header.
    pub fn header(&self) -> &Header {
        &self.ledger.header
    }

    /// The transactions, in order.
    pub fn transactions(&self) -> &[SignedTransaction] {
        &self.ledger.transactions
    }

    /// The receipt hashes, in transaction order.
    pub fn receipts(&self) -> &[Hash] {
        &self.receipts
    }
}

impl Digestible for RoundBlock {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        self.digest
    }
}

impl Heightable for RoundBlock {
    fn height(&self) -> Height {
        Height::new(self.ledger.header.height)
    }
}

impl commonware_consensus::Block for RoundBlock {
    fn parent(&self) -> Digest {
        self.context.parent.1
    }
}

impl commonware_consensus::CertifiableBlock for RoundBlock {
    type Context = Context;

    fn context(&self) -> Context {
        self.context.clone()
    }
}

impl Write for RoundBlock {
    fn write(&self, buf: &mut impl BufMut) {
        self.context.write(buf);
        let ledger = borsh::to_vec(&self.ledger).unwrap_or_default();
        UInt(ledger.len() as u64).write(buf);
        buf.put_slice(&ledger);
        UInt(self.receipts.len() as u64).write(buf);
        for receipt in &self.receipts {
            buf.put_slice(receipt);
        }
    }
}

impl EncodeSize for RoundBlock {
    fn encode_size(&self) -> usize {
        let ledger = borsh::object_length(&self.ledger).unwrap_or_default();
        self.context.encode_size()
            + UInt(ledger as u64).encode_size()
            + ledger
            + UInt(self.receipts.len() as u64).encode_size()
            + 32 * self.receipts.len()
    }
}

impl Read for RoundBlock {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        let context = Context::read(buf)?;
        let length = usize::try_from(UInt::<u64>::read(buf)?.0)
            .map_err(|_| Error::InvalidLength(usize::MAX))?;
        if length > LEDGER_BLOCK_BYTES_MAX || length > buf.remaining() {
            return Err(Error::InvalidLength(length));
        }
        let mut bytes = vec![0u8; length];
        buf.copy_to_slice(&mut bytes);
        let ledger: Block = borsh::from_slice(&bytes).map_err(|_| {
            Error::Invalid("vellum::RoundBlock", "ledger block is not canonical borsh")
        })?;
        let count = usize::try_from(UInt::<u64>::read(buf)?.0)
            .map_err(|_| Error::InvalidLength(usize::MAX))?;
        if count != ledger.transactions.len() || count.saturating_mul(32) > buf.remaining() {
            return Err(Error::InvalidLength(count));
        }
        let receipts: Vec<Hash> = (0..count)
            .map(|_| {
                let mut hash = [0u8; 32];
                buf.copy_to_slice(&mut hash);
                hash
            })
            .collect();
        let header = &ledger.header;
        let transactions = ledger
            .transactions
            .iter()
            .map(SignedTransaction::hash)
            .collect::<Vec<_>>();
        if merkle_root(transactions.into_iter()) != header.transactions_root {
            return Err(Error::Invalid(
                "vellum::RoundBlock",
                "transactions do not match the header",
            ));
        }
        if merkle_root(receipts.iter().copied()) != header.receipts_root {
            return Err(Error::Invalid(
                "vellum::RoundBlock",
                "receipts do not match the header",
            ));
        }
        Ok(Self::assemble(context, ledger, receipts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_codec::{Decode as _, Encode as _};
    use k256::ecdsa::SigningKey;
    use vellum_types::{public_key, Action, Transaction};

    fn block() -> RoundBlock {
        let key = SigningKey::from_slice(&[1; 32]).expect("key");
        let transactions: Vec<SignedTransaction> = (0..3)
            .map(|nonce| {
                Transaction {
                    chain_id: "test".into(),
                    sender: public_key(&key),
                    nonce,
                    fuel_limit: 1_000_000,
                    action: Action::ApproveCode { code_hash: [7; 32] },
                }
                .sign(&key)
            })
            .collect();
        let receipts: Vec<Hash> = (0..3u8).map(|i| [i; 32]).collect();
        let header = Header {
            height: 1,
            parent: [9; 32],
            time_ms: 5,
            proposer: [3; 32],
            transactions_root: merkle_root(
                transactions
                    .iter()
                    .map(SignedTransaction::hash)
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
            receipts_root: merkle_root(receipts.iter().copied()),
            state_root: [4; 32],
            fuel_used: 10,
            schedule_version: 1,
        };
        let context = Context {
            round: Round::new(Epoch::zero(), View::new(3)),
            leader: ed25519::PrivateKey::from_seed(1).public_key(),
            parent: (View::new(2), Digest::from([5u8; 32])),
        };
        RoundBlock::assemble(
            context,
            Block {
                header,
                transactions,
            },
            receipts,
        )
    }

    #[test]
    fn encoding_round_trips_and_the_digest_commits_to_the_context() {
        let original = block();
        let bytes = original.encode();
        assert_eq!(bytes.len(), original.encode_size());
        let decoded = RoundBlock::decode_cfg(bytes.clone(), &()).expect("decodes");
        assert_eq!(decoded, original);
        assert_eq!(decoded.digest(), original.digest());
        assert_eq!(decoded.encode(), bytes);

        let mut moved = original.round_context().clone();
        moved.round = Round::new(Epoch::zero(), View::new(4));
        let replayed = RoundBlock::assemble(
            moved,
            original.ledger().clone(),
            original.receipts().to_vec(),
        );
        assert_ne!(replayed.digest(), original.digest());
    }

    #[test]
    fn a_body_that_does_not_match_its_header_does_not_decode() {
        let original = block();
        // Swap two transactions: same header, different body.
        let mut ledger = original.ledger().clone();
        ledger.transactions.swap(0, 1);
        let swapped = RoundBlock::assemble(
            original.round_context().clone(),
            ledger,
            original.receipts().to_vec(),
        );
        assert!(RoundBlock::decode_cfg(swapped.encode(), &()).is_err());
        // A receipt hash that differs from the header's root.
        let mut receipts = original.receipts().to_vec();
        receipts[2][0] ^= 1;
        let forged = RoundBlock::assemble(
            original.round_context().clone(),
            original.ledger().clone(),
            receipts,
        );
        assert!(RoundBlock::decode_cfg(forged.encode(), &()).is_err());
        // Truncated and padded encodings.
        let bytes = original.encode().to_vec();
        assert!(RoundBlock::decode_cfg(bytes[..bytes.len() - 1].to_vec(), &()).is_err());
        let mut padded = bytes.clone();
        padded.push(0);
        assert!(RoundBlock::decode_cfg(padded, &()).is_err());
        // A length prefix claiming more than is there.
        let mut huge = original.round_context().encode().to_vec();
        UInt(u64::MAX).write(&mut huge);
        assert!(RoundBlock::decode_cfg(huge, &()).is_err());
    }
}

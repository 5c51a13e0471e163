//! Blocks, receipts and the commitments in a block header.
//!
//! A header commits to everything a node derives from its block:
//!
//! - `parent`: the previous header's hash, chaining history back to block 0, the genesis block,
//!   whose parent is the genesis file's hash and whose writes are the genesis identities;
//! - `transactions_root` and `receipts_root`: binary Merkle roots (commonware's `bmt` with
//!   Keccak-256) over the transaction hashes and the receipt hashes, in block order, so a single
//!   transaction or receipt can be proven against a header;
//! - `state_root`: the ledger's authenticated commitment to the whole state after the block: the
//!   root of a QMDB over `keccak256(full key) -> keccak256(value)` for every key, to which each
//!   block applies one batch of its final writes (`vellum-ledger`'s `commitment` module computes
//!   it), so one key's value or absence can be proven against a header.
//!
//! Two nodes that executed the same blocks have the same headers, bit for bit; the first field
//! that differs names the kind of disagreement.

use crate::transaction::{keccak256, Address, Hash, SignedTransaction};
use borsh::{BorshDeserialize, BorshSerialize};
use commonware_cryptography::Keccak256;
use commonware_storage::bmt::Builder;

/// A block header.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Header {
    /// 1 for the first block after genesis.
    pub height: u64,
    /// Hash of the previous header (for block 0, the genesis file's hash).
    pub parent: Hash,
    /// Block time, ms since the Unix epoch, chosen by the proposer; strictly increasing.
    pub time_ms: u64,
    /// The proposing validator's identity (zeros outside consensus).
    pub proposer: [u8; 32],
    /// Merkle root of the transaction hashes.
    pub transactions_root: Hash,
    /// Merkle root of the receipt hashes.
    pub receipts_root: Hash,
    /// State commitment after this block.
    pub state_root: Hash,
    /// Fuel used by all transactions.
    pub fuel_used: u64,
    /// The runtime schedule version that executed the block.
    pub schedule_version: u32,
}

impl Header {
    /// `keccak256(borsh(header))`.
    pub fn hash(&self) -> Hash {
        keccak256(&borsh::to_vec(self).unwrap_or_default())
    }
}

/// A block: its header and its transactions.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// Transactions in execution order.
    pub transactions: Vec<SignedTransaction>,
}

/// An event as recorded in a receipt.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct LedgerEvent {
    /// The emitting contract.
    pub contract: Address,
    /// Its topic.
    pub topic: Vec<u8>,
    /// Its data.
    pub data: Vec<u8>,
}

/// How a transaction ended.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Status {
    /// It took effect.
    Success,
    /// The contract returned an error.
    ContractError {
        /// The contract's code.
        code: u32,
        /// Its message.
        message: String,
    },
    /// The contract trapped.
    Trap(String),
    /// It ran out of fuel.
    OutOfFuel,
    /// The ledger refused it: policy, unknown contract, invalid code.
    Refused(String),
}

/// What one transaction did. A failed transaction changes nothing but its sender's nonce.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Receipt {
    /// The transaction's hash.
    pub transaction: Hash,
    /// How it ended.
    pub status: Status,
    /// The contract's return data (JSON with the SDK); empty on failure.
    pub output: Vec<u8>,
    /// Fuel used, including the transaction's intrinsic cost.
    pub fuel_used: u64,
    /// Events, if it succeeded.
    pub events: Vec<LedgerEvent>,
    /// The new contract's address, for a successful deploy.
    pub contract: Option<Address>,
}

impl Receipt {
    /// The length of its borsh encoding, measured without encoding it: what the chain's receipt
    /// limits count.
    pub fn encoded_len(&self) -> usize {
        borsh::object_length(self).unwrap_or(usize::MAX)
    }

    /// `keccak256(borsh(receipt))`.
    pub fn hash(&self) -> Hash {
        keccak256(&borsh::to_vec(self).unwrap_or_default())
    }
}

/// The binary Merkle root of `leaves`.
pub fn merkle_root(leaves: impl ExactSizeIterator<Item = Hash>) -> Hash {
    let mut builder = Builder::<Keccak256>::new(leaves.len());
    for leaf in leaves {
        builder.add(&commonware_cryptography::keccak256::Digest(leaf));
    }
    let root = builder.build().root();
    let mut out = [0u8; 32];
    out.copy_from_slice(root.as_ref());
    out
}

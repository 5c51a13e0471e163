//! Vellum's shared vocabulary: what a transaction, a genesis file, a block header and a receipt
//! are, byte for byte, and how they hash.
//!
//! # This room
//!
//! It owns the types that cross a boundary between nodes, or between a node and its clients:
//!
//! - [`transaction`]: signed transactions, their borsh encoding (`docs/transactions.md`),
//!   secp256k1 signing and verification, and the rejections a transaction can meet;
//! - [`genesis`]: the genesis file (organisations, identities, validators, chain limits);
//! - [`governance`]: proposals, the changes they make and the policies that approve them;
//! - [`block`]: headers, blocks, receipts and events, and the binary Merkle root (commonware's
//!   `bmt` with Keccak-256) their headers commit to;
//! - [`hex`](mod@hex): `0x` hex, as every byte string appears in JSON;
//! - [`rpc`]: the JSON-RPC error codes and limits a server and a client share;
//! - [`caller`]: the token a member signs to prove who is calling JSON-RPC;
//! - [`validators`]: the validator set a genesis names, and the namespace consensus signs in;
//! - [`private`]: private data records and their salted hashes;
//! - [`proof`]: seals, finality and receipt proofs, and the checks anyone can run offline;
//! - [`state`]: proofs of a key's value or absence against a header's `state_root` (commonware's
//!   QMDB verifier), and their bundle.
//!
//! It may use encodings and cryptography, and nothing else. It must never know about storage
//! engines (QMDB's proof types and verifier are the exception: they are what `state_root`
//! means), wasm execution, consensus, networks or async runtimes: an integrator's client, a
//! browser (it builds for wasm32-unknown-unknown) and every crate of the node share it, so it
//! stays light.
#![warn(clippy::unwrap_used)]

pub mod block;
pub mod caller;
pub mod genesis;
pub mod governance;
pub mod hex;
pub mod private;
pub mod proof;
pub mod rpc;
pub mod state;
pub mod transaction;
pub mod validators;

pub use block::{merkle_root, Block, Header, LedgerEvent, Receipt, Status};
pub use genesis::{ChainLimits, DeployPolicy, Genesis, GenesisError, Validator};
pub use governance::{Change, Governance, Policy, Rules};
pub use hex::{hex, unhex, unhex32};
pub use transaction::{
    address_of, keccak256, public_key, Action, Address, Hash, PublicKey, Role, SignedTransaction,
    Transaction, TransactionError, INTRINSIC_FUEL_BASE, INTRINSIC_FUEL_PER_BYTE,
    TRANSACTION_BYTES_MAX,
};

//! The Vellum node.
//!
//! Data flows one way through it: JSON-RPC → mempool → consensus orders a block → executor →
//! runtime → state → receipts and events. This crate holds every stage after the runtime's
//! boundary; the modules follow that order and none reaches back up it.
//!
//! - [`ledger`]: transactions (borsh, secp256k1, `docs/transactions.md`), genesis and membership,
//!   the block executor, and the redb store of blocks, receipts, state and its history.
//! - [`consensus`]: ordering blocks across validators with commonware's simplex and marshal,
//!   the mempool and transaction gossip.
//! - [`rpc`]: JSON-RPC for integrators, and Prometheus metrics.
//! - [`node`]: a validator process: configuration, keys, and wiring on the tokio runtime; and
//!   `devnet`, a local network in one command.
//! - [`client`]: a Rust client for the JSON-RPC API, which the `vellum` CLI is built on.
//! - [`bench`]: the load generator behind `vellum bench`.
#![warn(clippy::unwrap_used)]

pub mod bench;
pub mod client;
pub mod consensus;
pub mod demo;
pub mod ledger;
pub mod node;
pub mod rpc;

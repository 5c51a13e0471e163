//! The Vellum node: the `vellum` binary's library half.
//!
//! # This room
//!
//! It owns the process: a validator's configuration file ([`config`]), its key files
//! ([`keys`]), the wiring of ledger, consensus and JSON-RPC on commonware's tokio runtime
//! ([`run`]), the files of a new network ([`init`]), a local network in one command
//! ([`devnet`]), the use cases told as a story ([`demo`]), the load generator ([`bench`](mod@bench))
//! and progress drawn on a terminal ([`progress`]).
//! The command line itself is in `main.rs`, one module per command under `cli/`.
//!
//! It may use every other crate of the house; nothing uses it. Data flows one way through the
//! node it wires: JSON-RPC → mempool → consensus orders a block → executor → runtime → state →
//! receipts and events (`ARCHITECTURE.md`). Errors here are `anyhow`: this is the binary's
//! edge, where a failure becomes a message for a person.
#![warn(clippy::unwrap_used)]

pub mod bench;
pub mod config;
pub mod demo;
pub mod devnet;
pub mod init;
pub mod keys;
pub mod progress;
pub mod run;

//! The ledger: turns ordered, signed transactions into committed, queryable, tamper-evident
//! history on one node.
//!
//! # This room
//!
//! It owns:
//!
//! - [`executor`]: the block executor: admission of a block's transactions (one rule set for
//!   building and verifying), signature checks, the action handlers (deploy, call, upgrade,
//!   approve, membership) over the wasm runtime, read-only queries;
//! - [`store`]: the redb store of blocks, receipts, the transaction index, world state and its
//!   history, each block committed in one atomic, durable transaction;
//! - [`keys`] and [`records`]: where the ledger's own records live in state, and what they hold;
//! - [`genesis`]: block 0, from the genesis file alone;
//! - [`executed`]: a block executed but not committed, and the state commitment;
//! - [`pipeline`]: committing block N while block N+1 executes.
//!
//! It may use `vellum-types` (what transactions, headers and receipts are), `vellum-runtime`
//! (wasm execution) and redb. It must never know about consensus, networks, JSON-RPC or async
//! runtimes: consensus decides the order of blocks and calls in; nothing here calls out.
#![warn(clippy::unwrap_used)]

pub mod executed;
pub mod executor;
pub mod genesis;
pub mod keys;
pub mod pipeline;
pub mod records;
pub mod store;
#[cfg(feature = "test-utils")]
pub mod testing;

pub use executed::{ExecutedBlock, StateWrite, VersionWrite};
pub use executor::{BlockError, EntryError, Executor, Proposal, QueryResult};
pub use keys::{EventPosition, EventSelector, SYSTEM};
pub use pipeline::Pipeline;
pub use records::{ContractInfo, Member};
pub use store::{Entry, IndexedEvent, Snapshot, Store, StoreError, Version};
pub use vellum_runtime::Order;

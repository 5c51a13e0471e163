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
//! - [`commitment`]: the authenticated state commitment (commonware's QMDB) behind every
//!   header's `state_root`, and proofs of a key's value or absence;
//! - [`executed`]: a block executed but not committed;
//! - [`pipeline`]: committing block N while block N+1 executes;
//! - [`private`]: the side store of private data, outside the ledger (one file per payload).
//!
//! It may use `vellum-types` (what transactions, headers and receipts are), `vellum-runtime`
//! (wasm execution), redb and commonware's storage. It must never know about consensus,
//! networks or JSON-RPC, and its API is synchronous: consensus decides the order of blocks and
//! calls in; nothing here calls out. (QMDB is asynchronous: it runs on a thread and runtime of
//! its own, behind the synchronous [`commitment::Commitment`].)
#![warn(clippy::unwrap_used)]

pub mod commitment;
pub mod executed;
pub mod executor;
pub mod genesis;
pub mod keys;
pub mod pipeline;
pub mod private;
pub mod records;
pub mod store;
#[cfg(feature = "test-utils")]
pub mod testing;

pub use executed::{ExecutedBlock, StateWrite, VersionWrite};
pub use executor::{BlockError, EntryError, Executor, Proposal, QueryResult};
pub use keys::{EventPosition, EventSelector, SYSTEM};
pub use pipeline::Pipeline;
pub use private::{PrivateStore, PrivateStoreError};
pub use records::{ContractInfo, Member};
pub use store::{Entry, IndexedEvent, Past, Snapshot, Store, StoreError, Version, PAST_KEYS_MAX};
pub use vellum_runtime::Order;

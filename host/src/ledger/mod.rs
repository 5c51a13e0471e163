//! The ledger: signed transactions, permissioned membership, deploy by transaction, block
//! execution, and the redb store with history. Everything a single node needs to turn ordered
//! transactions into committed, queryable, tamper-evident history; consensus decides the order.

pub mod block;
pub mod executor;
pub mod genesis;
pub mod pipeline;
pub mod records;
pub mod store;
pub mod transaction;

pub use block::{Block, ExecutedBlock, Header, LedgerEvent, Receipt, Status};
pub use executor::{BlockError, Executor, Proposal, QueryResult};
pub use genesis::{DeployPolicy, Genesis, Validator};
pub use pipeline::Pipeline;
pub use store::{Store, StoreError, Version, SYSTEM};
pub use transaction::{
    Action, Address, Hash, Role, SignedTransaction, Transaction, TransactionError,
};

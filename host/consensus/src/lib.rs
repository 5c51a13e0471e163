//! Byzantine-fault-tolerant ordering of blocks across validators, on commonware.
//!
//! # This room
//!
//! Nothing here is a consensus protocol of our own. commonware's `simplex` orders block
//! digests (2 network hops to a notarized block, 3 to finality; votes journaled so a restarted
//! validator never signs twice), `marshal` disseminates blocks, backfills what a validator
//! missed and hands finalized blocks to the ledger in height order, and `p2p` carries it all
//! over authenticated, encrypted connections between known validator keys. With `3f + 1`
//! validators, no `f` of them can finalize two blocks at one height or stop the rest.
//!
//! What this crate adds is the exact fit to the ledger:
//!
//! - [`block`]: the block consensus orders ([`RoundBlock`]), and its canonical encoding;
//! - [`seal`]: the round and certificate stored beside each committed block;
//! - [`chain`]: the ledger as consensus holds it (store, executor, mempool, executed blocks,
//!   halts), the pending-chain walk and finalization;
//! - [`application`]: propose, and verify by re-execution (a certificate covers the block's own
//!   post-state); [`finalizer`]: commit what marshal finalizes, in order;
//! - [`halt`]: the report a validator leaves when it stops (divergence or local fault);
//! - [`mempool`] and [`gossip`]: bounded pending transactions, shared between validators;
//! - [`private`]: private data records, sent only to the nodes of their collection's
//!   organisations, and purged as the chain says;
//! - [`engine`]: the wiring, generic over runtime and network so that the deterministic
//!   simulation in `tests/` runs exactly what a node runs; an observer runs the same stack
//!   without simplex, fed by [`feed`] with the finalization certificates validators broadcast;
//! - the validator set a genesis names, and its signing namespace, are `vellum_types::validators`
//!   (re-exported here), so that an offline verifier reads them as consensus does.
//!
//! It may use `vellum-types`, `vellum-ledger` and commonware. It must never know about
//! JSON-RPC, the CLI or process configuration: the node wires those to it. `docs/consensus.md`
//! describes the design and its guarantees.
#![warn(clippy::unwrap_used)]

pub mod application;
pub mod block;
pub mod chain;
pub mod engine;
pub mod feed;
pub mod finalizer;
pub mod gossip;
pub mod halt;
pub mod mempool;
mod metrics;
pub mod private;
pub mod seal;

pub use application::Application;
pub use block::{Context, Digest, RoundBlock, ValidatorKey};
pub use chain::{Chain, SubmitError};
pub use engine::{observe, start, Channels, EngineConfig, FollowConfig, Timeouts};
pub use finalizer::Finalizer;
pub use gossip::Submitter;
pub use halt::{Divergence, Halt};
pub use mempool::{Mempool, MempoolError};
pub use seal::Seal;
pub use vellum_types::validators::{
    namespace, parse_validator_key, participants, ValidatorSetError,
};

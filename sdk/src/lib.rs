//! Write Vellum smart contracts in plain Rust.
//!
//! A contract is a type with an `impl` block marked [`#[contract]`](contract). Its entry points
//! are associated functions marked `#[instantiate]` (runs once, at deploy), `#[execute]` (called by
//! transactions), `#[query]` (read-only, free, no transaction) and `#[migrate]` (runs on upgrade).
//! `#[query(members)]` marks a query nodes answer only to callers proving a member's key (its
//! interface entry carries `"access": "members"`), so a contract can answer "my balance" to the
//! member it concerns and nothing to strangers.
//! Parameters arrive as the fields of a JSON object and results leave as JSON, so an integrator
//! calling over JSON-RPC needs nothing but JSON. State lives in typed storage ([`Item`], [`Map`])
//! in a compact binary encoding ([`storage`]), identity and time come from [`env`](mod@env), and
//! errors are [`Error`]s that abort the call and discard everything it wrote. A contract runs another's methods inside the same transaction with
//! [`call`].
//!
//! The crate is `no_std` + `alloc` and builds for `wasm32-unknown-unknown`, where it supplies the
//! allocator and panic handler. On any other target the same contract code runs against
//! [`testing::TestHost`], an in-memory host with the node's semantics, so contract tests run
//! natively in milliseconds; [`testing::WasmHost`] (feature `wasm-host`) runs the built `.wasm` through the node's own
//! runtime, so a test can check that both agree and see the fuel each method costs.
//!
//! # A complete contract
//!
//! `vellum new contract counter` writes this crate, ready to test and build. Its `Cargo.toml`,
//! abridged (in the Vellum workspace, whose members it joins):
//!
//! ```toml
//! [package]
//! name = "vellum-counter"    # vellum-NAME in contracts/NAME: scripts/build-contracts.sh NAME builds it
//! edition = "2021"
//!
//! [features]
//! wasm = ["vellum-sdk/wasm-host"]    # `cargo test --features wasm` also runs the built .wasm
//!
//! [dependencies]
//! vellum-sdk.workspace = true
//! serde.workspace = true
//!
//! [dev-dependencies]
//! serde_json = { workspace = true, features = ["std"] }
//! ```
//!
//! Its `src/lib.rs`, which builds for `wasm32-unknown-unknown` as written, then a native test
//! (in the crate, `tests/counter.rs`):
//!
//! ```
//! #![no_std]
//! # extern crate std;
//!
//! extern crate alloc;
//!
//! use serde::Serialize;
//! use vellum_sdk::{contract, ensure, env, Address, ContractError, Event, Item, Map, Result};
//!
//! /// The contract type.
//! pub struct Counter;
//!
//! /// The contract's own errors: codes 100 and above, stable once deployed.
//! #[derive(Debug, ContractError)]
//! pub enum CounterError {
//!     /// `reset` by anyone but the deployer.
//!     #[error(100, "only the deployer may reset counts")]
//!     NotOwner,
//!     /// `reset` of an address never counted.
//!     #[error(101, "nothing counted for {0}")]
//!     NothingCounted(Address),
//!     /// `increment` by 0.
//!     #[error(102, "`by` must be positive")]
//!     ZeroIncrement,
//!     /// `increment` past the largest count.
//!     #[error(103, "the count would overflow")]
//!     Overflow,
//! }
//!
//! /// A count went up: `[who, count]`.
//! #[derive(Serialize, Event)]
//! pub struct Incremented(pub Address, pub u64);
//!
//! /// A count was reset: whose.
//! #[derive(Serialize, Event)]
//! pub struct Reset(pub Address);
//!
//! const OWNER: Item<Address> = Item::new("owner");
//! const COUNTS: Map<Address, u64> = Map::new("counts");
//!
//! #[contract]
//! impl Counter {
//!     /// Remember who deployed the contract: the only one who may reset counts.
//!     #[instantiate]
//!     pub fn instantiate() -> Result<()> {
//!         OWNER.save(&env::caller());
//!         Ok(())
//!     }
//!
//!     /// Add `by` to the caller's count and return the new count.
//!     #[execute]
//!     pub fn increment(by: u64) -> Result<u64> {
//!         ensure!(by > 0, CounterError::ZeroIncrement);
//!         let who = env::caller();
//!         let count = COUNTS
//!             .load(&who)?
//!             .unwrap_or(0)
//!             .checked_add(by)
//!             .ok_or(CounterError::Overflow)?;
//!         COUNTS.save(&who, &count);
//!         Incremented(who, count).emit();
//!         Ok(count)
//!     }
//!
//!     /// Set `who`'s count back to zero (the owner only).
//!     #[execute]
//!     pub fn reset(who: Address) -> Result<()> {
//!         ensure!(env::caller() == OWNER.get()?, CounterError::NotOwner);
//!         ensure!(COUNTS.has(&who), CounterError::NothingCounted(who));
//!         COUNTS.remove(&who);
//!         Reset(who).emit();
//!         Ok(())
//!     }
//!
//!     /// The count of `who` (0 if never counted).
//!     #[query]
//!     pub fn count(who: Address) -> Result<u64> {
//!         Ok(COUNTS.load(&who)?.unwrap_or(0))
//!     }
//! }
//!
//! // tests/counter.rs: the same code, natively, against an in-memory host.
//! # fn main() {
//! use serde_json::json;
//! use vellum_sdk::{testing::{Host, TestHost}, Error};
//!
//! let alice = Address([1; 32]);
//! let mut host = TestHost::<Counter>::new();
//! assert!(host.instantiate(alice, json!({})).is_ok());
//! let reply = host.execute(alice, "increment", json!({"by": 2}));
//! assert_eq!(reply.json(), json!(2));
//! assert_eq!(reply.events[0].topic, "incremented");
//! assert_eq!(host.execute(alice, "increment", json!({"by": 0})).error().code, CounterError::ZERO_INCREMENT);
//! assert_eq!(host.execute(alice, "increment", json!({})).error().code, Error::INVALID_ARGUMENTS);
//! assert_eq!(host.query("count", json!({"who": alice})).json(), json!(2));
//! assert!(<Counter as vellum_sdk::Contract>::INTERFACE.contains("\"entry_point\":\"execute.increment\""));
//! # }
//! ```
#![no_std]
#![warn(clippy::unwrap_used)]

extern crate alloc;
#[cfg(not(target_arch = "wasm32"))]
extern crate std;

mod address;
pub mod call;
pub mod env;
mod error;
mod event;
pub mod storage;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use address::{Address, Hash};
pub use error::{Error, Result};
pub use event::Event;
pub use storage::{Item, Map, MapKey, Prefix};
pub use vellum_sdk_macros::{contract, ContractError, Event};

/// What `#[contract]` implements: the contract's interface and its entry point dispatcher.
pub trait Contract {
    /// The contract's interface as JSON: every entry point with its arguments, result type and doc.
    const INTERFACE: &'static str;

    /// Run `entry_point` with JSON `input`, returning JSON output.
    fn dispatch(entry_point: &str, input: &[u8]) -> Result<alloc::vec::Vec<u8>>;

    /// Whether the contract accepts being called while it is already on the call stack
    /// (re-entrancy): `#[contract(reentrant)]`, which also puts the `vellum:reentrant` section in
    /// its wasm. Without it such a call fails with [`call::CallError::Reentrancy`].
    const REENTRANT: bool = false;
}

/// Support for code generated by `#[contract]`; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use alloc::{format, vec::Vec};
    pub use serde;

    use crate::{Error, Result};

    pub fn decode_args<T: serde::de::DeserializeOwned>(input: &[u8]) -> Result<T> {
        // No input, or `null`, means "no arguments".
        let input = match input {
            b"" | b"null" => b"{}",
            input => input,
        };
        serde_json::from_slice(input)
            .map_err(|e| Error::new(Error::INVALID_ARGUMENTS, format!("invalid arguments: {e}")))
    }

    pub fn encode_result<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
        serde_json::to_vec(value)
            .map_err(|e| Error::new(Error::CORRUPT_STATE, format!("result does not encode: {e}")))
    }

    pub fn unknown_entry_point(entry_point: &str) -> Error {
        Error::new(
            Error::UNKNOWN_METHOD,
            format!("this contract has no entry point `{entry_point}`"),
        )
    }

    /// The body of every exported entry point on wasm32.
    #[cfg(target_arch = "wasm32")]
    pub fn run<C: crate::Contract>(entry_point: &str) {
        match C::dispatch(entry_point, &crate::env::input()) {
            Ok(output) => crate::env::set_return(&output),
            Err(error) => crate::env::abort(error.code, &error.message),
        }
    }
}

//! Deterministic, fuel-metered WebAssembly execution for Vellum contracts.
//!
//! Every Vellum node runs every transaction. They agree on the resulting state only if the same
//! call, against the same state, gives the same result, the same writes, the same events and the
//! same fuel on every machine, and if no contract, however hostile, can hurt the node. This crate
//! is that promise; it knows nothing about blocks, databases or networks.
//!
//! # Design
//!
//! - **One versioned schedule** ([`Schedule`]) holds every limit and price consensus depends on.
//! - **Validation at deploy** ([`validate`](mod@validate)) rejects anything outside Vellum's
//!   WebAssembly subset or over a limit, with an error naming the rule and the item.
//! - **Deterministic stack metering** ([`instrument`]) rewrites each module so recursion depth is
//!   bounded by a budget that depends only on the module, not on the compiler or CPU.
//! - **A consensus-configured engine** ([`engine`]): wasmtime with fuel, NaN canonicalization,
//!   no threads or SIMD, the pooling allocator, every setting explicit.
//! - **Host ABI v2** ([`abi`], `docs/abi.md`): storage with ordered iteration, caller and block
//!   context, events, hashing and signature verification, and calls into other contracts
//!   ([`World`]); every guest pointer bounds-checked, every function priced before it works.
//! - **Buffered writes** ([`storage`]): a call sees its own writes, and the host receives them only
//!   if the call succeeds, so failure needs no rollback.
//! - **A module cache** keyed by code hash, bounded by compiled size, with optional on-disk
//!   artifacts.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use vellum_runtime::{Call, Context, MemoryStorage, Mode, Outcome, Runtime, RuntimeConfig};
//!
//! let wasm = wat::parse_str(r#"
//!     (module
//!       (import "vellum" "set_return" (func $ret (param i32 i32)))
//!       (memory (export "memory") 1)
//!       (data (i32.const 0) "hello")
//!       (func (export "instantiate"))
//!       (func (export "greet") (call $ret (i32.const 0) (i32.const 5))))
//! "#).unwrap();
//! let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
//! let contract = runtime.prepare(&wasm).unwrap();
//! let call = Call {
//!     entry_point: "greet",
//!     input: b"",
//!     context: Context { caller: [1; 32], contract: [2; 32], block_height: 1, block_time_ms: 0 },
//!     fuel_limit: 1_000_000,
//!     mode: Mode::Transaction,
//! };
//! let execution = runtime.execute(&contract, call, Arc::new(MemoryStorage::new())).unwrap();
//! assert_eq!(execution.outcome, Outcome::Success(b"hello".to_vec()));
//! assert!(execution.fuel_used > 0);
//! ```

#![warn(clippy::unwrap_used)]

pub mod abi;
mod cache;
mod call;
pub mod engine;
pub mod instrument;
mod outcome;
mod runtime;
pub mod schedule;
pub mod storage;
pub mod validate;

pub use abi::{Address, Context};
pub use cache::{CodeHash, Contract};
pub use call::World;
pub use engine::{MemoryReset, Metering};
pub use outcome::{Event, Execution, Outcome, TrapKind};
pub use runtime::{Call, EngineError, ExecuteError, Mode, PrepareError, Runtime, RuntimeConfig};
pub use schedule::{FuelCosts, Limits, Price, Schedule};
pub use storage::{MemoryStorage, Order, Overlay, Storage, StorageError, Write};
pub use validate::{ModuleInfo, ValidationError};
pub use vellum_abi::verify_secp256k1;

//! What a call produces: its outcome, the fuel it used, and its effects.

use crate::{abi::Address, storage::Write};

/// How a call ended. Every variant is deterministic: each node that runs the same call against the
/// same state gets the same one, so the ledger records it in the receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The entry point returned; the payload is the data it passed to `set_return` (empty if none).
    Success(Vec<u8>),
    /// The contract called `abort`: a deliberate, explained failure.
    ContractError {
        /// The contract's error code.
        code: u32,
        /// The contract's message (truncated to the schedule's limit, lossy UTF-8).
        message: String,
    },
    /// The call trapped.
    Trap(TrapKind),
    /// The fuel limit was reached.
    OutOfFuel,
}

impl Outcome {
    /// Whether the call succeeded, so its writes and events take effect.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success(_))
    }
}

/// Why a call trapped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrapKind {
    /// The wasm `unreachable` instruction (also what a Rust panic compiles to).
    #[error("unreachable executed")]
    Unreachable,
    /// A load or store outside linear memory.
    #[error("memory access out of bounds")]
    MemoryOutOfBounds,
    /// The call nested deeper than the schedule's deterministic stack budget.
    #[error("stack budget exhausted")]
    StackExhausted,
    /// wasmtime's native stack guard fired before the deterministic budget (see
    /// [`crate::engine::NATIVE_STACK_BYTES_MAX`]): deterministic on one CPU architecture.
    #[error("native stack exhausted")]
    NativeStackExhausted,
    /// Integer division or remainder by zero.
    #[error("integer division by zero")]
    IntegerDivisionByZero,
    /// Integer overflow (e.g. `i32::MIN / -1`).
    #[error("integer overflow")]
    IntegerOverflow,
    /// A float could not be converted to an integer.
    #[error("invalid float to integer conversion")]
    InvalidConversion,
    /// `call_indirect` to a null table entry.
    #[error("indirect call to a null entry")]
    IndirectCallToNull,
    /// `call_indirect` to a function of another type.
    #[error("indirect call signature mismatch")]
    IndirectCallSignature,
    /// A table access outside the table.
    #[error("table access out of bounds")]
    TableOutOfBounds,
    /// A pointer and length passed to a host function reach outside linear memory.
    #[error("host function `{function}` was given memory outside the contract's linear memory")]
    HostMemoryOutOfBounds {
        /// The host function.
        function: &'static str,
    },
    /// A host function was given an invalid argument (unknown cursor, bad flags, wrong length).
    #[error("host function `{function}`: {reason}")]
    InvalidArgument {
        /// The host function.
        function: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// A per-call limit of the schedule was exceeded (key size, event count, return size, ...).
    #[error("limit exceeded: {what} ({found} > {max})")]
    LimitExceeded {
        /// The limit.
        what: &'static str,
        /// The value that broke it.
        found: u64,
        /// The limit's value.
        max: u64,
    },
    /// A read-only (query) call tried to write state or emit an event.
    #[error("`{function}` is not allowed in a read-only query")]
    ReadOnly {
        /// The host function.
        function: &'static str,
    },
    /// The requested entry point is not exported by the contract.
    #[error("the contract has no entry point `{0}`")]
    NoSuchEntryPoint(String),
    /// Any other wasm trap: none is reachable with the features validation admits. Its text is
    /// fixed, never the engine's wording, so a receipt cannot depend on the wasmtime version.
    #[error("a trap outside the wasm features Vellum admits")]
    Unsupported,
}

/// An event a contract emitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The contract that emitted it (the called contract, or one it called).
    pub contract: Address,
    /// What happened, e.g. `b"transfer"`.
    pub topic: Vec<u8>,
    /// The details, in the contract's encoding (JSON with the SDK).
    pub data: Vec<u8>,
}

/// Everything a call produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execution {
    /// How it ended.
    pub outcome: Outcome,
    /// Fuel consumed, including host function charges; equal to the limit when out of fuel.
    pub fuel_used: u64,
    /// Events of the whole call tree, in emission order; empty unless the call succeeded.
    pub events: Vec<Event>,
    /// The called contract's state changes sorted by key; empty unless the call succeeded.
    pub writes: Vec<Write>,
    /// State changes of the other contracts the call reached through cross-contract calls, by
    /// contract address (ascending), each sorted by key; empty unless the call succeeded.
    pub other_writes: Vec<(Address, Vec<Write>)>,
    /// Debug log lines. Not part of consensus: nodes may drop them.
    pub debug_log: Vec<String>,
}

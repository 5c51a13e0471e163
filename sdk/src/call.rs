//! Calling other contracts: run another contract's `#[execute]` or `#[query]` method inside the
//! same transaction and get its result, or how it failed (host ABI v2 `call`, `docs/abi.md`).
//!
//! The callee sees this contract as its [`env::caller`]. Whatever it writes or emits is kept only
//! if it succeeds; when it fails, the caller chooses: handle the [`CallError`] and go on, or
//! return it (it converts into an [`Error`]) and so discard everything the transaction did.
//! A callee already on the call stack is refused ([`CallError::Reentrancy`]) unless it opted in
//! with `#[contract(reentrant)]`, and calls nest at most the schedule's depth (8).
//!
//! ```no_run
//! use vellum_sdk::{call, Address, Result};
//! # let points = Address([7; 32]);
//! # let seller = Address([8; 32]);
//! // Pay the seller from this contract's own balance; if the transfer fails, so does this call.
//! call::execute::<()>(points, "transfer", &serde_json::json!({"to": seller, "amount": 10}))?;
//! // Ask with a fuel cap, and handle a failure instead.
//! let balance: Result<u64, _> = call::Callee::new(points)
//!     .fuel(200_000)
//!     .query("balance_of", &serde_json::json!({"owner": seller}));
//! # Ok::<(), vellum_sdk::Error>(())
//! ```

use crate::{env, Address, Error};
use alloc::{
    format,
    string::{String, ToString},
};
use core::fmt;
use serde::{de::DeserializeOwned, Serialize};
use vellum_abi::CallStatus;

/// Why a call into another contract failed. Nothing the callee did is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The callee returned an error.
    Contract(Error),
    /// The callee trapped (its text, as a receipt would say it).
    Trap(String),
    /// The callee used all the fuel it was given.
    OutOfFuel,
    /// No contract lives at the address.
    NoContract,
    /// The callee is already on the call stack and does not accept re-entry.
    Reentrancy,
    /// The call would nest deeper than the schedule allows.
    DepthExceeded,
    /// The callee succeeded, but its result does not decode as the type asked for.
    Decode(String),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Contract(error) => write!(f, "the called contract failed: {error}"),
            CallError::Trap(text) => write!(f, "the called contract trapped: {text}"),
            CallError::OutOfFuel => write!(f, "the called contract ran out of fuel"),
            CallError::NoContract => write!(f, "no contract at that address"),
            CallError::Reentrancy => write!(f, "the called contract does not accept re-entry"),
            CallError::DepthExceeded => write!(f, "calls nest too deep"),
            CallError::Decode(why) => {
                write!(f, "the called contract's result does not decode: {why}")
            }
        }
    }
}

/// A callee's error passes through unchanged (its code and message); any other failure becomes
/// [`Error::CALL_FAILED`].
impl From<CallError> for Error {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Contract(error) => error,
            other => Error::new(Error::CALL_FAILED, other.to_string()),
        }
    }
}

/// Fuel meaning "all this contract has left".
pub const ALL_FUEL: u64 = u64::MAX;

/// A contract to call, and the fuel each call may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Callee {
    contract: Address,
    fuel: u64,
}

impl Callee {
    /// The contract at `contract`, with all the fuel left.
    pub fn new(contract: Address) -> Self {
        Self {
            contract,
            fuel: ALL_FUEL,
        }
    }

    /// Give each call at most `fuel` (what is left, if less).
    pub fn fuel(mut self, fuel: u64) -> Self {
        self.fuel = fuel;
        self
    }

    /// Run `#[execute]` method `method` with `args` (serialized as the JSON object of its
    /// parameters) and decode its result.
    pub fn execute<R: DeserializeOwned>(
        &self,
        method: &str,
        args: &impl Serialize,
    ) -> Result<R, CallError> {
        self.run(&format!("execute.{method}"), args)
    }

    /// Run `#[query]` method `method` (read-only, whatever this call may do) with `args`.
    pub fn query<R: DeserializeOwned>(
        &self,
        method: &str,
        args: &impl Serialize,
    ) -> Result<R, CallError> {
        self.run(&format!("query.{method}"), args)
    }

    fn run<R: DeserializeOwned>(
        &self,
        entry_point: &str,
        args: &impl Serialize,
    ) -> Result<R, CallError> {
        // Plain data always serializes; an empty input would only be refused by the callee.
        let input = serde_json::to_vec(args).unwrap_or_default();
        let (status, answer) = env::call(&self.contract, entry_point, &input, self.fuel);
        decode(status, &answer)
    }
}

/// What a call's status and answer mean.
fn decode<R: DeserializeOwned>(status: CallStatus, answer: &[u8]) -> Result<R, CallError> {
    let text = || String::from_utf8_lossy(answer).into_owned();
    Err(match status {
        CallStatus::Success => {
            return serde_json::from_slice(answer).map_err(|e| CallError::Decode(e.to_string()))
        }
        CallStatus::ContractError => {
            let (code, message) = answer.split_at(answer.len().min(4));
            let code = <[u8; 4]>::try_from(code).map_or(0, u32::from_be_bytes);
            CallError::Contract(Error::new(
                code,
                String::from_utf8_lossy(message).into_owned(),
            ))
        }
        CallStatus::Trap => CallError::Trap(text()),
        CallStatus::OutOfFuel => CallError::OutOfFuel,
        CallStatus::NoContract => CallError::NoContract,
        CallStatus::Reentrancy => CallError::Reentrancy,
        CallStatus::DepthExceeded => CallError::DepthExceeded,
    })
}

/// Run `#[execute]` method `method` of `contract` with `args`, with all the fuel left.
pub fn execute<R: DeserializeOwned>(
    contract: Address,
    method: &str,
    args: &impl Serialize,
) -> Result<R, CallError> {
    Callee::new(contract).execute(method, args)
}

/// Run `#[query]` method `method` of `contract` with `args`, with all the fuel left.
pub fn query<R: DeserializeOwned>(
    contract: Address,
    method: &str,
    args: &impl Serialize,
) -> Result<R, CallError> {
    Callee::new(contract).query(method, args)
}

//! Contract errors: a numeric code for programs and a message for people.

use alloc::string::String;
use core::fmt;

/// A contract error. Returned from an entry point, it aborts the call (every write and event of the
/// call is discarded) and reaches the caller's receipt as `{code, message}`.
///
/// Codes below 100 are the SDK's (constants on this type); contracts use 100 and above.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Error {
    /// Machine-readable code.
    pub code: u32,
    /// What went wrong and, where possible, what to do about it.
    pub message: String,
}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl Error {
    /// The arguments are not valid JSON for the method's parameters.
    pub const INVALID_ARGUMENTS: u32 = 1;
    /// The caller may not do this.
    pub const UNAUTHORIZED: u32 = 2;
    /// A referenced record does not exist.
    pub const NOT_FOUND: u32 = 3;
    /// The request is well-formed but breaks a rule of the contract.
    pub const INVALID: u32 = 4;
    /// The request conflicts with existing state (already exists, already done).
    pub const CONFLICT: u32 = 5;
    /// Stored data could not be decoded: a contract defect or an incompatible upgrade.
    pub const CORRUPT_STATE: u32 = 6;
    /// No method of that name and kind.
    pub const UNKNOWN_METHOD: u32 = 7;
    /// The contract panicked.
    pub const PANIC: u32 = 8;
    /// A call into another contract failed other than by that contract's own error (see
    /// [`crate::call::CallError`]).
    pub const CALL_FAILED: u32 = 9;

    /// An error with any code.
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// [`Error::UNAUTHORIZED`].
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(Self::UNAUTHORIZED, message)
    }

    /// [`Error::NOT_FOUND`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Self::NOT_FOUND, message)
    }

    /// [`Error::INVALID`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Self::INVALID, message)
    }

    /// [`Error::CONFLICT`].
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Self::CONFLICT, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error {}: {}", self.code, self.message)
    }
}

/// Return `Err($error)` from the enclosing function unless `$condition` holds.
///
/// ```
/// use vellum_sdk::{ensure, Error, Result};
/// fn withdraw(balance: u64, amount: u64) -> Result<u64> {
///     ensure!(amount <= balance, Error::invalid("insufficient balance"));
///     Ok(balance - amount)
/// }
/// assert_eq!(withdraw(5, 3), Ok(2));
/// assert_eq!(withdraw(1, 3).unwrap_err().code, Error::INVALID);
/// ```
#[macro_export]
macro_rules! ensure {
    ($condition:expr, $error:expr) => {
        if !$condition {
            return Err(::core::convert::Into::into($error));
        }
    };
}

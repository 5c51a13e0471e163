//! Contract errors: a numeric code for programs and a message for people.

use alloc::string::String;
use core::fmt;

/// A contract error. Returned from an entry point, it aborts the call (every write and event of the
/// call is discarded) and reaches the caller's receipt as `{code, message}`.
///
/// Codes 1 to 99 are the SDK's: the constants on this type (1 to 9 today). The SDK returns 1 and
/// 6 to 9 itself, and 3 from [`Item::get`](crate::Item::get) of an unset item; 2 to 5 are general
/// kinds a contract may also return through the helpers ([`Error::unauthorized`],
/// [`Error::not_found`], [`Error::invalid`], [`Error::conflict`]).
/// A contract's own errors take codes 100 and above, declared once in an enum with
/// `#[derive(ContractError)]`, which checks the range and that no two variants share a code:
///
/// ```
/// use vellum_sdk::{ensure, Address, ContractError, Error, Result};
///
/// #[derive(ContractError)]
/// pub enum NotaryError {
///     #[error(100, "only the admin manages notaries")]
///     NotAdmin,
///     #[error(101, "{0} is not an authorized notary")]
///     NotANotary(Address),
///     #[error(102, "{what} must be 1 to {max} bytes")]
///     BadText { what: &'static str, max: usize },
/// }
///
/// fn check(admin: bool, name: &str) -> Result<()> {
///     ensure!(admin, NotaryError::NotAdmin);
///     ensure!(name.len() <= 3, NotaryError::BadText { what: "name", max: 3 });
///     Ok(())
/// }
///
/// assert_eq!(check(false, "").unwrap_err(), Error::new(100, "only the admin manages notaries"));
/// assert_eq!(check(true, "long").unwrap_err().message, "name must be 1 to 3 bytes");
/// assert_eq!(NotaryError::NOT_A_NOTARY, 101);
/// let error = Error::from(NotaryError::NotANotary(Address([0xab; 32])));
/// assert!(error.message.starts_with("0xabab") && error.code == NotaryError::NOT_A_NOTARY);
/// ```
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

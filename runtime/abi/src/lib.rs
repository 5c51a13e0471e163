//! The facts of host ABI v2 (`docs/abi.md`) that both sides of it must agree on: the runtime,
//! which implements the host functions, and the SDK, which calls them from inside a contract.
//!
//! # This room
//!
//! It owns the ABI's vocabulary: the import module and the host functions with their
//! signatures ([`HOST_FUNCTIONS`]), the `storage_iter` flags ([`IterFlags`]), key [`Order`],
//! and the byte-string helpers both sides use on ranges ([`successor`], [`is_empty_range`]).
//! Kept in one place, the two sides cannot drift: a contract built against the SDK asks for
//! exactly what the runtime validates and links.
//!
//! It uses nothing (serde only for the SDK's `Order` in contract arguments; k256 only behind the
//! `secp256k1` feature, for [`verify_secp256k1`]) and builds with `no_std` for wasm32. It must
//! never know about wasm engines, storage engines or nodes.
#![no_std]

extern crate alloc;

use alloc::vec::Vec;
use core::ops::Bound;

/// The import module every host function lives in.
pub const MODULE: &str = "vellum";

/// A 32-byte account or contract address.
pub type Address = [u8; 32];

/// A value type in a host function's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValType {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
}

use ValType::{I32, I64};

/// A host function: its name in [`MODULE`], its parameter types and its result types.
pub type HostFunction = (&'static str, &'static [ValType], &'static [ValType]);

/// Every host function of ABI v2 with its signature (v1's, plus `call`). The runtime's validation accepts exactly
/// these imports and its linker defines exactly these functions (a runtime test holds the two
/// together); the SDK declares each with this signature.
pub const HOST_FUNCTIONS: &[HostFunction] = &[
    ("input_len", &[], &[I32]),
    ("input_read", &[I32], &[]),
    ("set_return", &[I32, I32], &[]),
    ("abort", &[I32, I32, I32], &[]),
    ("debug_log", &[I32, I32], &[]),
    ("caller", &[I32], &[]),
    ("contract_address", &[I32], &[]),
    ("block_height", &[], &[I64]),
    ("block_time", &[], &[I64]),
    ("storage_get", &[I32, I32], &[I32]),
    ("storage_has", &[I32, I32], &[I32]),
    ("storage_set", &[I32, I32, I32, I32], &[]),
    ("storage_remove", &[I32, I32], &[]),
    ("storage_iter", &[I32, I32, I32, I32, I32], &[I32]),
    ("storage_next", &[I32], &[I32]),
    ("storage_iter_close", &[I32], &[]),
    ("key_read", &[I32], &[]),
    ("value_len", &[], &[I32]),
    ("value_read", &[I32], &[]),
    ("emit_event", &[I32, I32, I32, I32], &[]),
    ("keccak256", &[I32, I32, I32], &[]),
    ("sha3_256", &[I32, I32, I32], &[]),
    ("secp256k1_verify", &[I32, I32, I32, I32], &[I32]),
    ("call", &[I32, I32, I32, I32, I32, I64], &[I32]),
];

/// The custom section by which a contract accepts being called while it is already on the call
/// stack (re-entrancy); without it such a call answers [`CallStatus::Reentrancy`].
pub const REENTRANT_SECTION: &str = "vellum:reentrant";

/// How deep cross-contract calls nest under schedule v2 (the runtime's `Schedule::v2`, which
/// every node runs): the entry point is at depth 0 and a `call` from depth `d` runs at `d + 1`;
/// one deeper answers `DepthExceeded`. The SDK's native test host enforces the same.
pub const CALL_DEPTH_MAX: u32 = 8;

/// ECDSA over secp256k1 with a 32-byte prehash, accepting only low-S signatures (as transactions
/// do), so a signature has exactly one valid encoding. Malformed keys and signatures are simply
/// invalid: a contract checking user-supplied data must not trap on it. This is the answer of the
/// host function `secp256k1_verify` on a node and in the SDK's native test host alike.
#[cfg(feature = "secp256k1")]
pub fn verify_secp256k1(hash: &[u8], signature: &[u8], public_key: &[u8]) -> bool {
    use k256::ecdsa::{signature::hazmat::PrehashVerifier, Signature, VerifyingKey};
    let Ok(key) = VerifyingKey::from_sec1_bytes(public_key) else {
        return false;
    };
    let Ok(signature) = Signature::from_slice(signature) else {
        return false;
    };
    if signature.normalize_s().is_some() {
        return false;
    }
    key.verify_prehash(hash, &signature).is_ok()
}

/// How a cross-contract `call` ended, as the host function returns it. What the value buffer then
/// holds is given for each; every status but [`CallStatus::Success`] discards the callee's
/// writes and events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum CallStatus {
    /// The callee returned: its return data.
    Success = 0,
    /// The callee aborted: its code (4 bytes, big-endian) followed by its message.
    ContractError = 1,
    /// The callee trapped: the trap's text.
    Trap = 2,
    /// The callee used all the fuel it was given: nothing.
    OutOfFuel = 3,
    /// No contract lives at the address: nothing.
    NoContract = 4,
    /// The callee is already on the call stack and does not accept re-entry: nothing.
    Reentrancy = 5,
    /// The call would nest deeper than the schedule's `call_depth_max`: nothing.
    DepthExceeded = 6,
}

impl CallStatus {
    /// The status the host function returned, if ABI v2 defines it.
    pub const fn decode(status: i32) -> Option<Self> {
        Some(match status {
            0 => Self::Success,
            1 => Self::ContractError,
            2 => Self::Trap,
            3 => Self::OutOfFuel,
            4 => Self::NoContract,
            5 => Self::Reentrancy,
            6 => Self::DepthExceeded,
            _ => return None,
        })
    }
}

/// The host function called `name`, if ABI v2 has one.
pub fn host_function(name: &str) -> Option<&'static HostFunction> {
    HOST_FUNCTIONS.iter().find(|(n, _, _)| *n == name)
}

/// Key order of an iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Order {
    /// Smallest key first.
    Ascending,
    /// Largest key first.
    Descending,
}

/// The `flags` argument of `storage_iter`: the order, and which bounds to ignore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IterFlags {
    /// The order of iteration.
    pub order: Order,
    /// Whether the range has a lower bound (`start`); without one, `start` is not read.
    pub has_start: bool,
    /// Whether the range has an upper bound (`end`); without one, `end` is not read.
    pub has_end: bool,
}

impl IterFlags {
    /// Bit 0: iterate from the largest key down.
    pub const DESCENDING: i32 = 1;
    /// Bit 1: ignore `start`; the range has no lower bound.
    pub const NO_START: i32 = 2;
    /// Bit 2: ignore `end`; the range has no upper bound.
    pub const NO_END: i32 = 4;

    /// The flags as the host function takes them.
    #[inline]
    pub const fn encode(self) -> i32 {
        let mut flags = 0;
        if matches!(self.order, Order::Descending) {
            flags |= Self::DESCENDING;
        }
        if !self.has_start {
            flags |= Self::NO_START;
        }
        if !self.has_end {
            flags |= Self::NO_END;
        }
        flags
    }

    /// The flags a guest passed, or `None` if it set a bit the ABI does not define.
    pub const fn decode(flags: i32) -> Option<Self> {
        if flags & !(Self::DESCENDING | Self::NO_START | Self::NO_END) != 0 {
            return None;
        }
        Some(Self {
            order: if flags & Self::DESCENDING != 0 {
                Order::Descending
            } else {
                Order::Ascending
            },
            has_start: flags & Self::NO_START == 0,
            has_end: flags & Self::NO_END == 0,
        })
    }
}

/// The smallest byte string greater than every string that starts with `prefix`, if any (none
/// when `prefix` is all `0xff`): the exclusive end of a prefix scan.
#[inline]
pub fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Whether no key can lie between `lower` and `upper` (lower above upper, or equal and not both
/// included). Such a range is empty, not an error, and must never reach `BTreeMap::range` (which
/// panics on it) or a database range scan.
pub fn is_empty_range(lower: &Bound<&[u8]>, upper: &Bound<&[u8]>) -> bool {
    match (lower, upper) {
        (Bound::Included(l), Bound::Included(u)) => l > u,
        (Bound::Included(l) | Bound::Excluded(l), Bound::Excluded(u))
        | (Bound::Excluded(l), Bound::Included(u)) => l >= u,
        _ => false,
    }
}

/// A bound over an owned key, as a bound over its bytes.
pub fn borrowed(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(key) => Bound::Included(key.as_slice()),
        Bound::Excluded(key) => Bound::Excluded(key.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successor_skips_trailing_ff() {
        assert_eq!(successor(&[1, 2]), Some([1, 3].to_vec()));
        assert_eq!(successor(&[1, 0xff]), Some([2].to_vec()));
        assert_eq!(successor(&[0xff, 0xff]), None);
        assert_eq!(successor(&[]), None);
    }

    #[test]
    fn iter_flags_round_trip_and_refuse_unknown_bits() {
        for order in [Order::Ascending, Order::Descending] {
            for has_start in [false, true] {
                for has_end in [false, true] {
                    let flags = IterFlags {
                        order,
                        has_start,
                        has_end,
                    };
                    assert_eq!(IterFlags::decode(flags.encode()), Some(flags));
                }
            }
        }
        assert_eq!(IterFlags::decode(8), None);
        assert_eq!(IterFlags::decode(-1), None);
    }

    #[test]
    fn empty_ranges_are_recognised() {
        let (a, b): (&[u8], &[u8]) = (b"a", b"b");
        assert!(!is_empty_range(&Bound::Included(a), &Bound::Included(a)));
        assert!(is_empty_range(&Bound::Included(a), &Bound::Excluded(a)));
        assert!(is_empty_range(&Bound::Included(b), &Bound::Included(a)));
        assert!(!is_empty_range(&Bound::Unbounded, &Bound::Excluded(a)));
    }
}

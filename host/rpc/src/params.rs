//! Parsing what callers send, and the errors they get back when it is wrong.

use crate::{code, PAGE_MAX};
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned};
use serde::Deserialize;
use vellum_ledger::{EventSelector, Order};
use vellum_types::{unhex, SignedTransaction};

/// An error with `code`, `message` and a `data` string saying what to do.
pub(crate) fn error(code: i32, message: &str, data: impl Into<String>) -> ErrorObjectOwned {
    ErrorObject::owned(code, message, Some(data.into()))
}

pub(crate) fn invalid(data: impl Into<String>) -> ErrorObjectOwned {
    error(code::INVALID_PARAMS, "Invalid params", data)
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    error(code::INTERNAL, "Internal error", e.to_string())
}

pub(crate) fn not_found(data: impl Into<String>) -> ErrorObjectOwned {
    error(code::NOT_FOUND, "Not found", data)
}

pub(crate) fn bytes32(text: &str, what: &str) -> Result<[u8; 32], ErrorObjectOwned> {
    vellum_types::unhex32(text)
        .ok_or_else(|| invalid(format!("{what} must be 0x and 64 hex digits")))
}

/// A contract key: `0x` hex for bytes, anything else as its UTF-8 bytes.
pub(crate) fn key_bytes(text: &str) -> Vec<u8> {
    unhex(text).unwrap_or_else(|| text.as_bytes().to_vec())
}

pub(crate) fn order(text: Option<&str>) -> Result<Order, ErrorObjectOwned> {
    match text.unwrap_or("asc") {
        "asc" => Ok(Order::Ascending),
        "desc" => Ok(Order::Descending),
        other => Err(invalid(format!(
            "order must be \"asc\" or \"desc\", not {other:?}"
        ))),
    }
}

pub(crate) fn limit(requested: Option<usize>) -> Result<usize, ErrorObjectOwned> {
    match requested.unwrap_or(100) {
        0 => Err(invalid("limit must be at least 1")),
        n if n > PAGE_MAX => Err(invalid(format!("limit is at most {PAGE_MAX}"))),
        n => Ok(n),
    }
}

pub(crate) fn decode_transaction(raw: &str) -> Result<SignedTransaction, ErrorObjectOwned> {
    let bytes = unhex(raw).ok_or_else(|| {
        invalid("expected 0x-prefixed hex of a borsh SignedTransaction (docs/transactions.md)")
    })?;
    SignedTransaction::decode(&bytes).map_err(|e| {
        error(
            code::TRANSACTION_REJECTED,
            "Transaction rejected",
            e.to_string(),
        )
    })
}

/// A page of versions (`vellum_getHistory`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Page {
    pub(crate) cursor: Option<String>,
    pub(crate) limit: Option<usize>,
    pub(crate) order: Option<String>,
    pub(crate) from_height: Option<u64>,
    pub(crate) to_height: Option<u64>,
    pub(crate) from_time: Option<u64>,
    pub(crate) to_time: Option<u64>,
}

/// A key range (`vellum_getRange`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Range {
    pub(crate) cursor: Option<String>,
    pub(crate) start: Option<String>,
    pub(crate) end: Option<String>,
    pub(crate) limit: Option<usize>,
    pub(crate) order: Option<String>,
}

/// Which events a query or subscription wants.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventFilter {
    pub(crate) contract: Option<String>,
    pub(crate) topic: Option<String>,
    pub(crate) from_height: Option<u64>,
    pub(crate) to_height: Option<u64>,
    pub(crate) cursor: Option<String>,
    pub(crate) limit: Option<usize>,
}

/// A filter's contract and topic, parsed.
pub(crate) fn selector(filter: &EventFilter) -> Result<EventSelector, ErrorObjectOwned> {
    Ok(EventSelector {
        contract: filter
            .contract
            .as_deref()
            .map(|c| bytes32(c, "contract"))
            .transpose()?,
        topic: filter.topic.as_ref().map(|t| t.as_bytes().to_vec()),
    })
}

/// What one answer may still carry ([`crate::Limits::response_bytes_max`]): items are taken
/// while they fit, and the first always is.
pub(crate) struct Budget {
    left: usize,
    empty: bool,
}

impl Budget {
    pub(crate) fn new(bytes: usize) -> Self {
        Self {
            left: bytes,
            empty: true,
        }
    }

    /// Whether an item of `bytes` fits; if so it is counted.
    pub(crate) fn take(&mut self, bytes: usize) -> bool {
        if !self.empty && bytes > self.left {
            return false;
        }
        self.empty = false;
        self.left = self.left.saturating_sub(bytes);
        true
    }
}

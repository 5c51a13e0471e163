//! Parsing what callers send, and the errors they get back when it is wrong.

use crate::{code, PAGE_MAX};
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned};
use serde::Deserialize;
use vellum_ledger::Order;
use vellum_types::{unhex, Address, LedgerEvent, SignedTransaction};

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
}

/// A key range (`vellum_getRange`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Range {
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
pub(crate) struct Matcher {
    contract: Option<Address>,
    topic: Option<Vec<u8>>,
}

impl Matcher {
    pub(crate) fn new(filter: &EventFilter) -> Result<Self, ErrorObjectOwned> {
        Ok(Self {
            contract: filter
                .contract
                .as_deref()
                .map(|c| bytes32(c, "contract"))
                .transpose()?,
            topic: filter.topic.as_ref().map(|t| t.as_bytes().to_vec()),
        })
    }

    pub(crate) fn matches(&self, event: &LedgerEvent) -> bool {
        self.contract.is_none_or(|c| c == event.contract)
            && self.topic.as_ref().is_none_or(|t| *t == event.topic)
    }
}

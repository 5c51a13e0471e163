//! Typed storage: [`Item`] for one value, [`Map`] for many, both over the contract's key space.
//!
//! Values are stored in [postcard]'s binary encoding (see [`encode`]), not JSON: an integer is a
//! varint, an [`Address`] or [`Hash`](struct@Hash) its 32 bytes, a struct its fields in order
//! with no names. Arguments, results and events stay JSON, at the edge. Map keys are encoded so
//! that **byte order is key order**: integers big-endian, strings with an order-preserving
//! terminator, tuples by concatenation. Iteration and pagination are therefore in the natural
//! order of the key type, on every node.
//!
//! postcard is not self-describing, so a stored type must not need to look at the data to know
//! its shape: no `#[serde(untagged)]`, `#[serde(tag = ...)]` (internally tagged enums),
//! `#[serde(flatten)]` or `skip_serializing_if`, and no `serde_json::Value`. Such a value saves,
//! then fails to load ([`Error::CORRUPT_STATE`]) or, with `skip_serializing_if`, may load wrong;
//! a contract's first test that reads it back shows it. A type whose JSON needs one of them can
//! branch on `Serializer::is_human_readable` (JSON is, postcard is not), as the notary's `Status`
//! does.
//!
//! Layout: a namespace `ns` becomes the prefix `[len(ns)] ++ ns`; an item lives at that prefix, a
//! map entry at the prefix followed by its encoded key.
//!
//! [postcard]: https://postcard.jamesmunns.com

use crate::{
    env::{self, Order},
    Address, Error, Hash, Result,
};
use alloc::{format, string::String, vec::Vec};
use core::marker::PhantomData;
use serde::{de::DeserializeOwned, Serialize};

fn namespace(name: &str) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(name.len() + 1);
    // Namespaces are short literals chosen by the author; longer ones are cut, never ambiguous
    // within one contract because the cut keeps the length byte consistent with the bytes kept.
    let name = &name.as_bytes()[..name.len().min(255)];
    prefix.push(name.len() as u8);
    prefix.extend_from_slice(name);
    prefix
}

/// A stored value's bytes: `value` in postcard 1.x's wire format. The same value always encodes
/// to the same bytes. Off-chain tools read a contract's raw state (`vellum_getRange`, a state
/// proof) with [`decode`] and the contract's own types.
pub fn encode<V: Serialize + ?Sized>(value: &V) -> Vec<u8> {
    // Serializing plain data to postcard fails only for a sequence of unknown length or a
    // failing `Serialize` impl; such a type is a contract defect caught by its first test.
    postcard::to_allocvec(value).unwrap_or_default()
}

/// The value whose bytes [`encode`] wrote. Bytes left over after the value are an error
/// ([`Error::CORRUPT_STATE`]), as are bytes that end before it does.
pub fn decode<V: DeserializeOwned>(bytes: &[u8]) -> Result<V> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(Error::new(
            Error::CORRUPT_STATE,
            format!("{} bytes left over after the stored value", rest.len()),
        )),
        Err(e) => Err(Error::new(
            Error::CORRUPT_STATE,
            format!("the stored value does not decode: {e}"),
        )),
    }
}

fn decode_at<V: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<V> {
    decode(bytes).map_err(|e| Error::new(e.code, format!("at key {key:02x?}: {}", e.message)))
}

/// One value of type `T` under a fixed name.
pub struct Item<T> {
    name: &'static str,
    value: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Item<T> {
    /// An item stored under `name` (unique within the contract).
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            value: PhantomData,
        }
    }

    fn key(&self) -> Vec<u8> {
        namespace(self.name)
    }

    /// The value, if one was saved.
    pub fn load(&self) -> Result<Option<T>> {
        let key = self.key();
        env::storage_get(&key)
            .map(|bytes| decode_at(&key, &bytes))
            .transpose()
    }

    /// The value, or a [`Error::NOT_FOUND`] error naming the item.
    pub fn get(&self) -> Result<T> {
        self.load()?
            .ok_or_else(|| Error::not_found(format!("`{}` is not set", self.name)))
    }

    /// Save `value`.
    pub fn save(&self, value: &T) {
        env::storage_set(&self.key(), &encode(value));
    }

    /// Remove the value.
    pub fn remove(&self) {
        env::storage_remove(&self.key());
    }

    /// Whether a value is saved.
    pub fn exists(&self) -> bool {
        env::storage_has(&self.key())
    }
}

/// A key type whose encoding sorts like the key.
pub trait MapKey: Sized {
    /// Append the encoding of `self`.
    fn encode(&self, out: &mut Vec<u8>);
    /// Read one key from the front of `bytes`, advancing it.
    fn decode(bytes: &mut &[u8]) -> Option<Self>;

    /// The encoding on its own.
    fn to_key(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

macro_rules! unsigned_key {
    ($($t:ty),*) => {$(
        impl MapKey for $t {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes());
            }
            fn decode(bytes: &mut &[u8]) -> Option<Self> {
                const N: usize = core::mem::size_of::<$t>();
                let (head, rest) = bytes.split_first_chunk::<N>()?;
                *bytes = rest;
                Some(<$t>::from_be_bytes(*head))
            }
        }
    )*};
}
unsigned_key!(u8, u16, u32, u64, u128);

impl MapKey for i64 {
    fn encode(&self, out: &mut Vec<u8>) {
        // Flipping the sign bit makes two's complement sort as unsigned bytes.
        ((*self as u64) ^ (1 << 63)).encode(out);
    }
    fn decode(bytes: &mut &[u8]) -> Option<Self> {
        Some((u64::decode(bytes)? ^ (1 << 63)) as i64)
    }
}

impl MapKey for [u8; 32] {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn decode(bytes: &mut &[u8]) -> Option<Self> {
        let (head, rest) = bytes.split_first_chunk::<32>()?;
        *bytes = rest;
        Some(*head)
    }
}

impl MapKey for Address {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }
    fn decode(bytes: &mut &[u8]) -> Option<Self> {
        <[u8; 32]>::decode(bytes).map(Address)
    }
}

impl MapKey for Hash {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }
    fn decode(bytes: &mut &[u8]) -> Option<Self> {
        <[u8; 32]>::decode(bytes).map(Hash)
    }
}

/// Strings end in `00 00`, and a `00` inside is written `00 ff`: the encoding is prefix-free (so it
/// can be followed by more key parts) and sorts exactly like the string's bytes.
impl MapKey for String {
    fn encode(&self, out: &mut Vec<u8>) {
        for &byte in self.as_bytes() {
            out.push(byte);
            if byte == 0 {
                out.push(0xff);
            }
        }
        out.extend_from_slice(&[0, 0]);
    }
    fn decode(bytes: &mut &[u8]) -> Option<Self> {
        let mut raw = Vec::new();
        let mut rest = *bytes;
        loop {
            match rest {
                [0, 0, tail @ ..] => {
                    rest = tail;
                    break;
                }
                [0, 0xff, tail @ ..] => {
                    raw.push(0);
                    rest = tail;
                }
                [byte, tail @ ..] => {
                    raw.push(*byte);
                    rest = tail;
                }
                [] => return None,
            }
        }
        *bytes = rest;
        String::from_utf8(raw).ok()
    }
}

impl<A: MapKey, B: MapKey> MapKey for (A, B) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
    }
    fn decode(bytes: &mut &[u8]) -> Option<Self> {
        Some((A::decode(bytes)?, B::decode(bytes)?))
    }
}

impl<A: MapKey, B: MapKey, C: MapKey> MapKey for (A, B, C) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
        self.2.encode(out);
    }
    fn decode(bytes: &mut &[u8]) -> Option<Self> {
        Some((A::decode(bytes)?, B::decode(bytes)?, C::decode(bytes)?))
    }
}

/// Values of type `V` by keys of type `K`, iterable in key order.
pub struct Map<K, V> {
    name: &'static str,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K: MapKey, V: Serialize + DeserializeOwned> Map<K, V> {
    /// A map stored under `name` (unique within the contract).
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            types: PhantomData,
        }
    }

    fn key(&self, key: &K) -> Vec<u8> {
        let mut bytes = namespace(self.name);
        key.encode(&mut bytes);
        bytes
    }

    /// The value at `key`.
    pub fn load(&self, key: &K) -> Result<Option<V>> {
        let key = self.key(key);
        env::storage_get(&key)
            .map(|bytes| decode_at(&key, &bytes))
            .transpose()
    }

    /// Save `value` at `key`.
    pub fn save(&self, key: &K, value: &V) {
        env::storage_set(&self.key(key), &encode(value));
    }

    /// Remove `key`.
    pub fn remove(&self, key: &K) {
        env::storage_remove(&self.key(key));
    }

    /// Whether `key` holds a value.
    pub fn has(&self, key: &K) -> bool {
        env::storage_has(&self.key(key))
    }

    /// All entries, as a [`Prefix`] to page through.
    pub fn all(&self) -> Prefix<K, V> {
        Prefix::new(namespace(self.name))
    }
}

impl<A: MapKey, B: MapKey, V: Serialize + DeserializeOwned> Map<(A, B), V> {
    /// The entries whose key starts with `first`, keyed by the rest.
    pub fn prefix(&self, first: &A) -> Prefix<B, V> {
        let mut prefix = namespace(self.name);
        first.encode(&mut prefix);
        Prefix::new(prefix)
    }
}

/// A key range sharing a byte prefix, read in key order with cursor pagination.
pub struct Prefix<K, V> {
    prefix: Vec<u8>,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K: MapKey, V: Serialize + DeserializeOwned> Prefix<K, V> {
    fn new(prefix: Vec<u8>) -> Self {
        Self {
            prefix,
            types: PhantomData,
        }
    }

    /// Up to `limit` entries after the cursor `start_after` (exclusive; `None` starts at the first),
    /// in `order`. Pass the last key of a page as the next page's cursor.
    pub fn page(&self, start_after: Option<&K>, limit: usize, order: Order) -> Result<Vec<(K, V)>> {
        let cursor = start_after.map(|key| {
            let mut bytes = self.prefix.clone();
            key.encode(&mut bytes);
            bytes
        });
        let end = vellum_abi::successor(&self.prefix);
        let (start, end) = match (order, cursor) {
            (Order::Ascending, Some(mut after)) => {
                // The immediate successor of the cursor's key in byte order.
                after.push(0);
                (after, end)
            }
            (Order::Descending, Some(before)) => (self.prefix.clone(), Some(before)),
            (_, None) => (self.prefix.clone(), end),
        };
        env::range(Some(&start), end.as_deref(), order)
            .take(limit)
            .map(|(key, value)| {
                let mut rest = key.get(self.prefix.len()..).unwrap_or_default();
                let decoded = K::decode(&mut rest)
                    .filter(|_| rest.is_empty())
                    .ok_or_else(|| {
                        Error::new(
                            Error::CORRUPT_STATE,
                            format!("stored key {key:02x?} does not decode"),
                        )
                    })?;
                Ok((decoded, decode_at(&key, &value)?))
            })
            .collect()
    }

    /// Every entry, in `order`.
    pub fn entries(&self, order: Order) -> Result<Vec<(K, V)>> {
        self.page(None, usize::MAX, order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn encoded<K: MapKey>(key: K) -> Vec<u8> {
        key.to_key()
    }

    #[test]
    fn encodings_sort_like_their_keys() {
        let strings = ["", "\0", "a", "a\0", "a\0b", "ab", "b"];
        let bytes: Vec<_> = strings.iter().map(|s| encoded(s.to_string())).collect();
        assert!(bytes.windows(2).all(|w| w[0] < w[1]), "{bytes:02x?}");
        let numbers = [i64::MIN, -1, 0, 1, i64::MAX];
        let bytes: Vec<_> = numbers.iter().map(|n| encoded(*n)).collect();
        assert!(bytes.windows(2).all(|w| w[0] < w[1]));
        let pairs = [
            ("a".to_string(), 2u64),
            ("a".to_string(), 10),
            ("ab".to_string(), 0),
        ];
        let bytes: Vec<_> = pairs.iter().cloned().map(encoded).collect();
        assert!(bytes.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn values_are_compact_and_decode_only_whole() {
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Record {
            owner: Address,
            amount: u128,
            note: String,
        }
        let record = Record {
            owner: Address([7; 32]),
            amount: 300,
            note: "hi".to_string(),
        };
        let bytes = encode(&record);
        // 32 address bytes, a two-byte varint, a length and two bytes of text.
        assert_eq!(bytes.len(), 32 + 2 + 1 + 2, "{bytes:02x?}");
        assert_eq!(&bytes[..32], &[7; 32]);
        assert_eq!(decode::<Record>(&bytes), Ok(record));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            decode::<Record>(&longer).map_err(|e| e.code),
            Err(Error::CORRUPT_STATE)
        );
        assert_eq!(
            decode::<Record>(&bytes[..bytes.len() - 1]).map_err(|e| e.code),
            Err(Error::CORRUPT_STATE)
        );
        // JSON, the edge's encoding, still writes the address as hex.
        let json = serde_json::to_string(&Address([7; 32])).expect("json");
        assert_eq!(json, alloc::format!("\"0x{}\"", "07".repeat(32)));
        assert_eq!(
            serde_json::from_str::<Address>(&json).expect("parses"),
            Address([7; 32])
        );
    }

    #[test]
    fn keys_round_trip() {
        let key = ("x\0y".to_string(), (7u32, Address([3; 32])));
        let mut bytes = key.to_key();
        bytes.extend([9, 9]);
        let mut rest = bytes.as_slice();
        assert_eq!(<(String, (u32, Address))>::decode(&mut rest), Some(key));
        assert_eq!(rest, &[9, 9]);
    }
}

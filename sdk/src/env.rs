#![allow(unsafe_code)] // the wasm32 bindings are FFI; each call states why it is sound
//! The contract's environment: safe wrappers over host ABI v2 (`docs/abi.md`).
//!
//! On `wasm32` every function here is a call into the node. On any other target the same functions
//! act on the in-memory host of [`crate::testing`], with the same semantics: a call reads its own
//! writes, iterates in key order over committed and buffered keys, and loses every write and event
//! if it fails. That is what lets a contract's unit tests run natively, in milliseconds, and still
//! mean something on chain.

use crate::Address;
#[cfg(target_arch = "wasm32")]
use alloc::vec;
use alloc::vec::Vec;
#[cfg(not(target_arch = "wasm32"))]
use {alloc::string::String, core::ops::Bound};

pub use vellum_abi::Order;

#[cfg(target_arch = "wasm32")]
mod sys {
    #[link(wasm_import_module = "vellum")]
    extern "C" {
        pub fn input_len() -> i32;
        pub fn input_read(ptr: *mut u8);
        pub fn set_return(ptr: *const u8, len: i32);
        pub fn abort(code: i32, ptr: *const u8, len: i32) -> !;
        pub fn debug_log(ptr: *const u8, len: i32);
        pub fn caller(out: *mut u8);
        pub fn contract_address(out: *mut u8);
        pub fn block_height() -> i64;
        pub fn block_time() -> i64;
        pub fn storage_get(key: *const u8, key_len: i32) -> i32;
        pub fn storage_has(key: *const u8, key_len: i32) -> i32;
        pub fn storage_set(key: *const u8, key_len: i32, value: *const u8, value_len: i32);
        pub fn storage_remove(key: *const u8, key_len: i32);
        pub fn storage_iter(
            start: *const u8,
            start_len: i32,
            end: *const u8,
            end_len: i32,
            flags: i32,
        ) -> i32;
        pub fn storage_next(id: i32) -> i32;
        pub fn storage_iter_close(id: i32);
        pub fn key_read(out: *mut u8);
        pub fn value_read(out: *mut u8);
        pub fn value_len() -> i32;
        pub fn emit_event(topic: *const u8, topic_len: i32, data: *const u8, data_len: i32);
        pub fn keccak256(data: *const u8, len: i32, out: *mut u8);
        pub fn sha3_256(data: *const u8, len: i32, out: *mut u8);
        pub fn secp256k1_verify(
            hash: *const u8,
            sig: *const u8,
            key: *const u8,
            key_len: i32,
        ) -> i32;
        pub fn call(
            address: *const u8,
            entry: *const u8,
            entry_len: i32,
            input: *const u8,
            input_len: i32,
            fuel: i64,
        ) -> i32;
    }
}

/// Lengths the host accepts are far below `i32::MAX`; anything longer is cut to a length the host
/// will reject with a clear limit error rather than wrap around.
#[cfg(target_arch = "wasm32")]
fn len(bytes: &[u8]) -> i32 {
    i32::try_from(bytes.len()).unwrap_or(i32::MAX)
}

#[cfg(target_arch = "wasm32")]
fn read_value(found: i32) -> Option<Vec<u8>> {
    let len = usize::try_from(found).ok()?;
    let mut value = vec![0u8; len];
    // SAFETY: `value` has exactly the buffered value's length.
    unsafe { sys::value_read(value.as_mut_ptr()) };
    Some(value)
}

/// The call's input (JSON arguments, with the SDK).
pub fn input() -> Vec<u8> {
    #[cfg(target_arch = "wasm32")]
    {
        // SAFETY: the host writes exactly `input_len` bytes, and the buffer has that many.
        let len = unsafe { sys::input_len() } as usize;
        let mut input = vec![0u8; len];
        unsafe { sys::input_read(input.as_mut_ptr()) };
        input
    }
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::with_frame(|frame| frame.input.clone())
}

/// Set the call's return data.
pub fn set_return(data: &[u8]) {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: pointer and length describe `data`.
    unsafe {
        sys::set_return(data.as_ptr(), len(data))
    };
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::with_frame(|frame| frame.return_data = data.to_vec());
}

/// End the call as a contract error: every write and event of the call is discarded.
pub fn abort(code: u32, message: &str) -> ! {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: pointer and length describe `message`; the host never returns.
    unsafe {
        sys::abort(code as i32, message.as_ptr(), len(message.as_bytes()))
    }
    #[cfg(not(target_arch = "wasm32"))]
    std::panic::panic_any(crate::testing::Stop::Abort(crate::Error::new(
        code, message,
    )))
}

/// A line for the developer's log; not part of consensus.
pub fn debug(message: &str) {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: pointer and length describe `message`.
    unsafe {
        sys::debug_log(message.as_ptr(), len(message.as_bytes()))
    };
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::with_frame(|frame| frame.debug_log.push(String::from(message)));
}

/// The account that signed the transaction (or is querying).
pub fn caller() -> Address {
    #[cfg(target_arch = "wasm32")]
    {
        let mut out = [0u8; 32];
        // SAFETY: the host writes 32 bytes.
        unsafe { sys::caller(out.as_mut_ptr()) };
        Address(out)
    }
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::with_frame(|frame| frame.caller)
}

/// This contract's address.
pub fn contract_address() -> Address {
    #[cfg(target_arch = "wasm32")]
    {
        let mut out = [0u8; 32];
        // SAFETY: the host writes 32 bytes.
        unsafe { sys::contract_address(out.as_mut_ptr()) };
        Address(out)
    }
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::with_frame(|frame| frame.contract)
}

/// Height of the block being executed.
pub fn block_height() -> u64 {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: no arguments.
    return unsafe { sys::block_height() } as u64;
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::with_frame(|frame| frame.block_height)
}

/// The block's time in milliseconds since the Unix epoch, agreed by consensus.
pub fn block_time_ms() -> u64 {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: no arguments.
    return unsafe { sys::block_time() } as u64;
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::with_frame(|frame| frame.block_time_ms)
}

/// The value stored at `key`.
pub fn storage_get(key: &[u8]) -> Option<Vec<u8>> {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: pointer and length describe `key`.
    return read_value(unsafe { sys::storage_get(key.as_ptr(), len(key)) });
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::with_frame(|frame| frame.state.get(key).cloned())
}

/// Whether `key` holds a value.
pub fn storage_has(key: &[u8]) -> bool {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: pointer and length describe `key`.
    return unsafe { sys::storage_has(key.as_ptr(), len(key)) } == 1;
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::with_frame(|frame| frame.state.contains_key(key))
}

/// Store `value` at `key`.
pub fn storage_set(key: &[u8], value: &[u8]) {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: pointers and lengths describe `key` and `value`.
    unsafe {
        sys::storage_set(key.as_ptr(), len(key), value.as_ptr(), len(value))
    };
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::with_frame(|frame| {
        frame.ensure_writable("storage_set");
        frame.write(key, Some(value));
    });
}

/// Remove `key` (a no-op if it holds nothing).
pub fn storage_remove(key: &[u8]) {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: pointer and length describe `key`.
    unsafe {
        sys::storage_remove(key.as_ptr(), len(key))
    };
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::with_frame(|frame| {
        frame.ensure_writable("storage_remove");
        frame.write(key, None);
    });
}

/// Record an event with raw data.
pub fn emit_raw(topic: &str, data: &[u8]) {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: pointers and lengths describe `topic` and `data`.
    unsafe {
        sys::emit_event(
            topic.as_ptr(),
            len(topic.as_bytes()),
            data.as_ptr(),
            len(data),
        )
    };
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::with_frame(|frame| {
        frame.ensure_writable("emit_event");
        let contract = frame.contract;
        frame.events.push(crate::testing::Event {
            contract,
            topic: String::from(topic),
            data: data.to_vec(),
        });
    });
}

/// Record an event whose data is `data` as JSON.
pub fn emit<T: serde::Serialize + ?Sized>(topic: &str, data: &T) {
    // Serializing plain data structures to JSON cannot fail; an empty payload would only hide a bug.
    let data = serde_json::to_vec(data).unwrap_or_default();
    emit_raw(topic, &data);
}

/// Keccak-256 (Ethereum's hash) of `data`.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    #[cfg(target_arch = "wasm32")]
    {
        let mut out = [0u8; 32];
        // SAFETY: pointer and length describe `data`; the host writes 32 bytes to `out`.
        unsafe { sys::keccak256(data.as_ptr(), len(data), out.as_mut_ptr()) };
        out
    }
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::keccak256(data)
}

/// SHA3-256 (FIPS 202) of `data`.
pub fn sha3_256(data: &[u8]) -> [u8; 32] {
    #[cfg(target_arch = "wasm32")]
    {
        let mut out = [0u8; 32];
        // SAFETY: pointer and length describe `data`; the host writes 32 bytes to `out`.
        unsafe { sys::sha3_256(data.as_ptr(), len(data), out.as_mut_ptr()) };
        out
    }
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::sha3_256(data)
}

/// Whether `signature` (64 bytes, `r || s`, low-S) by the SEC1 `public_key` (33 or 65 bytes) signs
/// the 32-byte `hash`. Malformed inputs are simply invalid.
pub fn secp256k1_verify(hash: &[u8; 32], signature: &[u8; 64], public_key: &[u8]) -> bool {
    if public_key.len() != 33 && public_key.len() != 65 {
        return false;
    }
    #[cfg(target_arch = "wasm32")]
    // SAFETY: fixed-size arrays and a slice of the length passed.
    return unsafe {
        sys::secp256k1_verify(
            hash.as_ptr(),
            signature.as_ptr(),
            public_key.as_ptr(),
            len(public_key),
        )
    } == 1;
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::secp256k1_verify(hash, signature, public_key)
}

/// Run `entry_point` (`execute.<method>` or `query.<method>`) of the contract at `contract` with
/// raw `input` and at most `fuel` (what is left, if less): the host's status
/// ([`vellum_abi::CallStatus`]) and the bytes it answered with. [`crate::call`] is the typed way.
pub fn call(
    contract: &Address,
    entry_point: &str,
    input: &[u8],
    fuel: u64,
) -> (vellum_abi::CallStatus, Vec<u8>) {
    #[cfg(target_arch = "wasm32")]
    {
        // SAFETY: pointers and lengths describe `contract`, `entry_point` and `input`.
        let status = unsafe {
            sys::call(
                contract.0.as_ptr(),
                entry_point.as_ptr(),
                len(entry_point.as_bytes()),
                input.as_ptr(),
                len(input),
                fuel as i64,
            )
        };
        // SAFETY: no arguments.
        let answer = read_value(unsafe { sys::value_len() }).unwrap_or_default();
        let status = vellum_abi::CallStatus::decode(status).unwrap_or(vellum_abi::CallStatus::Trap);
        (status, answer)
    }
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::call(contract, entry_point, input, fuel)
}

/// Entries of `[start, end)` (either bound optional) in `order`, read lazily from the host.
pub fn range(start: Option<&[u8]>, end: Option<&[u8]>, order: Order) -> Range {
    Range::new(start, end, order)
}

/// An open iteration over storage, in key order. Closed when dropped.
pub struct Range {
    #[cfg(target_arch = "wasm32")]
    id: i32,
    #[cfg(not(target_arch = "wasm32"))]
    lower: Bound<Vec<u8>>,
    #[cfg(not(target_arch = "wasm32"))]
    upper: Bound<Vec<u8>>,
    #[cfg(not(target_arch = "wasm32"))]
    order: Order,
}

impl Range {
    fn new(start: Option<&[u8]>, end: Option<&[u8]>, order: Order) -> Self {
        #[cfg(target_arch = "wasm32")]
        {
            let flags = vellum_abi::IterFlags {
                order,
                has_start: start.is_some(),
                has_end: end.is_some(),
            }
            .encode();
            let (start, end) = (start.unwrap_or_default(), end.unwrap_or_default());
            // SAFETY: pointers and lengths describe `start` and `end`.
            let id = unsafe {
                sys::storage_iter(start.as_ptr(), len(start), end.as_ptr(), len(end), flags)
            };
            Self { id }
        }
        #[cfg(not(target_arch = "wasm32"))]
        Self {
            lower: start.map_or(Bound::Unbounded, |s| Bound::Included(s.to_vec())),
            upper: end.map_or(Bound::Unbounded, |e| Bound::Excluded(e.to_vec())),
            order,
        }
    }
}

impl Iterator for Range {
    type Item = (Vec<u8>, Vec<u8>);

    fn next(&mut self) -> Option<Self::Item> {
        #[cfg(target_arch = "wasm32")]
        {
            // SAFETY: `id` is an iterator this value opened and has not closed.
            let key_len = usize::try_from(unsafe { sys::storage_next(self.id) }).ok()?;
            let mut key = vec![0u8; key_len];
            // SAFETY: `key` has exactly the buffered key's length.
            unsafe { sys::key_read(key.as_mut_ptr()) };
            // SAFETY: no arguments.
            let value = read_value(unsafe { sys::value_len() })?;
            Some((key, value))
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            if vellum_abi::is_empty_range(
                &vellum_abi::borrowed(&self.lower),
                &vellum_abi::borrowed(&self.upper),
            ) {
                return None;
            }
            let entry = crate::testing::with_frame(|frame| {
                let mut range = frame.state.range::<[u8], _>((
                    vellum_abi::borrowed(&self.lower),
                    vellum_abi::borrowed(&self.upper),
                ));
                match self.order {
                    Order::Ascending => range.next(),
                    Order::Descending => range.next_back(),
                }
                .map(|(k, v)| (k.clone(), v.clone()))
            });
            let (key, value) = entry?;
            match self.order {
                Order::Ascending => self.lower = Bound::Excluded(key.clone()),
                Order::Descending => self.upper = Bound::Excluded(key.clone()),
            }
            Some((key, value))
        }
    }
}

impl Drop for Range {
    fn drop(&mut self) {
        #[cfg(target_arch = "wasm32")]
        // SAFETY: `id` is an iterator this value opened; it is closed exactly once.
        unsafe {
            sys::storage_iter_close(self.id)
        };
    }
}

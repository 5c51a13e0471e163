//! Host ABI v2: the functions a contract imports from module `vellum` (reference: `docs/abi.md`).
//! `call`, the one function v2 added, lives in `crate::call` with the machinery it needs.
//!
//! Conventions, chosen so that no guest value can hurt the host:
//! - Pointers and lengths are `i32` read as unsigned 32-bit; every `(ptr, len)` is bounds-checked
//!   against the contract's memory, and a bad one traps the call with
//!   [`TrapKind::HostMemoryOutOfBounds`], never the host.
//! - Every function first checks the schedule's size limits, then charges its fuel, and only then
//!   reads guest memory or touches storage, so unaffordable or oversized requests cost the host
//!   nothing.
//! - Variable-length results (storage values, iterated keys) are not written into guest memory
//!   directly: the host keeps them in a key buffer and a value buffer and returns their length, and
//!   the guest copies them out with `key_read` / `value_read` into memory it has sized. This keeps
//!   the host from ever allocating inside the guest.
//!
//! The file is long on purpose: `link` defines every host function but `call` in one place, in
//! the order of `docs/abi.md`, each beside the limits and fuel it enforces, so the whole ABI can
//! be audited top to bottom against its specification.

use crate::{
    call::Below,
    outcome::{Event, TrapKind},
    runtime::{ExecuteError, Inner},
    schedule::{Price, Schedule},
    storage::{Cursor, Overlay, StorageError},
};
use sha3::{Digest, Keccak256, Sha3_256};
use std::{collections::BTreeMap, ops::Bound, sync::Arc};
use wasmtime::{Caller, Linker, Memory, ResourceLimiter};

pub use vellum_abi::{
    host_function, Address, CallStatus, IterFlags, HOST_FUNCTIONS, MODULE, REENTRANT_SECTION,
};

/// Who is calling, and in which block: everything a contract may know about its environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    /// The account that signed the transaction (or the querying account).
    pub caller: Address,
    /// The contract being executed.
    pub contract: Address,
    /// Height of the block being executed.
    pub block_height: u64,
    /// The block's timestamp in milliseconds since the Unix epoch, chosen by its proposer and agreed
    /// by consensus: never the local clock.
    pub block_time_ms: u64,
}

/// Why a host function stopped the call. Converted to an outcome (or, for storage failures, to an
/// error) by the executor.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HostStop {
    #[error("out of fuel")]
    OutOfFuel,
    #[error("abort({code}): {message}")]
    Abort { code: u32, message: String },
    #[error(transparent)]
    Trap(#[from] TrapKind),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A nested call could not be carried out (see [`crate::ExecuteError`]).
    #[error(transparent)]
    Host(#[from] ExecuteError),
}

/// Caps on memory and table growth, enforced by wasmtime through [`ResourceLimiter`].
pub(crate) struct GrowthLimits {
    pub(crate) memory_bytes_max: usize,
    pub(crate) table_elements_max: usize,
}

impl ResourceLimiter for GrowthLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.memory_bytes_max)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.table_elements_max)
    }
}

/// Everything one call's host functions share: the store data of its wasmtime `Store`.
pub(crate) struct CallState {
    pub(crate) runtime: Arc<Inner>,
    pub(crate) schedule: Arc<Schedule>,
    pub(crate) metered: bool,
    pub(crate) context: Context,
    pub(crate) input: Vec<u8>,
    pub(crate) read_only: bool,
    /// The contract's own pending writes.
    pub(crate) overlay: Overlay,
    /// Pending writes to other contracts, made by the calls this one made.
    pub(crate) others: BTreeMap<Address, Overlay>,
    /// The state under this call: the world, or its suspended callers.
    pub(crate) below: Below,
    /// The contracts on the call stack, this one's last.
    pub(crate) stack: Vec<Address>,
    pub(crate) memory: Option<Memory>,
    pub(crate) growth: GrowthLimits,
    key_buffer: Vec<u8>,
    pub(crate) value_buffer: Option<Vec<u8>>,
    iterators: Vec<Option<Cursor>>,
    pub(crate) return_data: Vec<u8>,
    pub(crate) events: Vec<Event>,
    /// Events this call may emit: the schedule's `events_max` for an entry point, what its
    /// caller has left for a callee (so the whole tree stays within it, and a callee that
    /// would pass it fails itself, which its caller can handle).
    pub(crate) events_max: usize,
    pub(crate) debug_log: Vec<String>,
}

impl CallState {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        runtime: Arc<Inner>,
        metered: bool,
        context: Context,
        input: Vec<u8>,
        read_only: bool,
        overlay: Overlay,
        below: Below,
        stack: Vec<Address>,
        events_max: usize,
    ) -> Self {
        let schedule = runtime.schedule.clone();
        let limits = &schedule.limits;
        let growth = GrowthLimits {
            memory_bytes_max: usize::try_from(limits.memory_pages_max * 65_536)
                .unwrap_or(usize::MAX),
            table_elements_max: usize::try_from(limits.table_elements_max).unwrap_or(usize::MAX),
        };
        Self {
            runtime,
            schedule,
            metered,
            context,
            input,
            read_only,
            overlay,
            others: BTreeMap::new(),
            below,
            stack,
            memory: None,
            growth,
            key_buffer: Vec::new(),
            value_buffer: None,
            iterators: Vec::new(),
            return_data: Vec::new(),
            events: Vec::new(),
            events_max,
            debug_log: Vec::new(),
        }
    }
}

pub(crate) type Ctx<'a> = Caller<'a, CallState>;

pub(crate) fn stop(stop: impl Into<HostStop>) -> wasmtime::Error {
    wasmtime::Error::new(stop.into())
}

/// Charge `fuel`; if the call cannot pay, drain what is left and stop it.
pub(crate) fn charge(caller: &mut Ctx<'_>, fuel: u64) -> wasmtime::Result<()> {
    if !caller.data().metered {
        return Ok(());
    }
    let left = caller.get_fuel()?;
    match left.checked_sub(fuel) {
        Some(rest) => caller.set_fuel(rest),
        None => {
            caller.set_fuel(0)?;
            Err(stop(HostStop::OutOfFuel))
        }
    }
}

pub(crate) fn charge_price(
    caller: &mut Ctx<'_>,
    price: fn(&Schedule) -> Price,
    bytes: u64,
) -> wasmtime::Result<()> {
    let fuel = price(&caller.data().schedule).of(bytes);
    charge(caller, fuel)
}

fn memory(caller: &Ctx<'_>) -> wasmtime::Result<Memory> {
    caller
        .data()
        .memory
        .ok_or_else(|| wasmtime::Error::msg("contract memory not bound before the call"))
}

/// The guest range `[ptr, ptr + len)`, if it lies inside linear memory.
fn range(memory_len: usize, ptr: i32, len: i32) -> Option<std::ops::Range<usize>> {
    let start = ptr as u32 as usize;
    let end = start.checked_add(len as u32 as usize)?;
    (end <= memory_len).then_some(start..end)
}

pub(crate) fn read(
    caller: &Ctx<'_>,
    function: &'static str,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<Vec<u8>> {
    let data = memory(caller)?.data(caller);
    range(data.len(), ptr, len)
        .map(|r| data[r].to_vec())
        .ok_or_else(|| stop(TrapKind::HostMemoryOutOfBounds { function }))
}

fn write(
    caller: &mut Ctx<'_>,
    function: &'static str,
    ptr: i32,
    bytes: &[u8],
) -> wasmtime::Result<()> {
    let len = i32::try_from(bytes.len())
        .map_err(|_| stop(TrapKind::HostMemoryOutOfBounds { function }))?;
    let memory = memory(caller)?;
    let data = memory.data_mut(caller);
    let r = range(data.len(), ptr, len)
        .ok_or_else(|| stop(TrapKind::HostMemoryOutOfBounds { function }))?;
    data[r].copy_from_slice(bytes);
    Ok(())
}

pub(crate) fn ensure_within(what: &'static str, found: i32, max: usize) -> wasmtime::Result<u64> {
    let found = u64::from(found as u32);
    if found > max as u64 {
        return Err(stop(TrapKind::LimitExceeded {
            what,
            found,
            max: max as u64,
        }));
    }
    Ok(found)
}

fn ensure_writable(caller: &Ctx<'_>, function: &'static str) -> wasmtime::Result<()> {
    if caller.data().read_only {
        return Err(stop(TrapKind::ReadOnly { function }));
    }
    Ok(())
}

pub(crate) fn invalid(function: &'static str, reason: &'static str) -> wasmtime::Error {
    stop(TrapKind::InvalidArgument { function, reason })
}

/// Lengths handed back to the guest: bounded by the schedule's limits, so they fit an `i32`.
pub(crate) fn length(len: usize) -> i32 {
    i32::try_from(len).unwrap_or(i32::MAX)
}

fn read_key(
    caller: &mut Ctx<'_>,
    function: &'static str,
    price: fn(&Schedule) -> Price,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<Vec<u8>> {
    let key_len = ensure_within(
        "key bytes",
        len,
        caller.data().schedule.limits.key_bytes_max,
    )?;
    charge_price(caller, price, key_len)?;
    read(caller, function, ptr, len)
}

/// Define every function of [`HOST_FUNCTIONS`] in `linker`.
pub(crate) fn link(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "input_len", |mut caller: Ctx<'_>| {
        charge_price(&mut caller, |s| s.costs.context_read, 0)?;
        Ok(length(caller.data().input.len()))
    })?;
    linker.func_wrap(MODULE, "input_read", |mut caller: Ctx<'_>, ptr: i32| {
        let len = caller.data().input.len() as u64;
        charge_price(&mut caller, |s| s.costs.input_read, len)?;
        let input = std::mem::take(&mut caller.data_mut().input);
        let result = write(&mut caller, "input_read", ptr, &input);
        caller.data_mut().input = input;
        result
    })?;
    linker.func_wrap(
        MODULE,
        "set_return",
        |mut caller: Ctx<'_>, ptr: i32, len: i32| {
            let max = caller.data().schedule.limits.return_bytes_max;
            let bytes = ensure_within("return bytes", len, max)?;
            charge_price(&mut caller, |s| s.costs.set_return, bytes)?;
            caller.data_mut().return_data = read(&caller, "set_return", ptr, len)?;
            Ok(())
        },
    )?;
    linker.func_wrap(
        MODULE,
        "abort",
        |mut caller: Ctx<'_>, code: i32, ptr: i32, len: i32| -> wasmtime::Result<()> {
            let max = caller.data().schedule.limits.abort_message_bytes_max;
            let kept = length((len as u32 as usize).min(max));
            charge_price(&mut caller, |s| s.costs.abort, u64::from(kept as u32))?;
            let message = read(&caller, "abort", ptr, kept)?;
            Err(stop(HostStop::Abort {
                code: code as u32,
                message: String::from_utf8_lossy(&message).into_owned(),
            }))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "debug_log",
        |mut caller: Ctx<'_>, ptr: i32, len: i32| {
            let limits = &caller.data().schedule.limits;
            let kept = length((len as u32 as usize).min(limits.debug_line_bytes_max));
            let keep = caller.data().debug_log.len() < limits.debug_lines_max;
            charge_price(&mut caller, |s| s.costs.debug_log, u64::from(kept as u32))?;
            // Read (and bounds-checked) whether or not the line is kept, so the outcome never
            // depends on how many lines came before.
            let line = read(&caller, "debug_log", ptr, kept)?;
            if keep {
                let line = String::from_utf8_lossy(&line).into_owned();
                caller.data_mut().debug_log.push(line);
            }
            Ok(())
        },
    )?;
    linker.func_wrap(MODULE, "caller", |mut caller: Ctx<'_>, ptr: i32| {
        charge_price(&mut caller, |s| s.costs.context_read, 0)?;
        let address = caller.data().context.caller;
        write(&mut caller, "caller", ptr, &address)
    })?;
    linker.func_wrap(
        MODULE,
        "contract_address",
        |mut caller: Ctx<'_>, ptr: i32| {
            charge_price(&mut caller, |s| s.costs.context_read, 0)?;
            let address = caller.data().context.contract;
            write(&mut caller, "contract_address", ptr, &address)
        },
    )?;
    linker.func_wrap(MODULE, "block_height", |mut caller: Ctx<'_>| {
        charge_price(&mut caller, |s| s.costs.context_read, 0)?;
        Ok(caller.data().context.block_height as i64)
    })?;
    linker.func_wrap(MODULE, "block_time", |mut caller: Ctx<'_>| {
        charge_price(&mut caller, |s| s.costs.context_read, 0)?;
        Ok(caller.data().context.block_time_ms as i64)
    })?;
    linker.func_wrap(
        MODULE,
        "storage_get",
        |mut caller: Ctx<'_>, ptr: i32, len: i32| {
            let key = read_key(
                &mut caller,
                "storage_get",
                |s| s.costs.storage_read,
                ptr,
                len,
            )?;
            let value = caller.data().overlay.get(&key).map_err(stop)?;
            let found = value.as_ref().map_or(-1, |v| length(v.len()));
            if let Some(value) = &value {
                let per_byte = caller.data().schedule.costs.storage_read.per_byte;
                charge(&mut caller, per_byte.saturating_mul(value.len() as u64))?;
            }
            caller.data_mut().value_buffer = value;
            Ok(found)
        },
    )?;
    linker.func_wrap(
        MODULE,
        "storage_has",
        |mut caller: Ctx<'_>, ptr: i32, len: i32| {
            let key = read_key(
                &mut caller,
                "storage_has",
                |s| s.costs.storage_read,
                ptr,
                len,
            )?;
            let value = caller.data().overlay.get(&key).map_err(stop)?;
            let value_bytes = value.as_ref().map_or(0, |v| v.len() as u64);
            let per_byte = caller.data().schedule.costs.storage_read.per_byte;
            charge(&mut caller, per_byte.saturating_mul(value_bytes))?;
            Ok(i32::from(value.is_some()))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "storage_set",
        |mut caller: Ctx<'_>, key_ptr: i32, key_len: i32, value_ptr: i32, value_len: i32| {
            ensure_writable(&caller, "storage_set")?;
            let limits = &caller.data().schedule.limits;
            let key_bytes = ensure_within("key bytes", key_len, limits.key_bytes_max)?;
            let value_bytes = ensure_within("value bytes", value_len, limits.value_bytes_max)?;
            charge_price(
                &mut caller,
                |s| s.costs.storage_write,
                key_bytes + value_bytes,
            )?;
            let key = read(&caller, "storage_set", key_ptr, key_len)?;
            let value = read(&caller, "storage_set", value_ptr, value_len)?;
            caller.data_mut().overlay.set(key, value);
            Ok(())
        },
    )?;
    linker.func_wrap(
        MODULE,
        "storage_remove",
        |mut caller: Ctx<'_>, ptr: i32, len: i32| {
            ensure_writable(&caller, "storage_remove")?;
            let key = read_key(
                &mut caller,
                "storage_remove",
                |s| s.costs.storage_remove,
                ptr,
                len,
            )?;
            caller.data_mut().overlay.remove(key);
            Ok(())
        },
    )?;
    linker.func_wrap(
        MODULE,
        "storage_iter",
        |mut caller: Ctx<'_>,
         start_ptr: i32,
         start_len: i32,
         end_ptr: i32,
         end_len: i32,
         flags: i32| {
            const FUNCTION: &str = "storage_iter";
            let Some(flags) = IterFlags::decode(flags) else {
                return Err(invalid(FUNCTION, "unknown flag bits"));
            };
            let state = caller.data();
            let open = state.iterators.iter().filter(|c| c.is_some()).count();
            let max = state.schedule.limits.iterators_max;
            if open >= max {
                return Err(stop(TrapKind::LimitExceeded {
                    what: "open iterators",
                    found: open as u64 + 1,
                    max: max as u64,
                }));
            }
            let key_max = state.schedule.limits.key_bytes_max;
            // A bound the flags say to ignore is neither checked nor charged nor read.
            let start_bytes = match flags.has_start {
                true => ensure_within("key bytes", start_len, key_max)?,
                false => 0,
            };
            let end_bytes = match flags.has_end {
                true => ensure_within("key bytes", end_len, key_max)?,
                false => 0,
            };
            charge_price(&mut caller, |s| s.costs.iter_open, start_bytes + end_bytes)?;
            let lower = match flags.has_start {
                true => Bound::Included(read(&caller, FUNCTION, start_ptr, start_len)?),
                false => Bound::Unbounded,
            };
            let upper = match flags.has_end {
                true => Bound::Excluded(read(&caller, FUNCTION, end_ptr, end_len)?),
                false => Bound::Unbounded,
            };
            let order = flags.order;
            let cursor = Some(Cursor {
                lower,
                upper,
                order,
            });
            let iterators = &mut caller.data_mut().iterators;
            // Reuse the lowest free slot: ids stay small and deterministic.
            let id = match iterators.iter().position(Option::is_none) {
                Some(free) => {
                    iterators[free] = cursor;
                    free
                }
                None => {
                    iterators.push(cursor);
                    iterators.len() - 1
                }
            };
            Ok(length(id))
        },
    )?;
    linker.func_wrap(MODULE, "storage_next", |mut caller: Ctx<'_>, id: i32| {
        // Each entry examined costs the base price, including entries hidden by this call's own
        // removals; the steps affordable are fixed before the lookups so none goes unpaid.
        let base = caller.data().schedule.costs.iter_next.base.max(1);
        let steps_max = match caller.data().metered {
            true => caller.get_fuel()? / base,
            false => u64::MAX,
        };
        let mut steps = 0u64;
        let state = caller.data_mut();
        let cursor = state
            .iterators
            .get_mut(id as u32 as usize)
            .and_then(Option::as_mut)
            .ok_or_else(|| invalid("storage_next", "no open iterator with this id"))?;
        let next = state.overlay.next(cursor, || {
            steps += 1;
            match steps > steps_max {
                true => Err(HostStop::OutOfFuel),
                false => Ok(()),
            }
        });
        let next = match next {
            Ok(next) => next,
            Err(HostStop::OutOfFuel) => {
                return Err(charge(&mut caller, u64::MAX)
                    .err()
                    .unwrap_or_else(|| stop(HostStop::OutOfFuel)))
            }
            Err(other) => return Err(stop(other)),
        };
        let Some((key, value)) = next else {
            state.key_buffer.clear();
            state.value_buffer = None;
            charge(&mut caller, base.saturating_mul(steps))?;
            return Ok(-1);
        };
        let per_byte = state.schedule.costs.iter_next.per_byte;
        let found = length(key.len());
        let bytes = (key.len() + value.len()) as u64;
        state.key_buffer = key;
        state.value_buffer = Some(value);
        let fuel = base
            .saturating_mul(steps)
            .saturating_add(per_byte.saturating_mul(bytes));
        charge(&mut caller, fuel)?;
        Ok(found)
    })?;
    linker.func_wrap(
        MODULE,
        "storage_iter_close",
        |mut caller: Ctx<'_>, id: i32| {
            charge_price(&mut caller, |s| s.costs.context_read, 0)?;
            let slot = caller
                .data_mut()
                .iterators
                .get_mut(id as u32 as usize)
                .filter(|slot| slot.is_some())
                .ok_or_else(|| invalid("storage_iter_close", "no open iterator with this id"))?;
            *slot = None;
            Ok(())
        },
    )?;
    linker.func_wrap(MODULE, "key_read", |mut caller: Ctx<'_>, ptr: i32| {
        let key = std::mem::take(&mut caller.data_mut().key_buffer);
        let result = charge_price(&mut caller, |s| s.costs.buffer_read, key.len() as u64)
            .and_then(|()| write(&mut caller, "key_read", ptr, &key));
        caller.data_mut().key_buffer = key;
        result
    })?;
    linker.func_wrap(MODULE, "value_len", |mut caller: Ctx<'_>| {
        charge_price(&mut caller, |s| s.costs.context_read, 0)?;
        Ok(caller
            .data()
            .value_buffer
            .as_ref()
            .map_or(-1, |v| length(v.len())))
    })?;
    linker.func_wrap(MODULE, "value_read", |mut caller: Ctx<'_>, ptr: i32| {
        let value = caller.data_mut().value_buffer.take().ok_or_else(|| {
            invalid(
                "value_read",
                "no value buffered (the last lookup found nothing)",
            )
        })?;
        let result = charge_price(&mut caller, |s| s.costs.buffer_read, value.len() as u64)
            .and_then(|()| write(&mut caller, "value_read", ptr, &value));
        caller.data_mut().value_buffer = Some(value);
        result
    })?;
    linker.func_wrap(
        MODULE,
        "emit_event",
        |mut caller: Ctx<'_>, topic_ptr: i32, topic_len: i32, data_ptr: i32, data_len: i32| {
            ensure_writable(&caller, "emit_event")?;
            let state = caller.data();
            let limits = &state.schedule.limits;
            if state.events.len() >= state.events_max {
                return Err(stop(TrapKind::LimitExceeded {
                    what: "events",
                    found: state.events.len() as u64 + 1,
                    max: state.events_max as u64,
                }));
            }
            let topic_bytes =
                ensure_within("event topic bytes", topic_len, limits.event_topic_bytes_max)?;
            let data_bytes =
                ensure_within("event data bytes", data_len, limits.event_data_bytes_max)?;
            charge_price(
                &mut caller,
                |s| s.costs.emit_event,
                topic_bytes + data_bytes,
            )?;
            let topic = read(&caller, "emit_event", topic_ptr, topic_len)?;
            let data = read(&caller, "emit_event", data_ptr, data_len)?;
            let contract = caller.data().context.contract;
            caller.data_mut().events.push(Event {
                contract,
                topic,
                data,
            });
            Ok(())
        },
    )?;
    crate::call::link(linker)?;
    link_hash::<Keccak256>(linker, "keccak256")?;
    link_hash::<Sha3_256>(linker, "sha3_256")?;
    linker.func_wrap(
        MODULE,
        "secp256k1_verify",
        |mut caller: Ctx<'_>, hash_ptr: i32, sig_ptr: i32, key_ptr: i32, key_len: i32| {
            const FUNCTION: &str = "secp256k1_verify";
            if key_len != 33 && key_len != 65 {
                return Err(invalid(
                    FUNCTION,
                    "public key must be 33 (compressed) or 65 bytes",
                ));
            }
            charge_price(&mut caller, |s| s.costs.secp256k1_verify, 0)?;
            let hash = read(&caller, FUNCTION, hash_ptr, 32)?;
            let signature = read(&caller, FUNCTION, sig_ptr, 64)?;
            let key = read(&caller, FUNCTION, key_ptr, key_len)?;
            Ok(i32::from(vellum_abi::verify_secp256k1(
                &hash, &signature, &key,
            )))
        },
    )?;
    Ok(())
}

/// Define hash function `name`: `(ptr, len, out_ptr)`, writing the 32-byte digest of the input.
fn link_hash<D: Digest>(
    linker: &mut Linker<CallState>,
    name: &'static str,
) -> wasmtime::Result<()> {
    linker.func_wrap(
        MODULE,
        name,
        move |mut caller: Ctx<'_>, ptr: i32, len: i32, out: i32| {
            charge_price(&mut caller, |s| s.costs.hash, u64::from(len as u32))?;
            let digest = D::digest(read(&caller, name, ptr, len)?);
            write(&mut caller, name, out, &digest)
        },
    )?;
    Ok(())
}

//! The schedule: every limit and every fuel cost that consensus depends on, in one versioned place.
//!
//! Two nodes agree on a call's outcome only if they agree on this table. A change to any value is a
//! protocol change: it gets a new [`Schedule::version`], and the ledger records which version
//! executed each block. Nothing else in the runtime hard-codes a limit or a price.
//!
//! Fuel is wasmtime's unit: one unit per executed wasm operator (a few operators, such as `nop` and
//! `block`, are free). Host functions charge `base + per_byte * bytes` before doing any work, so a
//! call that cannot pay is stopped before the host spends effort on it. Prices are calibrated so that
//! one unit is roughly one nanosecond of host time on a 2020s x86-64 core; writes are priced well
//! above reads because they persist and grow every node's state forever.

/// A host function's price: a fixed part plus a part proportional to the bytes it touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Price {
    /// Charged once per call.
    pub base: u64,
    /// Charged per byte read from or written to guest memory or storage.
    pub per_byte: u64,
}

impl Price {
    const fn new(base: u64, per_byte: u64) -> Self {
        Self { base, per_byte }
    }

    /// The fuel for a call touching `bytes` bytes, saturating rather than overflowing so that a
    /// huge length is simply unaffordable.
    pub fn of(&self, bytes: u64) -> u64 {
        self.base
            .saturating_add(self.per_byte.saturating_mul(bytes))
    }
}

/// Fuel charged by each host function of ABI v2 (see `docs/abi.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuelCosts {
    /// `input_len`, `caller`, `contract_address`, `block_height`, `block_time`, `value_len`.
    pub context_read: Price,
    /// `input_read`: per byte of input copied into guest memory.
    pub input_read: Price,
    /// `set_return`: per byte of return data.
    pub set_return: Price,
    /// `storage_get` and `storage_has`: per byte of key and of value read (the value's part is
    /// charged after the lookup, when its size is known; it is bounded by `value_bytes_max`).
    pub storage_read: Price,
    /// `storage_set`: per byte of key and value written.
    pub storage_write: Price,
    /// `storage_remove`: per byte of key.
    pub storage_remove: Price,
    /// `storage_iter`: per byte of the two bounds.
    pub iter_open: Price,
    /// `storage_next`: the base once per entry examined (including entries hidden by the call's
    /// own removals), plus per byte of the key and value it yields.
    pub iter_next: Price,
    /// `key_read` and `value_read`: per byte copied into guest memory.
    pub buffer_read: Price,
    /// `emit_event`: per byte of topic and data.
    pub emit_event: Price,
    /// `keccak256` and `sha3_256`: per byte hashed.
    pub hash: Price,
    /// `secp256k1_verify`: flat; the work does not depend on guest input size.
    pub secp256k1_verify: Price,
    /// `debug_log`: charged whether or not the node records logs, so fuel stays deterministic.
    pub debug_log: Price,
    /// `abort`: per byte of message.
    pub abort: Price,
    /// `call` (ABI v2): per byte of address, entry point name and input, charged before the
    /// callee runs (instantiating it, on a thread of its own); the callee's fuel is charged
    /// after, as it used it.
    pub call: Price,
}

/// Resource limits enforced at validation (deploy) and at execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted wasm module.
    pub code_size_bytes_max: usize,
    /// Defined plus imported functions.
    pub functions_max: u32,
    /// Parameters plus declared locals of one function.
    pub function_locals_max: u32,
    /// Largest function body.
    pub function_body_bytes_max: usize,
    /// Defined plus imported globals.
    pub globals_max: u32,
    /// Tables, each of at most `table_elements_max` elements.
    pub tables_max: u32,
    /// Elements of one table, initial and after growth.
    pub table_elements_max: u64,
    /// Data segments.
    pub data_segments_max: u32,
    /// Element segments.
    pub element_segments_max: u32,
    /// Exports.
    pub exports_max: u32,
    /// Types in the type section.
    pub types_max: u32,
    /// Linear memory, initial and after growth, in 64 KiB pages.
    pub memory_pages_max: u64,
    /// Extra fuel per 64 KiB page requested by `memory.grow`, on top of the operator's flat cost
    /// (wasmtime stores it as a `u8`), so that growing memory is never cheaper than touching it.
    pub memory_grow_fuel_per_page: u8,
    /// Deterministic stack budget in abstract slots (see `instrument`): each call charges the callee's
    /// frame (fixed overhead + params + locals + peak operand stack) against it.
    pub stack_slots_max: u32,
    /// Return data of one call.
    pub return_bytes_max: usize,
    /// Storage key length.
    pub key_bytes_max: usize,
    /// Storage value length.
    pub value_bytes_max: usize,
    /// Events emitted by one call.
    pub events_max: usize,
    /// Topic length of one event.
    pub event_topic_bytes_max: usize,
    /// Data length of one event.
    pub event_data_bytes_max: usize,
    /// Iterators open at once in one call.
    pub iterators_max: usize,
    /// Abort message length; longer messages are truncated, not rejected.
    pub abort_message_bytes_max: usize,
    /// Debug log lines kept per call (the rest are dropped; they are not consensus).
    pub debug_lines_max: usize,
    /// Bytes kept of one debug log line.
    pub debug_line_bytes_max: usize,
    /// How deep cross-contract calls nest: the entry point is at depth 0 and a `call` from depth
    /// `d` runs at `d + 1`; one deeper answers `DepthExceeded`. 0 disables `call`.
    pub call_depth_max: u32,
    /// Input of one cross-contract call.
    pub call_input_bytes_max: usize,
    /// Entry point name of one cross-contract call.
    pub call_entry_point_bytes_max: usize,
}

/// A complete, versioned execution schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Bumped on any change to a value below; recorded by the ledger per block.
    pub version: u32,
    /// Validation and execution limits.
    pub limits: Limits,
    /// Host function prices.
    pub costs: FuelCosts,
}

impl Schedule {
    /// Schedule v2, the one every Vellum node runs today: v1 with cross-contract calls.
    pub fn v2() -> Self {
        let mut schedule = Self::v1();
        schedule.version = 2;
        schedule.limits.call_depth_max = vellum_abi::CALL_DEPTH_MAX;
        schedule
    }

    /// Schedule v1: ABI v1, without cross-contract calls (validation refuses a module importing
    /// `call`).
    pub fn v1() -> Self {
        Self {
            version: 1,
            limits: Limits {
                code_size_bytes_max: 2 * 1024 * 1024,
                functions_max: 10_000,
                function_locals_max: 1_024,
                function_body_bytes_max: 256 * 1024,
                globals_max: 256,
                tables_max: 1,
                table_elements_max: 4_096,
                data_segments_max: 1_024,
                element_segments_max: 256,
                exports_max: 256,
                types_max: 1_024,
                memory_pages_max: 256, // 16 MiB
                memory_grow_fuel_per_page: 255,
                stack_slots_max: 64 * 1024,
                return_bytes_max: 1024 * 1024,
                key_bytes_max: 1_024,
                value_bytes_max: 256 * 1024,
                events_max: 1_024,
                event_topic_bytes_max: 256,
                event_data_bytes_max: 64 * 1024,
                iterators_max: 16,
                abort_message_bytes_max: 1_024,
                debug_lines_max: 64,
                debug_line_bytes_max: 1_024,
                call_depth_max: 0,
                call_input_bytes_max: 256 * 1024,
                call_entry_point_bytes_max: 128,
            },
            costs: FuelCosts {
                context_read: Price::new(20, 0),
                input_read: Price::new(50, 1),
                set_return: Price::new(50, 1),
                storage_read: Price::new(2_000, 2),
                storage_write: Price::new(10_000, 30),
                storage_remove: Price::new(5_000, 2),
                iter_open: Price::new(2_000, 2),
                iter_next: Price::new(1_000, 2),
                buffer_read: Price::new(20, 1),
                emit_event: Price::new(1_000, 10),
                hash: Price::new(300, 4),
                secp256k1_verify: Price::new(100_000, 0),
                debug_log: Price::new(200, 1),
                abort: Price::new(50, 1),
                call: Price::new(100_000, 1),
            },
        }
    }
}

impl Default for Schedule {
    fn default() -> Self {
        Self::v2()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_saturates_instead_of_overflowing() {
        let price = Price::new(10, u64::MAX / 2);
        assert_eq!(price.of(4), u64::MAX);
        assert_eq!(price.of(0), 10);
    }

    #[test]
    fn writes_cost_more_than_reads() {
        let costs = Schedule::v1().costs;
        for bytes in [0, 32, 1024] {
            assert!(costs.storage_write.of(bytes) > costs.storage_read.of(bytes));
        }
    }
}

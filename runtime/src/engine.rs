//! The wasmtime engine, configured for consensus.
//!
//! Every property that could change a call's result, its fuel or whether it succeeds is set here
//! explicitly, so that an upgrade of wasmtime's defaults cannot silently fork the network:
//!
//! - **Features**: WebAssembly 2.0 without SIMD (`mutable-global`, `sign-extension`,
//!   `saturating-float-to-int`, `multi-value`, `bulk-memory`, `reference-types` for `funcref`
//!   only). Threads, SIMD and
//!   relaxed SIMD, memory64, multi-memory, tail calls, GC, exceptions and the component model are
//!   off; a module using them fails validation. Rust's `wasm32-unknown-unknown` output fits this set.
//! - **Floats** are allowed and made deterministic with NaN canonicalization: the only
//!   nondeterminism left in scalar float arithmetic is the bit pattern of a NaN result, and
//!   canonicalization fixes it. Rejecting floats instead would reject most real Rust contracts
//!   (`serde_json`, `core::fmt` pull in float code), which is why CosmWasm also moved to
//!   canonicalization.
//! - **Fuel** is on, with the operator cost table pinned (including the per-byte costs of
//!   `memory.fill`/`memory.copy` and a per-page cost for `memory.grow`). Epoch interruption is off:
//!   it depends on wall-clock time.
//! - **Stack**: a deterministic stack budget is enforced by instrumentation (see `instrument`);
//!   wasmtime's native `max_wasm_stack` is set well above it as a backstop that honest budgets never
//!   reach.
//! - **Memory**: the pooling allocator with instance pre-instantiation keeps instantiation in the
//!   microseconds; every memory and table is bounded by the schedule. Between calls a slot is
//!   made pristine again by resetting only the pages the call wrote ([`MemoryReset`]).

use crate::schedule::Schedule;
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, OperatorCost, OptLevel,
    PoolingAllocationConfig, WasmFeatures,
};

/// The WebAssembly features a contract may use. Validation and compilation use the same set.
/// `externref` (wasmparser's `GC_TYPES`) is excluded: contracts hold no host references, and it
/// would require wasmtime's garbage collector.
pub const FEATURES: WasmFeatures = WasmFeatures::WASM1
    .difference(WasmFeatures::GC_TYPES)
    .union(WasmFeatures::BULK_MEMORY)
    .union(WasmFeatures::REFERENCE_TYPES)
    .union(WasmFeatures::SIGN_EXTENSION)
    .union(WasmFeatures::SATURATING_FLOAT_TO_INT)
    .union(WasmFeatures::MULTI_VALUE);

/// Native stack wasmtime lets wasm use before it traps. The deterministic budget
/// ([`crate::Limits::stack_slots_max`]) at 8 bytes per slot is 512 KiB; the backstop is twice that,
/// so ordinary frames hit the budget first. (A frame whose compiled size far exceeds its slot
/// count, e.g. after Cranelift hoists many loop invariants, can reach the backstop first; that
/// trap is deterministic on one CPU architecture, which is why a network pins one. See
/// `docs/abi.md`.) Callers must run contracts on a thread with at least [`HOST_STACK_BYTES_MIN`]
/// of stack.
pub const NATIVE_STACK_BYTES_MAX: usize = 1024 * 1024;

/// The smallest thread stack on which the runtime may execute a contract: the wasm backstop plus
/// room for the host functions it calls. Equal to Rust's default for spawned threads, so any
/// ordinary thread qualifies; the main thread has 8 MiB.
pub const HOST_STACK_BYTES_MIN: usize = 2 * 1024 * 1024;

/// Whether a runtime charges fuel.
///
/// Consensus always meters. [`Metering::Off`] exists only so benchmarks can measure what metering
/// costs; a node never builds an unmetered engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metering {
    /// Fuel is charged and enforced (consensus).
    On,
    /// No fuel is charged: for measuring metering overhead only.
    Off,
}

/// How a pooled memory slot is made pristine again after a call. Only speed differs: either way
/// the next call sees exactly the memory its module declares, zeros and data segments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemoryReset {
    /// Ask Linux (6.7 and later, `PAGEMAP_SCAN`) which pages the call wrote and reset only those;
    /// where the kernel cannot tell, behave as [`MemoryReset::Memset`].
    #[default]
    DirtyPages,
    /// Reset the slot's first MiB with `memset` whether the call wrote it or not: a Rust
    /// contract's memory starts with a 1 MiB stack, so this rewrites a MiB per call.
    Memset,
}

/// How many contract instances may be live at once in one runtime (the pooling allocator's slots).
pub const CONCURRENT_INSTANCES_MAX: u32 = 64;

/// The x86-64 features contracts are compiled for: x86-64-v2 (SSE3 to SSE4.2, POPCNT,
/// CMPXCHG16B) and none of what a host may have beyond it (AVX, FMA, BMI, LZCNT, AVX-512).
/// Left to itself Cranelift uses every feature the host CPU reports, so validators on
/// different CPUs would compile the same contract to different machine code (frame sizes
/// included, which the native stack backstop sees). Every flag of Cranelift's x86 group is
/// named, so none is inferred. A host without the x86-64-v2 features cannot build the engine;
/// wasmtime says which feature is missing.
#[cfg(target_arch = "x86_64")]
pub const X86_64_FEATURES: [(&str, bool); 19] = [
    ("has_sse3", true),
    ("has_ssse3", true),
    ("has_cmpxchg16b", true),
    ("has_sse41", true),
    ("has_sse42", true),
    ("has_popcnt", true),
    ("has_avx", false),
    ("has_avx2", false),
    ("has_fma", false),
    ("has_avx_vnni", false),
    ("has_avx512bitalg", false),
    ("has_avx512dq", false),
    ("has_avx512vl", false),
    ("has_avx512vbmi", false),
    ("has_avx512f", false),
    ("has_avx512vnni", false),
    ("has_bmi1", false),
    ("has_bmi2", false),
    ("has_lzcnt", false),
];

/// Build the engine for a schedule.
pub fn build(
    schedule: &Schedule,
    metering: Metering,
    reset: MemoryReset,
) -> wasmtime::Result<Engine> {
    Engine::new(&config(schedule, metering, reset))
}

/// The configuration [`build`] builds the engine from.
pub fn config(schedule: &Schedule, metering: Metering, reset: MemoryReset) -> Config {
    let limits = &schedule.limits;
    let memory_bytes_max = limits.memory_pages_max * 64 * 1024;

    let mut config = Config::new();
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    for (flag, enabled) in X86_64_FEATURES {
        // SAFETY: wasmtime checks every enabled ISA flag against the host when the engine is
        // built and refuses one the host lacks; disabling a feature is always sound.
        unsafe {
            config.cranelift_flag_set(flag, if enabled { "true" } else { "false" });
        }
    }
    config.wasm_features(WasmFeatures::all(), false);
    config.wasm_features(FEATURES, true);
    config.cranelift_nan_canonicalization(true);
    config.cranelift_opt_level(OptLevel::Speed);
    config.consume_fuel(metering == Metering::On);
    let mut costs = OperatorCost::new();
    costs.variable.memory_grow_per_page = limits.memory_grow_fuel_per_page;
    config.operator_cost(costs);
    config.epoch_interruption(false);
    config.max_wasm_stack(NATIVE_STACK_BYTES_MAX);
    config.parallel_compilation(true);
    config.debug_info(false);
    config.wasm_backtrace_max_frames(None);
    // Memory never moves and its bounds checks are elided by a 4 GiB reservation plus guard; these
    // change speed, never semantics.
    config.memory_reservation(1 << 32);
    config.memory_guard_size(64 * 1024);
    config.memory_may_move(false);

    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(CONCURRENT_INSTANCES_MAX);
    pool.total_memories(CONCURRENT_INSTANCES_MAX);
    pool.total_tables(CONCURRENT_INSTANCES_MAX);
    pool.max_memories_per_module(1);
    pool.max_tables_per_module(limits.tables_max);
    pool.table_elements(usize::try_from(limits.table_elements_max).unwrap_or(usize::MAX));
    pool.max_memory_size(usize::try_from(memory_bytes_max).unwrap_or(usize::MAX));
    // Keep the first pages of each slot resident between calls: re-zeroing them with memset is
    // cheaper than another page-fault storm (the figure behind the ~6 us instantiate+call).
    pool.linear_memory_keep_resident(1024 * 1024);
    pool.table_keep_resident(64 * 1024);
    pool.pagemap_scan(match reset {
        MemoryReset::DirtyPages => Enabled::Auto,
        MemoryReset::Memset => Enabled::No,
    });
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

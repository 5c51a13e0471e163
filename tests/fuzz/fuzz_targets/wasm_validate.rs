//! Contract code (what a deploy carries): validation never panics, and whatever it accepts
//! compiles and instruments without a runtime defect.
//!
//! Input: a module's bytes as they are (when they start with the wasm magic, as the committed
//! contracts that seed the corpus do), or else the seed from which wasm-smith builds a valid
//! module of the features Vellum admits, exporting `memory` and `instantiate`, so that the
//! fuzzer reaches past the parser into instrumentation and compilation.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use vellum_runtime::{PrepareError, Runtime, RuntimeConfig};

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new(RuntimeConfig::default()).expect("runtime"))
}

/// A module wasm-smith builds from `seed`.
fn smith(seed: &[u8]) -> arbitrary::Result<Vec<u8>> {
    static EXPORTS: OnceLock<Vec<u8>> = OnceLock::new();
    let exports = EXPORTS.get_or_init(|| {
        wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "instantiate")))"#)
            .expect("valid wat")
    });
    let config = wasm_smith::Config {
        exports: Some(exports.clone()),
        max_imports: 0,
        min_memories: 1,
        max_memories: 1,
        max_memory32_bytes: 64 << 16,
        memory64_enabled: false,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        tail_call_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        sign_extension_ops_enabled: true,
        saturating_float_to_int_enabled: true,
        multi_value_enabled: true,
        allow_start_export: false,
        max_funcs: 64,
        max_instructions: 2_000,
        ..wasm_smith::Config::default()
    };
    let module = wasm_smith::Module::new(config, &mut Unstructured::new(seed))?;
    Ok(module.to_bytes())
}

fuzz_target!(|data: &[u8]| {
    let code = if data.starts_with(b"\0asm") {
        data.to_vec()
    } else {
        match smith(data) {
            Ok(code) => code,
            Err(_) => return,
        }
    };
    match runtime().prepare(&code) {
        Ok(_) | Err(PrepareError::Invalid(_)) => {}
        Err(defect) => panic!("valid code failed to prepare: {defect}"),
    }
});

//! Cross-crate and multi-process tests for Vellum live in `tests/`; this library holds what they
//! share: where the committed contract artifacts are, and how to read one's interface. The
//! ledger's test network (`vellum_ledger::testing`) drives the crash test's writer process.

use std::path::PathBuf;

/// The committed wasm artifact of contract `name` (`points`, `ballot`, `notary`, `trace`).
pub fn artifact(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../contracts/artifacts")
        .join(format!("{name}.wasm"))
}

/// The bytes of custom section `section` in `wasm`, if present.
pub fn custom_section(wasm: &[u8], section: &str) -> Option<Vec<u8>> {
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .filter_map(Result::ok)
        .find_map(|payload| match payload {
            wasmparser::Payload::CustomSection(reader) if reader.name() == section => {
                Some(reader.data().to_vec())
            }
            _ => None,
        })
}

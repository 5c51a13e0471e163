//! Contract code from arbitrary bytes (what a deploy carries): validation never panics, and
//! whatever it accepts compiles and instruments without a runtime defect.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use vellum_runtime::{PrepareError, Runtime, RuntimeConfig};

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new(RuntimeConfig::default()).expect("runtime"))
}

fuzz_target!(|data: &[u8]| {
    match runtime().prepare(data) {
        Ok(_) | Err(PrepareError::Invalid(_)) => {}
        Err(defect) => panic!("valid code failed to prepare: {defect}"),
    }
});

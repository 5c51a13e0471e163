//! A seal (round context and finalization certificate) from arbitrary bytes, as a node reads
//! its own store or, later, a client receives it: decoding never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vellum_consensus::seal::Seal;

fuzz_target!(|data: &[u8]| {
    let _ = Seal::decode(data);
});

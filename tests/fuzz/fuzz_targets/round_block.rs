//! A consensus block from arbitrary bytes (what a peer sends on the block and backfill
//! channels): decoding never panics, and what decodes re-encodes to the same bytes.
#![no_main]

use commonware_codec::{Decode, Encode};
use libfuzzer_sys::fuzz_target;
use vellum_consensus::block::RoundBlock;

fuzz_target!(|data: &[u8]| {
    if let Ok(block) = RoundBlock::decode_cfg(data.to_vec(), &()) {
        assert_eq!(
            block.encode().as_ref(),
            data,
            "a non-canonical block decoded"
        );
    }
});

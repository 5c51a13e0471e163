//! A signed transaction from arbitrary bytes (what JSON-RPC and gossip receive): decoding never
//! panics, and a transaction decodes only from its one canonical encoding, so its hash (its
//! identity for replay protection) cannot be varied by re-encoding it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vellum_types::SignedTransaction;

fuzz_target!(|data: &[u8]| {
    if let Ok(transaction) = SignedTransaction::decode(data) {
        assert_eq!(
            transaction.encode(),
            data,
            "a non-canonical encoding decoded"
        );
        let _ = transaction.verify_signature();
        let _ = transaction.sender();
    }
});

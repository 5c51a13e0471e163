//! Storage layers against a model: committed state under a pending block's overlay under a
//! block's overlay, driven by arbitrary writes, removals and lookups in both orders, must
//! answer every lookup as one merged `BTreeMap` does (the overlays remember hidden runs of
//! keys, which is where a bug would hide).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::{collections::BTreeMap, ops::Bound, sync::Arc};
use vellum_runtime::{MemoryStorage, Order, Overlay, Storage, Write};

/// A key from a byte: a small alphabet, so collisions and neighbours are common.
fn key(byte: u8) -> Vec<u8> {
    vec![byte % 4, (byte / 4) % 4]
}

/// Apply `ops` (three bytes each: what, and two arguments) to `layer` and `model`, checking
/// every lookup.
fn drive(layer: &mut Overlay, model: &mut BTreeMap<Vec<u8>, Vec<u8>>, ops: &[u8]) {
    for chunk in ops.chunks_exact(3) {
        let (op, a, b) = (chunk[0], chunk[1], chunk[2]);
        match op % 4 {
            0 => {
                layer.set(key(a), vec![b]);
                model.insert(key(a), vec![b]);
            }
            1 => {
                layer.remove(key(a));
                model.remove(&key(a));
            }
            _ => {
                let order = if op % 4 == 2 {
                    Order::Ascending
                } else {
                    Order::Descending
                };
                let (lower, upper) = (key(a), key(b));
                let bounds = (
                    Bound::Included(lower.as_slice()),
                    Bound::Excluded(upper.as_slice()),
                );
                let found = layer
                    .first(bounds.0, bounds.1, order)
                    .expect("memory storage");
                let expected = if lower >= upper {
                    None
                } else {
                    let mut range = model.range::<[u8], _>(bounds);
                    match order {
                        Order::Ascending => range.next(),
                        Order::Descending => range.next_back(),
                    }
                    .map(|(k, v)| (k.clone(), v.clone()))
                };
                assert_eq!(found, expected);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (committed, ops) = data.split_at(data.len().min(8));
    let mut model = BTreeMap::new();
    let writes: Vec<Write> = committed
        .iter()
        .map(|&b| Write {
            key: key(b),
            value: Some(vec![b]),
        })
        .collect();
    let mut base = MemoryStorage::new();
    base.apply(&writes);
    for write in writes {
        model.insert(write.key, write.value.unwrap_or_default());
    }
    let (below, above) = ops.split_at(ops.len() / 2 / 3 * 3);
    let mut pending = Overlay::new(Arc::new(base));
    drive(&mut pending, &mut model, below);
    let mut block = Overlay::new(Arc::new(pending));
    drive(&mut block, &mut model, above);
});

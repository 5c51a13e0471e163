//! Property: any sequence of storage operations, issued by a contract through the ABI across
//! several calls (some of which abort), leaves storage and returns results exactly as a `BTreeMap`
//! model predicts, including ordered range iteration over committed and buffered keys.

use super::*;
use proptest::prelude::*;
use std::{collections::BTreeMap, ops::Bound, sync::Arc, sync::OnceLock};
use vellum_runtime::{Contract, MemoryStorage, Mode, Outcome, Runtime};

/// A contract that interprets its input as a list of storage operations (see `Op::encode`) and
/// returns what each read observed.
const MACHINE: &str = r#"(module
  (import "vellum" "input_len" (func $input_len (result i32)))
  (import "vellum" "input_read" (func $input_read (param i32)))
  (import "vellum" "set_return" (func $set_return (param i32 i32)))
  (import "vellum" "abort" (func $abort (param i32 i32 i32)))
  (import "vellum" "storage_get" (func $get (param i32 i32) (result i32)))
  (import "vellum" "storage_has" (func $has (param i32 i32) (result i32)))
  (import "vellum" "storage_set" (func $set (param i32 i32 i32 i32)))
  (import "vellum" "storage_remove" (func $remove (param i32 i32)))
  (import "vellum" "storage_iter" (func $iter (param i32 i32 i32 i32 i32) (result i32)))
  (import "vellum" "storage_next" (func $next (param i32) (result i32)))
  (import "vellum" "storage_iter_close" (func $close (param i32)))
  (import "vellum" "key_read" (func $key_read (param i32)))
  (import "vellum" "value_len" (func $value_len (result i32)))
  (import "vellum" "value_read" (func $value_read (param i32)))
  (memory (export "memory") 3)
  (global $out (mut i32) (i32.const 65536))
  (func (export "instantiate"))
  (func $emit (param $b i32)
    (i32.store8 (global.get $out) (local.get $b))
    (global.set $out (i32.add (global.get $out) (i32.const 1))))
  (func $emit_value (param $len i32)
    (call $emit (local.get $len))
    (call $value_read (global.get $out))
    (global.set $out (i32.add (global.get $out) (local.get $len))))
  (func $emit_key (param $len i32)
    (call $emit (local.get $len))
    (call $key_read (global.get $out))
    (global.set $out (i32.add (global.get $out) (local.get $len))))
  (func (export "run")
    (local $p i32) (local $end i32) (local $op i32) (local $klen i32) (local $kptr i32)
    (local $vlen i32) (local $vptr i32) (local $flags i32) (local $cursor i32)
    (local $limit i32) (local $n i32)
    (local.set $end (call $input_len))
    (call $input_read (i32.const 0))
    (block $done
      (loop $ops
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $op (i32.load8_u (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (if (i32.eq (local.get $op) (i32.const 6))
          (then (call $abort (i32.const 7) (i32.const 0) (i32.const 0))))
        (if (i32.eq (local.get $op) (i32.const 5))
          (then
            (local.set $flags (i32.load8_u (local.get $p)))
            (local.set $klen (i32.load8_u (i32.add (local.get $p) (i32.const 1))))
            (local.set $kptr (i32.add (local.get $p) (i32.const 2)))
            (local.set $p (i32.add (local.get $kptr) (local.get $klen)))
            (local.set $vlen (i32.load8_u (local.get $p)))
            (local.set $vptr (i32.add (local.get $p) (i32.const 1)))
            (local.set $p (i32.add (local.get $vptr) (local.get $vlen)))
            (local.set $limit (i32.load8_u (local.get $p)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (local.set $cursor (call $iter (local.get $kptr) (local.get $klen)
                                           (local.get $vptr) (local.get $vlen) (local.get $flags)))
            (local.set $n (i32.const 0))
            (block $stop
              (loop $entries
                (br_if $stop (i32.ge_u (local.get $n) (local.get $limit)))
                (local.set $klen (call $next (local.get $cursor)))
                (br_if $stop (i32.lt_s (local.get $klen) (i32.const 0)))
                (call $emit_key (local.get $klen))
                (call $emit_value (call $value_len))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))
                (br $entries)))
            (call $emit (i32.const 255))
            (call $close (local.get $cursor))
            (br $ops)))
        (local.set $klen (i32.load8_u (local.get $p)))
        (local.set $kptr (i32.add (local.get $p) (i32.const 1)))
        (local.set $p (i32.add (local.get $kptr) (local.get $klen)))
        (if (i32.eq (local.get $op) (i32.const 1))
          (then
            (local.set $vlen (i32.load8_u (local.get $p)))
            (local.set $vptr (i32.add (local.get $p) (i32.const 1)))
            (local.set $p (i32.add (local.get $vptr) (local.get $vlen)))
            (call $set (local.get $kptr) (local.get $klen) (local.get $vptr) (local.get $vlen))))
        (if (i32.eq (local.get $op) (i32.const 2))
          (then (call $remove (local.get $kptr) (local.get $klen))))
        (if (i32.eq (local.get $op) (i32.const 3))
          (then
            (local.set $vlen (call $get (local.get $kptr) (local.get $klen)))
            (if (i32.lt_s (local.get $vlen) (i32.const 0))
              (then (call $emit (i32.const 255)))
              (else (call $emit_value (local.get $vlen))))))
        (if (i32.eq (local.get $op) (i32.const 4))
          (then (call $emit (call $has (local.get $kptr) (local.get $klen)))))
        (br $ops)))
    (call $set_return (i32.const 65536) (i32.sub (global.get $out) (i32.const 65536)))))"#;

#[derive(Clone, Debug)]
enum Op {
    Set(Vec<u8>, Vec<u8>),
    Remove(Vec<u8>),
    Get(Vec<u8>),
    Has(Vec<u8>),
    Range {
        flags: u8,
        start: Vec<u8>,
        end: Vec<u8>,
        limit: u8,
    },
    Abort,
}

impl Op {
    fn encode(&self, out: &mut Vec<u8>) {
        let key = |out: &mut Vec<u8>, k: &[u8]| {
            out.push(k.len() as u8);
            out.extend(k);
        };
        match self {
            Op::Set(k, v) => {
                out.push(1);
                key(out, k);
                key(out, v);
            }
            Op::Remove(k) => {
                out.push(2);
                key(out, k);
            }
            Op::Get(k) => {
                out.push(3);
                key(out, k);
            }
            Op::Has(k) => {
                out.push(4);
                key(out, k);
            }
            Op::Range {
                flags,
                start,
                end,
                limit,
            } => {
                out.extend([5, *flags]);
                key(out, start);
                key(out, end);
                out.push(*limit);
            }
            Op::Abort => out.push(6),
        }
    }

    /// Apply to the model, appending what the contract should return.
    fn apply(&self, model: &mut BTreeMap<Vec<u8>, Vec<u8>>, out: &mut Vec<u8>) {
        match self {
            Op::Set(k, v) => {
                model.insert(k.clone(), v.clone());
            }
            Op::Remove(k) => {
                model.remove(k);
            }
            Op::Get(k) => match model.get(k) {
                Some(v) => {
                    out.push(v.len() as u8);
                    out.extend(v);
                }
                None => out.push(255),
            },
            Op::Has(k) => out.push(u8::from(model.contains_key(k))),
            Op::Range {
                flags,
                start,
                end,
                limit,
            } => {
                let lower = if flags & 2 != 0 {
                    Bound::Unbounded
                } else {
                    Bound::Included(start.clone())
                };
                let upper = if flags & 4 != 0 {
                    Bound::Unbounded
                } else {
                    Bound::Excluded(end.clone())
                };
                let empty = match (&lower, &upper) {
                    (Bound::Included(l), Bound::Excluded(u)) => l >= u,
                    _ => false,
                };
                let mut entries: Vec<_> = if empty {
                    Vec::new()
                } else {
                    model.range((lower, upper)).collect()
                };
                if flags & 1 != 0 {
                    entries.reverse();
                }
                for (k, v) in entries.into_iter().take(*limit as usize) {
                    out.push(k.len() as u8);
                    out.extend(k);
                    out.push(v.len() as u8);
                    out.extend(v);
                }
                out.push(255);
            }
            Op::Abort => {}
        }
    }
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    // A small alphabet makes collisions, prefixes and boundary keys common.
    prop::collection::vec(prop::sample::select(vec![0u8, 1, 2, 0x7f, 0xff]), 0..4)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (key(), prop::collection::vec(any::<u8>(), 0..6)).prop_map(|(k, v)| Op::Set(k, v)),
        2 => key().prop_map(Op::Remove),
        2 => key().prop_map(Op::Get),
        1 => key().prop_map(Op::Has),
        2 => (0u8..8, key(), key(), 0u8..12)
            .prop_map(|(flags, start, end, limit)| Op::Range { flags, start, end, limit }),
        1 => Just(Op::Abort),
    ]
}

fn machine() -> &'static (Runtime, Arc<Contract>) {
    static MACHINE_CONTRACT: OnceLock<(Runtime, Arc<Contract>)> = OnceLock::new();
    MACHINE_CONTRACT.get_or_init(|| {
        let rt = runtime();
        let contract = prepare(&rt, MACHINE);
        (rt, contract)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn storage_through_the_abi_matches_a_btreemap(
        calls in prop::collection::vec(prop::collection::vec(op(), 1..24), 1..6)
    ) {
        let (rt, contract) = machine();
        let mut storage = MemoryStorage::new();
        let mut model = BTreeMap::new();
        for ops in calls {
            let mut input = Vec::new();
            let mut pending = model.clone();
            let mut expected = Vec::new();
            let mut aborted = false;
            for op in &ops {
                op.encode(&mut input);
                if matches!(op, Op::Abort) {
                    aborted = true;
                    break;
                }
                op.apply(&mut pending, &mut expected);
            }
            // Ops after an abort are encoded but never run.
            for op in ops.iter().skip_while(|op| !matches!(op, Op::Abort)).skip(1) {
                op.encode(&mut input);
            }
            let run = call_with(rt, contract, "run", &input, FUEL, Mode::Transaction, Arc::new(storage.clone()));
            if aborted {
                prop_assert!(matches!(run.outcome, Outcome::ContractError { code: 7, .. }), "{:?}", run.outcome);
                prop_assert!(run.writes.is_empty());
            } else {
                prop_assert_eq!(run.outcome, Outcome::Success(expected));
                storage.apply(&run.writes);
                model = pending;
            }
            prop_assert_eq!(storage.entries(), &model);
        }
    }
}

/// What a host does to a layer of storage: write, remove, or look up the first live entry of a
/// range in either order.
#[derive(Clone, Debug)]
enum LayerOp {
    Set(Vec<u8>, Vec<u8>),
    Remove(Vec<u8>),
    First(Vec<u8>, Vec<u8>, bool, bool),
}

fn layer_op() -> impl Strategy<Value = LayerOp> {
    prop_oneof![
        2 => (key(), prop::collection::vec(any::<u8>(), 0..3)).prop_map(|(k, v)| LayerOp::Set(k, v)),
        4 => key().prop_map(LayerOp::Remove),
        4 => (key(), key(), any::<bool>(), any::<bool>())
            .prop_map(|(a, b, unbounded, descending)| LayerOp::First(a, b, unbounded, descending)),
    ]
}

/// The first entry of `model` in the range, as the reference.
fn model_first(
    model: &BTreeMap<Vec<u8>, Vec<u8>>,
    (lower, upper): (Bound<&[u8]>, Bound<&[u8]>),
    descending: bool,
) -> Option<(Vec<u8>, Vec<u8>)> {
    if vellum_runtime::storage::is_empty_range(&lower, &upper) {
        return None;
    }
    let mut range = model.range::<[u8], _>((lower, upper));
    let entry = if descending {
        range.next_back()
    } else {
        range.next()
    };
    entry.map(|(k, v)| (k.clone(), v.clone()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    /// Two overlays stacked on committed state (a block over a pending block, as the ledger
    /// runs them), written and read in any interleaving, answer every lookup as a merged
    /// `BTreeMap` does, however their removals hide the layers below.
    #[test]
    fn stacked_overlays_match_a_btreemap(
        committed in prop::collection::btree_map(key(), prop::collection::vec(any::<u8>(), 0..3), 0..24),
        below in prop::collection::vec(layer_op(), 0..24),
        above in prop::collection::vec(layer_op(), 0..48),
    ) {
        use vellum_runtime::{Order, Overlay, Storage};
        let mut model = committed.clone();
        let mut base = MemoryStorage::new();
        base.apply(&committed.iter().map(|(k, v)| vellum_runtime::Write { key: k.clone(), value: Some(v.clone()) }).collect::<Vec<_>>());
        let check = |layer: &Overlay, model: &BTreeMap<Vec<u8>, Vec<u8>>, a: &[u8], b: &[u8], unbounded: bool, descending: bool| {
            let (lower, upper) = if unbounded {
                (Bound::Included(a), Bound::Unbounded)
            } else {
                (Bound::Included(a), Bound::Excluded(b))
            };
            let order = if descending { Order::Descending } else { Order::Ascending };
            let found = layer.first(lower, upper, order).expect("memory storage");
            (found, model_first(model, (lower, upper), descending))
        };
        let mut pending = Overlay::new(Arc::new(base));
        for op in &below {
            match op {
                LayerOp::Set(k, v) => { pending.set(k.clone(), v.clone()); model.insert(k.clone(), v.clone()); }
                LayerOp::Remove(k) => { pending.remove(k.clone()); model.remove(k); }
                LayerOp::First(a, b, unbounded, descending) => {
                    let (found, expected) = check(&pending, &model, a, b, *unbounded, *descending);
                    prop_assert_eq!(found, expected);
                }
            }
        }
        let mut block = Overlay::new(Arc::new(pending));
        for op in &above {
            match op {
                LayerOp::Set(k, v) => { block.set(k.clone(), v.clone()); model.insert(k.clone(), v.clone()); }
                LayerOp::Remove(k) => { block.remove(k.clone()); model.remove(k); }
                LayerOp::First(a, b, unbounded, descending) => {
                    let (found, expected) = check(&block, &model, a, b, *unbounded, *descending);
                    prop_assert_eq!(found, expected);
                }
            }
        }
    }
}

/// Committed state that counts the lookups made of it.
struct Counting {
    inner: MemoryStorage,
    lookups: std::sync::atomic::AtomicU64,
}

impl vellum_runtime::Storage for Counting {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, vellum_runtime::StorageError> {
        self.inner.get(key)
    }

    fn first(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        order: vellum_runtime::Order,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>, vellum_runtime::StorageError> {
        self.lookups
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.first(lower, upper, order)
    }
}

/// A block that removed 20,000 committed keys: a thousand lookups across them in each order
/// cost about one walk over them in all, not one walk each (which would be 40 million lookups
/// of committed state, for no fuel: the block's layer is not metered).
#[test]
fn lookups_across_removed_keys_walk_them_about_once() {
    use vellum_runtime::{Order, Overlay, Storage, Write};
    let keys: Vec<Vec<u8>> = (0u32..20_001).map(|i| i.to_be_bytes().to_vec()).collect();
    let mut committed = MemoryStorage::new();
    committed.apply(
        &keys
            .iter()
            .map(|k| Write {
                key: k.clone(),
                value: Some(vec![1]),
            })
            .collect::<Vec<_>>(),
    );
    let base = Arc::new(Counting {
        inner: committed,
        lookups: std::sync::atomic::AtomicU64::new(0),
    });
    let mut block = Overlay::new(base.clone());
    // Every key but the last removed, and a lone survivor at 10,000 written back.
    for key in &keys[..20_000] {
        block.remove(key.clone());
    }
    block.set(keys[10_000].clone(), vec![2]);
    for _ in 0..1_000 {
        let up = block
            .first(Bound::Unbounded, Bound::Unbounded, Order::Ascending)
            .expect("lookup");
        assert_eq!(up, Some((keys[10_000].clone(), vec![2])));
        let after = block
            .first(
                Bound::Excluded(keys[10_000].as_slice()),
                Bound::Unbounded,
                Order::Ascending,
            )
            .expect("lookup");
        assert_eq!(after, Some((keys[20_000].clone(), vec![1])));
        let down = block
            .first(
                Bound::Unbounded,
                Bound::Excluded(keys[20_000].as_slice()),
                Order::Descending,
            )
            .expect("lookup");
        assert_eq!(down, Some((keys[10_000].clone(), vec![2])));
    }
    let lookups = base.lookups.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        lookups < 3 * 20_000,
        "{lookups} lookups of committed state for 3,000 lookups of the block"
    );
}

/// Removals of keys committed state never held (cheap for whoever removes them: a callee can
/// leave thousands in its caller's layer) are walked about once too, not once per lookup.
#[test]
fn lookups_across_removals_of_absent_keys_walk_them_about_once() {
    use vellum_runtime::{Order, Overlay, Storage, Write};
    let absent: Vec<Vec<u8>> = (0u32..2_000).map(|i| i.to_be_bytes().to_vec()).collect();
    let last = 2_000u32.to_be_bytes().to_vec();
    let mut committed = MemoryStorage::new();
    committed.apply(&[Write {
        key: last.clone(),
        value: Some(vec![1]),
    }]);
    let base = Arc::new(Counting {
        inner: committed,
        lookups: std::sync::atomic::AtomicU64::new(0),
    });
    let mut layer = Overlay::new(base.clone());
    for key in &absent {
        layer.remove(key.clone());
    }
    for _ in 0..300 {
        let up = layer
            .first(Bound::Unbounded, Bound::Unbounded, Order::Ascending)
            .expect("lookup");
        assert_eq!(up, Some((last.clone(), vec![1])));
        let down = layer
            .first(
                Bound::Unbounded,
                Bound::Excluded(last.as_slice()),
                Order::Descending,
            )
            .expect("lookup");
        assert_eq!(down, None);
    }
    let lookups = base.lookups.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        lookups < 3 * 2_000,
        "{lookups} lookups of committed state for 600 lookups of the layer"
    );
}

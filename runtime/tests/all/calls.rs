//! Cross-contract calls (ABI v2 `call`, `docs/abi.md` "Calls"): results and failures as the
//! caller sees them, what a failed callee leaves (nothing), events of the whole tree in order,
//! exact fuel, depth, re-entrancy, read-only queries, and call bombs.

use super::*;
use std::{collections::BTreeMap, sync::Mutex};
use vellum_runtime::{
    abi::CallStatus, Address, CodeHash, Outcome, Schedule, StorageError, TrapKind, World,
};

/// A contract that counts, fails, traps or spins on demand.
const COUNTER: &str = include_str!("../fixtures/counter.wat");

/// A contract that forwards a call: its input is the callee's address (32 bytes), the fuel to
/// give it (8, little-endian), the entry point's length (4, little-endian), the entry point and
/// the callee's input. It returns the status byte followed by what the value buffer held. Its
/// `execute` entry points first write `before` = "1" and emit `before`, and emit `after` once
/// the callee returns. `REENTRANT` is replaced by the re-entrancy section or nothing.
const PROXY: &str = r#"(module
  (import "vellum" "input_len" (func $input_len (result i32)))
  (import "vellum" "input_read" (func $input_read (param i32)))
  (import "vellum" "set_return" (func $ret (param i32 i32)))
  (import "vellum" "abort" (func $abort (param i32 i32 i32)))
  (import "vellum" "storage_set" (func $set (param i32 i32 i32 i32)))
  (import "vellum" "storage_get" (func $get (param i32 i32) (result i32)))
  (import "vellum" "value_len" (func $value_len (result i32)))
  (import "vellum" "value_read" (func $value_read (param i32)))
  (import "vellum" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (import "vellum" "contract_address" (func $self (param i32)))
  (import "vellum" "call" (func $call (param i32 i32 i32 i32 i32 i64) (result i32)))
  REENTRANT
  (memory (export "memory") 2)
  (data (i32.const 0) "before")
  (data (i32.const 16) "after")
  (data (i32.const 32) "1")
  (data (i32.const 64) "execute.tree")
  (func $forward (param $write i32) (result i32)
    (local $len i32) (local $entry i32) (local $status i32) (local $n i32)
    (local.set $len (call $input_len))
    (call $input_read (i32.const 1024))
    (local.set $entry (i32.load (i32.const 1064)))
    (if (local.get $write) (then
      (call $set (i32.const 0) (i32.const 6) (i32.const 32) (i32.const 1))
      (call $emit (i32.const 0) (i32.const 6) (i32.const 32) (i32.const 1))))
    (local.set $status (call $call
      (i32.const 1024)
      (i32.const 1068) (local.get $entry)
      (i32.add (i32.const 1068) (local.get $entry))
      (i32.sub (local.get $len) (i32.add (i32.const 44) (local.get $entry)))
      (i64.load (i32.const 1056))))
    (if (local.get $write) (then
      (call $emit (i32.const 16) (i32.const 5) (i32.const 32) (i32.const 1))))
    (i32.store8 (i32.const 65536) (local.get $status))
    (local.set $n (call $value_len))
    (call $value_read (i32.const 65537))
    (call $ret (i32.const 65536) (i32.add (local.get $n) (i32.const 1)))
    (local.get $status))
  (func (export "instantiate"))
  (func (export "execute.forward") (drop (call $forward (i32.const 1))))
  (func (export "query.forward") (drop (call $forward (i32.const 0))))
  (func (export "execute.forward_or_abort")
    (if (call $forward (i32.const 1))
      (then (call $abort (i32.const 7) (i32.const 0) (i32.const 6)))))
  (func (export "query.before")
    (if (i32.ge_s (call $get (i32.const 0) (i32.const 6)) (i32.const 0))
      (then (call $value_read (i32.const 48)) (call $ret (i32.const 48) (i32.const 1)))))
  (func (export "execute.bomb")
    (call $input_read (i32.const 1024))
    (loop $l
      (drop (call $call (i32.const 1024) (i32.const 1068) (i32.load (i32.const 1064))
        (i32.const 0) (i32.const 0) (i64.const -1)))
      (br $l)))
  (func (export "execute.tree")
    (call $self (i32.const 2048))
    (drop (call $call (i32.const 2048) (i32.const 64) (i32.const 12) (i32.const 0) (i32.const 0)
      (i64.const -1)))
    (drop (call $call (i32.const 2048) (i32.const 64) (i32.const 12) (i32.const 0) (i32.const 0)
      (i64.const -1)))))"#;

const COUNTER_AT: Address = [0xc1; 32];
const PROXY_AT: Address = [0xa1; 32];
const OTHER_PROXY_AT: Address = [0xa2; 32];
const REENTRANT_AT: Address = [0xb1; 32];
const NOBODY: Address = [0xee; 32];

fn proxy(reentrant: bool) -> Vec<u8> {
    let section = match reentrant {
        true => r#"(@custom "vellum:reentrant" "")"#,
        false => "",
    };
    wasm(&PROXY.replace("REENTRANT", section))
}

/// Contracts by address, each with its committed storage.
struct TestWorld {
    code: BTreeMap<Address, Vec<u8>>,
    storage: Mutex<BTreeMap<Address, MemoryStorage>>,
}

impl TestWorld {
    fn new() -> Arc<Self> {
        let code = BTreeMap::from([
            (COUNTER_AT, wasm(COUNTER)),
            (PROXY_AT, proxy(false)),
            (OTHER_PROXY_AT, proxy(false)),
            (REENTRANT_AT, proxy(true)),
        ]);
        Arc::new(Self {
            code,
            storage: Mutex::new(BTreeMap::new()),
        })
    }

    fn stored(&self, address: &Address) -> BTreeMap<Vec<u8>, Vec<u8>> {
        let storage = self.storage.lock().expect("not poisoned");
        storage
            .get(address)
            .map(|s| s.entries().clone())
            .unwrap_or_default()
    }

    /// Commit a successful execution of a call to `contract`.
    fn commit(&self, contract: Address, execution: &Execution) {
        let mut storage = self.storage.lock().expect("not poisoned");
        storage
            .entry(contract)
            .or_default()
            .apply(&execution.writes);
        for (address, writes) in &execution.other_writes {
            storage.entry(*address).or_default().apply(writes);
        }
    }
}

impl World for TestWorld {
    fn code_hash(&self, address: &Address) -> Result<Option<CodeHash>, StorageError> {
        Ok(self.code.get(address).map(|code| CodeHash::of(code)))
    }

    fn code(&self, hash: &CodeHash) -> Result<Vec<u8>, StorageError> {
        self.code
            .values()
            .find(|code| CodeHash::of(code) == *hash)
            .cloned()
            .ok_or_else(|| StorageError("no such code".into()))
    }

    fn storage(&self, address: &Address) -> Arc<dyn Storage> {
        let storage = self.storage.lock().expect("not poisoned");
        Arc::new(storage.get(address).cloned().unwrap_or_default())
    }
}

/// The input of the proxy's `forward`.
fn forward(to: Address, fuel: u64, entry: &str, input: &[u8]) -> Vec<u8> {
    let mut bytes = to.to_vec();
    bytes.extend_from_slice(&fuel.to_le_bytes());
    bytes.extend_from_slice(&(entry.len() as u32).to_le_bytes());
    bytes.extend_from_slice(entry.as_bytes());
    bytes.extend_from_slice(input);
    bytes
}

/// Run `entry_point` of the contract at `contract` in `world`.
fn run_in(
    rt: &Runtime,
    world: &Arc<TestWorld>,
    contract: Address,
    entry_point: &str,
    input: &[u8],
    fuel_limit: u64,
    mode: Mode,
) -> Execution {
    let code = world.code.get(&contract).expect("a test contract");
    let prepared = rt.prepare(code).expect("test module is valid");
    let call = Call {
        entry_point,
        input,
        context: Context {
            contract,
            ..context()
        },
        fuel_limit,
        mode,
    };
    rt.execute_in(&prepared, call, world.clone())
        .expect("the host completes the call")
}

/// [`run_in`] as a transaction with [`FUEL`].
fn transact(
    rt: &Runtime,
    world: &Arc<TestWorld>,
    contract: Address,
    entry_point: &str,
    input: &[u8],
) -> Execution {
    run_in(
        rt,
        world,
        contract,
        entry_point,
        input,
        FUEL,
        Mode::Transaction,
    )
}

/// [`run_in`] as a query with [`FUEL`].
fn ask(
    rt: &Runtime,
    world: &Arc<TestWorld>,
    contract: Address,
    entry_point: &str,
    input: &[u8],
) -> Execution {
    run_in(rt, world, contract, entry_point, input, FUEL, Mode::Query)
}

fn returned(execution: &Execution) -> Vec<u8> {
    match &execution.outcome {
        Outcome::Success(output) => output.clone(),
        other => panic!("the call failed: {other:?}"),
    }
}

#[test]
fn a_callee_runs_as_the_calling_contract_and_its_effects_join_the_callers_in_order() {
    let rt = runtime();
    let world = TestWorld::new();
    let input = forward(COUNTER_AT, u64::MAX, "execute.bump", b"");
    let run = transact(&rt, &world, PROXY_AT, "execute.forward", &input);
    assert_eq!(
        returned(&run),
        [&[CallStatus::Success as u8][..], b"ok"].concat()
    );
    // The caller's write, and the callee's, each in its own contract's namespace.
    assert_eq!(run.writes.len(), 1);
    assert_eq!(run.writes[0].key, b"before");
    assert_eq!(run.other_writes.len(), 1);
    assert_eq!(run.other_writes[0].0, COUNTER_AT);
    assert_eq!(run.other_writes[0].1[0].key, b"n");
    assert_eq!(run.other_writes[0].1[0].value.as_deref(), Some(&[1u8][..]));
    // Events of the whole tree, in the order they were emitted, each with its contract.
    let events: Vec<(Address, &[u8])> = run
        .events
        .iter()
        .map(|e| (e.contract, e.topic.as_slice()))
        .collect();
    assert_eq!(
        events,
        [
            (PROXY_AT, &b"before"[..]),
            (COUNTER_AT, &b"bumped"[..]),
            (PROXY_AT, &b"after"[..]),
        ]
    );
    world.commit(PROXY_AT, &run);
    assert_eq!(world.stored(&COUNTER_AT)[&b"n".to_vec()], [1]);

    // The callee sees the calling contract as its caller.
    let input = forward(COUNTER_AT, u64::MAX, "query.who", b"");
    let run = ask(&rt, &world, PROXY_AT, "query.forward", &input);
    assert_eq!(returned(&run), [&[0u8][..], &PROXY_AT].concat());
    // A query reads committed state through the call.
    let input = forward(COUNTER_AT, u64::MAX, "query.get", b"");
    let run = ask(&rt, &world, PROXY_AT, "query.forward", &input);
    assert_eq!(returned(&run), [0, 1]);
}

#[test]
fn a_failed_callee_leaves_nothing_and_the_caller_decides() {
    let rt = runtime();
    let world = TestWorld::new();
    let cases: [(&str, CallStatus, &[u8]); 4] = [
        (
            "execute.fail",
            CallStatus::ContractError,
            &[0, 0, 0, 42, b'n', b'o', b'p', b'e'],
        ),
        ("execute.trap", CallStatus::Trap, b"unreachable executed"),
        (
            "execute.nothing",
            CallStatus::Trap,
            b"the contract has no entry point `execute.nothing`",
        ),
        ("execute.spin", CallStatus::OutOfFuel, b""),
    ];
    for (entry, status, buffer) in cases {
        let input = forward(COUNTER_AT, 200_000, entry, b"");
        // The caller handles the failure: its own write and events stay, the callee's do not.
        let run = transact(&rt, &world, PROXY_AT, "execute.forward", &input);
        assert_eq!(
            returned(&run),
            [&[status as u8][..], buffer].concat(),
            "{entry}"
        );
        assert_eq!(run.writes.len(), 1, "{entry}");
        assert!(
            run.other_writes.is_empty(),
            "{entry}: {:?}",
            run.other_writes
        );
        assert!(run.events.iter().all(|e| e.contract == PROXY_AT), "{entry}");
        // Or it rolls everything back by failing itself.
        let run = transact(&rt, &world, PROXY_AT, "execute.forward_or_abort", &input);
        assert!(
            matches!(run.outcome, Outcome::ContractError { code: 7, .. }),
            "{entry}: {:?}",
            run.outcome
        );
        assert!(run.writes.is_empty() && run.other_writes.is_empty() && run.events.is_empty());
    }
    // No contract at the address.
    let input = forward(NOBODY, u64::MAX, "execute.bump", b"");
    let run = transact(&rt, &world, PROXY_AT, "execute.forward", &input);
    assert_eq!(returned(&run), [CallStatus::NoContract as u8]);
    // A query's callee is read-only too, whatever entry point it runs.
    let input = forward(COUNTER_AT, u64::MAX, "execute.bump", b"");
    let run = ask(&rt, &world, PROXY_AT, "query.forward", &input);
    assert_eq!(
        returned(&run),
        [
            &[CallStatus::Trap as u8][..],
            b"`storage_set` is not allowed in a read-only query"
        ]
        .concat()
    );
    // Only `execute.*` and `query.*` entry points may be called.
    let input = forward(COUNTER_AT, u64::MAX, "instantiate", b"");
    let run = transact(&rt, &world, PROXY_AT, "execute.forward", &input);
    assert!(
        matches!(
            run.outcome,
            Outcome::Trap(TrapKind::InvalidArgument {
                function: "call",
                ..
            })
        ),
        "{:?}",
        run.outcome
    );
}

#[test]
fn a_callee_may_emit_only_the_events_its_caller_has_left() {
    let rt = runtime();
    let world = TestWorld::new();
    // Alone, 1,024 events are allowed.
    let run = transact(&rt, &world, COUNTER_AT, "execute.emit_1024", b"");
    assert_eq!(run.events.len(), 1_024, "{:?}", run.outcome);
    // Under a caller that has emitted one, the callee fails itself, and the caller goes on.
    let input = forward(COUNTER_AT, u64::MAX, "execute.emit_1024", b"");
    let run = transact(&rt, &world, PROXY_AT, "execute.forward", &input);
    assert_eq!(
        returned(&run),
        [
            &[CallStatus::Trap as u8][..],
            b"limit exceeded: events (1024 > 1023)"
        ]
        .concat()
    );
    assert_eq!(run.events.len(), 2);
}

#[test]
fn fuel_across_a_call_is_the_callers_plus_exactly_the_callees() {
    let rt = runtime();
    let world = TestWorld::new();
    let alone = transact(&rt, &world, COUNTER_AT, "execute.bump", b"");
    let through = run_in(
        &rt,
        &world,
        PROXY_AT,
        "execute.forward",
        &forward(COUNTER_AT, u64::MAX, "execute.bump", b""),
        FUEL,
        Mode::Transaction,
    );
    // The same call with no callee: the address differs, the bytes charged do not.
    let missing = run_in(
        &rt,
        &world,
        PROXY_AT,
        "execute.forward",
        &forward(NOBODY, u64::MAX, "execute.bump", b""),
        FUEL,
        Mode::Transaction,
    );
    // Copying out and returning the callee's 2-byte answer costs 1 per byte each.
    let copy = 2 * 2;
    assert_eq!(
        through.fuel_used,
        missing.fuel_used + alone.fuel_used + copy,
        "through {} missing {} alone {}",
        through.fuel_used,
        missing.fuel_used,
        alone.fuel_used
    );

    // A callee that runs out uses exactly what it was given, and the caller goes on.
    let spin = |fuel: u64| {
        let input = forward(COUNTER_AT, fuel, "execute.spin", b"");
        let run = transact(&rt, &world, PROXY_AT, "execute.forward", &input);
        assert_eq!(returned(&run), [CallStatus::OutOfFuel as u8]);
        run.fuel_used
    };
    assert_eq!(spin(300_000) - spin(100_000), 200_000);
    // Asking for more than is left gives what is left: the whole call runs out.
    let input = forward(COUNTER_AT, u64::MAX, "execute.spin", b"");
    let run = run_in(
        &rt,
        &world,
        PROXY_AT,
        "execute.forward",
        &input,
        1_000_000,
        Mode::Transaction,
    );
    assert_eq!(run.outcome, Outcome::OutOfFuel);
    assert_eq!(run.fuel_used, 1_000_000);
}

#[test]
fn re_entry_is_refused_unless_the_contract_opts_in_and_then_it_sees_pending_writes() {
    let rt = runtime();
    let world = TestWorld::new();
    // A plain contract calling itself.
    let input = forward(PROXY_AT, u64::MAX, "query.before", b"");
    let run = transact(&rt, &world, PROXY_AT, "execute.forward", &input);
    assert_eq!(returned(&run), [CallStatus::Reentrancy as u8]);
    // ... or through another contract: the inner call is refused, the outer succeeds.
    let inner = forward(PROXY_AT, u64::MAX, "query.before", b"");
    let input = forward(OTHER_PROXY_AT, u64::MAX, "execute.forward", &inner);
    let run = transact(&rt, &world, PROXY_AT, "execute.forward", &input);
    assert_eq!(returned(&run), [0, CallStatus::Reentrancy as u8]);
    // A contract that opts in is re-entered, and reads its own pending write.
    let input = forward(REENTRANT_AT, u64::MAX, "query.before", b"");
    let run = transact(&rt, &world, REENTRANT_AT, "execute.forward", &input);
    assert_eq!(returned(&run), [0, b'1']);
    // Nothing was committed: a fresh caller reads nothing.
    let run = ask(&rt, &world, PROXY_AT, "query.before", b"");
    assert_eq!(returned(&run), b"");
}

#[test]
fn calls_nest_only_as_deep_as_the_schedule_allows() {
    let rt = runtime();
    let world = TestWorld::new();
    let depth_max = Schedule::v2().limits.call_depth_max as usize;
    // The re-entrant proxy forwards to itself one level deeper than allowed.
    let mut input = forward(REENTRANT_AT, u64::MAX, "query.before", b"");
    for _ in 0..depth_max {
        input = forward(REENTRANT_AT, u64::MAX, "execute.forward", &input);
    }
    let run = transact(&rt, &world, REENTRANT_AT, "execute.forward", &input);
    let mut expected = vec![0u8; depth_max];
    expected.push(CallStatus::DepthExceeded as u8);
    assert_eq!(returned(&run), expected);

    // Schedule v1 has no calls: a module importing `call` is refused at deploy, with v1's error.
    let v1 = Runtime::new(RuntimeConfig {
        schedule: Schedule::v1(),
        ..RuntimeConfig::default()
    })
    .expect("engine builds");
    let Err(refused) = v1.prepare(&proxy(false)) else {
        panic!("a module importing `call` is accepted under schedule v1");
    };
    assert!(
        refused
            .to_string()
            .contains("import vellum::call is not part of the Vellum host ABI"),
        "{refused}"
    );
    assert!(v1.prepare(&wasm(COUNTER)).is_ok());
}

#[test]
fn call_bombs_end_by_fuel_the_same_way_every_time() {
    let rt = runtime();
    let world = TestWorld::new();
    // A loop of calls: each costs at least the call's base price.
    let input = forward(COUNTER_AT, 0, "execute.bump", b"");
    let bomb = |fuel| {
        run_in(
            &rt,
            &world,
            PROXY_AT,
            "execute.bomb",
            &input,
            fuel,
            Mode::Transaction,
        )
    };
    let run = bomb(FUEL);
    assert_eq!(run.outcome, Outcome::OutOfFuel);
    assert_eq!(run.fuel_used, FUEL);
    assert!(run.other_writes.is_empty());
    // A full binary tree of re-entrant calls to the depth limit: 2^(depth+1) - 1 frames.
    let tree = |fuel| {
        run_in(
            &rt,
            &world,
            REENTRANT_AT,
            "execute.tree",
            b"",
            fuel,
            Mode::Transaction,
        )
    };
    let first = tree(200_000_000);
    assert!(first.outcome.is_success(), "{:?}", first.outcome);
    let second = tree(200_000_000);
    assert_eq!(first, second);
    let base = Schedule::v2().costs.call.base;
    let frames = (1u64 << (Schedule::v2().limits.call_depth_max + 1)) - 1;
    assert!(first.fuel_used > (frames - 1) * base, "{}", first.fuel_used);
    // With too little fuel it runs out, at the same point every time.
    let starved = tree(5_000_000);
    assert_eq!(starved.outcome, Outcome::OutOfFuel);
    assert_eq!(starved, tree(5_000_000));
}

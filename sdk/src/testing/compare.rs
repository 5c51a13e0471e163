//! Comparing runs: a recorder for any [`Host`], the call-by-call comparison of a native and a
//! wasm run, and the measured fuel tables in contract READMEs.

use super::{encode, Failure, Host, Mode, Reply};
use crate::Address;
#[cfg(feature = "wasm-host")]
use std::boxed::Box;
use std::{
    format,
    path::Path,
    string::{String, ToString},
    vec::Vec,
};

/// One recorded call.
#[derive(Clone, Debug)]
pub struct Step {
    /// The entry point called.
    pub entry_point: String,
    /// The JSON arguments, as the host received them.
    pub input: Vec<u8>,
    /// What it returned.
    pub reply: Reply,
}

/// Drives a [`Host`] and records every call, so that a scenario run on
/// [`TestHost`](super::TestHost) and on [`WasmHost`](super::WasmHost) can be compared step by step
/// ([`assert_equivalent`]) and its fuel tabulated ([`fuel_table`]).
pub struct Recorder<H> {
    /// The host being driven.
    pub host: H,
    /// Every call so far, in order.
    pub steps: Vec<Step>,
}

impl<H: Host> Recorder<H> {
    /// Start recording on `host`.
    pub fn new(host: H) -> Self {
        Self {
            host,
            steps: Vec::new(),
        }
    }

    /// Make the call the host's own `instantiate`, `execute` or `query` makes, with `args`
    /// encoded once for the call and the record.
    fn record(
        &mut self,
        caller: Address,
        entry_point: String,
        args: &serde_json::Value,
        mode: Mode,
    ) -> Reply {
        let input = encode(args);
        let reply = self.host.call(caller, &entry_point, &input, mode);
        self.steps.push(Step {
            entry_point,
            input,
            reply: reply.clone(),
        });
        reply
    }

    /// [`Host::instantiate`], recorded.
    pub fn instantiate(&mut self, caller: Address, args: serde_json::Value) -> Reply {
        self.record(caller, "instantiate".to_string(), &args, Mode::Transaction)
    }

    /// [`Host::execute`], recorded.
    pub fn execute(&mut self, caller: Address, method: &str, args: serde_json::Value) -> Reply {
        self.record(
            caller,
            format!("execute.{method}"),
            &args,
            Mode::Transaction,
        )
    }

    /// [`Host::query`], recorded.
    pub fn query(&mut self, method: &str, args: serde_json::Value) -> Reply {
        self.record(
            Address::default(),
            format!("query.{method}"),
            &args,
            Mode::Query,
        )
    }

    /// [`Host::set_block`].
    pub fn set_block(&mut self, height: u64, time_ms: u64) {
        self.host.set_block(height, time_ms);
    }
}

/// Assert that two runs of one scenario agree on every call's result and events, and on the final
/// state. Contract errors (panics included) must match exactly; traps match as traps (a wasm trap
/// such as running out of memory has no native counterpart with the same wording).
#[track_caller]
pub fn assert_equivalent(a: &Recorder<impl Host>, b: &Recorder<impl Host>) {
    assert_eq!(
        a.steps.len(),
        b.steps.len(),
        "the runs made different numbers of calls"
    );
    for (index, (x, y)) in a.steps.iter().zip(&b.steps).enumerate() {
        let same_result = match (&x.reply.result, &y.reply.result) {
            (Err(Failure::Trap(_)), Err(Failure::Trap(_))) => true,
            (left, right) => left == right,
        };
        assert!(
            same_result,
            "call {index} ({}) differs:\n  {:?}\n  {:?}",
            x.entry_point, x.reply.result, y.reply.result
        );
        assert_eq!(
            x.reply.events, y.reply.events,
            "call {index} ({}) emitted different events",
            x.entry_point
        );
    }
    assert_eq!(
        a.host.state(),
        b.host.state(),
        "the runs ended in different states"
    );
}

/// The chain the receipt figures of [`fuel_table`] are for: `vellum devnet`'s. A chain id of
/// another length changes every transaction's intrinsic fuel by 10 per byte of difference.
#[cfg(feature = "wasm-host")]
pub const FUEL_TABLE_CHAIN_ID: &str = "vellum-local";

/// The intrinsic fuel of the transaction that makes `step`'s call on contract `code` at
/// [`CONTRACT_ADDRESS`](super::CONTRACT_ADDRESS) on chain [`FUEL_TABLE_CHAIN_ID`]: `instantiate`
/// is a deploy of `code`, `migrate` an upgrade to it, `execute.*` a call; a query has no
/// transaction. Nonce, fuel limit, key and signature have fixed sizes, so any sender's
/// transaction for the same call is this long.
#[cfg(feature = "wasm-host")]
pub fn intrinsic_fuel(step: &Step, code: &[u8]) -> Option<u64> {
    use vellum_types::{Action, SignedTransaction, Transaction};
    let args = String::from_utf8_lossy(&step.input).into_owned();
    let contract = super::CONTRACT_ADDRESS.0;
    let action = match step.entry_point.as_str() {
        "instantiate" => Action::Deploy {
            code: code.to_vec(),
            init_args: args,
        },
        "migrate" => Action::Upgrade {
            contract,
            code: code.to_vec(),
            migrate_args: args,
        },
        entry => Action::Call {
            contract,
            method: entry.strip_prefix("execute.")?.to_string(),
            args,
        },
    };
    let signed = SignedTransaction {
        transaction: Transaction {
            chain_id: FUEL_TABLE_CHAIN_ID.to_string(),
            sender: [2; 33],
            nonce: 0,
            fuel_limit: super::FUEL_LIMIT,
            action,
        },
        signature: [0; 64],
    };
    Some(signed.intrinsic_fuel())
}

/// A Markdown table of the fuel each entry point used in the successful calls of a recorded wasm
/// run of contract `code`: the lowest and highest figure the contract used, the lowest and highest
/// `fuel_used` of the receipts of the same calls made as transactions (the contract's fuel plus
/// [`intrinsic_fuel`]; none for queries), and how many calls were measured.
#[cfg(feature = "wasm-host")]
pub fn fuel_table(run: &Recorder<impl Host>, code: &[u8]) -> String {
    use std::collections::BTreeMap;
    let mut by_entry: BTreeMap<&str, Vec<(u64, Option<u64>)>> = BTreeMap::new();
    for step in &run.steps {
        if let (Ok(_), Some(fuel)) = (&step.reply.result, step.reply.fuel_used) {
            let receipt = intrinsic_fuel(step, code).map(|intrinsic| intrinsic + fuel);
            by_entry
                .entry(&step.entry_point)
                .or_default()
                .push((fuel, receipt));
        }
    }
    let mut table = String::from(
        "| entry point | contract fuel (min) | contract fuel (max) | receipt fuel (min) | receipt fuel (max) | calls measured |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for (entry, calls) in by_entry {
        let (min, max) = span(calls.iter().map(|(fuel, _)| *fuel));
        // A query has no receipt: no figures, so dashes.
        let (receipt_min, receipt_max) = span(calls.iter().filter_map(|(_, receipt)| *receipt));
        table.push_str(&format!(
            "| `{entry}` | {min} | {max} | {receipt_min} | {receipt_max} | {} |\n",
            calls.len()
        ));
    }
    table
}

/// The lowest and highest of `figures` as table cells, or dashes if there are none.
#[cfg(feature = "wasm-host")]
fn span(figures: impl Iterator<Item = u64> + Clone) -> (String, String) {
    match (figures.clone().min(), figures.max()) {
        (Some(min), Some(max)) => (min.to_string(), max.to_string()),
        _ => ("–".to_string(), "–".to_string()),
    }
}

/// Check that the README at `path` holds `table` between the lines `<!-- fuel:begin -->` and
/// `<!-- fuel:end -->`; with the environment variable `UPDATE_FUEL_TABLES=1`, write it there
/// instead. Fuel figures in documentation are thereby always measured, never typed.
#[track_caller]
pub fn check_fuel_table(path: impl AsRef<Path>, table: &str) {
    const BEGIN: &str = "<!-- fuel:begin -->\n";
    const END: &str = "<!-- fuel:end -->";
    let path = path.as_ref();
    let readme = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let (Some(start), Some(end)) = (readme.find(BEGIN), readme.find(END)) else {
        panic!("{} has no {BEGIN:?} ... {END:?} markers", path.display());
    };
    let current = &readme[start + BEGIN.len()..end];
    if current == table {
        return;
    }
    if std::env::var("UPDATE_FUEL_TABLES").as_deref() == Ok("1") {
        let updated = format!("{}{BEGIN}{table}{}", &readme[..start], &readme[end..]);
        if let Err(e) = std::fs::write(path, updated) {
            panic!("cannot write {}: {e}", path.display());
        }
        return;
    }
    panic!(
        "the fuel table in {} is out of date; rerun with UPDATE_FUEL_TABLES=1 to refresh it.\nmeasured:\n{table}",
        path.display()
    );
}

/// The check every contract's tests make (feature `wasm-host`): run `scenario` on contract `C`
/// natively and on its built `artifact`, assert the two runs agree call by call, and assert the
/// fuel table in `readme` is the one the artifact run measured (see [`check_fuel_table`]).
#[cfg(feature = "wasm-host")]
#[track_caller]
pub fn check_artifact<C: crate::Contract + 'static>(
    artifact: impl AsRef<Path>,
    readme: impl AsRef<Path>,
    scenario: fn(&mut Recorder<Box<dyn Host>>),
) {
    let mut native = Recorder::new(Box::new(super::TestHost::<C>::new()) as Box<dyn Host>);
    scenario(&mut native);
    let artifact = artifact.as_ref();
    let code = std::fs::read(artifact)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", artifact.display()));
    let wasm = match super::WasmHost::new(&code) {
        Ok(host) => host,
        Err(error) => panic!("{error}: {:?}", std::error::Error::source(&error)),
    };
    let mut wasm = Recorder::new(Box::new(wasm) as Box<dyn Host>);
    scenario(&mut wasm);
    assert_equivalent(&native, &wasm);
    check_fuel_table(readme, &fuel_table(&wasm, &code));
}

//! Comparing runs: a recorder for any [`Host`], the call-by-call comparison of a native and a
//! wasm run, and the measured fuel tables in contract READMEs.

use super::{Failure, Host, Reply};
use crate::Address;
#[cfg(feature = "wasm-host")]
use std::boxed::Box;
use std::{
    collections::BTreeMap,
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

    fn record(&mut self, entry_point: String, reply: Reply) -> Reply {
        self.steps.push(Step {
            entry_point,
            reply: reply.clone(),
        });
        reply
    }

    /// [`Host::instantiate`], recorded.
    pub fn instantiate(&mut self, caller: Address, args: serde_json::Value) -> Reply {
        let reply = self.host.instantiate(caller, args);
        self.record("instantiate".to_string(), reply)
    }

    /// [`Host::execute`], recorded.
    pub fn execute(&mut self, caller: Address, method: &str, args: serde_json::Value) -> Reply {
        let reply = self.host.execute(caller, method, args);
        self.record(format!("execute.{method}"), reply)
    }

    /// [`Host::query`], recorded.
    pub fn query(&mut self, method: &str, args: serde_json::Value) -> Reply {
        let reply = self.host.query(method, args);
        self.record(format!("query.{method}"), reply)
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

/// A Markdown table of the fuel each entry point used in successful calls of a recorded wasm run:
/// the lowest and highest figure and how many calls were measured.
pub fn fuel_table(run: &Recorder<impl Host>) -> String {
    let mut by_entry: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for step in &run.steps {
        if let (Ok(_), Some(fuel)) = (&step.reply.result, step.reply.fuel_used) {
            by_entry.entry(&step.entry_point).or_default().push(fuel);
        }
    }
    let mut table = String::from(
        "| entry point | fuel (min) | fuel (max) | calls measured |\n|---|---:|---:|---:|\n",
    );
    for (entry, fuels) in by_entry {
        let (min, max) = (fuels.iter().min(), fuels.iter().max());
        if let (Some(min), Some(max)) = (min, max) {
            table.push_str(&format!(
                "| `{entry}` | {min} | {max} | {} |\n",
                fuels.len()
            ));
        }
    }
    table
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
    let wasm = match super::WasmHost::from_file(artifact.as_ref()) {
        Ok(host) => host,
        Err(error) => panic!("{error}: {:?}", std::error::Error::source(&error)),
    };
    let mut wasm = Recorder::new(Box::new(wasm) as Box<dyn Host>);
    scenario(&mut wasm);
    assert_equivalent(&native, &wasm);
    check_fuel_table(readme, &fuel_table(&wasm));
}

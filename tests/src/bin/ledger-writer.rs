//! A process that commits blocks of real transactions to a ledger as fast as it can, and reports
//! each commit on stdout as `committed <height> <state root>` only after the commit returned. The
//! crash test kills it at random moments and checks the store against these reports.
//!
//! Usage: `ledger-writer <data-dir> <final-height>`. It resumes from whatever the store holds.

use std::io::Write;
use vellum_ledger::{
    records::contract_address,
    testing::{artifact, genesis, key, next_proposal, sign},
    Executor, Store,
};
use vellum_runtime::RuntimeConfig;
use vellum_types::{address_of, hex, public_key, Action, DeployPolicy};

/// Transactions per block.
const BLOCK_TRANSACTIONS: u64 = 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(target)) = (args.next(), args.next()) else {
        return Err("usage: ledger-writer <data-dir> <final-height>".into());
    };
    let target: u64 = target.parse()?;
    let genesis = genesis(DeployPolicy::AnyAdmin);
    let executor = Executor::new(genesis.clone(), RuntimeConfig::default())?;
    let store = Store::open(&std::path::Path::new(&dir).join("ledger.redb"), &genesis)?;
    let operator_address = address_of(&public_key(&key(1)));
    let points = contract_address(&operator_address, 0);
    let mut out = std::io::stdout().lock();
    loop {
        let head = store.head()?;
        if head.height >= target {
            return Ok(());
        }
        let first_nonce = store.next_nonce(&operator_address)?;
        let mut nonce = first_nonce;
        let mut transactions = Vec::new();
        let mut sign = |action| {
            nonce += 1;
            sign(1, nonce - 1, action)
        };
        if first_nonce == 0 {
            transactions.push(sign(Action::Deploy {
                code: artifact("points"),
                init_args: "{}".into(),
            }));
            let admin = hex(&operator_address);
            transactions.push(sign(call(
                points,
                "register_issuer",
                serde_json::json!({"id": "air", "name": "Air", "admin": admin}),
            )));
        }
        for i in 0..BLOCK_TRANSACTIONS {
            // A different member each time, so the state keeps growing.
            let member = hex(&[(head.height % 251) as u8, i as u8].repeat(16));
            transactions.push(sign(call(
                points,
                "mint",
                serde_json::json!({"issuer": "air", "to": member, "amount": head.height + i + 1}),
            )));
        }
        let executed = executor.execute(&store, next_proposal(&head, transactions))?;
        store.commit(&executed)?;
        writeln!(
            out,
            "committed {} {}",
            executed.block.header.height,
            hex(&executed.block.header.state_root)
        )?;
        out.flush()?;
    }
}

/// A call of `method` with JSON `args`.
fn call(contract: [u8; 32], method: &str, args: serde_json::Value) -> Action {
    Action::Call {
        contract,
        method: method.into(),
        args: args.to_string(),
    }
}

//! A process that commits blocks of real transactions to a ledger as fast as it can, and reports
//! each commit on stdout as `committed <height> <state root>` only after the commit returned. The
//! crash test kills it at random moments and checks the store against these reports.
//!
//! Usage: `ledger-writer <data-dir> <final-height>`. It resumes from whatever the store holds.

use std::io::Write;
use vellum::ledger::{
    records::contract_address,
    transaction::{address_of, hex, public_key},
    Action, Executor, Proposal, Store, Transaction,
};
use vellum_runtime::RuntimeConfig;
use vellum_tests::ledger;

/// Transactions per block.
const BLOCK_TRANSACTIONS: u64 = 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(target)) = (args.next(), args.next()) else {
        return Err("usage: ledger-writer <data-dir> <final-height>".into());
    };
    let target: u64 = target.parse()?;
    let genesis = ledger::genesis();
    let executor = Executor::new(genesis.clone(), RuntimeConfig::default())?;
    let store = Store::open(&std::path::Path::new(&dir).join("ledger.redb"), &genesis)?;
    let operator = ledger::key(1);
    let operator_address = address_of(&public_key(&operator));
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
            let tx = Transaction {
                chain_id: genesis.chain_id.clone(),
                sender: public_key(&operator),
                nonce,
                fuel_limit: 50_000_000,
                action,
            };
            nonce += 1;
            tx.sign(&operator)
        };
        if first_nonce == 0 {
            transactions.push(sign(Action::Deploy {
                code: ledger::artifact("points"),
                init_args: "{}".into(),
            }));
            let admin = hex(&operator_address);
            transactions.push(sign(ledger::call(
                points,
                "register_issuer",
                serde_json::json!({"id": "air", "name": "Air", "admin": admin}),
            )));
        }
        for i in 0..BLOCK_TRANSACTIONS {
            // A different member each time, so the state keeps growing.
            let member = hex(&[(head.height % 251) as u8, i as u8].repeat(16));
            transactions.push(sign(ledger::call(
                points,
                "mint",
                serde_json::json!({"issuer": "air", "to": member, "amount": head.height + i + 1}),
            )));
        }
        let proposal = Proposal {
            height: head.height + 1,
            parent: head.hash(),
            time_ms: head.time_ms + 1_000,
            proposer: [0; 32],
            transactions,
        };
        let executed = executor.execute(&store, proposal)?;
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

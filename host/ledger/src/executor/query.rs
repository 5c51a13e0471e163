//! Read-only contract queries against committed state.

use super::{
    actions::{status_of, Caller},
    state::BlockContext,
    BlockError, Executor, QueryResult,
};
use crate::{
    keys,
    records::{ContractInfo, Member},
    store::Store,
};
use std::sync::{Arc, RwLock};
use vellum_runtime::{Call, Context, Mode, Overlay};
use vellum_types::{hex, Address, Role};

impl Executor {
    /// Run `contract`'s read-only `method` against committed state after the block at `height`
    /// (`None`: the head; an earlier height reads through [`Store::past`], with the code the
    /// contract had then): no transaction, no fee, no writes (the runtime refuses them in a
    /// query), fuel capped at the genesis `query_fuel_max` so a query cannot run long. `caller`
    /// is what the contract sees as its caller; the block height and time it sees are those of
    /// the block read.
    pub fn query(
        &self,
        store: &Store,
        contract: &Address,
        method: &str,
        args: &str,
        caller: Address,
        height: Option<u64>,
    ) -> Result<QueryResult, BlockError> {
        let (head, state) = match height {
            None => {
                let snapshot = store.snapshot()?;
                let head = snapshot.head().clone();
                (head, Overlay::new(Arc::new(snapshot)))
            }
            Some(height) => {
                let past = store.past(height)?;
                (past.header.clone(), past.into_overlay())
            }
        };
        let context = BlockContext {
            height: head.height,
            time_ms: head.time_ms,
            state: Arc::new(RwLock::new(state)),
        };
        let Some(info) =
            context.record::<ContractInfo>(&keys::contract_key(contract), "contract")?
        else {
            return Ok(QueryResult::Refused(format!(
                "no contract at {}",
                hex(contract)
            )));
        };
        let member = Member {
            public_key: [0; 33],
            organisation: String::new(),
            role: Role::Member,
        };
        let call = Caller {
            context: &context,
            sender: caller,
            nonce: 0,
            member: &member,
            fuel: self.genesis.limits.query_fuel_max,
        };
        let loaded = self.loaded(&call, &info)?;
        let execution = self.runtime.execute_in(
            &loaded,
            Call {
                entry_point: &format!("query.{method}"),
                input: args.as_bytes(),
                context: Context {
                    caller,
                    contract: *contract,
                    block_height: head.height,
                    block_time_ms: head.time_ms,
                },
                fuel_limit: call.fuel,
                mode: Mode::Query,
            },
            context.world(true),
        )?;
        Ok(match status_of(execution.outcome) {
            Ok(output) => QueryResult::Success {
                output,
                fuel_used: execution.fuel_used,
                height: head.height,
            },
            Err(status) => QueryResult::Failed(status),
        })
    }
}

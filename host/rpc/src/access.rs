//! Who may read a contract's raw storage (`vellum_getRange`, `vellum_getHistory`,
//! `vellum_getProof`) and its events (`vellum_getEvents`, `vellum_subscribeEvents`): the node's
//! [`ReadPolicy`], applied to the caller a request proves (`callers.rs`). The ledger's own
//! namespace (members, nonces, code, contract records, approvals) is never public: members
//! only, whatever the policy.

use crate::{callers, params::error, State};
use jsonrpsee::types::ErrorObjectOwned;
use serde::{Deserialize, Serialize};
use vellum_ledger::SYSTEM;
use vellum_types::{hex, rpc::code, Address};

/// Who may read contracts' raw storage and events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadPolicy {
    /// Anyone (the ledger's own namespace excepted).
    #[default]
    Public,
    /// Any member, proven by a caller token.
    Members,
    /// Members of the organisation that owns the contract.
    Organisation,
}

impl ReadPolicy {
    fn name(self) -> &'static str {
        match self {
            ReadPolicy::Public => "public",
            ReadPolicy::Members => "members",
            ReadPolicy::Organisation => "organisation",
        }
    }
}

fn refused(data: String) -> ErrorObjectOwned {
    error(code::READ_REFUSED, "Read refused", data)
}

/// Whether the caller of `extensions` may read the events `contract` emitted (every
/// contract's, without one), under the node's policy: under `organisation` a query must name
/// a contract the caller's organisation owns.
pub(crate) fn events<N>(
    state: &State<N>,
    extensions: &http::Extensions,
    contract: Option<&Address>,
) -> Result<(), ErrorObjectOwned> {
    match (state.limits.read_policy, contract) {
        (ReadPolicy::Public, _) => Ok(()),
        (_, Some(contract)) => storage(state, extensions, contract),
        (ReadPolicy::Members, None) => storage(state, extensions, &SYSTEM),
        (ReadPolicy::Organisation, None) => Err(refused(
            "this node's read policy is `organisation`: name a contract your organisation owns \
             in the filter"
                .into(),
        )),
    }
}

/// Whether the caller of `extensions` may read the raw storage of `namespace` (a contract's
/// address, or the ledger's own), under the node's policy.
pub(crate) fn storage<N>(
    state: &State<N>,
    extensions: &http::Extensions,
    namespace: &Address,
) -> Result<(), ErrorObjectOwned> {
    let policy = state.limits.read_policy;
    let system = *namespace == SYSTEM;
    if policy == ReadPolicy::Public && !system {
        return Ok(());
    }
    let caller = callers::caller(extensions)?;
    let how = "send a caller token (authorization: Vellum 0x…, docs/rpc.md \"Callers\")";
    let member = match caller == [0; 32] {
        true => None,
        false => state
            .store
            .member(&caller)
            .map_err(crate::params::internal)?,
    };
    let Some(member) = member else {
        let what = match system {
            true => "the ledger's own records are readable by members only".to_string(),
            false => format!("this node's read policy is `{}`", policy.name()),
        };
        return Err(refused(format!("{what}: {how}")));
    };
    if system || policy == ReadPolicy::Members {
        return Ok(());
    }
    let owner = state
        .store
        .contract(namespace)
        .map_err(crate::params::internal)?
        .map(|info| info.owner);
    match owner {
        Some(owner) if owner == member.organisation => Ok(()),
        Some(owner) => Err(refused(format!(
            "this node's read policy is `organisation`: the storage of {} is readable by members \
             of {owner}, its owner, and {} is a member of {}",
            hex(namespace),
            hex(&caller),
            member.organisation
        ))),
        None => Err(refused(format!(
            "this node's read policy is `organisation`, and there is no contract at {}",
            hex(namespace)
        ))),
    }
}

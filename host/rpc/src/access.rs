//! Who may read a contract's raw storage (`vellum_getRange`, `vellum_getHistory`,
//! `vellum_getProof`), its events (`vellum_getEvents`, `vellum_subscribeEvents`), transactions'
//! arguments and outcomes ([`Viewer`]) and member-only queries ([`query`]): the node's
//! [`ReadPolicy`], applied to the caller a request proves (`callers.rs`). The ledger's own
//! namespace (members, nonces, code, contract records, approvals) is never public: members
//! only, whatever the policy.

use crate::{callers, params::error, State};
use jsonrpsee::types::ErrorObjectOwned;
use std::{cell::RefCell, collections::HashMap};
use vellum_ledger::SYSTEM;
pub use vellum_types::genesis::ReadPolicy;
use vellum_types::{hex, rpc::code, Action, Address, SignedTransaction};

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
    let how = "send a caller token (authorization: Vellum 0x…, docs/rpc.md \"Callers\")";
    let (member, _) = callers::member(&state.store, extensions)?;
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
    let internal = crate::params::internal;
    let owner = match state.store.contract(namespace).map_err(internal)? {
        Some(info) => Some(state.store.owner_of(&info.owner).map_err(internal)?),
        None => None,
    };
    match owner {
        Some(owner) if owner == member.organisation => Ok(()),
        Some(owner) => Err(refused(format!(
            "this node's read policy is `organisation`: the storage of {} is readable by members \
             of {owner}, its owner, and the caller is a member of {}",
            hex(namespace),
            member.organisation
        ))),
        None => Err(refused(format!(
            "this node's read policy is `organisation`, and there is no contract at {}",
            hex(namespace)
        ))),
    }
}

/// Who is reading transactions, for deciding whose arguments, outputs and events they see.
/// It remembers the organisations it looked up, so a block in full costs one read per distinct
/// sender and contract.
pub(crate) struct Viewer {
    policy: ReadPolicy,
    /// The caller's organisation, if the caller proved a member's key.
    organisation: Option<String>,
    /// Organisations of senders (by address) and owners of contracts, as looked up.
    known: RefCell<HashMap<(bool, Address), Option<String>>>,
}

impl Viewer {
    fn with(policy: ReadPolicy, organisation: Option<String>) -> Self {
        Self {
            policy,
            organisation,
            known: RefCell::default(),
        }
    }

    /// A viewer who sees everything: for answers that carry nothing a policy withholds.
    pub(crate) fn public() -> Self {
        Self::with(ReadPolicy::Public, None)
    }

    /// The caller of `extensions`, under the node's policy.
    pub(crate) fn new<N>(
        state: &State<N>,
        extensions: &http::Extensions,
    ) -> Result<Self, ErrorObjectOwned> {
        let policy = state.limits.read_policy;
        if policy == ReadPolicy::Public {
            return Ok(Self::public());
        }
        let (member, _) = callers::member(&state.store, extensions)?;
        Ok(Self::with(policy, member.map(|member| member.organisation)))
    }

    /// Whether this viewer may be refused anything ([`Viewer::sees`] is `true` for every
    /// transaction otherwise): the look-ups a check needs can be skipped when not.
    pub(crate) fn withholds(&self) -> bool {
        self.policy != ReadPolicy::Public
    }

    /// Whether this viewer sees `transaction`'s arguments and its receipt's output and events:
    /// anyone under `public`; any member under `members`; under `organisation`, members of the
    /// sender's organisation and of the called (or upgraded, or proposed to change) contract's
    /// owner.
    pub(crate) fn sees<N>(
        &self,
        state: &State<N>,
        transaction: &SignedTransaction,
    ) -> Result<bool, ErrorObjectOwned> {
        let organisation = match (self.policy, &self.organisation) {
            (ReadPolicy::Public, _) => return Ok(true),
            (_, None) => return Ok(false),
            (ReadPolicy::Members, Some(_)) => return Ok(true),
            (ReadPolicy::Organisation, Some(organisation)) => organisation,
        };
        let sender = self.organisation_of(state, false, &transaction.sender())?;
        if sender.as_ref() == Some(organisation) {
            return Ok(true);
        }
        let owner = match &transaction.transaction.action {
            Action::Call { contract, .. } | Action::Upgrade { contract, .. } => {
                self.organisation_of(state, true, contract)?
            }
            Action::Propose { change } => match change.contract() {
                Some(contract) => self.organisation_of(state, true, contract)?,
                None => None,
            },
            _ => None,
        };
        Ok(owner.as_ref() == Some(organisation))
    }

    /// The organisation of the member whose key's own address is `address` (its account's
    /// address, or a rotated-to key's), or (`contract`) the owner of contract `address`.
    fn organisation_of<N>(
        &self,
        state: &State<N>,
        contract: bool,
        address: &Address,
    ) -> Result<Option<String>, ErrorObjectOwned> {
        if let Some(known) = self.known.borrow().get(&(contract, *address)) {
            return Ok(known.clone());
        }
        let internal = crate::params::internal;
        let found = match contract {
            true => state
                .store
                .contract(address)
                .map_err(internal)?
                .map(|info| state.store.owner_of(&info.owner))
                .transpose()
                .map_err(internal)?,
            false => state
                .store
                .member(&state.store.account_of(address).map_err(internal)?)
                .map_err(internal)?
                .map(|member| member.organisation),
        };
        self.known
            .borrow_mut()
            .insert((contract, *address), found.clone());
        Ok(found)
    }
}

/// `transaction` (as `json::transaction` shows it) without its arguments: each of `args`,
/// `init_args` and `migrate_args` becomes null, and `hidden` says why.
pub(crate) fn hide_arguments(transaction: &mut serde_json::Value) {
    if let Some(action) = transaction
        .get_mut("action")
        .and_then(|a| a.as_object_mut())
    {
        for (_, fields) in action.iter_mut() {
            if let Some(fields) = fields.as_object_mut() {
                for name in ["args", "init_args", "migrate_args"] {
                    if let Some(value) = fields.get_mut(name) {
                        *value = serde_json::Value::Null;
                    }
                }
            }
        }
    }
    transaction["hidden"] = HIDDEN.into();
}

/// `receipt` (as `json::receipt` shows it) without its output and events.
pub(crate) fn hide_outcome(receipt: &mut serde_json::Value) {
    receipt["output"] = serde_json::Value::Null;
    receipt["events"] = serde_json::json!([]);
    receipt["hidden"] = HIDDEN.into();
}

/// What a hidden field's `hidden` says.
const HIDDEN: &str = "withheld by this node's read policy (docs/rpc.md, \"Read policy\")";

/// Whether `caller` may run `method` of `contract`: a query its interface marks
/// `"access": "members"` (`#[query(members)]`) is answered only to a caller proving a member's
/// key, under every policy.
pub(crate) fn query<N>(
    state: &State<N>,
    caller: &Address,
    contract: &Address,
    method: &str,
) -> Result<(), ErrorObjectOwned> {
    let internal = crate::params::internal;
    let Some(info) = state.store.contract(contract).map_err(internal)? else {
        return Ok(());
    };
    // Most interfaces mark nothing: no parse for them on every query.
    if !info.interface.contains("\"access\"") {
        return Ok(());
    }
    let interface: serde_json::Value =
        serde_json::from_str(&info.interface).unwrap_or(serde_json::Value::Null);
    let members_only = interface["methods"].as_array().is_some_and(|methods| {
        methods
            .iter()
            .any(|m| m["name"] == method && m["kind"] == "query" && m["access"] == "members")
    });
    if !members_only
        || (*caller != [0; 32] && state.store.member(caller).map_err(internal)?.is_some())
    {
        return Ok(());
    }
    Err(refused(format!(
        "the query {method} of {} is for members only: send a caller token (authorization: \
         Vellum 0x…, docs/rpc.md \"Callers\"; vellum query --key)",
        hex(contract)
    )))
}

//! The JSON shapes the API returns: bytes as `0x` hex, contract data (JSON with the SDK) as
//! JSON where it parses, cursors as opaque strings.

use serde_json::{json, Value};
use vellum_ledger::{store::ProposalStatus, ContractInfo, Version};
use vellum_types::{
    hex, keccak256, Action, Address, Block, Change, Hash, LedgerEvent, Receipt, Role, Rules,
    SignedTransaction, Status,
};

/// Contract output or stored data: its JSON if it is JSON, else `{"hex": ...}`.
pub fn output(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(bytes).unwrap_or_else(|_| json!({ "hex": hex(bytes) }))
}

/// A contract storage key: its text if it is printable UTF-8, and always its hex.
pub fn key(bytes: &[u8]) -> Value {
    let text = std::str::from_utf8(bytes)
        .ok()
        .filter(|t| t.chars().all(|c| !c.is_control()));
    json!({ "hex": hex(bytes), "text": text })
}

/// A receipt status as `{"status", "error"}` fields. `error` has one shape whatever the status:
/// `{"code", "message"}`, where `code` is the code the contract aborted with for `contract_error`
/// (its own, 100 and above, or one of the SDK's below 100) and null for the others; it is absent
/// on success.
pub fn status(status: &Status) -> Value {
    let failed = |status: &str, code: Option<u32>, message: &str| json!({"status": status, "error": {"code": code, "message": message}});
    match status {
        Status::Success => json!({"status": "success"}),
        Status::ContractError { code, message } => failed("contract_error", Some(*code), message),
        Status::Trap(trap) => failed("trap", None, trap),
        Status::OutOfFuel => failed(
            "out_of_fuel",
            None,
            "the transaction used all its fuel before it finished; send it again with a higher fuel limit",
        ),
        Status::Refused(reason) => failed("refused", None, reason),
    }
}

/// An event where it happened.
pub fn event(
    height: u64,
    index: u32,
    position: u32,
    transaction: &Hash,
    event: &LedgerEvent,
) -> Value {
    json!({
        "height": height,
        "transaction_index": index,
        "event_index": position,
        "transaction": hex(transaction),
        "contract": hex(&event.contract),
        "topic": String::from_utf8_lossy(&event.topic),
        "data": output(&event.data),
    })
}

/// A receipt where it was committed.
pub fn receipt(height: u64, index: u32, receipt: &Receipt) -> Value {
    let mut value = json!({
        "transaction": hex(&receipt.transaction),
        "height": height,
        "index": index,
        "output": output(&receipt.output),
        "fuel_used": receipt.fuel_used,
        "contract": receipt.contract.map(|c| hex(&c)),
        "events": receipt.events.iter().enumerate().map(|(i, e)| event(height, index, i as u32, &receipt.transaction, e)).collect::<Vec<_>>(),
        "receipt_hash": hex(&receipt.hash()),
    });
    if let (Value::Object(fields), Value::Object(status)) = (&mut value, status(&receipt.status)) {
        fields.extend(status);
    }
    value
}

fn role(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Member => "member",
    }
}

/// What a proposal changes, as one object: `kind` and the change's fields (code as its hash and
/// size).
pub fn change(change: &Change) -> Value {
    let kind = change.kind();
    match change {
        Change::Deploy {
            code,
            init_args,
            upgrade_policy,
        } => json!({
            "kind": kind, "code_hash": hex(&keccak256(code)), "code_bytes": code.len(),
            "init_args": init_args, "upgrade_policy": upgrade_policy.to_string(),
        }),
        Change::Upgrade {
            contract,
            version,
            code,
            migrate_args,
        } => json!({
            "kind": kind, "contract": hex(contract), "version": version,
            "code_hash": hex(&keccak256(code)), "code_bytes": code.len(), "migrate_args": migrate_args,
        }),
        Change::Freeze { contract } | Change::Unfreeze { contract } => {
            json!({ "kind": kind, "contract": hex(contract) })
        }
        Change::SetUpgradePolicy { contract, policy } => {
            json!({ "kind": kind, "contract": hex(contract), "policy": policy.to_string() })
        }
        Change::AddOrganisation { name, admins } => json!({
            "kind": kind, "name": name, "admins": admins.iter().map(|k| hex(k)).collect::<Vec<_>>(),
        }),
        Change::RemoveOrganisation { name, successor } => {
            json!({ "kind": kind, "name": name, "successor": successor })
        }
        Change::SetRules {
            rules: new,
            sequence,
        } => json!({ "kind": kind, "rules": rules(new), "sequence": sequence }),
    }
}

/// Governance rules, each policy as `vellum gov` writes it.
pub fn rules(rules: &Rules) -> Value {
    let mut out = serde_json::Map::new();
    for (name, policy) in rules.policies() {
        out.insert(name.into(), policy.to_string().into());
    }
    out.insert(
        "proposal_lifetime_blocks".into(),
        rules.proposal_lifetime_blocks.into(),
    );
    Value::Object(out)
}

/// A proposal with what came of it, and its state after the block at `height`: `open`,
/// `executed`, or `expired` (no later block may execute it).
pub fn proposal(status: &ProposalStatus, height: u64) -> Value {
    let proposal = &status.proposal;
    let state = match status.executed_at {
        Some(_) => "executed",
        None if height >= proposal.expires_at => "expired",
        None => "open",
    };
    json!({
        "id": proposal.id,
        "proposer": hex(&proposal.proposer),
        "organisation": proposal.organisation,
        "change": change(&proposal.change),
        "sequence": proposal.sequence,
        "proposed_at": proposal.proposed_at,
        "expires_at": proposal.expires_at,
        "executed_at": status.executed_at,
        "state": state,
        "approvals": status
            .approvals
            .iter()
            .map(|(organisation, height)| json!({ "organisation": organisation, "height": height }))
            .collect::<Vec<_>>(),
    })
}

/// A signed transaction, decoded. Its `sender_address` is its key's own address, which is the
/// account's unless the account rotated to this key (the caller replaces it then).
pub fn transaction(signed: &SignedTransaction) -> Value {
    let tx = &signed.transaction;
    let action = match &tx.action {
        Action::Deploy { code, init_args } => json!({
            "deploy": { "code_hash": hex(&keccak256(code)), "code_bytes": code.len(), "init_args": init_args }
        }),
        Action::Call {
            contract,
            method,
            args,
        } => json!({
            "call": { "contract": hex(contract), "method": method, "args": args }
        }),
        Action::Upgrade {
            contract,
            code,
            migrate_args,
        } => json!({
            "upgrade": { "contract": hex(contract), "code_hash": hex(&keccak256(code)), "migrate_args": migrate_args }
        }),
        Action::ApproveCode { code_hash } => {
            json!({ "approve_code": { "code_hash": hex(code_hash) } })
        }
        Action::AddMember {
            public_key,
            organisation,
            role: r,
        } => json!({
            "add_member": { "public_key": hex(public_key), "organisation": organisation, "role": role(*r) }
        }),
        Action::RemoveMember { public_key } => {
            json!({ "remove_member": { "public_key": hex(public_key) } })
        }
        Action::PurgePrivate { hash } => {
            json!({ "purge_private": { "hash": hex(hash) } })
        }
        Action::RotateKey {
            account,
            public_key,
            proof,
        } => json!({
            "rotate_key": { "account": hex(account), "public_key": hex(public_key), "proof": hex(proof) }
        }),
        Action::Propose { change: c } => json!({ "propose": change(c) }),
        Action::Approve { proposal } => json!({ "approve": { "proposal": proposal } }),
        Action::Withdraw { proposal } => json!({ "withdraw": { "proposal": proposal } }),
    };
    json!({
        "hash": hex(&signed.hash()),
        "chain_id": tx.chain_id,
        "sender": hex(&tx.sender),
        "sender_address": hex(&signed.sender()),
        "nonce": tx.nonce,
        "fuel_limit": tx.fuel_limit,
        "action": action,
        "signature": hex(&signed.signature),
    })
}

/// A block; with `receipts`, its transactions and receipts in full, else their hashes.
pub fn block(block: &Block, receipts: Option<&[Receipt]>) -> Value {
    let header = &block.header;
    let transactions: Vec<Value> = match receipts {
        Some(receipts) => block
            .transactions
            .iter()
            .zip(receipts)
            .enumerate()
            .map(|(i, (t, r))| json!({ "transaction": transaction(t), "receipt": receipt(header.height, i as u32, r) }))
            .collect(),
        None => block.transactions.iter().map(|t| json!(hex(&t.hash()))).collect(),
    };
    json!({
        "height": header.height,
        "hash": hex(&header.hash()),
        "parent": hex(&header.parent),
        "time_ms": header.time_ms,
        "proposer": hex(&header.proposer),
        "transactions_root": hex(&header.transactions_root),
        "receipts_root": hex(&header.receipts_root),
        "state_root": hex(&header.state_root),
        "fuel_used": header.fuel_used,
        "schedule_version": header.schedule_version,
        "transactions": transactions,
    })
}

/// A deployed contract.
/// `owner` is the organisation that owns it now (its record's, or that one's successor).
pub fn contract(address: &Address, info: &ContractInfo, owner: &str) -> Value {
    json!({
        "address": hex(address),
        "code_hash": hex(&info.code_hash),
        "version": info.version,
        "deployer": hex(&info.deployer),
        "owner": owner,
        "upgrade_policy": info.upgrade_policy.to_string(),
        "frozen": info.frozen,
        "sequence": info.sequence,
        "deployed_at": info.deployed_at,
        "interface": serde_json::from_str::<Value>(&info.interface).unwrap_or(Value::Null),
    })
}

/// One version of a key.
pub fn version(version: &Version) -> Value {
    json!({
        "height": version.height,
        "index": version.position,
        "value": version.value.as_deref().map(output),
        "removed": version.value.is_none(),
    })
}

/// The cursor after a version.
pub fn version_cursor(height: u64, position: u32) -> String {
    format!("{height}:{position}")
}

/// A cursor from [`version_cursor`].
pub fn parse_version_cursor(text: &str) -> Option<(u64, u32)> {
    let (height, position) = text.split_once(':')?;
    Some((height.parse().ok()?, position.parse().ok()?))
}

/// The cursor after an event.
pub fn event_cursor((height, index, position): (u64, u32, u32)) -> String {
    format!("{height}:{index}:{position}")
}

/// A cursor from [`event_cursor`].
pub fn parse_event_cursor(text: &str) -> Option<(u64, u32, u32)> {
    let mut parts = text.split(':');
    let cursor = (
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    );
    parts.next().is_none().then_some(cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every failed status says why in `error`, in one shape: `{"code", "message"}`, the code
    /// only for a contract's own error (out of fuel once said nothing, so `vellum deploy` printed
    /// "failed: null"; the others were bare text).
    #[test]
    fn every_failed_status_says_why() {
        let failures = [
            Status::ContractError {
                code: 5,
                message: "no such lot".into(),
            },
            Status::Trap("unreachable".into()),
            Status::OutOfFuel,
            Status::Refused("no code approved".into()),
        ];
        for failed in failures {
            let value = status(&failed);
            let error = value["error"].as_object().expect("an object");
            assert_eq!(error.len(), 2, "{value}");
            assert!(
                error["message"]
                    .as_str()
                    .is_some_and(|text| !text.is_empty()),
                "{value}"
            );
            let contract = matches!(failed, Status::ContractError { .. });
            assert_eq!(error["code"].is_u64(), contract, "{value}");
            assert_eq!(error["code"].is_null(), !contract, "{value}");
        }
        assert_eq!(status(&Status::Success)["error"], Value::Null);
    }
}

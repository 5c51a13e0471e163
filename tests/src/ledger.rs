//! The network the ledger's cross-process tests run: one organisation, one admin.

use k256::ecdsa::SigningKey;
use vellum::ledger::{
    genesis::{ChainLimits, GenesisMember, Organisation},
    transaction::{hex, public_key},
    Action, DeployPolicy, Genesis, Role,
};

/// The test key with every byte `seed`.
pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32])
        .unwrap_or_else(|_| unreachable!("nonzero scalar below the order"))
}

/// Genesis with key 1 as the only admin.
pub fn genesis() -> Genesis {
    Genesis {
        chain_id: "vellum-crash".into(),
        time_ms: 1_700_000_000_000,
        organisations: vec![Organisation {
            name: "org".into(),
            members: vec![GenesisMember {
                public_key: hex(&public_key(&key(1))),
                role: Role::Admin,
            }],
        }],
        deploy_policy: DeployPolicy::AnyAdmin,
        limits: ChainLimits::default(),
        validators: Vec::new(),
    }
}

/// The committed artifact of contract `name`.
pub fn artifact(name: &str) -> Vec<u8> {
    std::fs::read(crate::artifact(name)).unwrap_or_else(|e| panic!("artifact {name}: {e}"))
}

/// A call of `method` with JSON `args`.
pub fn call(contract: [u8; 32], method: &str, args: serde_json::Value) -> Action {
    Action::Call {
        contract,
        method: method.into(),
        args: args.to_string(),
    }
}

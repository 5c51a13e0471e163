//! Helpers for the ledger's tests: a two-organisation network, keys, and a node on a real redb
//! file in a temporary directory.
#![allow(dead_code)] // each test binary uses a different subset

use k256::ecdsa::SigningKey;
use std::path::{Path, PathBuf};
use vellum::ledger::{
    genesis::{ChainLimits, GenesisMember, Organisation},
    transaction::{hex, public_key},
    Action, DeployPolicy, ExecutedBlock, Executor, Genesis, Proposal, Role, SignedTransaction,
    Store, Transaction,
};
use vellum_runtime::RuntimeConfig;

pub const CHAIN: &str = "vellum-test";
pub const FUEL: u64 = 50_000_000;

/// Keys 1 and 2 are the admins of `bank-a` and `bank-b`; key 3 is a member of `bank-a`; key 9 is
/// nobody.
pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).expect("valid scalar")
}

pub fn genesis(policy: DeployPolicy) -> Genesis {
    let member = |seed: u8, role| GenesisMember {
        public_key: hex(&public_key(&key(seed))),
        role,
    };
    Genesis {
        chain_id: CHAIN.into(),
        time_ms: 1_700_000_000_000,
        organisations: vec![
            Organisation {
                name: "bank-a".into(),
                members: vec![member(1, Role::Admin), member(3, Role::Member)],
            },
            Organisation {
                name: "bank-b".into(),
                members: vec![member(2, Role::Admin)],
            },
            Organisation {
                name: "bank-c".into(),
                members: vec![member(4, Role::Admin)],
            },
        ],
        deploy_policy: policy,
        limits: ChainLimits::default(),
        validators: Vec::new(),
    }
}

pub fn artifact(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../contracts/artifacts")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).expect("committed artifact")
}

pub fn sign(signer: u8, nonce: u64, action: Action) -> SignedTransaction {
    Transaction {
        chain_id: CHAIN.into(),
        sender: public_key(&key(signer)),
        nonce,
        fuel_limit: FUEL,
        action,
    }
    .sign(&key(signer))
}

pub fn call(
    signer: u8,
    nonce: u64,
    contract: [u8; 32],
    method: &str,
    args: serde_json::Value,
) -> SignedTransaction {
    sign(
        signer,
        nonce,
        Action::Call {
            contract,
            method: method.into(),
            args: args.to_string(),
        },
    )
}

/// A node: a store in its own directory and an executor.
pub struct Node {
    pub store: Store,
    pub executor: Executor,
    pub dir: tempfile::TempDir,
}

impl Node {
    pub fn new(genesis: Genesis) -> Self {
        Self::with_runtime(genesis, RuntimeConfig::default())
    }

    pub fn with_runtime(genesis: Genesis, runtime: RuntimeConfig) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let executor = Executor::new(genesis.clone(), runtime).expect("executor");
        let store = Store::open(&dir.path().join("ledger.redb"), &genesis).expect("store opens");
        Self {
            store,
            executor,
            dir,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The next proposal on top of the head, one second later.
    pub fn proposal(&self, transactions: Vec<SignedTransaction>) -> Proposal {
        let head = self.store.head().expect("head");
        Proposal {
            height: head.height + 1,
            parent: head.hash(),
            time_ms: head.time_ms + 1_000,
            proposer: [0; 32],
            transactions,
        }
    }

    /// Execute and commit a block of `transactions`.
    pub fn block(&self, transactions: Vec<SignedTransaction>) -> ExecutedBlock {
        let executed = self
            .executor
            .execute(&self.store, self.proposal(transactions))
            .expect("valid block");
        self.store.commit(&executed).expect("commit");
        executed
    }
}

/// The first of ten consecutive loopback ports that are free now (a network under test binds
/// them itself, so concurrent test runs must not pick the same ones).
pub fn free_ports() -> u16 {
    let seed = std::process::id() as u64
        ^ std::time::UNIX_EPOCH
            .elapsed()
            .map_or(0, |d| d.as_nanos() as u64);
    (0..1_000u64)
        .map(|i| {
            20_000
                + ((seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(i * 7_919))
                    % 4_000) as u16
                    * 10
        })
        .find(|&base| {
            (base..base + 10).all(|port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        })
        .expect("ten free loopback ports")
}

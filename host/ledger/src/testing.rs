//! Helpers for tests and benches (feature `test-utils`): a three-organisation network of known
//! keys, signed transactions, the committed contract artifacts, and a node on a real redb file in
//! a temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test scaffolding: a failure is the test's

use crate::{ExecutedBlock, Executor, Proposal, Store};
use k256::ecdsa::SigningKey;
use std::path::{Path, PathBuf};
use vellum_runtime::RuntimeConfig;
use vellum_types::{
    genesis::{ChainLimits, GenesisMember, Organisation},
    hex, public_key, Action, DeployPolicy, Genesis, Header, Role, SignedTransaction, Transaction,
};

/// The test network's chain id.
pub const CHAIN: &str = "vellum-test";
/// Fuel each test transaction asks for.
pub const FUEL: u64 = 50_000_000;

/// Keys 1 and 2 are the admins of `bank-a` and `bank-b`; key 3 is a member of `bank-a`; key 9 is
/// nobody.
pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).expect("valid scalar")
}

/// The test network: `bank-a` (admin 1, member 3), `bank-b` (admin 2), `bank-c` (admin 4).
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
        read_policy: Default::default(),
        governance: Default::default(),
    }
}

/// The committed wasm artifact of bundled contract `name` (`contracts/artifacts/<name>.wasm`).
pub fn artifact(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../contracts/artifacts")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).expect("committed artifact")
}

/// Transaction `action` by key `signer` with `nonce`.
pub fn sign(signer: u8, nonce: u64, action: Action) -> SignedTransaction {
    sign_with_fuel(signer, nonce, FUEL, action)
}

/// The same with a fuel limit of `fuel_limit`.
pub fn sign_with_fuel(
    signer: u8,
    nonce: u64,
    fuel_limit: u64,
    action: Action,
) -> SignedTransaction {
    Transaction {
        chain_id: CHAIN.into(),
        sender: public_key(&key(signer)),
        nonce,
        fuel_limit,
        action,
    }
    .sign(&key(signer))
}

/// A call of `contract`'s `method` by key `signer` with `nonce`.
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
    /// Its store.
    pub store: Store,
    /// Its executor.
    pub executor: Executor,
    /// The directory holding the store, removed on drop.
    pub dir: tempfile::TempDir,
}

impl Node {
    /// A node for `genesis` with the default runtime.
    pub fn new(genesis: Genesis) -> Self {
        Self::with_runtime(genesis, RuntimeConfig::default())
    }

    /// A node for `genesis` running `runtime`.
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

    /// Its directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The next proposal on top of the head, one second later.
    pub fn proposal(&self, transactions: Vec<SignedTransaction>) -> Proposal {
        next_proposal(&self.store.head().expect("head"), transactions)
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

/// The proposal of `transactions` on top of `head`, one second after it, by no one.
pub fn next_proposal(head: &Header, transactions: Vec<SignedTransaction>) -> Proposal {
    Proposal {
        height: head.height + 1,
        parent: head.hash(),
        time_ms: head.time_ms + 1_000,
        proposer: [0; 32],
        transactions,
    }
}

//! The ledger's own records, kept in the [`SYSTEM`](super::store::SYSTEM) namespace of state.
//!
//! | key | value |
//! |---|---|
//! | `nonce/` ‖ address | next nonce, u64 big-endian |
//! | `member/` ‖ address | borsh([`Member`]) |
//! | `code/` ‖ code hash | the wasm |
//! | `contract/` ‖ address | borsh([`ContractInfo`]) |
//! | `approval/` ‖ code hash ‖ organisation | height of the approval, u64 big-endian |

use super::{
    block::StateWrite,
    genesis::Genesis,
    store::{full_key, SYSTEM},
    transaction::{address_of, keccak256, Address, Hash, PublicKey, Role},
};
use borsh::{BorshDeserialize, BorshSerialize};

/// A registered identity.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Member {
    /// Its key.
    pub public_key: PublicKey,
    /// Its organisation.
    pub organisation: String,
    /// Its role there.
    pub role: Role,
}

/// A deployed contract.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ContractInfo {
    /// keccak256 of its current wasm.
    pub code_hash: Hash,
    /// 1 at deploy, one more per upgrade.
    pub version: u32,
    /// Who deployed it.
    pub deployer: Address,
    /// Height of the deploy.
    pub deployed_at: u64,
    /// Its interface JSON (the `vellum:interface` custom section), or empty.
    pub interface: String,
}

fn system(parts: &[&[u8]]) -> Vec<u8> {
    full_key(&SYSTEM, &parts.concat())
}

/// Where `address`'s next nonce is kept.
pub fn nonce_key(address: &Address) -> Vec<u8> {
    system(&[b"nonce/", address])
}

/// Where `address`'s membership is kept.
pub fn member_key(address: &Address) -> Vec<u8> {
    system(&[b"member/", address])
}

/// Where code with `hash` is kept.
pub fn code_key(hash: &Hash) -> Vec<u8> {
    system(&[b"code/", hash])
}

/// Where contract `address`'s record is kept.
pub fn contract_key(address: &Address) -> Vec<u8> {
    system(&[b"contract/", address])
}

/// Where `organisation`'s approval of `code_hash` is kept.
pub fn approval_key(code_hash: &Hash, organisation: &str) -> Vec<u8> {
    system(&[b"approval/", code_hash, organisation.as_bytes()])
}

/// The address of the contract `deployer` creates with its transaction of `nonce`.
pub fn contract_address(deployer: &Address, nonce: u64) -> Address {
    keccak256(
        &[
            b"vellum/contract".as_slice(),
            deployer,
            &nonce.to_be_bytes(),
        ]
        .concat(),
    )
}

/// The state written at genesis: every identity's membership, sorted by key.
pub fn genesis_writes(genesis: &Genesis) -> Vec<StateWrite> {
    let mut writes: Vec<StateWrite> = genesis
        .identities()
        .map(|(public_key, organisation, role)| {
            let member = Member {
                public_key,
                organisation: organisation.to_string(),
                role,
            };
            (
                member_key(&address_of(&public_key)),
                Some(borsh::to_vec(&member).unwrap_or_default()),
            )
        })
        .collect();
    writes.sort();
    writes
}

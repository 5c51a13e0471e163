//! The ledger's own records, kept in the [`SYSTEM`](crate::keys::SYSTEM) namespace of state
//! ([`crate::keys`] says where each one lives).

use borsh::{BorshDeserialize, BorshSerialize};
use vellum_types::{keccak256, Address, Hash, PublicKey, Role};

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
    /// The organisation that owns it: its deployer's. Only that organisation's admins may
    /// upgrade it.
    pub owner: String,
    /// Height of the deploy.
    pub deployed_at: u64,
    /// Its interface JSON (the `vellum:interface` custom section), or empty.
    pub interface: String,
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

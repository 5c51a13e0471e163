//! Block 0: what a new store commits before any transaction, derived from the genesis file
//! alone.

use crate::{
    executed::{ExecutedBlock, StateWrite},
    keys,
    records::{Member, Organisation},
};
use vellum_types::{address_of, merkle_root, Block, Genesis, Hash, Header};

/// The state written at genesis: every identity's membership and every organisation's record
/// and their list, sorted by key.
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
                keys::member_key(&address_of(&public_key)),
                Some(borsh::to_vec(&member).unwrap_or_default()),
            )
        })
        .collect();
    let mut names: Vec<String> = genesis
        .organisations
        .iter()
        .map(|o| o.name.clone())
        .collect();
    names.sort();
    for name in &names {
        let record = Organisation {
            joined_at: 0,
            removed: None,
        };
        writes.push((
            keys::organisation_key(name),
            Some(borsh::to_vec(&record).unwrap_or_default()),
        ));
    }
    writes.push((
        keys::organisations_key(),
        Some(borsh::to_vec(&names).unwrap_or_default()),
    ));
    writes.sort();
    writes
}

/// Block 0: the genesis identities written at height 0, on top of the genesis hash, with
/// `state_root` the commitment to [`genesis_writes`] in an empty commitment. It executes nothing,
/// so its schedule version is 0: block 0 depends on the genesis file alone.
pub fn genesis_block(genesis: &Genesis, state_root: Hash) -> ExecutedBlock {
    let writes = genesis_writes(genesis);
    let header = Header {
        height: 0,
        parent: genesis.hash(),
        time_ms: genesis.time_ms,
        proposer: [0; 32],
        transactions_root: merkle_root(std::iter::empty()),
        receipts_root: merkle_root(std::iter::empty()),
        state_root,
        fuel_used: 0,
        schedule_version: 0,
    };
    ExecutedBlock {
        block: Block {
            header,
            transactions: Vec::new(),
        },
        receipts: Vec::new(),
        versions: writes
            .iter()
            .map(|(k, v)| (0, k.clone(), v.clone()))
            .collect(),
        writes,
    }
}

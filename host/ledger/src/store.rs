//! The node's durable store: blocks, receipts, indexes, world state and its history, in redb.
//!
//! # Tables
//!
//! | table | key | value |
//! |---|---|---|
//! | `meta` | name | genesis hash, height |
//! | `blocks` | height | borsh(`Block`) |
//! | `receipts` | height | borsh(`Vec<Receipt>`) |
//! | `transactions` | tx hash | (height, position) |
//! | `state` | namespace (32) ‖ key | value |
//! | `history` | len(full key) u32 BE ‖ full key ‖ height u64 BE ‖ first position u32 BE | borsh(`Vec<(position u32, Option<value>)>`) |
//! | `events` | (height, transaction position, event position) | borsh((transaction hash, `LedgerEvent`)) |
//! | `event_index` | selector ‖ height ‖ transaction position ‖ event position ([`crate::keys`]) | () |
//! | `commitments` | height | the state commitment's operation count after the block |
//! | `undo` | height | borsh(`Vec<(full key, Option<value>)>`): what each key the block wrote held before it |
//!
//! A namespace is a contract's address, or [`SYSTEM`](crate::keys::SYSTEM) for the ledger's own records (nonces,
//! members, code, contracts, approvals; [`crate::keys`] has the layout), so the ledger's state has
//! the same history and commitment as contract state. A `history` row holds the versions one block
//! wrote to one key, by ascending transaction position, keyed by the first one's position; a row
//! is closed once its encoding reaches [`HISTORY_ROW_BYTES`], and the block's next version of the
//! key starts another. Rows sort all versions of one key together, oldest first: the history of a
//! key is one range scan, and its value at a past height is the last version at or below that
//! height. (One row per key and block, not per version: a block of transfers among 40 accounts
//! writes 80 rows where it wrote thousands, the commit's costliest part; BENCHMARKS.md.) The state after an earlier block, whole (for a query at a past height,
//! [`Store::past`]), is the current state under the `undo` records of the blocks since: for each
//! key, the value the first later block to write it found.
//!
//! # Crash safety
//!
//! Each block is committed by exactly one redb write transaction with immediate durability, which
//! redb makes atomic: after a crash the store holds every block whose commit returned and nothing
//! of any other. A commit checks, inside its transaction, that the block extends the stored head;
//! opening a store checks that it was created for the same genesis.
//!
//! The state commitment ([`crate::commitment`]) lives in a directory beside the redb file
//! (`<file>.commitment`), outside redb's transaction. A commit applies the block's batch there
//! first and makes it durable, then commits the block to redb with the commitment's operation
//! count. Opening a store reopens the commitment at the count recorded for redb's head, which
//! drops a block the commitment took but redb did not, and checks that its root is the head's
//! `state_root`.

use crate::{
    commitment::{Commitment, CommitmentError, Link, Proved},
    executed::{ExecutedBlock, StateWrite, VersionWrite},
    genesis::{genesis_block, genesis_writes},
    keys::{
        self, event_index_key, event_position, full_key, history_key, history_prefix,
        scoped_bounds, EventPosition, EventSelector,
    },
    records::{ContractInfo, Member, Organisation, Proposal, RulesRecord, Signing},
};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use std::{
    collections::BTreeMap,
    ops::{Bound, RangeInclusive},
    path::Path,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};
use vellum_runtime::{
    storage::{borrowed, is_empty_range},
    Order, Overlay, Storage, StorageError,
};
use vellum_types::{
    hex,
    proof::{self, Finality, ReceiptProof, FINALITY_HEADERS_MAX},
    state::StateProof,
    Address, Block, Genesis, Hash, Header, LedgerEvent, PublicKey, Receipt,
};

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const RECEIPTS: TableDefinition<u64, &[u8]> = TableDefinition::new("receipts");
const TRANSACTIONS: TableDefinition<&[u8], (u64, u32)> = TableDefinition::new("transactions");
const STATE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("state");
const HISTORY: TableDefinition<&[u8], &[u8]> = TableDefinition::new("history");
const SEALS: TableDefinition<u64, &[u8]> = TableDefinition::new("seals");
const BLOCK_HASHES: TableDefinition<&[u8], u64> = TableDefinition::new("block_hashes");
const EVENTS: TableDefinition<EventPosition, &[u8]> = TableDefinition::new("events");
const EVENT_INDEX: TableDefinition<&[u8], ()> = TableDefinition::new("event_index");
const COMMITMENTS: TableDefinition<u64, u64> = TableDefinition::new("commitments");
/// Per block: the value each key it wrote held before it (borsh `Vec<(full key, Option<value>)>`),
/// so state as of an earlier height is the current state with the later blocks undone.
const UNDO: TableDefinition<u64, &[u8]> = TableDefinition::new("undo");

/// The most keys a view of past state ([`Store::past`]) undoes: the distinct keys written after
/// the height it reads, which it holds in memory.
pub const PAST_KEYS_MAX: usize = 200_000;

/// The `meta` entry that holds the format of the records in `state` (u64 big-endian). A store
/// without it was written before governance (format 1), whose contract records this version
/// cannot read and whose organisations it does not know: it is refused, not reinterpreted.
const FORMAT: &str = "format";

/// The format this version writes and reads: 3, contract records with owners' policies,
/// sequences and freezes, organisations' records and governance proposals (since 2), and
/// `history` rows that each hold one block's versions of one key (format 2 stored one version per
/// row, and is converted when opened).
pub const FORMAT_VERSION: u64 = 3;

/// The encoded size at which a `history` row is closed: a row holds at most this much plus one
/// version, and a read of a key's history decodes at most one row it returns nothing from (the
/// row that holds its cursor) and the unused part of the last row it returns from.
pub const HISTORY_ROW_BYTES: usize = 16 * 1024;

/// The `meta` entry that says every committed event is in `events` and `event_index`. A store
/// written before the index existed lacks it, and gets its index built when opened.
const EVENTS_INDEXED: &str = "events_indexed";
/// The `meta` key of the height below which every block's history is pruned
/// ([`Store::retain_history`]); absent while none is.
const HISTORY_PRUNED_BELOW: &str = "history_pruned_below";
/// Most blocks whose history one commit prunes: a retention set on a long chain is caught up
/// with over the commits that follow, not in one.
pub const HISTORY_PRUNE_STEP: u64 = 64;

/// One event read from the index: where it sits, the transaction that emitted it, the event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedEvent {
    /// Height, transaction position and event position.
    pub position: EventPosition,
    /// The hash of the transaction that emitted it.
    pub transaction: Hash,
    /// The event.
    pub event: LedgerEvent,
}

/// A failure of the store itself.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// redb failed (I/O, corruption).
    #[error("database: {0}")]
    Database(#[from] redb::Error),
    /// Another process has the store open: a node still running, or still exiting, on the same
    /// data directory.
    #[error("{path} is open in another process (a node still running, or still exiting, on this data directory); stop it, or wait for it to exit, and start again")]
    Locked {
        /// The store's file.
        path: std::path::PathBuf,
    },
    /// A stored record does not decode: the file is damaged or from an incompatible version.
    #[error("corrupt record in `{table}`: {detail}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What failed.
        detail: String,
    },
    /// A block that does not extend the head was handed to `commit`.
    #[error(
        "block {height} with parent {parent} does not extend the stored head at height {head}"
    )]
    NotNext {
        /// The block's height.
        height: u64,
        /// The block's parent.
        parent: String,
        /// The stored head's height.
        head: u64,
    },
    /// The state commitment failed, or disagrees with the blocks.
    #[error(transparent)]
    Commitment(#[from] CommitmentError),
    /// The store was written by a version without the state commitment.
    #[error("this data directory was written before headers carried the state commitment (issue 16); start a new data directory")]
    NoCommitment,
    /// A read of state at a height the store has not reached.
    #[error("height {height} is beyond the head ({head})")]
    Beyond {
        /// The height asked for.
        height: u64,
        /// The stored head.
        head: u64,
    },
    /// A read of state at a height whose later blocks' undo records this store does not hold.
    #[error("state at height {height} is not retained here: reading it needs block {missing}'s undo record, which this node does not keep for past state (it keeps those of its newest blocks only, its `state_retention_blocks`, and wrote none before this version); read a later height, or a key's past values with its history")]
    NotRetained {
        /// The height asked for.
        height: u64,
        /// The first later block without an undo record.
        missing: u64,
    },
    /// A read of state so far back that more keys were written since than a view holds.
    #[error("state at height {height} lies under more than {max} keys written up to the head ({head}); read a later height, or a key's past values with its history")]
    TooFarBack {
        /// The height asked for.
        height: u64,
        /// The stored head.
        head: u64,
        /// [`PAST_KEYS_MAX`].
        max: usize,
    },
    /// The store was created from another genesis file.
    #[error("this data directory belongs to genesis {stored}, not {given}; use the matching genesis file or a new directory")]
    GenesisMismatch {
        /// Genesis hash in the store.
        stored: String,
        /// Genesis hash given.
        given: String,
    },
    /// The store holds records in a format this version does not read.
    #[error("this data directory holds ledger records of format {found}, and this version of Vellum reads format {expected}, and converts format 2 when it opens it (format 1 is from before governance: contracts without owners' policies, no organisation records); other formats are not converted, since nodes would then disagree: start the network again from a new genesis file with new data directories, or run the version that wrote them")]
    Format {
        /// The format in the store (1 when it records none).
        found: u64,
        /// [`FORMAT_VERSION`].
        expected: u64,
    },
}

/// Every layer of redb's errors (opening, transactions, tables, storage, commits) is a
/// [`StoreError::Database`] with its source kept, so `?` works on any redb call.
macro_rules! from_redb {
    ($($error:ty),*) => {$(
        impl From<$error> for StoreError {
            fn from(error: $error) -> Self {
                StoreError::Database(error.into())
            }
        }
    )*};
}

from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

fn corrupt(table: &'static str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table,
        detail: error.to_string(),
    }
}

/// One version of a key: what a transaction set it to (or that it removed it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    /// Height of the block.
    pub height: u64,
    /// Position of the transaction in the block.
    pub position: u32,
    /// The value written, or `None` for a removal.
    pub value: Option<Vec<u8>>,
}

/// The durable store of one node.
pub struct Store {
    db: Database,
    genesis_hash: Hash,
    commitment: Commitment,
    /// How many of the newest blocks' undo records it keeps ([`Store::retain_state`]).
    undo_blocks: AtomicU64,
    /// How many of the newest blocks' history it keeps ([`Store::retain_history`]).
    history_blocks: AtomicU64,
}

/// Where the state commitment of the store at `path` lives: a directory beside it.
pub fn commitment_directory(path: &Path) -> std::path::PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".commitment");
    path.with_file_name(name)
}

impl Store {
    /// Open (or create) the store at `path` for `genesis`. A new store commits block 0: no
    /// transactions, the genesis identities as its writes.
    pub fn open(path: &Path, genesis: &Genesis) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(|error| match error {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Locked { path: path.into() },
            error => error.into(),
        })?;
        let genesis_hash = genesis.hash();
        let write = db.begin_write()?;
        {
            let mut meta = write.open_table(META)?;
            let stored = meta.get("genesis")?.map(|v| v.value().to_vec());
            match stored {
                Some(stored) if stored != genesis_hash => {
                    return Err(StoreError::GenesisMismatch {
                        stored: hex(&stored),
                        given: hex(&genesis_hash),
                    })
                }
                Some(_) => {
                    let format = meta
                        .get(FORMAT)?
                        .map_or(1, |v| nonce_of(Some(v.value().to_vec())));
                    if format == 2 {
                        regroup_history(&write)?;
                        meta.insert(FORMAT, FORMAT_VERSION.to_be_bytes().as_slice())?;
                    } else if format != FORMAT_VERSION {
                        return Err(StoreError::Format {
                            found: format,
                            expected: FORMAT_VERSION,
                        });
                    }
                }
                None => {
                    meta.insert("genesis", genesis_hash.as_slice())?;
                    meta.insert(FORMAT, FORMAT_VERSION.to_be_bytes().as_slice())?;
                    meta.insert(EVENTS_INDEXED, [1u8].as_slice())?;
                }
            }
            let indexed = meta.get(EVENTS_INDEXED)?.is_some();
            // Create every table so readers never meet a missing one.
            write.open_table(BLOCKS)?;
            write.open_table(RECEIPTS)?;
            write.open_table(TRANSACTIONS)?;
            write.open_table(STATE)?;
            write.open_table(HISTORY)?;
            write.open_table(EVENTS)?;
            write.open_table(EVENT_INDEX)?;
            write.open_table(COMMITMENTS)?;
            write.open_table(UNDO)?;
            if !indexed {
                index_stored_events(&write)?;
                meta.insert(EVENTS_INDEXED, [1u8].as_slice())?;
            }
        }
        write.commit()?;
        // The commitment is opened at the operation count recorded with redb's head, which
        // rewinds it if it committed a block redb did not.
        let directory = commitment_directory(path);
        let head = {
            let read = db.begin_read()?;
            let meta = read.open_table(META)?;
            let height = meta
                .get("height")?
                .and_then(|v| v.value().try_into().ok().map(u64::from_be_bytes));
            match height {
                None => None,
                Some(height) => {
                    let operations = read
                        .open_table(COMMITMENTS)?
                        .get(height)?
                        .ok_or(StoreError::NoCommitment)?
                        .value();
                    Some((height, operations))
                }
            }
        };
        let Some((height, operations)) = head else {
            // A new store (or one whose block 0 never landed): the commitment starts empty.
            if directory.exists() {
                std::fs::remove_dir_all(&directory).map_err(|e| corrupt("commitment", e))?;
            }
            let commitment = Commitment::open(&directory, None, 0)?;
            let writes = genesis_writes(genesis);
            let root = commitment.root_after(&commitment.opened().root, &[], 0, &writes)?;
            let store = Self {
                db,
                genesis_hash,
                commitment,
                undo_blocks: AtomicU64::new(u64::MAX),
                history_blocks: AtomicU64::new(u64::MAX),
            };
            let base = store.commitment.opened().root;
            store.commit_on(&base, &genesis_block(genesis, root), None)?;
            return Ok(store);
        };
        let commitment = Commitment::open(&directory, Some(operations), height)?;
        let store = Self {
            db,
            genesis_hash,
            commitment,
            undo_blocks: AtomicU64::new(u64::MAX),
            history_blocks: AtomicU64::new(u64::MAX),
        };
        let head = store.head()?;
        if store.commitment.opened().root != head.state_root {
            return Err(corrupt(
                "commitment",
                format!(
                    "the commitment's root {} is not block {height}'s state root {}",
                    hex(&store.commitment.opened().root),
                    hex(&head.state_root)
                ),
            ));
        }
        Ok(store)
    }

    /// The state commitment.
    pub fn commitment(&self) -> &Commitment {
        &self.commitment
    }

    /// A proof of `key`'s value (or absence) in `namespace` as of the commitment's last block,
    /// with that value. The value is read from the history at the proof's height, so a proof
    /// made while redb's commit of that block is in flight waits for it (a few milliseconds).
    pub fn state_proof(
        &self,
        namespace: &[u8; 32],
        key: &[u8],
    ) -> Result<(Proved, Option<Vec<u8>>), StoreError> {
        let mut proved = self.commitment.prove(&full_key(namespace, key))?;
        for _ in 0..1_000 {
            if self.height()? >= proved.height {
                let value = self.get_at(namespace, key, proved.height)?;
                // The history's pruning may have passed the proof's height meanwhile (a node
                // catching up commits fast): then the value read may not be the proof's.
                if self.history_blocks.load(Ordering::Relaxed) == u64::MAX
                    || self.history_pruned_below()? <= proved.height
                {
                    return Ok((proved, value));
                }
                proved = self.commitment.prove(&full_key(namespace, key))?;
                continue;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        Err(corrupt(
            "commitment",
            format!(
                "block {} is in the commitment but never reached redb",
                proved.height
            ),
        ))
    }

    /// The genesis hash this store was created for.
    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    /// Height of the last committed block (0 before the first).
    pub fn height(&self) -> Result<u64, StoreError> {
        let read = self.db.begin_read()?;
        let meta = read.open_table(META)?;
        let height = meta
            .get("height")?
            .ok_or_else(|| corrupt("meta", "no height"))?;
        let bytes: [u8; 8] = height
            .value()
            .try_into()
            .map_err(|_| corrupt("meta", "height is not 8 bytes"))?;
        Ok(u64::from_be_bytes(bytes))
    }

    /// The block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Block>, StoreError> {
        let read = self.db.begin_read()?;
        let blocks = read.open_table(BLOCKS)?;
        let Some(bytes) = blocks.get(height)? else {
            return Ok(None);
        };
        borsh::from_slice(bytes.value())
            .map(Some)
            .map_err(|e| corrupt("blocks", e))
    }

    /// The header at `height`, read without decoding the block's transactions.
    pub fn header(&self, height: u64) -> Result<Option<Header>, StoreError> {
        let read = self.db.begin_read()?;
        let blocks = read.open_table(BLOCKS)?;
        let Some(bytes) = blocks.get(height)? else {
            return Ok(None);
        };
        decode_header(bytes.value()).map(Some)
    }

    /// The last committed header.
    pub fn head(&self) -> Result<Header, StoreError> {
        let height = self.height()?;
        self.header(height)?
            .ok_or_else(|| corrupt("blocks", format!("head block {height} is missing")))
    }

    /// The receipts of the block at `height`.
    pub fn receipts(&self, height: u64) -> Result<Vec<Receipt>, StoreError> {
        let read = self.db.begin_read()?;
        let receipts = read.open_table(RECEIPTS)?;
        let Some(bytes) = receipts.get(height)? else {
            return Ok(Vec::new());
        };
        borsh::from_slice(bytes.value()).map_err(|e| corrupt("receipts", e))
    }

    /// Where a transaction was committed: (height, position).
    pub fn transaction_location(&self, hash: &Hash) -> Result<Option<(u64, u32)>, StoreError> {
        let read = self.db.begin_read()?;
        let index = read.open_table(TRANSACTIONS)?;
        Ok(index.get(hash.as_slice())?.map(|v| v.value()))
    }

    /// The receipt of a committed transaction, with its location.
    pub fn receipt(&self, hash: &Hash) -> Result<Option<(u64, u32, Receipt)>, StoreError> {
        let Some((height, position)) = self.transaction_location(hash)? else {
            return Ok(None);
        };
        let receipts = self.receipts(height)?;
        let receipt = receipts.into_iter().nth(position as usize).ok_or_else(|| {
            corrupt(
                "receipts",
                format!("no receipt {position} at height {height}"),
            )
        })?;
        Ok(Some((height, position, receipt)))
    }

    /// The height of the block whose header hashes to `hash`.
    pub fn height_of(&self, hash: &Hash) -> Result<Option<u64>, StoreError> {
        let read = self.db.begin_read()?;
        let hashes = read.open_table(BLOCK_HASHES)?;
        let height = hashes.get(hash.as_slice())?;
        Ok(height.map(|h| h.value()))
    }

    /// Up to `limit` current entries of `namespace` with keys in `(lower, upper)`, in `order`,
    /// as (key within the namespace, value).
    pub fn range(
        &self,
        namespace: &[u8; 32],
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        limit: usize,
        order: Order,
    ) -> Result<Vec<Entry>, StoreError> {
        let (lower, upper) = scoped_bounds(namespace, lower, upper);
        if is_empty_range(&borrowed(&lower), &borrowed(&upper)) {
            return Ok(Vec::new());
        }
        let read = self.db.begin_read()?;
        let state = read.open_table(STATE)?;
        let range = state.range::<&[u8]>((borrowed(&lower), borrowed(&upper)))?;
        let entry = |e: redb::Result<(Guard<'_>, Guard<'_>)>| {
            let (k, v) = e?;
            Ok((k.value()[namespace.len()..].to_vec(), v.value().to_vec()))
        };
        match order {
            Order::Ascending => range.take(limit).map(entry).collect(),
            Order::Descending => range.rev().take(limit).map(entry).collect(),
        }
    }

    /// The current value of `key` in `namespace`.
    pub fn get(&self, namespace: &[u8; 32], key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.snapshot()?.read(&full_key(namespace, key))
    }

    /// The nonce the next transaction of `address`'s account must carry: `address` is an
    /// account's or the own address of a key an account rotated to ([`Snapshot::account_of`]).
    pub fn next_nonce(&self, address: &Hash) -> Result<u64, StoreError> {
        let snapshot = self.snapshot()?;
        let account = snapshot.account_of(address)?;
        Ok(nonce_of(snapshot.read(&keys::nonce_key(&account))?))
    }

    /// The next nonce of each of `senders` (the own addresses of transactions' keys, as
    /// [`Store::next_nonce`] takes them), from one read of the store.
    pub fn next_nonces(
        &self,
        senders: impl IntoIterator<Item = Address>,
    ) -> Result<BTreeMap<Address, u64>, StoreError> {
        let snapshot = self.snapshot()?;
        let mut next = BTreeMap::new();
        for sender in senders {
            if let std::collections::btree_map::Entry::Vacant(slot) = next.entry(sender) {
                let account = snapshot.account_of(&sender)?;
                slot.insert(nonce_of(snapshot.read(&keys::nonce_key(&account))?));
            }
        }
        Ok(next)
    }

    /// The membership of `address`, if it is a member: an identity of an organisation that has
    /// not left.
    pub fn member(&self, address: &Address) -> Result<Option<Member>, StoreError> {
        Ok(self
            .snapshot()?
            .membership(address)?
            .and_then(|(member, removed)| (!removed).then_some(member)))
    }

    /// The account `address` names: itself, or the account that rotated to the key whose own
    /// address it is ([`Snapshot::account_of`]).
    pub fn account_of(&self, address: &Address) -> Result<Address, StoreError> {
        self.snapshot()?.account_of(address)
    }

    /// The member `public_key` signs for now, with its address: `None` if the key is unknown,
    /// was replaced by a rotation, or belongs to an organisation that left.
    pub fn signer(&self, public_key: &PublicKey) -> Result<Option<(Address, Member)>, StoreError> {
        let snapshot = self.snapshot()?;
        match snapshot.signing(public_key)? {
            Signing::Current { account, member } => {
                let left = snapshot.has_left(&member.organisation)?;
                Ok((!left).then_some((account, member)))
            }
            Signing::Retired { .. } | Signing::Unknown => Ok(None),
        }
    }

    /// The record of the contract at `address`, if one is deployed there.
    pub fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, StoreError> {
        let Some(bytes) = self.snapshot()?.read(&keys::contract_key(address))? else {
            return Ok(None);
        };
        borsh::from_slice(&bytes)
            .map(Some)
            .map_err(|e| corrupt("state", e))
    }

    /// The organisations that have not left, with their records, sorted by name.
    pub fn organisations(&self) -> Result<Vec<(String, Organisation)>, StoreError> {
        let snapshot = self.snapshot()?;
        snapshot
            .organisation_names()?
            .into_iter()
            .map(|name| {
                let record =
                    snapshot
                        .record(&keys::organisation_key(&name))?
                        .unwrap_or(Organisation {
                            joined_at: 0,
                            removed: None,
                        });
                Ok((name, record))
            })
            .collect()
    }

    /// The organisation that owns what `owner` owned ([`crate::records::owner_of`]).
    pub fn owner_of(&self, owner: &str) -> Result<String, StoreError> {
        let snapshot = self.snapshot()?;
        crate::records::owner_of(owner, |name| snapshot.record(&keys::organisation_key(name)))
    }

    /// The governance rules proposals have set, if any have: otherwise genesis's are in force.
    pub fn rules(&self) -> Result<Option<RulesRecord>, StoreError> {
        self.snapshot()?.record(&keys::rules_key())
    }

    /// The number of the last proposal (0 before the first).
    pub fn last_proposal(&self) -> Result<u64, StoreError> {
        Ok(nonce_of(self.snapshot()?.read(&keys::proposals_key())?))
    }

    /// Proposal `id`, with the height it executed at and the approvals that count (of
    /// organisations that have not left) with their heights.
    pub fn proposal(&self, id: u64) -> Result<Option<ProposalStatus>, StoreError> {
        let snapshot = self.snapshot()?;
        let Some(proposal) = snapshot.record::<Proposal>(&keys::proposal_key(id))? else {
            return Ok(None);
        };
        let mut approvals = Vec::new();
        for name in snapshot.organisation_names()? {
            if let Some(height) = snapshot.read(&keys::vote_key(id, &name))? {
                approvals.push((name, nonce_of(Some(height))));
            }
        }
        let executed_at = snapshot
            .read(&keys::executed_key(id))?
            .map(|height| nonce_of(Some(height)));
        Ok(Some(ProposalStatus {
            proposal,
            executed_at,
            approvals,
        }))
    }

    /// The value of `key` in `namespace` after the block at `height`.
    pub fn get_at(
        &self,
        namespace: &[u8; 32],
        key: &[u8],
        height: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let page = self.history(
            namespace,
            key,
            Some((height, u32::MAX)),
            1,
            Order::Descending,
        )?;
        Ok(page.into_iter().next().and_then(|v| v.value))
    }

    /// Up to `limit` versions of `key` in `namespace`, in `order` (by height, then position),
    /// strictly beyond `cursor` (a version's `(height, position)`: older than it when descending,
    /// newer when ascending; `None` starts at the newest or oldest).
    pub fn history(
        &self,
        namespace: &[u8; 32],
        key: &[u8],
        cursor: Option<(u64, u32)>,
        limit: usize,
        order: Order,
    ) -> Result<Vec<Version>, StoreError> {
        self.history_in(namespace, key, 0..=u64::MAX, cursor, limit, order)
    }

    /// [`Store::history`] of the versions written by blocks with heights in `heights` only.
    pub fn history_in(
        &self,
        namespace: &[u8; 32],
        key: &[u8],
        heights: RangeInclusive<u64>,
        cursor: Option<(u64, u32)>,
        limit: usize,
        order: Order,
    ) -> Result<Vec<Version>, StoreError> {
        let full = full_key(namespace, key);
        let prefix = history_prefix(&full);
        if heights.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let read = self.db.begin_read()?;
        let history = read.open_table(HISTORY)?;
        // The scan's bounds keep it within `heights`; the cursor's row may hold versions on
        // both sides of it.
        let wanted = |version: &Version| {
            let at = (version.height, version.position);
            match (order, cursor) {
                (Order::Ascending, Some(cursor)) => at > cursor,
                (Order::Descending, Some(cursor)) => at < cursor,
                (_, None) => true,
            }
        };
        // A row is keyed by its first version's position and may hold later ones of the same
        // block: descending from a cursor, the scan starts at the row that holds it (the last
        // row keyed at or below it); ascending, at the row that holds the cursor if its block
        // is in range, else at the lowest block's first row. Versions read beyond the cursor
        // (in that one row) are left out.
        let mut high = (*heights.end(), u32::MAX);
        if let (Order::Descending, Some(cursor)) = (order, cursor) {
            high = high.min(cursor);
        }
        let upper = history_key(&full, high.0, high.1);
        let mut lower = history_key(&full, *heights.start(), 0);
        if let (Order::Ascending, Some((height, position))) = (order, cursor) {
            if height >= *heights.start() {
                let at = history_key(&full, height, position);
                let first = history_key(&full, height, 0);
                let bounds = (
                    Bound::Included(first.as_slice()),
                    Bound::Included(at.as_slice()),
                );
                lower = match history.range::<&[u8]>(bounds)?.next_back() {
                    Some(row) => row?.0.value().to_vec(),
                    None => at,
                };
            }
        }
        if lower > upper {
            return Ok(Vec::new());
        }
        let bounds = (
            Bound::Included(lower.as_slice()),
            Bound::Included(upper.as_slice()),
        );
        let mut range = history.range::<&[u8]>(bounds)?;
        let mut versions = Vec::new();
        loop {
            let entry = match order {
                Order::Ascending => range.next(),
                Order::Descending => range.next_back(),
            };
            let Some(entry) = entry else { break };
            let (k, v) = entry?;
            let mut row = decode_row(prefix.len(), k.value(), v.value())?;
            if order == Order::Descending {
                row.reverse();
            }
            versions.extend(row.into_iter().filter(|version| wanted(version)));
            if versions.len() >= limit {
                versions.truncate(limit);
                break;
            }
        }
        Ok(versions)
    }

    /// A consistent read view of current state, for executing the next block.
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        snapshot_of(&self.db.begin_read()?)
    }

    /// The first height whose block time is at least `time_ms` (block times strictly increase),
    /// or `None` if the head's is earlier. A binary search over the stored headers.
    pub fn height_at_time(&self, time_ms: u64) -> Result<Option<u64>, StoreError> {
        let read = self.db.begin_read()?;
        let head = snapshot_of(&read)?.head;
        if head.time_ms < time_ms {
            return Ok(None);
        }
        let blocks = read.open_table(BLOCKS)?;
        let time_at = |height: u64| -> Result<u64, StoreError> {
            let block = blocks
                .get(height)?
                .ok_or_else(|| corrupt("blocks", format!("block {height} is missing")))?;
            Ok(decode_header(block.value())?.time_ms)
        };
        // The answer lies in [low, high]: time_at(high) >= time_ms.
        let (mut low, mut high) = (0, head.height);
        while low < high {
            let middle = low + (high - low) / 2;
            if time_at(middle)? >= time_ms {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        Ok(Some(low))
    }

    /// Keep the undo records of the newest `blocks` blocks only, so that state can be read
    /// (by [`Store::past`]) at most `blocks` blocks back, and at most `blocks` records are read
    /// to do it; older records are deleted now and as each block commits, once the history's
    /// pruning ([`Store::retain_history`]), if any, has read them. Without a call every record
    /// is kept.
    pub fn retain_state(&self, blocks: u64) -> Result<(), StoreError> {
        self.undo_blocks.store(blocks, Ordering::Relaxed);
        let head = self.height()?;
        let Some(mut oldest_kept) = (head + 1).checked_sub(blocks) else {
            return Ok(());
        };
        // The records the history's pruning has still to use stay until it has.
        if self.history_blocks.load(Ordering::Relaxed) != u64::MAX {
            oldest_kept = oldest_kept.min(self.history_pruned_below()?);
        }
        let write = self.db.begin_write()?;
        write
            .open_table(UNDO)?
            .retain_in(..oldest_kept, |_, _| false)?;
        write.commit()?;
        Ok(())
    }

    /// Keep the history of the newest `blocks` blocks only (at least 1): as each block commits,
    /// the versions written by older blocks are deleted, but those of each key's newest block
    /// before them (so that its value as of every retained height stays readable), at most
    /// [`HISTORY_PRUNE_STEP`] blocks' worth per commit. The keys each pruned block wrote are
    /// read from its undo record, which is kept until then whatever [`Store::retain_state`]
    /// says (past state stays readable only as far back as it says); versions written by
    /// blocks whose undo record was already gone are kept (but a key's newest of them, once a
    /// later block's version of the key is pruned). Without a call every version is kept.
    pub fn retain_history(&self, blocks: u64) {
        self.history_blocks.store(blocks.max(1), Ordering::Relaxed);
    }

    /// The height below which blocks' history has been pruned ([`Store::retain_history`]): of a
    /// key's versions written below it only those of its newest block there are sure to be
    /// kept. 0 while none is.
    pub fn history_pruned_below(&self) -> Result<u64, StoreError> {
        let read = self.db.begin_read()?;
        let meta = read.open_table(META)?;
        let below = meta.get(HISTORY_PRUNED_BELOW)?;
        Ok(below.map_or(0, |v| nonce_of(Some(v.value().to_vec()))))
    }

    /// Delete, in `write` (block `height`'s commit), what the retention settings no longer
    /// keep: the history of blocks older than the newest `history_blocks` (up to
    /// [`HISTORY_PRUNE_STEP`] blocks of it), and the undo records that neither past state nor
    /// that pruning needs any more.
    fn prune(&self, write: &redb::WriteTransaction, height: u64) -> Result<(), StoreError> {
        let undo_blocks = self.undo_blocks.load(Ordering::Relaxed);
        let history_blocks = self.history_blocks.load(Ordering::Relaxed);
        // Past state is read back `undo_blocks` blocks at most.
        let state_drops = |p: u64| p.saturating_add(undo_blocks) <= height;
        let mut records = write.open_table(UNDO)?;
        if history_blocks == u64::MAX {
            if let Some(old) = height.checked_sub(undo_blocks) {
                records.remove(old)?;
            }
            return Ok(());
        }
        let mut meta = write.open_table(META)?;
        let mut pruned_below = match meta.get(HISTORY_PRUNED_BELOW)? {
            Some(v) => nonce_of(Some(v.value().to_vec())),
            None => 0,
        };
        let target = (height + 1).saturating_sub(history_blocks);
        let until = target.min(pruned_below.saturating_add(HISTORY_PRUNE_STEP));
        if until > pruned_below {
            let mut history = write.open_table(HISTORY)?;
            for p in pruned_below..until {
                let Some(record) = records.get(p)? else {
                    continue;
                };
                let writes: Vec<StateWrite> =
                    borsh::from_slice(record.value()).map_err(|e| corrupt("undo", e))?;
                drop(record);
                for (key, _) in &writes {
                    prune_key(&mut history, key, pruned_below, until)?;
                }
                if state_drops(p) {
                    records.remove(p)?;
                }
            }
            pruned_below = until;
            meta.insert(HISTORY_PRUNED_BELOW, until.to_be_bytes().as_slice())?;
        }
        // An undo record past state no longer needs goes, once the history pruning has used it.
        if let Some(old) = height.checked_sub(undo_blocks) {
            if old < pruned_below {
                records.remove(old)?;
            }
        }
        Ok(())
    }

    /// State as it was after the block at `height`, read consistently: the current state
    /// ([`Past::snapshot`]) under the values that the keys written by every later block held
    /// before them ([`Past::undo`]). The head itself needs no undo. Refused beyond the head,
    /// where a later block's undo record is missing (written before the store kept them), and
    /// where more than [`PAST_KEYS_MAX`] distinct keys were written since.
    pub fn past(&self, height: u64) -> Result<Past, StoreError> {
        let read = self.db.begin_read()?;
        let snapshot = snapshot_of(&read)?;
        let head = snapshot.head.height;
        if height > head {
            return Err(StoreError::Beyond { height, head });
        }
        // Undo records kept for the history's pruning do not widen what past state may be read.
        if head - height > self.undo_blocks.load(Ordering::Relaxed) {
            return Err(StoreError::NotRetained {
                height,
                missing: height + 1,
            });
        }
        let header = if height == head {
            snapshot.head.clone()
        } else {
            let blocks = read.open_table(BLOCKS)?;
            let block = blocks
                .get(height)?
                .ok_or_else(|| corrupt("blocks", format!("block {height} is missing")))?;
            decode_header(block.value())?
        };
        let mut undo = BTreeMap::new();
        let records = read.open_table(UNDO)?;
        // Oldest first: a key's value at `height` is what the first later block to write it
        // found there.
        for later in height + 1..=head {
            let record = records.get(later)?.ok_or(StoreError::NotRetained {
                height,
                missing: later,
            })?;
            let writes: Vec<StateWrite> =
                borsh::from_slice(record.value()).map_err(|e| corrupt("undo", e))?;
            for (key, before) in writes {
                undo.entry(key).or_insert(before);
            }
            if undo.len() > PAST_KEYS_MAX {
                return Err(StoreError::TooFarBack {
                    height,
                    head,
                    max: PAST_KEYS_MAX,
                });
            }
        }
        Ok(Past {
            header,
            snapshot,
            undo,
        })
    }

    /// The bundle that proves `key`'s value (or absence) in `namespace` after the commitment's
    /// last block, with that block's finality (see [`Store::finality`]); `None` while no stored
    /// certificate covers the block yet.
    pub fn state_bundle(
        &self,
        namespace: &[u8; 32],
        key: &[u8],
    ) -> Result<Option<StateProof>, StoreError> {
        let (proved, value) = self.state_proof(namespace, key)?;
        let Some(finality) = self.finality(proved.height)? else {
            return Ok(None);
        };
        Ok(Some(StateProof {
            namespace: *namespace,
            key: key.to_vec(),
            value,
            proof: proved.proof.encode(),
            finality,
        }))
    }

    /// Commit an executed block in one atomic, durable write transaction.
    pub fn commit(&self, executed: &ExecutedBlock) -> Result<(), StoreError> {
        self.commit_sealed(executed, None)
    }

    /// Commit an executed block with its `seal`: the consensus evidence that it was finalized
    /// (opaque to the store; see `consensus::Seal`), kept beside it in the same transaction.
    pub fn commit_sealed(
        &self,
        executed: &ExecutedBlock,
        seal: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let head = self.head()?;
        let header = &executed.block.header;
        if header.height != head.height + 1 || header.parent != head.hash() {
            return Err(StoreError::NotNext {
                height: header.height,
                parent: hex(&header.parent),
                head: head.height,
            });
        }
        self.commit_on(&head.state_root, executed, seal)
    }

    /// Commit `executed`, whose parent's state root is `base`: its batch to the commitment, then
    /// the block to redb with the operation count the commitment reached.
    fn commit_on(
        &self,
        base: &Hash,
        executed: &ExecutedBlock,
        seal: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let height = executed.block.header.height;
        let operations = self.commitment.apply(
            base,
            Link {
                height,
                root: executed.block.header.state_root,
                writes: &executed.writes,
            },
        )?;
        self.write_block(executed, seal, operations)
    }

    /// The block's redb transaction: everything but the state commitment, whose operation count
    /// after the block is `operations`.
    fn write_block(
        &self,
        executed: &ExecutedBlock,
        seal: Option<&[u8]>,
        operations: u64,
    ) -> Result<(), StoreError> {
        let height = executed.block.header.height;
        let mut write = self.db.begin_write()?;
        write.set_durability(Durability::Immediate)?;
        {
            let mut blocks = write.open_table(BLOCKS)?;
            // Checked inside the write transaction, so no concurrent commit can slip in between:
            // a second block at one height would leave stale index and history entries.
            let head = write
                .open_table(META)?
                .get("height")?
                .and_then(|v| v.value().try_into().ok().map(u64::from_be_bytes));
            let extends = match head {
                None => height == 0,
                Some(head) => {
                    let parent = blocks.get(head)?.map(|b| b.value().to_vec());
                    let parent_hash = parent
                        .map(|bytes| decode_header(&bytes).map(|h| h.hash()))
                        .transpose()?;
                    height == head + 1 && parent_hash == Some(executed.block.header.parent)
                }
            };
            if !extends {
                return Err(StoreError::NotNext {
                    height,
                    parent: hex(&executed.block.header.parent),
                    head: head.unwrap_or(0),
                });
            }
            let encoded = borsh::to_vec(&executed.block).map_err(|e| corrupt("blocks", e))?;
            blocks.insert(height, encoded.as_slice())?;
            let mut receipts = write.open_table(RECEIPTS)?;
            let encoded = borsh::to_vec(&executed.receipts).map_err(|e| corrupt("receipts", e))?;
            receipts.insert(height, encoded.as_slice())?;
            let mut index = write.open_table(TRANSACTIONS)?;
            for (position, receipt) in executed.receipts.iter().enumerate() {
                index.insert(receipt.transaction.as_slice(), (height, position as u32))?;
            }
            index_events(&write, height, &executed.receipts)?;
            let mut state = write.open_table(STATE)?;
            let mut undo: Vec<(&[u8], Option<Vec<u8>>)> = Vec::with_capacity(executed.writes.len());
            for (key, value) in &executed.writes {
                let before = match value {
                    Some(value) => state.insert(key.as_slice(), value.as_slice())?,
                    None => state.remove(key.as_slice())?,
                };
                undo.push((key.as_slice(), before.map(|v| v.value().to_vec())));
            }
            let encoded = borsh::to_vec(&undo).map_err(|e| corrupt("undo", e))?;
            let mut records = write.open_table(UNDO)?;
            records.insert(height, encoded.as_slice())?;
            drop(records);
            write_history(&write, height, &executed.versions)?;
            self.prune(&write, height)?;
            let mut hashes = write.open_table(BLOCK_HASHES)?;
            hashes.insert(executed.block.header.hash().as_slice(), height)?;
            if let Some(seal) = seal {
                let mut seals = write.open_table(SEALS)?;
                seals.insert(height, seal)?;
            }
            write.open_table(COMMITMENTS)?.insert(height, operations)?;
            let mut meta = write.open_table(META)?;
            meta.insert("height", height.to_be_bytes().as_slice())?;
        }
        Ok(write.commit()?)
    }

    /// The seal committed with the block at `height`, if it was committed with one.
    pub fn seal(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let read = self.db.begin_read()?;
        let seals = match read.open_table(SEALS) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let seal = seals.get(height)?;
        Ok(seal.map(|v| v.value().to_vec()))
    }

    /// That the block at `height` was finalized, as anyone can check offline: its header, the
    /// headers after it up to the first whose seal holds a finalization certificate, and that
    /// seal. `None` if the block is not committed, or no certificate within
    /// [`FINALITY_HEADERS_MAX`] blocks of it is stored yet.
    pub fn finality(&self, height: u64) -> Result<Option<Finality>, StoreError> {
        let read = self.db.begin_read()?;
        let blocks = read.open_table(BLOCKS)?;
        let seals = match read.open_table(SEALS) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut headers = Vec::new();
        for at in height..height.saturating_add(FINALITY_HEADERS_MAX as u64) {
            let Some(block) = blocks.get(at)? else {
                return Ok(None);
            };
            headers.push(decode_header(block.value())?);
            if let Some(seal) = seals.get(at)? {
                let decoded = proof::Seal::decode(seal.value()).map_err(|e| corrupt("seals", e))?;
                if decoded.finalization.is_some() {
                    return Ok(Some(Finality {
                        headers,
                        seal: seal.value().to_vec(),
                    }));
                }
            }
        }
        Ok(None)
    }

    /// The proof that a committed transaction's receipt is in a finalized block; `None` if the
    /// transaction is not committed or its block not yet covered by a certificate (see
    /// [`Store::finality`]).
    pub fn receipt_proof(&self, hash: &Hash) -> Result<Option<ReceiptProof>, StoreError> {
        let Some((height, position)) = self.transaction_location(hash)? else {
            return Ok(None);
        };
        let Some(finality) = self.finality(height)? else {
            return Ok(None);
        };
        let receipts = self.receipts(height)?;
        ReceiptProof::build(&receipts, position, finality)
            .map(Some)
            .map_err(|e| corrupt("receipts", e))
    }

    /// Up to `limit` events that `selector` wants, in chain order, from `from` up to the end of
    /// block `to_height`. Reads only the events it returns (through the index), never a block
    /// with none of them.
    pub fn events(
        &self,
        selector: &EventSelector,
        from: Bound<EventPosition>,
        to_height: u64,
        limit: usize,
    ) -> Result<Vec<IndexedEvent>, StoreError> {
        let end = (to_height, u32::MAX, u32::MAX);
        let read = self.db.begin_read()?;
        let events = read.open_table(EVENTS)?;
        let decode = |position: EventPosition, bytes: &[u8]| -> Result<IndexedEvent, StoreError> {
            let (transaction, event): (Hash, LedgerEvent) =
                borsh::from_slice(bytes).map_err(|e| corrupt("events", e))?;
            Ok(IndexedEvent {
                position,
                transaction,
                event,
            })
        };
        let Some(prefix) = selector.prefix() else {
            let mut out = Vec::new();
            for entry in events.range((from, Bound::Included(end)))?.take(limit) {
                let (position, bytes) = entry?;
                out.push(decode(position.value(), bytes.value())?);
            }
            return Ok(out);
        };
        let index = read.open_table(EVENT_INDEX)?;
        let key = |position| event_index_key(&prefix, position).to_vec();
        let lower = match from {
            Bound::Included(p) => Bound::Included(key(p)),
            Bound::Excluded(p) => Bound::Excluded(key(p)),
            Bound::Unbounded => Bound::Included(prefix.to_vec()),
        };
        let upper = Bound::Included(key(end));
        if is_empty_range(&borrowed(&lower), &borrowed(&upper)) {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for entry in index
            .range::<&[u8]>((borrowed(&lower), borrowed(&upper)))?
            .take(limit)
        {
            let (key, _) = entry?;
            let position =
                event_position(key.value()).ok_or_else(|| corrupt("event_index", "short key"))?;
            let bytes = events
                .get(position)?
                .ok_or_else(|| corrupt("event_index", format!("no event at {position:?}")))?;
            let found = decode(position, bytes.value())?;
            // The index is keyed by hashes; the event itself has the last word.
            if selector.matches(&found.event) {
                out.push(found);
            }
        }
        Ok(out)
    }

    /// Every entry of current state, in key order: unbounded, so for tests only.
    #[cfg(feature = "test-utils")]
    pub fn state_entries(&self) -> Result<Vec<Entry>, StoreError> {
        let read = self.db.begin_read()?;
        let state = read.open_table(STATE)?;
        state
            .iter()?
            .map(|entry| {
                let (k, v) = entry?;
                Ok((k.value().to_vec(), v.value().to_vec()))
            })
            .collect()
    }
}

type Guard<'a> = redb::AccessGuard<'a, &'static [u8]>;

/// File the events of block `height`'s `receipts` in `events` and `event_index`.
fn index_events(
    write: &redb::WriteTransaction,
    height: u64,
    receipts: &[Receipt],
) -> Result<(), StoreError> {
    let mut events = write.open_table(EVENTS)?;
    let mut index = write.open_table(EVENT_INDEX)?;
    for (tx, receipt) in receipts.iter().enumerate() {
        for (at, event) in receipt.events.iter().enumerate() {
            let position = (height, tx as u32, at as u32);
            let encoded =
                borsh::to_vec(&(receipt.transaction, event)).map_err(|e| corrupt("events", e))?;
            events.insert(position, encoded.as_slice())?;
            for prefix in EventSelector::prefixes_of(event) {
                index.insert(event_index_key(&prefix, position).as_slice(), ())?;
            }
        }
    }
    Ok(())
}

/// Build the event index of a store written before it existed, from its receipts, one block
/// at a time.
fn index_stored_events(write: &redb::WriteTransaction) -> Result<(), StoreError> {
    let stored = write.open_table(RECEIPTS)?;
    for entry in stored.iter()? {
        let (height, bytes) = entry?;
        let receipts: Vec<Receipt> =
            borsh::from_slice(bytes.value()).map_err(|e| corrupt("receipts", e))?;
        index_events(write, height.value(), &receipts)?;
    }
    Ok(())
}

/// A stored nonce (u64 big-endian); 0 when there is none.
pub(crate) fn nonce_of(value: Option<Vec<u8>>) -> u64 {
    value
        .and_then(|v| v.try_into().ok())
        .map_or(0, u64::from_be_bytes)
}

/// The header of a stored block: the header leads a block's borsh encoding, so it is read
/// without decoding (or allocating) the transactions behind it, which may be megabytes.
fn decode_header(mut bytes: &[u8]) -> Result<Header, StoreError> {
    borsh::BorshDeserialize::deserialize(&mut bytes).map_err(|e| corrupt("blocks", e))
}

/// A state entry: full key and value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// The organisations whose approvals of a proposal count, with the heights they approved at.
pub type Approvals = Vec<(String, u64)>;

/// A proposal and what has come of it ([`Store::proposal`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposalStatus {
    /// The proposal as made.
    pub proposal: Proposal,
    /// The height it executed at, once it has.
    pub executed_at: Option<u64>,
    /// The approvals that count.
    pub approvals: Approvals,
}

/// The versions of a `history` row: its key is the key's history prefix (`prefix_len` bytes),
/// the block's height and the first version's position.
fn decode_row(prefix_len: usize, key: &[u8], value: &[u8]) -> Result<Vec<Version>, StoreError> {
    let height = key
        .get(prefix_len..prefix_len + 8)
        .and_then(|bytes| bytes.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| corrupt("history", "short key"))?;
    let row: Vec<(u32, Option<Vec<u8>>)> =
        borsh::from_slice(value).map_err(|e| corrupt("history", e))?;
    Ok(row
        .into_iter()
        .map(|(position, value)| Version {
            height,
            position,
            value,
        })
        .collect())
}

/// One version in a `history` row being written: transaction position, value.
type RowVersion<'a> = (u32, &'a Option<Vec<u8>>);

/// A block's versions (transaction position, full key, value; in transaction order) as
/// `history` rows: one per key, or more where a key's versions pass [`HISTORY_ROW_BYTES`].
fn write_history(
    write: &redb::WriteTransaction,
    height: u64,
    versions: &[VersionWrite],
) -> Result<(), StoreError> {
    let mut by_key: BTreeMap<&[u8], Vec<RowVersion<'_>>> = BTreeMap::new();
    for (position, key, value) in versions {
        by_key
            .entry(key.as_slice())
            .or_default()
            .push((*position, value));
    }
    let mut history = write.open_table(HISTORY)?;
    let mut row: Vec<RowVersion<'_>> = Vec::new();
    for (key, versions) in by_key {
        let mut bytes = 0;
        for (position, value) in versions {
            row.push((position, value));
            bytes += 4 + 1 + value.as_ref().map_or(0, |v| 4 + v.len());
            if bytes >= HISTORY_ROW_BYTES {
                insert_row(&mut history, key, height, &mut row)?;
                bytes = 0;
            }
        }
        insert_row(&mut history, key, height, &mut row)?;
    }
    Ok(())
}

/// Prune `full`'s history as the retained heights move from `from` to `until` (a block in
/// between wrote it): delete its versions written below `until` but those of its newest block
/// there, so that its value as of any retained height stays readable ([`Store::get_at`], which
/// proofs read). Older rows were pruned by earlier calls, except the newest block before `from`,
/// kept by them and deleted here, and those of blocks that had no undo record to find them by:
/// those stay, so each call deletes at most the rows of one block before `from` and of the blocks
/// in between.
fn prune_key(
    history: &mut redb::Table<&[u8], &[u8]>,
    full: &[u8],
    from: u64,
    until: u64,
) -> Result<(), StoreError> {
    let prefix = history_prefix(full);
    let newest_below = |history: &redb::Table<&[u8], &[u8]>, height: u64| {
        let bound = history_key(full, height, 0);
        match history
            .range(prefix.as_slice()..bound.as_slice())?
            .next_back()
        {
            Some(row) => {
                let (key, _) = row?;
                let at = key
                    .value()
                    .get(prefix.len()..prefix.len() + 8)
                    .ok_or_else(|| {
                        corrupt("history", "a row's key is shorter than its key and height")
                    })?;
                Ok(Some(u64::from_be_bytes(at.try_into().unwrap_or_default())))
            }
            None => Ok::<_, StoreError>(None),
        }
    };
    let Some(newest) = newest_below(history, until)? else {
        return Ok(());
    };
    let lowest = newest_below(history, from)?.unwrap_or(from).min(newest);
    let lower = history_key(full, lowest, 0);
    let keep = history_key(full, newest, 0);
    history.retain_in(lower.as_slice()..keep.as_slice(), |_, _| false)?;
    Ok(())
}

/// Write `row` (one block's versions of `full`, not empty unless nothing is written) and empty it.
fn insert_row(
    history: &mut redb::Table<&[u8], &[u8]>,
    full: &[u8],
    height: u64,
    row: &mut Vec<RowVersion<'_>>,
) -> Result<(), StoreError> {
    let Some(&(first, _)) = row.first() else {
        return Ok(());
    };
    let encoded = borsh::to_vec(&*row).map_err(|e| corrupt("history", e))?;
    history.insert(
        history_key(full, height, first).as_slice(),
        encoded.as_slice(),
    )?;
    row.clear();
    Ok(())
}

/// Convert format 2's `history` (a row per version: borsh(`Option<value>`)) to rows of
/// versions, in place: a version keeps its key as the first (and only) of its row. The store's
/// other tables are the same in both formats.
fn regroup_history(write: &redb::WriteTransaction) -> Result<(), StoreError> {
    let mut history = write.open_table(HISTORY)?;
    let mut next: Option<Vec<u8>> = None;
    loop {
        let bounds = match &next {
            None => (Bound::Unbounded, Bound::Unbounded),
            Some(key) => (Bound::Excluded(key.as_slice()), Bound::Unbounded),
        };
        // At most 10,000 rows and 64 MiB of values in memory at once.
        let (mut chunk, mut bytes) = (Vec::new(), 0);
        for entry in history.range::<&[u8]>(bounds)? {
            if chunk.len() == 10_000 || bytes >= 64 << 20 {
                break;
            }
            let (key, value) = entry?;
            bytes += key.value().len() + value.value().len();
            let version: Option<Vec<u8>> =
                borsh::from_slice(value.value()).map_err(|e| corrupt("history", e))?;
            let position = key
                .value()
                .len()
                .checked_sub(4)
                .and_then(|at| key.value().get(at..))
                .and_then(|bytes| bytes.try_into().ok())
                .map(u32::from_be_bytes)
                .ok_or_else(|| corrupt("history", "short key"))?;
            chunk.push((key.value().to_vec(), vec![(position, version)]));
        }
        let Some((last, _)) = chunk.last() else {
            return Ok(());
        };
        next = Some(last.clone());
        for (key, row) in &chunk {
            let encoded = borsh::to_vec(row).map_err(|e| corrupt("history", e))?;
            history.insert(key.as_slice(), encoded.as_slice())?;
        }
    }
}

fn snapshot_of(read: &redb::ReadTransaction) -> Result<Snapshot, StoreError> {
    let meta = read.open_table(META)?;
    let height = meta
        .get("height")?
        .and_then(|v| v.value().try_into().ok().map(u64::from_be_bytes))
        .ok_or_else(|| corrupt("meta", "no height"))?;
    let blocks = read.open_table(BLOCKS)?;
    let head = blocks
        .get(height)?
        .ok_or_else(|| corrupt("blocks", format!("head block {height} is missing")))?;
    Ok(Snapshot {
        head: decode_header(head.value())?,
        state: Arc::new(read.open_table(STATE)?),
        transactions: Arc::new(read.open_table(TRANSACTIONS)?),
    })
}

/// State as of an earlier block ([`Store::past`]): the current state and, over it, what the keys
/// written since held then.
pub struct Past {
    /// The header of the block the view reads after.
    pub header: Header,
    /// The current state, from the same read transaction as `undo`.
    pub snapshot: Snapshot,
    /// Each key written after `header`'s block, with its value then (`None`: absent).
    pub undo: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl Past {
    /// The state as of [`Past::header`]'s block, readable as any [`Storage`]: the undo values
    /// buffered over the current state.
    pub fn into_overlay(self) -> Overlay {
        let mut state = Overlay::new(Arc::new(self.snapshot));
        for (key, value) in self.undo {
            match value {
                Some(value) => state.set(key, value),
                None => state.remove(key),
            }
        }
        state
    }
}

/// The store as of one read transaction: head, state and transaction index, consistent with each
/// other whatever commits land meanwhile. The base layer the executor stacks a block on.
#[derive(Clone)]
pub struct Snapshot {
    head: Header,
    state: Arc<redb::ReadOnlyTable<&'static [u8], &'static [u8]>>,
    transactions: Arc<redb::ReadOnlyTable<&'static [u8], (u64, u32)>>,
}

impl Snapshot {
    /// The current value of full key `key`.
    pub fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.state.get(key)?.map(|v| v.value().to_vec()))
    }

    /// The record at full key `key`, decoded.
    pub fn record<T: borsh::BorshDeserialize>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        self.read(key)?
            .map(|bytes| borsh::from_slice(&bytes).map_err(|e| corrupt("state", e)))
            .transpose()
    }

    /// The membership of `address`, and whether its organisation has left (its identities are
    /// then refused).
    pub fn membership(&self, address: &Address) -> Result<Option<(Member, bool)>, StoreError> {
        let Some(member) = self.record::<Member>(&keys::member_key(address))? else {
            return Ok(None);
        };
        let removed = self.has_left(&member.organisation)?;
        Ok(Some((member, removed)))
    }

    /// Whether `organisation` has left the network.
    pub fn has_left(&self, organisation: &str) -> Result<bool, StoreError> {
        Ok(self
            .record::<Organisation>(&keys::organisation_key(organisation))?
            .is_some_and(|organisation| organisation.removed.is_some()))
    }

    /// The account `address` names: the account that rotated to the key whose own address it
    /// is, or else `address` itself.
    pub fn account_of(&self, address: &Address) -> Result<Address, StoreError> {
        crate::records::account_of(address, |own| self.record(&keys::alias_key(own)))
    }

    /// What `public_key` signs for ([`crate::records::signing`]).
    pub fn signing(&self, public_key: &PublicKey) -> Result<Signing, StoreError> {
        crate::records::signing(
            public_key,
            |own| self.record(&keys::alias_key(own)),
            |account| self.record(&keys::member_key(account)),
        )
    }

    /// The names of the organisations that have not left, sorted.
    pub fn organisation_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .record::<Vec<String>>(&keys::organisations_key())?
            .unwrap_or_default())
    }

    /// The head as of this snapshot.
    pub fn head(&self) -> &Header {
        &self.head
    }

    /// Whether a transaction with `hash` was committed as of this snapshot.
    pub fn contains_transaction(&self, hash: &Hash) -> Result<bool, StoreError> {
        Ok(self.transactions.get(hash.as_slice())?.is_some())
    }
}

fn storage_error(error: impl std::error::Error + Send + Sync + 'static) -> StorageError {
    StorageError(Box::new(error))
}

impl Storage for Snapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.read(key).map_err(storage_error)
    }

    fn first(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        order: Order,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>, StorageError> {
        if is_empty_range(&lower, &upper) {
            return Ok(None);
        }
        let mut range = self
            .state
            .range::<&[u8]>((lower, upper))
            .map_err(storage_error)?;
        let entry = match order {
            Order::Ascending => range.next(),
            Order::Descending => range.next_back(),
        };
        match entry {
            None => Ok(None),
            Some(entry) => {
                let (k, v) = entry.map_err(storage_error)?;
                Ok(Some((k.value().to_vec(), v.value().to_vec())))
            }
        }
    }
}

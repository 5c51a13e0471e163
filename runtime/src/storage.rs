//! Contract storage as the runtime sees it: a read-only view the host provides, and the write
//! overlay a call accumulates on top of it.
//!
//! The runtime never writes to the host's storage. Every `storage_set` and `storage_remove` lands in
//! an [`Overlay`] that reads see immediately (a contract reads its own writes) and that the host
//! receives, sorted by key, only when the call succeeds. A call that traps, aborts or runs out of fuel
//! therefore leaves no trace, without any rollback machinery in the host.
//!
//! Iteration is by key order (bytewise), merging the host's entries with the overlay's. The host
//! interface is a single "first entry within bounds" seek rather than a live iterator, so it can be
//! served by any ordered store (a redb range, a `BTreeMap`) without lifetimes crossing into the
//! runtime.

use std::{
    collections::BTreeMap,
    ops::Bound,
    sync::{Arc, Mutex},
};

pub use vellum_abi::{borrowed, is_empty_range, successor, Order};

/// A key-value entry.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A failure of the host's storage (I/O, corruption). Not a contract outcome: the call's result is
/// unknown, so the host must not record one.
#[derive(Debug, thiserror::Error)]
#[error("storage failure: {0}")]
pub struct StorageError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// The contract's committed state, as the host serves it. Keys are already scoped to the contract.
pub trait Storage: Send + Sync {
    /// The value at `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;

    /// The first entry within `(lower, upper)` in `order`: the smallest key for ascending, the
    /// largest for descending.
    fn first(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        order: Order,
    ) -> Result<Option<Entry>, StorageError>;
}

/// One change a successful call made: a new value, or `None` for a removal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    /// The key (contract-scoped).
    pub key: Vec<u8>,
    /// The new value, or `None` if the key was removed.
    pub value: Option<Vec<u8>>,
}

/// Writes buffered over a base [`Storage`]: reads see them at once, iteration merges them in key
/// order, and nothing reaches the base. The runtime gives each call one; a host can stack them
/// (the ledger keeps a block's pending writes in one, under each call's).
///
/// Seen as a [`Storage`] (a layer under a call), an overlay remembers the runs of keys its
/// removals hide (or remove without the base ever holding them), as lookups find them: a later
/// lookup that meets such a key inside a known run jumps past the whole run. The layers under a call are not metered (their cost does not
/// depend on anything a contract pays for), so without this a transaction that removed many
/// keys would make every later lookup across them, in its block and in blocks built on it
/// before it commits, walk each one again. With it, each hidden key is walked about once per
/// overlay. The base must not change while the overlay is in use (it never does: a snapshot,
/// or overlays that are done being written).
pub struct Overlay {
    base: Arc<dyn Storage>,
    changes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Known runs with nothing live: first -> last, both inclusive; every base key between them
    /// is hidden by a removal in `changes`, and every change between them is a removal. A write
    /// of a value inside a run drops the run.
    hidden: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl Overlay {
    /// An empty overlay over `base`.
    pub fn new(base: Arc<dyn Storage>) -> Self {
        Self {
            base,
            changes: BTreeMap::new(),
            hidden: Mutex::new(BTreeMap::new()),
        }
    }

    /// The known run of hidden base keys holding `key`, if any.
    fn hidden_run(runs: &BTreeMap<Vec<u8>, Vec<u8>>, key: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
        let (first, last) = runs
            .range::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()?;
        (key <= last.as_slice()).then(|| (first.clone(), last.clone()))
    }

    /// A value was written at `key`: no run may claim it is hidden any more.
    fn unhide(&mut self, key: &[u8]) {
        let runs = self
            .hidden
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((first, _)) = Self::hidden_run(runs, key) {
            runs.remove(&first);
        }
    }

    /// Remember that every base key from `first` to `last` is hidden, merging what it covers.
    fn remember(&self, first: Vec<u8>, last: Vec<u8>) {
        let mut runs = self
            .hidden
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (mut first, mut last) = (first, last);
        if let Some((before, end)) = Self::hidden_run(&runs, &first) {
            first = before;
            last = last.max(end);
        }
        let covered: Vec<Vec<u8>> = runs
            .range::<[u8], _>((
                Bound::Included(first.as_slice()),
                Bound::Included(last.as_slice()),
            ))
            .map(|(start, _)| start.clone())
            .collect();
        for start in covered {
            if let Some(end) = runs.remove(&start) {
                last = last.max(end);
            }
        }
        runs.insert(first, last);
    }

    /// What comes first within `cursor`: the base's next entry, a buffered change, or neither.
    fn front(&self, cursor: &Cursor) -> Result<Front, StorageError> {
        if cursor.is_empty_range() {
            return Ok(Front::End);
        }
        let bounds = (borrowed(&cursor.lower), borrowed(&cursor.upper));
        let base = self.base.first(bounds.0, bounds.1, cursor.order)?;
        let mut changes = self.changes.range::<[u8], _>(bounds);
        let change = match cursor.order {
            Order::Ascending => changes.next(),
            Order::Descending => changes.next_back(),
        };
        Ok(match (base, change) {
            (None, None) => Front::End,
            // The base entry comes strictly first (on a tie the buffered change wins).
            (Some(entry), None) => Front::Base(entry),
            (Some(entry), Some((key, _))) if precedes(cursor.order, &entry.0, key) => {
                Front::Base(entry)
            }
            (_, Some((key, Some(value)))) => Front::Change((key.clone(), value.clone())),
            (Some((base_key, _)), Some((key, None))) if base_key == *key => {
                Front::Hidden(key.clone())
            }
            (_, Some((key, None))) => Front::Removed(key.clone()),
        })
    }

    /// The first live entry within `cursor`, jumping over known runs of hidden base keys and
    /// remembering the run this lookup walked.
    fn first_live(&self, cursor: &mut Cursor) -> Result<Option<Entry>, StorageError> {
        // The run of consecutive hidden base keys this lookup has met so far.
        let mut walked: Option<(Vec<u8>, Vec<u8>)> = None;
        let found = loop {
            match self.front(cursor)? {
                Front::End => break None,
                Front::Base(entry) | Front::Change(entry) => break Some(entry),
                // A removal hides a base key, or removes one the base never had: either way
                // nothing is live there, and a lookup walking many of them is remembered alike
                // (removals of absent keys cost their remover little, and would otherwise be
                // walked again by every later lookup, unpaid).
                Front::Hidden(key) | Front::Removed(key) => {
                    // Skip the whole known run that holds it.
                    let known = {
                        let runs = self
                            .hidden
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        Self::hidden_run(&runs, &key)
                    };
                    let (first, last) = known.unwrap_or_else(|| (key.clone(), key));
                    match cursor.order {
                        Order::Ascending => cursor.advance_past(last.clone()),
                        Order::Descending => cursor.advance_past(first.clone()),
                    }
                    walked = Some(match walked {
                        None => (first, last),
                        Some((lo, hi)) => (lo.min(first), hi.max(last)),
                    });
                }
            }
        };
        if let Some((first, last)) = walked {
            self.remember(first, last);
        }
        Ok(found)
    }

    /// The value at `key`, buffered or from the base.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        match self.changes.get(key) {
            Some(change) => Ok(change.clone()),
            None => self.base.get(key),
        }
    }

    /// Buffer a write.
    pub fn set(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.unhide(&key);
        self.changes.insert(key, Some(value));
    }

    /// Buffer a removal.
    pub fn remove(&mut self, key: Vec<u8>) {
        self.changes.insert(key, None);
    }

    /// Advance `cursor` to its next live entry, merging the base with the buffered changes.
    /// `step` is called before each lookup, so the caller can charge for entries the call's own
    /// removals hide (otherwise a contract could make one `next` skip unboundedly many).
    pub(crate) fn next<E: From<StorageError>>(
        &self,
        cursor: &mut Cursor,
        mut step: impl FnMut() -> Result<(), E>,
    ) -> Result<Option<Entry>, E> {
        loop {
            step()?;
            match self.front(cursor)? {
                Front::End => return Ok(None),
                Front::Base(entry) => return Ok(Some(cursor.yield_entry(entry))),
                Front::Change(entry) => {
                    cursor.advance_past(entry.0.clone());
                    return Ok(Some(entry));
                }
                // A buffered removal hides the base entry with the same key: look further.
                Front::Hidden(key) | Front::Removed(key) => cursor.advance_past(key),
            }
        }
    }

    /// Buffer a successful call's writes.
    pub fn apply(&mut self, writes: &[Write]) {
        for write in writes {
            if write.value.is_some() {
                self.unhide(&write.key);
            }
            self.changes.insert(write.key.clone(), write.value.clone());
        }
    }

    /// The buffered changes, in key order.
    pub fn changes(&self) -> &BTreeMap<Vec<u8>, Option<Vec<u8>>> {
        &self.changes
    }

    /// The buffered changes in key order, consuming the overlay.
    pub fn into_writes(self) -> Vec<Write> {
        self.changes
            .into_iter()
            .map(|(key, value)| Write { key, value })
            .collect()
    }
}

impl Storage for Overlay {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Overlay::get(self, key)
    }

    fn first(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        order: Order,
    ) -> Result<Option<Entry>, StorageError> {
        let mut cursor = Cursor {
            lower: lower.map(<[u8]>::to_vec),
            upper: upper.map(<[u8]>::to_vec),
            order,
        };
        self.first_live(&mut cursor)
    }
}

/// What comes first in an overlay's range.
enum Front {
    /// Nothing is left.
    End,
    /// The base's entry.
    Base(Entry),
    /// A value buffered in the overlay.
    Change(Entry),
    /// A base key a buffered removal hides.
    Hidden(Vec<u8>),
    /// A buffered removal of a key the base does not hold.
    Removed(Vec<u8>),
}

/// An open iteration: the part of the range not yet visited.
#[derive(Clone, Debug)]
pub(crate) struct Cursor {
    pub(crate) lower: Bound<Vec<u8>>,
    pub(crate) upper: Bound<Vec<u8>>,
    pub(crate) order: Order,
}

/// Whether `a` is visited strictly before `b` in `order`.
fn precedes(order: Order, a: &[u8], b: &[u8]) -> bool {
    match order {
        Order::Ascending => a < b,
        Order::Descending => a > b,
    }
}

impl Cursor {
    fn yield_entry(&mut self, entry: Entry) -> Entry {
        self.advance_past(entry.0.clone());
        entry
    }

    fn advance_past(&mut self, key: Vec<u8>) {
        match self.order {
            Order::Ascending => self.lower = Bound::Excluded(key),
            Order::Descending => self.upper = Bound::Excluded(key),
        }
    }

    pub(crate) fn is_empty_range(&self) -> bool {
        is_empty_range(&borrowed(&self.lower), &borrowed(&self.upper))
    }
}

/// An in-memory [`Storage`]: for tests, benchmarks and the SDK's native test host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryStorage {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Apply a successful call's writes.
    pub fn apply(&mut self, writes: &[Write]) {
        for write in writes {
            match &write.value {
                Some(value) => self.entries.insert(write.key.clone(), value.clone()),
                None => self.entries.remove(&write.key),
            };
        }
    }

    /// All entries in key order.
    pub fn entries(&self) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        &self.entries
    }
}

impl Storage for MemoryStorage {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.entries.get(key).cloned())
    }

    fn first(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        order: Order,
    ) -> Result<Option<Entry>, StorageError> {
        if is_empty_range(&lower, &upper) {
            return Ok(None);
        }
        let mut range = self.entries.range::<[u8], _>((lower, upper));
        let entry = match order {
            Order::Ascending => range.next(),
            Order::Descending => range.next_back(),
        };
        Ok(entry.map(|(k, v)| (k.clone(), v.clone())))
    }
}

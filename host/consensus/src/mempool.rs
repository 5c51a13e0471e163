//! Transactions waiting for a block.
//!
//! The pool holds transactions that passed every check a block would make except ordering:
//! signature, chain, fuel limit, membership, and a nonce at or a little ahead of the sender's
//! next one (a client may send nonces 5, 6, 7 at once). No client and no flooding peer can
//! exhaust a validator's memory or crowd honest senders out:
//!
//! - it is bounded in transactions and bytes, in total and per sender;
//! - a transaction is **ready** when every nonce from its sender's next one up to its own is
//!   pending too. Only ready transactions are offered to a block, so transactions behind a nonce
//!   gap never take a block's room;
//! - a transaction that is not ready may wait [`Limits::gap_blocks_max`] committed blocks for the
//!   gap to fill, any transaction [`Limits::age_blocks_max`]; then it is dropped. Age is counted
//!   in committed blocks, which every node sees, not on a clock;
//! - when the pool is full, a ready transaction takes the place of the newest ones that are not
//!   ready; one that is not ready itself is refused;
//! - transactions that are not ready share a part of the pool ([`Limits::waiting_max`],
//!   [`Limits::waiting_bytes_max`]). When that part is full, a newcomer behind a gap takes the
//!   place of the newest waiting transaction of the sender holding the most waiting bytes, if
//!   that sender holds more than the newcomer's would; otherwise it is refused. So a client
//!   whose nonces arrive out of order is never kept out by another sender's junk.
//!
//! Nonces behind the sender's next one are replays and are refused; a second transaction for a
//! nonce already queued is refused too (there are no fees to outbid). A transaction leaves the
//! pool when it is committed, when it is invalid for good (its signature, chain or fuel limit,
//! which the executor reports), or by age; never because it did not fit a block or was invalid on
//! a branch that may be abandoned.
//!
//! Proposers take candidates round-robin across senders (each sender's in nonce order), so one
//! busy sender cannot starve the others. Everything is kept in ordered maps, so the same
//! submissions give the same candidates.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use vellum_types::{hex, Address, Hash, SignedTransaction};

/// How much the pool holds, and for how long.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Transactions in the pool.
    pub transactions_max: usize,
    /// Sum of their encoded sizes.
    pub bytes_max: usize,
    /// Transactions from one sender.
    pub per_sender_max: usize,
    /// Encoded bytes from one sender.
    pub per_sender_bytes_max: usize,
    /// How far ahead of a sender's next nonce a transaction may be.
    pub nonce_window: u64,
    /// Committed blocks a transaction that is not ready waits for its gap to fill.
    pub gap_blocks_max: u64,
    /// Committed blocks any transaction waits to be included.
    pub age_blocks_max: u64,
    /// Transactions that are not ready, in the whole pool.
    pub waiting_max: usize,
    /// Their encoded bytes.
    pub waiting_bytes_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            transactions_max: 100_000,
            bytes_max: 256 << 20,
            per_sender_max: 1_024,
            per_sender_bytes_max: 16 << 20,
            nonce_window: 1_024,
            gap_blocks_max: 600,
            age_blocks_max: 3_600,
            waiting_max: 25_000,
            waiting_bytes_max: 64 << 20,
        }
    }
}

/// Why the pool refused a transaction.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    /// It is already in the pool.
    #[error("transaction {0} is already pending")]
    Duplicate(String),
    /// Its nonce is behind the sender's next one: a replay or a stale resend.
    #[error("nonce {found} was already used; the sender's next nonce is {next}")]
    NonceUsed {
        /// The nonce given.
        found: u64,
        /// The sender's next nonce.
        next: u64,
    },
    /// Its nonce is too far ahead of the sender's next one.
    #[error("nonce {found} is too far ahead of the sender's next nonce {next}; send the ones between first")]
    NonceTooFar {
        /// The nonce given.
        found: u64,
        /// The sender's next nonce.
        next: u64,
    },
    /// Another pending transaction has its sender and nonce.
    #[error("another pending transaction from this sender has nonce {0}")]
    NonceTaken(u64),
    /// The sender has too many pending transactions, or too many bytes of them.
    #[error(
        "sender has {transactions} pending transactions ({bytes} bytes); wait for some to commit"
    )]
    SenderFull {
        /// Its pending transactions.
        transactions: usize,
        /// Their bytes.
        bytes: usize,
    },
    /// Transactions behind nonce gaps fill their share of the pool, and this sender already
    /// holds as much of it as any other.
    #[error("too many transactions wait behind nonce gaps ({transactions}, {bytes} bytes); send the missing nonces first")]
    GapsFull {
        /// Transactions waiting behind gaps.
        transactions: usize,
        /// Their bytes.
        bytes: usize,
    },
    /// The pool is full of ready transactions, or this one waits behind a nonce gap.
    #[error("the pool is full ({transactions} transactions, {bytes} bytes); retry later")]
    Full {
        /// Transactions pending.
        transactions: usize,
        /// Their bytes.
        bytes: usize,
    },
}

/// One pending transaction.
#[derive(Clone, Debug)]
struct Entry {
    transaction: SignedTransaction,
    hash: Hash,
    size: usize,
    /// Arrival order, for fairness between senders and for eviction.
    arrival: u64,
    /// The committed height when it arrived.
    arrived_at: u64,
    /// The committed height when [`Mempool::resend`] last handed it out (its arrival before).
    sent_at: u64,
}

/// One sender's pending transactions.
#[derive(Debug, Default)]
struct Queue {
    /// The sender's next nonce as of the last committed block this pool heard of.
    next: u64,
    entries: BTreeMap<u64, Entry>,
    bytes: usize,
    /// Entries that are not ready (behind a gap), and their bytes.
    waiting: (usize, usize),
}

impl Queue {
    /// The entries that are not ready: their count and bytes.
    fn count_waiting(&self) -> (usize, usize) {
        let end = self.ready_end(self.next);
        self.entries
            .range(end..)
            .fold((0, 0), |(n, b), (_, e)| (n + 1, b + e.size))
    }

    /// The nonce below which every pending transaction is ready: one past the end of the run of
    /// consecutive nonces starting at `from`.
    fn ready_end(&self, from: u64) -> u64 {
        let mut end = from;
        for &nonce in self.entries.range(from..).map(|(n, _)| n) {
            if nonce != end {
                break;
            }
            end += 1;
        }
        end
    }
}

/// The pool.
#[derive(Debug, Default)]
pub struct Mempool {
    limits: Limits,
    senders: BTreeMap<Address, Queue>,
    hashes: HashMap<Hash, (Address, u64)>,
    /// Every entry by (arrival height, arrival), oldest first, for eviction by age.
    by_age: BTreeMap<(u64, u64), Hash>,
    bytes: usize,
    /// Transactions that are not ready, and their bytes, over all senders.
    waiting: (usize, usize),
    /// Senders with transactions that are not ready, by those transactions' bytes.
    by_waiting: BTreeSet<(usize, Address)>,
    arrivals: u64,
    /// The last committed height this pool heard of.
    height: u64,
}

impl Mempool {
    /// An empty pool.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Its limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Pending transactions.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Their encoded bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The last committed height this pool heard of.
    pub fn height(&self) -> u64 {
        self.height
    }

    /// Whether `hash` is pending.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.hashes.contains_key(hash)
    }

    /// Add `transaction` (whose hash is `hash`), already checked against committed state, whose
    /// sender's next nonce is `next`. Returns the transactions it made ready: itself and the run
    /// of its sender's transactions that waited behind it, in nonce order; none if it waits
    /// behind a gap itself.
    pub fn insert(
        &mut self,
        transaction: SignedTransaction,
        hash: Hash,
        next: u64,
    ) -> Result<Vec<SignedTransaction>, MempoolError> {
        if self.hashes.contains_key(&hash) {
            return Err(MempoolError::Duplicate(hex(&hash)));
        }
        let nonce = transaction.transaction.nonce;
        if nonce < next {
            return Err(MempoolError::NonceUsed { found: nonce, next });
        }
        if nonce - next >= self.limits.nonce_window {
            return Err(MempoolError::NonceTooFar { found: nonce, next });
        }
        let sender = transaction.sender();
        let size = transaction.encoded_len();
        let (ready, queued, queued_bytes) = match self.senders.get(&sender) {
            Some(queue) => {
                if queue.entries.contains_key(&nonce) {
                    return Err(MempoolError::NonceTaken(nonce));
                }
                let from = queue.next.max(next);
                (
                    queue.ready_end(from) >= nonce,
                    queue.entries.len(),
                    queue.bytes,
                )
            }
            None => (nonce == next, 0, 0),
        };
        if queued >= self.limits.per_sender_max
            || queued_bytes + size > self.limits.per_sender_bytes_max
        {
            return Err(MempoolError::SenderFull {
                transactions: queued,
                bytes: queued_bytes,
            });
        }
        if !ready {
            self.make_room_to_wait(&sender, size)?;
        }
        if !self.fits(size) {
            // A ready transaction takes the place of transactions waiting behind a gap; one that
            // waits itself does not.
            if ready {
                self.evict_waiting_for(size);
            }
            if !self.fits(size) {
                return Err(MempoolError::Full {
                    transactions: self.hashes.len(),
                    bytes: self.bytes,
                });
            }
        }
        self.arrivals += 1;
        let entry = Entry {
            transaction,
            hash,
            size,
            arrival: self.arrivals,
            arrived_at: self.height,
            sent_at: self.height,
        };
        self.by_age.insert((self.height, self.arrivals), hash);
        let queue = self.senders.entry(sender).or_default();
        queue.next = queue.next.max(next);
        queue.bytes += size;
        queue.entries.insert(nonce, entry);
        // It and the run of transactions behind it that were waiting for it are ready now.
        let released = if ready {
            let end = queue.ready_end(nonce);
            queue
                .entries
                .range(nonce..end)
                .map(|(_, e)| e.transaction.clone())
                .collect()
        } else {
            Vec::new()
        };
        self.hashes.insert(hash, (sender, nonce));
        self.bytes += size;
        self.refresh(&sender);
        Ok(released)
    }

    /// Make room, in the share of the pool for transactions that are not ready, for one of
    /// `size` bytes from `sender`: the newest waiting transactions of the sender holding the most
    /// waiting bytes make way, as long as that sender holds more than `sender` then would. So
    /// one sender's junk behind a gap never keeps another's transaction out for long.
    fn make_room_to_wait(&mut self, sender: &Address, size: usize) -> Result<(), MempoolError> {
        let mine = self.senders.get(sender).map_or(0, |q| q.waiting.1) + size;
        while self.waiting.0 >= self.limits.waiting_max
            || self.waiting.1 + size > self.limits.waiting_bytes_max
        {
            let top = self.by_waiting.last().copied();
            let newest = top
                .filter(|(bytes, top)| top != sender && *bytes > mine)
                .and_then(|(_, top)| self.senders.get(&top))
                .and_then(|queue| queue.entries.last_key_value())
                .map(|(_, entry)| entry.hash);
            let Some(hash) = newest else {
                return Err(MempoolError::GapsFull {
                    transactions: self.waiting.0,
                    bytes: self.waiting.1,
                });
            };
            self.remove(&hash);
        }
        Ok(())
    }

    /// Recount `sender`'s transactions that are not ready (after its entries or its next nonce
    /// changed), and forget the sender if it has none left.
    fn refresh(&mut self, sender: &Address) {
        let Some(queue) = self.senders.get_mut(sender) else {
            return;
        };
        let before = queue.waiting;
        let after = queue.count_waiting();
        queue.waiting = after;
        let empty = queue.entries.is_empty();
        self.waiting.0 = self.waiting.0 - before.0 + after.0;
        self.waiting.1 = self.waiting.1 - before.1 + after.1;
        if before.0 > 0 {
            self.by_waiting.remove(&(before.1, *sender));
        }
        if after.0 > 0 {
            self.by_waiting.insert((after.1, *sender));
        }
        if empty {
            self.senders.remove(sender);
        }
    }

    fn fits(&self, size: usize) -> bool {
        self.hashes.len() < self.limits.transactions_max
            && self.bytes + size <= self.limits.bytes_max
    }

    /// Drop the newest transactions that are not ready until `size` more bytes (and one more
    /// transaction) fit, or none is left to drop.
    fn evict_waiting_for(&mut self, size: usize) {
        let mut waiting: Vec<(u64, Hash)> = Vec::new();
        for queue in self.senders.values() {
            let end = queue.ready_end(queue.next);
            waiting.extend(queue.entries.range(end..).map(|(_, e)| (e.arrival, e.hash)));
        }
        waiting.sort_unstable_by_key(|w| std::cmp::Reverse(w.0));
        let mut touched = BTreeSet::new();
        for (_, hash) in waiting {
            if self.fits(size) {
                break;
            }
            touched.extend(self.remove_entry(&hash));
        }
        for sender in touched {
            self.refresh(&sender);
        }
    }

    /// Up to `max` ready candidates for a block: round-robin across senders in the order their
    /// oldest pending transaction arrived, each sender's in nonce order, starting at its next
    /// nonce. `next(sender)` gives a sender's next nonce where the proposer's state is ahead of
    /// committed state (blocks executed but not committed yet), or `None`.
    pub fn candidates(
        &self,
        max: usize,
        next: impl Fn(&Address) -> Option<u64>,
    ) -> Vec<SignedTransaction> {
        let mut queues: Vec<(u64, Vec<&Entry>)> = self
            .senders
            .iter()
            .filter_map(|(sender, queue)| {
                let from = next(sender).map_or(queue.next, |n| n.max(queue.next));
                let end = queue.ready_end(from);
                let ready: Vec<&Entry> = queue.entries.range(from..end).map(|(_, e)| e).collect();
                let oldest = ready.iter().map(|e| e.arrival).min()?;
                Some((oldest, ready))
            })
            .collect();
        queues.sort_by_key(|(oldest, _)| *oldest);
        let mut iterators: Vec<_> = queues.into_iter().map(|(_, q)| q.into_iter()).collect();
        let mut out = Vec::with_capacity(max.min(self.len()));
        while out.len() < max && !iterators.is_empty() {
            iterators.retain_mut(|queue| match queue.next() {
                Some(entry) if out.len() < max => {
                    out.push(entry.transaction.clone());
                    true
                }
                _ => false,
            });
        }
        out
    }

    /// A block at `height` was committed carrying `transactions`; `next` holds the next nonce
    /// of each of their senders after it. Forget what it carried and every pending nonce below
    /// its sender's next one (it can never be included), then drop transactions that waited too
    /// long behind a gap or at all. Returns the transactions the commit made ready (they waited
    /// behind a gap the block filled), in nonce order per sender, for gossip: a node that never
    /// proposes (an observer) would otherwise hold them for good.
    pub fn committed(
        &mut self,
        height: u64,
        transactions: &[SignedTransaction],
        next: &BTreeMap<Address, u64>,
    ) -> Vec<SignedTransaction> {
        self.height = self.height.max(height);
        let now = self.height;
        // Where each of these senders' ready run ended before the commit.
        let ready_before: BTreeMap<Address, u64> = next
            .keys()
            .filter_map(|sender| {
                let queue = self.senders.get(sender)?;
                Some((*sender, queue.ready_end(queue.next)))
            })
            .collect();
        let mut touched = BTreeSet::new();
        for transaction in transactions {
            touched.extend(self.remove_entry(&transaction.hash()));
        }
        let mut released = Vec::new();
        for (sender, &next) in next {
            let Some(queue) = self.senders.get_mut(sender) else {
                continue;
            };
            queue.next = queue.next.max(next);
            let stale: Vec<Hash> = queue.entries.range(..next).map(|(_, e)| e.hash).collect();
            for hash in stale {
                self.remove_entry(&hash);
            }
            touched.insert(*sender);
            if let (Some(queue), Some(&before)) =
                (self.senders.get_mut(sender), ready_before.get(sender))
            {
                let end = queue.ready_end(queue.next);
                let start = before.max(queue.next);
                if start < end {
                    // Handed out now: `resend` counts from here.
                    released.extend(queue.entries.range_mut(start..end).map(|(_, e)| {
                        e.sent_at = now;
                        (e.hash, e.transaction.clone())
                    }));
                }
            }
        }
        for sender in touched {
            self.refresh(&sender);
        }
        self.evict_old();
        // An eviction may have taken a released transaction: only what is still pending goes.
        released
            .into_iter()
            .filter(|(hash, _)| self.hashes.contains_key(hash))
            .map(|(_, transaction)| transaction)
            .collect()
    }

    /// Up to `max` ready transactions that have been pending for `every` committed blocks since
    /// they arrived or were last handed out (here, or by [`Mempool::committed`]), oldest first; each is marked as handed out
    /// now. A node that never proposes (an observer) gossips them again: nothing tells it
    /// whether its first send reached a validator (none may have been connected, or its outbox
    /// may have been full).
    pub fn resend(&mut self, every: u64, max: usize) -> Vec<SignedTransaction> {
        let Some(cutoff) = self.height.checked_sub(every) else {
            return Vec::new();
        };
        let mut ready_ends: HashMap<Address, u64> = HashMap::new();
        let mut due = Vec::new();
        for hash in self.by_age.range(..(cutoff + 1, 0)).map(|(_, hash)| hash) {
            if due.len() == max {
                break;
            }
            let Some(&(sender, nonce)) = self.hashes.get(hash) else {
                continue;
            };
            let Some(queue) = self.senders.get(&sender) else {
                continue;
            };
            let end = *ready_ends
                .entry(sender)
                .or_insert_with(|| queue.ready_end(queue.next));
            if nonce < end
                && queue
                    .entries
                    .get(&nonce)
                    .is_some_and(|e| e.sent_at <= cutoff)
            {
                due.push((sender, nonce));
            }
        }
        let height = self.height;
        due.into_iter()
            .filter_map(|(sender, nonce)| {
                let entry = self.senders.get_mut(&sender)?.entries.get_mut(&nonce)?;
                entry.sent_at = height;
                Some(entry.transaction.clone())
            })
            .collect()
    }

    /// Drop transactions older than `age_blocks_max`, and those older than `gap_blocks_max`
    /// that are still not ready.
    fn evict_old(&mut self) {
        let gap_cutoff = self.height.saturating_sub(self.limits.gap_blocks_max);
        let age_cutoff = self.height.saturating_sub(self.limits.age_blocks_max);
        let mut expired = Vec::new();
        let scan = gap_cutoff.max(age_cutoff);
        for (&(arrived_at, _), hash) in self.by_age.range(..(scan, 0)) {
            if arrived_at < age_cutoff {
                expired.push(*hash);
                continue;
            }
            if arrived_at >= gap_cutoff {
                continue;
            }
            let Some((sender, nonce)) = self.hashes.get(hash) else {
                continue;
            };
            let waiting = self
                .senders
                .get(sender)
                .is_some_and(|q| q.ready_end(q.next) <= *nonce);
            if waiting {
                expired.push(*hash);
            }
        }
        if !expired.is_empty() {
            tracing::debug!(
                height = self.height,
                expired = expired.len(),
                "dropped transactions that waited too long"
            );
        }
        let mut touched = BTreeSet::new();
        for hash in expired {
            touched.extend(self.remove_entry(&hash));
        }
        for sender in touched {
            self.refresh(&sender);
        }
    }

    /// Drop `hash`, if pending (a candidate the executor found invalid for good).
    pub fn remove(&mut self, hash: &Hash) {
        if let Some(sender) = self.remove_entry(hash) {
            self.refresh(&sender);
        }
    }

    /// Drop `hash`, if pending, and name its sender, whose queue the caller must
    /// [`refresh`](Self::refresh).
    fn remove_entry(&mut self, hash: &Hash) -> Option<Address> {
        let (sender, nonce) = self.hashes.remove(hash)?;
        if let Some(queue) = self.senders.get_mut(&sender) {
            if let Some(entry) = queue.entries.remove(&nonce) {
                self.bytes -= entry.size;
                queue.bytes -= entry.size;
                self.by_age.remove(&(entry.arrived_at, entry.arrival));
            }
        }
        Some(sender)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::ecdsa::SigningKey;
    use vellum_types::{public_key, Action, Transaction};

    fn transaction(key: u8, nonce: u64) -> SignedTransaction {
        let key = SigningKey::from_slice(&[key; 32]).expect("valid key");
        Transaction {
            chain_id: "test".into(),
            sender: public_key(&key),
            nonce,
            fuel_limit: 1_000_000,
            action: Action::ApproveCode { code_hash: [0; 32] },
        }
        .sign(&key)
    }

    fn add(
        pool: &mut Mempool,
        tx: SignedTransaction,
        next: u64,
    ) -> Result<Vec<SignedTransaction>, MempoolError> {
        let hash = tx.hash();
        pool.insert(tx, hash, next)
    }

    fn nonces(candidates: &[SignedTransaction]) -> Vec<u64> {
        candidates.iter().map(|t| t.transaction.nonce).collect()
    }

    fn next_of(key: u8, next: u64) -> BTreeMap<Address, u64> {
        BTreeMap::from([(transaction(key, 0).sender(), next)])
    }

    #[test]
    fn refuses_duplicates_replays_and_far_nonces() {
        let mut pool = Mempool::new(Limits {
            nonce_window: 4,
            ..Limits::default()
        });
        add(&mut pool, transaction(1, 2), 2).unwrap();
        assert!(matches!(
            add(&mut pool, transaction(1, 2), 2),
            Err(MempoolError::Duplicate(_))
        ));
        assert_eq!(
            add(&mut pool, transaction(1, 1), 2),
            Err(MempoolError::NonceUsed { found: 1, next: 2 })
        );
        assert_eq!(
            add(&mut pool, transaction(1, 6), 2),
            Err(MempoolError::NonceTooFar { found: 6, next: 2 })
        );
        add(&mut pool, transaction(1, 5), 2).unwrap();
        assert_eq!(pool.len(), 2);
    }

    #[test]
    fn bounds_hold_against_a_flood() {
        let mut pool = Mempool::new(Limits {
            transactions_max: 10,
            per_sender_max: 4,
            ..Limits::default()
        });
        for nonce in 0..4 {
            add(&mut pool, transaction(1, nonce), 0).unwrap();
        }
        assert!(matches!(
            add(&mut pool, transaction(1, 4), 0),
            Err(MempoolError::SenderFull {
                transactions: 4,
                ..
            })
        ));
        for key in 2..=4 {
            for nonce in 0..2 {
                add(&mut pool, transaction(key, nonce), 0).unwrap();
            }
        }
        assert!(matches!(
            add(&mut pool, transaction(9, 0), 0),
            Err(MempoolError::Full { .. })
        ));
        assert_eq!(pool.len(), 10);
        let bytes: usize = pool
            .candidates(usize::MAX, |_| None)
            .iter()
            .map(|t| t.encode().len())
            .sum();
        assert_eq!(pool.bytes(), bytes);
    }

    #[test]
    fn a_sender_is_bounded_in_bytes_too() {
        let size = transaction(1, 0).encode().len();
        let mut pool = Mempool::new(Limits {
            per_sender_bytes_max: 3 * size,
            ..Limits::default()
        });
        for nonce in 0..3 {
            add(&mut pool, transaction(1, nonce), 0).unwrap();
        }
        assert!(matches!(
            add(&mut pool, transaction(1, 3), 0),
            Err(MempoolError::SenderFull {
                transactions: 3,
                ..
            })
        ));
        add(&mut pool, transaction(2, 0), 0).unwrap();
    }

    #[test]
    fn candidates_alternate_senders_in_nonce_order() {
        let mut pool = Mempool::new(Limits::default());
        for nonce in [2, 0, 1] {
            add(&mut pool, transaction(1, nonce), 0).unwrap();
        }
        add(&mut pool, transaction(2, 0), 0).unwrap();
        let order: Vec<(Address, u64)> = pool
            .candidates(10, |_| None)
            .iter()
            .map(|t| (t.sender(), t.transaction.nonce))
            .collect();
        let (a, b) = (transaction(1, 0).sender(), transaction(2, 0).sender());
        assert_eq!(order, vec![(a, 0), (b, 0), (a, 1), (a, 2)]);
        assert_eq!(pool.candidates(2, |_| None).len(), 2);
    }

    /// Found in review: gapped transactions counted against a block's budget before their
    /// nonces were checked, so a sender with a gap could fill every proposal.
    #[test]
    fn only_transactions_without_a_gap_before_them_are_candidates() {
        let mut pool = Mempool::new(Limits::default());
        // Each ready transaction is ready on arrival (and so gossiped); the ones behind a gap
        // are not.
        for nonce in [0, 1] {
            assert_eq!(
                nonces(&add(&mut pool, transaction(1, nonce), 0).unwrap()),
                [nonce]
            );
        }
        for nonce in [3, 4] {
            assert!(add(&mut pool, transaction(1, nonce), 0).unwrap().is_empty());
        }
        // Sender 2 has only transactions behind a gap.
        for nonce in 5..10 {
            assert!(add(&mut pool, transaction(2, nonce), 0).unwrap().is_empty());
        }
        assert_eq!(nonces(&pool.candidates(100, |_| None)), vec![0, 1]);
        // The proposer's own uncommitted blocks already carry sender 1's nonces 0 and 1.
        let a = transaction(1, 0).sender();
        assert!(pool.candidates(100, |s| (*s == a).then_some(2)).is_empty());
        // The gap fills: everything up to 4 is ready, and made ready by the one that filled it.
        let released = add(&mut pool, transaction(1, 2), 0).unwrap();
        assert_eq!(nonces(&released), [2, 3, 4]);
        assert_eq!(nonces(&pool.candidates(100, |_| None)), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn commit_evicts_included_and_stale() {
        let mut pool = Mempool::new(Limits::default());
        for nonce in 0..3 {
            add(&mut pool, transaction(1, nonce), 0).unwrap();
        }
        let other = transaction(2, 0);
        add(&mut pool, other.clone(), 0).unwrap();
        // Block carried sender 1's nonce 0; another node's block (seen through state) also used
        // nonce 1, so only nonce 2 can still be included.
        pool.committed(1, &[transaction(1, 0)], &next_of(1, 2));
        let left = nonces(&pool.candidates(10, |_| None));
        // Sender 1's nonce 2 arrived before sender 2's nonce 0.
        assert_eq!(left, vec![2, 0]);
        assert!(pool.contains(&other.hash()));
        pool.remove(&other.hash());
        assert_eq!(pool.len(), 1);
        assert_eq!(pool.bytes(), transaction(1, 2).encode().len());
    }

    /// Found by `vellum bench --validators 4` at its maximum rate: a client spreads one
    /// account's nonces over four validators, so a validator holds nonce 386 behind a gap while
    /// 380 to 385, ready elsewhere, wait their turn in loaded pools. At 12 blocks a second, 60
    /// blocks (the old default) is 5 s, less than the slowest of them took to commit, and nonce
    /// 386 and everything after it were dropped everywhere. A gap filled within 300 blocks is
    /// kept, with the default limits.
    #[test]
    fn a_gap_filled_by_a_slow_commit_is_kept_with_the_default_limits() {
        let mut pool = Mempool::new(Limits::default());
        add(&mut pool, transaction(1, 6), 0).unwrap();
        add(&mut pool, transaction(1, 7), 0).unwrap();
        for height in 1..300 {
            pool.committed(height, &[], &BTreeMap::new());
        }
        // Nonces 0 to 5 commit in a block this validator did not build.
        let released = pool.committed(300, &[], &next_of(1, 6));
        assert_eq!(nonces(&released), [6, 7], "ready now, and gossiped");
        assert_eq!(nonces(&pool.candidates(10, |_| None)), [6, 7]);
    }

    /// Found in review: transactions behind a nonce gap were never evicted, so one member could
    /// fill every validator's pool for good and every honest transaction was refused.
    #[test]
    fn a_gap_that_never_fills_is_dropped_and_ready_transactions_push_gaps_out() {
        let mut pool = Mempool::new(Limits {
            transactions_max: 8,
            gap_blocks_max: 3,
            ..Limits::default()
        });
        for nonce in 1..=8 {
            add(&mut pool, transaction(1, nonce), 0).unwrap();
        }
        // Full of transactions waiting behind nonce 0: another one behind a gap is refused ...
        assert!(matches!(
            add(&mut pool, transaction(2, 5), 0),
            Err(MempoolError::Full { .. })
        ));
        // ... but a ready one takes the newest waiting one's place.
        add(&mut pool, transaction(3, 0), 0).unwrap();
        assert_eq!(pool.len(), 8);
        assert!(!pool.contains(&transaction(1, 8).hash()));
        assert!(pool.contains(&transaction(1, 1).hash()));
        // Three blocks later the gap has not filled: the waiting transactions go.
        for height in 1..=3 {
            pool.committed(height, &[], &BTreeMap::new());
        }
        assert_eq!(pool.len(), 8);
        pool.committed(4, &[], &BTreeMap::new());
        assert_eq!(nonces(&pool.candidates(10, |_| None)), vec![0]);
        assert_eq!(pool.len(), 1);
    }

    /// The pool's count of waiting transactions, checked against a recount from scratch.
    fn waiting(pool: &Mempool) -> usize {
        let recount = pool.senders.values().fold((0, 0), |(n, b), q| {
            let (qn, qb) = q.count_waiting();
            (n + qn, b + qb)
        });
        assert_eq!(pool.waiting, recount);
        let by_sender: BTreeSet<(usize, Address)> = pool
            .senders
            .iter()
            .filter(|(_, q)| q.count_waiting().0 > 0)
            .map(|(sender, q)| (q.count_waiting().1, *sender))
            .collect();
        assert_eq!(pool.by_waiting, by_sender);
        pool.waiting.0
    }

    #[test]
    fn junk_behind_gaps_cannot_keep_another_senders_out_of_order_nonces_out() {
        let limits = Limits {
            waiting_max: 4,
            ..Limits::default()
        };
        let mut pool = Mempool::new(limits);
        // Sender 2 fills the share for waiting transactions behind a nonce it never sends.
        for nonce in 1..=4 {
            assert!(add(&mut pool, transaction(2, nonce), 0).unwrap().is_empty());
        }
        assert_eq!(waiting(&pool), 4);
        let refused = add(&mut pool, transaction(2, 5), 0);
        assert!(
            matches!(refused, Err(MempoolError::GapsFull { .. })),
            "{refused:?}"
        );
        // Sender 1's nonce 1 arrives before its nonce 0: it takes the place of sender 2's newest.
        assert!(add(&mut pool, transaction(1, 1), 0).unwrap().is_empty());
        assert!(!pool.contains(&transaction(2, 4).hash()));
        assert_eq!(waiting(&pool), 4);
        // Its nonce 0 arrives: both are ready, and leave the waiting share.
        let released = add(&mut pool, transaction(1, 0), 0).unwrap();
        assert_eq!(nonces(&released), [0, 1]);
        assert_eq!(waiting(&pool), 3);
        // Fair shares: sender 3 gets in while sender 2 holds more; once they hold as much as
        // each other, the newcomer is refused.
        assert!(add(&mut pool, transaction(3, 1), 0).unwrap().is_empty());
        assert!(add(&mut pool, transaction(3, 2), 0).unwrap().is_empty());
        assert!(!pool.contains(&transaction(2, 3).hash()));
        assert_eq!(waiting(&pool), 4);
        let refused = add(&mut pool, transaction(3, 3), 0);
        assert!(
            matches!(refused, Err(MempoolError::GapsFull { .. })),
            "{refused:?}"
        );
        // A commit that moves sender 2 past its gap makes its transactions ready, and hands
        // them back for gossip.
        let released = pool.committed(1, &[], &next_of(2, 1));
        assert_eq!(nonces(&released), [1, 2]);
        assert_eq!(waiting(&pool), 2);
        assert_eq!(nonces(&pool.candidates(100, |_| None)), vec![1, 0, 2, 1]);
        // Committing what was already ready releases nothing.
        assert!(pool
            .committed(2, &[transaction(2, 1)], &next_of(2, 2))
            .is_empty());
        assert_eq!(waiting(&pool), 2);
        pool.remove(&transaction(3, 2).hash());
        assert_eq!(waiting(&pool), 1);
    }

    /// An observer's second chance: ready transactions still pending `every` blocks after they
    /// arrived (or were last resent) are handed out again, oldest first and at most `max` at a
    /// time; one behind a gap is not, until it is ready.
    #[test]
    fn pending_ready_transactions_are_handed_out_again_after_a_while() {
        let mut pool = Mempool::new(Limits::default());
        for nonce in 0..3 {
            add(&mut pool, transaction(1, nonce), 0).unwrap();
        }
        assert!(add(&mut pool, transaction(2, 1), 0).unwrap().is_empty());
        pool.committed(1, &[], &BTreeMap::new());
        assert!(pool.resend(2, 10).is_empty(), "too soon");
        pool.committed(2, &[], &BTreeMap::new());
        assert_eq!(nonces(&pool.resend(2, 2)), [0, 1]);
        assert_eq!(nonces(&pool.resend(2, 10)), [2]);
        assert!(pool.resend(2, 10).is_empty(), "each once per period");
        // Sender 2's gap fills by a commit, which hands its transaction out: it is due again
        // `every` blocks later, not at once.
        assert_eq!(nonces(&pool.committed(3, &[], &next_of(2, 1))), [1]);
        assert!(pool.resend(2, 10).is_empty());
        pool.committed(4, &[], &BTreeMap::new());
        assert_eq!(nonces(&pool.resend(2, 10)), [0, 1, 2]);
        pool.committed(5, &[], &BTreeMap::new());
        assert_eq!(nonces(&pool.resend(2, 10)), [1]);
    }

    #[test]
    fn any_transaction_is_dropped_after_the_age_limit() {
        let mut pool = Mempool::new(Limits {
            age_blocks_max: 5,
            ..Limits::default()
        });
        add(&mut pool, transaction(1, 0), 0).unwrap();
        for height in 1..=5 {
            pool.committed(height, &[], &BTreeMap::new());
        }
        assert_eq!(pool.len(), 1);
        pool.committed(6, &[], &BTreeMap::new());
        assert!(pool.is_empty());
        assert_eq!(pool.bytes(), 0);
    }
}

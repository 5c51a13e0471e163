//! Transactions waiting for a block.
//!
//! The pool holds transactions that passed every check a block would make except ordering:
//! signature, chain, fuel limit, membership, and a nonce at or a little ahead of the sender's
//! next one (a client may send nonces 5, 6, 7 at once). It is bounded three ways, so that no
//! client and no flooding peer can exhaust a validator's memory: total transactions, total bytes,
//! and transactions per sender. Nonces behind the sender's next one are replays and are refused;
//! a second transaction for a nonce already queued is refused too (there are no fees to outbid).
//!
//! Proposers take candidates round-robin across senders (each sender's in nonce order), so one
//! busy sender cannot starve the others. The pool never decides validity on its own: the
//! executor builds the block and drops any candidate that turns out invalid in its position.
//! Everything is kept in ordered maps, so the same submissions give the same candidates.

use std::collections::{BTreeMap, HashMap};
use vellum_types::{hex, Address, Hash, SignedTransaction};

/// How much the pool holds.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Transactions in the pool.
    pub transactions_max: usize,
    /// Sum of their encoded sizes.
    pub bytes_max: usize,
    /// Transactions from one sender.
    pub per_sender_max: usize,
    /// How far ahead of a sender's next nonce a transaction may be.
    pub nonce_window: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            transactions_max: 100_000,
            bytes_max: 256 << 20,
            per_sender_max: 1_024,
            nonce_window: 1_024,
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
    /// The sender has too many pending transactions.
    #[error("sender has {0} pending transactions; wait for some to commit")]
    SenderFull(usize),
    /// The pool is full.
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
    /// Arrival order, for fairness between senders.
    arrival: u64,
}

/// The pool.
#[derive(Debug, Default)]
pub struct Mempool {
    limits: Limits,
    senders: BTreeMap<Address, BTreeMap<u64, Entry>>,
    hashes: HashMap<Hash, (Address, u64)>,
    bytes: usize,
    arrivals: u64,
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

    /// Whether `hash` is pending.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.hashes.contains_key(hash)
    }

    /// Add `transaction` (whose hash is `hash`), already checked against committed state, whose
    /// sender's next nonce is `next`.
    pub fn insert(
        &mut self,
        transaction: SignedTransaction,
        hash: Hash,
        next: u64,
    ) -> Result<(), MempoolError> {
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
        let queue = self.senders.get(&sender);
        if queue.is_some_and(|q| q.contains_key(&nonce)) {
            return Err(MempoolError::NonceTaken(nonce));
        }
        let queued = queue.map_or(0, BTreeMap::len);
        if queued >= self.limits.per_sender_max {
            return Err(MempoolError::SenderFull(queued));
        }
        let size = transaction.encode().len();
        if self.hashes.len() >= self.limits.transactions_max
            || self.bytes + size > self.limits.bytes_max
        {
            return Err(MempoolError::Full {
                transactions: self.hashes.len(),
                bytes: self.bytes,
            });
        }
        self.arrivals += 1;
        let entry = Entry {
            transaction,
            hash,
            size,
            arrival: self.arrivals,
        };
        self.senders.entry(sender).or_default().insert(nonce, entry);
        self.hashes.insert(hash, (sender, nonce));
        self.bytes += size;
        Ok(())
    }

    /// Up to `max` candidates for a block: round-robin across senders in the order their oldest
    /// pending transaction arrived, each sender's in nonce order.
    pub fn candidates(&self, max: usize) -> Vec<SignedTransaction> {
        let mut queues: Vec<_> = self.senders.values().filter(|q| !q.is_empty()).collect();
        queues.sort_by_key(|q| q.values().map(|e| e.arrival).min());
        let mut iterators: Vec<_> = queues.into_iter().map(|q| q.values()).collect();
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

    /// Forget the transactions a committed block carried and, for each of their senders, every
    /// pending nonce below `next(sender)`, which can no longer be included.
    pub fn committed(
        &mut self,
        transactions: &[SignedTransaction],
        mut next: impl FnMut(&Address) -> u64,
    ) {
        let mut senders = Vec::new();
        for transaction in transactions {
            let sender = transaction.sender();
            if !senders.contains(&sender) {
                senders.push(sender);
            }
            self.remove(&transaction.hash());
        }
        for sender in senders {
            let next = next(&sender);
            let stale: Vec<Hash> = self
                .senders
                .get(&sender)
                .map(|q| q.range(..next).map(|(_, e)| e.hash).collect())
                .unwrap_or_default();
            for hash in stale {
                self.remove(&hash);
            }
        }
    }

    /// Drop `hash`, if pending (a candidate the executor found permanently invalid).
    pub fn remove(&mut self, hash: &Hash) {
        let Some((sender, nonce)) = self.hashes.remove(hash) else {
            return;
        };
        if let Some(queue) = self.senders.get_mut(&sender) {
            if let Some(entry) = queue.remove(&nonce) {
                self.bytes -= entry.size;
            }
            if queue.is_empty() {
                self.senders.remove(&sender);
            }
        }
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

    fn add(pool: &mut Mempool, tx: SignedTransaction, next: u64) -> Result<(), MempoolError> {
        let hash = tx.hash();
        pool.insert(tx, hash, next)
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
        assert_eq!(
            add(&mut pool, transaction(1, 4), 0),
            Err(MempoolError::SenderFull(4))
        );
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
            .candidates(usize::MAX)
            .iter()
            .map(|t| t.encode().len())
            .sum();
        assert_eq!(pool.bytes(), bytes);
    }

    #[test]
    fn candidates_alternate_senders_in_nonce_order() {
        let mut pool = Mempool::new(Limits::default());
        for nonce in [2, 0, 1] {
            add(&mut pool, transaction(1, nonce), 0).unwrap();
        }
        add(&mut pool, transaction(2, 0), 0).unwrap();
        let order: Vec<(Address, u64)> = pool
            .candidates(10)
            .iter()
            .map(|t| (t.sender(), t.transaction.nonce))
            .collect();
        let (a, b) = (transaction(1, 0).sender(), transaction(2, 0).sender());
        assert_eq!(order, vec![(a, 0), (b, 0), (a, 1), (a, 2)]);
        assert_eq!(pool.candidates(2).len(), 2);
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
        pool.committed(&[transaction(1, 0)], |_| 2);
        let left: Vec<u64> = pool
            .candidates(10)
            .iter()
            .map(|t| t.transaction.nonce)
            .collect();
        // Sender 1's nonce 2 arrived before sender 2's nonce 0.
        assert_eq!(left, vec![2, 0]);
        assert!(pool.contains(&other.hash()));
        pool.remove(&other.hash());
        assert_eq!(pool.len(), 1);
        assert_eq!(pool.bytes(), transaction(1, 2).encode().len());
    }
}

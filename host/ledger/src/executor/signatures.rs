//! Signature verification: in parallel on all cores, each transaction at most once.
//!
//! Every verified transaction hash is remembered (bounded, oldest forgotten first), so a
//! transaction the mempool verified is not verified again when its block executes.

use super::{BlockError, Executor, SIGNATURE_CACHE_ENTRIES};
use std::{
    collections::{HashSet, VecDeque},
    sync::Mutex,
};
use vellum_types::{hex, Hash, SignedTransaction, TransactionError};

/// A transaction's signature check.
pub(super) type Verdict = Result<(), TransactionError>;

/// Transaction hashes whose signatures were verified: bounded, oldest forgotten first.
#[derive(Default)]
pub(super) struct SignatureCache {
    inner: Mutex<(HashSet<Hash>, VecDeque<Hash>)>,
}

impl SignatureCache {
    pub(super) fn contains(&self, hash: &Hash) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .contains(hash)
    }

    pub(super) fn insert(&self, hash: Hash) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.0.insert(hash) {
            inner.1.push_back(hash);
            if inner.1.len() > SIGNATURE_CACHE_ENTRIES {
                if let Some(oldest) = inner.1.pop_front() {
                    inner.0.remove(&oldest);
                }
            }
        }
    }
}

impl Executor {
    /// Check every signature not checked before, in parallel, remembering the good ones. Fails
    /// with the first transaction whose signature is bad.
    pub fn verify_signatures(
        &self,
        transactions: &[SignedTransaction],
    ) -> Result<Vec<Hash>, BlockError> {
        self.verify_each(transactions)?
            .into_iter()
            .enumerate()
            .map(|(index, (hash, verdict))| {
                verdict
                    .map(|()| hash)
                    .map_err(|error| BlockError::Transaction {
                        index,
                        hash: hex(&hash),
                        error,
                    })
            })
            .collect()
    }

    /// Each transaction's hash and signature verdict, checked in parallel; the good ones are
    /// remembered.
    pub(super) fn verify_each(
        &self,
        transactions: &[SignedTransaction],
    ) -> Result<Vec<(Hash, Verdict)>, BlockError> {
        let hashes: Vec<Hash> = transactions.iter().map(SignedTransaction::hash).collect();
        let pending: Vec<usize> = (0..transactions.len())
            .filter(|&i| !self.verified.contains(&hashes[i]))
            .collect();
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(pending.len().max(1));
        let chunk = pending.len().div_ceil(threads).max(1);
        let failures: Vec<(usize, TransactionError)> = std::thread::scope(|scope| {
            let workers: Vec<_> = pending
                .chunks(chunk)
                .map(|indexes| {
                    scope.spawn(move || {
                        indexes
                            .iter()
                            .filter_map(|&i| {
                                transactions[i].verify_signature().err().map(|e| (i, e))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join())
                .collect::<Result<Vec<_>, _>>()
                .map(|chunks| chunks.into_iter().flatten().collect::<Vec<_>>())
        })
        // A worker that panicked verified nothing: fail closed, and cache nothing.
        .map_err(|_| BlockError::Panicked("signature verification"))?;
        let mut verdicts: Vec<(Hash, Verdict)> =
            hashes.into_iter().map(|hash| (hash, Ok(()))).collect();
        for (index, error) in failures {
            verdicts[index].1 = Err(error);
        }
        for &i in &pending {
            if verdicts[i].1.is_ok() {
                self.verified.insert(verdicts[i].0);
            }
        }
        Ok(verdicts)
    }
}

//! Which transactions may enter a block, and the pool: one set of rules for everyone.
//!
//! A block's proposer and its verifiers must agree on every rule, or honest validators disagree
//! about the same block. So building and verifying run the same [`Admission`] over a block's
//! transactions (the builder stops where it reports the block full, the verifier rejects the
//! block there), and the mempool's entry check runs the same stateful rules
//! ([`Executor::check_sender`]) that execution applies to each transaction.

use super::{EntryError, Executor};
use crate::{keys, store::Store};
use vellum_types::{
    hex, ChainLimits, Hash, SignedTransaction, TransactionError, TRANSACTION_BYTES_MAX,
};

/// The running totals a block's transactions are admitted against.
#[derive(Default)]
pub(super) struct Admission {
    count: usize,
    fuel: u64,
    bytes: u64,
}

/// Why a transaction was not admitted.
pub(super) enum Inadmissible {
    /// It can never be in a block.
    Invalid(TransactionError),
    /// It would take the block past `what`'s limit.
    Full {
        what: &'static str,
        found: u64,
        max: u64,
    },
}

impl Admission {
    /// Count `transaction` in, or say why it cannot be: it can never be in a block, or the block
    /// is full (and nothing is counted).
    pub(super) fn admit(
        &mut self,
        limits: &ChainLimits,
        transaction: &SignedTransaction,
    ) -> Result<(), Inadmissible> {
        let size = transaction.encode().len();
        if size > TRANSACTION_BYTES_MAX {
            return Err(Inadmissible::Invalid(TransactionError::TooLarge {
                size,
                max: TRANSACTION_BYTES_MAX,
            }));
        }
        let count = self.count + 1;
        let fuel = self.fuel.saturating_add(transaction.transaction.fuel_limit);
        let bytes = self.bytes + size as u64;
        let full = |what, found, max| Err(Inadmissible::Full { what, found, max });
        if count > limits.block_transactions_max {
            return full(
                "transactions",
                count as u64,
                limits.block_transactions_max as u64,
            );
        }
        if fuel > limits.block_fuel_max {
            return full("fuel", fuel, limits.block_fuel_max);
        }
        if bytes > limits.block_bytes_max {
            return full("transaction bytes", bytes, limits.block_bytes_max);
        }
        (self.count, self.fuel, self.bytes) = (count, fuel, bytes);
        Ok(())
    }
}

impl Executor {
    /// Check `transaction` as it would be checked in the next block, without executing it: what
    /// a mempool asks before accepting a transaction.
    pub fn check(
        &self,
        store: &Store,
        transaction: &SignedTransaction,
    ) -> Result<Hash, EntryError> {
        self.check_entry(store, transaction, 1)
            .map(|(hash, _)| hash)
    }

    /// Like [`Executor::check`], but accepting a nonce up to `window - 1` ahead of the sender's
    /// next one (a pool can hold it until the ones before it arrive). Returns the hash and the
    /// sender's next nonce. The cheap, stateful rules run first and the signature last, so a
    /// flood of transactions from strangers or with spent nonces costs no signature checks.
    pub fn check_entry(
        &self,
        store: &Store,
        transaction: &SignedTransaction,
        window: u64,
    ) -> Result<(Hash, u64), EntryError> {
        let hash = transaction.hash();
        let snapshot = store.snapshot()?;
        if snapshot.contains_transaction(&hash)? {
            return Err(TransactionError::Duplicate(hex(&hash)).into());
        }
        let sender = transaction.sender();
        let is_member = snapshot.read(&keys::member_key(&sender))?.is_some();
        let nonce = snapshot.read(&keys::nonce_key(&sender))?;
        let next = match self.check_sender(transaction, is_member, nonce) {
            Ok(next) => next,
            Err(TransactionError::BadNonce { expected, found })
                if found > expected && found - expected < window =>
            {
                expected
            }
            Err(error) => return Err(error.into()),
        };
        if !self.verified.contains(&hash) {
            transaction.verify_signature()?;
            self.verified.insert(hash);
        }
        Ok((hash, next))
    }

    /// The stateful validity rules: chain, fuel limit, membership, nonce.
    pub(super) fn check_sender(
        &self,
        transaction: &SignedTransaction,
        is_member: bool,
        nonce: Option<Vec<u8>>,
    ) -> Result<u64, TransactionError> {
        let tx = &transaction.transaction;
        if tx.chain_id != self.genesis.chain_id {
            return Err(TransactionError::WrongChain {
                expected: self.genesis.chain_id.clone(),
                found: tx.chain_id.clone(),
            });
        }
        let max = self.genesis.limits.transaction_fuel_max;
        if tx.fuel_limit > max {
            return Err(TransactionError::FuelLimit {
                found: tx.fuel_limit,
                max,
            });
        }
        if !is_member {
            return Err(TransactionError::UnknownSender(hex(&transaction.sender())));
        }
        let expected = nonce
            .and_then(|n| n.try_into().ok())
            .map_or(0, u64::from_be_bytes);
        if tx.nonce != expected {
            return Err(TransactionError::BadNonce {
                expected,
                found: tx.nonce,
            });
        }
        Ok(expected)
    }
}

//! Which transactions may enter a block, and the pool: one set of rules for everyone.
//!
//! A block's proposer and its verifiers must agree on every rule, or honest validators disagree
//! about the same block. So building and verifying run the same checks at each position of a
//! block, in the same order: duplicate, [`Executor::check_sender`] (chain, fuel limit,
//! membership, nonce) and [`Admission::admit`] (count, bytes, fuel left), where the builder leaves
//! out or stops and the verifier rejects the block. The mempool's entry check runs the same
//! stateful rules against committed state.

use super::{error::Refusal, BlockError, EntryError, Executor};
use crate::{
    keys,
    records::Signing,
    store::{Snapshot, Store},
};
use vellum_types::{
    hex, Address, ChainLimits, Hash, SignedTransaction, TransactionError, TRANSACTION_BYTES_MAX,
};

/// The running totals a block's transactions are admitted against, in block order.
#[derive(Default)]
pub(super) struct Admission {
    count: usize,
    bytes: u64,
    fuel_used: u64,
}

impl Admission {
    /// Count `transaction` in before it runs, or say why it cannot run here: it can never be in
    /// a block, the block is full, or its fuel limit does not fit in what the transactions
    /// before it left of `block_fuel_max` (nothing is counted then).
    pub(super) fn admit(
        &mut self,
        limits: &ChainLimits,
        transaction: &SignedTransaction,
    ) -> Result<(), Refusal> {
        let size = transaction.encoded_len();
        if size > TRANSACTION_BYTES_MAX {
            return Err(Refusal::Invalid(TransactionError::TooLarge {
                size,
                max: TRANSACTION_BYTES_MAX,
            }));
        }
        let count = self.count + 1;
        let bytes = self.bytes + size as u64;
        if count > limits.block_transactions_max {
            return Err(Refusal::Full {
                what: "transactions",
                found: count as u64,
                max: limits.block_transactions_max as u64,
            });
        }
        if bytes > limits.block_bytes_max {
            return Err(Refusal::Full {
                what: "transaction bytes",
                found: bytes,
                max: limits.block_bytes_max,
            });
        }
        let requested = transaction.transaction.fuel_limit;
        if requested > limits.block_fuel_max.saturating_sub(self.fuel_used) {
            return Err(Refusal::NoFuelLeft {
                requested,
                used: self.fuel_used,
                max: limits.block_fuel_max,
            });
        }
        (self.count, self.bytes) = (count, bytes);
        Ok(())
    }

    /// Record the fuel the transaction admitted last used (never more than its limit, so the
    /// block's total stays within `block_fuel_max`).
    pub(super) fn used(&mut self, fuel: u64) {
        self.fuel_used = self.fuel_used.saturating_add(fuel);
    }

    /// The count and byte rules of [`Admission::admit`] applied to a whole proposal at once,
    /// before a verifier checks a single signature: a block that is too big is rejected for the
    /// price of summing its sizes.
    pub(super) fn check_totals(
        limits: &ChainLimits,
        transactions: &[SignedTransaction],
    ) -> Result<(), BlockError> {
        let count = transactions.len();
        if count > limits.block_transactions_max {
            return Err(BlockError::LimitExceeded {
                what: "transactions",
                found: count as u64,
                max: limits.block_transactions_max as u64,
            });
        }
        let bytes: u64 = transactions
            .iter()
            .map(|t| t.encoded_len() as u64)
            .fold(0u64, u64::saturating_add);
        if bytes > limits.block_bytes_max {
            return Err(BlockError::LimitExceeded {
                what: "transaction bytes",
                found: bytes,
                max: limits.block_bytes_max,
            });
        }
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
        let next = self.check_entry_at(&store.snapshot()?, transaction, hash, window)?;
        Ok((hash, next))
    }

    /// [`Executor::check_entry`] against `snapshot` (committed state; a pool may reuse one for
    /// many checks while no commit reaches it) for `transaction`, whose hash is `hash`. Returns
    /// the sender's next nonce.
    pub fn check_entry_at(
        &self,
        snapshot: &Snapshot,
        transaction: &SignedTransaction,
        hash: Hash,
        window: u64,
    ) -> Result<u64, EntryError> {
        debug_assert_eq!(hash, transaction.hash());
        // The rules that need no state first: a transaction for another chain, or asking for too
        // much fuel, costs no read of the snapshot and no signature check.
        self.check_static(transaction)?;
        if snapshot.contains_transaction(&hash)? {
            return Err(TransactionError::Duplicate(hex(&hash)).into());
        }
        let (account, known) = match snapshot.signing(&transaction.transaction.sender)? {
            Signing::Current { account, member } => {
                if snapshot.has_left(&member.organisation)? {
                    return Err(TransactionError::OrganisationRemoved {
                        sender: hex(&account),
                        organisation: member.organisation,
                    }
                    .into());
                }
                (account, Ok(()))
            }
            Signing::Retired { account } => (account, Err(rotated(transaction, &account))),
            Signing::Unknown => (transaction.sender(), Err(unknown(transaction))),
        };
        let nonce = snapshot.read(&keys::nonce_key(&account))?;
        let next = match self.check_sender(transaction, known, nonce) {
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
        Ok(next)
    }

    /// The validity rules of a sender's transaction: chain, fuel limit, membership (`known`:
    /// why its key signs for no member, if it does not), nonce (`nonce`: the account's).
    /// Returns the sender's next nonce (the transaction's).
    pub(super) fn check_sender(
        &self,
        transaction: &SignedTransaction,
        known: Result<(), TransactionError>,
        nonce: Option<Vec<u8>>,
    ) -> Result<u64, TransactionError> {
        self.check_static(transaction)?;
        known?;
        let expected = crate::store::nonce_of(nonce);
        let found = transaction.transaction.nonce;
        if found != expected {
            return Err(TransactionError::BadNonce { expected, found });
        }
        Ok(expected)
    }

    /// The rules that need no state: the chain, and the fuel limit.
    fn check_static(&self, transaction: &SignedTransaction) -> Result<(), TransactionError> {
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
        Ok(())
    }
}

/// The refusal of `transaction`, whose key signs for no member.
pub(super) fn unknown(transaction: &SignedTransaction) -> TransactionError {
    TransactionError::UnknownSender(hex(&transaction.sender()))
}

/// The refusal of `transaction`, whose key `account` rotated away from.
pub(super) fn rotated(transaction: &SignedTransaction, account: &Address) -> TransactionError {
    TransactionError::KeyRotated {
        sender: hex(&transaction.sender()),
        account: hex(account),
    }
}

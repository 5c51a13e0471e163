//! Transaction gossip: a transaction submitted to any node reaches every validator's mempool,
//! so whoever leads next can include it.
//!
//! Transactions accepted locally are batched (up to [`BATCH_TRANSACTIONS_MAX`] or
//! [`BATCH_BYTES_MAX`], or every [`FLUSH`]) and sent once to every peer, but only once they are
//! ready: a transaction behind a nonce gap stays in this node's pool, and goes out with the one
//! that fills the gap (whichever node that one reached first), or once a committed block fills
//! the gap. So junk behind a gap that never fills costs only the node it was sent to. A
//! transaction received from a peer is checked like a local one and kept, but not forwarded
//! again, since its originator already sent it to everyone; what it made ready here is, and so
//! is what a commit makes ready (a copy a peer already holds costs it one pool lookup). A node
//! that never proposes (an observer) also sends again, after [`crate::chain::RESEND_BLOCKS`],
//! what it still holds. A flooding peer is held back three ways: the network rate-limits each
//! peer on the channel, a batch larger than the limits is discarded whole, and the mempool's
//! own bounds refuse what does not fit.
//!
//! An honest validator only sends transactions that passed its own entry check, and never a
//! batch past the limits. So a peer that sends a malformed batch, or a transaction that is
//! invalid for good (its encoding, signature, chain or fuel limit: rules that do not depend on
//! the ledger's state), is Byzantine: it is blocked through the network's blocker and the rest
//! of its batch is dropped. A peer's batch is checked on a blocking thread (each check verifies
//! a signature), so a full batch never holds a worker that consensus runs on. A transaction
//! refused for a state-dependent reason (a nonce, a membership, a duplicate, a full pool) may be
//! honest and costs its sender nothing.

use crate::{
    block::ValidatorKey,
    chain::{off_thread, Chain, SubmitError},
};
use commonware_macros::select;
use commonware_p2p::{Blocker, Receiver, Recipients, Sender};
use commonware_runtime::{Clock, Handle, Spawner};
use futures::{channel::mpsc, StreamExt};
use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};
use tracing::{debug, warn};
use vellum_ledger::EntryError;
use vellum_types::{Hash, SignedTransaction};

/// Most transactions in one gossip message.
pub const BATCH_TRANSACTIONS_MAX: usize = 1024;
/// Most bytes in one gossip message.
pub const BATCH_BYTES_MAX: usize = 4 << 20;
/// The bytes a batch's encoding adds to its transactions' (borsh's length prefix).
const BATCH_HEADER_BYTES: usize = 4;
/// Longest a locally accepted transaction waits before it is sent.
pub const FLUSH: Duration = Duration::from_millis(20);
/// Locally accepted transactions waiting to be sent; beyond it they stay local until this
/// validator proposes.
const OUTBOX: usize = 16 * BATCH_TRANSACTIONS_MAX;

/// Submits transactions to one validator: into its mempool, and on to its peers.
#[derive(Clone)]
pub struct Submitter {
    chain: Arc<Chain>,
    /// One sender for every clone: a futures channel gives each sender a slot of its own, so a
    /// sender cloned per submission would never find the outbox full.
    outbox: Arc<Mutex<mpsc::Sender<SignedTransaction>>>,
}

impl Submitter {
    /// Check `transaction` and queue it; gossip it once it is ready (no nonce gap before it),
    /// with whatever waited behind it. Returns its hash, or why it was refused.
    pub fn submit(&self, transaction: SignedTransaction) -> Result<Hash, SubmitError> {
        let (hash, ready) = self.chain.submit(transaction)?;
        // A full outbox only delays a transaction: it is in this validator's mempool.
        let mut outbox = self
            .outbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for transaction in ready {
            let _ = outbox.try_send(transaction);
        }
        Ok(hash)
    }

    /// The chain it submits to.
    pub fn chain(&self) -> &Arc<Chain> {
        &self.chain
    }
}

/// Start gossiping `chain`'s transactions over `channel`, blocking Byzantine peers with
/// `blocker`.
pub fn start<E, S, R, B>(
    context: E,
    chain: Arc<Chain>,
    (mut sender, mut receiver): (S, R),
    mut blocker: B,
) -> (Handle<()>, Submitter)
where
    E: Spawner + Clock,
    S: Sender<PublicKey = ValidatorKey>,
    R: Receiver<PublicKey = ValidatorKey>,
    B: Blocker<PublicKey = ValidatorKey>,
{
    let (outbox, mut pending) = mpsc::channel::<SignedTransaction>(OUTBOX);
    chain.release_to(outbox.clone());
    let submitter = Submitter {
        chain: chain.clone(),
        outbox: Arc::new(Mutex::new(outbox)),
    };
    let handle = context.spawn(move |context| async move {
        let mut outgoing = Outgoing::default();
        loop {
            // Flush when the oldest waiting transaction has waited FLUSH.
            let flush_at = outgoing.oldest.map_or_else(
                || context.current() + Duration::from_secs(3600),
                |t| t + FLUSH,
            );
            select! {
                transaction = pending.next() => {
                    let Some(transaction) = transaction else { return };
                    outgoing.push(&mut sender, transaction, context.current());
                },
                _ = context.sleep_until(flush_at) => {
                    outgoing.send(&mut sender);
                },
                message = receiver.recv() => {
                    let Ok((peer, message)) = message else { return };
                    let Some(transactions) = decode(message.as_ref()) else {
                        warn!(?peer, "blocking a peer: it sent a malformed gossip batch");
                        blocker.block(peer);
                        continue;
                    };
                    // Entry checks verify signatures (about 33 us each): a full batch is
                    // checked on a blocking thread, never on the workers consensus runs on.
                    let checker = chain.clone();
                    let checked = off_thread(&context, move || check_batch(&checker, transactions)).await;
                    let Some(Checked { accepted, released, invalid }) = checked else { return };
                    if let Some(error) = invalid {
                        warn!(?peer, %error, "blocking a peer: it gossiped a transaction that is invalid for good");
                        blocker.block(peer.clone());
                    }
                    // What the peer's transactions made ready here (a client may send nonce 6
                    // to this validator and 5 to another) goes on to everyone.
                    for transaction in released {
                        outgoing.push(&mut sender, transaction, context.current());
                    }
                    debug!(?peer, accepted, "gossip batch");
                },
            }
        }
    });
    (handle, submitter)
}

/// What became of a peer's batch.
struct Checked {
    /// Transactions accepted into the pool.
    accepted: usize,
    /// Transactions they made ready here, other than themselves (the peer sent those to all).
    released: Vec<SignedTransaction>,
    /// The error of the first transaction that is invalid for good, where checking stopped.
    invalid: Option<vellum_types::TransactionError>,
}

/// Submit a peer's `transactions` in order until one is invalid for good.
fn check_batch(chain: &Chain, transactions: Vec<SignedTransaction>) -> Checked {
    let mut checked = Checked {
        accepted: 0,
        released: Vec::new(),
        invalid: None,
    };
    for transaction in transactions {
        match chain.submit(transaction) {
            Ok((hash, ready)) => {
                checked.accepted += 1;
                checked
                    .released
                    .extend(ready.into_iter().filter(|t| t.hash() != hash));
            }
            Err(SubmitError::Entry(EntryError::Rejected(error))) if !error.depends_on_state() => {
                checked.invalid = Some(error);
                return checked;
            }
            Err(_) => {}
        }
    }
    checked
}

/// Transactions waiting to be sent, as one batch.
#[derive(Default)]
struct Outgoing {
    batch: Vec<SignedTransaction>,
    bytes: usize,
    /// When the oldest of them was queued.
    oldest: Option<std::time::SystemTime>,
}

impl Outgoing {
    /// Queue `transaction`, sending the batch first if it would go past the limits a receiver
    /// enforces, and after if it is full.
    fn push<S: Sender>(&mut self, sender: &mut S, transaction: SignedTransaction, now: SystemTime) {
        let size = transaction.encoded_len();
        if BATCH_HEADER_BYTES + self.bytes + size > BATCH_BYTES_MAX {
            self.send(sender);
        }
        self.bytes += size;
        self.batch.push(transaction);
        self.oldest = self.oldest.or(Some(now));
        if self.batch.len() >= BATCH_TRANSACTIONS_MAX
            || BATCH_HEADER_BYTES + self.bytes >= BATCH_BYTES_MAX / 2
        {
            self.send(sender);
        }
    }

    /// Send what waits, if anything.
    fn send<S: Sender>(&mut self, sender: &mut S) {
        send(sender, &mut self.batch);
        (self.bytes, self.oldest) = (0, None);
    }
}

fn send<S: Sender>(sender: &mut S, batch: &mut Vec<SignedTransaction>) {
    if batch.is_empty() {
        return;
    }
    let encoded = borsh::to_vec(&*batch).unwrap_or_default();
    batch.clear();
    sender.send(Recipients::All, encoded, false);
}

/// A batch from a peer, if it is well-formed and within the limits.
fn decode(bytes: &[u8]) -> Option<Vec<SignedTransaction>> {
    if bytes.len() > BATCH_BYTES_MAX {
        return None;
    }
    let batch: Vec<SignedTransaction> = borsh::from_slice(bytes).ok()?;
    (batch.len() <= BATCH_TRANSACTIONS_MAX).then_some(batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_actor::Feedback;
    use commonware_cryptography::{ed25519, Signer as _};
    use commonware_p2p::{utils::mocks::inert_channel, BlockedSubscription, Message};
    use commonware_runtime::{tokio, Runner as _, Supervisor as _};
    use commonware_utils::{channel::ring, NZUsize};
    use std::{num::NonZeroUsize, sync::mpsc as std_mpsc};
    use vellum_ledger::testing;

    /// How long the test holds the mempool's lock at most, if nothing releases it before.
    const HOLD_MAX: Duration = Duration::from_secs(20);

    /// The receiving end of the gossip channel, fed by the test.
    #[derive(Debug)]
    struct Inbox(mpsc::UnboundedReceiver<Message<ValidatorKey>>);

    impl Receiver for Inbox {
        type Error = std::io::Error;
        type PublicKey = ValidatorKey;

        async fn recv(&mut self) -> Result<Message<ValidatorKey>, std::io::Error> {
            self.0
                .next()
                .await
                .ok_or_else(|| std::io::Error::other("the test ended"))
        }

        fn capacity(&self) -> NonZeroUsize {
            NZUsize!(1024)
        }
    }

    /// A blocker that blocks no one (this test's peer is honest).
    #[derive(Clone)]
    struct NoBlocker;

    impl Blocker for NoBlocker {
        type PublicKey = ValidatorKey;

        fn block(&mut self, peer: ValidatorKey) -> Feedback {
            panic!("an honest peer was blocked: {peer:?}")
        }

        fn blocked(&mut self) -> BlockedSubscription<ValidatorKey> {
            ring::channel(NZUsize!(1)).1
        }
    }

    /// A peer's batch is checked on a blocking thread, never on a worker consensus runs on.
    /// The node runs on one worker; the test holds the receiving validator's mempool lock from
    /// a thread of its own, so checking the batch waits on it. A task on the worker must then
    /// still run (it releases the lock): had the check run on the worker, the worker would wait
    /// on the lock, the task could not run, and only `HOLD_MAX` would release the lock.
    #[test]
    fn a_peers_batch_is_checked_off_the_consensus_workers() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let chain = crate::chain::tests::test_chain(dir.path());
        let transaction = testing::call(1, 0, [7; 32], "ping", serde_json::json!({}));
        let hash = transaction.hash();
        let peer = ed25519::PrivateKey::from_seed(1).public_key();
        let (inbox, received) = mpsc::unbounded();

        // The lock holder: holds the lock until released or HOLD_MAX, and says which it was.
        let (locked_tx, locked_rx) = std_mpsc::channel();
        let (release_tx, release_rx) = std_mpsc::channel::<()>();
        let holder = {
            let chain = chain.clone();
            std::thread::spawn(move || {
                let guard = chain.mempool();
                locked_tx.send(()).expect("the test waits");
                let released = release_rx.recv_timeout(HOLD_MAX).is_ok();
                drop(guard);
                released
            })
        };
        locked_rx.recv().expect("the holder locks");

        let config = tokio::Config::new()
            .with_worker_threads(1)
            .with_storage_directory(dir.path().join("runtime"));
        let accepted = tokio::Runner::new(config).start(|context| async move {
            let (sender, _) = inert_channel(std::slice::from_ref(&peer));
            let _gossip = start(
                context.child("gossip"),
                chain.clone(),
                (sender, Inbox(received)),
                NoBlocker,
            );
            let batch = borsh::to_vec(&vec![transaction]).expect("encode");
            inbox
                .unbounded_send((peer, batch.into()))
                .expect("gossip listens");
            // A task on the worker: it can run only while the worker is free.
            context
                .child("probe")
                .spawn(|context| async move {
                    context.sleep(Duration::from_millis(300)).await;
                    // Fails only if the holder gave up waiting (asserted below).
                    let _ = release_tx.send(());
                })
                .await
                .expect("the probe runs");
            // Once released, the check goes on and the transaction is accepted.
            for _ in 0..1_000 {
                if chain.mempool().contains(&hash) {
                    return true;
                }
                context.sleep(Duration::from_millis(10)).await;
            }
            false
        });
        assert!(
            holder.join().expect("the holder ends"),
            "the worker was held until the lock timed out: the batch was checked on it"
        );
        assert!(accepted, "the peer's transaction reached the pool");
    }
}

//! Private data on the network (`vellum_types::private`): a payload reaches the nodes of its
//! collection's organisations, and only them, and is purged when the chain says so.
//!
//! - **Sharing.** A record a member handed to this node ([`Sharer::share`]) is sent, on its own
//!   channel of the authenticated p2p network, to every peer whose organisation is in the
//!   record's collection, and to no other. Which organisation a peer belongs to is the
//!   [`Directory`]: validators' from the genesis file, observers' from the node configuration.
//!   A peer that keeps the record (or already holds it, or has no use for it) answers
//!   [`Message::Held`]; a peer that has not answered is sent the record again every [`RETRY`],
//!   up to [`ATTEMPTS_MAX`] times (about ten minutes), read again from the side store each
//!   time (so a record purged meanwhile is not sent again). What is still being sent is held in
//!   memory only: a node restarted while it sends stops sending, and a peer that was unreachable
//!   for the whole window never receives the record (there is no reconciliation).
//! - **Receiving.** A peer's record is kept if it is well-formed, not expired, not purged, and
//!   both the peer's organisation and this node's are in its collection. An honest node sends
//!   nothing else to a peer it knows from the genesis file, so a validator that sends a
//!   malformed record, or a record of a collection it is not part of, is blocked. An observer's
//!   organisation comes from configuration, which may differ between nodes, so an observer's
//!   record that does not fit is dropped without blocking it; so is a record of a collection
//!   this node's organisation is not in.
//! - **Purging** (its own task). Every [`RETRY`] it reads the blocks committed since it last
//!   looked (at most [`BLOCKS_PER_STEP`] at a time): each successful `PurgePrivate` transaction
//!   names a hash and, in its receipt's output, the sender's organisation at that block; if that
//!   organisation is in the held record's collection, the record is deleted, and in any case the
//!   purge is remembered ([`PrivateStore::forbid`]) so that the record is refused if it arrives
//!   later. Then every record whose `expires_at` the chain has reached is deleted. The last
//!   height applied is kept in the side store, so a restarted node applies what it missed; a new
//!   side store starts at the head.

use crate::{block::ValidatorKey, chain::off_thread};
use borsh::{BorshDeserialize, BorshSerialize};
use commonware_macros::select;
use commonware_p2p::{Blocker, Receiver, Recipients, Sender};
use commonware_runtime::{Clock, Handle, Spawner};
use futures::{channel::mpsc, StreamExt};
use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::Duration,
};
use tracing::{debug, warn};
use vellum_ledger::{PrivateStore, PrivateStoreError, Store, StoreError};
use vellum_types::{
    hex,
    private::{PrivateRecord, PAYLOAD_BYTES_MAX},
    Action, Hash, Status,
};

/// Records waiting to be sent; a share beyond it is refused ([`Busy`]).
pub const OUTBOX: usize = 64;
/// Records being sent at once (each waits for its peers' answers); the oldest is given up
/// beyond it.
pub const PENDING_MAX: usize = 4096;
/// How often unanswered peers are sent a record again, and committed blocks are read for purges.
pub const RETRY: Duration = Duration::from_secs(2);
/// How many times a record is sent to a peer that does not answer.
pub const ATTEMPTS_MAX: u32 = 300;
/// Most blocks read for purges at each step.
pub const BLOCKS_PER_STEP: u64 = 256;
/// The largest message: a record with a payload at its limit, its nonce, expiry and collection.
pub const MESSAGE_BYTES_MAX: usize = PAYLOAD_BYTES_MAX + 8 * 1024;

/// What nodes say to each other on the private data channel.
#[derive(Debug, BorshSerialize, BorshDeserialize)]
pub enum Message {
    /// A record, for a node of its collection.
    Record(PrivateRecord),
    /// The answer to a record: the sender need not send it again.
    Held(Hash),
}

/// Which organisation each node belongs to, as this node knows it.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    /// This node's organisation, if it has one (an observer may not).
    pub organisation: Option<String>,
    /// Each peer's organisation.
    pub peers: BTreeMap<ValidatorKey, String>,
    /// The peers whose organisation is the genesis file's (validators): every node agrees on
    /// it, so a record from one that does not fit its collection is Byzantine.
    pub certain: BTreeSet<ValidatorKey>,
}

impl Directory {
    /// The peers whose organisation is in `record`'s collection.
    fn recipients(&self, record: &PrivateRecord) -> Vec<ValidatorKey> {
        self.peers
            .iter()
            .filter(|(_, organisation)| record.shared_with(organisation))
            .map(|(key, _)| key.clone())
            .collect()
    }
}

/// The outbox was full: the record was not queued for the peers.
#[derive(Debug, thiserror::Error)]
#[error("this node is sending too many private records to its peers; try again shortly")]
pub struct Busy;

/// Hands records this node accepted to the sharing task.
#[derive(Clone)]
pub struct Sharer {
    /// One sender for every clone: a futures channel gives each sender a slot of its own, so
    /// cloning it per share would never find it full.
    outbox: Arc<Mutex<mpsc::Sender<Hash>>>,
}

impl Sharer {
    /// Queue the record with salted hash `hash` (already in this node's side store) for the
    /// peers of its collection.
    pub fn share(&self, hash: Hash) -> Result<(), Busy> {
        self.outbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .try_send(hash)
            .map_err(|_| Busy)
    }
}

/// A record being sent: to whom it still must go, and how many times it was sent.
struct Pending {
    missing: Vec<ValidatorKey>,
    attempts: u32,
}

/// Start sharing and receiving private records over `channel`, blocking Byzantine peers with
/// `blocker`, and applying the chain's purges and expiries to `store`.
pub fn start<E, S, R, B>(
    context: E,
    ledger: Arc<Store>,
    store: Arc<PrivateStore>,
    directory: Directory,
    (mut sender, mut receiver): (S, R),
    mut blocker: B,
) -> (Handle<()>, Handle<()>, Sharer)
where
    E: Spawner + Clock,
    S: Sender<PublicKey = ValidatorKey>,
    R: Receiver<PublicKey = ValidatorKey>,
    B: Blocker<PublicKey = ValidatorKey>,
{
    let (outbox, mut queued) = mpsc::channel::<Hash>(OUTBOX);
    let directory = Arc::new(directory);
    let purging = {
        let (ledger, store) = (ledger.clone(), store.clone());
        context.child("purges").spawn(move |context| async move {
            loop {
                context.sleep(RETRY).await;
                let (ledger, store) = (ledger.clone(), store.clone());
                match off_thread(&context, move || apply_purges(&ledger, &store)).await {
                    Some(Ok(())) => {}
                    Some(Err(e)) => warn!(%e, "cannot apply the chain's private data purges"),
                    None => return,
                }
            }
        })
    };
    let sharing = context.spawn(move |context| async move {
        let mut pending: BTreeMap<Hash, Pending> = BTreeMap::new();
        // Oldest first, to give up on when too many are pending.
        let mut order: std::collections::VecDeque<Hash> = Default::default();
        let mut step_at = context.current() + RETRY;
        loop {
            select! {
                _ = context.sleep_until(step_at) => {
                    step_at = context.current() + RETRY;
                    let due: Vec<Hash> = pending.keys().copied().collect();
                    for hash in due {
                        let store = store.clone();
                        let Some(found) = off_thread(&context, move || store.get(&hash)).await else { return };
                        match (found, pending.get_mut(&hash)) {
                            (Ok(Some(record)), Some(entry)) => send(&mut sender, &record, entry),
                            (Err(e), _) => warn!(%e, hash = %hex(&hash), "cannot read a private record to send it again"),
                            _ => {}
                        }
                        if pending.get(&hash).is_none_or(|entry| entry.missing.is_empty() || entry.attempts >= ATTEMPTS_MAX) {
                            pending.remove(&hash);
                        }
                    }
                    order.retain(|hash| pending.contains_key(hash));
                },
                hash = queued.next() => {
                    let Some(hash) = hash else { return };
                    let store = store.clone();
                    let Some(found) = off_thread(&context, move || store.get(&hash)).await else { return };
                    let Ok(Some(record)) = found else { continue };
                    let missing = directory.recipients(&record);
                    if missing.is_empty() || pending.contains_key(&hash) {
                        continue;
                    }
                    if pending.len() >= PENDING_MAX {
                        if let Some(oldest) = order.pop_front() {
                            warn!(hash = %hex(&oldest), "giving up sending a private record: too many are pending");
                            pending.remove(&oldest);
                        }
                    }
                    let mut entry = Pending { missing, attempts: 0 };
                    send(&mut sender, &record, &mut entry);
                    pending.insert(hash, entry);
                    order.push_back(hash);
                },
                message = receiver.recv() => {
                    let Ok((peer, message)) = message else { return };
                    let bytes = message.as_ref();
                    if bytes.len() > MESSAGE_BYTES_MAX {
                        block(&directory, &mut blocker, peer, "the message is larger than any record");
                        continue;
                    }
                    let record = match borsh::from_slice::<Message>(bytes) {
                        Ok(Message::Held(hash)) => {
                            if let Some(entry) = pending.get_mut(&hash) {
                                entry.missing.retain(|key| *key != peer);
                            }
                            continue;
                        }
                        Ok(Message::Record(record)) => record,
                        Err(_) => {
                            block(&directory, &mut blocker, peer, "the message is not a private data message");
                            continue;
                        }
                    };
                    let (directory_, store_, ledger_, from) = (directory.clone(), store.clone(), ledger.clone(), peer.clone());
                    let received = off_thread(&context, move || receive(&directory_, &store_, &ledger_, &from, record)).await;
                    let Some((hash, received)) = received else { return };
                    match received {
                        Received::Kept => debug!(?peer, "private record kept"),
                        Received::Declined(why) => debug!(?peer, why, "private record declined"),
                        Received::Failed(e) => {
                            // No answer: the peer sends it again later.
                            warn!(?peer, %e, "cannot keep a peer's private record");
                            continue;
                        }
                        Received::Misfit(why) => {
                            block(&directory, &mut blocker, peer.clone(), why);
                        }
                    }
                    if let Some(hash) = hash {
                        let answer = borsh::to_vec(&Message::Held(hash)).unwrap_or_default();
                        sender.send(Recipients::One(peer), answer, false);
                    }
                },
            }
        }
    });
    (
        sharing,
        purging,
        Sharer {
            outbox: Arc::new(Mutex::new(outbox)),
        },
    )
}

/// Block `peer` if every node agrees on its organisation (a validator); otherwise only say why
/// its message was dropped.
fn block<B: Blocker<PublicKey = ValidatorKey>>(
    directory: &Directory,
    blocker: &mut B,
    peer: ValidatorKey,
    why: &'static str,
) {
    if directory.certain.contains(&peer) {
        warn!(
            ?peer,
            why, "blocking a peer: it sent private data no honest node sends"
        );
        blocker.block(peer);
    } else {
        warn!(?peer, why, "dropping private data from a peer");
    }
}

/// Send `record` to the peers of `entry` that have not answered.
fn send<S: Sender<PublicKey = ValidatorKey>>(
    sender: &mut S,
    record: &PrivateRecord,
    entry: &mut Pending,
) {
    entry.attempts += 1;
    let Ok(message) = borsh::to_vec(&MessageRef::Record(record)) else {
        return;
    };
    sender.send(Recipients::Some(entry.missing.clone()), message, false);
}

/// [`Message`] borrowing its record, to encode it without a copy.
#[derive(BorshSerialize)]
enum MessageRef<'a> {
    Record(&'a PrivateRecord),
}

/// What became of a peer's record.
enum Received {
    /// Kept (or already held).
    Kept,
    /// Not for this node, expired or purged: answered, not kept.
    Declined(&'static str),
    /// This node could not keep it now: not answered, so the peer tries again.
    Failed(PrivateStoreError),
    /// No honest node sends it to this one.
    Misfit(&'static str),
}

/// Judge a peer's `record`; its hash, to answer with, unless it is malformed.
fn receive(
    directory: &Directory,
    store: &PrivateStore,
    ledger: &Store,
    peer: &ValidatorKey,
    record: PrivateRecord,
) -> (Option<Hash>, Received) {
    if record.check().is_err() {
        return (None, Received::Misfit("the record is malformed"));
    }
    let hash = record.hash();
    match directory.peers.get(peer) {
        Some(organisation) if record.shared_with(organisation) => {}
        _ => {
            let why = "its organisation is not in the record's collection";
            return (Some(hash), Received::Misfit(why));
        }
    }
    match &directory.organisation {
        Some(organisation) if record.shared_with(organisation) => {}
        _ => {
            let why = "this node's organisation is not in the collection";
            return (Some(hash), Received::Declined(why));
        }
    }
    if let (Some(expires_at), Ok(height)) = (record.expires_at, ledger.height()) {
        if expires_at <= height {
            return (Some(hash), Received::Declined("expired"));
        }
    }
    match store.put(&record) {
        Ok(_) => (Some(hash), Received::Kept),
        Err(PrivateStoreError::Purged(_)) => (Some(hash), Received::Declined("purged")),
        Err(e) => (Some(hash), Received::Failed(e)),
    }
}

/// Why purges could not be applied.
#[derive(Debug, thiserror::Error)]
enum PurgeError {
    #[error(transparent)]
    Ledger(#[from] StoreError),
    #[error(transparent)]
    Private(#[from] PrivateStoreError),
}

/// Apply the purges of the blocks committed since the side store's cursor, and the expiries up
/// to the head.
fn apply_purges(ledger: &Store, store: &PrivateStore) -> Result<(), PurgeError> {
    let height = ledger.height()?;
    let Some(cursor) = store.cursor()? else {
        // A new side store holds nothing the blocks before it could purge.
        store.set_cursor(height)?;
        return Ok(());
    };
    if cursor < height {
        let last = height.min(cursor + BLOCKS_PER_STEP);
        for at in cursor + 1..=last {
            let Some(block) = ledger.block(at)? else {
                continue;
            };
            let receipts = ledger.receipts(at)?;
            for (transaction, receipt) in block.transactions.iter().zip(&receipts) {
                let Action::PurgePrivate { hash } = &transaction.transaction.action else {
                    continue;
                };
                if receipt.status != Status::Success {
                    continue;
                }
                // The sender's organisation at the block, as the executor recorded it.
                let Ok(organisation) = std::str::from_utf8(&receipt.output) else {
                    continue;
                };
                store.forbid(hash, organisation)?;
                match store.get(hash) {
                    Ok(Some(record)) if record.shared_with(organisation) => {
                        store.purge(hash)?;
                        debug!(height = at, "private record purged by transaction");
                    }
                    Ok(_) => {}
                    Err(e) => {
                        warn!(%e, hash = %hex(hash), "cannot read a private record to purge it")
                    }
                }
            }
        }
        store.set_cursor(last)?;
    }
    store.expire(height)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_cryptography::{ed25519, Signer as _};

    fn key(seed: u64) -> ValidatorKey {
        ed25519::PrivateKey::from_seed(seed).public_key()
    }

    fn record(organisations: &[&str]) -> PrivateRecord {
        PrivateRecord {
            organisations: organisations.iter().map(|name| name.to_string()).collect(),
            expires_at: None,
            nonce: [1; 32],
            payload: b"customs declaration".to_vec(),
        }
    }

    /// Validators 1, 2 and 3 of org-1, org-2 and org-3, and observer 4 of org-1.
    fn directory(own: &str) -> Directory {
        Directory {
            organisation: Some(own.into()),
            peers: [
                (key(1), "org-1"),
                (key(2), "org-2"),
                (key(3), "org-3"),
                (key(4), "org-1"),
            ]
            .into_iter()
            .map(|(key, organisation)| (key, organisation.to_string()))
            .collect(),
            certain: [key(1), key(2), key(3)].into_iter().collect(),
        }
    }

    #[test]
    fn only_the_collections_organisations_are_recipients() {
        let recipients = directory("org-1").recipients(&record(&["org-1", "org-3"]));
        let mut expected = vec![key(1), key(3), key(4)];
        expected.sort();
        assert_eq!(recipients, expected);
    }

    #[test]
    fn a_record_is_kept_only_from_and_for_its_collection() {
        let ledger = vellum_ledger::testing::Node::new(vellum_ledger::testing::genesis(
            vellum_types::DeployPolicy::AnyAdmin,
        ));
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = PrivateStore::open(dir.path(), Default::default()).expect("store");
        let shared = record(&["org-1", "org-2"]);
        let hash = Some(shared.hash());
        let receive = |own: &str, store: &PrivateStore, peer: u64, record: &PrivateRecord| {
            receive(
                &directory(own),
                store,
                &ledger.store,
                &key(peer),
                record.clone(),
            )
        };
        // From org-1's validator to org-2: kept, and answered.
        let (answer, received) = receive("org-2", &store, 1, &shared);
        assert!(matches!(received, Received::Kept) && answer == hash);
        assert!(store.contains(&shared.hash()));
        // From org-3's validator, which is not in the collection: a misfit (the validator is
        // blocked); from an observer, or an unknown peer, the same verdict, but `block` only
        // warns for them (tested below).
        for peer in [3, 9] {
            let (_, received) = receive("org-2", &store, peer, &shared);
            assert!(matches!(received, Received::Misfit(_)));
        }
        // To org-3, which is not in it: answered, not kept.
        let other = tempfile::tempdir().expect("temporary directory");
        let third = PrivateStore::open(other.path(), Default::default()).expect("store");
        let (answer, received) = receive("org-3", &third, 1, &shared);
        assert!(matches!(received, Received::Declined(_)) && answer == hash);
        assert_eq!(third.usage().0, 0);
        // Malformed: a misfit, not answered.
        let mut unsorted = shared.clone();
        unsorted.organisations.reverse();
        let (answer, received) = receive("org-2", &store, 1, &unsorted);
        assert!(matches!(received, Received::Misfit(_)) && answer.is_none());
        // Expired (the ledger is at height 0), or purged: answered, not kept.
        let expired = PrivateRecord {
            expires_at: Some(0),
            ..shared.clone()
        };
        let (_, received) = receive("org-2", &third, 1, &expired);
        assert!(matches!(received, Received::Declined("expired")));
        let late = PrivateRecord {
            nonce: [2; 32],
            ..shared.clone()
        };
        store.forbid(&late.hash(), "org-1").expect("forbid");
        let (_, received) = receive("org-2", &store, 1, &late);
        assert!(matches!(received, Received::Declined("purged")));
        assert!(!store.contains(&late.hash()));
    }

    /// The outbox holds what its bound says, however many clones of the sharer there are (a
    /// sender cloned per share never found it full).
    #[test]
    fn the_outbox_is_bounded() {
        let (outbox, _queued) = mpsc::channel::<Hash>(OUTBOX);
        let sharer = Sharer {
            outbox: Arc::new(Mutex::new(outbox)),
        };
        let accepted = (0..OUTBOX as u64 * 4)
            .take_while(|i| sharer.clone().share([*i as u8; 32]).is_ok())
            .count();
        // A futures channel holds its buffer plus one message per sender.
        assert_eq!(accepted, OUTBOX + 1);
    }

    /// Only a peer whose organisation every node agrees on (a validator) is blocked.
    #[test]
    fn only_validators_are_blocked() {
        let blocked = Arc::new(Mutex::new(Vec::new()));
        #[derive(Clone)]
        struct Recording(Arc<Mutex<Vec<ValidatorKey>>>);
        impl Blocker for Recording {
            type PublicKey = ValidatorKey;
            fn block(&mut self, peer: ValidatorKey) -> commonware_actor::Feedback {
                self.0.lock().expect("lock").push(peer);
                commonware_actor::Feedback::Ok
            }
            fn blocked(&mut self) -> commonware_p2p::BlockedSubscription<ValidatorKey> {
                commonware_utils::channel::ring::channel(commonware_utils::NZUsize!(1)).1
            }
        }
        let mut blocker = Recording(blocked.clone());
        for peer in [1, 4, 9] {
            block(&directory("org-2"), &mut blocker, key(peer), "a test");
        }
        assert_eq!(*blocked.lock().expect("lock"), vec![key(1)]);
    }
}

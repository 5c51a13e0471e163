//! Private data on the network (`vellum_types::private`): a payload reaches the nodes of its
//! collection's organisations, and only them, and is purged when the chain says so.
//!
//! - **Sharing.** A record a member handed to this node ([`Sharer::share`]) is sent, on its own
//!   channel of the authenticated p2p network, to every peer whose organisation is in the
//!   record's collection, and to no other. Which organisation a peer belongs to is the
//!   [`Directory`]: validators' from the genesis file, observers' from the node configuration.
//!   Peers that were not reached (offline, or rate-limited) are tried again every [`RETRY`], up
//!   to [`ATTEMPTS_MAX`] times; a node that was down for longer does not receive the record.
//! - **Receiving.** A peer's record is kept if it is well-formed and both the peer's
//!   organisation and this node's are in its collection. An honest node sends nothing else, so a
//!   peer that sends a malformed record, or a record of a collection it is not part of, is
//!   blocked. A record this node's organisation is not part of is dropped (and the peer is not
//!   blocked: configurations may disagree about an observer's organisation).
//! - **Purging.** Every [`RETRY`] the task reads the blocks committed since it last looked (at
//!   most [`BLOCKS_PER_STEP`] at a time): each successful `PurgePrivate` transaction whose
//!   sender's organisation is in the record's collection deletes the record, and every record
//!   whose `expires_at` the chain has reached is deleted. The last height applied is kept in the
//!   side store, so a restarted node applies what it missed.

use crate::{block::ValidatorKey, chain::off_thread};
use commonware_macros::select;
use commonware_p2p::{Blocker, Receiver, Recipients, Sender};
use commonware_runtime::{Clock, Handle, Spawner};
use futures::{channel::mpsc, StreamExt};
use std::{collections::BTreeMap, sync::Arc, time::Duration};
use tracing::{debug, warn};
use vellum_ledger::{PrivateStore, PrivateStoreError, Store, StoreError};
use vellum_types::{
    private::{PrivateRecord, PAYLOAD_BYTES_MAX},
    Action, Status,
};

/// Records waiting to be sent; a share beyond it is refused ([`Busy`]).
pub const OUTBOX: usize = 64;
/// Records still being retried; the oldest is given up beyond it.
pub const PENDING_MAX: usize = 256;
/// How often unreached peers are retried and committed blocks are read for purges.
pub const RETRY: Duration = Duration::from_secs(1);
/// How many times a record is sent to a peer that was not reached.
pub const ATTEMPTS_MAX: u32 = 30;
/// Most blocks read for purges at each step.
pub const BLOCKS_PER_STEP: u64 = 1024;
/// The largest record message: a payload at its limit, its salt, expiry and collection.
pub const MESSAGE_BYTES_MAX: usize = PAYLOAD_BYTES_MAX + 8 * 1024;

/// Which organisation each node belongs to, as this node knows it.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    /// This node's organisation, if it has one (an observer may not).
    pub organisation: Option<String>,
    /// Each peer's organisation.
    pub peers: BTreeMap<ValidatorKey, String>,
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

/// The outbox was full: the record is kept here but was not queued for the peers.
#[derive(Debug, thiserror::Error)]
#[error("this node is sending too many private records to its peers; try again shortly")]
pub struct Busy;

/// Hands records this node accepted to the sharing task.
#[derive(Clone)]
pub struct Sharer {
    outbox: mpsc::Sender<PrivateRecord>,
}

impl Sharer {
    /// Queue `record` (already in this node's side store) for the peers of its collection.
    pub fn share(&self, record: PrivateRecord) -> Result<(), Busy> {
        self.outbox.clone().try_send(record).map_err(|_| Busy)
    }
}

/// A record being sent, and to whom it still must go.
struct Pending {
    message: Vec<u8>,
    missing: Vec<ValidatorKey>,
    attempts: u32,
}

/// Start sharing, receiving and purging private records over `channel`, blocking Byzantine
/// peers with `blocker`.
pub fn start<E, S, R, B>(
    context: E,
    ledger: Arc<Store>,
    store: Arc<PrivateStore>,
    directory: Directory,
    (mut sender, mut receiver): (S, R),
    mut blocker: B,
) -> (Handle<()>, Sharer)
where
    E: Spawner + Clock,
    S: Sender<PublicKey = ValidatorKey>,
    R: Receiver<PublicKey = ValidatorKey>,
    B: Blocker<PublicKey = ValidatorKey>,
{
    let (outbox, mut queued) = mpsc::channel::<PrivateRecord>(OUTBOX);
    let directory = Arc::new(directory);
    let handle = context.spawn(move |context| async move {
        let mut pending: Vec<Pending> = Vec::new();
        let mut step_at = context.current() + RETRY;
        loop {
            select! {
                record = queued.next() => {
                    let Some(record) = record else { return };
                    let missing = directory.recipients(&record);
                    if missing.is_empty() {
                        continue;
                    }
                    let Ok(message) = borsh::to_vec(&record) else { continue };
                    if pending.len() >= PENDING_MAX {
                        warn!("giving up sending the oldest private record: too many are pending");
                        pending.remove(0);
                    }
                    let mut entry = Pending { message, missing, attempts: 0 };
                    send(&mut sender, &mut entry);
                    if !entry.missing.is_empty() {
                        pending.push(entry);
                    }
                },
                _ = context.sleep_until(step_at) => {
                    step_at = context.current() + RETRY;
                    for entry in &mut pending {
                        send(&mut sender, entry);
                    }
                    pending.retain(|entry| !entry.missing.is_empty() && entry.attempts < ATTEMPTS_MAX);
                    let (ledger, store) = (ledger.clone(), store.clone());
                    match off_thread(&context, move || apply_purges(&ledger, &store)).await {
                        Some(Ok(())) => {}
                        Some(Err(e)) => warn!(%e, "cannot apply the chain's private data purges"),
                        None => return,
                    }
                },
                message = receiver.recv() => {
                    let Ok((peer, message)) = message else { return };
                    let (directory, store) = (directory.clone(), store.clone());
                    let from = peer.clone();
                    let bytes = message.as_ref().to_vec();
                    let received = off_thread(&context, move || receive(&directory, &store, &from, &bytes)).await;
                    match received {
                        None => return,
                        Some(Received::Kept) => debug!(?peer, "private record kept"),
                        Some(Received::NotOurs) => {
                            warn!(?peer, "dropping a private record of a collection this node's organisation is not part of");
                        }
                        Some(Received::Failed(e)) => warn!(?peer, %e, "cannot keep a peer's private record"),
                        Some(Received::Byzantine(why)) => {
                            warn!(?peer, why, "blocking a peer: it sent a private record no honest node sends");
                            blocker.block(peer);
                        }
                    }
                },
            }
        }
    });
    (handle, Sharer { outbox })
}

/// Send `entry` to the peers it still must reach; the ones the network took are done.
fn send<S: Sender<PublicKey = ValidatorKey>>(sender: &mut S, entry: &mut Pending) {
    entry.attempts += 1;
    let reached = sender.send(
        Recipients::Some(entry.missing.clone()),
        entry.message.clone(),
        false,
    );
    entry.missing.retain(|peer| !reached.contains(peer));
}

/// What became of a peer's record.
enum Received {
    Kept,
    NotOurs,
    Failed(PrivateStoreError),
    Byzantine(&'static str),
}

fn receive(
    directory: &Directory,
    store: &PrivateStore,
    peer: &ValidatorKey,
    bytes: &[u8],
) -> Received {
    if bytes.len() > MESSAGE_BYTES_MAX {
        return Received::Byzantine("the message is larger than any record");
    }
    let Ok(record) = borsh::from_slice::<PrivateRecord>(bytes) else {
        return Received::Byzantine("the message is not a record");
    };
    if record.check().is_err() {
        return Received::Byzantine("the record is malformed");
    }
    match directory.peers.get(peer) {
        Some(organisation) if record.shared_with(organisation) => {}
        _ => return Received::Byzantine("its organisation is not in the record's collection"),
    }
    match &directory.organisation {
        Some(organisation) if record.shared_with(organisation) => {}
        _ => return Received::NotOurs,
    }
    match store.put(&record) {
        Ok(_) => Received::Kept,
        Err(e) => Received::Failed(e),
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

/// Apply the purges and expiries of the blocks committed since the side store's cursor.
fn apply_purges(ledger: &Store, store: &PrivateStore) -> Result<(), PurgeError> {
    let height = ledger.height()?;
    let cursor = store.cursor()?;
    if cursor >= height {
        return Ok(());
    }
    let last = height.min(cursor + BLOCKS_PER_STEP);
    // A store that holds nothing has nothing to purge in the blocks it skips.
    if store.usage().0 > 0 {
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
                let Some(record) = store.get(hash)? else {
                    continue;
                };
                let sender = ledger.member(&transaction.sender())?;
                if sender.is_some_and(|member| record.shared_with(&member.organisation)) {
                    store.purge(hash)?;
                    debug!(height = at, "private record purged by transaction");
                }
            }
            store.expire(at)?;
        }
    }
    store.set_cursor(last)?;
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
            salt: [1; 32],
            payload: b"customs declaration".to_vec(),
            expires_at: None,
        }
    }

    fn directory(own: &str) -> Directory {
        Directory {
            organisation: Some(own.into()),
            peers: [(key(1), "org-1"), (key(2), "org-2"), (key(3), "org-3")]
                .into_iter()
                .map(|(key, organisation)| (key, organisation.to_string()))
                .collect(),
        }
    }

    #[test]
    fn only_the_collections_organisations_are_recipients() {
        let recipients = directory("org-1").recipients(&record(&["org-1", "org-3"]));
        assert_eq!(recipients, vec![key(1), key(3)]);
    }

    #[test]
    fn a_record_is_kept_only_from_and_for_its_collection() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = PrivateStore::open(dir.path(), Default::default()).expect("store");
        let shared = record(&["org-1", "org-2"]);
        let bytes = borsh::to_vec(&shared).expect("encodes");
        // From org-1 to org-2: kept.
        assert!(matches!(
            receive(&directory("org-2"), &store, &key(1), &bytes),
            Received::Kept
        ));
        assert!(store.contains(&shared.hash()));
        // From org-3, which is not in the collection: Byzantine.
        assert!(matches!(
            receive(&directory("org-2"), &store, &key(3), &bytes),
            Received::Byzantine(_)
        ));
        // From an unknown peer: Byzantine.
        assert!(matches!(
            receive(&directory("org-2"), &store, &key(9), &bytes),
            Received::Byzantine(_)
        ));
        // To org-3, which is not in it: dropped, not kept.
        let other = tempfile::tempdir().expect("temporary directory");
        let third = PrivateStore::open(other.path(), Default::default()).expect("store");
        assert!(matches!(
            receive(&directory("org-3"), &third, &key(1), &bytes),
            Received::NotOurs
        ));
        assert_eq!(third.usage().0, 0);
        // Malformed: Byzantine.
        assert!(matches!(
            receive(&directory("org-2"), &store, &key(1), b"junk"),
            Received::Byzantine(_)
        ));
        let mut unsorted = shared.clone();
        unsorted.organisations.reverse();
        let bytes = borsh::to_vec(&unsorted).expect("encodes");
        assert!(matches!(
            receive(&directory("org-2"), &store, &key(1), &bytes),
            Received::Byzantine(_)
        ));
    }
}

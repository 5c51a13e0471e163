//! One validator's consensus stack, wired: simplex, marshal, the block broadcast buffer, the
//! backfill resolver, transaction gossip, and the ledger application.
//!
//! The wiring is generic over the runtime and the network, so the same code runs on
//! commonware's tokio runtime with authenticated TCP in a node and on its deterministic runtime
//! with a simulated network in tests. It follows `commonwarexyz/alto`'s engine, with ed25519
//! signatures (attributable: every vote names its signer, so faults can be proven) and a
//! round-robin leader.

use crate::{
    block::{Context, RoundBlock, ValidatorKey},
    chain::Chain,
    feed,
    finalizer::Finalizer,
    gossip,
    halt::Halt,
};
use commonware_broadcast::buffered;
use commonware_consensus::{
    marshal::{
        self,
        core::{Actor, Mailbox},
        resolver::p2p as resolver,
        standard::{Deferred, Standard},
        Start,
    },
    simplex::{
        self, elector::RoundRobin, scheme::ed25519::Scheme, ForwardPolicy, SkipBudget, SkipPolicy,
    },
    types::{Epoch, FixedEpocher, ViewDelta},
};
use commonware_cryptography::{
    certificate::{ConstantProvider, Verifier as _},
    ed25519, Digested, Digestible, Sha256, Signer as _,
};
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::{buffer::paged::CacheRef, Clock, Handle, Metrics, Spawner, Storage};
use commonware_storage::archive::immutable;
use commonware_utils::{ordered::Set, NZDuration, NZUsize, NZU16, NZU64};
use futures::{channel::oneshot, future::Either};
use rand_core::CryptoRng;
use std::{num::NonZeroUsize, sync::Arc, time::Duration};
use vellum_types::ChainLimits;

/// Channels a validator registers on the network, by purpose.
pub mod channel {
    /// Simplex votes.
    pub const VOTES: u64 = 0;
    /// Simplex certificates.
    pub const CERTIFICATES: u64 = 1;
    /// Simplex certificate fetches.
    pub const RESOLVER: u64 = 2;
    /// Blocks, broadcast by their proposer.
    pub const BLOCKS: u64 = 3;
    /// Marshal's backfill of finalized blocks.
    pub const BACKFILL: u64 = 4;
    /// Transaction gossip.
    pub const TRANSACTIONS: u64 = 5;
    /// Private data records, to the nodes of their collection ([`crate::private`]).
    pub const PRIVATE: u64 = 6;
}

/// How long consensus waits at each step.
#[derive(Clone, Debug)]
pub struct Timeouts {
    /// For the leader's proposal.
    pub leader: Duration,
    /// For a notarization to certify (must exceed `leader`).
    pub certification: Duration,
    /// Between rebroadcasts of a vote to skip a stalled view.
    pub retry: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            leader: Duration::from_secs(1),
            certification: Duration::from_secs(2),
            retry: Duration::from_secs(5),
        }
    }
}

/// What every node of the network needs, validator or observer.
pub struct FollowConfig<B, P> {
    /// Every validator's key: a finalization needs a quorum of them.
    pub participants: Set<ValidatorKey>,
    /// Separates this network's signatures from any other's (derived from the chain id).
    pub namespace: Vec<u8>,
    /// The chain it drives or follows.
    pub chain: Arc<Chain>,
    /// Block 0, sealed (see [`RoundBlock::genesis`]).
    pub genesis: RoundBlock,
    /// Disconnects peers that misbehave.
    pub blocker: B,
    /// The peer set (validators as primary peers, observers as secondary ones), for broadcasts
    /// and fetches.
    pub peers: P,
    /// Prefix for the consensus journals and archives in the runtime's storage.
    pub partition: String,
}

/// What a validator needs to start.
pub struct EngineConfig<B, P> {
    /// Its consensus key.
    pub signer: ed25519::PrivateKey,
    /// Consensus timeouts.
    pub timeouts: Timeouts,
    /// The network and the chain.
    pub node: FollowConfig<B, P>,
}

/// A `(sender, receiver)` pair for one channel.
pub type Pair<S, R> = (S, R);

/// The six channels of [`channel`], in order.
pub struct Channels<S, R> {
    /// [`channel::VOTES`].
    pub votes: Pair<S, R>,
    /// [`channel::CERTIFICATES`].
    pub certificates: Pair<S, R>,
    /// [`channel::RESOLVER`].
    pub resolver: Pair<S, R>,
    /// [`channel::BLOCKS`].
    pub blocks: Pair<S, R>,
    /// [`channel::BACKFILL`].
    pub backfill: Pair<S, R>,
    /// [`channel::TRANSACTIONS`].
    pub transactions: Pair<S, R>,
}

/// The largest network message the stack sends, for the network's configuration: a full block
/// with its receipt hashes, or a gossip batch, plus framing.
pub fn max_message_size(limits: &ChainLimits) -> u32 {
    let block = limits.block_bytes_max as usize + 32 * limits.block_transactions_max + (64 << 10);
    block
        .max(gossip::BATCH_BYTES_MAX + 1024)
        .min(u32::MAX as usize) as u32
}

const MAILBOX: NonZeroUsize = NZUsize!(1024);
const BUFFER: NonZeroUsize = NZUsize!(1 << 20);

/// An archive of finalized items (blocks, certificates) under `partition`.
fn archive<C>(
    partition: &str,
    name: &str,
    page_cache: &CacheRef,
    codec_config: C,
) -> immutable::Config<C> {
    immutable::Config {
        metadata_partition: format!("{partition}-{name}-metadata"),
        freezer_table_partition: format!("{partition}-{name}-freezer-table"),
        freezer_table_initial_size: 64,
        freezer_table_resize_frequency: 10,
        freezer_table_resize_chunk_size: 10,
        freezer_key_partition: format!("{partition}-{name}-freezer-key"),
        freezer_key_page_cache: page_cache.clone(),
        freezer_value_partition: format!("{partition}-{name}-freezer-value"),
        freezer_value_target_size: 1 << 20,
        freezer_value_compression: None,
        ordinal_partition: format!("{partition}-{name}-ordinal"),
        items_per_section: NZU64!(1024),
        codec_config,
        replay_buffer: BUFFER,
        freezer_key_write_buffer: BUFFER,
        freezer_value_write_buffer: BUFFER,
        ordinal_write_buffer: BUFFER,
    }
}

/// The parts a validator and an observer share, started: the block buffer, marshal with its
/// archives and the backfill resolver, the ledger's finalizer, and transaction gossip, on the
/// `(blocks, backfill, transactions)` channels. Returns marshal's mailbox, the started parts,
/// and the transaction submitter.
async fn follow<E, B, P, S, R>(
    context: &E,
    public_key: ValidatorKey,
    scheme: Scheme,
    config: &FollowConfig<B, P>,
    page_cache: &CacheRef,
    (blocks, backfill, transactions): (Pair<S, R>, Pair<S, R>, Pair<S, R>),
) -> (
    Mailbox<Scheme, Standard<RoundBlock>>,
    [(&'static str, Handle<()>); 3],
    gossip::Submitter,
)
where
    E: Clock + CryptoRng + rand_core::Rng + Spawner + Storage + Metrics,
    B: Blocker<PublicKey = ValidatorKey> + Clone,
    P: Provider<PublicKey = ValidatorKey> + Clone,
    S: Sender<PublicKey = ValidatorKey>,
    R: Receiver<PublicKey = ValidatorKey>,
{
    let (genesis, chain, blocker, peers) = (
        config.genesis.clone(),
        config.chain.clone(),
        config.blocker.clone(),
        config.peers.clone(),
    );
    let partition = &config.partition;
    let genesis_digest = genesis.digest();
    let genesis = Digested::precomputed(genesis, genesis_digest);
    let (broadcast, buffer) = buffered::Engine::new(
        context.child("blocks"),
        buffered::Config {
            public_key: public_key.clone(),
            mailbox_size: MAILBOX,
            deque_size: 10,
            priority: true,
            codec_config: (),
            peer_provider: peers.clone(),
            strategy: Sequential,
        },
    );

    // Consensus keeps its own journals; these archives are what marshal serves to peers that
    // backfill. The ledger's copy of each block and certificate is in redb.
    let finalizations = immutable::Archive::init(
        context.child("finalizations"),
        archive(
            partition,
            "finalizations",
            page_cache,
            Scheme::certificate_codec_config_unbounded(),
        ),
    )
    .await
    .expect("finalizations archive opens");
    let finalized = immutable::Archive::init(
        context.child("finalized"),
        archive(partition, "blocks", page_cache, ()),
    )
    .await
    .expect("blocks archive opens");

    let (actor, mailbox, _) = Actor::<_, Standard<RoundBlock>, _, _, _, _, _>::init(
        context.child("marshal"),
        finalizations,
        finalized,
        marshal::Config {
            provider: ConstantProvider::new(scheme),
            epocher: epocher(),
            start: Start::Genesis(genesis),
            partition_prefix: partition.to_string(),
            mailbox_size: MAILBOX,
            view_retention: ViewDelta::new(1024),
            prunable_items_per_section: NZU64!(1024),
            page_cache: page_cache.clone(),
            replay_buffer: BUFFER,
            key_write_buffer: BUFFER,
            value_write_buffer: BUFFER,
            block_codec_config: (),
            max_repair: NZUsize!(16),
            max_pending_acks: NZUsize!(8),
            strategy: Sequential,
        },
    )
    .await;

    let finalizer = Finalizer::start(context.child("ledger"), chain.clone(), mailbox.clone());
    let backfill = resolver::init(
        context.child("backfill"),
        resolver::Config {
            public_key,
            peer_provider: peers,
            blocker: blocker.clone(),
            mailbox_size: MAILBOX,
            fetch_timeout: NZDuration!(Duration::from_secs(2)),
            fetch_retry_delay: Duration::from_millis(100),
            priority_requests: false,
            priority_responses: false,
        },
        backfill,
    );
    let (gossip, submitter) = gossip::start(context.child("gossip"), chain, transactions, blocker);
    let parts = [
        ("broadcast", broadcast.start(blocks)),
        ("marshal", actor.start(finalizer, buffer, backfill)),
        ("gossip", gossip),
    ];
    (mailbox, parts, submitter)
}

/// One epoch for the chain's whole life: the validator set is fixed by genesis.
fn epocher() -> FixedEpocher {
    FixedEpocher::new(NZU64!(u64::MAX))
}

/// Start a validator running `application` (a node runs [`crate::Application`] over its chain).
/// Returns its transaction submitter and a handle that completes, with the reason, if the
/// validator halts; every part of it is stopped by then.
pub async fn start<E, A, B, P, S, R>(
    context: E,
    application: A,
    config: EngineConfig<B, P>,
    channels: Channels<S, R>,
) -> (Handle<Halt>, gossip::Submitter)
where
    E: Clock + CryptoRng + rand_core::Rng + Spawner + Storage + Metrics,
    A: commonware_consensus::Application<
        E,
        SigningScheme = Scheme,
        Context = Context,
        Block = RoundBlock,
        Input = (),
    >,
    B: Blocker<PublicKey = ValidatorKey> + Clone,
    P: Provider<PublicKey = ValidatorKey> + Clone,
    S: Sender<PublicKey = ValidatorKey>,
    R: Receiver<PublicKey = ValidatorKey>,
{
    let node = &config.node;
    let participants = node.participants.clone();
    let scheme = Scheme::signer(&node.namespace, participants.clone(), config.signer.clone())
        .unwrap_or_else(|| Scheme::verifier(&node.namespace, participants.clone()));
    let genesis_digest = node.genesis.digest();
    let page_cache = CacheRef::new(NZU16!(4096), NZUsize!(4096));
    let partition = &node.partition;
    let (mailbox, [broadcast, marshal, gossip], submitter) = follow(
        &context,
        config.signer.public_key(),
        scheme.clone(),
        node,
        &page_cache,
        (channels.blocks, channels.backfill, channels.transactions),
    )
    .await;

    let wrapper = Deferred::new(
        context.child("application"),
        application,
        mailbox,
        epocher(),
    );
    let timeouts = &config.timeouts;
    let consensus = simplex::Engine::new(
        context.child("consensus"),
        simplex::Config {
            scheme,
            elector: RoundRobin::<Sha256>::default(),
            blocker: node.blocker.clone(),
            automaton: wrapper.clone(),
            relay: wrapper.clone(),
            reporter: wrapper,
            track_historical_votes: false,
            strategy: Sequential,
            partition: format!("{partition}-consensus"),
            mailbox_size: MAILBOX,
            epoch: Epoch::zero(),
            floor: simplex::Floor::Genesis(genesis_digest),
            replay_buffer: BUFFER,
            write_buffer: BUFFER,
            page_cache,
            leader_timeout: timeouts.leader,
            certification_timeout: timeouts.certification,
            timeout_retry: timeouts.retry,
            view_retention: ViewDelta::new(256),
            skip: SkipPolicy::Enabled {
                timeout: timeouts.certification + timeouts.retry,
                budget: SkipBudget::Participants,
            },
            fetch_timeout: NZDuration!(Duration::from_secs(1)),
            fetch_retry_delay: Duration::from_millis(100),
            forward: ForwardPolicy::Disabled,
        },
    );
    let parts = [
        broadcast,
        marshal,
        (
            "consensus",
            consensus.start(
                channels.votes,
                (
                    channels.certificates.0,
                    FromValidators::new(channels.certificates.1, &participants),
                ),
                (
                    channels.resolver.0,
                    FromValidators::new(channels.resolver.1, &participants),
                ),
            ),
        ),
        gossip,
    ];
    let chain = node.chain.clone();
    let halted = chain.on_halt();
    let supervisor = context
        .child("supervisor")
        .spawn(move |_| supervise(halted, parts, move |halt| chain.halt(halt)));
    (supervisor, submitter)
}

/// A receiver that drops what peers outside the validator set send. Observers are peers too,
/// but on simplex's certificate and certificate-fetch channels only validators have anything to
/// say, and simplex would verify every certificate and serve every fetch from anyone. (Votes are
/// left alone: simplex blocks a non-validator that sends one.)
#[derive(Debug)]
struct FromValidators<R> {
    inner: R,
    validators: Set<ValidatorKey>,
}

impl<R> FromValidators<R> {
    fn new(inner: R, validators: &Set<ValidatorKey>) -> Self {
        Self {
            inner,
            validators: validators.clone(),
        }
    }
}

impl<R: Receiver<PublicKey = ValidatorKey>> Receiver for FromValidators<R> {
    type Error = R::Error;
    type PublicKey = ValidatorKey;

    async fn recv(&mut self) -> Result<commonware_p2p::Message<ValidatorKey>, R::Error> {
        // Each turn consumes one message, which the network rate-limits per peer.
        loop {
            let (peer, message) = self.inner.recv().await?;
            if self.validators.position(&peer).is_some() {
                return Ok((peer, message));
            }
        }
    }

    fn capacity(&self) -> NonZeroUsize {
        self.inner.capacity()
    }
}

/// Start an observer with network key `key`: the validator's stack without simplex. It
/// registers the same six channels (validators send votes and certificates to every peer,
/// observers included, and a message on a channel a peer did not register drops the
/// connection). A [`feed`] verifies each
/// finalization certificate validators broadcast against the validator set and hands it to
/// marshal, which fetches the block (from the broadcast buffer or by backfill) and delivers
/// finalized blocks in height order to the finalizer, which executes and commits them as a
/// validator does. Transactions submitted to it are gossiped to the validators. Returns what
/// [`start`] returns.
pub async fn observe<E, B, P, S, R>(
    context: E,
    key: ValidatorKey,
    config: FollowConfig<B, P>,
    channels: Channels<S, R>,
) -> (Handle<Halt>, gossip::Submitter)
where
    E: Clock + CryptoRng + rand_core::Rng + Spawner + Storage + Metrics,
    B: Blocker<PublicKey = ValidatorKey> + Clone,
    P: Provider<PublicKey = ValidatorKey> + Clone,
    S: Sender<PublicKey = ValidatorKey>,
    R: Receiver<PublicKey = ValidatorKey>,
{
    let scheme = Scheme::verifier(&config.namespace, config.participants.clone());
    config.chain.never_proposes();
    let page_cache = CacheRef::new(NZU16!(4096), NZUsize!(4096));
    let (mailbox, [broadcast, marshal, gossip], submitter) = follow(
        &context,
        key,
        scheme.clone(),
        &config,
        &page_cache,
        (channels.blocks, channels.backfill, channels.transactions),
    )
    .await;
    let feed = context.child("feed").spawn(move |context| {
        feed::run(
            context,
            scheme,
            mailbox,
            config.blocker,
            channels.certificates.1,
            [channels.votes.1, channels.resolver.1],
        )
    });
    let parts = [broadcast, marshal, ("feed", feed), gossip];
    let chain = config.chain.clone();
    let halted = chain.on_halt();
    let supervisor = context
        .child("supervisor")
        .spawn(move |_| supervise(halted, parts, move |halt| chain.halt(halt)));
    (supervisor, submitter)
}

/// Wait until the chain halts or a part stops, then stop every part: a halted validator must
/// stop voting too, not only committing. A part runs until it is aborted, so one that ends has
/// failed: the runtime catches panics, so a panic ends its task (not the process) and the
/// validator halts with a fault naming the part, which `stop` records.
pub(crate) async fn supervise<const N: usize>(
    halted: oneshot::Receiver<Halt>,
    mut parts: [(&'static str, Handle<()>); N],
    stop: impl FnOnce(Halt),
) -> Halt {
    let ended = futures::future::select_all(
        parts
            .iter_mut()
            .map(|(name, part)| Box::pin(async move { (*name, part.await) })),
    );
    let halt = match futures::future::select(halted, ended).await {
        Either::Left((halt, _)) => {
            halt.unwrap_or_else(|_| Halt::Fault("the chain was dropped".into()))
        }
        Either::Right((((name, ended), _, _), _)) => {
            let how = match ended {
                Ok(()) => "returned".to_string(),
                Err(error) => format!("failed ({error})"),
            };
            let halt = Halt::Fault(format!(
                "the {name} task {how}; see the log above for its panic"
            ));
            stop(halt.clone());
            halt
        }
    };
    for (_, part) in &parts {
        part.abort();
    }
    halt
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_runtime::{deterministic, Runner, Supervisor as _};

    #[test]
    fn a_part_that_panics_halts_the_validator_and_stops_the_others() {
        let config = deterministic::Config::default().with_catch_panics(true);
        deterministic::Runner::new(config).start(|context| async move {
            let (_halt, halted) = oneshot::channel();
            let quiet = context
                .child("quiet")
                .spawn(|_| futures::future::pending::<()>());
            let doomed = context.child("doomed").spawn(|context| async move {
                context.sleep(Duration::from_secs(1)).await;
                panic!("a defect");
            });
            let recorded = Arc::new(std::sync::Mutex::new(None));
            let halt = supervise(halted, [("quiet", quiet), ("doomed", doomed)], {
                let recorded = recorded.clone();
                move |halt| *recorded.lock().expect("lock") = Some(halt)
            })
            .await;
            let Halt::Fault(fault) = &halt else {
                panic!("a fault, not {halt:?}");
            };
            assert!(fault.contains("the doomed task failed"), "{fault}");
            assert_eq!(recorded.lock().expect("lock").as_ref(), Some(&halt));
        });
    }
}

//! The ledger as consensus drives it: propose and verify.
//!
//! Simplex orders digests, marshal moves blocks and hands back finalized ones in height order;
//! this module is the application between them, behind marshal's deferred-verification wrapper:
//!
//! - **Propose** builds a block from the mempool on top of the parent's *executed* state. The
//!   executor leaves out candidates that are invalid in that position and stops at the block
//!   limits; the header carries the resulting state root, receipts root and fuel.
//! - **Verify** re-executes the proposal on the same parent state and accepts it only if the
//!   header it computes is the proposer's, field for field, and so are the receipt hashes. The
//!   wrapper lets a validator vote to notarize once the block is available and gates the vote to
//!   finalize on this verdict, so a finalized block's state root was recomputed by at least
//!   `f + 1` honest validators before it was final: the certificate covers this block's own
//!   post-state (`docs/consensus.md` explains the choice).
//!
//! Finalization is the [`crate::Finalizer`]'s job.

use crate::{
    block::{Context, RoundBlock, ValidatorKey},
    chain::{millis, off_thread, Chain, Rejected},
};
use commonware_consensus::{
    marshal::ancestry::Ancestry, simplex::scheme::ed25519::Scheme, Heightable,
};
use commonware_cryptography::{Digested, Digestible};
use commonware_runtime::{Clock, Metrics, Spawner};
use futures::StreamExt as _;
use std::{sync::Arc, time::Duration};
use tracing::{debug, info, warn};
use vellum_ledger::Proposal;

/// How far ahead of a verifier's clock a block's time may be before it waits.
pub const CLOCK_DRIFT_MAX: Duration = Duration::from_secs(2);

/// How long a leader with an empty mempool waits for a transaction before proposing an empty
/// block: an idle network makes a few blocks a second, not one per network round trip. Well
/// under any sensible leader timeout.
pub const IDLE_PROPOSAL_WAIT: Duration = Duration::from_millis(250);

/// How long a leader spends executing candidates for its proposal, by default. Verifiers take
/// about as long again: with the default 1 s leader and 2 s certification timeouts, a block
/// built in this time is proposed, verified and voted on within its view.
pub const BUILD_TIME_MAX: Duration = Duration::from_millis(300);

/// The application marshal's wrapper drives.
#[derive(Clone)]
pub struct Application {
    chain: Arc<Chain>,
    build_time_max: Duration,
}

impl Application {
    /// The application over `chain`, building for at most [`BUILD_TIME_MAX`].
    pub fn new(chain: Arc<Chain>) -> Self {
        Self {
            chain,
            build_time_max: BUILD_TIME_MAX,
        }
    }

    /// The same, building for at most `build_time_max`.
    pub fn with_build_time_max(mut self, build_time_max: Duration) -> Self {
        self.build_time_max = build_time_max;
        self
    }
}

impl<E: Clock + Spawner + Metrics> commonware_consensus::Application<E> for Application {
    type SigningScheme = Scheme;
    type Context = Context;
    type Block = RoundBlock;
    type Input = ();

    async fn propose(
        &mut self,
        (context, round): (E, Context),
        mut ancestry: impl Ancestry<RoundBlock>,
        _input: (),
    ) -> Option<Digested<RoundBlock>> {
        let chain = &self.chain;
        if chain.halted().is_some() {
            return None;
        }
        let parent = ancestry.next().await?;
        let idle_until = context.current() + IDLE_PROPOSAL_WAIT;
        while chain.mempool().is_empty() && context.current() < idle_until {
            context.sleep(Duration::from_millis(10)).await;
        }
        let pending = chain
            .pending(&context, parent.clone(), ancestry)
            .await
            .ok()?;
        let parent_header = parent.inner().header().clone();
        let proposal = Proposal {
            height: parent_header.height + 1,
            parent: parent_header.hash(),
            time_ms: millis(&context).max(parent_header.time_ms + 1),
            proposer: proposer_bytes(&round.leader),
            transactions: Vec::new(),
        };
        let builder = chain.clone();
        // The runtime's clock: real time on a node, simulated (so never out of time inside one
        // synchronous build) in the deterministic runtime.
        let clock = context.child("build_clock");
        let deadline = context.current() + self.build_time_max;
        let built = off_thread(&context, move || {
            builder.build(&pending, proposal, &|| clock.current() >= deadline)
        })
        .await?;
        let (executed, skipped) = match built {
            Ok(built) => built,
            Err(error) => {
                let _ = chain.reject(error);
                return None;
            }
        };
        let block = RoundBlock::new(round, &executed);
        let digest = block.digest();
        chain.remember(digest, Arc::new(executed));
        if block.transactions().is_empty() {
            debug!(height = block.header().height, "proposed an empty block");
        } else {
            info!(
                height = block.header().height,
                transactions = block.transactions().len(),
                skipped,
                "proposed"
            );
        }
        Some(Digested::precomputed(block, digest))
    }

    async fn verify(
        &mut self,
        (context, round): (E, Context),
        mut ancestry: impl Ancestry<RoundBlock>,
    ) -> bool {
        let chain = &self.chain;
        let Some(block) = ancestry.next().await else {
            return false;
        };
        if block.inner().header().proposer != proposer_bytes(&round.leader) {
            warn!(
                height = block.height().get(),
                "block names another proposer than the round's leader"
            );
            return false;
        }
        // A block from the future waits until it is not; consensus times the view out if
        // that takes too long.
        let time = Duration::from_millis(block.inner().header().time_ms);
        let now = Duration::from_millis(millis(&context));
        if time > now + CLOCK_DRIFT_MAX {
            context.sleep(time - now - CLOCK_DRIFT_MAX).await;
        }
        let Some(parent) = ancestry.next().await else {
            return false;
        };
        if let Some(executed) = chain.executed(&block.digest()) {
            return executed.block.header == *block.inner().header();
        }
        let pending = match chain.pending(&context, parent, ancestry).await {
            Ok(pending) => pending,
            Err(rejected) => return verdict(rejected).await,
        };
        match chain
            .execute(&context, pending, block.inner().clone())
            .await
        {
            Ok(Some(executed)) => {
                chain.remember(block.digest(), executed);
                true
            }
            Ok(None) => true,
            Err(rejected) => verdict(rejected).await,
        }
    }
}

/// The vote on a rejected block: against it, or never, if this node has failed.
async fn verdict(rejected: Rejected) -> bool {
    match rejected {
        Rejected::Invalid(reason) => {
            warn!(%reason, "rejected block");
            false
        }
        Rejected::Mismatch(ours) => {
            warn!(
                height = ours.block.header.height,
                "block does not execute to its header"
            );
            false
        }
        Rejected::Fault(_) => futures::future::pending().await,
    }
}

fn proposer_bytes(leader: &ValidatorKey) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(leader.as_ref());
    bytes
}

//! Finalized blocks, committed in order: marshal hands each finalized block over once, in
//! height order, and waits for its acknowledgement before the next.

use crate::{block::RoundBlock, chain::Chain, seal::Seal};
use commonware_actor::Feedback;
use commonware_consensus::{
    marshal::{core::Mailbox, standard::Standard, Update},
    simplex::scheme::ed25519::Scheme,
    Heightable, Reporter,
};
use commonware_cryptography::Digested;
use commonware_runtime::{Clock, Metrics, Spawner};
use commonware_utils::{acknowledgement::Exact, Acknowledgement as _};
use futures::{channel::mpsc, StreamExt};
use std::sync::Arc;

/// Receives finalized blocks from marshal and commits them, in order, on its own task.
#[derive(Clone)]
pub struct Finalizer {
    blocks: mpsc::UnboundedSender<(Digested<RoundBlock>, Exact)>,
    chain: Arc<Chain>,
}

impl Finalizer {
    /// Start committing the blocks marshal finalizes into `chain`, taking each block's
    /// finalization certificate from `marshal`.
    pub fn start<E: Clock + Spawner + Metrics>(
        context: E,
        chain: Arc<Chain>,
        marshal: Mailbox<Scheme, Standard<RoundBlock>>,
    ) -> Self {
        chain.register_metrics(&context);
        // Unbounded, but marshal holds at most its `max_pending_acks` blocks unacknowledged.
        let (blocks, mut receiver) = mpsc::unbounded::<(Digested<RoundBlock>, Exact)>();
        let finalizer = Self {
            blocks,
            chain: chain.clone(),
        };
        context.spawn(move |context| async move {
            while let Some((block, acknowledgement)) = receiver.next().await {
                let height = block.height();
                let finalization = marshal.get_finalization(height).await;
                let seal = Seal {
                    context: block.inner().round_context().clone(),
                    finalization,
                };
                match chain.finalize(&context, block, seal).await {
                    Ok(()) => acknowledgement.acknowledge(),
                    // Unacknowledged, marshal delivers nothing more: the node stops here.
                    Err(_) => return,
                }
            }
        });
        finalizer
    }
}

impl Reporter for Finalizer {
    type Activity = Update<RoundBlock>;

    fn report(&mut self, activity: Update<RoundBlock>) -> Feedback {
        match activity {
            Update::Block(block, acknowledgement) => {
                match self.blocks.unbounded_send((block, acknowledgement)) {
                    Ok(()) => Feedback::Ok,
                    Err(_) => Feedback::Closed,
                }
            }
            Update::Tip(_, height, _) => {
                self.chain.observe_tip(height.get());
                Feedback::Ok
            }
        }
    }
}

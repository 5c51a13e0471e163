//! Committing block N while block N+1 executes.
//!
//! A durable commit of a 1000-transaction block costs about as much as executing it (mostly the
//! fsync), and the two use different resources: the disk, and the CPU. The pipeline overlaps
//! them: block N+1 executes on a snapshot plus block N's writes (see
//! [`Executor::execute_after`]) while a second thread commits block N. Crash safety is
//! unchanged, since every commit is still one atomic redb transaction, and so is the result, since
//! execution sees exactly the state it would have seen after N's commit.
//!
//! At most one block is in flight: a block's commit starts only after its predecessor's finished,
//! so blocks reach the disk in order.

use crate::{
    executed::ExecutedBlock,
    executor::{BlockError, Executor, Proposal},
    store::{Store, StoreError},
};
use std::{sync::Arc, thread::JoinHandle};

/// Executes blocks and commits them in the background, in order.
pub struct Pipeline {
    store: Arc<Store>,
    in_flight: Option<InFlight>,
}

/// The block being committed, and the thread committing it.
struct InFlight {
    block: Arc<ExecutedBlock>,
    commit: JoinHandle<Result<(), StoreError>>,
}

impl Pipeline {
    /// A pipeline over `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Self {
            store,
            in_flight: None,
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Execute `proposal` on top of the last block pushed, wait for that block's commit, and start
    /// committing this one. When this returns, every block before this one is durable.
    pub fn push(
        &mut self,
        executor: &Executor,
        proposal: Proposal,
    ) -> Result<Arc<ExecutedBlock>, BlockError> {
        let pending: Vec<&ExecutedBlock> =
            self.in_flight.iter().map(|f| f.block.as_ref()).collect();
        let executed = Arc::new(executor.execute_after(&self.store, &pending, proposal)?);
        self.flush()?;
        let (store, block) = (self.store.clone(), executed.clone());
        let commit = std::thread::Builder::new()
            .name("vellum-commit".into())
            .spawn(move || store.commit(&block))
            .map_err(BlockError::CommitThread)?;
        self.in_flight = Some(InFlight {
            block: executed.clone(),
            commit,
        });
        Ok(executed)
    }

    /// Wait until every block pushed is durable; returns the last one, if any was in flight.
    pub fn flush(&mut self) -> Result<Option<Arc<ExecutedBlock>>, BlockError> {
        let Some(InFlight { block, commit }) = self.in_flight.take() else {
            return Ok(None);
        };
        commit
            .join()
            .map_err(|_| BlockError::Panicked("commit"))??;
        Ok(Some(block))
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        // A block handed over is committed, not abandoned; a failure here has no one to report
        // to, and the next open of the store simply resumes at the last durable block.
        let _ = self.flush();
    }
}

//! WebSocket subscriptions: blocks and events, replayed from a height, then followed as blocks
//! commit.

use crate::{
    json,
    methods::block,
    params::{internal, selector, EventFilter},
    Node, State, PAGE_MAX,
};
use jsonrpsee::{
    core::SubscriptionResult,
    server::{PendingSubscriptionSink, RpcModule, SubscriptionMessage},
    types::{ErrorObjectOwned, Params},
};
use serde_json::Value;
use std::{ops::Bound, sync::Arc};
use vellum_ledger::EventPosition;

pub(crate) fn register<N: Node>(
    module: &mut RpcModule<State<N>>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_subscription(
        "vellum_subscribeBlocks",
        "vellum_block",
        "vellum_unsubscribeBlocks",
        |params, pending, state, _| async move { follow_blocks(params, pending, state).await },
    )?;
    module.register_subscription(
        "vellum_subscribeEvents",
        "vellum_event",
        "vellum_unsubscribeEvents",
        |params, pending, state, extensions| async move {
            follow_events(params, pending, state, extensions).await
        },
    )?;
    Ok(())
}

/// Blocks from `from_height` (default: the next one), then every new one, in order.
async fn follow_blocks<N: Node>(
    params: Params<'static>,
    pending: PendingSubscriptionSink,
    state: Arc<State<N>>,
) -> SubscriptionResult {
    let from = match params.sequence().optional_next::<u64>() {
        Ok(from) => from,
        Err(e) => {
            pending.reject(e).await;
            return Ok(());
        }
    };
    let mut next = match from {
        Some(height) => height,
        None => state.store.height()? + 1,
    };
    follow(pending, &state, |state, head| {
        if next > head {
            return Ok(None);
        }
        // Blocks without their transactions: hashes only, which every policy shows.
        let sent = block(state, next, false, &crate::access::Viewer::public())?;
        next += 1;
        Ok(Some(vec![sent]))
    })
    .await
}

/// Events matching a filter from `from_height` (default: the next block), then as blocks
/// commit. They are read through the event index a page at a time, so a filter that matches
/// nothing costs nothing however long the chain.
async fn follow_events<N: Node>(
    params: Params<'static>,
    pending: PendingSubscriptionSink,
    state: Arc<State<N>>,
    extensions: http::Extensions,
) -> SubscriptionResult {
    let parsed = params.parse::<(EventFilter,)>().and_then(|(filter,)| {
        let contract = filter
            .contract
            .as_deref()
            .map(|c| crate::params::bytes32(c, "contract"))
            .transpose()?;
        crate::access::events(&state, &extensions, contract.as_ref())?;
        selector(&filter).map(|s| (filter.from_height, s, contract))
    });
    let (from, selector, contract) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            pending.reject(e).await;
            return Ok(());
        }
    };
    // Every event before `after` (or before block `next`) has been sent.
    let mut next = match from {
        Some(height) => height,
        None => state.store.height()? + 1,
    };
    let mut after: Option<EventPosition> = None;
    follow(pending, &state, |state, head| {
        if next > head {
            return Ok(None);
        }
        // The caller may read these events still: its token unexpired, its key still a
        // member's (not removed, not rotated away from), its organisation still the owner's.
        crate::access::events(state, &extensions, contract.as_ref())?;
        let from = after.map_or(Bound::Included((next, 0, 0)), Bound::Excluded);
        let page = state
            .store
            .events(&selector, from, head, PAGE_MAX)
            .map_err(internal)?;
        if page.len() < PAGE_MAX {
            (next, after) = (head + 1, None);
        } else {
            after = page.last().map(|e| e.position);
        }
        Ok(Some(
            page.iter()
                .map(|e| {
                    let (height, index, position) = e.position;
                    json::event(height, index, position, &e.transaction, &e.event)
                })
                .collect(),
        ))
    })
    .await
}

/// Accept the subscription, then send what `step(state, head)` returns until it returns `None`
/// (all sent up to `head`), then wait for the next commit, until the client goes away. Between
/// steps it yields, so a long replay shares the server's threads; it sleeps on the one head
/// watcher ([`State::head`]), not on a poll of its own.
async fn follow<N>(
    pending: PendingSubscriptionSink,
    state: &State<N>,
    mut step: impl FnMut(&State<N>, u64) -> Result<Option<Vec<Value>>, ErrorObjectOwned>,
) -> SubscriptionResult {
    let mut head = state.head.clone();
    let sink = pending.accept().await?;
    loop {
        let height = state.store.height()?;
        while let Some(items) = step(state, height).map_err(|e| e.message().to_string())? {
            for item in items {
                let message = serde_json::value::to_raw_value(&item)?;
                sink.send(SubscriptionMessage::from(message)).await?;
            }
            tokio::task::yield_now().await;
        }
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            changed = head.changed() => if changed.is_err() { return Ok(()) },
        }
    }
}

//! WebSocket subscriptions: blocks and events, replayed from a height, then followed as blocks
//! commit.

use crate::{
    methods::{block, block_events},
    params::{EventFilter, Matcher},
    Node, State,
};
use jsonrpsee::{
    core::SubscriptionResult,
    server::{PendingSubscriptionSink, RpcModule, SubscriptionMessage},
    types::{ErrorObjectOwned, Params},
};
use serde_json::Value;
use std::sync::Arc;

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
        |params, pending, state, _| async move { follow_events(params, pending, state).await },
    )?;
    Ok(())
}

/// Blocks from `from_height` (default: the next one), then every new one, in order.
async fn follow_blocks<N: Node>(
    params: Params<'static>,
    pending: PendingSubscriptionSink,
    state: Arc<State<N>>,
) -> SubscriptionResult {
    match params.sequence().optional_next::<u64>() {
        Ok(from) => {
            follow(pending, &state, from, |state, height| {
                block(state, height, false).map(|b| vec![b])
            })
            .await
        }
        Err(e) => {
            pending.reject(e).await;
            Ok(())
        }
    }
}

/// Events matching a filter from `from_height` (default: the next block), then as blocks
/// commit.
async fn follow_events<N: Node>(
    params: Params<'static>,
    pending: PendingSubscriptionSink,
    state: Arc<State<N>>,
) -> SubscriptionResult {
    let parsed = params
        .parse::<(EventFilter,)>()
        .and_then(|(filter,)| Matcher::new(&filter).map(|m| (filter.from_height, m)));
    match parsed {
        Ok((from, matcher)) => {
            follow(pending, &state, from, |state, height| {
                Ok(block_events(state, height, &matcher)?
                    .into_iter()
                    .map(|(_, _, event)| event)
                    .collect())
            })
            .await
        }
        Err(e) => {
            pending.reject(e).await;
            Ok(())
        }
    }
}

/// Send `items(height)` for every block from `from` (default: the next one) as it commits,
/// until the client goes away. Between blocks it yields, so a replay of a long chain with a
/// filter that matches nothing shares the server's threads; it sleeps on the one head watcher
/// ([`State::head`]), not on a poll of its own.
async fn follow<N>(
    pending: PendingSubscriptionSink,
    state: &State<N>,
    from: Option<u64>,
    items: impl Fn(&State<N>, u64) -> Result<Vec<Value>, ErrorObjectOwned>,
) -> SubscriptionResult {
    let mut next = match from {
        Some(height) => height,
        None => state.store.height()? + 1,
    };
    let mut head = state.head.clone();
    let sink = pending.accept().await?;
    loop {
        while next <= state.store.height()? {
            for item in items(state, next).map_err(|e| e.message().to_string())? {
                let message = serde_json::value::to_raw_value(&item)?;
                sink.send(SubscriptionMessage::from(message)).await?;
            }
            next += 1;
            tokio::task::yield_now().await;
        }
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            changed = head.changed() => if changed.is_err() { return Ok(()) },
        }
    }
}

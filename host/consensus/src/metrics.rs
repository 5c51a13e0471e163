//! What a validator exports to Prometheus about its chain (`docs/consensus.md` lists them).

use commonware_runtime::{
    telemetry::metrics::{Counter, Gauge, Histogram, MetricsExt as _},
    Metrics,
};

/// The chain's figures: height, mempool, transactions committed, finalization latency.
pub(crate) struct ChainMetrics {
    pub(crate) height: Gauge,
    pub(crate) mempool_transactions: Gauge,
    pub(crate) mempool_bytes: Gauge,
    pub(crate) transactions: Counter,
    pub(crate) latency: Histogram,
}

impl ChainMetrics {
    /// Register the figures in `context`'s registry.
    pub(crate) fn register(context: &impl Metrics) -> Self {
        Self {
            height: context.gauge("height", "Height of the last committed block"),
            mempool_transactions: context.gauge("mempool_transactions", "Transactions pending"),
            mempool_bytes: context.gauge("mempool_bytes", "Encoded bytes of pending transactions"),
            transactions: context.counter("transactions", "Transactions committed"),
            latency: context.histogram(
                "finalization_latency_seconds",
                "Time from a block's timestamp to its commit on this node",
                [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0],
            ),
        }
    }
}

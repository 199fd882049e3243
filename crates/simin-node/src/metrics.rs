//! The node's Prometheus metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Label of a refused transaction: the stable code of the refusal.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReasonLabel {
    pub reason: String,
}

/// Counters, gauges and histograms of one node.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    pub txs_submitted: Counter,
    pub txs_refused: Family<ReasonLabel, Counter>,
    pub txs_committed: Counter,
    pub blocks_committed: Counter,
    pub height: Gauge,
    pub mempool_txs: Gauge,
    pub block_txs: Histogram,
    pub propose_seconds: Histogram,
    pub validate_seconds: Histogram,
    pub commit_seconds: Histogram,
    pub relay_sent: Counter,
    pub relay_failed: Counter,
    pub relay_dropped: Counter,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("simin");
        let seconds = || Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        let m = Metrics {
            txs_submitted: Counter::default(),
            txs_refused: Family::default(),
            txs_committed: Counter::default(),
            blocks_committed: Counter::default(),
            height: Gauge::default(),
            mempool_txs: Gauge::default(),
            block_txs: Histogram::new(exponential_buckets(1.0, 2.0, 16)),
            propose_seconds: seconds(),
            validate_seconds: seconds(),
            commit_seconds: seconds(),
            relay_sent: Counter::default(),
            relay_failed: Counter::default(),
            relay_dropped: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "txs_submitted",
            "Transactions admitted to the mempool",
            m.txs_submitted.clone(),
        );
        registry.register(
            "txs_refused",
            "Transactions refused at submission, by reason",
            m.txs_refused.clone(),
        );
        registry.register(
            "txs_committed",
            "Transactions in committed blocks",
            m.txs_committed.clone(),
        );
        registry.register(
            "blocks_committed",
            "Blocks committed",
            m.blocks_committed.clone(),
        );
        registry.register(
            "height",
            "Height of the last committed block",
            m.height.clone(),
        );
        registry.register(
            "mempool_txs",
            "Transactions waiting in the mempool",
            m.mempool_txs.clone(),
        );
        registry.register(
            "block_txs",
            "Transactions per committed block",
            m.block_txs.clone(),
        );
        registry.register(
            "propose_seconds",
            "Time to build and pre-execute a proposal",
            m.propose_seconds.clone(),
        );
        registry.register(
            "validate_seconds",
            "Time to re-execute a received proposal",
            m.validate_seconds.clone(),
        );
        registry.register(
            "commit_seconds",
            "Time to persist a decided block atomically",
            m.commit_seconds.clone(),
        );
        registry.register(
            "relay_sent",
            "Transactions relayed to a peer",
            m.relay_sent.clone(),
        );
        registry.register(
            "relay_failed",
            "Relays a peer refused or did not answer",
            m.relay_failed.clone(),
        );
        registry.register(
            "relay_dropped",
            "Relays dropped because the relay queue was full",
            m.relay_dropped.clone(),
        );
        Metrics { registry, ..m }
    }

    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail because it grows");
        text
    }
}

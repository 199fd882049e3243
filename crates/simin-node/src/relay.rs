//! Relaying admitted transactions to peer nodes, so a transaction submitted to any node
//! (a validator or a full node) reaches the proposers.
//!
//! A node relays only what a client submitted to it; copies arrive at peers marked as
//! relayed and stop there, so each transaction crosses each link once. Relaying is best
//! effort: the queue is bounded and a full queue or a dead peer drops the copy (counted),
//! never the client's submission, which stays in this node's mempool and is proposed
//! when this node's turn comes.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};
use tracing::debug;

use crate::metrics::Metrics;

/// Transactions waiting to be relayed.
const QUEUE_TXS_MAX: usize = 50_000;
/// Requests in flight to one peer.
const IN_FLIGHT_PER_PEER: usize = 32;
/// Timeout of one relay request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The sending side of the relay; cheap to share.
#[derive(Debug)]
pub(crate) struct Relay {
    queue: mpsc::Sender<Arc<Vec<u8>>>,
}

impl Relay {
    /// Starts relaying to `peers` (API base URLs); `None` when there is no peer. The
    /// task only ends if it panics; the node supervises it through the handle.
    pub fn start(
        peers: Vec<String>,
        metrics: Arc<Metrics>,
    ) -> Option<(Relay, tokio::task::JoinHandle<()>)> {
        if peers.is_empty() {
            return None;
        }
        let (queue, rx) = mpsc::channel(QUEUE_TXS_MAX);
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("a client with only a timeout set builds because no TLS setting can fail");
        let task = tokio::spawn(run(rx, peers, http, metrics));
        Some((Relay { queue }, task))
    }

    /// Queues an admitted transaction (its canonical bytes) for every peer.
    pub fn offer(&self, encoded: Vec<u8>, metrics: &Metrics) {
        if self.queue.try_send(Arc::new(encoded)).is_err() {
            metrics.relay_dropped.inc();
        }
    }
}

async fn run(
    mut rx: mpsc::Receiver<Arc<Vec<u8>>>,
    peers: Vec<String>,
    http: reqwest::Client,
    metrics: Arc<Metrics>,
) {
    let limits: Vec<Arc<Semaphore>> = peers
        .iter()
        .map(|_| Arc::new(Semaphore::new(IN_FLIGHT_PER_PEER)))
        .collect();
    while let Some(tx) = rx.recv().await {
        for (peer, limit) in peers.iter().zip(&limits) {
            let Ok(permit) = limit.clone().acquire_owned().await else {
                return;
            };
            let url = format!("{peer}/v1/txs?relayed=true");
            let (http, tx, metrics) = (http.clone(), tx.clone(), metrics.clone());
            tokio::spawn(async move {
                let sent = http
                    .post(&url)
                    .header("content-type", "application/octet-stream")
                    .body(tx.as_ref().clone())
                    .send()
                    .await;
                match sent {
                    // 409: the peer had it already (e.g. it proposed it); that is success.
                    Ok(r) if r.status().is_success() || r.status().as_u16() == 409 => {
                        metrics.relay_sent.inc();
                    }
                    Ok(r) => {
                        debug!(%url, status = %r.status(), "peer refused a relayed transaction");
                        metrics.relay_failed.inc();
                    }
                    Err(err) => {
                        debug!(%url, %err, "cannot relay a transaction");
                        metrics.relay_failed.inc();
                    }
                }
                drop(permit);
            });
        }
    }
}

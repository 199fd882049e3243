//! The access log: every release of claims becomes an `AccessEntry` in an
//! `AuthCall::RecordAccess` transaction, signed by the provider's organisation.
//!
//! Entries are gathered for a short window and submitted in as few transactions as
//! their size allows, with consecutive nonces. The queue is bounded: when the chain
//! cannot take the log, logins stop (`temporarily_unavailable`) instead of releasing
//! claims that would go unlogged. A failed submission is retried with the nonce read
//! again, for the transactions the chain did not take.

use std::time::Duration;

use simin_types::limits::{ACCESS_ENTRIES_MAX, TX_BYTES_MAX};
use simin_types::{encode, AccessEntry, AuthCall, Call, SigningKey};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::error::GatewayError;
use crate::node::NodeLink;

/// Most entries waiting for the chain.
pub(crate) const QUEUE_MAX: usize = 100_000;
/// The encoded size of the entries of one transaction, leaving room for the envelope.
const BATCH_BYTES_MAX: usize = TX_BYTES_MAX - 4096;
/// Most entries gathered in one round (several transactions).
const ROUND_ENTRIES_MAX: usize = 8 * ACCESS_ENTRIES_MAX;
/// Longest wait between retries.
const RETRY_MAX: Duration = Duration::from_secs(5);

/// The sending side: where releases are reported.
#[derive(Clone, Debug)]
pub(crate) struct AccessLog {
    queue: mpsc::Sender<AccessEntry>,
}

impl AccessLog {
    pub fn new() -> (AccessLog, mpsc::Receiver<AccessEntry>) {
        let (queue, receiver) = mpsc::channel(QUEUE_MAX);
        (AccessLog { queue }, receiver)
    }

    /// Whether one more entry fits: checked before anything is released.
    pub fn has_room(&self) -> bool {
        self.queue.capacity() > 0
    }

    pub fn record(&self, entry: AccessEntry) -> Result<(), GatewayError> {
        self.queue.try_send(entry).map_err(|_| GatewayError::Busy {
            what: "access-log entries",
        })
    }
}

/// Splits entries into transactions that stay under the size limit.
pub(crate) fn batches(entries: Vec<AccessEntry>) -> Vec<Vec<AccessEntry>> {
    let mut out: Vec<Vec<AccessEntry>> = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0usize;
    for entry in entries {
        let size = encode(&entry).len();
        if !current.is_empty()
            && (bytes + size > BATCH_BYTES_MAX || current.len() >= ACCESS_ENTRIES_MAX)
        {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push(entry);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Writes the queue to the chain until every sender is gone and the queue is empty.
pub(crate) async fn run(
    node: std::sync::Arc<NodeLink>,
    key: SigningKey,
    mut receiver: mpsc::Receiver<AccessEntry>,
    window: Duration,
) {
    let signer = key.public_key();
    while let Some(first) = receiver.recv().await {
        let mut entries = vec![first];
        let deadline = tokio::time::Instant::now() + window;
        while entries.len() < ROUND_ENTRIES_MAX {
            match tokio::time::timeout_at(deadline, receiver.recv()).await {
                Ok(Some(entry)) => entries.push(entry),
                Ok(None) | Err(_) => break,
            }
        }
        let mut pending = batches(entries);
        let mut delay = Duration::from_millis(200);
        while !pending.is_empty() {
            match submit_round(&node, &key, &signer, &pending).await {
                Ok(()) => {
                    let count: usize = pending.iter().map(Vec::len).sum();
                    debug!(count, txs = pending.len(), "access entries submitted");
                    pending.clear();
                }
                Err((taken, e)) => {
                    pending.drain(..taken);
                    warn!(%e, left = pending.len(), "access-log submission failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(RETRY_MAX);
                }
            }
        }
    }
    info!("access log writer stopped");
}

/// Submits each batch with consecutive nonces and waits for the last one's commit; on
/// failure, says how many batches the chain took (by the account nonce it reached).
async fn submit_round(
    node: &NodeLink,
    key: &SigningKey,
    signer: &simin_types::PublicKey,
    batches: &[Vec<AccessEntry>],
) -> Result<(), (usize, GatewayError)> {
    let start = node
        .client()
        .account_next_nonce(signer)
        .await
        .map_err(|e| (0, e.into()))?;
    let mut failure = None;
    for (i, batch) in batches.iter().enumerate() {
        let call = Call::Auth(AuthCall::RecordAccess {
            entries: batch.clone(),
        });
        let last = i + 1 == batches.len();
        let result = node.submit(key, start + i as u64, call, last).await;
        if let Err(e) = result {
            failure = Some(e);
            break;
        }
    }
    let Some(e) = failure else {
        return Ok(());
    };
    // The batches below the nonce the chain reached were taken.
    let reached = node
        .client()
        .account_next_nonce(signer)
        .await
        .unwrap_or(start);
    let taken = usize::try_from(reached.saturating_sub(start))
        .unwrap_or(usize::MAX)
        .min(batches.len());
    Err((taken, e))
}

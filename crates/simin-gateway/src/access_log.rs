//! The access log: every release of claims becomes an `AccessEntry` in an
//! `AuthCall::RecordAccess` transaction, signed by the provider's organisation.
//!
//! Nothing released is lost: [`AccessLog::record`] returns only once the entry is in the
//! write-ahead [`Journal`] on disk, and the token that releases the claims is handed out
//! after that. Entries from many logins share one disk sync (a journal thread gathers
//! whatever is waiting while the previous sync runs). The chain writer ([`run`]) gathers
//! entries for a short window, submits them in as few transactions as their size allows,
//! with consecutive nonces, and deletes them from the journal once committed. At start it
//! first replays what a previous run left in the journal (see [`recover`]).
//!
//! The journal is bounded: when the chain cannot take the log and the journal fills,
//! logins stop (`temporarily_unavailable`) instead of releasing claims that would go
//! unlogged. A failed submission is retried with the nonce read again, for the
//! transactions the chain did not take.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use simin_types::limits::{ACCESS_ENTRIES_MAX, TX_BYTES_MAX};
use simin_types::{encode, AccessEntry, AuthCall, Call, Hash, SigningKey};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::error::GatewayError;
use crate::journal::{InFlight, Journal};
use crate::node::NodeLink;

/// Most entries held by the journal (waiting for the chain).
pub(crate) const QUEUE_MAX: usize = 100_000;
/// Most releases waiting for the journal thread at once.
const REQUESTS_MAX: usize = 8192;
/// Most entries made durable by one disk sync.
const GROUP_MAX: usize = 4096;
/// The encoded size of the entries of one transaction, leaving room for the envelope.
const BATCH_BYTES_MAX: usize = TX_BYTES_MAX - 4096;
/// Most entries gathered in one round (several transactions).
const ROUND_ENTRIES_MAX: usize = 8 * ACCESS_ENTRIES_MAX;
/// Longest wait between retries.
const RETRY_MAX: Duration = Duration::from_secs(5);
/// How many of a subject's newest records a replay compares its entries with: a
/// journaled entry that did reach the chain is among the subject's latest records,
/// since entries leave the journal as soon as their transaction commits.
const REPLAY_SCAN_RECORDS: u64 = 1024;
/// The node's largest page of an access log.
const ACCESS_LOG_PAGE: u64 = 256;

/// A release waiting to be made durable.
struct Request {
    entry: AccessEntry,
    done: oneshot::Sender<Result<(), GatewayError>>,
}

/// The sending side: where releases are reported.
#[derive(Clone, Debug)]
pub(crate) struct AccessLog {
    requests: mpsc::Sender<Request>,
    journal: Arc<Journal>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request").finish_non_exhaustive()
    }
}

/// What the chain writer starts from: the journal, the entries a previous run left in it
/// and the queue of new ones.
#[derive(Debug)]
pub(crate) struct WriterInput {
    pub journal: Arc<Journal>,
    pub replay: Vec<(u64, AccessEntry)>,
    pub receiver: mpsc::UnboundedReceiver<(u64, AccessEntry)>,
    /// Set once the replay is done.
    pub replayed: Arc<AtomicBool>,
}

impl AccessLog {
    /// Opens the journal at `path` and starts its thread.
    pub fn open(path: &std::path::Path) -> Result<(AccessLog, WriterInput), GatewayError> {
        let (journal, replay) = Journal::open(path, QUEUE_MAX)?;
        let journal = Arc::new(journal);
        let (requests, incoming) = mpsc::channel(REQUESTS_MAX);
        // Unbounded, yet bounded by the journal: every entry sent is held by it.
        let (chain, receiver) = mpsc::unbounded_channel();
        let thread_journal = journal.clone();
        std::thread::Builder::new()
            .name("access-log-journal".into())
            .spawn(move || journal_thread(&thread_journal, incoming, &chain))
            .map_err(|e| GatewayError::Journal {
                op: "starting its thread",
                reason: e.to_string(),
            })?;
        let replayed = Arc::new(AtomicBool::new(replay.is_empty()));
        Ok((
            AccessLog {
                requests,
                journal: journal.clone(),
            },
            WriterInput {
                journal,
                replay,
                receiver,
                replayed,
            },
        ))
    }

    /// Whether one more entry fits: checked before anything is released.
    pub fn has_room(&self) -> bool {
        self.journal.has_room(1)
    }

    /// Returns once `entry` is durable in the journal; refuses (`Busy`) when full.
    pub async fn record(&self, entry: AccessEntry) -> Result<(), GatewayError> {
        let (done, durable) = oneshot::channel();
        self.requests
            .try_send(Request { entry, done })
            .map_err(|_| GatewayError::Busy {
                what: "access-log entries",
            })?;
        durable.await.map_err(|_| GatewayError::Journal {
            op: "appending entries",
            reason: "the journal thread stopped".into(),
        })?
    }
}

/// Makes waiting entries durable, one disk sync for all that wait, and passes them on to
/// the chain writer; ends when every [`AccessLog`] is gone.
fn journal_thread(
    journal: &Journal,
    mut incoming: mpsc::Receiver<Request>,
    chain: &mpsc::UnboundedSender<(u64, AccessEntry)>,
) {
    while let Some(first) = incoming.blocking_recv() {
        let mut group = vec![first];
        while group.len() < GROUP_MAX {
            match incoming.try_recv() {
                Ok(request) => group.push(request),
                Err(_) => break,
            }
        }
        let entries: Vec<AccessEntry> = group.iter().map(|r| r.entry.clone()).collect();
        match journal.append(&entries) {
            Ok(seqs) => {
                for (seq, request) in seqs.into_iter().zip(group) {
                    // A writer that stopped leaves the entry in the journal for the next
                    // start: nothing is lost by ignoring the send's failure.
                    let _ = chain.send((seq, request.entry));
                    let _ = request.done.send(Ok(()));
                }
            }
            Err(e) => {
                warn!(%e, entries = group.len(), "access entries could not be journaled; their logins fail");
                for request in group {
                    let refusal = match &e {
                        GatewayError::Busy { what } => GatewayError::Busy { what },
                        other => GatewayError::Journal {
                            op: "appending entries",
                            reason: other.to_string(),
                        },
                    };
                    let _ = request.done.send(Err(refusal));
                }
            }
        }
    }
    debug!("access-log journal thread stopped");
}

/// Splits entries into transactions that stay under the size limit.
pub(crate) fn batches(entries: Vec<(u64, AccessEntry)>) -> Vec<Vec<(u64, AccessEntry)>> {
    let mut out: Vec<Vec<(u64, AccessEntry)>> = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0usize;
    for entry in entries {
        let size = encode(&entry.1).len();
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

/// Runs a journal operation on a blocking thread.
async fn blocking<T: Send + 'static>(
    journal: &Arc<Journal>,
    op: impl FnOnce(&Journal) -> Result<T, GatewayError> + Send + 'static,
) -> Result<T, GatewayError> {
    let journal = journal.clone();
    tokio::task::spawn_blocking(move || op(&journal))
        .await
        .map_err(|e| GatewayError::Journal {
            op: "a blocking task",
            reason: e.to_string(),
        })?
}

/// Replays what a previous run left, then writes new entries to the chain until every
/// sender is gone and the queue is empty.
pub(crate) async fn run(
    node: Arc<NodeLink>,
    key: SigningKey,
    input: WriterInput,
    window: Duration,
) {
    let WriterInput {
        journal,
        replay,
        mut receiver,
        replayed,
    } = input;
    let mut carried = recover(&node, &key, &journal, replay).await;
    replayed.store(true, Ordering::Release);
    loop {
        let mut entries = std::mem::take(&mut carried);
        if entries.is_empty() {
            match receiver.recv().await {
                Some(first) => entries.push(first),
                None => break,
            }
            let deadline = tokio::time::Instant::now() + window;
            while entries.len() < ROUND_ENTRIES_MAX {
                match tokio::time::timeout_at(deadline, receiver.recv()).await {
                    Ok(Some(entry)) => entries.push(entry),
                    Ok(None) | Err(_) => break,
                }
            }
        }
        write_round(&node, &key, &journal, batches(entries)).await;
    }
    info!("access log writer stopped");
}

/// Submits `pending` until the chain took every batch, deleting each batch's entries
/// from the journal once committed.
async fn write_round(
    node: &NodeLink,
    key: &SigningKey,
    journal: &Arc<Journal>,
    mut pending: Vec<Vec<(u64, AccessEntry)>>,
) {
    let mut delay = Duration::from_millis(200);
    while !pending.is_empty() {
        let (taken, failure) = submit_round(node, key, journal, &pending).await;
        let committed: Vec<u64> = pending
            .drain(..taken)
            .flatten()
            .map(|(seq, _)| seq)
            .collect();
        if !committed.is_empty() {
            debug!(count = committed.len(), "access entries committed");
            if let Err(e) = blocking(journal, move |j| j.remove(&committed)).await {
                // They stay journaled; a later replay finds them on chain and skips them.
                warn!(%e, "committed access entries could not be deleted from the journal");
            }
        }
        if let Some(e) = failure {
            warn!(%e, left = pending.len(), "access-log submission failed; retrying");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(RETRY_MAX);
        }
    }
}

/// Submits each batch with consecutive nonces and waits for the last one's commit; how
/// many batches the chain took (by the account nonce it reached) and why it stopped.
async fn submit_round(
    node: &NodeLink,
    key: &SigningKey,
    journal: &Arc<Journal>,
    batches: &[Vec<(u64, AccessEntry)>],
) -> (usize, Option<GatewayError>) {
    let signer = key.public_key();
    let (start, chain_id, expiry) = match round_start(node, &signer).await {
        Ok(start) => start,
        Err(e) => return (0, Some(e)),
    };
    let count = u64::try_from(batches.len()).unwrap_or(u64::MAX);
    let sent = InFlight {
        nonce_max: start.saturating_add(count.saturating_sub(1)),
        expiry_height_max: expiry,
    };
    // Durable before anything goes out, so that a replay knows what may still commit.
    if let Err(e) = blocking(journal, move |j| j.raise_in_flight(sent)).await {
        return (0, Some(e));
    }
    let mut failure = None;
    for (i, batch) in batches.iter().enumerate() {
        let call = Call::Auth(AuthCall::RecordAccess {
            entries: batch.iter().map(|(_, entry)| entry.clone()).collect(),
        });
        let last = i + 1 == batches.len();
        // `i` is below the number of batches, which fits in u64 (`count`).
        let nonce = start.saturating_add(i as u64);
        let result = node
            .submit_at(key, chain_id.clone(), nonce, expiry, call, last)
            .await;
        if let Err(e) = result {
            failure = Some(e);
            break;
        }
    }
    let Some(e) = failure else {
        return (batches.len(), None);
    };
    // The batches below the nonce the chain reached were taken.
    let reached = node
        .client()
        .account_next_nonce(&signer)
        .await
        .unwrap_or(start);
    let taken = usize::try_from(reached.saturating_sub(start))
        .unwrap_or(usize::MAX)
        .min(batches.len());
    (taken, Some(e))
}

/// The first nonce, the chain id and the expiry height of a round's transactions.
async fn round_start(
    node: &NodeLink,
    signer: &simin_types::PublicKey,
) -> Result<(u64, simin_types::ChainId, u64), GatewayError> {
    let start = node.client().account_next_nonce(signer).await?;
    let (chain_id, height) = node.chain_tip().await?;
    Ok((
        start,
        chain_id,
        height.0.saturating_add(crate::node::TX_EXPIRY_BLOCKS),
    ))
}

/// The entries of `replay` that are not on chain, after deleting from the journal those
/// that are. Retries (with a growing pause) until the node answers.
///
/// A transaction of the previous run may still be in a mempool: the check waits until
/// the account's nonce passed every nonce that run sent, or the chain passed every
/// expiry height, so that no entry it finds missing can still arrive on its own.
async fn recover(
    node: &NodeLink,
    key: &SigningKey,
    journal: &Arc<Journal>,
    replay: Vec<(u64, AccessEntry)>,
) -> Vec<(u64, AccessEntry)> {
    if replay.is_empty() {
        return replay;
    }
    info!(
        count = replay.len(),
        "replaying access entries journaled by a previous run"
    );
    let mut delay = Duration::from_millis(200);
    loop {
        match split_committed(node, key, journal, &replay).await {
            Ok(Some((committed, missing))) => {
                info!(
                    committed = committed.len(),
                    resubmitted = missing.len(),
                    "access-log replay checked against the chain"
                );
                if let Err(e) = blocking(journal, move |j| j.remove(&committed)).await {
                    warn!(%e, "replayed entries found on chain could not be deleted");
                }
                return missing;
            }
            Ok(None) => debug!("access-log transactions of the previous run may still commit"),
            Err(e) => warn!(%e, "access-log replay cannot reach the node; retrying"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RETRY_MAX);
    }
}

/// `None` while a transaction of the previous run may still commit; else the sequence
/// numbers of the entries on chain and the entries that are not.
async fn split_committed(
    node: &NodeLink,
    key: &SigningKey,
    journal: &Arc<Journal>,
    replay: &[(u64, AccessEntry)],
) -> Result<Option<(Vec<u64>, Vec<(u64, AccessEntry)>)>, GatewayError> {
    if let Some(sent) = blocking(journal, Journal::in_flight).await? {
        let next = node.client().account_next_nonce(&key.public_key()).await?;
        let (_, height) = node.chain_tip().await?;
        if next <= sent.nonce_max && height.0 <= sent.expiry_height_max {
            return Ok(None);
        }
    }
    let mut by_subject: BTreeMap<&str, Vec<&(u64, AccessEntry)>> = BTreeMap::new();
    for item in replay {
        by_subject
            .entry(item.1.subject.as_str())
            .or_default()
            .push(item);
    }
    let mut committed = Vec::new();
    let mut missing = Vec::new();
    for (subject, items) in by_subject {
        let logged = node_commitments(node, subject).await?;
        for (seq, entry) in items {
            if logged.contains(&entry.commitment) {
                committed.push(*seq);
            } else {
                missing.push((*seq, entry.clone()));
            }
        }
    }
    missing.sort_by_key(|(seq, _)| *seq);
    Ok(Some((committed, missing)))
}

/// The commitments of the newest `REPLAY_SCAN_RECORDS` records of `subject` on chain.
async fn node_commitments(node: &NodeLink, subject: &str) -> Result<HashSet<Hash>, GatewayError> {
    let client = node.client();
    let count = client.access_log(subject, 0, 1).await?.count;
    let mut from = count.saturating_sub(REPLAY_SCAN_RECORDS);
    let mut commitments = HashSet::new();
    while from < count {
        let page = client.access_log(subject, from, ACCESS_LOG_PAGE).await?;
        let Some(last) = page.records.last() else {
            break;
        };
        from = last.seq.saturating_add(1);
        commitments.extend(page.records.iter().map(|r| r.commitment));
    }
    Ok(commitments)
}

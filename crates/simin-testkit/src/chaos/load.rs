//! The chaos run's load: workers anchor distinct documents with consecutive nonces of
//! one key, each transaction sent with `wait=commit` to a node picked at random, and
//! every commit a node acknowledges is recorded.
//!
//! Unlike [`crate::Load`], a worker never gives up a nonce while the run lasts: a whole
//! network restart empties every mempool, and a nonce abandoned there would leave a gap
//! that stalls every later transaction of the key. The worker sends the same signed
//! transaction again (same hash) until a node says it is committed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use simin_client::dto::SubmitStatus;
use simin_client::{Client, ClientError};
use simin_types::{ChainId, Hash, Height, SigningKey};
use tokio::task::JoinHandle;

use crate::{anchor_tx, Acked};

/// Pause after an attempt that reached no node or was refused.
const RETRY_PAUSE: Duration = Duration::from_millis(250);
/// Pause before asking again about a transaction a node holds in its mempool.
const DUPLICATE_PAUSE: Duration = Duration::from_millis(500);
/// Most error messages kept.
const ERRORS_KEPT_MAX: usize = 30;

/// What the load did.
#[derive(Debug, Default)]
pub struct ChaosLoadReport {
    /// Every commit a node acknowledged: a `committed` answer to a submission, or a
    /// lookup of a resent transaction that a node called committed.
    pub acked: Vec<Acked>,
    /// Transactions still waiting for a commit when the load stopped.
    pub unconfirmed: u64,
    /// Submissions that failed (node down, timeouts); each was retried.
    pub failed_attempts: u64,
    /// The first few errors seen.
    pub errors: Vec<String>,
}

#[derive(Debug)]
struct Shared {
    clients: Vec<Client>,
    key: SigningKey,
    chain_id: ChainId,
    expiry: Height,
    salt: u64,
    next_nonce: AtomicU64,
    stop: AtomicBool,
    report: Mutex<ChaosLoadReport>,
}

impl Shared {
    fn report(&self) -> std::sync::MutexGuard<'_, ChaosLoadReport> {
        self.report.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn error(&self, message: String) {
        let mut report = self.report();
        report.failed_attempts += 1;
        if report.errors.len() < ERRORS_KEPT_MAX {
            report.errors.push(message);
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// A running chaos load.
#[derive(Debug)]
pub(crate) struct ChaosLoad {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

/// What a load needs: the nodes to send to and the key that signs.
#[derive(Debug)]
pub(crate) struct LoadSpec {
    pub(crate) clients: Vec<Client>,
    pub(crate) key: SigningKey,
    pub(crate) chain_id: ChainId,
    pub(crate) first_nonce: u64,
    pub(crate) expiry: Height,
    pub(crate) workers: usize,
    pub(crate) seed: u64,
}

impl ChaosLoad {
    pub(crate) fn start(spec: LoadSpec) -> ChaosLoad {
        let shared = Arc::new(Shared {
            clients: spec.clients,
            key: spec.key,
            chain_id: spec.chain_id,
            expiry: spec.expiry,
            salt: spec.seed,
            next_nonce: AtomicU64::new(spec.first_nonce),
            stop: AtomicBool::new(false),
            report: Mutex::new(ChaosLoadReport::default()),
        });
        let workers = (0..spec.workers)
            .map(|w| {
                // Each worker's node choices follow from the seed and its number.
                let w = u64::try_from(w).expect("a worker count fits in u64");
                let rng = StdRng::seed_from_u64(spec.seed ^ w.wrapping_mul(0x9e37_79b9_7f4a_7c15));
                tokio::spawn(work(shared.clone(), rng))
            })
            .collect();
        ChaosLoad { shared, workers }
    }

    pub(crate) fn acked_count(&self) -> usize {
        self.shared.report().acked.len()
    }

    /// Stops the workers (each finishes its current request, or is aborted after
    /// `timeout`) and returns what they did.
    pub(crate) async fn stop(self, timeout: Duration) -> ChaosLoadReport {
        self.shared.stop.store(true, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + timeout;
        for worker in self.workers {
            let abort = worker.abort_handle();
            if tokio::time::timeout_at(deadline, worker).await.is_err() {
                abort.abort();
                self.shared.report().unconfirmed += 1;
            }
        }
        std::mem::take(&mut *self.shared.report())
    }
}

async fn work(shared: Arc<Shared>, mut rng: StdRng) {
    while !shared.stopped() {
        let nonce = shared.next_nonce.fetch_add(1, Ordering::SeqCst);
        let document = Hash::digest(format!("chaos load {} {nonce}", shared.salt).as_bytes());
        let tx = anchor_tx(
            &shared.key,
            &shared.chain_id,
            nonce,
            shared.expiry,
            document,
        );
        if !confirm(&shared, &mut rng, &tx, nonce).await {
            shared.report().unconfirmed += 1;
        }
    }
}

/// Sends `tx` to random nodes until one says it is committed; false if the load
/// stopped first.
async fn confirm(
    shared: &Shared,
    rng: &mut StdRng,
    tx: &simin_types::SignedTx,
    nonce: u64,
) -> bool {
    let hash = tx.hash();
    while !shared.stopped() {
        let client = &shared.clients[rng.gen_range(0..shared.clients.len())];
        let pause = match client.submit(tx, true).await {
            Ok(response) => match (response.status, response.committed) {
                (SubmitStatus::Committed, Some(c)) => {
                    record(shared, client, hash, nonce, c.height, &c.receipt.outcome);
                    return true;
                }
                // The node's wait ran out; the transaction may still be in a mempool.
                _ => Duration::ZERO,
            },
            // A node holds it, or a transaction with its nonce is committed (it can only
            // be this one: the key is the load's alone). Ask whether it is committed.
            Err(e @ ClientError::Problem { .. })
                if matches!(
                    e.problem_slug(),
                    Some("duplicate" | "nonce-too-low" | "nonce-taken")
                ) =>
            {
                match client.tx(&hash).await {
                    Ok(Some(found)) => {
                        record(
                            shared,
                            client,
                            hash,
                            nonce,
                            found.height,
                            &found.receipt.outcome,
                        );
                        return true;
                    }
                    Ok(None) => DUPLICATE_PAUSE,
                    Err(e) => {
                        shared.error(format!(
                            "nonce {nonce}: lookup at {}: {e}",
                            client.base_url()
                        ));
                        RETRY_PAUSE
                    }
                }
            }
            Err(e) => {
                shared.error(format!("nonce {nonce}: {}: {e}", client.base_url()));
                RETRY_PAUSE
            }
        };
        tokio::time::sleep(pause).await;
    }
    false
}

fn record(
    shared: &Shared,
    client: &Client,
    hash: Hash,
    nonce: u64,
    height: Height,
    outcome: &simin_types::TxOutcome,
) {
    shared.report().acked.push(Acked {
        hash,
        nonce,
        height,
        node: client.base_url().to_owned(),
        success: *outcome == simin_types::TxOutcome::Success,
    });
}

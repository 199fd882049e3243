//! Signed notary transactions, and a load of them submitted with `wait=commit`.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use simin_client::dto::SubmitStatus;
use simin_client::{Client, ClientError};
use simin_types::{Call, ChainId, Hash, Height, NotaryCall, SignedTx, SigningKey, Tx, TxOutcome};
use tokio::task::JoinHandle;

use crate::TestkitError;

/// Attempts at submitting one transaction before a worker gives it up.
const ATTEMPTS_MAX: usize = 10;
/// Pause between two attempts.
const RETRY_PAUSE: Duration = Duration::from_millis(100);
/// Most error messages a load keeps.
const ERRORS_KEPT_MAX: usize = 50;

/// Reads a key file written by `simin testnet init` / `simin devnet` (hex seed).
pub fn read_key(path: &Path) -> Result<SigningKey, TestkitError> {
    let text = std::fs::read_to_string(path).map_err(TestkitError::io("read", path))?;
    SigningKey::from_hex(&text).map_err(|e| TestkitError::Invalid {
        what: "key file",
        reason: format!("{}: {e}", path.display()),
    })
}

/// A signed anchoring of `document`.
pub fn anchor_tx(
    key: &SigningKey,
    chain_id: &ChainId,
    nonce: u64,
    expiry_height: Height,
    document: Hash,
) -> SignedTx {
    Tx {
        chain_id: chain_id.clone(),
        signer: key.public_key(),
        nonce,
        expiry_height,
        call: Call::Notary(NotaryCall::Anchor { document }),
    }
    .sign(key)
}

/// A transaction a node acknowledged as committed.
#[derive(Clone, Debug)]
pub struct Acked {
    pub hash: Hash,
    pub nonce: u64,
    pub height: Height,
    /// Base URL of the node that acknowledged it.
    pub node: String,
    pub success: bool,
}

/// What a load did.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub acked: Vec<Acked>,
    /// Transactions accepted but not committed within the node's wait.
    pub pending: u64,
    /// Transactions given up after `ATTEMPTS_MAX` failed attempts.
    pub abandoned: u64,
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
    report: Mutex<LoadReport>,
}

impl Shared {
    fn report(&self) -> std::sync::MutexGuard<'_, LoadReport> {
        self.report.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Workers that anchor distinct documents with consecutive nonces of one key, spread
/// round-robin over nodes, each waiting for the commit before sending the next.
#[derive(Debug)]
pub struct Load {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl Load {
    /// Starts `workers` workers; the first transaction has nonce `first_nonce`. A failed
    /// submission is retried on the next node, so a dead node costs no nonce.
    pub fn start(
        clients: Vec<Client>,
        key: SigningKey,
        chain_id: ChainId,
        first_nonce: u64,
        expiry: Height,
        workers: usize,
    ) -> Load {
        let shared = Arc::new(Shared {
            clients,
            key,
            chain_id,
            expiry,
            salt: rand::thread_rng().gen(),
            next_nonce: AtomicU64::new(first_nonce),
            stop: AtomicBool::new(false),
            report: Mutex::new(LoadReport::default()),
        });
        let workers = (0..workers)
            .map(|_| tokio::spawn(work(shared.clone())))
            .collect();
        Load { shared, workers }
    }

    /// How many transactions were acknowledged as committed so far.
    pub fn acked_count(&self) -> usize {
        self.shared.report().acked.len()
    }

    /// Stops the workers (each finishes its current transaction, or is aborted after
    /// `timeout`) and returns what they did.
    pub async fn stop(self, timeout: Duration) -> LoadReport {
        self.shared.stop.store(true, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + timeout;
        for worker in self.workers {
            let abort = worker.abort_handle();
            if tokio::time::timeout_at(deadline, worker).await.is_err() {
                abort.abort();
            }
        }
        std::mem::take(&mut *self.shared.report())
    }
}

async fn work(shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        let nonce = shared.next_nonce.fetch_add(1, Ordering::SeqCst);
        let document = Hash::digest(format!("testkit load {} {nonce}", shared.salt).as_bytes());
        let tx = anchor_tx(
            &shared.key,
            &shared.chain_id,
            nonce,
            shared.expiry,
            document,
        );
        submit(&shared, &tx, nonce).await;
    }
}

/// Submits `tx` until one node accepts it (or knows it already), at most `ATTEMPTS_MAX` times.
async fn submit(shared: &Shared, tx: &SignedTx, nonce: u64) {
    let count = u64::try_from(shared.clients.len().max(1)).unwrap_or(1);
    // The remainder is below the client count, a usize.
    let first = usize::try_from(nonce % count).unwrap_or(0);
    for attempt in 0..ATTEMPTS_MAX {
        let client = &shared.clients[(first + attempt) % shared.clients.len()];
        match client.submit(tx, true).await {
            Ok(response) => {
                let mut report = shared.report();
                match (response.status, response.committed) {
                    (SubmitStatus::Committed, Some(c)) => report.acked.push(Acked {
                        hash: response.hash,
                        nonce,
                        height: c.height,
                        node: client.base_url().to_owned(),
                        success: c.receipt.outcome == TxOutcome::Success,
                    }),
                    _ => report.pending += 1,
                }
                return;
            }
            // An earlier attempt reached the mempool (its answer was lost): nothing to redo.
            Err(e @ ClientError::Problem { .. })
                if matches!(e.problem_slug(), Some("duplicate" | "nonce-too-low")) =>
            {
                shared.report().pending += 1;
                return;
            }
            Err(e) => {
                let mut report = shared.report();
                if report.errors.len() < ERRORS_KEPT_MAX {
                    report.errors.push(format!("nonce {nonce}: {e}"));
                }
            }
        }
        if shared.stop.load(Ordering::SeqCst) && attempt > 0 {
            break;
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
    shared.report().abandoned += 1;
}

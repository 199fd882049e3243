//! `simin bench`: a load generator. Pre-signs notary anchorings, submits them with
//! concurrent workers, and follows committed blocks to time each one's commit.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use simin_client::Client;
use simin_types::{Call, ChainId, Hash, Height, NotaryCall, SignedTx, SigningKey, Tx};
use tokio::sync::Semaphore;

use crate::bench_report;
use crate::cli::BenchArgs;
use crate::keys::resolve_key;
use crate::notary::{connect, status_with_a_block};
use crate::output;

/// Most transactions submitted and not yet seen committed. The mempool keeps future
/// nonces within 10,000 of the account's next nonce; workers may overtake each other by
/// the concurrency (at most 1024), so this stays clear of that window.
const IN_FLIGHT_MAX: usize = 8_000;
/// How many blocks the bench transactions stay valid for.
const BENCH_EXPIRY_BLOCKS: u64 = 1_000_000;
/// Stop following blocks when none of ours has committed for this long after the last submit.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause between polls for the next block.
const BLOCK_POLL: Duration = Duration::from_millis(20);
/// "Not submitted yet" in `submitted_at_ns`.
const NOT_SUBMITTED: u64 = u64::MAX;

/// What the workers and the block follower share.
pub struct Run {
    txs: Vec<SignedTx>,
    started: Instant,
    next: AtomicUsize,
    /// Nanoseconds from `started` to each submit, `NOT_SUBMITTED` before.
    submitted_at_ns: Vec<AtomicU64>,
    pub accepted: AtomicU64,
    pub rejected: AtomicU64,
    pub rejections: Mutex<BTreeMap<String, u64>>,
    /// Nanoseconds from `started` to the end of the last submit.
    pub last_submit_ns: AtomicU64,
    workers_left: AtomicUsize,
    window: Semaphore,
}

impl Run {
    fn elapsed_ns(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

pub async fn run(node: &str, args: BenchArgs, json: bool) -> anyhow::Result<()> {
    let client = connect(node)?;
    let (_, key) = resolve_key(&args.key)?;
    let status = status_with_a_block(&client).await?;
    let nonce = client
        .account_next_nonce(&key.public_key())
        .await
        .context("cannot read the signer's next nonce")?;
    let count = usize::try_from(args.txs).context("--txs does not fit in memory")?;
    let concurrency = usize::try_from(args.concurrency).context("--concurrency is too large")?;
    let expiry = Height(status.latest_height.0.saturating_add(BENCH_EXPIRY_BLOCKS));
    output::notice(&format!(
        "signing {count} anchorings from nonce {nonce} on chain {}...",
        status.chain_id
    ));
    let txs = presign(&key, &status.chain_id, nonce, expiry, count)?;
    let index: HashMap<Hash, usize> = txs.iter().enumerate().map(|(i, t)| (t.hash(), i)).collect();
    // Blocks made while signing are not part of the run.
    let start = client.status().await?.latest_height;
    let run = Arc::new(Run {
        submitted_at_ns: (0..count).map(|_| AtomicU64::new(NOT_SUBMITTED)).collect(),
        txs,
        started: Instant::now(),
        next: AtomicUsize::new(0),
        accepted: AtomicU64::new(0),
        rejected: AtomicU64::new(0),
        rejections: Mutex::new(BTreeMap::new()),
        last_submit_ns: AtomicU64::new(0),
        workers_left: AtomicUsize::new(concurrency),
        window: Semaphore::new(IN_FLIGHT_MAX),
    });
    output::notice(&format!(
        "submitting with {concurrency} workers to {node}..."
    ));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout_secs);
    let workers: Vec<_> = (0..concurrency)
        .map(|_| tokio::spawn(worker(client.clone(), Arc::clone(&run), deadline)))
        .collect();
    let follow = follow_blocks(&client, &run, &index, start, deadline, json).await;
    // The follower closed the window, so workers blocked on it return at once.
    for worker in workers {
        let _ = worker.await;
    }
    let follow = follow?;
    let report = bench_report::report(node, &args, status.chain_id, &run, follow);
    bench_report::print(&report, json);
    Ok(())
}

fn presign(
    key: &SigningKey,
    chain_id: &ChainId,
    nonce: u64,
    expiry: Height,
    count: usize,
) -> anyhow::Result<Vec<SignedTx>> {
    let signer = key.public_key();
    (0..count)
        .map(|i| {
            let offset = u64::try_from(i).context("index fits in u64")?;
            let nonce = nonce.checked_add(offset).context("nonce overflows")?;
            let document = Hash::digest(&rand::random::<[u8; 32]>());
            Ok(Tx {
                chain_id: chain_id.clone(),
                signer,
                nonce,
                expiry_height: expiry,
                call: Call::Notary(NotaryCall::Anchor { document }),
            }
            .sign(key))
        })
        .collect()
}

/// Submits transactions in nonce order until none is left, the window closes or the
/// deadline passes.
async fn worker(client: Client, run: Arc<Run>, deadline: tokio::time::Instant) {
    loop {
        let permit = match tokio::time::timeout_at(deadline, run.window.acquire()).await {
            Ok(Ok(permit)) => permit,
            // Closed by the follower, or past the deadline.
            Ok(Err(_)) | Err(_) => break,
        };
        let i = run.next.fetch_add(1, Ordering::Relaxed);
        let Some(tx) = run.txs.get(i) else {
            break;
        };
        // Released by the follower when the transaction commits, or below on refusal.
        permit.forget();
        run.submitted_at_ns[i].store(run.elapsed_ns(), Ordering::Relaxed);
        match client.submit(tx, false).await {
            Ok(_) => {
                run.accepted.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                run.rejected.fetch_add(1, Ordering::Relaxed);
                run.window.add_permits(1);
                let reason = e
                    .problem_slug()
                    .map_or_else(|| e.to_string(), str::to_owned);
                tracing::debug!(nonce = tx.tx.nonce, %e, "submit refused");
                let mut rejections = run
                    .rejections
                    .lock()
                    .expect("no thread panics holding this lock");
                *rejections.entry(reason).or_insert(0) += 1;
            }
        }
        run.last_submit_ns
            .fetch_max(run.elapsed_ns(), Ordering::Relaxed);
    }
    run.workers_left.fetch_sub(1, Ordering::Relaxed);
}

/// What following the blocks saw.
#[derive(Debug, Default)]
pub struct Followed {
    pub latencies_ns: Vec<u64>,
    pub last_commit_ns: u64,
    pub end_height: Height,
    pub blocks: u64,
    pub empty_blocks: u64,
    pub txs_in_blocks: u64,
}

/// Reads each new block, times the commits of ours, and ends when all submitted ones
/// committed, nothing committed for `IDLE_TIMEOUT` after submitting ended, or at `deadline`.
async fn follow_blocks(
    client: &Client,
    run: &Run,
    index: &HashMap<Hash, usize>,
    start: Height,
    deadline: tokio::time::Instant,
    json: bool,
) -> anyhow::Result<Followed> {
    let progress = progress_bar(json, run.txs.len());
    let mut seen = Followed {
        end_height: start,
        ..Followed::default()
    };
    let mut last_progress = Instant::now();
    let result = loop {
        let submitting = run.workers_left.load(Ordering::Relaxed) > 0;
        let committed = u64::try_from(seen.latencies_ns.len()).unwrap_or(u64::MAX);
        if !submitting && committed >= run.accepted.load(Ordering::Relaxed) {
            break Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            output::notice("deadline reached; reporting what committed so far");
            break Ok(());
        }
        if !submitting && last_progress.elapsed() > IDLE_TIMEOUT {
            output::notice("no commit for 30s after the last submit; reporting what committed");
            break Ok(());
        }
        let height = seen.end_height.next().context("height overflows")?;
        let lookup = match client.block(height).await {
            Ok(Some(lookup)) => lookup,
            Ok(None) => {
                tokio::time::sleep(BLOCK_POLL).await;
                continue;
            }
            Err(e) if e.is_timeout() => continue,
            Err(e) => break Err(anyhow::Error::new(e).context("cannot read the next block")),
        };
        let observed_ns = run.elapsed_ns();
        let mut ours = 0usize;
        for tx in &lookup.block.txs {
            if let Some(&i) = index.get(&tx.hash()) {
                let submitted = run.submitted_at_ns[i].load(Ordering::Relaxed);
                seen.latencies_ns
                    .push(observed_ns.saturating_sub(submitted.min(observed_ns)));
                ours += 1;
            }
        }
        let tx_count = u64::try_from(lookup.block.txs.len()).unwrap_or(u64::MAX);
        seen.end_height = height;
        seen.blocks += 1;
        seen.txs_in_blocks = seen.txs_in_blocks.saturating_add(tx_count);
        if tx_count == 0 {
            seen.empty_blocks += 1;
        }
        if ours > 0 {
            run.window.add_permits(ours);
            seen.last_commit_ns = observed_ns;
            last_progress = Instant::now();
            if let Some(bar) = &progress {
                bar.inc(u64::try_from(ours).unwrap_or(u64::MAX));
            }
        }
    };
    // Unblocks workers waiting for room once following stops.
    run.window.close();
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    result.map(|()| seen)
}

fn progress_bar(json: bool, total: usize) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if json || !std::io::stderr().is_terminal() {
        return None;
    }
    let total = u64::try_from(total).unwrap_or(u64::MAX);
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_message("committed");
    Some(bar)
}

//! The integrated login benchmark of issue 5: complete "Sign in with Citizen Card"
//! logins per second through the OpenID Connect provider, over HTTP on loopback.
//!
//! One process runs a one-validator devnet node, the provider (`simin-gateway`) and the
//! clients, each on its own Tokio runtime with named threads, so that the CPU each one
//! spends is read per thread from `/proc` ([`cpu`]). Clients are closed loops: each does
//! one login after the other ([`flow`]), for a warm-up and then a timed window. Logins
//! that end inside the window count; their latency is the whole flow as the browser and
//! wallet see it. After the window, the benchmark waits until every login's access entry
//! is on chain and counts the records.

mod city;
mod cpu;
mod flow;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};
use simin_client::Client;
use simin_gateway::{pairwise_subject, Gateway, GatewayConfig, SystemClock, Timeouts};
use simin_node::devnet_identity::{org_key_paths, DEVNET_IDENTITY_PROVIDER};
use simin_types::{state_keys, OrgId};
use tokio::runtime::Runtime;
use zeroize::Zeroizing;

use self::city::Citizen;
use self::flow::{StepTimes, PRESENT, STEPS};

/// The provider's pairwise-subject secret (a benchmark value).
const PAIRWISE_SECRET: [u8; 32] = [7; 32];
/// How long the benchmark waits for the access log to reach the chain after the window.
const LOG_WAIT_MAX: Duration = Duration::from_secs(120);

/// What to run.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Distinct citizen cards; logins use them in turn.
    pub cards: usize,
    /// Concurrent clients (closed loops).
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Worker threads of each runtime (node, provider, clients).
    pub workers: usize,
    /// Where to lay out the devnet (an empty directory); a temporary one by default.
    pub dir: Option<PathBuf>,
}

/// What one client task saw.
#[derive(Default)]
struct TaskResult {
    /// Logins that ended inside the window: total latency and steps.
    timed: Vec<(Duration, StepTimes)>,
    completed: usize,
    errors: usize,
    first_error: Option<String>,
}

fn runtime(name: &'static str, workers: usize) -> anyhow::Result<Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        // Threads that end take their CPU time out of /proc: keep them for the run.
        .thread_keep_alive(Duration::from_secs(3600))
        .enable_all()
        .build()?)
}

/// Runs the benchmark; the JSON lines to print.
pub fn run(settings: &Settings) -> anyhow::Result<Vec<Value>> {
    anyhow::ensure!(
        settings.concurrency >= 1 && settings.workers >= 1 && !settings.duration.is_zero(),
        "concurrency, workers and the duration must be positive"
    );
    let temp = tempfile::tempdir()?;
    let dir = settings
        .dir
        .clone()
        .unwrap_or_else(|| temp.path().to_owned());
    anyhow::ensure!(
        !dir.join("genesis.json").exists(),
        "{} holds a devnet already; give an empty directory",
        dir.display()
    );
    let node_rt = runtime("node", settings.workers)?;
    let gateway_rt = runtime("gateway", settings.workers)?;
    let client_rt = runtime("client", settings.workers)?;
    let keys = dir.join("keys");

    let (layout, api) = city::lay_out(&dir)?;
    let node = node_rt.block_on(simin_node::start(&layout.homes[0]))?;
    let node_url = format!("http://{api}");
    let node_client = Client::new(&node_url)?;
    client_rt.block_on(city::prepare_chain(&node_client, &keys))?;
    // Cards are issued at or after the genesis, when the registry's key was listed.
    let iat = city::genesis_ms(&layout)?.div_ceil(1000);
    while now_secs() < iat {
        std::thread::sleep(Duration::from_millis(100));
    }
    let citizens = Arc::new(city::issue_cards(&keys, settings.cards, iat)?);

    let (org_path, assert_path) = org_key_paths(&keys, DEVNET_IDENTITY_PROVIDER);
    let org_key = city::load_key(&org_path)?;
    let provider_account = org_key.public_key();
    let listener = gateway_rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let gateway_url = format!("http://{}", listener.local_addr()?);
    let config = GatewayConfig {
        public_url: gateway_url.clone(),
        node_url: node_url.clone(),
        organization: OrgId::new(DEVNET_IDENTITY_PROVIDER)?,
        org_key,
        signing_key: city::dalek(&city::load_key(&assert_path)?)?,
        signing_fragment: "key-1".into(),
        pairwise_secret: Zeroizing::new(PAIRWISE_SECRET),
        access_log_path: dir.join("gateway").join("access-log.redb"),
        timeouts: Timeouts::default(),
    };
    let (gateway, writer) = Gateway::new(config, Arc::new(SystemClock))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = gateway_rt.spawn(simin_gateway::serve(
        listener,
        Arc::new(gateway),
        writer,
        async move {
            let _ = stopped.await;
        },
    ));

    let load = client_rt.block_on(drive(
        settings,
        &gateway_url,
        &citizens,
        &node_client,
        &provider_account,
    ))?;
    let log = client_rt.block_on(await_access_log(
        &node_client,
        &citizens,
        load.completed,
        &provider_account,
    ))?;

    let _ = stop.send(());
    let _ =
        gateway_rt.block_on(async { tokio::time::timeout(Duration::from_secs(30), served).await });
    node_rt.block_on(node.shutdown());
    for rt in [client_rt, gateway_rt, node_rt] {
        rt.shutdown_timeout(Duration::from_secs(5));
    }
    Ok(report(settings, &load, &log))
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The load phase, measured.
struct Load {
    window: Duration,
    timed: Vec<(Duration, StepTimes)>,
    completed: usize,
    errors: usize,
    first_error: Option<String>,
    cpu: cpu::Sample,
    /// Access-log transactions the provider committed during the window.
    log_txs_in_window: u64,
}

async fn drive(
    settings: &Settings,
    gateway: &str,
    citizens: &Arc<Vec<Citizen>>,
    node: &Client,
    provider: &simin_types::PublicKey,
) -> anyhow::Result<Load> {
    let next = Arc::new(AtomicUsize::new(0));
    let window_start = Instant::now() + settings.warmup;
    let window_end = window_start + settings.duration;
    let mut tasks = Vec::with_capacity(settings.concurrency);
    for _ in 0..settings.concurrency {
        let (next, citizens, gateway) = (next.clone(), citizens.clone(), gateway.to_owned());
        let http = flow::http_client()?;
        tasks.push(tokio::spawn(async move {
            let mut result = TaskResult::default();
            while Instant::now() < window_end {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                let start = Instant::now();
                match flow::login(&http, &gateway, &citizens[seq % citizens.len()], seq).await {
                    Ok(steps) => {
                        result.completed += 1;
                        let end = Instant::now();
                        if end >= window_start && end <= window_end {
                            result.timed.push((end - start, steps));
                        }
                    }
                    Err(e) => {
                        result.errors += 1;
                        result.first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            result
        }));
    }
    tokio::time::sleep_until(window_start.into()).await;
    let (cpu_before, at_start) = (cpu::sample(), Instant::now());
    let nonce_before = node.account_next_nonce(provider).await?;
    tokio::time::sleep_until(window_end.into()).await;
    let (cpu_after, at_end) = (cpu::sample(), Instant::now());
    let nonce_after = node.account_next_nonce(provider).await?;
    let mut load = Load {
        window: at_end - at_start,
        timed: Vec::new(),
        completed: 0,
        errors: 0,
        first_error: None,
        cpu: cpu::between(&cpu_before, &cpu_after),
        log_txs_in_window: nonce_after - nonce_before,
    };
    for task in tasks {
        let result = task.await.context("a client task panicked")?;
        load.timed.extend(result.timed);
        load.completed += result.completed;
        load.errors += result.errors;
        if load.first_error.is_none() {
            load.first_error = result.first_error;
        }
    }
    Ok(load)
}

/// The access log on chain after the run.
struct LogCheck {
    records: u64,
    transactions: u64,
    /// From the end of the load until every entry was on chain (or the wait ran out).
    wait: Duration,
}

/// Waits until the chain holds one access record per completed login (every card's
/// pairwise subject at the service's organisation), at most [`LOG_WAIT_MAX`].
async fn await_access_log(
    node: &Client,
    citizens: &[Citizen],
    logins: usize,
    provider: &simin_types::PublicKey,
) -> anyhow::Result<LogCheck> {
    let sector = OrgId::new(city::SERVICE_ORG)?;
    let keys: Vec<Vec<u8>> = citizens
        .iter()
        .map(|c| {
            state_keys::access_count(&pairwise_subject(&PAIRWISE_SECRET, &sector, &c.card_number))
        })
        .collect();
    let start = Instant::now();
    loop {
        let mut records = 0u64;
        for key in &keys {
            if let Some(bytes) = node.state(key, false).await?.value {
                records += simin_types::decode::<u64>("an access count", &bytes, 8)?;
            }
        }
        let done = records >= u64::try_from(logins)?;
        if done || start.elapsed() > LOG_WAIT_MAX {
            return Ok(LogCheck {
                records,
                transactions: node.account_next_nonce(provider).await?,
                wait: start.elapsed(),
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e5).round() / 100.0
}

/// The nearest-rank percentile, `per_mille` thousandths (990: p99).
fn percentile(sorted: &[Duration], per_mille: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (per_mille * sorted.len()).div_ceil(1000);
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn mean(values: impl Iterator<Item = Duration>, count: usize) -> Duration {
    values.sum::<Duration>() / u32::try_from(count.max(1)).unwrap_or(u32::MAX)
}

fn report(settings: &Settings, load: &Load, log: &LogCheck) -> Vec<Value> {
    let logins = load.timed.len();
    let seconds = load.window.as_secs_f64();
    let rate = logins as f64 / seconds;
    let mut totals: Vec<Duration> = load.timed.iter().map(|(t, _)| *t).collect();
    totals.sort_unstable();
    let total_mean = mean(totals.iter().copied(), logins);
    let mut lines = vec![
        json!({
            "bench": "login",
            "logins_per_sec": rate.round(),
            "logins": logins,
            "window_s": (seconds * 100.0).round() / 100.0,
            "concurrency": settings.concurrency,
            "cards": settings.cards,
            "workers_per_runtime": settings.workers,
            "errors": load.errors,
            "first_error": load.first_error,
        }),
        json!({
            "bench": "login_latency",
            "mean_ms": ms(total_mean),
            "p50_ms": ms(percentile(&totals, 500)),
            "p90_ms": ms(percentile(&totals, 900)),
            "p99_ms": ms(percentile(&totals, 990)),
            "max_ms": ms(totals.last().copied().unwrap_or_default()),
        }),
    ];
    for (i, step) in STEPS.iter().enumerate() {
        let mut times: Vec<Duration> = load.timed.iter().map(|(_, s)| s[i]).collect();
        times.sort_unstable();
        let step_mean = mean(times.iter().copied(), logins);
        lines.push(json!({
            "bench": "login_step",
            "step": step,
            "side": if i == PRESENT { "client" } else { "server" },
            "mean_ms": ms(step_mean),
            "p50_ms": ms(percentile(&times, 500)),
            "p99_ms": ms(percentile(&times, 990)),
            "share": (step_mean.as_secs_f64() / total_mean.as_secs_f64().max(1e-9) * 1000.0).round() / 1000.0,
        }));
    }
    let cpu = &load.cpu;
    let process: f64 = cpu.by_component.values().sum();
    let per_login_us = |s: f64| (s / logins.max(1) as f64 * 1e6).round();
    let mut by = serde_json::Map::new();
    for (component, s) in &cpu.by_component {
        by.insert(
            component.clone(),
            json!({
                "cpu_s": (s * 100.0).round() / 100.0,
                "cores": (s / seconds * 100.0).round() / 100.0,
                "us_per_login": per_login_us(*s),
            }),
        );
    }
    let server = cpu.by_component.get("node").copied().unwrap_or(0.0)
        + cpu.by_component.get("gateway").copied().unwrap_or(0.0);
    lines.push(json!({
        "bench": "login_cpu",
        "components": by,
        "process_cores": (process / seconds * 100.0).round() / 100.0,
        "machine_cores_busy": (cpu.machine_busy / seconds * 100.0).round() / 100.0,
        "machine_cores": (cpu.machine_total / seconds).round(),
        "outside_process_cores": ((cpu.machine_busy - process) / seconds * 100.0).round() / 100.0,
        "server_us_per_login": per_login_us(server),
        // If node and provider had every core of the machine and the clients ran elsewhere.
        "server_only_logins_per_sec_estimate": (cpu.machine_total / seconds / (server / logins.max(1) as f64)).round(),
    }));
    lines.push(json!({
        "bench": "login_access_log",
        "logins_completed": load.completed,
        "records_on_chain": log.records,
        "all_logged": u64::try_from(load.completed).is_ok_and(|c| log.records >= c),
        "record_access_txs": log.transactions,
        "record_access_txs_in_window": load.log_txs_in_window,
        "wait_after_load_ms": ms(log.wait),
    }));
    lines
}

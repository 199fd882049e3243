//! Chaos runs: a network of real `simin` processes under notary load while validators are
//! killed (kill -9 or SIGTERM) and restarted, and the whole network is restarted now and
//! then; at the end, the chain is audited for lost acknowledged transactions, forks and
//! recorded equivocations (issue 17). `scripts/chaos` runs it through the `simin-chaos`
//! binary; the `whole_network_restarts` test runs it with a restart-heavy config.

mod audit;
mod faults;
mod load;
mod nodes;
mod report;

use std::path::PathBuf;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;
use simin_client::{Client, ClientConfig};
use simin_types::Height;
use tracing::{info, warn};

pub use audit::RecordedEquivocation;
pub use load::ChaosLoadReport;
pub use nodes::Stop;
pub use report::{ChaosReport, Violation};

use crate::{TestkitError, Testnet};

/// Expiry of load transactions, far beyond any run's last height.
const EXPIRY: Height = Height(100_000_000);
/// Longest wait for the first blocks and for the final catch-up.
const SETTLE_WAIT: Duration = Duration::from_secs(90);
/// Blocks committed after the load stops, so that evidence of the last heights (reported
/// as transactions once a height is decided) is in the audited chain.
const TAIL_BLOCKS: u64 = 4;

/// What a chaos run does.
#[derive(Clone, Debug)]
pub struct ChaosConfig {
    /// Seeds every random choice of the schedule and the load.
    pub seed: u64,
    /// How long faults are injected (set-up and the final audit come on top).
    pub duration: Duration,
    pub validators: usize,
    pub full_nodes: usize,
    /// Whole-network restarts, spread evenly over `duration`.
    pub whole_restarts: usize,
    /// Whether single validators are stopped and restarted between them.
    pub kills: bool,
    /// Share (0–100) of single-validator stops done with SIGTERM instead of kill -9.
    pub sigterm_percent: u32,
    /// Load workers, each with one transaction in flight.
    pub workers: usize,
    /// Longest wait for every validator to move two heights past a fault.
    pub progress_timeout: Duration,
    /// Where the nodes' logs go (and, after a violation, a copy of the nodes' homes).
    /// `None`: the network's temp dir, deleted after the run.
    pub out: Option<PathBuf>,
}

impl ChaosConfig {
    /// The CI run (~60 s): 4 validators and a full node, kills and two whole restarts.
    pub fn short(seed: u64) -> ChaosConfig {
        ChaosConfig {
            seed,
            duration: Duration::from_secs(40),
            validators: 4,
            full_nodes: 1,
            whole_restarts: 2,
            kills: true,
            sigterm_percent: 30,
            workers: 4,
            progress_timeout: Duration::from_secs(60),
            out: None,
        }
    }
}

/// Runs a chaos run as `config` says. `Err` means the harness could not run (no binary,
/// no ports, a process that cannot be started); what the run found is in the report.
pub async fn run(config: &ChaosConfig) -> Result<ChaosReport, TestkitError> {
    let started = tokio::time::Instant::now();
    info!(seed = config.seed, ?config, "chaos run");
    let net = Testnet::init(config.validators, config.full_nodes)?;
    let out = config.out.clone().unwrap_or_else(|| net.dir().to_owned());
    let mut nodes = nodes::Nodes::new(&net, &out.join("logs"))?;
    let clients = clients(&net)?;
    let validators = net.validators();
    let all: Vec<usize> = (0..net.len()).collect();
    nodes.start_all()?;
    faults::wait_all(&clients, &all, Height(2), SETTLE_WAIT)
        .await
        .map_err(|(i, last)| TestkitError::Timeout {
            what: format!("{} to reach height 2 (last {last:?})", net.name(i)),
            secs: SETTLE_WAIT.as_secs(),
        })?;

    let key = net.notary_key()?;
    let first_nonce = clients[0].account_next_nonce(&key.public_key()).await?;
    let load = load::ChaosLoad::start(load::LoadSpec {
        clients: clients.clone(),
        key,
        chain_id: net.chain_id()?,
        first_nonce,
        expiry: EXPIRY,
        workers: config.workers,
        seed: config.seed.wrapping_add(1),
    });
    let mut rng = StdRng::seed_from_u64(config.seed);
    let faults = faults::run(config, &mut nodes, &clients, &validators, &mut rng).await?;
    info!(acked = load.acked_count(), "faults done; stopping the load");
    let load = load.stop(Duration::from_secs(30)).await;

    // Everyone back up, a few more blocks, and every node at the same tip.
    nodes.start_all()?;
    let mut violations = faults.violations;
    let tip = Height(faults::max_height(&clients, &all).await.0 + TAIL_BLOCKS);
    if let Err((i, last)) = faults::wait_all(&clients, &all, tip, SETTLE_WAIT).await {
        violations.push(Violation::NotCaughtUp {
            node: net.name(i),
            tip,
            last,
        });
    }
    let names: Vec<(String, Client)> = all
        .iter()
        .map(|i| (net.name(*i), clients[*i].clone()))
        .collect();
    // Audit what every node has: up to the lowest tip when one did not catch up.
    let audited = if violations
        .iter()
        .any(|v| matches!(v, Violation::NotCaughtUp { .. }))
    {
        lowest_height(&clients).await
    } else {
        tip
    };
    let found = audit::audit(&names, audited, &load.acked).await?;
    violations.extend(found.violations);
    let validator_names = report::validator_names(&net);
    for e in &found.equivocations {
        violations.push(Violation::Equivocation {
            validator: validator_names
                .get(&e.validator)
                .cloned()
                .unwrap_or_else(|| e.validator.to_string()),
            height: e.height,
            round: e.round,
            kind: e.kind,
            recorded_at: e.recorded_at,
        });
    }
    let evidence_lines = report::evidence_lines(nodes.logs());
    if let Some(first) = evidence_lines.first() {
        violations.push(Violation::EvidenceLogged {
            count: evidence_lines.len(),
            first: first.clone(),
        });
    }
    let failed_acked = load.acked.iter().filter(|a| !a.success).count();
    drop(nodes);
    let report = ChaosReport {
        seed: config.seed,
        elapsed: started.elapsed(),
        kills: faults.kills,
        terms: faults.terms,
        whole_restarts: faults.whole_restarts,
        acked: load.acked.len(),
        failed_acked,
        unconfirmed: load.unconfirmed,
        failed_attempts: load.failed_attempts,
        load_errors: load.errors,
        tip: audited,
        lost: found.lost,
        equivocations: found.equivocations,
        evidence_lines,
        violations,
        out: config.out.clone(),
    };
    if !report.passed() {
        if let Some(out) = &config.out {
            report::keep_homes(net.dir(), out);
        }
        warn!(
            violations = report.violations.len(),
            "chaos run found violations"
        );
    }
    Ok(report)
}

/// Clients with short timeouts: a dead node must cost a worker little.
fn clients(net: &Testnet) -> Result<Vec<Client>, TestkitError> {
    let config = ClientConfig {
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(5),
        commit_wait: Duration::from_secs(10),
    };
    let nodes = net.info().nodes.iter();
    Ok(nodes
        .map(|n| Client::with_config(&n.api, config.clone()))
        .collect::<Result<Vec<_>, _>>()?)
}

async fn lowest_height(clients: &[Client]) -> Height {
    let mut low = Height(u64::MAX);
    for client in clients {
        let h = client.status().await.map_or(Height(0), |s| s.latest_height);
        low = low.min(h);
    }
    low
}

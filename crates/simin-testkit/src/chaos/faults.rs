//! The fault schedule of a chaos run: single validators stopped (kill -9 or SIGTERM,
//! never two at once) and restarted after random delays, and whole-network restarts
//! spread over the run. Every choice comes from one seeded generator, drawn in a fixed
//! order, so a seed replays the same schedule (the chain's timing still varies).

use std::time::Duration;

use rand::rngs::StdRng;
use rand::Rng;
use simin_client::Client;
use simin_types::Height;
use tokio::time::Instant;
use tracing::{info, warn};

use super::nodes::{Nodes, Stop};
use super::{ChaosConfig, Violation};
use crate::TestkitError;

/// Poll interval of progress waits.
const POLL: Duration = Duration::from_millis(200);
/// Longest whole-network pause, from the last stop to the first start.
const NETWORK_DOWN_MAX_MS: u64 = 5_000;

/// What the faults did.
#[derive(Debug, Default)]
pub(crate) struct FaultLog {
    pub(crate) kills: u32,
    pub(crate) terms: u32,
    pub(crate) whole_restarts: u32,
    pub(crate) violations: Vec<Violation>,
}

/// The highest latest height any node in `nodes` answers with (0 if none answers).
pub(crate) async fn max_height(clients: &[Client], nodes: &[usize]) -> Height {
    let mut max = Height(0);
    for &i in nodes {
        if let Ok(status) = clients[i].status().await {
            max = max.max(status.latest_height);
        }
    }
    max
}

/// Waits until every node in `nodes` has committed `height`; the first one that has
/// not by `timeout` is returned with its last answer.
pub(crate) async fn wait_all(
    clients: &[Client],
    nodes: &[usize],
    height: Height,
    timeout: Duration,
) -> Result<(), (usize, Option<Height>)> {
    let deadline = Instant::now() + timeout;
    for &i in nodes {
        let mut last = None;
        loop {
            if let Ok(status) = clients[i].status().await {
                last = Some(status.latest_height);
                if status.latest_height >= height {
                    break;
                }
            }
            if Instant::now() >= deadline {
                return Err((i, last));
            }
            tokio::time::sleep(POLL).await;
        }
    }
    Ok(())
}

/// Runs the fault schedule for `config.duration`; stops early when the chain stalls.
pub(crate) async fn run(
    config: &ChaosConfig,
    nodes: &mut Nodes,
    clients: &[Client],
    validators: &[usize],
    rng: &mut StdRng,
) -> Result<FaultLog, TestkitError> {
    let mut log = FaultLog::default();
    let start = Instant::now();
    let restarts = u32::try_from(config.whole_restarts).unwrap_or(u32::MAX);
    // Restart k (1-based) is due at k/(n+1) of the run; SIGTERM and kill -9 alternate
    // from a random first one, so both happen whenever there are two restarts or more.
    let due = |k: u32| config.duration / restarts.saturating_add(1) * k;
    let term_first = rng.gen_bool(0.5);
    while start.elapsed() < config.duration {
        for (i, e) in nodes.reap_exited() {
            warn!(node = %nodes.name(i), %e, "a node exited on its own");
            log.violations.push(Violation::Crashed {
                node: nodes.name(i).to_owned(),
                detail: e.to_string(),
            });
            nodes.start(i)?;
        }
        let event =
            if log.whole_restarts < restarts && start.elapsed() >= due(log.whole_restarts + 1) {
                let how = if (log.whole_restarts % 2 == 0) == term_first {
                    Stop::Term
                } else {
                    Stop::Kill
                };
                let down = Duration::from_millis(rng.gen_range(0..=NETWORK_DOWN_MAX_MS));
                let before = max_height(clients, &(0..nodes.len()).collect::<Vec<_>>()).await;
                info!(%how, down_ms = down.as_millis(), height = %before, "whole-network restart");
                tokio::task::block_in_place(|| nodes.stop_all(how))?;
                tokio::time::sleep(down).await;
                nodes.start_all()?;
                log.whole_restarts += 1;
                Some((
                    format!("whole-network {how}, down {} ms", down.as_millis()),
                    before,
                ))
            } else if config.kills {
                single(config, nodes, clients, validators, rng, &mut log).await?
            } else {
                tokio::time::sleep(POLL).await;
                None
            };
        if let Some((what, before)) = event {
            let target = Height(before.0.saturating_add(2));
            if let Err((i, last)) =
                wait_all(clients, validators, target, config.progress_timeout).await
            {
                warn!(%what, node = %nodes.name(i), ?last, %target, "no progress");
                log.violations.push(Violation::Stalled {
                    after: what,
                    node: nodes.name(i).to_owned(),
                    target,
                    last,
                });
                break;
            }
        }
    }
    Ok(log)
}

/// One validator down and up again; returns what happened and the height before it.
async fn single(
    config: &ChaosConfig,
    nodes: &mut Nodes,
    clients: &[Client],
    validators: &[usize],
    rng: &mut StdRng,
    log: &mut FaultLog,
) -> Result<Option<(String, Height)>, TestkitError> {
    let pause = Duration::from_millis(rng.gen_range(1_000..=4_000));
    let victim = validators[rng.gen_range(0..validators.len())];
    let how = if rng.gen_range(0..100) < config.sigterm_percent {
        Stop::Term
    } else {
        Stop::Kill
    };
    let down = Duration::from_millis(rng.gen_range(500..=5_000));
    tokio::time::sleep(pause).await;
    let before = max_height(clients, validators).await;
    info!(node = %nodes.name(victim), %how, down_ms = down.as_millis(), height = %before, "validator fault");
    tokio::task::block_in_place(|| nodes.stop(victim, how))?;
    match how {
        Stop::Kill => log.kills += 1,
        Stop::Term => log.terms += 1,
    }
    tokio::time::sleep(down).await;
    nodes.start(victim)?;
    let what = format!(
        "{how} of {}, down {} ms",
        nodes.name(victim),
        down.as_millis()
    );
    Ok(Some((what, before)))
}

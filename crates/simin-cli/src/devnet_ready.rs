//! `simin devnet` waits until every service it runs is ready before it prints its
//! summary: a service that starts by writing to the chain (the issuer's status lists,
//! the demo library's registration, the demo dataset) is not usable until that write is
//! committed, and a summary printed earlier would invite requests that fail.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::output;

/// Longest wait for every service to be ready.
const READY_WAIT: Duration = Duration::from_secs(180);
/// How often the services are asked.
const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// How often the user is told what is still awaited.
const NOTICE_INTERVAL: Duration = Duration::from_secs(10);
/// Time limit of one `/health` request.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest pause between two attempts of a start-up write.
const RETRY_MAX: Duration = Duration::from_secs(5);

/// A service the devnet waits for: by its `/health`, or by a start-up task.
pub(crate) enum Wait {
    /// `GET <url>/health` answers 200 `{ready: true}`.
    Health { name: &'static str, url: String },
    /// The task ends with `Ok`.
    Task {
        name: &'static str,
        task: JoinHandle<anyhow::Result<()>>,
    },
}

/// Runs `attempt` until it succeeds, pausing longer after each failure, for at most
/// `READY_WAIT`: start-up writes to a fresh chain fail until its first blocks.
pub(crate) fn retrying<F, Fut>(what: &'static str, mut attempt: F) -> JoinHandle<anyhow::Result<()>>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    tokio::spawn(async move {
        let deadline = Instant::now() + READY_WAIT;
        let mut delay = Duration::from_millis(100);
        loop {
            match attempt().await {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() + delay < deadline => {
                    tracing::info!(err = %format!("{e:#}"), what, "not done yet; retrying");
                }
                Err(e) => return Err(e).with_context(|| format!("{what} failed")),
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(RETRY_MAX);
        }
    })
}

/// What `url`'s `/health` says it waits for; empty once ready.
async fn health(http: &reqwest::Client, url: &str) -> Vec<String> {
    let response = match http.get(format!("{url}/health")).send().await {
        Ok(response) => response,
        Err(e) => return vec![format!("an answer ({e})")],
    };
    let ok = response.status().is_success();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if ok && body["ready"] == true {
        return Vec::new();
    }
    let waits: Vec<String> = body["waiting_for"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if waits.is_empty() {
        vec!["readiness".to_owned()]
    } else {
        waits
    }
}

/// Waits until every one of `waits` is ready, telling the user what is still awaited
/// now and then; fails after `READY_WAIT` or when a start-up task fails.
pub(crate) async fn wait_until_ready(waits: Vec<Wait>) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .timeout(HEALTH_TIMEOUT)
        .build()
        .context("cannot build the HTTP client")?;
    let deadline = Instant::now() + READY_WAIT;
    let mut next_notice = Instant::now() + NOTICE_INTERVAL;
    let mut pending = waits;
    loop {
        let mut still = Vec::new();
        let mut awaited = Vec::new();
        for wait in pending {
            match wait {
                Wait::Health { name, url } => {
                    let waits = health(&http, &url).await;
                    if !waits.is_empty() {
                        awaited.push(format!("{name}: {}", waits.join("; ")));
                        still.push(Wait::Health { name, url });
                    }
                }
                Wait::Task { name, task } if task.is_finished() => {
                    task.await
                        .with_context(|| format!("the start-up task of {name} panicked"))?
                        .with_context(|| format!("{name} is not ready"))?;
                }
                Wait::Task { name, task } => {
                    awaited.push(name.to_owned());
                    still.push(Wait::Task { name, task });
                }
            }
        }
        if still.is_empty() {
            return Ok(());
        }
        let now = Instant::now();
        if now > deadline {
            bail!(
                "not ready after {} s, still waiting for: {}",
                READY_WAIT.as_secs(),
                awaited.join(", ")
            );
        }
        if now > next_notice {
            output::notice(&format!("waiting for: {}", awaited.join(", ")));
            next_notice = now + NOTICE_INTERVAL;
        }
        pending = still;
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

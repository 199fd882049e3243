//! What `simin bench` reports: rates, latency percentiles and block fill, as text or
//! as JSON for the BENCHMARKS.md tooling.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use serde::Serialize;
use simin_types::{ChainId, Height};

use crate::bench::{Followed, Run};
use crate::cli::BenchArgs;
use crate::output;

#[derive(Debug, Serialize)]
struct Latency {
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    chain_id: ChainId,
    node: String,
    txs: u64,
    concurrency: u64,
    accepted: u64,
    rejected: u64,
    rejections: BTreeMap<String, u64>,
    committed: u64,
    uncommitted: u64,
    duration_s: f64,
    committed_tps: f64,
    submit_rate_tps: f64,
    latency: Latency,
    start_height: Height,
    end_height: Height,
    blocks: u64,
    empty_blocks: u64,
    empty_block_rate: f64,
    mean_txs_per_block: f64,
}

/// The nearest-rank percentile `pct` of sorted values.
fn percentile(sorted: &[u64], pct: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() * pct).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

// Rates and milliseconds are for people and plots: f64 precision is ample, so the
// integer-to-float casts below are intended.
#[allow(clippy::cast_precision_loss)]
pub fn report(
    node: &str,
    args: &BenchArgs,
    chain_id: ChainId,
    run: &Run,
    seen: Followed,
) -> Report {
    let mut latencies = seen.latencies_ns;
    latencies.sort_unstable();
    let ms = |ns: u64| ns as f64 / 1e6;
    let per_s = |count: u64, ns: u64| {
        if ns == 0 {
            0.0
        } else {
            count as f64 * 1e9 / ns as f64
        }
    };
    let committed = u64::try_from(latencies.len()).unwrap_or(u64::MAX);
    let accepted = run.accepted.load(Ordering::Relaxed);
    let ratio = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            part as f64 / whole as f64
        }
    };
    Report {
        chain_id,
        node: node.to_owned(),
        txs: args.txs,
        concurrency: args.concurrency,
        accepted,
        rejected: run.rejected.load(Ordering::Relaxed),
        rejections: run
            .rejections
            .lock()
            .expect("no thread panics holding this lock")
            .clone(),
        committed,
        uncommitted: accepted.saturating_sub(committed),
        duration_s: seen.last_commit_ns as f64 / 1e9,
        committed_tps: per_s(committed, seen.last_commit_ns),
        submit_rate_tps: per_s(accepted, run.last_submit_ns.load(Ordering::Relaxed)),
        latency: Latency {
            p50_ms: ms(percentile(&latencies, 50)),
            p99_ms: ms(percentile(&latencies, 99)),
            max_ms: ms(latencies.last().copied().unwrap_or(0)),
        },
        start_height: Height(seen.end_height.0.saturating_sub(seen.blocks)),
        end_height: seen.end_height,
        blocks: seen.blocks,
        empty_blocks: seen.empty_blocks,
        empty_block_rate: ratio(seen.empty_blocks, seen.blocks),
        mean_txs_per_block: ratio(seen.txs_in_blocks, seen.blocks),
    }
}

pub fn print(report: &Report, json: bool) {
    if json {
        return output::json(report);
    }
    output::line(&format!(
        "bench: {} txs, concurrency {}, node {}",
        report.txs, report.concurrency, report.node
    ));
    output::line(&format!(
        "  committed       {} of {} accepted ({} rejected, {} uncommitted) in {:.2}s",
        report.committed, report.accepted, report.rejected, report.uncommitted, report.duration_s
    ));
    output::line(&format!(
        "  committed rate  {:.1} tx/s",
        report.committed_tps
    ));
    output::line(&format!(
        "  submit rate     {:.1} tx/s",
        report.submit_rate_tps
    ));
    output::line(&format!(
        "  latency         p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (submit to commit seen)",
        report.latency.p50_ms, report.latency.p99_ms, report.latency.max_ms
    ));
    output::line(&format!(
        "  blocks          {} (heights {}..={}), {:.1}% empty, {:.1} txs/block",
        report.blocks,
        report.start_height.0.saturating_add(1),
        report.end_height,
        report.empty_block_rate * 100.0,
        report.mean_txs_per_block
    ));
    for (reason, count) in &report.rejections {
        output::line(&format!("  rejected        {count} x {reason}"));
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50), 50);
        assert_eq!(percentile(&values, 99), 99);
        assert_eq!(percentile(&[7], 99), 7);
        assert_eq!(percentile(&[], 50), 0);
    }
}

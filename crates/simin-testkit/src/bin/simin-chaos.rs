//! `simin-chaos`: runs a chaos run (see `simin_testkit::chaos`) and prints its summary;
//! exits 1 when it found a violation, 2 when it could not run. `scripts/chaos` wraps it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;
use simin_testkit::chaos::{self, ChaosConfig};

/// Kill, SIGTERM and restart the validators of a local network under load, restart the
/// whole network now and then, and check that no acknowledged transaction is lost, that
/// every node has the same chain, and that no honest validator's equivocation is recorded.
#[derive(Debug, Parser)]
#[command(name = "simin-chaos")]
struct Args {
    /// The CI run: 40 s of faults and two whole-network restarts (~60 s in all); other
    /// flags change it. Without it the run lasts 10 minutes with 10 restarts.
    #[arg(long)]
    short: bool,
    /// How long faults are injected, e.g. `90s`, `20m`, `1h`.
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Whole-network restarts, spread evenly over the duration.
    #[arg(long)]
    restarts: Option<usize>,
    /// Seed of every random choice (default: random, printed).
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long, default_value_t = 4)]
    validators: usize,
    #[arg(long, default_value_t = 1)]
    full_nodes: usize,
    /// Load workers, each with one transaction in flight.
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// Only whole-network restarts, no single-validator kills.
    #[arg(long)]
    no_kills: bool,
    /// Share (0-100) of single-validator stops done with SIGTERM instead of kill -9.
    #[arg(long, default_value_t = 30)]
    sigterm_percent: u32,
    /// Longest wait for the validators to move two heights past a fault, e.g. `60s`.
    #[arg(long, value_parser = parse_duration)]
    progress_timeout: Option<Duration>,
    /// Directory for the nodes' logs (and, after a violation, their homes).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The run without `--short` and without `--duration`/`--restarts`.
const LONG_DURATION: Duration = Duration::from_secs(10 * 60);
const LONG_RESTARTS: usize = 10;

fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .with_context(|| format!("bad duration {text:?}"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n.checked_mul(60).context("duration too long")?,
        "h" => n.checked_mul(3600).context("duration too long")?,
        _ => bail!("bad duration {text:?}: use a number with s, m or h"),
    };
    Ok(Duration::from_secs(secs))
}

fn config(args: &Args) -> anyhow::Result<ChaosConfig> {
    if args.sigterm_percent > 100 {
        bail!("--sigterm-percent is at most 100");
    }
    let seed = args.seed.unwrap_or_else(rand::random);
    let mut config = ChaosConfig::short(seed);
    if !args.short {
        config.duration = LONG_DURATION;
        config.whole_restarts = LONG_RESTARTS;
    }
    if let Some(d) = args.duration {
        config.duration = d;
    }
    if let Some(r) = args.restarts {
        config.whole_restarts = r;
    }
    if let Some(t) = args.progress_timeout {
        config.progress_timeout = t;
    }
    config.validators = args.validators;
    config.full_nodes = args.full_nodes;
    config.workers = args.workers.max(1);
    config.kills = !args.no_kills;
    config.sigterm_percent = args.sigterm_percent;
    config.out = args.out.clone();
    Ok(config)
}

#[allow(clippy::print_stdout, reason = "the summary is the binary's output")]
fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SIMIN_CHAOS_LOG")
                .unwrap_or_else(|_| "simin_testkit=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = match config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("simin-chaos: {e:#}");
            return ExitCode::from(2);
        }
    };
    println!(
        "simin-chaos: seed {} (replay with --seed {})",
        config.seed, config.seed
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let report = match runtime.map(|rt| rt.block_on(chaos::run(&config))) {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => {
            eprintln!("simin-chaos: the run could not complete: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("simin-chaos: cannot start a runtime: {e}");
            return ExitCode::from(2);
        }
    };
    println!("{report}");
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_seconds_minutes_and_hours() {
        let secs = |t: &str| parse_duration(t).map(|d| d.as_secs()).ok();
        assert_eq!(secs("90"), Some(90));
        assert_eq!(secs("90s"), Some(90));
        assert_eq!(secs("20m"), Some(1200));
        assert_eq!(secs("1h"), Some(3600));
        assert_eq!(secs("5d"), None);
        assert_eq!(secs("m"), None);
        assert_eq!(secs("99999999999999999999h"), None);
    }
}

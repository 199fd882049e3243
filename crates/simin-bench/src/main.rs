//! `simin-bench`: the credential benchmark of issue 4, run by `scripts/bench-credentials`,
//! and the integrated login benchmark of issue 5, run by `scripts/bench-login`.
//!
//! `simin-bench fixtures --dir D` writes presentations and credentials that every
//! verifier in the comparison reads; `simin-bench measure --dir D` times simin's
//! verifiers and the cryptographic floors on them, on the calling thread, and prints one
//! JSON object per measurement on stdout; `--profile` adds the cost of each stage of the
//! full verifier. `simin-bench login` runs a devnet node, the OpenID Connect provider and
//! concurrent clients doing complete logins in this process, and prints the rate, the
//! latencies, the CPU each part spent and the access log's arrival on chain.

// The program's output is its measurements, printed on stdout.
#![allow(clippy::print_stdout)]

mod fixtures;
mod login;
mod measure;
mod profile;
mod world;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::json;

use crate::measure::Settings;

#[derive(Debug, Parser)]
#[command(about = "Credential verification (issue 4) and integrated login (issue 5) benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes the shared fixtures.
    Fixtures {
        /// Where to write them.
        #[arg(long)]
        dir: PathBuf,
        /// How many presentations (and credentials).
        #[arg(long, default_value_t = 1000)]
        count: usize,
        /// The verifier's time, Unix seconds; the clock's by default.
        #[arg(long)]
        now: Option<i64>,
    },
    /// Times simin's verifiers and the floors on the fixtures.
    Measure {
        /// The fixtures' directory.
        #[arg(long)]
        dir: PathBuf,
        /// Warm-up before each measurement, milliseconds.
        #[arg(long, default_value_t = 1000)]
        warmup_ms: u64,
        /// Length of one timed round, milliseconds.
        #[arg(long, default_value_t = 2000)]
        round_ms: u64,
        /// Timed rounds per measurement; the median is reported.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Also time each stage of the full verifier.
        #[arg(long)]
        profile: bool,
        /// Only the measurements whose key contains this text, e.g. to run one under
        /// `perf` (keys: sd_jwt/floor, sd_jwt/floor_batch, sd_jwt/full, sd_jwt/sd_jwt,
        /// di/floor, di/jcs).
        #[arg(long)]
        only: Option<String>,
    },
    /// Complete logins through the OpenID Connect provider, node and provider in process.
    Login {
        /// Distinct citizen cards, used in turn.
        #[arg(long, default_value_t = 1000)]
        cards: usize,
        /// Concurrent clients, each doing one login after the other.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Warm-up before the timed window, milliseconds.
        #[arg(long, default_value_t = 3000)]
        warmup_ms: u64,
        /// The timed window, milliseconds.
        #[arg(long, default_value_t = 20_000)]
        duration_ms: u64,
        /// Worker threads of each runtime (node, provider, clients).
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// An empty directory for the devnet; a temporary one by default.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Fixtures { dir, count, now } => {
            let now = match now {
                Some(now) => now,
                None => i64::try_from(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .context("the clock is before 1970")?
                        .as_secs(),
                )?,
            };
            fixtures::write(&dir, count, now)?;
            println!(
                "{}",
                json!({"fixtures": dir.display().to_string(), "count": count, "now": now})
            );
        }
        Command::Measure {
            dir,
            warmup_ms,
            round_ms,
            rounds,
            profile,
            only,
        } => {
            let settings = Settings {
                warmup: Duration::from_millis(warmup_ms),
                round: Duration::from_millis(round_ms),
                rounds,
            };
            measure_all(&dir, settings, profile, only.as_deref())?;
        }
        Command::Login {
            cards,
            concurrency,
            warmup_ms,
            duration_ms,
            workers,
            dir,
        } => {
            let settings = login::Settings {
                cards,
                concurrency,
                warmup: Duration::from_millis(warmup_ms),
                duration: Duration::from_millis(duration_ms),
                workers,
                dir,
            };
            for line in login::run(&settings)? {
                println!("{line}");
            }
        }
    }
    Ok(())
}

fn measure_all(
    dir: &std::path::Path,
    settings: Settings,
    profile: bool,
    only: Option<&str>,
) -> anyhow::Result<()> {
    let meta = fixtures::read_meta(dir)?;
    let presentations = fixtures::read_presentations(dir)?;
    let credentials = fixtures::read_credentials(dir)?;
    let world = world::World::new(meta.genesis_ms)?;
    let state = &world.state;
    type Run<'a> = Box<dyn Fn() -> anyhow::Result<measure::Rate> + 'a>;
    let runs: [(&str, Run); 6] = [
        (
            "sd_jwt/floor",
            Box::new(|| measure::sd_jwt_floor(settings, &presentations)),
        ),
        (
            "sd_jwt/floor_batch",
            Box::new(|| measure::sd_jwt_floor_batch(settings, &presentations)),
        ),
        (
            "sd_jwt/full",
            Box::new(|| measure::simin_full(settings, state, &presentations, meta.now)),
        ),
        (
            "sd_jwt/sd_jwt",
            Box::new(|| measure::simin_sd_jwt(settings, &presentations, meta.now)),
        ),
        (
            "di/floor",
            Box::new(|| measure::di_floor(settings, &credentials)),
        ),
        (
            "di/jcs",
            Box::new(|| measure::simin_di(settings, &credentials)),
        ),
    ];
    for (key, run) in &runs {
        if only.is_none_or(|only| key.contains(only)) {
            println!("{}", run()?.to_json());
        }
    }
    if profile {
        // One round per stage is enough for a breakdown.
        let stage_settings = Settings {
            rounds: 1,
            ..settings
        };
        let sd_jwt = profile::stages(stage_settings, &world.state, &presentations, meta.now)?;
        let di = profile::di_stages(stage_settings, &credentials)?;
        for (bench, stages) in [("profile", sd_jwt), ("profile_di", di)] {
            for stage in stages {
                let micros = (stage.micros * 100.0).round() / 100.0;
                let line = json!({"bench": bench, "stage": stage.name, "us_per_op": micros});
                println!("{line}");
            }
        }
    }
    Ok(())
}

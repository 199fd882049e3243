//! Issue 17: a whole network restarted under load, many times in a row, must never record
//! an equivocation of an honest validator, lose an acknowledged transaction or fork. The
//! run is the chaos run of `scripts/chaos` (`simin_testkit::chaos`), here with only
//! whole-network restarts (SIGTERM and kill -9 alternating, 0-5 s down).

use std::time::Duration;

use simin_testkit::chaos::{self, ChaosConfig};

/// Longest run of the test: the faults' 60 s, set-up and the audit.
const TEST_TIMEOUT: Duration = Duration::from_secs(170);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_whole_network_restarts_record_no_equivocation() {
    // A fixed seed by default, so CI replays one schedule; SIMIN_CHAOS_SEED picks another.
    let seed = std::env::var("SIMIN_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(17);
    let out = tempfile::Builder::new()
        .prefix("simin-chaos-test-")
        .tempdir()
        .expect("a temp dir");
    let config = ChaosConfig {
        duration: Duration::from_secs(60),
        validators: 4,
        full_nodes: 0,
        whole_restarts: 6,
        kills: false,
        out: Some(out.path().to_owned()),
        ..ChaosConfig::short(seed)
    };
    let report = tokio::time::timeout(TEST_TIMEOUT, chaos::run(&config))
        .await
        .expect("the chaos run finishes in time")
        .expect("the chaos run runs");
    eprintln!("{report}");
    if !report.passed() {
        let kept = out.keep();
        panic!("violations (seed {seed}); logs kept in {}", kept.display());
    }
    assert_eq!(report.whole_restarts, 6, "every restart happened");
    assert!(report.acked > 0, "the load committed transactions");
    assert!(report.equivocations.is_empty());
}

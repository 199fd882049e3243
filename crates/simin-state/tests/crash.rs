//! Crash consistency: a process committing blocks is SIGKILLed at arbitrary moments; on
//! reopening, the store is at a committed height whose roots all equal a recomputation.
//!
//! The child is this same test binary, re-run with `CRASH_CHILD_ENV` set so that
//! `crash_child_commits_until_killed` does the committing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{commit_next, replay_roots, writes_for};
use simin_state::Store;
use simin_types::Height;

const CRASH_CHILD_ENV: &str = "SIMIN_STATE_CRASH_CHILD_DB";
const WRITES_PER_BLOCK: usize = 300;
const TXS_PER_BLOCK: usize = 20;
/// The child stops by itself here, so a broken parent cannot leave it running forever.
const CHILD_HEIGHT_MAX: u64 = 5_000;

fn progress_path(db: &Path) -> PathBuf {
    db.with_extension("progress")
}

/// Child mode only: commits blocks and records each committed height in a side file.
#[test]
fn crash_child_commits_until_killed() {
    let Some(db) = std::env::var_os(CRASH_CHILD_ENV) else {
        return; // Not a child: nothing to do.
    };
    let db = PathBuf::from(db);
    let store = Store::open(&db).expect("child opens the store");
    if store.latest_height().expect("latest").is_none() {
        store
            .init_genesis(b"{}", writes_for(Height::GENESIS, WRITES_PER_BLOCK))
            .expect("genesis");
    }
    loop {
        let latest = store.latest_height().expect("latest").expect("initialised");
        if latest.0 >= CHILD_HEIGHT_MAX {
            return;
        }
        let next = latest.next().expect("small heights");
        commit_next(&store, &writes_for(next, WRITES_PER_BLOCK), TXS_PER_BLOCK);
        std::fs::write(progress_path(&db), next.0.to_string()).expect("progress file");
    }
}

/// Runs a child until it reports `until` committed heights, then SIGKILLs it.
fn run_child_and_kill(db: &Path, until: u64, extra_delay: Duration) -> u64 {
    let exe = std::env::current_exe().expect("test binary path");
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "crash_child_commits_until_killed",
            "--test-threads=1",
        ])
        .env(CRASH_CHILD_ENV, db)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut reported = 0;
    while reported < until {
        assert!(Instant::now() < deadline, "child made no progress in time");
        if let Ok(Some(status)) = child.try_wait() {
            panic!("child exited early with {status}");
        }
        std::thread::sleep(Duration::from_millis(2));
        // A partly written progress file does not parse; the next poll reads it whole.
        if let Ok(text) = std::fs::read_to_string(progress_path(db)) {
            reported = text.trim().parse().unwrap_or(reported);
        }
    }
    std::thread::sleep(extra_delay);
    child.kill().expect("SIGKILL the child"); // `Child::kill` sends SIGKILL on Unix.
    child.wait().expect("reap the child");
    reported
}

#[test]
fn sigkill_at_any_moment_leaves_a_consistent_committed_store() {
    if std::env::var_os(CRASH_CHILD_ENV).is_some() {
        return; // A child runs only its own test.
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("state.redb");
    let mut target = 0;
    // Different delays after the progress report land the kill at different points of
    // the next commit (preparing, inside the write transaction, fsyncing).
    for delay_ms in [0u64, 1, 2, 3, 5, 8, 13] {
        target += 3;
        let reported = run_child_and_kill(&db, target, Duration::from_millis(delay_ms));
        let store = Store::open(&db).expect("reopen after SIGKILL");
        let latest = store.latest_height().expect("latest").expect("initialised");
        assert!(
            latest.0 >= reported,
            "lost committed height: {latest} < {reported}"
        );
        let expected = replay_roots(latest, WRITES_PER_BLOCK);
        for (h, root) in expected.iter().enumerate() {
            let height = Height(u64::try_from(h).expect("small"));
            assert_eq!(
                store.state_root(height).expect("root"),
                *root,
                "root at {height}"
            );
            if height.0 > 0 {
                let block = store
                    .block(height)
                    .expect("block")
                    .expect("committed block");
                assert_eq!(block.header.state_root, *root);
                assert!(store.certificate(height).expect("cert").is_some());
            }
        }
        assert!(store.block(Height(latest.0 + 1)).expect("block").is_none());
        target = target.max(latest.0);
    }
}

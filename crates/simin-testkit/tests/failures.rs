//! A broken node fails loudly: real `simin node start` processes with a damaged store,
//! a taken API port, a consensus loop that panics (a fault injected through
//! `SIMIN_FAULT_PANIC_AT_HEIGHT`, honoured by debug builds only) exit non-zero with a
//! clear message instead of staying up without consensus; and a node that was stopped
//! while the others advanced says it is syncing, with the height it is catching up to,
//! and answers "syncing" (503), not "not found", for a transaction it does not know yet.

use std::io::{Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use simin_client::ClientError;
use simin_testkit::Testnet;
use simin_types::{Hash, Height};
use tokio::time::Instant;

/// Longest run of one test.
const TEST_TIMEOUT: Duration = Duration::from_secs(150);
/// Longest wait for one height.
const WAIT: Duration = Duration::from_secs(45);
/// A broken node must be gone within this long (it used to stay up for ever).
const EXIT_WAIT: Duration = Duration::from_secs(30);
/// Pages overwritten in the damaged-store test, and their size.
const DAMAGED_PAGES: u64 = 200;
const PAGE_BYTES: u64 = 4096;
/// Blocks the other validators commit while one is stopped, in the syncing test.
const LAG_BLOCKS: u64 = 80;
/// Single bytes flipped in the other damaged-store test.
const FLIPPED_BYTES: u64 = 2000;

async fn bounded(test: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("the test finishes within its time limit");
}

fn home(net: &Testnet, i: usize) -> PathBuf {
    net.info().nodes[i].home.clone()
}

fn api_addr(net: &Testnet, i: usize) -> SocketAddr {
    let api = &net.info().nodes[i].api;
    api.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("the layout's API URL is http://ADDRESS")
}

/// Runs `simin node start --home HOME` with `env`; the process must exit by itself
/// within `EXIT_WAIT` (it is killed, and the test fails, otherwise).
async fn run_until_exit(net: &Testnet, i: usize, env: &[(&str, &str)]) -> Output {
    let home = home(net, i);
    let mut command = tokio::process::Command::new(net.binary());
    command
        .args(["node", "start", "--home"])
        .arg(&home)
        .env("RUST_LOG", "info,arc_malachitebft=warn,libp2p=warn")
        .kill_on_drop(true);
    for (key, value) in env {
        command.env(key, value);
    }
    let started = Instant::now();
    let output = tokio::time::timeout(EXIT_WAIT, command.output())
        .await
        .unwrap_or_else(|_| panic!("the node did not exit within {EXIT_WAIT:?}: it limps on"))
        .expect("the simin binary runs");
    eprintln!(
        "the node exited after {:?} with {}; its stderr:\n{}",
        started.elapsed(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Damages `path` past its first page (redb's header: damage there is refused by
/// redb's open already, while damage to the tree's pages used to pass it unnoticed):
/// `count` runs of `run` bytes at offsets drawn from a fixed-seed LCG, each XORed with
/// 0xA5 (so a run of one byte always changes it).
fn damage(path: &Path, seed: u64, count: u64, run: u64) {
    let len = std::fs::metadata(path).expect("the store exists").len();
    assert!(len > PAGE_BYTES + run, "the store has {len} bytes");
    eprintln!(
        "damaging {count} runs of {run} bytes of the {len} of {}",
        path.display()
    );
    let mut bytes = std::fs::read(path).expect("the store reads");
    let mut state = seed;
    for _ in 0..count {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let span = (len - PAGE_BYTES) / run;
        let start = PAGE_BYTES + ((state >> 33) % span) * run;
        // Offsets are below the file's length, which fits in usize (the file is in memory).
        let range =
            usize::try_from(start).expect("fits")..usize::try_from(start + run).expect("fits");
        for byte in &mut bytes[range] {
            *byte ^= 0xA5;
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("the store opens for writing");
    file.seek(SeekFrom::Start(0)).expect("seek");
    file.write_all(&bytes).expect("write the damaged store");
    file.sync_all().expect("sync the store");
}

/// Runs a one-validator chain to height 5, stops it cleanly, damages its store with
/// `count` runs of `run` bytes and restarts it: it must exit at once, saying the store
/// is damaged and what to do, not panic in consensus or blame genesis.
async fn damaged_store_is_refused(count: u64, run: u64) {
    let mut net = Testnet::init(1, 0).expect("testnet laid out");
    net.start(0).expect("the node starts");
    net.wait_for_height(&[0], Height(5), WAIT)
        .await
        .expect("the node commits blocks");
    let status = net
        .terminate(0, Duration::from_secs(20))
        .expect("the node stops");
    assert!(status.success(), "a clean stop: {status}");
    let store = home(&net, 0).join("data").join("state.redb");
    damage(&store, 0x5EED, count, run);

    let output = run_until_exit(&net, 0, &[]).await;
    let text = stderr(&output);
    assert!(!output.status.success(), "exit status {}", output.status);
    assert!(
        text.contains("is damaged") && text.contains(&store.display().to_string()),
        "the message names the damaged store: {text}"
    );
    assert!(
        text.contains("restore it from a backup"),
        "the message says what to do: {text}"
    );
    assert!(
        !text.contains("another chain"),
        "not the misleading genesis mismatch: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n1_overwritten_pages_are_refused_as_damage() {
    bounded(damaged_store_is_refused(DAMAGED_PAGES, PAGE_BYTES)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n1_flipped_bytes_are_damage_not_another_chain() {
    bounded(damaged_store_is_refused(FLIPPED_BYTES, 1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n1_api_port_taken_fails_the_start_before_consensus() {
    let net = Testnet::init(1, 0).expect("testnet laid out");
    bounded(async {
        let addr = api_addr(&net, 0);
        let _taken = std::net::TcpListener::bind(addr).expect("the test takes the API port");
        let output = run_until_exit(&net, 0, &[]).await;
        let text = stderr(&output);
        assert!(!output.status.success(), "exit status {}", output.status);
        assert!(
            text.contains(&addr.to_string()),
            "the message names {addr}: {text}"
        );
        // Nothing was started: no consensus WAL, no sign guard, not even a store.
        let data = home(&net, 0).join("data");
        assert!(
            !data.join("wal").exists(),
            "consensus wrote its WAL directory before the API was bound"
        );
        assert!(
            !data.join("state.redb").exists(),
            "the store was opened before the API was bound"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n1_consensus_panic_exits_the_process() {
    let net = Testnet::init(1, 0).expect("testnet laid out");
    bounded(async {
        let output = run_until_exit(&net, 0, &[("SIMIN_FAULT_PANIC_AT_HEIGHT", "3")]).await;
        let text = stderr(&output);
        assert!(!output.status.success(), "exit status {}", output.status);
        assert!(
            text.contains("injected fault"),
            "the panic's message is reported: {text}"
        );
        assert!(
            text.contains("error: ") && text.contains("panicked"),
            "the process says it failed because a task panicked: {text}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_restarted_validator_reports_syncing_then_the_tip() {
    let mut net = Testnet::init(4, 0).expect("testnet laid out");
    bounded(async {
        let all = net.validators();
        let lagging = all[3];
        net.start_nodes(&all).expect("nodes start");
        net.wait_for_height(&all, Height(3), WAIT)
            .await
            .expect("all nodes reach height 3");
        net.terminate(lagging, Duration::from_secs(20))
            .expect("the lagging node stops");
        let stopped_at = net.height(0).await.expect("node 0 answers");
        // Far enough that catching up outlasts the moment gossip takes to bring the
        // peers' votes (value sync fetches blocks at once; votes name the target).
        let ahead = Height(stopped_at.0 + LAG_BLOCKS);
        net.wait_for_height(&all[..3], ahead, Duration::from_secs(90))
            .await
            .expect("the other three advance");

        net.start(lagging).expect("the lagging node restarts");
        let client = net.client(lagging);
        let deadline = Instant::now() + WAIT;
        let mut seen_target = None;
        let mut seen_syncing = false;
        let mut unknown_tx_unavailable = false;
        loop {
            assert!(
                Instant::now() < deadline,
                "never caught up: {seen_target:?}"
            );
            net.check_alive().expect("no node crashed");
            let Ok(status) = client.status().await else {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            };
            if status.syncing {
                seen_syncing = true;
                if let Some(target) = status.sync_target_height {
                    assert!(
                        target.0 > status.latest_height.0 + 1,
                        "syncing means more than a block behind: {status:?}"
                    );
                    seen_target.get_or_insert((status.latest_height, target));
                }
                // A transaction it does not have may be in the blocks it lacks: 503
                // "syncing", not 404. (It may have caught up since the status: then
                // 404 is right, and a later round checks again.)
                match client.tx(&Hash([0x42; 32])).await {
                    Err(ClientError::Problem {
                        status: 503,
                        detail,
                        ..
                    }) => {
                        assert!(detail.contains("syncing"), "{detail}");
                        unknown_tx_unavailable = true;
                    }
                    Ok(None) => {}
                    other => panic!("unexpected answer for an unknown transaction: {other:?}"),
                }
            } else if status.sync_target_height.is_some() && status.latest_height >= ahead {
                assert!(seen_syncing, "caught up without ever saying it was syncing");
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (latest, target) = seen_target.expect("the node named its target while syncing");
        eprintln!("syncing at {latest} with target {target}; peers were at {ahead} or more");
        assert!(
            target >= Height(ahead.0 - 1),
            "the target {target} is the peers' tip, about {ahead} (the node was at {latest})"
        );
        assert!(
            unknown_tx_unavailable,
            "a syncing node answers 503 for a transaction it does not know"
        );
    })
    .await;
}

//! `simin devnet` as a process: SIGKILL while anchoring, restart on the same data dir,
//! and nothing acknowledged is lost or rewritten.

use std::time::Duration;

use simin_testkit::{
    block_id, read_key, simin_binary, wait_for_height, Client, Load, PortBlock, Process,
};
use simin_types::{ChainId, Height};

/// Longest run of the test.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest wait for a height.
const WAIT: Duration = Duration::from_secs(45);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devnet_survives_kill_9() {
    let binary = simin_binary().expect("the simin binary");
    // The API, the card issuer, the login provider and the demo library.
    let ports = PortBlock::claim(4).expect("ports");
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("devnet");
    let api = format!("127.0.0.1:{}", ports.base());
    let log = dir.path().join("devnet.log");
    let (data_arg, api_arg) = (data.to_string_lossy().into_owned(), api.clone());
    let [issuer, gateway, demo] = [1, 2, 3].map(|i| format!("127.0.0.1:{}", ports.base() + i));
    let args = [
        "devnet",
        "--data-dir",
        &data_arg,
        "--api",
        &api_arg,
        "--issuer",
        &issuer,
        "--gateway",
        &gateway,
        "--demo-service",
        &demo,
    ];
    let client = Client::new(&format!("http://{api}")).expect("a client");

    let outcome = tokio::time::timeout(TEST_TIMEOUT, async {
        let devnet = Process::spawn("devnet", &binary, &args, &log).expect("devnet starts");
        wait_for_height(&client, Height(1), WAIT)
            .await
            .expect("first block");
        let key = read_key(&data.join("keys").join("notary.key")).expect("notary key");
        let chain_id = ChainId::new("simin-devnet").expect("valid id");
        let load = Load::start(vec![client.clone()], key, chain_id, 0, Height(1_000_000), 4);
        wait_until(|| load.acked_count() >= 15).await;

        // Blocks committed before the kill, to compare after the restart.
        let before_tip = client.status().await.expect("status").latest_height;
        let mut before = Vec::new();
        for h in 1..=before_tip.0 {
            before.push(
                block_id(&client, Height(h))
                    .await
                    .expect("answers")
                    .expect("committed"),
            );
        }
        let acked = load.acked_count();
        wait_until(|| load.acked_count() >= acked + 5).await;
        // Killed with anchorings in flight.
        devnet.kill().expect("SIGKILL");
        let report = load.stop(Duration::from_secs(10)).await;
        assert!(report.acked.len() >= 20, "{report:?}");
        let last_acked = report
            .acked
            .iter()
            .map(|a| a.height)
            .max()
            .expect("acked txs");

        let devnet = Process::spawn("devnet", &binary, &args, &log).expect("devnet restarts");
        wait_for_height(&client, Height(1), WAIT)
            .await
            .expect("the devnet answers again");
        let latest = client.status().await.expect("status").latest_height;
        assert!(
            latest >= last_acked,
            "resumed at {latest}, below the acknowledged {last_acked}"
        );
        for a in &report.acked {
            let found = client.tx(&a.hash).await.expect("answers");
            let found = found.unwrap_or_else(|| panic!("acknowledged tx {} lost", a.hash));
            assert_eq!(found.height, a.height);
        }
        for id in &before {
            let now = block_id(&client, id.height)
                .await
                .expect("answers")
                .expect("still there");
            assert_eq!(&now, id, "block {} changed across the crash", id.height);
        }
        wait_for_height(&client, Height(latest.0 + 3), WAIT)
            .await
            .expect("the chain goes on");
        devnet.check_running().expect("the devnet runs");
    })
    .await;
    if outcome.is_err() {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        panic!("timed out after {TEST_TIMEOUT:?}; devnet log:\n{text}");
    }
}

/// Polls `done` every 50 ms; panics after `WAIT`.
async fn wait_until(done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

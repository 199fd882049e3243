//! Networks of real `simin node start` processes on loopback, named by fault model:
//! agreement without faults, a crashed validator under load, a halt below quorum, a
//! full node that joins late, and the cost of a dead proposer. Each test is bounded by
//! `TEST_TIMEOUT`.

use std::future::Future;
use std::time::Duration;

use simin_client::dto::SubmitStatus;
use simin_testkit::{anchor_tx, read_key, Load, Testnet};
use simin_types::{Hash, Height, PublicKey};

/// Longest run of one test.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest wait for one height or a catch-up.
const WAIT: Duration = Duration::from_secs(45);
/// Expiry of test transactions, far beyond any test's last height.
const EXPIRY: Height = Height(1_000_000);

/// Runs `test` within `TEST_TIMEOUT`. The testnet is owned outside `test`, so a timeout
/// panics while it is alive, which keeps its directory and prints its logs.
async fn bounded(test: impl Future<Output = ()>) {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("the test finishes within its time limit");
}

/// The highest latest height among `nodes` (an unreachable node counts as 0).
async fn max_height(net: &Testnet, nodes: &[usize]) -> Height {
    let mut max = Height(0);
    for &i in nodes {
        if let Ok(h) = net.height(i).await {
            max = max.max(h);
        }
    }
    max
}

/// The lowest latest height among `nodes`.
async fn min_height(net: &Testnet, nodes: &[usize]) -> Height {
    let mut min = Height(u64::MAX);
    for &i in nodes {
        min = min.min(net.height(i).await.expect("the node answers"));
    }
    min
}

fn node_key(net: &Testnet, i: usize) -> PublicKey {
    read_key(&net.info().nodes[i].home.join("keys").join("node.key"))
        .expect("the node's key file")
        .public_key()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_f0() {
    let mut net = Testnet::init(4, 0).expect("testnet laid out");
    bounded(async {
        let all = net.validators();
        net.start_nodes(&all).expect("nodes start");
        let tip = Height(12);
        net.wait_for_height(&all, tip, WAIT)
            .await
            .expect("all nodes reach the tip");
        let chain = net
            .agree(&all, tip)
            .await
            .expect("all nodes agree at every height");
        // Round-robin proposers: with nobody faulty, every validator proposes in 12 heights.
        for i in &all {
            let key = node_key(&net, *i);
            assert!(
                chain.iter().any(|b| b.proposer == key),
                "{} proposed no block in {tip} heights",
                net.name(*i)
            );
        }
        net.check_alive().expect("no node crashed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_f1_crash() {
    let mut net = Testnet::init(4, 0).expect("testnet laid out");
    bounded(async {
        let all = net.validators();
        let (live, victim) = (vec![0, 1, 2], 3);
        net.start_nodes(&all).expect("nodes start");
        net.wait_for_height(&all, Height(3), WAIT)
            .await
            .expect("the chain starts");

        let key = net.notary_key().expect("notary key");
        let chain_id = net.chain_id().expect("chain id");
        let clients = live.iter().map(|i| net.client(*i).clone()).collect();
        let load = Load::start(clients, key, chain_id, 0, EXPIRY, 6);
        wait_until(|| load.acked_count() >= 10, "10 acknowledged txs").await;

        let killed_at = max_height(&net, &live).await;
        net.kill(victim).expect("SIGKILL the victim");
        let acked_at_kill = load.acked_count();
        net.wait_for_height(&live, Height(killed_at.0 + 10), WAIT)
            .await
            .expect("the chain keeps committing without the victim");
        wait_until(|| load.acked_count() >= acked_at_kill + 20, "20 more txs").await;
        let report = load.stop(Duration::from_secs(30)).await;
        eprintln!(
            "load: {} acked, {} pending, {} abandoned, errors {:?}",
            report.acked.len(),
            report.pending,
            report.abandoned,
            report.errors
        );
        assert!(
            report.acked.iter().all(|a| a.success),
            "every anchoring succeeds"
        );
        assert!(
            report.acked.iter().any(|a| a.height.0 > killed_at.0 + 1),
            "transactions commit after the kill"
        );

        let tip = min_height(&net, &live).await;
        net.agree(&live, tip).await.expect("the live nodes agree");
        for acked in &report.acked {
            for &i in &live {
                let found = net
                    .client(i)
                    .tx(&acked.hash)
                    .await
                    .expect("the node answers");
                let found = found.unwrap_or_else(|| {
                    panic!(
                        "{} lacks acknowledged tx {} (nonce {})",
                        net.name(i),
                        acked.hash,
                        acked.nonce
                    )
                });
                assert_eq!(found.height, acked.height, "tx {} moved", acked.hash);
            }
        }

        net.start(victim).expect("the victim restarts");
        let tip = min_height(&net, &live).await;
        net.wait_for_height(&[victim], tip, WAIT)
            .await
            .expect("the victim catches up");
        net.agree(&all, tip)
            .await
            .expect("the restarted node has the same chain");
        let last = report
            .acked
            .iter()
            .max_by_key(|a| a.height)
            .expect("some acked tx");
        let found = net.client(victim).tx(&last.hash).await.expect("answers");
        assert!(
            found.is_some(),
            "the restarted node has the last acknowledged tx"
        );
        net.check_alive().expect("no node crashed");
    })
    .await;
}

/// Polls `done` every 50 ms; panics after `WAIT`.
async fn wait_until(done: impl Fn() -> bool, what: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_f2_halt() {
    let mut net = Testnet::init(4, 0).expect("testnet laid out");
    bounded(async {
        let all = net.validators();
        net.start_nodes(&all).expect("nodes start");
        net.wait_for_height(&all, Height(5), WAIT)
            .await
            .expect("the chain starts");
        net.kill(2).expect("SIGKILL node2");
        net.kill(3).expect("SIGKILL node3");
        let live = [0, 1];
        // A height whose votes were already out may still complete; then nothing may.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let halted_at = max_height(&net, &live).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(
            max_height(&net, &live).await,
            halted_at,
            "2 of 4 validators must not commit"
        );
        net.agree(&live, min_height(&net, &live).await)
            .await
            .expect("no fork while halted");

        net.start(2).expect("node2 restarts");
        let quorum = [0, 1, 2];
        let resume = Height(halted_at.0 + 3);
        net.wait_for_height(&quorum, resume, WAIT)
            .await
            .expect("3 of 4 resume the chain");
        net.agree(&quorum, resume)
            .await
            .expect("all nodes agree at every height");

        net.start(3).expect("node3 restarts");
        let tip = min_height(&net, &quorum).await;
        net.wait_for_height(&[3], tip, WAIT)
            .await
            .expect("node3 catches up");
        net.agree(&all, tip).await.expect("all four agree");
        net.check_alive().expect("no node crashed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_node_joins_late() {
    let mut net = Testnet::init(4, 1).expect("testnet laid out");
    bounded(async {
        let validators = net.validators();
        let full = net.full_nodes()[0];
        net.start_nodes(&validators).expect("validators start");
        net.wait_for_height(&validators, Height(20), WAIT)
            .await
            .expect("20 blocks");

        net.start(full).expect("the full node starts");
        let tip = max_height(&net, &validators).await;
        net.wait_for_height(&[full], tip, WAIT)
            .await
            .expect("the full node syncs to the tip");
        let all: Vec<usize> = (0..net.len()).collect();
        let chain = net
            .agree(&all, tip)
            .await
            .expect("identical hashes and state roots");
        let full_key = node_key(&net, full);
        assert!(
            chain.iter().all(|b| b.proposer != full_key),
            "a full node never proposes"
        );

        // A transaction given to the full node reaches the validators (relay).
        let key = net.notary_key().expect("notary key");
        let client = net.client(full);
        let nonce = client
            .account_next_nonce(&key.public_key())
            .await
            .expect("nonce");
        let document = Hash::digest(b"submitted to the full node");
        let tx = anchor_tx(
            &key,
            &net.chain_id().expect("chain id"),
            nonce,
            EXPIRY,
            document,
        );
        let response = client
            .submit(&tx, true)
            .await
            .expect("the full node accepts");
        assert_eq!(
            response.status,
            SubmitStatus::Committed,
            "relayed and committed"
        );
        // The full node learns of a decision as the validators do; each writes it in its
        // own time, so look once every validator has reached the height.
        let committed_at = response
            .committed
            .as_ref()
            .expect("a committed lookup")
            .height;
        net.wait_for_height(&validators, committed_at, WAIT)
            .await
            .expect("validators reach the height");
        for &i in &validators {
            let found = net.client(i).tx(&response.hash).await.expect("answers");
            assert!(found.is_some(), "{} has the relayed tx", net.name(i));
        }

        // Anchored through a validator with the CLI, verified through the full node.
        let file = net.dir().join("building-permit.pdf");
        std::fs::write(&file, b"permit 2026-117, 3 Sejong-daero").expect("file written");
        let (file, notary_key) = (
            file.to_string_lossy(),
            net.info().notary_key.to_string_lossy(),
        );
        let (api1, api_full) = (&net.info().nodes[1].api, &net.info().nodes[full].api);
        let genesis = net.info().genesis.to_string_lossy();
        let cli = Duration::from_secs(40);
        let anchored = net
            .cli(
                &[
                    "--json",
                    "--node",
                    api1,
                    "notary",
                    "anchor",
                    &file,
                    "--key",
                    &notary_key,
                ],
                cli,
            )
            .await
            .expect("simin notary anchor runs");
        assert!(
            anchored.status.success(),
            "anchor: {}",
            String::from_utf8_lossy(&anchored.stderr)
        );
        let anchored: serde_json::Value =
            serde_json::from_slice(&anchored.stdout).expect("anchor prints JSON");
        let height = Height(anchored["height"].as_u64().expect("the anchoring's height"));
        // A node proves what it has committed: wait until the full node has that block.
        net.wait_for_height(&[full], height, WAIT)
            .await
            .expect("the full node follows the chain");
        let verified = verify(&net, api_full, &genesis, &file).await;
        assert!(
            verified.status.success(),
            "verify: {}",
            String::from_utf8_lossy(&verified.stderr)
        );
        let other = net.dir().join("never-anchored.pdf");
        std::fs::write(&other, b"not anchored").expect("file written");
        let refused = verify(&net, api_full, &genesis, &other.to_string_lossy()).await;
        assert_eq!(
            refused.status.code(),
            Some(1),
            "an unanchored file does not verify"
        );
        net.check_alive().expect("no node crashed");
    })
    .await;
}

/// `simin --node NODE notary verify --genesis GENESIS FILE`.
async fn verify(net: &Testnet, node: &str, genesis: &str, file: &str) -> std::process::Output {
    let args = [
        "--node",
        node,
        "notary",
        "verify",
        "--genesis",
        genesis,
        file,
    ];
    net.cli(&args, Duration::from_secs(40))
        .await
        .expect("simin notary verify runs")
}

/// Measures (and logs; asserts only liveness and agreement) how long heights take when
/// one of 4 validators is dead, comparing heights whose round-0 proposer is the dead one
/// with the others. Proposers rotate by height, so those are one residue mod 4.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_f1_dead_proposer_height_time() {
    let mut net = Testnet::init(4, 0).expect("testnet laid out");
    bounded(async {
        let all = net.validators();
        net.start_nodes(&all).expect("nodes start");
        net.wait_for_height(&all, Height(3), WAIT).await.expect("the chain starts");
        net.kill(3).expect("SIGKILL node3");
        let live = [0, 1, 2];
        // Skip the heights in flight at the kill.
        let from = Height(max_height(&net, &live).await.0 + 2);
        let to = Height(from.0 + 24);
        net.wait_for_height(&live, to, WAIT).await.expect("the chain keeps committing");
        let chain = net.agree(&live, to).await.expect("the live nodes agree");
        let dead = node_key(&net, 3);
        // Each interval ends at `this.height`; heights are grouped by their residue mod 4.
        let mut by_residue: [Vec<u64>; 4] = Default::default();
        for pair in chain.windows(2).filter(|p| p[1].height >= from) {
            let (prev, this) = (&pair[0], &pair[1]);
            assert_ne!(this.proposer, dead, "a dead validator proposes nothing");
            let residue = usize::try_from(this.height.0 % 4).expect("a residue below 4 fits");
            by_residue[residue].push(this.time.0.saturating_sub(prev.time.0));
        }
        let mean = |v: &Vec<u64>| {
            let len = u64::try_from(v.len()).expect("a short list").max(1);
            v.iter().sum::<u64>() / len
        };
        let means: Vec<u64> = by_residue.iter().map(mean).collect();
        let slow = *means.iter().max().expect("four groups");
        let normal: Vec<u64> = means.iter().copied().filter(|m| *m != slow).collect();
        eprintln!(
            "dead-proposer measurement (block time intervals, ms) per height mod 4: {means:?}; \
             heights with the dead proposer take ~{slow} ms, others ~{:?} ms; samples {by_residue:?}",
            normal
        );
    })
    .await;
}

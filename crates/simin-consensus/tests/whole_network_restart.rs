//! Four validators in one process are stopped together and started again on the same
//! homes, many times, at moments that fall anywhere in a height: the chain goes on, every
//! node keeps the same blocks, and no engine ever sees an honest validator equivocate.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    chain_id, check_chain, config, free_addr, init_tracing, keys, validator_set, wait_until,
    Evidence, Log, ToyApp,
};

const RESTARTS: usize = 6;
const HEIGHTS_PER_RUN: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_whole_network_restarts_never_equivocate() {
    init_tracing();
    let home = tempfile::tempdir().expect("a temporary directory");
    let keys = keys(4);
    let set = validator_set(&keys);
    let addrs: Vec<_> = keys.iter().map(|_| free_addr()).collect();
    // The logs play the nodes' stores: they outlive each run, as a disk would.
    let logs: Vec<Log> = keys
        .iter()
        .map(|_| Arc::new(Mutex::new(Vec::new())))
        .collect();
    let evidence: Evidence = Arc::default();

    for run in 0..RESTARTS {
        let mut handles = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let app = ToyApp {
                chain_id: chain_id(),
                validators: set.clone(),
                key: key.clone(),
                log: logs[i].clone(),
                evidence: evidence.clone(),
            };
            let peers = addrs
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, a)| *a)
                .collect();
            let cfg = config(&format!("node-{i}"), home.path(), addrs[i], peers);
            let handle = simin_consensus::start(app, cfg, chain_id(), key.clone())
                .await
                .expect("consensus starts again on the same home");
            handles.push(handle);
        }
        let target = (run + 1) * HEIGHTS_PER_RUN;
        let reached = wait_until(Duration::from_secs(60), || {
            logs.iter()
                .all(|log| log.lock().expect("the log lock is not poisoned").len() >= target)
        })
        .await;
        let lengths: Vec<usize> = logs
            .iter()
            .map(|log| log.lock().expect("the log lock is not poisoned").len())
            .collect();
        assert!(
            reached,
            "run {run}: every node reached height {target}: {lengths:?}"
        );
        // Stop somewhere inside the next height, a different moment each run.
        let delay = u64::try_from(run).expect("a small count") * 37 % 150;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        for handle in handles {
            handle.shutdown().await;
        }
    }

    let seen = evidence.lock().expect("the evidence lock is not poisoned");
    assert!(seen.is_empty(), "honest validators equivocated: {seen:?}");
    let chains: Vec<Vec<_>> = logs
        .iter()
        .map(|log| log.lock().expect("the log lock is not poisoned").clone())
        .collect();
    let shortest = chains.iter().map(Vec::len).min().unwrap_or(0);
    for chain in &chains {
        check_chain(chain, &chain_id(), &set);
        for (height, (block, _)) in chain.iter().enumerate().take(shortest) {
            assert_eq!(
                block.hash(),
                chains[0][height].0.hash(),
                "every node has the same block at height {}",
                height + 1
            );
        }
    }
}

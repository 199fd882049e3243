//! Four validators in one process, on distinct loopback ports, decide the same blocks.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    chain_id, check_chain, config, free_addr, init_tracing, keys, validator_set, wait_until, Log,
    ToyApp,
};
use simin_types::Hash;

const HEIGHTS: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_all_decide_the_same_blocks() {
    init_tracing();
    let home = tempfile::tempdir().expect("a temporary directory");
    let keys = keys(4);
    let set = validator_set(&keys);
    let addrs: Vec<_> = keys.iter().map(|_| free_addr()).collect();

    let mut logs: Vec<Log> = Vec::new();
    let mut handles = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let log: Log = Arc::new(Mutex::new(Vec::new()));
        let app = ToyApp {
            chain_id: chain_id(),
            validators: set.clone(),
            key: key.clone(),
            log: log.clone(),
            evidence: Default::default(),
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
            .expect("consensus starts");
        logs.push(log);
        handles.push(handle);
    }

    let all_committed = wait_until(Duration::from_secs(120), || {
        logs.iter()
            .all(|log| log.lock().expect("the log lock is not poisoned").len() >= HEIGHTS)
    })
    .await;
    for handle in handles {
        handle.shutdown().await;
    }

    let chains: Vec<Vec<_>> = logs
        .iter()
        .map(|log| log.lock().expect("the log lock is not poisoned").clone())
        .collect();
    let lengths: Vec<usize> = chains.iter().map(Vec::len).collect();
    assert!(
        all_committed,
        "every node committed {HEIGHTS} heights within 120 s: {lengths:?}"
    );
    for chain in &chains {
        check_chain(chain, &chain_id(), &set);
    }
    let hashes = |chain: &Vec<(simin_types::Block, simin_types::CommitCertificate)>| -> Vec<Hash> {
        chain
            .iter()
            .take(HEIGHTS)
            .map(|(block, _)| block.hash())
            .collect()
    };
    let reference = hashes(&chains[0]);
    for (i, chain) in chains.iter().enumerate() {
        assert_eq!(
            hashes(chain),
            reference,
            "node {i} decided the same blocks as node 0"
        );
    }
    let proposers: std::collections::BTreeSet<_> = chains[0]
        .iter()
        .take(HEIGHTS)
        .map(|(block, _)| block.header.proposer)
        .collect();
    assert!(
        proposers.len() > 1,
        "the proposer rotates between validators"
    );
}

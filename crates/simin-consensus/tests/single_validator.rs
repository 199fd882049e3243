//! One validator alone must commit blocks continuously, each with a valid certificate.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    chain_id, check_chain, config, free_addr, init_tracing, keys, validator_set, wait_until, ToyApp,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n1_commits_five_heights_with_valid_certificates() {
    init_tracing();
    let home = tempfile::tempdir().expect("a temporary directory");
    let keys = keys(1);
    let set = validator_set(&keys);
    let log = Arc::new(Mutex::new(Vec::new()));
    let app = ToyApp {
        chain_id: chain_id(),
        validators: set.clone(),
        key: keys[0].clone(),
        log: log.clone(),
        evidence: Default::default(),
    };
    let cfg = config("solo", home.path(), free_addr(), Vec::new());
    let handle = simin_consensus::start(app, cfg, chain_id(), keys[0].clone())
        .await
        .expect("consensus starts");

    let committed = wait_until(Duration::from_secs(60), || {
        log.lock().expect("the log lock is not poisoned").len() >= 5
    })
    .await;
    handle.shutdown().await;

    let log = log.lock().expect("the log lock is not poisoned").clone();
    assert!(
        committed,
        "5 heights committed within 60 s, got {}",
        log.len()
    );
    check_chain(&log, &chain_id(), &set);
    for (_, cert) in &log {
        assert_eq!(
            cert.signatures.len(),
            1,
            "the sole validator signs every certificate"
        );
    }
}

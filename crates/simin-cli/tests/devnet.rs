//! End to end against a real devnet process: anchor, verify, a tampered file, restart.

mod common;

use common::*;

#[test]
fn anchor_verify_tamper_restart_verify() {
    let home = tempfile::tempdir().expect("a temp dir");
    let data_dir = home.path().join("devnet");
    let api = format!("127.0.0.1:{}", free_port());
    let node = format!("http://{api}");
    let (h, d) = (home.path(), data_dir.as_path());

    let mut devnet = Devnet::start(h, d, &api);
    devnet.wait_ready();

    let doc = home.path().join("deed.txt");
    std::fs::write(&doc, "the deed of a house").expect("writes");
    let batch: Vec<_> = (0..3)
        .map(|i| {
            let path = home.path().join(format!("page{i}.txt"));
            std::fs::write(&path, format!("page {i}")).expect("writes");
            path
        })
        .collect();
    let doc_arg = doc.to_str().expect("UTF-8");

    let anchored = simin(h, d, &node, &["--json", "notary", "anchor", doc_arg]);
    assert!(anchored.status.success(), "{}", text(&anchored));
    let anchored: serde_json::Value =
        serde_json::from_slice(&anchored.stdout).expect("anchor JSON");
    assert_eq!(anchored["organization"], "devnet.notary");
    let mut args = vec!["notary", "anchor"];
    args.extend(batch.iter().map(|p| p.to_str().expect("UTF-8")));
    let batched = simin(h, d, &node, &args);
    assert!(batched.status.success(), "{}", text(&batched));

    let verified = simin(h, d, &node, &["notary", "verify", doc_arg]);
    assert!(verified.status.success(), "{}", text(&verified));
    assert!(
        text(&verified).contains("devnet.notary"),
        "{}",
        text(&verified)
    );
    let page = batch[1].to_str().expect("UTF-8");
    let verified = simin(h, d, &node, &["notary", "verify", page]);
    assert!(verified.status.success(), "{}", text(&verified));
    assert!(
        text(&verified).contains("batch root"),
        "{}",
        text(&verified)
    );

    // Trusting another validator set, the same valid proof is refused, naming the check.
    let genesis_path = data_dir.join("genesis.json");
    let mut genesis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&genesis_path).expect("reads")).expect("JSON");
    let stranger = simin(h, d, &node, &["--json", "keys", "new"]);
    let stranger: serde_json::Value = serde_json::from_slice(&stranger.stdout).expect("JSON");
    genesis["validators"][0]["public_key"] = stranger["public_key"].clone();
    let other_genesis = home.path().join("other-genesis.json");
    std::fs::write(&other_genesis, genesis.to_string()).expect("writes");
    let other = other_genesis.to_str().expect("UTF-8");
    let refused = simin(
        h,
        d,
        &node,
        &["notary", "verify", doc_arg, "--genesis", other],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("trusted validators check failed"),
        "{}",
        text(&refused)
    );

    // Anchoring the same document again fails with the ledger's code.
    let again = simin(h, d, &node, &["notary", "anchor", doc_arg]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(
        text(&again).contains("notary.already_anchored"),
        "{}",
        text(&again)
    );

    std::fs::write(&doc, "the deed of a house, amended").expect("writes");
    let tampered = simin(h, d, &node, &["notary", "verify", doc_arg]);
    assert_eq!(tampered.status.code(), Some(1), "{}", text(&tampered));
    assert!(
        text(&tampered).contains("not anchored: "),
        "{}",
        text(&tampered)
    );
    std::fs::write(&doc, "the deed of a house").expect("writes");

    let stopped = devnet.interrupt();
    assert!(
        stopped.success(),
        "the devnet stops cleanly on Ctrl-C: {stopped}"
    );
    let down = simin(h, d, &node, &["status"]);
    assert_eq!(down.status.code(), Some(1));

    let devnet = Devnet::start(h, d, &api);
    // A restarted devnet is ready at once: its start-up writes are on chain already.
    devnet.wait_ready();
    let verified = simin(h, d, &node, &["--json", "notary", "verify", doc_arg]);
    assert!(verified.status.success(), "{}", text(&verified));
    let verified: serde_json::Value =
        serde_json::from_slice(&verified.stdout).expect("verify JSON");
    assert_eq!(verified["tx_hash"], anchored["tx_hash"]);
    assert_eq!(verified["height"], anchored["height"]);
}

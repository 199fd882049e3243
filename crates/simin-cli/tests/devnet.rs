//! End to end against a real devnet process: anchor, verify, a tampered file, restart.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a devnet may take to serve its first block.
const STARTUP_WAIT: Duration = Duration::from_secs(60);

fn free_port() -> u16 {
    // The devnet also listens on port + 100 for peers; a clash there fails the start,
    // which the test then reports.
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

fn command(home: &Path, data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_simin"));
    command
        .env("HOME", home)
        .env("SIMIN_DEVNET_DIR", data_dir)
        .env_remove("SIMIN_KEY")
        .env_remove("SIMIN_TRUST_DIR")
        .env_remove("RUST_LOG");
    command
}

/// A devnet process, stopped with SIGINT (as Ctrl-C) when dropped.
struct Devnet(Child);

impl Devnet {
    fn start(home: &Path, data_dir: &Path, api: &str) -> Devnet {
        let child = command(home, data_dir)
            .args(["devnet", "--api", api])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the devnet starts");
        Devnet(child)
    }

    fn interrupt(&mut self) -> std::process::ExitStatus {
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.0.try_wait().expect("the child can be waited for") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.0.kill();
                panic!("the devnet did not stop within 30 s of Ctrl-C");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn simin(home: &Path, data_dir: &Path, node: &str, args: &[&str]) -> Output {
    command(home, data_dir)
        .arg("--node")
        .arg(node)
        .args(args)
        .output()
        .expect("simin runs")
}

fn wait_for_blocks(home: &Path, data_dir: &Path, node: &str) {
    let deadline = Instant::now() + STARTUP_WAIT;
    loop {
        let output = simin(home, data_dir, node, &["--json", "status"]);
        if output.status.success() {
            let status: serde_json::Value =
                serde_json::from_slice(&output.stdout).expect("status JSON");
            if status["latest_height"].as_u64().unwrap_or(0) > 0 {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the devnet produced no block in time"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn text(output: &Output) -> String {
    format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn anchor_verify_tamper_restart_verify() {
    let home = tempfile::tempdir().expect("a temp dir");
    let data_dir = home.path().join("devnet");
    let api = format!("127.0.0.1:{}", free_port());
    let node = format!("http://{api}");
    let (h, d) = (home.path(), data_dir.as_path());

    let mut devnet = Devnet::start(h, d, &api);
    wait_for_blocks(h, d, &node);

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

    let _devnet = Devnet::start(h, d, &api);
    wait_for_blocks(h, d, &node);
    let verified = simin(h, d, &node, &["--json", "notary", "verify", doc_arg]);
    assert!(verified.status.success(), "{}", text(&verified));
    let verified: serde_json::Value =
        serde_json::from_slice(&verified.stdout).expect("verify JSON");
    assert_eq!(verified["tx_hash"], anchored["tx_hash"]);
    assert_eq!(verified["height"], anchored["height"]);
}

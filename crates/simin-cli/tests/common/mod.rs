//! The harness of the end-to-end tests: a `simin devnet` process and the `simin` binary.
#![allow(dead_code)]

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a devnet may take to serve its first block.
pub const STARTUP_WAIT: Duration = Duration::from_secs(60);
/// How long a devnet may take until every service is ready (it waits for its own
/// start-up transactions to commit, up to 180 s, before it prints its summary).
pub const READY_WAIT: Duration = Duration::from_secs(200);
/// The line of `simin devnet`'s summary that it prints once every service is ready.
const READY_LINE: &str = "press Ctrl-C to stop";

/// A loopback port free right now, with its `+ 100` neighbour (a devnet's peer port),
/// below Linux's ephemeral range (32768 and up): binding port 0 gave ephemeral ports,
/// which outgoing connections of parallel tests could take before the server bound them.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    for _ in 0..1_000 {
        // RandomState is seeded afresh per instance: a random start in every process.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        let offset = u16::try_from(hasher.finish() % 9_800).expect("below 9,800 fits in u16");
        let port = 2_000 + offset;
        if free(port) && free(port + 100) {
            return port;
        }
    }
    panic!("no free loopback port below the ephemeral range");
}

pub fn command(home: &Path, data_dir: &Path) -> Command {
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
pub struct Devnet {
    child: Child,
    /// Receives `()` once the devnet printed its summary: every service is ready.
    ready: mpsc::Receiver<()>,
    /// What the devnet printed on stdout, for failure messages.
    printed: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Devnet {
    pub fn start(home: &Path, data_dir: &Path, api: &str) -> Devnet {
        let issuer = format!("127.0.0.1:{}", free_port());
        Devnet::start_with_issuer(home, data_dir, api, &issuer)
    }

    /// A devnet whose demo citizen-card issuer listens on `issuer` (its login provider
    /// and demo library on free ports, so that devnets of parallel tests never collide).
    pub fn start_with_issuer(home: &Path, data_dir: &Path, api: &str, issuer: &str) -> Devnet {
        let gateway = format!("127.0.0.1:{}", free_port());
        let demo = format!("127.0.0.1:{}", free_port());
        let records = format!("127.0.0.1:{}", free_port());
        Devnet::spawn(
            command(home, data_dir)
                .args(["devnet", "--api", api, "--issuer", issuer])
                .args(["--gateway", &gateway, "--demo-service", &demo])
                .args(["--records", &records])
                .stderr(Stdio::null()),
        )
    }

    /// A devnet started by `command` (for tests that choose every port themselves); its
    /// stdout is read here, to learn when the devnet is ready.
    pub fn spawn(command: &mut Command) -> Devnet {
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("the devnet starts");
        let stdout = child.stdout.take().expect("a piped stdout");
        let (tell, ready) = mpsc::channel();
        let printed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let keep = printed.clone();
        // Drains stdout for the devnet's whole life, so that it never blocks on a full
        // pipe, and says when the summary line went by.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains(READY_LINE) {
                    let _ = tell.send(());
                }
                if let Ok(mut printed) = keep.lock() {
                    if printed.len() < 64 * 1024 {
                        printed.push_str(&line);
                        printed.push('\n');
                    }
                }
            }
        });
        Devnet {
            child,
            ready,
            printed,
        }
    }

    /// Waits until the devnet printed its summary, which it does only once every
    /// service it runs is ready (the issuer's status lists, the demo library's
    /// registration, the demo dataset, the records vault, committed on chain).
    pub fn wait_ready(&self) {
        if self.ready.recv_timeout(READY_WAIT).is_err() {
            panic!(
                "the devnet did not get ready within {} s; it printed:\n{}",
                READY_WAIT.as_secs(),
                self.printed.lock().map(|p| p.clone()).unwrap_or_default()
            );
        }
    }

    pub fn interrupt(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be waited for") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the devnet did not stop within 30 s of Ctrl-C");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn simin(home: &Path, data_dir: &Path, node: &str, args: &[&str]) -> Output {
    command(home, data_dir)
        .arg("--node")
        .arg(node)
        .args(args)
        .output()
        .expect("simin runs")
}

pub fn wait_for_blocks(home: &Path, data_dir: &Path, node: &str) {
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

pub fn text(output: &Output) -> String {
    format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

//! The harness of the end-to-end tests: a `simin devnet` process and the `simin` binary.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a devnet may take to serve its first block.
pub const STARTUP_WAIT: Duration = Duration::from_secs(60);

pub fn free_port() -> u16 {
    // The devnet also listens on port + 100 for peers; a clash there fails the start,
    // which the test then reports.
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
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
pub struct Devnet(Child);

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
        let child = command(home, data_dir)
            .args(["devnet", "--api", api, "--issuer", issuer])
            .args(["--gateway", &gateway, "--demo-service", &demo])
            .args(["--records", &records])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the devnet starts");
        Devnet(child)
    }

    /// A devnet started by `command` (for tests that choose every port themselves).
    pub fn spawn(command: &mut Command) -> Devnet {
        Devnet(command.spawn().expect("the devnet starts"))
    }

    pub fn interrupt(&mut self) -> std::process::ExitStatus {
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

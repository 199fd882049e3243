//! [`Testnet`]: a network laid out by `simin testnet init` in a temp dir, one
//! `simin node start` process per node.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Output};
use std::time::Duration;

use serde::Deserialize;
use simin_client::{Client, ClientConfig};
use simin_types::{ChainId, Height, SigningKey};
use tokio::time::Instant;

use crate::chain::{self, BlockId};
use crate::{notary, simin_binary, PortBlock, Process, TestkitError};

/// Poll interval of waits.
const POLL: Duration = Duration::from_millis(100);
/// Log lines shown per node when a test fails.
const LOG_TAIL_LINES: usize = 15;

/// Whether a node votes (as printed by `simin testnet init --json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Validator,
    FullNode,
}

/// One node as laid out by `simin testnet init`.
#[derive(Clone, Debug, Deserialize)]
pub struct NodeInfo {
    pub role: Role,
    pub home: PathBuf,
    /// Base URL of its HTTP API.
    pub api: String,
    pub p2p: String,
}

/// What `simin testnet init --json` prints.
#[derive(Clone, Debug, Deserialize)]
pub struct TestnetInfo {
    pub chain_id: String,
    pub dir: PathBuf,
    pub genesis: PathBuf,
    pub notary_key: PathBuf,
    pub authority_key: PathBuf,
    pub nodes: Vec<NodeInfo>,
}

/// A local network of node processes. Dropping it kills them; when dropped during a
/// panic, it keeps the directory and prints each node's log tail.
#[derive(Debug)]
pub struct Testnet {
    binary: PathBuf,
    info: TestnetInfo,
    clients: Vec<Client>,
    processes: Vec<Option<Process>>,
    dir: Option<tempfile::TempDir>,
    _ports: PortBlock,
}

impl Testnet {
    /// Lays out `validators` validators and `full_nodes` full nodes with
    /// `simin testnet init` on a fresh block of ports. Starts nothing.
    pub fn init(validators: usize, full_nodes: usize) -> Result<Testnet, TestkitError> {
        let binary = simin_binary()?;
        let ports = PortBlock::claim(validators.saturating_add(full_nodes))?;
        let dir = tempfile::Builder::new()
            .prefix("simin-testnet-")
            .tempdir()
            .map_err(TestkitError::io(
                "create a temp dir in",
                std::env::temp_dir(),
            ))?;
        let out = dir.path().join("net");
        let args = [
            "testnet".to_owned(),
            "init".to_owned(),
            format!("--validators={validators}"),
            format!("--full-nodes={full_nodes}"),
            format!("--out={}", out.display()),
            format!("--base-port={}", ports.base()),
            "--json".to_owned(),
        ];
        let output = std::process::Command::new(&binary)
            .args(&args)
            .output()
            .map_err(TestkitError::io("run", &binary))?;
        let command = format!("simin {}", args.join(" "));
        if !output.status.success() {
            return Err(TestkitError::Command {
                command,
                detail: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        let info: TestnetInfo =
            serde_json::from_slice(&output.stdout).map_err(|e| TestkitError::Command {
                command,
                detail: format!("unexpected output: {e}"),
            })?;
        let config = ClientConfig {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(10),
            commit_wait: Duration::from_secs(20),
        };
        let clients = info
            .nodes
            .iter()
            .map(|n| Client::with_config(&n.api, config.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        std::fs::create_dir_all(dir.path().join("logs"))
            .map_err(TestkitError::io("create", dir.path()))?;
        Ok(Testnet {
            binary,
            processes: info.nodes.iter().map(|_| None).collect(),
            info,
            clients,
            dir: Some(dir),
            _ports: ports,
        })
    }

    pub fn info(&self) -> &TestnetInfo {
        &self.info
    }

    /// The temp dir holding the network (`net/`) and the logs (`logs/`).
    pub fn dir(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new(""), |d| d.path())
    }

    /// The `simin` binary the nodes run.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    pub fn len(&self) -> usize {
        self.info.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.info.nodes.is_empty()
    }

    /// Indexes of the validators (they come first).
    pub fn validators(&self) -> Vec<usize> {
        self.indexes(Role::Validator)
    }

    pub fn full_nodes(&self) -> Vec<usize> {
        self.indexes(Role::FullNode)
    }

    fn indexes(&self, role: Role) -> Vec<usize> {
        let nodes = self.info.nodes.iter().enumerate();
        nodes
            .filter(|(_, n)| n.role == role)
            .map(|(i, _)| i)
            .collect()
    }

    /// The node's name: its home's directory name (`node0`, `full0`).
    pub fn name(&self, i: usize) -> String {
        let home = &self.info.nodes[i].home;
        home.file_name()
            .map_or_else(|| format!("node#{i}"), |n| n.to_string_lossy().into_owned())
    }

    pub fn client(&self, i: usize) -> &Client {
        &self.clients[i]
    }

    pub fn log(&self, i: usize) -> PathBuf {
        self.dir()
            .join("logs")
            .join(format!("{}.log", self.name(i)))
    }

    pub fn chain_id(&self) -> Result<ChainId, TestkitError> {
        ChainId::new(&self.info.chain_id).map_err(|e| TestkitError::Invalid {
            what: "chain id",
            reason: e.to_string(),
        })
    }

    /// The devnet notary organisation's key (`DIR/keys/notary.key`).
    pub fn notary_key(&self) -> Result<SigningKey, TestkitError> {
        notary::read_key(&self.info.notary_key)
    }

    /// Starts node `i` (again, after a kill); its log is appended to.
    pub fn start(&mut self, i: usize) -> Result<(), TestkitError> {
        if self.processes[i].is_some() {
            return Err(TestkitError::Invalid {
                what: "start",
                reason: format!("{} is running already", self.name(i)),
            });
        }
        let home = self.info.nodes[i].home.to_string_lossy().into_owned();
        let args = ["node", "start", "--home", home.as_str()];
        let process = Process::spawn(&self.name(i), &self.binary, &args, &self.log(i))?;
        self.processes[i] = Some(process);
        Ok(())
    }

    /// Starts every node in `nodes`.
    pub fn start_nodes(&mut self, nodes: &[usize]) -> Result<(), TestkitError> {
        nodes.iter().try_for_each(|i| self.start(*i))
    }

    fn take(&mut self, i: usize) -> Result<Process, TestkitError> {
        let name = self.name(i);
        self.processes[i]
            .take()
            .ok_or(TestkitError::NotRunning { node: name })
    }

    /// SIGKILL node `i`.
    pub fn kill(&mut self, i: usize) -> Result<(), TestkitError> {
        self.take(i)?.kill().map(drop)
    }

    /// SIGTERM node `i` and wait up to `timeout` for it to exit.
    pub fn terminate(&mut self, i: usize, timeout: Duration) -> Result<ExitStatus, TestkitError> {
        self.take(i)?.terminate(timeout)
    }

    /// Whether node `i` was started and not killed (it may have crashed since).
    pub fn is_started(&self, i: usize) -> bool {
        self.processes[i].is_some()
    }

    /// Nodes started and not killed.
    pub fn started(&self) -> Vec<usize> {
        (0..self.len()).filter(|i| self.is_started(*i)).collect()
    }

    /// `Err` if a started node has exited on its own.
    pub fn check_alive(&self) -> Result<(), TestkitError> {
        self.processes
            .iter()
            .flatten()
            .try_for_each(Process::check_running)
    }

    /// Node `i`'s latest committed height.
    pub async fn height(&self, i: usize) -> Result<Height, TestkitError> {
        Ok(self.clients[i].status().await?.latest_height)
    }

    /// Waits until every node in `nodes` has committed `height`; fails early if one of
    /// them exits. Returns the lowest of their latest heights.
    pub async fn wait_for_height(
        &self,
        nodes: &[usize],
        height: Height,
        timeout: Duration,
    ) -> Result<Height, TestkitError> {
        let deadline = Instant::now() + timeout;
        let mut lowest = None;
        for &i in nodes {
            loop {
                if let Some(process) = &self.processes[i] {
                    process.check_running()?;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                match chain::wait_for_height(&self.clients[i], height, left.min(POLL * 10)).await {
                    Ok(h) => {
                        lowest = Some(lowest.map_or(h, |l: Height| l.min(h)));
                        break;
                    }
                    Err(e) if Instant::now() >= deadline => return Err(e),
                    Err(_) => {}
                }
            }
        }
        Ok(lowest.unwrap_or(height))
    }

    /// Checks that the nodes in `nodes` agree on block hash and state root at every
    /// height `1..=up_to`; returns the common chain.
    pub async fn agree(
        &self,
        nodes: &[usize],
        up_to: Height,
    ) -> Result<Vec<BlockId>, TestkitError> {
        let names: Vec<String> = nodes.iter().map(|i| self.name(*i)).collect();
        let pairs: Vec<(&str, &Client)> = nodes
            .iter()
            .zip(&names)
            .map(|(i, n)| (n.as_str(), &self.clients[*i]))
            .collect();
        chain::agree(&pairs, up_to).await
    }

    /// Runs `simin args...` (e.g. `notary verify`), killed after `timeout`.
    pub async fn cli(&self, args: &[&str], timeout: Duration) -> Result<Output, TestkitError> {
        let child = tokio::process::Command::new(&self.binary)
            .args(args)
            .env("SIMIN_TRUST_DIR", self.dir().join("trusted"))
            .env("RUST_LOG", "warn")
            .kill_on_drop(true)
            .output();
        tokio::time::timeout(timeout, child)
            .await
            .map_err(|_| TestkitError::Timeout {
                what: format!("simin {}", args.join(" ")),
                secs: timeout.as_secs(),
            })?
            .map_err(TestkitError::io("run", &self.binary))
    }
}

/// The last `lines` lines of a file, or a note that it cannot be read.
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

impl Drop for Testnet {
    fn drop(&mut self) {
        // Kill first, so that the logs are complete and no process outlives the test.
        for process in &mut self.processes {
            drop(process.take());
        }
        if std::thread::panicking() {
            if let Some(dir) = self.dir.take() {
                let kept = dir.keep();
                eprintln!("testnet kept in {} for inspection", kept.display());
                for i in 0..self.len() {
                    let log = self.log_in(&kept, i);
                    eprintln!("--- {} ---\n{}", log.display(), tail(&log, LOG_TAIL_LINES));
                }
            }
        }
    }
}

impl Testnet {
    fn log_in(&self, dir: &Path, i: usize) -> PathBuf {
        dir.join("logs").join(format!("{}.log", self.name(i)))
    }
}

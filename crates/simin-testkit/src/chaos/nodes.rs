//! The chaos run's own handle on a [`Testnet`]'s nodes: it starts them as
//! `simin node start --home H` like [`Testnet::start`], but owns the [`Process`]es, so
//! that a whole-network stop can signal every node at once rather than one after another.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tracing::{info, warn};

use crate::{Process, TestkitError, Testnet};

/// How a node is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// SIGKILL: the process dies mid-write.
    Kill,
    /// SIGTERM: the node shuts down cleanly (SIGKILL after `TERM_WAIT`).
    Term,
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stop::Kill => "kill -9",
            Stop::Term => "SIGTERM",
        })
    }
}

/// Longest wait for a node to exit after SIGTERM before it is killed.
const TERM_WAIT: Duration = Duration::from_secs(20);

/// The nodes of one network, each running or not.
#[derive(Debug)]
pub(crate) struct Nodes {
    binary: PathBuf,
    homes: Vec<PathBuf>,
    names: Vec<String>,
    logs: Vec<PathBuf>,
    processes: Vec<Option<Process>>,
}

impl Nodes {
    /// The nodes of `net`, none started; node `i` logs to `logs/<name>.log`.
    pub(crate) fn new(net: &Testnet, logs: &Path) -> Result<Nodes, TestkitError> {
        std::fs::create_dir_all(logs).map_err(TestkitError::io("create", logs))?;
        let names: Vec<String> = (0..net.len()).map(|i| net.name(i)).collect();
        Ok(Nodes {
            binary: net.binary().to_owned(),
            homes: net.info().nodes.iter().map(|n| n.home.clone()).collect(),
            logs: names
                .iter()
                .map(|n| logs.join(format!("{n}.log")))
                .collect(),
            processes: names.iter().map(|_| None).collect(),
            names,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    pub(crate) fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    pub(crate) fn logs(&self) -> &[PathBuf] {
        &self.logs
    }

    /// Starts node `i` if it is not running.
    pub(crate) fn start(&mut self, i: usize) -> Result<(), TestkitError> {
        if self.processes[i].is_some() {
            return Ok(());
        }
        let home = self.homes[i].to_string_lossy().into_owned();
        let args = ["node", "start", "--home", home.as_str()];
        let process = Process::spawn(&self.names[i], &self.binary, &args, &self.logs[i])?;
        info!(node = %self.names[i], pid = process.pid(), "started");
        self.processes[i] = Some(process);
        Ok(())
    }

    pub(crate) fn start_all(&mut self) -> Result<(), TestkitError> {
        (0..self.len()).try_for_each(|i| self.start(i))
    }

    /// Stops node `i`; a node that exits uncleanly after SIGTERM is no error here (the
    /// chain's checks judge what it left behind).
    pub(crate) fn stop(&mut self, i: usize, how: Stop) -> Result<(), TestkitError> {
        let Some(process) = self.processes[i].take() else {
            return Ok(());
        };
        info!(node = %self.names[i], %how, "stopping");
        stop_process(process, how)
    }

    /// Stops every running node at the same moment: one thread per node, so that every
    /// SIGTERM is sent before any node has finished shutting down.
    pub(crate) fn stop_all(&mut self, how: Stop) -> Result<(), TestkitError> {
        let taken: Vec<Process> = self.processes.iter_mut().filter_map(Option::take).collect();
        info!(nodes = taken.len(), %how, "stopping the whole network");
        let results: Vec<Result<(), TestkitError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = taken
                .into_iter()
                .map(|process| scope.spawn(move || stop_process(process, how)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(TestkitError::Invalid {
                            what: "stop thread",
                            reason: "panicked".into(),
                        })
                    })
                })
                .collect()
        });
        results.into_iter().collect()
    }

    /// Nodes that were started and have exited on their own since, with the error that
    /// says so; they are forgotten, so a restart starts them again.
    pub(crate) fn reap_exited(&mut self) -> Vec<(usize, TestkitError)> {
        let mut exited = Vec::new();
        for (i, slot) in self.processes.iter_mut().enumerate() {
            if let Some(Err(e)) = slot.as_ref().map(Process::check_running) {
                exited.push((i, e));
                *slot = None;
            }
        }
        exited
    }
}

fn stop_process(process: Process, how: Stop) -> Result<(), TestkitError> {
    match how {
        Stop::Kill => process.kill().map(drop),
        Stop::Term => {
            let name = process.name().to_owned();
            match process.terminate(TERM_WAIT) {
                Ok(_) => Ok(()),
                // `terminate` killed it; what it left behind is checked like a kill -9.
                Err(TestkitError::Timeout { secs, .. }) => {
                    warn!(node = %name, secs, "no exit after SIGTERM; killed");
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
    }
}

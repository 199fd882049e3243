//! Errors of the harness: processes, ports, files, nodes' answers and disagreements.

use std::path::PathBuf;

use simin_types::{Hash, Height};

/// Why a harness operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
    #[error("no free block of {count} ports after {tries} tries")]
    NoFreePorts { count: usize, tries: usize },
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    #[error("node {node} is not running")]
    NotRunning { node: String },
    #[error("node {node} exited ({status}); see {log}")]
    Exited {
        node: String,
        status: String,
        log: PathBuf,
    },
    #[error("timed out after {secs} s waiting for {what}")]
    Timeout { what: String, secs: u64 },
    #[error(transparent)]
    Client(#[from] simin_client::ClientError),
    #[error("{node} has no block at height {height}")]
    MissingBlock { node: String, height: Height },
    #[error("fork at height {height}: {detail}")]
    Fork {
        height: Height,
        detail: Box<ForkDetail>,
    },
}

impl TestkitError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| TestkitError::Io {
            action,
            path,
            source,
        }
    }
}

/// Two nodes' different blocks at one height.
#[derive(Debug)]
pub struct ForkDetail {
    pub a: String,
    pub b: String,
    pub hash_a: Hash,
    pub hash_b: Hash,
    pub root_a: Hash,
    pub root_b: Hash,
}

impl std::fmt::Display for ForkDetail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} has block {} (state {}), {} has {} (state {})",
            self.a, self.hash_a, self.root_a, self.b, self.hash_b, self.root_b
        )
    }
}

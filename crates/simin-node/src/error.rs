//! Errors of starting and running a node.

use std::path::PathBuf;

/// Why a node could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid {what} in {path}: {reason}")]
    Invalid {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("the store in {path} belongs to another chain than {genesis}")]
    GenesisMismatch { path: PathBuf, genesis: PathBuf },
    #[error(transparent)]
    Store(#[from] simin_state::StoreError),
    #[error(transparent)]
    Ledger(#[from] simin_ledger::LedgerError),
    #[error(transparent)]
    Consensus(#[from] simin_consensus::ConsensusError),
    #[error("cannot listen for the HTTP API on {address}: {source}")]
    Listen {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the HTTP API stopped: {0}")]
    Api(std::io::Error),
    /// A task that runs as long as the node ended: the node cannot go on.
    #[error("the node's {task} stopped: {reason}")]
    TaskEnded { task: &'static str, reason: String },
}

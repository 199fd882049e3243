//! The vault's errors: failures of the service ([`VaultError`]) and why a request was
//! refused ([`RequestError`], mapped to HTTP statuses and problem+json in `http`).

use simin_client::ClientError;
use simin_types::Hash;

/// A failure of the vault itself (storage, the node).
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("database error while {op}: {reason}")]
    Database { op: &'static str, reason: String },
    #[error("a stored {what} is corrupt: {reason}")]
    Corrupt { what: &'static str, reason: String },
    #[error("record {0} exists already")]
    Exists(Hash),
    #[error("no record {0} in this vault")]
    UnknownRecord(Hash),
    #[error(transparent)]
    Node(#[from] ClientError),
    #[error("the node answered {what} unexpectedly: {reason}")]
    NodeAnswer { what: &'static str, reason: String },
    #[error("the node refused {call}: {code}: {message}")]
    NodeRefused {
        call: &'static str,
        code: String,
        message: String,
    },
    #[error("{call} was not committed in time (transaction {tx_hash})")]
    NotCommitted { call: &'static str, tx_hash: String },
    #[error("a background task failed: {0}")]
    Task(String),
}

/// Why a request was not served.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Malformed input (400).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The admin bearer token is missing or wrong (401).
    #[error("the admin token is missing or wrong")]
    Unauthorized,
    /// The reader's proof of a logged, consented access does not hold (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such record here (404).
    #[error("no record {0} in this vault")]
    NotFound(Hash),
    /// The record was erased: its key is destroyed (410).
    #[error("record {id} was erased at height {height}: its key is destroyed and its content unreadable")]
    Erased { id: Hash, height: u64 },
    /// The node refused the transaction the vault submitted (409), e.g. a record erased
    /// already or an owner key that belongs to an organisation.
    #[error("the chain refused it: {code}: {message}")]
    Refused { code: String, message: String },
    #[error(transparent)]
    Failed(#[from] VaultError),
}

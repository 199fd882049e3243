//! Errors of talking to a node and of keeping trust anchors.

use std::path::PathBuf;

/// Why a request to a node failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid node URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    Build(reqwest::Error),
    #[error("request to {url} timed out")]
    Timeout { url: String },
    #[error("cannot reach the node at {url}: {source}")]
    Connect { url: String, source: reqwest::Error },
    #[error("request to {url} failed: {source}")]
    Http { url: String, source: reqwest::Error },
    /// The node answered with an RFC 9457 problem; `type_uri` is stable and matchable.
    #[error("the node refused ({status} {title}): {detail}")]
    Problem {
        status: u16,
        type_uri: String,
        title: String,
        detail: String,
    },
    #[error("unexpected HTTP status {status} from {url}: {body}")]
    UnexpectedStatus {
        url: String,
        status: u16,
        body: String,
    },
    #[error("the response from {url} is over the limit of {max} bytes")]
    ResponseTooLarge { url: String, max: usize },
    #[error("cannot decode {what} from the node: {reason}")]
    Decode { what: &'static str, reason: String },
}

impl ClientError {
    /// The problem slug (the last segment of the problem `type`, e.g. `nonce-too-low`)
    /// when the node answered with a problem.
    pub fn problem_slug(&self) -> Option<&str> {
        match self {
            ClientError::Problem { type_uri, .. } => {
                Some(type_uri.rsplit('/').next().unwrap_or(type_uri))
            }
            _ => None,
        }
    }

    /// Whether the request never got an answer in time (worth retrying elsewhere).
    pub fn is_timeout(&self) -> bool {
        matches!(self, ClientError::Timeout { .. })
    }
}

/// Why a trust anchor could not be read, written or agreed with.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
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
    #[error("{path} is {len} bytes, over the limit of {max}")]
    TooLarge { path: PathBuf, len: u64, max: u64 },
    #[error("no home directory: set HOME or pass a trust directory")]
    NoHome,
    #[error(
        "the pinned validator set of chain {chain_id} ({pinned}) differs from the node's \
         ({offered}); if the chain really changed its validators, remove {path} to re-pin"
    )]
    PinMismatch {
        chain_id: String,
        pinned: String,
        offered: String,
        path: PathBuf,
    },
}

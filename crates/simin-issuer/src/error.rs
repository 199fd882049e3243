//! The issuer's errors: what went wrong in the service ([`IssuerError`]) and why a
//! request was refused ([`RequestError`], with the OAuth 2.0 and OpenID4VCI error codes
//! of [`ProtocolError`]).

use std::path::PathBuf;

use simin_client::ClientError;
use simin_identity::card::CardError;

/// A failure of the service itself (configuration, storage, the node).
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
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
    #[error("invalid configuration in {path}: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error("{0} exists already; an issuer home is never overwritten")]
    HomeExists(PathBuf),
    #[error("database error while {op}: {reason}")]
    Database { op: &'static str, reason: String },
    #[error("a stored {what} is corrupt: {reason}")]
    Corrupt { what: &'static str, reason: String },
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
    #[error("status list {list} exists on chain with purpose {got}, expected {expected}")]
    StatusListMismatch {
        list: u32,
        expected: &'static str,
        got: String,
    },
    #[error("{kid} is not an assertionMethod key of the DID with the credential-signing key {key}; register it before issuing")]
    SigningKeyNotInDid { kid: String, key: String },
    #[error("status list {list} has no free index left to draw at random")]
    StatusListFull { list: u32 },
    #[error("too many {what} outstanding; try again later")]
    Busy { what: &'static str },
    #[error("cannot issue the credential: {0}")]
    Card(#[from] CardError),
    #[error("a background task failed: {0}")]
    Task(String),
}

impl IssuerError {
    pub(crate) fn db<E: std::fmt::Display>(op: &'static str) -> impl FnOnce(E) -> IssuerError {
        move |e| IssuerError::Database {
            op,
            reason: e.to_string(),
        }
    }
}

/// The error codes of RFC 6749 section 5.2, RFC 6750 section 3.1 and OpenID4VCI 1.0
/// (token and credential endpoints).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    InvalidRequest,
    InvalidGrant,
    UnsupportedGrantType,
    InvalidToken,
    InvalidProof,
    InvalidNonce,
    InvalidCredentialRequest,
    UnknownCredentialConfiguration,
}

impl ProtocolError {
    /// The `error` value on the wire.
    pub fn code(self) -> &'static str {
        match self {
            ProtocolError::InvalidRequest => "invalid_request",
            ProtocolError::InvalidGrant => "invalid_grant",
            ProtocolError::UnsupportedGrantType => "unsupported_grant_type",
            ProtocolError::InvalidToken => "invalid_token",
            ProtocolError::InvalidProof => "invalid_proof",
            ProtocolError::InvalidNonce => "invalid_nonce",
            ProtocolError::InvalidCredentialRequest => "invalid_credential_request",
            ProtocolError::UnknownCredentialConfiguration => "unknown_credential_configuration",
        }
    }
}

/// Why a request was not served.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// An OAuth 2.0 or OpenID4VCI protocol error, answered as `{error, error_description}`.
    #[error("{}: {description}", .code.code())]
    Protocol {
        code: ProtocolError,
        description: String,
    },
    /// An admin request that cannot be served as asked.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The admin bearer token is missing or wrong.
    #[error("the admin token is missing or wrong")]
    Unauthorized,
    #[error("no {what} {id}")]
    NotFound { what: &'static str, id: String },
    /// The request contradicts the resource's state (e.g. suspending a revoked card).
    #[error("{0}")]
    Conflict(String),
    /// The service is not ready to offer or issue yet (its status lists are not on chain).
    #[error("not ready: waiting for {0}")]
    NotReady(String),
    #[error(transparent)]
    Failed(#[from] IssuerError),
}

impl RequestError {
    pub(crate) fn protocol(code: ProtocolError, description: impl Into<String>) -> RequestError {
        RequestError::Protocol {
            code,
            description: description.into(),
        }
    }

    /// The protocol error code, if this is one.
    pub fn protocol_code(&self) -> Option<ProtocolError> {
        match self {
            RequestError::Protocol { code, .. } => Some(*code),
            _ => None,
        }
    }
}

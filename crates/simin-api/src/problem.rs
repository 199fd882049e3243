//! The one error type of the HTTP edge and its RFC 9457 `application/problem+json` bodies.
//!
//! Every problem `type` is `https://simin.dev/problems/<slug>`; slugs are stable API: a
//! client may match on them, so they are only ever added, never renamed.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use simin_types::Height;

use crate::backend::{BackendError, SubmitError};
use crate::dto::Problem;

/// The prefix of every problem type URI.
pub const PROBLEM_TYPE_BASE: &str = "https://simin.dev/problems/";

/// The media type of error bodies.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Everything a request can fail with; each maps to one status and one problem type.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Submit(#[from] SubmitError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("malformed JSON body: {0}")]
    MalformedJson(String),
    #[error("invalid hex in {what}: {reason}")]
    InvalidHex { what: &'static str, reason: String },
    #[error("invalid {what}: {reason}")]
    InvalidParameter { what: &'static str, reason: String },
    #[error("unsupported content type {0:?}; send application/json or application/octet-stream")]
    UnsupportedMediaType(String),
    #[error("the request body is over the limit of {max} bytes")]
    PayloadTooLarge { max: usize },
    #[error("no block at height {0}")]
    BlockNotFound(Height),
    #[error("no block has been committed yet")]
    NoBlockYet,
    #[error("no committed transaction has hash {0}")]
    TxNotFound(String),
    #[error("document {0} has never been anchored")]
    NotAnchored(String),
    #[error("no {what} {id}")]
    NotFound { what: &'static str, id: String },
    #[error("the server failed while answering: {0}")]
    Internal(String),
}

impl ApiError {
    /// The status code, stable problem slug and title of this error.
    pub fn kind(&self) -> (StatusCode, &'static str, &'static str) {
        use StatusCode as S;
        match self {
            ApiError::Submit(e) => submit_kind(e),
            ApiError::Backend(BackendError::HeightNotAvailable { .. }) => {
                (S::NOT_FOUND, "height-not-available", "Height not available")
            }
            ApiError::Backend(BackendError::Unavailable(_)) => {
                (S::SERVICE_UNAVAILABLE, "unavailable", "Node unavailable")
            }
            ApiError::Backend(BackendError::Internal(_)) | ApiError::Internal(_) => {
                (S::INTERNAL_SERVER_ERROR, "internal", "Internal error")
            }
            ApiError::MalformedJson(_) => (S::BAD_REQUEST, "malformed-json", "Malformed JSON"),
            ApiError::InvalidHex { .. } => (S::BAD_REQUEST, "invalid-hex", "Invalid hex"),
            ApiError::InvalidParameter { .. } => {
                (S::BAD_REQUEST, "invalid-parameter", "Invalid parameter")
            }
            ApiError::UnsupportedMediaType(_) => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            ApiError::PayloadTooLarge { .. } => (
                S::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
            ),
            ApiError::BlockNotFound(_) | ApiError::NoBlockYet => {
                (S::NOT_FOUND, "block-not-found", "Block not found")
            }
            ApiError::TxNotFound(_) => (S::NOT_FOUND, "tx-not-found", "Transaction not found"),
            ApiError::NotAnchored(_) => (S::NOT_FOUND, "not-anchored", "Document not anchored"),
            ApiError::NotFound { .. } => (S::NOT_FOUND, "not-found", "Not found"),
        }
    }
}

fn submit_kind(error: &SubmitError) -> (StatusCode, &'static str, &'static str) {
    use StatusCode as S;
    match error {
        SubmitError::BadEncoding(_) => (S::BAD_REQUEST, "bad-encoding", "Undecodable transaction"),
        SubmitError::TooLarge { .. } => (
            S::PAYLOAD_TOO_LARGE,
            "tx-too-large",
            "Transaction too large",
        ),
        SubmitError::WrongChainId { .. } => {
            (S::UNPROCESSABLE_ENTITY, "wrong-chain-id", "Wrong chain id")
        }
        SubmitError::BadSignature => (S::UNPROCESSABLE_ENTITY, "bad-signature", "Bad signature"),
        SubmitError::NonceTooLow { .. } => (S::CONFLICT, "nonce-too-low", "Nonce too low"),
        SubmitError::NonceTooHigh { .. } => {
            (S::UNPROCESSABLE_ENTITY, "nonce-too-high", "Nonce too high")
        }
        SubmitError::Expired { .. } => (S::UNPROCESSABLE_ENTITY, "expired", "Transaction expired"),
        SubmitError::Duplicate => (S::CONFLICT, "duplicate", "Duplicate transaction"),
        SubmitError::MempoolFull => (S::SERVICE_UNAVAILABLE, "mempool-full", "Mempool full"),
        SubmitError::InvalidCall(_) => (S::UNPROCESSABLE_ENTITY, "invalid-call", "Invalid call"),
        SubmitError::Unavailable(_) => (S::SERVICE_UNAVAILABLE, "unavailable", "Node unavailable"),
        SubmitError::NotAuthorized { .. } => (S::FORBIDDEN, "not-authorized", "Not authorized"),
        SubmitError::CallRefused { .. } => {
            (S::UNPROCESSABLE_ENTITY, "call-refused", "Call refused")
        }
        SubmitError::TooManyPending { .. } => (
            S::TOO_MANY_REQUESTS,
            "too-many-pending",
            "Too many pending transactions",
        ),
    }
}

/// Builds a problem+json response.
pub fn problem_response(status: StatusCode, slug: &str, title: &str, detail: String) -> Response {
    let problem = Problem {
        type_uri: format!("{PROBLEM_TYPE_BASE}{slug}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail,
    };
    let body = serde_json::to_vec(&problem)
        .expect("a Problem serializes because it holds only strings and an integer");
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, slug, title) = self.kind();
        if status.is_server_error() {
            tracing::warn!(error = %self, slug, "request failed on the server side");
        } else {
            tracing::debug!(error = %self, slug, "request refused");
        }
        problem_response(status, slug, title, self.to_string())
    }
}

/// The problem slug and title for an error response built by the framework or a layer
/// (unknown route, wrong method, timeout, body limit), which carries no problem body.
pub fn framework_kind(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => ("not-found", "Not found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "Method not allowed"),
        StatusCode::REQUEST_TIMEOUT => ("request-timeout", "Request timeout"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload-too-large", "Payload too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", "Unsupported media type"),
        s if s.is_server_error() => ("internal", "Internal error"),
        _ => ("bad-request", "Bad request"),
    }
}

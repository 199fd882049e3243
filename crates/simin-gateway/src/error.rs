//! The provider's errors: failures of the provider itself ([`GatewayError`]) and refusals
//! of a request, with the error codes the OAuth 2.0 and OpenID Connect specifications
//! name ([`OAuthError`], [`AuthorizeError`]).

use axum::http::StatusCode;
use simin_client::ClientError;

/// A failure of the provider (its node, its configuration), not of the request.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(transparent)]
    Node(#[from] ClientError),
    #[error("the node answered {what} unexpectedly: {reason}")]
    NodeAnswer { what: &'static str, reason: String },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("too many {what} outstanding; try again later")]
    Busy { what: &'static str },
    /// The access log's write-ahead journal failed: nothing is released meanwhile.
    #[error("the access-log journal failed while {op}: {reason}")]
    Journal { op: &'static str, reason: String },
}

/// An OAuth 2.0 / OpenID Connect error response: `{error, error_description}`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    /// The registered error code, e.g. `invalid_grant`.
    pub code: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            code,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_request", description)
    }

    /// The HTTP status of this error at the token and userinfo endpoints (RFC 6749
    /// section 5.2, RFC 6750 section 3.1).
    pub fn status(&self) -> StatusCode {
        match self.code {
            "invalid_client" | "invalid_token" => StatusCode::UNAUTHORIZED,
            "insufficient_scope" => StatusCode::FORBIDDEN,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<GatewayError> for OAuthError {
    fn from(e: GatewayError) -> Self {
        match e {
            GatewayError::Busy { .. } => OAuthError::new("temporarily_unavailable", e.to_string()),
            _ => OAuthError::new("server_error", e.to_string()),
        }
    }
}

/// Why an authorization request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    /// The client or the redirect URI cannot be trusted: the error is shown to the user
    /// and never sent to the redirect URI (RFC 6749 section 4.1.2.1).
    #[error("{0}")]
    Show(OAuthError),
    /// Sent back to the client's redirect URI as `error`, `error_description`, `state`
    /// and `iss` (RFC 9207).
    #[error("{error}")]
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
}

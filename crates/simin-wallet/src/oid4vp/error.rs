//! Why presenting to a verifier failed: [`Oid4vpError`], and the endpoints it names.

use std::fmt;

use simin_identity::jose::JoseError;

use crate::error::WalletError;
use crate::present::PresentError;

/// The longest server-provided text kept in an error (descriptions, unexpected bodies).
const SERVER_TEXT_CHARS_MAX: usize = 300;

/// An endpoint the wallet talks to during a presentation, named in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Oid4vpEndpoint {
    /// The verifier's `request_uri` (the signed request object).
    RequestUri,
    /// The node's DID resolution (`GET /v1/dids/{did}`).
    DidResolution,
    /// The verifier's `response_uri` (`direct_post`).
    ResponseUri,
    /// The gateway's `/access-log/start`.
    AccessLogStart,
}

impl fmt::Display for Oid4vpEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Oid4vpEndpoint::RequestUri => "the verifier's request URI",
            Oid4vpEndpoint::DidResolution => "the node's DID resolution",
            Oid4vpEndpoint::ResponseUri => "the verifier's response URI",
            Oid4vpEndpoint::AccessLogStart => "the gateway's access log",
        })
    }
}

/// Why a presentation to a verifier failed.
///
/// Server-provided text in these errors has its control characters removed and is cut
/// short, so printing an error cannot drive a terminal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Oid4vpError {
    /// The link is not an OpenID4VP request this wallet runs.
    #[error("invalid presentation request link: {reason}")]
    InvalidLink {
        /// What is wrong.
        reason: String,
    },
    /// The verifier wants the request object fetched with POST.
    #[error("the verifier asks for request_uri_method=post, which this wallet does not support (only get)")]
    RequestUriMethodPost,
    /// The client identifier is not `decentralized_identifier:did:simin:<org>`.
    #[error("unsupported verifier client_id {client_id:?}: this wallet presents only to decentralized_identifier:did:simin:<organisation>")]
    UnsupportedClientId {
        /// The client identifier (cut short).
        client_id: String,
    },
    /// A URL is unusable (malformed, or not `https` outside the loopback interface).
    #[error("invalid {what} {url:?}: {reason}")]
    InvalidUrl {
        /// Which URL.
        what: &'static str,
        /// The URL (cut short).
        url: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The request object is malformed or asks for something this wallet does not do.
    #[error("invalid request object: {reason}")]
    InvalidRequestObject {
        /// What is wrong.
        reason: String,
    },
    /// The request object's `kid` names a key of another DID than the client id's.
    #[error("the request object is signed with {kid:?}, which is not a key of the verifier {did}")]
    KidMismatch {
        /// The header's `kid` (cut short).
        kid: String,
        /// The DID of the client identifier.
        did: String,
    },
    /// The request object names another verifier than the link.
    #[error("the request object is from {request:?}, but the link named {link:?}")]
    ClientIdMismatch {
        /// The link's `client_id`.
        link: String,
        /// The request object's `client_id` (cut short).
        request: String,
    },
    /// The request object's signature does not verify with the verifier's key.
    #[error("the request object's signature does not verify with the verifier's key: {0}")]
    Signature(JoseError),
    /// The request object has expired.
    #[error(
        "the request has expired (exp {expires_at}, now {now}); ask the service for a new one"
    )]
    Expired {
        /// Its `exp`, Unix seconds.
        expires_at: i64,
        /// The wallet's time.
        now: i64,
    },
    /// The verifier's DID does not resolve to a usable document.
    #[error("cannot resolve the verifier {did}: {reason}")]
    VerifierResolution {
        /// The verifier's DID.
        did: String,
        /// Why.
        reason: String,
    },
    /// The verifier's DID is deactivated.
    #[error("the verifier {did} is deactivated")]
    VerifierDeactivated {
        /// The verifier's DID.
        did: String,
    },
    /// The verifier's DID document lists no key `kid` for assertions or authentication.
    #[error(
        "the verifier's DID document has no key {kid} under assertionMethod or authentication"
    )]
    VerifierKeyNotFound {
        /// The request object's `kid`.
        kid: String,
    },
    /// The DCQL query asks for something this wallet cannot give.
    #[error("unsupported credential query: {reason}")]
    UnsupportedQuery {
        /// What is asked.
        reason: String,
    },
    /// The wallet holds no credential of a type the query accepts.
    #[error("this wallet holds no {} credential of type {} (receive one with `simin wallet receive`)", crate::oid4vci::FORMAT_SD_JWT_VC, vct_values.join(" or "))]
    NoCredential {
        /// The accepted types.
        vct_values: Vec<String>,
    },
    /// The chosen credential lacks claims the verifier asks for.
    #[error("the credential has no claim {} asked for by the verifier (its claims: {})", missing.join(", "), available.join(", "))]
    MissingClaims {
        /// The claims asked for and absent.
        missing: Vec<String>,
        /// The claims the credential has.
        available: Vec<String>,
    },
    /// The presentation could not be built.
    #[error(transparent)]
    Present(#[from] PresentError),
    /// The verifier answered with an OAuth error.
    #[error("{endpoint} refused the presentation ({error}){}", description.as_ref().map(|d| format!(" (verifier says: {d})")).unwrap_or_default())]
    Refused {
        /// Which endpoint.
        endpoint: Oid4vpEndpoint,
        /// The HTTP status.
        status: u16,
        /// The `error` code (control characters removed, cut short).
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
    },
    /// An endpoint answered with an unexpected HTTP status and no OAuth error.
    #[error("{endpoint} answered HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    UnexpectedStatus {
        /// Which endpoint.
        endpoint: Oid4vpEndpoint,
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// A response body does not have the expected form.
    #[error("invalid answer from {endpoint}: {reason}")]
    InvalidResponse {
        /// Which endpoint.
        endpoint: Oid4vpEndpoint,
        /// What is wrong.
        reason: String,
    },
    /// A response body is larger than this wallet reads from that endpoint.
    #[error("the answer from {endpoint} is larger than {limit_bytes} bytes")]
    ResponseTooLarge {
        /// Which endpoint.
        endpoint: Oid4vpEndpoint,
        /// The limit.
        limit_bytes: usize,
    },
    /// The request could not be made or timed out.
    #[error("cannot reach {endpoint} at {url}: {reason}")]
    Transport {
        /// Which endpoint.
        endpoint: Oid4vpEndpoint,
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The wallet store could not be read.
    #[error(transparent)]
    Store(#[from] WalletError),
}

/// Server-provided text made safe to print: control characters (including the escape
/// that starts terminal sequences) become spaces, and it is cut to `chars_max` characters.
pub(crate) fn server_text(text: &str, chars_max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(chars_max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(chars_max).is_some() {
        out.push('…');
    }
    out
}

/// The error an endpoint answered with a non-success status: its `error` and
/// `error_description` from a JSON body, else the status and the start of the body.
pub(crate) fn error_answer(endpoint: Oid4vpEndpoint, status: u16, body: &[u8]) -> Oid4vpError {
    let value = serde_json::from_slice::<serde_json::Value>(body).ok();
    let code = value
        .as_ref()
        .and_then(|v| v.get("error"))
        .and_then(serde_json::Value::as_str);
    match code {
        Some(code) => Oid4vpError::Refused {
            endpoint,
            status,
            error: server_text(code, 64),
            description: value
                .as_ref()
                .and_then(|v| v.get("error_description"))
                .and_then(serde_json::Value::as_str)
                .map(|d| server_text(d, SERVER_TEXT_CHARS_MAX)),
        },
        None => Oid4vpError::UnexpectedStatus {
            endpoint,
            status,
            body: server_text(&String::from_utf8_lossy(&body[..body.len().min(400)]), 200),
        },
    }
}

/// A JSON object body, or an [`Oid4vpError::InvalidResponse`].
pub(crate) fn json_object(
    endpoint: Oid4vpEndpoint,
    body: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, Oid4vpError> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(object)) => Ok(object),
        Ok(_) => Err(Oid4vpError::InvalidResponse {
            endpoint,
            reason: "the body is not a JSON object".into(),
        }),
        Err(err) => Err(Oid4vpError::InvalidResponse {
            endpoint,
            reason: format!(
                "the body is not JSON: {}",
                server_text(&err.to_string(), SERVER_TEXT_CHARS_MAX)
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_answer_names_its_code_and_description() {
        let body = br#"{"error":"invalid_request","error_description":"nonce\u001b[2J used"}"#;
        let err = error_answer(Oid4vpEndpoint::ResponseUri, 400, body);
        let text = err.to_string();
        assert!(text.contains("(invalid_request)"), "{text}");
        assert!(text.contains("verifier says: nonce [2J used"), "{text}");
        let err = error_answer(Oid4vpEndpoint::ResponseUri, 502, b"bad gateway");
        assert!(
            matches!(err, Oid4vpError::UnexpectedStatus { status: 502, ref body, .. } if body == "bad gateway"),
            "{err:?}"
        );
    }
}

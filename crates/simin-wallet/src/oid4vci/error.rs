//! Why receiving a credential failed: [`Oid4vciError`], and the OAuth error codes an
//! issuer answers with.

use std::fmt;

use simin_identity::sd_jwt::SdJwtError;

use super::offer::TxCodeInputMode;
use crate::error::WalletError;

/// The longest server-provided text kept in an error (descriptions, unexpected bodies).
const SERVER_TEXT_CHARS_MAX: usize = 300;

/// A protocol endpoint the wallet talks to, named in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// The `credential_offer_uri` of an offer passed by reference.
    CredentialOffer,
    /// `/.well-known/openid-credential-issuer`.
    IssuerMetadata,
    /// `/.well-known/oauth-authorization-server`.
    AuthorizationServerMetadata,
    /// The authorization server's token endpoint.
    Token,
    /// The issuer's nonce endpoint.
    Nonce,
    /// The issuer's credential endpoint.
    Credential,
    /// The node's DID resolution (`GET /v1/dids/{did}`).
    DidResolution,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Endpoint::CredentialOffer => "the credential offer URI",
            Endpoint::IssuerMetadata => "the issuer metadata",
            Endpoint::AuthorizationServerMetadata => "the authorization server metadata",
            Endpoint::Token => "the token endpoint",
            Endpoint::Nonce => "the nonce endpoint",
            Endpoint::Credential => "the credential endpoint",
            Endpoint::DidResolution => "the node's DID resolution",
        })
    }
}

/// An OAuth `error` code: RFC 6749 section 5.2 (token endpoint), RFC 6750 section 3.1
/// (bearer tokens) and OpenID4VCI 1.0 section 8.3.1.2 (credential endpoint).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// `invalid_request`.
    InvalidRequest,
    /// `invalid_client`.
    InvalidClient,
    /// `invalid_grant`.
    InvalidGrant,
    /// `unauthorized_client`.
    UnauthorizedClient,
    /// `unsupported_grant_type`.
    UnsupportedGrantType,
    /// `invalid_scope`.
    InvalidScope,
    /// `invalid_token`.
    InvalidToken,
    /// `insufficient_scope`.
    InsufficientScope,
    /// `invalid_credential_request`.
    InvalidCredentialRequest,
    /// `unknown_credential_configuration`.
    UnknownCredentialConfiguration,
    /// `unknown_credential_identifier`.
    UnknownCredentialIdentifier,
    /// `invalid_proof`.
    InvalidProof,
    /// `invalid_nonce`.
    InvalidNonce,
    /// `invalid_encryption_parameters`.
    InvalidEncryptionParameters,
    /// `credential_request_denied`.
    CredentialRequestDenied,
    /// Any other code, as sent (control characters removed, cut to 64 characters).
    Other(String),
}

impl OAuthErrorCode {
    /// Parses an `error` value.
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            "invalid_token" => Self::InvalidToken,
            "insufficient_scope" => Self::InsufficientScope,
            "invalid_credential_request" => Self::InvalidCredentialRequest,
            "unknown_credential_configuration" => Self::UnknownCredentialConfiguration,
            "unknown_credential_identifier" => Self::UnknownCredentialIdentifier,
            "invalid_proof" => Self::InvalidProof,
            "invalid_nonce" => Self::InvalidNonce,
            "invalid_encryption_parameters" => Self::InvalidEncryptionParameters,
            "credential_request_denied" => Self::CredentialRequestDenied,
            other => Self::Other(server_text(other, 64)),
        }
    }

    /// The code as sent on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidCredentialRequest => "invalid_credential_request",
            Self::UnknownCredentialConfiguration => "unknown_credential_configuration",
            Self::UnknownCredentialIdentifier => "unknown_credential_identifier",
            Self::InvalidProof => "invalid_proof",
            Self::InvalidNonce => "invalid_nonce",
            Self::InvalidEncryptionParameters => "invalid_encryption_parameters",
            Self::CredentialRequestDenied => "credential_request_denied",
            Self::Other(code) => code,
        }
    }
}

impl fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an issuer's refusal means for the citizen, where the code says more than itself.
fn refusal_hint(endpoint: Endpoint, code: &OAuthErrorCode) -> &'static str {
    match (endpoint, code) {
        // OpenID4VCI 1.0 section 6.3 gives invalid_grant for an expired or used
        // pre-authorized code and for a wrong transaction code alike.
        (Endpoint::Token, OAuthErrorCode::InvalidGrant) => {
            ": the offer has expired or was already used, or the transaction code is wrong"
        }
        (Endpoint::Token, OAuthErrorCode::InvalidRequest) => {
            ": a transaction code was missing or not expected, or the request is malformed"
        }
        (Endpoint::Token, OAuthErrorCode::InvalidClient) => {
            ": the issuer does not serve wallets without a registered client id"
        }
        (_, OAuthErrorCode::InvalidToken) => ": the access token was refused or has expired",
        (_, OAuthErrorCode::InvalidProof) => ": the key proof was refused",
        (_, OAuthErrorCode::InvalidNonce) => ": the key proof's nonce was refused",
        (_, OAuthErrorCode::UnknownCredentialConfiguration) => {
            ": the issuer does not know the offered credential"
        }
        (_, OAuthErrorCode::CredentialRequestDenied) => ": the issuer will not issue it",
        _ => "",
    }
}

/// Why receiving a credential failed.
///
/// Server-provided text in these errors (descriptions, bodies, codes) has its control
/// characters removed and is cut short, so printing an error cannot drive a terminal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Oid4vciError {
    /// The offer link is not a credential offer.
    #[error("invalid credential offer link: {reason}")]
    InvalidOfferUri {
        /// What is wrong.
        reason: String,
    },
    /// The credential offer object is malformed.
    #[error("invalid credential offer: {reason}")]
    InvalidOffer {
        /// What is wrong.
        reason: String,
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
    /// The offer has no pre-authorized code grant (the only flow this wallet runs).
    #[error("the offer has no pre-authorized code; the authorization code flow is not supported")]
    UnsupportedGrant,
    /// The offer requires a transaction code and none was given.
    #[error("the issuer requires a transaction code ({input_mode}{}){}", length.map(|l| format!(", {l} characters")).unwrap_or_default(), description.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    TxCodeRequired {
        /// The issuer's guidance on where to find it.
        description: Option<String>,
        /// Its length, if the issuer says.
        length: Option<u32>,
        /// Its character set.
        input_mode: TxCodeInputMode,
    },
    /// A transaction code was given for an offer that requires none.
    #[error("the offer requires no transaction code, but one was given")]
    TxCodeNotExpected,
    /// The given transaction code does not fit what the offer announces.
    #[error("invalid transaction code: {reason}")]
    InvalidTxCode {
        /// What is wrong.
        reason: String,
    },
    /// A metadata document is malformed or lacks something the flow needs.
    #[error("invalid {endpoint}: {reason}")]
    InvalidMetadata {
        /// Which document.
        endpoint: Endpoint,
        /// What is wrong.
        reason: String,
    },
    /// A metadata document names another issuer than the one it was fetched for.
    #[error("{endpoint} names {got:?}, not {expected:?} it was fetched for")]
    IssuerMismatch {
        /// Which document.
        endpoint: Endpoint,
        /// The identifier the document was fetched for.
        expected: String,
        /// The identifier in the document.
        got: String,
    },
    /// The offer names a configuration absent from the issuer metadata.
    #[error("the issuer metadata has no credential configuration {id:?}")]
    UnknownConfiguration {
        /// The configuration id.
        id: String,
    },
    /// The offered configuration is of a kind this wallet cannot receive.
    #[error("credential configuration {id:?} is not supported: {reason}")]
    UnsupportedConfiguration {
        /// The configuration id.
        id: String,
        /// Why.
        reason: String,
    },
    /// An endpoint answered with an OAuth error.
    #[error("{endpoint} refused the request ({code}){}{}", refusal_hint(*endpoint, code), description.as_ref().map(|d| format!(" (issuer says: {d})")).unwrap_or_default())]
    Refused {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The HTTP status.
        status: u16,
        /// The OAuth `error` code.
        code: OAuthErrorCode,
        /// The `error_description`, if any.
        description: Option<String>,
    },
    /// An endpoint answered with an unexpected HTTP status and no OAuth error.
    #[error("{endpoint} answered HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    UnexpectedStatus {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// A response body does not have the expected form.
    #[error("invalid answer from {endpoint}: {reason}")]
    InvalidResponse {
        /// Which endpoint.
        endpoint: Endpoint,
        /// What is wrong.
        reason: String,
    },
    /// A response body is larger than this wallet reads from that endpoint.
    #[error("the answer from {endpoint} is larger than {limit_bytes} bytes")]
    ResponseTooLarge {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The limit.
        limit_bytes: usize,
    },
    /// The request could not be made or timed out.
    #[error("cannot reach {endpoint} at {url}: {reason}")]
    Transport {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The issuer deferred issuance; deferred credentials are not supported yet.
    #[error("the issuer deferred the issuance (transaction {transaction_id}); deferred issuance is not supported")]
    Deferred {
        /// The issuer's transaction id.
        transaction_id: String,
    },
    /// The issued credential is not a well-formed SD-JWT VC.
    #[error("the issued credential is malformed: {reason}")]
    InvalidCredential {
        /// What is wrong.
        reason: String,
    },
    /// The issued credential is bound to another key than this wallet's holder key.
    #[error("the issued credential is bound to another key than this wallet's (cnf.jwk)")]
    HolderKeyMismatch,
    /// The issued credential's `vct` is not the offered configuration's.
    #[error("the issued credential has vct {got:?}, but {expected:?} was offered")]
    VctMismatch {
        /// The configuration's `vct`.
        expected: String,
        /// The credential's `vct`.
        got: String,
    },
    /// The issuer's DID does not resolve to a usable document.
    #[error("cannot resolve the issuer {did}: {reason}")]
    IssuerResolution {
        /// The issuer's DID.
        did: String,
        /// Why.
        reason: String,
    },
    /// The issuer's DID is deactivated.
    #[error("the issuer {did} is deactivated")]
    IssuerDeactivated {
        /// The issuer's DID.
        did: String,
    },
    /// The issuer's DID document has no assertion key with the credential's `kid`.
    #[error(
        "the issuer's DID document has no key {kid} for signing credentials (assertionMethod)"
    )]
    IssuerKeyNotFound {
        /// The credential's `kid`.
        kid: String,
    },
    /// The issuer's signature does not verify with the key its DID document names.
    #[error("the credential does not verify with the issuer's key: {0}")]
    IssuerSignature(SdJwtError),
    /// The wallet store refused the credential.
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

/// [`server_text`] with the default length.
pub(crate) fn server_description(text: &str) -> String {
    server_text(text, SERVER_TEXT_CHARS_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_cannot_drive_a_terminal() {
        assert_eq!(server_text("ok\u{1b}[2Jgone\n", 100), "ok [2Jgone ");
        assert_eq!(server_text("abcdef", 3), "abc…");
        assert_eq!(server_text("abc", 3), "abc");
    }

    #[test]
    fn codes_round_trip() {
        for code in [
            "invalid_request",
            "invalid_grant",
            "invalid_nonce",
            "credential_request_denied",
            "something_new",
        ] {
            assert_eq!(OAuthErrorCode::parse(code).as_str(), code);
        }
        assert_eq!(
            OAuthErrorCode::parse("x\u{7}y"),
            OAuthErrorCode::Other("x y".into())
        );
    }

    #[test]
    fn an_invalid_grant_at_the_token_endpoint_explains_itself() {
        let err = Oid4vciError::Refused {
            endpoint: Endpoint::Token,
            status: 400,
            code: OAuthErrorCode::InvalidGrant,
            description: Some("code expired".into()),
        };
        let text = err.to_string();
        assert!(text.contains("invalid_grant"), "{text}");
        assert!(text.contains("expired"), "{text}");
        assert!(text.contains("transaction code is wrong"), "{text}");
        assert!(text.contains("issuer says: code expired"), "{text}");
    }
}

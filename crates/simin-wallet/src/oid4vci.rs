//! Receiving credentials with OpenID for Verifiable Credential Issuance 1.0, pre-authorized
//! code flow, for SD-JWT VCs (`dc+sd-jwt`) bound to the holder's key.
//!
//! The protocol is pure functions, one per step, each a request builder or a response
//! parser with a typed [`Oid4vciError`] (naming the OAuth `error` code a server sent):
//!
//! 1. [`parse_offer_uri`]: the link the citizen scanned, by value or by reference;
//! 2. [`well_known_urls`], [`parse_issuer_metadata`],
//!    [`parse_authorization_server_metadata`]: where the issuer's endpoints are;
//! 3. [`token_request_body`], [`parse_token_response`]: the pre-authorized code (and
//!    transaction code) for an access token;
//! 4. [`parse_nonce_response`], [`proof_jwt`]: a key proof over the issuer's `c_nonce`;
//! 5. [`credential_request_body`], [`parse_credential_response`]: the credential;
//! 6. [`check_credential`], [`issuer_key_from_resolution`], [`verify_issuer_signature`]:
//!    what is checked before the wallet stores it.
//!
//! [`Oid4vciClient`] (feature `http`, on by default) drives them over reqwest, with a
//! timeout on every request, no redirects, and a size limit on every response.
//! Deliberately absent: the authorization code flow, deferred issuance, DPoP, encrypted
//! requests and responses, signed metadata, key attestations and batch issuance.

mod check;
#[cfg(feature = "http")]
mod client;
mod credential;
mod error;
mod metadata;
mod offer;
mod token;

use simin_identity::sd_jwt::MAX_SD_JWT_LEN;

pub use check::{
    check_credential, issuer_key_from_resolution, verify_issuer_signature, CheckedCredential,
    FORMAT_SD_JWT_VC,
};
#[cfg(feature = "http")]
pub use client::{HttpConfig, Oid4vciClient, ReceiveRequest, Received, ReceivedCredential};
pub use credential::{
    credential_request_body, parse_credential_response, proof_jwt, CredentialTarget, TYP_PROOF_JWT,
};
pub use error::{Endpoint, OAuthErrorCode, Oid4vciError};
pub use metadata::{
    authorization_server_candidates, authorization_server_url, parse_authorization_server_metadata,
    parse_issuer_metadata, well_known_urls, AuthorizationServerMetadata, CredentialConfiguration,
    IssuerMetadata, AUTHORIZATION_SERVER_WELL_KNOWN, ISSUER_WELL_KNOWN, PROOF_ALG, PROOF_TYPE_JWT,
};
pub use offer::{
    check_issuer_identifier, check_url, parse_credential_offer, parse_offer_uri, CredentialOffer,
    OfferSource, PreAuthorizedGrant, TxCodeInputMode, TxCodeSpec, OFFER_SCHEME,
    PRE_AUTHORIZED_GRANT_TYPE,
};
pub use token::{
    parse_error_response, parse_nonce_response, parse_token_response, token_request_body,
    TokenResponse,
};

/// The longest offer link accepted, in bytes.
pub const OFFER_URI_BYTES_MAX: usize = 64 * 1024;
/// The largest credential offer object accepted, in bytes.
pub const OFFER_BYTES_MAX: usize = 64 * 1024;
/// The most credential configurations one offer may name.
pub const CONFIGURATIONS_PER_OFFER_MAX: usize = 16;
/// The most credential identifiers a token response may grant per configuration.
pub const CREDENTIAL_IDENTIFIERS_MAX: usize = 16;
/// The most authorization servers an issuer may list.
pub const AUTHORIZATION_SERVERS_MAX: usize = 8;
/// The most verification methods read from a DID document.
pub const VERIFICATION_METHODS_MAX: usize = 64;
/// The longest configuration id or credential identifier, in bytes.
pub const IDENTIFIER_BYTES_MAX: usize = 1024;
/// The longest pre-authorized code, in bytes.
pub const PRE_AUTHORIZED_CODE_BYTES_MAX: usize = 4096;
/// The longest transaction code, in bytes.
pub const TX_CODE_BYTES_MAX: usize = 256;
/// The longest transaction code description (OpenID4VCI 1.0 section 4.1.1).
pub const TX_CODE_DESCRIPTION_CHARS_MAX: usize = 300;
/// The longest access token, in bytes.
pub const ACCESS_TOKEN_BYTES_MAX: usize = 16 * 1024;
/// The longest `c_nonce`, in bytes.
pub const NONCE_BYTES_MAX: usize = 1024;

impl Endpoint {
    /// The largest response body read from this endpoint, in bytes.
    pub fn response_bytes_max(self) -> usize {
        match self {
            Endpoint::CredentialOffer => OFFER_BYTES_MAX,
            Endpoint::IssuerMetadata | Endpoint::AuthorizationServerMetadata => 512 * 1024,
            Endpoint::Token => 64 * 1024,
            Endpoint::Nonce => 8 * 1024,
            // One credential plus the JSON around it.
            Endpoint::Credential => MAX_SD_JWT_LEN + 64 * 1024,
            Endpoint::DidResolution => 256 * 1024,
        }
    }
}

//! Presenting the citizen card with OpenID for Verifiable Presentations 1.0: "Sign in with
//! Citizen Card" at the city's gateway, and reading the citizen's access log there.
//!
//! The profile is narrow on purpose: the request is passed by reference
//! (`request_uri`, fetched with GET), signed by a verifier identified by a `did:simin`
//! DID (client identifier prefix `decentralized_identifier`), answered with
//! `direct_post`, and asks with DCQL for one SD-JWT VC (`dc+sd-jwt`) and top-level claims
//! by name. The protocol is pure functions with a typed [`Oid4vpError`]:
//!
//! 1. [`parse_request_link`]: the link the citizen scanned or clicked;
//! 2. [`request_object_header`], [`verifier_key_from_resolution`],
//!    [`verify_request_object`]: the signed request object, checked against the key the
//!    verifier's DID document names;
//! 3. [`select_credential`], [`check_claims`], [`build_presentation`]: the stored card
//!    that answers the query, and its presentation bound to the request's nonce and
//!    client id;
//! 4. [`response_body`], [`decline_body`], [`parse_verifier_answer`]: the `direct_post`
//!    of the `vp_token` and the verifier's answer (a redirect, or the access log).
//!
//! [`Oid4vpClient`] (feature `http`, on by default) drives them over reqwest with the
//! timeouts of [`crate::oid4vci::HttpConfig`], no redirects, and a size limit on every
//! answer. Deliberately absent: requests by value, `request_uri_method=post`, other
//! client identifier prefixes, encrypted responses (`direct_post.jwt`), `credential_sets`,
//! `claim_sets`, value matching and nested claim paths.

mod answer;
#[cfg(feature = "http")]
mod client;
mod dcql;
mod error;
mod link;
mod request;
mod respond;

pub use answer::{parse_verifier_answer, AccessLog, AccessLogEntry, ReleasedAt, VerifierAnswer};
#[cfg(feature = "http")]
pub use client::Oid4vpClient;
pub use dcql::{parse_dcql_query, CredentialQuery};
pub use error::{Oid4vpEndpoint, Oid4vpError};
pub use link::{parse_request_link, RequestLink, CLIENT_ID_PREFIX, LINK_SCHEME};
pub use request::{
    request_object_header, verifier_key_from_resolution, verify_request_object,
    AuthorizationRequest, Purpose, RequestObjectHeader, Service, RESPONSE_MODE_DIRECT_POST,
    RESPONSE_TYPE_VP_TOKEN, TYP_REQUEST_OBJECT,
};
pub use respond::{
    build_presentation, check_claims, decline_body, response_body, select_credential,
};

/// The longest request link accepted, in bytes.
pub const LINK_BYTES_MAX: usize = 8 * 1024;
/// The largest request object accepted, in bytes.
pub const REQUEST_OBJECT_BYTES_MAX: usize = 64 * 1024;
/// The most claims one request may ask for.
pub const CLAIMS_MAX: usize = 32;
/// The most `vct_values` one credential query may list.
pub const VCT_VALUES_MAX: usize = 16;
/// The longest claim name, credential query id or `vct`, in bytes.
pub const NAME_BYTES_MAX: usize = 256;
/// The longest `state`, in bytes.
pub const STATE_BYTES_MAX: usize = 1024;
/// The longest DID accepted as a verifier, in bytes.
pub const DID_BYTES_MAX: usize = 256;
/// The most entries read from an access log.
pub const ACCESS_LOG_ENTRIES_MAX: usize = 4096;
/// How far in the future a request object's `iat` may be, for clock differences.
pub const CLOCK_SKEW_SECS: i64 = 60;

impl Oid4vpEndpoint {
    /// The largest response body read from this endpoint, in bytes.
    pub fn response_bytes_max(self) -> usize {
        match self {
            Oid4vpEndpoint::RequestUri => REQUEST_OBJECT_BYTES_MAX,
            Oid4vpEndpoint::DidResolution => 256 * 1024,
            // An access log of ACCESS_LOG_ENTRIES_MAX entries of about 400 bytes each.
            Oid4vpEndpoint::ResponseUri => 2 * 1024 * 1024,
            Oid4vpEndpoint::AccessLogStart => 16 * 1024,
        }
    }
}

//! The auth module's calls and records: the registry of services that sign citizens in
//! with the citizen card (OpenID Connect relying parties), and the citizens' access log.
//!
//! No personal data: a service registration names an organisation, URLs and claim
//! names; an access record names a service, the claim *names* it received, the pairwise
//! subject it knows the citizen by (a different opaque value for every service sector,
//! so records of two services cannot be linked), and a commitment (a SHA-256) to what
//! was released. Only the citizen (through the identity provider) can find their records.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::{BlockTime, Hash, Height, OrgId};

/// Calls of the auth module. New variants are only ever appended (ADR 0002).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthCall {
    /// Registers a service (an OpenID Connect client), or replaces its registration.
    /// Signed by a key of `organization`, which must be active and hold the `Service`
    /// role; a registration is replaced only by its organisation or a city authority.
    RegisterService(ServiceRegistration),
    /// Ends a registration: the identity provider refuses it from the next block. By the
    /// service's organisation or a city authority.
    DeregisterService { client_id: String },
    /// Records what an identity provider released (logins and verifications). Signed by
    /// a key of an organisation with the `IdentityProvider` role.
    RecordAccess { entries: Vec<AccessEntry> },
}

impl AuthCall {
    /// A short stable name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            AuthCall::RegisterService(_) => "auth.register_service",
            AuthCall::DeregisterService { .. } => "auth.deregister_service",
            AuthCall::RecordAccess { .. } => "auth.record_access",
        }
    }
}

/// A service that signs citizens in: an OpenID Connect client of the city's identity
/// provider. What `state_keys::service(client_id)` holds.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ServiceRegistration {
    /// The OAuth `client_id`: 1 to 64 characters of `a-z`, `0-9`, `.`, `-`, `_`.
    pub client_id: String,
    /// The organisation running the service; also its pairwise-subject sector.
    pub organization: OrgId,
    /// The name shown to citizens on the approval page, 1 to 200 bytes.
    pub name: String,
    /// Exact redirect URIs (OAuth 2.0 Security BCP: exact matching), 1 to
    /// `limits::SERVICE_REDIRECT_URIS_MAX`; `https://`, or `http://` on loopback.
    pub redirect_uris: Vec<String>,
    /// The scopes the service may ask for (`openid` is implied), each 1 to 64 characters
    /// of `a-z`, `0-9`, `_`; what the identity provider maps to claims.
    pub scopes: Vec<String>,
    /// SHA-256 of the client secret of a confidential client (a random secret of 32
    /// bytes or more); `None`: a public client, which must use PKCE.
    pub secret_hash: Option<Hash>,
    /// False once deregistered; set by the ledger, ignored in calls.
    #[serde(default = "active_default")]
    pub active: bool,
}

fn active_default() -> bool {
    true
}

/// What kind of release an access record logs.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AccessKind {
    /// An OpenID Connect login: the service received an ID token (and userinfo).
    Login,
    /// A presentation verified for a service outside a login (e.g. a facility check-in).
    Verification,
}

/// One release of claims to a service, as the identity provider reports it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AccessEntry {
    pub kind: AccessKind,
    /// The registered service that received the claims.
    pub client_id: String,
    /// The pairwise subject the service knows the citizen by (its ID token's `sub`),
    /// 1 to 64 characters of base64url.
    pub subject: String,
    /// The names of the claims released (never their values), sorted, at most
    /// `limits::ACCESS_CLAIMS_MAX`.
    pub claims: Vec<String>,
    /// SHA-256 of the token the service received (the ID token): lets the service and
    /// an auditor later show what was released, and hides the values from everyone else.
    pub commitment: Hash,
    /// When the identity provider released the claims, by its clock.
    pub released_at: BlockTime,
}

/// What `state_keys::access_record(subject, seq)` holds.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AccessRecord {
    pub entry: AccessEntry,
    /// The identity provider that reported it.
    pub provider: OrgId,
    pub height: Height,
    pub block_time: BlockTime,
}

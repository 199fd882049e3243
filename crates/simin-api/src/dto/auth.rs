//! The JSON shapes of the service registry and the citizens' access log
//! (`/v1/services`, `/v1/access-log`).
//!
//! A registration is shown without its client secret hash: `confidential` only says
//! whether there is one.

use serde::{Deserialize, Serialize};
use simin_types::{AccessKind, Hash, ServiceRegistration};
use utoipa::{IntoParams, ToSchema};

use super::schema;

/// A registered service, as listed by `GET /v1/services`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServiceInfo {
    /// The OAuth `client_id`.
    pub client_id: String,
    /// The organisation running the service.
    pub organization: String,
    /// The name shown to citizens.
    pub name: String,
    /// The exact redirect URIs the identity provider accepts.
    pub redirect_uris: Vec<String>,
    /// The scopes the service may ask for (`openid` is implied).
    pub scopes: Vec<String>,
    /// True for a confidential client (it has a secret), false for a public one (PKCE).
    pub confidential: bool,
    /// False once deregistered.
    pub active: bool,
}

impl ServiceInfo {
    /// The public view of a stored registration.
    pub fn new(registration: &ServiceRegistration) -> ServiceInfo {
        ServiceInfo {
            client_id: registration.client_id.clone(),
            organization: registration.organization.to_string(),
            name: registration.name.clone(),
            redirect_uris: registration.redirect_uris.clone(),
            scopes: registration.scopes.clone(),
            confidential: registration.secret_hash.is_some(),
            active: registration.active,
        }
    }
}

/// Every registered service, in registration order (`GET /v1/services`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServiceList {
    /// The height whose state was read.
    pub height: u64,
    pub services: Vec<ServiceInfo>,
}

/// One registered service (`GET /v1/services/{client_id}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServiceLookup {
    pub client_id: String,
    pub organization: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    /// True for a confidential client (it has a secret), false for a public one (PKCE).
    pub confidential: bool,
    /// False once deregistered.
    pub active: bool,
    /// The height whose state was read.
    pub height: u64,
}

impl ServiceLookup {
    /// The public view of a stored registration read at `height`.
    pub fn new(registration: &ServiceRegistration, height: u64) -> ServiceLookup {
        let info = ServiceInfo::new(registration);
        ServiceLookup {
            client_id: info.client_id,
            organization: info.organization,
            name: info.name,
            redirect_uris: info.redirect_uris,
            scopes: info.scopes,
            confidential: info.confidential,
            active: info.active,
            height,
        }
    }
}

/// One access record of a pairwise subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessRecordInfo {
    /// The record's number in the subject's log, from 0.
    pub seq: u64,
    /// `login` or `verification`.
    #[schema(value_type = schema::AccessKind)]
    pub kind: AccessKind,
    /// The service that received the claims.
    pub client_id: String,
    /// The names of the released claims (never their values), sorted.
    pub claims: Vec<String>,
    /// SHA-256 of the token the service received.
    #[schema(value_type = schema::HashHex)]
    pub commitment: Hash,
    /// When the identity provider released the claims (RFC 3339, its clock).
    pub released_at: String,
    /// The identity provider that reported the release.
    pub provider: String,
    /// The height of the block that recorded it.
    pub height: u64,
    /// That block's time, in milliseconds since the Unix epoch.
    pub block_time: u64,
}

/// A page of one pairwise subject's access log (`GET /v1/access-log/{subject}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessLog {
    pub subject: String,
    /// How many records the subject has in all.
    pub count: u64,
    /// The height whose state was read.
    pub height: u64,
    /// Records `from` onwards, oldest first.
    pub records: Vec<AccessRecordInfo>,
}

/// Query of `GET /v1/access-log/{subject}`.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccessLogQuery {
    /// The first record number to return; default 0.
    pub from: Option<u64>,
    /// How many records; default 100, capped at 256.
    pub limit: Option<u64>,
}

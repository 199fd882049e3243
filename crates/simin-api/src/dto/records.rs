//! The JSON shapes of citizens' personal records (`/v1/records`): a record's public
//! part (commitment, holder, the owner's per-record key), its access log, and consents.
//!
//! Nothing here is personal: the content of a record lives encrypted in its holder's
//! vault, never on chain.

use serde::{Deserialize, Serialize};
use simin_types::{Consent, Hash, PersonalRecord, PublicKey, RecordEvent, RecordLogEntry};
use utoipa::{IntoParams, ToSchema};

use super::schema;

/// A record and a page of its log (`GET /v1/records/{id}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordLookup {
    #[schema(value_type = schema::HashHex)]
    pub id: Hash,
    /// The organisation holding the record (and running its vault).
    pub holder: String,
    /// The owner's key for this record only.
    #[schema(value_type = schema::PublicKeyHex)]
    pub owner: PublicKey,
    pub kind: String,
    /// SHA-256 of the sealed content (nonce ‖ ciphertext) the holder keeps.
    #[schema(value_type = schema::HashHex)]
    pub commitment: Hash,
    /// Milliseconds since the Unix epoch.
    pub created_time: u64,
    /// Set once erased (the key destroyed).
    pub erased_time: Option<u64>,
    /// How many entries the log has.
    pub log_count: u64,
    /// The entries from `from`.
    pub log: Vec<RecordLogInfo>,
    /// The height whose state was read.
    pub height: u64,
}

impl RecordLookup {
    /// The view of a stored record with a page of its log starting at `from`.
    pub fn new(
        record: &PersonalRecord,
        log_count: u64,
        from: u64,
        log: Vec<RecordLogEntry>,
        height: u64,
    ) -> RecordLookup {
        RecordLookup {
            id: record.id,
            holder: record.holder.to_string(),
            owner: record.owner,
            kind: record.kind.clone(),
            commitment: record.commitment,
            created_time: record.created_time.0,
            erased_time: record.erased_time.map(|t| t.0),
            log_count,
            log: (from..)
                .zip(log)
                .map(|(seq, entry)| RecordLogInfo {
                    seq,
                    event: event_name(entry.event).into(),
                    organization: entry.organization.map(|o| o.to_string()),
                    purpose: entry.purpose,
                    height: entry.height.0,
                    time: entry.time.0,
                })
                .collect(),
            height,
        }
    }
}

/// The wire name of a log event.
pub fn event_name(event: RecordEvent) -> &'static str {
    match event {
        RecordEvent::Created => "created",
        RecordEvent::ConsentGranted => "consent_granted",
        RecordEvent::ConsentRevoked => "consent_revoked",
        RecordEvent::Read => "read",
        RecordEvent::Erased => "erased",
    }
}

/// One entry of a record's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordLogInfo {
    pub seq: u64,
    /// `created`, `consent_granted`, `consent_revoked`, `read` or `erased`.
    pub event: String,
    /// The organisation concerned (the reader, the grantee, the holder).
    pub organization: Option<String>,
    pub purpose: Option<String>,
    pub height: u64,
    /// Milliseconds since the Unix epoch.
    pub time: u64,
}

/// The page of a record's log to return.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordLogQuery {
    /// The first log entry to return; default 0.
    pub from: Option<u64>,
    /// How many entries; default and cap 256.
    pub limit: Option<u64>,
}

/// Which consent (`GET /v1/records/{id}/consents`).
#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsentQuery {
    /// The organisation the consent is for.
    pub organization: String,
    /// The purpose it is for.
    pub purpose: String,
}

/// A consent and whether it lets the organisation read now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsentLookup {
    #[schema(value_type = schema::HashHex)]
    pub record: Hash,
    pub organization: String,
    pub purpose: String,
    /// The end of the consent (exclusive), milliseconds since the Unix epoch.
    pub expires: u64,
    pub revoked_time: Option<u64>,
    /// Not revoked, not expired at the latest block time, and the record not erased.
    pub valid: bool,
    pub height: u64,
}

impl ConsentLookup {
    pub fn new(consent: &Consent, valid: bool, height: u64) -> ConsentLookup {
        ConsentLookup {
            record: consent.record,
            organization: consent.organization.to_string(),
            purpose: consent.purpose.clone(),
            expires: consent.expires.0,
            revoked_time: consent.revoked_time.map(|t| t.0),
            valid,
            height,
        }
    }
}

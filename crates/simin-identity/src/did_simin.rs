//! `did:simin`: organisations' DIDs, whose documents live in chain state (see
//! `docs/did-simin.md`, the method specification).
//!
//! This module renders a stored [`DidRecord`] as a W3C DID Core document and its DID
//! Resolution result; reading the record (at a height or a time) is the node's part.

use ed25519_dalek::VerifyingKey;
use serde_json::{json, Map, Value};
use simin_types::identity::{did_of, DID_METHOD_PREFIX};
use simin_types::{BlockTime, DidRecord, Relationship};

use crate::did_key::ed25519_multikey;

/// The `@context` of a `did:simin` document.
pub const DID_CONTEXTS: [&str; 2] = [
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/multikey/v1",
];

/// Why a time could not be read or written as an `xsd:dateTime`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("{0:?} is not an RFC 3339 date-time (e.g. 2026-11-24T09:00:00Z)")]
    Unparsable(String),
    #[error("{0:?} is before 1970 or too far in the future")]
    OutOfRange(String),
}

/// A block time (Unix milliseconds) as an RFC 3339 / `xsd:dateTime` UTC string, with
/// milliseconds only when they are not zero.
pub fn xsd_datetime(time: BlockTime) -> String {
    let seconds = i64::try_from(time.0 / 1000).unwrap_or(i64::MAX);
    let millis = time.0 % 1000;
    match time::OffsetDateTime::from_unix_timestamp(seconds) {
        Ok(t) => {
            let base = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            );
            if millis == 0 {
                format!("{base}Z")
            } else {
                format!("{base}.{millis:03}Z")
            }
        }
        // Only past year 9999; block times never get there.
        Err(_) => "9999-12-31T23:59:59Z".to_owned(),
    }
}

/// Parses an RFC 3339 date-time (any offset) into Unix milliseconds.
pub fn parse_xsd_datetime(text: &str) -> Result<BlockTime, TimeError> {
    if text.len() > 64 {
        return Err(TimeError::Unparsable(text.chars().take(64).collect()));
    }
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| TimeError::Unparsable(text.to_owned()))?;
    let millis = t.unix_timestamp_nanos() / 1_000_000;
    u64::try_from(millis)
        .map(BlockTime)
        .map_err(|_| TimeError::OutOfRange(text.to_owned()))
}

/// The DID Core document of a stored record.
pub fn did_document(record: &DidRecord) -> Value {
    let did = did_of(&record.organization);
    let methods: Vec<Value> = record
        .verification_methods
        .iter()
        .map(|m| {
            let multikey = VerifyingKey::from_bytes(&m.public_key.0)
                .map(|k| ed25519_multikey(&k))
                // The ledger admits only valid keys; an invalid one is published as
                // absent rather than as a wrong key.
                .unwrap_or_default();
            json!({
                "id": format!("{did}#{}", m.fragment),
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multikey,
            })
        })
        .collect();
    let mut doc = Map::new();
    doc.insert("@context".into(), json!(DID_CONTEXTS));
    doc.insert("id".into(), json!(did));
    doc.insert("controller".into(), json!(did));
    doc.insert("verificationMethod".into(), Value::Array(methods));
    for relationship in Relationship::ALL {
        let refs: Vec<Value> = record
            .verification_methods
            .iter()
            .filter(|m| m.relationships.contains(&relationship))
            .map(|m| json!(format!("{did}#{}", m.fragment)))
            .collect();
        if !refs.is_empty() {
            doc.insert(relationship.property().into(), Value::Array(refs));
        }
    }
    if !record.services.is_empty() {
        let services: Vec<Value> = record
            .services
            .iter()
            .map(|s| {
                json!({
                    "id": format!("{did}#{}", s.fragment),
                    "type": s.service_type,
                    "serviceEndpoint": s.endpoint,
                })
            })
            .collect();
        doc.insert("service".into(), Value::Array(services));
    }
    Value::Object(doc)
}

/// The DID document metadata of a stored record (DID Core §7.1.3).
pub fn did_document_metadata(record: &DidRecord) -> Value {
    json!({
        "created": xsd_datetime(record.created_time),
        "updated": xsd_datetime(record.updated_time),
        "deactivated": record.deactivated,
        "versionId": record.version.to_string(),
    })
}

/// A DID Resolution result (W3C DID Resolution) for a resolved record.
pub fn resolution_result(record: &DidRecord) -> Value {
    json!({
        "@context": "https://w3id.org/did-resolution/v1",
        "didDocument": did_document(record),
        "didResolutionMetadata": { "contentType": "application/did+ld+json" },
        "didDocumentMetadata": did_document_metadata(record),
    })
}

/// A DID Resolution result for an error (`invalidDid`, `notFound`, `methodNotSupported`).
pub fn resolution_error(error: &str, message: &str) -> Value {
    json!({
        "@context": "https://w3id.org/did-resolution/v1",
        "didDocument": null,
        "didResolutionMetadata": { "error": error, "errorMessage": message },
        "didDocumentMetadata": {},
    })
}

/// Whether `did` uses this method.
pub fn is_did_simin(did: &str) -> bool {
    did.starts_with(DID_METHOD_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use simin_types::{
        BlockTime, DidService, Height, OrgId, PublicKey, Relationship, VerificationMethod,
    };

    fn record() -> DidRecord {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        DidRecord {
            organization: OrgId::new("mapo.library").expect("valid"),
            verification_methods: vec![VerificationMethod {
                fragment: "key-1".into(),
                public_key: PublicKey(key.to_bytes()),
                relationships: vec![
                    Relationship::AssertionMethod,
                    Relationship::CapabilityInvocation,
                ],
            }],
            services: vec![DidService {
                fragment: "oid4vci".into(),
                service_type: "OpenID4VCI".into(),
                endpoint: "https://library.mapo.go.kr".into(),
            }],
            deactivated: false,
            created_height: Height(3),
            created_time: BlockTime(1_700_000_000_000),
            updated_height: Height(9),
            updated_time: BlockTime(1_700_000_001_500),
            version: 2,
            key_history: vec![],
        }
    }

    #[test]
    fn documents_follow_did_core() {
        let doc = did_document(&record());
        assert_eq!(doc["id"], "did:simin:mapo.library");
        let method = &doc["verificationMethod"][0];
        assert_eq!(method["id"], "did:simin:mapo.library#key-1");
        assert_eq!(method["type"], "Multikey");
        let multikey = method["publicKeyMultibase"].as_str().expect("a string");
        assert!(multikey.starts_with("z6Mk"), "{multikey}");
        assert_eq!(
            doc["assertionMethod"],
            json!(["did:simin:mapo.library#key-1"])
        );
        assert_eq!(
            doc["capabilityInvocation"],
            json!(["did:simin:mapo.library#key-1"])
        );
        assert!(doc.get("authentication").is_none());
        assert_eq!(doc["service"][0]["type"], "OpenID4VCI");
        let meta = did_document_metadata(&record());
        assert_eq!(meta["created"], "2023-11-14T22:13:20Z");
        assert_eq!(meta["updated"], "2023-11-14T22:13:21.500Z");
        assert_eq!(meta["versionId"], "2");
    }

    #[test]
    fn times_round_trip_through_rfc3339() {
        for millis in [0, 1_700_000_000_000, 1_700_000_001_500] {
            let text = xsd_datetime(BlockTime(millis));
            assert_eq!(parse_xsd_datetime(&text), Ok(BlockTime(millis)), "{text}");
        }
        assert_eq!(
            parse_xsd_datetime("2023-11-15T07:13:20+09:00"),
            Ok(BlockTime(1_700_000_000_000))
        );
        assert!(parse_xsd_datetime("yesterday").is_err());
        assert!(parse_xsd_datetime("1969-12-31T23:59:59Z").is_err());
    }
}

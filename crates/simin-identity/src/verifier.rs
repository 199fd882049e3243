//! The citizen-card verifier: one function that decides whether a presented SD-JWT VC
//! is acceptable, against chain state and a time.
//!
//! The checks, in order: the presentation's shape; the issuer (`iss`, a `did:simin`) and
//! its signing key (`kid`, an `assertionMethod` of its current DID document); the
//! issuer's signature, every disclosure, validity times and the Key Binding JWT for the
//! verifier's nonce and audience (RFC 9901); the credential type's registered schema; the
//! issuer's accreditation for the type at issuance time (the accreditation chain from the
//! city); and the credential's status bits at the state read. Each refusal is a
//! [`Rejection`] with a stable [`Rejection::code`].
//!
//! State arrives through [`StateView`], so the same function runs inside a node (over its
//! store), in a client (over values it proved against a certified header), and in an
//! offline kiosk (over a proven snapshot).

use serde_json::{Map, Value};
use simin_ledger::identity::{
    accreditation_chain, did_record, schema, status_chunk, status_list, TrustError,
};
use simin_ledger::{LedgerError, StateView};
use simin_types::identity::{organization_of_did, status_bit_position, DID_METHOD_PREFIX};
use simin_types::{BlockTime, OrgId, Relationship};

use crate::card;
use crate::jose::{decode_compact_unverified, Jwk};
use crate::sd_jwt::{self, SdJwt, SdJwtError, VerifyOptions, TYP_SD_JWT_VC};
use crate::status_list::{BitstringStatusListEntry, StatusPurpose};

/// What the verifier asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyRequest<'a> {
    /// The presentation: `<issuer-jwt>~<disclosures>~<kb-jwt>`.
    pub presentation: &'a str,
    /// The nonce this verifier handed to the wallet.
    pub nonce: &'a str,
    /// This verifier's identifier, the Key Binding JWT's `aud`.
    pub audience: &'a str,
    /// The verifier's time, Unix seconds.
    pub now: i64,
    /// Credential types the verifier accepts; empty accepts any registered type.
    pub accepted_types: &'a [&'a str],
}

/// A presentation that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedPresentation {
    /// The credential type (`vct`).
    pub credential_type: String,
    /// The issuer's DID and organisation.
    pub issuer: String,
    pub issuer_org: OrgId,
    /// Issuance and expiry, Unix seconds.
    pub issued_at: i64,
    pub expires_at: Option<i64>,
    /// The disclosed claims about the citizen, nothing else.
    pub claims: Map<String, Value>,
    /// The RFC 7638 thumbprint of the holder's key, a stable pseudonym of this card.
    pub holder_thumbprint: String,
}

/// Why a presentation is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejection {
    #[error("the presentation is malformed: {0}")]
    Malformed(String),
    #[error("the issuer is not trusted: {0}")]
    UntrustedIssuer(String),
    #[error("the issuer's signature does not verify")]
    BadSignature,
    #[error("a disclosure was tampered with or does not belong to this credential: {0}")]
    TamperedDisclosure(String),
    #[error("the credential expired")]
    Expired,
    #[error("the credential is not valid yet")]
    NotYetValid,
    #[error("the presentation has no key binding")]
    KeyBindingMissing,
    #[error("the key binding does not verify: {0}")]
    BadKeyBinding(String),
    #[error("the key binding is for another nonce")]
    WrongNonce,
    #[error("the key binding is for another audience")]
    WrongAudience,
    /// A W3C presentation's proof answers another challenge (or none).
    #[error("the presentation's proof is for another challenge")]
    WrongChallenge,
    /// A W3C presentation's proof is for another domain (or none).
    #[error("the presentation's proof is for another domain")]
    WrongDomain,
    /// A presented credential is not about the presentation's holder, or the
    /// presentation's `holder` is not the key that signed it.
    #[error("the holder does not match: {0}")]
    HolderMismatch(String),
    #[error("credential type {0:?} is unknown (no registered schema) or not accepted here")]
    UnknownType(String),
    #[error("the disclosed claims do not match the {credential_type} schema: {reason}")]
    SchemaViolation {
        credential_type: String,
        reason: String,
    },
    #[error("the credential is revoked")]
    Revoked,
    #[error("the credential is suspended")]
    Suspended,
    #[error("the credential's status cannot be checked: {0}")]
    BadStatus(String),
    /// The chain state could not be read: the verifier's fault or a missing value, not a
    /// verdict on the presentation.
    #[error("cannot read chain state: {0}")]
    State(LedgerError),
}

impl Rejection {
    /// A stable machine-readable reason, e.g. `revoked`.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Malformed(_) => "malformed",
            Rejection::UntrustedIssuer(_) => "untrusted_issuer",
            Rejection::BadSignature => "bad_signature",
            Rejection::TamperedDisclosure(_) => "tampered_disclosure",
            Rejection::Expired => "expired",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::KeyBindingMissing => "key_binding_missing",
            Rejection::BadKeyBinding(_) => "bad_key_binding",
            Rejection::WrongNonce => "wrong_nonce",
            Rejection::WrongAudience => "wrong_audience",
            Rejection::WrongChallenge => "wrong_challenge",
            Rejection::WrongDomain => "wrong_domain",
            Rejection::HolderMismatch(_) => "holder_mismatch",
            Rejection::UnknownType(_) => "unknown_type",
            Rejection::SchemaViolation { .. } => "schema_violation",
            Rejection::Revoked => "revoked",
            Rejection::Suspended => "suspended",
            Rejection::BadStatus(_) => "bad_status",
            Rejection::State(_) => "state_unavailable",
        }
    }
}

impl From<LedgerError> for Rejection {
    fn from(e: LedgerError) -> Self {
        Rejection::State(e)
    }
}

fn from_sd_jwt(e: SdJwtError) -> Rejection {
    match e {
        SdJwtError::BadIssuerSignature => Rejection::BadSignature,
        SdJwtError::UnreferencedDisclosure { .. }
        | SdJwtError::DuplicateDisclosure { .. }
        | SdJwtError::DuplicateDigest { .. }
        | SdJwtError::ClaimNameCollision { .. }
        | SdJwtError::MalformedDisclosure { .. } => Rejection::TamperedDisclosure(e.to_string()),
        SdJwtError::Expired { .. } => Rejection::Expired,
        SdJwtError::NotYetValid { .. } | SdJwtError::IssuedInFuture { .. } => {
            Rejection::NotYetValid
        }
        SdJwtError::KeyBindingMissing => Rejection::KeyBindingMissing,
        SdJwtError::WrongNonce { .. } => Rejection::WrongNonce,
        SdJwtError::WrongAudience { .. } => Rejection::WrongAudience,
        SdJwtError::BadKeyBindingSignature
        | SdJwtError::UnexpectedKeyBinding
        | SdJwtError::SdHashMismatch
        | SdJwtError::HolderKeyMissing
        | SdJwtError::HolderKeyMismatch
        | SdJwtError::KeyBindingJwt(_)
        | SdJwtError::KeyBindingMalformed(_)
        | SdJwtError::KeyBindingWrongType { .. }
        | SdJwtError::KeyBindingIatOutOfWindow { .. } => Rejection::BadKeyBinding(e.to_string()),
        other => Rejection::Malformed(other.to_string()),
    }
}

/// Verifies a presentation against `state` (the chain state the verifier trusts, at its
/// current height).
pub fn verify_presentation(
    state: &dyn StateView,
    request: &VerifyRequest<'_>,
) -> Result<VerifiedPresentation, Rejection> {
    // The issuer is read from the unverified payload only to find its key; nothing else
    // is believed before the signature verifies.
    if request.presentation.len() > sd_jwt::MAX_SD_JWT_LEN {
        return Err(Rejection::Malformed(format!(
            "the presentation is over {} bytes",
            sd_jwt::MAX_SD_JWT_LEN
        )));
    }
    let parsed = SdJwt::parse(request.presentation.trim()).map_err(from_sd_jwt)?;
    let (header, payload) = decode_compact_unverified(&parsed.issuer_jwt)
        .map_err(|e| Rejection::Malformed(e.to_string()))?;
    let issuer = string_claim(&payload, "iss")?;
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or_else(|| Rejection::Malformed("the header has no kid".into()))?;
    // The key is the one the DID listed when the credential says it was issued; the
    // signature then vouches for that `iat` too.
    let claimed_iat = payload
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| Rejection::Malformed("iat is missing or not an integer".into()))?;
    // `iat` has whole seconds and block times milliseconds: the issuer read its clock
    // somewhere in the second `iat` names, so its last millisecond is the instant that
    // the key and the accreditation must cover.
    let issued_time = u64::try_from(claimed_iat)
        .ok()
        .and_then(|s| s.checked_mul(1000))
        .and_then(|ms| ms.checked_add(999))
        .map(BlockTime)
        .ok_or_else(|| Rejection::Malformed("iat is out of range".into()))?;
    let (issuer_org, key) = issuer_key(state, &issuer, kid, issued_time)?;

    let options = VerifyOptions {
        expected_typ: Some(TYP_SD_JWT_VC.to_owned()),
        ..VerifyOptions::new(request.now).with_key_binding(request.nonce, request.audience)
    };
    let verified =
        sd_jwt::verify(request.presentation.trim(), &key, &options).map_err(from_sd_jwt)?;
    let Value::Object(claims) = verified.claims else {
        return Err(Rejection::Malformed("the payload is not an object".into()));
    };
    let credential_type = string_claim(&claims, "vct")?;
    if !request.accepted_types.is_empty()
        && !request.accepted_types.contains(&credential_type.as_str())
    {
        return Err(Rejection::UnknownType(credential_type));
    }
    let issued_at = claimed_iat;
    let expires_at = claims.get("exp").and_then(Value::as_i64);
    // The key the Key Binding JWT verified with: `cnf.jwk`, already decoded once.
    let holder = verified
        .key_binding
        .map(|kb| kb.holder_key)
        .ok_or(Rejection::KeyBindingMissing)?;

    // The type must be registered; the disclosed claims must fit its schema.
    let citizen: Map<String, Value> = claims
        .iter()
        .filter(|(name, _)| !card::RESERVED_CLAIMS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let Some(registered) = schema(state, &credential_type)? else {
        return Err(Rejection::UnknownType(credential_type));
    };
    card::validate_claims(&registered.schema, &citizen, false).map_err(|e| {
        Rejection::SchemaViolation {
            credential_type: credential_type.clone(),
            reason: e.to_string(),
        }
    })?;

    // Accredited for the type when it was issued.
    match accreditation_chain(state, &issuer_org, &credential_type, issued_time) {
        Ok(_) => {}
        Err(TrustError::State(e)) => return Err(Rejection::State(e)),
        Err(e) => return Err(Rejection::UntrustedIssuer(e.to_string())),
    }

    // Not revoked, not suspended, as of the state read.
    // A credential that cannot be revoked is not accepted: every simin credential
    // carries its status entries.
    let entries = card::parse_status(&Value::Object(claims.clone()))
        .map_err(|e| Rejection::BadStatus(e.to_string()))?;
    if entries.is_empty() {
        return Err(Rejection::BadStatus(
            "the credential carries no status entry, so it could never be revoked".into(),
        ));
    }
    for entry in &entries {
        check_status(state, &issuer_org, entry)?;
    }

    Ok(VerifiedPresentation {
        credential_type,
        issuer,
        issuer_org,
        issued_at,
        expires_at,
        claims: citizen,
        holder_thumbprint: holder.thumbprint(),
    })
}

fn string_claim(claims: &Map<String, Value>, name: &str) -> Result<String, Rejection> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Rejection::Malformed(format!("{name} is missing or not a string")))
}

/// The issuer's organisation and the `assertionMethod` key named by `kid` as the DID
/// listed it at `issued`, as a JWK (see [`issuer_verifying_key`]).
fn issuer_key(
    state: &dyn StateView,
    issuer: &str,
    kid: &str,
    issued: BlockTime,
) -> Result<(OrgId, Jwk), Rejection> {
    issuer_verifying_key(state, issuer, kid, issued)
        .map(|(org, key)| (org, Jwk::from_ed25519(&key)))
}

/// The issuer's organisation and the `assertionMethod` key named by `kid` as the DID
/// listed it at `issued`; a deactivated DID vouches for nothing. Shared by the SD-JWT VC
/// verifier and the W3C VC verifier ([`crate::vc`]).
pub(crate) fn issuer_verifying_key(
    state: &dyn StateView,
    issuer: &str,
    kid: &str,
    issued: BlockTime,
) -> Result<(OrgId, ed25519_dalek::VerifyingKey), Rejection> {
    let untrusted = |reason: String| Rejection::UntrustedIssuer(reason);
    let org = organization_of_did(issuer)
        .filter(|org| issuer == simin_types::identity::did_of(org))
        .ok_or_else(|| untrusted(format!("{issuer} is not a did:simin DID")))?;
    let fragment = kid
        .strip_prefix(issuer)
        .and_then(|rest| rest.strip_prefix('#'))
        .ok_or_else(|| untrusted(format!("kid {kid} is not a key of {issuer}")))?;
    let Some(doc) = did_record(state, &org)? else {
        return Err(untrusted(format!("{issuer} does not exist")));
    };
    if doc.deactivated {
        return Err(untrusted(format!("{issuer} is deactivated")));
    }
    let method = doc
        .key_at(fragment, Relationship::AssertionMethod, issued)
        .ok_or_else(|| {
            untrusted(format!(
                "{kid} was not an assertionMethod of {issuer} when the credential was issued"
            ))
        })?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&method.public_key.0)
        .map_err(|_| untrusted(format!("{kid} is not a valid Ed25519 key")))?;
    Ok((org, key))
}

/// A status list id names the issuer's own list: `did:simin:<org>/status/<n>`.
pub fn parse_status_list_id(id: &str) -> Option<(OrgId, u32)> {
    let rest = id.strip_prefix(DID_METHOD_PREFIX)?;
    let (org, list) = rest.split_once("/status/")?;
    let org = OrgId::new(org).ok()?;
    let list_ok = !list.is_empty()
        && list.bytes().all(|b| b.is_ascii_digit())
        && (list.len() == 1 || !list.starts_with('0'));
    if !list_ok {
        return None;
    }
    Some((org, list.parse().ok()?))
}

/// Checks one status entry of a credential issued by `issuer` against the bits in
/// state: the list must be the issuer's own, exist, have the entry's purpose and hold
/// the index. Shared with the W3C VC verifier ([`crate::vc`]).
pub(crate) fn check_status(
    state: &dyn StateView,
    issuer: &OrgId,
    entry: &BitstringStatusListEntry,
) -> Result<(), Rejection> {
    let bad = |reason: String| Rejection::BadStatus(reason);
    let (org, list) = parse_status_list_id(&entry.status_list_credential).ok_or_else(|| {
        bad(format!(
            "{} is not a simin status list",
            entry.status_list_credential
        ))
    })?;
    if org != *issuer {
        return Err(bad("the status list is not the issuer's".into()));
    }
    let index = entry
        .index()
        .map_err(|e| bad(e.to_string()))
        .and_then(|i| u32::try_from(i).map_err(|_| bad("the index is too large".into())))?;
    let Some(record) = status_list(state, &org, list)? else {
        return Err(bad(format!(
            "{} does not exist",
            entry.status_list_credential
        )));
    };
    if index >= record.size_bits {
        return Err(bad(format!("index {index} is outside the list")));
    }
    let purpose_matches = matches!(
        (entry.status_purpose, record.purpose),
        (
            StatusPurpose::Revocation,
            simin_types::StatusPurpose::Revocation
        ) | (
            StatusPurpose::Suspension,
            simin_types::StatusPurpose::Suspension
        )
    );
    if !purpose_matches {
        return Err(bad(format!(
            "the entry says {} but the list is for {}",
            entry.status_purpose,
            record.purpose.as_str()
        )));
    }
    let (chunk, byte, mask) = status_bit_position(index);
    let bits = status_chunk(state, &org, list, chunk)?;
    if bits[byte] & mask == 0 {
        return Ok(());
    }
    Err(match record.purpose {
        simin_types::StatusPurpose::Revocation => Rejection::Revoked,
        simin_types::StatusPurpose::Suspension => Rejection::Suspended,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_list_ids_are_did_urls_of_the_issuer() {
        let org = OrgId::new("seoul.agency").expect("valid");
        assert_eq!(
            parse_status_list_id("did:simin:seoul.agency/status/1"),
            Some((org.clone(), 1))
        );
        assert_eq!(
            parse_status_list_id("did:simin:seoul.agency/status/0"),
            Some((org, 0))
        );
        for bad in [
            "did:simin:seoul.agency/status/",
            "did:simin:seoul.agency/status/01",
            "did:simin:seoul.agency/status/-1",
            "did:simin:seoul.agency/status/99999999999",
            "did:web:x/status/1",
            "https://seoul.agency/status/1",
        ] {
            assert_eq!(parse_status_list_id(bad), None, "{bad}");
        }
    }
}

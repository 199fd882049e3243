//! Verifying a W3C credential against chain state.

use serde_json::{Map, Value};
use simin_ledger::identity::{accreditation_chain, schema, TrustError};
use simin_ledger::StateView;
use simin_types::{BlockTime, OrgId};

use super::shape::{clip, from_di, within_bounds, Shape};
use super::{CLOCK_SKEW_SECS, JSON_DEPTH_MAX, JSON_NODES_MAX, PURPOSE_ASSERTION};
use crate::card::{self, STATUS_ENTRIES_MAX};
use crate::di;
use crate::status_list::BitstringStatusListEntry;
use crate::verifier::{check_status, issuer_verifying_key, Rejection};

/// A credential that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedVc {
    /// The credential's `id`, if it has one.
    pub id: Option<String>,
    /// The credential type: the `type` entry other than `VerifiableCredential`.
    pub credential_type: String,
    /// The issuer's DID and organisation.
    pub issuer: String,
    pub issuer_org: OrgId,
    /// The key that signed, `did:simin:<org>#<fragment>`.
    pub verification_method: String,
    /// `validFrom` and `validUntil`, Unix milliseconds.
    pub valid_from: BlockTime,
    pub valid_until: Option<BlockTime>,
    /// `credentialSubject.id`: the holder's DID, if the credential names one.
    pub subject: Option<String>,
    /// The claims about the subject (`credentialSubject` without `id`).
    pub claims: Map<String, Value>,
    /// The status entries, all checked clear.
    pub status: Vec<BitstringStatusListEntry>,
}

/// Verifies a W3C credential against `state` (the chain state the verifier trusts, at
/// its current height) at `now` (Unix seconds): shape, the issuer key as the DID listed
/// it at `validFrom`, the proof, the validity period, the type's schema, the issuer's
/// accreditation for the type at `validFrom`, and the status bits.
pub fn verify_vc(
    state: &dyn StateView,
    credential: &Value,
    now: i64,
) -> Result<VerifiedVc, Rejection> {
    if !within_bounds(credential, JSON_DEPTH_MAX, JSON_NODES_MAX) {
        return Err(Rejection::Malformed(format!(
            "the credential is nested deeper than {JSON_DEPTH_MAX} or has over {JSON_NODES_MAX} values"
        )));
    }
    let shape = Shape::parse(credential, true).map_err(Rejection::Malformed)?;
    // The issuer and validFrom are read before the proof only to find the key; the
    // proof then vouches for them.
    let (issuer_org, key) = issuer_verifying_key(state, shape.issuer, shape.kid, shape.valid_from)?;
    let proof =
        di::verify_proof_jcs(credential, |vm| (vm == shape.kid).then_some(key)).map_err(from_di)?;
    if proof.proof_purpose != PURPOSE_ASSERTION {
        return Err(Rejection::Malformed(format!(
            "the proof's purpose is {:?}, not {PURPOSE_ASSERTION}",
            clip(&proof.proof_purpose)
        )));
    }
    check_period(shape.valid_from, shape.valid_until, now)?;

    let claims: Map<String, Value> = shape
        .subject
        .iter()
        .filter(|(name, _)| name.as_str() != "id")
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let Some(registered) = schema(state, &shape.credential_type)? else {
        return Err(Rejection::UnknownType(shape.credential_type));
    };
    card::validate_claims(&registered.schema, &claims, true).map_err(|e| {
        Rejection::SchemaViolation {
            credential_type: shape.credential_type.clone(),
            reason: e.to_string(),
        }
    })?;
    match accreditation_chain(state, &issuer_org, &shape.credential_type, shape.valid_from) {
        Ok(_) => {}
        Err(TrustError::State(e)) => return Err(Rejection::State(e)),
        Err(e) => return Err(Rejection::UntrustedIssuer(e.to_string())),
    }
    let status = status_entries(credential)?;
    for entry in &status {
        check_status(state, &issuer_org, entry)?;
    }
    Ok(VerifiedVc {
        id: credential
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        credential_type: shape.credential_type,
        issuer: shape.issuer.to_owned(),
        issuer_org,
        verification_method: shape.kid.to_owned(),
        valid_from: shape.valid_from,
        valid_until: shape.valid_until,
        subject: shape.subject_id.map(str::to_owned),
        claims,
        status,
    })
}

/// `validFrom <= now < validUntil`, with [`CLOCK_SKEW_SECS`] of tolerance.
pub(super) fn check_period(
    from: BlockTime,
    until: Option<BlockTime>,
    now: i64,
) -> Result<(), Rejection> {
    let now_ms = i128::from(now).saturating_mul(1000);
    let skew_ms = i128::from(CLOCK_SKEW_SECS) * 1000;
    if i128::from(from.0) > now_ms + skew_ms {
        return Err(Rejection::NotYetValid);
    }
    if until.is_some_and(|until| now_ms - skew_ms >= i128::from(until.0)) {
        return Err(Rejection::Expired);
    }
    Ok(())
}

/// The `credentialStatus` entries (an object or an array of them); a credential that
/// could never be revoked is refused, as by the SD-JWT verifier.
fn status_entries(credential: &Value) -> Result<Vec<BitstringStatusListEntry>, Rejection> {
    let bad = |reason: String| Rejection::BadStatus(reason);
    let entries = match credential.get("credentialStatus") {
        None => &[][..],
        Some(Value::Array(entries)) => entries.as_slice(),
        Some(entry) => std::slice::from_ref(entry),
    };
    if entries.is_empty() {
        return Err(bad(
            "the credential carries no status entry, so it could never be revoked".into(),
        ));
    }
    if entries.len() > STATUS_ENTRIES_MAX {
        return Err(bad(format!(
            "{} status entries, more than {STATUS_ENTRIES_MAX}",
            entries.len()
        )));
    }
    entries
        .iter()
        .map(|entry| {
            let entry: BitstringStatusListEntry = serde_json::from_value(entry.clone())
                .map_err(|e| bad(format!("not a BitstringStatusListEntry: {e}")))?;
            entry.index().map_err(|e| bad(e.to_string()))?;
            Ok(entry)
        })
        .collect()
}

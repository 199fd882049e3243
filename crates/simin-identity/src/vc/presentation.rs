//! Verifying presentations: holder-signed Data Integrity ones and enveloped SD-JWT VCs.

use serde_json::Value;
use simin_ledger::StateView;
use simin_types::BlockTime;

use super::shape::{
    check_context, clip, from_di, holder_did_key, issuer_id, parse_datetime, within_bounds,
};
use super::verify::check_period;
use super::{
    verify_vc, VerifiedVc, JSON_DEPTH_MAX, JSON_NODES_MAX, PRESENTATION_CREDENTIALS_MAX,
    PURPOSE_AUTHENTICATION, SD_JWT_DATA_URL_PREFIX, TYPES_MAX, TYPE_ENVELOPED_CREDENTIAL,
    TYPE_ENVELOPED_PRESENTATION, TYPE_PRESENTATION,
};
use crate::di;
use crate::verifier::{verify_presentation, Rejection, VerifiedPresentation, VerifyRequest};

/// A presentation whose own proof verified; its credentials are yet to be checked.
#[derive(Debug, Clone, PartialEq)]
pub struct PresentationProof<'a> {
    /// The holder's DID, the controller of the key that signed.
    pub holder: String,
    /// The verification method that signed.
    pub verification_method: String,
    /// The credentials it carries, as presented.
    pub credentials: Vec<&'a Value>,
}

/// What [`verify_vp`] accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum VerifiedVp {
    /// A `VerifiablePresentation` with a Data Integrity proof by the holder, and every
    /// credential it carries, each about the holder.
    DataIntegrity {
        holder: String,
        credentials: Vec<VerifiedVc>,
    },
    /// An enveloped SD-JWT VC presentation.
    SdJwt(VerifiedPresentation),
}

/// Verifies a presentation for a verifier who handed out `challenge` and calls itself
/// `domain`, against `state` at `now` (Unix seconds). See the module documentation.
pub fn verify_vp(
    state: &dyn StateView,
    presentation: &Value,
    challenge: &str,
    domain: &str,
    now: i64,
) -> Result<VerifiedVp, Rejection> {
    if let Some(sd_jwt) = enveloped_sd_jwt(presentation)? {
        return verify_presentation(
            state,
            &VerifyRequest {
                presentation: sd_jwt,
                nonce: challenge,
                audience: domain,
                now,
                accepted_types: &[],
            },
        )
        .map(VerifiedVp::SdJwt);
    }
    let checked = verify_vp_proof(presentation, challenge, domain, now)?;
    let credentials = checked
        .credentials
        .iter()
        .map(|credential| {
            let verified = verify_vc(state, credential, now)?;
            bind_to_holder(&verified, &checked.holder)?;
            Ok(verified)
        })
        .collect::<Result<Vec<_>, Rejection>>()?;
    Ok(VerifiedVp::DataIntegrity {
        holder: checked.holder,
        credentials,
    })
}

/// The SD-JWT of an `EnvelopedVerifiablePresentation` whose `id` is
/// `data:application/dc+sd-jwt,<SD-JWT+KB>`; `None` for any other presentation.
pub fn enveloped_sd_jwt(presentation: &Value) -> Result<Option<&str>, Rejection> {
    let is_enveloped = match presentation.get("type") {
        Some(Value::String(t)) => t == TYPE_ENVELOPED_PRESENTATION,
        Some(Value::Array(types)) => types.iter().any(|t| t == TYPE_ENVELOPED_PRESENTATION),
        _ => false,
    };
    if !is_enveloped {
        return Ok(None);
    }
    let id = presentation
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| Rejection::Malformed("the enveloped presentation has no id".into()))?;
    let sd_jwt = id.strip_prefix(SD_JWT_DATA_URL_PREFIX).ok_or_else(|| {
        Rejection::Malformed(format!(
            "an enveloped presentation must be {SD_JWT_DATA_URL_PREFIX}<SD-JWT>"
        ))
    })?;
    Ok(Some(sd_jwt))
}

/// Verifies a `VerifiablePresentation`'s own proof: an `eddsa-jcs-2022` proof with
/// purpose `authentication` by the holder's `did:key` or `did:jwk`, for `challenge` and
/// `domain`, not expired at `now`, and a `holder` (if stated) equal to the signer's DID.
/// No state is read: the credentials it carries are returned unchecked.
pub fn verify_vp_proof<'a>(
    presentation: &'a Value,
    challenge: &str,
    domain: &str,
    now: i64,
) -> Result<PresentationProof<'a>, Rejection> {
    let malformed = |reason: &str| Rejection::Malformed(reason.to_owned());
    if !within_bounds(presentation, JSON_DEPTH_MAX, JSON_NODES_MAX) {
        return Err(malformed("the presentation is too deep or too large"));
    }
    let Value::Object(map) = presentation else {
        return Err(malformed("a presentation is a JSON object"));
    };
    check_context(map.get("@context")).map_err(Rejection::Malformed)?;
    let typed = match map.get("type") {
        Some(Value::String(t)) => t == TYPE_PRESENTATION,
        Some(Value::Array(types)) => {
            types.len() <= TYPES_MAX && types.iter().any(|t| t == TYPE_PRESENTATION)
        }
        _ => false,
    };
    if !typed {
        return Err(malformed("type must include VerifiablePresentation"));
    }
    let vm = match map.get("proof") {
        Some(Value::Object(proof)) => proof.get("verificationMethod").and_then(Value::as_str),
        _ => {
            return Err(malformed(
                "the presentation must carry exactly one proof object",
            ))
        }
    }
    .ok_or_else(|| malformed("proof.verificationMethod is missing"))?;
    if !vm.contains('#') {
        return Err(malformed("proof.verificationMethod must be a DID URL"));
    }
    let (holder, key) = holder_did_key(vm).map_err(Rejection::Malformed)?;
    let proof =
        di::verify_proof_jcs(presentation, |m| (m == vm).then_some(key)).map_err(from_di)?;
    if proof.proof_purpose != PURPOSE_AUTHENTICATION {
        return Err(Rejection::Malformed(format!(
            "the proof's purpose is {:?}, not {PURPOSE_AUTHENTICATION}",
            clip(&proof.proof_purpose)
        )));
    }
    if proof.challenge.as_deref() != Some(challenge) {
        return Err(Rejection::WrongChallenge);
    }
    let domain_ok = match proof.proof_options.get("domain") {
        Some(Value::String(d)) => d == domain,
        Some(Value::Array(ds)) => ds.len() <= TYPES_MAX && ds.iter().any(|d| d == domain),
        _ => false,
    };
    if !domain_ok {
        return Err(Rejection::WrongDomain);
    }
    if let Some(expires) = &proof.expires {
        let expires =
            parse_datetime(&Value::from(expires.as_str())).map_err(Rejection::Malformed)?;
        check_period(BlockTime(0), Some(expires), now)?;
    }
    if let Some(stated) = map.get("holder") {
        if issuer_id(stated) != Some(holder.as_str()) {
            return Err(Rejection::HolderMismatch(
                "the presentation's holder is not the key that signed it".into(),
            ));
        }
    }
    let credentials: Vec<&Value> = match map.get("verifiableCredential") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    if credentials.len() > PRESENTATION_CREDENTIALS_MAX {
        return Err(Rejection::Malformed(format!(
            "a presentation carries at most {PRESENTATION_CREDENTIALS_MAX} credentials"
        )));
    }
    if credentials.iter().any(|c| {
        c.get("type")
            .is_some_and(|t| t == TYPE_ENVELOPED_CREDENTIAL)
    }) {
        return Err(malformed(
            "enveloped credentials inside a Data Integrity presentation are not supported",
        ));
    }
    Ok(PresentationProof {
        holder,
        verification_method: vm.to_owned(),
        credentials,
    })
}

/// A presented credential must be about the holder who presents it.
pub fn bind_to_holder(credential: &VerifiedVc, holder: &str) -> Result<(), Rejection> {
    match credential.subject.as_deref() {
        Some(subject) if subject == holder => Ok(()),
        Some(_) => Err(Rejection::HolderMismatch(
            "the credential is about another subject than the holder".into(),
        )),
        None => Err(Rejection::HolderMismatch(
            "the credential names no subject, so it cannot be bound to the holder".into(),
        )),
    }
}

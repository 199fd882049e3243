//! Reading the members of credentials and presentations before their proofs verify,
//! with bounds on everything untrusted.

use ed25519_dalek::VerifyingKey;
use serde_json::{Map, Value};
use simin_types::BlockTime;

use super::{CONTEXTS_MAX, CONTEXT_V2, ID_BYTES_MAX, TYPES_MAX, TYPE_CREDENTIAL};
use crate::card::{CLAIMS_MAX, VCT_BYTES_MAX};
use crate::di::{self, DiError};
use crate::did_key::{resolve_did_key, DID_KEY_PREFIX};
use crate::did_simin::parse_xsd_datetime;
use crate::jose::{did_jwk_document, resolve_did_jwk, Jwk, DID_JWK_PREFIX};
use crate::verifier::Rejection;

/// The members of a credential the checks need, read before its proof is verified.
pub(super) struct Shape<'a> {
    pub(super) credential_type: String,
    pub(super) issuer: &'a str,
    pub(super) kid: &'a str,
    pub(super) valid_from: BlockTime,
    pub(super) valid_until: Option<BlockTime>,
    pub(super) subject: &'a Map<String, Value>,
    pub(super) subject_id: Option<&'a str>,
}

impl<'a> Shape<'a> {
    /// Reads a credential's shape; with `secured`, its single proof must be there.
    pub(super) fn parse(credential: &'a Value, secured: bool) -> Result<Shape<'a>, String> {
        let Value::Object(map) = credential else {
            return Err("a credential is a JSON object".into());
        };
        check_context(map.get("@context"))?;
        let credential_type = credential_type(map.get("type"))?;
        let issuer = map
            .get("issuer")
            .and_then(issuer_id)
            .ok_or("issuer must be a DID, or an object whose id is one")?;
        let valid_from = map
            .get("validFrom")
            .ok_or_else(|| "validFrom is missing".to_owned())
            .and_then(parse_datetime)
            .map_err(|e| format!("validFrom: {e}"))?;
        let valid_until = map
            .get("validUntil")
            .map(parse_datetime)
            .transpose()
            .map_err(|e| format!("validUntil: {e}"))?;
        let subject = match map.get("credentialSubject") {
            Some(Value::Object(subject)) => subject,
            _ => return Err("credentialSubject must be one JSON object".into()),
        };
        if subject.len() > CLAIMS_MAX.saturating_add(1) {
            return Err(format!("credentialSubject has over {CLAIMS_MAX} claims"));
        }
        let subject_id = match subject.get("id") {
            None => None,
            Some(Value::String(id)) if id.len() <= ID_BYTES_MAX => Some(id.as_str()),
            Some(_) => return Err("credentialSubject.id must be a DID".into()),
        };
        if map
            .get("id")
            .is_some_and(|id| id.as_str().is_none_or(|id| id.len() > ID_BYTES_MAX))
        {
            return Err("id must be a URL".into());
        }
        let kid = match map.get("proof") {
            Some(Value::Object(proof)) => proof
                .get("verificationMethod")
                .and_then(Value::as_str)
                .ok_or("proof.verificationMethod is missing")?,
            Some(_) => return Err("the credential must carry exactly one proof object".into()),
            None if secured => return Err("the credential has no proof".into()),
            None => "",
        };
        Ok(Shape {
            credential_type,
            issuer,
            kid,
            valid_from,
            valid_until,
            subject,
            subject_id,
        })
    }
}

/// `@context`: an array of strings, [`CONTEXT_V2`] first.
pub(super) fn check_context(context: Option<&Value>) -> Result<(), String> {
    let Some(Value::Array(items)) = context else {
        return Err(format!(
            "@context must be an array starting with {CONTEXT_V2}"
        ));
    };
    if items.is_empty() || items.len() > CONTEXTS_MAX || !items.iter().all(Value::is_string) {
        return Err(format!("@context must hold 1 to {CONTEXTS_MAX} URLs"));
    }
    if items[0] != CONTEXT_V2 {
        return Err(format!("@context must start with {CONTEXT_V2}"));
    }
    Ok(())
}

/// The credential type: `type` is `VerifiableCredential` and exactly one other name.
fn credential_type(types: Option<&Value>) -> Result<String, String> {
    let Some(Value::Array(types)) = types else {
        return Err("type must be an array".into());
    };
    if types.len() > TYPES_MAX {
        return Err(format!("type has over {TYPES_MAX} entries"));
    }
    let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
    if names.len() != types.len() || !names.contains(&TYPE_CREDENTIAL) {
        return Err(format!("type must be strings including {TYPE_CREDENTIAL}"));
    }
    let others: Vec<&str> = names
        .into_iter()
        .filter(|name| *name != TYPE_CREDENTIAL)
        .collect();
    match others.as_slice() {
        [one] if !one.is_empty() && one.len() <= VCT_BYTES_MAX => Ok((*one).to_owned()),
        _ => Err(format!(
            "type must name exactly one credential type besides {TYPE_CREDENTIAL}"
        )),
    }
}

/// The DID of an `issuer` or `holder` member: a string, or an object with `id`.
pub fn issuer_id(value: &Value) -> Option<&str> {
    match value {
        Value::String(id) => Some(id),
        Value::Object(map) => map.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// An XML Schema `dateTimeStamp` (as Data Integrity requires) as Unix milliseconds.
pub(super) fn parse_datetime(value: &Value) -> Result<BlockTime, String> {
    let text = value.as_str().ok_or("not a string")?;
    if !di::is_date_time_stamp(text) {
        return Err(format!("{:?} is not a dateTimeStamp", clip(text)));
    }
    parse_xsd_datetime(text).map_err(|e| e.to_string())
}

pub(super) fn from_di(error: DiError) -> Rejection {
    match error {
        DiError::InvalidSignature => Rejection::BadSignature,
        other => Rejection::Malformed(other.to_string()),
    }
}

/// Whether `value` nests at most `depth_max` deep and holds at most `nodes_max` JSON
/// values. Iterative, and bounded by `nodes_max` whatever the input.
pub fn within_bounds(value: &Value, depth_max: usize, nodes_max: usize) -> bool {
    let mut stack = vec![(value, 0usize)];
    let mut seen = 1usize;
    while let Some((value, depth)) = stack.pop() {
        if depth > depth_max {
            return false;
        }
        let children = match value {
            Value::Array(items) => items.len(),
            Value::Object(map) => map.len(),
            _ => 0,
        };
        seen = seen.saturating_add(children);
        if seen > nodes_max {
            return false;
        }
        match value {
            Value::Array(items) => stack.extend(items.iter().map(|v| (v, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    true
}

/// Bounds an untrusted string before it goes into an error message.
pub(super) fn clip(text: &str) -> String {
    text.chars().take(64).collect()
}

/// A holder's DID (`did:key`, or an Ed25519 `did:jwk`) and its key, from the DID or
/// the DID URL of its verification method. Any other DID cannot be resolved offline.
pub(super) fn holder_did_key(did_or_url: &str) -> Result<(String, VerifyingKey), String> {
    if did_or_url.starts_with(DID_KEY_PREFIX) {
        let key = resolve_did_key(did_or_url).map_err(|e| e.to_string())?;
        let did = did_or_url.split('#').next().unwrap_or(did_or_url);
        return Ok((did.to_owned(), key));
    }
    if did_or_url.starts_with(DID_JWK_PREFIX) {
        let Jwk::Ed25519(key) = resolve_did_jwk(did_or_url).map_err(|e| e.to_string())? else {
            return Err("the holder's did:jwk must be an Ed25519 key (eddsa-jcs-2022)".into());
        };
        let did = did_or_url.split('#').next().unwrap_or(did_or_url);
        // A key published for encryption only (`use: enc`) does not authenticate.
        let document = did_jwk_document(did).map_err(|e| e.to_string())?;
        if document.get("authentication").is_none() {
            return Err("the holder's did:jwk is not an authentication key".into());
        }
        return Ok((did.to_owned(), key));
    }
    Err("the holder must be a did:key or a did:jwk".into())
}

//! Reading the JWS JSON serialization of an SD-JWT (RFC 9901 section 8), flattened or
//! general.
//!
//! The disclosures and the Key Binding JWT are the `disclosures` and `kb_jwt` members
//! of the (first) unprotected header; the top-level members older drafts and
//! sd-jwt-python 0.10 used are read too, but a presentation may not use both places.
//! `sd_hash` covers the compact form rebuilt from the first signature.

use serde_json::{Map, Value};

use super::verifier::Parts;
use super::{SdJwt, SdJwtError, MAX_DISCLOSURES};

/// The most signatures looked at in a general JSON serialization.
const MAX_JSON_SIGNATURES: usize = 8;

type JsonObject = Map<String, Value>;

/// Splits a JSON-serialized SD-JWT or SD-JWT+KB into its parts.
pub(super) fn json_parts(presentation: &str) -> Result<Parts, SdJwtError> {
    let Ok(Value::Object(jws)) = serde_json::from_str::<Value>(presentation) else {
        return Err(SdJwtError::Malformed(
            "the JSON serialization is not a JSON object",
        ));
    };
    let payload = string(&jws, "payload")?;
    let entries = signature_entries(&jws)?;
    let mut signatures = Vec::with_capacity(entries.len());
    for entry in &entries {
        signatures.push((
            string(entry, "protected")?,
            payload.clone(),
            string(entry, "signature")?,
        ));
    }
    let Some((first, others)) = entries.split_first() else {
        return Err(SdJwtError::Malformed("a JWS without signatures"));
    };
    let header = unprotected(first)?;
    for other in others {
        let header = unprotected(other)?;
        if header.contains_key("disclosures") || header.contains_key("kb_jwt") {
            return Err(SdJwtError::Malformed(
                "disclosures outside the first unprotected header",
            ));
        }
    }
    let in_header = header.contains_key("disclosures") || header.contains_key("kb_jwt");
    let in_top = jws.contains_key("disclosures") || jws.contains_key("kb_jwt");
    let source = match (in_header, in_top) {
        (true, true) => {
            return Err(SdJwtError::Malformed(
                "disclosures both in the header and at the top level",
            ))
        }
        (false, true) => &jws,
        _ => &header,
    };
    let Some((protected, _, signature)) = signatures.first() else {
        return Err(SdJwtError::Malformed("a JWS without signatures"));
    };
    let sd_jwt = SdJwt {
        issuer_jwt: format!("{protected}.{payload}.{signature}"),
        disclosures: disclosures(source)?,
        key_binding_jwt: key_binding_jwt(source)?,
    };
    Ok(Parts {
        signatures,
        sd_hash_input: sd_jwt.sd_hash_input(),
        disclosures: sd_jwt.disclosures,
        key_binding_jwt: sd_jwt.key_binding_jwt,
    })
}

fn string(map: &JsonObject, name: &str) -> Result<String, SdJwtError> {
    match map.get(name) {
        Some(Value::String(value)) => Ok(value.clone()),
        _ => Err(SdJwtError::Malformed(
            "a JWS JSON member is missing or not a string",
        )),
    }
}

/// The objects holding `protected`, `header` and `signature`: the top level when
/// flattened, each element of `signatures` when general.
fn signature_entries(jws: &JsonObject) -> Result<Vec<&JsonObject>, SdJwtError> {
    match jws.get("signatures") {
        None => Ok(vec![jws]),
        Some(Value::Array(list)) if !list.is_empty() && list.len() <= MAX_JSON_SIGNATURES => list
            .iter()
            .map(|entry| {
                entry
                    .as_object()
                    .ok_or(SdJwtError::Malformed("a signature is not an object"))
            })
            .collect(),
        Some(_) => Err(SdJwtError::Malformed(
            "signatures is not a short, non-empty array",
        )),
    }
}

fn unprotected(entry: &JsonObject) -> Result<JsonObject, SdJwtError> {
    match entry.get("header") {
        None => Ok(Map::new()),
        Some(Value::Object(header)) => Ok(header.clone()),
        Some(_) => Err(SdJwtError::Malformed(
            "the unprotected header is not an object",
        )),
    }
}

fn disclosures(source: &JsonObject) -> Result<Vec<String>, SdJwtError> {
    match source.get("disclosures") {
        None => Ok(Vec::new()),
        Some(Value::Array(list)) if list.len() > MAX_DISCLOSURES => {
            Err(SdJwtError::TooManyDisclosures {
                max: MAX_DISCLOSURES,
            })
        }
        Some(Value::Array(list)) => list
            .iter()
            .map(|d| d.as_str().filter(|d| !d.is_empty()).map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or(SdJwtError::Malformed(
                "a disclosure is not a non-empty string",
            )),
        Some(_) => Err(SdJwtError::Malformed("disclosures is not an array")),
    }
}

fn key_binding_jwt(source: &JsonObject) -> Result<Option<String>, SdJwtError> {
    match source.get("kb_jwt") {
        None => Ok(None),
        Some(Value::String(kb)) if !kb.is_empty() => Ok(Some(kb.clone())),
        Some(_) => Err(SdJwtError::Malformed("kb_jwt is not a non-empty string")),
    }
}

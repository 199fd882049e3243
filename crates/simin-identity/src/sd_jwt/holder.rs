//! The holder: reads an issued SD-JWT, lists its disclosures by claim path, and builds a
//! presentation with the chosen claims and, optionally, a Key Binding JWT.

use serde_json::{Map, Value};

use super::process::{process, Processed};
use super::{
    path_text, ClaimPath, Disclosure, PathElement, SdJwtError, MAX_DISCLOSURES, MAX_SD_JWT_LEN,
    TYP_KB_JWT,
};
use crate::jose::{b64url_sha256, decode_compact_unverified, sign_compact_json, Jwk, JwsSigner};

/// A compact SD-JWT or SD-JWT+KB split at its `~`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdJwt {
    /// The issuer-signed JWT.
    pub issuer_jwt: String,
    /// The disclosures, encoded, in order.
    pub disclosures: Vec<String>,
    /// The Key Binding JWT of an SD-JWT+KB.
    pub key_binding_jwt: Option<String>,
}

impl SdJwt {
    /// Splits `<JWT>~<D1>~...~<Dn>~[<KB-JWT>]`; empty disclosures are refused.
    pub fn parse(compact: &str) -> Result<Self, SdJwtError> {
        if compact.len() > MAX_SD_JWT_LEN {
            return Err(SdJwtError::TooLarge {
                len: compact.len(),
                max: MAX_SD_JWT_LEN,
            });
        }
        let mut parts = Vec::new();
        for part in compact.split('~') {
            // The issuer JWT and the last part come on top of the disclosures.
            if parts.len() >= MAX_DISCLOSURES + 2 {
                return Err(SdJwtError::TooManyDisclosures {
                    max: MAX_DISCLOSURES,
                });
            }
            parts.push(part);
        }
        let (Some(last), Some((&issuer_jwt, disclosures))) = (parts.pop(), parts.split_first())
        else {
            return Err(SdJwtError::Malformed("an SD-JWT has at least one '~'"));
        };
        if issuer_jwt.is_empty() {
            return Err(SdJwtError::Malformed("the issuer-signed JWT is empty"));
        }
        if disclosures.iter().any(|d| d.is_empty()) {
            return Err(SdJwtError::Malformed("an empty disclosure"));
        }
        Ok(SdJwt {
            issuer_jwt: issuer_jwt.to_owned(),
            disclosures: disclosures.iter().map(|d| (*d).to_owned()).collect(),
            key_binding_jwt: (!last.is_empty()).then(|| last.to_owned()),
        })
    }

    /// `<JWT>~<D1>~...~<Dn>~`: the SD-JWT without key binding, which `sd_hash` covers.
    pub fn sd_hash_input(&self) -> String {
        let mut out = self.issuer_jwt.clone();
        out.push('~');
        for disclosure in &self.disclosures {
            out.push_str(disclosure);
            out.push('~');
        }
        out
    }

    /// The compact serialization.
    pub fn to_compact(&self) -> String {
        let mut out = self.sd_hash_input();
        if let Some(kb) = &self.key_binding_jwt {
            out.push_str(kb);
        }
        out
    }
}

/// A disclosure of an issued SD-JWT and the claim it discloses.
#[derive(Debug, Clone, PartialEq)]
pub struct HolderDisclosure {
    /// Where the claim is in the fully disclosed claims.
    pub path: ClaimPath,
    /// The disclosure.
    pub disclosure: Disclosure,
}

/// What the holder signs into a Key Binding JWT.
#[derive(Debug, Clone, Copy)]
pub struct KeyBindingRequest<'a> {
    /// The holder's key; its public key must be the SD-JWT's `cnf.jwk`.
    pub signer: &'a JwsSigner,
    /// The verifier (`aud`).
    pub audience: &'a str,
    /// The verifier's nonce.
    pub nonce: &'a str,
    /// The signing time (`iat`), Unix seconds.
    pub issued_at: i64,
}

/// An issued SD-JWT read by its holder.
struct Read {
    sd_jwt: SdJwt,
    processed: Processed,
    disclosures: Vec<Disclosure>,
}

/// Reads an issued SD-JWT without checking the issuer's signature (the holder may verify
/// it with [`super::verify`]); every disclosure must be referenced.
fn read_issued(issued: &str) -> Result<Read, SdJwtError> {
    let sd_jwt = SdJwt::parse(issued)?;
    if sd_jwt.key_binding_jwt.is_some() {
        return Err(SdJwtError::Malformed(
            "an issued SD-JWT carries no Key Binding JWT",
        ));
    }
    let (_header, payload) =
        decode_compact_unverified(&sd_jwt.issuer_jwt).map_err(SdJwtError::IssuerJwt)?;
    let disclosures = sd_jwt
        .disclosures
        .iter()
        .map(|d| Disclosure::parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    let processed = process(&payload, &disclosures)?;
    Ok(Read {
        sd_jwt,
        processed,
        disclosures,
    })
}

/// The disclosures of an issued SD-JWT with the path of the claim each discloses, in the
/// SD-JWT's order.
pub fn list_disclosures(issued: &str) -> Result<Vec<HolderDisclosure>, SdJwtError> {
    let mut read = read_issued(issued)?;
    read.processed.disclosed.sort_by_key(|(_, index)| *index);
    Ok(read
        .processed
        .disclosed
        .into_iter()
        .map(|(path, index)| HolderDisclosure {
            path,
            disclosure: read.disclosures[index].clone(),
        })
        .collect())
}

/// Builds a presentation disclosing the claims at `selection`.
///
/// Selecting a path discloses the claim there with everything beneath it, and the
/// disclosures of its parents (without which it could not be placed). A path that names
/// no claim is an error. With `key_binding`, a Key Binding JWT over the presentation is
/// appended; its signer must be the holder key in `cnf.jwk`.
pub fn present(
    issued: &str,
    selection: &[ClaimPath],
    key_binding: Option<&KeyBindingRequest<'_>>,
) -> Result<String, SdJwtError> {
    let read = read_issued(issued)?;
    let claims = Value::Object(read.processed.claims);
    for path in selection {
        if !path_exists(&claims, path) {
            return Err(SdJwtError::UnknownClaimPath {
                path: path_text(path),
            });
        }
    }
    let mut chosen = vec![false; read.disclosures.len()];
    for (path, index) in &read.processed.disclosed {
        if selection
            .iter()
            .any(|selected| selected.starts_with(path) || path.starts_with(selected))
        {
            chosen[*index] = true;
        }
    }
    let presented = SdJwt {
        issuer_jwt: read.sd_jwt.issuer_jwt,
        disclosures: read
            .sd_jwt
            .disclosures
            .into_iter()
            .zip(chosen)
            .filter_map(|(disclosure, chosen)| chosen.then_some(disclosure))
            .collect(),
        key_binding_jwt: None,
    };
    let mut out = presented.sd_hash_input();
    if let Some(request) = key_binding {
        let holder_key = claims
            .get("cnf")
            .and_then(|cnf| cnf.get("jwk"))
            .and_then(|jwk| Jwk::from_json(jwk).ok())
            .ok_or(SdJwtError::HolderKeyMissing)?;
        if holder_key != request.signer.public_jwk() {
            return Err(SdJwtError::HolderKeyMismatch);
        }
        out.push_str(&key_binding_jwt(&out, request));
    }
    Ok(out)
}

/// Signs a Key Binding JWT over `sd_hash_input`.
fn key_binding_jwt(sd_hash_input: &str, request: &KeyBindingRequest<'_>) -> String {
    let mut header = Map::new();
    header.insert("typ".to_owned(), Value::from(TYP_KB_JWT));
    let mut payload = Map::new();
    payload.insert("nonce".to_owned(), Value::from(request.nonce));
    payload.insert("aud".to_owned(), Value::from(request.audience));
    payload.insert("iat".to_owned(), Value::from(request.issued_at));
    payload.insert(
        "sd_hash".to_owned(),
        Value::from(b64url_sha256(sd_hash_input.as_bytes())),
    );
    sign_compact_json(&header, &payload, request.signer)
}

fn path_exists(value: &Value, path: &[PathElement]) -> bool {
    let mut current = value;
    for element in path {
        let next = match (element, current) {
            (PathElement::Name(name), Value::Object(map)) => map.get(name),
            (PathElement::Index(index), Value::Array(items)) => items.get(*index),
            _ => None,
        };
        match next {
            Some(next) => current = next,
            None => return false,
        }
    }
    true
}

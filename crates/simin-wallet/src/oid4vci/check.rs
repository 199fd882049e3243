//! What the wallet checks of an issued credential before storing it: an SD-JWT VC bound
//! to this wallet's key, of the offered type, and (when a node can resolve the issuer's
//! DID) signed by a key the issuer's DID document names for assertions.

use serde_json::{Map, Value};
use simin_identity::did_key::ed25519_from_multikey;
use simin_identity::jose::{decode_compact_unverified, Jwk};
use simin_identity::sd_jwt::{self, SdJwt, VerifyOptions, TYP_SD_JWT_VC};

use super::error::{server_text, Oid4vciError};
use super::token::json_object;
use super::{Endpoint, VERIFICATION_METHODS_MAX};
use crate::holder::Holder;
use crate::store::CredentialRecord;

/// The format name stored in [`CredentialRecord::format`] for SD-JWT VCs.
pub const FORMAT_SD_JWT_VC: &str = TYP_SD_JWT_VC;

/// An issued credential that passed [`check_credential`].
#[derive(Clone, PartialEq, Eq)]
pub struct CheckedCredential {
    /// The credential as issued.
    pub credential: String,
    /// The issuer (`iss`).
    pub issuer: String,
    /// The credential type (`vct`).
    pub vct: String,
    /// The issuer's key id (`kid` of the issuer-signed JWT's header), if any.
    pub kid: Option<String>,
    /// `exp`, if any.
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for CheckedCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The credential holds personal data; its length is enough to debug with.
        f.debug_struct("CheckedCredential")
            .field("credential_len", &self.credential.len())
            .field("issuer", &self.issuer)
            .field("vct", &self.vct)
            .field("kid", &self.kid)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl CheckedCredential {
    /// The record to store it as (format `dc+sd-jwt`, type = `vct`, issuer = `iss`).
    pub fn record(&self, received_at: u64) -> CredentialRecord {
        CredentialRecord {
            format: FORMAT_SD_JWT_VC.to_owned(),
            credential: self.credential.clone(),
            type_name: self.vct.clone(),
            issuer: self.issuer.clone(),
            received_at,
            label: None,
        }
    }
}

/// Checks an issued credential without the issuer's key: it is a well-formed SD-JWT VC
/// (`typ` `dc+sd-jwt`, every disclosure referenced, no Key Binding JWT), its `cnf.jwk`
/// is `holder`'s key, its `vct` is `expected_vct`, and it names its issuer (`iss`).
pub fn check_credential(
    credential: &str,
    holder: &Holder,
    expected_vct: &str,
) -> Result<CheckedCredential, Oid4vciError> {
    let malformed = |reason: String| Oid4vciError::InvalidCredential { reason };
    // Lists every disclosure against the digests: a malformed or foreign one fails here.
    sd_jwt::list_disclosures(credential).map_err(|err| malformed(err.to_string()))?;
    let parsed = SdJwt::parse(credential).map_err(|err| malformed(err.to_string()))?;
    let (header, payload) =
        decode_compact_unverified(&parsed.issuer_jwt).map_err(|err| malformed(err.to_string()))?;
    let typ = header.get("typ").and_then(Value::as_str);
    if typ != Some(TYP_SD_JWT_VC) {
        return Err(malformed(format!(
            "typ is {:?}, not {TYP_SD_JWT_VC:?}",
            typ.map(|t| server_text(t, 64))
        )));
    }
    let holder_key = payload
        .get("cnf")
        .and_then(|cnf| cnf.get("jwk"))
        .ok_or(Oid4vciError::HolderKeyMismatch)?;
    match Jwk::from_json(holder_key) {
        Ok(key) if &key == holder.jwk() => {}
        _ => return Err(Oid4vciError::HolderKeyMismatch),
    }
    let vct = string_claim(&payload, "vct").ok_or_else(|| malformed("it has no vct".into()))?;
    if vct != expected_vct {
        return Err(Oid4vciError::VctMismatch {
            expected: expected_vct.to_owned(),
            got: server_text(vct, 120),
        });
    }
    let issuer = string_claim(&payload, "iss").ok_or_else(|| malformed("it has no iss".into()))?;
    Ok(CheckedCredential {
        credential: credential.to_owned(),
        issuer: issuer.to_owned(),
        vct: vct.to_owned(),
        kid: string_claim(&header, "kid").map(str::to_owned),
        expires_at: payload.get("exp").and_then(Value::as_i64),
    })
}

fn string_claim<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    object
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The issuer key a DID Resolution result names for `kid`, which must be a key of the
/// DID `issuer` listed under `assertionMethod` (the relationship that signs credentials).
///
/// `status` and `body` are the node's answer to `GET /v1/dids/{issuer}`; a deactivated
/// DID (410, or `deactivated` in the metadata) is refused.
pub fn issuer_key_from_resolution(
    status: u16,
    body: &[u8],
    issuer: &str,
    kid: Option<&str>,
) -> Result<Jwk, Oid4vciError> {
    let resolution_error = |reason: String| Oid4vciError::IssuerResolution {
        did: server_text(issuer, 120),
        reason,
    };
    let result = json_object(Endpoint::DidResolution, body)?;
    let deactivated = result
        .get("didDocumentMetadata")
        .and_then(|m| m.get("deactivated"))
        .and_then(Value::as_bool)
        == Some(true);
    if status == 410 || deactivated {
        return Err(Oid4vciError::IssuerDeactivated {
            did: server_text(issuer, 120),
        });
    }
    if !(200..300).contains(&status) {
        let error = result
            .get("didResolutionMetadata")
            .and_then(|m| m.get("error"))
            .and_then(Value::as_str)
            .map_or_else(|| "no error code".to_owned(), |e| server_text(e, 64));
        return Err(resolution_error(format!("HTTP {status} ({error})")));
    }
    let document = result
        .get("didDocument")
        .and_then(Value::as_object)
        .ok_or_else(|| resolution_error("the result has no DID document".into()))?;
    if document.get("id").and_then(Value::as_str) != Some(issuer) {
        return Err(resolution_error(
            "the DID document is of another DID".into(),
        ));
    }
    let kid = kid.ok_or_else(|| Oid4vciError::InvalidCredential {
        reason: "the issuer-signed JWT has no kid naming the issuer's key".into(),
    })?;
    let kid = absolute_id(issuer, kid).ok_or_else(|| Oid4vciError::IssuerKeyNotFound {
        kid: server_text(kid, 120),
    })?;
    assertion_method(document, issuer, &kid)
        .ok_or_else(|| Oid4vciError::IssuerKeyNotFound {
            kid: server_text(&kid, 120),
        })
        .and_then(|method| {
            method_key(method).map_err(|reason| resolution_error(format!("key {kid}: {reason}")))
        })
}

/// The verification method `kid` (absolute) of `issuer`'s document, if `assertionMethod`
/// lists it (by reference, or embedded).
fn assertion_method<'a>(
    document: &'a Map<String, Value>,
    issuer: &str,
    kid: &str,
) -> Option<&'a Value> {
    let is_kid =
        |id: Option<&str>| id.and_then(|id| absolute_id(issuer, id)).as_deref() == Some(kid);
    let assertion = document
        .get("assertionMethod")
        .and_then(Value::as_array)?
        .iter()
        .take(VERIFICATION_METHODS_MAX)
        .find(|m| is_kid(m.as_str().or_else(|| m.get("id").and_then(Value::as_str))))?;
    if assertion.is_object() {
        return Some(assertion);
    }
    document
        .get("verificationMethod")
        .and_then(Value::as_array)?
        .iter()
        .take(VERIFICATION_METHODS_MAX)
        .find(|m| is_kid(m.get("id").and_then(Value::as_str)))
}

/// The public key of a verification method: a Multikey (`publicKeyMultibase`, Ed25519)
/// or a `publicKeyJwk`.
fn method_key(method: &Value) -> Result<Jwk, String> {
    if let Some(multikey) = method.get("publicKeyMultibase").and_then(Value::as_str) {
        return ed25519_from_multikey(multikey)
            .map(Jwk::Ed25519)
            .map_err(|err| err.to_string());
    }
    if let Some(jwk) = method.get("publicKeyJwk") {
        return Jwk::from_json(jwk).map_err(|err| err.to_string());
    }
    Err("it has neither publicKeyMultibase nor publicKeyJwk".into())
}

/// `id` as an absolute DID URL of `did`: `#frag` becomes `did#frag`; an absolute id must
/// belong to `did`.
fn absolute_id(did: &str, id: &str) -> Option<String> {
    if id.starts_with('#') {
        return Some(format!("{did}{id}"));
    }
    let fragment = id.strip_prefix(did)?.strip_prefix('#')?;
    (!fragment.is_empty()).then(|| id.to_owned())
}

/// Verifies the issuer's signature over the credential with `issuer_key`, every
/// disclosure, and the validity times (`exp`, `nbf`, `iat`) at `now` (Unix seconds).
pub fn verify_issuer_signature(
    checked: &CheckedCredential,
    issuer_key: &Jwk,
    now: i64,
) -> Result<(), Oid4vciError> {
    let mut options = VerifyOptions::new(now);
    options.expected_typ = Some(TYP_SD_JWT_VC.to_owned());
    sd_jwt::verify(&checked.credential, issuer_key, &options)
        .map(|_| ())
        .map_err(Oid4vciError::IssuerSignature)
}

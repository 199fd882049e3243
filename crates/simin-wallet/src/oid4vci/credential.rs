//! The credential request (OpenID4VCI 1.0 section 8): the `jwt` key proof (appendix F.1),
//! the request body and the response.

use serde_json::{json, Map, Value};
use simin_identity::jose::sign_compact_json;
use simin_identity::sd_jwt::MAX_SD_JWT_LEN;

use super::error::{server_text, Endpoint, Oid4vciError};
use super::metadata::PROOF_TYPE_JWT;
use super::token::{json_object, parse_error_response};
use crate::holder::Holder;

/// The `typ` of a key proof JWT.
pub const TYP_PROOF_JWT: &str = "openid4vci-proof+jwt";

/// Signs the key proof for a credential request: header `typ` `openid4vci-proof+jwt`,
/// `alg` `EdDSA` and the holder's public `jwk`; payload `aud` (the Credential Issuer
/// Identifier), `iat` and, when the issuer has a nonce endpoint, `nonce` (its `c_nonce`).
///
/// There is no `iss`: the access token comes from anonymous pre-authorized access,
/// for which appendix F.1 says to leave it out.
pub fn proof_jwt(
    holder: &Holder,
    credential_issuer: &str,
    c_nonce: Option<&str>,
    issued_at: i64,
) -> String {
    let mut header = Map::new();
    header.insert("typ".to_owned(), Value::from(TYP_PROOF_JWT));
    header.insert("jwk".to_owned(), holder.jwk().to_json());
    let mut payload = Map::new();
    payload.insert("aud".to_owned(), Value::from(credential_issuer));
    payload.insert("iat".to_owned(), Value::from(issued_at));
    if let Some(nonce) = c_nonce {
        payload.insert("nonce".to_owned(), Value::from(nonce));
    }
    sign_compact_json(&header, &payload, holder.signer())
}

/// What a credential request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialTarget<'a> {
    /// A configuration of the issuer metadata (`credential_configuration_id`).
    Configuration(&'a str),
    /// A credential dataset the token response named (`credential_identifier`).
    Identifier(&'a str),
}

/// The JSON body of a credential request with one `jwt` proof.
pub fn credential_request_body(target: CredentialTarget<'_>, proof: &str) -> Value {
    let (name, value) = match target {
        CredentialTarget::Configuration(id) => ("credential_configuration_id", id),
        CredentialTarget::Identifier(id) => ("credential_identifier", id),
    };
    json!({
        name: value,
        "proofs": { PROOF_TYPE_JWT: [proof] },
    })
}

/// Parses the credential endpoint's answer to a request with `proofs_sent` key proofs
/// into the issued credentials (1 to `proofs_sent` strings, each at most
/// [`MAX_SD_JWT_LEN`] bytes).
///
/// A 202 is a deferred issuance ([`Oid4vciError::Deferred`]); an error status becomes
/// the OAuth error of its body or of its `WWW-Authenticate` header.
pub fn parse_credential_response(
    status: u16,
    body: &[u8],
    www_authenticate: Option<&str>,
    proofs_sent: usize,
) -> Result<Vec<String>, Oid4vciError> {
    let endpoint = Endpoint::Credential;
    let invalid = |reason: String| Oid4vciError::InvalidResponse { endpoint, reason };
    if !(200..300).contains(&status) {
        return Err(parse_error_response(
            endpoint,
            status,
            body,
            www_authenticate,
        ));
    }
    let object = json_object(endpoint, body)?;
    if status == 202 || object.contains_key("transaction_id") {
        let transaction_id = object
            .get("transaction_id")
            .and_then(Value::as_str)
            .map(|id| server_text(id, 64))
            .unwrap_or_default();
        return Err(Oid4vciError::Deferred { transaction_id });
    }
    let credentials = object
        .get("credentials")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("credentials is missing or not an array".into()))?;
    if credentials.is_empty() || credentials.len() > proofs_sent {
        return Err(invalid(format!(
            "{} credentials for {proofs_sent} key proof(s)",
            credentials.len()
        )));
    }
    credentials
        .iter()
        .map(|entry| match entry.get("credential") {
            Some(Value::String(credential)) if credential.len() <= MAX_SD_JWT_LEN => {
                Ok(credential.clone())
            }
            Some(Value::String(_)) => Err(invalid(format!(
                "a credential is larger than {MAX_SD_JWT_LEN} bytes"
            ))),
            _ => Err(invalid(
                "an entry of credentials has no credential string (an SD-JWT VC is a string)"
                    .into(),
            )),
        })
        .collect()
}

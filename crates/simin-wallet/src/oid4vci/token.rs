//! The token request of the pre-authorized code flow (OpenID4VCI 1.0 section 6), the nonce
//! response (section 7), and the OAuth error bodies every endpoint may answer with.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use super::error::{server_description, server_text, Endpoint, OAuthErrorCode, Oid4vciError};
use super::offer::{PreAuthorizedGrant, PRE_AUTHORIZED_GRANT_TYPE};
use super::{
    ACCESS_TOKEN_BYTES_MAX, CONFIGURATIONS_PER_OFFER_MAX, CREDENTIAL_IDENTIFIERS_MAX,
    IDENTIFIER_BYTES_MAX, NONCE_BYTES_MAX,
};

/// The `application/x-www-form-urlencoded` body of the token request for `grant`.
///
/// The transaction code must be given exactly when the offer asks for one (section 6.1;
/// sending one unasked is an `invalid_request`), and must fit what the offer announces.
pub fn token_request_body(
    grant: &PreAuthorizedGrant,
    tx_code: Option<&str>,
) -> Result<String, Oid4vciError> {
    match (&grant.tx_code, tx_code) {
        (Some(spec), None) => {
            return Err(Oid4vciError::TxCodeRequired {
                description: spec.description.clone(),
                length: spec.length,
                input_mode: spec.input_mode,
            })
        }
        (None, Some(_)) => return Err(Oid4vciError::TxCodeNotExpected),
        (Some(spec), Some(code)) => spec.check(code)?,
        (None, None) => {}
    }
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", PRE_AUTHORIZED_GRANT_TYPE);
    form.append_pair("pre-authorized_code", &grant.code);
    if let Some(code) = tx_code {
        form.append_pair("tx_code", code);
    }
    Ok(form.finish())
}

/// A successful token response.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenResponse {
    /// The bearer access token (`Debug` does not show it).
    pub access_token: String,
    /// Seconds until it expires, if the server says.
    pub expires_in: Option<u64>,
    /// The credential identifiers granted per configuration id (from
    /// `authorization_details` of type `openid_credential`); when a configuration has
    /// some, the credential request must name one of them instead of the configuration.
    pub credential_identifiers: BTreeMap<String, Vec<String>>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token_len", &self.access_token.len())
            .field("expires_in", &self.expires_in)
            .field("credential_identifiers", &self.credential_identifiers)
            .finish()
    }
}

/// Parses the token endpoint's answer: a token on a 2xx status, else its OAuth error.
pub fn parse_token_response(status: u16, body: &[u8]) -> Result<TokenResponse, Oid4vciError> {
    let endpoint = Endpoint::Token;
    if !(200..300).contains(&status) {
        return Err(parse_error_response(endpoint, status, body, None));
    }
    let invalid = |reason: &str| Oid4vciError::InvalidResponse {
        endpoint,
        reason: reason.to_owned(),
    };
    let object = json_object(endpoint, body)?;
    let access_token = match object.get("access_token") {
        Some(Value::String(token)) if is_bearer_token(token) => token.clone(),
        Some(Value::String(_)) => {
            return Err(invalid(
                "access_token is empty, too long or has characters a bearer token cannot have",
            ))
        }
        _ => return Err(invalid("access_token is missing or not a string")),
    };
    match object.get("token_type").and_then(Value::as_str) {
        Some(kind) if kind.eq_ignore_ascii_case("bearer") => {}
        Some(kind) => {
            return Err(Oid4vciError::InvalidResponse {
                endpoint,
                reason: format!(
                    "token_type {:?} is not supported (only Bearer; DPoP is not)",
                    server_text(kind, 32)
                ),
            })
        }
        None => return Err(invalid("token_type is missing")),
    }
    let expires_in = object.get("expires_in").and_then(Value::as_u64);
    let credential_identifiers = match object.get("authorization_details") {
        None => BTreeMap::new(),
        Some(details) => parse_authorization_details(details).map_err(invalid)?,
    };
    Ok(TokenResponse {
        access_token,
        expires_in,
        credential_identifiers,
    })
}

/// `authorization_details` entries of type `openid_credential`, by configuration id.
fn parse_authorization_details(
    details: &Value,
) -> Result<BTreeMap<String, Vec<String>>, &'static str> {
    let entries = details
        .as_array()
        .ok_or("authorization_details is not an array")?;
    if entries.len() > CONFIGURATIONS_PER_OFFER_MAX {
        return Err("authorization_details has too many entries");
    }
    let mut out = BTreeMap::new();
    for entry in entries {
        if entry.get("type").and_then(Value::as_str) != Some("openid_credential") {
            continue;
        }
        let id = entry
            .get("credential_configuration_id")
            .and_then(Value::as_str)
            .filter(|id| id.len() <= IDENTIFIER_BYTES_MAX)
            .ok_or(
                "an openid_credential authorization detail has no credential_configuration_id",
            )?;
        let identifiers: Vec<String> = entry
            .get("credential_identifiers")
            .and_then(Value::as_array)
            .filter(|ids| !ids.is_empty() && ids.len() <= CREDENTIAL_IDENTIFIERS_MAX)
            .ok_or("credential_identifiers is missing, empty or too long")?
            .iter()
            .map(|id| {
                id.as_str()
                    .filter(|id| !id.is_empty() && id.len() <= IDENTIFIER_BYTES_MAX)
                    .map(str::to_owned)
            })
            .collect::<Option<_>>()
            .ok_or("a credential identifier is not a string of 1 to 1024 bytes")?;
        out.entry(id.to_owned())
            .or_insert_with(Vec::new)
            .extend(identifiers);
    }
    Ok(out)
}

/// Parses the nonce endpoint's answer into the `c_nonce`.
pub fn parse_nonce_response(status: u16, body: &[u8]) -> Result<String, Oid4vciError> {
    let endpoint = Endpoint::Nonce;
    if !(200..300).contains(&status) {
        return Err(parse_error_response(endpoint, status, body, None));
    }
    match json_object(endpoint, body)?.get("c_nonce") {
        Some(Value::String(nonce)) if !nonce.is_empty() && nonce.len() <= NONCE_BYTES_MAX => {
            Ok(nonce.clone())
        }
        _ => Err(Oid4vciError::InvalidResponse {
            endpoint,
            reason: format!("c_nonce is missing or not a string of 1 to {NONCE_BYTES_MAX} bytes"),
        }),
    }
}

/// The error an endpoint answered with a non-success status: its OAuth `error` (from a
/// JSON body, or from a `WWW-Authenticate: Bearer error="..."` header, RFC 6750),
/// else the status and the start of the body.
pub fn parse_error_response(
    endpoint: Endpoint,
    status: u16,
    body: &[u8],
    www_authenticate: Option<&str>,
) -> Oid4vciError {
    let from_body = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|value| {
            let code = value.get("error")?.as_str()?.to_owned();
            let description = value
                .get("error_description")
                .and_then(Value::as_str)
                .map(server_description);
            Some((code, description))
        });
    let found = from_body.or_else(|| {
        let code = www_authenticate.and_then(|header| auth_param(header, "error"))?;
        let description = www_authenticate
            .and_then(|header| auth_param(header, "error_description"))
            .map(|d| server_description(&d));
        Some((code, description))
    });
    match found {
        Some((code, description)) => Oid4vciError::Refused {
            endpoint,
            status,
            code: OAuthErrorCode::parse(&code),
            description,
        },
        None => Oid4vciError::UnexpectedStatus {
            endpoint,
            status,
            body: server_text(&String::from_utf8_lossy(&body[..body.len().min(400)]), 200),
        },
    }
}

/// The value of `name="value"` (or `name=token`) in a `WWW-Authenticate` challenge.
fn auth_param(header: &str, name: &str) -> Option<String> {
    let mut rest = header;
    while let Some(at) = rest.find(name) {
        let before_ok = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c == ' ' || c == ',');
        let after = &rest[at + name.len()..];
        if before_ok {
            if let Some(value) = after.trim_start().strip_prefix('=') {
                let value = value.trim_start();
                return Some(match value.strip_prefix('"') {
                    Some(quoted) => quoted.split('"').next().unwrap_or_default().to_owned(),
                    None => value
                        .split([',', ' '])
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                });
            }
        }
        rest = after;
    }
    None
}

/// A JSON object body, or an [`Oid4vciError::InvalidResponse`].
pub(crate) fn json_object(
    endpoint: Endpoint,
    body: &[u8],
) -> Result<serde_json::Map<String, Value>, Oid4vciError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Oid4vciError::InvalidResponse {
            endpoint,
            reason: "the body is not a JSON object".into(),
        }),
        Err(err) => Err(Oid4vciError::InvalidResponse {
            endpoint,
            reason: format!(
                "the body is not JSON: {}",
                server_description(&err.to_string())
            ),
        }),
    }
}

/// RFC 6750's `b64token`: what may follow `Bearer ` in an `Authorization` header.
fn is_bearer_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= ACCESS_TOKEN_BYTES_MAX
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_params_are_read_from_a_bearer_challenge() {
        let header = r#"Bearer realm="issuer", error="invalid_token", error_description="The access token expired""#;
        assert_eq!(
            auth_param(header, "error").as_deref(),
            Some("invalid_token")
        );
        assert_eq!(
            auth_param(header, "error_description").as_deref(),
            Some("The access token expired")
        );
        assert_eq!(
            auth_param("Bearer error=invalid_token", "error").as_deref(),
            Some("invalid_token")
        );
        assert_eq!(auth_param("Bearer realm=\"x\"", "error"), None);
    }

    #[test]
    fn bearer_tokens_cannot_inject_headers() {
        assert!(is_bearer_token("abc.DEF-123_~+/=="));
        assert!(!is_bearer_token("abc\r\nX-Evil: 1"));
        assert!(!is_bearer_token(""));
        assert!(!is_bearer_token(&"a".repeat(ACCESS_TOKEN_BYTES_MAX + 1)));
    }
}

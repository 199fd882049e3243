//! Issuer and authorization server metadata (OpenID4VCI 1.0 section 12, RFC 8414): where
//! they are, what the wallet reads from them, and which offered configurations it can
//! receive.

use serde::Deserialize;
use serde_json::{Map, Value};
use simin_identity::sd_jwt::TYP_SD_JWT_VC;
use url::Url;

use super::error::{server_description, server_text, Endpoint, Oid4vciError};
use super::offer::{
    check_issuer_identifier, check_url, PreAuthorizedGrant, PRE_AUTHORIZED_GRANT_TYPE,
};
use super::AUTHORIZATION_SERVERS_MAX;

/// The well-known suffix of Credential Issuer metadata.
pub const ISSUER_WELL_KNOWN: &str = "openid-credential-issuer";
/// The well-known suffix of OAuth authorization server metadata (RFC 8414).
pub const AUTHORIZATION_SERVER_WELL_KNOWN: &str = "oauth-authorization-server";
/// The proof type this wallet sends.
pub const PROOF_TYPE_JWT: &str = "jwt";
/// The algorithm of this wallet's key proofs.
pub const PROOF_ALG: &str = "EdDSA";

/// Where the metadata of `identifier` is, in the order to try: the location formed by
/// inserting `/.well-known/<suffix>` between the host and the path (OpenID4VCI 1.0
/// section 12.2.2, RFC 8414 section 3.1), then, for an identifier with a path, the
/// location formed by appending it, which servers written to earlier drafts use.
pub fn well_known_urls(identifier: &Url, suffix: &str) -> Vec<Url> {
    let path = identifier.path().trim_end_matches('/');
    let mut inserted = identifier.clone();
    inserted.set_path(&format!("/.well-known/{suffix}{path}"));
    inserted.set_query(None);
    let mut urls = vec![inserted];
    if !path.is_empty() {
        let mut appended = identifier.clone();
        appended.set_path(&format!("{path}/.well-known/{suffix}"));
        appended.set_query(None);
        urls.push(appended);
    }
    urls
}

/// What the wallet uses of a Credential Issuer's metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct IssuerMetadata {
    /// The Credential Issuer Identifier, equal to the one the metadata was fetched for.
    pub credential_issuer: String,
    /// The authorization servers; `None` when the issuer is its own.
    pub authorization_servers: Option<Vec<String>>,
    /// The credential endpoint.
    pub credential_endpoint: Url,
    /// The nonce endpoint; `None` when the issuer wants no `c_nonce` in proofs.
    pub nonce_endpoint: Option<Url>,
    /// `credential_configurations_supported`, unparsed: only offered entries are read.
    configurations: Map<String, Value>,
}

#[derive(Deserialize)]
struct RawIssuerMetadata {
    credential_issuer: String,
    #[serde(default)]
    authorization_servers: Option<Vec<String>>,
    credential_endpoint: String,
    #[serde(default)]
    nonce_endpoint: Option<String>,
    credential_configurations_supported: Map<String, Value>,
}

/// Parses the metadata of the issuer `expected_issuer` (the offer's
/// `credential_issuer`), which the document must name exactly (simple string
/// comparison, section 12.2.4).
pub fn parse_issuer_metadata(
    bytes: &[u8],
    expected_issuer: &str,
) -> Result<IssuerMetadata, Oid4vciError> {
    let endpoint = Endpoint::IssuerMetadata;
    let invalid = |reason: String| Oid4vciError::InvalidMetadata { endpoint, reason };
    let raw: RawIssuerMetadata = serde_json::from_slice(bytes)
        .map_err(|err| invalid(server_description(&err.to_string())))?;
    if raw.credential_issuer != expected_issuer {
        return Err(Oid4vciError::IssuerMismatch {
            endpoint,
            expected: expected_issuer.to_owned(),
            got: server_text(&raw.credential_issuer, 120),
        });
    }
    if let Some(servers) = &raw.authorization_servers {
        if servers.is_empty() || servers.len() > AUTHORIZATION_SERVERS_MAX {
            return Err(invalid(format!(
                "authorization_servers must hold 1 to {AUTHORIZATION_SERVERS_MAX} servers"
            )));
        }
    }
    let credential_endpoint = check_url("credential_endpoint", &raw.credential_endpoint)?;
    let nonce_endpoint = raw
        .nonce_endpoint
        .as_deref()
        .map(|url| check_url("nonce_endpoint", url))
        .transpose()?;
    Ok(IssuerMetadata {
        credential_issuer: raw.credential_issuer,
        authorization_servers: raw.authorization_servers,
        credential_endpoint,
        nonce_endpoint,
        configurations: raw.credential_configurations_supported,
    })
}

/// An offered credential configuration this wallet can receive: an SD-JWT VC bound to a
/// JWK with a `jwt` key proof signed with `EdDSA`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialConfiguration {
    /// Its id in `credential_configurations_supported`.
    pub id: String,
    /// The credential type (`vct`) the issued credential must carry.
    pub vct: String,
    /// The first display name the issuer gives, if any (control characters removed).
    pub display_name: Option<String>,
}

impl IssuerMetadata {
    /// The configuration `id`, checked to be receivable by this wallet.
    pub fn configuration(&self, id: &str) -> Result<CredentialConfiguration, Oid4vciError> {
        let raw =
            self.configurations
                .get(id)
                .ok_or_else(|| Oid4vciError::UnknownConfiguration {
                    id: server_text(id, 120),
                })?;
        let unsupported = |reason: String| Oid4vciError::UnsupportedConfiguration {
            id: server_text(id, 120),
            reason,
        };
        let Value::Object(raw) = raw else {
            return Err(unsupported("it is not an object".into()));
        };
        match raw.get("format").and_then(Value::as_str) {
            Some(TYP_SD_JWT_VC) => {}
            Some(other) => {
                return Err(unsupported(format!(
                    "format {:?}; this wallet receives {TYP_SD_JWT_VC} only",
                    server_text(other, 64)
                )))
            }
            None => return Err(unsupported("it has no format".into())),
        }
        let vct = match raw.get("vct") {
            Some(Value::String(vct)) if !vct.is_empty() => vct.clone(),
            _ => return Err(unsupported("it has no vct".into())),
        };
        if let Some(methods) = raw.get("cryptographic_binding_methods_supported") {
            let names = string_array(methods).ok_or_else(|| {
                unsupported(
                    "cryptographic_binding_methods_supported is not an array of strings".into(),
                )
            })?;
            if !names.iter().any(|m| *m == "jwk" || *m == "did:jwk") {
                return Err(unsupported(
                    "it binds to neither a jwk nor a did:jwk holder key".into(),
                ));
            }
        }
        if let Some(proof_types) = raw.get("proof_types_supported") {
            check_proof_types(proof_types).map_err(|reason| unsupported(reason.into()))?;
        }
        let display_name = raw
            .get("credential_metadata")
            .and_then(|m| m.get("display"))
            .or_else(|| raw.get("display"))
            .and_then(Value::as_array)
            .and_then(|displays| displays.first())
            .and_then(|d| d.get("name"))
            .and_then(Value::as_str)
            .map(|name| server_text(name, 120));
        Ok(CredentialConfiguration {
            id: id.to_owned(),
            vct,
            display_name,
        })
    }
}

/// The configuration must accept a `jwt` proof signed with `EdDSA` and ask for no key
/// attestation (the wallet has none to give).
fn check_proof_types(proof_types: &Value) -> Result<(), &'static str> {
    let jwt = proof_types
        .get(PROOF_TYPE_JWT)
        .ok_or("it accepts no jwt key proof")?;
    let algs = jwt
        .get("proof_signing_alg_values_supported")
        .and_then(string_array)
        .ok_or("its jwt proof type lists no proof_signing_alg_values_supported")?;
    if !algs.contains(&PROOF_ALG) {
        return Err("its jwt key proofs cannot be signed with EdDSA");
    }
    if jwt.get("key_attestations_required").is_some() {
        return Err("it requires a key attestation");
    }
    Ok(())
}

fn string_array(value: &Value) -> Option<Vec<&str>> {
    value.as_array()?.iter().map(Value::as_str).collect()
}

/// The authorization servers to try for the pre-authorized code grant, in order.
///
/// Without `authorization_servers` the issuer is its own. With them, the offer's
/// `authorization_server` hint must be one of them (section 12.2.4); without a hint
/// they are tried in the metadata's order.
pub fn authorization_server_candidates(
    metadata: &IssuerMetadata,
    grant: &PreAuthorizedGrant,
) -> Result<Vec<String>, Oid4vciError> {
    let Some(servers) = &metadata.authorization_servers else {
        return Ok(vec![metadata.credential_issuer.clone()]);
    };
    match &grant.authorization_server {
        Some(hint) if servers.contains(hint) => Ok(vec![hint.clone()]),
        Some(hint) => Err(Oid4vciError::InvalidOffer {
            reason: format!(
                "authorization_server {:?} is not one of the issuer's authorization servers",
                server_text(hint, 120)
            ),
        }),
        None => Ok(servers.clone()),
    }
}

/// What the wallet uses of an authorization server's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationServerMetadata {
    /// The authorization server's identifier.
    pub issuer: String,
    /// The token endpoint.
    pub token_endpoint: Url,
}

#[derive(Deserialize)]
struct RawAuthorizationServerMetadata {
    issuer: String,
    #[serde(default)]
    token_endpoint: Option<String>,
    #[serde(default)]
    grant_types_supported: Option<Vec<String>>,
}

/// Parses the metadata of the authorization server `expected_issuer`, which the
/// document must name exactly (RFC 8414 section 3.3), and which must offer a token
/// endpoint and, if it lists its grant types, the pre-authorized code grant.
pub fn parse_authorization_server_metadata(
    bytes: &[u8],
    expected_issuer: &str,
) -> Result<AuthorizationServerMetadata, Oid4vciError> {
    let endpoint = Endpoint::AuthorizationServerMetadata;
    let invalid = |reason: String| Oid4vciError::InvalidMetadata { endpoint, reason };
    let raw: RawAuthorizationServerMetadata = serde_json::from_slice(bytes)
        .map_err(|err| invalid(server_description(&err.to_string())))?;
    if raw.issuer != expected_issuer {
        return Err(Oid4vciError::IssuerMismatch {
            endpoint,
            expected: expected_issuer.to_owned(),
            got: server_text(&raw.issuer, 120),
        });
    }
    if let Some(grants) = &raw.grant_types_supported {
        if !grants.iter().any(|g| g == PRE_AUTHORIZED_GRANT_TYPE) {
            return Err(invalid(
                "grant_types_supported does not list the pre-authorized code grant".into(),
            ));
        }
    }
    let token_endpoint = raw
        .token_endpoint
        .ok_or_else(|| invalid("it has no token_endpoint".into()))?;
    Ok(AuthorizationServerMetadata {
        issuer: raw.issuer,
        token_endpoint: check_url("token_endpoint", &token_endpoint)?,
    })
}

/// Checks an authorization server identifier from the issuer metadata.
pub fn authorization_server_url(identifier: &str) -> Result<Url, Oid4vciError> {
    check_issuer_identifier("authorization server", identifier)
}

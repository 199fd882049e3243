//! Credential offers (OpenID4VCI 1.0 section 4): the offer link, the offer object, and the
//! URL rules every endpoint the wallet calls must follow.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;
use url::{Host, Url};

use super::error::{server_description, server_text, Oid4vciError};
use super::{
    CONFIGURATIONS_PER_OFFER_MAX, IDENTIFIER_BYTES_MAX, OFFER_BYTES_MAX, OFFER_URI_BYTES_MAX,
    PRE_AUTHORIZED_CODE_BYTES_MAX, TX_CODE_BYTES_MAX, TX_CODE_DESCRIPTION_CHARS_MAX,
};

/// The grant type of the pre-authorized code flow.
pub const PRE_AUTHORIZED_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// The scheme of credential offer links for wallets (OpenID4VCI 1.0 section 12.1).
pub const OFFER_SCHEME: &str = "openid-credential-offer";
/// The longest URL accepted anywhere in the flow.
const URL_BYTES_MAX: usize = 2048;

/// Where a credential offer is: in the link itself, or behind an `https` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OfferSource {
    /// The offer, passed by value (`credential_offer`).
    Value(CredentialOffer),
    /// The URL to fetch it from (`credential_offer_uri`).
    Reference(Url),
}

/// A validated credential offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialOffer {
    /// The Credential Issuer Identifier, exactly as sent (it is compared by string with
    /// the metadata and is the `aud` of key proofs).
    pub credential_issuer: String,
    /// The offered credential configurations (1 to [`CONFIGURATIONS_PER_OFFER_MAX`],
    /// distinct).
    pub credential_configuration_ids: Vec<String>,
    /// The pre-authorized code grant, if the offer has one.
    pub pre_authorized: Option<PreAuthorizedGrant>,
}

/// The `urn:ietf:params:oauth:grant-type:pre-authorized_code` grant of an offer.
#[derive(Clone, PartialEq, Eq)]
pub struct PreAuthorizedGrant {
    /// The pre-authorized code (a bearer secret: `Debug` does not show it).
    pub code: String,
    /// Present when the token request needs a transaction code.
    pub tx_code: Option<TxCodeSpec>,
    /// Which of the issuer's authorization servers to use, if it has several.
    pub authorization_server: Option<String>,
}

impl fmt::Debug for PreAuthorizedGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreAuthorizedGrant")
            .field("code_len", &self.code.len())
            .field("tx_code", &self.tx_code)
            .field("authorization_server", &self.authorization_server)
            .finish()
    }
}

/// What the issuer says of the transaction code it expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxCodeSpec {
    /// Its character set.
    pub input_mode: TxCodeInputMode,
    /// Its length in characters, if given.
    pub length: Option<u32>,
    /// Where the citizen finds it (control characters removed, at most 300 characters).
    pub description: Option<String>,
}

impl TxCodeSpec {
    /// Checks a code the citizen typed against the announced length and character set.
    pub fn check(&self, code: &str) -> Result<(), Oid4vciError> {
        let invalid = |reason: String| Err(Oid4vciError::InvalidTxCode { reason });
        if code.is_empty() {
            return invalid("it is empty".into());
        }
        if code.len() > TX_CODE_BYTES_MAX {
            return invalid(format!("it is longer than {TX_CODE_BYTES_MAX} bytes"));
        }
        if self.input_mode == TxCodeInputMode::Numeric && !code.bytes().all(|b| b.is_ascii_digit())
        {
            return invalid("the issuer expects digits only".into());
        }
        let chars = code.chars().count();
        match self.length {
            // u32 to usize is lossless on every supported target.
            Some(length) if chars != length as usize => invalid(format!(
                "the issuer expects {length} characters, not {chars}"
            )),
            _ => Ok(()),
        }
    }
}

/// The character set of a transaction code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxCodeInputMode {
    /// Digits only (the default).
    Numeric,
    /// Any characters.
    Text,
}

impl fmt::Display for TxCodeInputMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TxCodeInputMode::Numeric => "digits",
            TxCodeInputMode::Text => "text",
        })
    }
}

/// Parses what a citizen scanned or clicked: `openid-credential-offer://?credential_offer=
/// <json>` or `?credential_offer_uri=<https URL>`, the same query on an `https` link, or
/// the offer JSON itself.
///
/// Exactly one of the two parameters, once. Nothing is fetched here: a reference is
/// returned for the caller to fetch (and then to parse with [`parse_credential_offer`]).
pub fn parse_offer_uri(input: &str) -> Result<OfferSource, Oid4vciError> {
    let invalid = |reason: &str| Oid4vciError::InvalidOfferUri {
        reason: reason.to_owned(),
    };
    if input.len() > OFFER_URI_BYTES_MAX {
        return Err(invalid(&format!(
            "it is longer than {OFFER_URI_BYTES_MAX} bytes"
        )));
    }
    let input = input.trim();
    if input.starts_with('{') {
        return parse_credential_offer(input.as_bytes()).map(OfferSource::Value);
    }
    let url = Url::parse(input).map_err(|_| invalid("it is not a URL"))?;
    if !matches!(url.scheme(), OFFER_SCHEME | "https" | "http") {
        return Err(invalid(&format!(
            "the scheme must be {OFFER_SCHEME}:// or https://"
        )));
    }
    let mut offer = None;
    let mut offer_uri = None;
    for (name, value) in url.query_pairs() {
        let slot = match name.as_ref() {
            "credential_offer" => &mut offer,
            "credential_offer_uri" => &mut offer_uri,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(invalid(&format!("{name} appears more than once")));
        }
    }
    match (offer, offer_uri) {
        (Some(offer), None) => parse_credential_offer(offer.as_bytes()).map(OfferSource::Value),
        (None, Some(uri)) => check_url("credential_offer_uri", &uri).map(OfferSource::Reference),
        (Some(_), Some(_)) => Err(invalid(
            "it has both credential_offer and credential_offer_uri",
        )),
        (None, None) => Err(invalid(
            "it has neither credential_offer nor credential_offer_uri",
        )),
    }
}

#[derive(Deserialize)]
struct RawOffer {
    credential_issuer: Value,
    credential_configuration_ids: Value,
    #[serde(default)]
    grants: Option<serde_json::Map<String, Value>>,
}

/// Parses and checks a credential offer object (unknown members are ignored, as the
/// specification requires).
pub fn parse_credential_offer(bytes: &[u8]) -> Result<CredentialOffer, Oid4vciError> {
    let invalid = |reason: String| Oid4vciError::InvalidOffer { reason };
    if bytes.len() > OFFER_BYTES_MAX {
        return Err(invalid(format!(
            "it is larger than {OFFER_BYTES_MAX} bytes"
        )));
    }
    let raw: RawOffer = serde_json::from_slice(bytes)
        .map_err(|err| invalid(format!("not a credential offer object: {err}")))?;
    let Value::String(credential_issuer) = raw.credential_issuer else {
        return Err(invalid("credential_issuer is not a string".into()));
    };
    check_issuer_identifier("credential_issuer", &credential_issuer)?;
    let Value::Array(ids) = raw.credential_configuration_ids else {
        return Err(invalid(
            "credential_configuration_ids is not an array".into(),
        ));
    };
    if ids.is_empty() || ids.len() > CONFIGURATIONS_PER_OFFER_MAX {
        return Err(invalid(format!(
            "credential_configuration_ids must hold 1 to {CONFIGURATIONS_PER_OFFER_MAX} ids"
        )));
    }
    let mut credential_configuration_ids = Vec::with_capacity(ids.len());
    for id in ids {
        let Value::String(id) = id else {
            return Err(invalid(
                "a credential configuration id is not a string".into(),
            ));
        };
        if id.is_empty() || id.len() > IDENTIFIER_BYTES_MAX {
            return Err(invalid(format!(
                "a credential configuration id is empty or longer than {IDENTIFIER_BYTES_MAX} bytes"
            )));
        }
        if credential_configuration_ids.contains(&id) {
            return Err(invalid(format!(
                "credential configuration id {:?} is repeated",
                server_text(&id, 64)
            )));
        }
        credential_configuration_ids.push(id);
    }
    let pre_authorized = match raw
        .grants
        .as_ref()
        .and_then(|g| g.get(PRE_AUTHORIZED_GRANT_TYPE))
    {
        None => None,
        Some(grant) => Some(parse_pre_authorized_grant(grant)?),
    };
    Ok(CredentialOffer {
        credential_issuer,
        credential_configuration_ids,
        pre_authorized,
    })
}

fn parse_pre_authorized_grant(grant: &Value) -> Result<PreAuthorizedGrant, Oid4vciError> {
    let invalid = |reason: &str| Oid4vciError::InvalidOffer {
        reason: format!("the pre-authorized code grant: {reason}"),
    };
    let Value::Object(grant) = grant else {
        return Err(invalid("not an object"));
    };
    let code = match grant.get("pre-authorized_code") {
        Some(Value::String(code))
            if !code.is_empty() && code.len() <= PRE_AUTHORIZED_CODE_BYTES_MAX =>
        {
            code.clone()
        }
        Some(Value::String(_)) => {
            return Err(invalid("pre-authorized_code is empty or too long"));
        }
        _ => return Err(invalid("pre-authorized_code is missing or not a string")),
    };
    let tx_code = match grant.get("tx_code") {
        None => None,
        Some(Value::Object(spec)) => Some(parse_tx_code_spec(spec).map_err(invalid)?),
        Some(_) => return Err(invalid("tx_code is not an object")),
    };
    let authorization_server = match grant.get("authorization_server") {
        None => None,
        Some(Value::String(server)) if server.len() <= URL_BYTES_MAX => Some(server.clone()),
        Some(_) => return Err(invalid("authorization_server is not a URL string")),
    };
    Ok(PreAuthorizedGrant {
        code,
        tx_code,
        authorization_server,
    })
}

fn parse_tx_code_spec(spec: &serde_json::Map<String, Value>) -> Result<TxCodeSpec, &'static str> {
    let input_mode = match spec.get("input_mode") {
        None => TxCodeInputMode::Numeric,
        Some(Value::String(mode)) if mode == "numeric" => TxCodeInputMode::Numeric,
        Some(Value::String(mode)) if mode == "text" => TxCodeInputMode::Text,
        Some(_) => return Err("tx_code.input_mode is neither \"numeric\" nor \"text\""),
    };
    let length = match spec.get("length") {
        None => None,
        Some(value) => {
            let length = value
                .as_u64()
                .and_then(|l| u32::try_from(l).ok())
                // u32 to usize is lossless on every supported target.
                .filter(|&l| l >= 1 && (l as usize) <= TX_CODE_BYTES_MAX)
                .ok_or("tx_code.length is not a length from 1 to 256")?;
            Some(length)
        }
    };
    let description = match spec.get("description") {
        None => None,
        Some(Value::String(text)) if text.chars().count() <= TX_CODE_DESCRIPTION_CHARS_MAX => {
            Some(server_description(text))
        }
        Some(_) => return Err("tx_code.description is not a string of at most 300 characters"),
    };
    Ok(TxCodeSpec {
        input_mode,
        length,
        description,
    })
}

/// Parses a URL the wallet will call: `https`, or `http` to the loopback interface only
/// (for development: a local attacker could do more than read that traffic); no user
/// name, password or fragment.
pub fn check_url(what: &'static str, text: &str) -> Result<Url, Oid4vciError> {
    let invalid = |reason: &'static str| Oid4vciError::InvalidUrl {
        what,
        url: server_text(text, 120),
        reason,
    };
    if text.len() > URL_BYTES_MAX {
        return Err(invalid("it is longer than 2048 bytes"));
    }
    let url = Url::parse(text).map_err(|_| invalid("it is not a URL"))?;
    let host = url.host().ok_or_else(|| invalid("it has no host"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(invalid(
                "it must use https (http only to the loopback interface)",
            ))
        }
        _ => return Err(invalid("it must be an https URL")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it carries a user name or password"));
    }
    if url.fragment().is_some() {
        return Err(invalid("it has a fragment"));
    }
    Ok(url)
}

/// Checks a Credential Issuer or authorization server identifier: a URL under
/// [`check_url`]'s rules without a query (OpenID4VCI 1.0 section 12.2.1, RFC 8414).
pub fn check_issuer_identifier(what: &'static str, text: &str) -> Result<Url, Oid4vciError> {
    let url = check_url(what, text)?;
    if url.query().is_some() {
        return Err(Oid4vciError::InvalidUrl {
            what,
            url: server_text(text, 120),
            reason: "an issuer identifier has no query",
        });
    }
    Ok(url)
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

//! Credential offers (OpenID4VCI 1.0 section 4) and the token endpoint of the
//! pre-authorised code flow (section 6).

use qrcode::render::svg;
use qrcode::QrCode;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use simin_identity::card::{self, CardError, CLAIMS_MAX, RESERVED_CLAIMS};
use tracing::info;

use crate::error::{IssuerError, ProtocolError, RequestError};
use crate::service::{digest, random_id, random_secret, IssuerService};
use crate::store::OfferRecord;
use crate::GRANT_PRE_AUTHORIZED_CODE;

/// The longest serialized claims of one offer, in bytes.
pub const CLAIMS_BYTES_MAX: usize = 16 * 1024;
/// The digits of a transaction code.
const TX_CODE_DIGITS: usize = 6;
/// The longest pre-authorised code or transaction code read from a client.
const CODE_BYTES_MAX: usize = 128;
/// The scheme of offers passed by value.
const OFFER_SCHEME: &str = "openid-credential-offer://?credential_offer=";

/// `POST /admin/offers`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferRequest {
    /// The credential configuration (the credential type, e.g. `CitizenCard`).
    pub credential_configuration_id: String,
    /// The claims of the credential, checked against the type's schema now.
    pub claims: Map<String, Value>,
    /// Protect the offer with a six-digit transaction code, to be given to the citizen
    /// through another channel than the QR code.
    #[serde(default)]
    pub tx_code: bool,
}

/// The answer to `POST /admin/offers`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OfferCreated {
    pub offer_id: String,
    /// `openid-credential-offer://?credential_offer=<percent-encoded JSON>`.
    pub credential_offer_uri: String,
    pub credential_offer: Value,
    /// The offer URI as a QR code (SVG).
    pub qr_svg_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<String>,
    /// Unix seconds.
    pub expires_at: u64,
}

/// The form of `POST /token`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    #[serde(rename = "pre-authorized_code")]
    pub pre_authorized_code: Option<String>,
    pub tx_code: Option<String>,
}

/// The answer of `POST /token`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn invalid(reason: impl Into<String>) -> RequestError {
    RequestError::Invalid(reason.into())
}

impl IssuerService {
    /// The credential offer JSON of an offer.
    fn offer_json(&self, offer: &OfferRecord, code: &str) -> Value {
        let mut grant = json!({ "pre-authorized_code": code });
        if offer.tx_code.is_some() {
            grant["tx_code"] = json!({
                "length": TX_CODE_DIGITS,
                "input_mode": "numeric",
                "description": "Enter the code the clerk gave you",
            });
        }
        json!({
            "credential_issuer": self.config.public_url,
            "credential_configuration_ids": [offer.configuration_id],
            "grants": { GRANT_PRE_AUTHORIZED_CODE: grant },
        })
    }

    fn offer_uri(offer: &Value) -> String {
        format!("{OFFER_SCHEME}{}", percent_encode(&offer.to_string()))
    }

    /// Creates an offer of `request.claims` (admin).
    pub async fn create_offer(&self, request: OfferRequest) -> Result<OfferCreated, RequestError> {
        // Before anything else: no offer exists while a credential could not be issued.
        self.require_ready()?;
        let credential_type = request.credential_configuration_id;
        if !self.accredited_types().await?.contains(&credential_type) {
            return Err(invalid(format!(
                "{} is not accredited for {credential_type:?}",
                self.did
            )));
        }
        check_claims(&request.claims)?;
        let Some(schema) = self.schema(&credential_type).await? else {
            return Err(invalid(format!(
                "no JSON Schema is known for {credential_type:?}"
            )));
        };
        card::validate_claims(&schema, &request.claims, true).map_err(|e| match e {
            CardError::SchemaViolation { .. } => invalid(e.to_string()),
            other => RequestError::Failed(IssuerError::Card(other)),
        })?;
        let now = self.now();
        let code = random_secret();
        let tx_code = request.tx_code.then(|| {
            let mut rng = rand::rngs::OsRng;
            (0..TX_CODE_DIGITS)
                .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
                .collect::<String>()
        });
        let offer = OfferRecord {
            offer_id: random_id(),
            configuration_id: credential_type,
            claims: request.claims,
            pre_authorized_code: Some(code.clone()),
            tx_code: tx_code.clone(),
            tx_code_attempts: 0,
            created_at: now,
            expires_at: now.saturating_add(self.config.offer_ttl_secs),
            token_expires_at: None,
        };
        let credential_offer = self.offer_json(&offer, &code);
        let stored = offer.clone();
        let code_digest = digest(&code);
        self.db(move |store| store.insert_offer(&stored, &code_digest, now))
            .await?;
        info!(offer_id = %offer.offer_id, credential_type = %offer.configuration_id, tx_code = tx_code.is_some(), "offer created");
        Ok(OfferCreated {
            credential_offer_uri: Self::offer_uri(&credential_offer),
            qr_svg_url: format!(
                "{}/offers/{}/qr.svg",
                self.config.public_url, offer.offer_id
            ),
            offer_id: offer.offer_id,
            credential_offer,
            tx_code,
            expires_at: offer.expires_at,
        })
    }

    /// The credential offer JSON of a pending offer (`GET /offers/{id}`, for wallets
    /// given the offer by reference).
    pub async fn pending_offer(&self, offer_id: &str) -> Result<Value, RequestError> {
        let offer = self.find_pending(offer_id).await?;
        let code = offer
            .pre_authorized_code
            .as_deref()
            .expect("a pending offer keeps its code until it is redeemed");
        Ok(self.offer_json(&offer, code))
    }

    /// The offer URI of a pending offer as a QR code (SVG).
    pub async fn offer_qr_svg(&self, offer_id: &str) -> Result<String, RequestError> {
        let uri = Self::offer_uri(&self.pending_offer(offer_id).await?);
        let code = QrCode::new(uri.as_bytes())
            .map_err(|e| RequestError::Invalid(format!("the offer does not fit a QR code: {e}")))?;
        Ok(code
            .render::<svg::Color<'_>>()
            .min_dimensions(256, 256)
            .quiet_zone(true)
            .build())
    }

    async fn find_pending(&self, offer_id: &str) -> Result<OfferRecord, RequestError> {
        let not_found = || RequestError::NotFound {
            what: "pending offer",
            id: offer_id.chars().take(64).collect(),
        };
        if offer_id.len() != 32 || !offer_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_found());
        }
        let now = self.now();
        let id = offer_id.to_owned();
        self.db(move |store| store.pending_offer(&id, now))
            .await?
            .ok_or_else(not_found)
    }

    /// `POST /token`: exchanges a pre-authorised code for an access token.
    pub async fn token(&self, request: TokenRequest) -> Result<TokenResponse, RequestError> {
        let bad = |d: &str| RequestError::protocol(ProtocolError::InvalidRequest, d);
        let grant_type = request
            .grant_type
            .ok_or_else(|| bad("grant_type is missing"))?;
        if grant_type != GRANT_PRE_AUTHORIZED_CODE {
            return Err(RequestError::protocol(
                ProtocolError::UnsupportedGrantType,
                "only the pre-authorized_code grant is supported",
            ));
        }
        let code = request
            .pre_authorized_code
            .ok_or_else(|| bad("pre-authorized_code is missing"))?;
        if code.is_empty() || code.len() > CODE_BYTES_MAX {
            return Err(RequestError::protocol(
                ProtocolError::InvalidGrant,
                "the pre-authorized code is unknown or was used",
            ));
        }
        if request
            .tx_code
            .as_ref()
            .is_some_and(|t| t.len() > CODE_BYTES_MAX)
        {
            return Err(bad("tx_code is too long"));
        }
        let access_token = random_secret();
        let now = self.now();
        let ttl = self.config.access_token_ttl_secs;
        let token_digest = digest(&access_token);
        let offer = self
            .db(move |store| {
                store.redeem_code(
                    &digest(&code),
                    request.tx_code.as_deref(),
                    now,
                    &token_digest,
                    now.saturating_add(ttl),
                )
            })
            .await?;
        info!(offer_id = %offer.offer_id, "pre-authorized code redeemed");
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: ttl,
        })
    }
}

/// Bounds the claims of an offer before the schema sees them.
fn check_claims(claims: &Map<String, Value>) -> Result<(), RequestError> {
    if claims.len() > CLAIMS_MAX {
        return Err(invalid(format!("more than {CLAIMS_MAX} claims")));
    }
    if let Some(name) = claims
        .keys()
        .find(|n| RESERVED_CLAIMS.contains(&n.as_str()))
    {
        return Err(invalid(format!("claim {name:?} is set by the issuer")));
    }
    let size = serde_json::to_vec(claims)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > CLAIMS_BYTES_MAX {
        return Err(invalid(format!(
            "the claims exceed {CLAIMS_BYTES_MAX} bytes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_uris_escape_everything_but_unreserved_characters() {
        assert_eq!(percent_encode("a-Z_0.~"), "a-Z_0.~");
        assert_eq!(
            percent_encode(r#"{"a": "b/c"}"#),
            "%7B%22a%22%3A%20%22b%2Fc%22%7D"
        );
        assert_eq!(percent_encode("é"), "%C3%A9");
    }

    #[test]
    fn claims_are_bounded() {
        let mut many = Map::new();
        for i in 0..=CLAIMS_MAX {
            many.insert(format!("c{i}"), Value::Bool(true));
        }
        assert!(check_claims(&many).is_err());
        let mut reserved = Map::new();
        reserved.insert("cnf".into(), json!({}));
        assert!(check_claims(&reserved).is_err());
        let mut big = Map::new();
        big.insert("name".into(), Value::String("x".repeat(CLAIMS_BYTES_MAX)));
        assert!(check_claims(&big).is_err());
    }
}

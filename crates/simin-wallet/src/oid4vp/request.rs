//! The signed request object (OpenID4VP 1.0 section 5, RFC 9101): its header, the
//! verifier's key from its DID document, and the checked authorization request.

use serde_json::{Map, Value};
use simin_identity::jose::{decode_compact_unverified, verify_compact, Jwk};
use url::Url;

use super::dcql::{parse_dcql_query, CredentialQuery};
use super::error::{json_object, server_text, Oid4vpEndpoint, Oid4vpError};
use super::link::{url_error, RequestLink};
use super::{CLOCK_SKEW_SECS, NAME_BYTES_MAX, REQUEST_OBJECT_BYTES_MAX, STATE_BYTES_MAX};
use crate::oid4vci::{check_url, issuer_key_from_resolution, Oid4vciError};
use crate::present::NONCE_BYTES_MAX;

/// The `typ` of a request object (RFC 9101 section 10.8).
pub const TYP_REQUEST_OBJECT: &str = "oauth-authz-req+jwt";
/// The only `response_type` this wallet answers.
pub const RESPONSE_TYPE_VP_TOKEN: &str = "vp_token";
/// The only `response_mode` this wallet answers (OpenID4VP 1.0 section 8.2).
pub const RESPONSE_MODE_DIRECT_POST: &str = "direct_post";
/// The only signature algorithm of request objects: `did:simin` keys are Ed25519.
const ALG_EDDSA: &str = "EdDSA";
/// The claims an access-log request may ask for: enough to find the citizen's records.
const ACCESS_LOG_CLAIMS: [&str; 1] = ["card_number"];
/// The most entries taken from each of `assertionMethod` and `authentication`.
const RELATIONSHIP_ENTRIES_MAX: usize = 32;
/// The longest service name or identifier shown to the citizen, in characters.
const SERVICE_TEXT_CHARS_MAX: usize = 200;

/// What the request object's protected header says, checked against the link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestObjectHeader {
    /// The signing key: a DID URL of the verifier's DID (`did:simin:<org>#<fragment>`).
    pub kid: String,
}

/// Why the citizen's claims are asked for (the simin extension `simin_request`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Signing in to a service: the gateway passes the claims on to it.
    Login {
        /// The service the claims are for.
        service: Service,
    },
    /// Reading the citizen's own access log at the gateway.
    AccessLog,
}

/// A service that signs citizens in through the gateway, as the request names it.
/// Control characters are removed and each text is cut to 200 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// The service's OAuth client id at the gateway.
    pub client_id: String,
    /// The name shown to citizens.
    pub name: String,
    /// The organisation running it.
    pub organization: String,
}

/// A checked authorization request: what to present, to whom, and where to send it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// The verifier's client identifier, with its prefix: the Key Binding JWT's `aud`.
    pub client_id: String,
    /// The verifier's DID.
    pub verifier_did: String,
    /// The key that signed the request.
    pub kid: String,
    /// Where to POST the response.
    pub response_uri: Url,
    /// The Key Binding JWT's `nonce`.
    pub nonce: String,
    /// Returned with the response, unchanged.
    pub state: String,
    /// What is asked.
    pub query: CredentialQuery,
    /// Why.
    pub purpose: Purpose,
    /// `iat`, Unix seconds.
    pub issued_at: i64,
    /// `exp`, Unix seconds.
    pub expires_at: i64,
}

/// Reads the request object's protected header without its signature: `typ`
/// `oauth-authz-req+jwt`, `alg` `EdDSA`, and a `kid` that is a key of the link's DID
/// (which the caller then resolves, see [`verifier_key_from_resolution`]).
pub fn request_object_header(
    jws: &str,
    link: &RequestLink,
) -> Result<RequestObjectHeader, Oid4vpError> {
    if jws.len() > REQUEST_OBJECT_BYTES_MAX {
        return Err(invalid(format!(
            "it is larger than {REQUEST_OBJECT_BYTES_MAX} bytes"
        )));
    }
    let (header, _) = decode_compact_unverified(jws.trim())
        .map_err(|err| invalid(format!("not a compact JWS: {err}")))?;
    let typ = header.get("typ").and_then(Value::as_str).unwrap_or("");
    let typ_plain = typ.strip_prefix("application/").unwrap_or(typ);
    if !typ_plain.eq_ignore_ascii_case(TYP_REQUEST_OBJECT) {
        return Err(invalid(format!(
            "typ is {:?}, not {TYP_REQUEST_OBJECT:?}",
            server_text(typ, 64)
        )));
    }
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg != ALG_EDDSA {
        return Err(invalid(format!(
            "alg is {:?}, not {ALG_EDDSA:?}",
            server_text(alg, 32)
        )));
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the header has no kid naming the verifier's key".into()))?;
    let fragment = kid
        .strip_prefix(link.did.as_str())
        .and_then(|rest| rest.strip_prefix('#'));
    match fragment {
        Some(fragment) if !fragment.is_empty() && fragment.len() <= NAME_BYTES_MAX => {
            Ok(RequestObjectHeader {
                kid: kid.to_owned(),
            })
        }
        _ => Err(Oid4vpError::KidMismatch {
            kid: server_text(kid, 120),
            did: link.did.clone(),
        }),
    }
}

/// The verifier key a DID Resolution result names for `kid`: a key of `did` listed under
/// `assertionMethod` or `authentication` (Ed25519 Multikey, or a JWK).
///
/// `status` and `body` are the node's answer to `GET /v1/dids/{did}`; a deactivated DID
/// is refused. The reading of the document is the OpenID4VCI client's
/// ([`issuer_key_from_resolution`]), given both relationships.
pub fn verifier_key_from_resolution(
    status: u16,
    body: &[u8],
    did: &str,
    kid: &str,
) -> Result<Jwk, Oid4vpError> {
    let mut result = json_object(Oid4vpEndpoint::DidResolution, body)?;
    if let Some(Value::Object(document)) = result.get_mut("didDocument") {
        let listed = |name: &str| -> Vec<Value> {
            document
                .get(name)
                .and_then(Value::as_array)
                .map(|entries| {
                    entries
                        .iter()
                        .take(RELATIONSHIP_ENTRIES_MAX)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut methods = listed("assertionMethod");
        methods.extend(listed("authentication"));
        document.insert("assertionMethod".into(), Value::Array(methods));
    }
    let body = serde_json::to_vec(&result).expect("a JSON map always serializes");
    issuer_key_from_resolution(status, &body, did, Some(kid)).map_err(|err| match err {
        Oid4vciError::IssuerResolution { did, reason } => {
            Oid4vpError::VerifierResolution { did, reason }
        }
        Oid4vciError::IssuerDeactivated { did } => Oid4vpError::VerifierDeactivated { did },
        Oid4vciError::IssuerKeyNotFound { kid } => Oid4vpError::VerifierKeyNotFound { kid },
        Oid4vciError::InvalidResponse { reason, .. } => Oid4vpError::InvalidResponse {
            endpoint: Oid4vpEndpoint::DidResolution,
            reason,
        },
        other => Oid4vpError::VerifierResolution {
            did: server_text(did, 120),
            reason: other.to_string(),
        },
    })
}

/// Verifies the request object with the verifier's key and checks what it asks:
/// the link's `client_id`, `response_type` `vp_token`, `response_mode` `direct_post`,
/// a usable `response_uri`, `nonce` and `state`, not expired at `now` (Unix seconds),
/// and a DCQL query this wallet can answer.
pub fn verify_request_object(
    jws: &str,
    verifier_key: &Jwk,
    link: &RequestLink,
    now: i64,
) -> Result<AuthorizationRequest, Oid4vpError> {
    let jws = jws.trim();
    let RequestObjectHeader { kid } = request_object_header(jws, link)?;
    let (_, payload) = verify_compact(jws, verifier_key).map_err(Oid4vpError::Signature)?;
    let client_id = text(&payload, "client_id", NAME_BYTES_MAX)?;
    if client_id != link.client_id {
        return Err(Oid4vpError::ClientIdMismatch {
            link: link.client_id.clone(),
            request: server_text(client_id, 120),
        });
    }
    let expires_at = number(&payload, "exp")?;
    if now >= expires_at {
        return Err(Oid4vpError::Expired { expires_at, now });
    }
    let issued_at = number(&payload, "iat")?;
    if issued_at > now.saturating_add(CLOCK_SKEW_SECS) {
        return Err(invalid(format!(
            "it is issued in the future (iat {issued_at}, now {now})"
        )));
    }
    expect(&payload, "response_type", RESPONSE_TYPE_VP_TOKEN)?;
    expect(&payload, "response_mode", RESPONSE_MODE_DIRECT_POST)?;
    for unsupported in ["presentation_definition", "transaction_data", "request_uri"] {
        if payload.contains_key(unsupported) {
            return Err(invalid(format!("{unsupported} is not supported")));
        }
    }
    if payload
        .get("client_metadata")
        .is_some_and(|metadata| !metadata.is_object())
    {
        return Err(invalid("client_metadata is not an object".into()));
    }
    let response_uri = check_url("response_uri", text(&payload, "response_uri", usize::MAX)?)
        .map_err(url_error)?;
    let query = parse_dcql_query(
        payload
            .get("dcql_query")
            .ok_or_else(|| invalid("it has no dcql_query".into()))?,
    )?;
    let purpose = purpose(payload.get("simin_request"), &query)?;
    Ok(AuthorizationRequest {
        client_id: client_id.to_owned(),
        verifier_did: link.did.clone(),
        kid,
        response_uri,
        nonce: text(&payload, "nonce", NONCE_BYTES_MAX)?.to_owned(),
        state: text(&payload, "state", STATE_BYTES_MAX)?.to_owned(),
        query,
        purpose,
        issued_at,
        expires_at,
    })
}

/// Reads `simin_request`: a login names its service; an access-log request asks for no
/// more than the card number.
fn purpose(request: Option<&Value>, query: &CredentialQuery) -> Result<Purpose, Oid4vpError> {
    let request = request.and_then(Value::as_object).ok_or_else(|| {
        invalid("simin_request is missing: it names whom the claims are for".into())
    })?;
    match request.get("purpose").and_then(Value::as_str) {
        Some("login") => {
            let service = request
                .get("service")
                .and_then(Value::as_object)
                .ok_or_else(|| invalid("a login request names no service".into()))?;
            let field = |name: &str| {
                service
                    .get(name)
                    .and_then(Value::as_str)
                    .filter(|value| !value.trim().is_empty())
                    .map(|value| server_text(value, SERVICE_TEXT_CHARS_MAX))
                    .ok_or_else(|| invalid(format!("simin_request.service.{name} is missing")))
            };
            Ok(Purpose::Login {
                service: Service {
                    client_id: field("client_id")?,
                    name: field("name")?,
                    organization: field("organization")?,
                },
            })
        }
        Some("access_log") => {
            if let Some(claim) = query
                .claims
                .iter()
                .find(|claim| !ACCESS_LOG_CLAIMS.contains(&claim.as_str()))
            {
                return Err(invalid(format!(
                    "an access-log request asks for {:?}; it may ask for {} only",
                    server_text(claim, 64),
                    ACCESS_LOG_CLAIMS.join(", ")
                )));
            }
            Ok(Purpose::AccessLog)
        }
        Some(other) => Err(invalid(format!(
            "unknown simin_request.purpose {:?}",
            server_text(other, 32)
        ))),
        None => Err(invalid("simin_request.purpose is missing".into())),
    }
}

fn text<'a>(
    payload: &'a Map<String, Value>,
    name: &str,
    bytes_max: usize,
) -> Result<&'a str, Oid4vpError> {
    payload
        .get(name)
        .and_then(Value::as_str)
        .filter(|value| !value.is_empty() && value.len() <= bytes_max)
        .ok_or_else(|| {
            invalid(format!(
                "{name} is missing, empty, too long or not a string"
            ))
        })
}

fn number(payload: &Map<String, Value>, name: &str) -> Result<i64, Oid4vpError> {
    payload
        .get(name)
        .and_then(Value::as_i64)
        .ok_or_else(|| invalid(format!("{name} is missing or not an integer")))
}

fn expect(payload: &Map<String, Value>, name: &str, expected: &str) -> Result<(), Oid4vpError> {
    match payload.get(name).and_then(Value::as_str) {
        Some(value) if value == expected => Ok(()),
        Some(value) => Err(invalid(format!(
            "{name} is {:?}; this wallet answers {expected:?} only",
            server_text(value, 64)
        ))),
        None => Err(invalid(format!("{name} is missing"))),
    }
}

fn invalid(reason: String) -> Oid4vpError {
    Oid4vpError::InvalidRequestObject { reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use serde_json::json;
    use simin_identity::did_key::ed25519_multikey;
    use simin_identity::jose::{sign_compact_json, JwsSigner};

    const DID: &str = "did:simin:seoul.gateway";
    const KID: &str = "did:simin:seoul.gateway#key-1";
    const NOW: i64 = 1_800_000_000;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[0x42; 32])
    }

    fn link() -> RequestLink {
        RequestLink {
            client_id: format!("decentralized_identifier:{DID}"),
            did: DID.into(),
            request_uri: Url::parse("https://gateway.example/request/1").expect("a URL"),
        }
    }

    fn payload() -> Value {
        json!({
            "client_id": format!("decentralized_identifier:{DID}"),
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "response_uri": "https://gateway.example/response",
            "nonce": "n-1",
            "state": "s-1",
            "dcql_query": {"credentials": [{
                "id": "citizen_card", "format": "dc+sd-jwt",
                "meta": {"vct_values": ["CitizenCard"]},
                "claims": [{"path": ["card_number"]}, {"path": ["age_over_19"]}],
            }]},
            "client_metadata": {},
            "iat": NOW - 5,
            "exp": NOW + 300,
            "simin_request": {"purpose": "login", "service": {
                "client_id": "library", "name": "Mapo Library", "organization": "mapo-library",
            }},
        })
    }

    fn sign(header: Value, payload: &Value) -> String {
        sign_compact_json(
            header.as_object().expect("object"),
            payload.as_object().expect("object"),
            &JwsSigner::Ed25519(key()),
        )
    }

    fn header() -> Value {
        json!({"typ": "oauth-authz-req+jwt", "kid": KID})
    }

    fn verify(jws: &str) -> Result<AuthorizationRequest, Oid4vpError> {
        verify_request_object(jws, &Jwk::Ed25519(key().verifying_key()), &link(), NOW)
    }

    #[test]
    fn a_signed_request_is_read() {
        let request = verify(&sign(header(), &payload())).expect("verifies");
        assert_eq!(request.kid, KID);
        assert_eq!(request.nonce, "n-1");
        assert_eq!(request.state, "s-1");
        assert_eq!(request.query.claims, ["card_number", "age_over_19"]);
        assert_eq!(
            request.purpose,
            Purpose::Login {
                service: Service {
                    client_id: "library".into(),
                    name: "Mapo Library".into(),
                    organization: "mapo-library".into(),
                }
            }
        );
    }

    #[test]
    fn headers_that_are_not_the_verifiers_are_refused() {
        let wrong_typ = sign(json!({"typ": "JWT", "kid": KID}), &payload());
        assert!(matches!(
            verify(&wrong_typ),
            Err(Oid4vpError::InvalidRequestObject { .. })
        ));
        for kid in [
            "did:simin:other#key-1",
            "#key-1",
            "did:simin:seoul.gateway",
            "did:simin:seoul.gatewayx#key-1",
        ] {
            let jws = sign(
                json!({"typ": "oauth-authz-req+jwt", "kid": kid}),
                &payload(),
            );
            assert!(
                matches!(verify(&jws), Err(Oid4vpError::KidMismatch { .. })),
                "{kid}"
            );
        }
    }

    #[test]
    fn payloads_outside_the_profile_are_refused() {
        let cases: [(&str, Value); 7] = [
            ("response_mode", json!("fragment")),
            ("response_type", json!("vp_token id_token")),
            ("response_uri", json!("http://gateway.example/response")),
            ("nonce", json!("")),
            ("state", json!(null)),
            ("transaction_data", json!(["x"])),
            ("simin_request", json!({"purpose": "login"})),
        ];
        for (name, value) in cases {
            let mut payload = payload();
            payload[name] = value;
            let err = verify(&sign(header(), &payload)).expect_err(name);
            assert!(
                matches!(
                    err,
                    Oid4vpError::InvalidRequestObject { .. } | Oid4vpError::InvalidUrl { .. }
                ),
                "{name}: {err:?}"
            );
        }
        let mut other_client = payload();
        other_client["client_id"] = json!("decentralized_identifier:did:simin:other");
        assert!(matches!(
            verify(&sign(header(), &other_client)),
            Err(Oid4vpError::ClientIdMismatch { .. })
        ));
        let mut expired = payload();
        expired["exp"] = json!(NOW);
        assert!(matches!(
            verify(&sign(header(), &expired)),
            Err(Oid4vpError::Expired { .. })
        ));
    }

    #[test]
    fn an_access_log_request_asks_for_the_card_number_only() {
        let mut log = payload();
        log["simin_request"] = json!({"purpose": "access_log"});
        assert!(matches!(
            verify(&sign(header(), &log)),
            Err(Oid4vpError::InvalidRequestObject { .. })
        ));
        log["dcql_query"]["credentials"][0]["claims"] = json!([{"path": ["card_number"]}]);
        let request = verify(&sign(header(), &log)).expect("verifies");
        assert_eq!(request.purpose, Purpose::AccessLog);
    }

    #[test]
    fn the_key_is_found_under_authentication_too() {
        let multikey = ed25519_multikey(&key().verifying_key());
        let resolution = |relationship: &str| {
            let mut document = json!({
                "id": DID,
                "verificationMethod": [{
                    "id": "#key-1", "type": "Multikey", "controller": DID,
                    "publicKeyMultibase": multikey,
                }],
            });
            document[relationship] = json!([KID]);
            serde_json::to_vec(&json!({"didDocument": document, "didDocumentMetadata": {}}))
                .expect("serializes")
        };
        for relationship in ["assertionMethod", "authentication"] {
            let key = verifier_key_from_resolution(200, &resolution(relationship), DID, KID)
                .expect(relationship);
            assert_eq!(key, Jwk::Ed25519(super::tests::key().verifying_key()));
        }
        assert!(matches!(
            verifier_key_from_resolution(200, &resolution("capabilityInvocation"), DID, KID),
            Err(Oid4vpError::VerifierKeyNotFound { .. })
        ));
        let deactivated = serde_json::to_vec(&json!({
            "didDocument": {"id": DID}, "didDocumentMetadata": {"deactivated": true},
        }))
        .expect("serializes");
        assert!(matches!(
            verifier_key_from_resolution(200, &deactivated, DID, KID),
            Err(Oid4vpError::VerifierDeactivated { .. })
        ));
    }
}

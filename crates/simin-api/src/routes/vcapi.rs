//! The W3C VC API for Lifecycle Management (VCALM) verifier endpoints,
//! `POST /credentials/verify` and `POST /presentations/verify`, run over this node's
//! latest state and clock with `simin_identity::vc` (W3C credentials with
//! `eddsa-jcs-2022` proofs) and `simin_identity::verifier` (enveloped SD-JWT VCs).
//!
//! Shapes follow VCALM's OpenAPI (`oas.yaml`, `components/VerifyCredentialResult.yml`,
//! `VerifyPresentationResult.yml`, `VerifyCredentialOptions.yml`,
//! `VerifyPresentationOptions.yml`, section "Error Handling"):
//!
//! - A credential that verifies: 200 with a `VerificationResult`
//!   (`verified: true`, `problemDetails: []`, `results` with `returnResults`,
//!   `credential` with `returnCredential`). One that does not: 400 (the status VCALM
//!   gives, and the W3C verifier test suite expects, for a credential that must not
//!   verify) with an RFC 9457 problem+json body that is also a `VerificationResult`
//!   (`verified: false`, `problemDetails`).
//! - A presentation: 200 whether or not it verifies, as VCALM specifies ("a 200 status
//!   indicates the verification process itself succeeded, regardless of whether the
//!   presentation and/or credentials were determined to be valid"), with
//!   presentation-level problems in `problemDetails` and each credential's result in
//!   `results.credentials`.
//! - Each problem carries the spec's `type` where one fits (VC Data Model 2.0 section
//!   7.2, Data Integrity's processing errors, Bitstring Status List's) and otherwise a
//!   simin type, plus the extension member `code`: simin's stable reason
//!   (`revoked`, `suspended`, `expired`, `untrusted_issuer`, ...; see
//!   `simin_identity::verifier::Rejection::code`).
//! - Malformed requests (not JSON, no `verifiableCredential`, an unknown option) are 400
//!   problems; an unknown option has VCALM's `UNKNOWN_OPTION_PROVIDED` type.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use simin_identity::vc::{self, VerifiedVc};
use simin_identity::verifier::{self, Rejection, VerifyRequest};
use simin_ledger::StateView;
use simin_types::Height;
use utoipa::ToSchema;

use super::identity::{latest, ledger_error, now_unix_secs, BackendView};
use super::{blocking, Shared};
use crate::dto::Problem;
use crate::problem::{ApiError, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE};

/// Longest `challenge` or `domain` accepted, in bytes.
const OPTION_BYTES_MAX: usize = 512;
/// Most options, and most entries of the legacy `checks` option.
const OPTIONS_MAX: usize = 8;
/// VC Data Model 2.0 section 7.2 problem types.
const VCDM: &str = "https://www.w3.org/TR/vc-data-model#";
/// Data Integrity section 4.7 processing errors.
const SECURITY: &str = "https://w3id.org/security#";
/// Bitstring Status List section 3.5 processing errors.
const STATUS_LIST: &str = "https://www.w3.org/ns/credentials/status-list#";
/// VCALM's own problem types.
const VCALM: &str = "https://www.w3.org/TR/vcalm#";

/// `POST /credentials/verify` (VCALM `VerifyCredentialRequest`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VcalmVerifyCredentialRequest {
    /// A VC Data Model 2.0 credential secured with an `eddsa-jcs-2022` proof.
    #[schema(value_type = Object)]
    pub verifiable_credential: Value,
    /// `returnResults`, `returnProblemDetails`, `returnCredential` (booleans); the VC
    /// API v0.3 `checks` list is accepted and ignored (every check always runs).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub options: Option<Value>,
}

/// `POST /presentations/verify` (VCALM `VerifyPresentationRequest` or
/// `VerifyEnvelopedPresentationRequest`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VcalmVerifyPresentationRequest {
    /// A `VerifiablePresentation` with an `eddsa-jcs-2022` proof by its holder, or an
    /// `EnvelopedVerifiablePresentation` whose `id` is
    /// `data:application/dc+sd-jwt,<SD-JWT with Key Binding>`.
    #[schema(value_type = Object)]
    pub verifiable_presentation: Value,
    /// `challenge` and `domain` (required: the nonce and the audience the holder's proof
    /// must be for), `returnPresentation` (boolean).
    #[schema(value_type = Object)]
    pub options: Value,
}

/// One problem found while verifying (RFC 9457 members, plus simin's stable `code`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VcalmProblemDetails {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub detail: String,
    /// simin's stable reason, e.g. `revoked`.
    pub code: String,
}

/// VCALM's `VerificationResult` for a credential.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VcalmCredentialResult {
    pub verified: bool,
    /// The credential as verified, with `returnCredential`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub credential: Option<Value>,
    pub problem_details: Vec<VcalmProblemDetails>,
    /// `validFrom`, `validUntil`, `credentialStatus` and `proof` results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub results: Option<Value>,
}

/// VCALM's `VerificationResult` for a presentation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VcalmPresentationResult {
    pub verified: bool,
    /// The presentation as verified, with `returnPresentation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub verifiable_presentation: Option<Value>,
    /// Presentation-level problems; each credential's are in `results.credentials`.
    pub problem_details: Vec<VcalmProblemDetails>,
    /// `presentation` (challenge, domain, holder, proof) and `credentials` results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub results: Option<Value>,
}

/// Verifies a W3C credential against this node's latest state and clock: its
/// `eddsa-jcs-2022` proof by the issuer's `did:simin` key as listed at `validFrom`, the
/// validity period, the type's registered schema, the issuer's accreditation, and the
/// revocation and suspension bits.
#[utoipa::path(post, path = "/credentials/verify", tag = "vcalm", operation_id = "verifyCredential",
    request_body = VcalmVerifyCredentialRequest,
    responses(
        (status = 200, description = "The credential verified", body = VcalmCredentialResult,
         headers(("x-simin-height" = u64, description = "The height whose state was read"))),
        (status = 400, description = "The credential did not verify (a problem that is also a VerificationResult with `verified: false`), or the request is malformed",
         body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn verify_credential(
    State(backend): State<Shared>,
    body: Result<Json<VcalmVerifyCredentialRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(|e| ApiError::MalformedJson(e.body_text()))?;
    let options = match Options::parse(request.options.as_ref(), CREDENTIAL_OPTIONS) {
        Ok(options) => options,
        Err(error) => return Ok(error.into_response()),
    };
    let now = now_unix_secs()?;
    let credential = request.verifiable_credential;
    let (height, outcome, credential) = blocking(&backend, move |b| {
        let height = latest(b)?;
        let view = BackendView { backend: b, height };
        match vc::verify_vc(&view, &credential, now) {
            Err(Rejection::State(e)) => Err(ledger_error(e)),
            outcome => Ok::<_, ApiError>((height, outcome, credential)),
        }
    })
    .await?;
    let returned = options.flag("returnCredential").then(|| credential.clone());
    let mut response = match outcome {
        Ok(verified) => Json(VcalmCredentialResult {
            verified: true,
            credential: returned,
            problem_details: Vec::new(),
            results: options
                .flag("returnResults")
                .then(|| credential_results(&credential, &verified)),
        })
        .into_response(),
        Err(rejection) => refused_credential(&rejection, returned),
    };
    set_height(&mut response, height);
    Ok(response)
}

/// Verifies a presentation against this node's latest state and clock: a holder-signed
/// `VerifiablePresentation` (its proof for `options.challenge` and `options.domain`,
/// then every credential it carries, each about the holder), or an enveloped SD-JWT VC
/// (Key Binding for the challenge as nonce and the domain as audience).
#[utoipa::path(post, path = "/presentations/verify", tag = "vcalm", operation_id = "verifyPresentation",
    request_body = VcalmVerifyPresentationRequest,
    responses(
        (status = 200, description = "Verification ran: `verified` says whether the presentation and all its credentials passed",
         body = VcalmPresentationResult,
         headers(("x-simin-height" = u64, description = "The height whose state was read"))),
        (status = 400, description = "Malformed request (no challenge or domain, unknown option)",
         body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn verify_presentation(
    State(backend): State<Shared>,
    body: Result<Json<VcalmVerifyPresentationRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(|e| ApiError::MalformedJson(e.body_text()))?;
    let options = match Options::parse(Some(&request.options), PRESENTATION_OPTIONS) {
        Ok(options) => options,
        Err(error) => return Ok(error.into_response()),
    };
    let challenge = options.required_str("challenge")?;
    let domain = options.required_str("domain")?;
    let return_presentation = options.flag("returnPresentation");
    let now = now_unix_secs()?;
    let presentation = request.verifiable_presentation;
    let (height, mut result, presentation) = blocking(&backend, move |b| {
        let height = latest(b)?;
        let view = BackendView { backend: b, height };
        let result = presentation_result(&view, &presentation, &challenge, &domain, now)?;
        Ok::<_, ApiError>((height, result, presentation))
    })
    .await?;
    if return_presentation {
        result.verifiable_presentation = Some(presentation);
    }
    let mut response = Json(result).into_response();
    set_height(&mut response, height);
    Ok(response)
}

fn presentation_result(
    state: &dyn StateView,
    presentation: &Value,
    challenge: &str,
    domain: &str,
    now: i64,
) -> Result<VcalmPresentationResult, ApiError> {
    let refused = |rejection: Rejection| match rejection {
        Rejection::State(e) => Err(ledger_error(e)),
        rejection => Ok(VcalmPresentationResult {
            verified: false,
            verifiable_presentation: None,
            problem_details: vec![problem_of(&rejection)],
            results: None,
        }),
    };
    let checked_inputs = json!({
        "challenge": {"verified": true, "input": challenge},
        "domain": {"verified": true, "input": domain},
    });
    let sd_jwt = match vc::enveloped_sd_jwt(presentation) {
        Ok(sd_jwt) => sd_jwt,
        Err(rejection) => return refused(rejection),
    };
    if let Some(sd_jwt) = sd_jwt {
        let request = VerifyRequest {
            presentation: sd_jwt,
            nonce: challenge,
            audience: domain,
            now,
            accepted_types: &[],
        };
        return match verifier::verify_presentation(state, &request) {
            Ok(verified) => {
                let mut presentation_results = checked_inputs;
                presentation_results["holder"] = json!({
                    "verified": true,
                    "input": format!("urn:ietf:params:oauth:jwk-thumbprint:sha-256:{}", verified.holder_thumbprint),
                });
                Ok(VcalmPresentationResult {
                    verified: true,
                    verifiable_presentation: None,
                    problem_details: Vec::new(),
                    results: Some(json!({
                        "presentation": presentation_results,
                        "credentials": [{"verified": true, "problemDetails": []}],
                    })),
                })
            }
            Err(rejection) => refused(rejection),
        };
    }
    let proof = match vc::verify_vp_proof(presentation, challenge, domain, now) {
        Ok(proof) => proof,
        Err(rejection) => return refused(rejection),
    };
    let mut verified = true;
    let mut credentials = Vec::with_capacity(proof.credentials.len());
    for credential in &proof.credentials {
        let outcome = vc::verify_vc(state, credential, now)
            .and_then(|checked| vc::bind_to_holder(&checked, &proof.holder).map(|()| checked));
        credentials.push(match outcome {
            Ok(checked) => json!({
                "verified": true,
                "problemDetails": [],
                "results": credential_results(credential, &checked),
            }),
            Err(Rejection::State(e)) => return Err(ledger_error(e)),
            Err(rejection) => {
                verified = false;
                json!({"verified": false, "problemDetails": [problem_of(&rejection)]})
            }
        });
    }
    let mut presentation_results = checked_inputs;
    presentation_results["holder"] = json!({"verified": true, "input": proof.holder});
    presentation_results["proof"] = json!([{
        "verified": true,
        "input": presentation.get("proof"),
        "problemDetails": [],
    }]);
    Ok(VcalmPresentationResult {
        verified,
        verifiable_presentation: None,
        problem_details: Vec::new(),
        results: Some(json!({
            "presentation": presentation_results,
            "credentials": credentials,
        })),
    })
}

/// VCALM's `results` for a credential that verified: every step passed.
fn credential_results(credential: &Value, verified: &VerifiedVc) -> Value {
    let mut results = Map::new();
    for field in ["validFrom", "validUntil"] {
        if let Some(input) = credential.get(field) {
            results.insert(field.into(), json!({"verified": true, "input": input}));
        }
    }
    let status: Vec<Value> = verified
        .status
        .iter()
        .map(|entry| json!({"value": 0, "verified": true, "input": entry}))
        .collect();
    results.insert("credentialStatus".into(), Value::Array(status));
    results.insert(
        "proof".into(),
        json!([{"verified": true, "input": credential.get("proof")}]),
    );
    Value::Object(results)
}

/// The problem for a refusal: the spec's type where one fits, else simin's.
fn problem_of(rejection: &Rejection) -> VcalmProblemDetails {
    let spec = |base: &str, name: &str| (format!("{base}{name}"), name.to_owned());
    let simin = |slug: &str, title: &str| (format!("{PROBLEM_TYPE_BASE}{slug}"), title.to_owned());
    let (type_uri, title) = match rejection {
        Rejection::Malformed(_) => spec(VCDM, "MALFORMED_VALUE_ERROR"),
        Rejection::BadSignature | Rejection::TamperedDisclosure(_) => {
            spec(VCDM, "CRYPTOGRAPHIC_SECURITY_ERROR")
        }
        Rejection::WrongChallenge | Rejection::WrongNonce => {
            spec(SECURITY, "INVALID_CHALLENGE_ERROR")
        }
        Rejection::WrongDomain | Rejection::WrongAudience => spec(SECURITY, "INVALID_DOMAIN_ERROR"),
        Rejection::KeyBindingMissing
        | Rejection::BadKeyBinding(_)
        | Rejection::HolderMismatch(_) => spec(SECURITY, "PROOF_VERIFICATION_ERROR"),
        Rejection::BadStatus(_) => spec(STATUS_LIST, "STATUS_VERIFICATION_ERROR"),
        Rejection::Revoked => simin("credential-revoked", "Credential revoked"),
        Rejection::Suspended => simin("credential-suspended", "Credential suspended"),
        Rejection::Expired => simin("credential-expired", "Credential expired"),
        Rejection::NotYetValid => simin("credential-not-yet-valid", "Credential not yet valid"),
        Rejection::UntrustedIssuer(_) => simin("untrusted-issuer", "Untrusted issuer"),
        Rejection::UnknownType(_) => simin("unknown-credential-type", "Unknown credential type"),
        Rejection::SchemaViolation { .. } => simin("schema-violation", "Schema violation"),
        _ => simin("verification-failed", "Verification failed"),
    };
    VcalmProblemDetails {
        type_uri,
        title,
        detail: rejection.to_string(),
        code: rejection.code().to_owned(),
    }
}

/// 400, problem+json: the first problem at the top (RFC 9457), and the
/// `VerificationResult` members beside it.
fn refused_credential(rejection: &Rejection, credential: Option<Value>) -> Response {
    let problem = problem_of(rejection);
    let mut body = json!({
        "type": problem.type_uri,
        "title": problem.title,
        "status": StatusCode::BAD_REQUEST.as_u16(),
        "detail": problem.detail,
        "code": problem.code,
        "verified": false,
        "problemDetails": [problem],
    });
    if let Some(credential) = credential {
        body["credential"] = credential;
    }
    problem_json(StatusCode::BAD_REQUEST, &body)
}

fn problem_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    response
}

fn set_height(response: &mut Response, height: Height) {
    response.headers_mut().insert(
        "x-simin-height",
        HeaderValue::from_str(&height.0.to_string()).expect("digits are a valid header value"),
    );
}

/// The options each endpoint understands, with their JSON kinds.
const CREDENTIAL_OPTIONS: &[(&str, OptionKind)] = &[
    ("returnResults", OptionKind::Bool),
    ("returnProblemDetails", OptionKind::Bool),
    ("returnCredential", OptionKind::Bool),
    ("checks", OptionKind::Strings),
];
const PRESENTATION_OPTIONS: &[(&str, OptionKind)] = &[
    ("challenge", OptionKind::Str),
    ("domain", OptionKind::Str),
    ("returnPresentation", OptionKind::Bool),
    ("checks", OptionKind::Strings),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OptionKind {
    Bool,
    Str,
    Strings,
}

/// A request's checked `options`.
struct Options(Map<String, Value>);

impl Options {
    /// Checks `options` against what the endpoint knows; an unknown option is refused
    /// with VCALM's `UNKNOWN_OPTION_PROVIDED`, a badly typed one as an invalid parameter.
    fn parse(
        options: Option<&Value>,
        known: &[(&str, OptionKind)],
    ) -> Result<Options, OptionsError> {
        let map = match options {
            None | Some(Value::Null) => return Ok(Options(Map::new())),
            Some(Value::Object(map)) if map.len() <= OPTIONS_MAX => map,
            Some(_) => {
                return Err(OptionsError::Invalid(format!(
                    "options must be an object of at most {OPTIONS_MAX} members"
                )))
            }
        };
        for (name, value) in map {
            let Some((_, kind)) = known.iter().find(|(k, _)| k == name) else {
                let detail = format!(
                    "option {:?} is unknown; known: {}",
                    name.chars().take(64).collect::<String>(),
                    known.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
                );
                return Err(OptionsError::Unknown(detail));
            };
            let ok = match (kind, value) {
                (OptionKind::Bool, Value::Bool(_)) => true,
                (OptionKind::Str, Value::String(s)) => s.len() <= OPTION_BYTES_MAX,
                (OptionKind::Strings, Value::Array(items)) => {
                    items.len() <= OPTIONS_MAX
                        && items
                            .iter()
                            .all(|i| i.as_str().is_some_and(|s| s.len() <= OPTION_BYTES_MAX))
                }
                _ => false,
            };
            if !ok {
                return Err(OptionsError::Invalid(format!(
                    "option {name} must be {}",
                    match kind {
                        OptionKind::Bool => "a boolean".to_owned(),
                        OptionKind::Str => format!("a string of at most {OPTION_BYTES_MAX} bytes"),
                        OptionKind::Strings => format!("at most {OPTIONS_MAX} short strings"),
                    }
                )));
            }
        }
        Ok(Options(map.clone()))
    }

    fn flag(&self, name: &str) -> bool {
        self.0.get(name).and_then(Value::as_bool).unwrap_or(false)
    }

    fn required_str(&self, name: &'static str) -> Result<String, ApiError> {
        self.0
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ApiError::InvalidParameter {
                what: name,
                reason: format!(
                    "options.{name} is required: the presentation's proof must be bound to it"
                ),
            })
    }
}

/// Why `options` were refused.
#[derive(Debug)]
enum OptionsError {
    /// VCALM's `UNKNOWN_OPTION_PROVIDED`.
    Unknown(String),
    /// A known option with a wrong kind or size.
    Invalid(String),
}

impl IntoResponse for OptionsError {
    fn into_response(self) -> Response {
        match self {
            OptionsError::Unknown(detail) => problem_json(
                StatusCode::BAD_REQUEST,
                &json!({
                    "type": format!("{VCALM}UNKNOWN_OPTION_PROVIDED"),
                    "title": "UNKNOWN_OPTION_PROVIDED",
                    "status": StatusCode::BAD_REQUEST.as_u16(),
                    "detail": detail,
                }),
            ),
            OptionsError::Invalid(reason) => ApiError::InvalidParameter {
                what: "options",
                reason,
            }
            .into_response(),
        }
    }
}

//! The identity registries: DID resolution, trusted issuers, schemas and status lists.
//!
//! These answer in the node's own name from its committed state; where a client must not
//! trust the node (a wallet, a kiosk), it checks status bits with the proof that
//! `GET /v1/status-lists/{issuer}/{list}/{index}` sends, or any key with `/v1/state`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use simin_identity::did_simin::{self, parse_xsd_datetime, xsd_datetime};
use simin_identity::{did_key, status_list};
use simin_ledger::identity as ledger;
use simin_ledger::{StateReadError, StateView};
use simin_types::identity::{organization_of_did, status_bit_position};
use simin_types::{state_keys, BlockTime, Height, OrgId, StatusPurpose};
use utoipa::{IntoParams, ToSchema};

use super::{bad_query, blocking, parse_u32, Shared};
use crate::backend::{Backend, BackendError};
use crate::dto::{Problem, StateLookup};
use crate::problem::ApiError;

/// The state after one height, read through the backend: lets the API run the ledger's
/// own query functions without seeing the store.
pub(crate) struct BackendView<'a> {
    pub(crate) backend: &'a dyn Backend,
    pub(crate) height: Height,
}

impl StateView for BackendView<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateReadError> {
        self.backend
            .state_value(key, self.height)
            .map_err(|e| StateReadError {
                key: key.to_vec(),
                reason: e.to_string(),
            })
    }
}

pub(crate) fn latest(backend: &dyn Backend) -> Result<Height, BackendError> {
    Ok(backend.status()?.latest_height)
}

pub(crate) fn ledger_error(e: simin_ledger::LedgerError) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// The node's clock, Unix seconds: verifiers judge validity periods by it.
pub(crate) fn now_unix_secs() -> Result<i64, ApiError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| ApiError::Internal(format!("clock before 1970: {e}")))?
        .as_secs();
    i64::try_from(now).map_err(|_| ApiError::Internal("clock out of range".into()))
}

fn parse_org(what: &'static str, text: &str) -> Result<OrgId, ApiError> {
    OrgId::new(text).map_err(|e| ApiError::InvalidParameter {
        what,
        reason: e.to_string(),
    })
}

fn parse_time(what: &'static str, text: &str) -> Result<BlockTime, ApiError> {
    parse_xsd_datetime(text).map_err(|e| ApiError::InvalidParameter {
        what,
        reason: e.to_string(),
    })
}

/// Which version of a DID document to resolve (DID Resolution's `versionTime`, and a
/// simin height).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DidQuery {
    /// Resolve the document as it was at this RFC 3339 time (like EBSI's `valid-at`).
    #[serde(rename = "versionTime")]
    pub version_time: Option<String>,
    /// Resolve the document as it was after this block height.
    pub height: Option<u64>,
}

/// The media type of DID Resolution results.
pub const DID_RESOLUTION_CONTENT_TYPE: &str = "application/did-resolution+json";

fn resolution_response(status: StatusCode, body: Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(DID_RESOLUTION_CONTENT_TYPE),
    );
    response
}

/// Resolves a DID to a W3C DID Resolution result: `did:simin` from chain state (at the
/// latest height, a given height, or a past time), `did:key` and `did:jwk` by their
/// methods' rules.
#[utoipa::path(get, path = "/v1/dids/{did}", tag = "identity",
    params(("did" = String, Path, description = "The DID, e.g. did:simin:seoul.library"), DidQuery),
    responses(
        (status = 200, description = "A DID Resolution result", body = Object, content_type = "application/did-resolution+json"),
        (status = 400, description = "invalidDid", body = Object),
        (status = 404, description = "notFound", body = Object),
        (status = 410, description = "The DID is deactivated (the result says so)", body = Object),
        (status = 501, description = "methodNotSupported", body = Object),
    ))]
pub(crate) async fn resolve_did(
    State(backend): State<Shared>,
    Path(did): Path<String>,
    query: Result<Query<DidQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    if did.len() > 2048 {
        return Ok(resolution_response(
            StatusCode::BAD_REQUEST,
            did_simin::resolution_error("invalidDid", "the DID is longer than 2048 bytes"),
        ));
    }
    if did.starts_with("did:key:") {
        return Ok(match did_key::did_key_document(&did) {
            Ok(document) => resolution_response(
                StatusCode::OK,
                json!({
                    "@context": "https://w3id.org/did-resolution/v1",
                    "didDocument": document,
                    "didResolutionMetadata": { "contentType": "application/did+ld+json" },
                    "didDocumentMetadata": {},
                }),
            ),
            Err(e) => resolution_response(
                StatusCode::BAD_REQUEST,
                did_simin::resolution_error("invalidDid", &e.to_string()),
            ),
        });
    }
    if !did_simin::is_did_simin(&did) {
        return Ok(resolution_response(
            StatusCode::NOT_IMPLEMENTED,
            did_simin::resolution_error(
                "methodNotSupported",
                "this node resolves did:simin and did:key",
            ),
        ));
    }
    let Some(org) = organization_of_did(&did).filter(|o| did == did_simin_of(o)) else {
        return Ok(resolution_response(
            StatusCode::BAD_REQUEST,
            did_simin::resolution_error(
                "invalidDid",
                "a did:simin DID is did:simin:<organisation id>, the id of 1 to 64 characters of a-z, 0-9, '-' and '.'",
            ),
        ));
    };
    let version_time = match &query.version_time {
        Some(text) => Some(parse_time("versionTime", text)?),
        None => None,
    };
    let explicit = query.height.map(Height);
    let record = blocking(&backend, move |b| {
        let height = match (explicit, version_time) {
            // A height above the tip is the client's mistake, not a failed state read.
            (Some(h), _) => {
                let latest = latest(b)?;
                if h > latest {
                    return Err(BackendError::HeightNotAvailable { height: h, latest }.into());
                }
                h
            }
            (None, Some(time)) => b.height_at(time)?.unwrap_or(Height::GENESIS),
            (None, None) => latest(b)?,
        };
        let view = BackendView { backend: b, height };
        ledger::did_record(&view, &org)
            .map(|r| (height, r))
            .map_err(ledger_error)
    })
    .await?;
    Ok(match record {
        (_, Some(record)) => {
            let status = if record.deactivated {
                StatusCode::GONE
            } else {
                StatusCode::OK
            };
            resolution_response(status, did_simin::resolution_result(&record))
        }
        (height, None) => resolution_response(
            StatusCode::NOT_FOUND,
            did_simin::resolution_error(
                "notFound",
                &format!("{did} does not exist at height {height}"),
            ),
        ),
    })
}

fn did_simin_of(org: &OrgId) -> String {
    simin_types::identity::did_of(org)
}

/// An issuer's accreditation, and whether it is trusted for a type at a time.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IssuerQuery {
    /// A credential type to check the accreditation chain for.
    pub credential_type: Option<String>,
    /// The time to check at (RFC 3339), e.g. a credential's issuance; default: the
    /// latest block's time.
    pub at: Option<String>,
}

/// An issuer in the trusted-issuer registry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IssuerInfo {
    pub issuer: String,
    pub did: String,
    /// The height whose state was read.
    pub height: u64,
    /// The stored accreditation, `null` if none.
    #[schema(value_type = Object)]
    pub accreditation: Option<Value>,
    /// With `credential_type`: the check of the accreditation chain.
    #[schema(value_type = Object)]
    pub trust: Option<Value>,
}

fn accreditation_json(acc: &simin_types::Accreditation) -> Value {
    json!({
        "issuer": acc.terms.issuer,
        "credential_types": acc.terms.credential_types,
        "valid_from": xsd_datetime(acc.terms.valid_from),
        "valid_until": xsd_datetime(acc.terms.valid_until),
        "may_accredit": acc.terms.may_accredit,
        "accredited_by": acc.accredited_by.as_ref().map(|o| o.to_string()).unwrap_or_else(|| "city".into()),
        "granted_height": acc.granted_height.0,
        "granted_time": xsd_datetime(acc.granted_time),
        "revoked_time": acc.revoked_time.map(xsd_datetime),
    })
}

/// An issuer's accreditation, and (with `credential_type`) whether its chain from a city
/// authority makes it trusted for that type at `at`.
#[utoipa::path(get, path = "/v1/issuers/{issuer}", tag = "identity",
    params(("issuer" = String, Path, description = "Organisation id of the issuer"), IssuerQuery),
    responses(
        (status = 200, description = "The issuer's accreditation", body = IssuerInfo),
        (status = 400, description = "Invalid id or query", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Never accredited", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn issuer(
    State(backend): State<Shared>,
    Path(issuer): Path<String>,
    query: Result<Query<IssuerQuery>, QueryRejection>,
) -> Result<Json<IssuerInfo>, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    let org = parse_org("issuer", &issuer)?;
    let at = match &query.at {
        Some(text) => Some(parse_time("at", text)?),
        None => None,
    };
    let credential_type = query.credential_type.clone();
    blocking(&backend, move |b| {
        let status = b.status()?;
        let height = status.latest_height;
        let view = BackendView { backend: b, height };
        let Some(acc) = ledger::accreditation(&view, &org).map_err(ledger_error)? else {
            return Err(ApiError::NotFound {
                what: "accreditation",
                id: org.to_string(),
            });
        };
        let trust = match credential_type {
            None => None,
            Some(credential_type) => {
                let time = at.or(status.latest_block_time).unwrap_or(BlockTime(0));
                Some(
                    match ledger::accreditation_chain(&view, &org, &credential_type, time) {
                        Ok(chain) => json!({
                            "credential_type": credential_type,
                            "at": xsd_datetime(time),
                            "trusted": true,
                            "chain": chain.iter().map(accreditation_json).collect::<Vec<_>>(),
                        }),
                        Err(ledger::TrustError::State(e)) => return Err(ledger_error(e)),
                        Err(e) => json!({
                            "credential_type": credential_type,
                            "at": xsd_datetime(time),
                            "trusted": false,
                            "reason": e.to_string(),
                        }),
                    },
                )
            }
        };
        Ok(IssuerInfo {
            issuer: org.to_string(),
            did: did_simin_of(&org),
            height: height.0,
            accreditation: Some(accreditation_json(&acc)),
            trust,
        })
    })
    .await
    .map(Json)
}

/// The registered JSON Schema of a credential type.
#[utoipa::path(get, path = "/v1/schemas/{credential_type}", tag = "identity",
    params(("credential_type" = String, Path, description = "E.g. CitizenCard")),
    responses(
        (status = 200, description = "The schema with its registration", body = Object),
        (status = 404, description = "No schema for the type", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn schema(
    State(backend): State<Shared>,
    Path(credential_type): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if credential_type.len() > simin_types::limits::CREDENTIAL_TYPE_BYTES_MAX {
        return Err(ApiError::InvalidParameter {
            what: "credential type",
            reason: "too long".into(),
        });
    }
    blocking(&backend, move |b| {
        let height = latest(b)?;
        let view = BackendView { backend: b, height };
        let Some(record) = ledger::schema(&view, &credential_type).map_err(ledger_error)? else {
            return Err(ApiError::NotFound {
                what: "schema",
                id: credential_type,
            });
        };
        let schema: Value = serde_json::from_str(&record.schema)
            .map_err(|e| ApiError::Internal(format!("stored schema is not JSON: {e}")))?;
        Ok(json!({
            "credential_type": record.credential_type,
            "schema": schema,
            "registered_by": record.registered_by.map(|o| o.to_string()),
            "height": record.height.0,
            "time": xsd_datetime(record.time),
        }))
    })
    .await
    .map(Json)
}

/// The location-independent id of a status list: a DID URL under its issuer's DID,
/// which any node dereferences at `/v1/status-lists/{issuer}/{list}`.
pub fn status_list_id(issuer: &OrgId, list: u32) -> String {
    format!("{}/status/{list}", did_simin_of(issuer))
}

fn purpose_of(purpose: StatusPurpose) -> status_list::StatusPurpose {
    match purpose {
        StatusPurpose::Revocation => status_list::StatusPurpose::Revocation,
        StatusPurpose::Suspension => status_list::StatusPurpose::Suspension,
    }
}

/// A status list as a W3C `BitstringStatusListCredential`, read from the latest state.
///
/// It carries no proof of its own: its bits are chain state, which the block's commit
/// certificate secures. A verifier that must not trust the node asks for single bits
/// with their proofs instead.
#[utoipa::path(get, path = "/v1/status-lists/{issuer}/{list}", tag = "identity",
    params(("issuer" = String, Path), ("list" = u32, Path)),
    responses(
        (status = 200, description = "The BitstringStatusListCredential", body = Object),
        (status = 404, description = "No such list", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn status_list_credential(
    State(backend): State<Shared>,
    Path((issuer, list)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let org = parse_org("issuer", &issuer)?;
    let list = parse_u32("list", &list)?;
    let (height, credential) = blocking(&backend, move |b| {
        let status = b.status()?;
        let height = status.latest_height;
        let view = BackendView { backend: b, height };
        let Some(record) = ledger::status_list(&view, &org, list).map_err(ledger_error)? else {
            return Err(ApiError::NotFound {
                what: "status list",
                id: status_list_id(&org, list),
            });
        };
        let bits = ledger::status_list_bits(&view, &record).map_err(ledger_error)?;
        let list_bits = status_list::StatusList::from_bytes(bits)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let valid_from = status.latest_block_time.map(xsd_datetime);
        let credential = status_list::status_list_credential(
            &status_list_id(&org, list),
            &did_simin_of(&org),
            purpose_of(record.purpose),
            &list_bits,
            valid_from.as_deref(),
        )
        .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok((height, credential))
    })
    .await?;
    let mut response = Json(credential).into_response();
    response.headers_mut().insert(
        "x-simin-height",
        HeaderValue::from_str(&height.0.to_string()).expect("digits are a valid header value"),
    );
    Ok(response)
}

/// One status bit with the proof of the chunk that holds it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusBit {
    pub issuer: String,
    pub list: u32,
    pub index: u32,
    /// `revocation` or `suspension`.
    pub purpose: String,
    /// True when the purpose applies (revoked, suspended).
    pub value: bool,
    /// Where the bit lies in `state.value` (a borsh `Vec<u8>` chunk; absent = zeros).
    pub chunk: u32,
    pub byte: u32,
    pub mask: u8,
    /// The chunk's state lookup with its proof against a certified header.
    pub state: StateLookup,
}

/// One status bit, with the state proof and commit certificate that let a verifier check
/// it without trusting this node.
#[utoipa::path(get, path = "/v1/status-lists/{issuer}/{list}/{index}", tag = "identity",
    params(("issuer" = String, Path), ("list" = u32, Path), ("index" = u32, Path)),
    responses(
        (status = 200, description = "The bit and its proof", body = StatusBit),
        (status = 400, description = "Index outside the list", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such list", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn status_bit(
    State(backend): State<Shared>,
    Path((issuer, list, index)): Path<(String, String, String)>,
) -> Result<Json<StatusBit>, ApiError> {
    let org = parse_org("issuer", &issuer)?;
    let list = parse_u32("list", &list)?;
    let index = parse_u32("index", &index)?;
    blocking(&backend, move |b| {
        let height = latest(b)?;
        let view = BackendView { backend: b, height };
        let Some(record) = ledger::status_list(&view, &org, list).map_err(ledger_error)? else {
            return Err(ApiError::NotFound {
                what: "status list",
                id: status_list_id(&org, list),
            });
        };
        if index >= record.size_bits {
            return Err(ApiError::InvalidParameter {
                what: "index",
                reason: format!("{index} is outside the list's {} bits", record.size_bits),
            });
        }
        let (chunk, byte, mask) = status_bit_position(index);
        let state = b.state(
            &state_keys::status_chunk(&org, list, chunk),
            Some(height),
            true,
        )?;
        let bytes = ledger::status_chunk(&view, &org, list, chunk).map_err(ledger_error)?;
        Ok(StatusBit {
            issuer: org.to_string(),
            list,
            index,
            purpose: record.purpose.as_str().to_owned(),
            value: bytes[byte] & mask != 0,
            chunk,
            // byte < STATUS_CHUNK_BYTES (1024).
            byte: u32::try_from(byte).unwrap_or(u32::MAX),
            mask,
            state,
        })
    })
    .await
    .map(Json)
}

/// A presentation to verify, with the nonce and audience the verifier expects.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyPresentationRequest {
    /// `<issuer-jwt>~<disclosures>~<kb-jwt>`.
    pub presentation: String,
    pub nonce: String,
    pub audience: String,
    /// Credential types to accept; empty or absent accepts any registered type.
    #[serde(default)]
    pub accepted_types: Vec<String>,
}

/// The verdict on a presentation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PresentationVerdict {
    pub verified: bool,
    /// Why not: `expired`, `revoked`, `suspended`, `untrusted_issuer`,
    /// `tampered_disclosure`, `wrong_nonce`, `wrong_audience`, `unknown_type`, ...
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub credential_type: Option<String>,
    pub issuer: Option<String>,
    /// The disclosed claims about the citizen.
    #[schema(value_type = Object)]
    pub claims: Option<serde_json::Map<String, Value>>,
    /// The height whose state the verdict used.
    pub height: u64,
}

/// Longest nonce or audience accepted.
const VERIFIER_FIELD_BYTES_MAX: usize = 512;

/// Verifies a citizen-card presentation against this node's latest state and clock. A
/// refusal is a verdict (200 with `verified: false` and a reason), not an HTTP error.
#[utoipa::path(post, path = "/v1/presentations/verify", tag = "identity",
    request_body = VerifyPresentationRequest,
    responses(
        (status = 200, description = "The verdict", body = PresentationVerdict),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn verify_presentation(
    State(backend): State<Shared>,
    body: Result<Json<VerifyPresentationRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<PresentationVerdict>, ApiError> {
    let Json(request) = body.map_err(|e| ApiError::MalformedJson(e.body_text()))?;
    if request.nonce.len() > VERIFIER_FIELD_BYTES_MAX
        || request.audience.len() > VERIFIER_FIELD_BYTES_MAX
        || request.accepted_types.len() > 16
    {
        return Err(ApiError::InvalidParameter {
            what: "request",
            reason: format!(
                "nonce and audience are at most {VERIFIER_FIELD_BYTES_MAX} bytes, accepted_types at most 16"
            ),
        });
    }
    let now = now_unix_secs()?;
    blocking(&backend, move |b| {
        let height = latest(b)?;
        let view = BackendView { backend: b, height };
        let accepted: Vec<&str> = request.accepted_types.iter().map(String::as_str).collect();
        let verify = simin_identity::verifier::VerifyRequest {
            presentation: &request.presentation,
            nonce: &request.nonce,
            audience: &request.audience,
            now,
            accepted_types: &accepted,
        };
        Ok::<_, ApiError>(
            match simin_identity::verifier::verify_presentation(&view, &verify) {
                Ok(verified) => PresentationVerdict {
                    verified: true,
                    reason: None,
                    detail: None,
                    credential_type: Some(verified.credential_type),
                    issuer: Some(verified.issuer),
                    claims: Some(verified.claims),
                    height: height.0,
                },
                Err(simin_identity::verifier::Rejection::State(e)) => return Err(ledger_error(e)),
                Err(rejection) => PresentationVerdict {
                    verified: false,
                    reason: Some(rejection.code().to_owned()),
                    detail: Some(rejection.to_string()),
                    credential_type: None,
                    issuer: None,
                    claims: None,
                    height: height.0,
                },
            },
        )
    })
    .await
    .map(Json)
}

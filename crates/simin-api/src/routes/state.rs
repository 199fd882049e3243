//! Authenticated state reads: raw keys and notary proofs.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use simin_types::Height;

use super::{bad_query, blocking, parse_hash, Shared};
use crate::dto::{NotaryProof, Problem, StateLookup, StateQuery};
use crate::problem::ApiError;

/// Longest state key accepted, in bytes; real keys are a prefix and a 32-byte id.
pub const STATE_KEY_BYTES_MAX: usize = 256;

/// The value under a state key, optionally with its proof.
#[utoipa::path(get, path = "/v1/state/{key}", tag = "state",
    params(("key" = String, Path, description = "State key as hex (e.g. of `notary/anchor/<hash>`)"), StateQuery),
    responses(
        (status = 200, description = "The value (or its absence) at the height", body = StateLookup),
        (status = 400, description = "Invalid key or query", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Height not available", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn state(
    State(backend): State<Shared>,
    Path(key): Path<String>,
    query: Result<Query<StateQuery>, QueryRejection>,
) -> Result<Json<StateLookup>, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    if key.len() > STATE_KEY_BYTES_MAX.saturating_mul(2) {
        return Err(ApiError::InvalidParameter {
            what: "state key",
            reason: format!("longer than {STATE_KEY_BYTES_MAX} bytes"),
        });
    }
    let key = hex::decode(&key).map_err(|e| ApiError::InvalidHex {
        what: "state key",
        reason: e.to_string(),
    })?;
    let height = query.height.map(Height);
    let prove = query.prove.unwrap_or(false);
    blocking(&backend, move |b| b.state(&key, height, prove))
        .await
        .map(Json)
}

/// The anchoring of a document, with everything needed to verify it offline.
#[utoipa::path(get, path = "/v1/notary/{document_hash}", tag = "notary",
    params(("document_hash" = String, Path, description = "SHA-256 of the document, 64 hex characters")),
    responses(
        (status = 200, description = "The document was anchored; the proof", body = NotaryProof),
        (status = 400, description = "Invalid hash", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Never anchored (type not-anchored)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn notary(
    State(backend): State<Shared>,
    Path(document): Path<String>,
) -> Result<Json<NotaryProof>, ApiError> {
    let document = parse_hash("document hash", &document)?;
    blocking(&backend, move |b| b.notary(&document))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotAnchored(document.to_hex()))
}

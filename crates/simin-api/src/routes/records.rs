//! Citizens' personal records, read from the latest state: a record's public part with
//! its access log, and one consent. Like the other registries these answer in the
//! node's own name; a client that must not trust the node reads
//! `state_keys::personal_record`, `record_log` and `consent` through `/v1/state` with a
//! proof.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use simin_ledger::data as ledger;
use simin_types::OrgId;

use super::identity::{ledger_error, BackendView};
use super::{bad_query, blocking, parse_hash, Shared};
use crate::dto::records::{ConsentLookup, ConsentQuery, RecordLogQuery, RecordLookup};
use crate::dto::Problem;
use crate::problem::ApiError;

/// A record and a page of its log: created, consents granted and revoked, every read,
/// the erasure. What the citizen's wallet and the portal show.
#[utoipa::path(get, path = "/v1/records/{id}", tag = "data",
    params(("id" = String, Path, description = "The record id (hex)"), RecordLogQuery),
    responses(
        (status = 200, description = "The record and its log from `from`", body = RecordLookup),
        (status = 400, description = "Not a valid id or query", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn record(
    State(backend): State<Shared>,
    Path(id): Path<String>,
    query: Result<Query<RecordLogQuery>, QueryRejection>,
) -> Result<Json<RecordLookup>, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    let id = parse_hash("record id", &id)?;
    let from = query.from.unwrap_or(0);
    let limit = query
        .limit
        .unwrap_or(ledger::RECORD_LOG_LIMIT_MAX)
        .min(ledger::RECORD_LOG_LIMIT_MAX);
    blocking(&backend, move |b| {
        let height = b.status()?.latest_height;
        let view = BackendView { backend: b, height };
        let Some(record) = ledger::personal_record(&view, &id).map_err(ledger_error)? else {
            return Err(ApiError::NotFound {
                what: "record",
                id: id.to_string(),
            });
        };
        let count = ledger::record_log_count(&view, &id).map_err(ledger_error)?;
        let log = ledger::record_log(&view, &id, from, limit).map_err(ledger_error)?;
        Ok(RecordLookup::new(&record, count, from, log, height.0))
    })
    .await
    .map(Json)
}

/// The consent of one organisation for one purpose, and whether it is valid now.
#[utoipa::path(get, path = "/v1/records/{id}/consents", tag = "data",
    params(("id" = String, Path, description = "The record id (hex)"), ConsentQuery),
    responses(
        (status = 200, description = "The consent", body = ConsentLookup),
        (status = 400, description = "Not a valid id or query", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Never granted", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn consent(
    State(backend): State<Shared>,
    Path(id): Path<String>,
    query: Result<Query<ConsentQuery>, QueryRejection>,
) -> Result<Json<ConsentLookup>, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    let id = parse_hash("record id", &id)?;
    let organization = OrgId::new(&query.organization).map_err(|e| ApiError::InvalidParameter {
        what: "organization",
        reason: e.to_string(),
    })?;
    if !ledger::is_purpose(&query.purpose) {
        return Err(ApiError::InvalidParameter {
            what: "purpose",
            reason: "use 1 to 64 characters of a-z, 0-9, '_'".into(),
        });
    }
    let purpose = query.purpose;
    blocking(&backend, move |b| {
        let status = b.status()?;
        let view = BackendView {
            backend: b,
            height: status.latest_height,
        };
        let not_found = || ApiError::NotFound {
            what: "consent",
            id: format!("{id}/{organization}/{purpose}"),
        };
        let consent = ledger::consent(&view, &id, &organization, &purpose)
            .map_err(ledger_error)?
            .ok_or_else(not_found)?;
        let erased = ledger::personal_record(&view, &id)
            .map_err(ledger_error)?
            .is_none_or(|r| r.erased_time.is_some());
        let now = status.latest_block_time.unwrap_or_default();
        let valid = !erased
            && ledger::consent_valid(&view, &id, &organization, &purpose, now)
                .map_err(ledger_error)?;
        Ok::<_, ApiError>(ConsentLookup::new(&consent, valid, status.latest_height.0))
    })
    .await
    .map(Json)
}

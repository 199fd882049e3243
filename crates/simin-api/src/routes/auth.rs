//! The service registry and the citizens' access log, read from the latest state.
//!
//! Like the identity registries, these answer in the node's own name; a client that must
//! not trust the node reads `state_keys::service` or `state_keys::access_record` through
//! `/v1/state` with a proof.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use simin_identity::did_simin::xsd_datetime;
use simin_ledger::auth as ledger;

use super::identity::{latest, ledger_error, BackendView};
use super::{bad_query, blocking, Shared};
use crate::dto::{
    AccessLog, AccessLogQuery, AccessRecordInfo, Problem, ServiceInfo, ServiceList, ServiceLookup,
};
use crate::problem::ApiError;

/// Records per page when the query names no limit.
const ACCESS_LOG_LIMIT_DEFAULT: u64 = 100;

/// Every registered service, active or not, in registration order. The registry holds at
/// most `limits::SERVICES_MAX` services, which bounds the answer.
#[utoipa::path(get, path = "/v1/services", tag = "auth",
    responses((status = 200, description = "The registered services", body = ServiceList)))]
pub(crate) async fn services(State(backend): State<Shared>) -> Result<Json<ServiceList>, ApiError> {
    blocking(&backend, move |b| {
        let height = latest(b)?;
        let view = BackendView { backend: b, height };
        let ids = ledger::services(&view).map_err(ledger_error)?;
        let mut services = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(registration) = ledger::service(&view, &id).map_err(ledger_error)? else {
                return Err(ApiError::Internal(format!(
                    "the service index names {id}, which has no registration"
                )));
            };
            services.push(ServiceInfo::new(&registration));
        }
        Ok(ServiceList {
            height: height.0,
            services,
        })
    })
    .await
    .map(Json)
}

/// One registered service (without its secret hash).
#[utoipa::path(get, path = "/v1/services/{client_id}", tag = "auth",
    params(("client_id" = String, Path, description = "The service's OAuth client id")),
    responses(
        (status = 200, description = "The registration", body = ServiceLookup),
        (status = 400, description = "Not a valid client id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Never registered", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn service(
    State(backend): State<Shared>,
    Path(client_id): Path<String>,
) -> Result<Json<ServiceLookup>, ApiError> {
    if !ledger::is_client_id(&client_id) {
        return Err(ApiError::InvalidParameter {
            what: "client id",
            reason: "use 1 to 64 characters of a-z, 0-9, '.', '-', '_'".into(),
        });
    }
    blocking(&backend, move |b| {
        let height = latest(b)?;
        let view = BackendView { backend: b, height };
        match ledger::service(&view, &client_id).map_err(ledger_error)? {
            Some(registration) => Ok(ServiceLookup::new(&registration, height.0)),
            None => Err(ApiError::NotFound {
                what: "service",
                id: client_id,
            }),
        }
    })
    .await
    .map(Json)
}

/// A page of a pairwise subject's access log: which services received which claims, and
/// when. A subject with no records has an empty log (count 0), not a 404: subjects are
/// opaque, and the chain cannot tell an unused one from a mistyped one.
#[utoipa::path(get, path = "/v1/access-log/{subject}", tag = "auth",
    params(("subject" = String, Path, description = "The pairwise subject (base64url)"), AccessLogQuery),
    responses(
        (status = 200, description = "The subject's records from `from`", body = AccessLog),
        (status = 400, description = "Not a valid subject or query", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn access_log(
    State(backend): State<Shared>,
    Path(subject): Path<String>,
    query: Result<Query<AccessLogQuery>, QueryRejection>,
) -> Result<Json<AccessLog>, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    if !ledger::is_subject(&subject) {
        return Err(ApiError::InvalidParameter {
            what: "subject",
            reason: "use 1 to 64 characters of base64url (A-Z, a-z, 0-9, '-', '_')".into(),
        });
    }
    let from = query.from.unwrap_or(0);
    let limit = query
        .limit
        .unwrap_or(ACCESS_LOG_LIMIT_DEFAULT)
        .min(ledger::ACCESS_RECORDS_LIMIT_MAX);
    blocking(&backend, move |b| {
        let height = latest(b)?;
        let view = BackendView { backend: b, height };
        let count = ledger::access_count(&view, &subject).map_err(ledger_error)?;
        let stored = ledger::access_records(&view, &subject, from, limit).map_err(ledger_error)?;
        let records = (from..)
            .zip(stored)
            .map(|(seq, record)| AccessRecordInfo {
                seq,
                kind: record.entry.kind,
                client_id: record.entry.client_id,
                claims: record.entry.claims,
                commitment: record.entry.commitment,
                released_at: xsd_datetime(record.entry.released_at),
                provider: record.provider.to_string(),
                height: record.height.0,
                block_time: record.block_time.0,
            })
            .collect();
        Ok::<_, ApiError>(AccessLog {
            subject,
            count,
            height: height.0,
            records,
        })
    })
    .await
    .map(Json)
}

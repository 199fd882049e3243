//! Urban data feeds: batch ingestion, queries, aggregates, open-data export and reading
//! proofs (`/v1/data/...`). The node's reading store answers through [`DataBackend`].

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use simin_data::{Aggregate, IngestError, Reading, StoredReading};
use simin_types::SignedTx;

use super::{bad_query, Shared};
use crate::dto::data::{
    AggregateResponse, BatchAccepted, ReadingList, ReadingProofResponse, ReadingsQuery,
    SubmitBatchRequest,
};
use crate::dto::Problem;
use crate::problem::{problem_response, ApiError};
use crate::{Backend, BackendError, SubmitError};

/// Readings returned when the query names no limit.
const LIMIT_DEFAULT: usize = 1_000;
/// The span covered when the query names no `from`: one hour.
const SPAN_DEFAULT_MS: u64 = 3_600_000;

/// What the node's reading store offers the API.
pub trait DataBackend: Send + Sync {
    /// Checks the batch against the latest state, stores its readings and admits its
    /// transaction; nothing is stored when any check fails.
    fn submit_batch(
        &self,
        tx: SignedTx,
        readings: Vec<Reading>,
    ) -> Result<BatchAccepted, DataError>;
    /// Committed readings matching `query`, oldest first.
    fn readings(&self, query: &simin_data::Query) -> Result<Vec<StoredReading>, DataError>;
    /// Per-interval statistics of `field` over committed readings matching `query`.
    fn aggregate(
        &self,
        query: &simin_data::Query,
        field: &str,
        interval_ms: u64,
    ) -> Result<Aggregate, DataError>;
    /// Reading `index` of batch `(source, seq)` of `dataset` with its proofs.
    fn reading_proof(
        &self,
        dataset: &str,
        source: &str,
        seq: u64,
        index: u32,
    ) -> Result<Option<ReadingProofResponse>, DataError>;
}

/// Why a data request failed.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The batch is refused (schema, source, signature, replay, root...).
    #[error(transparent)]
    Refused(#[from] IngestError),
    /// The batch's transaction is refused by the mempool (the readings were removed).
    #[error(transparent)]
    Submit(SubmitError),
    #[error("invalid query: {0}")]
    BadQuery(String),
    #[error(transparent)]
    Backend(BackendError),
    #[error(transparent)]
    Api(ApiError),
}

impl IntoResponse for DataError {
    fn into_response(self) -> Response {
        match self {
            DataError::Refused(e) => {
                let status = match e {
                    IngestError::Replayed { .. } | IngestError::AlreadyCommitted { .. } => {
                        StatusCode::CONFLICT
                    }
                    IngestError::Chain(_) => StatusCode::SERVICE_UNAVAILABLE,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                let slug = e.code().replace(['.', '_'], "-");
                problem_response(status, &slug, "Batch refused", e.to_string())
            }
            DataError::Submit(e) => ApiError::Submit(e).into_response(),
            DataError::BadQuery(reason) => ApiError::InvalidParameter {
                what: "query",
                reason,
            }
            .into_response(),
            DataError::Backend(e) => ApiError::Backend(e).into_response(),
            DataError::Api(e) => e.into_response(),
        }
    }
}

/// Runs `call` against the node's data backend on the blocking pool.
async fn with_data<T, F>(backend: &Shared, call: F) -> Result<T, DataError>
where
    T: Send + 'static,
    F: FnOnce(&dyn DataBackend) -> Result<T, DataError> + Send + 'static,
{
    let backend: Arc<dyn Backend> = Arc::clone(backend);
    tokio::task::spawn_blocking(move || match backend.data() {
        Some(data) => call(data),
        None => Err(DataError::Backend(BackendError::Unavailable(
            "this node keeps no reading store".into(),
        ))),
    })
    .await
    .map_err(|e| DataError::Api(ApiError::Internal(format!("data task failed: {e}"))))?
}

/// Submits a signed batch with its readings.
#[utoipa::path(post, path = "/v1/data/batches", tag = "data",
    request_body = SubmitBatchRequest,
    responses(
        (status = 202, description = "Stored and admitted to the mempool", body = BatchAccepted),
        (status = 400, description = "Malformed body or transaction", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Replayed batch seq", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused: schema, source, signer, root, count, times", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn submit_batch(
    State(backend): State<Shared>,
    body: Result<Json<SubmitBatchRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<BatchAccepted>), DataError> {
    let Json(body) = body.map_err(|e| DataError::Api(ApiError::MalformedJson(e.body_text())))?;
    let bytes = hex::decode(&body.tx).map_err(|e| {
        DataError::Api(ApiError::InvalidHex {
            what: "tx",
            reason: e.to_string(),
        })
    })?;
    let tx = SignedTx::decode(&bytes)
        .map_err(|e| DataError::Submit(SubmitError::BadEncoding(e.to_string())))?;
    let readings = body.readings;
    let accepted = with_data(&backend, move |d| d.submit_batch(tx, readings)).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn to_query(dataset: String, q: &ReadingsQuery) -> Result<simin_data::Query, DataError> {
    let to_ms = q.to.unwrap_or_else(now_ms);
    let query = simin_data::Query {
        dataset,
        from_ms: q.from.unwrap_or(to_ms.saturating_sub(SPAN_DEFAULT_MS)),
        to_ms,
        source: q.source.clone(),
        district: q.district.clone(),
        limit: q.limit.unwrap_or(LIMIT_DEFAULT),
    };
    query.check().map_err(DataError::BadQuery)?;
    Ok(query)
}

async fn list(
    backend: &Shared,
    dataset: String,
    query: Result<Query<ReadingsQuery>, QueryRejection>,
) -> Result<ReadingList, DataError> {
    let Query(q) = query.map_err(|e| DataError::Api(bad_query(e)))?;
    let query = to_query(dataset, &q)?;
    let (dataset, from, to) = (query.dataset.clone(), query.from_ms, query.to_ms);
    let readings = with_data(backend, move |d| d.readings(&query)).await?;
    Ok(ReadingList {
        dataset,
        from,
        to,
        readings,
    })
}

/// Committed readings of a dataset in a time range, by source or district.
#[utoipa::path(get, path = "/v1/data/{dataset}/readings", tag = "data",
    params(("dataset" = String, Path, description = "Dataset id"), ReadingsQuery),
    responses(
        (status = 200, description = "Readings, oldest first", body = ReadingList),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn readings(
    State(backend): State<Shared>,
    Path(dataset): Path<String>,
    query: Result<Query<ReadingsQuery>, QueryRejection>,
) -> Result<Json<ReadingList>, DataError> {
    list(&backend, dataset, query).await.map(Json)
}

/// Count, min, max and mean of a numeric field per interval.
#[utoipa::path(get, path = "/v1/data/{dataset}/aggregate", tag = "data",
    params(("dataset" = String, Path, description = "Dataset id"), ReadingsQuery),
    responses(
        (status = 200, description = "One bucket per interval with readings", body = AggregateResponse),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn aggregate(
    State(backend): State<Shared>,
    Path(dataset): Path<String>,
    query: Result<Query<ReadingsQuery>, QueryRejection>,
) -> Result<Json<AggregateResponse>, DataError> {
    let Query(q) = query.map_err(|e| DataError::Api(bad_query(e)))?;
    let interval = q.interval.as_deref().unwrap_or("1h");
    let interval_ms = simin_data::parse_interval(interval).ok_or_else(|| {
        DataError::BadQuery(format!("interval {interval:?}: use 60s, 15m, 1h, 1d"))
    })?;
    let field = q
        .field
        .clone()
        .ok_or_else(|| DataError::BadQuery("name a numeric field".into()))?;
    let query = to_query(
        dataset,
        &ReadingsQuery {
            limit: Some(1),
            ..q
        },
    )?;
    let (dataset, from, to) = (query.dataset.clone(), query.from_ms, query.to_ms);
    let aggregate = with_data(&backend, move |d| d.aggregate(&query, &field, interval_ms)).await?;
    Ok(Json(AggregateResponse {
        dataset,
        from,
        to,
        aggregate,
    }))
}

/// Open data: committed readings as CSV (`time_ms, source, district` and the value's
/// members flattened).
#[utoipa::path(get, path = "/v1/data/{dataset}/export.csv", tag = "data",
    params(("dataset" = String, Path, description = "Dataset id"), ReadingsQuery),
    responses((status = 200, description = "CSV with a header row", content_type = "text/csv")))]
pub(crate) async fn export_csv(
    State(backend): State<Shared>,
    Path(dataset): Path<String>,
    query: Result<Query<ReadingsQuery>, QueryRejection>,
) -> Result<Response, DataError> {
    let list = list(&backend, dataset, query).await?;
    let csv = simin_data::to_csv(&list.readings);
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

/// Open data: committed readings as flat JSON records.
#[utoipa::path(get, path = "/v1/data/{dataset}/export.json", tag = "data",
    params(("dataset" = String, Path, description = "Dataset id"), ReadingsQuery),
    responses((status = 200, description = "An array of flat records", body = Vec<Object>)))]
pub(crate) async fn export_json(
    State(backend): State<Shared>,
    Path(dataset): Path<String>,
    query: Result<Query<ReadingsQuery>, QueryRejection>,
) -> Result<Json<Vec<serde_json::Map<String, serde_json::Value>>>, DataError> {
    let list = list(&backend, dataset, query).await?;
    Ok(Json(simin_data::to_json_rows(&list.readings)))
}

/// One reading with its Merkle path and its batch's record proven against a certified
/// header.
#[utoipa::path(get, path = "/v1/data/{dataset}/readings/{source}/{seq}/{index}/proof", tag = "data",
    params(
        ("dataset" = String, Path, description = "Dataset id"),
        ("source" = String, Path, description = "Source id"),
        ("seq" = u64, Path, description = "The batch's seq"),
        ("index" = u32, Path, description = "The reading's index in its batch"),
    ),
    responses(
        (status = 200, description = "The reading and its proofs", body = ReadingProofResponse),
        (status = 404, description = "No such reading in a committed batch", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn reading_proof(
    State(backend): State<Shared>,
    Path((dataset, source, seq, index)): Path<(String, String, String, String)>,
) -> Result<Json<ReadingProofResponse>, DataError> {
    let seq = super::parse_u64("seq", &seq).map_err(DataError::Api)?;
    let index = super::parse_u32("index", &index).map_err(DataError::Api)?;
    let id = format!("{dataset}/{source}/{seq}/{index}");
    with_data(&backend, move |d| {
        d.reading_proof(&dataset, &source, seq, index)
    })
    .await?
    .map(Json)
    .ok_or(DataError::Api(ApiError::NotFound {
        what: "committed reading",
        id,
    }))
}

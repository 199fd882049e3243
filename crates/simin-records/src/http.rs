//! The vault's HTTP surface and how its errors become RFC 9457 problems.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use simin_types::Hash;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::{error, info};

use crate::error::{RequestError, VaultError};
use crate::service::{CreateRequest, EraseRequest, ReadRequest, Vault};

/// The largest request body accepted, in bytes (a record's content and some margin).
pub const BODY_BYTES_MAX: usize = 64 * 1024;
/// Time limit of a request: filing and erasing wait for a commit.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(90);
/// The prefix of every problem type URI.
const PROBLEM_TYPE_BASE: &str = "https://simin.dev/problems/";

type Shared = Arc<Vault>;

/// The vault's routes (see the crate documentation).
pub fn router(vault: Arc<Vault>) -> Router {
    Router::new()
        .route("/admin/records", post(create))
        .route("/records/{id}", get(describe))
        .route("/records/{id}/read", post(read))
        .route("/records/{id}/erase", post(erase))
        .route("/health", get(health))
        .fallback(|| async { problem(StatusCode::NOT_FOUND, "not-found", "no such route".into()) })
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(TraceLayer::new_for_http())
        .with_state(vault)
}

/// Serves the router on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    vault: Arc<Vault>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let address = listener.local_addr()?;
    info!(%address, org = %vault.org(), "records vault listening");
    simin_api::edge::serve(
        listener,
        router(vault),
        simin_api::EdgeLimits::default(),
        shutdown,
    )
    .await
}

/// `GET /health`: 200 `{ready: true}` once the vault can file records, else 503 with
/// what it waits for.
async fn health(State(vault): State<Shared>) -> Response {
    let waiting_for = vault.waiting_for().await;
    let ready = waiting_for.is_empty();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut response = (
        status,
        Json(json!({ "ready": ready, "waiting_for": waiting_for })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn problem(status: StatusCode, slug: &str, detail: String) -> Response {
    let body = json!({
        "type": format!("{PROBLEM_TYPE_BASE}{slug}"),
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl IntoResponse for RequestError {
    fn into_response(self) -> Response {
        let detail = self.to_string();
        match self {
            RequestError::Invalid(_) => problem(StatusCode::BAD_REQUEST, "invalid-request", detail),
            RequestError::Unauthorized => {
                let mut response = problem(StatusCode::UNAUTHORIZED, "unauthorized", detail);
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"simin-records-admin\""),
                );
                response
            }
            RequestError::Forbidden(_) => {
                problem(StatusCode::FORBIDDEN, "access-not-logged", detail)
            }
            RequestError::NotFound(_) => problem(StatusCode::NOT_FOUND, "not-found", detail),
            RequestError::Erased { .. } => problem(StatusCode::GONE, "record-erased", detail),
            RequestError::Refused { .. } => problem(StatusCode::CONFLICT, "chain-refused", detail),
            RequestError::Failed(e) => {
                let status = match e {
                    VaultError::Node(_)
                    | VaultError::NodeAnswer { .. }
                    | VaultError::NodeRefused { .. }
                    | VaultError::NotCommitted { .. } => StatusCode::BAD_GATEWAY,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                error!(%detail, "request failed");
                problem(status, "vault-failed", detail)
            }
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn is_admin(vault: &Vault, headers: &HeaderMap) -> bool {
    bearer(headers).is_some_and(|token| vault.is_admin(token))
}

fn record_id(text: &str) -> Result<Hash, RequestError> {
    Hash::from_hex(text).map_err(|e| RequestError::Invalid(format!("record id: {e}")))
}

async fn create(
    State(vault): State<Shared>,
    headers: HeaderMap,
    body: Result<Json<CreateRequest>, JsonRejection>,
) -> Result<Response, RequestError> {
    if !is_admin(&vault, &headers) {
        return Err(RequestError::Unauthorized);
    }
    let Json(request) = body.map_err(|e| RequestError::Invalid(e.body_text()))?;
    let created = vault.create(request).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn describe(
    State(vault): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, RequestError> {
    Ok(Json(vault.describe(record_id(&id)?).await?).into_response())
}

async fn read(
    State(vault): State<Shared>,
    Path(id): Path<String>,
    body: Result<Json<ReadRequest>, JsonRejection>,
) -> Result<Response, RequestError> {
    let id = record_id(&id)?;
    let Json(request) = body.map_err(|e| RequestError::Invalid(e.body_text()))?;
    let mut response = Json(vault.read(id, request).await?).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn erase(
    State(vault): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, RequestError> {
    let id = record_id(&id)?;
    let request: EraseRequest = if body.is_empty() {
        EraseRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| RequestError::Invalid(e.to_string()))?
    };
    let admin = is_admin(&vault, &headers);
    Ok(Json(vault.erase(id, request.tx_hash, admin).await?).into_response())
}

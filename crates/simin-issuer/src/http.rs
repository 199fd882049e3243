//! The HTTP surface: the OpenID4VCI endpoints, the admin endpoints and their errors.
//!
//! Protocol errors are answered the OAuth way, `{error, error_description}` (with
//! `WWW-Authenticate` for `invalid_token`); everything else as RFC 9457 problems.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::json;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::{error, info, warn};

use crate::error::{IssuerError, ProtocolError, RequestError};
use crate::issuance::CredentialRequest;
use crate::offers::{OfferRequest, TokenRequest};
use crate::service::IssuerService;
use crate::status::StatusAction;

/// The largest request body accepted, in bytes.
pub const BODY_BYTES_MAX: usize = 64 * 1024;
/// Time limit of the wallet-facing endpoints.
const PUBLIC_TIMEOUT: Duration = Duration::from_secs(20);
/// Time limit of the admin endpoints: a status change waits for its commit.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(90);
/// How often expired offers, tokens and nonces are deleted.
const PURGE_INTERVAL: Duration = Duration::from_secs(60);
/// The prefix of every problem type URI.
const PROBLEM_TYPE_BASE: &str = "https://simin.dev/problems/";

type Shared = Arc<IssuerService>;

/// The issuer's routes (see the crate documentation for the list). Starts getting the
/// service ready (its status lists on chain) if nothing did yet.
pub fn router(service: Arc<IssuerService>) -> Router {
    service.start_preparing();
    let public = Router::new()
        .route(
            "/.well-known/openid-credential-issuer",
            get(issuer_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(authorization_server_metadata),
        )
        .route("/token", post(token))
        .route("/nonce", post(nonce))
        .route("/credential", post(credential))
        .route("/offers/{id}", get(offer))
        .route("/offers/{id}/qr.svg", get(offer_qr))
        .route("/health", get(health))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            PUBLIC_TIMEOUT,
        ));
    let admin = Router::new()
        .route("/admin/offers", post(create_offer))
        .route("/admin/credentials", get(list_credentials))
        .route("/admin/credentials/{id}", get(one_credential))
        .route("/admin/credentials/{id}/{action}", post(change_status))
        .route("/credentials/issue", post(issue_credential))
        .route_layer(middleware::from_fn_with_state(
            service.clone(),
            require_admin,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            ADMIN_TIMEOUT,
        ));
    public
        .merge(admin)
        .fallback(|| async { problem(StatusCode::NOT_FOUND, "not-found", "no such route".into()) })
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(TraceLayer::new_for_http())
        .with_state(service)
}

/// Serves the router on `listener` until `shutdown` resolves, deleting expired offers,
/// tokens and nonces every minute meanwhile.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Arc<IssuerService>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let address = listener.local_addr()?;
    info!(%address, public_url = %service.config().public_url, "credential issuer listening");
    let purger = tokio::spawn({
        let service = service.clone();
        async move {
            let mut interval = tokio::time::interval(PURGE_INTERVAL);
            loop {
                interval.tick().await;
                match service.purge_expired().await {
                    Ok(0) => {}
                    Ok(removed) => info!(removed, "expired offers, tokens and nonces deleted"),
                    Err(e) => warn!(%e, "purging expired entries failed"),
                }
            }
        }
    });
    let served = simin_api::edge::serve(
        listener,
        router(service),
        simin_api::EdgeLimits::default(),
        shutdown,
    )
    .await;
    purger.abort();
    served
}

fn problem(status: StatusCode, slug: &str, detail: String) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = json!({
        "type": format!("{PROBLEM_TYPE_BASE}{slug}"),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl IntoResponse for RequestError {
    fn into_response(self) -> Response {
        match self {
            RequestError::Protocol { code, description } => {
                let status = if code == ProtocolError::InvalidToken {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::BAD_REQUEST
                };
                let body = json!({ "error": code.code(), "error_description": description });
                let mut response = no_store((status, Json(body)).into_response());
                if code == ProtocolError::InvalidToken {
                    // Quotes would end the parameter early; descriptions are ours and have none.
                    let challenge = format!(
                        "Bearer error=\"invalid_token\", error_description=\"{}\"",
                        description.replace('"', "'")
                    );
                    if let Ok(value) = HeaderValue::from_str(&challenge) {
                        response
                            .headers_mut()
                            .insert(header::WWW_AUTHENTICATE, value);
                    }
                }
                response
            }
            RequestError::Invalid(detail) => {
                problem(StatusCode::BAD_REQUEST, "invalid-request", detail)
            }
            RequestError::Unauthorized => {
                let mut response = problem(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "the admin endpoints need the admin bearer token".into(),
                );
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"simin-issuer-admin\""),
                );
                response
            }
            RequestError::NotFound { what, id } => problem(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("no {what} {id}"),
            ),
            RequestError::Conflict(detail) => problem(StatusCode::CONFLICT, "conflict", detail),
            RequestError::NotReady(waiting_for) => {
                let mut response = problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not-ready",
                    format!("the issuer is not ready: waiting for {waiting_for}"),
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                response
            }
            RequestError::Failed(e) => {
                let (status, slug) = match &e {
                    IssuerError::Node(_)
                    | IssuerError::NodeAnswer { .. }
                    | IssuerError::NodeRefused { .. }
                    | IssuerError::NotCommitted { .. }
                    | IssuerError::StatusListMismatch { .. } => {
                        (StatusCode::BAD_GATEWAY, "node-failed")
                    }
                    IssuerError::Busy { .. } | IssuerError::StatusListFull { .. } => {
                        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
                    }
                    _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
                };
                error!(%e, "request failed");
                problem(status, slug, e.to_string())
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

async fn require_admin(State(service): State<Shared>, request: Request, next: Next) -> Response {
    match bearer(request.headers()) {
        Some(token) if service.is_admin(token) => next.run(request).await,
        _ => RequestError::Unauthorized.into_response(),
    }
}

async fn issuer_metadata(State(service): State<Shared>) -> Result<Response, RequestError> {
    Ok(Json(service.issuer_metadata().await?).into_response())
}

/// `GET /health`: 200 `{ready: true}` once offers and issuance are open, else 503 with
/// what the service waits for.
async fn health(State(service): State<Shared>) -> Response {
    let waiting_for = service.waiting_for();
    let ready = waiting_for.is_empty();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    no_store(
        (
            status,
            Json(json!({ "ready": ready, "waiting_for": waiting_for })),
        )
            .into_response(),
    )
}

async fn authorization_server_metadata(State(service): State<Shared>) -> Response {
    Json(service.authorization_server_metadata()).into_response()
}

async fn token(
    State(service): State<Shared>,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Result<Response, RequestError> {
    let Form(request) = form.map_err(|e| {
        RequestError::protocol(
            ProtocolError::InvalidRequest,
            format!("the token request is not a valid form: {e}"),
        )
    })?;
    Ok(no_store(
        Json(service.token(request).await?).into_response(),
    ))
}

async fn nonce(State(service): State<Shared>) -> Response {
    no_store(Json(json!({ "c_nonce": service.nonce() })).into_response())
}

async fn credential(
    State(service): State<Shared>,
    headers: HeaderMap,
    body: Result<Json<CredentialRequest>, JsonRejection>,
) -> Result<Response, RequestError> {
    let Some(token) = bearer(&headers) else {
        return Err(RequestError::protocol(
            ProtocolError::InvalidToken,
            "a Bearer access token is required",
        ));
    };
    let Json(request) = body.map_err(|e| {
        RequestError::protocol(
            ProtocolError::InvalidCredentialRequest,
            format!("the credential request is not valid JSON: {e}"),
        )
    })?;
    Ok(no_store(
        Json(service.credential(Some(token), request).await?).into_response(),
    ))
}

async fn offer(
    State(service): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, RequestError> {
    Ok(no_store(
        Json(service.pending_offer(&id).await?).into_response(),
    ))
}

async fn offer_qr(
    State(service): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, RequestError> {
    let svg = service.offer_qr_svg(&id).await?;
    let mut response = no_store(svg.into_response());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    Ok(response)
}

async fn issue_credential(
    State(service): State<Shared>,
    body: Result<Json<crate::vc_api::IssueCredentialRequest>, JsonRejection>,
) -> Result<Response, RequestError> {
    let Json(request) = body.map_err(|e| RequestError::Invalid(e.body_text()))?;
    let issued = service.issue_w3c(request).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "verifiableCredential": issued })),
    )
        .into_response())
}

async fn create_offer(
    State(service): State<Shared>,
    body: Result<Json<OfferRequest>, JsonRejection>,
) -> Result<Response, RequestError> {
    let Json(request) = body.map_err(|e| RequestError::Invalid(e.body_text()))?;
    let created = service.create_offer(request).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    after: Option<String>,
    limit: Option<usize>,
}

async fn list_credentials(
    State(service): State<Shared>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, RequestError> {
    let Query(query) = query.map_err(|e| RequestError::Invalid(e.body_text()))?;
    let records = service
        .credential_records(query.after, query.limit.unwrap_or(100))
        .await?;
    Ok(Json(json!({ "credentials": records })).into_response())
}

async fn one_credential(
    State(service): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, RequestError> {
    Ok(Json(service.credential_record(&id).await?).into_response())
}

async fn change_status(
    State(service): State<Shared>,
    Path((id, action)): Path<(String, String)>,
) -> Result<Response, RequestError> {
    let Some(action) = StatusAction::parse(&action) else {
        return Err(RequestError::NotFound {
            what: "status action",
            id: action.chars().take(32).collect(),
        });
    };
    Ok(Json(service.set_status(&id, action).await?).into_response())
}

//! The HTTP surface of the provider (see the crate documentation for the endpoints).
//!
//! OAuth errors are `{error, error_description}` with the status RFC 6749 and RFC 6750
//! name (and `WWW-Authenticate` where they ask for it); authorization errors go to the
//! client's redirect URI, except those about the client or the redirect URI itself,
//! which are shown to the citizen.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::json;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::{info, warn};

use crate::error::{AuthorizeError, OAuthError};
use crate::pages;
use crate::provider::{
    error_redirect, Approval, AuthorizeParams, BrowserOutcome, Gateway, TokenParams, WalletAnswer,
};
use crate::AccessLogWriterHandle;

/// The largest request body, in bytes (a presentation is at most 16 KiB).
pub const BODY_BYTES_MAX: usize = 64 * 1024;
/// Time limit of one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// How often expired requests, codes and tokens are forgotten.
const PURGE_INTERVAL: Duration = Duration::from_secs(30);
/// How long a stopping provider waits for the access log to reach the chain.
const LOG_FLUSH_WAIT: Duration = Duration::from_secs(15);

type Shared = Arc<Gateway>;

/// The provider's routes.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize))
        .route("/login/{id}/status", get(status))
        .route("/login/{id}/continue", get(continue_in_browser))
        .route("/login/{id}/qr.svg", get(qr_code))
        .route("/oid4vp/requests/{id}", get(request_object))
        .route("/oid4vp/response", axum::routing::post(wallet_response))
        .route("/token", axum::routing::post(token))
        .route("/userinfo", get(userinfo).post(userinfo))
        .route("/access-log", get(access_log_page))
        .route("/access-log/start", get(access_log_start))
        .route("/health", get(health))
        .fallback(|| async {
            oauth_error(
                &OAuthError::new("invalid_request", "no such endpoint"),
                StatusCode::NOT_FOUND,
            )
        })
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(gateway)
}

/// Serves the provider on `listener` until `shutdown`, with its access-log writer and the
/// purge of expired entries; then waits (a bounded time) for the log to reach the chain.
pub async fn serve(
    listener: tokio::net::TcpListener,
    gateway: Arc<Gateway>,
    writer: crate::AccessLogWriter,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let address = listener.local_addr()?;
    info!(%address, issuer = gateway.issuer(), "OpenID Connect provider listening");
    let writer: AccessLogWriterHandle = tokio::spawn(writer.run());
    let purger = tokio::spawn({
        let gateway = Arc::downgrade(&gateway);
        async move {
            let mut interval = tokio::time::interval(PURGE_INTERVAL);
            loop {
                interval.tick().await;
                let Some(gateway) = gateway.upgrade() else {
                    return;
                };
                let removed = gateway.purge();
                if removed > 0 {
                    info!(removed, "expired logins, codes and tokens forgotten");
                }
            }
        }
    });
    let served = simin_api::edge::serve(
        listener,
        router(gateway),
        simin_api::EdgeLimits::default(),
        shutdown,
    )
    .await;
    purger.abort();
    if tokio::time::timeout(LOG_FLUSH_WAIT, writer).await.is_err() {
        warn!("the access log did not reach the chain before shutdown");
    }
    served
}

/// `GET /health`: 200 `{ready: true}` once up, else 503 with what it waits for.
async fn health(State(gateway): State<Shared>) -> Response {
    let waiting_for = gateway.waiting_for();
    let ready = waiting_for.is_empty();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({ "ready": ready, "waiting_for": waiting_for });
    no_store((status, Json(body)).into_response())
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn oauth_error(error: &OAuthError, status: StatusCode) -> Response {
    let body = json!({ "error": error.code, "error_description": error.description });
    no_store((status, Json(body)).into_response())
}

fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    no_store(response)
}

fn cookie_name(id: &str) -> String {
    format!("simin_login_{id}")
}

fn cookie_value<'a>(headers: &'a HeaderMap, id: &str) -> Option<&'a str> {
    let name = cookie_name(id);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

fn approval_response(gateway: &Gateway, approval: &Approval) -> Response {
    let mut response = html(StatusCode::OK, pages::approval(approval));
    let secure = if gateway.issuer().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={}; Path=/login/{}; HttpOnly; SameSite=Lax; Max-Age=600{secure}",
        cookie_name(&approval.id),
        approval.browser_secret,
        approval.id
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

async fn home(State(gateway): State<Shared>) -> Response {
    html(StatusCode::OK, pages::home(gateway.issuer()))
}

async fn discovery(State(gateway): State<Shared>) -> Json<serde_json::Value> {
    Json(gateway.discovery())
}

async fn jwks(State(gateway): State<Shared>) -> Json<serde_json::Value> {
    Json(gateway.jwks())
}

async fn authorize(
    State(gateway): State<Shared>,
    query: Result<Query<AuthorizeParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(params)) = query else {
        return html(
            StatusCode::BAD_REQUEST,
            pages::message(
                "Invalid request",
                "invalid_request: the query cannot be read",
            ),
        );
    };
    match gateway.authorize(&params).await {
        Ok(approval) => approval_response(&gateway, &approval),
        Err(AuthorizeError::Show(error)) => {
            info!(code = error.code, "authorization request refused");
            html(
                StatusCode::BAD_REQUEST,
                pages::message("This sign-in request is not valid", &error.to_string()),
            )
        }
        Err(AuthorizeError::Redirect {
            redirect_uri,
            state,
            error,
        }) => {
            info!(
                code = error.code,
                "authorization request refused; redirecting"
            );
            let url = error_redirect(&redirect_uri, state.as_deref(), gateway.issuer(), &error);
            no_store(Redirect::to(&url).into_response())
        }
    }
}

async fn status(
    State(gateway): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let cookie = cookie_value(&headers, &id).unwrap_or("");
    match gateway.status(&id, cookie) {
        Some(status) => no_store(Json(json!({ "status": status })).into_response()),
        None => oauth_error(
            &OAuthError::invalid_request("no such request for this browser"),
            StatusCode::NOT_FOUND,
        ),
    }
}

async fn continue_in_browser(
    State(gateway): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let cookie = cookie_value(&headers, &id).unwrap_or("");
    match gateway.continue_in_browser(&id, cookie) {
        Some(BrowserOutcome::Redirect(url)) => no_store(Redirect::to(&url).into_response()),
        Some(BrowserOutcome::AccessLog(log)) => html(StatusCode::OK, pages::access_log(&log)),
        Some(BrowserOutcome::Waiting) => html(
            StatusCode::CONFLICT,
            pages::message(
                "Not approved yet",
                "Approve the request in your wallet first.",
            ),
        ),
        Some(BrowserOutcome::Taken) => html(
            StatusCode::OK,
            pages::message("Done", "This sign-in was completed in another window."),
        ),
        None => html(
            StatusCode::NOT_FOUND,
            pages::message(
                "Unknown or expired request",
                "This request expired, or was started in another browser.",
            ),
        ),
    }
}

/// The wallet link of a waiting request as a QR code, served apart from the page so
/// that only a browser showing it to a phone pays for drawing it.
async fn qr_code(State(gateway): State<Shared>, Path(id): Path<String>) -> Response {
    match gateway.wallet_link_of(&id) {
        Some(link) => {
            let svg = tokio::task::spawn_blocking(move || pages::qr_svg(&link))
                .await
                .unwrap_or_default();
            let mut response = svg.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            );
            no_store(response)
        }
        None => oauth_error(
            &OAuthError::invalid_request("no such request, or it expired"),
            StatusCode::NOT_FOUND,
        ),
    }
}

async fn request_object(State(gateway): State<Shared>, Path(id): Path<String>) -> Response {
    match gateway.request_object(&id) {
        Ok(jws) => {
            let mut response = jws.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/oauth-authz-req+jwt"),
            );
            no_store(response)
        }
        Err(error) => oauth_error(&error, StatusCode::NOT_FOUND),
    }
}

#[derive(Debug, Deserialize)]
struct WalletForm {
    vp_token: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn wallet_response(
    State(gateway): State<Shared>,
    form: Result<Form<WalletForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return oauth_error(
            &OAuthError::invalid_request(
                "the body is not a form (application/x-www-form-urlencoded)",
            ),
            StatusCode::BAD_REQUEST,
        );
    };
    if let Some(error) = &form.error {
        // The wallet declined (OpenID4VP 1.0 section 8.5); the request stays open until it
        // expires, and the citizen may try again.
        info!(%error, description = form.error_description.as_deref().unwrap_or(""), "the wallet declined");
        return no_store(Json(json!({})).into_response());
    }
    match gateway
        .wallet_response(form.vp_token.as_deref(), form.state.as_deref())
        .await
    {
        Ok(WalletAnswer::Continue(url)) => {
            no_store(Json(json!({ "redirect_uri": url })).into_response())
        }
        Ok(WalletAnswer::AccessLog(log)) => {
            no_store(Json(json!({ "access_log": log })).into_response())
        }
        Err(error) => {
            let status = match error.code {
                "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
                "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            oauth_error(&error, status)
        }
    }
}

async fn token(
    State(gateway): State<Shared>,
    headers: HeaderMap,
    form: Result<Form<TokenParams>, FormRejection>,
) -> Response {
    let Ok(Form(params)) = form else {
        return oauth_error(
            &OAuthError::invalid_request(
                "the body is not a form (application/x-www-form-urlencoded)",
            ),
            StatusCode::BAD_REQUEST,
        );
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match gateway.token(&params, authorization).await {
        Ok(body) => no_store(Json(body).into_response()),
        Err(error) => {
            let mut response = oauth_error(&error, error.status());
            if error.code == "invalid_client"
                && authorization.is_some_and(|a| a.starts_with("Basic "))
            {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"simin\""),
                );
            }
            response
        }
    }
}

async fn userinfo(State(gateway): State<Shared>, headers: HeaderMap) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match gateway.userinfo(authorization) {
        Ok(body) => no_store(Json(body).into_response()),
        Err(error) => {
            let mut response = oauth_error(&error, error.status());
            let challenge = format!(
                "Bearer error=\"{}\", error_description=\"{}\"",
                error.code,
                error.description.replace('"', "'")
            );
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
            response
        }
    }
}

async fn access_log_page(State(gateway): State<Shared>) -> Response {
    match gateway.start_access_log(true) {
        Ok(approval) => approval_response(&gateway, &approval),
        Err(e) => html(
            StatusCode::SERVICE_UNAVAILABLE,
            pages::message("Try again later", &e.to_string()),
        ),
    }
}

async fn access_log_start(State(gateway): State<Shared>) -> Response {
    match gateway.start_access_log(false) {
        Ok(approval) => no_store(
            Json(json!({ "request_uri": approval.wallet_link, "id": approval.id })).into_response(),
        ),
        Err(e) => oauth_error(&OAuthError::from(e), StatusCode::SERVICE_UNAVAILABLE),
    }
}

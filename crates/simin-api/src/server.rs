//! Assembles the router (routes, OpenAPI, portal, layers) and serves it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::{Extension, Router};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::backend::Backend;
use crate::edge::EdgeLimits;
use crate::problem::{framework_kind, problem_response, PROBLEM_CONTENT_TYPE};
use crate::routes::identity::DID_RESOLUTION_CONTENT_TYPE;
use crate::routes::ops::OpenApiJson;
use crate::routes::records;
use crate::routes::txs::{BODY_BYTES_MAX, WAIT_MS_MAX};
use crate::routes::{auth, chain, identity, ops, state, txs, vcapi, Shared};

/// Time limit of every request except transaction submission.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Time limit of transaction submission: the longest commit wait and a margin.
const SUBMIT_TIMEOUT: Duration = Duration::from_millis(WAIT_MS_MAX + 5_000);

/// The API's routes with their OpenAPI description; both come from the same handlers, so
/// the document cannot drift from what is served.
fn api_routes() -> OpenApiRouter<Shared> {
    let reads = OpenApiRouter::new()
        .routes(routes!(chain::status))
        .routes(routes!(chain::list_blocks))
        .routes(routes!(chain::latest_block))
        .routes(routes!(chain::block))
        .routes(routes!(txs::tx))
        .routes(routes!(state::state))
        .routes(routes!(state::notary))
        .routes(routes!(identity::resolve_did))
        .routes(routes!(identity::issuer))
        .routes(routes!(identity::schema))
        .routes(routes!(identity::status_list_credential))
        .routes(routes!(identity::status_bit))
        .routes(routes!(identity::verify_presentation))
        .routes(routes!(auth::services))
        .routes(routes!(auth::service))
        .routes(routes!(auth::access_log))
        .routes(routes!(crate::routes::data::readings))
        .routes(routes!(crate::routes::data::aggregate))
        .routes(routes!(crate::routes::data::export_csv))
        .routes(routes!(crate::routes::data::export_json))
        .routes(routes!(crate::routes::data::reading_proof))
        .routes(routes!(records::record))
        .routes(routes!(records::consent))
        .routes(routes!(vcapi::verify_credential))
        .routes(routes!(vcapi::verify_presentation))
        .routes(routes!(ops::metrics))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::openapi))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    let submit = OpenApiRouter::new()
        .routes(routes!(txs::submit))
        .routes(routes!(crate::routes::data::submit_batch))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            SUBMIT_TIMEOUT,
        ));
    reads.merge(submit)
}

/// The OpenAPI 3.1 document of the API.
pub fn openapi() -> OpenApi {
    let (_, mut doc) = api_routes().split_for_parts();
    doc.info.title = "simin API".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.description = Some(
        "The HTTP API of a simin node. Errors are RFC 9457 application/problem+json bodies \
         whose `type` is a stable URI under https://simin.dev/problems/."
            .into(),
    );
    doc
}

/// The whole HTTP surface of a node: `/v1` API, `/metrics`, `/healthz`, `/openapi.json`,
/// and the portal at `/`.
pub fn router(backend: Arc<dyn Backend>) -> Router {
    let doc = openapi();
    let doc_json = doc
        .to_json()
        .expect("the OpenAPI document serializes because it is plain data");
    let (api, _) = api_routes().split_for_parts();
    api.with_state(backend)
        .merge(simin_portal::router())
        .fallback(|| async {
            problem_response(
                axum::http::StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                "no such route".into(),
            )
        })
        .layer(Extension(OpenApiJson(Arc::new(doc_json))))
        .layer(RequestBodyLimitLayer::new(BODY_BYTES_MAX))
        .layer(middleware::from_fn(problemize))
        .layer(TraceLayer::new_for_http())
}

/// Gives error responses made by axum or a layer (wrong method, timeout, body limit) a
/// problem+json body, so every error of the API has the same shape.
async fn problemize(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    // Problems, and DID Resolution results, whose errors the DID Resolution
    // specification shapes itself, keep their bodies.
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(PROBLEM_CONTENT_TYPE.as_bytes())
                || v.as_bytes()
                    .starts_with(DID_RESOLUTION_CONTENT_TYPE.as_bytes())
        });
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (slug, title) = framework_kind(status);
    let detail = status.canonical_reason().unwrap_or("error").to_owned();
    problem_response(status, slug, title, detail)
}

/// Serves the router on `listener` within the default [`EdgeLimits`] until `shutdown`
/// resolves, then drains requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    backend: Arc<dyn Backend>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_limits(listener, backend, EdgeLimits::default(), shutdown).await
}

/// [`serve`] within `limits`.
pub async fn serve_with_limits(
    listener: tokio::net::TcpListener,
    backend: Arc<dyn Backend>,
    limits: EdgeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let address = listener.local_addr()?;
    tracing::info!(%address, ?limits, "HTTP API listening");
    crate::edge::serve(listener, router(backend), limits, shutdown).await
}

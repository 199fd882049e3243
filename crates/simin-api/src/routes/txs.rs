//! Transactions: submit (optionally waiting for finality) and look up.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use simin_types::{limits, SignedTx, TypesError};

use super::{bad_query, blocking, parse_hash, Shared};
use crate::backend::{SubmitError, TxOrigin};
use crate::dto::{
    Problem, SubmitQuery, SubmitStatus, SubmitTxRequest, SubmitTxResponse, TxLookup, WaitFor,
};
use crate::problem::ApiError;

/// Largest request body accepted anywhere: a hex-encoded transaction is at most twice
/// `TX_BYTES_MAX` plus a little JSON.
pub const BODY_BYTES_MAX: usize = 256 * 1024;
/// How long `wait=commit` waits when the client does not say.
const WAIT_MS_DEFAULT: u64 = 10_000;
/// The longest `wait=commit` wait, whatever the client asks.
pub const WAIT_MS_MAX: u64 = 30_000;

/// Submits a transaction; with `wait=commit`, answers once it is committed.
#[utoipa::path(post, path = "/v1/txs", tag = "txs", params(SubmitQuery),
    request_body(description = "A borsh-encoded SignedTx, as hex in JSON or as raw bytes",
        content(
            (SubmitTxRequest = "application/json"),
            (Vec<u8> = "application/octet-stream"),
        )),
    responses(
        (status = 200, description = "Committed (only with wait=commit)", body = SubmitTxResponse),
        (status = 202, description = "Accepted into the mempool, not yet committed", body = SubmitTxResponse),
        (status = 400, description = "Malformed body or transaction", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Duplicate, or nonce already used", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body or transaction too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Unsupported content type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by the mempool checks", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Mempool full or node unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn submit(
    State(backend): State<Shared>,
    query: Result<Query<SubmitQuery>, QueryRejection>,
    extensions: Extensions,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    let tx = decode_body(&headers, body).await?;
    let origin = if query.relayed.unwrap_or(false) {
        TxOrigin::Peer
    } else {
        // The edge server records each connection's peer address; a server without it
        // (an in-process test router) leaves the client's address unknown.
        let address = extensions.get::<ConnectInfo<SocketAddr>>();
        TxOrigin::Client(address.map(|ConnectInfo(peer)| peer.ip()))
    };
    let hash = blocking(&backend, move |b| b.submit_tx(tx, origin)).await?;
    let committed = match query.wait {
        None => None,
        Some(WaitFor::Commit) => {
            let wait =
                Duration::from_millis(query.timeout_ms.unwrap_or(WAIT_MS_DEFAULT).min(WAIT_MS_MAX));
            let future = backend.wait_for_commit(hash, wait);
            // The backend promises to resolve by `wait`; this bound holds even if it does not.
            match tokio::time::timeout(wait + Duration::from_secs(1), future).await {
                Ok(result) => result?,
                Err(_) => None,
            }
        }
    };
    let (status, code) = match committed {
        Some(_) => (SubmitStatus::Committed, StatusCode::OK),
        None => (SubmitStatus::Pending, StatusCode::ACCEPTED),
    };
    let location = HeaderValue::from_str(&format!("/v1/txs/{hash}"))
        .expect("the location is a valid header value because it is ASCII hex");
    let body = SubmitTxResponse {
        hash,
        status,
        committed,
    };
    Ok((code, [(header::LOCATION, location)], Json(body)).into_response())
}

/// Reads the body (bounded) and decodes the transaction it carries.
async fn decode_body(headers: &HeaderMap, body: Body) -> Result<SignedTx, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let is_json = media_type == "application/json";
    if !is_json && media_type != "application/octet-stream" {
        return Err(ApiError::UnsupportedMediaType(content_type));
    }
    let bytes = read_limited(body, BODY_BYTES_MAX).await?;
    let tx_bytes = if is_json {
        let request: SubmitTxRequest =
            serde_json::from_slice(&bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
        if request.tx.len() > limits::TX_BYTES_MAX.saturating_mul(2) {
            return Err(SubmitError::TooLarge {
                size: request.tx.len() / 2,
                max: limits::TX_BYTES_MAX,
            }
            .into());
        }
        hex::decode(&request.tx).map_err(|e| ApiError::InvalidHex {
            what: "tx",
            reason: e.to_string(),
        })?
    } else {
        bytes.to_vec()
    };
    SignedTx::decode(&tx_bytes).map_err(|e| match e {
        TypesError::TooLarge { got, max, .. } => SubmitError::TooLarge { size: got, max }.into(),
        other => SubmitError::BadEncoding(other.to_string()).into(),
    })
}

/// Collects at most `max` bytes of `body`; more is a 413.
async fn read_limited(body: Body, max: usize) -> Result<axum::body::Bytes, ApiError> {
    match Limited::new(body, max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if is_length_limit(e.as_ref()) => Err(ApiError::PayloadTooLarge { max }),
        Err(e) => Err(ApiError::InvalidParameter {
            what: "body",
            reason: e.to_string(),
        }),
    }
}

/// Whether `error` or one of its causes is a body length limit (this one or an outer layer's).
fn is_length_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    // The chain is finite and short (a handful of wrappers); bound it all the same.
    for _ in 0..16 {
        match cause {
            Some(e) if e.is::<LengthLimitError>() => return true,
            Some(e) => cause = e.source(),
            None => return false,
        }
    }
    false
}

/// A committed transaction with its receipt, location and proofs.
#[utoipa::path(get, path = "/v1/txs/{hash}", tag = "txs",
    params(("hash" = String, Path, description = "Transaction hash, 64 hex characters")),
    responses(
        (status = 200, description = "The committed transaction", body = TxLookup),
        (status = 400, description = "Invalid hash", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not committed (it may still be pending)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn tx(
    State(backend): State<Shared>,
    Path(hash): Path<String>,
) -> Result<Json<TxLookup>, ApiError> {
    let hash = parse_hash("transaction hash", &hash)?;
    blocking(&backend, move |b| b.tx(&hash))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::TxNotFound(hash.to_hex()))
}

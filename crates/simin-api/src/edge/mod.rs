//! The bounded HTTP/1.1 server every simin service runs behind (node API, issuer, login
//! provider, demo library, records vault).
//!
//! `axum::serve` sets no timer, so a client that sends half a request head, or nothing,
//! holds its connection and its buffers forever, and nothing caps how many it holds.
//! [`serve`] bounds each of those: a header read timeout (which also closes idle
//! keep-alive connections), a body read timeout, a bounded head buffer, caps on open
//! connections in total and per client address, and per-client request rates answered
//! with 429 problem+json and `Retry-After`. Graceful shutdown works as with
//! `axum::serve`: stop accepting, let requests in flight finish, close idle connections.

mod gate;
mod rate;

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::Service;
use tower_http::timeout::TimeoutBody;

use crate::problem::problem_response;
use gate::Gate;
use rate::{client_key, RateLimiter};

/// The limits of [`serve`]. Every field has a safe default; a service's TOML
/// configuration may embed this table (unknown fields are refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EdgeLimits {
    /// Longest wait for a request head (request line and headers), counted from when the
    /// connection is accepted or its previous response is sent: it closes connections
    /// that send a head slowly or not at all, and idle keep-alive connections.
    pub header_read_timeout_ms: u64,
    /// Longest wait between two pieces of a request body. A handler's own request
    /// timeout bounds the body as a whole.
    pub body_read_timeout_ms: u64,
    /// Largest request head, and read buffer, of one connection (at least 8192).
    pub header_bytes_max: usize,
    /// Open connections at most; more are answered 503 and closed at once.
    pub connections_max: usize,
    /// Open connections of one client address (an IPv6 client by its /64) at most; more
    /// are answered 429 and closed at once.
    pub connections_per_client_max: usize,
    /// Sustained requests a second of one client address; 0 turns rate limiting off.
    pub requests_per_client_per_sec: u32,
    /// Requests one client address may send at once above the sustained rate.
    pub requests_per_client_burst: u32,
    /// Client addresses whose request rate is remembered; older ones are forgotten.
    pub clients_tracked_max: usize,
    /// Whether the per-client caps and rates apply to loopback clients. Off by default:
    /// on loopback are the operator's own tools and a local reverse proxy, which speaks
    /// for every client behind it and must carry its own limits. The server-wide cap
    /// always applies.
    pub limit_loopback: bool,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        EdgeLimits {
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 10_000,
            header_bytes_max: 64 * 1024,
            connections_max: 1_024,
            connections_per_client_max: 64,
            requests_per_client_per_sec: 100,
            requests_per_client_burst: 200,
            clients_tracked_max: 16_384,
            limit_loopback: false,
        }
    }
}

/// Why limits cannot be served with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EdgeLimitsError {
    #[error("edge limit {field} must be at least {min}")]
    TooSmall { field: &'static str, min: u64 },
}

impl EdgeLimits {
    /// Checks that the limits can be served with.
    pub fn check(&self) -> Result<(), EdgeLimitsError> {
        let too_small = |field, min| Err(EdgeLimitsError::TooSmall { field, min });
        if self.header_read_timeout_ms == 0 {
            return too_small("header_read_timeout_ms", 1);
        }
        if self.body_read_timeout_ms == 0 {
            return too_small("body_read_timeout_ms", 1);
        }
        // hyper refuses (panics on) a smaller buffer.
        if self.header_bytes_max < 8192 {
            return too_small("header_bytes_max", 8192);
        }
        if self.connections_max == 0 {
            return too_small("connections_max", 1);
        }
        if self.connections_per_client_max == 0 {
            return too_small("connections_per_client_max", 1);
        }
        Ok(())
    }
}

/// What every connection task shares.
#[derive(Debug)]
struct Edge {
    limits: EdgeLimits,
    gate: Arc<Gate>,
    rate: Option<RateLimiter>,
}

/// Serves `router` on an already bound `listener` within `limits` until `shutdown`
/// resolves, then stops accepting and waits for open connections to finish (idle ones
/// close at once, requests in flight are answered).
///
/// The listener is taken bound so that a caller can bind early (and fail loudly on a
/// taken port) before starting anything slow. Handlers see the peer address as
/// `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: EdgeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    limits
        .check()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let edge = Arc::new(Edge {
        gate: Arc::new(Gate::new(
            limits.connections_max,
            limits.connections_per_client_max,
        )),
        rate: RateLimiter::new(
            limits.requests_per_client_per_sec,
            limits.requests_per_client_burst,
            limits.clients_tracked_max,
        ),
        limits,
    });
    // Connection tasks watch `stop` to begin their graceful shutdown and hold a clone of
    // `drained_rx`; when the last clone is dropped, every connection has closed.
    let (stop_tx, stop_rx) = watch::channel(false);
    let (drained_tx, drained_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                admit(&edge, stream, peer, router.clone(), &stop_rx, &drained_rx);
            }
            Err(e) => accept_failed(e).await,
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(drained_rx);
    drained_tx.closed().await;
    Ok(())
}

/// Like axum's: errors of one connection are ignored; others (out of file descriptors)
/// are logged and the loop pauses, since retrying at once would spin.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind as K;
    if matches!(
        error.kind(),
        K::ConnectionRefused | K::ConnectionAborted | K::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accepting an HTTP connection failed; pausing for a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

fn admit(
    edge: &Arc<Edge>,
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    stop: &watch::Receiver<bool>,
    drained: &watch::Receiver<()>,
) {
    let client = client_key(peer.ip());
    let limited = (edge.limits.limit_loopback || !client.is_loopback()).then_some(client);
    let slot = match edge.gate.enter(limited) {
        Ok(slot) => slot,
        Err(refusal) => return edge.gate.refuse(stream, peer.ip(), refusal),
    };
    let edge = Arc::clone(edge);
    let (stop, drained) = (stop.clone(), drained.clone());
    tokio::spawn(async move {
        connection(&edge, stream, peer, limited, router, stop).await;
        drop(slot);
        drop(drained);
    });
}

async fn connection(
    edge: &Arc<Edge>,
    stream: TcpStream,
    peer: SocketAddr,
    limited: Option<IpAddr>,
    router: Router,
    mut stop: watch::Receiver<bool>,
) {
    // Responses are written whole; Nagle's algorithm would only delay them.
    let _ = stream.set_nodelay(true);
    let body_timeout = Duration::from_millis(edge.limits.body_read_timeout_ms);
    let service_edge = Arc::clone(edge);
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let mut router = router.clone();
        let edge = Arc::clone(&service_edge);
        async move {
            if let (Some(rate), Some(client)) = (&edge.rate, limited) {
                if let Err(wait) = rate.check(client, Instant::now()) {
                    return Ok::<_, Infallible>(too_many_requests(wait));
                }
            }
            let mut request = request.map(|body| Body::new(TimeoutBody::new(body_timeout, body)));
            request.extensions_mut().insert(ConnectInfo(peer));
            router.call(request).await
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(edge.limits.header_read_timeout_ms))
        .max_buf_size(edge.limits.header_bytes_max)
        .keep_alive(true);
    let mut conn = pin!(builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades());
    let mut stopping = false;
    loop {
        tokio::select! {
            served = conn.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%peer, %error, "HTTP connection ended with an error");
                }
                return;
            }
            _ = stop.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// 429 with the seconds to wait, rounded up: a client that waits that long is served.
fn too_many_requests(wait: Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = problem_response(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        "Too many requests",
        format!("this address is over its request rate; retry in {secs} s"),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    response
}

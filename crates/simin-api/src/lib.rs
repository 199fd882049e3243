//! simin's HTTP API: the only crate that knows JSON-over-HTTP.
//!
//! The node implements [`Backend`]; [`router`] turns it into the `/v1` JSON API (RFC 9457
//! problem+json errors, an OpenAPI 3.1 document at `/openapi.json`), `/metrics`,
//! `/healthz` and the portal at `/`. This crate never depends on the node.

mod backend;
pub mod dto;
pub mod edge;
mod problem;
mod routes;
mod server;

pub use backend::{Backend, BackendError, BoxFuture, SubmitError, TxOrigin};
pub use edge::EdgeLimits;
pub use problem::{ApiError, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE};
pub use routes::chain::BLOCKS_LIMIT_MAX;
pub use routes::data::{DataBackend, DataError};
pub use routes::ops::METRICS_CONTENT_TYPE;
pub use routes::state::STATE_KEY_BYTES_MAX;
pub use routes::txs::{BODY_BYTES_MAX, WAIT_MS_MAX};
pub use server::{openapi, router, serve, serve_with_limits};

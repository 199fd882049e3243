//! The request handlers, grouped by resource, and what they share.

pub(crate) mod auth;
pub(crate) mod chain;
pub(crate) mod data;
pub(crate) mod identity;
pub(crate) mod ops;
pub(crate) mod records;
pub(crate) mod state;
pub(crate) mod txs;
pub(crate) mod vcapi;

use std::sync::Arc;

use simin_types::{Hash, Height};

use crate::backend::Backend;
use crate::problem::ApiError;

/// The router's state: the node behind the API.
pub(crate) type Shared = Arc<dyn Backend>;

/// Runs a backend call on the blocking pool: backend reads may touch storage, and must
/// not stall the async workers that serve other requests.
pub(crate) async fn blocking<T, E, F>(backend: &Shared, call: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
    F: FnOnce(&dyn Backend) -> Result<T, E> + Send + 'static,
{
    let backend = Arc::clone(backend);
    tokio::task::spawn_blocking(move || call(backend.as_ref()))
        .await
        .map_err(|e| ApiError::Internal(format!("backend task failed: {e}")))?
        .map_err(Into::into)
}

/// Parses a 64-character hex hash from a path segment.
pub(crate) fn parse_hash(what: &'static str, text: &str) -> Result<Hash, ApiError> {
    Hash::from_hex(text).map_err(|e| ApiError::InvalidHex {
        what,
        reason: e.to_string(),
    })
}

/// Parses a decimal height from a path segment.
pub(crate) fn parse_height(text: &str) -> Result<Height, ApiError> {
    text.parse::<u64>()
        .map(Height)
        .map_err(|_| ApiError::InvalidParameter {
            what: "height",
            reason: format!("{:?} is not a decimal height", clip(text)),
        })
}

/// Parses a decimal `u32` from a path segment (a status list, a bit index, a reading
/// index): out of range or not digits is the client's error, named, not axum's bare 400.
pub(crate) fn parse_u32(what: &'static str, text: &str) -> Result<u32, ApiError> {
    text.parse::<u32>().map_err(|_| ApiError::InvalidParameter {
        what,
        reason: format!(
            "{:?} is not a decimal number from 0 to {}",
            clip(text),
            u32::MAX
        ),
    })
}

/// Parses a decimal `u64` from a path segment.
pub(crate) fn parse_u64(what: &'static str, text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>().map_err(|_| ApiError::InvalidParameter {
        what,
        reason: format!(
            "{:?} is not a decimal number from 0 to {}",
            clip(text),
            u64::MAX
        ),
    })
}

/// At most the first 64 bytes of `text` (whole characters), so an error never echoes a
/// huge parameter back.
fn clip(text: &str) -> &str {
    let mut end = text.len().min(64);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Turns a query string rejection into a 400 problem.
pub(crate) fn bad_query(rejection: axum::extract::rejection::QueryRejection) -> ApiError {
    ApiError::InvalidParameter {
        what: "query",
        reason: rejection.body_text(),
    }
}

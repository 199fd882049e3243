//! Chain reads: node status and blocks.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use simin_types::Height;

use super::{bad_query, blocking, parse_height, Shared};
use crate::dto::{BlockList, BlockLookup, BlocksQuery, NodeStatus, Problem};
use crate::problem::ApiError;

/// Blocks per page when the client does not say.
const BLOCKS_LIMIT_DEFAULT: u32 = 20;
/// Most blocks per page, whatever the client asks.
pub const BLOCKS_LIMIT_MAX: u32 = 100;

/// The node's view of the chain.
#[utoipa::path(get, path = "/v1/status", tag = "chain",
    responses(
        (status = 200, description = "The chain tip and node state", body = NodeStatus),
        (status = 503, description = "Node unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn status(State(backend): State<Shared>) -> Result<Json<NodeStatus>, ApiError> {
    blocking(&backend, |b| b.status()).await.map(Json)
}

/// Recent blocks, newest first.
#[utoipa::path(get, path = "/v1/blocks", tag = "chain", params(BlocksQuery),
    responses(
        (status = 200, description = "A page of blocks", body = BlockList),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_blocks(
    State(backend): State<Shared>,
    query: Result<Query<BlocksQuery>, QueryRejection>,
) -> Result<Json<BlockList>, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    let limit = query.limit.unwrap_or(BLOCKS_LIMIT_DEFAULT);
    if limit == 0 {
        return Err(ApiError::InvalidParameter {
            what: "limit",
            reason: "must be at least 1".into(),
        });
    }
    let limit = limit.min(BLOCKS_LIMIT_MAX);
    let before = query.before.map(Height);
    // u32 to usize never truncates on the 32- and 64-bit targets simin supports.
    let mut blocks = blocking(&backend, move |b| b.blocks(before, limit as usize)).await?;
    blocks.truncate(limit as usize);
    let next_before = match blocks.last() {
        Some(last) if blocks.len() == limit as usize && last.height.0 > 1 => Some(last.height.0),
        _ => None,
    };
    Ok(Json(BlockList {
        blocks,
        next_before,
    }))
}

/// The latest committed block.
#[utoipa::path(get, path = "/v1/blocks/latest", tag = "chain",
    responses(
        (status = 200, description = "The latest block", body = BlockLookup),
        (status = 404, description = "No block yet", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn latest_block(
    State(backend): State<Shared>,
) -> Result<Json<BlockLookup>, ApiError> {
    let status = blocking(&backend, |b| b.status()).await?;
    if status.latest_height == Height::GENESIS {
        return Err(ApiError::NoBlockYet);
    }
    let height = status.latest_height;
    blocking(&backend, move |b| b.block(height))
        .await?
        .map(Json)
        .ok_or(ApiError::BlockNotFound(height))
}

/// One block with its certificate and receipts.
#[utoipa::path(get, path = "/v1/blocks/{height}", tag = "chain",
    params(("height" = u64, Path, description = "Block height (1 is the first block)")),
    responses(
        (status = 200, description = "The block", body = BlockLookup),
        (status = 400, description = "Invalid height", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such block", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn block(
    State(backend): State<Shared>,
    Path(height): Path<String>,
) -> Result<Json<BlockLookup>, ApiError> {
    let height = parse_height(&height)?;
    blocking(&backend, move |b| b.block(height))
        .await?
        .map(Json)
        .ok_or(ApiError::BlockNotFound(height))
}

//! The JSON shapes of urban data feeds (`/v1/data/...`): batch submission, readings,
//! aggregates and reading proofs.

use serde::{Deserialize, Serialize};
use simin_types::Hash;
use utoipa::{IntoParams, ToSchema};

use super::StateLookup;

/// `POST /v1/data/batches`: a signed `data.submit_batch` transaction and its readings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitBatchRequest {
    /// Hex of the borsh-encoded signed transaction, signed by the source's key.
    pub tx: String,
    /// The readings in batch order: `{time_ms, value}`.
    #[schema(value_type = Vec<Object>)]
    pub readings: Vec<simin_data::Reading>,
}

/// The batch was stored and its transaction admitted to the mempool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchAccepted {
    #[schema(value_type = String)]
    pub tx_hash: Hash,
    #[schema(value_type = String)]
    pub root: Hash,
    pub source: String,
    pub seq: u64,
    pub count: u32,
}

/// The filters of a readings query, export or aggregate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReadingsQuery {
    /// Earliest reading time (ms since the Unix epoch), inclusive; default `to` - 1 h.
    pub from: Option<u64>,
    /// Latest reading time (ms), inclusive; default now.
    pub to: Option<u64>,
    /// Only this source.
    pub source: Option<String>,
    /// Only sources registered in this district.
    pub district: Option<String>,
    /// Most readings returned (1 to 10,000; default 1,000).
    pub limit: Option<usize>,
    /// For aggregates: `60s`, `15m`, `1h`, `1d`.
    pub interval: Option<String>,
    /// For aggregates: a numeric top-level member of the value, e.g. `pm10`.
    pub field: Option<String>,
}

/// Committed readings, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReadingList {
    pub dataset: String,
    pub from: u64,
    pub to: u64,
    #[schema(value_type = Vec<Object>)]
    pub readings: Vec<simin_data::StoredReading>,
}

/// Per-interval count, min, max and mean of a field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AggregateResponse {
    pub dataset: String,
    pub from: u64,
    pub to: u64,
    #[schema(value_type = Object)]
    pub aggregate: simin_data::Aggregate,
}

/// One reading, its Merkle path to its batch root, and the batch's record on chain with
/// a state proof against a certified header: checked by `simin_client::verify_reading_proof`
/// without trusting the node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReadingProofResponse {
    #[schema(value_type = Object)]
    pub reading: simin_data::ReadingProof,
    /// `state_keys::data_batch(source, seq)` with `prove=true`.
    pub batch_state: StateLookup,
}

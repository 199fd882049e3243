//! Urban data feeds off chain: what a node keeps of the readings whose batches the chain
//! commits as Merkle roots.
//!
//! A source signs a `DataCall::SubmitBatch` transaction carrying only its batch's root;
//! the readings travel next to it. [`check_batch`] decides, against the chain's latest
//! state and before anything is written, whether the readings are exactly the batch the
//! transaction commits to (registered and active source, its own key, the dataset's JSON
//! Schema, times, count, root, no replayed `seq`). [`DataStore`] keeps accepted readings
//! in their own redb file, indexed by (dataset, time, source, seq, index) so that a time
//! range is one range scan, and serves only the readings of batches the chain committed.
//! The crate depends on `simin-types` only: it reads chain state through [`ChainRead`].

mod error;
mod ingest;
mod query;
mod schema;
mod store;

pub use error::{IngestError, StoreError};
pub use ingest::{check_batch, ChainRead, CheckedBatch, Reading, SEQ_WINDOW, VALUE_BYTES_MAX};
pub use query::{
    parse_interval, to_csv, to_json_rows, Aggregate, AggregateBucket, Query, StoredReading,
    AGGREGATE_SCAN_MAX, BUCKETS_MAX, READINGS_LIMIT_MAX, SPAN_MS_MAX,
};
pub use store::{BatchState, DataStore, ReadingProof};

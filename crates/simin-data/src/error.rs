//! Why a batch is refused, and why the store failed.

use simin_types::{BlockTime, Hash, PublicKey};

/// Why a batch of readings is refused. Nothing is stored for a refused batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    #[error("the transaction is not a data.submit_batch call")]
    NotABatch,
    #[error("the batch declares {declared} readings but {sent} were sent")]
    CountMismatch { declared: u32, sent: usize },
    #[error("a batch holds 1 to {max} readings, not {count}")]
    BadCount { count: usize, max: u32 },
    #[error("dataset {0:?} is not registered on chain")]
    UnknownDataset(String),
    #[error("source {0:?} is not registered on chain")]
    UnregisteredSource(String),
    #[error("source {0:?} is deactivated")]
    InactiveSource(String),
    #[error("source {source_id:?} may not feed dataset {dataset:?}")]
    DatasetNotAllowed { source_id: String, dataset: String },
    #[error("the transaction is signed by {got}, not by the source's key {expected}")]
    WrongSigner { expected: PublicKey, got: PublicKey },
    #[error("the transaction's signature does not verify")]
    BadSignature,
    #[error(
        "batch seq {seq} of source {source_id:?} is replayed: the chain is at seq {committed}"
    )]
    Replayed {
        source_id: String,
        seq: u64,
        committed: u64,
    },
    #[error("batch seq {seq} is too far ahead of the committed seq {committed} (window {window})")]
    SeqTooFar {
        seq: u64,
        committed: u64,
        window: u64,
    },
    #[error("batch seq {seq} of source {source_id:?} is already stored and committed")]
    AlreadyCommitted { source_id: String, seq: u64 },
    #[error("the batch's time span is inverted: first {first} is after last {last}")]
    BadTimeSpan { first: BlockTime, last: BlockTime },
    #[error("reading {index}: time {time} ms is outside the batch's span [{first}, {last}]")]
    TimeOutOfSpan {
        index: usize,
        time: u64,
        first: BlockTime,
        last: BlockTime,
    },
    #[error("reading {index} does not match the dataset's schema: {reason}")]
    SchemaMismatch { index: usize, reason: String },
    #[error("reading {index}'s value is {bytes} bytes, over the limit of {max}")]
    ValueTooLarge {
        index: usize,
        bytes: usize,
        max: usize,
    },
    #[error("the dataset's schema cannot be compiled: {0}")]
    BadSchema(String),
    #[error("the readings' Merkle root is {computed}, the transaction commits to {declared}")]
    RootMismatch { declared: Hash, computed: Hash },
    #[error("the chain state cannot be read: {0}")]
    Chain(String),
}

impl IngestError {
    /// A stable code for problem+json bodies and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            IngestError::NotABatch => "data.not_a_batch",
            IngestError::CountMismatch { .. } => "data.count_mismatch",
            IngestError::BadCount { .. } => "data.bad_count",
            IngestError::UnknownDataset(_) => "data.unknown_dataset",
            IngestError::UnregisteredSource(_) => "data.unregistered_source",
            IngestError::InactiveSource(_) => "data.inactive_source",
            IngestError::DatasetNotAllowed { .. } => "data.dataset_not_allowed",
            IngestError::WrongSigner { .. } => "data.wrong_signer",
            IngestError::BadSignature => "data.bad_signature",
            IngestError::Replayed { .. } => "data.replayed",
            IngestError::SeqTooFar { .. } => "data.seq_too_far",
            IngestError::AlreadyCommitted { .. } => "data.already_committed",
            IngestError::BadTimeSpan { .. } => "data.bad_time_span",
            IngestError::TimeOutOfSpan { .. } => "data.time_out_of_span",
            IngestError::SchemaMismatch { .. } => "data.schema_mismatch",
            IngestError::ValueTooLarge { .. } => "data.value_too_large",
            IngestError::BadSchema(_) => "data.bad_schema",
            IngestError::RootMismatch { .. } => "data.root_mismatch",
            IngestError::Chain(_) => "data.chain_unavailable",
        }
    }
}

/// A fault of the reading store (disk, database, a corrupt entry).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("reading store: {op}: {source}")]
    Db {
        op: &'static str,
        #[source]
        source: redb::Error,
    },
    #[error("reading store: corrupt entry: {0}")]
    Corrupt(String),
    #[error("reading store: {0}")]
    Refused(#[from] IngestError),
    /// A query outside the store's bounds (a client error).
    #[error("invalid query: {0}")]
    BadQuery(String),
}

impl StoreError {
    pub(crate) fn db<E: Into<redb::Error>>(op: &'static str) -> impl FnOnce(E) -> StoreError {
        move |e| StoreError::Db {
            op,
            source: e.into(),
        }
    }
}

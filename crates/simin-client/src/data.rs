//! Checking one urban-data reading without trusting the node: its leaf, its Merkle path
//! to its batch's root, and the batch's record proven in a certified state.

use simin_api::dto::data::ReadingProofResponse;
use simin_types::data::{reading_leaf, BatchRecord, ReadingLeaf};
use simin_types::{state_keys, Hash, Height};

use crate::{verify::verify_state_lookup, TrustAnchor, VerifyError};

/// A reading proved against a header certified by the trusted validators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedReading {
    pub leaf: ReadingLeaf,
    pub record: BatchRecord,
    /// The height whose state holds the record, and its block hash.
    pub height: Height,
    pub block_hash: Hash,
}

/// Why a reading proof does not hold.
#[derive(Debug, thiserror::Error)]
pub enum ReadingProofError {
    #[error("the proof is for {got}, not for the reading asked about ({expected})")]
    NotAsked { expected: String, got: String },
    #[error("the leaf hash does not match the reading")]
    LeafHash,
    #[error("the batch record: {0}")]
    State(#[from] VerifyError),
    #[error("no batch is recorded on chain at this (source, seq)")]
    NoBatch,
    #[error("the batch record cannot be decoded: {0}")]
    Record(String),
    #[error("the recorded batch is for {got}, not for {expected}")]
    RecordMismatch { expected: String, got: String },
    #[error("the Merkle path does not lead to the committed root: {0}")]
    Path(String),
    #[error("the reading's time is outside its batch's span")]
    TimeOutOfSpan,
}

/// Checks `proof` for reading `index` of batch `(source, seq)` of `dataset`: the state
/// proof of `state_keys::data_batch(source, seq)` against a header certified by
/// `trusted`, the Merkle path from the reading's leaf to the committed root, and that
/// the leaf is the reading returned. The caller names the reading, so a node cannot
/// answer with another one.
pub fn verify_reading_proof(
    proof: &ReadingProofResponse,
    dataset: &str,
    source: &str,
    seq: u64,
    index: u32,
    trusted: &TrustAnchor,
) -> Result<VerifiedReading, ReadingProofError> {
    let reading = &proof.reading;
    let leaf = &reading.leaf;
    let asked = format!("{dataset}/{source}/{seq}/{index}");
    let got = format!(
        "{}/{}/{}/{}",
        leaf.dataset, leaf.source, reading.seq, reading.path.leaf_index
    );
    if asked != got {
        return Err(ReadingProofError::NotAsked {
            expected: asked,
            got,
        });
    }
    let leaf_hash = reading_leaf(leaf);
    if leaf_hash != reading.leaf_hash {
        return Err(ReadingProofError::LeafHash);
    }
    let key = state_keys::data_batch(source, seq);
    let state = verify_state_lookup(&proof.batch_state, &key, trusted)?;
    let value = state.value.ok_or(ReadingProofError::NoBatch)?;
    let record: BatchRecord = simin_types::decode("batch record", &value, 4096)
        .map_err(|e| ReadingProofError::Record(e.to_string()))?;
    let batch = &record.batch;
    if batch.dataset != dataset || batch.source != source || batch.seq != seq {
        return Err(ReadingProofError::RecordMismatch {
            expected: format!("{dataset}/{source}/{seq}"),
            got: format!("{}/{}/{}", batch.dataset, batch.source, batch.seq),
        });
    }
    if reading.path.tree_size != u64::from(batch.count) {
        return Err(ReadingProofError::Path(format!(
            "a tree of {} leaves, the batch has {}",
            reading.path.tree_size, batch.count
        )));
    }
    reading
        .path
        .verify(&leaf_hash, &batch.root)
        .map_err(|e| ReadingProofError::Path(e.to_string()))?;
    if leaf.time < batch.first_time || leaf.time > batch.last_time {
        return Err(ReadingProofError::TimeOutOfSpan);
    }
    Ok(VerifiedReading {
        leaf: leaf.clone(),
        record,
        height: state.height,
        block_hash: state.block_hash,
    })
}

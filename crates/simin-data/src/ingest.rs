//! The admission check of a batch: are these readings exactly the batch the signed
//! transaction commits to, from a source the chain allows? Pure over a [`ChainRead`].

use serde::{Deserialize, Serialize};
use simin_types::data::{reading_leaf, DataSource, Dataset, ReadingBatch, ReadingLeaf};
use simin_types::{limits, merkle, state_keys, BlockTime, Call, DataCall, Hash, SignedTx};

use crate::{schema, IngestError};

/// How far ahead of the chain's committed `seq` a batch may be: a source may have this
/// many batches in flight (submitted, not yet committed).
pub const SEQ_WINDOW: u64 = 256;

/// The most bytes of one reading's canonical value.
pub const VALUE_BYTES_MAX: usize = 1024;

/// The largest state value read here (a dataset holds its schema, at most 16 KiB).
const STATE_VALUE_BYTES_MAX: usize = 64 * 1024;

/// The chain's latest committed state, as far as this crate reads it.
pub trait ChainRead {
    /// The raw (borsh) value under `key`, `None` when absent.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String>;
}

/// One reading as a source sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// Any JSON value matching the dataset's schema; hashed in its JCS form.
    pub value: serde_json::Value,
}

/// A batch that passed every check, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedBatch {
    pub batch: ReadingBatch,
    pub tx_hash: Hash,
    /// The source's district at admission (from its registration).
    pub district: String,
    /// Each reading's time (ms) and canonical (JCS) value, in batch order.
    pub readings: Vec<(u64, String)>,
    /// Each reading's Merkle leaf hash, in batch order.
    pub leaves: Vec<Hash>,
}

fn read<T: borsh::BorshDeserialize>(
    chain: &dyn ChainRead,
    what: &'static str,
    key: &[u8],
) -> Result<Option<T>, IngestError> {
    let Some(bytes) = chain.get(key).map_err(IngestError::Chain)? else {
        return Ok(None);
    };
    simin_types::decode(what, &bytes, STATE_VALUE_BYTES_MAX)
        .map(Some)
        .map_err(|e| IngestError::Chain(e.to_string()))
}

/// The `seq` of the source's last committed batch (0 before its first).
pub(crate) fn committed_seq(chain: &dyn ChainRead, source: &str) -> Result<u64, IngestError> {
    Ok(read::<u64>(
        chain,
        "data source seq",
        &state_keys::data_source_seq(source),
    )?
    .unwrap_or(0))
}

/// Checks `tx` and `readings` against the chain's latest state. Cheap checks come first,
/// the signature before the per-reading work, so a forged batch costs little.
pub fn check_batch(
    chain: &dyn ChainRead,
    tx: &SignedTx,
    readings: &[Reading],
) -> Result<CheckedBatch, IngestError> {
    let Call::Data(DataCall::SubmitBatch(batch)) = &tx.tx.call else {
        return Err(IngestError::NotABatch);
    };
    if readings.is_empty() || readings.len() > limits::READINGS_PER_BATCH_MAX as usize {
        return Err(IngestError::BadCount {
            count: readings.len(),
            max: limits::READINGS_PER_BATCH_MAX,
        });
    }
    if readings.len() != batch.count as usize {
        return Err(IngestError::CountMismatch {
            declared: batch.count,
            sent: readings.len(),
        });
    }
    if batch.first_time > batch.last_time {
        return Err(IngestError::BadTimeSpan {
            first: batch.first_time,
            last: batch.last_time,
        });
    }
    let dataset: Dataset = read(chain, "dataset", &state_keys::dataset(&batch.dataset))?
        .ok_or_else(|| IngestError::UnknownDataset(batch.dataset.clone()))?;
    let source: DataSource = read(
        chain,
        "data source",
        &state_keys::data_source(&batch.source),
    )?
    .ok_or_else(|| IngestError::UnregisteredSource(batch.source.clone()))?;
    if !source.active {
        return Err(IngestError::InactiveSource(source.id));
    }
    if !source.datasets.contains(&batch.dataset) {
        return Err(IngestError::DatasetNotAllowed {
            source_id: source.id,
            dataset: batch.dataset.clone(),
        });
    }
    if tx.tx.signer != source.key {
        return Err(IngestError::WrongSigner {
            expected: source.key,
            got: tx.tx.signer,
        });
    }
    tx.verify_signature()
        .map_err(|_| IngestError::BadSignature)?;
    let committed = committed_seq(chain, &batch.source)?;
    if batch.seq <= committed {
        return Err(IngestError::Replayed {
            source_id: batch.source.clone(),
            seq: batch.seq,
            committed,
        });
    }
    if batch.seq - committed > SEQ_WINDOW {
        return Err(IngestError::SeqTooFar {
            seq: batch.seq,
            committed,
            window: SEQ_WINDOW,
        });
    }
    let (canonical, leaves) = check_readings(&dataset, batch, readings)?;
    let computed = merkle::root(&leaves);
    if computed != batch.root {
        return Err(IngestError::RootMismatch {
            declared: batch.root,
            computed,
        });
    }
    Ok(CheckedBatch {
        batch: batch.clone(),
        tx_hash: tx.hash(),
        district: source.district,
        readings: canonical,
        leaves,
    })
}

type Canonical = (Vec<(u64, String)>, Vec<Hash>);

/// Each reading against the schema and the batch's span; its canonical value and leaf.
fn check_readings(
    dataset: &Dataset,
    batch: &ReadingBatch,
    readings: &[Reading],
) -> Result<Canonical, IngestError> {
    let validator = schema::compiled(&dataset.schema)?;
    let mut canonical = Vec::with_capacity(readings.len());
    let mut leaves = Vec::with_capacity(readings.len());
    let mut leaf = ReadingLeaf {
        dataset: batch.dataset.clone(),
        source: batch.source.clone(),
        time: BlockTime(0),
        value: String::new(),
    };
    for (index, reading) in readings.iter().enumerate() {
        let time = BlockTime(reading.time_ms);
        if time < batch.first_time || time > batch.last_time {
            return Err(IngestError::TimeOutOfSpan {
                index,
                time: reading.time_ms,
                first: batch.first_time,
                last: batch.last_time,
            });
        }
        if !validator.is_valid(&reading.value) {
            let reason = validator
                .iter_errors(&reading.value)
                .take(3)
                .map(|e| {
                    let at = e.instance_path().to_string();
                    format!("at {:?}: {e}", if at.is_empty() { "/" } else { &at })
                })
                .collect::<Vec<_>>()
                .join("; ");
            return Err(IngestError::SchemaMismatch { index, reason });
        }
        let value = serde_json_canonicalizer::to_string(&reading.value).map_err(|e| {
            IngestError::SchemaMismatch {
                index,
                reason: e.to_string(),
            }
        })?;
        if value.len() > VALUE_BYTES_MAX {
            return Err(IngestError::ValueTooLarge {
                index,
                bytes: value.len(),
                max: VALUE_BYTES_MAX,
            });
        }
        leaf.time = time;
        leaf.value = value;
        leaves.push(reading_leaf(&leaf));
        canonical.push((reading.time_ms, std::mem::take(&mut leaf.value)));
    }
    Ok((canonical, leaves))
}

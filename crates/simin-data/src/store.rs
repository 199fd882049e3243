//! The reading store: one redb file per node (`data.redb` in its home).
//!
//! Tables:
//! - `readings`: `dataset 0x00 time(be64) source 0x00 seq(be64) index(be32)` → the
//!   reading's canonical value, so a dataset's time range is one range scan;
//! - `batches`: `source 0x00 seq(be64)` → the batch, its transaction and its state;
//! - `leaves`: same key → each reading's leaf hash and time, for proofs;
//! - `roots`: the batch root → its `batches` key (batches are content-addressed);
//! - `districts`: source → its district at admission, for queries by district.
//!
//! A batch is written in one transaction, and removed in one. Whether it is served is
//! decided by the chain, not by the store: a batch is `Pending` until a query finds its
//! root under `state_keys::data_batch(source, seq)` in the chain's state (then
//! `Committed`, kept so), or another root there (then `Orphaned`, never served). The
//! chain, not the node's memory of what it submitted, is the one authority.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use borsh::{BorshDeserialize, BorshSerialize};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use simin_types::data::{BatchRecord, ReadingBatch, ReadingLeaf};
use simin_types::merkle::{self, InclusionProof};
use simin_types::{state_keys, BlockTime, Hash};

use crate::ingest::ChainRead;
use crate::{CheckedBatch, IngestError, StoreError};

pub(crate) const READINGS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("readings");
const BATCHES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("batches");
const LEAVES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("leaves");
const ROOTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("roots");
const DISTRICTS: TableDefinition<&str, &str> = TableDefinition::new("districts");

/// Bytes per reading in `leaves`: a leaf hash and a big-endian time.
const LEAF_ENTRY_BYTES: usize = 40;
/// The most batch states remembered in memory; when full, the memo starts over.
const STATES_CACHED_MAX: usize = 1 << 20;

/// Where a stored batch stands with respect to the chain.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum BatchState {
    /// Admitted by this node, not (yet) on chain: not served.
    Pending,
    /// Its root is the chain's `data_batch(source, seq)`: served.
    Committed,
    /// The chain holds another batch at this `(source, seq)`: never served.
    Orphaned,
}

#[derive(Clone, Debug, BorshSerialize, BorshDeserialize)]
struct StoredBatch {
    batch: ReadingBatch,
    tx_hash: Hash,
    state: BatchState,
}

/// One reading with everything needed to check it against its batch's root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadingProof {
    /// The reading as hashed: dataset, source, time and canonical value.
    pub leaf: ReadingLeaf,
    pub seq: u64,
    /// `reading_leaf(leaf)`.
    pub leaf_hash: Hash,
    /// The path from the leaf to the batch root.
    pub path: InclusionProof,
    /// The batch as the source signed it.
    pub batch: ReadingBatch,
    pub tx_hash: Hash,
    pub state: BatchState,
}

/// A node's reading store.
#[derive(Debug)]
pub struct DataStore {
    db: Database,
    /// Final batch states (`Committed`, `Orphaned`) by `batches` key.
    states: Mutex<HashMap<Vec<u8>, BatchState>>,
    /// Sources' districts, by source id.
    districts: Mutex<HashMap<String, String>>,
}

pub(crate) fn batch_key(source: &str, seq: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(source.len() + 9);
    key.extend_from_slice(source.as_bytes());
    key.push(0);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

pub(crate) fn dataset_prefix(dataset: &str, time: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(dataset.len() + 9);
    key.extend_from_slice(dataset.as_bytes());
    key.push(0);
    key.extend_from_slice(&time.to_be_bytes());
    key
}

fn reading_key(dataset: &str, time: u64, source: &str, seq: u64, index: u32) -> Vec<u8> {
    let mut key = dataset_prefix(dataset, time);
    key.extend_from_slice(&batch_key(source, seq));
    key.extend_from_slice(&index.to_be_bytes());
    key
}

/// The parts of a `readings` key after its dataset prefix: time, the `batches` key
/// (source 0x00 seq) and the index. `None` for a malformed key.
pub(crate) fn split_reading_key(rest: &[u8]) -> Option<(u64, &[u8], &str, u64, u32)> {
    let time = u64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
    let tail = rest.get(8..)?;
    let batch = tail.get(..tail.len().checked_sub(4)?)?;
    let index = u32::from_be_bytes(tail.get(batch.len()..)?.try_into().ok()?);
    let source_len = batch.len().checked_sub(9)?;
    let source = std::str::from_utf8(batch.get(..source_len)?).ok()?;
    let seq = u64::from_be_bytes(batch.get(source_len + 1..)?.try_into().ok()?);
    Some((time, batch, source, seq, index))
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

impl DataStore {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: &Path) -> Result<DataStore, StoreError> {
        let db = Database::create(path).map_err(StoreError::db("opening the reading store"))?;
        let txn = db
            .begin_write()
            .map_err(StoreError::db("creating tables"))?;
        for table in [READINGS, BATCHES, LEAVES, ROOTS] {
            txn.open_table(table)
                .map_err(StoreError::db("creating tables"))?;
        }
        txn.open_table(DISTRICTS)
            .map_err(StoreError::db("creating tables"))?;
        txn.commit().map_err(StoreError::db("creating tables"))?;
        Ok(DataStore {
            db,
            states: Mutex::new(HashMap::new()),
            districts: Mutex::new(HashMap::new()),
        })
    }

    /// Stores an admitted batch in one transaction, replacing a `Pending` or `Orphaned`
    /// batch at the same `(source, seq)`; refuses to replace a committed one.
    pub fn put(&self, checked: &CheckedBatch) -> Result<(), StoreError> {
        let op = "storing a batch";
        let batch = &checked.batch;
        let key = batch_key(&batch.source, batch.seq);
        let txn = self.db.begin_write().map_err(StoreError::db(op))?;
        {
            let mut batches = txn.open_table(BATCHES).map_err(StoreError::db(op))?;
            let old = batches
                .get(key.as_slice())
                .map_err(StoreError::db(op))?
                .map(|v| StoredBatch::try_from_slice(v.value()))
                .transpose()
                .map_err(corrupt)?;
            if let Some(old) = old {
                if old.state == BatchState::Committed {
                    return Err(IngestError::AlreadyCommitted {
                        source_id: batch.source.clone(),
                        seq: batch.seq,
                    }
                    .into());
                }
                remove_in(&txn, &key, &old)?;
            }
            let stored = StoredBatch {
                batch: batch.clone(),
                tx_hash: checked.tx_hash,
                state: BatchState::Pending,
            };
            batches
                .insert(key.as_slice(), simin_types::encode(&stored).as_slice())
                .map_err(StoreError::db(op))?;
            let mut readings = txn.open_table(READINGS).map_err(StoreError::db(op))?;
            let mut blob = Vec::with_capacity(checked.leaves.len() * LEAF_ENTRY_BYTES);
            // A batch holds at most READINGS_PER_BATCH_MAX (65,536) readings, so a u32
            // index never wraps.
            for (index, ((time, value), leaf)) in
                (0u32..).zip(checked.readings.iter().zip(&checked.leaves))
            {
                let rk = reading_key(&batch.dataset, *time, &batch.source, batch.seq, index);
                readings
                    .insert(rk.as_slice(), value.as_bytes())
                    .map_err(StoreError::db(op))?;
                blob.extend_from_slice(leaf.as_bytes());
                blob.extend_from_slice(&time.to_be_bytes());
            }
            let mut leaves = txn.open_table(LEAVES).map_err(StoreError::db(op))?;
            leaves
                .insert(key.as_slice(), blob.as_slice())
                .map_err(StoreError::db(op))?;
            let mut roots = txn.open_table(ROOTS).map_err(StoreError::db(op))?;
            roots
                .insert(batch.root.as_bytes().as_slice(), key.as_slice())
                .map_err(StoreError::db(op))?;
            let mut districts = txn.open_table(DISTRICTS).map_err(StoreError::db(op))?;
            districts
                .insert(batch.source.as_str(), checked.district.as_str())
                .map_err(StoreError::db(op))?;
        }
        txn.commit().map_err(StoreError::db(op))?;
        self.forget(&key);
        self.districts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(batch.source.clone(), checked.district.clone());
        Ok(())
    }

    /// Removes the batch at `(source, seq)` unless it is committed (used when the
    /// mempool refuses its transaction after the readings were stored).
    pub fn remove(&self, source: &str, seq: u64) -> Result<bool, StoreError> {
        let op = "removing a batch";
        let key = batch_key(source, seq);
        let txn = self.db.begin_write().map_err(StoreError::db(op))?;
        let removed = {
            let batches = txn.open_table(BATCHES).map_err(StoreError::db(op))?;
            let old = batches
                .get(key.as_slice())
                .map_err(StoreError::db(op))?
                .map(|v| StoredBatch::try_from_slice(v.value()))
                .transpose()
                .map_err(corrupt)?;
            drop(batches);
            match old {
                Some(old) if old.state != BatchState::Committed => {
                    remove_in(&txn, &key, &old)?;
                    true
                }
                _ => false,
            }
        };
        txn.commit().map_err(StoreError::db(op))?;
        self.forget(&key);
        Ok(removed)
    }

    fn forget(&self, key: &[u8]) {
        self.states
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }

    /// The stored batch at `(source, seq)` and its state, as last recorded.
    pub fn batch(
        &self,
        source: &str,
        seq: u64,
    ) -> Result<Option<(ReadingBatch, Hash, BatchState)>, StoreError> {
        let op = "reading a batch";
        let txn = self.db.begin_read().map_err(StoreError::db(op))?;
        let table = txn.open_table(BATCHES).map_err(StoreError::db(op))?;
        let Some(value) = table
            .get(batch_key(source, seq).as_slice())
            .map_err(StoreError::db(op))?
        else {
            return Ok(None);
        };
        let stored = StoredBatch::try_from_slice(value.value()).map_err(corrupt)?;
        Ok(Some((stored.batch, stored.tx_hash, stored.state)))
    }

    /// The `batches` key of the batch with Merkle root `root`, as (source, seq).
    pub fn batch_by_root(&self, root: &Hash) -> Result<Option<(String, u64)>, StoreError> {
        let op = "reading a root";
        let txn = self.db.begin_read().map_err(StoreError::db(op))?;
        let table = txn.open_table(ROOTS).map_err(StoreError::db(op))?;
        let Some(value) = table
            .get(root.as_bytes().as_slice())
            .map_err(StoreError::db(op))?
        else {
            return Ok(None);
        };
        let key = value.value();
        let split = key
            .len()
            .checked_sub(9)
            .ok_or_else(|| corrupt("short root entry"))?;
        let source = std::str::from_utf8(&key[..split])
            .map_err(corrupt)?
            .to_owned();
        let seq = u64::from_be_bytes(key[split + 1..].try_into().map_err(corrupt)?);
        Ok(Some((source, seq)))
    }

    /// The state of the batch under `key` (`source 0x00 seq`), asking the chain when it
    /// is still pending and recording a final answer.
    pub(crate) fn state_of(
        &self,
        chain: &dyn ChainRead,
        key: &[u8],
        source: &str,
        seq: u64,
    ) -> Result<BatchState, StoreError> {
        if let Some(state) = self
            .states
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
        {
            return Ok(*state);
        }
        let Some((batch, _, recorded)) = self.batch(source, seq)? else {
            return Ok(BatchState::Orphaned);
        };
        let state = match recorded {
            BatchState::Pending => {
                let on_chain = chain
                    .get(&state_keys::data_batch(source, seq))
                    .map_err(|e| StoreError::Refused(IngestError::Chain(e)))?;
                match on_chain {
                    None => return Ok(BatchState::Pending),
                    Some(bytes) => {
                        let record: BatchRecord =
                            simin_types::decode("batch record", &bytes, 4096).map_err(corrupt)?;
                        let state = if record.batch.root == batch.root {
                            BatchState::Committed
                        } else {
                            BatchState::Orphaned
                        };
                        self.record_state(key, state)?;
                        state
                    }
                }
            }
            final_state => final_state,
        };
        let mut states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        if states.len() >= STATES_CACHED_MAX {
            states.clear();
        }
        states.insert(key.to_vec(), state);
        Ok(state)
    }

    fn record_state(&self, key: &[u8], state: BatchState) -> Result<(), StoreError> {
        let op = "recording a batch state";
        let txn = self.db.begin_write().map_err(StoreError::db(op))?;
        {
            let mut batches = txn.open_table(BATCHES).map_err(StoreError::db(op))?;
            let stored = batches
                .get(key)
                .map_err(StoreError::db(op))?
                .map(|v| StoredBatch::try_from_slice(v.value()))
                .transpose()
                .map_err(corrupt)?;
            if let Some(mut stored) = stored {
                stored.state = state;
                batches
                    .insert(key, simin_types::encode(&stored).as_slice())
                    .map_err(StoreError::db(op))?;
            }
        }
        txn.commit().map_err(StoreError::db(op))
    }

    /// The district a source had when its latest batch was admitted.
    pub fn district(&self, source: &str) -> Result<Option<String>, StoreError> {
        if let Some(d) = self
            .districts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(source)
        {
            return Ok(Some(d.clone()));
        }
        let op = "reading a district";
        let txn = self.db.begin_read().map_err(StoreError::db(op))?;
        let table = txn.open_table(DISTRICTS).map_err(StoreError::db(op))?;
        let found = table
            .get(source)
            .map_err(StoreError::db(op))?
            .map(|v| v.value().to_owned());
        if let Some(d) = &found {
            self.districts
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(source.to_owned(), d.clone());
        }
        Ok(found)
    }

    /// Reading `index` of batch `(source, seq)` with its Merkle path to the batch root;
    /// `None` when the batch or the index is unknown. The state is the chain's answer.
    pub fn proof(
        &self,
        chain: &dyn ChainRead,
        source: &str,
        seq: u64,
        index: u32,
    ) -> Result<Option<ReadingProof>, StoreError> {
        let op = "proving a reading";
        let Some((batch, tx_hash, _)) = self.batch(source, seq)? else {
            return Ok(None);
        };
        let key = batch_key(source, seq);
        let state = self.state_of(chain, &key, source, seq)?;
        let txn = self.db.begin_read().map_err(StoreError::db(op))?;
        let leaves_table = txn.open_table(LEAVES).map_err(StoreError::db(op))?;
        let Some(blob) = leaves_table
            .get(key.as_slice())
            .map_err(StoreError::db(op))?
        else {
            return Err(corrupt("a batch without leaves"));
        };
        let blob = blob.value();
        let mut leaves = Vec::with_capacity(blob.len() / LEAF_ENTRY_BYTES);
        for entry in blob.chunks_exact(LEAF_ENTRY_BYTES) {
            leaves.push(Hash::from_slice(&entry[..32]).map_err(corrupt)?);
        }
        let i = index as usize;
        let Some(entry) = blob.chunks_exact(LEAF_ENTRY_BYTES).nth(i) else {
            return Ok(None);
        };
        let time = u64::from_be_bytes(entry[32..].try_into().map_err(corrupt)?);
        let readings = txn.open_table(READINGS).map_err(StoreError::db(op))?;
        let rk = reading_key(&batch.dataset, time, source, seq, index);
        let value = readings
            .get(rk.as_slice())
            .map_err(StoreError::db(op))?
            .ok_or_else(|| corrupt("a leaf without its reading"))?;
        let value = std::str::from_utf8(value.value())
            .map_err(corrupt)?
            .to_owned();
        let path = merkle::prove(&leaves, i).ok_or_else(|| corrupt("index beyond the leaves"))?;
        let leaf = ReadingLeaf {
            dataset: batch.dataset.clone(),
            source: source.to_owned(),
            time: BlockTime(time),
            value,
        };
        Ok(Some(ReadingProof {
            leaf_hash: simin_types::data::reading_leaf(&leaf),
            leaf,
            seq,
            path,
            batch,
            tx_hash,
            state,
        }))
    }

    pub(crate) fn db(&self) -> &Database {
        &self.db
    }
}

/// Deletes a stored batch's readings, leaves, root entry and record inside `txn`.
fn remove_in(
    txn: &redb::WriteTransaction,
    key: &[u8],
    old: &StoredBatch,
) -> Result<(), StoreError> {
    let op = "removing a batch";
    let mut leaves = txn.open_table(LEAVES).map_err(StoreError::db(op))?;
    let blob = leaves
        .remove(key)
        .map_err(StoreError::db(op))?
        .map(|v| v.value().to_vec())
        .unwrap_or_default();
    let mut readings = txn.open_table(READINGS).map_err(StoreError::db(op))?;
    // At most READINGS_PER_BATCH_MAX entries, so a u32 index never wraps.
    for (index, entry) in (0u32..).zip(blob.chunks_exact(LEAF_ENTRY_BYTES)) {
        let time = u64::from_be_bytes(entry[32..].try_into().map_err(corrupt)?);
        let rk = reading_key(
            &old.batch.dataset,
            time,
            &old.batch.source,
            old.batch.seq,
            index,
        );
        readings.remove(rk.as_slice()).map_err(StoreError::db(op))?;
    }
    let mut roots = txn.open_table(ROOTS).map_err(StoreError::db(op))?;
    roots
        .remove(old.batch.root.as_bytes().as_slice())
        .map_err(StoreError::db(op))?;
    let mut batches = txn.open_table(BATCHES).map_err(StoreError::db(op))?;
    batches.remove(key).map_err(StoreError::db(op))?;
    Ok(())
}

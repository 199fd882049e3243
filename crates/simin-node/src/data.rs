//! The node's urban data feeds: the API's `DataBackend` over the reading store
//! (`data.redb` in the node's home) and the latest committed state.
//!
//! A batch is checked against the latest state, stored in one transaction, then its
//! transaction goes to the mempool by the path of `POST /v1/txs`; when the mempool
//! refuses it, the readings are removed again, so a refused batch leaves nothing. Whether
//! a stored batch is served is decided by the chain when a query meets it (see
//! `simin_data::DataStore`): the ledger records `data_batch(source, seq)` only for the
//! batch that executed, so a replayed or failed transaction's readings are never served.

use simin_api::dto::data::{BatchAccepted, ReadingProofResponse};
use simin_api::{Backend, DataBackend, DataError, SubmitError, TxOrigin};
use simin_data::{Aggregate, ChainRead, Query, Reading, StoredReading};
use simin_types::{state_keys, Height, SignedTx};

use crate::backend::NodeBackend;

/// The latest committed state, read through the node's store.
struct Latest<'a> {
    backend: &'a NodeBackend,
    height: Height,
}

impl ChainRead for Latest<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        self.backend
            .shared
            .store
            .get(key, Some(self.height))
            .map_err(|e| e.to_string())
    }
}

fn store_error(err: simin_data::StoreError) -> DataError {
    match err {
        simin_data::StoreError::Refused(e) => DataError::Refused(e),
        simin_data::StoreError::BadQuery(reason) => DataError::BadQuery(reason),
        other => {
            tracing::error!(err = %other, "reading store failure");
            DataError::Backend(simin_api::BackendError::Internal(other.to_string()))
        }
    }
}

impl NodeBackend {
    fn latest(&self) -> Latest<'_> {
        Latest {
            backend: self,
            height: self.shared.latest_height(),
        }
    }

    fn reading_store(&self) -> Result<&simin_data::DataStore, DataError> {
        self.data.as_deref().ok_or_else(|| {
            DataError::Backend(simin_api::BackendError::Unavailable(
                "this node keeps no reading store".into(),
            ))
        })
    }
}

impl DataBackend for NodeBackend {
    fn submit_batch(
        &self,
        tx: SignedTx,
        readings: Vec<Reading>,
    ) -> Result<BatchAccepted, DataError> {
        let store = self.reading_store()?;
        let checked = simin_data::check_batch(&self.latest(), &tx, &readings)?;
        store.put(&checked).map_err(store_error)?;
        let batch = &checked.batch;
        match self.submit_tx(tx, TxOrigin::Client(None)) {
            // The same transaction again: its readings are the ones already stored.
            Ok(_) | Err(SubmitError::Duplicate) => Ok(BatchAccepted {
                tx_hash: checked.tx_hash,
                root: batch.root,
                source: batch.source.clone(),
                seq: batch.seq,
                count: batch.count,
            }),
            Err(e) => {
                if let Err(err) = store.remove(&batch.source, batch.seq) {
                    tracing::error!(%err, source = %batch.source, seq = batch.seq, "removing a refused batch");
                }
                Err(DataError::Submit(e))
            }
        }
    }

    fn readings(&self, query: &Query) -> Result<Vec<StoredReading>, DataError> {
        self.reading_store()?
            .readings(&self.latest(), query)
            .map_err(store_error)
    }

    fn aggregate(
        &self,
        query: &Query,
        field: &str,
        interval_ms: u64,
    ) -> Result<Aggregate, DataError> {
        self.reading_store()?
            .aggregate(&self.latest(), query, field, interval_ms)
            .map_err(store_error)
    }

    fn reading_proof(
        &self,
        dataset: &str,
        source: &str,
        seq: u64,
        index: u32,
    ) -> Result<Option<ReadingProofResponse>, DataError> {
        let latest = self.latest();
        let Some(reading) = self
            .reading_store()?
            .proof(&latest, source, seq, index)
            .map_err(store_error)?
        else {
            return Ok(None);
        };
        if reading.batch.dataset != dataset || reading.state != simin_data::BatchState::Committed {
            return Ok(None);
        }
        let batch_state = self
            .state(
                &state_keys::data_batch(source, seq),
                Some(latest.height),
                true,
            )
            .map_err(DataError::Backend)?;
        Ok(Some(ReadingProofResponse {
            reading,
            batch_state,
        }))
    }
}

/// Opens the reading store in the node's home; logs and goes on without it on failure.
pub(crate) fn open_store(home: &crate::Home) -> Option<std::sync::Arc<simin_data::DataStore>> {
    let path = home.root().join("data.redb");
    match simin_data::DataStore::open(&path) {
        Ok(store) => Some(std::sync::Arc::new(store)),
        Err(err) => {
            tracing::error!(%err, path = %path.display(), "cannot open the reading store");
            None
        }
    }
}

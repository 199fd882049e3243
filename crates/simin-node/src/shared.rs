//! What the consensus application and the API share inside one node.

use std::sync::{Arc, Mutex, MutexGuard};

use simin_ledger::LedgerError;
use simin_state::Store;
use simin_types::{ChainId, Height, ValidatorSet};
use tokio::sync::watch;

use crate::mempool::Mempool;
use crate::metrics::Metrics;
use crate::relay::Relay;
use crate::view::StoreView;

/// State shared by the consensus loop (writer) and the API (readers).
#[derive(Debug)]
pub(crate) struct Shared {
    pub chain_id: ChainId,
    pub store: Store,
    /// The validator set of the highest height asked so far, with that height: the
    /// consensus loop asks for the same set several times per height. Sets of committed
    /// states never change, so an entry never goes stale.
    pub validators: Mutex<Option<(Height, ValidatorSet)>>,
    pub mempool: Mutex<Mempool>,
    /// The last committed height, for waiters on a commit.
    pub tip: watch::Sender<Height>,
    pub metrics: Arc<Metrics>,
    /// Passes client transactions on to peers; `None` without peers.
    pub relay: Option<Relay>,
}

impl Shared {
    pub fn mempool(&self) -> MutexGuard<'_, Mempool> {
        // A panic while holding the lock leaves a consistent mempool (every method keeps
        // its invariants before returning), so a poisoned lock is still usable.
        self.mempool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn latest_height(&self) -> Height {
        *self.tip.borrow()
    }

    /// The validator set that decides `height`, i.e. that signs its header: the one in
    /// the state after block `height - 1` (`state_keys::validator_set`). Height 0 has no
    /// deciding set and answers with the genesis set, as height 1 does.
    pub fn validators_at(&self, height: Height) -> Result<ValidatorSet, LedgerError> {
        let mut cache = self
            .validators
            .lock()
            // Holders only replace the entry whole, so a poisoned lock is still consistent.
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((cached, set)) = cache.as_ref() {
            if *cached == height {
                return Ok(set.clone());
            }
        }
        let before = Height(height.0.saturating_sub(1));
        let set = simin_ledger::validator_set(&self.view_at(before))?;
        if cache.as_ref().is_none_or(|(cached, _)| *cached < height) {
            *cache = Some((height, set.clone()));
        }
        Ok(set)
    }

    pub fn view_at(&self, height: Height) -> StoreView<'_> {
        StoreView {
            store: &self.store,
            height,
        }
    }
}

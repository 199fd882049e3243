//! What the consensus application and the API share inside one node.

use std::sync::{Mutex, MutexGuard};

use simin_state::Store;
use simin_types::{ChainId, Height, ValidatorSet};
use tokio::sync::watch;

use crate::mempool::Mempool;
use crate::metrics::Metrics;
use crate::view::StoreView;

/// State shared by the consensus loop (writer) and the API (readers).
#[derive(Debug)]
pub(crate) struct Shared {
    pub chain_id: ChainId,
    pub store: Store,
    /// The validator set from genesis; validator changes arrive with a later issue.
    pub validators: ValidatorSet,
    pub mempool: Mutex<Mempool>,
    /// The last committed height, for waiters on a commit.
    pub tip: watch::Sender<Height>,
    pub metrics: Metrics,
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

    pub fn view_at(&self, height: Height) -> StoreView<'_> {
        StoreView {
            store: &self.store,
            height,
        }
    }
}

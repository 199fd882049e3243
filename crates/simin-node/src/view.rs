//! The ledger's view of the store: the committed state at one height.

use simin_ledger::{StateReadError, StateView};
use simin_state::Store;
use simin_types::Height;

/// Reads the committed state after block `height` (genesis is height 0).
pub(crate) struct StoreView<'a> {
    pub store: &'a Store,
    pub height: Height,
}

impl StateView for StoreView<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateReadError> {
        self.store
            .get(key, Some(self.height))
            .map_err(|e| StateReadError {
                key: key.to_vec(),
                reason: e.to_string(),
            })
    }
}

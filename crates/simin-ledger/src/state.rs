//! Reading state through a trait, and write sets layered over it.

use std::collections::BTreeMap;
use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use simin_types::{decode, encode};

use crate::{LedgerError, StateReadError};

/// Read access to a version of the authenticated state; the node implements it over its
/// store, tests over [`MemoryState`]. Must answer the same for the same key every time.
pub trait StateView {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateReadError>;
}

impl<T: StateView + ?Sized> StateView for &T {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateReadError> {
        (**self).get(key)
    }
}

/// The changes a block makes to state, in key order: `Some(value)` sets, `None` deletes.
pub type WriteSet = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// The most bytes a stored value may have when read back. The ledger writes every value
/// itself, so this only keeps a corrupt store from causing a huge allocation.
const STATE_VALUE_BYTES_MAX: usize = 1 << 20;

/// Pending writes over a base view; reads see the pending writes first. Nesting one
/// overlay over another gives a transaction scope that can be kept or dropped.
pub(crate) struct Overlay<'a> {
    base: &'a dyn StateView,
    writes: WriteSet,
}

impl<'a> Overlay<'a> {
    pub(crate) fn new(base: &'a dyn StateView) -> Overlay<'a> {
        Overlay {
            base,
            writes: WriteSet::new(),
        }
    }

    pub(crate) fn put<T: BorshSerialize>(&mut self, key: Vec<u8>, value: &T) {
        self.writes.insert(key, Some(encode(value)));
    }

    pub(crate) fn delete(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }

    /// Takes over the writes of an inner scope, later writes winning.
    pub(crate) fn absorb(&mut self, writes: WriteSet) {
        self.writes.extend(writes);
    }

    pub(crate) fn into_writes(self) -> WriteSet {
        self.writes
    }
}

impl StateView for Overlay<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateReadError> {
        match self.writes.get(key) {
            Some(pending) => Ok(pending.clone()),
            None => self.base.get(key),
        }
    }
}

impl fmt::Debug for Overlay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Overlay")
            .field("writes", &self.writes.len())
            .finish_non_exhaustive()
    }
}

/// Reads and decodes one value; an undecodable value is a corrupt state, not a bad input.
pub(crate) fn read<T: BorshDeserialize>(
    view: &dyn StateView,
    key: &[u8],
    what: &'static str,
) -> Result<Option<T>, LedgerError> {
    let Some(bytes) = view.get(key)? else {
        return Ok(None);
    };
    decode(what, &bytes, STATE_VALUE_BYTES_MAX)
        .map(Some)
        .map_err(|e| LedgerError::CorruptState {
            key: key.escape_ascii().to_string(),
            what,
            reason: e.to_string(),
        })
}

/// A state held in memory: for tests, fixtures and tools. Applies write sets in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryState {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemoryState {
    pub fn new() -> MemoryState {
        MemoryState::default()
    }

    /// Applies a write set: sets every `Some`, removes every `None`.
    pub fn apply(&mut self, writes: &WriteSet) {
        for (key, value) in writes {
            match value {
                Some(value) => self.entries.insert(key.clone(), value.clone()),
                None => self.entries.remove(key),
            };
        }
    }

    pub fn entries(&self) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        &self.entries
    }
}

impl StateView for MemoryState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateReadError> {
        Ok(self.entries.get(key).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_reads_its_writes_first_and_deletes_hide_the_base() {
        let mut base = MemoryState::new();
        base.apply(&WriteSet::from([
            (b"a".to_vec(), Some(vec![1])),
            (b"b".to_vec(), Some(vec![2])),
        ]));
        let mut overlay = Overlay::new(&base);
        overlay.put(b"a".to_vec(), &7u8);
        overlay.delete(b"b".to_vec());
        assert_eq!(overlay.get(b"a"), Ok(Some(vec![7])));
        assert_eq!(overlay.get(b"b"), Ok(None));
        let mut inner = Overlay::new(&overlay);
        inner.put(b"c".to_vec(), &9u8);
        assert_eq!(inner.get(b"a"), Ok(Some(vec![7])));
        let inner_writes = inner.into_writes();
        overlay.absorb(inner_writes);
        base.apply(&overlay.into_writes());
        assert_eq!(base.get(b"b"), Ok(None));
        assert_eq!(base.get(b"c"), Ok(Some(vec![9])));
    }

    #[test]
    fn an_undecodable_value_is_a_corrupt_state() {
        let mut base = MemoryState::new();
        base.apply(&WriteSet::from([(b"n".to_vec(), Some(vec![1, 2]))]));
        let got = read::<u64>(&base, b"n", "account nonce");
        assert!(matches!(
            got,
            Err(LedgerError::CorruptState {
                what: "account nonce",
                ..
            })
        ));
    }
}

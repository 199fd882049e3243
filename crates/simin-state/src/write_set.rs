//! The writes of one block (or of genesis) to the authenticated state, and their limits.

use std::collections::BTreeMap;

use crate::StoreError;

/// Longest state key. Keys are short structured paths (`acct/nonce/<32 bytes>`, ...).
pub const KEY_BYTES_MAX: usize = 1024;
/// Largest state value (a validator set of 256 members is about 10 KiB).
pub const VALUE_BYTES_MAX: usize = 1024 * 1024;
/// Most keys written by one block: far above what `BLOCK_BYTES_MAX` lets a block cause.
pub const WRITE_SET_KEYS_MAX: usize = 1 << 20;

/// Writes of one block: key -> `Some(value)` (insert or replace) or `None` (delete).
///
/// A `BTreeMap`, so iteration order (and hence everything derived from it) is
/// deterministic. Deleting a key that does not exist is allowed and changes nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteSet(pub BTreeMap<Vec<u8>, Option<Vec<u8>>>);

impl WriteSet {
    pub fn new() -> WriteSet {
        WriteSet::default()
    }

    /// Records that `key` takes `value`, replacing any earlier write of the same key.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.0.insert(key.into(), Some(value.into()));
    }

    /// Records that `key` is deleted, replacing any earlier write of the same key.
    pub fn delete(&mut self, key: impl Into<Vec<u8>>) {
        self.0.insert(key.into(), None);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Checks the limits: at most `WRITE_SET_KEYS_MAX` keys, each 1 to `KEY_BYTES_MAX`
    /// bytes, each value at most `VALUE_BYTES_MAX` bytes. Empty keys are refused because
    /// ICS-23 non-existence proofs over jmt are unsound for them.
    pub fn check(&self) -> Result<(), StoreError> {
        if self.0.len() > WRITE_SET_KEYS_MAX {
            return Err(StoreError::WriteSetTooLarge {
                len: self.0.len(),
                max: WRITE_SET_KEYS_MAX,
            });
        }
        for (key, value) in &self.0 {
            check_key(key)?;
            if let Some(value) = value {
                if value.len() > VALUE_BYTES_MAX {
                    return Err(StoreError::ValueTooLarge {
                        len: value.len(),
                        max: VALUE_BYTES_MAX,
                    });
                }
            }
        }
        Ok(())
    }
}

impl FromIterator<(Vec<u8>, Option<Vec<u8>>)> for WriteSet {
    fn from_iter<I: IntoIterator<Item = (Vec<u8>, Option<Vec<u8>>)>>(iter: I) -> Self {
        WriteSet(iter.into_iter().collect())
    }
}

/// Checks that a key is 1 to `KEY_BYTES_MAX` bytes.
pub(crate) fn check_key(key: &[u8]) -> Result<(), StoreError> {
    if key.is_empty() || key.len() > KEY_BYTES_MAX {
        return Err(StoreError::KeyLength {
            len: key.len(),
            max: KEY_BYTES_MAX,
        });
    }
    Ok(())
}

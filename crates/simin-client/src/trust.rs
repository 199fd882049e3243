//! Trust anchors: the chain id and validator set a client checks certificates against,
//! read from a genesis file or pinned on first use (TOFU) in a small JSON store.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use simin_types::{ChainId, Genesis, Hash, ValidatorSet};

use crate::TrustError;

/// Largest genesis or pinned-anchor file read (the node's own genesis limit).
const TRUST_FILE_BYTES_MAX: usize = simin_state::GENESIS_BYTES_MAX;

/// What a client trusts: the validator set of one chain. A certificate carrying more
/// than two thirds of this set's voting power makes a header trusted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustAnchor {
    pub chain_id: ChainId,
    pub validators: ValidatorSet,
}

impl TrustAnchor {
    /// The first validator set of the chain described by the genesis file at `path`.
    pub fn from_genesis_file(path: &Path) -> Result<TrustAnchor, TrustError> {
        let bytes = read_bounded(path)?;
        TrustAnchor::from_genesis_json(&bytes).map_err(|reason| TrustError::Invalid {
            what: "genesis",
            path: path.to_owned(),
            reason,
        })
    }

    /// The same, from the genesis document's bytes.
    pub fn from_genesis_json(json: &[u8]) -> Result<TrustAnchor, String> {
        let genesis: Genesis = serde_json::from_slice(json).map_err(|e| e.to_string())?;
        let validators = genesis.validate().map_err(|e| e.to_string())?;
        Ok(TrustAnchor {
            chain_id: genesis.chain_id,
            validators,
        })
    }

    /// Hash of the trusted validator set (what a header's `validators_hash` must be).
    pub fn validators_hash(&self) -> Hash {
        self.validators.hash()
    }
}

/// Trust anchors pinned on first use, one JSON file per chain: `<dir>/<chain_id>.json`.
#[derive(Clone, Debug)]
pub struct TrustStore {
    dir: PathBuf,
}

/// Whether [`TrustStore::trust_on_first_use`] pinned a new anchor or found one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pinning {
    /// No anchor was pinned for the chain; the offered one now is.
    NewlyPinned,
    /// The offered validator set is the one pinned before.
    AlreadyPinned,
}

impl TrustStore {
    pub fn new(dir: impl Into<PathBuf>) -> TrustStore {
        TrustStore { dir: dir.into() }
    }

    /// `~/.simin/trusted`, from `HOME`.
    pub fn default_dir() -> Result<PathBuf, TrustError> {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .ok_or(TrustError::NoHome)?;
        Ok(PathBuf::from(home).join(".simin").join("trusted"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the anchor of `chain_id` is kept. Chain ids hold only `a-z0-9.-` and start
    /// alphanumeric, so the name never leaves the directory.
    pub fn path(&self, chain_id: &ChainId) -> PathBuf {
        self.dir.join(format!("{}.json", chain_id.as_str()))
    }

    /// The pinned anchor of `chain_id`, if any.
    pub fn load(&self, chain_id: &ChainId) -> Result<Option<TrustAnchor>, TrustError> {
        let path = self.path(chain_id);
        if !path.exists() {
            return Ok(None);
        }
        let bytes = read_bounded(&path)?;
        let anchor: TrustAnchor =
            serde_json::from_slice(&bytes).map_err(|e| TrustError::Invalid {
                what: "trust anchor",
                path: path.clone(),
                reason: e.to_string(),
            })?;
        if anchor.chain_id != *chain_id {
            return Err(TrustError::Invalid {
                what: "trust anchor",
                path,
                reason: format!("it is for chain {}, not {chain_id}", anchor.chain_id),
            });
        }
        Ok(Some(anchor))
    }

    /// Writes `anchor`, replacing any pinned one (write to a temporary file, then rename).
    pub fn save(&self, anchor: &TrustAnchor) -> Result<PathBuf, TrustError> {
        let path = self.path(&anchor.chain_id);
        let write = |source| TrustError::Write {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(write)?;
        let json = serde_json::to_vec_pretty(anchor)
            .expect("a trust anchor serializes because it is plain data");
        let tmp = path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&tmp).map_err(write)?;
        file.write_all(&json).map_err(write)?;
        file.sync_all().map_err(write)?;
        std::fs::rename(&tmp, &path).map_err(write)?;
        Ok(path)
    }

    /// Trust on first use: pins `offered` if nothing is pinned for its chain, accepts it
    /// if it is what was pinned, and refuses a different validator set.
    pub fn trust_on_first_use(&self, offered: &TrustAnchor) -> Result<Pinning, TrustError> {
        match self.load(&offered.chain_id)? {
            None => {
                self.save(offered)?;
                Ok(Pinning::NewlyPinned)
            }
            Some(pinned) if pinned == *offered => Ok(Pinning::AlreadyPinned),
            Some(pinned) => Err(TrustError::PinMismatch {
                chain_id: offered.chain_id.to_string(),
                pinned: pinned.validators_hash().to_hex(),
                offered: offered.validators_hash().to_hex(),
                path: self.path(&offered.chain_id),
            }),
        }
    }
}

/// Reads a small file, refusing more than `TRUST_FILE_BYTES_MAX`.
fn read_bounded(path: &Path) -> Result<Vec<u8>, TrustError> {
    let read = |source| TrustError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read)?;
    let max = u64::try_from(TRUST_FILE_BYTES_MAX).unwrap_or(u64::MAX);
    let mut bytes = Vec::new();
    // Read one byte past the limit to tell "exactly at the limit" from "over it".
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read)?;
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if len > max {
        return Err(TrustError::TooLarge {
            path: path.to_owned(),
            len,
            max,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use simin_types::{SigningKey, Validator};

    fn anchor(seed: u8) -> TrustAnchor {
        let key = SigningKey::from_seed([seed; 32]);
        TrustAnchor {
            chain_id: ChainId::new("simin-test").expect("a valid id"),
            validators: ValidatorSet::new(vec![Validator {
                public_key: key.public_key(),
                voting_power: 1,
            }])
            .expect("a valid set"),
        }
    }

    #[test]
    fn first_use_pins_and_a_different_set_is_refused() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let store = TrustStore::new(dir.path().join("trusted"));
        assert_eq!(
            store.trust_on_first_use(&anchor(1)).expect("pins"),
            Pinning::NewlyPinned
        );
        assert_eq!(
            store.trust_on_first_use(&anchor(1)).expect("same set"),
            Pinning::AlreadyPinned
        );
        assert!(matches!(
            store.trust_on_first_use(&anchor(2)),
            Err(TrustError::PinMismatch { .. })
        ));
        assert_eq!(
            store.load(&anchor(1).chain_id).expect("reads"),
            Some(anchor(1))
        );
    }
}

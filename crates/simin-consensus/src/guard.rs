//! The sign guard: what this validator has signed, kept on disk, so that it never signs
//! two different votes or proposals for the same height, round and kind, nor anything for
//! a height below one it has signed for, whatever happens to the engine's WAL.
//!
//! Malachite's WAL replays a validator's own votes after a restart, and the host never
//! asks the engine to restart a height; the guard is the last line behind both. Every new
//! entry is written and fsynced before its signature leaves the signer: a crash can lose
//! a signature that was never sent, never the record of one that was.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use borsh::{BorshDeserialize, BorshSerialize};
use simin_crypto::Hash;

/// What is signed at one (round, slot) of a height.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub enum Slot {
    Proposal,
    Prevote,
    Precommit,
}

impl std::fmt::Display for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Slot::Proposal => "proposal",
            Slot::Prevote => "prevote",
            Slot::Precommit => "precommit",
        })
    }
}

/// Why the guard refused to let a message be signed.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error(
        "refusing to sign a {slot} for height {height}: this validator already signed for height {signed}"
    )]
    PastHeight {
        slot: Slot,
        height: u64,
        signed: u64,
    },
    #[error(
        "refusing to sign a second, different {slot} at height {height} round {round}: that would be equivocation"
    )]
    Conflict { slot: Slot, height: u64, round: u32 },
    #[error("the sign guard at {path} is damaged ({reason}); restore it, never delete it")]
    Damaged { path: PathBuf, reason: String },
    #[error("cannot write the sign guard at {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

const MAGIC: &[u8; 8] = b"simin-sg";
const VERSION: u8 = 1;

/// The signatures of the highest height this validator has signed anything for.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
struct Record {
    height: u64,
    /// (round, slot) → the value signed; `None` is a nil vote.
    signed: BTreeMap<(u32, Slot), Option<Hash>>,
}

/// The guard of one validator key, shared by every clone of its signer.
#[derive(Debug)]
pub struct SignGuard {
    path: PathBuf,
    record: Mutex<Record>,
}

impl SignGuard {
    /// Opens the guard at `path`, empty if the file does not exist yet (a new validator).
    /// A file that exists but does not decode is an error: starting afresh could sign
    /// what was signed before.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, GuardError> {
        let path = path.into();
        let record = match fs::read(&path) {
            Ok(bytes) => decode(&path, &bytes)?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Record::default(),
            Err(source) => return Err(GuardError::Io { path, source }),
        };
        Ok(Self {
            path,
            record: Mutex::new(record),
        })
    }

    /// The highest height anything was signed for (0 before the first signature).
    pub fn height(&self) -> u64 {
        self.lock().height
    }

    /// Allows signing `value` at (height, round, slot) if that conflicts with nothing
    /// signed before, recording it durably first. Signing the same thing again is allowed
    /// (ed25519 is deterministic, so the signature is the same one).
    pub fn admit(
        &self,
        height: u64,
        round: u32,
        slot: Slot,
        value: Option<Hash>,
    ) -> Result<(), GuardError> {
        let mut record = self.lock();
        if height < record.height {
            return Err(GuardError::PastHeight {
                slot,
                height,
                signed: record.height,
            });
        }
        let mut next = if height > record.height {
            Record {
                height,
                signed: BTreeMap::new(),
            }
        } else {
            match record.signed.get(&(round, slot)) {
                Some(signed) if *signed == value => return Ok(()),
                Some(_) => {
                    return Err(GuardError::Conflict {
                        slot,
                        height,
                        round,
                    })
                }
                None => record.clone(),
            }
        };
        next.signed.insert((round, slot), value);
        write_durably(&self.path, &encode(&next))?;
        *record = next;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Record> {
        // A panic while holding the lock cannot leave a half-updated record: the record
        // is replaced only after the write succeeded.
        self.record
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn encode(record: &Record) -> Vec<u8> {
    let body = borsh::to_vec(record).expect("borsh encoding into a Vec cannot fail");
    let mut bytes = Vec::with_capacity(MAGIC.len() + 1 + body.len() + 32);
    bytes.extend_from_slice(MAGIC);
    bytes.push(VERSION);
    bytes.extend_from_slice(&body);
    bytes.extend_from_slice(Hash::digest(&bytes).as_bytes());
    bytes
}

fn decode(path: &Path, bytes: &[u8]) -> Result<Record, GuardError> {
    let damaged = |reason: &str| GuardError::Damaged {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    let header = MAGIC.len() + 1;
    if bytes.len() < header + 32 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(damaged("not a sign guard file"));
    }
    if bytes[MAGIC.len()] != VERSION {
        return Err(damaged("unknown version"));
    }
    let (content, checksum) = bytes.split_at(bytes.len() - 32);
    if Hash::digest(content).as_bytes() != checksum {
        return Err(damaged("checksum mismatch"));
    }
    borsh::from_slice(&content[header..]).map_err(|err| damaged(&err.to_string()))
}

/// Replaces `path` atomically: write a sibling, fsync it, rename it over, fsync the folder.
fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), GuardError> {
    let io = |source| GuardError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(dir).map_err(io)?;
    let tmp = path.with_extension("tmp");
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    fs::rename(&tmp, path).map_err(io)?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(byte: u8) -> Option<Hash> {
        Some(Hash::digest(&[byte]))
    }

    #[test]
    fn a_conflicting_vote_is_refused_across_a_restart() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("sign_guard");
        let guard = SignGuard::open(&path).expect("the guard opens");
        guard
            .admit(7, 3, Slot::Prevote, value(1))
            .expect("the guard admits it");
        guard
            .admit(7, 3, Slot::Precommit, value(1))
            .expect("the guard admits it");
        drop(guard);

        let guard = SignGuard::open(&path).expect("the guard opens");
        assert_eq!(guard.height(), 7);
        // The same votes again: allowed (a replay signs the same bytes).
        guard
            .admit(7, 3, Slot::Prevote, value(1))
            .expect("the guard admits it");
        // Another value, or nil, in the same round: refused.
        assert!(matches!(
            guard.admit(7, 3, Slot::Prevote, value(2)),
            Err(GuardError::Conflict { round: 3, .. })
        ));
        assert!(matches!(
            guard.admit(7, 3, Slot::Precommit, None),
            Err(GuardError::Conflict { .. })
        ));
        // A later round of the same height is a new slot.
        guard
            .admit(7, 4, Slot::Prevote, value(2))
            .expect("the guard admits it");
        // A lower height never again.
        assert!(matches!(
            guard.admit(6, 9, Slot::Prevote, value(3)),
            Err(GuardError::PastHeight { signed: 7, .. })
        ));
        // A higher height starts afresh.
        guard
            .admit(8, 0, Slot::Proposal, value(4))
            .expect("the guard admits it");
        assert!(guard.admit(7, 5, Slot::Prevote, value(2)).is_err());
    }

    #[test]
    fn a_damaged_guard_is_refused_not_reset() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("sign_guard");
        SignGuard::open(&path)
            .expect("test set-up")
            .admit(3, 0, Slot::Prevote, value(1))
            .expect("the guard admits it");
        let mut bytes = fs::read(&path).expect("the guard file reads");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x40;
        fs::write(&path, &bytes).expect("the guard file writes");
        assert!(matches!(
            SignGuard::open(&path),
            Err(GuardError::Damaged { .. })
        ));
        fs::write(&path, b"").expect("the guard file writes");
        assert!(matches!(
            SignGuard::open(&path),
            Err(GuardError::Damaged { .. })
        ));
    }
}

//! The proposals of undecided heights, kept on disk so that they survive a restart.
//!
//! The engine's WAL remembers which values this validator saw and voted for, but not the
//! blocks behind them. Without the blocks, a value decided after a restart cannot be
//! committed or restreamed, and the height stalls until a peer serves it. Every valid
//! block this node proposed or received for the height being decided is written here
//! (one file per block, fsynced, replaced atomically) before it is published or voted
//! on, and removed once its height is committed.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use borsh::{BorshDeserialize, BorshSerialize};
use simin_types::limits::BLOCK_BYTES_MAX;
use tracing::warn;

use crate::messages::{PartFin, PartInit, ProposalPart};
use crate::types::{BlockId, ConsensusHeight};

/// Most files read back at start-up: heights are pruned as they commit, so more than
/// this means the folder is not ours.
const FILES_MAX: usize = 4096;

/// A block as it was streamed, and whether this node built it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct StoredProposal {
    pub own: bool,
    pub parts: Vec<ProposalPart>,
}

impl StoredProposal {
    pub(crate) fn init(&self) -> Option<&PartInit> {
        match self.parts.first() {
            Some(ProposalPart::Init(init)) => Some(init),
            _ => None,
        }
    }

    pub(crate) fn fin(&self) -> Option<&PartFin> {
        match self.parts.last() {
            Some(ProposalPart::Fin(fin)) => Some(fin),
            _ => None,
        }
    }

    /// The encoded block the `Data` parts carry.
    pub(crate) fn block_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for part in &self.parts {
            if let ProposalPart::Data(chunk) = part {
                bytes.extend_from_slice(chunk);
            }
        }
        bytes
    }
}

/// Why the proposal store could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProposalStoreError {
    #[error("cannot use the proposal store at {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the proposal store at {path} holds more than {max} files; it is not simin's")]
    TooManyFiles { path: PathBuf, max: usize },
}

/// One folder of proposal files, named `<height>-<block hash>.proposal`.
#[derive(Debug)]
pub(crate) struct ProposalStore {
    dir: PathBuf,
}

impl ProposalStore {
    pub(crate) fn open(dir: PathBuf) -> Result<Self, ProposalStoreError> {
        fs::create_dir_all(&dir).map_err(|source| ProposalStoreError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Self { dir })
    }

    fn file(&self, height: ConsensusHeight, id: &BlockId) -> PathBuf {
        self.dir
            .join(format!("{:020}-{}.proposal", height.0, id.0.to_hex()))
    }

    /// Writes a proposal durably; on return it survives a crash.
    pub(crate) fn put(
        &self,
        height: ConsensusHeight,
        id: &BlockId,
        proposal: &StoredProposal,
    ) -> Result<(), ProposalStoreError> {
        let path = self.file(height, id);
        let io = |source| ProposalStoreError::Io {
            path: path.clone(),
            source,
        };
        let bytes = borsh::to_vec(proposal).map_err(io)?;
        let tmp = path.with_extension("tmp");
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(io)?;
        file.write_all(&bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        fs::rename(&tmp, &path).map_err(io)?;
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io)
    }

    /// Every stored proposal above `committed`, oldest height first. Files that do not
    /// decode (a crash cannot make one, a damaged disk can) are skipped with a warning:
    /// a missing proposal only costs a fetch from a peer.
    pub(crate) fn load(
        &self,
        committed: ConsensusHeight,
    ) -> Result<Vec<(ConsensusHeight, StoredProposal)>, ProposalStoreError> {
        let io = |source| ProposalStoreError::Io {
            path: self.dir.clone(),
            source,
        };
        let mut found = Vec::new();
        for (count, entry) in fs::read_dir(&self.dir).map_err(io)?.enumerate() {
            if count >= FILES_MAX {
                return Err(ProposalStoreError::TooManyFiles {
                    path: self.dir.clone(),
                    max: FILES_MAX,
                });
            }
            let path = entry.map_err(io)?.path();
            let Some(height) = file_height(&path) else {
                continue;
            };
            if height.0 <= committed.0 {
                remove(&path);
                continue;
            }
            match read(&path) {
                Some(proposal) => found.push((height, proposal)),
                None => warn!(path = %path.display(), "skipping an unreadable stored proposal"),
            }
        }
        found.sort_by_key(|(height, _)| height.0);
        Ok(found)
    }

    /// Removes the proposals of every height up to `committed`.
    pub(crate) fn prune(&self, committed: ConsensusHeight) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten().take(FILES_MAX) {
            let path = entry.path();
            if file_height(&path).is_some_and(|height| height.0 <= committed.0) {
                remove(&path);
            }
        }
    }
}

fn file_height(path: &Path) -> Option<ConsensusHeight> {
    if path.extension()? != "proposal" {
        return None;
    }
    let name = path.file_stem()?.to_str()?;
    let (height, _) = name.split_once('-')?;
    height.parse().ok().map(ConsensusHeight)
}

fn read(path: &Path) -> Option<StoredProposal> {
    let len = fs::metadata(path).ok()?.len();
    // A stored proposal is one block plus a little framing per part.
    let max = u64::try_from(BLOCK_BYTES_MAX.saturating_mul(2)).unwrap_or(u64::MAX);
    if len > max {
        return None;
    }
    let bytes = fs::read(path).ok()?;
    let proposal: StoredProposal = borsh::from_slice(&bytes).ok()?;
    (proposal.init().is_some() && proposal.fin().is_some()).then_some(proposal)
}

fn remove(path: &Path) {
    if let Err(err) = fs::remove_file(path) {
        if err.kind() != std::io::ErrorKind::NotFound {
            warn!(%err, path = %path.display(), "cannot remove a stored proposal");
        }
    }
}

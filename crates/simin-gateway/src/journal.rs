//! The access log's write-ahead journal: one redb file holding every access entry that
//! was released but is not known to be on chain yet.
//!
//! An entry is written, and the write made durable (redb's default `Immediate`
//! durability syncs the file before `commit` returns), before the token that releases the
//! claims is handed out; it is deleted once the transaction carrying it committed. A
//! provider killed in between finds the entry here at its next start and replays it,
//! after checking the chain so that an entry whose transaction did land is not logged
//! twice (see `access_log::recover`).
//!
//! Besides the entries, the journal keeps the highest nonce and expiry height of the
//! access-log transactions ever sent: a replay waits until none of them can still
//! commit, so that the chain check it relies on is final.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use simin_types::limits::TX_BYTES_MAX;
use simin_types::{decode, encode, AccessEntry};

use crate::error::GatewayError;

/// Entries not yet known committed, by their journal sequence number.
const PENDING: TableDefinition<u64, &[u8]> = TableDefinition::new("pending_access_entries");
/// Counters: the next sequence number and the in-flight watermark.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const NEXT_SEQ: &str = "next_seq";
const IN_FLIGHT_NONCE: &str = "in_flight_nonce_max";
const IN_FLIGHT_EXPIRY: &str = "in_flight_expiry_height_max";

/// The highest nonce and expiry height of the access-log transactions sent so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct InFlight {
    pub nonce_max: u64,
    pub expiry_height_max: u64,
}

/// The durable queue. Every method blocks on the disk: call it from a blocking thread.
#[derive(Debug)]
pub(crate) struct Journal {
    db: Mutex<Database>,
    /// Entries held now; kept beside the table so that the room check needs no read.
    len: AtomicUsize,
    capacity: usize,
}

fn db_error<E: std::fmt::Display>(op: &'static str) -> impl FnOnce(E) -> GatewayError {
    move |e| GatewayError::Journal {
        op,
        reason: e.to_string(),
    }
}

impl Journal {
    /// Opens (or creates) the journal at `path`, holding at most `capacity` entries; the
    /// entries it already holds (from a previous run), oldest first.
    pub fn open(
        path: &Path,
        capacity: usize,
    ) -> Result<(Journal, Vec<(u64, AccessEntry)>), GatewayError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(db_error("creating its directory"))?;
        }
        let db = Database::create(path).map_err(db_error("opening"))?;
        let txn = db.begin_write().map_err(db_error("creating tables"))?;
        txn.open_table(PENDING)
            .map_err(db_error("creating tables"))?;
        txn.open_table(META).map_err(db_error("creating tables"))?;
        txn.commit().map_err(db_error("creating tables"))?;
        let mut pending = Vec::new();
        {
            let read = db.begin_read().map_err(db_error("reading"))?;
            let table = read.open_table(PENDING).map_err(db_error("reading"))?;
            for row in table.iter().map_err(db_error("reading"))? {
                let (seq, bytes) = row.map_err(db_error("reading"))?;
                let entry: AccessEntry =
                    decode("a journaled access entry", bytes.value(), TX_BYTES_MAX).map_err(
                        |e| GatewayError::Journal {
                            op: "decoding an entry",
                            reason: e.to_string(),
                        },
                    )?;
                pending.push((seq.value(), entry));
            }
        }
        let journal = Journal {
            db: Mutex::new(db),
            len: AtomicUsize::new(pending.len()),
            capacity,
        };
        Ok((journal, pending))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Database> {
        // redb transactions are atomic, so a panic while holding the lock leaves the
        // database consistent and the poisoned lock usable.
        self.db
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Whether `more` entries fit.
    pub fn has_room(&self, more: usize) -> bool {
        self.len().saturating_add(more) <= self.capacity
    }

    /// Writes `entries` durably in one transaction; their sequence numbers. Refuses all
    /// of them (`Busy`) when they do not fit.
    pub fn append(&self, entries: &[AccessEntry]) -> Result<Vec<u64>, GatewayError> {
        let op = "appending entries";
        let db = self.lock();
        if !self.has_room(entries.len()) {
            return Err(GatewayError::Busy {
                what: "access-log entries",
            });
        }
        let txn = db.begin_write().map_err(db_error(op))?;
        let mut seqs = Vec::with_capacity(entries.len());
        {
            let mut meta = txn.open_table(META).map_err(db_error(op))?;
            let mut next = meta
                .get(NEXT_SEQ)
                .map_err(db_error(op))?
                .map_or(0, |v| v.value());
            let mut pending = txn.open_table(PENDING).map_err(db_error(op))?;
            for entry in entries {
                pending
                    .insert(next, encode(entry).as_slice())
                    .map_err(db_error(op))?;
                seqs.push(next);
                next = next.checked_add(1).ok_or_else(|| GatewayError::Journal {
                    op,
                    reason: "sequence numbers exhausted".into(),
                })?;
            }
            meta.insert(NEXT_SEQ, next).map_err(db_error(op))?;
        }
        txn.commit().map_err(db_error(op))?;
        self.len.fetch_add(entries.len(), Ordering::AcqRel);
        Ok(seqs)
    }

    /// Deletes the entries `seqs` (committed on chain).
    pub fn remove(&self, seqs: &[u64]) -> Result<(), GatewayError> {
        let op = "deleting committed entries";
        let db = self.lock();
        let txn = db.begin_write().map_err(db_error(op))?;
        let mut removed = 0usize;
        {
            let mut pending = txn.open_table(PENDING).map_err(db_error(op))?;
            for seq in seqs {
                if pending.remove(*seq).map_err(db_error(op))?.is_some() {
                    removed += 1;
                }
            }
        }
        txn.commit().map_err(db_error(op))?;
        self.len.fetch_sub(removed, Ordering::AcqRel);
        Ok(())
    }

    /// The in-flight watermark.
    pub fn in_flight(&self) -> Result<Option<InFlight>, GatewayError> {
        let op = "reading the in-flight watermark";
        let db = self.lock();
        let read = db.begin_read().map_err(db_error(op))?;
        let meta = read.open_table(META).map_err(db_error(op))?;
        let nonce = meta.get(IN_FLIGHT_NONCE).map_err(db_error(op))?;
        let expiry = meta.get(IN_FLIGHT_EXPIRY).map_err(db_error(op))?;
        Ok(match (nonce, expiry) {
            (Some(nonce), Some(expiry)) => Some(InFlight {
                nonce_max: nonce.value(),
                expiry_height_max: expiry.value(),
            }),
            _ => None,
        })
    }

    /// Raises the in-flight watermark (durably) before transactions up to `sent` go out.
    pub fn raise_in_flight(&self, sent: InFlight) -> Result<(), GatewayError> {
        let op = "writing the in-flight watermark";
        let db = self.lock();
        let txn = db.begin_write().map_err(db_error(op))?;
        {
            let mut meta = txn.open_table(META).map_err(db_error(op))?;
            for (name, value) in [
                (IN_FLIGHT_NONCE, sent.nonce_max),
                (IN_FLIGHT_EXPIRY, sent.expiry_height_max),
            ] {
                let old = meta.get(name).map_err(db_error(op))?.map(|v| v.value());
                meta.insert(name, old.map_or(value, |old| old.max(value)))
                    .map_err(db_error(op))?;
            }
        }
        txn.commit().map_err(db_error(op))
    }
}

#[cfg(test)]
mod tests {
    use simin_types::{AccessKind, BlockTime, Hash};

    use super::*;

    fn entry(n: u8) -> AccessEntry {
        AccessEntry {
            kind: AccessKind::Login,
            client_id: "library-web".into(),
            subject: format!("subject{n}"),
            claims: vec!["age_over_19".into()],
            commitment: Hash([n; 32]),
            released_at: BlockTime(u64::from(n)),
        }
    }

    #[test]
    fn entries_survive_a_reopen_until_removed() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("access-log.redb");
        let (journal, old) = Journal::open(&path, 10).expect("opens");
        assert!(old.is_empty());
        let seqs = journal
            .append(&[entry(1), entry(2), entry(3)])
            .expect("appended");
        assert_eq!(seqs, vec![0, 1, 2]);
        journal.remove(&[1]).expect("removed");
        journal
            .raise_in_flight(InFlight {
                nonce_max: 7,
                expiry_height_max: 110,
            })
            .expect("written");
        journal
            .raise_in_flight(InFlight {
                nonce_max: 5,
                expiry_height_max: 120,
            })
            .expect("written");
        drop(journal);

        let (journal, old) = Journal::open(&path, 10).expect("reopens");
        assert_eq!(old, vec![(0, entry(1)), (2, entry(3))]);
        assert_eq!(journal.len(), 2);
        assert_eq!(
            journal.in_flight().expect("read"),
            Some(InFlight {
                nonce_max: 7,
                expiry_height_max: 120
            })
        );
        // Sequence numbers are never reused, so a late deletion cannot hit a new entry.
        assert_eq!(journal.append(&[entry(4)]).expect("appended"), vec![3]);
    }

    #[test]
    fn a_full_journal_refuses_and_releases_nothing() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let (journal, _) = Journal::open(&dir.path().join("j.redb"), 2).expect("opens");
        journal.append(&[entry(1)]).expect("fits");
        let refused = journal.append(&[entry(2), entry(3)]).expect_err("full");
        assert!(matches!(refused, GatewayError::Busy { .. }), "{refused}");
        assert_eq!(journal.len(), 1);
        journal.append(&[entry(2)]).expect("fits");
        assert!(!journal.has_room(1));
    }
}

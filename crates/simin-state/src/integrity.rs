//! Opening the database file with a full integrity check, so that a damaged store is
//! refused at start-up with one clear error instead of panicking (or reading garbage)
//! the first time a damaged page is read.
//!
//! Why every open checks, not only the unclean ones: redb verifies page checksums only
//! when it repairs, and it repairs only after an unclean shutdown. A file that was
//! closed cleanly and damaged afterwards (a disk fault, a bad copy, a stray write) opens
//! without complaint; ordinary reads do not verify checksums, so a damaged branch page
//! ends in an `unreachable!` inside redb's B-tree cursor and a damaged leaf reads as
//! wrong bytes (a genesis document that "belongs to another chain"). The check walks
//! every reachable page once; on a warm page cache it costs about as much as reading
//! the file (measured in the crate's tests and reported in the log at every start).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use redb::{Database, DatabaseError, StorageError};
use tracing::{info, warn};

use crate::StoreError;

/// Opens (or creates) the file at `path` and checks its integrity.
///
/// `Err(Damaged)` when redb finds the file corrupt, on open or in the check. redb may
/// also repair the file: after an unclean shutdown it falls back to the last commit
/// whose pages verify (that is its crash recovery, and the node then resumes from that
/// height); such a repair is logged and the store is used.
pub(crate) fn open_checked(path: &Path) -> Result<Database, StoreError> {
    let damaged = |reason: String| StoreError::Damaged {
        path: path.to_owned(),
        reason,
    };
    // redb checks some invariants with `debug_assert!` (its `StorageError::unreachable`)
    // and may panic on pages it cannot parse; a damaged file is the expected cause at
    // this point, and nothing but this function holds the database yet, so a panic here
    // is reported as damage rather than unwinding through the node's start-up.
    match catch_unwind(AssertUnwindSafe(|| open_and_check(path))) {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(Fault::Damaged(reason))) => Err(damaged(reason)),
        Ok(Err(Fault::Other(op, source))) => Err(StoreError::Db { op, source }),
        Err(panic) => Err(damaged(format!(
            "redb failed while reading it: {}",
            panic_message(panic.as_ref())
        ))),
    }
}

enum Fault {
    Damaged(String),
    Other(&'static str, redb::Error),
}

fn open_and_check(path: &Path) -> Result<Database, Fault> {
    // The repair callback runs only when redb recovers from an unclean shutdown.
    let recovered = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&recovered);
    let mut db = redb::Builder::new()
        .set_repair_callback(move |_| flag.store(true, Ordering::Relaxed))
        .create(path)
        .map_err(|e| classify("opening the database file", e))?;
    let started = Instant::now();
    let clean = db
        .check_integrity()
        .map_err(|e| classify("checking the database's integrity", e))?;
    let check_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let unclean_shutdown = recovered.load(Ordering::Relaxed);
    if clean {
        info!(path = %path.display(), check_ms, unclean_shutdown, "store integrity checked");
    } else {
        warn!(
            path = %path.display(),
            check_ms,
            unclean_shutdown,
            "redb repaired the store (its allocator state, or a fall-back to the last intact commit)"
        );
    }
    Ok(db)
}

/// Corruption, and a file that is not a redb database at all, are damage; the rest
/// (a lock held by another process, I/O errors) keep their own meaning.
fn classify(op: &'static str, err: DatabaseError) -> Fault {
    match err {
        DatabaseError::Storage(StorageError::Corrupted(reason)) => Fault::Damaged(reason),
        DatabaseError::Storage(StorageError::Io(io))
            if io.kind() == std::io::ErrorKind::InvalidData =>
        {
            Fault::Damaged(format!("not a readable redb database ({io})"))
        }
        DatabaseError::RepairAborted => Fault::Damaged("redb could not repair it".into()),
        other => Fault::Other(op, other.into()),
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, SeekFrom, Write};

    use simin_types::Height;

    use super::*;
    use crate::{Store, WriteSet};

    /// A store with `heights` blocks' worth of state writes (no blocks: the state and
    /// roots tables are what fills a real store's pages).
    fn filled_store(path: &Path, keys: usize) -> Store {
        let store = Store::open(path).expect("a new store opens");
        let writes: WriteSet = (0..keys)
            .map(|i| (format!("k/{i:08}").into_bytes(), Some(vec![7u8; 200])))
            .collect();
        store
            .init_genesis(b"{}", writes)
            .expect("genesis is written");
        store
    }

    /// Overwrites `pages` 4 KiB pages at offsets from a fixed-seed LCG, past the header.
    fn damage(path: &Path, pages: u64, seed: u64) {
        let len = std::fs::metadata(path).expect("the file exists").len();
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .expect("the file opens for writing");
        let mut state = seed;
        for _ in 0..pages {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let page = 1 + (state >> 33) % (len / 4096 - 1);
            file.seek(SeekFrom::Start(page * 4096)).expect("seek");
            file.write_all(&[0xA5; 4096]).expect("write");
        }
        file.sync_all().expect("sync");
    }

    #[test]
    fn a_clean_store_reopens_and_keeps_its_state() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.redb");
        drop(filled_store(&path, 1_000));
        let store = Store::open(&path).expect("an intact store opens");
        assert_eq!(store.latest_height().expect("readable"), Some(Height(0)));
    }

    #[test]
    fn a_damaged_store_is_refused_with_its_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.redb");
        drop(filled_store(&path, 20_000));
        damage(&path, 200, 17);
        match Store::open(&path) {
            Err(StoreError::Damaged { path: got, reason }) => {
                assert_eq!(got, path);
                assert!(!reason.is_empty());
            }
            other => panic!("expected Damaged, got {other:?}"),
        }
        let shown = Store::open(&path).expect_err("still damaged").to_string();
        assert!(shown.contains("is damaged"), "{shown}");
        assert!(shown.contains(&path.display().to_string()), "{shown}");
    }

    #[test]
    fn garbage_is_refused_as_damaged() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.redb");
        std::fs::write(&path, vec![0x5Au8; 64 * 1024]).expect("write garbage");
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::Damaged { .. })
        ));
    }

    /// Not a check: builds a store of `SIMIN_MEASURE_KEYS` keys (default 500,000) of
    /// 400-byte values at `SIMIN_MEASURE_DIR/state.redb` (kept), then times reopening
    /// it, for the cost of the integrity check quoted in the module comment. Run with
    /// `--ignored`; evict the file from the page cache between runs for a cold figure.
    #[test]
    #[ignore = "a measurement, minutes long"]
    fn measure_open_with_integrity_check() {
        let Some(dir) = std::env::var_os("SIMIN_MEASURE_DIR") else {
            return;
        };
        let path = std::path::PathBuf::from(dir).join("state.redb");
        if !path.exists() {
            let keys = std::env::var("SIMIN_MEASURE_KEYS")
                .ok()
                .and_then(|k| k.parse().ok())
                .unwrap_or(500_000usize);
            let store = Store::open(&path).expect("a new store opens");
            let writes: WriteSet = (0..keys)
                .map(|i| (format!("k/{i:010}").into_bytes(), Some(vec![7u8; 400])))
                .collect();
            store
                .init_genesis(b"{}", writes)
                .expect("genesis is written");
        }
        let bytes = std::fs::metadata(&path).expect("the file").len();
        let started = Instant::now();
        drop(Store::open(&path).expect("an intact store opens"));
        eprintln!(
            "open with integrity check: {} MiB in {} ms",
            bytes >> 20,
            started.elapsed().as_millis()
        );
    }
}

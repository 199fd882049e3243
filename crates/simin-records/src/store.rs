//! The vault's database (one redb file): sealed records, their keys in a table of their
//! own, and the `LogAccess` transactions already redeemed for a read.
//!
//! Erasure ([`Store::shred`]) overwrites the key with zeros in one transaction, deletes
//! it in a second and then compacts the file. What that guarantees: the key is gone from
//! the database as redb reads it, from this process's memory (every copy is a
//! `Zeroizing` buffer) and, after compaction, from the pages the file still uses. What it
//! cannot guarantee: redb writes copy-on-write, so an overwrite lands on a new page and
//! a freed page keeps its old bytes until reused; compaction moves live pages down and
//! truncates the file, but the file system, an SSD's flash translation layer, snapshots
//! and backups may keep the old blocks. Those copies must be covered by the operator's
//! media policy (encrypted disks whose keys rotate, backups that expire); see the
//! crate documentation.

use std::path::Path;
use std::sync::{Arc, Mutex};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use simin_types::{Hash, PublicKey};

use crate::error::VaultError;
use crate::seal::{RecordKey, Sealed, KEY_LEN};

const RECORDS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("records");
const SEALED: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("sealed");
const KEYS: TableDefinition<&[u8; 32], &[u8; KEY_LEN]> = TableDefinition::new("record_keys");
/// `LogAccess` transactions that released a record once, by hash, with their height.
const REDEEMED: TableDefinition<&[u8; 32], u64> = TableDefinition::new("redeemed_reads");

/// Compaction passes after an erasure; redb reports when nothing is left to move.
const COMPACTION_PASSES_MAX: usize = 8;

/// What the vault knows about a record besides its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordMeta {
    pub id: Hash,
    pub kind: String,
    pub owner: PublicKey,
    pub commitment: Hash,
    /// The height of the block that registered it.
    pub created_height: u64,
    /// The height of the block that logged its erasure, once the key is destroyed.
    pub erased_height: Option<u64>,
}

/// The database. Every method blocks (call from a blocking task). One mutex serialises
/// access, so compaction never meets a live transaction; a vault serves clerks and
/// organisations, not a crowd.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    db: Arc<Mutex<Database>>,
}

fn db_error<E: std::fmt::Display>(op: &'static str) -> impl FnOnce(E) -> VaultError {
    move |e| VaultError::Database {
        op,
        reason: e.to_string(),
    }
}

fn decode_meta(bytes: &[u8]) -> Result<RecordMeta, VaultError> {
    serde_json::from_slice(bytes).map_err(|e| VaultError::Corrupt {
        what: "record",
        reason: e.to_string(),
    })
}

impl Store {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, VaultError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(db_error("creating the data directory"))?;
        }
        let db = Database::create(path).map_err(db_error("opening the database"))?;
        let txn = db.begin_write().map_err(db_error("starting a write"))?;
        {
            txn.open_table(RECORDS)
                .map_err(db_error("creating tables"))?;
            txn.open_table(SEALED)
                .map_err(db_error("creating tables"))?;
            txn.open_table(KEYS).map_err(db_error("creating tables"))?;
            txn.open_table(REDEEMED)
                .map_err(db_error("creating tables"))?;
        }
        txn.commit().map_err(db_error("creating tables"))?;
        Ok(Store {
            db: Arc::new(Mutex::new(db)),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Database> {
        // A panic while holding the lock leaves redb consistent (its transactions are
        // atomic), so a poisoned lock is still usable.
        self.db
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stores a new record with its sealed content and key, in one transaction.
    pub fn insert(
        &self,
        meta: &RecordMeta,
        sealed: &Sealed,
        key: &RecordKey,
    ) -> Result<(), VaultError> {
        let db = self.lock();
        let txn = db.begin_write().map_err(db_error("starting a write"))?;
        {
            let mut records = txn
                .open_table(RECORDS)
                .map_err(db_error("opening records"))?;
            if records
                .get(&meta.id.0)
                .map_err(db_error("reading a record"))?
                .is_some()
            {
                return Err(VaultError::Exists(meta.id));
            }
            let bytes = serde_json::to_vec(meta).expect("a record's metadata always serializes");
            records
                .insert(&meta.id.0, bytes.as_slice())
                .map_err(db_error("writing a record"))?;
            txn.open_table(SEALED)
                .map_err(db_error("opening sealed"))?
                .insert(&meta.id.0, sealed.0.as_slice())
                .map_err(db_error("writing a sealed record"))?;
            txn.open_table(KEYS)
                .map_err(db_error("opening keys"))?
                .insert(&meta.id.0, key.as_bytes())
                .map_err(db_error("writing a key"))?;
        }
        txn.commit().map_err(db_error("committing a record"))
    }

    /// A record's metadata and sealed content.
    pub fn record(&self, id: &Hash) -> Result<Option<(RecordMeta, Sealed)>, VaultError> {
        let db = self.lock();
        let txn = db.begin_read().map_err(db_error("starting a read"))?;
        let records = txn
            .open_table(RECORDS)
            .map_err(db_error("opening records"))?;
        let Some(meta) = records.get(&id.0).map_err(db_error("reading a record"))? else {
            return Ok(None);
        };
        let meta = decode_meta(meta.value())?;
        let sealed = txn
            .open_table(SEALED)
            .map_err(db_error("opening sealed"))?
            .get(&id.0)
            .map_err(db_error("reading a sealed record"))?
            .map(|v| Sealed(v.value().to_vec()))
            .ok_or(VaultError::Corrupt {
                what: "record",
                reason: "a record without its sealed content".into(),
            })?;
        Ok(Some((meta, sealed)))
    }

    /// A record's key, unless it was destroyed.
    pub fn key(&self, id: &Hash) -> Result<Option<RecordKey>, VaultError> {
        let db = self.lock();
        let txn = db.begin_read().map_err(db_error("starting a read"))?;
        let keys = txn.open_table(KEYS).map_err(db_error("opening keys"))?;
        let key = keys.get(&id.0).map_err(db_error("reading a key"))?;
        // The copy goes straight into a `Zeroizing` buffer.
        Ok(key.and_then(|k| RecordKey::from_slice(k.value())))
    }

    /// Marks the `LogAccess` transaction `tx` as redeemed; false if it already was, so
    /// one logged access releases the content once.
    pub fn redeem(&self, tx: &Hash, height: u64) -> Result<bool, VaultError> {
        let db = self.lock();
        let txn = db.begin_write().map_err(db_error("starting a write"))?;
        let fresh = {
            let mut redeemed = txn
                .open_table(REDEEMED)
                .map_err(db_error("opening redeemed reads"))?;
            let fresh = redeemed
                .get(&tx.0)
                .map_err(db_error("reading a redeemed read"))?
                .is_none();
            if fresh {
                redeemed
                    .insert(&tx.0, height)
                    .map_err(db_error("writing a redeemed read"))?;
            }
            fresh
        };
        txn.commit()
            .map_err(db_error("committing a redeemed read"))?;
        Ok(fresh)
    }

    /// Destroys a record's key (crypto-shredding) and notes the erasure height. Returns
    /// false if the key was already gone. The sealed content stays: it cannot be opened,
    /// and it still matches the commitment on chain.
    pub fn shred(&self, id: &Hash, erased_height: u64) -> Result<bool, VaultError> {
        let mut db = self.lock();
        let txn = db.begin_write().map_err(db_error("starting a write"))?;
        let had_key = {
            let mut records = txn
                .open_table(RECORDS)
                .map_err(db_error("opening records"))?;
            let meta = records
                .get(&id.0)
                .map_err(db_error("reading a record"))?
                .map(|m| decode_meta(m.value()))
                .transpose()?;
            let Some(mut meta) = meta else {
                return Err(VaultError::UnknownRecord(*id));
            };
            if meta.erased_height.is_none() {
                meta.erased_height = Some(erased_height);
                let bytes = serde_json::to_vec(&meta).expect("metadata always serializes");
                records
                    .insert(&id.0, bytes.as_slice())
                    .map_err(db_error("writing a record"))?;
            }
            let mut keys = txn.open_table(KEYS).map_err(db_error("opening keys"))?;
            let had_key = keys
                .get(&id.0)
                .map_err(db_error("reading a key"))?
                .is_some();
            if had_key {
                // Overwrite first: the value the table holds is zeros before it is gone.
                keys.insert(&id.0, &[0u8; KEY_LEN])
                    .map_err(db_error("overwriting a key"))?;
            }
            had_key
        };
        txn.commit().map_err(db_error("committing an erasure"))?;
        let txn = db.begin_write().map_err(db_error("starting a write"))?;
        txn.open_table(KEYS)
            .map_err(db_error("opening keys"))?
            .remove(&id.0)
            .map_err(db_error("deleting a key"))?;
        txn.commit().map_err(db_error("committing an erasure"))?;
        for _ in 0..COMPACTION_PASSES_MAX {
            match db.compact() {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    // The key is deleted either way; compaction only releases old pages.
                    tracing::warn!(%e, "compaction after an erasure failed");
                    break;
                }
            }
        }
        Ok(had_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::{open, seal};
    use rand::rngs::OsRng;

    fn meta(id: Hash, commitment: Hash) -> RecordMeta {
        RecordMeta {
            id,
            kind: "welfare_application".into(),
            owner: simin_types::SigningKey::from_seed([3; 32]).public_key(),
            commitment,
            created_height: 5,
            erased_height: None,
        }
    }

    #[test]
    fn shredding_destroys_the_key_and_leaves_the_commitment_verifiable() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("vault.redb");
        let store = Store::open(&path).expect("opens");
        let id = Hash::digest(b"record-1");
        let key = RecordKey::generate(&mut OsRng);
        let key_bytes = *key.as_bytes();
        let sealed = seal(&key, &id, b"Hong Gildong, 3 children", &mut OsRng);
        store
            .insert(&meta(id, sealed.commitment()), &sealed, &key)
            .expect("stored");
        assert!(matches!(
            store.insert(&meta(id, sealed.commitment()), &sealed, &key),
            Err(VaultError::Exists(_))
        ));
        let stored = store.key(&id).expect("reads").expect("a key");
        assert_eq!(
            open(&stored, &id, &sealed).expect("opens").as_slice(),
            b"Hong Gildong, 3 children"
        );

        assert!(store.shred(&id, 9).expect("shredded"));
        assert!(store.key(&id).expect("reads").is_none());
        assert!(
            !store.shred(&id, 10).expect("idempotent"),
            "no key the second time"
        );
        let (meta, kept) = store.record(&id).expect("reads").expect("kept");
        assert_eq!(
            meta.erased_height,
            Some(9),
            "the first erasure height stays"
        );
        assert_eq!(kept, sealed, "the ciphertext stays");
        assert_eq!(kept.commitment(), meta.commitment, "and still matches");

        // After compaction the key's bytes are nowhere in the file redb keeps.
        drop(store);
        let file = std::fs::read(&path).expect("the file");
        assert!(
            !file.windows(KEY_LEN).any(|w| w == key_bytes),
            "the destroyed key is still in the database file"
        );
        let store = Store::open(&path).expect("reopens");
        assert!(store.key(&id).expect("reads").is_none());
        assert!(matches!(
            store.shred(&Hash::digest(b"none"), 1),
            Err(VaultError::UnknownRecord(_))
        ));
    }

    #[test]
    fn a_logged_access_is_redeemed_once() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let store = Store::open(&dir.path().join("v.redb")).expect("opens");
        let tx = Hash::digest(b"tx");
        assert!(store.redeem(&tx, 3).expect("writes"));
        assert!(!store.redeem(&tx, 3).expect("writes"));
    }
}

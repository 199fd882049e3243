//! The store handle: opening the database, genesis, and every read.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use jmt::JellyfishMerkleTree;
use redb::{Database, ReadTransaction, ReadableDatabase, WriteTransaction};
use sha2::Sha256;
use simin_types::{limits, Block, CommitCertificate, Hash, Height, Receipt};
use tracing::info;

use crate::commit::{compute_update, write_tree_batch, NotaryIndexEntry};
use crate::proof::key_hash;
use crate::tables::{self, *};
use crate::tree_reader::{value_at, TreeTables};
use crate::write_set::check_key;
use crate::{StateProof, StoreError, WriteSet};

/// The authenticated state and block store over one redb database.
///
/// Cheap to clone (an `Arc`); every clone sees the same database. Reads run in their own
/// redb read transaction (a consistent snapshot) and never block the writer.
#[derive(Clone)]
pub struct Store {
    pub(crate) db: Arc<Database>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the database file at `path`. Commits are durable (fsynced).
    /// Fails if another process has the file open, and with [`StoreError::Damaged`] if
    /// the file does not pass redb's integrity check (see `integrity`).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = crate::integrity::open_checked(path)?;
        Store::with_database(db)
    }

    /// A store over redb's in-memory backend, for tests.
    pub fn in_memory() -> Result<Store, StoreError> {
        let db = redb::Builder::new()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(StoreError::db("creating an in-memory database"))?;
        Store::with_database(db)
    }

    /// Creates every table once, so that read transactions never meet a missing table.
    fn with_database(db: Database) -> Result<Store, StoreError> {
        let txn = db
            .begin_write()
            .map_err(StoreError::db("creating tables"))?;
        create_tables(&txn)?;
        txn.commit().map_err(StoreError::db("creating tables"))?;
        Ok(Store { db: Arc::new(db) })
    }

    pub(crate) fn read(&self) -> Result<ReadTransaction, StoreError> {
        self.db
            .begin_read()
            .map_err(StoreError::db("beginning a read transaction"))
    }

    /// Height of the last committed block (`Height(0)` = only genesis; `None` = not
    /// initialised).
    pub fn latest_height(&self) -> Result<Option<Height>, StoreError> {
        let txn = self.read()?;
        let meta = txn
            .open_table(META)
            .map_err(StoreError::db("opening meta"))?;
        tables::latest_height(&meta)
    }

    /// Writes the genesis state as version 0 and records the genesis document bytes, in
    /// one transaction. Refuses if the store is already initialised. Returns the root.
    pub fn init_genesis(&self, genesis_json: &[u8], writes: WriteSet) -> Result<Hash, StoreError> {
        writes.check()?;
        if genesis_json.len() > GENESIS_BYTES_MAX {
            return Err(StoreError::ValueTooLarge {
                len: genesis_json.len(),
                max: GENESIS_BYTES_MAX,
            });
        }
        let op = "writing genesis";
        let txn = self.db.begin_write().map_err(StoreError::db(op))?;
        let root = {
            let mut meta = txn.open_table(META).map_err(StoreError::db(op))?;
            if let Some(latest) = tables::latest_height(&meta)? {
                return Err(StoreError::AlreadyInitialised { latest });
            }
            let mut nodes = txn.open_table(NODES).map_err(StoreError::db(op))?;
            let mut values = txn.open_table(VALUES).map_err(StoreError::db(op))?;
            let (root, batch) = {
                let reader = TreeTables {
                    nodes: &nodes,
                    values: &values,
                };
                compute_update(&reader, &writes, Height::GENESIS, true)?
            };
            write_tree_batch(&mut nodes, &mut values, &batch)?;
            let mut roots = txn.open_table(ROOTS).map_err(StoreError::db(op))?;
            roots
                .insert(Height::GENESIS.0, root.0)
                .map_err(StoreError::db(op))?;
            meta.insert(META_GENESIS_JSON, genesis_json)
                .map_err(StoreError::db(op))?;
            let latest = Height::GENESIS.0.to_be_bytes();
            meta.insert(META_LATEST_HEIGHT, latest.as_slice())
                .map_err(StoreError::db(op))?;
            root
        };
        txn.commit().map_err(StoreError::db(op))?;
        info!(%root, "genesis state written");
        Ok(root)
    }

    /// The genesis document bytes, exactly as given to `init_genesis`.
    pub fn genesis_json(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.read()?;
        let meta = txn
            .open_table(META)
            .map_err(StoreError::db("opening meta"))?;
        let bytes = meta
            .get(META_GENESIS_JSON)
            .map_err(StoreError::db("reading the genesis document"))?;
        Ok(bytes.map(|guard| guard.value().to_vec()))
    }

    /// The state root after block `height` (after genesis for `Height(0)`).
    pub fn state_root(&self, height: Height) -> Result<Hash, StoreError> {
        let txn = self.read()?;
        let version = resolve_height(&txn, Some(height))?;
        let roots = txn
            .open_table(ROOTS)
            .map_err(StoreError::db("opening roots"))?;
        tables::root_at(&roots, version)
    }

    /// Value of `key` in the state after block `height` (the latest state if `None`).
    pub fn get(&self, key: &[u8], height: Option<Height>) -> Result<Option<Vec<u8>>, StoreError> {
        check_key(key)?;
        let txn = self.read()?;
        let version = resolve_height(&txn, height)?;
        let values = txn
            .open_table(VALUES)
            .map_err(StoreError::db("opening values"))?;
        value_at(&values, key_hash(key).0, version.0).map_err(StoreError::db("reading a value"))
    }

    /// Like `get`, with a proof against `state_root(height)` for `verify_proof`.
    pub fn get_with_proof(
        &self,
        key: &[u8],
        height: Option<Height>,
    ) -> Result<(Option<Vec<u8>>, StateProof), StoreError> {
        check_key(key)?;
        let op = "proving a value";
        let txn = self.read()?;
        let version = resolve_height(&txn, height)?;
        let nodes = txn.open_table(NODES).map_err(StoreError::db(op))?;
        let values = txn.open_table(VALUES).map_err(StoreError::db(op))?;
        let reader = TreeTables {
            nodes: &nodes,
            values: &values,
        };
        let tree = JellyfishMerkleTree::<_, Sha256>::new(&reader);
        let (value, proof) = tree
            .get_with_proof(key_hash(key), version.0)
            .map_err(StoreError::tree(op))?;
        Ok((value, StateProof(proof)))
    }

    /// The block committed at `height` (none at genesis).
    pub fn block(&self, height: Height) -> Result<Option<Block>, StoreError> {
        let bytes = self.record(BLOCKS, height)?;
        bytes
            .map(|b| simin_types::decode("block", &b, limits::BLOCK_BYTES_MAX))
            .transpose()
            .map_err(StoreError::corrupt("block"))
    }

    /// The hash of the block at `height`, without decoding the block.
    pub fn block_hash(&self, height: Height) -> Result<Option<Hash>, StoreError> {
        let txn = self.read()?;
        let table = txn
            .open_table(BLOCK_HASHES)
            .map_err(StoreError::db("opening block hashes"))?;
        let hash = table
            .get(height.0)
            .map_err(StoreError::db("reading a block hash"))?;
        Ok(hash.map(|guard| Hash(guard.value())))
    }

    /// The commit certificate of the block at `height`.
    pub fn certificate(&self, height: Height) -> Result<Option<CommitCertificate>, StoreError> {
        let bytes = self.record(CERTIFICATES, height)?;
        bytes
            .map(|b| simin_types::decode("certificate", &b, CERTIFICATE_BYTES_MAX))
            .transpose()
            .map_err(StoreError::corrupt("certificate"))
    }

    /// The receipts of the block at `height`, in transaction order.
    pub fn receipts(&self, height: Height) -> Result<Option<Vec<Receipt>>, StoreError> {
        let bytes = self.record(RECEIPTS, height)?;
        bytes
            .map(|b| simin_types::decode("receipts", &b, RECEIPTS_BYTES_MAX))
            .transpose()
            .map_err(StoreError::corrupt("receipts"))
    }

    /// Where a committed transaction is: its block height and index in the block.
    pub fn tx_location(&self, tx_hash: &Hash) -> Result<Option<(Height, u32)>, StoreError> {
        let txn = self.read()?;
        let table = txn
            .open_table(TX_INDEX)
            .map_err(StoreError::db("opening the tx index"))?;
        let entry = table
            .get(tx_hash.0)
            .map_err(StoreError::db("reading the tx index"))?;
        Ok(entry.map(|guard| {
            let (height, index) = guard.value();
            (Height(height), index)
        }))
    }

    /// The notary index entry of a document hash: its batch root and transaction.
    pub fn notary_document(&self, document: &Hash) -> Result<Option<NotaryIndexEntry>, StoreError> {
        let txn = self.read()?;
        let table = txn
            .open_table(NOTARY_INDEX)
            .map_err(StoreError::db("opening the notary index"))?;
        let entry = table
            .get(document.0)
            .map_err(StoreError::db("reading the notary index"))?;
        Ok(entry.map(|guard| {
            let (batch_root, tx_hash) = guard.value();
            NotaryIndexEntry {
                document: *document,
                batch_root: Hash(batch_root),
                tx_hash: Hash(tx_hash),
            }
        }))
    }

    /// The raw bytes stored for `height` in a per-height table.
    fn record(
        &self,
        table: redb::TableDefinition<u64, &[u8]>,
        height: Height,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.read()?;
        let table = txn
            .open_table(table)
            .map_err(StoreError::db("opening a block table"))?;
        let bytes = table
            .get(height.0)
            .map_err(StoreError::db("reading a block record"))?;
        Ok(bytes.map(|guard| guard.value().to_vec()))
    }
}

/// The committed height a read refers to: `height` if at most the latest, else an error.
fn resolve_height(txn: &ReadTransaction, height: Option<Height>) -> Result<Height, StoreError> {
    let meta = txn
        .open_table(META)
        .map_err(StoreError::db("opening meta"))?;
    let latest = tables::require_latest(&meta)?;
    match height {
        None => Ok(latest),
        Some(requested) if requested <= latest => Ok(requested),
        Some(requested) => Err(StoreError::HeightAboveLatest { requested, latest }),
    }
}

fn create_tables(txn: &WriteTransaction) -> Result<(), StoreError> {
    let op = "creating tables";
    txn.open_table(META).map_err(StoreError::db(op))?;
    txn.open_table(NODES).map_err(StoreError::db(op))?;
    txn.open_table(VALUES).map_err(StoreError::db(op))?;
    txn.open_table(ROOTS).map_err(StoreError::db(op))?;
    txn.open_table(BLOCKS).map_err(StoreError::db(op))?;
    txn.open_table(BLOCK_HASHES).map_err(StoreError::db(op))?;
    txn.open_table(CERTIFICATES).map_err(StoreError::db(op))?;
    txn.open_table(RECEIPTS).map_err(StoreError::db(op))?;
    txn.open_table(TX_INDEX).map_err(StoreError::db(op))?;
    txn.open_table(NOTARY_INDEX).map_err(StoreError::db(op))?;
    Ok(())
}

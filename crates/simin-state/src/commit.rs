//! Preparing a block's state root without writing, and committing a decided block atomically.

use std::fmt;
use std::time::Instant;

use jmt::storage::{NodeBatch, TreeReader};
use jmt::{JellyfishMerkleTree, KeyHash};
use redb::{ReadableDatabase, Table, WriteTransaction};
use sha2::Sha256;
use simin_types::{merkle, Block, CommitCertificate, Hash, Height, Receipt};
use tracing::{debug, warn};

use crate::proof::key_hash;
use crate::tables::{self, *};
use crate::tree_reader::TreeTables;
use crate::write_set::WRITE_SET_KEYS_MAX;
use crate::{Store, StoreError, WriteSet};

/// The state a block's writes would give, computed by `Store::prepare` and not yet
/// written. Hand it to `Store::commit` once the block is decided, or drop it.
pub struct PreparedState {
    height: Height,
    base_root: Hash,
    root: Hash,
    batch: NodeBatch,
}

impl PreparedState {
    /// The height (jmt version) this state is for.
    pub fn height(&self) -> Height {
        self.height
    }

    /// The root of the state this was computed on (the state after `height - 1`).
    pub fn base_root(&self) -> Hash {
        self.base_root
    }

    /// The state root after the block: what its header's `state_root` must be.
    pub fn root(&self) -> Hash {
        self.root
    }
}

impl fmt::Debug for PreparedState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedState")
            .field("height", &self.height)
            .field("base_root", &self.base_root)
            .field("root", &self.root)
            .field("nodes", &self.batch.nodes().len())
            .field("values", &self.batch.values().len())
            .finish()
    }
}

/// One entry of the notary index: a document hash, the batch root it was anchored under
/// (the document hash itself for a single anchor) and the anchoring transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotaryIndexEntry {
    pub document: Hash,
    pub batch_root: Hash,
    pub tx_hash: Hash,
}

impl Store {
    /// Computes the root that `writes` applied on top of the latest committed state give
    /// at version `height`, writing nothing. `height` must be the latest height + 1.
    ///
    /// An empty write set is allowed: the new version then has the previous root.
    pub fn prepare(&self, height: Height, writes: &WriteSet) -> Result<PreparedState, StoreError> {
        writes.check()?;
        let op = "preparing a state";
        let txn = self.db.begin_read().map_err(StoreError::db(op))?;
        let meta = txn.open_table(META).map_err(StoreError::db(op))?;
        let latest = tables::require_latest(&meta)?;
        let expected = latest.next().ok_or(StoreError::HeightOverflow(latest))?;
        if height != expected {
            return Err(StoreError::UnexpectedHeight {
                expected,
                got: height,
            });
        }
        let roots = txn.open_table(ROOTS).map_err(StoreError::db(op))?;
        let base_root = tables::root_at(&roots, latest)?;
        let nodes = txn.open_table(NODES).map_err(StoreError::db(op))?;
        let values = txn.open_table(VALUES).map_err(StoreError::db(op))?;
        let reader = TreeTables {
            nodes: &nodes,
            values: &values,
        };
        let (root, batch) = compute_update(&reader, writes, height, true)?;
        Ok(PreparedState {
            height,
            base_root,
            root,
            batch,
        })
    }

    /// Commits a decided block in ONE redb write transaction: the jmt nodes and values of
    /// `prepared`, the block, its certificate, its receipts, the tx-hash index, the notary
    /// index entries and the latest height. Either all of it is durable or none.
    ///
    /// Refuses (writing nothing) if the block is not at latest + 1, if `prepared` is for
    /// another height or base, if its root is not the header's state root, or if the
    /// certificate, receipts or transaction root do not match the block.
    pub fn commit(
        &self,
        block: &Block,
        cert: &CommitCertificate,
        receipts: &[Receipt],
        notary: &[NotaryIndexEntry],
        prepared: PreparedState,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let tx_hashes = check_block(block, cert, receipts, &prepared)?;
        if notary.len() > WRITE_SET_KEYS_MAX {
            return Err(StoreError::IndexTooLarge {
                what: "notary",
                len: notary.len(),
                max: WRITE_SET_KEYS_MAX,
            });
        }
        let height = block.height();
        let op = "committing a block";
        let txn = self.db.begin_write().map_err(StoreError::db(op))?;
        {
            let mut meta = txn.open_table(META).map_err(StoreError::db(op))?;
            let latest = tables::require_latest(&meta)?;
            let expected = latest.next().ok_or(StoreError::HeightOverflow(latest))?;
            if height != expected {
                return Err(StoreError::UnexpectedHeight {
                    expected,
                    got: height,
                });
            }
            let mut roots = txn.open_table(ROOTS).map_err(StoreError::db(op))?;
            let latest_root = tables::root_at(&roots, latest)?;
            if prepared.base_root != latest_root {
                return Err(StoreError::PreparedBase {
                    prepared_base: prepared.base_root,
                    latest_root,
                });
            }
            let mut nodes = txn.open_table(NODES).map_err(StoreError::db(op))?;
            let mut values = txn.open_table(VALUES).map_err(StoreError::db(op))?;
            write_tree_batch(&mut nodes, &mut values, &prepared.batch)?;
            roots
                .insert(height.0, prepared.root.0)
                .map_err(StoreError::db(op))?;
            write_block_records(&txn, block, cert, receipts, &tx_hashes, notary)?;
            let latest = height.0.to_be_bytes();
            meta.insert(META_LATEST_HEIGHT, latest.as_slice())
                .map_err(StoreError::db(op))?;
        }
        txn.commit().map_err(StoreError::db(op))?;
        debug!(
            height = height.0,
            root = %prepared.root,
            txs = block.txs.len(),
            nodes = prepared.batch.nodes().len(),
            values = prepared.batch.values().len(),
            elapsed_ms = started.elapsed().as_millis(),
            "block committed"
        );
        Ok(())
    }
}

/// Applies `writes` at version `height` on top of the tree `reader` holds at `height - 1`
/// (or on the empty tree for genesis), returning the new root and the nodes to write.
///
/// jmt has two algorithms with the same result: `put_value_set` inserts key by key,
/// rehashing the path to the root each time, and supports deletions and empty sets;
/// `batch_put_value_sets` builds each touched node once (about 5x faster on large sets)
/// but supports neither. The batch one is used whenever it can be (`allow_batch`); the
/// tests check that both give the same roots.
pub(crate) fn compute_update<R: TreeReader>(
    reader: &R,
    writes: &WriteSet,
    height: Height,
    allow_batch: bool,
) -> Result<(Hash, NodeBatch), StoreError> {
    let op = "computing a state root";
    let tree = JellyfishMerkleTree::<_, Sha256>::new(reader);
    let inserts_only = writes.0.values().all(Option::is_some);
    let (root, update) = if allow_batch && !writes.is_empty() && inserts_only {
        let set: Vec<(KeyHash, Vec<u8>)> = writes
            .0
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (key_hash(k), v.clone())))
            .collect();
        let (roots, update) = tree
            .batch_put_value_sets(vec![set], None, height.0)
            .map_err(StoreError::tree(op))?;
        let root = *roots
            .first()
            .expect("one root per value set because exactly one set was given");
        (root, update)
    } else {
        let set = writes.0.iter().map(|(k, v)| (key_hash(k), v.clone()));
        tree.put_value_set(set, height.0)
            .map_err(StoreError::tree(op))?
    };
    Ok((Hash(root.0), update.node_batch))
}

/// Checks everything about a commit that needs no database; returns the tx hashes.
fn check_block(
    block: &Block,
    cert: &CommitCertificate,
    receipts: &[Receipt],
    prepared: &PreparedState,
) -> Result<Vec<Hash>, StoreError> {
    let height = block.height();
    if prepared.height != height {
        return Err(StoreError::PreparedHeight {
            prepared: prepared.height,
            block: height,
        });
    }
    if prepared.root != block.header.state_root {
        return Err(StoreError::StateRootMismatch {
            prepared: prepared.root,
            header: block.header.state_root,
        });
    }
    let block_hash = block.hash();
    if cert.height != height || cert.block_hash != block_hash {
        return Err(StoreError::CertificateMismatch {
            cert_height: cert.height,
            cert_block: cert.block_hash,
            height,
            block: block_hash,
        });
    }
    if receipts.len() != block.txs.len() {
        return Err(StoreError::ReceiptCount {
            receipts: receipts.len(),
            txs: block.txs.len(),
        });
    }
    let tx_hashes: Vec<Hash> = block.txs.iter().map(|tx| tx.hash()).collect();
    for (index, (receipt, tx_hash)) in receipts.iter().zip(&tx_hashes).enumerate() {
        let index_ok = usize::try_from(receipt.index).is_ok_and(|i| i == index);
        if receipt.tx_hash != *tx_hash || receipt.height != height || !index_ok {
            return Err(StoreError::ReceiptMismatch {
                index,
                tx_hash: *tx_hash,
                height,
            });
        }
    }
    let leaves: Vec<Hash> = tx_hashes.iter().map(|h| merkle::leaf_hash(&h.0)).collect();
    let tx_root = merkle::root(&leaves);
    if tx_root != block.header.tx_root {
        return Err(StoreError::TxRootMismatch {
            computed: tx_root,
            header: block.header.tx_root,
        });
    }
    let receipts_root = Receipt::compute_root(receipts);
    if receipts_root != block.header.receipts_root {
        return Err(StoreError::ReceiptsRootMismatch {
            computed: receipts_root,
            header: block.header.receipts_root,
        });
    }
    Ok(tx_hashes)
}

/// Writes a jmt node batch (nodes and value history) into the open tables.
pub(crate) fn write_tree_batch(
    nodes: &mut Table<&'static [u8], &'static [u8]>,
    values: &mut Table<([u8; 32], u64), Option<&'static [u8]>>,
    batch: &NodeBatch,
) -> Result<(), StoreError> {
    let op = "writing state tree nodes";
    // Inserting in table-key order keeps each B-tree page hot while it is filled.
    let mut encoded: Vec<(Vec<u8>, Vec<u8>)> = batch
        .nodes()
        .iter()
        .map(|(key, node)| (node_key_bytes(key), simin_types::encode(node)))
        .collect();
    encoded.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (key, node) in &encoded {
        debug_assert!(
            node.len() <= NODE_BYTES_MAX,
            "a jmt node fits NODE_BYTES_MAX"
        );
        nodes
            .insert(key.as_slice(), node.as_slice())
            .map_err(StoreError::db(op))?;
    }
    for ((version, key_hash), value) in batch.values() {
        values
            .insert((key_hash.0, *version), value.as_deref())
            .map_err(StoreError::db(op))?;
    }
    Ok(())
}

/// Writes the block, its hash, certificate, receipts and the two indexes.
fn write_block_records(
    txn: &WriteTransaction,
    block: &Block,
    cert: &CommitCertificate,
    receipts: &[Receipt],
    tx_hashes: &[Hash],
    notary: &[NotaryIndexEntry],
) -> Result<(), StoreError> {
    let op = "writing block records";
    let height = block.height();
    let db = StoreError::db(op);
    let mut blocks = txn.open_table(BLOCKS).map_err(db)?;
    blocks
        .insert(height.0, block.encode().as_slice())
        .map_err(StoreError::db(op))?;
    let mut hashes = txn.open_table(BLOCK_HASHES).map_err(StoreError::db(op))?;
    hashes
        .insert(height.0, block.hash().0)
        .map_err(StoreError::db(op))?;
    let mut certs = txn.open_table(CERTIFICATES).map_err(StoreError::db(op))?;
    let cert_bytes = simin_types::encode(cert);
    certs
        .insert(height.0, cert_bytes.as_slice())
        .map_err(StoreError::db(op))?;
    let mut receipt_table = txn.open_table(RECEIPTS).map_err(StoreError::db(op))?;
    let receipt_bytes = simin_types::encode(&receipts.to_vec());
    receipt_table
        .insert(height.0, receipt_bytes.as_slice())
        .map_err(StoreError::db(op))?;

    let mut tx_index = txn.open_table(TX_INDEX).map_err(StoreError::db(op))?;
    let mut located: Vec<(Hash, u32)> = Vec::with_capacity(tx_hashes.len());
    for (index, tx_hash) in tx_hashes.iter().enumerate() {
        // At most BLOCK_TXS_MAX (20,000) transactions, checked when the block was decoded.
        let index = u32::try_from(index).map_err(|_| StoreError::IndexTooLarge {
            what: "transaction",
            len: tx_hashes.len(),
            max: simin_types::limits::BLOCK_TXS_MAX,
        })?;
        located.push((*tx_hash, index));
    }
    // Key order, as for the tree nodes; on equal hashes the first occurrence comes first.
    located.sort_unstable();
    for (tx_hash, index) in &located {
        let (tx_hash, index) = (*tx_hash, *index);
        let previous = tx_index
            .insert(tx_hash.0, (height.0, index))
            .map_err(StoreError::db(op))?
            .map(|guard| guard.value());
        // Nonces make a repeated transaction impossible; if one appears anyway, the first
        // occurrence stays indexed, because that is where the transaction took effect.
        if let Some(first) = previous {
            warn!(%tx_hash, first_height = first.0, height = height.0, "transaction hash seen twice");
            tx_index
                .insert(tx_hash.0, first)
                .map_err(StoreError::db(op))?;
        }
    }
    let mut notary_index = txn.open_table(NOTARY_INDEX).map_err(StoreError::db(op))?;
    let mut sorted: Vec<&NotaryIndexEntry> = notary.iter().collect();
    // A stable sort: among entries for one document, the first given stays first.
    sorted.sort_by_key(|entry| entry.document);
    for entry in sorted {
        let previous = notary_index
            .insert(entry.document.0, (entry.batch_root.0, entry.tx_hash.0))
            .map_err(StoreError::db(op))?
            .map(|guard| guard.value());
        if let Some(first) = previous {
            // The ledger refuses re-anchoring; keep the first anchor if it happens anyway.
            warn!(document = %entry.document, "document indexed twice; keeping the first");
            notary_index
                .insert(entry.document.0, first)
                .map_err(StoreError::db(op))?;
        }
    }
    Ok(())
}

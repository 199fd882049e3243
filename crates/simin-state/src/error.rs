//! Errors of the store and of client-side proof checks.

use simin_types::{Hash, Height, TypesError};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The embedded database failed (I/O, corruption, lock held by another process).
    #[error("database error while {op}: {source}")]
    Db {
        op: &'static str,
        #[source]
        source: redb::Error,
    },
    /// The database file fails redb's integrity check (checksums, structure): it was
    /// changed outside redb or the disk lost data. Nothing was read from it.
    #[error("the store at {path} is damaged: {reason}; restore it from a backup or re-sync it from the network (move the file away to start empty)")]
    Damaged {
        path: std::path::PathBuf,
        reason: String,
    },
    /// The Merkle tree code reported an error (a missing node means a corrupt database).
    #[error("state tree error while {op}: {reason}")]
    Tree { op: &'static str, reason: String },
    /// A stored record does not decode: the database is corrupt or from another version.
    #[error("stored {what} is corrupt: {source}")]
    Corrupt {
        what: &'static str,
        #[source]
        source: TypesError,
    },
    #[error("{what} at height {height} is missing: the database is corrupt")]
    Missing { what: &'static str, height: Height },
    #[error("the store is not initialised: call init_genesis first")]
    NotInitialised,
    #[error("the store is already initialised at height {latest}")]
    AlreadyInitialised { latest: Height },
    #[error("height {requested} is above the latest committed height {latest}")]
    HeightAboveLatest { requested: Height, latest: Height },
    #[error("expected height {expected} (latest committed + 1), got {got}")]
    UnexpectedHeight { expected: Height, got: Height },
    #[error("prepared state is for height {prepared}, the block is at height {block}")]
    PreparedHeight { prepared: Height, block: Height },
    #[error("prepared state was computed on base root {prepared_base}, the latest root is {latest_root}")]
    PreparedBase {
        prepared_base: Hash,
        latest_root: Hash,
    },
    #[error("prepared state root {prepared} differs from the block's state root {header}")]
    StateRootMismatch { prepared: Hash, header: Hash },
    #[error("certificate is for height {cert_height} block {cert_block}, the block is height {height} hash {block}")]
    CertificateMismatch {
        cert_height: Height,
        cert_block: Hash,
        height: Height,
        block: Hash,
    },
    #[error("{receipts} receipts for a block of {txs} transactions")]
    ReceiptCount { receipts: usize, txs: usize },
    #[error("receipt {index} does not match transaction {tx_hash} at height {height}")]
    ReceiptMismatch {
        index: usize,
        tx_hash: Hash,
        height: Height,
    },
    #[error("receipts root {computed} differs from the header's receipts root {header}")]
    ReceiptsRootMismatch { computed: Hash, header: Hash },
    #[error("transaction root {computed} differs from the header's transaction root {header}")]
    TxRootMismatch { computed: Hash, header: Hash },
    #[error("state key of {len} bytes: keys must be 1 to {max} bytes")]
    KeyLength { len: usize, max: usize },
    #[error("state value of {len} bytes is over the limit of {max}")]
    ValueTooLarge { len: usize, max: usize },
    #[error("write set of {len} keys is over the limit of {max}")]
    WriteSetTooLarge { len: usize, max: usize },
    #[error("{what} index holds {len} entries, over the limit of {max}")]
    IndexTooLarge {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("height {0} is the last representable height")]
    HeightOverflow(Height),
}

impl StoreError {
    /// Wraps any redb error with what the store was doing.
    pub(crate) fn db<E: Into<redb::Error>>(op: &'static str) -> impl FnOnce(E) -> StoreError {
        move |source| StoreError::Db {
            op,
            source: source.into(),
        }
    }

    /// Wraps a jmt (`anyhow`) error with what the store was doing.
    pub(crate) fn tree(op: &'static str) -> impl FnOnce(anyhow::Error) -> StoreError {
        move |err| StoreError::Tree {
            op,
            reason: format!("{err:#}"),
        }
    }

    /// Wraps a decode error of a stored record.
    pub(crate) fn corrupt(what: &'static str) -> impl FnOnce(TypesError) -> StoreError {
        move |source| StoreError::Corrupt { what, source }
    }
}

/// Why a state proof was refused by `verify_proof`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("cannot decode state proof: {0}")]
    Decode(TypesError),
    #[error("state proof does not verify against root {root}: {reason}")]
    Invalid { root: Hash, reason: String },
}

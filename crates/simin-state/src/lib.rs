//! simin's authenticated state (a Jellyfish Merkle Tree with SHA-256) and block store,
//! over one embedded redb database file.
//!
//! Versions of the tree are block heights; genesis is version 0. A block's state is
//! computed with `Store::prepare` (nothing written) and made durable, together with the
//! block, its certificate, receipts and indexes, by `Store::commit` in one redb write
//! transaction, so a crash at any moment leaves the store at its last committed height.
//! This crate knows nothing of execution: write sets come from the ledger.

#[cfg(test)]
mod batch_tests;
mod commit;
mod error;
mod integrity;
mod proof;
mod store;
mod tables;
mod tree_reader;
mod write_set;

pub use commit::{NotaryIndexEntry, PreparedState};
pub use error::{ProofError, StoreError};
pub use proof::{verify_proof, StateProof, STATE_PROOF_BYTES_MAX};
pub use store::Store;
pub use tables::GENESIS_BYTES_MAX;
pub use write_set::{WriteSet, KEY_BYTES_MAX, VALUE_BYTES_MAX, WRITE_SET_KEYS_MAX};

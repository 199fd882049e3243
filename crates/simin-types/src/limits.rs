//! Protocol limits. Every value that arrives from outside is bounded by one of these.

/// Largest encoded signed transaction.
pub const TX_BYTES_MAX: usize = 64 * 1024;
/// Largest encoded block (header and transactions).
pub const BLOCK_BYTES_MAX: usize = 8 * 1024 * 1024;
/// Most transactions in one block.
pub const BLOCK_TXS_MAX: usize = 20_000;
/// Most document hashes in one notary batch (32 KiB of hashes, within a transaction).
pub const NOTARY_BATCH_MAX: usize = 1024;
/// Longest organisation name, in bytes.
pub const ORG_NAME_BYTES_MAX: usize = 200;
/// Most keys or roles of one organisation.
pub const ORG_KEYS_MAX: usize = 16;
/// Most validators in a validator set.
pub const VALIDATORS_MAX: usize = 256;
/// Longest notary label (a non-personal document kind, e.g. "certificate-of-residence").
pub const NOTARY_LABEL_BYTES_MAX: usize = 64;

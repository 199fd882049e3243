//! The redb tables of the store, their key encodings and the size bounds of stored records.
//!
//! Changing a table's name, key or value type changes the on-disk format: it is a
//! deliberate, reviewed act, like changing a wire format.

use redb::{ReadableTable, TableDefinition};
use simin_types::Height;

use crate::StoreError;

/// Single values, under the `META_*` keys.
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Height of the last committed block, 8 bytes big-endian.
pub(crate) const META_LATEST_HEIGHT: &str = "latest_height";
/// The genesis document exactly as given to `init_genesis`.
pub(crate) const META_GENESIS_JSON: &str = "genesis_json";

/// jmt nodes, keyed by `node_key_bytes` (version first, so each commit appends).
pub(crate) const NODES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("jmt_nodes");
/// Value history: (key hash, version) -> value, or `None` for a deletion at that version.
pub(crate) const VALUES: TableDefinition<([u8; 32], u64), Option<&[u8]>> =
    TableDefinition::new("jmt_values");
/// State root after each height (0 = genesis).
pub(crate) const ROOTS: TableDefinition<u64, [u8; 32]> = TableDefinition::new("state_roots");

/// Encoded blocks by height.
pub(crate) const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
/// Block (header) hashes by height, so callers need not decode whole blocks.
pub(crate) const BLOCK_HASHES: TableDefinition<u64, [u8; 32]> =
    TableDefinition::new("block_hashes");
/// Encoded commit certificates by height.
pub(crate) const CERTIFICATES: TableDefinition<u64, &[u8]> = TableDefinition::new("certificates");
/// Encoded `Vec<Receipt>` by height.
pub(crate) const RECEIPTS: TableDefinition<u64, &[u8]> = TableDefinition::new("receipts");
/// Transaction hash -> (height, index in block).
pub(crate) const TX_INDEX: TableDefinition<[u8; 32], (u64, u32)> = TableDefinition::new("tx_index");
/// Notary document hash -> (batch root, transaction hash). Derived, not consensus state.
pub(crate) const NOTARY_INDEX: TableDefinition<[u8; 32], ([u8; 32], [u8; 32])> =
    TableDefinition::new("notary_index");

/// Largest stored jmt node (an internal node has at most 16 children of ~45 bytes).
pub(crate) const NODE_BYTES_MAX: usize = 4096;
/// Largest stored commit certificate (256 validators of 96 bytes, with room to spare).
pub(crate) const CERTIFICATE_BYTES_MAX: usize = 64 * 1024;
/// Largest stored receipt list (20,000 receipts with their failure messages).
pub(crate) const RECEIPTS_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Largest genesis document accepted by `init_genesis`.
pub const GENESIS_BYTES_MAX: usize = 16 * 1024 * 1024;

/// The table key of a jmt node: its version big-endian, then its borsh-encoded nibble
/// path. The version has a fixed width, so the encoding is injective; it sorts by version,
/// so the nodes of a new version are appended at the end of the B-tree.
pub(crate) fn node_key_bytes(key: &jmt::storage::NodeKey) -> Vec<u8> {
    let path = simin_types::encode(key.nibble_path());
    let mut bytes = Vec::with_capacity(8 + path.len());
    bytes.extend_from_slice(&key.version().to_be_bytes());
    bytes.extend_from_slice(&path);
    bytes
}

/// Reads the latest committed height from the meta table.
pub(crate) fn latest_height(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Option<Height>, StoreError> {
    let Some(guard) = meta
        .get(META_LATEST_HEIGHT)
        .map_err(StoreError::db("reading the latest height"))?
    else {
        return Ok(None);
    };
    let bytes: [u8; 8] = guard.value().try_into().map_err(|_| StoreError::Corrupt {
        what: "latest height",
        source: simin_types::TypesError::Invalid {
            what: "latest height",
            reason: format!("{} bytes instead of 8", guard.value().len()),
        },
    })?;
    Ok(Some(Height(u64::from_be_bytes(bytes))))
}

/// Like `latest_height`, but an uninitialised store is an error.
pub(crate) fn require_latest(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Height, StoreError> {
    latest_height(meta)?.ok_or(StoreError::NotInitialised)
}

/// Reads the state root stored for `height`.
pub(crate) fn root_at(
    roots: &impl ReadableTable<u64, [u8; 32]>,
    height: Height,
) -> Result<simin_types::Hash, StoreError> {
    roots
        .get(height.0)
        .map_err(StoreError::db("reading a state root"))?
        .map(|guard| simin_types::Hash(guard.value()))
        .ok_or(StoreError::Missing {
            what: "state root",
            height,
        })
}

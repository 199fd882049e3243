//! jmt's `TreeReader` over the redb node and value tables of one transaction.
//!
//! The same reader serves read transactions (proofs, `prepare`) and write transactions
//! (genesis), because both kinds of redb table implement `ReadableTable`.

use jmt::storage::{LeafNode, Node, NodeKey, TreeReader};
use jmt::{KeyHash, OwnedValue, Version};
use redb::ReadableTable;

use crate::tables::{node_key_bytes, NODE_BYTES_MAX};

/// The jmt view of one transaction's node and value tables.
pub(crate) struct TreeTables<'t, N, V> {
    pub(crate) nodes: &'t N,
    pub(crate) values: &'t V,
}

impl<N, V> TreeReader for TreeTables<'_, N, V>
where
    N: ReadableTable<&'static [u8], &'static [u8]>,
    V: ReadableTable<([u8; 32], u64), Option<&'static [u8]>>,
{
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let key = node_key_bytes(node_key);
        let Some(guard) = self.nodes.get(key.as_slice())? else {
            return Ok(None);
        };
        let node = simin_types::decode("jmt node", guard.value(), NODE_BYTES_MAX)?;
        Ok(Some(node))
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(value_at(self.values, key_hash.0, max_version)?)
    }

    /// Only jmt's state-restore and migration code calls this; simin uses neither, and an
    /// efficient answer would need a second index of leaves, so it is refused.
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        anyhow::bail!(
            "get_rightmost_leaf is not supported: simin-state does not restore jmt snapshots"
        )
    }
}

/// The value of `key_hash` at `version`: the newest write at or below `version`, where a
/// deletion reads as `None`. One range query in the value history table.
pub(crate) fn value_at(
    values: &impl ReadableTable<([u8; 32], u64), Option<&'static [u8]>>,
    key_hash: [u8; 32],
    version: u64,
) -> Result<Option<Vec<u8>>, redb::StorageError> {
    let mut range = values.range((key_hash, 0)..=(key_hash, version))?;
    match range.next_back() {
        Some(entry) => {
            let (_, value) = entry?;
            Ok(value.value().map(<[u8]>::to_vec))
        }
        None => Ok(None),
    }
}

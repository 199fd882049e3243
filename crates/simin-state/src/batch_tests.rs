//! Checks that jmt's batch and key-by-key algorithms give the same roots, so the choice
//! `compute_update` makes can never split validators.

use proptest::prelude::*;
use redb::ReadableDatabase;
use simin_types::{
    Block, BlockHeader, BlockTime, ChainId, CommitCertificate, Hash, Height, PublicKey, Receipt,
};

use crate::commit::compute_update;
use crate::tables::{NODES, VALUES};
use crate::tree_reader::TreeTables;
use crate::{Store, WriteSet};

/// Roots of `writes` at the next height, by the batch and by the key-by-key algorithm.
fn both_roots(store: &Store, height: Height, writes: &WriteSet) -> (Hash, Hash) {
    let txn = store.db.begin_read().expect("read transaction");
    let nodes = txn.open_table(NODES).expect("nodes");
    let values = txn.open_table(VALUES).expect("values");
    let reader = TreeTables {
        nodes: &nodes,
        values: &values,
    };
    let (batch, _) = compute_update(&reader, writes, height, true).expect("batch");
    let (single, _) = compute_update(&reader, writes, height, false).expect("key by key");
    (batch, single)
}

/// A block with no transactions carrying `state_root`, and its certificate.
fn empty_block(height: Height, state_root: Hash) -> (Block, CommitCertificate) {
    let header = BlockHeader {
        chain_id: ChainId::new("simin-test-1").expect("a valid chain id because it is lowercase"),
        height,
        time: BlockTime(height.0),
        prev_block_hash: Hash::ZERO,
        tx_root: Block::compute_tx_root(&[]),
        receipts_root: Receipt::compute_root(&[]),
        state_root,
        validators_hash: Hash::ZERO,
        proposer: PublicKey([1; 32]),
    };
    let block = Block {
        header,
        txs: vec![],
    };
    let cert = CommitCertificate {
        height,
        round: 0,
        block_hash: block.hash(),
        signatures: vec![],
    };
    (block, cert)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn batch_and_key_by_key_roots_agree(
        sets in prop::collection::vec(
            prop::collection::btree_map(
                prop::collection::vec(any::<u8>(), 1..6),
                prop::collection::vec(any::<u8>(), 0..8),
                1..40,
            ),
            1..5,
        )
    ) {
        let store = Store::in_memory().expect("store");
        let mut sets = sets.into_iter().map(|set| WriteSet(set.into_iter().map(|(k, v)| (k, Some(v))).collect()));
        let genesis = sets.next().expect("at least one set");
        let genesis_root = store.init_genesis(b"{}", genesis.clone()).expect("genesis");
        // Genesis was computed by the batch algorithm; the key-by-key one must agree.
        let fresh = Store::in_memory().expect("store");
        let (single, _) = {
            let txn = fresh.db.begin_read().expect("read transaction");
            let nodes = txn.open_table(NODES).expect("nodes");
            let values = txn.open_table(VALUES).expect("values");
            let reader = TreeTables { nodes: &nodes, values: &values };
            compute_update(&reader, &genesis, Height::GENESIS, false).expect("key by key")
        };
        prop_assert_eq!(genesis_root, single);
        for (i, writes) in sets.enumerate() {
            let height = Height(u64::try_from(i + 1).expect("small"));
            let (batch, single) = both_roots(&store, height, &writes);
            prop_assert_eq!(batch, single);
            let prepared = store.prepare(height, &writes).expect("prepare");
            prop_assert_eq!(prepared.root(), batch);
            let (block, cert) = empty_block(height, prepared.root());
            store.commit(&block, &cert, &[], &[], prepared).expect("commit");
        }
    }
}

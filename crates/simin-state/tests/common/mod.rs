//! Test fixtures shared by the integration tests: deterministic write sets and blocks.

#![allow(dead_code)] // Each test binary uses a different subset of the fixtures.

use simin_state::{NotaryIndexEntry, Store, WriteSet};
use simin_types::{
    Block, BlockHeader, BlockTime, Call, ChainId, CommitCertificate, Hash, Height, NotaryCall,
    PublicKey, Receipt, Signature, SignedTx, Tx, TxOutcome,
};

/// A deterministic write set for `height`: `count` keys, some rewritten every height, and
/// (from height 2) a deletion of a key written at the previous height.
pub fn writes_for(height: Height, count: usize) -> WriteSet {
    let mut writes = WriteSet::new();
    for i in 0..count {
        // Half the keys are shared across heights (updates), half are new (inserts).
        let key = if i % 2 == 0 {
            format!("shared/{i}")
        } else {
            format!("h{}/{i}", height.0)
        };
        writes.put(key.into_bytes(), format!("v{}-{i}", height.0).into_bytes());
    }
    if height.0 >= 2 && count >= 2 {
        writes.delete(format!("h{}/1", height.0 - 1).into_bytes());
    }
    writes
}

/// `count` distinct notary transactions for `height`. The store does not check
/// signatures, so a zero signature keeps fixtures fast.
pub fn txs_for(height: Height, count: usize) -> Vec<SignedTx> {
    (0..count)
        .map(|i| {
            let document = Hash::digest_parts(&[&height.0.to_be_bytes(), &i.to_be_bytes()]);
            SignedTx {
                tx: Tx {
                    chain_id: chain_id(),
                    signer: PublicKey([7; 32]),
                    nonce: u64::try_from(i).expect("test counts fit in u64 because they are small"),
                    expiry_height: Height(u64::MAX),
                    call: Call::Notary(NotaryCall::Anchor { document }),
                },
                signature: Signature([0; 64]),
            }
        })
        .collect()
}

pub fn chain_id() -> ChainId {
    ChainId::new("simin-test-1").expect("a valid chain id because it is lowercase")
}

/// A block at `height` over `txs` with `state_root`, its certificate and its receipts.
pub fn block_for(
    store: &Store,
    height: Height,
    txs: Vec<SignedTx>,
    state_root: Hash,
) -> (Block, CommitCertificate, Vec<Receipt>) {
    let receipts: Vec<Receipt> = txs
        .iter()
        .enumerate()
        .map(|(i, tx)| Receipt {
            tx_hash: tx.hash(),
            height,
            index: u32::try_from(i).expect("test blocks are small"),
            outcome: TxOutcome::Success,
        })
        .collect();
    let prev_block_hash = height
        .prev()
        .and_then(|prev| store.block_hash(prev).expect("reading a block hash"))
        .unwrap_or(Hash::ZERO);
    let header = BlockHeader {
        chain_id: chain_id(),
        height,
        time: BlockTime(height.0),
        prev_block_hash,
        tx_root: Block::compute_tx_root(&txs),
        receipts_root: Receipt::compute_root(&receipts),
        state_root,
        validators_hash: Hash::ZERO,
        proposer: PublicKey([1; 32]),
    };
    let block = Block { header, txs };
    let cert = CommitCertificate {
        height,
        round: 0,
        block_hash: block.hash(),
        signatures: vec![],
    };
    (block, cert, receipts)
}

/// Prepares and commits `writes` with `tx_count` transactions at the next height; returns
/// the new root.
pub fn commit_next(store: &Store, writes: &WriteSet, tx_count: usize) -> Hash {
    let latest = store
        .latest_height()
        .expect("reading latest")
        .expect("initialised");
    let height = latest.next().expect("test heights are small");
    let prepared = store.prepare(height, writes).expect("prepare");
    let root = prepared.root();
    let (block, cert, receipts) = block_for(store, height, txs_for(height, tx_count), root);
    let notary: Vec<NotaryIndexEntry> = vec![];
    store
        .commit(&block, &cert, &receipts, &notary, prepared)
        .expect("commit");
    root
}

/// A store with a small genesis state.
pub fn genesis_store() -> (Store, Hash) {
    let store = Store::in_memory().expect("in-memory store");
    let root = store
        .init_genesis(
            b"{\"chain_id\":\"simin-test-1\"}",
            writes_for(Height::GENESIS, 4),
        )
        .expect("genesis");
    (store, root)
}

/// The roots of heights 0..=last when the deterministic write sets are replayed into a
/// fresh in-memory store: the reference for crash and reopen tests.
pub fn replay_roots(last: Height, writes_per_block: usize) -> Vec<Hash> {
    let store = Store::in_memory().expect("in-memory store");
    let mut roots = vec![store
        .init_genesis(b"{}", writes_for(Height::GENESIS, writes_per_block))
        .expect("genesis")];
    for h in 1..=last.0 {
        roots.push(commit_next(
            &store,
            &writes_for(Height(h), writes_per_block),
            0,
        ));
    }
    roots
}

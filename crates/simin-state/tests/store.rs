//! Store behaviour: genesis, prepare/commit, refusals, block records, indexes, reopening.

mod common;

use common::{block_for, commit_next, genesis_store, replay_roots, txs_for, writes_for};
use simin_state::{verify_proof, NotaryIndexEntry, Store, StoreError, WriteSet};
use simin_types::{Hash, Height};

#[test]
fn an_uninitialised_store_says_so() {
    let store = Store::in_memory().expect("store");
    assert_eq!(store.latest_height().expect("latest"), None);
    assert_eq!(store.genesis_json().expect("genesis json"), None);
    assert!(matches!(
        store.get(b"k", None),
        Err(StoreError::NotInitialised)
    ));
    assert!(matches!(
        store.state_root(Height(0)),
        Err(StoreError::NotInitialised)
    ));
    assert!(matches!(
        store.prepare(Height(1), &WriteSet::new()),
        Err(StoreError::NotInitialised)
    ));
}

#[test]
fn genesis_is_version_zero_and_is_written_once() {
    let (store, root) = genesis_store();
    assert_eq!(
        store.latest_height().expect("latest"),
        Some(Height::GENESIS)
    );
    assert_eq!(store.state_root(Height::GENESIS).expect("root"), root);
    assert_eq!(
        store.genesis_json().expect("json").as_deref(),
        Some(b"{\"chain_id\":\"simin-test-1\"}".as_slice())
    );
    assert_eq!(
        store.get(b"shared/0", None).expect("get"),
        Some(b"v0-0".to_vec())
    );
    assert!(matches!(
        store.init_genesis(b"{}", WriteSet::new()),
        Err(StoreError::AlreadyInitialised { latest: Height(0) })
    ));
    assert!(matches!(
        store.state_root(Height(1)),
        Err(StoreError::HeightAboveLatest {
            requested: Height(1),
            latest: Height(0)
        })
    ));
}

#[test]
fn an_empty_write_set_keeps_the_previous_root_at_the_new_version() {
    // An empty genesis gives the empty tree's root, and proofs of absence work against it.
    let store = Store::in_memory().expect("store");
    let empty_root = store.init_genesis(b"{}", WriteSet::new()).expect("genesis");
    let (value, proof) = store.get_with_proof(b"k", None).expect("proof");
    assert_eq!(value, None);
    verify_proof(&empty_root, b"k", None, &proof).expect("absence in the empty tree");

    let (store, genesis_root) = genesis_store();
    let root1 = commit_next(&store, &WriteSet::new(), 0);
    assert_eq!(root1, genesis_root, "no writes, same root");
    assert_eq!(store.state_root(Height(1)).expect("root"), genesis_root);
    let (value, proof) = store
        .get_with_proof(b"shared/0", Some(Height(1)))
        .expect("proof");
    verify_proof(&root1, b"shared/0", value.as_deref(), &proof).expect("proof at height 1");
    // The tree keeps working after an empty version.
    let root2 = commit_next(&store, &writes_for(Height(2), 3), 0);
    assert_ne!(root2, root1);
}

#[test]
fn prepare_without_commit_changes_nothing() {
    let (store, root0) = genesis_store();
    let writes = writes_for(Height(1), 10);
    let first = store.prepare(Height(1), &writes).expect("prepare");
    let second = store.prepare(Height(1), &writes).expect("prepare again");
    assert_eq!(first.root(), second.root(), "prepare is deterministic");
    assert_eq!(first.base_root(), root0);
    drop(first);
    assert_eq!(store.latest_height().expect("latest"), Some(Height(0)));
    assert_eq!(store.state_root(Height(0)).expect("root"), root0);
    assert_eq!(store.get(b"h1/1", None).expect("get"), None);
    assert!(store.block(Height(1)).expect("block").is_none());
    // Committing the second prepared state still works.
    let (block, cert, receipts) =
        block_for(&store, Height(1), txs_for(Height(1), 2), second.root());
    store
        .commit(&block, &cert, &receipts, &[], second)
        .expect("commit");
    assert_eq!(
        store.get(b"h1/1", None).expect("get"),
        Some(b"v1-1".to_vec())
    );
}

#[test]
fn commit_refuses_mismatches_and_writes_nothing() {
    let (store, root0) = genesis_store();
    let writes = writes_for(Height(1), 6);
    let h1 = Height(1);
    assert!(matches!(
        store.prepare(Height(2), &writes),
        Err(StoreError::UnexpectedHeight {
            expected: Height(1),
            got: Height(2)
        })
    ));
    let root = store.prepare(h1, &writes).expect("prepare").root();
    let fresh = || store.prepare(h1, &writes).expect("prepare");

    // The header's state root differs from the prepared root.
    let (block, cert, receipts) = block_for(&store, h1, txs_for(h1, 2), Hash::digest(b"x"));
    let err = store.commit(&block, &cert, &receipts, &[], fresh());
    assert!(
        matches!(err, Err(StoreError::StateRootMismatch { .. })),
        "{err:?}"
    );

    // The certificate is for another block.
    let (block, mut cert, receipts) = block_for(&store, h1, txs_for(h1, 2), root);
    cert.block_hash = Hash::digest(b"other");
    let err = store.commit(&block, &cert, &receipts, &[], fresh());
    assert!(
        matches!(err, Err(StoreError::CertificateMismatch { .. })),
        "{err:?}"
    );

    // Receipts missing, or not for the block's transactions.
    let (block, cert, mut receipts) = block_for(&store, h1, txs_for(h1, 2), root);
    let err = store.commit(&block, &cert, &receipts[..1], &[], fresh());
    assert!(
        matches!(
            err,
            Err(StoreError::ReceiptCount {
                receipts: 1,
                txs: 2
            })
        ),
        "{err:?}"
    );
    receipts.swap(0, 1);
    let err = store.commit(&block, &cert, &receipts, &[], fresh());
    assert!(
        matches!(err, Err(StoreError::ReceiptMismatch { index: 0, .. })),
        "{err:?}"
    );

    // A block at the wrong height (with a prepared state for that height).
    let (block2, cert2, receipts2) = block_for(&store, Height(2), vec![], root);
    let err = store.commit(&block2, &cert2, &receipts2, &[], fresh());
    assert!(
        matches!(err, Err(StoreError::PreparedHeight { .. })),
        "{err:?}"
    );

    assert_eq!(store.latest_height().expect("latest"), Some(Height(0)));
    assert_eq!(store.state_root(Height(0)).expect("root"), root0);
    assert!(store.block(h1).expect("block").is_none());
    assert_eq!(store.get(b"h1/1", None).expect("get"), None);

    // A prepared state made stale by another commit at its height is refused.
    let stale = fresh();
    let (block, cert, receipts) = block_for(&store, h1, txs_for(h1, 2), root);
    store
        .commit(&block, &cert, &receipts, &[], fresh())
        .expect("commit");
    let err = store.commit(&block, &cert, &receipts, &[], stale);
    assert!(
        matches!(
            err,
            Err(StoreError::UnexpectedHeight {
                expected: Height(2),
                got: Height(1)
            })
        ),
        "{err:?}"
    );
}

#[test]
fn blocks_certificates_receipts_and_indexes_round_trip() {
    let (store, _) = genesis_store();
    let h1 = Height(1);
    let prepared = store.prepare(h1, &writes_for(h1, 4)).expect("prepare");
    let txs = txs_for(h1, 3);
    let (block, cert, receipts) = block_for(&store, h1, txs.clone(), prepared.root());
    let document = Hash::digest(b"certificate of residence");
    let entry = NotaryIndexEntry {
        document,
        batch_root: Hash::digest(b"batch"),
        tx_hash: txs[2].hash(),
    };
    store
        .commit(&block, &cert, &receipts, &[entry], prepared)
        .expect("commit");

    assert_eq!(store.block(h1).expect("block"), Some(block.clone()));
    assert_eq!(store.block_hash(h1).expect("hash"), Some(block.hash()));
    assert_eq!(store.certificate(h1).expect("cert"), Some(cert));
    assert_eq!(store.receipts(h1).expect("receipts"), Some(receipts));
    for (i, tx) in txs.iter().enumerate() {
        let index = u32::try_from(i).expect("small");
        assert_eq!(
            store.tx_location(&tx.hash()).expect("tx"),
            Some((h1, index))
        );
    }
    assert_eq!(
        store.tx_location(&Hash::digest(b"unknown")).expect("tx"),
        None
    );
    assert_eq!(
        store.notary_document(&document).expect("notary"),
        Some(entry)
    );
    assert_eq!(store.notary_document(&Hash::ZERO).expect("notary"), None);
    assert_eq!(store.block(Height(0)).expect("genesis has no block"), None);
    assert_eq!(store.block(Height(2)).expect("no block yet"), None);
}

#[test]
fn deletions_are_versioned() {
    let (store, _) = genesis_store();
    commit_next(&store, &writes_for(Height(1), 4), 0);
    let root2 = commit_next(&store, &writes_for(Height(2), 4), 0); // deletes h1/1
    assert_eq!(
        store.get(b"h1/1", Some(Height(1))).expect("get"),
        Some(b"v1-1".to_vec())
    );
    assert_eq!(store.get(b"h1/1", Some(Height(2))).expect("get"), None);
    let (value, proof) = store
        .get_with_proof(b"h1/1", Some(Height(2)))
        .expect("proof");
    assert_eq!(value, None);
    verify_proof(&root2, b"h1/1", None, &proof).expect("absence after deletion");
    assert!(verify_proof(&root2, b"h1/1", Some(b"v1-1"), &proof).is_err());
}

#[test]
fn invalid_keys_and_future_heights_are_refused() {
    let (store, _) = genesis_store();
    assert!(matches!(
        store.get(b"", None),
        Err(StoreError::KeyLength { len: 0, .. })
    ));
    let long = vec![b'k'; simin_state::KEY_BYTES_MAX + 1];
    assert!(matches!(
        store.get(&long, None),
        Err(StoreError::KeyLength { .. })
    ));
    let mut writes = WriteSet::new();
    writes.put(Vec::new(), b"v".to_vec());
    assert!(matches!(
        store.prepare(Height(1), &writes),
        Err(StoreError::KeyLength { .. })
    ));
    assert!(matches!(
        store.get(b"k", Some(Height(5))),
        Err(StoreError::HeightAboveLatest { .. })
    ));
}

#[test]
fn reopening_a_file_gives_identical_roots_and_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.redb");
    let writes_per_block = 20;
    let last = Height(5);
    {
        let store = Store::open(&path).expect("open");
        store
            .init_genesis(b"{}", writes_for(Height::GENESIS, writes_per_block))
            .expect("genesis");
        for h in 1..=last.0 {
            commit_next(&store, &writes_for(Height(h), writes_per_block), 2);
        }
    }
    let store = Store::open(&path).expect("reopen");
    assert_eq!(store.latest_height().expect("latest"), Some(last));
    let expected = replay_roots(last, writes_per_block);
    for (h, root) in expected.iter().enumerate() {
        let height = Height(u64::try_from(h).expect("small"));
        assert_eq!(
            store.state_root(height).expect("root"),
            *root,
            "root at {height}"
        );
    }
    assert_eq!(
        store.get(b"shared/0", None).expect("get"),
        Some(b"v5-0".to_vec())
    );
    // The reopened store keeps committing.
    commit_next(&store, &writes_for(Height(6), writes_per_block), 1);
    assert_eq!(store.latest_height().expect("latest"), Some(Height(6)));
}

#[test]
fn a_second_open_of_the_same_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.redb");
    let _first = Store::open(&path).expect("open");
    assert!(matches!(Store::open(&path), Err(StoreError::Db { .. })));
}

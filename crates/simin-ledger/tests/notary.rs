//! The notary module's rules, each on its allowed and its refused path.

mod common;

use common::*;
use simin_ledger::{notary_batch_leaves, notary_batch_root, BlockError, TxError};
use simin_types::{limits, merkle, Role, TxOutcome};

#[test]
fn a_notary_anchors_a_document_with_its_evidence() {
    let mut chain = Chain::new();
    let tx = sign(&notary(), 0, anchor(doc(1)));
    let out = chain.block(std::slice::from_ref(&tx));
    assert_success(&out);
    let record = chain.record(&doc(1)).expect("anchored");
    assert_eq!(record.organization, org_id("city.notary"));
    assert_eq!(record.signer, notary().public_key());
    assert_eq!(record.height, chain.height);
    assert_eq!(
        record.time,
        chain
            .next_ctx()
            .time
            .0
            .checked_sub(1_000)
            .map(simin_types::BlockTime)
            .expect("after genesis")
    );
    assert_eq!(out.receipts[0].tx_hash, tx.hash());
    assert_eq!(record.tx_hash, tx.hash());
    assert_eq!(record.documents, 1);
}

#[test]
fn the_first_anchoring_is_the_evidence() {
    let mut chain = Chain::new();
    assert_success(&chain.run(&notary(), anchor(doc(1))));
    let first = chain.record(&doc(1)).expect("anchored");
    let out = chain.run(&notary(), anchor(doc(1)));
    assert_failure(&out, &notary(), "notary.already_anchored");
    assert_eq!(chain.record(&doc(1)), Some(first));
    // Within one block, the second of two equal anchors fails.
    let out = chain.block(&[
        sign(&notary(), 2, anchor(doc(2))),
        sign(&notary(), 3, anchor(doc(2))),
    ]);
    assert_eq!(out.receipts[0].outcome, TxOutcome::Success);
    assert!(matches!(&out.receipts[1].outcome,
        TxOutcome::Failure { code, .. } if code == "notary.already_anchored"));
}

#[test]
fn only_keys_of_active_notary_organisations_anchor() {
    let mut chain = Chain::new();
    assert_failure(
        &chain.run(&outsider(), anchor(doc(1))),
        &outsider(),
        "notary.not_a_notary",
    );
    // An authority is not a notary by being an authority.
    assert_failure(
        &chain.run(&authority(), anchor(doc(1))),
        &authority(),
        "notary.not_a_notary",
    );
    assert_success(&chain.run(
        &authority(),
        register(org("library", &[&key(10)], &[Role::Facility])),
    ));
    assert_failure(
        &chain.run(&key(10), anchor(doc(1))),
        &key(10),
        "notary.not_a_notary",
    );
    assert_success(&chain.run(
        &authority(),
        update(org("library", &[&key(10)], &[Role::Notary])),
    ));
    assert_success(&chain.run(&key(10), anchor(doc(1))));
    assert_eq!(
        chain.record(&doc(1)).expect("anchored").organization,
        org_id("library")
    );
}

#[test]
fn a_batch_anchors_its_merkle_root_and_every_document_is_provable() {
    let mut chain = Chain::new();
    let documents: Vec<_> = (0..5).map(doc).collect();
    let tx = sign(&notary(), 0, anchor_batch(documents.clone()));
    assert_success(&chain.block(std::slice::from_ref(&tx)));
    let root = notary_batch_root(&documents);
    let record = chain.record(&root).expect("the root is anchored");
    assert_eq!(record.documents, 5);
    assert_eq!(record.tx_hash, tx.hash());
    assert_eq!(chain.record(&documents[0]), None, "only the root is stored");
    let leaves = notary_batch_leaves(&documents);
    assert_eq!(root, merkle::root(&leaves));
    for (i, leaf) in leaves.iter().enumerate() {
        let proof = merkle::prove(&leaves, i).expect("index in range");
        assert_eq!(proof.verify(leaf, &root), Ok(()));
    }
    let out = chain.run(&notary(), anchor_batch(documents));
    assert_failure(&out, &notary(), "notary.already_anchored");
    let out = chain.run(&outsider(), anchor_batch(vec![doc(9)]));
    assert_failure(&out, &outsider(), "notary.not_a_notary");
}

#[test]
fn malformed_batches_never_enter_a_block() {
    let mut chain = Chain::new();
    let too_many: Vec<_> = (0..=limits::NOTARY_BATCH_MAX as u64).map(doc).collect();
    for documents in [vec![], vec![doc(1), doc(2), doc(1)], too_many] {
        let tx = sign(&notary(), 0, anchor_batch(documents));
        let err = chain
            .try_block(&[tx])
            .expect_err("a malformed batch makes the block invalid");
        assert!(
            matches!(&err, BlockError::InvalidTx { source: TxError::InvalidCall(e), .. }
                if e.code() == "notary.invalid_batch"),
            "{err}"
        );
    }
    let largest: Vec<_> = (0..limits::NOTARY_BATCH_MAX as u64).map(doc).collect();
    assert_success(&chain.run(&notary(), anchor_batch(largest.clone())));
    let documents = u32::try_from(largest.len()).expect("small");
    assert_eq!(
        chain
            .record(&notary_batch_root(&largest))
            .expect("anchored")
            .documents,
        documents
    );
}

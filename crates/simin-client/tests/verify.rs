//! The notary and inclusion checks accept a real bundle and refuse each tampering with
//! its own error.

mod common;

use std::mem::discriminant;

use common::{fixture, sign_certificate, validator_set, BATCH_INDEX};
use simin_client::{verify_notary_proof, verify_tx_inclusion, TrustAnchor, VerifyError};
use simin_types::{ChainId, Hash, SigningKey, TypesError};

#[test]
fn a_real_single_and_batched_anchoring_verify() {
    let f = fixture();
    let single = verify_notary_proof(&f.single, &f.single_document, &f.trusted)
        .expect("the single anchoring verifies");
    assert_eq!(single.anchor, f.single_document);
    assert_eq!(single.batch_index, None);
    assert_eq!(single.record.organization.as_str(), "test.notary");
    assert_eq!(single.record.height.0, 1);
    assert_eq!(single.record.tx_hash, f.single_tx.hash);

    let document = f.batch_documents[BATCH_INDEX];
    let batched =
        verify_notary_proof(&f.batched, &document, &f.trusted).expect("the batch verifies");
    assert_eq!(batched.batch_index, Some(2));
    assert_eq!(batched.record.documents, 5);

    for lookup in [&f.single_tx, &f.batch_tx] {
        let verified = verify_tx_inclusion(lookup, &f.trusted).expect("the tx is included");
        assert_eq!(verified.tx_hash, lookup.hash);
    }
}

/// Applies `tamper` to a copy of the single (or batched) proof and returns the error.
fn refused(batch: bool, tamper: impl FnOnce(&mut simin_client::dto::NotaryProof)) -> VerifyError {
    let f = fixture();
    let (mut proof, document) = if batch {
        (f.batched.clone(), f.batch_documents[BATCH_INDEX])
    } else {
        (f.single.clone(), f.single_document)
    };
    tamper(&mut proof);
    verify_notary_proof(&proof, &document, &f.trusted).expect_err("tampering must be refused")
}

#[test]
fn each_tampering_is_refused_with_its_own_error() {
    let other = SigningKey::from_seed([9; 32]);
    let cases: Vec<(&str, VerifyError)> = vec![
        (
            "document",
            refused(false, |p| p.document = Hash::digest(b"another")),
        ),
        (
            "anchor",
            refused(false, |p| p.anchor = Hash::digest(b"another")),
        ),
        (
            "batch path",
            refused(true, |p| {
                let path = p.batch_proof.as_mut().expect("a batch proof");
                path.path[0] = Hash::digest(b"x");
            }),
        ),
        ("state key", refused(false, |p| p.state_key.push(0))),
        ("record", refused(false, |p| p.record.time.0 += 1)),
        (
            "state proof",
            refused(false, |p| {
                let f = fixture();
                p.state_proof = f.batched.state_proof;
            }),
        ),
        ("header", refused(false, |p| p.header.time.0 += 1)),
        (
            "certificate signature",
            refused(false, |p| p.certificate.signatures[0].signature.0[5] ^= 1),
        ),
        (
            "validator set",
            refused(false, |p| p.validators = validator_set(&other)),
        ),
        (
            "foreign validators",
            refused(false, |p| {
                // A node inventing its own validator and signing its own certificate.
                p.validators = validator_set(&other);
                p.header.validators_hash = p.validators.hash();
                p.certificate = sign_certificate(&other, &p.header);
            }),
        ),
        (
            "chain id",
            refused(false, |p| {
                p.header.chain_id = ChainId::new("simin-other").expect("a valid id")
            }),
        ),
    ];
    for (name, error) in &cases {
        eprintln!("{name}: {error} [{}]", error.check());
    }
    let expect = |name: &str, ok: fn(&VerifyError) -> bool| {
        let (_, error) = cases
            .iter()
            .find(|(n, _)| *n == name)
            .expect("the case exists");
        assert!(ok(error), "{name}: unexpected {error:?}");
    };
    expect("document", |e| {
        matches!(e, VerifyError::DocumentMismatch { .. })
    });
    expect("anchor", |e| {
        matches!(e, VerifyError::AnchorNotDocument { .. })
    });
    expect("batch path", |e| matches!(e, VerifyError::BatchPath { .. }));
    expect("state key", |e| {
        matches!(e, VerifyError::StateKeyMismatch { .. })
    });
    expect("record", |e| matches!(e, VerifyError::StateProof(_)));
    expect("state proof", |e| matches!(e, VerifyError::StateProof(_)));
    expect("header", |e| {
        matches!(
            e,
            VerifyError::Certificate(TypesError::CertificateBlock { .. })
        )
    });
    expect("certificate signature", |e| {
        matches!(
            e,
            VerifyError::Certificate(TypesError::BadCertificateSignature(_))
        )
    });
    expect("validator set", |e| {
        matches!(e, VerifyError::ValidatorsHashMismatch { .. })
    });
    expect("foreign validators", |e| {
        matches!(e, VerifyError::UntrustedValidators { .. })
    });
    expect("chain id", |e| {
        matches!(e, VerifyError::ChainMismatch { .. })
    });
    // Apart from the two state-proof tamperings (the same check), every case is told apart.
    let mut kinds: Vec<_> = cases
        .iter()
        .filter(|(name, _)| *name != "record")
        .map(|(_, e)| format!("{:?}", discriminant(e)) + &certificate_detail(e))
        .collect();
    kinds.sort();
    let before = kinds.len();
    kinds.dedup();
    assert_eq!(kinds.len(), before, "two tamperings gave the same error");
}

fn certificate_detail(error: &VerifyError) -> String {
    match error {
        VerifyError::Certificate(inner) => format!("{:?}", discriminant(inner)),
        _ => String::new(),
    }
}

#[test]
fn a_batched_document_cannot_borrow_another_anchor_or_position() {
    let f = fixture();
    let mut moved = f.batched.clone();
    moved
        .batch_proof
        .as_mut()
        .expect("a batch proof")
        .leaf_index = 3;
    let document = f.batch_documents[BATCH_INDEX];
    assert!(matches!(
        verify_notary_proof(&moved, &document, &f.trusted),
        Err(VerifyError::BatchPath { .. })
    ));
    // The single document's proof does not prove a document of the batch.
    assert!(matches!(
        verify_notary_proof(&f.single, &document, &f.trusted),
        Err(VerifyError::DocumentMismatch { .. })
    ));
}

#[test]
fn a_different_trust_anchor_refuses_a_valid_bundle() {
    let f = fixture();
    let stranger = TrustAnchor {
        chain_id: f.trusted.chain_id.clone(),
        validators: validator_set(&SigningKey::from_seed([9; 32])),
    };
    assert!(matches!(
        verify_notary_proof(&f.single, &f.single_document, &stranger),
        Err(VerifyError::UntrustedValidators { .. })
    ));
    let other_chain = TrustAnchor {
        chain_id: ChainId::new("simin-other").expect("a valid id"),
        validators: f.trusted.validators.clone(),
    };
    assert!(matches!(
        verify_tx_inclusion(&f.single_tx, &other_chain),
        Err(VerifyError::ChainMismatch { .. })
    ));
}

#[test]
fn tx_inclusion_refuses_tampering() {
    let f = fixture();
    let mut path = f.batch_tx.clone();
    path.inclusion_proof.path[0] = Hash::digest(b"x");
    assert!(matches!(
        verify_tx_inclusion(&path, &f.trusted),
        Err(VerifyError::TxInclusion(_))
    ));
    let mut index = f.batch_tx.clone();
    index.index = 0;
    assert!(matches!(
        verify_tx_inclusion(&index, &f.trusted),
        Err(VerifyError::LocationMismatch { .. })
    ));
    let mut tx = f.batch_tx.clone();
    tx.tx.tx.nonce += 1;
    assert!(matches!(
        verify_tx_inclusion(&tx, &f.trusted),
        Err(VerifyError::TxHashMismatch { .. })
    ));
    let mut cert = f.batch_tx.clone();
    cert.certificate.signatures.clear();
    assert!(matches!(
        verify_tx_inclusion(&cert, &f.trusted),
        Err(VerifyError::Certificate(
            TypesError::InsufficientVotingPower { .. }
        ))
    ));
}

#[test]
fn the_trust_anchor_of_a_genesis_file_is_its_chain_and_first_set() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("genesis.json");
    std::fs::write(&path, &f.genesis_json).expect("writes");
    let anchor = TrustAnchor::from_genesis_file(&path).expect("a valid genesis");
    assert_eq!(anchor, f.trusted);
    std::fs::write(&path, b"{}").expect("writes");
    assert!(TrustAnchor::from_genesis_file(&path).is_err());
}

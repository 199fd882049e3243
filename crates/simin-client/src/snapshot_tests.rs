//! A snapshot built from a real store's proofs loads back, answers what it proved, and
//! is refused whole when any value, proof, header or certificate in its file changes.

use serde_json::Value;
use simin_ledger::{execute_block, genesis_writes, BlockContext, MemoryState, StateView};
use simin_state::{Store, WriteSet};
use simin_types::{
    state_keys, vote_sign_bytes, Block, BlockHeader, BlockTime, ChainId, CommitCertificate,
    CommitSignature, Genesis, Hash, Height, OrgId, Organization, Role, SigningKey, Validator,
    ValidatorSet,
};

use super::*;

fn chain_id() -> ChainId {
    ChainId::new("simin-test").expect("a valid id")
}

fn set_of(key: &SigningKey) -> ValidatorSet {
    ValidatorSet::new(vec![Validator {
        public_key: key.public_key(),
        voting_power: 1,
    }])
    .expect("a valid set")
}

fn org() -> OrgId {
    OrgId::new("test.notary").expect("a valid id")
}

fn scope() -> SnapshotScope {
    SnapshotScope {
        facility: "mapo.library".into(),
        accepted_types: vec!["CitizenCard".into()],
        issuers: vec![OrgId::new("seoul.citizen-registry").expect("a valid id")],
    }
}

/// A chain of one block, the trust anchor, and proven lookups at height 1 of a present
/// key (the organisation) and an absent one (a status chunk).
fn fixture() -> (TrustAnchor, Vec<StateLookup>) {
    let validator = SigningKey::from_seed([1; 32]);
    let validators = set_of(&validator);
    let genesis = Genesis {
        identity: Default::default(),
        chain_id: chain_id(),
        genesis_time: BlockTime(1_000),
        authorities: vec![SigningKey::from_seed([3; 32]).public_key()],
        validators: validators.validators().to_vec(),
        organizations: vec![Organization {
            id: org(),
            name: "Test notary".into(),
            keys: vec![SigningKey::from_seed([2; 32]).public_key()],
            roles: vec![Role::Notary],
            active: true,
        }],
    };
    let genesis_json = serde_json::to_vec(&genesis).expect("genesis serializes");
    let writes = genesis_writes(&genesis).expect("a valid genesis");
    let store = Store::in_memory().expect("an in-memory store");
    store
        .init_genesis(&genesis_json, WriteSet(writes.clone()))
        .expect("genesis is written");
    let mut memory = MemoryState::new();
    memory.apply(&writes);
    let ctx = BlockContext {
        chain_id: chain_id(),
        height: Height(1),
        time: BlockTime(2_000),
        proposer: validator.public_key(),
    };
    let output = execute_block(&memory, &ctx, &[]).expect("the block executes");
    let prepared = store
        .prepare(Height(1), &WriteSet(output.writes.clone()))
        .expect("the state is prepared");
    let header = BlockHeader {
        chain_id: chain_id(),
        height: Height(1),
        time: ctx.time,
        prev_block_hash: Hash::ZERO,
        tx_root: Block::compute_tx_root(&[]),
        receipts_root: output.receipts_root(),
        state_root: prepared.root(),
        validators_hash: validators.hash(),
        proposer: validator.public_key(),
    };
    let block_hash = header.hash();
    let message = vote_sign_bytes(&chain_id(), Height(1), 0, &block_hash);
    let certificate = CommitCertificate {
        height: Height(1),
        round: 0,
        block_hash,
        signatures: vec![CommitSignature {
            validator: validator.public_key(),
            signature: validator.sign(&message),
        }],
    };
    let block = Block {
        header: header.clone(),
        txs: Vec::new(),
    };
    store
        .commit(&block, &certificate, &output.receipts, &[], prepared)
        .expect("the block commits");
    let lookup = |key: Vec<u8>| {
        let (value, proof) = store
            .get_with_proof(&key, Some(Height(1)))
            .expect("the store proves");
        StateLookup {
            key,
            value,
            proof: Some(proof.to_bytes()),
            height: Height(1),
            header: header.clone(),
            certificate: certificate.clone(),
            validators: validators.clone(),
        }
    };
    let lookups = vec![
        lookup(state_keys::organization(&org())),
        lookup(state_keys::status_chunk(&org(), 0, 0)),
    ];
    let trusted = TrustAnchor {
        chain_id: chain_id(),
        validators,
    };
    (trusted, lookups)
}

fn snapshot_json() -> (TrustAnchor, Value) {
    let (trusted, lookups) = fixture();
    let snapshot =
        KioskSnapshot::from_lookups(&trusted, scope(), 1_700_000_000, &lookups).expect("builds");
    let json = serde_json::from_slice(&snapshot.to_json()).expect("JSON");
    (trusted, json)
}

fn load(trusted: &TrustAnchor, json: &Value) -> Result<KioskSnapshot, SnapshotError> {
    KioskSnapshot::from_json(&serde_json::to_vec(json).expect("JSON"), trusted)
}

#[test]
fn a_snapshot_round_trips_and_answers_only_what_it_proved() {
    let (trusted, json) = snapshot_json();
    let snapshot = load(&trusted, &json).expect("an untouched snapshot loads");
    assert_eq!(snapshot.height(), Height(1));
    assert_eq!(snapshot.block_time(), BlockTime(2_000));
    assert_eq!(snapshot.len(), 2);
    assert_eq!(snapshot.scope(), &scope());
    let org_value = snapshot
        .get(&state_keys::organization(&org()))
        .expect("held");
    assert!(org_value.is_some());
    // Proven absent: an absence, which the ledger reads as an all-zero chunk.
    assert_eq!(
        snapshot
            .get(&state_keys::status_chunk(&org(), 0, 0))
            .expect("held"),
        None
    );
    // Not held: an error, never an absence.
    assert!(snapshot
        .get(&state_keys::status_chunk(&org(), 0, 1))
        .is_err());
    // The bytes are stable across a load and a save.
    assert_eq!(
        serde_json::from_slice::<Value>(&snapshot.to_json()).expect("JSON"),
        json
    );
}

/// Applies `tamper` to the snapshot file and returns why loading refused it.
fn refused(tamper: impl FnOnce(&mut Value)) -> SnapshotError {
    let (trusted, mut json) = snapshot_json();
    tamper(&mut json);
    load(&trusted, &json).expect_err("a tampered snapshot must be refused")
}

#[test]
fn every_tampering_of_the_file_is_refused() {
    // A value changed (one byte of the organisation record).
    let error = refused(|j| {
        let value = j["entries"][0]["value"].as_str().expect("hex").to_owned();
        let flipped = if value.ends_with('0') { "1" } else { "0" };
        j["entries"][0]["value"] = Value::from(format!("{}{flipped}", &value[..value.len() - 1]));
    });
    assert!(matches!(error, SnapshotError::Proof { .. }), "{error}");
    // A present value claimed absent.
    let error = refused(|j| j["entries"][0]["value"] = Value::Null);
    assert!(matches!(error, SnapshotError::Proof { .. }), "{error}");
    // An absence claimed present (an all-zero chunk).
    let error = refused(|j| j["entries"][1]["value"] = Value::from("00".repeat(1024)));
    assert!(matches!(error, SnapshotError::Proof { .. }), "{error}");
    // A proof cut short.
    let error = refused(|j| {
        let proof = j["entries"][0]["proof"].as_str().expect("hex").to_owned();
        j["entries"][0]["proof"] = Value::from(&proof[..proof.len() - 2]);
    });
    assert!(matches!(error, SnapshotError::Proof { .. }), "{error}");
    // The header changed (its state root, or its time): the certificate no longer signs it.
    let error = refused(|j| j["header"]["time"] = Value::from(3_000));
    assert!(matches!(error, SnapshotError::Verify(_)), "{error}");
    // The certificate's signature changed.
    let error = refused(|j| {
        let sig = j["certificate"]["signatures"][0]["signature"]
            .as_str()
            .expect("hex")
            .to_owned();
        let flipped = if sig.starts_with('0') { "1" } else { "0" };
        j["certificate"]["signatures"][0]["signature"] =
            Value::from(format!("{flipped}{}", &sig[1..]));
    });
    assert!(matches!(error, SnapshotError::Verify(_)), "{error}");
    // The summary fields must agree with the certified header.
    let error = refused(|j| j["block_time_ms"] = Value::from(9_999_999));
    assert!(
        matches!(error, SnapshotError::HeaderFields { .. }),
        "{error}"
    );
    let error = refused(|j| j["height"] = Value::from(7));
    assert!(
        matches!(error, SnapshotError::HeaderFields { .. }),
        "{error}"
    );
    // A duplicated entry.
    let error = refused(|j| {
        let first = j["entries"][0].clone();
        j["entries"].as_array_mut().expect("a list").push(first);
    });
    assert!(matches!(error, SnapshotError::Format(_)), "{error}");
    // An unknown field.
    let error = refused(|j| j["extra"] = Value::from(1));
    assert!(matches!(error, SnapshotError::Format(_)), "{error}");
}

#[test]
fn a_snapshot_of_another_validator_set_or_chain_is_refused() {
    let (trusted, json) = snapshot_json();
    let stranger = TrustAnchor {
        chain_id: trusted.chain_id.clone(),
        validators: set_of(&SigningKey::from_seed([9; 32])),
    };
    let error = load(&stranger, &json).expect_err("another set");
    assert!(matches!(error, SnapshotError::Verify(_)), "{error}");
    let other_chain = TrustAnchor {
        chain_id: ChainId::new("simin-other").expect("a valid id"),
        validators: trusted.validators.clone(),
    };
    let error = load(&other_chain, &json).expect_err("another chain");
    assert!(
        matches!(error, SnapshotError::ChainMismatch { .. }),
        "{error}"
    );
}

#[test]
fn lookups_from_another_height_or_without_proof_are_refused() {
    let (trusted, mut lookups) = fixture();
    let mut other = lookups[1].clone();
    other.height = Height(2);
    lookups.push(other);
    let error = KioskSnapshot::from_lookups(&trusted, scope(), 0, &lookups).expect_err("height");
    assert!(
        matches!(error, SnapshotError::WrongHeight { .. }),
        "{error}"
    );
    let (trusted, mut lookups) = fixture();
    lookups[0].proof = None;
    let error = KioskSnapshot::from_lookups(&trusted, scope(), 0, &lookups).expect_err("proof");
    assert!(matches!(error, SnapshotError::Verify(_)), "{error}");
}

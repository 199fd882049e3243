//! State proofs: they verify for the truth and fail for any wrong value, root or key.

mod common;

use std::collections::BTreeMap;

use common::{commit_next, genesis_store, writes_for};
use proptest::prelude::*;
use simin_state::{verify_proof, ProofError, StateProof, Store, WriteSet, STATE_PROOF_BYTES_MAX};
use simin_types::{Hash, Height};

#[test]
fn existence_proofs_verify_and_fail_when_anything_is_wrong() {
    let (store, _) = genesis_store();
    let root = commit_next(&store, &writes_for(Height(1), 8), 0);
    let (value, proof) = store.get_with_proof(b"h1/3", None).expect("proof");
    assert_eq!(value.as_deref(), Some(b"v1-3".as_slice()));
    verify_proof(&root, b"h1/3", Some(b"v1-3"), &proof).expect("existence");

    let wrong_value = verify_proof(&root, b"h1/3", Some(b"v1-4"), &proof);
    assert!(matches!(wrong_value, Err(ProofError::Invalid { .. })));
    let claimed_absent = verify_proof(&root, b"h1/3", None, &proof);
    assert!(claimed_absent.is_err());
    let wrong_root = verify_proof(&Hash::digest(b"root"), b"h1/3", Some(b"v1-3"), &proof);
    assert!(wrong_root.is_err());
    let old_root = store.state_root(Height(0)).expect("root");
    assert!(verify_proof(&old_root, b"h1/3", Some(b"v1-3"), &proof).is_err());
    let wrong_key = verify_proof(&root, b"h1/5", Some(b"v1-3"), &proof);
    assert!(wrong_key.is_err());
}

#[test]
fn non_existence_proofs_verify_and_fail_when_anything_is_wrong() {
    let (store, _) = genesis_store();
    let root = commit_next(&store, &writes_for(Height(1), 8), 0);
    let (value, proof) = store.get_with_proof(b"never/written", None).expect("proof");
    assert_eq!(value, None);
    verify_proof(&root, b"never/written", None, &proof).expect("non-existence");
    assert!(verify_proof(&root, b"never/written", Some(b"x"), &proof).is_err());
    assert!(verify_proof(&Hash::digest(b"root"), b"never/written", None, &proof).is_err());
    // The proof of absence of one key does not prove the absence of a present key.
    assert!(verify_proof(&root, b"h1/3", None, &proof).is_err());
}

#[test]
fn proofs_round_trip_through_bytes_and_bad_bytes_are_refused() {
    let (store, root) = genesis_store();
    let (value, proof) = store.get_with_proof(b"shared/0", None).expect("proof");
    let bytes = proof.to_bytes();
    assert!(bytes.len() <= STATE_PROOF_BYTES_MAX);
    let decoded = StateProof::from_bytes(&bytes).expect("decode");
    assert_eq!(decoded, proof);
    verify_proof(&root, b"shared/0", value.as_deref(), &decoded).expect("decoded proof verifies");

    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(
        StateProof::from_bytes(&trailing),
        Err(ProofError::Decode(_))
    ));
    assert!(matches!(
        StateProof::from_bytes(&[0xff; 7]),
        Err(ProofError::Decode(_))
    ));
    let huge = vec![0; STATE_PROOF_BYTES_MAX + 1];
    assert!(matches!(
        StateProof::from_bytes(&huge),
        Err(ProofError::Decode(_))
    ));
}

/// One block's writes over a small key space, so that keys are updated and deleted.
fn write_set_strategy() -> impl Strategy<Value = BTreeMap<u8, Option<Vec<u8>>>> {
    prop::collection::btree_map(
        0u8..24,
        prop::option::weighted(0.8, prop::collection::vec(any::<u8>(), 0..12)),
        0..12,
    )
}

fn key_of(k: u8) -> Vec<u8> {
    format!("key/{k}").into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random write sets over several heights; afterwards, every key of the key space at
    /// every height reads as the model says and its proof verifies against that height's
    /// root, while claiming another value fails. Replaying gives the same roots.
    #[test]
    fn historical_proofs_match_a_model(blocks in prop::collection::vec(write_set_strategy(), 1..6)) {
        let store = Store::in_memory().expect("store");
        let mut model: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
        let mut history = vec![model.clone()];
        store.init_genesis(b"{}", WriteSet::new()).expect("genesis");
        for writes in &blocks {
            let set: WriteSet = writes.iter().map(|(k, v)| (key_of(*k), v.clone())).collect();
            commit_next(&store, &set, 0);
            for (k, v) in writes {
                match v {
                    Some(v) => model.insert(*k, v.clone()),
                    None => model.remove(k),
                };
            }
            history.push(model.clone());
        }
        for (h, state) in history.iter().enumerate() {
            let height = Height(u64::try_from(h).expect("small"));
            let root = store.state_root(height).expect("root");
            for k in 0u8..24 {
                let key = key_of(k);
                let (value, proof) = store.get_with_proof(&key, Some(height)).expect("proof");
                prop_assert_eq!(value.as_ref(), state.get(&k));
                prop_assert_eq!(store.get(&key, Some(height)).expect("get"), value.clone());
                prop_assert!(verify_proof(&root, &key, value.as_deref(), &proof).is_ok());
                let lie = match &value {
                    Some(_) => None,
                    None => Some(b"lie".as_slice()),
                };
                prop_assert!(verify_proof(&root, &key, lie, &proof).is_err());
            }
        }
        // The same writes in a fresh store give the same roots (determinism).
        let replay = Store::in_memory().expect("store");
        replay.init_genesis(b"{}", WriteSet::new()).expect("genesis");
        for (i, writes) in blocks.iter().enumerate() {
            let set: WriteSet = writes.iter().map(|(k, v)| (key_of(*k), v.clone())).collect();
            let root = commit_next(&replay, &set, 0);
            let height = Height(u64::try_from(i + 1).expect("small"));
            prop_assert_eq!(root, store.state_root(height).expect("root"));
        }
    }
}

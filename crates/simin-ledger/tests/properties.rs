//! Property tests over random call sequences: determinism, failure isolation, build and
//! execute agreeing, and the organisation key index staying consistent.

mod common;

use common::*;
use proptest::prelude::*;
use simin_ledger::{build, execute_block, BlockError, LedgerError, StateReadError, StateView};
use simin_types::{decode, state_keys, Call, Hash, Organization, Role, SignedTx, TxOutcome};

const ACTORS: [u8; 5] = [1, 2, 3, 10, 11];
const IDS: [&str; 3] = ["a", "b", "city.notary"];

fn arb_org() -> impl Strategy<Value = Organization> {
    (
        0..IDS.len(),
        proptest::sample::subsequence(vec![2u8, 10, 11, 12], 1..=3),
        any::<bool>(),
    )
        .prop_map(|(id, seeds, notary_role)| {
            let keys: Vec<_> = seeds.into_iter().map(key).collect();
            let roles = if notary_role {
                vec![Role::Notary]
            } else {
                vec![Role::Facility]
            };
            org(IDS[id], &keys.iter().collect::<Vec<_>>(), &roles)
        })
}

fn arb_governance_call() -> impl Strategy<Value = Call> {
    prop_oneof![
        arb_org().prop_map(register),
        arb_org().prop_map(update),
        (0..IDS.len()).prop_map(|i| deactivate(IDS[i])),
    ]
}

fn arb_notary_call() -> impl Strategy<Value = Call> {
    prop_oneof![
        (0u64..4).prop_map(|n| anchor(doc(n))),
        proptest::sample::subsequence(vec![0u64, 1, 2, 3], 1..=4)
            .prop_map(|docs| anchor_batch(docs.into_iter().map(doc).collect())),
    ]
}

/// Mostly calls their signer may make (so state changes), the rest from anyone.
fn arb_op() -> impl Strategy<Value = (usize, Call)> {
    let any_call = prop_oneof![arb_governance_call(), arb_notary_call()];
    prop_oneof![
        3 => arb_governance_call().prop_map(|call| (0, call)),
        3 => (1..ACTORS.len(), arb_notary_call()),
        2 => (0..ACTORS.len(), any_call),
    ]
}

/// Blocks of (actor, call), signed with consecutive nonces per actor.
fn arb_blocks() -> impl Strategy<Value = Vec<Vec<(usize, Call)>>> {
    proptest::collection::vec(proptest::collection::vec(arb_op(), 0..5), 1..8)
}

fn sign_blocks(blocks: &[Vec<(usize, Call)>]) -> Vec<Vec<SignedTx>> {
    let mut nonces = [0u64; ACTORS.len()];
    blocks
        .iter()
        .map(|block| {
            block
                .iter()
                .map(|(actor, call)| {
                    let nonce = nonces[*actor];
                    nonces[*actor] += 1;
                    sign(&key(ACTORS[*actor]), nonce, call.clone())
                })
                .collect()
        })
        .collect()
}

/// Every organisation's keys point back to it, and every index entry is such a key.
fn assert_key_index_consistent(chain: &Chain) {
    let entries = chain.state.entries();
    let mut indexed = 0;
    for (key, value) in entries.range(b"gov/org/".to_vec()..b"gov/org0".to_vec()) {
        let org: Organization = decode("org", value, usize::MAX).expect("an organisation");
        assert_eq!(key, &state_keys::organization(&org.id));
        for k in &org.keys {
            assert_eq!(chain.owner_of(k).as_ref(), Some(&org.id));
            indexed += 1;
        }
    }
    let index_len = entries
        .range(b"gov/key/".to_vec()..b"gov/key0".to_vec())
        .count();
    assert_eq!(index_len, indexed, "no stale key index entries");
}

struct FailingView;

impl StateView for FailingView {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateReadError> {
        Err(StateReadError {
            key: key.to_vec(),
            reason: "disk on fire".into(),
        })
    }
}

#[test]
fn a_state_fault_is_not_a_verdict_on_the_block() {
    let ctx = Chain::new().next_ctx();
    let err = execute_block(&FailingView, &ctx, &[]).expect_err("cannot read");
    assert!(matches!(err, BlockError::State(LedgerError::StateRead(_))));
    assert!(!err.is_block_fault());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn execution_is_deterministic_byte_for_byte(blocks in arb_blocks()) {
        let signed = sign_blocks(&blocks);
        let run = || {
            let mut chain = Chain::new();
            let outputs: Vec<_> = signed.iter().map(|txs| chain.block(txs)).collect();
            (outputs, chain.state)
        };
        let (first_outputs, first_state) = run();
        let (second_outputs, second_state) = run();
        prop_assert_eq!(first_outputs, second_outputs);
        prop_assert_eq!(first_state, second_state);
    }

    #[test]
    fn a_failing_call_changes_only_its_nonce(blocks in arb_blocks()) {
        let mut chain = Chain::new();
        for tx in sign_blocks(&blocks).into_iter().flatten() {
            let nonce_key = state_keys::account_nonce(&tx.tx.signer);
            let before = chain.nonce_of(&tx);
            let out = chain.block(std::slice::from_ref(&tx));
            prop_assert!(out.writes.contains_key(&nonce_key));
            prop_assert_eq!(chain.nonce_of(&tx), before + 1);
            if let TxOutcome::Failure { .. } = out.receipts[0].outcome {
                prop_assert_eq!(out.writes.len(), 2, "only the nonce and the chain-meta key");
            }
            assert_key_index_consistent(&chain);
        }
    }

    #[test]
    fn build_includes_valid_sequences_and_execute_agrees(blocks in arb_blocks()) {
        let mut chain = Chain::new();
        for txs in sign_blocks(&blocks) {
            let ctx = chain.next_ctx();
            let built = build(&chain.state, &ctx, txs.clone()).expect("builds");
            prop_assert!(built.skipped.is_empty());
            prop_assert_eq!(&built.txs, &txs);
            let executed = execute_block(&chain.state, &ctx, &built.txs).expect("valid");
            prop_assert_eq!(&executed, &built.output);
            chain.block(&txs);
        }
        assert_key_index_consistent(&chain);
    }

    #[test]
    fn anchors_record_the_first_anchoring_only(docs in proptest::collection::vec(0u64..6, 1..12)) {
        let mut chain = Chain::new();
        let mut first: std::collections::BTreeMap<Hash, u64> = Default::default();
        for n in docs {
            let out = chain.run(&notary(), anchor(doc(n)));
            let height = chain.height.0;
            let expected_first = *first.entry(doc(n)).or_insert(height);
            prop_assert_eq!(chain.record(&doc(n)).expect("anchored").height.0, expected_first);
            prop_assert_eq!(out.receipts[0].outcome == TxOutcome::Success, expected_first == height);
        }
    }
}

impl Chain {
    fn nonce_of(&self, tx: &SignedTx) -> u64 {
        self.get::<u64>(&state_keys::account_nonce(&tx.tx.signer))
            .unwrap_or(0)
    }
}

//! Validator set changes through governance: who may make them, which sets may result,
//! how much one block may move, and that a refused change writes nothing but the nonce.

mod common;

use common::*;
use simin_ledger::{check_tx, validator_set, BlockError, TxError};
use simin_types::{
    limits, Call, GovernanceCall, PublicKey, SigningKey, TxOutcome, Validator, ValidatorSet,
};

fn set_validator(key: &SigningKey, voting_power: u64) -> Call {
    Call::Governance(GovernanceCall::SetValidator {
        public_key: key.public_key(),
        voting_power,
    })
}

fn validator(seed: u8, voting_power: u64) -> Validator {
    Validator {
        public_key: key(seed).public_key(),
        voting_power,
    }
}

/// A chain whose genesis set is `validators`.
fn chain_with(validators: Vec<Validator>) -> Chain {
    let mut genesis = genesis();
    genesis.validators = validators;
    Chain::with_genesis(&genesis)
}

/// Validators 100 (power 10) and 101 (power 5): a block may move at most 4 of 15.
fn two_validators() -> Chain {
    chain_with(vec![validator(100, 10), validator(101, 5)])
}

fn set_of(chain: &Chain) -> ValidatorSet {
    validator_set(&chain.state).expect("genesis wrote a set")
}

fn powers(chain: &Chain) -> Vec<(PublicKey, u64)> {
    set_of(chain)
        .validators()
        .iter()
        .map(|v| (v.public_key, v.voting_power))
        .collect()
}

fn expected(validators: &[(u8, u64)]) -> Vec<(PublicKey, u64)> {
    let mut out: Vec<_> = validators
        .iter()
        .map(|&(seed, power)| (key(seed).public_key(), power))
        .collect();
    out.sort();
    out
}

#[test]
fn an_authority_adds_changes_and_removes_validators_in_steps() {
    let mut chain = two_validators();
    assert_success(&chain.run(&authority(), set_validator(&key(102), 4)));
    assert_eq!(powers(&chain), expected(&[(100, 10), (101, 5), (102, 4)]));
    // Each block is measured against the set deciding its height: 19 now, so 6 may move.
    assert_success(&chain.run(&authority(), set_validator(&key(101), 11)));
    assert_eq!(powers(&chain), expected(&[(100, 10), (101, 11), (102, 4)]));
    assert_success(&chain.run(&authority(), set_validator(&key(102), 0)));
    assert_eq!(powers(&chain), expected(&[(100, 10), (101, 11)]));
    // Setting the power a validator already has is allowed and changes nothing.
    let before = set_of(&chain);
    assert_success(&chain.run(&authority(), set_validator(&key(100), 10)));
    assert_eq!(set_of(&chain), before);
}

#[test]
fn only_authorities_change_validators() {
    let mut chain = two_validators();
    for signer in [outsider(), notary(), key(100)] {
        let out = chain.run(&signer, set_validator(&key(102), 1));
        assert_failure(&out, &signer, "governance.unauthorized");
    }
    assert_eq!(powers(&chain), expected(&[(100, 10), (101, 5)]));
}

#[test]
fn a_third_or_more_of_the_power_never_moves_in_one_block() {
    let mut chain = two_validators();
    let cases = [
        set_validator(&key(102), 5),  // add 5 of 15
        set_validator(&key(101), 0),  // remove 5 of 15
        set_validator(&key(100), 5),  // lower by 5
        set_validator(&key(101), 10), // raise by 5
        set_validator(&key(100), u64::MAX - 5),
    ];
    for call in cases {
        let out = chain.run(&authority(), call);
        assert_failure(&out, &authority(), "governance.validator_change_too_large");
    }
    assert_eq!(powers(&chain), expected(&[(100, 10), (101, 5)]));
}

#[test]
fn changes_in_one_block_add_up_against_the_deciding_set() {
    let mut chain = two_validators();
    let nonce = chain.nonce(&authority());
    let txs = [
        sign(&authority(), nonce, set_validator(&key(102), 3)),
        sign(&authority(), nonce + 1, set_validator(&key(103), 2)),
    ];
    let out = chain.block(&txs);
    assert_eq!(out.receipts[0].outcome, TxOutcome::Success);
    assert!(matches!(
        &out.receipts[1].outcome,
        TxOutcome::Failure { code, .. } if code == "governance.validator_change_too_large"
    ));
    assert_eq!(powers(&chain), expected(&[(100, 10), (101, 5), (102, 3)]));
    assert_eq!(chain.nonce(&authority()), nonce + 2);
}

#[test]
fn removing_an_unknown_validator_fails() {
    let mut chain = two_validators();
    let out = chain.run(&authority(), set_validator(&key(102), 0));
    assert_failure(&out, &authority(), "governance.unknown_validator");
}

#[test]
fn the_resulting_set_must_be_valid() {
    // Empty: the only validator cannot leave.
    let mut chain = chain_with(vec![validator(100, 10)]);
    let out = chain.run(&authority(), set_validator(&key(100), 0));
    assert_failure(&out, &authority(), "governance.invalid_validator_set");
    assert_eq!(powers(&chain), expected(&[(100, 10)]));

    // Overflowing total power.
    let mut chain = chain_with(vec![validator(100, u64::MAX - 10)]);
    let out = chain.run(&authority(), set_validator(&key(101), 11));
    assert_failure(&out, &authority(), "governance.invalid_validator_set");
    assert_success(&chain.run(&authority(), set_validator(&key(101), 10)));

    // More than VALIDATORS_MAX. Seeds 0..=255 fill the set; a fresh key cannot join.
    let full: Vec<Validator> = (0..=u8::MAX).map(|seed| validator(seed, 1_000)).collect();
    assert_eq!(full.len(), limits::VALIDATORS_MAX);
    let mut chain = chain_with(full);
    let mut seed = [7u8; 32];
    seed[0] = 8;
    let newcomer = SigningKey::from_seed(seed);
    let out = chain.run(&authority(), set_validator(&newcomer, 1));
    assert_failure(&out, &authority(), "governance.invalid_validator_set");
    assert_eq!(set_of(&chain).validators().len(), limits::VALIDATORS_MAX);
}

#[test]
fn an_invalid_key_never_enters_a_block() {
    let mut chain = two_validators();
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let call = Call::Governance(GovernanceCall::SetValidator {
        public_key: PublicKey(identity),
        voting_power: 1,
    });
    let tx = sign(&authority(), chain.nonce(&authority()), call);
    let next = chain.next_ctx().height;
    let refused = check_tx(&chain.state, &chain_id(), next, &tx).expect_err("refused");
    assert_eq!(refused.code(), "governance.invalid_validator");
    let err = chain
        .try_block(&[tx])
        .expect_err("a malformed call makes the block invalid");
    assert!(
        matches!(&err, BlockError::InvalidTx { index: 0, source: TxError::InvalidCall(e), .. }
            if e.code() == "governance.invalid_validator"),
        "{err}"
    );
}

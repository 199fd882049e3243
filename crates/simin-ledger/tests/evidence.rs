//! The consensus module: equivocation evidence is checked, recorded once, and every
//! refusal has its code.

mod common;

use common::*;
use simin_ledger::{check_tx, TxError};
use simin_types::{
    signed_vote_bytes, state_keys, Call, ChainId, ConflictingVote, ConsensusCall, Equivocation,
    EquivocationRecord, Hash, Height, SigningKey, VoteKind,
};

/// The only validator of the test genesis.
fn validator() -> SigningKey {
    key(100)
}

fn vote(
    signer: &SigningKey,
    chain: &ChainId,
    kind: VoteKind,
    height: u64,
    value: Option<Hash>,
) -> ConflictingVote {
    let bytes = signed_vote_bytes(chain, kind, Height(height), 0, value.as_ref());
    ConflictingVote {
        value,
        signature: signer.sign(&bytes),
    }
}

fn equivocation(signer: &SigningKey, kind: VoteKind, height: u64) -> Equivocation {
    Equivocation {
        validator: signer.public_key(),
        height: Height(height),
        round: 0,
        kind,
        first: vote(signer, &chain_id(), kind, height, Some(doc(1))),
        second: vote(signer, &chain_id(), kind, height, None),
    }
}

fn report(evidence: Equivocation) -> Call {
    Call::Consensus(ConsensusCall::ReportEquivocation(evidence))
}

fn record(chain: &Chain, evidence: &Equivocation) -> Option<EquivocationRecord> {
    chain.get(&state_keys::equivocation(
        &evidence.validator,
        evidence.height,
        evidence.round,
        evidence.kind,
    ))
}

#[test]
fn any_account_records_a_proven_equivocation_once() {
    let mut chain = Chain::new();
    chain.block(&[]);
    for (kind, reporter) in [
        (VoteKind::Prevote, outsider()),
        (VoteKind::Precommit, notary()),
    ] {
        let evidence = equivocation(&validator(), kind, 1);
        let included_at = chain.next_ctx().height;
        let out = chain.run(&reporter, report(evidence.clone()));
        assert_success(&out);
        let stored = record(&chain, &evidence).expect("recorded");
        assert_eq!(stored.evidence, evidence);
        assert_eq!(stored.reporter, reporter.public_key());
        assert_eq!(stored.height, included_at);
        assert_eq!(stored.tx_hash, out.receipts[0].tx_hash);
        // The same (validator, height, round, kind) again, even with the votes swapped.
        let swapped = Equivocation {
            first: evidence.second.clone(),
            second: evidence.first.clone(),
            ..evidence
        };
        let out = chain.run(&outsider(), report(swapped));
        assert_failure(&out, &outsider(), "consensus.evidence_exists");
    }
    // The set is untouched: what to do with the equivocator is for governance to decide.
    let set = simin_ledger::validator_set(&chain.state).expect("a set");
    assert!(set.get(&validator().public_key()).is_some());
}

#[test]
fn evidence_that_proves_nothing_is_refused_with_its_code() {
    let mut chain = Chain::new();
    chain.block(&[]);
    let next = chain.next_ctx().height;

    // Stateless: the mempool refuses these outright.
    let mut same = equivocation(&validator(), VoteKind::Prevote, 1);
    same.second = same.first.clone();
    let mut height_zero = equivocation(&validator(), VoteKind::Prevote, 1);
    height_zero.height = Height(0);
    for (evidence, code) in [
        (same, "consensus.evidence_not_conflicting"),
        (height_zero, "consensus.invalid_evidence"),
    ] {
        let tx = sign(&outsider(), 0, report(evidence));
        let err = check_tx(&chain.state, &chain_id(), next, &tx).expect_err("refused");
        assert!(matches!(err, TxError::InvalidCall(_)), "{err}");
        assert_eq!(err.code(), code);
    }

    // Stateful: included, failed, only the nonce consumed.
    let from_future = equivocation(&validator(), VoteKind::Prevote, next.0 + 1);
    let stranger = equivocation(&key(101), VoteKind::Precommit, 1);
    let mut forged = equivocation(&validator(), VoteKind::Prevote, 1);
    forged.second = vote(&key(101), &chain_id(), VoteKind::Prevote, 1, None);
    let other_chain = ChainId::new("simin-other-1").expect("valid");
    let mut replayed = equivocation(&validator(), VoteKind::Precommit, 1);
    replayed.first = vote(
        &validator(),
        &other_chain,
        VoteKind::Precommit,
        1,
        Some(doc(1)),
    );
    let mut kind_swapped = equivocation(&validator(), VoteKind::Prevote, 1);
    kind_swapped.kind = VoteKind::Precommit;
    for (evidence, code) in [
        (from_future, "consensus.evidence_from_future"),
        (stranger, "consensus.not_a_validator"),
        (forged, "consensus.evidence_bad_signature"),
        (replayed, "consensus.evidence_bad_signature"),
        (kind_swapped, "consensus.evidence_bad_signature"),
    ] {
        let out = chain.run(&outsider(), report(evidence.clone()));
        assert_failure(&out, &outsider(), code);
        assert_eq!(record(&chain, &evidence), None);
    }
}

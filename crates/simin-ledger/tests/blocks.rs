//! Admission and block rules: nonces, chain id, expiry, signatures, limits, context.

mod common;

use common::*;
use simin_ledger::{
    build, build_admitted, check_tx, execute_block, last_block, BlockError, LastBlock, TxError,
    BLOCK_TX_BYTES_MAX,
};
use simin_types::{limits, BlockTime, ChainId, Height, Signature, SignedTx, Tx};

fn invalid_tx(err: &BlockError) -> (usize, &TxError) {
    match err {
        BlockError::InvalidTx { index, source, .. } => (*index, source),
        other => panic!("expected an invalid transaction, got {other}"),
    }
}

fn forged(mut tx: SignedTx) -> SignedTx {
    tx.signature = Signature([7; 64]);
    tx
}

#[test]
fn check_tx_admits_current_and_future_nonces_and_reports_the_next() {
    let mut chain = Chain::new();
    let next = chain.next_ctx().height;
    let tx = sign(&notary(), 0, anchor(doc(1)));
    let check = check_tx(&chain.state, &chain_id(), next, &tx).expect("admitted");
    assert_eq!((check.next_nonce, check.tx_hash), (0, tx.hash()));
    let future = sign(&notary(), 5, anchor(doc(2)));
    assert_eq!(
        check_tx(&chain.state, &chain_id(), next, &future).map(|c| c.next_nonce),
        Ok(0)
    );
    chain.block(std::slice::from_ref(&tx));
    let next = chain.next_ctx().height;
    assert_eq!(
        check_tx(&chain.state, &chain_id(), next, &tx),
        Err(TxError::NonceTooLow {
            got: 0,
            expected: 1
        })
    );
}

#[test]
fn check_tx_refuses_what_can_never_be_included() {
    let chain = Chain::new();
    let next = Height(1);
    let ok = sign(&notary(), 0, anchor(doc(1)));
    let refuse =
        |tx: &SignedTx| check_tx(&chain.state, &chain_id(), next, tx).expect_err("refused");
    let other_chain = ChainId::new("simin-other-1").expect("valid");
    assert!(matches!(
        check_tx(&chain.state, &other_chain, next, &ok),
        Err(TxError::WrongChain { .. })
    ));
    assert_eq!(refuse(&forged(ok.clone())), TxError::BadSignature);
    let mut tx = ok.tx.clone();
    tx.nonce = 1; // signature made for nonce 0
    assert_eq!(
        refuse(&SignedTx {
            tx,
            signature: ok.signature
        }),
        TxError::BadSignature
    );
    let expired = Tx {
        expiry_height: Height(0),
        ..ok.tx.clone()
    }
    .sign(&notary());
    assert_eq!(
        refuse(&expired),
        TxError::Expired {
            expiry_height: Height(0),
            height: next
        }
    );
    let at_limit = Tx {
        expiry_height: next,
        ..ok.tx.clone()
    }
    .sign(&notary());
    assert!(check_tx(&chain.state, &chain_id(), next, &at_limit).is_ok());
    let last_nonce = Tx {
        nonce: u64::MAX,
        ..ok.tx.clone()
    }
    .sign(&notary());
    // u64::MAX can never be executed: too high, like every nonce beyond reach (ADR 0011).
    assert_eq!(refuse(&last_nonce).code(), "tx.nonce_too_high");
    let mut huge = org("a", &[&key(10)], &[]);
    huge.name = "x".repeat(limits::TX_BYTES_MAX);
    let err = refuse(&sign(&authority(), 0, register(huge)));
    assert!(
        matches!(
            err,
            TxError::TooLarge {
                max: limits::TX_BYTES_MAX,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        refuse(&sign(&notary(), 0, anchor_batch(vec![]))).code(),
        "notary.invalid_batch"
    );
}

#[test]
fn a_block_needs_each_signers_exact_next_nonce() {
    let mut chain = Chain::new();
    let gap = sign(&notary(), 1, anchor(doc(1)));
    let err = chain.try_block(&[gap]).expect_err("gap");
    assert_eq!(
        invalid_tx(&err).1,
        &TxError::NonceNotNext {
            got: 1,
            expected: 0
        }
    );
    let tx = sign(&notary(), 0, anchor(doc(1)));
    let err = chain
        .try_block(&[tx.clone(), tx.clone()])
        .expect_err("duplicate in one block");
    assert_eq!(
        invalid_tx(&err),
        (
            1,
            &TxError::NonceTooLow {
                got: 0,
                expected: 1
            }
        )
    );
    chain.block(std::slice::from_ref(&tx));
    let err = chain.try_block(&[tx]).expect_err("replay in a later block");
    assert_eq!(
        invalid_tx(&err),
        (
            0,
            &TxError::NonceTooLow {
                got: 0,
                expected: 1
            }
        )
    );
    assert_eq!(chain.nonce(&notary()), 1);
}

#[test]
fn a_block_refuses_wrong_chain_expired_and_forged_transactions() {
    let mut chain = Chain::new();
    let other = Tx {
        chain_id: ChainId::new("simin-other-1").expect("valid"),
        ..sign(&notary(), 0, anchor(doc(1))).tx
    };
    let err = chain
        .try_block(&[other.sign(&notary())])
        .expect_err("wrong chain");
    assert_eq!(invalid_tx(&err).1.code(), "tx.wrong_chain");
    let expired = Tx {
        expiry_height: Height::GENESIS,
        ..sign(&notary(), 0, anchor(doc(1))).tx
    };
    let err = chain
        .try_block(&[expired.sign(&notary())])
        .expect_err("expired");
    assert_eq!(invalid_tx(&err).1.code(), "tx.expired");
    // Few transactions (strict one by one) and many (the batch fast path).
    for count in [1u64, 6] {
        let mut txs: Vec<_> = (0..count)
            .map(|i| sign(&notary(), i, anchor(doc(i))))
            .collect();
        let last = txs.len() - 1;
        txs[last] = forged(txs[last].clone());
        let err = chain.try_block(&txs).expect_err("forged");
        assert_eq!(invalid_tx(&err), (last, &TxError::BadSignature));
    }
    assert_eq!(
        chain.height,
        Height::GENESIS,
        "no refused block was committed"
    );
}

#[test]
fn a_block_must_follow_its_parent_state() {
    let chain = Chain::new();
    let mut ctx = chain.next_ctx();
    ctx.height = Height(2);
    assert_eq!(
        execute_block(&chain.state, &ctx, &[]),
        Err(BlockError::HeightNotNext {
            expected: Height(1),
            got: Height(2)
        })
    );
    let mut ctx = chain.next_ctx();
    ctx.time = GENESIS_TIME;
    assert_eq!(
        execute_block(&chain.state, &ctx, &[]),
        Err(BlockError::TimeNotAfter {
            previous: GENESIS_TIME,
            got: GENESIS_TIME
        })
    );
}

#[test]
fn an_empty_block_writes_only_the_chain_meta_key() {
    let mut chain = Chain::new();
    let out = chain.block(&[]);
    assert!(out.receipts.is_empty());
    assert_eq!(out.writes.len(), 1);
    let last = last_block(&chain.state).expect("readable");
    let time = BlockTime(GENESIS_TIME.0 + 1_000);
    assert_eq!(
        last,
        Some(LastBlock {
            height: Height(1),
            time
        })
    );
}

#[test]
fn block_limits_are_enforced_by_execution_and_respected_by_build() {
    let chain = Chain::new();
    let ctx = chain.next_ctx();
    let tx = sign(&notary(), 0, anchor(doc(1)));
    let too_many = vec![tx; limits::BLOCK_TXS_MAX + 1];
    assert_eq!(
        execute_block(&chain.state, &ctx, &too_many),
        Err(BlockError::TooManyTxs {
            count: limits::BLOCK_TXS_MAX + 1,
            max: limits::BLOCK_TXS_MAX
        })
    );
    let mut big = org("a", &[&key(10)], &[]);
    big.name = "x".repeat(limits::TX_BYTES_MAX - 400);
    let heavy = vec![
        sign(&authority(), 0, register(big));
        BLOCK_TX_BYTES_MAX / (limits::TX_BYTES_MAX - 400) + 1
    ];
    assert!(matches!(
        execute_block(&chain.state, &ctx, &heavy),
        Err(BlockError::TooLarge {
            max: BLOCK_TX_BYTES_MAX,
            ..
        })
    ));
    // Build fills a block up to the byte limit with the largest valid transactions (full
    // batches from a non-notary: each fails, and is still included).
    let documents: Vec<_> = (0..limits::NOTARY_BATCH_MAX as u64).map(doc).collect();
    let count = BLOCK_TX_BYTES_MAX / (limits::NOTARY_BATCH_MAX * 32) + 2;
    let candidates: Vec<_> = (0..count as u64)
        .map(|n| sign(&outsider(), n, anchor_batch(documents.clone())))
        .collect();
    let built = build(&chain.state, &ctx, candidates).expect("builds");
    let bytes: usize = built.txs.iter().map(|tx| tx.encode().len()).sum();
    assert!(
        bytes <= BLOCK_TX_BYTES_MAX && built.txs.len() < count,
        "{bytes} bytes"
    );
    assert_eq!(
        execute_block(&chain.state, &ctx, &built.txs),
        Ok(built.output)
    );
}

#[test]
fn build_stops_at_the_transaction_count_limit() {
    let chain = Chain::new();
    let ctx = chain.next_ctx();
    let signer = outsider();
    let candidates =
        (0..limits::BLOCK_TXS_MAX as u64 + 5).map(|n| sign(&signer, n, anchor(doc(n))));
    let built = build(&chain.state, &ctx, candidates).expect("builds");
    assert_eq!(built.txs.len(), limits::BLOCK_TXS_MAX);
    assert!(built.skipped.is_empty());
    assert_eq!(
        execute_block(&chain.state, &ctx, &built.txs),
        Ok(built.output)
    );
}

#[test]
fn build_skips_with_reasons_and_its_block_executes_identically() {
    let chain = Chain::new();
    let ctx = chain.next_ctx();
    let good = sign(&notary(), 0, anchor(doc(1)));
    let candidates = vec![
        sign(&notary(), 1, anchor(doc(9))), // future nonce: kept for later
        forged(sign(&authority(), 0, deactivate("x"))), // bad signature
        good.clone(),
        good.clone(),                       // replay
        sign(&notary(), 1, anchor(doc(1))), // included, fails: already anchored
        Tx {
            expiry_height: Height(0),
            ..sign(&outsider(), 0, anchor(doc(2))).tx
        }
        .sign(&outsider()),
    ];
    let built = build(&chain.state, &ctx, candidates).expect("builds");
    assert_eq!(built.txs.len(), 2);
    let codes: Vec<_> = built
        .skipped
        .iter()
        .map(|s| (s.reason.code(), s.reason.is_permanent()))
        .collect();
    assert_eq!(
        codes,
        [
            ("tx.nonce_not_next", false),
            ("tx.bad_signature", true),
            ("tx.nonce_too_low", true),
            ("tx.expired", true)
        ]
    );
    assert_eq!(built.output.receipts[1].index, 1);
    assert_eq!(
        execute_block(&chain.state, &ctx, &built.txs),
        Ok(built.output.clone())
    );
    assert_eq!(
        build(&chain.state, &ctx, built.txs.clone()).map(|b| b.output),
        Ok(built.output)
    );
}

#[test]
fn genesis_is_checked_and_deterministic() {
    let writes = simin_ledger::genesis_writes(&genesis()).expect("valid");
    assert_eq!(simin_ledger::genesis_writes(&genesis()), Ok(writes.clone()));
    assert!(writes.values().all(Option::is_some));
    let chain = Chain::new();
    assert_eq!(
        chain.owner_of(&notary().public_key()),
        Some(org_id("city.notary"))
    );
    assert!(chain
        .get::<simin_types::ValidatorSet>(&simin_types::state_keys::validator_set())
        .is_some());

    let mut twice = genesis();
    twice.authorities.push(authority().public_key());
    assert!(simin_ledger::genesis_writes(&twice).is_err());
    let mut shared_key = genesis();
    shared_key
        .organizations
        .push(org("other", &[&notary()], &[]));
    assert!(simin_ledger::genesis_writes(&shared_key).is_err());
    let mut no_keys = genesis();
    no_keys.organizations.push(org("other", &[], &[]));
    assert!(simin_ledger::genesis_writes(&no_keys).is_err());
}

#[test]
fn build_admitted_trusts_admission_but_validators_still_verify() {
    let chain = Chain::new();
    let ctx = chain.next_ctx();
    let bad = forged(sign(&notary(), 0, anchor(doc(1))));
    let strict = build(&chain.state, &ctx, [bad.clone()]).expect("builds");
    assert!(strict.txs.is_empty(), "build checks signatures itself");
    assert_eq!(strict.skipped[0].reason, TxError::BadSignature);
    let trusting = build_admitted(&chain.state, &ctx, [bad.clone()]).expect("builds");
    assert_eq!(
        trusting.txs.len(),
        1,
        "build_admitted relies on check_tx having run"
    );
    let refused = execute_block(&chain.state, &ctx, &trusting.txs).expect_err("validators verify");
    assert_eq!(invalid_tx(&refused), (0, &TxError::BadSignature));
}

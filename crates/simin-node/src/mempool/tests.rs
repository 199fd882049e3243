//! The mempool's bounds, with heights passed in: no clock, no sleeps.

use std::net::{IpAddr, Ipv4Addr};

use simin_types::{Call, ChainId, NotaryCall, SigningKey, Tx};

use super::*;

fn tx(key: &SigningKey, nonce: u64, expiry: u64) -> SignedTx {
    Tx {
        chain_id: ChainId::new("test").expect("valid id"),
        signer: key.public_key(),
        nonce,
        expiry_height: Height(expiry),
        call: Call::Notary(NotaryCall::Anchor {
            document: Hash::digest(&nonce.to_le_bytes()),
        }),
    }
    .sign(key)
}

fn check(tx: &SignedTx, next: u64, standing: Standing) -> TxCheck {
    TxCheck {
        next_nonce: next,
        tx_hash: tx.hash(),
        encoded_len: tx.encode().len(),
        standing,
    }
}

/// Adds a role holder's transaction, admitted for height 1, from no client address.
fn add(pool: &mut Mempool, tx: SignedTx, next: u64) -> Result<(), MempoolError> {
    let check = check(&tx, next, Standing::Holder);
    pool.insert(tx, &check, Height(1), None)
}

fn add_open(
    pool: &mut Mempool,
    tx: SignedTx,
    height: u64,
    source: Option<IpAddr>,
) -> Result<(), MempoolError> {
    let check = check(&tx, 0, Standing::Open);
    pool.insert(tx, &check, Height(height), source)
}

fn limits(window: u64) -> MempoolLimits {
    MempoolLimits {
        nonce_window: window,
        ..MempoolLimits::default()
    }
}

#[test]
fn refuses_duplicates_taken_nonces_and_overflow() {
    let key = SigningKey::from_seed([1; 32]);
    let mut pool = Mempool::new(MempoolLimits {
        txs_max: 3,
        ..limits(5)
    });
    add(&mut pool, tx(&key, 0, 10), 0).expect("first is admitted");
    assert!(matches!(
        add(&mut pool, tx(&key, 0, 10), 0),
        Err(MempoolError::Duplicate(_))
    ));
    assert!(matches!(
        add(&mut pool, tx(&key, 0, 11), 0),
        Err(MempoolError::NonceTaken { .. })
    ));
    add(&mut pool, tx(&key, 1, 10), 0).expect("admitted");
    add(&mut pool, tx(&key, 2, 10), 0).expect("admitted");
    assert!(matches!(
        add(&mut pool, tx(&key, 3, 10), 0),
        Err(MempoolError::Full { .. })
    ));
    assert_eq!(pool.len(), 3);
}

#[test]
fn the_nonce_window_holds_next_to_next_plus_window() {
    let key = SigningKey::from_seed([1; 32]);
    let mut pool = Mempool::new(limits(5));
    let too_high = |result| matches!(result, Err(MempoolError::NonceTooHigh { .. }));
    add(&mut pool, tx(&key, 7 + 5, 10), 7).expect("next + window is held");
    assert!(
        too_high(add(&mut pool, tx(&key, 7 + 6, 10), 7)),
        "next + window + 1"
    );
    assert!(too_high(add(&mut pool, tx(&key, u64::MAX - 1, 10), 7)));
    assert!(too_high(add(&mut pool, tx(&key, u64::MAX, 10), 7)));
    // Near the end of the nonces the window still counts from the next nonce; u64::MAX
    // itself never gets here (the ledger answers tx.nonce_too_high).
    let late = SigningKey::from_seed([2; 32]);
    add(&mut pool, tx(&late, u64::MAX - 1, 10), u64::MAX - 3).expect("within the window");
}

#[test]
fn open_transactions_are_bounded_per_signer_but_role_holders_only_by_the_window() {
    let citizen = SigningKey::from_seed([1; 32]);
    let notary = SigningKey::from_seed([2; 32]);
    let mut pool = Mempool::new(MempoolLimits {
        open_signer_txs_max: 2,
        ..limits(100)
    });
    add_open(&mut pool, tx(&citizen, 0, 10), 1, None).expect("admitted");
    add_open(&mut pool, tx(&citizen, 1, 10), 1, None).expect("admitted");
    assert!(matches!(
        add_open(&mut pool, tx(&citizen, 2, 10), 1, None),
        Err(MempoolError::SignerBusy { max: 2, .. })
    ));
    for nonce in 0..10 {
        add(&mut pool, tx(&notary, nonce, 10), 0).expect("a role holder is not capped at 2");
    }
    // A commit frees the citizen's slot.
    pool.on_commit(&[tx(&citizen, 0, 10)], Height(2), |_| 1);
    add_open(&mut pool, tx(&citizen, 2, 10), 2, None).expect("room again");
}

#[test]
fn open_transactions_are_bounded_per_client_address() {
    let here = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let there = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
    let mut pool = Mempool::new(MempoolLimits {
        open_source_txs_max: 2,
        ..limits(100)
    });
    let keys: Vec<SigningKey> = (1..=5).map(|s| SigningKey::from_seed([s; 32])).collect();
    add_open(&mut pool, tx(&keys[0], 0, 10), 1, Some(here)).expect("admitted");
    add_open(&mut pool, tx(&keys[1], 0, 10), 1, Some(here)).expect("admitted");
    assert!(matches!(
        add_open(&mut pool, tx(&keys[2], 0, 10), 1, Some(here)),
        Err(MempoolError::SourceBusy { max: 2, .. })
    ));
    add_open(&mut pool, tx(&keys[2], 0, 10), 1, Some(there)).expect("another address");
    add_open(&mut pool, tx(&keys[3], 0, 10), 1, None).expect("no address: not counted");
    pool.remove_all(&[tx(&keys[0], 0, 10).hash()]);
    add_open(&mut pool, tx(&keys[4], 0, 10), 1, Some(here)).expect("a slot was freed");
}

#[test]
fn a_transaction_behind_a_gap_is_dropped_after_the_parking_bound() {
    let a = SigningKey::from_seed([1; 32]);
    let b = SigningKey::from_seed([2; 32]);
    let mut pool = Mempool::new(MempoolLimits {
        parked_heights_max: 3,
        ..limits(10_000)
    });
    let parked = tx(&a, 5_000, 1_000);
    add(&mut pool, tx(&a, 0, 1_000), 0).expect("admitted");
    add(&mut pool, parked.clone(), 0).expect("parked behind the gap 1..5000");
    // b's nonce 2 waits behind 1, which arrives before the bound: it is kept.
    add(&mut pool, tx(&b, 0, 1_000), 0).expect("admitted");
    add(&mut pool, tx(&b, 2, 1_000), 0).expect("parked");
    pool.on_commit(&[], Height(3), |_| 0);
    let check_b1 = check(&tx(&b, 1, 1_000), 0, Standing::Holder);
    pool.insert(tx(&b, 1, 1_000), &check_b1, Height(3), None)
        .expect("closes b's gap");
    // Admitted for height 1: kept through the commit for height 4 (1 + 3), dropped at 5.
    pool.on_commit(&[], Height(4), |_| 0);
    assert!(pool.contains(&parked.hash()));
    pool.on_commit(&[], Height(5), |_| 0);
    assert!(
        !pool.contains(&parked.hash()),
        "waited too long behind its gap"
    );
    assert_eq!(pool.len(), 4, "a's nonce 0 and b's 0..=2 are not parked");
    assert_eq!(pool.reap(100, usize::MAX).len(), 4);
}

#[test]
fn reaps_consecutive_nonces_only_and_respects_limits() {
    let a = SigningKey::from_seed([1; 32]);
    let b = SigningKey::from_seed([2; 32]);
    let mut pool = Mempool::new(MempoolLimits::default());
    for nonce in [0, 1, 3] {
        add(&mut pool, tx(&a, nonce, 10), 0).expect("admitted");
    }
    add(&mut pool, tx(&b, 0, 10), 0).expect("admitted");
    let reaped = pool.reap(100, usize::MAX);
    assert_eq!(reaped.len(), 3, "nonce 3 waits for nonce 2");
    assert_eq!(pool.reap(1, usize::MAX).len(), 1);
    assert!(pool.reap(100, 10).is_empty(), "no tx fits in 10 bytes");
    assert_eq!(
        pool.next_nonce(&a.public_key(), 0),
        2,
        "the gap at 2 is next"
    );
    assert_eq!(pool.next_nonce(&a.public_key(), 3), 4);
    assert_eq!(pool.next_nonce(&a.public_key(), 5), 5);
    let c = SigningKey::from_seed([3; 32]);
    assert_eq!(pool.next_nonce(&c.public_key(), 7), 7);
}

#[test]
fn commit_removes_included_stale_and_expired() {
    let a = SigningKey::from_seed([1; 32]);
    let b = SigningKey::from_seed([2; 32]);
    let mut pool = Mempool::new(MempoolLimits::default());
    let included = tx(&a, 0, 10);
    add(&mut pool, included.clone(), 0).expect("admitted");
    add(&mut pool, tx(&a, 1, 10), 0).expect("admitted");
    add(&mut pool, tx(&b, 0, 2), 0).expect("admitted");
    pool.on_commit(&[included], Height(3), |_| 1);
    assert_eq!(pool.len(), 1, "a's nonce 1 stays; b's expired");
    let before = pool.bytes();
    assert!(before > 0);
    pool.on_commit(&[tx(&a, 1, 10)], Height(3), |_| 2);
    assert!(pool.is_empty());
    assert_eq!(pool.bytes(), 0);
}

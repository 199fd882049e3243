//! The store's single-use and expiry rules, without HTTP or a node.

use std::collections::BTreeSet;

use serde_json::{json, Map};

use crate::error::{IssuerError, ProtocolError, RequestError};
use crate::store::{CredentialRecord, CredentialState, OfferRecord, Store, TX_CODE_ATTEMPTS_MAX};

const NOW: u64 = 1_800_000_000;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = Store::open(&dir.path().join("data").join("issuer.redb")).expect("opens");
    (dir, store)
}

fn offer(id: &str, tx_code: Option<&str>) -> OfferRecord {
    let mut claims = Map::new();
    claims.insert("age_over_19".into(), json!(true));
    OfferRecord {
        offer_id: id.into(),
        configuration_id: "AgeOver".into(),
        claims,
        pre_authorized_code: Some(format!("code-{id}")),
        tx_code: tx_code.map(str::to_owned),
        tx_code_attempts: 0,
        created_at: NOW,
        expires_at: NOW + 600,
        token_expires_at: None,
    }
}

fn code_of(result: Result<OfferRecord, RequestError>) -> Option<ProtocolError> {
    result.err().and_then(|e| e.protocol_code())
}

fn mint(
    offer: &OfferRecord,
    revocation: u32,
    suspension: u32,
) -> Result<(String, CredentialRecord), RequestError> {
    Ok((
        format!("credential-of-{}", offer.offer_id),
        CredentialRecord {
            id: format!(
                "{:032x}",
                u128::from(revocation) << 32 | u128::from(suspension)
            ),
            credential_type: offer.configuration_id.clone(),
            offer_id: offer.offer_id.clone(),
            revocation_index: revocation,
            suspension_index: suspension,
            issued_at: NOW,
            expires_at: NOW + 1,
            state: CredentialState::Active,
            state_height: None,
        },
    ))
}

#[test]
fn a_code_is_redeemed_once_and_the_token_issues_once() {
    let (_dir, store) = store();
    store
        .insert_offer(&offer("a", None), "digest-a", NOW)
        .expect("stored");
    assert!(store.pending_offer("a", NOW).expect("read").is_some());
    let redeemed = store
        .redeem_code("digest-a", None, NOW, "token-a", NOW + 600)
        .expect("redeemed");
    assert_eq!(redeemed.pre_authorized_code, None, "the code is forgotten");
    assert!(store.pending_offer("a", NOW).expect("read").is_none());
    assert_eq!(
        code_of(store.redeem_code("digest-a", None, NOW, "token-b", NOW + 600)),
        Some(ProtocolError::InvalidGrant)
    );
    assert_eq!(
        store
            .offer_for_token("token-a", NOW)
            .expect("valid")
            .offer_id,
        "a"
    );
    let credential = store
        .issue("token-a", NOW, (1024, 1024), &mut rand::rngs::OsRng, mint)
        .expect("issued");
    assert_eq!(credential, "credential-of-a");
    // The token is spent and the offer with its claims is gone.
    assert!(matches!(
        store.issue("token-a", NOW, (1024, 1024), &mut rand::rngs::OsRng, mint),
        Err(RequestError::Protocol {
            code: ProtocolError::InvalidToken,
            ..
        })
    ));
    assert_eq!(store.offer_count(), 0);
    let records = store.credentials(None, 10).expect("listed");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].offer_id, "a");
}

#[test]
fn expired_offers_and_tokens_are_refused_and_purged() {
    let (_dir, store) = store();
    store
        .insert_offer(&offer("a", None), "digest-a", NOW)
        .expect("stored");
    store
        .insert_offer(&offer("b", None), "digest-b", NOW)
        .expect("stored");
    assert_eq!(
        code_of(store.redeem_code("digest-a", None, NOW + 600, "t", NOW + 1200)),
        Some(ProtocolError::InvalidGrant)
    );
    store
        .redeem_code("digest-b", None, NOW, "token-b", NOW + 10)
        .expect("redeemed");
    assert!(store.offer_for_token("token-b", NOW + 10).is_err());
    assert!(matches!(
        store.issue("token-b", NOW + 10, (64, 64), &mut rand::rngs::OsRng, mint),
        Err(RequestError::Protocol {
            code: ProtocolError::InvalidToken,
            ..
        })
    ));
    assert!(store.purge_expired(NOW + 10).expect("purged") >= 2);
    assert_eq!(
        store.offer_count(),
        0,
        "the expired offer's claims are deleted"
    );
}

#[test]
fn transaction_codes_are_checked_and_guessing_withdraws_the_offer() {
    let (_dir, store) = store();
    store
        .insert_offer(&offer("a", Some("123456")), "digest-a", NOW)
        .expect("stored");
    assert_eq!(
        code_of(store.redeem_code("digest-a", None, NOW, "t", NOW + 600)),
        Some(ProtocolError::InvalidRequest)
    );
    assert_eq!(
        code_of(store.redeem_code("digest-a", Some("000000"), NOW, "t", NOW + 600)),
        Some(ProtocolError::InvalidGrant)
    );
    store
        .redeem_code("digest-a", Some("123456"), NOW, "t", NOW + 600)
        .expect("the right code works");

    store
        .insert_offer(&offer("b", Some("654321")), "digest-b", NOW)
        .expect("stored");
    for _ in 0..TX_CODE_ATTEMPTS_MAX {
        assert_eq!(
            code_of(store.redeem_code("digest-b", Some("111111"), NOW, "u", NOW + 600)),
            Some(ProtocolError::InvalidGrant)
        );
    }
    assert_eq!(
        code_of(store.redeem_code("digest-b", Some("654321"), NOW, "u", NOW + 600)),
        Some(ProtocolError::InvalidGrant),
        "withdrawn after too many wrong codes"
    );
    store
        .insert_offer(&offer("c", None), "digest-c", NOW)
        .expect("stored");
    assert_eq!(
        code_of(store.redeem_code("digest-c", Some("1"), NOW, "v", NOW + 600)),
        Some(ProtocolError::InvalidRequest)
    );
}

#[test]
fn nonces_are_spent_once() {
    let (_dir, store) = store();
    assert!(store.spend_nonce("n1", NOW + 300, NOW).expect("spent"));
    assert!(!store.spend_nonce("n1", NOW + 300, NOW).expect("read"));
    assert!(store.spend_nonce("n2", NOW + 300, NOW).expect("spent"));
    // Forgotten once expired (a nonce past its expiry no longer passes its key's check).
    assert_eq!(store.purge_expired(NOW + 300).expect("purged"), 2);
    assert!(store
        .spend_nonce("n1", NOW + 600, NOW + 300)
        .expect("spent"));
}

#[test]
fn status_indices_are_distinct_and_a_failed_mint_changes_nothing() {
    let (_dir, store) = store();
    let bits = 8;
    let mut revocations = BTreeSet::new();
    let mut suspensions = BTreeSet::new();
    for i in 0..bits {
        let id = format!("o{i}");
        store
            .insert_offer(&offer(&id, None), &format!("d{i}"), NOW)
            .expect("stored");
        store
            .redeem_code(&format!("d{i}"), None, NOW, &format!("t{i}"), NOW + 600)
            .expect("redeemed");
        if i == 0 {
            let failed = store.issue(
                "t0",
                NOW,
                (bits, bits),
                &mut rand::rngs::OsRng,
                |_, _, _| Err(RequestError::Invalid("mint failed".into())),
            );
            assert!(matches!(failed, Err(RequestError::Invalid(_))));
        }
        store
            .issue(
                &format!("t{i}"),
                NOW,
                (bits, bits),
                &mut rand::rngs::OsRng,
                mint,
            )
            .expect("a token survives a failed mint and issues");
    }
    for record in store.credentials(None, 100).expect("listed") {
        assert!(record.revocation_index < bits);
        revocations.insert(record.revocation_index);
        suspensions.insert(record.suspension_index);
    }
    assert_eq!(revocations.len(), 8, "every index used once");
    assert_eq!(suspensions.len(), 8);
    store
        .insert_offer(&offer("full", None), "dfull", NOW)
        .expect("stored");
    store
        .redeem_code("dfull", None, NOW, "tfull", NOW + 600)
        .expect("redeemed");
    assert!(matches!(
        store.issue("tfull", NOW, (bits, bits), &mut rand::rngs::OsRng, mint),
        Err(RequestError::Failed(IssuerError::StatusListFull {
            list: 0
        }))
    ));
    // Paging.
    let first = store.credentials(None, 3).expect("listed");
    let rest = store.credentials(Some(&first[2].id), 100).expect("listed");
    assert_eq!(first.len() + rest.len(), 8);
}

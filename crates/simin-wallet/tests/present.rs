//! Presenting stored credentials: a card issued with `simin_identity::sd_jwt`, stored in a
//! wallet, presented with a subset of its claims, and checked with `sd_jwt::verify`.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::card::{self, Card};
use serde_json::{json, Value};
use simin_identity::jose::Jwk;
use simin_identity::sd_jwt::{self, PathElement, SdJwt, SdJwtError, VerifyOptions};
use simin_wallet::present::{disclosable_claims, present, read_credential, PresentationRequest};
use simin_wallet::{CredentialRecord, Holder, PresentError, WalletStore};

const NONCE: &str = "n-0S6_WzA2Mj";
const AUDIENCE: &str = "https://library.seoul.example/verifier";
const NOW: i64 = card::IAT + 3600;

fn issuer_jwk() -> Jwk {
    Jwk::Ed25519(card::issuer_key().verifying_key())
}

/// A wallet holding one card bound to its key: (temp dir, store, holder, record).
fn wallet_with_card() -> (tempfile::TempDir, WalletStore, Holder, CredentialRecord) {
    let (tmp, dir) = common::wallet_dir();
    let mut store = common::create(&dir, 11);
    let holder = Holder::from_store(&store);
    let record = CredentialRecord {
        format: "dc+sd-jwt".into(),
        credential: Card::for_holder(holder.jwk()).issue(),
        type_name: card::VCT.into(),
        issuer: card::ISSUER_DID.into(),
        received_at: 1_790_000_100,
        label: None,
    };
    let id = store
        .put_credential(&record, &mut common::rng(12))
        .expect("stored");
    let stored = store.get_credential(id).expect("read back");
    assert_eq!(stored, record);
    (tmp, store, holder, stored)
}

fn request<'a>(disclose: &'a [String]) -> PresentationRequest<'a> {
    PresentationRequest {
        disclose,
        nonce: NONCE,
        audience: AUDIENCE,
        issued_at: NOW,
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn the_claims_are_read_from_the_disclosures() {
    let (_tmp, _store, _holder, record) = wallet_with_card();
    let claims = disclosable_claims(&record.credential).expect("claims");
    let listed: BTreeMap<String, Value> =
        claims.iter().map(|c| (c.name(), c.value.clone())).collect();
    let expected: BTreeMap<String, Value> = card::claims().into_iter().collect();
    assert_eq!(listed, expected);

    let view = read_credential(&record.credential).expect("view");
    assert_eq!(view.issuer.as_deref(), Some(card::ISSUER_DID));
    assert_eq!(view.vct.as_deref(), Some(card::VCT));
    assert_eq!(view.issued_at, Some(card::IAT));
    assert_eq!(view.expires_at, Some(card::EXP));
    assert!(
        view.plain_claims.is_empty(),
        "the card profile has no plain subject claims: {:?}",
        view.plain_claims
    );
    assert_eq!(view.claims, claims);
}

#[test]
fn a_presentation_discloses_exactly_the_chosen_claims() {
    let (_tmp, _store, holder, record) = wallet_with_card();
    let chosen = names(&["name", "birthdate"]);
    let presentation = present(&record, &holder, &request(&chosen)).expect("presents");
    assert_eq!(
        SdJwt::parse(&presentation)
            .expect("parses")
            .disclosures
            .len(),
        2,
        "one disclosure per chosen claim"
    );

    let options = VerifyOptions::new(NOW).with_key_binding(NONCE, AUDIENCE);
    let verified = sd_jwt::verify(&presentation, &issuer_jwk(), &options).expect("verifies");
    let disclosed: BTreeSet<Vec<PathElement>> = verified.disclosed_paths.into_iter().collect();
    let expected: BTreeSet<Vec<PathElement>> = chosen
        .iter()
        .map(|name| vec![PathElement::from(name.as_str())])
        .collect();
    assert_eq!(disclosed, expected);
    assert_eq!(verified.claims["name"], json!("Kim Ji-woo"));
    assert_eq!(verified.claims["birthdate"], json!("1990-04-01"));
    assert!(verified.claims.get("resident_district").is_none());
    assert!(verified.claims.get("age_over_19").is_none());
    let key_binding = verified.key_binding.expect("a Key Binding JWT was checked");
    assert_eq!(key_binding.iat, NOW);
    assert_eq!(key_binding.nonce, NONCE);
    assert_eq!(key_binding.audience, AUDIENCE);
}

#[test]
fn a_presentation_is_refused_for_another_nonce_or_audience() {
    let (_tmp, _store, holder, record) = wallet_with_card();
    let chosen = names(&["age_over_19"]);
    let presentation = present(&record, &holder, &request(&chosen)).expect("presents");
    let wrong_nonce = VerifyOptions::new(NOW).with_key_binding("another nonce", AUDIENCE);
    assert!(matches!(
        sd_jwt::verify(&presentation, &issuer_jwk(), &wrong_nonce),
        Err(SdJwtError::WrongNonce { .. })
    ));
    let wrong_audience = VerifyOptions::new(NOW).with_key_binding(NONCE, "https://evil.example");
    assert!(matches!(
        sd_jwt::verify(&presentation, &issuer_jwk(), &wrong_audience),
        Err(SdJwtError::WrongAudience { .. })
    ));
}

#[test]
fn nothing_chosen_discloses_nothing_and_plain_claims_may_be_named() {
    let (_tmp, _store, holder, record) = wallet_with_card();
    for chosen in [names(&[]), names(&["vct", "iss"])] {
        let presentation = present(&record, &holder, &request(&chosen)).expect("presents");
        let options = VerifyOptions::new(NOW).with_key_binding(NONCE, AUDIENCE);
        let verified = sd_jwt::verify(&presentation, &issuer_jwk(), &options).expect("verifies");
        assert!(verified.disclosed_paths.is_empty(), "{chosen:?}");
        assert_eq!(verified.claims["vct"], json!(card::VCT));
    }
}

#[test]
fn a_claim_the_credential_does_not_have_is_refused() {
    let (_tmp, _store, holder, record) = wallet_with_card();
    let chosen = names(&["name", "nationality"]);
    match present(&record, &holder, &request(&chosen)) {
        Err(PresentError::UnknownClaim { name, available }) => {
            assert_eq!(name, "nationality");
            assert!(available.contains(&"birthdate".to_owned()), "{available:?}");
        }
        other => panic!("expected UnknownClaim, got {other:?}"),
    }
    // Reserved payload members are not claims either.
    let chosen = names(&["_sd"]);
    assert!(matches!(
        present(&record, &holder, &request(&chosen)),
        Err(PresentError::UnknownClaim { .. })
    ));
}

#[test]
fn another_wallet_cannot_present_the_credential() {
    let (_tmp, _store, _holder, record) = wallet_with_card();
    let (_tmp2, dir) = common::wallet_dir();
    let other = Holder::from_store(&common::create(&dir, 99));
    let chosen = names(&["name"]);
    assert!(matches!(
        present(&record, &other, &request(&chosen)),
        Err(PresentError::KeyBinding(SdJwtError::HolderKeyMismatch))
    ));
}

#[test]
fn bad_requests_and_formats_are_refused() {
    let (_tmp, _store, holder, record) = wallet_with_card();
    let chosen = names(&["name"]);
    let empty_nonce = PresentationRequest {
        nonce: "",
        ..request(&chosen)
    };
    assert!(matches!(
        present(&record, &holder, &empty_nonce),
        Err(PresentError::InvalidRequest { .. })
    ));
    let empty_audience = PresentationRequest {
        audience: "",
        ..request(&chosen)
    };
    assert!(matches!(
        present(&record, &holder, &empty_audience),
        Err(PresentError::InvalidRequest { .. })
    ));
    let ldp = CredentialRecord {
        format: "ldp_vc".into(),
        ..record.clone()
    };
    assert!(matches!(
        present(&ldp, &holder, &request(&chosen)),
        Err(PresentError::UnsupportedFormat { .. })
    ));
    let garbage = CredentialRecord {
        credential: "not an sd-jwt".into(),
        ..record
    };
    assert!(matches!(
        present(&garbage, &holder, &request(&chosen)),
        Err(PresentError::Malformed(_))
    ));
}

#[test]
fn nested_claims_are_named_by_path_and_disclosed_with_their_parent() {
    let (_tmp, dir) = common::wallet_dir();
    let store = common::create(&dir, 21);
    let holder = Holder::from_store(&store);
    // An object claim whose members are disclosable on their own, issued directly.
    let mut payload = serde_json::Map::new();
    payload.insert("iss".into(), json!(card::ISSUER_DID));
    payload.insert("vct".into(), json!(card::VCT));
    payload.insert(
        "address".into(),
        json!({"locality": "Mapo-gu", "street": "Wausan-ro"}),
    );
    let policy = sd_jwt::SdPolicy::plain().member(
        "address",
        sd_jwt::SdPolicy::sd().member("locality", sd_jwt::SdPolicy::sd()),
    );
    let mut header = serde_json::Map::new();
    header.insert("typ".into(), json!("dc+sd-jwt"));
    let mut n = 0;
    let issued = sd_jwt::issue(
        &sd_jwt::IssueRequest {
            claims: &payload,
            policy: &policy,
            header: &header,
            holder_key: Some(holder.jwk()),
            style: sd_jwt::JsonStyle::Compact,
        },
        &simin_identity::jose::JwsSigner::Ed25519(card::issuer_key()),
        &mut || {
            n += 1;
            format!("nested-salt-{n}")
        },
    )
    .expect("issues");
    let claims = disclosable_claims(&issued.sd_jwt).expect("claims");
    let named: Vec<(String, Value)> = claims.iter().map(|c| (c.name(), c.value.clone())).collect();
    assert!(
        named.contains(&("address.locality".into(), json!("Mapo-gu"))),
        "{named:?}"
    );
    assert!(
        named.contains(&("address".into(), json!({"street": "Wausan-ro"}))),
        "{named:?}"
    );

    let record = CredentialRecord {
        format: "dc+sd-jwt".into(),
        credential: issued.sd_jwt,
        type_name: card::VCT.into(),
        issuer: card::ISSUER_DID.into(),
        received_at: 0,
        label: None,
    };
    let chosen = names(&["address.locality"]);
    let presentation = present(&record, &holder, &request(&chosen)).expect("presents");
    let options = VerifyOptions::new(NOW).with_key_binding(NONCE, AUDIENCE);
    let verified = sd_jwt::verify(&presentation, &issuer_jwk(), &options).expect("verifies");
    assert_eq!(verified.claims["address"]["locality"], json!("Mapo-gu"));
    assert_eq!(verified.claims["address"]["street"], json!("Wausan-ro"));
}

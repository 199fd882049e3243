//! What the wallet checks of an issued credential before storing it.

mod common;

use common::card::{self, Card};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use simin_identity::jose::Jwk;
use simin_identity::sd_jwt::SdJwtError;
use simin_wallet::oid4vci::{
    check_credential, issuer_key_from_resolution, verify_issuer_signature, CheckedCredential,
    Endpoint, Oid4vciError, FORMAT_SD_JWT_VC,
};
use simin_wallet::Holder;

const NOW: i64 = card::IAT + 60;

fn holder() -> Holder {
    Holder::new(&SigningKey::from_bytes(&[5; 32]))
}

fn checked(card: &Card, holder: &Holder) -> CheckedCredential {
    check_credential(&card.issue(), holder, card::VCT).expect("the card passes")
}

#[test]
fn a_card_for_this_wallet_passes_and_becomes_a_record() {
    let holder = holder();
    let card = Card::for_holder(holder.jwk());
    let checked = checked(&card, &holder);
    assert_eq!(checked.issuer, card::ISSUER_DID);
    assert_eq!(checked.vct, card::VCT);
    assert_eq!(checked.kid.as_deref(), Some(card::ISSUER_KID));
    assert_eq!(checked.expires_at, Some(card::EXP));
    let record = checked.record(1234);
    assert_eq!(record.format, FORMAT_SD_JWT_VC);
    assert_eq!(record.format, "dc+sd-jwt");
    assert_eq!(record.type_name, card::VCT);
    assert_eq!(record.issuer, card::ISSUER_DID);
    assert_eq!(record.received_at, 1234);
    assert_eq!(record.credential, card.issue());
}

#[test]
fn a_card_bound_to_another_key_or_to_none_is_refused() {
    let holder = holder();
    let other = Jwk::Ed25519(SigningKey::from_bytes(&[6; 32]).verifying_key());
    let foreign = Card::for_holder(&other).issue();
    assert!(matches!(
        check_credential(&foreign, &holder, card::VCT),
        Err(Oid4vciError::HolderKeyMismatch)
    ));
    let unbound = Card {
        holder: None,
        ..Card::for_holder(holder.jwk())
    }
    .issue();
    assert!(matches!(
        check_credential(&unbound, &holder, card::VCT),
        Err(Oid4vciError::HolderKeyMismatch)
    ));
}

#[test]
fn a_card_of_another_type_or_typ_is_refused() {
    let holder = holder();
    let card = Card::for_holder(holder.jwk()).issue();
    assert!(matches!(
        check_credential(&card, &holder, "Residency"),
        Err(Oid4vciError::VctMismatch { ref expected, ref got }) if expected == "Residency" && got == card::VCT
    ));
    let jwt_typ = Card {
        typ: "JWT",
        ..Card::for_holder(holder.jwk())
    }
    .issue();
    assert!(matches!(
        check_credential(&jwt_typ, &holder, card::VCT),
        Err(Oid4vciError::InvalidCredential { .. })
    ));
}

#[test]
fn malformed_or_tampered_credentials_are_refused() {
    let holder = holder();
    let card = Card::for_holder(holder.jwk()).issue();
    let with_key_binding = format!("{card}eyJhbGciOiJFZERTQSJ9.e30.c2ln");
    // A disclosure of another credential: it matches no digest of this one.
    let foreign_disclosure = format!(
        "{card}{}~",
        simin_identity::sd_jwt::Disclosure::new(
            "salt",
            Some("name"),
            &json!("Mallory"),
            Default::default()
        )
        .encoded()
    );
    for bad in [
        "not a credential".to_owned(),
        card.replace('~', ""),
        with_key_binding,
        foreign_disclosure,
    ] {
        assert!(
            matches!(
                check_credential(&bad, &holder, card::VCT),
                Err(Oid4vciError::InvalidCredential { .. })
            ),
            "{bad:.60}"
        );
    }
}

fn resolve(status: u16, resolution: &Value, kid: Option<&str>) -> Result<Jwk, Oid4vciError> {
    issuer_key_from_resolution(
        status,
        resolution.to_string().as_bytes(),
        card::ISSUER_DID,
        kid,
    )
}

#[test]
fn the_issuer_key_is_the_assertion_key_the_did_document_names() {
    let key = card::issuer_key();
    let expected = Jwk::Ed25519(key.verifying_key());
    let resolution = card::resolution(&key);
    assert_eq!(
        resolve(200, &resolution, Some(card::ISSUER_KID)).expect("found"),
        expected
    );
    // A relative kid names a key of the issuer's own DID.
    assert_eq!(
        resolve(200, &resolution, Some("#key-1")).expect("found"),
        expected
    );

    let mut relative_doc = resolution.clone();
    relative_doc["didDocument"]["verificationMethod"][0]["id"] = json!("#key-1");
    relative_doc["didDocument"]["assertionMethod"] = json!(["#key-1"]);
    assert_eq!(
        resolve(200, &relative_doc, Some(card::ISSUER_KID)).expect("found"),
        expected
    );
}

#[test]
fn keys_that_do_not_sign_credentials_or_belong_elsewhere_are_refused() {
    let resolution = card::resolution(&card::issuer_key());
    let not_found = |result: Result<Jwk, Oid4vciError>| {
        matches!(result, Err(Oid4vciError::IssuerKeyNotFound { .. }))
    };
    assert!(not_found(resolve(
        200,
        &resolution,
        Some("did:simin:seoul.agency#key-2")
    )));
    assert!(not_found(resolve(
        200,
        &resolution,
        Some("did:simin:evil#key-1")
    )));
    assert!(not_found(resolve(
        200,
        &resolution,
        Some("did:simin:seoul.agency.evil#key-1")
    )));
    let mut only_invocation = resolution.clone();
    only_invocation["didDocument"]["assertionMethod"] = json!([]);
    assert!(not_found(resolve(
        200,
        &only_invocation,
        Some(card::ISSUER_KID)
    )));
    assert!(matches!(
        resolve(200, &resolution, None),
        Err(Oid4vciError::InvalidCredential { .. })
    ));
    let mut other_did = resolution.clone();
    other_did["didDocument"]["id"] = json!("did:simin:other");
    assert!(matches!(
        resolve(200, &other_did, Some(card::ISSUER_KID)),
        Err(Oid4vciError::IssuerResolution { .. })
    ));
    let mut bad_key = resolution;
    bad_key["didDocument"]["verificationMethod"][0]["publicKeyMultibase"] = json!("zNotAKey");
    assert!(matches!(
        resolve(200, &bad_key, Some(card::ISSUER_KID)),
        Err(Oid4vciError::IssuerResolution { .. })
    ));
}

#[test]
fn unresolvable_and_deactivated_issuers_are_refused() {
    let not_found = json!({
        "didDocument": null,
        "didResolutionMetadata": {"error": "notFound", "errorMessage": "no such DID"},
        "didDocumentMetadata": {},
    });
    match resolve(404, &not_found, Some(card::ISSUER_KID)) {
        Err(Oid4vciError::IssuerResolution { reason, .. }) => {
            assert!(
                reason.contains("404") && reason.contains("notFound"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    let mut deactivated = card::resolution(&card::issuer_key());
    deactivated["didDocumentMetadata"]["deactivated"] = json!(true);
    for status in [200, 410] {
        assert!(matches!(
            resolve(status, &deactivated, Some(card::ISSUER_KID)),
            Err(Oid4vciError::IssuerDeactivated { .. })
        ));
    }
    assert!(matches!(
        issuer_key_from_resolution(200, b"<html>", card::ISSUER_DID, Some(card::ISSUER_KID)),
        Err(Oid4vciError::InvalidResponse {
            endpoint: Endpoint::DidResolution,
            ..
        })
    ));
}

#[test]
fn the_issuer_signature_and_validity_are_verified() {
    let holder = holder();
    let issuer = Jwk::Ed25519(card::issuer_key().verifying_key());
    let good = checked(&Card::for_holder(holder.jwk()), &holder);
    verify_issuer_signature(&good, &issuer, NOW).expect("verifies");

    let impostor = Card::for_holder(holder.jwk()).issue_with(&SigningKey::from_bytes(&[9; 32]));
    let impostor = check_credential(&impostor, &holder, card::VCT).expect("well-formed");
    assert!(matches!(
        verify_issuer_signature(&impostor, &issuer, NOW),
        Err(Oid4vciError::IssuerSignature(
            SdJwtError::BadIssuerSignature
        ))
    ));
    assert!(matches!(
        verify_issuer_signature(&good, &issuer, card::EXP + 3600),
        Err(Oid4vciError::IssuerSignature(SdJwtError::Expired { .. }))
    ));
}

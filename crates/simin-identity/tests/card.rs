//! The simin SD-JWT VC profile of the citizen card: issue, present with key binding,
//! verify; schema checks at issuance and for a verifier; status entries.

use serde_json::{json, Map, Value};
use simin_identity::card::{
    builtin_schema, is_status_list_of, issue_sd_jwt_vc, parse_status, validate_claims, CardError,
    CardIssue, BUILTIN_TYPES,
};
use simin_identity::jose::JwsSigner;
use simin_identity::sd_jwt::{present, verify, KeyBindingRequest, PathElement, VerifyOptions};
use simin_identity::status_list::{BitstringStatusListEntry, StatusPurpose};

const NOW: u64 = 1_800_000_000;
const ISS: &str = "did:simin:seoul.agency";

fn ed25519(seed: u8) -> JwsSigner {
    JwsSigner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
}

fn counter() -> impl FnMut() -> String {
    let mut next = 0u32;
    move || {
        next += 1;
        format!("salt-{next}")
    }
}

fn claims() -> Map<String, Value> {
    json!({
        "name": "Kim Min-ji",
        "birthdate": "1990-05-17",
        "resident_district": "Mapo-gu",
        "photo_sha256": "ab".repeat(32),
        "card_number": "SC-2026-000123",
        "age_over_14": true,
        "age_over_19": true,
        "age_over_65": false
    })
    .as_object()
    .expect("an object")
    .clone()
}

fn entries() -> Vec<BitstringStatusListEntry> {
    vec![
        BitstringStatusListEntry::new(
            None,
            StatusPurpose::Revocation,
            94_567,
            format!("{ISS}/status/0"),
        ),
        BitstringStatusListEntry::new(
            None,
            StatusPurpose::Suspension,
            23_452,
            format!("{ISS}/status/1"),
        ),
    ]
}

fn request() -> CardIssue {
    CardIssue {
        vct: "CitizenCard".into(),
        iss: ISS.into(),
        kid: format!("{ISS}#key-1"),
        claims: claims(),
        holder_jwk: ed25519(2).public_jwk(),
        iat: NOW,
        exp: NOW + 365 * 86_400,
        status: entries(),
    }
}

fn now() -> i64 {
    i64::try_from(NOW).expect("fits") + 10
}

#[test]
fn issued_card_verifies_with_every_claim_and_the_holder_key() {
    let issuer = ed25519(1);
    let holder = ed25519(2);
    let card = issue_sd_jwt_vc(&request(), &issuer, &mut counter()).expect("issues");
    let all: Vec<Vec<PathElement>> = claims()
        .keys()
        .map(|k| vec![PathElement::from(k.as_str())])
        .collect();
    let presented = present(
        &card,
        &all,
        Some(&KeyBindingRequest {
            signer: &holder,
            audience: "https://verifier.example",
            nonce: "n-1",
            issued_at: now(),
        }),
    )
    .expect("presents");
    let mut options = VerifyOptions::new(now()).with_key_binding("n-1", "https://verifier.example");
    options.expected_typ = Some(simin_identity::sd_jwt::TYP_SD_JWT_VC.to_owned());
    let verified = verify(&presented, &issuer.public_jwk(), &options).expect("verifies");
    assert_eq!(verified.header["kid"], format!("{ISS}#key-1"));
    assert_eq!(verified.header["alg"], "EdDSA");
    let out = verified.claims.as_object().expect("an object");
    for (name, value) in claims() {
        assert_eq!(out.get(&name), Some(&value), "{name}");
    }
    assert_eq!(out["iss"], ISS);
    assert_eq!(out["vct"], "CitizenCard");
    assert_eq!(out["cnf"]["jwk"], holder.public_jwk().to_json());
    assert_eq!(parse_status(&verified.claims).expect("status"), entries());
    validate_claims(builtin_schema("CitizenCard").expect("builtin"), out, false)
        .expect("the verifier's view matches the schema");
}

#[test]
fn every_user_claim_is_hidden_and_the_profile_claims_are_not() {
    let card = issue_sd_jwt_vc(&request(), &ed25519(1), &mut counter()).expect("issues");
    let jwt = card.split('~').next().expect("a JWT");
    let (_, payload) = simin_identity::jose::decode_compact_unverified(jwt).expect("decodes");
    for name in claims().keys() {
        assert!(!payload.contains_key(name), "{name} is in the clear");
    }
    assert_eq!(
        payload["_sd"].as_array().map(Vec::len),
        Some(claims().len())
    );
    for name in ["iss", "iat", "exp", "vct", "status", "cnf"] {
        assert!(payload.contains_key(name), "{name} is missing");
    }
    // A presentation disclosing one claim reveals only that one.
    let one = present(&card, &[vec![PathElement::from("age_over_19")]], None).expect("presents");
    let verified =
        verify(&one, &ed25519(1).public_jwk(), &VerifyOptions::new(now())).expect("verifies");
    assert_eq!(verified.claims["age_over_19"], true);
    assert!(verified.claims.get("name").is_none());
    assert!(verified.claims.get("birthdate").is_none());
    validate_claims(
        builtin_schema("CitizenCard").expect("builtin"),
        verified.claims.as_object().expect("object"),
        false,
    )
    .expect("a partial disclosure is valid for a verifier");
    assert!(validate_claims(
        builtin_schema("CitizenCard").expect("builtin"),
        verified.claims.as_object().expect("object"),
        true
    )
    .is_err());
}

#[test]
fn bad_requests_are_refused() {
    let signer = ed25519(1);
    let issue = |r: CardIssue| issue_sd_jwt_vc(&r, &signer, &mut counter());
    let mut r = request();
    r.claims.insert("iss".into(), json!("did:simin:other"));
    assert_eq!(issue(r), Err(CardError::ReservedClaim("iss".into())));
    let mut r = request();
    r.iss = "did:web:example.com".into();
    assert!(matches!(issue(r), Err(CardError::InvalidIssuer(_))));
    let mut r = request();
    r.kid = "did:simin:other#key-1".into();
    assert!(matches!(issue(r), Err(CardError::InvalidKid { .. })));
    let mut r = request();
    r.exp = r.iat;
    assert!(matches!(issue(r), Err(CardError::InvalidValidity { .. })));
    let mut r = request();
    r.status[0].status_list_credential = "did:simin:other/status/0".into();
    assert!(matches!(issue(r), Err(CardError::ForeignStatusList { .. })));
    let mut r = request();
    r.status[1].status_list_credential = format!("{ISS}/status/01");
    assert!(matches!(issue(r), Err(CardError::ForeignStatusList { .. })));
    let mut r = request();
    r.status.clear();
    assert_eq!(issue(r), Err(CardError::StatusEntryCount(0)));
    let es256 = JwsSigner::Es256(p256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("a key"));
    assert_eq!(
        issue_sd_jwt_vc(&request(), &es256, &mut counter()),
        Err(CardError::UnsupportedSigner)
    );
    // A salt source that repeats itself is caught by the SD-JWT layer.
    assert!(matches!(
        issue_sd_jwt_vc(&request(), &signer, &mut || "same".to_owned()),
        Err(CardError::SdJwt(_))
    ));
}

#[test]
fn schemas_refuse_what_they_do_not_describe() {
    let schema = builtin_schema("CitizenCard").expect("builtin");
    validate_claims(schema, &claims(), true).expect("valid claims");
    let mut missing = claims();
    missing.remove("card_number");
    let Err(CardError::SchemaViolation { violations }) = validate_claims(schema, &missing, true)
    else {
        panic!("a missing required claim is refused");
    };
    assert!(violations[0].contains("card_number"), "{violations:?}");
    validate_claims(schema, &missing, false).expect("a verifier does not require it");
    let mut extra = claims();
    extra.insert("blood_type".into(), json!("A"));
    assert!(validate_claims(schema, &extra, true).is_err());
    assert!(validate_claims(schema, &extra, false).is_err());
    let mut wrong = claims();
    wrong.insert("birthdate".into(), json!("17/05/1990"));
    let Err(CardError::SchemaViolation { violations }) = validate_claims(schema, &wrong, false)
    else {
        panic!("a bad pattern is refused");
    };
    assert!(violations[0].contains("/birthdate"), "{violations:?}");
    assert!(matches!(
        validate_claims("not json", &claims(), true),
        Err(CardError::InvalidSchema(_))
    ));
    assert!(matches!(
        validate_claims(r#"{"$ref": "https://example.com/s.json"}"#, &claims(), true),
        Err(CardError::InvalidSchema(_))
    ));
    for name in BUILTIN_TYPES {
        let schema = builtin_schema(name).expect("builtin");
        serde_json::from_str::<Value>(schema).expect("JSON");
        validate_claims(schema, &Map::new(), false).expect("an empty disclosure is valid");
    }
    assert_eq!(builtin_schema("Passport"), None);
}

#[test]
fn status_entries_round_trip_and_malformed_ones_are_refused() {
    let payload = json!({ "status": { "bitstring_status_list": entries() } });
    assert_eq!(parse_status(&payload).expect("parses"), entries());
    assert_eq!(
        payload["status"]["bitstring_status_list"][0],
        json!({
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": "did:simin:seoul.agency/status/0"
        })
    );
    assert_eq!(parse_status(&json!({})).expect("none"), vec![]);
    assert!(parse_status(&json!({ "status": {} })).is_err());
    assert!(
        parse_status(&json!({ "status": { "bitstring_status_list": [{"type": "X"}] } })).is_err()
    );
    let bad_index = json!({ "status": { "bitstring_status_list": [{
        "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": "007", "statusListCredential": "did:simin:a/status/0"
    }] } });
    assert!(matches!(
        parse_status(&bad_index),
        Err(CardError::StatusEntry(_))
    ));
    let many = json!({ "status": { "bitstring_status_list": vec![entries()[0].clone(); 9] } });
    assert_eq!(parse_status(&many), Err(CardError::StatusEntryCount(9)));
    assert!(is_status_list_of("did:simin:a/status/0", "did:simin:a"));
    assert!(!is_status_list_of("did:simin:ab/status/0", "did:simin:a"));
    assert!(!is_status_list_of("did:simin:a/status/", "did:simin:a"));
    assert!(!is_status_list_of(
        "did:simin:a/status/4294967296",
        "did:simin:a"
    ));
}

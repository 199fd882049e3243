//! `eddsa-jcs-2022` conformance against the W3C Data Integrity EdDSA test vectors
//! (every intermediate step), and the verifier's refusals.

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use proptest::prelude::*;
use serde_json::{json, Value};
use simin_identity::di::{
    add_proof_jcs, create_proof_jcs, hash_data_jcs, is_date_time_stamp, proof_config_jcs,
    verify_proof_jcs, verify_proof_set_jcs, DiError, ProofOptions,
};
use simin_identity::did_key::{
    did_key_verification_method, ed25519_signing_key_from_multikey, resolve_did_key,
};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/vc-di-eddsa"
);

/// A vector file's text; a missing file fails the test.
fn text(name: &str) -> String {
    let path = format!("{VECTORS}/{name}");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("test vector {path} must be present: {e}"));
    // The files have no trailing newline; tolerate one added by an editor.
    text.trim_end_matches(['\n', '\r']).to_owned()
}

fn json_file(name: &str) -> Value {
    serde_json::from_str(&text(name)).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn vector_key() -> SigningKey {
    let pair = json_file("keyPair.json");
    let key = ed25519_signing_key_from_multikey(pair["privateKeyMultibase"].as_str().expect("sk"))
        .expect("secret multikey");
    assert_eq!(
        format!(
            "did:key:{}",
            pair["publicKeyMultibase"].as_str().expect("pk")
        ),
        did_key_verification_method(&key.verifying_key())
            .split('#')
            .next()
            .expect("did")
    );
    key
}

fn vector_options() -> ProofOptions {
    let config = json_file("eddsa-jcs-2022/proofConfigJCS.json");
    ProofOptions {
        verification_method: config["verificationMethod"].as_str().expect("vm").into(),
        proof_purpose: config["proofPurpose"].as_str().expect("purpose").into(),
        created: Some(config["created"].as_str().expect("created").into()),
        ..ProofOptions::default()
    }
}

fn did_key_resolver(vm: &str) -> Option<VerifyingKey> {
    resolve_did_key(vm).ok()
}

#[test]
fn every_intermediate_step_matches_the_vectors() {
    let unsigned = json_file("unsigned.json");
    let key = vector_key();
    let options = vector_options();

    let config = proof_config_jcs(&unsigned, &options).expect("proof config");
    assert_eq!(
        Value::Object(config.clone()),
        json_file("eddsa-jcs-2022/proofConfigJCS.json")
    );

    let hash = hash_data_jcs(&unsigned, &config).expect("hash data");
    assert_eq!(
        hash.canonical_document,
        text("eddsa-jcs-2022/canonDocJCS.txt")
    );
    assert_eq!(
        hex::encode(hash.document_hash),
        text("eddsa-jcs-2022/docHashJCS.txt")
    );
    assert_eq!(
        hash.canonical_proof_config,
        text("eddsa-jcs-2022/proofCanonJCS.txt")
    );
    assert_eq!(
        hex::encode(hash.proof_config_hash),
        text("eddsa-jcs-2022/proofHashJCS.txt")
    );
    assert_eq!(
        hex::encode(hash.bytes()),
        text("eddsa-jcs-2022/combinedHashJCS.txt")
    );

    let signature = key.sign(&hash.bytes());
    assert_eq!(
        hex::encode(signature.to_bytes()),
        text("eddsa-jcs-2022/sigHexJCS.txt")
    );
    let proof_value = format!("z{}", bs58::encode(signature.to_bytes()).into_string());
    assert_eq!(proof_value, text("eddsa-jcs-2022/sigBTC58JCS.txt"));

    let secured = create_proof_jcs(&unsigned, &options, &key).expect("create");
    assert_eq!(secured, json_file("eddsa-jcs-2022/signedJCS.json"));
}

#[test]
fn the_vector_credential_verifies() {
    let signed = json_file("eddsa-jcs-2022/signedJCS.json");
    let verified = verify_proof_jcs(&signed, did_key_resolver).expect("verifies");
    assert_eq!(
        verified.verification_method,
        vector_options().verification_method
    );
    assert_eq!(verified.proof_purpose, "assertionMethod");
    assert_eq!(verified.created.as_deref(), Some("2023-02-24T23:36:38Z"));
    assert_eq!(verified.expires, None);
    assert_eq!(verified.document, json_file("unsigned.json"));
    assert!(!verified.proof_options.contains_key("proofValue"));
    // A single proof is also a proof set of one.
    let set = verify_proof_set_jcs(&signed, did_key_resolver).expect("set of one");
    assert_eq!(set, vec![verified]);
}

/// Every JSON path to a leaf (string, number, bool, null) of a value.
fn leaf_paths(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                path.push(k.clone());
                leaf_paths(v, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(i.to_string());
                leaf_paths(v, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

fn leaf_mut<'a>(value: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(value, |v, k| match v {
        Value::Array(items) => &mut items[k.parse::<usize>().expect("index")],
        other => &mut other[k.as_str()],
    })
}

#[test]
fn tampering_with_any_claim_or_proof_field_fails() {
    let signed = json_file("eddsa-jcs-2022/signedJCS.json");
    let mut paths = Vec::new();
    leaf_paths(&signed, &mut Vec::new(), &mut paths);
    assert!(paths.len() > 15);
    for path in paths {
        let mut tampered = signed.clone();
        let leaf = leaf_mut(&mut tampered, &path);
        let replacement = match &*leaf {
            Value::String(s) if path.last().is_some_and(|k| k == "proofValue") => {
                // Keep it valid base58 of 64 bytes: swap the signature's last byte.
                let mut bytes = bs58::decode(&s[1..]).into_vec().expect("b58");
                bytes[63] ^= 1;
                json!(format!("z{}", bs58::encode(bytes).into_string()))
            }
            Value::String(s) => json!(format!("{s}x")),
            other => json!([other.clone()]),
        };
        *leaf = replacement;
        let result = verify_proof_jcs(&tampered, did_key_resolver);
        assert!(result.is_err(), "tampering with {path:?} must fail");
    }
}

#[test]
fn adding_or_removing_fields_fails() {
    let signed = json_file("eddsa-jcs-2022/signedJCS.json");
    let mut added = signed.clone();
    added["credentialSubject"]["degree"] = json!("PhD");
    assert_eq!(
        verify_proof_jcs(&added, did_key_resolver),
        Err(DiError::InvalidSignature)
    );
    let mut removed = signed.clone();
    removed.as_object_mut().expect("object").remove("validFrom");
    assert_eq!(
        verify_proof_jcs(&removed, did_key_resolver),
        Err(DiError::InvalidSignature)
    );
    let mut challenged = signed.clone();
    challenged["proof"]["challenge"] = json!("abc");
    assert_eq!(
        verify_proof_jcs(&challenged, did_key_resolver),
        Err(DiError::InvalidSignature)
    );
    let mut no_created = signed.clone();
    no_created["proof"]
        .as_object_mut()
        .expect("proof")
        .remove("created");
    assert_eq!(
        verify_proof_jcs(&no_created, did_key_resolver),
        Err(DiError::InvalidSignature)
    );
}

#[test]
fn specific_refusals_are_typed() {
    let signed = json_file("eddsa-jcs-2022/signedJCS.json");
    let with = |field: &str, value: Value| {
        let mut doc = signed.clone();
        doc["proof"][field] = value;
        verify_proof_jcs(&doc, did_key_resolver)
    };
    assert!(matches!(
        with("type", json!("Ed25519Signature2020")),
        Err(DiError::UnsupportedProofType { .. })
    ));
    assert!(matches!(
        with("cryptosuite", json!("eddsa-rdfc-2022")),
        Err(DiError::UnsupportedCryptosuite { .. })
    ));
    assert!(matches!(
        with("created", json!("2023-02-24")),
        Err(DiError::InvalidDateTime {
            field: "created",
            ..
        })
    ));
    assert!(matches!(
        with("expires", json!("tomorrow")),
        Err(DiError::InvalidDateTime {
            field: "expires",
            ..
        })
    ));
    assert_eq!(
        with("created", json!(12)),
        Err(DiError::NotAString { field: "created" })
    );
    assert_eq!(
        with("proofPurpose", json!("")),
        Err(DiError::MissingField {
            field: "proofPurpose"
        })
    );
    assert_eq!(
        with("verificationMethod", json!(null)),
        Err(DiError::MissingField {
            field: "verificationMethod"
        })
    );
    assert_eq!(
        with("proofValue", json!(1)),
        Err(DiError::MissingField {
            field: "proofValue"
        })
    );
    assert!(matches!(
        with("proofValue", json!("u7QE")),
        Err(DiError::ProofValueEncoding { .. })
    ));
    assert!(matches!(
        with("proofValue", json!("z2Hn")),
        Err(DiError::ProofValueEncoding { .. })
    ));
    assert!(matches!(
        with("proofValue", json!(format!("z{}", "2".repeat(200)))),
        Err(DiError::ProofValueEncoding { .. })
    ));
    assert_eq!(
        with("previousProof", json!("urn:uuid:1")),
        Err(DiError::ProofChainUnsupported)
    );
    assert_eq!(
        with(
            "@context",
            json!([
                "https://www.w3.org/ns/credentials/v2",
                "https://example.org/other"
            ])
        ),
        Err(DiError::ContextMismatch)
    );
    // A verification method the resolver does not know.
    assert!(matches!(
        verify_proof_jcs(&signed, |_: &str| None),
        Err(DiError::UnknownVerificationMethod { .. })
    ));
    // Another key for the same method id.
    let other = SigningKey::from_bytes(&[9u8; 32]).verifying_key();
    assert_eq!(
        verify_proof_jcs(&signed, |_: &str| Some(other)),
        Err(DiError::InvalidSignature)
    );
    // No proof, a non-object proof, a non-object document.
    let mut bare = signed.clone();
    bare.as_object_mut().expect("object").remove("proof");
    assert_eq!(
        verify_proof_jcs(&bare, did_key_resolver),
        Err(DiError::MissingProof)
    );
    assert_eq!(with("x", json!(0)), Err(DiError::InvalidSignature));
    let mut scalar = signed.clone();
    scalar["proof"] = json!("z123");
    assert_eq!(
        verify_proof_jcs(&scalar, did_key_resolver),
        Err(DiError::NotAnObject { what: "proof" })
    );
    assert_eq!(
        verify_proof_jcs(&json!([1]), did_key_resolver),
        Err(DiError::NotAnObject {
            what: "secured document"
        })
    );
}

#[test]
fn context_rule_of_the_spec() {
    let signed = json_file("eddsa-jcs-2022/signedJCS.json");
    // Contexts appended after signing are allowed; the verified document carries the
    // signed ones.
    let mut extended = signed.clone();
    extended["@context"]
        .as_array_mut()
        .expect("array")
        .push(json!("https://example.org/extra/v1"));
    let verified = verify_proof_jcs(&extended, did_key_resolver).expect("appended context");
    assert_eq!(verified.document, json_file("unsigned.json"));
    // A context removed, reordered or missing is refused.
    let mut shortened = signed.clone();
    shortened["@context"].as_array_mut().expect("array").pop();
    assert_eq!(
        verify_proof_jcs(&shortened, did_key_resolver),
        Err(DiError::ContextMismatch)
    );
    let mut reordered = signed.clone();
    reordered["@context"]
        .as_array_mut()
        .expect("array")
        .reverse();
    assert_eq!(
        verify_proof_jcs(&reordered, did_key_resolver),
        Err(DiError::ContextMismatch)
    );
    let mut missing = signed.clone();
    missing.as_object_mut().expect("object").remove("@context");
    assert_eq!(
        verify_proof_jcs(&missing, did_key_resolver),
        Err(DiError::ContextMismatch)
    );
    // A proof without @context over a document without @context works too.
    let key = vector_key();
    let plain = json!({"claim": "value", "n": 1});
    let secured = create_proof_jcs(&plain, &vector_options(), &key).expect("create");
    assert!(secured["proof"].get("@context").is_none());
    verify_proof_jcs(&secured, did_key_resolver).expect("no contexts");
    // A string @context is a one-item list for the prefix rule.
    let single = json!({"@context": "https://www.w3.org/ns/credentials/v2", "claim": 1});
    let secured = create_proof_jcs(&single, &vector_options(), &key).expect("create");
    let mut widened = secured.clone();
    widened["@context"] = json!([
        "https://www.w3.org/ns/credentials/v2",
        "https://example.org/x"
    ]);
    verify_proof_jcs(&widened, did_key_resolver).expect("string context prefix");
}

#[test]
fn creation_refuses_bad_input() {
    let key = vector_key();
    let unsigned = json_file("unsigned.json");
    let signed = json_file("eddsa-jcs-2022/signedJCS.json");
    assert_eq!(
        create_proof_jcs(&signed, &vector_options(), &key),
        Err(DiError::AlreadySecured)
    );
    assert_eq!(
        create_proof_jcs(&json!("x"), &vector_options(), &key),
        Err(DiError::NotAnObject { what: "document" })
    );
    let bad_time = ProofOptions {
        created: Some("2023-02-30T00:00:00Z".into()),
        ..vector_options()
    };
    assert!(matches!(
        create_proof_jcs(&unsigned, &bad_time, &key),
        Err(DiError::InvalidDateTime { .. })
    ));
    let no_vm = ProofOptions {
        verification_method: String::new(),
        ..vector_options()
    };
    assert_eq!(
        create_proof_jcs(&unsigned, &no_vm, &key),
        Err(DiError::MissingField {
            field: "verificationMethod"
        })
    );
    let no_purpose = ProofOptions {
        proof_purpose: String::new(),
        ..vector_options()
    };
    assert_eq!(
        create_proof_jcs(&unsigned, &no_purpose, &key),
        Err(DiError::MissingField {
            field: "proofPurpose"
        })
    );
}

#[test]
fn presentation_options_are_signed_and_returned() {
    let key = vector_key();
    let options = ProofOptions {
        proof_purpose: "authentication".into(),
        expires: Some("2030-01-01T00:00:00.5+01:00".into()),
        challenge: Some("c-123".into()),
        domain: Some("https://verifier.example".into()),
        nonce: Some("n".into()),
        id: Some("urn:uuid:1".into()),
        ..vector_options()
    };
    let secured = create_proof_jcs(&json_file("unsigned.json"), &options, &key).expect("create");
    let verified = verify_proof_jcs(&secured, did_key_resolver).expect("verify");
    assert_eq!(verified.proof_purpose, "authentication");
    assert_eq!(verified.challenge.as_deref(), Some("c-123"));
    assert_eq!(
        verified.expires.as_deref(),
        Some("2030-01-01T00:00:00.5+01:00")
    );
    assert_eq!(verified.proof_options["domain"], "https://verifier.example");
    for field in ["challenge", "domain", "nonce", "id", "expires"] {
        let mut tampered = secured.clone();
        tampered["proof"][field] = json!("2031-01-01T00:00:00Z");
        assert_eq!(
            verify_proof_jcs(&tampered, did_key_resolver),
            Err(DiError::InvalidSignature),
            "{field}"
        );
    }
}

fn multi_key(name: &str) -> SigningKey {
    let pairs = json_file("proof-set-chain/multiKeyPairs.json");
    let key =
        ed25519_signing_key_from_multikey(pairs[name]["privateKeyMultibase"].as_str().expect("sk"))
            .expect("secret multikey");
    assert_eq!(
        simin_identity::did_key::ed25519_multikey(&key.verifying_key()),
        pairs[name]["publicKeyMultibase"].as_str().expect("pk")
    );
    key
}

fn options_for(key: &SigningKey, id: &str) -> ProofOptions {
    ProofOptions {
        verification_method: did_key_verification_method(&key.verifying_key()),
        proof_purpose: "assertionMethod".into(),
        created: Some("2023-02-24T23:36:38Z".into()),
        id: Some(id.into()),
        ..ProofOptions::default()
    }
}

#[test]
fn proof_sets_with_the_vector_keys() {
    let unsigned = json_file("proof-set-chain/unsigned.json");
    let (k1, k2) = (multi_key("keyPair1"), multi_key("keyPair2"));
    let one = add_proof_jcs(
        &unsigned,
        &options_for(&k1, "urn:uuid:26329423-bec9-4b2e-88cb-a7c7d9dc4544"),
        &k1,
    )
    .expect("first proof");
    assert!(one["proof"].is_object());
    let two = add_proof_jcs(
        &one,
        &options_for(&k2, "urn:uuid:8cc9022b-6b14-4cf3-8571-74972c5feb54"),
        &k2,
    )
    .expect("second proof");
    assert_eq!(two["proof"].as_array().map(Vec::len), Some(2));
    // The first proof is untouched by adding the second.
    assert_eq!(two["proof"][0], one["proof"]);
    let verified = verify_proof_set_jcs(&two, did_key_resolver).expect("set verifies");
    assert_eq!(verified.len(), 2);
    assert_eq!(
        verified[1].verification_method,
        did_key_verification_method(&k2.verifying_key())
    );
    assert_eq!(
        verify_proof_jcs(&two, did_key_resolver),
        Err(DiError::ProofSet)
    );
    // One bad proof fails the set and says which.
    let mut tampered = two.clone();
    tampered["proof"][1]["created"] = json!("2024-01-01T00:00:00Z");
    assert!(matches!(
        verify_proof_set_jcs(&tampered, did_key_resolver),
        Err(DiError::InProofSet { index: 1, .. })
    ));
    let mut emptied = two.clone();
    emptied["proof"] = json!([]);
    assert!(matches!(
        verify_proof_set_jcs(&emptied, did_key_resolver),
        Err(DiError::ProofSetSize { len: 0, .. })
    ));
    // Adding to a document whose proof is not an object is refused.
    let mut scalar = one.clone();
    scalar["proof"] = json!(["z123"]);
    assert_eq!(
        add_proof_jcs(&scalar, &options_for(&k2, "urn:p:2"), &k2),
        Err(DiError::NotAnObject { what: "proof" })
    );
    // The claims are covered by every proof.
    let mut claim = two.clone();
    claim["name"] = json!("Forged");
    assert!(matches!(
        verify_proof_set_jcs(&claim, did_key_resolver),
        Err(DiError::InProofSet { index: 0, .. })
    ));
}

#[test]
fn proof_set_size_is_bounded() {
    let key = multi_key("keyPair3");
    let mut doc = json_file("unsigned.json");
    for i in 0..simin_identity::di::PROOF_SET_LEN_MAX {
        doc = add_proof_jcs(&doc, &options_for(&key, &format!("urn:p:{i}")), &key).expect("add");
    }
    assert_eq!(
        verify_proof_set_jcs(&doc, did_key_resolver)
            .expect("full set")
            .len(),
        16
    );
    assert!(matches!(
        add_proof_jcs(&doc, &options_for(&key, "urn:p:x"), &key),
        Err(DiError::ProofSetSize { .. })
    ));
    let first = doc["proof"][0].clone();
    doc["proof"].as_array_mut().expect("set").push(first);
    assert!(matches!(
        verify_proof_set_jcs(&doc, did_key_resolver),
        Err(DiError::ProofSetSize { len: 17, .. })
    ));
}

#[test]
fn rdfc_vectors_are_refused_as_unsupported() {
    let rdfc = json_file("eddsa-rdfc-2022/signedDataInt.json");
    assert!(matches!(
        verify_proof_jcs(&rdfc, did_key_resolver),
        Err(DiError::UnsupportedCryptosuite { .. })
    ));
    for name in ["signedProofSet2.json", "signedProofChain2.json"] {
        let doc = json_file(&format!("proof-set-chain/{name}"));
        assert!(matches!(
            verify_proof_set_jcs(&doc, did_key_resolver),
            Err(DiError::InProofSet { index: 0, .. })
        ));
    }
    // A JCS proof chain is refused before any signature work.
    let key = multi_key("keyPair4");
    let mut chained = create_proof_jcs(
        &json_file("unsigned.json"),
        &options_for(&key, "urn:p:1"),
        &key,
    )
    .expect("create");
    chained["proof"]["previousProof"] = json!("urn:p:0");
    assert_eq!(
        verify_proof_jcs(&chained, did_key_resolver),
        Err(DiError::ProofChainUnsupported)
    );
}

#[test]
fn date_time_stamps() {
    for good in [
        "2023-02-24T23:36:38Z",
        "2024-02-29T00:00:00Z",
        "2000-02-29T12:00:00+14:00",
        "1999-12-31T23:59:59.123456789-05:30",
        "0000-01-01T00:00:00Z",
    ] {
        assert!(is_date_time_stamp(good), "{good}");
    }
    for bad in [
        "",
        "2023-02-24",
        "2023-02-24T23:36:38",
        "2023-02-24 23:36:38Z",
        "2023-02-24t23:36:38z",
        "2023-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2023-13-01T00:00:00Z",
        "2023-00-01T00:00:00Z",
        "2023-04-31T00:00:00Z",
        "2023-01-01T24:00:00Z",
        "2023-01-01T23:60:00Z",
        "2023-01-01T23:59:60Z",
        "2023-01-01T00:00:00.Z",
        "2023-01-01T00:00:00+15:00",
        "2023-01-01T00:00:00+14:30",
        "2023-01-01T00:00:00+0100",
        "+2023-01-01T00:00:00Z",
        "20230-01-01T00:00:00Z",
        "2023-01-01T00:00:00Zjunk",
        "２０２３-01-01T00:00:00Z",
    ] {
        assert!(!is_date_time_stamp(bad), "{bad}");
    }
}

fn claims() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("[a-zA-Z@]{1,8}", "\\PC{0,16}"), 1..6)
}

proptest! {
    #[test]
    fn sign_then_verify_and_any_claim_change_fails(
        claims in claims(),
        seed in any::<[u8; 32]>(),
        flip in any::<prop::sample::Index>(),
    ) {
        let key = SigningKey::from_bytes(&seed);
        let mut doc = serde_json::Map::new();
        doc.insert("@context".into(), json!(["https://www.w3.org/ns/credentials/v2"]));
        for (k, v) in &claims {
            doc.insert(format!("c{k}"), json!(v));
        }
        let doc = Value::Object(doc);
        let options = ProofOptions {
            verification_method: did_key_verification_method(&key.verifying_key()),
            proof_purpose: "assertionMethod".into(),
            ..ProofOptions::default()
        };
        let secured = create_proof_jcs(&doc, &options, &key).expect("create");
        let verified = verify_proof_jcs(&secured, did_key_resolver).expect("verify");
        prop_assert_eq!(&verified.document, &doc);
        // Change one claim.
        let keys: Vec<String> = doc
            .as_object()
            .expect("object")
            .keys()
            .filter(|k| k.starts_with('c'))
            .cloned()
            .collect();
        let target = &keys[flip.index(keys.len())];
        let mut tampered = secured.clone();
        let old = tampered[target.as_str()].as_str().expect("string").to_owned();
        tampered[target.as_str()] = json!(format!("{old}!"));
        prop_assert_eq!(
            verify_proof_jcs(&tampered, did_key_resolver),
            Err(DiError::InvalidSignature)
        );
    }
}

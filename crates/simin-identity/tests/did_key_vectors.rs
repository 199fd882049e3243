//! did:key conformance against the did:key method's Ed25519 test vectors, plus the
//! strictness of resolution.
//!
//! The vectors' X25519 `keyAgreement` keys are not checked: this crate does not derive
//! X25519 keys (see the `did_key` module docs). Their DID document shape
//! (Ed25519VerificationKey2018) is older than the Multikey documents produced here,
//! so only the DIDs and the key bytes are compared.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use simin_identity::did_key::{
    did_key_document, did_key_from_ed25519, did_key_verification_method, ed25519_from_multikey,
    ed25519_multikey, ed25519_signing_key_from_multikey, resolve_did_key, DidKeyError,
};

fn vectors() -> serde_json::Map<String, Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/did-key/ed25519-x25519.json"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the did:key vectors must be present at {path}: {e}"));
    match serde_json::from_str(&text).expect("vector file is JSON") {
        Value::Object(map) => map,
        other => panic!("vector file is not an object: {other}"),
    }
}

fn seed_key(vector: &Value) -> SigningKey {
    let seed = hex::decode(vector["seed"].as_str().expect("seed")).expect("seed hex");
    SigningKey::from_bytes(&seed.try_into().expect("32-byte seed"))
}

/// The vector's public key bytes, from `publicKeyBase58` or, in the JWK-shaped
/// vector, `publicKeyJwk.x`.
fn vector_public_key(vector: &Value) -> Vec<u8> {
    let pair = &vector["verificationKeyPair"];
    if let Some(b58) = pair["publicKeyBase58"].as_str() {
        return bs58::decode(b58).into_vec().expect("base58");
    }
    let x = pair["publicKeyJwk"]["x"].as_str().expect("publicKeyJwk.x");
    assert_eq!(pair["publicKeyJwk"]["crv"], "Ed25519");
    URL_SAFE_NO_PAD.decode(x).expect("base64url")
}

#[test]
fn every_ed25519_seed_gives_the_vector_did_and_key() {
    let vectors = vectors();
    assert!(vectors.len() >= 5, "expected the five Ed25519 vectors");
    for (did, vector) in &vectors {
        let key = seed_key(vector);
        let public = key.verifying_key();
        assert_eq!(
            &did_key_from_ed25519(&public),
            did,
            "DID for seed {}",
            vector["seed"]
        );
        assert_eq!(
            public.as_bytes().as_slice(),
            vector_public_key(vector),
            "{did}"
        );
        // The multibase key is the DID's method-specific id.
        let multikey = did.strip_prefix("did:key:").expect("did:key");
        assert_eq!(ed25519_multikey(&public), multikey);
        // The vector's verification method id, absolute or relative, names that key.
        let vm_id = vector["verificationKeyPair"]["id"].as_str().expect("id");
        assert!(vm_id.ends_with(&format!("#{multikey}")), "{vm_id}");
        assert_eq!(
            did_key_verification_method(&public),
            format!("{did}#{multikey}")
        );
        assert_eq!(vector["verificationKeyPair"]["controller"], did.as_str());
        // Resolution goes back to the same key, from the DID and from the DID URL.
        assert_eq!(resolve_did_key(did), Ok(public));
        assert_eq!(resolve_did_key(&format!("{did}#{multikey}")), Ok(public));
        assert_eq!(ed25519_from_multikey(multikey), Ok(public));
        // The vector's document lists the same Ed25519 method first.
        let documented = &vector["didDocument"]["verificationMethod"][0]["id"];
        assert_eq!(documented, &json!(format!("{did}#{multikey}")));
    }
}

#[test]
fn did_document_is_a_multikey_document() {
    let key = SigningKey::from_bytes(&[0u8; 32]).verifying_key();
    let did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
    let vm = format!("{did}#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp");
    let expected = json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [{
            "id": vm,
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
        }],
        "authentication": [vm],
        "assertionMethod": [vm],
        "capabilityInvocation": [vm],
        "capabilityDelegation": [vm],
    });
    assert_eq!(did_key_document(did), Ok(expected.clone()));
    // The DID URL of the key yields the DID's document.
    assert_eq!(did_key_document(&vm), Ok(expected));
    assert_eq!(did_key_from_ed25519(&key), did);
}

#[test]
fn w3c_di_key_pair_multikeys_decode() {
    // keyPair.json of the Data Integrity EdDSA vectors: the secret multikey's public
    // key is the public multikey.
    let public = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
    let secret = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq";
    let key = ed25519_signing_key_from_multikey(secret).expect("secret multikey");
    assert_eq!(ed25519_multikey(&key.verifying_key()), public);
    // A public multikey is not a secret one, and the other way round.
    assert!(matches!(
        ed25519_signing_key_from_multikey(public),
        Err(DidKeyError::UnsupportedMulticodec { .. })
    ));
    assert!(matches!(
        ed25519_from_multikey(secret),
        Err(DidKeyError::UnsupportedMulticodec { .. })
    ));
}

fn multikey_of(bytes: &[u8]) -> String {
    format!("z{}", bs58::encode(bytes).into_string())
}

#[test]
fn resolution_is_strict() {
    let did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
    let other = "z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG";
    assert_eq!(
        resolve_did_key("did:web:example.com"),
        Err(DidKeyError::NotDidKey)
    );
    assert_eq!(resolve_did_key("DID:KEY:z6Mk"), Err(DidKeyError::NotDidKey));
    assert_eq!(
        resolve_did_key(&format!("{did}#{other}")),
        Err(DidKeyError::FragmentMismatch)
    );
    assert_eq!(
        resolve_did_key(&format!("{did}#")),
        Err(DidKeyError::FragmentMismatch)
    );
    assert!(matches!(
        resolve_did_key("did:key:"),
        Err(DidKeyError::Malformed { .. })
    ));
    assert!(matches!(
        resolve_did_key("did:key:1:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"),
        Err(DidKeyError::Malformed { .. })
    ));
    assert!(matches!(
        resolve_did_key(&format!("{did}/path")),
        Err(DidKeyError::Malformed { .. })
    ));
    assert!(matches!(
        resolve_did_key(&format!("{did}?q=1")),
        Err(DidKeyError::Malformed { .. })
    ));
    let long = format!("did:key:z{}", "1".repeat(300));
    assert!(matches!(
        resolve_did_key(&long),
        Err(DidKeyError::TooLong { .. })
    ));
    // Wrong multibase: base64url ('u') or base58 without prefix.
    assert_eq!(
        resolve_did_key("did:key:u7QE"),
        Err(DidKeyError::UnsupportedMultibase { found: Some('u') })
    );
    // Not base58 ('0', 'O', 'I', 'l' are outside the alphabet).
    assert!(matches!(
        resolve_did_key("did:key:z6Mk0OIl"),
        Err(DidKeyError::Base58(_))
    ));

    let key = SigningKey::from_bytes(&[7u8; 32]).verifying_key();
    let mut good = vec![0xed, 0x01];
    good.extend_from_slice(key.as_bytes());
    assert_eq!(ed25519_from_multikey(&multikey_of(&good)), Ok(key));
    // Another multicodec (X25519 is 0xec 0x01; P-256 is 0x80 0x24).
    let mut x25519 = good.clone();
    x25519[0] = 0xec;
    assert!(matches!(
        ed25519_from_multikey(&multikey_of(&x25519)),
        Err(DidKeyError::UnsupportedMulticodec { .. })
    ));
    // Short and long key material.
    assert_eq!(
        ed25519_from_multikey(&multikey_of(&good[..33])),
        Err(DidKeyError::KeyLength { got: 31 })
    );
    let mut long_key = good.clone();
    long_key.push(0);
    assert_eq!(
        ed25519_from_multikey(&multikey_of(&long_key)),
        Err(DidKeyError::KeyLength { got: 33 })
    );
    assert!(matches!(
        ed25519_from_multikey(&multikey_of(&[0xed])),
        Err(DidKeyError::UnsupportedMulticodec { .. })
    ));
}

fn with_codec(key: &[u8; 32]) -> String {
    let mut bytes = vec![0xed, 0x01];
    bytes.extend_from_slice(key);
    multikey_of(&bytes)
}

#[test]
fn weak_and_non_canonical_keys_are_refused() {
    // The identity point (y = 1) has small order.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert_eq!(
        ed25519_from_multikey(&with_codec(&identity)),
        Err(DidKeyError::WeakKey)
    );
    // Values y < 19 also have the encoding p + y (p = 2^255 - 19, little-endian
    // ed ff .. ff 7f), which must never be accepted: one key, one DID.
    let mut canonical_points = 0;
    for y in 0u8..19 {
        let mut canonical = [0u8; 32];
        canonical[0] = y;
        let mut non_canonical = [0xffu8; 32];
        non_canonical[0] = 0xed + y;
        non_canonical[31] = 0x7f;
        let refused = ed25519_from_multikey(&with_codec(&non_canonical));
        if ed25519_from_multikey(&with_codec(&canonical)).is_ok() {
            canonical_points += 1;
            assert_eq!(refused, Err(DidKeyError::InvalidKey), "y = {y}");
        } else {
            assert!(refused.is_err(), "y = {y}");
        }
    }
    assert!(
        canonical_points > 0,
        "some small y must be a valid, non-weak point"
    );
    // Some y has no curve point at all.
    let off_curve = (0u8..19).find(|y| {
        let mut bytes = [0u8; 32];
        bytes[0] = *y;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes).is_err()
    });
    let mut bytes = [0u8; 32];
    bytes[0] = off_curve.expect("some small y is off the curve");
    assert_eq!(
        ed25519_from_multikey(&with_codec(&bytes)),
        Err(DidKeyError::InvalidKey)
    );
}

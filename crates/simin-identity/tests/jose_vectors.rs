//! JOSE conformance: RFC 8037 and RFC 7515 examples, did:jwk's spec example, and the
//! inputs a strict verifier must refuse.

use serde_json::{json, Map, Value};
use simin_identity::jose::{
    b64url_decode, b64url_encode, did_jwk, did_jwk_document, resolve_did_jwk, sign_compact,
    sign_compact_json, verify_compact, Algorithm, JoseError, Jwk, JwsSigner, MAX_JWS_LEN,
};

/// RFC 8037 appendix A.1: the Ed25519 key pair.
const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
/// RFC 8037 appendix A.4: the JWS of "Example of Ed25519 signing".
const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
/// RFC 7515 appendix A.3: the ES256 example.
const RFC7515_ES256_JWS: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
/// did:jwk spec, P-256 example.
const DID_JWK_P256: &str = "did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBUdFJNNEVVM3l6OTFQSDZDZEgyVjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtncmwyR3pIM25TRSJ9";
/// did:jwk spec, X25519 example (a key agreement key, which this crate does not support).
const DID_JWK_X25519: &str = "did:jwk:eyJrdHkiOiJPS1AiLCJjcnYiOiJYMjU1MTkiLCJ1c2UiOiJlbmMiLCJ4IjoiM3A3YmZYdDl3YlRUVzJIQzdPUTFOei1EUThoYmVHZE5yZngtRkctSUswOCJ9";

fn rfc8037_signer() -> JwsSigner {
    let d: [u8; 32] = b64url_decode(RFC8037_D, "d")
        .expect("valid base64url")
        .try_into()
        .expect("32 bytes");
    JwsSigner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&d))
}

fn rfc7515_es256_key() -> Jwk {
    Jwk::from_json(&json!({
        "kty": "EC", "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
    }))
    .expect("the RFC's key is valid")
}

fn es256_signer(seed: u8) -> JwsSigner {
    let key = p256::ecdsa::SigningKey::from_slice(&[seed; 32]).expect("a valid scalar");
    JwsSigner::Es256(key)
}

#[test]
fn rfc8037_ed25519_jws_is_reproduced_and_verified() {
    let signer = rfc8037_signer();
    assert_eq!(
        signer.public_jwk().to_json(),
        json!({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X})
    );
    let jws = sign_compact(&Map::new(), b"Example of Ed25519 signing", &signer);
    assert_eq!(jws, RFC8037_JWS);
    // The signature verifies (else BadSignature); the payload is a sentence, not JSON.
    assert!(matches!(
        verify_compact(&jws, &signer.public_jwk()),
        Err(JoseError::Json {
            what: "payload",
            ..
        })
    ));
}

#[test]
fn rfc8037_thumbprint() {
    let jwk = rfc8037_signer().public_jwk();
    assert_eq!(
        jwk.thumbprint(),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
}

#[test]
fn rfc7515_es256_example_verifies() {
    let (header, payload) = verify_compact(RFC7515_ES256_JWS, &rfc7515_es256_key()).expect("valid");
    assert_eq!(Value::Object(header), json!({"alg": "ES256"}));
    assert_eq!(
        Value::Object(payload),
        json!({"iss": "joe", "exp": 1300819380, "http://example.com/is_root": true})
    );
}

#[test]
fn es256_round_trip_and_der_refused() {
    let signer = es256_signer(7);
    let mut payload = Map::new();
    payload.insert("sub".to_owned(), Value::from("citizen"));
    let jws = sign_compact_json(&Map::new(), &payload, &signer);
    let (header, got) = verify_compact(&jws, &signer.public_jwk()).expect("valid");
    assert_eq!(header.get("alg"), Some(&Value::from("ES256")));
    assert_eq!(got, payload);

    let (input, signature) = jws.rsplit_once('.').expect("three parts");
    let raw = b64url_decode(signature, "sig").expect("base64url");
    let der = p256::ecdsa::Signature::from_slice(&raw)
        .expect("r || s")
        .to_der();
    let der_jws = format!("{input}.{}", b64url_encode(der.as_bytes()));
    assert!(matches!(
        verify_compact(&der_jws, &signer.public_jwk()),
        Err(JoseError::SignatureEncoding(_))
    ));
}

#[test]
fn tampering_and_wrong_keys_are_refused() {
    let signer = es256_signer(9);
    let jws = sign_compact_json(&Map::new(), &Map::new(), &signer);
    let other = es256_signer(10).public_jwk();
    assert_eq!(verify_compact(&jws, &other), Err(JoseError::BadSignature));

    let tampered_payload = {
        let parts: Vec<&str> = jws.split('.').collect();
        format!("{}.{}.{}", parts[0], b64url_encode(br#"{"a":1}"#), parts[2])
    };
    assert_eq!(
        verify_compact(&tampered_payload, &signer.public_jwk()),
        Err(JoseError::BadSignature)
    );

    // An ES256 JWS checked against an Ed25519 key, and the reverse.
    let ed = rfc8037_signer();
    assert!(matches!(
        verify_compact(&jws, &ed.public_jwk()),
        Err(JoseError::AlgKeyMismatch { .. })
    ));
    let ed_jws = sign_compact_json(&Map::new(), &Map::new(), &ed);
    assert!(matches!(
        verify_compact(&ed_jws, &signer.public_jwk()),
        Err(JoseError::AlgKeyMismatch { .. })
    ));
}

#[test]
fn alg_none_crit_and_missing_alg_are_refused() {
    let key = rfc8037_signer().public_jwk();
    let none = format!(
        "{}.{}.",
        b64url_encode(br#"{"alg":"none"}"#),
        b64url_encode(b"{}")
    );
    assert_eq!(verify_compact(&none, &key), Err(JoseError::AlgNone));

    let no_alg = format!("{}.{}.AAAA", b64url_encode(b"{}"), b64url_encode(b"{}"));
    assert!(matches!(
        verify_compact(&no_alg, &key),
        Err(JoseError::Malformed(_))
    ));

    let hs = format!(
        "{}.{}.AAAA",
        b64url_encode(br#"{"alg":"HS256"}"#),
        b64url_encode(b"{}")
    );
    assert_eq!(
        verify_compact(&hs, &key),
        Err(JoseError::UnsupportedAlg("HS256".to_owned()))
    );

    let mut header = Map::new();
    header.insert("crit".to_owned(), json!(["exp"]));
    let crit = sign_compact_json(&header, &Map::new(), &rfc8037_signer());
    assert_eq!(verify_compact(&crit, &key), Err(JoseError::UnsupportedCrit));
}

#[test]
fn malformed_inputs_are_refused() {
    let signer = rfc8037_signer();
    let key = signer.public_jwk();
    let jws = sign_compact_json(&Map::new(), &Map::new(), &signer);

    assert!(matches!(
        verify_compact(&format!("{jws}="), &key),
        Err(JoseError::Base64 { .. })
    ));
    assert!(matches!(
        verify_compact(&format!("{jws}.x"), &key),
        Err(JoseError::Malformed(_))
    ));
    assert!(matches!(
        verify_compact("a.b", &key),
        Err(JoseError::Malformed(_))
    ));
    let huge = "a".repeat(MAX_JWS_LEN + 1);
    assert!(matches!(
        verify_compact(&huge, &key),
        Err(JoseError::TooLarge { .. })
    ));
    let array_payload = sign_compact(&Map::new(), b"[1,2]", &signer);
    assert_eq!(
        verify_compact(&array_payload, &key),
        Err(JoseError::NotAnObject { what: "payload" })
    );
    // Padding and the standard alphabet are not base64url.
    assert!(b64url_decode("AA==", "x").is_err());
    assert!(b64url_decode("a+b/", "x").is_err());
    assert!(
        b64url_decode("AB", "x").is_err(),
        "non-canonical trailing bits"
    );
    assert_eq!(b64url_decode("AA", "x").expect("canonical"), vec![0]);
}

#[test]
fn jwks_parse_strictly() {
    let jwk = rfc7515_es256_key();
    assert_eq!(jwk.algorithm(), Algorithm::Es256);
    let value = serde_json::to_value(&jwk).expect("serializes");
    assert_eq!(value, jwk.to_json());
    assert_eq!(serde_json::from_value::<Jwk>(value).expect("parses"), jwk);

    let private = json!({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "d": RFC8037_D});
    assert_eq!(Jwk::from_json(&private), Err(JoseError::PrivateJwk));
    let off_curve = json!({
        "kty": "EC", "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5aw"
    });
    assert!(matches!(
        Jwk::from_json(&off_curve),
        Err(JoseError::InvalidJwk(_))
    ));
    let short = json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"});
    assert!(matches!(
        Jwk::from_json(&short),
        Err(JoseError::InvalidJwk(_))
    ));
    let rsa = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"});
    assert!(matches!(
        Jwk::from_json(&rsa),
        Err(JoseError::InvalidJwk(_))
    ));
}

#[test]
fn did_jwk_spec_example_resolves_and_round_trips() {
    let jwk = resolve_did_jwk(DID_JWK_P256).expect("the spec's example resolves");
    assert_eq!(
        jwk.to_json(),
        json!({
            "kty": "EC", "crv": "P-256",
            "x": "acbIQiuMs3i8_uszEjJ2tpTtRM4EU3yz91PH6CdH2V0",
            "y": "_KcyLj9vWMptnmKtm46GqDz8wf74I5LKgrl2GzH3nSE"
        })
    );
    assert_eq!(did_jwk(&jwk), DID_JWK_P256);
    assert_eq!(resolve_did_jwk(&format!("{DID_JWK_P256}#0")), Ok(jwk));

    let id = format!("{DID_JWK_P256}#0");
    // The spec's document, with its "did:jwk:$eyJ..." typo in authentication corrected.
    let expected = json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
        "id": DID_JWK_P256,
        "verificationMethod": [{
            "id": id,
            "type": "JsonWebKey2020",
            "controller": DID_JWK_P256,
            "publicKeyJwk": {
                "crv": "P-256", "kty": "EC",
                "x": "acbIQiuMs3i8_uszEjJ2tpTtRM4EU3yz91PH6CdH2V0",
                "y": "_KcyLj9vWMptnmKtm46GqDz8wf74I5LKgrl2GzH3nSE"
            }
        }],
        "assertionMethod": [id],
        "authentication": [id],
        "capabilityInvocation": [id],
        "capabilityDelegation": [id],
        "keyAgreement": [id]
    });
    assert_eq!(did_jwk_document(DID_JWK_P256).expect("document"), expected);
    assert_eq!(
        did_jwk_document(&format!("{DID_JWK_P256}#0")).expect("document"),
        expected
    );
}

#[test]
fn did_jwk_ed25519_and_refusals() {
    let jwk = rfc8037_signer().public_jwk();
    let did = did_jwk(&jwk);
    let encoded = did.strip_prefix("did:jwk:").expect("prefix");
    let json = String::from_utf8(b64url_decode(encoded, "did").expect("base64url")).expect("utf-8");
    assert_eq!(
        json,
        format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{RFC8037_X}"}}"#)
    );
    assert_eq!(resolve_did_jwk(&did), Ok(jwk));

    // A "use": "sig" key has no keyAgreement.
    let sig_did = format!(
        "did:jwk:{}",
        b64url_encode(
            format!(r#"{{"kty":"OKP","crv":"Ed25519","use":"sig","x":"{RFC8037_X}"}}"#).as_bytes()
        )
    );
    let doc = did_jwk_document(&sig_did).expect("document");
    assert!(doc.get("keyAgreement").is_none());
    assert!(doc.get("authentication").is_some());

    assert!(matches!(
        resolve_did_jwk(DID_JWK_X25519),
        Err(JoseError::InvalidJwk(_))
    ));
    assert!(matches!(
        resolve_did_jwk(&format!("{did}#1")),
        Err(JoseError::InvalidDid(_))
    ));
    assert!(matches!(
        resolve_did_jwk("did:key:z6Mk"),
        Err(JoseError::InvalidDid(_))
    ));
    assert!(matches!(
        resolve_did_jwk("did:jwk:"),
        Err(JoseError::InvalidDid(_))
    ));
    assert!(matches!(
        resolve_did_jwk("did:jwk:e30="),
        Err(JoseError::Base64 { .. })
    ));
    let private = format!(
        "did:jwk:{}",
        b64url_encode(
            format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{RFC8037_X}","d":"{RFC8037_D}"}}"#)
                .as_bytes()
        )
    );
    assert_eq!(resolve_did_jwk(&private), Err(JoseError::PrivateJwk));
}

//! Property targets for every parser that reads outside input: whatever the bytes, they
//! answer with a value or a typed error, never a panic, and within their size limits.

use proptest::prelude::*;
use simin_identity::jose::{decode_compact_unverified, resolve_did_jwk, Jwk};
use simin_identity::sd_jwt::{self, Disclosure, SdJwt, VerifyOptions};
use simin_identity::status_list::StatusList;
use simin_identity::{card, did_key};

/// Strings shaped like the inputs: base64url runs, dots and tildes, JSON fragments.
fn token_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[A-Za-z0-9_-]{0,40}",
        Just("~".to_owned()),
        Just(".".to_owned()),
        Just("eyJhbGciOiJFZERTQSJ9".to_owned()),
        Just("WyJzYWx0IiwibmFtZSIsMV0".to_owned()),
        "\\PC{0,8}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|parts| parts.concat())
}

fn issuer_key() -> Jwk {
    Jwk::from_ed25519(&ed25519_dalek::SigningKey::from_bytes(&[5; 32]).verifying_key())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sd_jwt_parsing_and_verification_never_panic(input in token_soup()) {
        let _ = SdJwt::parse(&input);
        let _ = Disclosure::parse(&input);
        let _ = decode_compact_unverified(&input);
        let options = VerifyOptions::new(1_800_000_000).with_key_binding("n", "a");
        let _ = sd_jwt::verify(&input, &issuer_key(), &options);
        let _ = sd_jwt::list_disclosures(&input);
    }

    #[test]
    fn json_and_did_parsers_never_panic(input in "\\PC{0,200}") {
        let _ = sd_jwt::verify(&input, &issuer_key(), &VerifyOptions::new(0));
        let value: Result<serde_json::Value, _> = serde_json::from_str(&input);
        if let Ok(value) = value {
            let _ = Jwk::from_json(&value);
            let _ = card::parse_status(&value);
        }
        let _ = resolve_did_jwk(&input);
        let _ = did_key::resolve_did_key(&input);
        let _ = StatusList::decode(&input, 1 << 20);
    }

    #[test]
    fn arbitrary_bytes_as_text_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let input = String::from_utf8_lossy(&bytes);
        let _ = SdJwt::parse(&input);
        let _ = Disclosure::parse(&input);
        let _ = StatusList::decode(&input, 1 << 20);
    }
}

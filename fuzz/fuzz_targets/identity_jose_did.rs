//! The JOSE, DID and status-list parsers over arbitrary text: a value or a typed error,
//! never a panic; where there is an encoder, what was parsed comes back from its encoding
//! (JWK JSON, `did:jwk`, `did:key`, Bitstring Status List).
#![no_main]

use libfuzzer_sys::fuzz_target;
use simin_identity::jose::{
    decode_compact_unverified, decode_json_object, did_jwk, resolve_did_jwk, Jwk,
};
use simin_identity::status_list::StatusList;
use simin_identity::{card, did_key};

/// Largest status list decoded here (bits): small enough to keep each run fast.
const STATUS_BITS_MAX: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = decode_compact_unverified(text);
    let _ = decode_json_object(text, "fuzz input");
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        if let Ok(jwk) = Jwk::from_json(&value) {
            assert_eq!(
                Jwk::from_json(&jwk.to_json()).ok(),
                Some(jwk.clone()),
                "JWK JSON round trip"
            );
            let _ = jwk.thumbprint();
        }
        let _ = card::parse_status(&value);
    }
    if let Ok(jwk) = resolve_did_jwk(text) {
        assert_eq!(
            resolve_did_jwk(&did_jwk(&jwk)).ok(),
            Some(jwk),
            "did:jwk round trip"
        );
    }
    let _ = simin_identity::jose::did_jwk_document(text);
    if let Ok(key) = did_key::resolve_did_key(text) {
        let again = did_key::resolve_did_key(&did_key::did_key_from_ed25519(&key)).ok();
        assert_eq!(again, Some(key), "did:key round trip");
    }
    let _ = did_key::did_key_document(text);
    if let Ok(list) = StatusList::decode(text, STATUS_BITS_MAX) {
        let again =
            StatusList::decode(&list.encode(), STATUS_BITS_MAX).expect("an encoded list decodes");
        assert_eq!(again.as_bytes(), list.as_bytes(), "status list round trip");
    }
    let _ = simin_identity::status_list::status_list_index(text);
    let _ = simin_identity::did_simin::parse_xsd_datetime(text);
    let _ = simin_identity::verifier::parse_status_list_id(text);
});

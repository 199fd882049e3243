//! The SD-JWT parsers and verifier (RFC 9901) over arbitrary text: a value or a typed
//! error, never a panic; a parsed SD-JWT serializes back to the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use simin_identity::jose::Jwk;
use simin_identity::sd_jwt::{self, Disclosure, SdJwt, VerifyOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = SdJwt::parse(text) {
        assert_eq!(
            parsed.to_compact(),
            text,
            "an SD-JWT re-serializes differently"
        );
        assert_eq!(SdJwt::parse(&parsed.to_compact()).ok(), Some(parsed));
    }
    if let Ok(disclosure) = Disclosure::parse(text) {
        assert_eq!(disclosure.encoded(), text);
    }
    let _ = sd_jwt::list_disclosures(text);
    let key = issuer_key();
    let options = VerifyOptions::new(1_800_000_000).with_key_binding("nonce", "aud");
    let _ = sd_jwt::verify(text, &key, &options);
    let _ = sd_jwt::verify(text, &key, &VerifyOptions::new(0));
});

/// A fixed issuer key (RFC 8037's example): the verifier runs its checks up to the
/// signature on any input.
fn issuer_key() -> Jwk {
    let jwk = serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    });
    Jwk::from_json(&jwk).expect("RFC 8037's example key is a valid Ed25519 JWK")
}

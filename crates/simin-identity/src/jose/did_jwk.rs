//! The did:jwk method (github.com/quartzjer/did-jwk, spec.md): a DID that is a base64url JWK.
//!
//! Creating a DID encodes the JWK's required members in lexicographic order without
//! whitespace (the RFC 7638 form, which the method's examples use). Resolving accepts
//! any JSON serialization, refuses private keys, and builds the DID document the method
//! specifies, with the single verification method `#0` of type `JsonWebKey2020`.

use serde_json::{json, Map, Value};

use super::{b64url_decode, b64url_encode, JoseError, Jwk};

/// The method prefix.
pub const DID_JWK_PREFIX: &str = "did:jwk:";

/// The longest did:jwk (or DID URL) accepted, in bytes.
const MAX_DID_LEN: usize = 4096;

/// The did:jwk of a public key.
pub fn did_jwk(jwk: &Jwk) -> String {
    format!(
        "{DID_JWK_PREFIX}{}",
        b64url_encode(jwk.canonical_json().as_bytes())
    )
}

/// Resolves a did:jwk, or its DID URL with the `#0` fragment, to its public key.
pub fn resolve_did_jwk(did: &str) -> Result<Jwk, JoseError> {
    parse(did).map(|parsed| parsed.jwk)
}

/// The DID document of a did:jwk (the `#0` fragment is accepted and dropped).
///
/// `publicKeyJwk` is the JWK exactly as encoded in the DID. The verification
/// relationships follow the JWK's `use`: `sig` leaves out `keyAgreement`, `enc` keeps only
/// `keyAgreement`, and no `use` gives all five.
pub fn did_jwk_document(did: &str) -> Result<Value, JoseError> {
    let parsed = parse(did)?;
    let did = parsed.did;
    let key_id = format!("{did}#0");
    let key_use = parsed.encoded.get("use").and_then(Value::as_str);
    let mut doc = Map::new();
    doc.insert(
        "@context".to_owned(),
        json!([
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/suites/jws-2020/v1"
        ]),
    );
    doc.insert("id".to_owned(), Value::from(did));
    doc.insert(
        "verificationMethod".to_owned(),
        json!([{
            "id": key_id,
            "type": "JsonWebKey2020",
            "controller": did,
            "publicKeyJwk": Value::Object(parsed.encoded.clone()),
        }]),
    );
    let signing = [
        "assertionMethod",
        "authentication",
        "capabilityInvocation",
        "capabilityDelegation",
    ];
    if key_use != Some("enc") {
        for relationship in signing {
            doc.insert(relationship.to_owned(), json!([key_id]));
        }
    }
    if key_use != Some("sig") {
        doc.insert("keyAgreement".to_owned(), json!([key_id]));
    }
    Ok(Value::Object(doc))
}

/// A parsed did:jwk.
struct Parsed<'a> {
    /// The DID without fragment.
    did: &'a str,
    /// The JSON object the DID encodes.
    encoded: Map<String, Value>,
    /// The key.
    jwk: Jwk,
}

fn parse(did_url: &str) -> Result<Parsed<'_>, JoseError> {
    if did_url.len() > MAX_DID_LEN {
        return Err(JoseError::TooLarge {
            len: did_url.len(),
            max: MAX_DID_LEN,
        });
    }
    let did = match did_url.split_once('#') {
        None => did_url,
        Some((did, "0")) => did,
        Some(_) => return Err(JoseError::InvalidDid("the only key fragment is #0")),
    };
    let encoded = did
        .strip_prefix(DID_JWK_PREFIX)
        .ok_or(JoseError::InvalidDid("the prefix is not did:jwk:"))?;
    if encoded.is_empty() {
        return Err(JoseError::InvalidDid("the key is empty"));
    }
    let bytes = b64url_decode(encoded, "did:jwk value")?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| JoseError::Json {
        what: "did:jwk value",
        reason: e.to_string(),
    })?;
    let Value::Object(encoded) = value else {
        return Err(JoseError::NotAnObject {
            what: "did:jwk value",
        });
    };
    let jwk = Jwk::from_json(&Value::Object(encoded.clone()))?;
    Ok(Parsed { did, encoded, jwk })
}

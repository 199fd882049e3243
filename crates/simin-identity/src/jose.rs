//! JOSE for the citizen card: base64url, public JWKs, compact JWS and did:jwk.
//!
//! Only what the credentials need: Ed25519 (`EdDSA`, RFC 8037) and P-256 (`ES256`,
//! RFC 7518) keys, the compact JWS serialization (RFC 7515) with a JSON object payload,
//! RFC 7638 thumbprints and the did:jwk method. Signing is deterministic (Ed25519, and
//! RFC 6979 for ECDSA), so nothing here needs randomness.
//!
//! Verification is strict: `alg` must be present, must not be `none` and must match the
//! key type; EdDSA uses `verify_strict`; ES256 signatures are the fixed 64-byte `r || s`
//! form (never DER); base64url must be unpadded and canonical; a `crit` header is refused
//! because no extension is understood; inputs are bounded by [`MAX_JWS_LEN`].

mod did_jwk;
mod jwk;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::Signer as _;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

pub use did_jwk::{did_jwk, did_jwk_document, resolve_did_jwk, DID_JWK_PREFIX};
pub use jwk::Jwk;

/// A JSON object, as JWS headers and JWT payloads are.
pub type JsonObject = Map<String, Value>;

/// The largest compact JWS accepted, in bytes.
pub const MAX_JWS_LEN: usize = 64 * 1024;

/// Why a JOSE object or key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    /// The input is longer than the limit.
    #[error("input of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Length of the input.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A base64url value is padded, has characters outside the alphabet or is not canonical.
    #[error("invalid base64url in {what}")]
    Base64 {
        /// Which part was being decoded.
        what: &'static str,
    },
    /// A part is not valid JSON.
    #[error("invalid JSON in {what}: {reason}")]
    Json {
        /// Which part was being parsed.
        what: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// A part is valid JSON but not an object.
    #[error("{what} is not a JSON object")]
    NotAnObject {
        /// Which part.
        what: &'static str,
    },
    /// The structure is wrong (number of parts, missing members, ...).
    #[error("malformed JWS: {0}")]
    Malformed(&'static str),
    /// The header names the `none` algorithm.
    #[error("the \"none\" algorithm is refused")]
    AlgNone,
    /// The header names an algorithm this crate does not implement.
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlg(String),
    /// The header's algorithm does not fit the verification key.
    #[error("algorithm {alg} does not match a {key} key")]
    AlgKeyMismatch {
        /// The header's algorithm.
        alg: String,
        /// The key type.
        key: &'static str,
    },
    /// The header marks extensions as critical; none is understood.
    #[error("critical header extensions are not supported")]
    UnsupportedCrit,
    /// The signature has the wrong length or encoding (ES256 must be 64-byte r || s).
    #[error("signature encoding is invalid: {0}")]
    SignatureEncoding(&'static str),
    /// The signature does not verify with the key.
    #[error("signature does not verify")]
    BadSignature,
    /// A JWK is not a valid public Ed25519 or P-256 key.
    #[error("invalid JWK: {0}")]
    InvalidJwk(&'static str),
    /// A JWK holds private key material, which is never accepted where a public key is expected.
    #[error("the JWK contains private key material")]
    PrivateJwk,
    /// A did:jwk identifier is malformed.
    #[error("invalid did:jwk: {0}")]
    InvalidDid(&'static str),
}

/// Encodes bytes as base64url without padding (RFC 7515 section 2).
pub fn b64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded, canonical base64url; padding, whitespace and other alphabets are refused.
pub fn b64url_decode(text: &str, what: &'static str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JoseError::Base64 { what })
}

/// base64url of the SHA-256 of the given bytes, the digest form SD-JWT and RFC 7638 use.
pub fn b64url_sha256(bytes: &[u8]) -> String {
    b64url_encode(&Sha256::digest(bytes))
}

/// A JWS signature algorithm this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Ed25519 (RFC 8037).
    EdDsa,
    /// ECDSA over P-256 with SHA-256 (RFC 7518 section 3.4).
    Es256,
}

impl Algorithm {
    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::EdDsa => "EdDSA",
            Algorithm::Es256 => "ES256",
        }
    }

    /// Parses an `alg` header value; `none` and unknown algorithms are errors.
    pub fn parse(alg: &str) -> Result<Self, JoseError> {
        match alg {
            "EdDSA" => Ok(Algorithm::EdDsa),
            "ES256" => Ok(Algorithm::Es256),
            "none" => Err(JoseError::AlgNone),
            other => Err(JoseError::UnsupportedAlg(other.to_owned())),
        }
    }
}

/// A private key that signs JWS objects.
#[derive(Clone)]
pub enum JwsSigner {
    /// Signs with `EdDSA`.
    Ed25519(ed25519_dalek::SigningKey),
    /// Signs with `ES256` (deterministic nonces, RFC 6979).
    Es256(p256::ecdsa::SigningKey),
}

impl std::fmt::Debug for JwsSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print private key material; the public key identifies the signer.
        f.debug_struct("JwsSigner")
            .field("alg", &self.alg().as_str())
            .field("public", &self.public_jwk().thumbprint())
            .finish()
    }
}

impl JwsSigner {
    /// The signing algorithm.
    pub fn alg(&self) -> Algorithm {
        match self {
            JwsSigner::Ed25519(_) => Algorithm::EdDsa,
            JwsSigner::Es256(_) => Algorithm::Es256,
        }
    }

    /// The public JWK of the signing key.
    pub fn public_jwk(&self) -> Jwk {
        match self {
            JwsSigner::Ed25519(key) => Jwk::Ed25519(key.verifying_key()),
            JwsSigner::Es256(key) => Jwk::P256(*key.verifying_key()),
        }
    }

    /// Signs the bytes; ES256 signatures are 64-byte `r || s`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            JwsSigner::Ed25519(key) => key.sign(message).to_bytes().to_vec(),
            JwsSigner::Es256(key) => {
                let sig: p256::ecdsa::Signature = key.sign(message);
                sig.to_bytes().to_vec()
            }
        }
    }
}

/// Signs `payload` as a compact JWS with the given protected header; `alg` is set (and
/// overrides any `alg` in `header`).
pub fn sign_compact(header: &Map<String, Value>, payload: &[u8], signer: &JwsSigner) -> String {
    let mut header = header.clone();
    header.insert("alg".to_owned(), Value::from(signer.alg().as_str()));
    let header_json = serde_json::to_vec(&header).expect("a JSON map always serializes");
    let signing_input = format!("{}.{}", b64url_encode(&header_json), b64url_encode(payload));
    let signature = signer.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", b64url_encode(&signature))
}

/// Signs a JSON object payload as a compact JWS (see [`sign_compact`]).
pub fn sign_compact_json(
    header: &Map<String, Value>,
    payload: &Map<String, Value>,
    signer: &JwsSigner,
) -> String {
    let payload_json = serde_json::to_vec(payload).expect("a JSON map always serializes");
    sign_compact(header, &payload_json, signer)
}

/// Verifies a compact JWS with `key` and returns its protected header and JSON object payload.
pub fn verify_compact(jws: &str, key: &Jwk) -> Result<(JsonObject, JsonObject), JoseError> {
    check_len(jws.len())?;
    let mut parts = jws.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Malformed(
            "a compact JWS has exactly three parts",
        ));
    };
    verify_parts(header, payload, signature, key)
}

/// Verifies a JWS given as its three base64url parts (compact or JSON serialization) and
/// returns the protected header and the JSON object payload.
pub fn verify_parts(
    protected: &str,
    payload: &str,
    signature: &str,
    key: &Jwk,
) -> Result<(JsonObject, JsonObject), JoseError> {
    let total = protected
        .len()
        .saturating_add(payload.len())
        .saturating_add(signature.len());
    check_len(total)?;
    let header = decode_json_object(protected, "protected header")?;
    if header.contains_key("crit") {
        return Err(JoseError::UnsupportedCrit);
    }
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => Algorithm::parse(alg)?,
        Some(_) => return Err(JoseError::Malformed("alg is not a string")),
        None => return Err(JoseError::Malformed("the protected header has no alg")),
    };
    let signature = b64url_decode(signature, "signature")?;
    let signing_input = format!("{protected}.{payload}");
    key.verify_signature(alg, signing_input.as_bytes(), &signature)?;
    let payload = decode_json_object(payload, "payload")?;
    Ok((header, payload))
}

/// Decodes the header and payload of a compact JWS without checking the signature.
///
/// For a holder reading its own credential, or to pick the key to verify with; never a
/// substitute for [`verify_compact`].
pub fn decode_compact_unverified(jws: &str) -> Result<(JsonObject, JsonObject), JoseError> {
    check_len(jws.len())?;
    let parts: Vec<&str> = jws.splitn(4, '.').collect();
    let [header, payload, _signature] = parts.as_slice() else {
        return Err(JoseError::Malformed(
            "a compact JWS has exactly three parts",
        ));
    };
    Ok((
        decode_json_object(header, "protected header")?,
        decode_json_object(payload, "payload")?,
    ))
}

/// Decodes base64url text holding a JSON object.
pub fn decode_json_object(text: &str, what: &'static str) -> Result<Map<String, Value>, JoseError> {
    let bytes = b64url_decode(text, what)?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(JoseError::NotAnObject { what }),
        Err(e) => Err(JoseError::Json {
            what,
            reason: e.to_string(),
        }),
    }
}

fn check_len(len: usize) -> Result<(), JoseError> {
    if len > MAX_JWS_LEN {
        return Err(JoseError::TooLarge {
            len,
            max: MAX_JWS_LEN,
        });
    }
    Ok(())
}

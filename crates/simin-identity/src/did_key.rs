//! `did:key` for Ed25519 keys (W3C CCG did:key method) and Multikey encodings.
//!
//! A `did:key` DID is `did:key:` followed by the key's Multikey value: the multibase
//! base58btc prefix `z` over the multicodec varint of `ed25519-pub` (`0xed 0x01`) and
//! the 32 public key bytes. Resolution is a pure function of the DID, so no network or
//! registry is involved.
//!
//! Only Ed25519 is supported. The optional X25519 `keyAgreement` key that the did:key
//! method can derive from an Ed25519 key is deliberately not produced: the citizen
//! card signs with these keys and never encrypts to them.

use ed25519_dalek::{SigningKey, VerifyingKey};
use serde_json::{json, Value};
use zeroize::Zeroizing;

/// Prefix of every `did:key` DID.
pub const DID_KEY_PREFIX: &str = "did:key:";

/// The multibase prefix for base58btc (the only base the did:key method uses).
pub const MULTIBASE_BASE58BTC: char = 'z';

/// Multicodec varint of `ed25519-pub` (code 0xed).
pub const MULTICODEC_ED25519_PUB: [u8; 2] = [0xed, 0x01];

/// Multicodec varint of `ed25519-priv` (code 0x1300), used by `secretKeyMultibase`.
pub const MULTICODEC_ED25519_PRIV: [u8; 2] = [0x80, 0x26];

/// Longest DID, DID URL or Multikey value accepted; bounds work on untrusted input.
/// A well-formed Ed25519 DID URL is under 120 bytes.
pub const DID_URL_LEN_MAX: usize = 256;

/// The JSON-LD contexts of the DID document produced by [`did_key_document`].
pub const DID_DOCUMENT_CONTEXT: [&str; 2] = [
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/multikey/v1",
];

/// Why a `did:key` DID or a Multikey value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DidKeyError {
    /// The input is longer than [`DID_URL_LEN_MAX`].
    #[error("input is {len} bytes, above the limit of {max}")]
    TooLong {
        /// Length of the input in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input does not start with `did:key:`.
    #[error("not a did:key DID: it must start with \"did:key:\"")]
    NotDidKey,
    /// The DID URL has a path, a query, a version segment or an empty part.
    #[error("did:key DID URL is malformed: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// The DID URL fragment names a key other than the DID's own.
    #[error("DID URL fragment does not match the DID's key")]
    FragmentMismatch,
    /// The multibase value does not use base58btc (`z`).
    #[error("multibase value must start with 'z' (base58btc), found {found:?}")]
    UnsupportedMultibase {
        /// The first character, if any.
        found: Option<char>,
    },
    /// The base58btc text does not decode.
    #[error("invalid base58btc: {0}")]
    Base58(#[from] bs58::decode::Error),
    /// The multicodec prefix is not the expected Ed25519 one.
    #[error("multicodec prefix {found:02x?} is not {expected} ({expected_bytes:02x?})")]
    UnsupportedMulticodec {
        /// Up to the first two decoded bytes.
        found: Vec<u8>,
        /// Name of the expected codec.
        expected: &'static str,
        /// The expected varint bytes.
        expected_bytes: [u8; 2],
    },
    /// The key material after the multicodec prefix is not 32 bytes.
    #[error("Ed25519 key must be 32 bytes, got {got}")]
    KeyLength {
        /// Number of key bytes found.
        got: usize,
    },
    /// The 32 bytes are not a canonical encoding of a curve point.
    #[error("bytes are not a canonically encoded Ed25519 public key")]
    InvalidKey,
    /// The key is a small-order point, for which signatures prove nothing.
    #[error("Ed25519 public key is of small order (weak)")]
    WeakKey,
}

/// The Multikey (`publicKeyMultibase`) value of an Ed25519 public key: `z` + base58btc
/// of `0xed 0x01` followed by the 32 key bytes.
pub fn ed25519_multikey(key: &VerifyingKey) -> String {
    let mut bytes = Vec::with_capacity(34);
    bytes.extend_from_slice(&MULTICODEC_ED25519_PUB);
    bytes.extend_from_slice(key.as_bytes());
    let mut out = String::with_capacity(50);
    out.push(MULTIBASE_BASE58BTC);
    out.push_str(&bs58::encode(bytes).into_string());
    out
}

/// Parses a Multikey (`publicKeyMultibase`) value holding an Ed25519 public key.
///
/// Strict: base58btc only, the `ed25519-pub` multicodec, exactly 32 key bytes, a
/// canonical point encoding and not a small-order point.
pub fn ed25519_from_multikey(multikey: &str) -> Result<VerifyingKey, DidKeyError> {
    let raw = decode_multibase_codec(multikey, MULTICODEC_ED25519_PUB, "ed25519-pub")?;
    let key = VerifyingKey::from_bytes(&raw).map_err(|_| DidKeyError::InvalidKey)?;
    // `from_bytes` accepts a y coordinate encoded with a value >= p; re-encoding
    // tells those apart, so that one key has one DID.
    if key.to_edwards().compress().to_bytes() != *raw {
        return Err(DidKeyError::InvalidKey);
    }
    if key.is_weak() {
        return Err(DidKeyError::WeakKey);
    }
    Ok(key)
}

/// Parses a `secretKeyMultibase` value holding an Ed25519 secret key (seed), as in the
/// W3C test vectors' `privateKeyMultibase`: `z` + base58btc of `0x80 0x26` and 32 bytes.
pub fn ed25519_signing_key_from_multikey(multikey: &str) -> Result<SigningKey, DidKeyError> {
    let seed = decode_multibase_codec(multikey, MULTICODEC_ED25519_PRIV, "ed25519-priv")?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The `did:key` DID of an Ed25519 public key.
pub fn did_key_from_ed25519(key: &VerifyingKey) -> String {
    format!("{DID_KEY_PREFIX}{}", ed25519_multikey(key))
}

/// The id of the DID's single verification method: `did:key:z…#z…`.
pub fn did_key_verification_method(key: &VerifyingKey) -> String {
    let multikey = ed25519_multikey(key);
    format!("{DID_KEY_PREFIX}{multikey}#{multikey}")
}

/// Resolves a `did:key` DID, or the DID URL of its verification method
/// (`did:key:z…#z…`), to the Ed25519 public key it encodes.
///
/// Strict: the `did:key:` prefix, no version segment, path or query, a fragment (if
/// any) equal to the method-specific id, and everything [`ed25519_from_multikey`]
/// checks.
pub fn resolve_did_key(did_or_did_url: &str) -> Result<VerifyingKey, DidKeyError> {
    let multikey = method_specific_id(did_or_did_url)?;
    ed25519_from_multikey(multikey)
}

/// The DID document of an Ed25519 `did:key` DID (or of the DID a DID URL belongs to):
/// one `Multikey` verification method, referenced by `authentication`,
/// `assertionMethod`, `capabilityInvocation` and `capabilityDelegation`.
pub fn did_key_document(did: &str) -> Result<Value, DidKeyError> {
    let multikey = method_specific_id(did)?;
    // Decoding checks the key; the document is then built from the canonical form.
    let key = ed25519_from_multikey(multikey)?;
    let did = did_key_from_ed25519(&key);
    let vm_id = did_key_verification_method(&key);
    Ok(json!({
        "@context": DID_DOCUMENT_CONTEXT,
        "id": did,
        "verificationMethod": [{
            "id": vm_id,
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": ed25519_multikey(&key),
        }],
        "authentication": [vm_id],
        "assertionMethod": [vm_id],
        "capabilityInvocation": [vm_id],
        "capabilityDelegation": [vm_id],
    }))
}

/// Splits a did:key DID or DID URL and returns its method-specific id (the Multikey).
fn method_specific_id(did_or_did_url: &str) -> Result<&str, DidKeyError> {
    check_len(did_or_did_url)?;
    let rest = did_or_did_url
        .strip_prefix(DID_KEY_PREFIX)
        .ok_or(DidKeyError::NotDidKey)?;
    let (id, fragment) = match rest.split_once('#') {
        Some((id, fragment)) => (id, Some(fragment)),
        None => (rest, None),
    };
    if id.is_empty() {
        return Err(DidKeyError::Malformed {
            reason: "empty method-specific id",
        });
    }
    if id.contains(':') {
        return Err(DidKeyError::Malformed {
            reason: "version segments (did:key:<version>:...) are not supported",
        });
    }
    if id.contains(['/', '?']) {
        return Err(DidKeyError::Malformed {
            reason: "paths and queries are not supported",
        });
    }
    if let Some(fragment) = fragment {
        if fragment != id {
            return Err(DidKeyError::FragmentMismatch);
        }
    }
    Ok(id)
}

/// Decodes `z` + base58btc, checks the two-byte multicodec prefix and returns the 32
/// bytes after it. The buffers are wiped on drop because secret keys pass through.
fn decode_multibase_codec(
    text: &str,
    codec: [u8; 2],
    codec_name: &'static str,
) -> Result<Zeroizing<[u8; 32]>, DidKeyError> {
    check_len(text)?;
    let body = text
        .strip_prefix(MULTIBASE_BASE58BTC)
        .ok_or(DidKeyError::UnsupportedMultibase {
            found: text.chars().next(),
        })?;
    let bytes = Zeroizing::new(bs58::decode(body).into_vec()?);
    let Some(key) = bytes.strip_prefix(&codec) else {
        return Err(DidKeyError::UnsupportedMulticodec {
            found: bytes.iter().take(2).copied().collect(),
            expected: codec_name,
            expected_bytes: codec,
        });
    };
    <[u8; 32]>::try_from(key)
        .map(Zeroizing::new)
        .map_err(|_| DidKeyError::KeyLength { got: key.len() })
}

fn check_len(text: &str) -> Result<(), DidKeyError> {
    if text.len() > DID_URL_LEN_MAX {
        return Err(DidKeyError::TooLong {
            len: text.len(),
            max: DID_URL_LEN_MAX,
        });
    }
    Ok(())
}

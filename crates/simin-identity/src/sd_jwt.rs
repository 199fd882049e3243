//! SD-JWT (RFC 9901, Selective Disclosure for JWTs) and its SD-JWT VC profile (`dc+sd-jwt`).
//!
//! Three roles, each a pure function of its inputs:
//! - the issuer ([`issue`]) turns claims and an [`SdPolicy`] into `<JWT>~<D1>~...~<Dn>~`,
//!   with salts from a caller-supplied source (so tests reproduce published vectors);
//! - the holder ([`list_disclosures`], [`present`]) chooses claims by [`ClaimPath`] and
//!   optionally appends a Key Binding JWT;
//! - the verifier ([`verify`]) checks the issuer's signature, every disclosure (RFC 9901
//!   section 7), the validity times against a given `now` and the Key Binding JWT, and
//!   returns the processed payload.
//!
//! Only `sha-256` is supported for `_sd_alg`. Inputs are bounded: [`MAX_SD_JWT_LEN`] bytes,
//! [`MAX_DISCLOSURES`] disclosures and [`MAX_DEPTH`] levels of nesting (counted across
//! recursive disclosures).
//!
//! The verifier also accepts the JWS JSON serialization (RFC 9901 section 8), flattened
//! and general, with `disclosures` and `kb_jwt` in the (first) unprotected header, and
//! with them as top-level members as older drafts and `sd-jwt-python` 0.10 wrote them.
//!
//! ```
//! use serde_json::json;
//! use simin_identity::jose::JwsSigner;
//! use simin_identity::sd_jwt::{
//!     issue, present, verify, IssueRequest, JsonStyle, KeyBindingRequest, PathElement,
//!     SdPolicy, VerifyOptions, TYP_SD_JWT_VC,
//! };
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let issuer = JwsSigner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[1; 32]));
//! let holder = JwsSigner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[2; 32]));
//! let claims = json!({
//!     "iss": "https://city.example", "vct": "https://city.example/citizen",
//!     "given_name": "Ada", "birthdate": "1990-05-17"
//! });
//! let policy = SdPolicy::plain()
//!     .member("given_name", SdPolicy::sd())
//!     .member("birthdate", SdPolicy::sd());
//! let header = json!({ "typ": TYP_SD_JWT_VC });
//! let holder_key = holder.public_jwk();
//! let request = IssueRequest {
//!     claims: claims.as_object().ok_or("claims")?,
//!     policy: &policy,
//!     header: header.as_object().ok_or("header")?,
//!     holder_key: Some(&holder_key),
//!     style: JsonStyle::Compact,
//! };
//! // In production each salt is 128 random bits, base64url-encoded.
//! let mut count = 0;
//! let mut salt = || { count += 1; format!("salt-{count}") };
//! let issued = issue(&request, &issuer, &mut salt)?;
//!
//! let kb = KeyBindingRequest {
//!     signer: &holder, audience: "https://shop.example", nonce: "n-1", issued_at: 1_800_000_000,
//! };
//! let selection = vec![vec![PathElement::from("birthdate")]];
//! let presentation = present(&issued.sd_jwt, &selection, Some(&kb))?;
//!
//! let options = VerifyOptions::new(1_800_000_010).with_key_binding("n-1", "https://shop.example");
//! let verified = verify(&presentation, &issuer.public_jwk(), &options)?;
//! assert_eq!(verified.claims["birthdate"], "1990-05-17");
//! assert!(verified.claims.get("given_name").is_none());
//! # Ok(())
//! # }
//! ```

mod disclosure;
mod holder;
mod issuer;
mod json_serialization;
mod process;
mod verifier;

use serde::{Deserialize, Serialize};

use crate::jose::JoseError;

pub use disclosure::{Disclosure, JsonStyle};
pub use holder::{list_disclosures, present, HolderDisclosure, KeyBindingRequest, SdJwt};
pub use issuer::{issue, IssueRequest, Issued, SdPolicy};
pub use verifier::{verify, ExpectedKeyBinding, KeyBindingClaims, Verified, VerifyOptions};

/// The `typ` of an SD-JWT VC (SD-JWT-based Verifiable Credentials).
pub const TYP_SD_JWT_VC: &str = "dc+sd-jwt";
/// The `typ` of a Key Binding JWT.
pub const TYP_KB_JWT: &str = "kb+jwt";
/// The only `_sd_alg` supported.
pub const SD_ALG_SHA256: &str = "sha-256";
/// The longest SD-JWT or presentation accepted, in bytes.
pub const MAX_SD_JWT_LEN: usize = 256 * 1024;
/// The most disclosures an SD-JWT may carry or an issuer may create.
pub const MAX_DISCLOSURES: usize = 1024;
/// The deepest nesting of objects and arrays, counted across recursive disclosures.
pub const MAX_DEPTH: usize = 32;
/// The most decoy digests an issuer adds to one object.
pub const MAX_DECOYS_PER_OBJECT: usize = 64;

/// One step of a [`ClaimPath`]: an object member name or an array index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PathElement {
    /// An object member.
    Name(String),
    /// An array element.
    Index(usize),
}

impl From<&str> for PathElement {
    fn from(name: &str) -> Self {
        PathElement::Name(name.to_owned())
    }
}

impl From<String> for PathElement {
    fn from(name: String) -> Self {
        PathElement::Name(name)
    }
}

impl From<usize> for PathElement {
    fn from(index: usize) -> Self {
        PathElement::Index(index)
    }
}

/// The position of a claim in the claims, e.g. `["address", "locality"]` or
/// `["nationalities", 1]` (the JSON form is the SD-JWT VC claims path without wildcards).
pub type ClaimPath = Vec<PathElement>;

/// The JSON text of a claim path, for messages.
pub(crate) fn path_text(path: &[PathElement]) -> String {
    serde_json::to_string(path).unwrap_or_else(|_| String::from("[?]"))
}

/// Why an SD-JWT could not be issued, presented or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdJwtError {
    /// The input is longer than [`MAX_SD_JWT_LEN`].
    #[error("input of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Length of the input.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// More disclosures than [`MAX_DISCLOSURES`].
    #[error("more than {max} disclosures")]
    TooManyDisclosures {
        /// The limit.
        max: usize,
    },
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("claims nested deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The SD-JWT's structure is wrong.
    #[error("malformed SD-JWT: {0}")]
    Malformed(&'static str),
    /// A disclosure does not decode to `[salt, name, value]` or `[salt, value]`.
    #[error("malformed disclosure: {reason}")]
    MalformedDisclosure {
        /// What is wrong.
        reason: &'static str,
    },
    /// The issuer-signed JWT's signature does not verify with the issuer's key.
    #[error("the issuer's signature does not verify")]
    BadIssuerSignature,
    /// The issuer-signed JWT is not a valid JWS (alg, encoding, header).
    #[error("issuer-signed JWT: {0}")]
    IssuerJwt(JoseError),
    /// The issuer-signed JWT's `typ` is not the expected one.
    #[error("typ is {got:?}, expected {expected:?}")]
    WrongType {
        /// The header's `typ`, if any.
        got: Option<String>,
        /// The expected `typ`.
        expected: String,
    },
    /// `_sd_alg` names a hash algorithm other than `sha-256`.
    #[error("unsupported _sd_alg {0:?}")]
    UnsupportedSdAlg(String),
    /// A presented disclosure matches no digest in the issuer-signed JWT or in the other
    /// presented disclosures: it was altered, belongs to another SD-JWT, or the
    /// disclosure that contains its digest was left out. (A tampered disclosure and an
    /// unreferenced one cannot be told apart: both are this error.)
    #[error("disclosure with digest {digest} is referenced nowhere (tampered, foreign or missing its parent)")]
    UnreferencedDisclosure {
        /// The disclosure's digest.
        digest: String,
    },
    /// The same disclosure is presented more than once.
    #[error("disclosure with digest {digest} is presented more than once")]
    DuplicateDisclosure {
        /// The disclosure's digest.
        digest: String,
    },
    /// The same digest is embedded more than once in the SD-JWT.
    #[error("digest {digest} appears more than once in the SD-JWT")]
    DuplicateDigest {
        /// The repeated digest.
        digest: String,
    },
    /// A disclosed claim's name already exists in its object.
    #[error("disclosed claim {name:?} already exists in its object")]
    ClaimNameCollision {
        /// The claim name.
        name: String,
    },
    /// `_sd`, `...` or `_sd_alg` used as a claim name.
    #[error("{name:?} is reserved and cannot be a claim name here")]
    ReservedClaimName {
        /// The claim name.
        name: String,
    },
    /// An array-element disclosure referenced from `_sd`, or an object-property one from `...`.
    #[error("disclosure with digest {digest} is not an {expected} disclosure")]
    WrongDisclosureKind {
        /// The disclosure's digest.
        digest: String,
        /// The kind its position requires.
        expected: &'static str,
    },
    /// A validity claim (`exp`, `nbf`, `iat`) is not an integer.
    #[error("claim {name} is not an integer NumericDate")]
    BadTimeClaim {
        /// The claim name.
        name: &'static str,
    },
    /// `exp` has passed.
    #[error("expired at {exp}, now is {now}")]
    Expired {
        /// The `exp` claim.
        exp: i64,
        /// The verifier's time.
        now: i64,
    },
    /// `nbf` is in the future.
    #[error("not valid before {nbf}, now is {now}")]
    NotYetValid {
        /// The `nbf` claim.
        nbf: i64,
        /// The verifier's time.
        now: i64,
    },
    /// `iat` is in the future.
    #[error("issued at {iat}, after now ({now})")]
    IssuedInFuture {
        /// The `iat` claim.
        iat: i64,
        /// The verifier's time.
        now: i64,
    },
    /// Key binding is required but the presentation has no Key Binding JWT.
    #[error("key binding is required but no Key Binding JWT was presented")]
    KeyBindingMissing,
    /// A Key Binding JWT is present but the verifier expects none (no expected nonce and
    /// audience): an SD-JWT's last `~`-separated part must then be empty.
    #[error("a Key Binding JWT is present but none is expected")]
    UnexpectedKeyBinding,
    /// The SD-JWT has no `cnf.jwk` to check or create a Key Binding JWT with.
    #[error("the SD-JWT has no usable cnf.jwk holder key")]
    HolderKeyMissing,
    /// The key binding signer is not the holder key named in `cnf.jwk`.
    #[error("the key binding signer is not the SD-JWT's cnf.jwk")]
    HolderKeyMismatch,
    /// The Key Binding JWT's signature does not verify with `cnf.jwk`.
    #[error("the Key Binding JWT's signature does not verify with cnf.jwk")]
    BadKeyBindingSignature,
    /// The Key Binding JWT is not a valid JWS.
    #[error("Key Binding JWT: {0}")]
    KeyBindingJwt(JoseError),
    /// A Key Binding JWT claim is missing or has the wrong type.
    #[error("Key Binding JWT: {0}")]
    KeyBindingMalformed(&'static str),
    /// The Key Binding JWT's `typ` is not `kb+jwt`.
    #[error("Key Binding JWT typ is {got:?}, expected \"kb+jwt\"")]
    KeyBindingWrongType {
        /// The header's `typ`, if any.
        got: Option<String>,
    },
    /// The Key Binding JWT's `iat` is outside the accepted window.
    #[error("Key Binding JWT issued at {iat}, outside the window around now ({now})")]
    KeyBindingIatOutOfWindow {
        /// The `iat` claim.
        iat: i64,
        /// The verifier's time.
        now: i64,
    },
    /// The Key Binding JWT's `nonce` is not the expected one.
    #[error("Key Binding JWT nonce {got:?} is not the expected nonce")]
    WrongNonce {
        /// The presented nonce.
        got: String,
    },
    /// The Key Binding JWT's `aud` is not this verifier.
    #[error("Key Binding JWT audience {got:?} is not the expected audience")]
    WrongAudience {
        /// The presented audience.
        got: String,
    },
    /// The Key Binding JWT's `sd_hash` does not cover this presentation.
    #[error("Key Binding JWT sd_hash does not match the presentation")]
    SdHashMismatch,
    /// The verification options contradict each other.
    #[error("invalid options: {0}")]
    InvalidOptions(&'static str),
    /// The disclosure policy does not fit the claims.
    #[error("policy at {path}: {reason}")]
    PolicyMismatch {
        /// Where, as a JSON claim path.
        path: String,
        /// What does not fit.
        reason: &'static str,
    },
    /// The salt source returned an empty or repeated salt.
    #[error("invalid salt: {0}")]
    InvalidSalt(&'static str),
    /// The claims already hold a member the issuer sets (`cnf` with a holder key, `_sd_alg`).
    #[error("the claims already contain {0:?}")]
    ClaimConflict(&'static str),
    /// A holder's selected path names no claim of the credential.
    #[error("no claim at {path}")]
    UnknownClaimPath {
        /// The path, as JSON.
        path: String,
    },
}

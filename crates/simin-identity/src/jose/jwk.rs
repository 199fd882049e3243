//! Public JSON Web Keys (RFC 7517): Ed25519 (RFC 8037) and P-256 (RFC 7518), their RFC
//! 7638 thumbprints and signature verification.

use p256::ecdsa::signature::Verifier as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{b64url_decode, b64url_encode, b64url_sha256, Algorithm, JoseError};

/// A public JSON Web Key: `OKP`/`Ed25519` or `EC`/`P-256`, always a valid point.
///
/// Parsing ignores members other than `kty`, `crv`, `x`, `y` and refuses a JWK with
/// private material (`d`). Serialization writes `kty`, `crv`, `x` (and `y`) only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawJwk", into = "RawJwk")]
pub enum Jwk {
    /// An Ed25519 public key (RFC 8037).
    Ed25519(ed25519_dalek::VerifyingKey),
    /// A P-256 public key (RFC 7518 section 6.2).
    P256(p256::ecdsa::VerifyingKey),
}

/// The wire form of a [`Jwk`], validated by `TryFrom`.
#[derive(Clone, Serialize, Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    y: Option<String>,
    #[serde(default, skip_serializing)]
    d: Option<serde::de::IgnoredAny>,
}

impl TryFrom<RawJwk> for Jwk {
    type Error = JoseError;

    fn try_from(raw: RawJwk) -> Result<Self, JoseError> {
        if raw.d.is_some() {
            return Err(JoseError::PrivateJwk);
        }
        let coordinate = |value: Option<String>, what: &'static str| -> Result<[u8; 32], _> {
            let text = value.ok_or(JoseError::InvalidJwk("a coordinate is missing"))?;
            let bytes = b64url_decode(&text, what)?;
            <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| JoseError::InvalidJwk("a coordinate is not 32 bytes"))
        };
        match (raw.kty.as_str(), raw.crv.as_deref()) {
            ("OKP", Some("Ed25519")) => {
                if raw.y.is_some() {
                    return Err(JoseError::InvalidJwk("an OKP key has no y"));
                }
                let x = coordinate(raw.x, "JWK x")?;
                ed25519_dalek::VerifyingKey::from_bytes(&x)
                    .map(Jwk::Ed25519)
                    .map_err(|_| JoseError::InvalidJwk("x is not an Ed25519 point"))
            }
            ("EC", Some("P-256")) => {
                let x = coordinate(raw.x, "JWK x")?;
                let y = coordinate(raw.y, "JWK y")?;
                let point =
                    p256::EncodedPoint::from_affine_coordinates(&x.into(), &y.into(), false);
                p256::ecdsa::VerifyingKey::from_encoded_point(&point)
                    .map(Jwk::P256)
                    .map_err(|_| JoseError::InvalidJwk("(x, y) is not a P-256 point"))
            }
            _ => Err(JoseError::InvalidJwk(
                "only OKP/Ed25519 and EC/P-256 keys are supported",
            )),
        }
    }
}

impl From<Jwk> for RawJwk {
    fn from(jwk: Jwk) -> Self {
        let (kty, crv, x, y) = jwk.members();
        RawJwk {
            kty: kty.to_owned(),
            crv: Some(crv.to_owned()),
            x: Some(x),
            y,
            d: None,
        }
    }
}

impl From<ed25519_dalek::VerifyingKey> for Jwk {
    fn from(key: ed25519_dalek::VerifyingKey) -> Self {
        Jwk::Ed25519(key)
    }
}

impl From<p256::ecdsa::VerifyingKey> for Jwk {
    fn from(key: p256::ecdsa::VerifyingKey) -> Self {
        Jwk::P256(key)
    }
}

impl Jwk {
    /// The JWK of an Ed25519 public key.
    pub fn from_ed25519(key: &ed25519_dalek::VerifyingKey) -> Self {
        Jwk::Ed25519(*key)
    }

    /// The JWK of a P-256 public key.
    pub fn from_p256(key: &p256::ecdsa::VerifyingKey) -> Self {
        Jwk::P256(*key)
    }

    /// Parses a JWK from a JSON value (see the type's documentation for what is accepted).
    pub fn from_json(value: &Value) -> Result<Self, JoseError> {
        let raw = RawJwk::deserialize(value).map_err(|e| JoseError::Json {
            what: "JWK",
            reason: e.to_string(),
        })?;
        Jwk::try_from(raw)
    }

    /// The JWK as a JSON object with members `kty`, `crv`, `x` (and `y`), in that order.
    pub fn to_json(&self) -> Value {
        let (kty, crv, x, y) = self.members();
        let mut map = Map::new();
        map.insert("kty".to_owned(), Value::from(kty));
        map.insert("crv".to_owned(), Value::from(crv));
        map.insert("x".to_owned(), Value::from(x));
        if let Some(y) = y {
            map.insert("y".to_owned(), Value::from(y));
        }
        Value::Object(map)
    }

    /// The algorithm signatures by this key use.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Jwk::Ed25519(_) => Algorithm::EdDsa,
            Jwk::P256(_) => Algorithm::Es256,
        }
    }

    /// The RFC 7638 thumbprint: base64url SHA-256 of the required members, sorted, no whitespace.
    pub fn thumbprint(&self) -> String {
        b64url_sha256(self.canonical_json().as_bytes())
    }

    /// The required members in lexicographic order without whitespace (RFC 7638 section 3.2),
    /// which is also the JSON the did:jwk examples encode.
    pub fn canonical_json(&self) -> String {
        let (kty, crv, x, y) = self.members();
        // The member values are fixed names and base64url text, which need no JSON escaping.
        match y {
            Some(y) => format!(r#"{{"crv":"{crv}","kty":"{kty}","x":"{x}","y":"{y}"}}"#),
            None => format!(r#"{{"crv":"{crv}","kty":"{kty}","x":"{x}"}}"#),
        }
    }

    /// Verifies `signature` over `signing_input` with this key under `alg`.
    pub fn verify_signature(
        &self,
        alg: Algorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), JoseError> {
        match (self, alg) {
            (Jwk::Ed25519(key), Algorithm::EdDsa) => {
                let sig = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| JoseError::SignatureEncoding("an EdDSA signature is 64 bytes"))?;
                key.verify_strict(signing_input, &sig)
                    .map_err(|_| JoseError::BadSignature)
            }
            (Jwk::P256(key), Algorithm::Es256) => {
                if signature.len() != 64 {
                    return Err(JoseError::SignatureEncoding(
                        "an ES256 signature is 64 bytes r || s",
                    ));
                }
                let sig = p256::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| JoseError::SignatureEncoding("r or s is out of range"))?;
                key.verify(signing_input, &sig)
                    .map_err(|_| JoseError::BadSignature)
            }
            (key, alg) => Err(JoseError::AlgKeyMismatch {
                alg: alg.as_str().to_owned(),
                key: key.key_type_name(),
            }),
        }
    }

    fn key_type_name(&self) -> &'static str {
        match self {
            Jwk::Ed25519(_) => "Ed25519",
            Jwk::P256(_) => "P-256",
        }
    }

    /// (kty, crv, x, y) in base64url.
    fn members(&self) -> (&'static str, &'static str, String, Option<String>) {
        match self {
            Jwk::Ed25519(key) => ("OKP", "Ed25519", b64url_encode(key.as_bytes()), None),
            Jwk::P256(key) => {
                let point = key.to_encoded_point(false);
                let x = point.x().map(|x| b64url_encode(x)).expect(
                    "an uncompressed encoding of a verifying key (never the identity) has x",
                );
                let y = point.y().map(|y| b64url_encode(y));
                ("EC", "P-256", x, y)
            }
        }
    }
}

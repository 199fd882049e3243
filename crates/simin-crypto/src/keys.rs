//! Ed25519 keys and signatures (ed25519-dalek), verified with the strict rule.
//!
//! Consensus depends on every validator reaching the same verdict on every signature, so
//! single verification is always `verify_strict` (it rejects small-order keys and
//! non-canonical encodings). Batch verification is only a fast path: a batch holding a
//! small-order key is not attempted, and a batch that fails is verified item by item, so
//! the verdict on a failure is always the strict one. What remains (a forged signature
//! with a torsion component, which the batch equation may accept with the probability of
//! its random coefficients) is documented in ADR 0003.

use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{Signer, VerifyingKey};
use rand_core::CryptoRngCore;
use zeroize::Zeroize;

use crate::CryptoError;

/// An Ed25519 public key: identifies accounts, organisations' keys and validators.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct PublicKey(pub [u8; 32]);

/// An Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Signature(pub [u8; 64]);

/// An Ed25519 secret key. Never serialized implicitly; zeroed on drop.
pub struct SigningKey(ed25519_dalek::SigningKey);

impl PublicKey {
    pub const LEN: usize = 32;

    fn verifying_key(&self) -> Result<VerifyingKey, CryptoError> {
        VerifyingKey::from_bytes(&self.0).map_err(|_| CryptoError::InvalidPublicKey)
    }

    /// True when the bytes decode to a curve point that is not of small order.
    pub fn is_valid(&self) -> bool {
        self.verifying_key()
            .map(|key| !key.is_weak())
            .unwrap_or(false)
    }

    /// Verifies `signature` over `message` with the strict rule of ed25519-dalek.
    pub fn verify_strict(&self, message: &[u8], signature: &Signature) -> Result<(), CryptoError> {
        let key = self.verifying_key()?;
        let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify_strict(message, &signature)
            .map_err(|_| CryptoError::BadSignature)
    }

    pub fn from_slice(bytes: &[u8]) -> Result<PublicKey, CryptoError> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::Length {
            expected: Self::LEN,
            got: bytes.len(),
        })?;
        Ok(PublicKey(array))
    }

    pub fn from_hex(text: &str) -> Result<PublicKey, CryptoError> {
        let bytes = hex::decode(text).map_err(|e| CryptoError::Hex(e.to_string()))?;
        PublicKey::from_slice(&bytes)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl Signature {
    pub const LEN: usize = 64;

    pub fn from_slice(bytes: &[u8]) -> Result<Signature, CryptoError> {
        let array: [u8; 64] = bytes.try_into().map_err(|_| CryptoError::Length {
            expected: Self::LEN,
            got: bytes.len(),
        })?;
        Ok(Signature(array))
    }

    pub fn from_hex(text: &str) -> Result<Signature, CryptoError> {
        let bytes = hex::decode(text).map_err(|e| CryptoError::Hex(e.to_string()))?;
        Signature::from_slice(&bytes)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl SigningKey {
    pub fn generate(rng: &mut impl CryptoRngCore) -> SigningKey {
        SigningKey(ed25519_dalek::SigningKey::generate(rng))
    }

    pub fn from_seed(seed: [u8; 32]) -> SigningKey {
        SigningKey(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    pub fn from_hex(text: &str) -> Result<SigningKey, CryptoError> {
        let mut bytes = hex::decode(text.trim()).map_err(|e| CryptoError::Hex(e.to_string()))?;
        let seed: Result<[u8; 32], _> = bytes.as_slice().try_into();
        let got = bytes.len();
        bytes.zeroize();
        let mut seed = seed.map_err(|_| CryptoError::Length { expected: 32, got })?;
        let key = SigningKey::from_seed(seed);
        seed.zeroize();
        Ok(key)
    }

    /// The 32-byte seed, hex encoded, for writing a key file. Handle with care.
    pub fn to_seed_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message).to_bytes())
    }
}

impl Clone for SigningKey {
    fn clone(&self) -> Self {
        SigningKey(self.0.clone())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey(public: {})", self.public_key().to_hex())
    }
}

/// Verifies many `(message, signature, key)` triples; Ok only if each passes `verify_strict`.
///
/// The batch equation is a speed-up, never the verdict: a failing batch falls back to
/// single verification to name the bad item, and a passing batch still has each key and
/// signature checked for what the strict rule demands beyond the batch equation.
pub fn verify_batch(items: &[(&[u8], Signature, PublicKey)]) -> Result<(), CryptoError> {
    let strict_one_by_one = || {
        for (index, (message, signature, key)) in items.iter().enumerate() {
            key.verify_strict(message, signature)
                .map_err(|_| CryptoError::BadSignatureInBatch { index })?;
        }
        Ok(())
    };
    // Small batches gain nothing from the batch equation.
    if items.len() < 4 {
        return strict_one_by_one();
    }
    let mut messages = Vec::with_capacity(items.len());
    let mut signatures = Vec::with_capacity(items.len());
    let mut keys = Vec::with_capacity(items.len());
    for (message, signature, key) in items {
        let Ok(verifying_key) = key.verifying_key() else {
            return strict_one_by_one();
        };
        // The strict rule refuses small-order keys, which the batch equation accepts.
        if verifying_key.is_weak() {
            return strict_one_by_one();
        }
        messages.push(*message);
        signatures.push(ed25519_dalek::Signature::from_bytes(&signature.0));
        keys.push(verifying_key);
    }
    match ed25519_dalek::verify_batch(&messages, &signatures, &keys) {
        Ok(()) => Ok(()),
        Err(_) => strict_one_by_one(),
    }
}

fn hex_fmt(bytes: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(&hex::encode(bytes))
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        hex_fmt(&self.0, f)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.0))
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        hex_fmt(&self.0, f)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.0))
    }
}

macro_rules! serde_hex {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                <$ty>::from_hex(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_hex!(PublicKey);
serde_hex!(Signature);

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_seed([seed; 32])
    }

    #[test]
    fn rfc8032_test_1_signature() {
        // RFC 8032, section 7.1, TEST 1 (empty message).
        let secret = SigningKey::from_hex(
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        )
        .expect("a valid seed");
        assert_eq!(
            secret.public_key().to_hex(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let signature = secret.sign(b"");
        assert_eq!(
            signature.to_hex(),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        assert_eq!(secret.public_key().verify_strict(b"", &signature), Ok(()));
        assert_eq!(
            secret.public_key().verify_strict(b"x", &signature),
            Err(CryptoError::BadSignature)
        );
    }

    #[test]
    fn small_order_keys_are_refused() {
        // The identity point: a small-order key that the strict rule must refuse.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = PublicKey(identity);
        assert!(!weak.is_valid());
        assert!(weak.verify_strict(b"m", &Signature([0; 64])).is_err());
    }

    #[test]
    fn batch_names_the_bad_item_after_falling_back() {
        let keys: Vec<SigningKey> = (1..=8).map(key).collect();
        let messages: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 10]).collect();
        let mut items: Vec<(&[u8], Signature, PublicKey)> = keys
            .iter()
            .zip(&messages)
            .map(|(k, m)| (m.as_slice(), k.sign(m), k.public_key()))
            .collect();
        assert_eq!(verify_batch(&items), Ok(()));
        items[5].1 = keys[5].sign(b"other");
        assert_eq!(
            verify_batch(&items),
            Err(CryptoError::BadSignatureInBatch { index: 5 })
        );
    }

    #[test]
    fn wycheproof_style_malleated_signature_is_refused() {
        // Adding the group order L to s gives a signature the strict rule must refuse.
        let secret = key(7);
        let mut signature = secret.sign(b"m");
        let order: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for (s_byte, order_byte) in signature.0[32..].iter_mut().zip(order) {
            let sum = u16::from(*s_byte) + u16::from(order_byte) + carry;
            *s_byte = (sum & 0xff) as u8; // truncation intended: byte-wise addition
            carry = sum >> 8;
        }
        assert!(secret.public_key().verify_strict(b"m", &signature).is_err());
    }
}

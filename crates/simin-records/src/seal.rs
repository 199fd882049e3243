//! A record's encryption: XChaCha20-Poly1305 under a random 256-bit key of its own, the
//! record id as associated data, and the on-chain commitment `SHA-256(nonce ‖ ciphertext)`.
//!
//! One key per record is what makes erasure possible: destroying that key (and nothing
//! else) leaves a ciphertext nobody can decrypt, wherever copies of it went.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::{CryptoRng, RngCore};
use simin_types::Hash;
use zeroize::Zeroizing;

/// The length of a record key, in bytes.
pub const KEY_LEN: usize = 32;
/// The length of an XChaCha20-Poly1305 nonce, in bytes.
pub const NONCE_LEN: usize = 24;

/// A record's key; its bytes are wiped when it is dropped.
pub struct RecordKey(Zeroizing<[u8; KEY_LEN]>);

impl RecordKey {
    /// A fresh random key.
    pub fn generate(rng: &mut (impl CryptoRng + RngCore)) -> RecordKey {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        rng.fill_bytes(key.as_mut_slice());
        RecordKey(key)
    }

    /// A key from its stored bytes; `None` unless there are exactly 32.
    pub fn from_slice(bytes: &[u8]) -> Option<RecordKey> {
        let array: [u8; KEY_LEN] = bytes.try_into().ok()?;
        Some(RecordKey(Zeroizing::new(array)))
    }

    /// The key's bytes, to store them.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordKey(<secret>)")
    }
}

/// A sealed record as stored: `nonce ‖ ciphertext` (the ciphertext ends with the tag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed(pub Vec<u8>);

impl Sealed {
    /// The on-chain commitment: SHA-256 of the sealed bytes.
    pub fn commitment(&self) -> Hash {
        Hash::digest(&self.0)
    }
}

/// Why a sealed record did not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the sealed record is shorter than its nonce and tag")]
    Truncated,
    #[error("the sealed record does not open under this key for this record")]
    Unauthentic,
}

/// Encrypts `plaintext` for record `id` under `key` with a fresh random nonce.
pub fn seal(
    key: &RecordKey,
    id: &Hash,
    plaintext: &[u8],
    rng: &mut (impl CryptoRng + RngCore),
) -> Sealed {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &id.0,
            },
        )
        .expect("XChaCha20-Poly1305 encrypts any message shorter than 256 GiB");
    let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&ciphertext);
    Sealed(sealed)
}

/// Decrypts a sealed record of `id`; the plaintext is wiped when dropped.
pub fn open(key: &RecordKey, id: &Hash, sealed: &Sealed) -> Result<Zeroizing<Vec<u8>>, SealError> {
    // The tag is 16 bytes.
    if sealed.0.len() < NONCE_LEN + 16 {
        return Err(SealError::Truncated);
    }
    let (nonce, ciphertext) = sealed.0.split_at(NONCE_LEN);
    let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: &id.0,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| SealError::Unauthentic)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn a_record_opens_under_its_key_and_id_only() {
        let key = RecordKey::generate(&mut OsRng);
        let id = Hash::digest(b"record");
        let sealed = seal(&key, &id, b"{\"name\":\"Kim\"}", &mut OsRng);
        assert_eq!(
            open(&key, &id, &sealed).expect("opens").as_slice(),
            b"{\"name\":\"Kim\"}"
        );
        assert_eq!(sealed.commitment(), Hash::digest(&sealed.0));
        let other = RecordKey::generate(&mut OsRng);
        assert_eq!(open(&other, &id, &sealed), Err(SealError::Unauthentic));
        assert_eq!(
            open(&key, &Hash::digest(b"another"), &sealed),
            Err(SealError::Unauthentic)
        );
        let mut flipped = sealed.clone();
        let last = flipped.0.len() - 1;
        flipped.0[last] ^= 1;
        assert_eq!(open(&key, &id, &flipped), Err(SealError::Unauthentic));
        assert_eq!(
            open(&key, &id, &Sealed(vec![0; 30])),
            Err(SealError::Truncated)
        );
        // Two seals of the same content differ (fresh nonces), so commitments do too.
        assert_ne!(
            seal(&key, &id, b"x", &mut OsRng),
            seal(&key, &id, b"x", &mut OsRng)
        );
    }

    #[test]
    fn keys_are_32_bytes_and_never_printed() {
        assert!(RecordKey::from_slice(&[1; 31]).is_none());
        let key = RecordKey::from_slice(&[7; 32]).expect("32 bytes");
        assert_eq!(key.as_bytes(), &[7; 32]);
        assert!(!format!("{key:?}").contains('7'));
    }
}

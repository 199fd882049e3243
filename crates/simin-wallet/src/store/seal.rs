//! XChaCha20-Poly1305 sealing and the associated data that binds each ciphertext to
//! its place in a wallet.

use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use super::ids::{CredentialId, WalletId};
use crate::error::WalletError;

/// The length in bytes of an XChaCha20-Poly1305 nonce.
pub(crate) const NONCE_LEN: usize = 24;

/// The length in bytes of a Poly1305 tag.
pub(crate) const TAG_LEN: usize = 16;

/// The length in bytes of an XChaCha20-Poly1305 key.
pub(crate) const AEAD_KEY_LEN: usize = 32;

/// Draws a fresh random nonce. XChaCha's 192-bit nonces make random ones safe for any
/// number of messages a wallet will ever write.
pub(crate) fn random_nonce(rng: &mut impl CryptoRngCore) -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    nonce
}

/// The associated data of the wallet secrets: domain, format version, wallet id and
/// holder public key.
pub(crate) fn secrets_aad(version: u32, wallet_id: &WalletId, holder_public: &[u8; 32]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64 + 4 + 16 + 32);
    aad.extend_from_slice(b"simin-wallet/secrets\0");
    aad.extend_from_slice(&version.to_be_bytes());
    aad.extend_from_slice(wallet_id.as_bytes());
    aad.extend_from_slice(holder_public);
    aad
}

/// The associated data of a credential record: domain, format version, wallet id and
/// record id, so a record cannot be moved to another name or another wallet.
pub(crate) fn record_aad(version: u32, wallet_id: &WalletId, id: &CredentialId) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64 + 4 + 16 + 16);
    aad.extend_from_slice(b"simin-wallet/credential\0");
    aad.extend_from_slice(&version.to_be_bytes());
    aad.extend_from_slice(wallet_id.as_bytes());
    aad.extend_from_slice(id.as_bytes());
    aad
}

/// Encrypts `plaintext`; the result is the ciphertext followed by the tag.
pub(crate) fn encrypt(
    key: &[u8; AEAD_KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, WalletError> {
    XChaCha20Poly1305::new(key.into())
        .encrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| WalletError::Encrypt)
}

/// Decrypts `ciphertext` (with its tag) in place; `None` when authentication fails.
///
/// The plaintext is returned in a buffer that is wiped when dropped.
pub(crate) fn decrypt(
    key: &[u8; AEAD_KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ciphertext: Vec<u8>,
) -> Option<Zeroizing<Vec<u8>>> {
    let mut buffer = Zeroizing::new(ciphertext);
    XChaCha20Poly1305::new(key.into())
        .decrypt_in_place(XNonce::from_slice(nonce), aad, &mut *buffer)
        .ok()?;
    Some(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_and_binding() {
        let key = [7u8; AEAD_KEY_LEN];
        let nonce = [9u8; NONCE_LEN];
        let ciphertext = encrypt(&key, &nonce, b"aad", b"secret").expect("encryption runs");
        assert_eq!(ciphertext.len(), 6 + TAG_LEN);
        let plain = decrypt(&key, &nonce, b"aad", ciphertext.clone()).expect("it opens");
        assert_eq!(plain.as_slice(), b"secret");
        assert!(decrypt(&key, &nonce, b"other", ciphertext.clone()).is_none());
        assert!(decrypt(&[8; AEAD_KEY_LEN], &nonce, b"aad", ciphertext.clone()).is_none());
        let mut flipped = ciphertext;
        flipped[0] ^= 1;
        assert!(decrypt(&key, &nonce, b"aad", flipped).is_none());
    }
}

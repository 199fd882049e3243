//! `c_nonce`s that cost nothing to hand out: each carries its expiry and a MAC under a
//! key of the service, so the nonce endpoint (open to anyone, as OpenID4VCI wants it)
//! writes nothing. Only a nonce spent in a credential request, after its access token
//! and key proof checked out, is written down, until it expires, to refuse its reuse.
//!
//! Form: base64url(`expires_at` (8 bytes, big-endian) ‖ 16 random bytes ‖ the first 16
//! bytes of HMAC-SHA-256(key, the 24 bytes before)).

use rand::RngCore;
use sha2::{Digest, Sha256};
use simin_identity::jose::{b64url_decode, b64url_encode};
use zeroize::Zeroize;

use crate::store::constant_time_eq_bytes;

const EXPIRY_BYTES: usize = 8;
const RANDOM_BYTES: usize = 16;
const MAC_BYTES: usize = 16;
const NONCE_BYTES: usize = EXPIRY_BYTES + RANDOM_BYTES + MAC_BYTES;
/// SHA-256's block size, for HMAC.
const BLOCK_BYTES: usize = 64;

/// HMAC-SHA-256 (RFC 2104) with a 32-byte key.
fn hmac_sha256(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut inner_pad = [0x36u8; BLOCK_BYTES];
    let mut outer_pad = [0x5cu8; BLOCK_BYTES];
    for (i, byte) in key.iter().enumerate() {
        inner_pad[i] ^= byte;
        outer_pad[i] ^= byte;
    }
    let inner = Sha256::new()
        .chain_update(inner_pad)
        .chain_update(message)
        .finalize();
    let mac = Sha256::new()
        .chain_update(outer_pad)
        .chain_update(inner)
        .finalize()
        .into();
    inner_pad.zeroize();
    outer_pad.zeroize();
    mac
}

/// The key that makes and checks `c_nonce`s.
pub(crate) struct NonceKey([u8; 32]);

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceKey(<redacted>)")
    }
}

impl Drop for NonceKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl NonceKey {
    /// The nonce key of a service, derived from its credential-signing key's seed, so that
    /// nonces survive a restart without another secret to keep.
    pub fn derive(signing_seed: &[u8; 32]) -> NonceKey {
        NonceKey(hmac_sha256(signing_seed, b"simin-issuer c_nonce key v1"))
    }

    /// A nonce valid until `expires_at` (Unix seconds).
    pub fn issue(&self, expires_at: u64, rng: &mut dyn RngCore) -> String {
        let mut bytes = [0u8; NONCE_BYTES];
        bytes[..EXPIRY_BYTES].copy_from_slice(&expires_at.to_be_bytes());
        rng.fill_bytes(&mut bytes[EXPIRY_BYTES..EXPIRY_BYTES + RANDOM_BYTES]);
        let mac = hmac_sha256(&self.0, &bytes[..EXPIRY_BYTES + RANDOM_BYTES]);
        bytes[EXPIRY_BYTES + RANDOM_BYTES..].copy_from_slice(&mac[..MAC_BYTES]);
        b64url_encode(&bytes)
    }

    /// The expiry of a nonce this key made, if it has not passed at `now`.
    pub fn check(&self, nonce: &str, now: u64) -> Option<u64> {
        let bytes = b64url_decode(nonce, "c_nonce").ok()?;
        if bytes.len() != NONCE_BYTES {
            return None;
        }
        let (body, mac) = bytes.split_at(EXPIRY_BYTES + RANDOM_BYTES);
        let expected = hmac_sha256(&self.0, body);
        if !constant_time_eq_bytes(mac, &expected[..MAC_BYTES]) {
            return None;
        }
        let mut expiry = [0u8; EXPIRY_BYTES];
        expiry.copy_from_slice(&body[..EXPIRY_BYTES]);
        let expires_at = u64::from_be_bytes(expiry);
        (expires_at > now).then_some(expires_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_test_case_2_shape() {
        // RFC 4231 case 2 uses a 4-byte key; a 32-byte key padded with zeros is the same
        // HMAC key (keys shorter than the block are zero-padded).
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        assert_eq!(
            hex::encode(hmac_sha256(&key, b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn nonces_check_until_they_expire_and_only_under_their_key() {
        let key = NonceKey::derive(&[1; 32]);
        let nonce = key.issue(1000, &mut rand::rngs::OsRng);
        assert_eq!(key.check(&nonce, 999), Some(1000));
        assert_eq!(key.check(&nonce, 1000), None);
        assert_eq!(NonceKey::derive(&[2; 32]).check(&nonce, 999), None);
        // Any changed byte is refused, the expiry above all.
        let mut bytes = b64url_decode(&nonce, "test").expect("base64url");
        bytes[0] ^= 1;
        assert_eq!(key.check(&b64url_encode(&bytes), 999), None);
        assert_eq!(key.check("short", 0), None);
        assert_ne!(nonce, key.issue(1000, &mut rand::rngs::OsRng));
    }
}

//! The holder identity: the wallet's Ed25519 key as a `did:jwk`, its public JWK and a
//! JWS signer for key proofs and Key Binding JWTs.
//!
//! A citizen never gets a `did:simin` (those name organisations); the holder is the
//! `did:jwk` of the key the wallet drew at creation, which never leaves the wallet and
//! is never written on chain.

use std::fmt;

use ed25519_dalek::SigningKey;
use simin_identity::jose::{did_jwk, Jwk, JwsSigner};

use crate::store::WalletStore;

/// The holder: a signer over the wallet's key, with its public JWK and `did:jwk`.
///
/// `Debug` shows the DID only; the secret key is never printed.
#[derive(Clone)]
pub struct Holder {
    signer: JwsSigner,
    jwk: Jwk,
    did: String,
}

impl Holder {
    /// The holder of `key`.
    pub fn new(key: &SigningKey) -> Self {
        let signer = JwsSigner::Ed25519(key.clone());
        let jwk = signer.public_jwk();
        let did = did_jwk(&jwk);
        Self { signer, jwk, did }
    }

    /// The holder of an unlocked wallet.
    pub fn from_store(store: &WalletStore) -> Self {
        Self::new(store.holder_key())
    }

    /// The holder's `did:jwk` DID.
    pub fn did(&self) -> &str {
        &self.did
    }

    /// The DID URL of the holder key (`<did>#0`, the one verification method of a
    /// `did:jwk` document).
    pub fn key_id(&self) -> String {
        format!("{}#0", self.did)
    }

    /// The holder's public key as a JWK (what credentials name in `cnf.jwk`).
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The signer of key proofs and Key Binding JWTs (`EdDSA`).
    pub fn signer(&self) -> &JwsSigner {
        &self.signer
    }
}

impl fmt::Debug for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Holder").field("did", &self.did).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use simin_identity::jose::{resolve_did_jwk, sign_compact_json, verify_compact, JsonObject};

    #[test]
    fn the_did_resolves_to_the_key_that_signs() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let holder = Holder::new(&key);
        assert!(holder.did().starts_with("did:jwk:"));
        assert_eq!(holder.key_id(), format!("{}#0", holder.did()));
        let resolved = resolve_did_jwk(holder.did()).expect("a did:jwk resolves");
        assert_eq!(&resolved, holder.jwk());
        assert_eq!(resolved, Jwk::Ed25519(key.verifying_key()));

        let jws = sign_compact_json(&JsonObject::new(), &JsonObject::new(), holder.signer());
        verify_compact(&jws, &resolved).expect("the holder's signature verifies");
        assert!(!format!("{holder:?}").contains(&hex::encode(key.to_bytes())));
    }
}

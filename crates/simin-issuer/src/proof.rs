//! The key proof of a credential request (OpenID4VCI 1.0, appendix F.1): a JWT of type
//! `openid4vci-proof+jwt` signed by the key the credential will be bound to.
//!
//! A pure check: the caller supplies the time and then spends the returned nonce.

use serde_json::Value;
use simin_identity::jose::{
    decode_compact_unverified, resolve_did_jwk, verify_compact, Algorithm, Jwk, DID_JWK_PREFIX,
};

/// The `typ` of a key proof JWT.
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";
/// The longest proof JWT accepted, in bytes.
pub const PROOF_BYTES_MAX: usize = 8 * 1024;
/// The longest `c_nonce` accepted, in bytes.
const NONCE_BYTES_MAX: usize = 256;

/// What a proof must satisfy.
#[derive(Clone, Copy, Debug)]
pub struct ProofCheck<'a> {
    /// The Credential Issuer Identifier, which the proof's `aud` must be.
    pub audience: &'a str,
    /// The issuer's time, Unix seconds.
    pub now: u64,
    /// How old the proof's `iat` may be.
    pub max_age_secs: u64,
    /// Tolerated clock difference with the wallet.
    pub clock_skew_secs: u64,
}

/// A proof that checked out: the key to bind and the nonce to spend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedProof {
    pub holder_key: Jwk,
    pub nonce: String,
}

/// Why a proof was refused; [`ProofError::MissingNonce`] is an `invalid_nonce`, every
/// other variant an `invalid_proof`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the proof is longer than {PROOF_BYTES_MAX} bytes")]
    TooLarge,
    #[error("the proof is not a JWT: {0}")]
    Malformed(String),
    #[error("typ is {0:?}, expected \"openid4vci-proof+jwt\"")]
    WrongType(Option<String>),
    #[error("alg {0:?} is not EdDSA or ES256")]
    UnsupportedAlg(String),
    #[error("the proof names its key with both jwk and kid")]
    TwoKeys,
    #[error("the proof names no key: use the jwk header or a did:jwk kid")]
    NoKey,
    #[error("the proof's key is not usable: {0}")]
    BadKey(String),
    #[error("the proof's signature does not verify: {0}")]
    BadSignature(String),
    #[error("aud {0} is not this credential issuer")]
    WrongAudience(String),
    #[error("iat is missing or not an integer")]
    MissingIat,
    #[error("iat {iat} is outside the accepted window around {now}")]
    Stale { iat: u64, now: u64 },
    #[error("the proof carries no c_nonce")]
    MissingNonce,
}

/// Checks a key proof JWT and returns the holder key and its nonce (not yet spent).
pub fn check_proof_jwt(jwt: &str, check: &ProofCheck<'_>) -> Result<CheckedProof, ProofError> {
    if jwt.len() > PROOF_BYTES_MAX {
        return Err(ProofError::TooLarge);
    }
    let (header, _) =
        decode_compact_unverified(jwt).map_err(|e| ProofError::Malformed(e.to_string()))?;
    let typ = header.get("typ").and_then(Value::as_str);
    if typ != Some(PROOF_TYP) {
        return Err(ProofError::WrongType(typ.map(str::to_owned)));
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match Algorithm::parse(alg) {
        Ok(Algorithm::EdDsa | Algorithm::Es256) => {}
        _ => return Err(ProofError::UnsupportedAlg(alg.to_owned())),
    }
    let holder_key = match (header.get("jwk"), header.get("kid")) {
        (Some(_), Some(_)) => return Err(ProofError::TwoKeys),
        (Some(jwk), None) => Jwk::from_json(jwk).map_err(|e| ProofError::BadKey(e.to_string()))?,
        (None, Some(Value::String(kid))) if kid.starts_with(DID_JWK_PREFIX) => {
            resolve_did_jwk(kid).map_err(|e| ProofError::BadKey(e.to_string()))?
        }
        (None, Some(_)) => {
            return Err(ProofError::BadKey(
                "kid must be a did:jwk DID URL; other key ids are not resolved".into(),
            ))
        }
        (None, None) => return Err(ProofError::NoKey),
    };
    let (_, payload) =
        verify_compact(jwt, &holder_key).map_err(|e| ProofError::BadSignature(e.to_string()))?;
    let aud_ok = match payload.get("aud") {
        Some(Value::String(aud)) => aud == check.audience,
        // A one-element array is the same audience in JWT (RFC 7519 section 4.1.3).
        Some(Value::Array(auds)) => auds.len() == 1 && auds[0] == check.audience,
        _ => false,
    };
    if !aud_ok {
        let shown = payload
            .get("aud")
            .map(Value::to_string)
            .unwrap_or_else(|| "(none)".into());
        return Err(ProofError::WrongAudience(shown.chars().take(200).collect()));
    }
    let iat = payload
        .get("iat")
        .and_then(Value::as_u64)
        .ok_or(ProofError::MissingIat)?;
    let oldest = check
        .now
        .saturating_sub(check.max_age_secs.saturating_add(check.clock_skew_secs));
    let newest = check.now.saturating_add(check.clock_skew_secs);
    if iat < oldest || iat > newest {
        return Err(ProofError::Stale {
            iat,
            now: check.now,
        });
    }
    let nonce = payload
        .get("nonce")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty() && n.len() <= NONCE_BYTES_MAX)
        .ok_or(ProofError::MissingNonce)?;
    Ok(CheckedProof {
        holder_key,
        nonce: nonce.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map};
    use simin_identity::jose::{did_jwk, sign_compact_json, JwsSigner};

    use super::*;

    const NOW: u64 = 1_800_000_000;
    const AUD: &str = "https://issuer.example";

    fn holder() -> JwsSigner {
        JwsSigner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[3; 32]))
    }

    fn proof(signer: &JwsSigner, header: Value, payload: Value) -> String {
        let header: Map<String, Value> = header.as_object().expect("object").clone();
        let payload: Map<String, Value> = payload.as_object().expect("object").clone();
        sign_compact_json(&header, &payload, signer)
    }

    fn good_header(signer: &JwsSigner) -> Value {
        json!({"typ": PROOF_TYP, "jwk": signer.public_jwk().to_json()})
    }

    fn good_payload() -> Value {
        json!({"aud": AUD, "iat": NOW, "nonce": "n-1"})
    }

    fn check() -> ProofCheck<'static> {
        ProofCheck {
            audience: AUD,
            now: NOW,
            max_age_secs: 300,
            clock_skew_secs: 60,
        }
    }

    #[test]
    fn a_good_proof_gives_the_key_and_nonce() {
        let signer = holder();
        let checked = check_proof_jwt(
            &proof(&signer, good_header(&signer), good_payload()),
            &check(),
        )
        .expect("valid");
        assert_eq!(checked.holder_key, signer.public_jwk());
        assert_eq!(checked.nonce, "n-1");
        // By did:jwk, and with ES256.
        let p256 = JwsSigner::Es256(p256::ecdsa::SigningKey::from_slice(&[5; 32]).expect("a key"));
        let kid = format!("{}#0", did_jwk(&p256.public_jwk()));
        let checked = check_proof_jwt(
            &proof(&p256, json!({"typ": PROOF_TYP, "kid": kid}), good_payload()),
            &check(),
        )
        .expect("valid");
        assert_eq!(checked.holder_key, p256.public_jwk());
    }

    #[test]
    fn bad_proofs_are_refused() {
        let signer = holder();
        let other = JwsSigner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[4; 32]));
        let run = |header: Value, payload: Value| {
            check_proof_jwt(&proof(&signer, header, payload), &check())
        };
        // Signed by another key than the one named.
        assert!(matches!(
            check_proof_jwt(
                &proof(&other, good_header(&signer), good_payload()),
                &check()
            ),
            Err(ProofError::BadSignature(_))
        ));
        assert!(matches!(
            run(
                json!({"typ": "JWT", "jwk": signer.public_jwk().to_json()}),
                good_payload()
            ),
            Err(ProofError::WrongType(_))
        ));
        assert_eq!(
            run(json!({"typ": PROOF_TYP}), good_payload()),
            Err(ProofError::NoKey)
        );
        assert!(matches!(
            run(
                json!({"typ": PROOF_TYP, "kid": "did:simin:x#key-1"}),
                good_payload()
            ),
            Err(ProofError::BadKey(_))
        ));
        let mut both = good_header(&signer);
        both["kid"] = json!(did_jwk(&signer.public_jwk()));
        assert_eq!(run(both, good_payload()), Err(ProofError::TwoKeys));
        assert!(matches!(
            run(
                good_header(&signer),
                json!({"aud": "https://evil.example", "iat": NOW, "nonce": "n"})
            ),
            Err(ProofError::WrongAudience(_))
        ));
        assert!(matches!(
            run(
                good_header(&signer),
                json!({"aud": AUD, "iat": NOW - 1000, "nonce": "n"})
            ),
            Err(ProofError::Stale { .. })
        ));
        assert!(matches!(
            run(
                good_header(&signer),
                json!({"aud": AUD, "iat": NOW + 1000, "nonce": "n"})
            ),
            Err(ProofError::Stale { .. })
        ));
        assert_eq!(
            run(good_header(&signer), json!({"aud": AUD, "nonce": "n"})),
            Err(ProofError::MissingIat)
        );
        assert_eq!(
            run(good_header(&signer), json!({"aud": AUD, "iat": NOW})),
            Err(ProofError::MissingNonce)
        );
        let mut private = good_header(&signer);
        private["jwk"]["d"] = json!("AAAA");
        assert!(matches!(
            run(private, good_payload()),
            Err(ProofError::BadKey(_))
        ));
        assert!(matches!(
            check_proof_jwt("a.b", &check()),
            Err(ProofError::Malformed(_))
        ));
        assert_eq!(
            check_proof_jwt(&"a".repeat(PROOF_BYTES_MAX + 1), &check()),
            Err(ProofError::TooLarge)
        );
    }
}

//! The verifier (RFC 9901 sections 7.1 and 7.3, and section 8 for the JSON serialization).

use serde_json::{Map, Value};

use super::json_serialization::json_parts;
use super::process::process;
use super::{ClaimPath, Disclosure, SdJwt, SdJwtError, MAX_SD_JWT_LEN, TYP_KB_JWT};
use crate::jose::{b64url_sha256, verify_compact, verify_parts, JoseError, JsonObject, Jwk};

/// The nonce and audience a Key Binding JWT must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedKeyBinding {
    /// The nonce the verifier handed out.
    pub nonce: String,
    /// The verifier's identifier.
    pub audience: String,
}

/// How to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The verifier's time, Unix seconds.
    pub now: i64,
    /// Tolerance for `exp`, `nbf`, `iat` and the Key Binding JWT's `iat`, in seconds.
    pub clock_skew_secs: u64,
    /// Refuse a presentation without a Key Binding JWT. A policy of the verifier, never
    /// inferred from the presentation (RFC 9901 section 7.3).
    pub require_key_binding: bool,
    /// What a Key Binding JWT must carry. When `Some`, a presented Key Binding JWT is
    /// checked in full; when `None`, the verifier expects a plain SD-JWT and refuses one
    /// with a Key Binding JWT (RFC 9901 section 4: its last part must be empty).
    pub expected_key_binding: Option<ExpectedKeyBinding>,
    /// How old a Key Binding JWT may be, in seconds.
    pub key_binding_max_age_secs: u64,
    /// The issuer-signed JWT's required `typ`, e.g. [`super::TYP_SD_JWT_VC`].
    pub expected_typ: Option<String>,
}

impl VerifyOptions {
    /// Options at `now`: 60 s of clock skew, Key Binding JWTs up to 5 minutes old, key
    /// binding not required, any `typ`.
    pub fn new(now: i64) -> Self {
        VerifyOptions {
            now,
            clock_skew_secs: 60,
            require_key_binding: false,
            expected_key_binding: None,
            key_binding_max_age_secs: 300,
            expected_typ: None,
        }
    }

    /// Requires a Key Binding JWT with this nonce and audience.
    pub fn with_key_binding(mut self, nonce: &str, audience: &str) -> Self {
        self.require_key_binding = true;
        self.expected_key_binding = Some(ExpectedKeyBinding {
            nonce: nonce.to_owned(),
            audience: audience.to_owned(),
        });
        self
    }
}

/// The checked claims of a Key Binding JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBindingClaims {
    /// When the holder signed it.
    pub iat: i64,
    /// The nonce (equal to the expected one).
    pub nonce: String,
    /// The audience (equal to the expected one).
    pub audience: String,
    /// The holder's key (`cnf.jwk`) the Key Binding JWT verified with.
    pub holder_key: Jwk,
}

/// A verified presentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The issuer-signed JWT's protected header.
    pub header: Map<String, Value>,
    /// The processed payload: disclosed claims in place, undisclosed ones and `_sd`,
    /// `...` and `_sd_alg` gone; `iss`, `iat`, `exp`, `cnf` and other plain claims kept.
    pub claims: Value,
    /// The path of every disclosed claim in `claims`.
    pub disclosed_paths: Vec<ClaimPath>,
    /// The Key Binding JWT's claims, when one was checked.
    pub key_binding: Option<KeyBindingClaims>,
}

/// A presentation split into its parts, whatever its serialization.
pub(super) struct Parts {
    /// The issuer-signed JWS: (protected, payload, signature), one per JSON signature.
    pub signatures: Vec<(String, String, String)>,
    /// The encoded disclosures.
    pub disclosures: Vec<String>,
    /// The Key Binding JWT, if any.
    pub key_binding_jwt: Option<String>,
    /// `<JWT>~<D1>~...~<Dn>~` as RFC 9901 defines it for this serialization.
    pub sd_hash_input: String,
}

/// Verifies an SD-JWT or SD-JWT+KB (compact, or JWS JSON serialization) issued with
/// `issuer_key`.
pub fn verify(
    presentation: &str,
    issuer_key: &Jwk,
    options: &VerifyOptions,
) -> Result<Verified, SdJwtError> {
    if options.require_key_binding && options.expected_key_binding.is_none() {
        return Err(SdJwtError::InvalidOptions(
            "key binding is required but no nonce and audience are expected",
        ));
    }
    if presentation.len() > MAX_SD_JWT_LEN {
        return Err(SdJwtError::TooLarge {
            len: presentation.len(),
            max: MAX_SD_JWT_LEN,
        });
    }
    let parts = if presentation.trim_start().starts_with('{') {
        json_parts(presentation)?
    } else {
        compact_parts(presentation)?
    };
    let (header, payload) = verify_issuer_signature(&parts, issuer_key)?;
    if let Some(expected) = &options.expected_typ {
        let got = header.get("typ").and_then(Value::as_str);
        if got != Some(expected.as_str()) {
            return Err(SdJwtError::WrongType {
                got: got.map(str::to_owned),
                expected: expected.clone(),
            });
        }
    }
    let disclosures = parts
        .disclosures
        .iter()
        .map(|d| Disclosure::parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    let processed = process(&payload, &disclosures)?;
    check_times(&processed.claims, options)?;
    let key_binding = match (&parts.key_binding_jwt, &options.expected_key_binding) {
        (None, _) if options.require_key_binding => return Err(SdJwtError::KeyBindingMissing),
        (None, _) => None,
        (Some(kb_jwt), Some(expected)) => Some(verify_key_binding(
            kb_jwt,
            &parts.sd_hash_input,
            &processed.claims,
            expected,
            options,
        )?),
        (Some(_), None) => return Err(SdJwtError::UnexpectedKeyBinding),
    };
    Ok(Verified {
        header,
        claims: Value::Object(processed.claims),
        disclosed_paths: processed
            .disclosed
            .into_iter()
            .map(|(path, _)| path)
            .collect(),
        key_binding,
    })
}

fn compact_parts(presentation: &str) -> Result<Parts, SdJwtError> {
    let sd_jwt = SdJwt::parse(presentation)?;
    let mut jws = sd_jwt.issuer_jwt.split('.');
    let (Some(protected), Some(payload), Some(signature), None) =
        (jws.next(), jws.next(), jws.next(), jws.next())
    else {
        return Err(SdJwtError::IssuerJwt(JoseError::Malformed(
            "a compact JWS has exactly three parts",
        )));
    };
    Ok(Parts {
        signatures: vec![(
            protected.to_owned(),
            payload.to_owned(),
            signature.to_owned(),
        )],
        sd_hash_input: sd_jwt.sd_hash_input(),
        disclosures: sd_jwt.disclosures,
        key_binding_jwt: sd_jwt.key_binding_jwt,
    })
}

/// Verifies the issuer's signature (any one of a general serialization's) and returns
/// the protected header of the one that verified, and the payload.
fn verify_issuer_signature(
    parts: &Parts,
    issuer_key: &Jwk,
) -> Result<(JsonObject, JsonObject), SdJwtError> {
    let mut last_error = JoseError::BadSignature;
    for (protected, payload, signature) in &parts.signatures {
        match verify_parts(protected, payload, signature, issuer_key) {
            Ok(verified) => return Ok(verified),
            Err(error) => last_error = error,
        }
    }
    Err(match last_error {
        JoseError::BadSignature => SdJwtError::BadIssuerSignature,
        other => SdJwtError::IssuerJwt(other),
    })
}

/// An integer NumericDate claim, if present.
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<i64>, SdJwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_i64()
            .map(Some)
            .ok_or(SdJwtError::BadTimeClaim { name }),
    }
}

fn check_times(claims: &Map<String, Value>, options: &VerifyOptions) -> Result<(), SdJwtError> {
    let now = i128::from(options.now);
    let skew = i128::from(options.clock_skew_secs);
    if let Some(exp) = numeric_date(claims, "exp")? {
        if now - skew >= i128::from(exp) {
            return Err(SdJwtError::Expired {
                exp,
                now: options.now,
            });
        }
    }
    if let Some(nbf) = numeric_date(claims, "nbf")? {
        if now + skew < i128::from(nbf) {
            return Err(SdJwtError::NotYetValid {
                nbf,
                now: options.now,
            });
        }
    }
    if let Some(iat) = numeric_date(claims, "iat")? {
        if i128::from(iat) > now + skew {
            return Err(SdJwtError::IssuedInFuture {
                iat,
                now: options.now,
            });
        }
    }
    Ok(())
}

fn verify_key_binding(
    kb_jwt: &str,
    sd_hash_input: &str,
    claims: &Map<String, Value>,
    expected: &ExpectedKeyBinding,
    options: &VerifyOptions,
) -> Result<KeyBindingClaims, SdJwtError> {
    let holder_key = claims
        .get("cnf")
        .and_then(|cnf| cnf.get("jwk"))
        .and_then(|jwk| Jwk::from_json(jwk).ok())
        .ok_or(SdJwtError::HolderKeyMissing)?;
    let (header, payload) = verify_compact(kb_jwt, &holder_key).map_err(|error| match error {
        JoseError::BadSignature => SdJwtError::BadKeyBindingSignature,
        other => SdJwtError::KeyBindingJwt(other),
    })?;
    let typ = header.get("typ").and_then(Value::as_str);
    if typ != Some(TYP_KB_JWT) {
        return Err(SdJwtError::KeyBindingWrongType {
            got: typ.map(str::to_owned),
        });
    }
    let iat = payload
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or(SdJwtError::KeyBindingMalformed(
            "iat is missing or not an integer",
        ))?;
    let now = i128::from(options.now);
    let skew = i128::from(options.clock_skew_secs);
    let oldest = now - i128::from(options.key_binding_max_age_secs) - skew;
    if !(oldest..=now + skew).contains(&i128::from(iat)) {
        return Err(SdJwtError::KeyBindingIatOutOfWindow {
            iat,
            now: options.now,
        });
    }
    let text = |name: &str, what: &'static str| -> Result<String, SdJwtError> {
        payload
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(SdJwtError::KeyBindingMalformed(what))
    };
    let nonce = text("nonce", "nonce is missing or not a string")?;
    if nonce != expected.nonce {
        return Err(SdJwtError::WrongNonce { got: nonce });
    }
    let audience = text("aud", "aud is missing or not a single string")?;
    if audience != expected.audience {
        return Err(SdJwtError::WrongAudience { got: audience });
    }
    let sd_hash = text("sd_hash", "sd_hash is missing or not a string")?;
    if sd_hash != b64url_sha256(sd_hash_input.as_bytes()) {
        return Err(SdJwtError::SdHashMismatch);
    }
    Ok(KeyBindingClaims {
        iat,
        nonce,
        audience,
        holder_key,
    })
}

//! Presenting a stored SD-JWT VC: reading its claims from its disclosures, and building a
//! presentation that discloses a chosen subset with a Key Binding JWT for one verifier.
//!
//! The holder chooses claims by name: a top-level claim (`birthdate`), a nested one
//! (`address.locality`) or an array element (`nationalities[1]`), as
//! [`DisclosableClaim::name`] writes them. Time is passed in (`issued_at`), so a
//! presentation is a pure function of the credential, the key and the request.

use serde_json::{Map, Value};
use simin_identity::jose::decode_compact_unverified;
use simin_identity::sd_jwt::{
    self, ClaimPath, KeyBindingRequest, PathElement, SdJwt, SdJwtError, TYP_SD_JWT_VC,
};

use crate::holder::Holder;
use crate::store::CredentialRecord;

/// The longest verifier nonce accepted, in bytes.
pub const NONCE_BYTES_MAX: usize = 1024;
/// The longest verifier audience accepted, in bytes.
pub const AUDIENCE_BYTES_MAX: usize = 2048;

/// Claims of the issuer-signed payload that are about the credential, not its subject
/// (the reserved claims of the simin card profile).
const CREDENTIAL_CLAIMS: [&str; 11] = [
    "iss",
    "vct",
    "vct#integrity",
    "iat",
    "exp",
    "nbf",
    "cnf",
    "status",
    "sub",
    "_sd",
    "_sd_alg",
];

/// Why a credential could not be read or presented.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PresentError {
    /// The stored credential is not an SD-JWT VC.
    #[error("a {format:?} credential cannot be presented; only {TYP_SD_JWT_VC} credentials can")]
    UnsupportedFormat {
        /// The record's format.
        format: String,
    },
    /// The stored credential does not parse as an SD-JWT.
    #[error("the stored credential is malformed: {0}")]
    Malformed(SdJwtError),
    /// A claim to disclose is not in the credential.
    #[error("the credential has no claim {name:?} (its claims: {})", available.join(", "))]
    UnknownClaim {
        /// The name asked for.
        name: String,
        /// The names it has.
        available: Vec<String>,
    },
    /// The verifier's nonce or audience is unusable.
    #[error("invalid presentation request: {reason}")]
    InvalidRequest {
        /// What is wrong.
        reason: &'static str,
    },
    /// The Key Binding JWT could not be made (the credential is bound to another key).
    #[error("cannot sign the presentation: {0}")]
    KeyBinding(SdJwtError),
}

/// A selectively disclosable claim of a credential and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct DisclosableClaim {
    /// Where the claim is.
    pub path: ClaimPath,
    /// Its value, as disclosed (digests of nested disclosable claims left out: those are
    /// listed as claims of their own).
    pub value: Value,
}

impl DisclosableClaim {
    /// The claim's name: its path with `.` between members and `[i]` for array elements.
    pub fn name(&self) -> String {
        claim_name(&self.path)
    }
}

/// What a holder sees of a stored SD-JWT VC.
#[derive(Clone, Debug, PartialEq)]
pub struct CredentialView {
    /// `iss`.
    pub issuer: Option<String>,
    /// `vct`.
    pub vct: Option<String>,
    /// `iat`.
    pub issued_at: Option<i64>,
    /// `exp`.
    pub expires_at: Option<i64>,
    /// Subject claims the issuer made always visible (not selectively disclosable).
    pub plain_claims: Map<String, Value>,
    /// The selectively disclosable claims, in the credential's order.
    pub claims: Vec<DisclosableClaim>,
}

/// Reads a stored SD-JWT VC: its credential claims, its plain subject claims and its
/// disclosable claims. The issuer's signature is not checked (it was when received).
pub fn read_credential(credential: &str) -> Result<CredentialView, PresentError> {
    read(credential).map(|(view, _)| view)
}

/// The view of a credential and the names of every member of its signed payload that
/// a verifier always sees.
fn read(credential: &str) -> Result<(CredentialView, Vec<String>), PresentError> {
    let claims = disclosable_claims(credential)?;
    let parsed = SdJwt::parse(credential).map_err(PresentError::Malformed)?;
    let (_, payload) = decode_compact_unverified(&parsed.issuer_jwt)
        .map_err(|err| PresentError::Malformed(SdJwtError::IssuerJwt(err)))?;
    let text = |name: &str| payload.get(name).and_then(Value::as_str).map(str::to_owned);
    let number = |name: &str| payload.get(name).and_then(Value::as_i64);
    let plain_claims = payload
        .iter()
        .filter(|(name, _)| !CREDENTIAL_CLAIMS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), without_digests(value)))
        .collect();
    let visible = payload
        .keys()
        .filter(|name| !matches!(name.as_str(), "_sd" | "_sd_alg"))
        .cloned()
        .collect();
    let view = CredentialView {
        issuer: text("iss"),
        vct: text("vct"),
        issued_at: number("iat"),
        expires_at: number("exp"),
        plain_claims,
        claims,
    };
    Ok((view, visible))
}

/// The selectively disclosable claims of an SD-JWT, from its disclosures.
pub fn disclosable_claims(credential: &str) -> Result<Vec<DisclosableClaim>, PresentError> {
    let disclosures = sd_jwt::list_disclosures(credential).map_err(PresentError::Malformed)?;
    Ok(disclosures
        .into_iter()
        .map(|d| DisclosableClaim {
            value: without_digests(d.disclosure.value()),
            path: d.path,
        })
        .collect())
}

/// What a verifier asked for and what the holder chose to disclose.
#[derive(Clone, Copy, Debug)]
pub struct PresentationRequest<'a> {
    /// The claims to disclose, by [`DisclosableClaim::name`]. A claim of the signed
    /// payload (`vct`, `iss`, a plain subject claim) may be named too: a verifier always
    /// sees it, so naming it changes nothing.
    pub disclose: &'a [String],
    /// The verifier's nonce (the Key Binding JWT's `nonce`).
    pub nonce: &'a str,
    /// The verifier's identifier (the Key Binding JWT's `aud`).
    pub audience: &'a str,
    /// The signing time (`iat`), Unix seconds.
    pub issued_at: i64,
}

/// Builds `<issuer-jwt>~<chosen disclosures>~<kb-jwt>` from a stored credential.
///
/// Disclosing a claim discloses what is beneath it and the disclosures of its parents.
/// A name the credential does not have is refused ([`PresentError::UnknownClaim`]),
/// so a typo never silently presents less than the holder meant.
pub fn present(
    record: &CredentialRecord,
    holder: &Holder,
    request: &PresentationRequest<'_>,
) -> Result<String, PresentError> {
    if record.format != TYP_SD_JWT_VC {
        return Err(PresentError::UnsupportedFormat {
            format: record.format.clone(),
        });
    }
    check_request(request)?;
    let (view, visible) = read(&record.credential)?;
    let mut selection: Vec<ClaimPath> = Vec::new();
    for name in request.disclose {
        if let Some(claim) = view.claims.iter().find(|c| c.name() == *name) {
            if !selection.contains(&claim.path) {
                selection.push(claim.path.clone());
            }
        } else if !visible.contains(name) {
            return Err(PresentError::UnknownClaim {
                name: name.clone(),
                available: view
                    .claims
                    .iter()
                    .map(DisclosableClaim::name)
                    .chain(view.plain_claims.keys().cloned())
                    .collect(),
            });
        }
    }
    let key_binding = KeyBindingRequest {
        signer: holder.signer(),
        audience: request.audience,
        nonce: request.nonce,
        issued_at: request.issued_at,
    };
    sd_jwt::present(&record.credential, &selection, Some(&key_binding)).map_err(|err| match err {
        SdJwtError::HolderKeyMissing | SdJwtError::HolderKeyMismatch => {
            PresentError::KeyBinding(err)
        }
        other => PresentError::Malformed(other),
    })
}

fn check_request(request: &PresentationRequest<'_>) -> Result<(), PresentError> {
    let invalid = |reason| Err(PresentError::InvalidRequest { reason });
    if request.nonce.is_empty() || request.nonce.len() > NONCE_BYTES_MAX {
        return invalid("the nonce must be 1 to 1024 bytes");
    }
    if request.audience.is_empty() || request.audience.len() > AUDIENCE_BYTES_MAX {
        return invalid("the audience must be 1 to 2048 bytes");
    }
    Ok(())
}

/// `path` as `a.b[1].c`.
fn claim_name(path: &[PathElement]) -> String {
    let mut name = String::new();
    for element in path {
        match element {
            PathElement::Name(member) => {
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(member);
            }
            PathElement::Index(index) => name.push_str(&format!("[{index}]")),
        }
    }
    name
}

/// A disclosed value without the digests of its undisclosed parts: `_sd` members and
/// `{"...": digest}` array elements removed, at every depth.
fn without_digests(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(name, _)| name.as_str() != "_sd")
                .map(|(name, value)| (name.clone(), without_digests(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .filter(|item| {
                    !item
                        .as_object()
                        .is_some_and(|o| o.len() == 1 && o.contains_key("..."))
                })
                .map(without_digests)
                .collect(),
        ),
        scalar => scalar.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claim_names_read_like_paths() {
        let path: ClaimPath = vec!["address".into(), "locality".into()];
        assert_eq!(claim_name(&path), "address.locality");
        let path: ClaimPath = vec!["nationalities".into(), 1usize.into()];
        assert_eq!(claim_name(&path), "nationalities[1]");
    }

    #[test]
    fn digests_are_left_out_of_values() {
        let value = json!({"_sd": ["x"], "street": "Jong-ro", "list": [{"...": "d"}, 1]});
        assert_eq!(
            without_digests(&value),
            json!({"street": "Jong-ro", "list": [1]})
        );
    }
}

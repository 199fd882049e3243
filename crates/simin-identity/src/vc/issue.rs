//! Issuing a W3C credential: checks of the request, then an `eddsa-jcs-2022` proof.

use ed25519_dalek::SigningKey;
use serde_json::Value;
use simin_types::identity::{did_of, organization_of_did};

use super::shape::{clip, holder_did_key, issuer_id, parse_datetime, within_bounds, Shape};
use super::{CONTEXT_V2, JSON_DEPTH_MAX, JSON_NODES_MAX, PURPOSE_ASSERTION};
use crate::card::{self, STATUS_ENTRIES_MAX};
use crate::di::{self, DiError, ProofOptions};
use crate::status_list::{BitstringStatusListEntry, StatusListError};

/// Why a credential could not be issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VcError {
    /// A member of the unsigned credential is missing or malformed.
    #[error("{field}: {reason}")]
    Malformed {
        /// The member's JSON name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The issuer is not a `did:simin` DID, or the credential names another issuer.
    #[error("issuer {0:?} is not this issuer's did:simin DID")]
    InvalidIssuer(String),
    /// `kid` is not `<issuer>#<fragment>`.
    #[error("kid {kid:?} is not a key of the issuer {issuer}")]
    InvalidKid {
        /// The key id.
        kid: String,
        /// The issuer.
        issuer: String,
    },
    /// `validUntil` is missing or not after `validFrom`.
    #[error("validUntil {valid_until:?} must be a dateTimeStamp after validFrom {valid_from}")]
    InvalidValidity {
        /// The `validFrom` given.
        valid_from: String,
        /// The `validUntil` found.
        valid_until: Option<String>,
    },
    /// No status entries, or more than [`STATUS_ENTRIES_MAX`].
    #[error("a credential carries 1 to {STATUS_ENTRIES_MAX} status entries, got {0}")]
    StatusEntryCount(usize),
    /// A status entry points outside the issuer's own status lists.
    #[error("status list {list:?} is not a list of the issuer {issuer}")]
    ForeignStatusList {
        /// The entry's `statusListCredential`.
        list: String,
        /// The issuer.
        issuer: String,
    },
    /// A status entry's index is invalid.
    #[error("status entry: {0}")]
    StatusEntry(#[from] StatusListError),
    /// The credential is nested deeper or holds more values than allowed.
    #[error(
        "the credential is nested deeper than {JSON_DEPTH_MAX} or has over {JSON_NODES_MAX} values"
    )]
    TooLarge,
    /// The proof could not be made.
    #[error("proof: {0}")]
    Proof(#[from] DiError),
}

/// What the issuer puts into a W3C credential.
#[derive(Debug, Clone)]
pub struct IssueVc {
    /// The unsigned credential: `type` (`["VerifiableCredential", "<type>"]`),
    /// `credentialSubject`, `validUntil`, and optionally `id`, `@context` (which must
    /// start with [`CONTEXT_V2`]; absent means `[CONTEXT_V2]`), `issuer` (if present, the
    /// issuer's DID, as a string or an object with `id`), `validFrom` (if present, equal
    /// to [`IssueVc::valid_from`]) and other VC Data Model members. No `proof` and no
    /// `credentialStatus`: the issuer sets those.
    pub credential: Value,
    /// The issuer's DID, `did:simin:<org>`.
    pub issuer: String,
    /// The signing key, `did:simin:<org>#<fragment>`, an `assertionMethod` of the DID.
    pub kid: String,
    /// Issuance time as an XML Schema `dateTimeStamp`: the credential's `validFrom` and
    /// the proof's `created`.
    pub valid_from: String,
    /// One revocation and one suspension entry for simin credentials, each in a list of
    /// the issuer.
    pub status: Vec<BitstringStatusListEntry>,
}

/// Issues a VC Data Model 2.0 credential secured with an `eddsa-jcs-2022` proof.
pub fn issue_vc(request: &IssueVc, key: &SigningKey) -> Result<Value, VcError> {
    let malformed = |field, reason: &str| VcError::Malformed {
        field,
        reason: reason.to_owned(),
    };
    check_issuer(&request.issuer, &request.kid)?;
    let Value::Object(unsigned) = &request.credential else {
        return Err(malformed("credential", "must be a JSON object"));
    };
    if !within_bounds(&request.credential, JSON_DEPTH_MAX, JSON_NODES_MAX) {
        return Err(VcError::TooLarge);
    }
    for field in ["proof", "credentialStatus"] {
        if unsigned.contains_key(field) {
            return Err(malformed(field, "is set by the issuer, not by the request"));
        }
    }
    if let Some(issuer) = unsigned.get("issuer") {
        if issuer_id(issuer) != Some(request.issuer.as_str()) {
            return Err(VcError::InvalidIssuer(clip(&issuer.to_string())));
        }
    }
    let valid_from =
        parse_datetime(&Value::from(request.valid_from.as_str())).map_err(|reason| {
            VcError::Malformed {
                field: "validFrom",
                reason,
            }
        })?;
    if unsigned
        .get("validFrom")
        .is_some_and(|v| v.as_str() != Some(request.valid_from.as_str()))
    {
        return Err(malformed("validFrom", "differs from the issuance time"));
    }
    let valid_until = unsigned.get("validUntil");
    let until_ok = valid_until
        .map(parse_datetime)
        .is_some_and(|until| until.is_ok_and(|until| until > valid_from));
    if !until_ok {
        return Err(VcError::InvalidValidity {
            valid_from: request.valid_from.clone(),
            valid_until: valid_until.map(|v| clip(&v.to_string())),
        });
    }
    check_status_entries(&request.status, &request.issuer)?;

    let mut credential = unsigned.clone();
    credential
        .entry("@context")
        .or_insert_with(|| Value::Array(vec![CONTEXT_V2.into()]));
    credential
        .entry("issuer")
        .or_insert_with(|| request.issuer.as_str().into());
    credential.insert("validFrom".into(), request.valid_from.as_str().into());
    let entries = request
        .status
        .iter()
        .map(|entry| serde_json::to_value(entry).expect("a status entry is plain data"))
        .collect();
    credential.insert("credentialStatus".into(), Value::Array(entries));
    // The issuer checks what the verifier will check, so it never signs a credential
    // that no verifier accepts for its shape.
    let credential = Value::Object(credential);
    let shape = Shape::parse(&credential, false).map_err(|reason| VcError::Malformed {
        field: "credential",
        reason,
    })?;
    if let Some(holder) = shape.subject_id {
        holder_did_key(holder).map_err(|reason| VcError::Malformed {
            field: "credentialSubject.id",
            reason,
        })?;
    }
    let options = ProofOptions {
        verification_method: request.kid.clone(),
        proof_purpose: PURPOSE_ASSERTION.into(),
        created: Some(request.valid_from.clone()),
        ..ProofOptions::default()
    };
    Ok(di::create_proof_jcs(&credential, &options, key)?)
}

fn check_issuer(issuer: &str, kid: &str) -> Result<(), VcError> {
    if organization_of_did(issuer).is_none_or(|org| did_of(&org) != issuer) {
        return Err(VcError::InvalidIssuer(clip(issuer)));
    }
    let fragment = kid
        .strip_prefix(issuer)
        .and_then(|rest| rest.strip_prefix('#'));
    if !fragment.is_some_and(|f| !f.is_empty() && !f.contains(['#', '/', '?'])) {
        return Err(VcError::InvalidKid {
            kid: clip(kid),
            issuer: issuer.to_owned(),
        });
    }
    Ok(())
}

fn check_status_entries(entries: &[BitstringStatusListEntry], issuer: &str) -> Result<(), VcError> {
    if entries.is_empty() || entries.len() > STATUS_ENTRIES_MAX {
        return Err(VcError::StatusEntryCount(entries.len()));
    }
    for entry in entries {
        entry.index()?;
        if !card::is_status_list_of(&entry.status_list_credential, issuer) {
            return Err(VcError::ForeignStatusList {
                list: clip(&entry.status_list_credential),
                issuer: issuer.to_owned(),
            });
        }
    }
    Ok(())
}

//! The simin profile of SD-JWT VC: how a city issuer writes a citizen card credential.
//!
//! An issued card is an SD-JWT ([`crate::sd_jwt`]) with header `typ: dc+sd-jwt`,
//! `alg: EdDSA` and `kid: did:simin:<org>#<fragment>` (a key of the issuer's DID with the
//! `assertionMethod` relationship). Its payload carries, in the clear:
//!
//! - `iss` (the issuer's `did:simin` DID), `iat`, `exp` (Unix seconds) and `vct` (the
//!   credential type, e.g. `CitizenCard`);
//! - `cnf.jwk`, the holder's public key, which key binding proves possession of;
//! - `status: {"bitstring_status_list": [<BitstringStatusListEntry>, ...]}`, W3C entries
//!   (camelCase) whose `statusListCredential` is a DID URL `did:simin:<org>/status/<n>`
//!   under the issuer's own DID; simin cards carry one revocation and one suspension
//!   entry.
//!
//! Every top-level user claim (`name`, `birthdate`, `age_over_19`, ...) is selectively
//! disclosable on its own. The claims of each type are described by a JSON Schema
//! ([`builtin_schema`]); at issuance the schema applies as written, while a verifier sees
//! only what the holder chose to disclose and so checks the schema with its top-level
//! `required` list removed ([`validate_claims`]).
//!
//! Pure like the rest of the crate: times and salts are passed in.

use serde_json::{Map, Value};

use crate::jose::{Algorithm, Jwk, JwsSigner};
use crate::sd_jwt::{self, IssueRequest, JsonStyle, SdJwtError, SdPolicy, TYP_SD_JWT_VC};
use crate::status_list::{BitstringStatusListEntry, StatusListError};

mod compiled_schemas;

/// The payload member that holds the status entries.
pub const STATUS_CLAIM: &str = "status";
/// The member of `status` that holds the Bitstring Status List entries.
pub const BITSTRING_STATUS_LIST: &str = "bitstring_status_list";
/// Payload members the profile sets itself; they are never user claims and never
/// selectively disclosable.
pub const RESERVED_CLAIMS: [&str; 12] = [
    "iss",
    "iat",
    "exp",
    "nbf",
    "vct",
    "vct#integrity",
    "status",
    "cnf",
    "sub",
    "_sd",
    "_sd_alg",
    "...",
];
/// The most user claims a card carries.
pub const CLAIMS_MAX: usize = 64;
/// The most status entries a card carries or a verifier reads.
pub const STATUS_ENTRIES_MAX: usize = 8;
/// The longest credential type name, in bytes.
pub const VCT_BYTES_MAX: usize = 64;
/// The longest JSON Schema accepted, in bytes.
pub const SCHEMA_BYTES_MAX: usize = 64 * 1024;
/// The most schema violations reported at once.
const VIOLATIONS_MAX: usize = 16;

/// The DID method prefix of the issuers of simin cards.
const DID_SIMIN_PREFIX: &str = "did:simin:";

/// The credential types whose schemas ship with simin, in `schemas/`.
pub const BUILTIN_TYPES: [&str; 6] = [
    "CitizenCard",
    "Residency",
    "AgeOver",
    "MultiChildFamily",
    "LibraryMembership",
    "SportsFacilityMembership",
];

/// The JSON Schema (draft 2020-12) of one of the [`BUILTIN_TYPES`].
pub fn builtin_schema(credential_type: &str) -> Option<&'static str> {
    Some(match credential_type {
        "CitizenCard" => include_str!("../schemas/CitizenCard.json"),
        "Residency" => include_str!("../schemas/Residency.json"),
        "AgeOver" => include_str!("../schemas/AgeOver.json"),
        "MultiChildFamily" => include_str!("../schemas/MultiChildFamily.json"),
        "LibraryMembership" => include_str!("../schemas/LibraryMembership.json"),
        "SportsFacilityMembership" => include_str!("../schemas/SportsFacilityMembership.json"),
        _ => return None,
    })
}

/// Why a card could not be issued or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// The credential type is empty or too long.
    #[error("credential type {0:?} is empty or longer than {VCT_BYTES_MAX} bytes")]
    InvalidType(String),
    /// `iss` is not a `did:simin` DID.
    #[error("issuer {0:?} is not a did:simin DID")]
    InvalidIssuer(String),
    /// `kid` is not `<iss>#<fragment>`.
    #[error("kid {kid:?} is not a key of the issuer {iss}")]
    InvalidKid {
        /// The key id.
        kid: String,
        /// The issuer.
        iss: String,
    },
    /// The signer is not an Ed25519 key (did:simin keys are Ed25519).
    #[error("the issuer's signer must be an Ed25519 key (alg EdDSA)")]
    UnsupportedSigner,
    /// `exp` is not after `iat`.
    #[error("exp {exp} is not after iat {iat}")]
    InvalidValidity {
        /// Issued at.
        iat: u64,
        /// Expires at.
        exp: u64,
    },
    /// A user claim uses a name the profile reserves.
    #[error("claim {0:?} is reserved by the SD-JWT VC profile")]
    ReservedClaim(String),
    /// More user claims than [`CLAIMS_MAX`].
    #[error("{count} claims, more than the {max} allowed")]
    TooManyClaims {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// No status entries, or more than [`STATUS_ENTRIES_MAX`].
    #[error("a card carries 1 to {STATUS_ENTRIES_MAX} status entries, got {0}")]
    StatusEntryCount(usize),
    /// A status entry points outside the issuer's own status lists.
    #[error("status list {list:?} is not a list of the issuer {iss} (did:simin:<org>/status/<n>)")]
    ForeignStatusList {
        /// The entry's `statusListCredential`.
        list: String,
        /// The issuer.
        iss: String,
    },
    /// The `status` claim is malformed.
    #[error("malformed status claim: {0}")]
    MalformedStatus(String),
    /// A status entry's index is invalid.
    #[error("status entry: {0}")]
    StatusEntry(#[from] StatusListError),
    /// The JSON Schema itself is unusable.
    #[error("invalid JSON Schema: {0}")]
    InvalidSchema(String),
    /// The claims do not satisfy the schema.
    #[error("the claims do not match the schema: {}", .violations.join("; "))]
    SchemaViolation {
        /// One message per violation (at most 16), each starting with its JSON pointer.
        violations: Vec<String>,
    },
    /// The SD-JWT layer refused.
    #[error(transparent)]
    SdJwt(#[from] SdJwtError),
}

/// What the issuer puts into a card.
#[derive(Debug, Clone)]
pub struct CardIssue {
    /// The credential type (`vct`), e.g. `CitizenCard`.
    pub vct: String,
    /// The issuer's DID, `did:simin:<org>`.
    pub iss: String,
    /// The signing key, `did:simin:<org>#<fragment>` (JOSE header `kid`).
    pub kid: String,
    /// The user claims; each top-level member becomes selectively disclosable.
    pub claims: Map<String, Value>,
    /// The holder's key, bound as `cnf.jwk`.
    pub holder_jwk: Jwk,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// Expires at, Unix seconds; after `iat`.
    pub exp: u64,
    /// Where the card's statuses live (one revocation and one suspension entry for simin
    /// cards), each in a list of the issuer.
    pub status: Vec<BitstringStatusListEntry>,
}

/// Issues a card as an SD-JWT VC, `<issuer-signed JWT>~<disclosure>~...~`.
///
/// `salts` is called once per user claim and must return distinct, unguessable strings
/// (128 random bits, base64url, is the recommended form).
pub fn issue_sd_jwt_vc(
    request: &CardIssue,
    signer: &JwsSigner,
    salts: &mut dyn FnMut() -> String,
) -> Result<String, CardError> {
    check_issue(request, signer)?;
    let mut claims = Map::new();
    claims.insert("iss".to_owned(), Value::from(request.iss.as_str()));
    claims.insert("iat".to_owned(), Value::from(request.iat));
    claims.insert("exp".to_owned(), Value::from(request.exp));
    claims.insert("vct".to_owned(), Value::from(request.vct.as_str()));
    let entries = request
        .status
        .iter()
        .map(|entry| serde_json::to_value(entry).expect("a status entry is plain data"))
        .collect::<Vec<_>>();
    let mut status = Map::new();
    status.insert(BITSTRING_STATUS_LIST.to_owned(), Value::Array(entries));
    claims.insert(STATUS_CLAIM.to_owned(), Value::Object(status));
    let mut policy = SdPolicy::plain();
    for (name, value) in &request.claims {
        claims.insert(name.clone(), value.clone());
        policy = policy.member(name.clone(), SdPolicy::sd());
    }
    let mut header = Map::new();
    header.insert("typ".to_owned(), Value::from(TYP_SD_JWT_VC));
    header.insert("kid".to_owned(), Value::from(request.kid.as_str()));
    let issued = sd_jwt::issue(
        &IssueRequest {
            claims: &claims,
            policy: &policy,
            header: &header,
            holder_key: Some(&request.holder_jwk),
            style: JsonStyle::Compact,
        },
        signer,
        salts,
    )?;
    Ok(issued.sd_jwt)
}

fn check_issue(request: &CardIssue, signer: &JwsSigner) -> Result<(), CardError> {
    if request.vct.is_empty() || request.vct.len() > VCT_BYTES_MAX {
        return Err(CardError::InvalidType(request.vct.clone()));
    }
    if !is_did_simin(&request.iss) {
        return Err(CardError::InvalidIssuer(request.iss.clone()));
    }
    let fragment = request
        .kid
        .strip_prefix(request.iss.as_str())
        .and_then(|rest| rest.strip_prefix('#'));
    if !fragment.is_some_and(|f| !f.is_empty() && !f.contains(['#', '/', '?'])) {
        return Err(CardError::InvalidKid {
            kid: request.kid.clone(),
            iss: request.iss.clone(),
        });
    }
    if signer.alg() != Algorithm::EdDsa {
        return Err(CardError::UnsupportedSigner);
    }
    if request.exp <= request.iat {
        return Err(CardError::InvalidValidity {
            iat: request.iat,
            exp: request.exp,
        });
    }
    if request.claims.len() > CLAIMS_MAX {
        return Err(CardError::TooManyClaims {
            count: request.claims.len(),
            max: CLAIMS_MAX,
        });
    }
    if let Some(name) = request
        .claims
        .keys()
        .find(|name| RESERVED_CLAIMS.contains(&name.as_str()))
    {
        return Err(CardError::ReservedClaim(name.clone()));
    }
    if request.status.is_empty() || request.status.len() > STATUS_ENTRIES_MAX {
        return Err(CardError::StatusEntryCount(request.status.len()));
    }
    for entry in &request.status {
        entry.index()?;
        if !is_status_list_of(&entry.status_list_credential, &request.iss) {
            return Err(CardError::ForeignStatusList {
                list: entry.status_list_credential.clone(),
                iss: request.iss.clone(),
            });
        }
    }
    Ok(())
}

/// Whether `did` is `did:simin:<org>` with a well-formed organisation id and nothing after it.
fn is_did_simin(did: &str) -> bool {
    did.strip_prefix(DID_SIMIN_PREFIX).is_some_and(|org| {
        simin_types::identity::organization_of_did(did).is_some_and(|o| o.as_str() == org)
    })
}

/// Whether `list` is `<iss>/status/<n>` with `n` a decimal `u32` without leading zeros.
pub fn is_status_list_of(list: &str, iss: &str) -> bool {
    list.strip_prefix(iss)
        .and_then(|rest| rest.strip_prefix("/status/"))
        .is_some_and(|n| {
            !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && (n == "0" || !n.starts_with('0'))
                && n.parse::<u32>().is_ok()
        })
}

/// The status entries of a card's payload (the issuer-signed payload or a verifier's
/// processed claims): `status.bitstring_status_list`. A payload without `status` has
/// none; a malformed one, or more than [`STATUS_ENTRIES_MAX`] entries, is an error.
/// Whether the lists belong to the issuer is for the caller to check with
/// [`is_status_list_of`].
pub fn parse_status(payload: &Value) -> Result<Vec<BitstringStatusListEntry>, CardError> {
    let Some(status) = payload.get(STATUS_CLAIM) else {
        return Ok(Vec::new());
    };
    let list = status
        .get(BITSTRING_STATUS_LIST)
        .and_then(Value::as_array)
        .ok_or_else(|| {
            CardError::MalformedStatus("status.bitstring_status_list is not an array".into())
        })?;
    if list.len() > STATUS_ENTRIES_MAX {
        return Err(CardError::StatusEntryCount(list.len()));
    }
    list.iter()
        .map(|entry| {
            let entry: BitstringStatusListEntry = serde_json::from_value(entry.clone())
                .map_err(|e| CardError::MalformedStatus(e.to_string()))?;
            entry.index()?;
            Ok(entry)
        })
        .collect()
}

/// Checks user claims against a credential type's JSON Schema.
///
/// At issuance (`for_issuance`), the schema applies as written and `claims` are the user
/// claims alone. For a verifier, the top-level `required` list is ignored, since the
/// holder may leave any claim undisclosed, and the profile's own members
/// ([`RESERVED_CLAIMS`]: `iss`, `vct`, `cnf`, `status`, ...) are set aside before checking,
/// so a verifier can pass the processed claims as they are. Nested objects are disclosed
/// whole in this profile, so their `required` lists still apply.
///
/// Remote `$ref`s are not resolved (no I/O): a schema that needs one is refused.
pub fn validate_claims(
    schema_json: &str,
    claims: &Map<String, Value>,
    for_issuance: bool,
) -> Result<(), CardError> {
    if schema_json.len() > SCHEMA_BYTES_MAX {
        return Err(CardError::InvalidSchema(format!(
            "the schema is longer than {SCHEMA_BYTES_MAX} bytes"
        )));
    }
    let validator = compiled_schemas::compiled(schema_json, for_issuance, || {
        compile_schema(schema_json, for_issuance)
    })?;
    let instance = if for_issuance {
        Value::Object(claims.clone())
    } else {
        Value::Object(
            claims
                .iter()
                .filter(|(name, _)| !RESERVED_CLAIMS.contains(&name.as_str()))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        )
    };
    let violations: Vec<String> = validator
        .iter_errors(&instance)
        .take(VIOLATIONS_MAX)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!("at {:?}: {e}", if at.is_empty() { "/" } else { &at })
        })
        .collect();
    if violations.is_empty() {
        Ok(())
    } else {
        Err(CardError::SchemaViolation { violations })
    }
}

/// Compiles a schema for [`validate_claims`]: as written at issuance, with its top-level
/// `required` list removed for a verifier.
fn compile_schema(
    schema_json: &str,
    for_issuance: bool,
) -> Result<jsonschema::Validator, CardError> {
    let mut schema: Value =
        serde_json::from_str(schema_json).map_err(|e| CardError::InvalidSchema(e.to_string()))?;
    if !for_issuance {
        match &mut schema {
            Value::Object(map) => {
                map.remove("required");
            }
            Value::Bool(_) => {}
            _ => {
                return Err(CardError::InvalidSchema(
                    "a schema is an object or a boolean".into(),
                ))
            }
        }
    }
    jsonschema::validator_for(&schema).map_err(|e| CardError::InvalidSchema(e.to_string()))
}

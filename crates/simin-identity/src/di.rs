//! W3C Data Integrity proofs with the `eddsa-jcs-2022` cryptosuite (Data Integrity
//! EdDSA Cryptosuites v1.0) over JSON documents such as VC Data Model 2.0 credentials.
//!
//! Signing: the proof configuration (the proof options plus the document's
//! `@context`) and the document without `proof` are each canonicalized with JCS
//! (RFC 8785) and hashed with SHA-256; Ed25519 signs `proofConfigHash ||
//! documentHash`, and `proofValue` is the multibase base58btc (`z`) signature.
//!
//! Proof sets (an array of independent proofs) are supported; proof chains
//! (`previousProof`) are refused as unsupported.
//!
//! Why `eddsa-rdfc-2022` is absent: it hashes the RDF Dataset Canonicalization
//! (RDFC-1.0) of the document's JSON-LD expansion. That needs a full JSON-LD 1.1
//! processor plus RDFC-1.0, and a static loader holding every context a credential may
//! name (a JSON-LD processor that fetches contexts would make verification depend on
//! the network). No small, well-kept pure-Rust pair does both today, and JCS gives the
//! same security for documents the project produces itself, so only JCS is supported.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The proof `type` of every Data Integrity proof.
pub const PROOF_TYPE: &str = "DataIntegrityProof";

/// The cryptosuite identifier this module implements.
pub const CRYPTOSUITE_EDDSA_JCS_2022: &str = "eddsa-jcs-2022";

/// The most proofs accepted in one proof set; bounds work on untrusted input.
pub const PROOF_SET_LEN_MAX: usize = 16;

/// The longest `proofValue` accepted before decoding (64 bytes are 88 base58 chars).
const PROOF_VALUE_LEN_MAX: usize = 128;

/// The longest string echoed back inside an error message.
const ECHO_LEN_MAX: usize = 64;

/// Why a proof could not be created or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiError {
    /// The document (or a proof) is not a JSON object.
    #[error("{what} must be a JSON object")]
    NotAnObject {
        /// What was expected to be an object.
        what: &'static str,
    },
    /// `create_proof_jcs` was given a document that already has a `proof`.
    #[error("document already has a proof; use add_proof_jcs to build a proof set")]
    AlreadySecured,
    /// The secured document has no `proof`.
    #[error("document has no proof")]
    MissingProof,
    /// `verify_proof_jcs` was given a proof set.
    #[error("document has a proof set (array); use verify_proof_set_jcs")]
    ProofSet,
    /// The proof set is empty or larger than [`PROOF_SET_LEN_MAX`].
    #[error("proof set has {len} proofs; between 1 and {max} are accepted")]
    ProofSetSize {
        /// Number of proofs in the set.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A proof has `previousProof`: proof chains are not supported.
    #[error("proof chains (previousProof) are not supported")]
    ProofChainUnsupported,
    /// A required proof field is absent or not a string.
    #[error("proof field {field:?} is missing, empty or not a string")]
    MissingField {
        /// The field's JSON name.
        field: &'static str,
    },
    /// An optional proof field is present but not a string.
    #[error("proof field {field:?} must be a string")]
    NotAString {
        /// The field's JSON name.
        field: &'static str,
    },
    /// The proof `type` is not `DataIntegrityProof`.
    #[error("proof type {found:?} is not DataIntegrityProof")]
    UnsupportedProofType {
        /// The type found (clipped).
        found: String,
    },
    /// The cryptosuite is not `eddsa-jcs-2022`.
    #[error("cryptosuite {found:?} is not supported (only eddsa-jcs-2022)")]
    UnsupportedCryptosuite {
        /// The cryptosuite found (clipped).
        found: String,
    },
    /// A date-time field is not an XML Schema `dateTimeStamp`.
    #[error(
        "{field} {value:?} is not an XML Schema dateTimeStamp (YYYY-MM-DDThh:mm:ss[.f](Z|±hh:mm))"
    )]
    InvalidDateTime {
        /// The field's JSON name.
        field: &'static str,
        /// The value found (clipped).
        value: String,
    },
    /// The document's `@context` does not start with the proof's `@context`.
    #[error("document @context does not start with the proof's @context")]
    ContextMismatch,
    /// `proofValue` is not multibase base58btc of 64 bytes.
    #[error("proofValue is not a base58btc ('z') multibase Ed25519 signature: {reason}")]
    ProofValueEncoding {
        /// What is wrong.
        reason: String,
    },
    /// The resolver does not know the verification method.
    #[error("verification method {verification_method:?} could not be resolved")]
    UnknownVerificationMethod {
        /// The verification method (clipped).
        verification_method: String,
    },
    /// The signature does not verify.
    #[error("proof signature is invalid")]
    InvalidSignature,
    /// JCS canonicalization failed.
    #[error("JCS canonicalization failed: {0}")]
    Canonicalization(String),
    /// A proof inside a proof set failed.
    #[error("proof {index} of the proof set: {source}")]
    InProofSet {
        /// Position of the proof in the set.
        index: usize,
        /// Why it failed.
        source: Box<DiError>,
    },
}

/// Options for a new proof. `@context` is not an option: the proof takes the
/// document's `@context`, as the cryptosuite requires.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProofOptions {
    /// DID URL of the signing key, e.g. `did:key:z…#z…`.
    pub verification_method: String,
    /// Why the proof was made: `assertionMethod` for credentials, `authentication`
    /// for presentations.
    pub proof_purpose: String,
    /// Creation time, an XML Schema `dateTimeStamp` such as `2023-02-24T23:36:38Z`.
    pub created: Option<String>,
    /// Expiry time of the proof, an XML Schema `dateTimeStamp`.
    pub expires: Option<String>,
    /// Identifier of the proof (useful in proof sets).
    pub id: Option<String>,
    /// Verifier-supplied challenge, for presentations.
    pub challenge: Option<String>,
    /// Verifier-supplied domain, for presentations.
    pub domain: Option<String>,
    /// Signer-chosen nonce.
    pub nonce: Option<String>,
}

/// What a successful verification established. Checking the purpose, the times, the
/// challenge and whether the key may speak for the issuer is left to the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedProof {
    /// The verification method that signed.
    pub verification_method: String,
    /// The proof purpose the signer stated.
    pub proof_purpose: String,
    /// The proof's `created`, already checked to be a `dateTimeStamp`.
    pub created: Option<String>,
    /// The proof's `expires`, already checked to be a `dateTimeStamp`.
    pub expires: Option<String>,
    /// The proof's `challenge`.
    pub challenge: Option<String>,
    /// Every signed proof field (the proof without `proofValue`).
    pub proof_options: Map<String, Value>,
    /// The verified document: without `proof`, and with the `@context` the proof
    /// signed (the spec lets contexts be appended after signing).
    pub document: Value,
}

/// The canonical forms and hashes the `eddsa-jcs-2022` signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JcsHashData {
    /// JCS of the document without `proof`.
    pub canonical_document: String,
    /// JCS of the proof configuration.
    pub canonical_proof_config: String,
    /// SHA-256 of `canonical_proof_config`.
    pub proof_config_hash: [u8; 32],
    /// SHA-256 of `canonical_document`.
    pub document_hash: [u8; 32],
}

impl JcsHashData {
    /// The signed bytes: `proof_config_hash || document_hash`.
    pub fn bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.proof_config_hash);
        out[32..].copy_from_slice(&self.document_hash);
        out
    }
}

/// JCS (RFC 8785) canonical form of a JSON value.
pub fn canonicalize(value: &Value) -> Result<String, DiError> {
    serde_json_canonicalizer::to_string(value).map_err(|e| DiError::Canonicalization(e.to_string()))
}

/// The proof configuration for `options` over `unsecured`: `type`, `cryptosuite`, the
/// options that are set, and the document's `@context` when it has one.
pub fn proof_config_jcs(
    unsecured: &Value,
    options: &ProofOptions,
) -> Result<Map<String, Value>, DiError> {
    proof_config_for(as_object(unsecured, "document")?, options)
}

/// Canonicalizes and hashes a document (without `proof`) and a proof configuration.
pub fn hash_data_jcs(
    unsecured: &Value,
    proof_config: &Map<String, Value>,
) -> Result<JcsHashData, DiError> {
    hash_data_for(as_object(unsecured, "document")?, proof_config)
}

/// Secures `unsecured` with one `eddsa-jcs-2022` proof made with `key`.
///
/// The document must be a JSON object without `proof`; to add a proof to an already
/// secured document (a proof set) use [`add_proof_jcs`].
pub fn create_proof_jcs(
    unsecured: &Value,
    options: &ProofOptions,
    key: &SigningKey,
) -> Result<Value, DiError> {
    let document = as_object(unsecured, "document")?;
    if document.contains_key("proof") {
        return Err(DiError::AlreadySecured);
    }
    let proof = make_proof(document, options, key)?;
    let mut secured = document.clone();
    secured.insert("proof".into(), Value::Object(proof));
    Ok(Value::Object(secured))
}

/// Adds an independent `eddsa-jcs-2022` proof to a document, making a proof set when
/// it already has proofs. The new proof covers the document without any proof.
pub fn add_proof_jcs(
    document: &Value,
    options: &ProofOptions,
    key: &SigningKey,
) -> Result<Value, DiError> {
    let mut secured = as_object(document, "document")?.clone();
    let mut proofs = match secured.remove("proof") {
        None => Vec::new(),
        Some(Value::Array(proofs)) => proofs,
        Some(proof) => vec![proof],
    };
    if !proofs.iter().all(Value::is_object) {
        return Err(DiError::NotAnObject { what: "proof" });
    }
    if proofs.len() >= PROOF_SET_LEN_MAX {
        return Err(DiError::ProofSetSize {
            len: proofs.len().saturating_add(1),
            max: PROOF_SET_LEN_MAX,
        });
    }
    let proof = make_proof(&secured, options, key)?;
    let proof_value = if proofs.is_empty() {
        Value::Object(proof)
    } else {
        proofs.push(Value::Object(proof));
        Value::Array(proofs)
    };
    secured.insert("proof".into(), proof_value);
    Ok(Value::Object(secured))
}

/// Verifies a document secured with a single `eddsa-jcs-2022` proof (`proof` is an
/// object). `resolve` maps the proof's `verificationMethod` to its public key and
/// should return `None` for keys not allowed to sign this document.
pub fn verify_proof_jcs(
    secured: &Value,
    resolve: impl Fn(&str) -> Option<VerifyingKey>,
) -> Result<VerifiedProof, DiError> {
    let (unsecured, proof) = split_proof(secured)?;
    match proof {
        Value::Object(proof) => verify_one(unsecured, proof, &resolve),
        Value::Array(_) => Err(DiError::ProofSet),
        _ => Err(DiError::NotAnObject { what: "proof" }),
    }
}

/// Verifies every proof of a document secured with a proof set (or a single proof).
/// All proofs must be `eddsa-jcs-2022` and all must verify.
pub fn verify_proof_set_jcs(
    secured: &Value,
    resolve: impl Fn(&str) -> Option<VerifyingKey>,
) -> Result<Vec<VerifiedProof>, DiError> {
    let (unsecured, proof) = split_proof(secured)?;
    let proofs = match proof {
        Value::Array(proofs) => proofs.as_slice(),
        single => std::slice::from_ref(single),
    };
    if proofs.is_empty() || proofs.len() > PROOF_SET_LEN_MAX {
        return Err(DiError::ProofSetSize {
            len: proofs.len(),
            max: PROOF_SET_LEN_MAX,
        });
    }
    proofs
        .iter()
        .enumerate()
        .map(|(index, proof)| {
            let in_set = |source| DiError::InProofSet {
                index,
                source: Box::new(source),
            };
            let proof = proof
                .as_object()
                .ok_or_else(|| in_set(DiError::NotAnObject { what: "proof" }))?;
            verify_one(unsecured.clone(), proof, &resolve).map_err(in_set)
        })
        .collect()
}

/// Whether `text` is an XML Schema 1.1 `dateTimeStamp` as Data Integrity requires
/// for `created` and `expires`: `YYYY-MM-DDThh:mm:ss`, an optional fraction and a
/// mandatory `Z` or `±hh:mm` offset, with calendar-valid fields.
///
/// Stricter than XML Schema in rare corners: years have exactly four digits (no
/// sign), `24:00:00` is refused, and the whole value is at most 40 characters.
pub fn is_date_time_stamp(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() < 20 || b.len() > 40 {
        return false;
    }
    let shape_ok = b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':';
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        digits(&b[0..4]),
        digits(&b[5..7]),
        digits(&b[8..10]),
        digits(&b[11..13]),
        digits(&b[14..16]),
        digits(&b[17..19]),
    ) else {
        return false;
    };
    if !shape_ok || hour > 23 || minute > 59 || second > 59 {
        return false;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return false;
        }
        rest = &fraction[len..];
    }
    match rest {
        [b'Z'] => true,
        [sign, h1, h2, b':', m1, m2] if *sign == b'+' || *sign == b'-' => {
            match (digits(&[*h1, *h2]), digits(&[*m1, *m2])) {
                (Some(h), Some(m)) => m <= 59 && (h < 14 || (h == 14 && m == 0)),
                _ => false,
            }
        }
        _ => false,
    }
}

fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit()
            .then(|| acc.saturating_mul(10).saturating_add(u32::from(c - b'0')))
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn proof_config_for(
    document: &Map<String, Value>,
    options: &ProofOptions,
) -> Result<Map<String, Value>, DiError> {
    if options.verification_method.is_empty() {
        return Err(DiError::MissingField {
            field: "verificationMethod",
        });
    }
    if options.proof_purpose.is_empty() {
        return Err(DiError::MissingField {
            field: "proofPurpose",
        });
    }
    let mut config = Map::new();
    config.insert("type".into(), PROOF_TYPE.into());
    config.insert("cryptosuite".into(), CRYPTOSUITE_EDDSA_JCS_2022.into());
    config.insert(
        "verificationMethod".into(),
        options.verification_method.as_str().into(),
    );
    config.insert("proofPurpose".into(), options.proof_purpose.as_str().into());
    let optional = [
        ("created", &options.created),
        ("expires", &options.expires),
        ("id", &options.id),
        ("challenge", &options.challenge),
        ("domain", &options.domain),
        ("nonce", &options.nonce),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            config.insert(name.into(), value.as_str().into());
        }
    }
    if let Some(context) = document.get("@context") {
        config.insert("@context".into(), context.clone());
    }
    check_proof_config(&config)?;
    Ok(config)
}

fn hash_data_for(
    document: &Map<String, Value>,
    proof_config: &Map<String, Value>,
) -> Result<JcsHashData, DiError> {
    let jcs = |value: &Map<String, Value>| {
        serde_json_canonicalizer::to_string(value)
            .map_err(|e| DiError::Canonicalization(e.to_string()))
    };
    let canonical_document = jcs(document)?;
    let canonical_proof_config = jcs(proof_config)?;
    Ok(JcsHashData {
        proof_config_hash: Sha256::digest(canonical_proof_config.as_bytes()).into(),
        document_hash: Sha256::digest(canonical_document.as_bytes()).into(),
        canonical_document,
        canonical_proof_config,
    })
}

/// Builds the proof (configuration plus `proofValue`) over a document without proof.
fn make_proof(
    document: &Map<String, Value>,
    options: &ProofOptions,
    key: &SigningKey,
) -> Result<Map<String, Value>, DiError> {
    let mut proof = proof_config_for(document, options)?;
    let hash_data = hash_data_for(document, &proof)?;
    let signature = key.sign(&hash_data.bytes());
    let proof_value = format!("z{}", bs58::encode(signature.to_bytes()).into_string());
    proof.insert("proofValue".into(), proof_value.into());
    Ok(proof)
}

/// Splits a secured document into the document without `proof` and the `proof` value.
fn split_proof(secured: &Value) -> Result<(Map<String, Value>, &Value), DiError> {
    let document = as_object(secured, "secured document")?;
    let proof = document.get("proof").ok_or(DiError::MissingProof)?;
    let mut unsecured = document.clone();
    unsecured.remove("proof");
    Ok((unsecured, proof))
}

/// The eddsa-jcs-2022 "Verify Proof" algorithm for one proof.
fn verify_one(
    mut unsecured: Map<String, Value>,
    proof: &Map<String, Value>,
    resolve: &impl Fn(&str) -> Option<VerifyingKey>,
) -> Result<VerifiedProof, DiError> {
    let mut proof_options = proof.clone();
    let proof_value = match proof_options.remove("proofValue") {
        Some(Value::String(text)) => text,
        _ => {
            return Err(DiError::MissingField {
                field: "proofValue",
            })
        }
    };
    check_proof_config(&proof_options)?;
    let signature = decode_proof_value(&proof_value)?;
    if let Some(proof_context) = proof_options.get("@context") {
        let document_context = unsecured.get("@context").ok_or(DiError::ContextMismatch)?;
        if !as_list(document_context).starts_with(as_list(proof_context)) {
            return Err(DiError::ContextMismatch);
        }
        unsecured.insert("@context".into(), proof_context.clone());
    }
    let hash_data = hash_data_for(&unsecured, &proof_options)?;
    let verification_method = required_str(&proof_options, "verificationMethod")?;
    let key = resolve(verification_method).ok_or_else(|| DiError::UnknownVerificationMethod {
        verification_method: clip(verification_method),
    })?;
    key.verify_strict(&hash_data.bytes(), &signature)
        .map_err(|_| DiError::InvalidSignature)?;
    Ok(VerifiedProof {
        verification_method: verification_method.to_owned(),
        proof_purpose: required_str(&proof_options, "proofPurpose")?.to_owned(),
        created: optional_str(&proof_options, "created")?.map(str::to_owned),
        expires: optional_str(&proof_options, "expires")?.map(str::to_owned),
        challenge: optional_str(&proof_options, "challenge")?.map(str::to_owned),
        proof_options,
        document: Value::Object(unsecured),
    })
}

/// The eddsa-jcs-2022 "Proof Configuration" checks, on a proof without `proofValue`.
fn check_proof_config(config: &Map<String, Value>) -> Result<(), DiError> {
    let proof_type = required_str(config, "type")?;
    if proof_type != PROOF_TYPE {
        return Err(DiError::UnsupportedProofType {
            found: clip(proof_type),
        });
    }
    let cryptosuite = required_str(config, "cryptosuite")?;
    if cryptosuite != CRYPTOSUITE_EDDSA_JCS_2022 {
        return Err(DiError::UnsupportedCryptosuite {
            found: clip(cryptosuite),
        });
    }
    required_str(config, "verificationMethod")?;
    required_str(config, "proofPurpose")?;
    if config.contains_key("previousProof") {
        return Err(DiError::ProofChainUnsupported);
    }
    for field in ["created", "expires"] {
        if let Some(value) = optional_str(config, field)? {
            if !is_date_time_stamp(value) {
                return Err(DiError::InvalidDateTime {
                    field,
                    value: clip(value),
                });
            }
        }
    }
    Ok(())
}

fn decode_proof_value(text: &str) -> Result<Signature, DiError> {
    let fail = |reason: &str| DiError::ProofValueEncoding {
        reason: reason.to_owned(),
    };
    if text.len() > PROOF_VALUE_LEN_MAX {
        return Err(fail("too long"));
    }
    let body = text
        .strip_prefix('z')
        .ok_or_else(|| fail("missing the 'z' prefix"))?;
    let bytes = bs58::decode(body)
        .into_vec()
        .map_err(|e| fail(&e.to_string()))?;
    let bytes = <[u8; 64]>::try_from(bytes.as_slice())
        .map_err(|_| fail(&format!("{} bytes instead of 64", bytes.len())))?;
    Ok(Signature::from_bytes(&bytes))
}

fn as_object<'a>(value: &'a Value, what: &'static str) -> Result<&'a Map<String, Value>, DiError> {
    value.as_object().ok_or(DiError::NotAnObject { what })
}

/// An `@context` as a list: arrays as they are, any other value as a one-item list.
fn as_list(context: &Value) -> &[Value] {
    match context {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

fn required_str<'a>(map: &'a Map<String, Value>, field: &'static str) -> Result<&'a str, DiError> {
    match map.get(field) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text),
        _ => Err(DiError::MissingField { field }),
    }
}

fn optional_str<'a>(
    map: &'a Map<String, Value>,
    field: &'static str,
) -> Result<Option<&'a str>, DiError> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(DiError::NotAString { field }),
    }
}

/// Bounds an untrusted string before it goes into an error message.
fn clip(text: &str) -> String {
    text.chars().take(ECHO_LEN_MAX).collect()
}

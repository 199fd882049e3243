//! W3C Verifiable Credentials Data Model 2.0 on simin: credentials secured with an
//! `eddsa-jcs-2022` Data Integrity proof ([`crate::di`]), and their verification against
//! chain state with the same checks as the SD-JWT VC verifier ([`crate::verifier`]).
//!
//! A simin W3C credential is a JSON object with `@context`
//! `["https://www.w3.org/ns/credentials/v2", ...]`, `type`
//! `["VerifiableCredential", "<credential type>"]`, `issuer` (a `did:simin`), `validFrom`,
//! `validUntil`, one `credentialSubject` (its `id`, when present, is the holder's
//! `did:key` or `did:jwk`; every other member is a claim of the type's registered
//! schema), and `credentialStatus`: a revocation and a suspension
//! `BitstringStatusListEntry` whose lists are the issuer's own
//! (`did:simin:<org>/status/<n>`). Its one proof is a `DataIntegrityProof` with
//! `proofPurpose: assertionMethod` whose `verificationMethod` is the issuer key's `kid`.
//!
//! A W3C credential is not selectively disclosable, so its claims must satisfy the
//! schema as written, `required` list included.
//!
//! Presentations ([`verify_vp`]) are either a `VerifiablePresentation` signed with
//! `proofPurpose: authentication` by the holder's `did:key` or `did:jwk` (Ed25519) over
//! the verifier's `challenge` and `domain`, or an `EnvelopedVerifiablePresentation`
//! carrying an SD-JWT VC with Key Binding as `data:application/dc+sd-jwt,<...>`, checked
//! by [`crate::verifier::verify_presentation`] with the challenge as nonce and the
//! domain as audience.
//!
//! Pure like the rest of the crate: times and keys are passed in, state arrives through
//! [`simin_ledger::StateView`].

mod issue;
mod presentation;
mod shape;
mod verify;

pub use issue::{issue_vc, IssueVc, VcError};
pub use presentation::{
    bind_to_holder, enveloped_sd_jwt, verify_vp, verify_vp_proof, PresentationProof, VerifiedVp,
};
pub use shape::{issuer_id, within_bounds};
pub use verify::{verify_vc, VerifiedVc};

/// The base context every VC Data Model 2.0 document names first.
pub const CONTEXT_V2: &str = "https://www.w3.org/ns/credentials/v2";
/// The `type` every credential carries.
pub const TYPE_CREDENTIAL: &str = "VerifiableCredential";
/// The `type` every presentation carries.
pub const TYPE_PRESENTATION: &str = "VerifiablePresentation";
/// The `type` of a presentation secured by an enveloping format.
pub const TYPE_ENVELOPED_PRESENTATION: &str = "EnvelopedVerifiablePresentation";
/// The `type` of a credential secured by an enveloping format.
pub const TYPE_ENVELOPED_CREDENTIAL: &str = "EnvelopedVerifiableCredential";
/// The data URL prefix of an enveloped SD-JWT VC presentation.
pub const SD_JWT_DATA_URL_PREFIX: &str = "data:application/dc+sd-jwt,";
/// The proof purpose of a credential's proof.
pub const PURPOSE_ASSERTION: &str = "assertionMethod";
/// The proof purpose of a presentation's proof.
pub const PURPOSE_AUTHENTICATION: &str = "authentication";

/// The most `@context` entries accepted.
pub const CONTEXTS_MAX: usize = 8;
/// The most `type` entries accepted.
pub const TYPES_MAX: usize = 8;
/// The most credentials one presentation may carry.
pub const PRESENTATION_CREDENTIALS_MAX: usize = 8;
/// The deepest nesting of a credential or presentation accepted.
pub const JSON_DEPTH_MAX: usize = 16;
/// The most JSON values (objects, arrays, scalars) in one credential or presentation.
pub const JSON_NODES_MAX: usize = 8_192;
/// Tolerance for `validFrom`, `validUntil` and a proof's `expires`, in seconds; the
/// same as the SD-JWT verifier's default.
pub const CLOCK_SKEW_SECS: i64 = 60;
/// The longest identifier (credential id, holder DID) accepted, in bytes. A did:jwk of
/// an Ed25519 key is under 120 bytes; its method allows 4 KiB.
const ID_BYTES_MAX: usize = 4096;

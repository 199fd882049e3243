//! The identity module's calls and records: organisation DIDs (`did:simin`), the
//! trusted-issuer registry, credential schemas and Bitstring Status Lists.
//!
//! Only organisations appear here. Citizens' holder keys (`did:jwk`, `did:key`) live in
//! their wallets and are never written on chain; a credential's status is one bit in a
//! list, which says nothing about whom it belongs to.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::{BlockTime, Height, OrgId, PublicKey};

/// The DID method name: an organisation `seoul.library` is `did:simin:seoul.library`.
pub const DID_METHOD_PREFIX: &str = "did:simin:";

/// The DID of an organisation.
pub fn did_of(organization: &OrgId) -> String {
    format!("{DID_METHOD_PREFIX}{organization}")
}

/// The organisation a `did:simin` DID names; `None` for another method or a malformed id.
/// A DID URL's path, query and fragment are ignored.
pub fn organization_of_did(did: &str) -> Option<OrgId> {
    let rest = did.strip_prefix(DID_METHOD_PREFIX)?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    OrgId::new(&rest[..end]).ok()
}

/// Calls of the identity module. New variants are only ever appended (ADR 0002).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityCall {
    /// Creates `did:simin:<organization>`; signed by a key of that organisation or by a
    /// city authority. At least one method must carry `capability_invocation`.
    CreateDid {
        organization: OrgId,
        verification_methods: Vec<VerificationMethod>,
        services: Vec<DidService>,
    },
    /// Adds a verification method. This and every later DID update is signed by a key
    /// of the DID with `capability_invocation`, or by a city authority (recovery).
    AddVerificationMethod {
        organization: OrgId,
        method: VerificationMethod,
    },
    /// Removes a verification method; one with `capability_invocation` must remain.
    RemoveVerificationMethod {
        organization: OrgId,
        fragment: String,
    },
    /// Replaces the key of a verification method, keeping its id and relationships.
    RotateKey {
        organization: OrgId,
        fragment: String,
        public_key: PublicKey,
    },
    AddService {
        organization: OrgId,
        service: DidService,
    },
    RemoveService {
        organization: OrgId,
        fragment: String,
    },
    /// Deactivates the DID for good: it resolves as deactivated and takes no more updates.
    DeactivateDid { organization: OrgId },
    /// Accredits an organisation (with the issuer role) to issue the named credential
    /// types during a period. Signed by a city authority (a root accreditation) or by a
    /// key of an organisation holding a current accreditation that may accredit and
    /// covers these types for at least this period. Replaces the issuer's previous
    /// accreditation, which only its accreditor or a city authority may do.
    Accredit(AccreditationTerms),
    /// Ends an accreditation at the block's time; by its accreditor or a city authority.
    RevokeAccreditation { issuer: OrgId },
    /// Registers (or, by its first registrant or a city authority, replaces) the JSON
    /// Schema of a credential type. By a city authority or an issuer accredited for it.
    RegisterSchema {
        credential_type: String,
        schema: String,
    },
    /// Creates the signer's organisation's status list number `list`; the signer's
    /// organisation must hold a current accreditation.
    CreateStatusList {
        list: u32,
        purpose: StatusPurpose,
        size_bits: u32,
    },
    /// Sets or clears bits of one of the signer's organisation's status lists, effective
    /// from the next block. A revocation bit, once set, cannot be cleared.
    SetStatus {
        list: u32,
        updates: Vec<StatusUpdate>,
    },
}

impl IdentityCall {
    /// A short stable name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            IdentityCall::CreateDid { .. } => "identity.create_did",
            IdentityCall::AddVerificationMethod { .. } => "identity.add_verification_method",
            IdentityCall::RemoveVerificationMethod { .. } => "identity.remove_verification_method",
            IdentityCall::RotateKey { .. } => "identity.rotate_key",
            IdentityCall::AddService { .. } => "identity.add_service",
            IdentityCall::RemoveService { .. } => "identity.remove_service",
            IdentityCall::DeactivateDid { .. } => "identity.deactivate_did",
            IdentityCall::Accredit(_) => "identity.accredit",
            IdentityCall::RevokeAccreditation { .. } => "identity.revoke_accreditation",
            IdentityCall::RegisterSchema { .. } => "identity.register_schema",
            IdentityCall::CreateStatusList { .. } => "identity.create_status_list",
            IdentityCall::SetStatus { .. } => "identity.set_status",
        }
    }
}

/// A key of a DID document, identified by `<did>#<fragment>`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct VerificationMethod {
    /// 1 to 32 characters of `a-z`, `A-Z`, `0-9`, `-`, `_`.
    pub fragment: String,
    /// An Ed25519 key, published as a `Multikey` (`publicKeyMultibase`).
    pub public_key: PublicKey,
    /// The verification relationships the key is listed under; at least one.
    pub relationships: Vec<Relationship>,
}

/// A DID Core verification relationship.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    Authentication,
    /// Signs credentials.
    AssertionMethod,
    /// Updates the DID document itself.
    CapabilityInvocation,
    CapabilityDelegation,
}

impl Relationship {
    /// The property name in a DID document.
    pub fn property(self) -> &'static str {
        match self {
            Relationship::Authentication => "authentication",
            Relationship::AssertionMethod => "assertionMethod",
            Relationship::CapabilityInvocation => "capabilityInvocation",
            Relationship::CapabilityDelegation => "capabilityDelegation",
        }
    }

    pub const ALL: [Relationship; 4] = [
        Relationship::Authentication,
        Relationship::AssertionMethod,
        Relationship::CapabilityInvocation,
        Relationship::CapabilityDelegation,
    ];
}

/// A DID Core service, identified by `<did>#<fragment>`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct DidService {
    pub fragment: String,
    /// E.g. `OpenID4VCI`, `LinkedDomains`: 1 to 64 characters of `A-Za-z0-9-_`.
    pub service_type: String,
    /// An `https://` URL (or `http://` on loopback for development), at most 512 bytes.
    pub endpoint: String,
}

/// What `state_keys::did(org)` holds. Past versions resolve from past state versions.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct DidRecord {
    pub organization: OrgId,
    pub verification_methods: Vec<VerificationMethod>,
    pub services: Vec<DidService>,
    pub deactivated: bool,
    pub created_height: Height,
    pub created_time: BlockTime,
    pub updated_height: Height,
    pub updated_time: BlockTime,
    /// 1 at creation, +1 at every update.
    pub version: u64,
    /// Every key the document has listed, with when: a credential signed while a key was
    /// listed stays verifiable after the key is rotated out (until the DID is
    /// deactivated), and a key added later cannot vouch for an earlier time.
    pub key_history: Vec<KeyEpoch>,
}

/// A period during which a verification method was listed as it is here.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct KeyEpoch {
    pub method: VerificationMethod,
    pub from: BlockTime,
    /// Exclusive; `None` while the method is still listed.
    pub until: Option<BlockTime>,
}

impl KeyEpoch {
    pub fn covers(&self, time: BlockTime) -> bool {
        self.from <= time && self.until.is_none_or(|until| time < until)
    }
}

impl DidRecord {
    pub fn method(&self, fragment: &str) -> Option<&VerificationMethod> {
        self.verification_methods
            .iter()
            .find(|m| m.fragment == fragment)
    }

    /// The key `fragment` named under `relationship` at `time`, current or retired.
    pub fn key_at(
        &self,
        fragment: &str,
        relationship: Relationship,
        time: BlockTime,
    ) -> Option<&VerificationMethod> {
        self.key_history
            .iter()
            .filter(|epoch| epoch.covers(time))
            .map(|epoch| &epoch.method)
            .find(|m| m.fragment == fragment && m.relationships.contains(&relationship))
    }

    /// Whether `key` is listed under `relationship`.
    pub fn has_key_for(&self, key: &PublicKey, relationship: Relationship) -> bool {
        self.verification_methods
            .iter()
            .any(|m| m.public_key == *key && m.relationships.contains(&relationship))
    }
}

/// What an accreditor grants: the credential types, the period, and whether the issuer
/// may accredit others (an agency accrediting its facilities).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AccreditationTerms {
    pub issuer: OrgId,
    /// Credential type names (`vct` / VC `type`), 1 to `ACCREDITATION_TYPES_MAX`.
    pub credential_types: Vec<String>,
    pub valid_from: BlockTime,
    /// Exclusive; after `valid_from`.
    pub valid_until: BlockTime,
    pub may_accredit: bool,
}

/// What `state_keys::accreditation(issuer)` holds.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Accreditation {
    pub terms: AccreditationTerms,
    /// `None` for a root accreditation by a city authority.
    pub accredited_by: Option<OrgId>,
    pub granted_height: Height,
    pub granted_time: BlockTime,
    /// Set by `RevokeAccreditation`: the accreditation ends here if before `valid_until`.
    pub revoked_time: Option<BlockTime>,
}

impl Accreditation {
    /// Whether it covers `credential_type` at `time`.
    pub fn covers(&self, credential_type: &str, time: BlockTime) -> bool {
        self.is_valid_at(time)
            && self
                .terms
                .credential_types
                .iter()
                .any(|t| t == credential_type)
    }

    /// Whether `time` is in `[valid_from, min(valid_until, revoked_time))`.
    pub fn is_valid_at(&self, time: BlockTime) -> bool {
        let end = match self.revoked_time {
            Some(revoked) => revoked.min(self.terms.valid_until),
            None => self.terms.valid_until,
        };
        self.terms.valid_from <= time && time < end
    }
}

/// What `state_keys::schema(type)` holds.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SchemaRecord {
    pub credential_type: String,
    /// A JSON Schema document (a JSON object), at most `SCHEMA_BYTES_MAX` bytes.
    pub schema: String,
    /// `None` when registered by a city authority.
    pub registered_by: Option<OrgId>,
    pub height: Height,
    pub time: BlockTime,
}

/// A Bitstring Status List's `statusPurpose`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum StatusPurpose {
    /// Permanent: a set bit can never be cleared.
    Revocation,
    /// Temporary: a lost phone suspends the card, a found one lifts it.
    Suspension,
}

impl StatusPurpose {
    /// The `statusPurpose` value of the W3C Bitstring Status List.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusPurpose::Revocation => "revocation",
            StatusPurpose::Suspension => "suspension",
        }
    }
}

/// One bit of a status list: `value` true means revoked or suspended.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct StatusUpdate {
    pub index: u32,
    pub value: bool,
}

/// What `state_keys::status_list(issuer, list)` holds. The bits live in chunks of
/// `STATUS_CHUNK_BYTES` under `state_keys::status_chunk`, so one bit is proven with one
/// small value; an absent chunk is all zeros.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct StatusListRecord {
    pub issuer: OrgId,
    pub list: u32,
    pub purpose: StatusPurpose,
    pub size_bits: u32,
    pub created_height: Height,
    pub created_time: BlockTime,
}

/// Bytes per status chunk: 8,192 bits.
pub const STATUS_CHUNK_BYTES: usize = 1024;
/// Bits per status chunk.
pub const STATUS_CHUNK_BITS: u32 = 8 * 1024;

/// The chunk holding bit `index` and the bit's (byte, mask) inside it. Bits are
/// most-significant first, as in the W3C Bitstring Status List: index 0 is 0x80 of byte 0.
pub fn status_bit_position(index: u32) -> (u32, usize, u8) {
    let chunk = index / STATUS_CHUNK_BITS;
    let within = index % STATUS_CHUNK_BITS;
    // `within / 8` < STATUS_CHUNK_BYTES, so it fits in usize on every platform.
    let byte = (within / 8) as usize;
    let mask = 0x80u8 >> (within % 8);
    (chunk, byte, mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dids_name_organisations() {
        let org = OrgId::new("seoul.library").expect("valid id");
        assert_eq!(did_of(&org), "did:simin:seoul.library");
        assert_eq!(
            organization_of_did("did:simin:seoul.library"),
            Some(org.clone())
        );
        assert_eq!(
            organization_of_did("did:simin:seoul.library#key-1"),
            Some(org)
        );
        assert_eq!(organization_of_did("did:web:seoul.go.kr"), None);
        assert_eq!(organization_of_did("did:simin:Bad_Id"), None);
        assert_eq!(organization_of_did("did:simin:"), None);
    }

    #[test]
    fn status_bits_are_most_significant_first() {
        assert_eq!(status_bit_position(0), (0, 0, 0x80));
        assert_eq!(status_bit_position(7), (0, 0, 0x01));
        assert_eq!(status_bit_position(8), (0, 1, 0x80));
        assert_eq!(status_bit_position(STATUS_CHUNK_BITS), (1, 0, 0x80));
        assert_eq!(
            status_bit_position(u32::MAX),
            (u32::MAX / STATUS_CHUNK_BITS, STATUS_CHUNK_BYTES - 1, 0x01)
        );
    }
}

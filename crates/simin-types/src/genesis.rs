//! The genesis document: what a chain starts from.

use serde::{Deserialize, Serialize};

use crate::{
    AccreditationTerms, BlockTime, ChainId, DidService, Hash, OrgId, Organization, PublicKey,
    TypesError, Validator, ValidatorSet, VerificationMethod,
};

/// Genesis, written as JSON in each node's home. Every node of a chain has the same one;
/// its hash is checked when nodes meet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    pub chain_id: ChainId,
    /// Time of the genesis state; the first block's time must be later.
    pub genesis_time: BlockTime,
    /// City authority keys: the only keys that may make governance calls.
    pub authorities: Vec<PublicKey>,
    /// The first validator set.
    pub validators: Vec<Validator>,
    /// Organisations registered from the start (e.g. a devnet's notary).
    #[serde(default)]
    pub organizations: Vec<Organization>,
    /// Identity records of the start: schemas, organisations' DIDs, accreditations.
    /// Absent when empty, so genesis files without it keep their bytes and hash.
    #[serde(default, skip_serializing_if = "GenesisIdentity::is_empty")]
    pub identity: GenesisIdentity,
}

/// The identity records a chain starts with. Each passes the checks of the call that
/// would create it later: schemas and DIDs as made by a city authority, accreditations
/// in order, each by its accreditor (a city authority when `accredited_by` is `None`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisIdentity {
    #[serde(default)]
    pub schemas: Vec<GenesisSchema>,
    #[serde(default)]
    pub dids: Vec<GenesisDid>,
    #[serde(default)]
    pub accreditations: Vec<GenesisAccreditation>,
}

impl GenesisIdentity {
    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty() && self.dids.is_empty() && self.accreditations.is_empty()
    }
}

/// A credential type's JSON Schema at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisSchema {
    pub credential_type: String,
    pub schema: String,
}

/// An organisation's DID at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisDid {
    pub organization: OrgId,
    pub verification_methods: Vec<VerificationMethod>,
    #[serde(default)]
    pub services: Vec<DidService>,
}

/// An accreditation at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccreditation {
    /// `None` for a root accreditation by the city authority.
    pub accredited_by: Option<OrgId>,
    pub terms: AccreditationTerms,
}

impl Genesis {
    /// Checks the document: at least one authority, a valid validator set, valid keys.
    pub fn validate(&self) -> Result<ValidatorSet, TypesError> {
        let invalid = |reason: String| TypesError::Invalid {
            what: "genesis",
            reason,
        };
        if self.authorities.is_empty() {
            return Err(invalid("names no city authority key".into()));
        }
        if let Some(key) = self.authorities.iter().find(|k| !k.is_valid()) {
            return Err(invalid(format!(
                "authority key {key} is not a valid Ed25519 key"
            )));
        }
        if let Some(v) = self.validators.iter().find(|v| !v.public_key.is_valid()) {
            return Err(invalid(format!(
                "validator key {} is not a valid Ed25519 key",
                v.public_key
            )));
        }
        ValidatorSet::new(self.validators.clone())
    }

    /// SHA-256 of the canonical JSON (serde_json of this struct, fields in declaration order).
    pub fn hash_of_json(json: &[u8]) -> Hash {
        Hash::digest(json)
    }
}

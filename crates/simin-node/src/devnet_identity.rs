//! The devnet's demo city: issuing organisations with DIDs and an accreditation chain,
//! the city's identity provider, and the schemas of the citizen credentials, all in the
//! genesis.
//!
//! ```text
//! seoul.city                city root, accredited by the city authority for every type
//!  ├─ seoul.citizen-registry    CitizenCard, Residency, AgeOver
//!  ├─ seoul.family-welfare      MultiChildFamily
//!  ├─ mapo.library              LibraryMembership (also a service)
//!  └─ seoul.sports-centre       SportsFacilityMembership (also a service)
//! seoul.citizen-auth        the identity provider: issues nothing, so not accredited
//! ```
//! Each organisation has a transaction key (`DIR/keys/orgs/<org>.key`, also its DID's
//! `admin` capabilityInvocation key) and a credential signing key
//! (`DIR/keys/orgs/<org>.assert.key`, its DID's `key-1` assertionMethod).

use std::path::{Path, PathBuf};

use rand::rngs::OsRng;
use simin_types::{
    AccreditationTerms, BlockTime, GenesisAccreditation, GenesisDid, GenesisIdentity,
    GenesisSchema, OrgId, Organization, Relationship, Role, SigningKey, VerificationMethod,
};

use crate::devnet::write_key_file;
use crate::NodeError;

/// The organisation that issues citizen cards on a devnet.
pub const DEVNET_CARD_ISSUER: &str = "seoul.citizen-registry";
/// The devnet's identity provider: signs citizens in to services and records the
/// access log (`Role::IdentityProvider`).
pub const DEVNET_IDENTITY_PROVIDER: &str = "seoul.citizen-auth";
/// The city root of the devnet's accreditation chain.
pub const DEVNET_CITY_ROOT: &str = "seoul.city";
/// How long the demo accreditations last: ten years.
const ACCREDITATION_MS: u64 = 10 * 365 * 24 * 3600 * 1000;

struct DemoOrg {
    id: &'static str,
    name: &'static str,
    roles: &'static [Role],
    /// The credential types it is accredited for; none: it is not accredited.
    types: &'static [&'static str],
}

const DEMO_ORGS: [DemoOrg; 6] = [
    DemoOrg {
        id: DEVNET_CITY_ROOT,
        name: "Seoul Metropolitan Government",
        roles: &[Role::Agency, Role::Issuer],
        types: &[
            "CitizenCard",
            "Residency",
            "AgeOver",
            "MultiChildFamily",
            "LibraryMembership",
            "SportsFacilityMembership",
        ],
    },
    DemoOrg {
        id: DEVNET_CARD_ISSUER,
        name: "Seoul Citizen Registry",
        roles: &[Role::Agency, Role::Issuer],
        types: &["CitizenCard", "Residency", "AgeOver"],
    },
    DemoOrg {
        id: "seoul.family-welfare",
        name: "Seoul Family Welfare Office",
        roles: &[Role::Agency, Role::Issuer],
        types: &["MultiChildFamily"],
    },
    DemoOrg {
        id: "mapo.library",
        name: "Mapo Public Library",
        roles: &[Role::Facility, Role::Issuer, Role::Service],
        types: &["LibraryMembership"],
    },
    DemoOrg {
        id: "seoul.sports-centre",
        name: "Seoul Sports Centre",
        roles: &[Role::Facility, Role::Issuer, Role::Service],
        types: &["SportsFacilityMembership"],
    },
    DemoOrg {
        id: DEVNET_IDENTITY_PROVIDER,
        name: "Seoul Integrated Authentication",
        roles: &[Role::Agency, Role::Service, Role::IdentityProvider],
        types: &[],
    },
];

/// Where an organisation's keys are kept in a devnet.
pub fn org_key_paths(keys_dir: &Path, org: &str) -> (PathBuf, PathBuf) {
    let dir = keys_dir.join("orgs");
    (
        dir.join(format!("{org}.key")),
        dir.join(format!("{org}.assert.key")),
    )
}

/// Generates the demo organisations' keys in `keys_dir` and returns their genesis
/// registration and identity records.
pub(crate) fn create(
    keys_dir: &Path,
    genesis_time: BlockTime,
) -> Result<(Vec<Organization>, GenesisIdentity), NodeError> {
    let mut organizations = Vec::new();
    let mut identity = GenesisIdentity {
        schemas: simin_identity::card::BUILTIN_TYPES
            .iter()
            .filter_map(|t| {
                simin_identity::card::builtin_schema(t).map(|schema| GenesisSchema {
                    credential_type: (*t).to_owned(),
                    schema: schema.to_owned(),
                })
            })
            .collect(),
        ..GenesisIdentity::default()
    };
    for org in &DEMO_ORGS {
        let id = OrgId::new(org.id).expect("a valid constant id");
        let (tx_path, assert_path) = org_key_paths(keys_dir, org.id);
        let tx = SigningKey::generate(&mut OsRng);
        let assertion = SigningKey::generate(&mut OsRng);
        write_key_file(&tx_path, &tx)?;
        write_key_file(&assert_path, &assertion)?;
        organizations.push(Organization {
            id: id.clone(),
            name: org.name.into(),
            keys: vec![tx.public_key()],
            roles: org.roles.to_vec(),
            active: true,
        });
        identity.dids.push(GenesisDid {
            organization: id.clone(),
            verification_methods: vec![
                VerificationMethod {
                    fragment: "key-1".into(),
                    public_key: assertion.public_key(),
                    relationships: vec![Relationship::AssertionMethod],
                },
                VerificationMethod {
                    fragment: "admin".into(),
                    public_key: tx.public_key(),
                    relationships: vec![
                        Relationship::Authentication,
                        Relationship::CapabilityInvocation,
                    ],
                },
            ],
            services: vec![],
        });
        // An accreditation names at least one type; an organisation issuing none has none.
        if org.types.is_empty() {
            continue;
        }
        let root = org.id == DEVNET_CITY_ROOT;
        identity.accreditations.push(GenesisAccreditation {
            accredited_by: (!root).then(|| OrgId::new(DEVNET_CITY_ROOT).expect("valid")),
            terms: AccreditationTerms {
                issuer: id,
                credential_types: org.types.iter().map(|t| (*t).to_owned()).collect(),
                valid_from: genesis_time,
                valid_until: BlockTime(genesis_time.0.saturating_add(ACCREDITATION_MS)),
                may_accredit: root,
            },
        });
    }
    Ok((organizations, identity))
}

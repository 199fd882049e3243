//! Module calls carried by transactions, and the records modules keep in state.
//!
//! New variants are only ever appended: the borsh tag of a variant is its position, and
//! changing it would change the meaning of stored and signed bytes (ADR 0002).

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::{
    AuthCall, BlockTime, DataCall, Equivocation, Hash, Height, IdentityCall, OrgId, PublicKey,
};

/// What a transaction asks the ledger to do, addressed to one module.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "module", content = "call", rename_all = "snake_case")]
pub enum Call {
    Governance(GovernanceCall),
    Notary(NotaryCall),
    Consensus(ConsensusCall),
    Identity(IdentityCall),
    Auth(AuthCall),
    Data(DataCall),
}

impl Call {
    /// A short stable name for logs and metrics, e.g. `notary.anchor`.
    pub fn name(&self) -> &'static str {
        match self {
            Call::Governance(GovernanceCall::RegisterOrganization(_)) => {
                "governance.register_organization"
            }
            Call::Governance(GovernanceCall::UpdateOrganization(_)) => {
                "governance.update_organization"
            }
            Call::Governance(GovernanceCall::DeactivateOrganization { .. }) => {
                "governance.deactivate_organization"
            }
            Call::Governance(GovernanceCall::SetValidator { .. }) => "governance.set_validator",
            Call::Notary(NotaryCall::Anchor { .. }) => "notary.anchor",
            Call::Notary(NotaryCall::AnchorBatch { .. }) => "notary.anchor_batch",
            Call::Consensus(ConsensusCall::ReportEquivocation(_)) => {
                "consensus.report_equivocation"
            }
            Call::Identity(call) => call.name(),
            Call::Auth(call) => call.name(),
            Call::Data(call) => call.name(),
        }
    }
}

/// Calls of the governance module. Only a city authority key named in genesis may make them.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GovernanceCall {
    /// Registers a new organisation; its id must be unused.
    RegisterOrganization(Organization),
    /// Replaces the name, keys and roles of a registered organisation.
    UpdateOrganization(Organization),
    /// Deactivates an organisation: its keys can no longer act for it.
    DeactivateOrganization { id: OrgId },
    /// Sets one validator's voting power in the set that decides the heights after this
    /// block (see `state_keys::validator_set`): a new key is added, a known key gets the
    /// new power, and power 0 removes it.
    SetValidator {
        public_key: PublicKey,
        voting_power: u64,
    },
}

/// A registered organisation: an agency, facility, service, inspector, dealer, ...
/// Organisations are public bodies and businesses; their names and keys are not personal data.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    /// Keys that may sign transactions on the organisation's behalf.
    pub keys: Vec<PublicKey>,
    pub roles: Vec<Role>,
    /// False once deactivated; set by the ledger, ignored in calls.
    #[serde(default = "active_default")]
    pub active: bool,
}

fn active_default() -> bool {
    true
}

impl Organization {
    pub fn has_role(&self, role: Role) -> bool {
        self.active && self.roles.contains(&role)
    }
}

/// What an organisation is allowed to do; modules check these.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A city agency.
    Agency,
    /// May anchor documents in the notary.
    Notary,
    /// May issue credentials (once accredited for their types).
    Issuer,
    /// A city service that verifies citizens (login, eligibility).
    Service,
    /// A facility: library, sports centre, car park.
    Facility,
    /// A vehicle inspector.
    Inspector,
    /// A vehicle dealer.
    Dealer,
    /// An insurer.
    Insurer,
    /// A source of urban data (sensors, meters).
    DataSource,
    /// Runs the city's identity provider: signs citizens in to services and records
    /// what it released in the access log (`AuthCall::RecordAccess`).
    IdentityProvider,
}

/// Calls of the consensus module: evidence about validators. Any account may make them.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsensusCall {
    /// Reports that a validator signed two conflicting votes; the ledger checks the
    /// evidence and records it once under `state_keys::equivocation(..)`.
    ReportEquivocation(Equivocation),
}

/// Calls of the notary module.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotaryCall {
    /// Anchors the SHA-256 of one document.
    Anchor { document: Hash },
    /// Anchors many documents at once: state keeps only the Merkle root of their hashes
    /// (leaves are `merkle::leaf_hash(document_hash)`); the hashes travel in the
    /// transaction, so anyone can rebuild the path of one document from the block.
    AnchorBatch { documents: Vec<Hash> },
}

/// What the notary stores under `state_keys::notary_anchor(hash)`, where `hash` is a
/// document's hash or a batch's Merkle root.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct NotaryRecord {
    pub organization: OrgId,
    pub signer: PublicKey,
    pub height: Height,
    pub time: BlockTime,
    pub tx_hash: Hash,
    /// Number of documents under this anchor: 1 for a single document, n for a batch root.
    pub documents: u32,
}

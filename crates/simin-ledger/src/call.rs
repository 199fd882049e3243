//! Module calls: their typed failures, their stateless checks and their dispatch.

use std::collections::BTreeSet;

use simin_types::{
    limits, BlockTime, Call, GovernanceCall, Hash, Height, NotaryCall, OrgId, Organization,
    PublicKey, Tx,
};

use crate::state::Overlay;
use crate::{
    auth, data, evidence, governance, identity, notary, BlockContext, LedgerError, StateView,
};

/// Why a module refused a call. Stateless ones ([`check_call`]) keep a transaction out of
/// blocks; the others fail it inside a block with a receipt carrying [`CallError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("{signer} is not a city authority key")]
    Unauthorized { signer: PublicKey },
    #[error("invalid organisation {id}: {reason}")]
    InvalidOrganization { id: OrgId, reason: String },
    #[error("organisation {id} is already registered")]
    OrganizationExists { id: OrgId },
    #[error("organisation {id} is not registered")]
    UnknownOrganization { id: OrgId },
    #[error("key {key} already belongs to organisation {organization}")]
    KeyInUse { key: PublicKey, organization: OrgId },
    #[error("organisation {id} is already inactive")]
    AlreadyInactive { id: OrgId },
    #[error("{signer} is not a key of an active organisation with the notary role")]
    NotANotary { signer: PublicKey },
    #[error("{hash} was already anchored at height {height}")]
    AlreadyAnchored { hash: Hash, height: Height },
    #[error("invalid notary batch: {reason}")]
    InvalidBatch { reason: String },
    #[error("invalid validator {key}: {reason}")]
    InvalidValidator { key: PublicKey, reason: String },
    #[error("{key} is not a validator")]
    UnknownValidator { key: PublicKey },
    #[error("the change would leave an invalid validator set: {reason}")]
    InvalidValidatorSet { reason: String },
    #[error("the block's validator changes move {moved} of the {total} voting power deciding this height; each block must move less than a third")]
    /// `moved` saturates at `u64::MAX` (it may reach twice that), keeping the error small.
    ValidatorChangeTooLarge { moved: u64, total: u64 },
    #[error("invalid equivocation evidence: {reason}")]
    InvalidEvidence { reason: String },
    #[error("the two votes of {validator} are for the same value: no equivocation")]
    EvidenceNotConflicting { validator: PublicKey },
    #[error("the evidence is from height {height}, above the current height {current}")]
    EvidenceFromFuture { height: Height, current: Height },
    #[error("{validator} is not in the current validator set")]
    EvidenceNotAValidator { validator: PublicKey },
    #[error("the {which} vote's signature does not verify for {validator}")]
    EvidenceBadSignature { validator: PublicKey, which: String },
    #[error("this equivocation of {validator} was already recorded at height {height}")]
    EvidenceExists {
        validator: PublicKey,
        height: Height,
    },
    #[error("invalid DID document: {reason}")]
    InvalidDid { reason: String },
    #[error("did:simin:{organization} already exists")]
    DidExists { organization: OrgId },
    #[error("did:simin:{organization} does not exist")]
    UnknownDid { organization: OrgId },
    #[error("did:simin:{organization} is deactivated")]
    DidDeactivated { organization: OrgId },
    #[error("{signer} may not change did:simin:{organization}")]
    NotDidController {
        signer: PublicKey,
        organization: OrgId,
    },
    #[error("invalid accreditation: {reason}")]
    InvalidAccreditation { reason: String },
    #[error("{signer} is not a city authority or a key of an organisation that may accredit this")]
    NotAnAccreditor { signer: PublicKey },
    #[error("{signer} is not a key of an organisation accredited for {credential_type}")]
    NotAnIssuer {
        signer: PublicKey,
        credential_type: String,
    },
    #[error("invalid schema: {reason}")]
    InvalidSchema { reason: String },
    #[error("invalid status change: {reason}")]
    InvalidStatus { reason: String },
    #[error("unknown status list {list}: {reason}")]
    UnknownStatusList { list: u32, reason: String },
    #[error("invalid service registration {client_id:?}: {reason}")]
    InvalidService { client_id: String, reason: String },
    #[error("{organization} is not an active organisation with the service role")]
    NotAService { organization: OrgId },
    #[error(
        "{signer} is not a city authority or a key of the organisation of service {client_id}"
    )]
    NotServiceController {
        signer: PublicKey,
        client_id: String,
    },
    #[error("client id {client_id} belongs to {organization}; only a city authority may give it to another organisation")]
    ClientIdTaken {
        client_id: String,
        organization: OrgId,
    },
    #[error("the registry already holds the most services, {max}")]
    TooManyServices { max: usize },
    #[error("no service is registered with client id {client_id}")]
    UnknownService { client_id: String },
    #[error("service {client_id} is already deregistered")]
    ServiceInactive { client_id: String },
    #[error("invalid access record: {reason}")]
    InvalidAccess { reason: String },
    #[error("{signer} is not a key of an active organisation with the identity provider role")]
    NotAnIdentityProvider { signer: PublicKey },
    #[error("invalid dataset {id:?}: {reason}")]
    InvalidDataset { id: String, reason: String },
    #[error("invalid data source {id:?}: {reason}")]
    InvalidSource { id: String, reason: String },
    #[error("invalid batch of readings: {reason}")]
    InvalidReadingBatch { reason: String },
    #[error("invalid personal record: {reason}")]
    InvalidRecord { reason: String },
    #[error("invalid consent: {reason}")]
    InvalidConsent { reason: String },
    #[error("invalid benefit {id:?}: {reason}")]
    InvalidBenefit { id: String, reason: String },
    #[error("invalid eligibility decision: {reason}")]
    InvalidDecision { reason: String },
    #[error("organisation {id} is inactive")]
    OrganizationInactive { id: OrgId },
    #[error("{signer} is not a city authority or a key of an active agency")]
    NotADatasetRegistrar { signer: PublicKey },
    #[error("dataset {id} belongs to {owner}; only it or a city authority may replace it")]
    NotDatasetOwner { id: String, owner: OrgId },
    #[error("no dataset {id} is registered")]
    UnknownDataset { id: String },
    #[error("{organization} is not an active organisation with the data source role")]
    NotADataSource { organization: OrgId },
    #[error("{signer} is not a city authority or a key of the organisation of source {source_id}")]
    NotSourceController {
        signer: PublicKey,
        source_id: String,
    },
    #[error("key {key} belongs to organisation {organization}; a source or a record owner needs a key of its own")]
    OrganizationKey { key: PublicKey, organization: OrgId },
    #[error("no data source {id} is registered")]
    UnknownSource { id: String },
    #[error("data source {id} is inactive")]
    SourceInactive { id: String },
    #[error("{signer} is not the key of source {source_id}")]
    NotSourceKey {
        signer: PublicKey,
        source_id: String,
    },
    #[error("source {source_id} may not feed dataset {dataset}")]
    DatasetNotAllowed { source_id: String, dataset: String },
    #[error("batch {got} of source {source_id} is out of order; the next is {expected}")]
    BatchOutOfOrder {
        source_id: String,
        got: u64,
        expected: u64,
    },
    #[error("the batch's last reading at {last_time} is more than {drift_ms} ms after the block time {block_time}")]
    BatchFromFuture {
        last_time: BlockTime,
        block_time: BlockTime,
        drift_ms: u64,
    },
    #[error("{signer} is not a key of an active organisation")]
    NotAnOrganizationKey { signer: PublicKey },
    #[error("record {id} already exists")]
    RecordExists { id: Hash },
    #[error("no record {id} exists")]
    UnknownRecord { id: Hash },
    #[error("record {id} is erased")]
    RecordErased { id: Hash },
    #[error("the signer is not the owner key of record {record}")]
    NotRecordOwner { record: Hash },
    #[error("the signer is neither the owner key nor a key of the holder of record {record}")]
    NotRecordController { record: Hash },
    #[error("the record has no consent for {organization} and purpose {purpose}")]
    UnknownConsent {
        organization: OrgId,
        purpose: String,
    },
    #[error("the record's consent for {organization} and purpose {purpose} is already revoked")]
    ConsentRevoked {
        organization: OrgId,
        purpose: String,
    },
    #[error("{organization} has no consent valid at this block to read the record for {purpose}")]
    NoConsent {
        organization: OrgId,
        purpose: String,
    },
    #[error("{signer} is not a key of {organization}, or it is not an active agency or service")]
    NotABenefitPublisher {
        signer: PublicKey,
        organization: OrgId,
    },
    #[error("benefit {id} belongs to {organization}")]
    BenefitTaken { id: String, organization: OrgId },
    #[error("no benefit {id} is published")]
    UnknownBenefit { id: String },
    #[error("{signer} is not a key of the organisation of benefit {benefit}")]
    NotBenefitOrganization { signer: PublicKey, benefit: String },
    #[error("the decision applied another policy than benefit {benefit}'s current one, {current}")]
    StalePolicy { benefit: String, current: Hash },
    #[error("decision {id} already exists")]
    DecisionExists { id: Hash },
}

impl CallError {
    /// The stable machine-readable code of the failure, as written in receipts.
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Unauthorized { .. } => "governance.unauthorized",
            CallError::InvalidOrganization { .. } => "governance.invalid_organization",
            CallError::OrganizationExists { .. } => "governance.organization_exists",
            CallError::UnknownOrganization { .. } => "governance.unknown_organization",
            CallError::KeyInUse { .. } => "governance.key_in_use",
            CallError::AlreadyInactive { .. } => "governance.already_inactive",
            CallError::NotANotary { .. } => "notary.not_a_notary",
            CallError::AlreadyAnchored { .. } => "notary.already_anchored",
            CallError::InvalidBatch { .. } => "notary.invalid_batch",
            CallError::InvalidValidator { .. } => "governance.invalid_validator",
            CallError::UnknownValidator { .. } => "governance.unknown_validator",
            CallError::InvalidValidatorSet { .. } => "governance.invalid_validator_set",
            CallError::ValidatorChangeTooLarge { .. } => "governance.validator_change_too_large",
            CallError::InvalidEvidence { .. } => "consensus.invalid_evidence",
            CallError::EvidenceNotConflicting { .. } => "consensus.evidence_not_conflicting",
            CallError::EvidenceFromFuture { .. } => "consensus.evidence_from_future",
            CallError::EvidenceNotAValidator { .. } => "consensus.not_a_validator",
            CallError::EvidenceBadSignature { .. } => "consensus.evidence_bad_signature",
            CallError::EvidenceExists { .. } => "consensus.evidence_exists",
            CallError::InvalidDid { .. } => "identity.invalid_did",
            CallError::DidExists { .. } => "identity.did_exists",
            CallError::UnknownDid { .. } => "identity.unknown_did",
            CallError::DidDeactivated { .. } => "identity.did_deactivated",
            CallError::NotDidController { .. } => "identity.not_did_controller",
            CallError::InvalidAccreditation { .. } => "identity.invalid_accreditation",
            CallError::NotAnAccreditor { .. } => "identity.not_an_accreditor",
            CallError::NotAnIssuer { .. } => "identity.not_an_issuer",
            CallError::InvalidSchema { .. } => "identity.invalid_schema",
            CallError::InvalidStatus { .. } => "identity.invalid_status",
            CallError::UnknownStatusList { .. } => "identity.unknown_status_list",
            CallError::InvalidService { .. } => "auth.invalid_service",
            CallError::NotAService { .. } => "auth.not_a_service",
            CallError::NotServiceController { .. } => "auth.not_service_controller",
            CallError::ClientIdTaken { .. } => "auth.client_id_taken",
            CallError::TooManyServices { .. } => "auth.too_many_services",
            CallError::UnknownService { .. } => "auth.unknown_service",
            CallError::ServiceInactive { .. } => "auth.service_inactive",
            CallError::InvalidAccess { .. } => "auth.invalid_access",
            CallError::NotAnIdentityProvider { .. } => "auth.not_an_identity_provider",
            CallError::InvalidDataset { .. } => "data.invalid_dataset",
            CallError::InvalidSource { .. } => "data.invalid_source",
            CallError::InvalidReadingBatch { .. } => "data.invalid_batch",
            CallError::InvalidRecord { .. } => "data.invalid_record",
            CallError::InvalidConsent { .. } => "data.invalid_consent",
            CallError::InvalidBenefit { .. } => "data.invalid_benefit",
            CallError::InvalidDecision { .. } => "data.invalid_decision",
            CallError::OrganizationInactive { .. } => "data.organization_inactive",
            CallError::NotADatasetRegistrar { .. } => "data.not_a_dataset_registrar",
            CallError::NotDatasetOwner { .. } => "data.not_dataset_owner",
            CallError::UnknownDataset { .. } => "data.unknown_dataset",
            CallError::NotADataSource { .. } => "data.not_a_data_source",
            CallError::NotSourceController { .. } => "data.not_source_controller",
            CallError::OrganizationKey { .. } => "data.organization_key",
            CallError::UnknownSource { .. } => "data.unknown_source",
            CallError::SourceInactive { .. } => "data.source_inactive",
            CallError::NotSourceKey { .. } => "data.not_source_key",
            CallError::DatasetNotAllowed { .. } => "data.dataset_not_allowed",
            CallError::BatchOutOfOrder { .. } => "data.batch_out_of_order",
            CallError::BatchFromFuture { .. } => "data.batch_from_future",
            CallError::NotAnOrganizationKey { .. } => "data.not_an_organization_key",
            CallError::RecordExists { .. } => "data.record_exists",
            CallError::UnknownRecord { .. } => "data.unknown_record",
            CallError::RecordErased { .. } => "data.record_erased",
            CallError::NotRecordOwner { .. } => "data.not_record_owner",
            CallError::NotRecordController { .. } => "data.not_record_controller",
            CallError::UnknownConsent { .. } => "data.unknown_consent",
            CallError::ConsentRevoked { .. } => "data.consent_revoked",
            CallError::NoConsent { .. } => "data.no_consent",
            CallError::NotABenefitPublisher { .. } => "data.not_a_benefit_publisher",
            CallError::BenefitTaken { .. } => "data.benefit_taken",
            CallError::UnknownBenefit { .. } => "data.unknown_benefit",
            CallError::NotBenefitOrganization { .. } => "data.not_benefit_organization",
            CallError::StalePolicy { .. } => "data.stale_policy",
            CallError::DecisionExists { .. } => "data.decision_exists",
        }
    }
}

/// Checks what a call's own content can tell, without state: a call failing here can never
/// succeed, so the mempool refuses it and a block carrying it is invalid.
pub fn check_call(call: &Call) -> Result<(), CallError> {
    match call {
        Call::Governance(GovernanceCall::RegisterOrganization(org))
        | Call::Governance(GovernanceCall::UpdateOrganization(org)) => check_organization(org),
        Call::Governance(GovernanceCall::DeactivateOrganization { .. }) => Ok(()),
        Call::Governance(GovernanceCall::SetValidator { public_key, .. }) => {
            if public_key.is_valid() {
                Ok(())
            } else {
                Err(CallError::InvalidValidator {
                    key: *public_key,
                    reason: "not a valid Ed25519 key".into(),
                })
            }
        }
        Call::Notary(NotaryCall::Anchor { .. }) => Ok(()),
        Call::Notary(NotaryCall::AnchorBatch { documents }) => check_batch(documents),
        Call::Consensus(call) => evidence::check(call),
        Call::Identity(call) => identity::check(call),
        Call::Auth(call) => auth::check(call),
        Call::Data(call) => data::check(call),
    }
}

/// A non-empty name of at most `ORG_NAME_BYTES_MAX` bytes, 1 to `ORG_KEYS_MAX` distinct
/// valid keys, at most `ORG_KEYS_MAX` distinct roles.
pub(crate) fn check_organization(org: &Organization) -> Result<(), CallError> {
    let invalid = |reason: String| CallError::InvalidOrganization {
        id: org.id.clone(),
        reason,
    };
    if org.name.is_empty() || org.name.len() > limits::ORG_NAME_BYTES_MAX {
        return Err(invalid(format!(
            "the name is {} bytes; it must be 1 to {}",
            org.name.len(),
            limits::ORG_NAME_BYTES_MAX
        )));
    }
    if org.keys.is_empty() || org.keys.len() > limits::ORG_KEYS_MAX {
        return Err(invalid(format!(
            "it has {} keys; it must have 1 to {}",
            org.keys.len(),
            limits::ORG_KEYS_MAX
        )));
    }
    if let Some(key) = org.keys.iter().find(|k| !k.is_valid()) {
        return Err(invalid(format!("key {key} is not a valid Ed25519 key")));
    }
    if org.keys.iter().collect::<BTreeSet<_>>().len() != org.keys.len() {
        return Err(invalid("a key appears twice".into()));
    }
    if org.roles.len() > limits::ORG_KEYS_MAX {
        return Err(invalid(format!(
            "it has {} roles; the limit is {}",
            org.roles.len(),
            limits::ORG_KEYS_MAX
        )));
    }
    // Bounded by the check above, so the quadratic scan stays small.
    let duplicate_role = org
        .roles
        .iter()
        .enumerate()
        .any(|(i, role)| org.roles[..i].contains(role));
    if duplicate_role {
        return Err(invalid("a role appears twice".into()));
    }
    Ok(())
}

/// 1 to `NOTARY_BATCH_MAX` distinct document hashes.
fn check_batch(documents: &[Hash]) -> Result<(), CallError> {
    if documents.is_empty() || documents.len() > limits::NOTARY_BATCH_MAX {
        return Err(CallError::InvalidBatch {
            reason: format!(
                "it has {} documents; it must have 1 to {}",
                documents.len(),
                limits::NOTARY_BATCH_MAX
            ),
        });
    }
    if documents.iter().collect::<BTreeSet<_>>().len() != documents.len() {
        return Err(CallError::InvalidBatch {
            reason: "a document hash appears twice".into(),
        });
    }
    Ok(())
}

/// A failed call: either the module refused it (the transaction fails, the block goes on)
/// or the state could not be read (the block cannot be executed).
#[derive(Debug)]
pub(crate) enum ExecError {
    Call(CallError),
    Ledger(LedgerError),
}

impl From<CallError> for ExecError {
    fn from(e: CallError) -> Self {
        ExecError::Call(e)
    }
}

impl From<LedgerError> for ExecError {
    fn from(e: LedgerError) -> Self {
        ExecError::Ledger(e)
    }
}

/// What admission learns from a call's signer check ([`authorize`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// The signer holds what the call needs in state: a city authority, a key of an
    /// organisation with the right role, a source's key, a DID's controller. The rest of
    /// the call is checked in the block; a failure there costs an accountable signer.
    Holder,
    /// The call is open to keys nobody registered (a record's owner key, an evidence
    /// reporter): admission runs the whole call against the checked state first.
    Open,
}

/// The signer check of a call against `view`: refuses a signer that can never make the
/// call in this state. Each module's `execute` starts with the same function, so a call
/// admission refuses here is one execution would refuse too.
pub(crate) fn authorize(
    view: &dyn StateView,
    signer: &PublicKey,
    call: &Call,
) -> Result<Standing, ExecError> {
    match call {
        Call::Governance(_) => governance::authorize(view, signer),
        Call::Notary(_) => notary::authorize(view, signer),
        Call::Consensus(_) => Ok(evidence::authorize()),
        Call::Identity(call) => identity::authorize(view, signer, call),
        Call::Auth(call) => auth::authorize(view, signer, call),
        Call::Data(call) => data::authorize(view, signer, call),
    }
}

/// Runs an admitted transaction's call in its own scope `state`; `before` is the state
/// the block started from.
pub(crate) fn execute(
    state: &mut Overlay<'_>,
    before: &dyn StateView,
    ctx: &BlockContext,
    tx: &Tx,
    tx_hash: Hash,
) -> Result<(), ExecError> {
    match &tx.call {
        Call::Governance(call) => governance::execute(state, before, &tx.signer, call),
        Call::Notary(call) => notary::execute(state, ctx, &tx.signer, tx_hash, call),
        Call::Consensus(call) => evidence::execute(state, before, ctx, &tx.signer, tx_hash, call),
        Call::Identity(call) => identity::execute(state, ctx, &tx.signer, call),
        Call::Auth(call) => auth::execute(state, ctx, &tx.signer, call),
        Call::Data(call) => data::execute(state, ctx, &tx.signer, call),
    }
}

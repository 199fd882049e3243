//! The data module's calls and records: urban data feeds (datasets, registered sources,
//! batches of signed readings committed as Merkle roots), citizens' personal records
//! (commitments, consent, an access log, erasure) and paperless eligibility decisions.
//!
//! Nothing personal is written here. A reading is public urban data, and only its batch's
//! Merkle root is on chain; the readings live in the node's content store. A personal
//! record is a commitment, the holder organisation, and the owner's pseudonymous key (one
//! key per record, derived in the wallet, so two records of one citizen cannot be linked
//! on chain); its content stays off chain, encrypted under a key whose destruction erases
//! it. An eligibility decision names a benefit, a pseudonym and the hashes of the
//! evidence, never the evidence.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::{BlockTime, Hash, Height, OrgId, PublicKey};

/// Calls of the data module. New variants are only ever appended (ADR 0002).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataCall {
    /// Registers a dataset (or replaces it, by its owner or a city authority). By a city
    /// authority or a key of an active `Agency` organisation, which becomes its owner.
    RegisterDataset(Dataset),
    /// Registers a source (a device) of the signer's organisation, which must hold the
    /// `DataSource` role, or replaces it (same organisation). Its datasets must exist.
    RegisterSource(DataSource),
    /// Stops a source: its later batches are refused. By its organisation or a city
    /// authority.
    DeactivateSource { source: String },
    /// A batch of readings, signed by the source's own key (the transaction's signer):
    /// its Merkle root, count and time span; `seq` is the source's previous batch + 1,
    /// so a replayed batch is refused.
    SubmitBatch(ReadingBatch),
    /// Registers a personal record held by the signer's organisation: its commitment and
    /// its owner's pseudonymous key. The content stays off chain, encrypted.
    CreateRecord(PersonalRecord),
    /// The owner (the record's `owner` key signs) lets an organisation read the record
    /// for a purpose until `expires`. Replaces an earlier consent for the same triple.
    GrantConsent(Consent),
    /// The owner withdraws a consent, from this block on.
    RevokeConsent {
        record: Hash,
        organization: OrgId,
        purpose: String,
    },
    /// An organisation reads a record: refused without a consent valid at this block;
    /// accepted, it is appended to the record's access log. The holder's vault releases
    /// the content only once this is committed.
    LogAccess { record: Hash, purpose: String },
    /// The record's key was destroyed (crypto-shredding): its content is unreadable
    /// everywhere; the commitment and the log remain. By the owner or the holder.
    EraseRecord { record: Hash },
    /// Publishes (or replaces) the requirements of a benefit. By a key of the benefit's
    /// organisation (`Agency` or `Service` role).
    PublishBenefit(Benefit),
    /// Records an eligibility decision with the hashes of its evidence. By a key of the
    /// benefit's organisation.
    RecordDecision(EligibilityDecision),
}

impl DataCall {
    /// A short stable name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            DataCall::RegisterDataset(_) => "data.register_dataset",
            DataCall::RegisterSource(_) => "data.register_source",
            DataCall::DeactivateSource { .. } => "data.deactivate_source",
            DataCall::SubmitBatch(_) => "data.submit_batch",
            DataCall::CreateRecord(_) => "data.create_record",
            DataCall::GrantConsent(_) => "data.grant_consent",
            DataCall::RevokeConsent { .. } => "data.revoke_consent",
            DataCall::LogAccess { .. } => "data.log_access",
            DataCall::EraseRecord { .. } => "data.erase_record",
            DataCall::PublishBenefit(_) => "data.publish_benefit",
            DataCall::RecordDecision(_) => "data.record_decision",
        }
    }
}

/// A dataset: what `state_keys::dataset(id)` holds.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Dataset {
    /// 1 to 64 characters of `a-z`, `0-9`, `.`, `-`, `_`, e.g. `seoul.air-quality`.
    pub id: String,
    /// Set by the ledger to the registering organisation (ignored in calls).
    pub owner: OrgId,
    /// 1 to 200 bytes.
    pub name: String,
    /// The JSON Schema (draft 2020-12) of a reading's `value`, at most
    /// `limits::SCHEMA_BYTES_MAX` bytes.
    pub schema: String,
}

/// A registered source: what `state_keys::data_source(id)` holds.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct DataSource {
    /// 1 to 64 characters of `a-z`, `0-9`, `.`, `-`, `_`, e.g. `mapo.aq-0042`.
    pub id: String,
    pub organization: OrgId,
    /// The device's key: it signs the source's batches.
    pub key: PublicKey,
    /// The datasets it may feed (1 to 16).
    pub datasets: Vec<String>,
    /// Where it is: a district (gu), 1 to 40 bytes, for queries by district.
    pub district: String,
    /// False once deactivated; set by the ledger, ignored in calls.
    #[serde(default = "active_default")]
    pub active: bool,
}

fn active_default() -> bool {
    true
}

/// A batch of readings as committed: what `state_keys::data_batch(source, seq)` holds
/// (with the height and time of its block, in a [`BatchRecord`]).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ReadingBatch {
    pub dataset: String,
    pub source: String,
    /// 1 for a source's first batch, then +1.
    pub seq: u64,
    /// RFC 9162 Merkle root of the readings' leaves ([`reading_leaf`]), in order.
    pub root: Hash,
    /// 1 to `limits::READINGS_PER_BATCH_MAX`.
    pub count: u32,
    /// The earliest and latest reading times, `first_time <= last_time`.
    pub first_time: BlockTime,
    pub last_time: BlockTime,
}

/// A committed batch.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct BatchRecord {
    pub batch: ReadingBatch,
    pub height: Height,
    pub block_time: BlockTime,
}

/// One reading as it is hashed into its batch's Merkle tree.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ReadingLeaf {
    pub dataset: String,
    pub source: String,
    pub time: BlockTime,
    /// The reading's value as JSON text in the JSON Canonicalization Scheme (RFC 8785),
    /// so that every party hashes the same bytes.
    pub value: String,
}

/// The Merkle leaf hash of a reading: `merkle::leaf_hash(borsh(leaf))`.
pub fn reading_leaf(leaf: &ReadingLeaf) -> Hash {
    crate::merkle::leaf_hash(&crate::encode(leaf))
}

/// A personal record: what `state_keys::personal_record(id)` holds.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct PersonalRecord {
    /// Chosen at random by the holder (32 bytes), so ids say nothing.
    pub id: Hash,
    /// Set by the ledger to the signer's organisation (ignored in calls).
    pub holder: OrgId,
    /// The owner's key for this record only (derived in the wallet).
    pub owner: PublicKey,
    /// What kind of record, e.g. `welfare_application`, `move_in_report`: 1 to 64
    /// characters of `a-z`, `0-9`, `_`.
    pub kind: String,
    /// SHA-256 of the record's ciphertext (nonce ‖ ciphertext), so anyone holding the
    /// ciphertext can check it is the one registered.
    pub commitment: Hash,
    /// Set by the ledger (ignored in calls).
    pub created_time: BlockTime,
    /// Set by `EraseRecord` (ignored in calls).
    pub erased_time: Option<BlockTime>,
}

/// A consent: what `state_keys::consent(record, organization, purpose)` holds.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Consent {
    pub record: Hash,
    pub organization: OrgId,
    /// Why the organisation may read it, 1 to 64 characters of `a-z`, `0-9`, `_`.
    pub purpose: String,
    /// The end of the consent (exclusive).
    pub expires: BlockTime,
    /// Set by `RevokeConsent` (ignored in calls).
    pub revoked_time: Option<BlockTime>,
}

/// What happened to a record, in its log.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RecordEvent {
    Created,
    ConsentGranted,
    ConsentRevoked,
    Read,
    Erased,
}

/// One entry of a record's log: what `state_keys::record_log(record, seq)` holds.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RecordLogEntry {
    pub event: RecordEvent,
    /// The organisation concerned (the reader, the consent's grantee, the holder).
    pub organization: Option<OrgId>,
    pub purpose: Option<String>,
    pub height: Height,
    pub time: BlockTime,
}

/// A benefit's requirements: what `state_keys::benefit(id)` holds.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Benefit {
    /// 1 to 64 characters of `a-z`, `0-9`, `.`, `-`, `_`, e.g. `seoul.youth-allowance`.
    pub id: String,
    pub organization: OrgId,
    /// 1 to 200 bytes.
    pub name: String,
    /// The requirements as a JSON policy document (at most 16 KiB), evaluated off chain
    /// by `simin_identity::eligibility`; its SHA-256 is what decisions cite.
    pub policy: String,
}

/// A decision: what `state_keys::decision(id)` holds.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct EligibilityDecision {
    /// Chosen by the deciding organisation (32 random bytes).
    pub id: Hash,
    pub benefit: String,
    /// SHA-256 of the policy text the decision applied (must be the benefit's current).
    pub policy_hash: Hash,
    /// A pseudonym of the applicant for this benefit (e.g. a pairwise subject's hash).
    pub applicant: Hash,
    pub eligible: bool,
    /// SHA-256 of each presentation the decision rests on, in the order evaluated.
    pub evidence: Vec<Hash>,
    /// Set by the ledger (ignored in calls).
    pub decided_time: BlockTime,
}

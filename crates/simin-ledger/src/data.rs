//! The data module: urban data feeds (datasets, sources, batches of readings), citizens'
//! personal records with consent and an access log, and eligibility decisions (see
//! `simin_types::data`).
//!
//! Authority: a dataset is registered by a city authority or an active agency, and
//! replaced only by its owner or an authority. A source belongs to an organisation with
//! the `DataSource` role, and its batches are signed by the source's own key, numbered
//! from 1 without gaps, so a replayed or skipped batch is refused. A personal record is
//! registered by its holder; its owner key alone grants and revokes consent; an
//! organisation logs a read only under a consent valid at the block (the holder always
//! may); the owner or the holder erases it. Benefits belong to their organisation, which
//! alone records decisions citing the benefit's current policy.

mod authorize;
mod benefits;
mod check;
mod feeds;
mod records;

use simin_types::{
    state_keys, BatchRecord, Benefit, BlockTime, Consent, DataCall, DataSource, Dataset,
    EligibilityDecision, Hash, OrgId, Organization, PersonalRecord, PublicKey, RecordLogEntry,
};

use crate::call::{CallError, ExecError};
use crate::governance::{organization, organization_of_key};
use crate::state::{read, Overlay};
use crate::{BlockContext, LedgerError, StateView};

pub(crate) use authorize::authorize;
pub(crate) use check::check;
pub use check::{is_id, is_purpose};

/// Longest dataset or benefit name, in bytes.
pub const NAME_BYTES_MAX: usize = 200;
/// Longest district name of a source, in bytes.
pub const DISTRICT_BYTES_MAX: usize = 40;
/// Longest id of a dataset, source or benefit, in bytes.
pub const ID_BYTES_MAX: usize = 64;
/// Longest record kind or consent purpose, in bytes.
pub const PURPOSE_BYTES_MAX: usize = 64;
/// How far after the block time a batch's last reading may be: device clocks drift, but
/// a reading from further in the future is refused.
pub const BATCH_CLOCK_DRIFT_MS: u64 = 10 * 60 * 1000;
/// Most log entries [`record_log`] returns at once.
pub const RECORD_LOG_LIMIT_MAX: u64 = 256;

/// Runs a data call.
pub(crate) fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    call: &DataCall,
) -> Result<(), ExecError> {
    authorize(state, signer, call)?;
    match call {
        DataCall::RegisterDataset(dataset) => feeds::register_dataset(state, signer, dataset),
        DataCall::RegisterSource(source) => feeds::register_source(state, signer, source),
        DataCall::DeactivateSource { source } => feeds::deactivate_source(state, signer, source),
        DataCall::SubmitBatch(batch) => feeds::submit_batch(state, ctx, signer, batch),
        DataCall::CreateRecord(record) => records::create_record(state, ctx, signer, record),
        DataCall::GrantConsent(consent) => records::grant_consent(state, ctx, signer, consent),
        DataCall::RevokeConsent {
            record,
            organization,
            purpose,
        } => records::revoke_consent(state, ctx, signer, record, organization, purpose),
        DataCall::LogAccess { record, purpose } => {
            records::log_access(state, ctx, signer, record, purpose)
        }
        DataCall::EraseRecord { record } => records::erase_record(state, ctx, signer, record),
        DataCall::PublishBenefit(benefit) => benefits::publish_benefit(state, signer, benefit),
        DataCall::RecordDecision(decision) => {
            benefits::record_decision(state, ctx, signer, decision)
        }
    }
}

fn is_authority(state: &dyn StateView, signer: &PublicKey) -> Result<bool, ExecError> {
    let authorities: Vec<PublicKey> =
        read(state, &state_keys::authorities(), "authorities")?.unwrap_or_default();
    Ok(authorities.contains(signer))
}

/// The active organisation `signer` is a key of, if any.
fn active_org_of(
    state: &dyn StateView,
    signer: &PublicKey,
) -> Result<Option<Organization>, ExecError> {
    let Some(id) = organization_of_key(state, signer)? else {
        return Ok(None);
    };
    Ok(organization(state, &id)?.filter(|org| org.active))
}

/// A registered, active organisation.
fn active_org(state: &dyn StateView, id: &OrgId) -> Result<Organization, ExecError> {
    match organization(state, id)? {
        None => Err(CallError::UnknownOrganization { id: id.clone() }.into()),
        Some(org) if !org.active => Err(CallError::OrganizationInactive { id: id.clone() }.into()),
        Some(org) => Ok(org),
    }
}

/// Refuses a key that belongs to an organisation: sources and record owners keep
/// accounts of their own, so no organisation key can act as one.
fn refuse_organization_key(state: &dyn StateView, key: &PublicKey) -> Result<(), ExecError> {
    match organization_of_key(state, key)? {
        Some(organization) => Err(CallError::OrganizationKey {
            key: *key,
            organization,
        }
        .into()),
        None => Ok(()),
    }
}

/// Reads a dataset.
pub fn dataset(view: &dyn StateView, id: &str) -> Result<Option<Dataset>, LedgerError> {
    read(view, &state_keys::dataset(id), "dataset")
}

/// Reads a data source.
pub fn data_source(view: &dyn StateView, id: &str) -> Result<Option<DataSource>, LedgerError> {
    read(view, &state_keys::data_source(id), "data source")
}

/// The `seq` of a source's last committed batch (0 if none).
pub fn source_seq(view: &dyn StateView, source: &str) -> Result<u64, LedgerError> {
    Ok(read(view, &state_keys::data_source_seq(source), "source seq")?.unwrap_or(0))
}

/// Reads a committed batch of a source.
pub fn batch(
    view: &dyn StateView,
    source: &str,
    seq: u64,
) -> Result<Option<BatchRecord>, LedgerError> {
    read(view, &state_keys::data_batch(source, seq), "batch")
}

/// Reads a personal record.
pub fn personal_record(
    view: &dyn StateView,
    id: &Hash,
) -> Result<Option<PersonalRecord>, LedgerError> {
    read(view, &state_keys::personal_record(id), "personal record")
}

/// Reads a consent, revoked or expired ones included.
pub fn consent(
    view: &dyn StateView,
    record: &Hash,
    organization: &OrgId,
    purpose: &str,
) -> Result<Option<Consent>, LedgerError> {
    read(
        view,
        &state_keys::consent(record, organization, purpose),
        "consent",
    )
}

/// Whether `organization` may read `record` for `purpose` at time `now`: a consent that
/// is not revoked and expires after `now`. Erasure and the holder's own access are the
/// caller's concern (the vault checks both).
pub fn consent_valid(
    view: &dyn StateView,
    record: &Hash,
    organization: &OrgId,
    purpose: &str,
    now: BlockTime,
) -> Result<bool, LedgerError> {
    Ok(consent(view, record, organization, purpose)?
        .is_some_and(|c| c.revoked_time.is_none() && c.expires > now))
}

/// How many entries a record's log has (0 if none).
pub fn record_log_count(view: &dyn StateView, record: &Hash) -> Result<u64, LedgerError> {
    Ok(read(
        view,
        &state_keys::record_log_count(record),
        "record log count",
    )?
    .unwrap_or(0))
}

/// A record's log entries number `from` onwards, at most `limit` of them (capped at
/// [`RECORD_LOG_LIMIT_MAX`]), in order.
pub fn record_log(
    view: &dyn StateView,
    record: &Hash,
    from: u64,
    limit: u64,
) -> Result<Vec<RecordLogEntry>, LedgerError> {
    let count = record_log_count(view, record)?;
    let end = count.min(from.saturating_add(limit.min(RECORD_LOG_LIMIT_MAX)));
    let mut entries = Vec::new();
    for seq in from..end {
        let key = state_keys::record_log(record, seq);
        let Some(entry) = read::<RecordLogEntry>(view, &key, "record log entry")? else {
            return Err(LedgerError::MissingState {
                key: key.escape_ascii().to_string(),
                what: "record log entry",
            });
        };
        entries.push(entry);
    }
    Ok(entries)
}

/// Reads a benefit.
pub fn benefit(view: &dyn StateView, id: &str) -> Result<Option<Benefit>, LedgerError> {
    read(view, &state_keys::benefit(id), "benefit")
}

/// Reads an eligibility decision.
pub fn decision(
    view: &dyn StateView,
    id: &Hash,
) -> Result<Option<EligibilityDecision>, LedgerError> {
    read(view, &state_keys::decision(id), "decision")
}

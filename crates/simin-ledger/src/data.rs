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

use simin_types::{
    limits, state_keys, BatchRecord, Benefit, BlockTime, Consent, DataCall, DataSource, Dataset,
    EligibilityDecision, Hash, OrgId, Organization, PersonalRecord, PublicKey, ReadingBatch,
    RecordEvent, RecordLogEntry, Role,
};

use crate::call::{CallError, ExecError};
use crate::governance::{organization, organization_of_key};
use crate::state::{read, Overlay};
use crate::{BlockContext, LedgerError, StateView};

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

/// Stateless checks of a data call (bounds and formats).
pub(crate) fn check(call: &DataCall) -> Result<(), CallError> {
    match call {
        DataCall::RegisterDataset(dataset) => check_dataset(dataset),
        DataCall::RegisterSource(source) => check_source(source),
        DataCall::DeactivateSource { source } => {
            check_id(source).map_err(|reason| invalid_source(source, reason))
        }
        DataCall::SubmitBatch(batch) => check_batch(batch),
        DataCall::CreateRecord(record) => check_record(record),
        DataCall::GrantConsent(consent) => {
            check_purpose(&consent.purpose).map_err(|reason| CallError::InvalidConsent { reason })
        }
        DataCall::RevokeConsent { purpose, .. } | DataCall::LogAccess { purpose, .. } => {
            check_purpose(purpose).map_err(|reason| CallError::InvalidConsent { reason })
        }
        DataCall::EraseRecord { .. } => Ok(()),
        DataCall::PublishBenefit(benefit) => check_benefit(benefit),
        DataCall::RecordDecision(decision) => check_decision(decision),
    }
}

/// The start of an untrusted string, for error messages: never more than 80 characters.
fn shorten(text: &str) -> String {
    text.chars().take(80).collect()
}

fn invalid_dataset(id: &str, reason: impl Into<String>) -> CallError {
    CallError::InvalidDataset {
        id: shorten(id),
        reason: reason.into(),
    }
}

fn invalid_source(id: &str, reason: impl Into<String>) -> CallError {
    CallError::InvalidSource {
        id: shorten(id),
        reason: reason.into(),
    }
}

fn invalid_benefit(id: &str, reason: impl Into<String>) -> CallError {
    CallError::InvalidBenefit {
        id: shorten(id),
        reason: reason.into(),
    }
}

/// 1 to `max` bytes, each in `allowed`.
fn is_token(text: &str, max: usize, allowed: impl Fn(u8) -> bool) -> bool {
    (1..=max).contains(&text.len()) && text.bytes().all(allowed)
}

/// A dataset, source or benefit id: 1 to 64 characters of `a-z`, `0-9`, `.`, `-`, `_`.
pub fn is_id(text: &str) -> bool {
    is_token(text, ID_BYTES_MAX, |b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || b".-_".contains(&b)
    })
}

/// A record kind or consent purpose: 1 to 64 characters of `a-z`, `0-9`, `_`.
pub fn is_purpose(text: &str) -> bool {
    is_token(text, PURPOSE_BYTES_MAX, |b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'
    })
}

fn check_id(id: &str) -> Result<(), String> {
    if is_id(id) {
        Ok(())
    } else {
        Err(format!(
            "the id {:?} must be 1 to {ID_BYTES_MAX} characters of a-z, 0-9, '.', '-', '_'",
            shorten(id)
        ))
    }
}

fn check_purpose(purpose: &str) -> Result<(), String> {
    if is_purpose(purpose) {
        Ok(())
    } else {
        Err(format!(
            "{:?} must be 1 to {PURPOSE_BYTES_MAX} characters of a-z, 0-9, '_'",
            shorten(purpose)
        ))
    }
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > NAME_BYTES_MAX {
        Err(format!(
            "the name is {} bytes; it must be 1 to {NAME_BYTES_MAX}",
            name.len()
        ))
    } else {
        Ok(())
    }
}

/// Non-empty JSON of at most `max` bytes. Parsing is deterministic, so every validator
/// agrees; the ledger neither compiles schemas nor evaluates policies.
fn check_json(text: &str, max: usize) -> Result<(), String> {
    if text.is_empty() || text.len() > max {
        return Err(format!("{} bytes; it must be 1 to {max}", text.len()));
    }
    serde_json::from_str::<serde_json::Value>(text)
        .map(|_| ())
        .map_err(|e| format!("not JSON: {e}"))
}

fn check_dataset(dataset: &Dataset) -> Result<(), CallError> {
    let id = dataset.id.as_str();
    check_id(id).map_err(|r| invalid_dataset(id, r))?;
    check_name(&dataset.name).map_err(|r| invalid_dataset(id, r))?;
    check_json(&dataset.schema, limits::SCHEMA_BYTES_MAX)
        .map_err(|r| invalid_dataset(id, format!("schema: {r}")))
}

fn check_source(source: &DataSource) -> Result<(), CallError> {
    let id = source.id.as_str();
    check_id(id).map_err(|r| invalid_source(id, r))?;
    if !source.key.is_valid() {
        return Err(invalid_source(id, "the key is not a valid Ed25519 key"));
    }
    let datasets = &source.datasets;
    if datasets.is_empty() || datasets.len() > limits::SOURCE_DATASETS_MAX {
        return Err(invalid_source(
            id,
            format!(
                "{} datasets; list 1 to {}",
                datasets.len(),
                limits::SOURCE_DATASETS_MAX
            ),
        ));
    }
    for (i, dataset) in datasets.iter().enumerate() {
        check_id(dataset).map_err(|r| invalid_source(id, format!("dataset: {r}")))?;
        // Bounded by SOURCE_DATASETS_MAX, so the quadratic scan stays small.
        if datasets[..i].contains(dataset) {
            return Err(invalid_source(
                id,
                format!("dataset {dataset} appears twice"),
            ));
        }
    }
    if source.district.is_empty() || source.district.len() > DISTRICT_BYTES_MAX {
        return Err(invalid_source(
            id,
            format!(
                "the district is {} bytes; it must be 1 to {DISTRICT_BYTES_MAX}",
                source.district.len()
            ),
        ));
    }
    Ok(())
}

fn check_batch(batch: &ReadingBatch) -> Result<(), CallError> {
    let invalid = |reason: String| CallError::InvalidReadingBatch { reason };
    check_id(&batch.source).map_err(|r| invalid(format!("source: {r}")))?;
    check_id(&batch.dataset).map_err(|r| invalid(format!("dataset: {r}")))?;
    if batch.count == 0 || batch.count > limits::READINGS_PER_BATCH_MAX {
        return Err(invalid(format!(
            "{} readings; a batch has 1 to {}",
            batch.count,
            limits::READINGS_PER_BATCH_MAX
        )));
    }
    if batch.first_time > batch.last_time {
        return Err(invalid(format!(
            "the first reading at {} is after the last at {}",
            batch.first_time, batch.last_time
        )));
    }
    Ok(())
}

fn check_record(record: &PersonalRecord) -> Result<(), CallError> {
    let invalid = |reason: String| CallError::InvalidRecord { reason };
    check_purpose(&record.kind).map_err(|r| invalid(format!("kind: {r}")))?;
    if !record.owner.is_valid() {
        return Err(invalid("the owner key is not a valid Ed25519 key".into()));
    }
    Ok(())
}

fn check_benefit(benefit: &Benefit) -> Result<(), CallError> {
    let id = benefit.id.as_str();
    check_id(id).map_err(|r| invalid_benefit(id, r))?;
    check_name(&benefit.name).map_err(|r| invalid_benefit(id, r))?;
    check_json(&benefit.policy, limits::POLICY_BYTES_MAX)
        .map_err(|r| invalid_benefit(id, format!("policy: {r}")))
}

fn check_decision(decision: &EligibilityDecision) -> Result<(), CallError> {
    let invalid = |reason: String| CallError::InvalidDecision { reason };
    check_id(&decision.benefit).map_err(|r| invalid(format!("benefit: {r}")))?;
    let evidence = &decision.evidence;
    if evidence.is_empty() || evidence.len() > limits::DECISION_EVIDENCE_MAX {
        return Err(invalid(format!(
            "{} evidence hashes; cite 1 to {}",
            evidence.len(),
            limits::DECISION_EVIDENCE_MAX
        )));
    }
    Ok(())
}

/// Runs a data call.
pub(crate) fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    call: &DataCall,
) -> Result<(), ExecError> {
    match call {
        DataCall::RegisterDataset(dataset) => register_dataset(state, signer, dataset),
        DataCall::RegisterSource(source) => register_source(state, signer, source),
        DataCall::DeactivateSource { source } => deactivate_source(state, signer, source),
        DataCall::SubmitBatch(batch) => submit_batch(state, ctx, signer, batch),
        DataCall::CreateRecord(record) => create_record(state, ctx, signer, record),
        DataCall::GrantConsent(consent) => grant_consent(state, ctx, signer, consent),
        DataCall::RevokeConsent {
            record,
            organization,
            purpose,
        } => revoke_consent(state, ctx, signer, record, organization, purpose),
        DataCall::LogAccess { record, purpose } => log_access(state, ctx, signer, record, purpose),
        DataCall::EraseRecord { record } => erase_record(state, ctx, signer, record),
        DataCall::PublishBenefit(benefit) => publish_benefit(state, signer, benefit),
        DataCall::RecordDecision(decision) => record_decision(state, ctx, signer, decision),
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

fn register_dataset(
    state: &mut Overlay<'_>,
    signer: &PublicKey,
    dataset: &Dataset,
) -> Result<(), ExecError> {
    let authority = is_authority(state, signer)?;
    let owner = if authority {
        if organization(state, &dataset.owner)?.is_none() {
            return Err(CallError::UnknownOrganization {
                id: dataset.owner.clone(),
            }
            .into());
        }
        dataset.owner.clone()
    } else {
        match active_org_of(state, signer)? {
            Some(org) if org.has_role(Role::Agency) => org.id,
            _ => return Err(CallError::NotADatasetRegistrar { signer: *signer }.into()),
        }
    };
    let key = state_keys::dataset(&dataset.id);
    if let Some(existing) = read::<Dataset>(state, &key, "dataset")? {
        if existing.owner != owner && !authority {
            return Err(CallError::NotDatasetOwner {
                id: dataset.id.clone(),
                owner: existing.owner,
            }
            .into());
        }
    }
    let stored = Dataset {
        owner,
        ..dataset.clone()
    };
    state.put(key, &stored);
    Ok(())
}

fn register_source(
    state: &mut Overlay<'_>,
    signer: &PublicKey,
    source: &DataSource,
) -> Result<(), ExecError> {
    let org_id = &source.organization;
    let Some(org) = organization(state, org_id)? else {
        return Err(CallError::UnknownOrganization { id: org_id.clone() }.into());
    };
    if !org.has_role(Role::DataSource) {
        return Err(CallError::NotADataSource {
            organization: org_id.clone(),
        }
        .into());
    }
    let authority = is_authority(state, signer)?;
    if !authority && !org.keys.contains(signer) {
        return Err(CallError::NotSourceController {
            signer: *signer,
            source_id: source.id.clone(),
        }
        .into());
    }
    let key = state_keys::data_source(&source.id);
    if let Some(existing) = read::<DataSource>(state, &key, "data source")? {
        if existing.organization != *org_id && !authority {
            return Err(CallError::NotSourceController {
                signer: *signer,
                source_id: source.id.clone(),
            }
            .into());
        }
    }
    refuse_organization_key(state, &source.key)?;
    for id in &source.datasets {
        if dataset(state, id)?.is_none() {
            return Err(CallError::UnknownDataset { id: id.clone() }.into());
        }
    }
    let stored = DataSource {
        active: true,
        ..source.clone()
    };
    state.put(key, &stored);
    Ok(())
}

fn deactivate_source(
    state: &mut Overlay<'_>,
    signer: &PublicKey,
    id: &str,
) -> Result<(), ExecError> {
    let key = state_keys::data_source(id);
    let Some(mut source) = read::<DataSource>(state, &key, "data source")? else {
        return Err(CallError::UnknownSource { id: id.to_owned() }.into());
    };
    if !source.active {
        return Err(CallError::SourceInactive { id: id.to_owned() }.into());
    }
    let own = active_org_of(state, signer)?.is_some_and(|org| org.id == source.organization);
    if !own && !is_authority(state, signer)? {
        return Err(CallError::NotSourceController {
            signer: *signer,
            source_id: id.to_owned(),
        }
        .into());
    }
    source.active = false;
    state.put(key, &source);
    Ok(())
}

fn submit_batch(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    batch: &ReadingBatch,
) -> Result<(), ExecError> {
    let Some(source) = data_source(state, &batch.source)? else {
        return Err(CallError::UnknownSource {
            id: batch.source.clone(),
        }
        .into());
    };
    if source.key != *signer {
        return Err(CallError::NotSourceKey {
            signer: *signer,
            source_id: batch.source.clone(),
        }
        .into());
    }
    if !source.active {
        return Err(CallError::SourceInactive {
            id: batch.source.clone(),
        }
        .into());
    }
    if !source.datasets.contains(&batch.dataset) {
        return Err(CallError::DatasetNotAllowed {
            source_id: batch.source.clone(),
            dataset: batch.dataset.clone(),
        }
        .into());
    }
    let last = source_seq(state, &batch.source)?;
    let expected = last
        .checked_add(1)
        .ok_or_else(|| CallError::InvalidReadingBatch {
            reason: "the source's batch numbers are exhausted".into(),
        })?;
    if batch.seq != expected {
        return Err(CallError::BatchOutOfOrder {
            source_id: batch.source.clone(),
            got: batch.seq,
            expected,
        }
        .into());
    }
    let latest = ctx.time.0.saturating_add(BATCH_CLOCK_DRIFT_MS);
    if batch.last_time.0 > latest {
        return Err(CallError::BatchFromFuture {
            last_time: batch.last_time,
            block_time: ctx.time,
            drift_ms: BATCH_CLOCK_DRIFT_MS,
        }
        .into());
    }
    let record = BatchRecord {
        batch: batch.clone(),
        height: ctx.height,
        block_time: ctx.time,
    };
    state.put(state_keys::data_batch(&batch.source, batch.seq), &record);
    state.put(state_keys::data_source_seq(&batch.source), &batch.seq);
    Ok(())
}

/// Appends an entry to a record's log.
fn append_log(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    record: &Hash,
    event: RecordEvent,
    organization: Option<OrgId>,
    purpose: Option<String>,
) -> Result<(), ExecError> {
    let seq = record_log_count(state, record)?;
    let next = seq.checked_add(1).ok_or_else(|| CallError::InvalidRecord {
        reason: "the record's log is full".into(),
    })?;
    let entry = RecordLogEntry {
        event,
        organization,
        purpose,
        height: ctx.height,
        time: ctx.time,
    };
    state.put(state_keys::record_log(record, seq), &entry);
    state.put(state_keys::record_log_count(record), &next);
    Ok(())
}

fn create_record(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    record: &PersonalRecord,
) -> Result<(), ExecError> {
    let Some(holder) = active_org_of(state, signer)? else {
        return Err(CallError::NotAnOrganizationKey { signer: *signer }.into());
    };
    if personal_record(state, &record.id)?.is_some() {
        return Err(CallError::RecordExists { id: record.id }.into());
    }
    refuse_organization_key(state, &record.owner)?;
    let stored = PersonalRecord {
        holder: holder.id.clone(),
        created_time: ctx.time,
        erased_time: None,
        ..record.clone()
    };
    state.put(state_keys::personal_record(&record.id), &stored);
    append_log(
        state,
        ctx,
        &record.id,
        RecordEvent::Created,
        Some(holder.id),
        None,
    )
}

/// A record that exists and is not erased.
fn live_record(state: &dyn StateView, id: &Hash) -> Result<PersonalRecord, ExecError> {
    match personal_record(state, id)? {
        None => Err(CallError::UnknownRecord { id: *id }.into()),
        Some(record) if record.erased_time.is_some() => {
            Err(CallError::RecordErased { id: *id }.into())
        }
        Some(record) => Ok(record),
    }
}

fn grant_consent(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    consent: &Consent,
) -> Result<(), ExecError> {
    let record = live_record(state, &consent.record)?;
    if record.owner != *signer {
        return Err(CallError::NotRecordOwner {
            record: consent.record,
        }
        .into());
    }
    active_org(state, &consent.organization)?;
    if consent.expires <= ctx.time {
        return Err(CallError::InvalidConsent {
            reason: format!(
                "it expires at {}, not after the block time {}",
                consent.expires, ctx.time
            ),
        }
        .into());
    }
    let stored = Consent {
        revoked_time: None,
        ..consent.clone()
    };
    state.put(
        state_keys::consent(&consent.record, &consent.organization, &consent.purpose),
        &stored,
    );
    append_log(
        state,
        ctx,
        &consent.record,
        RecordEvent::ConsentGranted,
        Some(consent.organization.clone()),
        Some(consent.purpose.clone()),
    )
}

fn revoke_consent(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    record_id: &Hash,
    organization: &OrgId,
    purpose: &str,
) -> Result<(), ExecError> {
    let Some(record) = personal_record(state, record_id)? else {
        return Err(CallError::UnknownRecord { id: *record_id }.into());
    };
    if record.owner != *signer {
        return Err(CallError::NotRecordOwner { record: *record_id }.into());
    }
    let key = state_keys::consent(record_id, organization, purpose);
    let Some(mut stored) = read::<Consent>(state, &key, "consent")? else {
        return Err(CallError::UnknownConsent {
            organization: organization.clone(),
            purpose: purpose.to_owned(),
        }
        .into());
    };
    if stored.revoked_time.is_some() {
        return Err(CallError::ConsentRevoked {
            organization: organization.clone(),
            purpose: purpose.to_owned(),
        }
        .into());
    }
    stored.revoked_time = Some(ctx.time);
    state.put(key, &stored);
    append_log(
        state,
        ctx,
        record_id,
        RecordEvent::ConsentRevoked,
        Some(organization.clone()),
        Some(purpose.to_owned()),
    )
}

fn log_access(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    record_id: &Hash,
    purpose: &str,
) -> Result<(), ExecError> {
    let Some(reader) = active_org_of(state, signer)? else {
        return Err(CallError::NotAnOrganizationKey { signer: *signer }.into());
    };
    let record = live_record(state, record_id)?;
    // The holder holds the data already; its reads are logged, never refused.
    if record.holder != reader.id
        && !consent_valid(state, record_id, &reader.id, purpose, ctx.time)?
    {
        return Err(CallError::NoConsent {
            organization: reader.id,
            purpose: purpose.to_owned(),
        }
        .into());
    }
    append_log(
        state,
        ctx,
        record_id,
        RecordEvent::Read,
        Some(reader.id),
        Some(purpose.to_owned()),
    )
}

fn erase_record(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    record_id: &Hash,
) -> Result<(), ExecError> {
    let mut record = live_record(state, record_id)?;
    let by_holder = active_org_of(state, signer)?.is_some_and(|org| org.id == record.holder);
    if record.owner != *signer && !by_holder {
        return Err(CallError::NotRecordController { record: *record_id }.into());
    }
    record.erased_time = Some(ctx.time);
    // The log names the holder when it erased the record, nobody when the owner did.
    let organization = by_holder.then(|| record.holder.clone());
    state.put(state_keys::personal_record(record_id), &record);
    append_log(
        state,
        ctx,
        record_id,
        RecordEvent::Erased,
        organization,
        None,
    )
}

fn publish_benefit(
    state: &mut Overlay<'_>,
    signer: &PublicKey,
    benefit: &Benefit,
) -> Result<(), ExecError> {
    let org_id = &benefit.organization;
    let may_publish = organization(state, org_id)?.is_some_and(|org| {
        (org.has_role(Role::Agency) || org.has_role(Role::Service)) && org.keys.contains(signer)
    });
    if !may_publish {
        return Err(CallError::NotABenefitPublisher {
            signer: *signer,
            organization: org_id.clone(),
        }
        .into());
    }
    let key = state_keys::benefit(&benefit.id);
    if let Some(existing) = read::<Benefit>(state, &key, "benefit")? {
        if existing.organization != *org_id {
            return Err(CallError::BenefitTaken {
                id: benefit.id.clone(),
                organization: existing.organization,
            }
            .into());
        }
    }
    state.put(key, benefit);
    Ok(())
}

fn record_decision(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    decision: &EligibilityDecision,
) -> Result<(), ExecError> {
    let Some(benefit) = self::benefit(state, &decision.benefit)? else {
        return Err(CallError::UnknownBenefit {
            id: decision.benefit.clone(),
        }
        .into());
    };
    let own = active_org_of(state, signer)?.is_some_and(|org| org.id == benefit.organization);
    if !own {
        return Err(CallError::NotBenefitOrganization {
            signer: *signer,
            benefit: benefit.id,
        }
        .into());
    }
    let current = Hash::digest(benefit.policy.as_bytes());
    if decision.policy_hash != current {
        return Err(CallError::StalePolicy {
            benefit: benefit.id,
            current,
        }
        .into());
    }
    let key = state_keys::decision(&decision.id);
    if read::<EligibilityDecision>(state, &key, "decision")?.is_some() {
        return Err(CallError::DecisionExists { id: decision.id }.into());
    }
    let stored = EligibilityDecision {
        decided_time: ctx.time,
        ..decision.clone()
    };
    state.put(key, &stored);
    Ok(())
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

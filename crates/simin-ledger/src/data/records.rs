//! Personal records: creation, consent, the access log and erasure.

use simin_types::{
    state_keys, Consent, Hash, OrgId, PersonalRecord, PublicKey, RecordEvent, RecordLogEntry,
};

use super::{
    active_org, active_org_of, consent_valid, personal_record, record_log_count,
    refuse_organization_key,
};
use crate::call::{CallError, ExecError};
use crate::state::{read, Overlay};
use crate::{BlockContext, StateView};

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

pub(super) fn create_record(
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

pub(super) fn grant_consent(
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

pub(super) fn revoke_consent(
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

pub(super) fn log_access(
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

pub(super) fn erase_record(
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

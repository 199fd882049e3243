//! Urban data feeds: datasets, their sources and the sources' batches of readings.

use simin_types::{state_keys, BatchRecord, DataSource, Dataset, PublicKey, ReadingBatch, Role};

use super::{
    active_org_of, data_source, dataset, is_authority, refuse_organization_key, source_seq,
    BATCH_CLOCK_DRIFT_MS,
};
use crate::call::{CallError, ExecError};
use crate::governance::organization;
use crate::state::{read, Overlay};
use crate::BlockContext;

pub(super) fn register_dataset(
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

pub(super) fn register_source(
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

pub(super) fn deactivate_source(
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

pub(super) fn submit_batch(
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

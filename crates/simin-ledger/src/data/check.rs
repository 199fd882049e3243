//! Stateless checks of data calls: ids, names, JSON documents and bounds.

use simin_types::{
    limits, Benefit, DataCall, DataSource, Dataset, EligibilityDecision, PersonalRecord,
    ReadingBatch,
};

use super::{DISTRICT_BYTES_MAX, ID_BYTES_MAX, NAME_BYTES_MAX, PURPOSE_BYTES_MAX};
use crate::call::CallError;

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

//! The consensus module: checking and recording evidence that a validator equivocated.
//!
//! Any account may report an [`Equivocation`]; the ledger records it once under
//! `state_keys::equivocation(validator, height, round, kind)` after checking that both
//! votes are signed by the accused over the canonical vote bytes of this chain, that
//! they differ, that the accused is in the validator set deciding the including block,
//! and that the votes are not from a height above it.
//!
//! Recording is all it does. What happens to a proven equivocator (removal from the
//! set, slashing) is a governance decision: a city authority acts on the record with
//! `GovernanceCall::SetValidator`. The ledger never changes the set on its own.

use simin_types::{state_keys, ConsensusCall, Equivocation, EquivocationRecord, Hash, PublicKey};

use crate::call::{CallError, ExecError, Standing};
use crate::state::{read, Overlay};
use crate::{validators, BlockContext, StateView};

/// What the evidence's own content can tell: a nonzero height, a valid key, two values.
pub(crate) fn check(call: &ConsensusCall) -> Result<(), CallError> {
    let ConsensusCall::ReportEquivocation(evidence) = call;
    if evidence.height.0 == 0 {
        return Err(CallError::InvalidEvidence {
            reason: "height 0 has no votes".into(),
        });
    }
    if !evidence.validator.is_valid() {
        return Err(CallError::InvalidEvidence {
            reason: format!("{} is not a valid Ed25519 key", evidence.validator),
        });
    }
    if !evidence.is_conflicting() {
        return Err(CallError::EvidenceNotConflicting {
            validator: evidence.validator,
        });
    }
    Ok(())
}

/// The signer check of a consensus call: none. Any key may report evidence, as the
/// module's documentation says; admission runs the whole report against the state
/// instead, so only evidence that would be recorded gets in.
pub(crate) fn authorize() -> Standing {
    Standing::Open
}

/// Runs a consensus call. `before` is the state before the block, whose validator set
/// decides the block's height.
pub(crate) fn execute(
    state: &mut Overlay<'_>,
    before: &dyn StateView,
    ctx: &BlockContext,
    signer: &PublicKey,
    tx_hash: Hash,
    call: &ConsensusCall,
) -> Result<(), ExecError> {
    let ConsensusCall::ReportEquivocation(evidence) = call;
    // `check_call` already ran at admission and on block entry; kept here so execution
    // never depends on its caller.
    check(call)?;
    verify(before, ctx, evidence)?;
    let key = state_keys::equivocation(
        &evidence.validator,
        evidence.height,
        evidence.round,
        evidence.kind,
    );
    if let Some(existing) = read::<EquivocationRecord>(state, &key, "equivocation record")? {
        return Err(CallError::EvidenceExists {
            validator: evidence.validator,
            height: existing.height,
        }
        .into());
    }
    let record = EquivocationRecord {
        evidence: evidence.clone(),
        reporter: *signer,
        height: ctx.height,
        tx_hash,
    };
    state.put(key, &record);
    Ok(())
}

/// The stateful checks: height, membership, then the two signatures (the costliest).
fn verify(
    before: &dyn StateView,
    ctx: &BlockContext,
    evidence: &Equivocation,
) -> Result<(), ExecError> {
    if evidence.height > ctx.height {
        return Err(CallError::EvidenceFromFuture {
            height: evidence.height,
            current: ctx.height,
        }
        .into());
    }
    // The set deciding this block. A validator removed since it equivocated can no longer
    // be reported: there is nothing left for governance to decide about it.
    if validators::validator_set(&before)?
        .get(&evidence.validator)
        .is_none()
    {
        return Err(CallError::EvidenceNotAValidator {
            validator: evidence.validator,
        }
        .into());
    }
    evidence
        .verify_signatures(&ctx.chain_id)
        .map_err(|which| CallError::EvidenceBadSignature {
            validator: evidence.validator,
            which: which.to_string(),
        })?;
    Ok(())
}

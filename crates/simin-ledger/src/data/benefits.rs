//! Benefits and the eligibility decisions that cite their current policy.

use simin_types::{state_keys, Benefit, EligibilityDecision, Hash, PublicKey, Role};

use super::active_org_of;
use crate::call::{CallError, ExecError};
use crate::governance::organization;
use crate::state::{read, Overlay};
use crate::BlockContext;

pub(super) fn publish_benefit(
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

pub(super) fn record_decision(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    decision: &EligibilityDecision,
) -> Result<(), ExecError> {
    let Some(benefit) = super::benefit(state, &decision.benefit)? else {
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

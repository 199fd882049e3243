//! The signer check of data calls, run by admission and first by `execute`.

use simin_types::{DataCall, PublicKey, Role};

use super::{active_org_of, benefit, data_source, is_authority};
use crate::call::{CallError, ExecError, Standing};
use crate::governance::organization;
use crate::StateView;

/// Refuses a signer that cannot make `call` in `view`. Datasets: a city authority or a
/// key of an active agency. Sources: a city authority or a key of the source's
/// organisation. Batches: the registered source's own key. Records and reads: a key of
/// an active organisation. Benefits and decisions: a key of the benefit's organisation.
/// Consents and erasure are signed by a record's owner key, which no registry holds:
/// they are [`Standing::Open`], and admission runs them whole.
pub(crate) fn authorize(
    view: &dyn StateView,
    signer: &PublicKey,
    call: &DataCall,
) -> Result<Standing, ExecError> {
    let refuse = |e: CallError| Err(ExecError::Call(e));
    match call {
        DataCall::RegisterDataset(_) => {
            let agency = || -> Result<bool, ExecError> {
                Ok(active_org_of(view, signer)?.is_some_and(|org| org.has_role(Role::Agency)))
            };
            if !is_authority(view, signer)? && !agency()? {
                return refuse(CallError::NotADatasetRegistrar { signer: *signer });
            }
        }
        DataCall::RegisterSource(source) if !is_authority(view, signer)? => {
            let org_id = &source.organization;
            let Some(org) = organization(view, org_id)? else {
                return refuse(CallError::UnknownOrganization { id: org_id.clone() });
            };
            if !org.keys.contains(signer) {
                return refuse(CallError::NotSourceController {
                    signer: *signer,
                    source_id: source.id.clone(),
                });
            }
        }
        DataCall::RegisterSource(_) => {}
        DataCall::DeactivateSource { source: id } if !is_authority(view, signer)? => {
            let Some(source) = data_source(view, id)? else {
                return refuse(CallError::UnknownSource { id: id.clone() });
            };
            let own = active_org_of(view, signer)?.is_some_and(|org| org.id == source.organization);
            if !own {
                return refuse(CallError::NotSourceController {
                    signer: *signer,
                    source_id: id.clone(),
                });
            }
        }
        DataCall::DeactivateSource { .. } => {}
        DataCall::SubmitBatch(batch) => {
            let Some(source) = data_source(view, &batch.source)? else {
                return refuse(CallError::UnknownSource {
                    id: batch.source.clone(),
                });
            };
            if source.key != *signer {
                return refuse(CallError::NotSourceKey {
                    signer: *signer,
                    source_id: batch.source.clone(),
                });
            }
        }
        DataCall::CreateRecord(_) | DataCall::LogAccess { .. } => {
            if active_org_of(view, signer)?.is_none() {
                return refuse(CallError::NotAnOrganizationKey { signer: *signer });
            }
        }
        DataCall::GrantConsent(_)
        | DataCall::RevokeConsent { .. }
        | DataCall::EraseRecord { .. } => return Ok(Standing::Open),
        DataCall::PublishBenefit(benefit) => {
            let org_id = &benefit.organization;
            let may_publish = organization(view, org_id)?.is_some_and(|org| {
                (org.has_role(Role::Agency) || org.has_role(Role::Service))
                    && org.keys.contains(signer)
            });
            if !may_publish {
                return refuse(CallError::NotABenefitPublisher {
                    signer: *signer,
                    organization: org_id.clone(),
                });
            }
        }
        DataCall::RecordDecision(decision) => {
            let Some(benefit) = benefit(view, &decision.benefit)? else {
                return refuse(CallError::UnknownBenefit {
                    id: decision.benefit.clone(),
                });
            };
            let own =
                active_org_of(view, signer)?.is_some_and(|org| org.id == benefit.organization);
            if !own {
                return refuse(CallError::NotBenefitOrganization {
                    signer: *signer,
                    benefit: benefit.id,
                });
            }
        }
    }
    Ok(Standing::Holder)
}

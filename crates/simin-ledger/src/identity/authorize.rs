//! The signer check of identity calls, run by admission and first by `execute`.

use simin_types::{state_keys, DidRecord, IdentityCall, OrgId, PublicKey, Relationship};

use super::{active_org_of, is_authority};
use crate::call::{CallError, ExecError, Standing};
use crate::governance::organization;
use crate::state::read;
use crate::StateView;

/// Refuses a signer that cannot make `call` in `view`. A city authority may make every
/// call but the status-list ones; otherwise the signer must be a key of the named active
/// organisation (a new DID), a `capability_invocation` key of the DID (its updates), or
/// a key of an active organisation (accreditations, schemas, status lists), whose right
/// to accredit or issue the type the call itself then checks.
pub(crate) fn authorize(
    view: &dyn StateView,
    signer: &PublicKey,
    call: &IdentityCall,
) -> Result<Standing, ExecError> {
    let held = |ok: bool, refusal: CallError| match ok {
        true => Ok(Standing::Holder),
        false => Err(ExecError::Call(refusal)),
    };
    match call {
        IdentityCall::CreateDid {
            organization: org, ..
        } => {
            if is_authority(view, signer)? {
                return Ok(Standing::Holder);
            }
            let Some(registered) = organization(view, org)? else {
                return Err(CallError::UnknownOrganization { id: org.clone() }.into());
            };
            held(
                registered.active && registered.keys.contains(signer),
                not_controller(signer, org),
            )
        }
        IdentityCall::AddVerificationMethod {
            organization: org, ..
        }
        | IdentityCall::RemoveVerificationMethod {
            organization: org, ..
        }
        | IdentityCall::RotateKey {
            organization: org, ..
        }
        | IdentityCall::AddService {
            organization: org, ..
        }
        | IdentityCall::RemoveService {
            organization: org, ..
        }
        | IdentityCall::DeactivateDid { organization: org } => {
            if is_authority(view, signer)? {
                return Ok(Standing::Holder);
            }
            let Some(doc) = read::<DidRecord>(view, &state_keys::did(org), "DID record")? else {
                return Err(CallError::UnknownDid {
                    organization: org.clone(),
                }
                .into());
            };
            held(
                doc.has_key_for(signer, Relationship::CapabilityInvocation),
                not_controller(signer, org),
            )
        }
        IdentityCall::Accredit(_) | IdentityCall::RevokeAccreditation { .. } => held(
            is_authority(view, signer)? || active_org_of(view, signer)?.is_some(),
            CallError::NotAnAccreditor { signer: *signer },
        ),
        IdentityCall::RegisterSchema {
            credential_type, ..
        } => held(
            is_authority(view, signer)? || active_org_of(view, signer)?.is_some(),
            CallError::NotAnIssuer {
                signer: *signer,
                credential_type: credential_type.clone(),
            },
        ),
        // Status lists belong to an issuer: a city authority holds none.
        IdentityCall::CreateStatusList { .. } => held(
            active_org_of(view, signer)?.is_some(),
            CallError::NotAnIssuer {
                signer: *signer,
                credential_type: "(any)".into(),
            },
        ),
        IdentityCall::SetStatus { list, .. } => held(
            active_org_of(view, signer)?.is_some(),
            CallError::UnknownStatusList {
                list: *list,
                reason: format!("{signer} is not a key of an active organisation"),
            },
        ),
    }
}

fn not_controller(signer: &PublicKey, org: &OrgId) -> CallError {
    CallError::NotDidController {
        signer: *signer,
        organization: org.clone(),
    }
}

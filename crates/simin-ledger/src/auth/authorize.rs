//! The signer check of auth calls, run by admission and first by `execute`.

use simin_types::{state_keys, AuthCall, PublicKey, Role, ServiceRegistration};

use super::{active_org_of, is_authority};
use crate::call::{CallError, ExecError, Standing};
use crate::governance::organization;
use crate::state::read;
use crate::StateView;

/// Refuses a signer that cannot make `call` in `view`: a service is registered by a city
/// authority or a key of the organisation it names, deregistered by a city authority or
/// a key of its active organisation; access records are written by a key of an active
/// organisation with the identity provider role.
pub(crate) fn authorize(
    view: &dyn StateView,
    signer: &PublicKey,
    call: &AuthCall,
) -> Result<Standing, ExecError> {
    let not_controller = |client_id: &str| CallError::NotServiceController {
        signer: *signer,
        client_id: client_id.to_owned(),
    };
    match call {
        AuthCall::RegisterService(registration) => {
            if is_authority(view, signer)? {
                return Ok(Standing::Holder);
            }
            let org_id = &registration.organization;
            let Some(org) = organization(view, org_id)? else {
                return Err(CallError::UnknownOrganization { id: org_id.clone() }.into());
            };
            if !org.keys.contains(signer) {
                return Err(not_controller(&registration.client_id).into());
            }
        }
        AuthCall::DeregisterService { client_id } => {
            if is_authority(view, signer)? {
                return Ok(Standing::Holder);
            }
            let key = state_keys::service(client_id);
            let Some(registration) =
                read::<ServiceRegistration>(view, &key, "service registration")?
            else {
                return Err(CallError::UnknownService {
                    client_id: client_id.clone(),
                }
                .into());
            };
            let own =
                active_org_of(view, signer)?.is_some_and(|org| org.id == registration.organization);
            if !own {
                return Err(not_controller(client_id).into());
            }
        }
        AuthCall::RecordAccess { .. } => {
            let provider = active_org_of(view, signer)?
                .is_some_and(|org| org.has_role(Role::IdentityProvider));
            if !provider {
                return Err(CallError::NotAnIdentityProvider { signer: *signer }.into());
            }
        }
    }
    Ok(Standing::Holder)
}

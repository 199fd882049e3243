//! The governance module: city authorities register, update and deactivate organisations,
//! and change the validator set (in `validators`).
//!
//! State: `state_keys::organization(id)` holds each `Organization`, and
//! `state_keys::organization_of_key(key)` maps each of its keys back to its id. A key
//! belongs to at most one organisation, deactivated ones included: a deactivated
//! organisation's keys stay bound to it (so no signature can change hands) until an
//! update removes them.

use simin_types::{state_keys, GovernanceCall, OrgId, Organization, PublicKey};

use crate::call::{CallError, ExecError, Standing};
use crate::state::{read, Overlay};
use crate::{validators, StateView};

/// Runs a governance call; only keys in `state_keys::authorities()` may make one.
pub(crate) fn execute(
    state: &mut Overlay<'_>,
    before: &dyn StateView,
    signer: &PublicKey,
    call: &GovernanceCall,
) -> Result<(), ExecError> {
    authorize(state, signer)?;
    match call {
        GovernanceCall::RegisterOrganization(org) => register(state, org),
        GovernanceCall::UpdateOrganization(org) => update(state, org),
        GovernanceCall::DeactivateOrganization { id } => deactivate(state, id),
        GovernanceCall::SetValidator {
            public_key,
            voting_power,
        } => validators::set_validator(state, before, public_key, *voting_power),
    }
}

/// The signer check of every governance call: a key in `state_keys::authorities()`.
pub(crate) fn authorize(view: &dyn StateView, signer: &PublicKey) -> Result<Standing, ExecError> {
    if !is_authority(view, signer)? {
        return Err(CallError::Unauthorized { signer: *signer }.into());
    }
    Ok(Standing::Holder)
}

/// Whether `signer` is a city authority key.
pub(crate) fn is_authority(view: &dyn StateView, signer: &PublicKey) -> Result<bool, ExecError> {
    let authorities: Vec<PublicKey> =
        read(view, &state_keys::authorities(), "authorities")?.unwrap_or_default();
    Ok(authorities.contains(signer))
}

/// Registers `org` as active under an unused id; also used for genesis organisations.
pub(crate) fn register(state: &mut Overlay<'_>, org: &Organization) -> Result<(), ExecError> {
    if organization(state, &org.id)?.is_some() {
        return Err(CallError::OrganizationExists { id: org.id.clone() }.into());
    }
    claim_keys(state, &org.id, &org.keys)?;
    let stored = Organization {
        active: true,
        ..org.clone()
    };
    state.put(state_keys::organization(&org.id), &stored);
    Ok(())
}

/// Replaces name, keys and roles; `active` stays as stored. Keys no longer listed are
/// released from the key index.
fn update(state: &mut Overlay<'_>, org: &Organization) -> Result<(), ExecError> {
    let Some(existing) = organization(state, &org.id)? else {
        return Err(CallError::UnknownOrganization { id: org.id.clone() }.into());
    };
    claim_keys(state, &org.id, &org.keys)?;
    for old in existing.keys.iter().filter(|k| !org.keys.contains(k)) {
        debug_assert_eq!(
            read::<OrgId>(
                state,
                &state_keys::organization_of_key(old),
                "organisation id"
            )
            .ok()
            .flatten()
            .as_ref(),
            Some(&org.id),
            "an organisation's keys are indexed to it"
        );
        state.delete(state_keys::organization_of_key(old));
    }
    let stored = Organization {
        active: existing.active,
        ..org.clone()
    };
    state.put(state_keys::organization(&org.id), &stored);
    Ok(())
}

fn deactivate(state: &mut Overlay<'_>, id: &OrgId) -> Result<(), ExecError> {
    let Some(mut org) = organization(state, id)? else {
        return Err(CallError::UnknownOrganization { id: id.clone() }.into());
    };
    if !org.active {
        return Err(CallError::AlreadyInactive { id: id.clone() }.into());
    }
    org.active = false;
    state.put(state_keys::organization(id), &org);
    Ok(())
}

/// Indexes `keys` to `id`, refusing any key that belongs to another organisation.
/// All keys are checked before any is written, though a failed call's scope is dropped anyway.
fn claim_keys(state: &mut Overlay<'_>, id: &OrgId, keys: &[PublicKey]) -> Result<(), ExecError> {
    for key in keys {
        if let Some(owner) = organization_of_key(state, key)? {
            if owner != *id {
                return Err(CallError::KeyInUse {
                    key: *key,
                    organization: owner,
                }
                .into());
            }
        }
    }
    for key in keys {
        state.put(state_keys::organization_of_key(key), id);
    }
    Ok(())
}

pub(crate) fn organization(
    view: &dyn StateView,
    id: &OrgId,
) -> Result<Option<Organization>, ExecError> {
    Ok(read(view, &state_keys::organization(id), "organisation")?)
}

pub(crate) fn organization_of_key(
    view: &dyn StateView,
    key: &PublicKey,
) -> Result<Option<OrgId>, ExecError> {
    Ok(read(
        view,
        &state_keys::organization_of_key(key),
        "organisation id",
    )?)
}

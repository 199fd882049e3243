//! The genesis state: authorities, the first validator set and genesis organisations.

use std::collections::BTreeSet;

use simin_types::{state_keys, Genesis, Height, IdentityCall, TypesError};

use crate::call::{check_organization, ExecError};
use crate::meta::{chain_last_block_key, LastBlock};
use crate::state::Overlay;
use crate::{governance, identity, BlockContext, LedgerError, MemoryState, WriteSet};

/// The writes that create the genesis state (height 0) from a genesis document.
///
/// Genesis organisations pass the same checks as a `RegisterOrganization` call and all
/// start active (their `active` field is ignored, as in calls).
pub fn genesis_writes(genesis: &Genesis) -> Result<WriteSet, LedgerError> {
    let invalid = |reason: String| {
        LedgerError::InvalidGenesis(TypesError::Invalid {
            what: "genesis",
            reason,
        })
    };
    let validators = genesis.validate().map_err(LedgerError::InvalidGenesis)?;
    let distinct: BTreeSet<_> = genesis.authorities.iter().collect();
    if distinct.len() != genesis.authorities.len() {
        return Err(invalid("an authority key appears twice".into()));
    }
    let empty = MemoryState::new();
    let mut state = Overlay::new(&empty);
    state.put(state_keys::authorities(), &genesis.authorities);
    state.put(state_keys::validator_set(), &validators);
    for org in &genesis.organizations {
        check_organization(org).map_err(|e| invalid(e.to_string()))?;
        governance::register(&mut state, org).map_err(|e| match e {
            ExecError::Call(e) => invalid(e.to_string()),
            ExecError::Ledger(e) => e,
        })?;
    }
    apply_identity(&mut state, genesis).map_err(|e| match e {
        ExecError::Call(e) => invalid(e.to_string()),
        ExecError::Ledger(e) => e,
    })?;
    let last = LastBlock {
        height: Height::GENESIS,
        time: genesis.genesis_time,
    };
    state.put(chain_last_block_key(), &last);
    Ok(state.into_writes())
}

/// Runs the genesis identity records through the identity module's own checks, each as
/// the signer that would make it: a city authority, or the accreditor's first key.
fn apply_identity(state: &mut Overlay<'_>, genesis: &Genesis) -> Result<(), ExecError> {
    let Some(authority) = genesis.authorities.first() else {
        return Ok(());
    };
    let ctx = BlockContext {
        chain_id: genesis.chain_id.clone(),
        height: Height::GENESIS,
        time: genesis.genesis_time,
        proposer: *authority,
    };
    let run = |state: &mut Overlay<'_>, signer: &simin_types::PublicKey, call: IdentityCall| {
        identity::check(&call)?;
        identity::execute(state, &ctx, signer, &call)
    };
    for schema in &genesis.identity.schemas {
        let call = IdentityCall::RegisterSchema {
            credential_type: schema.credential_type.clone(),
            schema: schema.schema.clone(),
        };
        run(state, authority, call)?;
    }
    for did in &genesis.identity.dids {
        let call = IdentityCall::CreateDid {
            organization: did.organization.clone(),
            verification_methods: did.verification_methods.clone(),
            services: did.services.clone(),
        };
        run(state, authority, call)?;
    }
    for accreditation in &genesis.identity.accreditations {
        let signer = match &accreditation.accredited_by {
            None => *authority,
            Some(accreditor) => {
                let org = governance::organization(state, accreditor)?.ok_or_else(|| {
                    crate::CallError::UnknownOrganization {
                        id: accreditor.clone(),
                    }
                })?;
                *org.keys
                    .first()
                    .ok_or_else(|| crate::CallError::InvalidOrganization {
                        id: accreditor.clone(),
                        reason: "it has no key".into(),
                    })?
            }
        };
        run(
            state,
            &signer,
            IdentityCall::Accredit(accreditation.terms.clone()),
        )?;
    }
    Ok(())
}

//! The genesis state: authorities, the first validator set and genesis organisations.

use std::collections::BTreeSet;

use simin_types::{state_keys, Genesis, Height, TypesError};

use crate::call::{check_organization, ExecError};
use crate::meta::{chain_last_block_key, LastBlock};
use crate::state::Overlay;
use crate::{governance, LedgerError, MemoryState, WriteSet};

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
    let last = LastBlock {
        height: Height::GENESIS,
        time: genesis.genesis_time,
    };
    state.put(chain_last_block_key(), &last);
    Ok(state.into_writes())
}

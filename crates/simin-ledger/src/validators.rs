//! Validator set changes: the `SetValidator` governance call and reading the stored set.
//!
//! The set in `state_keys::validator_set()` after block H decides height H+1, so a call
//! in block H changes who decides H+1. Every change in a block is measured against the
//! set that decides the block's own height (the state before the block), so several calls
//! in one block cannot together move more than one change may.

use simin_types::{state_keys, PublicKey, Validator, ValidatorSet};

use crate::call::{CallError, ExecError};
use crate::state::{read, Overlay};
use crate::{LedgerError, StateView};

/// The validator set stored in `view`: the one deciding the height after `view`'s block.
/// Genesis writes it and no call removes it, so its absence is a corrupt state.
pub fn validator_set(view: &impl StateView) -> Result<ValidatorSet, LedgerError> {
    let key = state_keys::validator_set();
    read(view, &key, "validator set")?.ok_or_else(|| LedgerError::MissingState {
        key: key.escape_ascii().to_string(),
        what: "validator set",
    })
}

/// Sets `public_key`'s voting power in the stored set (0 removes it). `before` is the
/// state before the block, whose set decides the block's height.
pub(crate) fn set_validator(
    state: &mut Overlay<'_>,
    before: &dyn StateView,
    public_key: &PublicKey,
    voting_power: u64,
) -> Result<(), ExecError> {
    let current = validator_set(&&*state)?;
    let known = current.get(public_key).is_some();
    if voting_power == 0 && !known {
        return Err(CallError::UnknownValidator { key: *public_key }.into());
    }
    let mut validators: Vec<Validator> = current
        .validators()
        .iter()
        .filter(|v| v.public_key != *public_key)
        .cloned()
        .collect();
    if voting_power > 0 {
        validators.push(Validator {
            public_key: *public_key,
            voting_power,
        });
    }
    let next = ValidatorSet::new(validators).map_err(|e| CallError::InvalidValidatorSet {
        reason: e.to_string(),
    })?;
    let deciding = validator_set(&before)?;
    let moved = moved_power(&deciding, &next);
    let total = deciding.total_power();
    // Consecutive sets must overlap: BFT safety assumes fewer than a third of each set's
    // power is faulty, and a light client that trusts one set accepts the next because
    // the validators it already trusts hold most of it. Moving less than a third of the
    // deciding set's power per block keeps more than two thirds of that power in the next
    // set, so every quorum of the next set is mostly made of validators of the current
    // one. A bigger change is made in steps, one block after another.
    if moved.saturating_mul(3) >= u128::from(total) {
        let moved = u64::try_from(moved).unwrap_or(u64::MAX);
        return Err(CallError::ValidatorChangeTooLarge { moved, total }.into());
    }
    state.put(state_keys::validator_set(), &next);
    Ok(())
}

/// The voting power that differs between two sets: the sum over all keys of the
/// difference of their powers (a key absent from a set has power 0 there). Both sets are
/// sorted by key, so one merge walks them; u128 cannot overflow on two u64 totals.
fn moved_power(from: &ValidatorSet, to: &ValidatorSet) -> u128 {
    let (from, to) = (from.validators(), to.validators());
    let (mut i, mut j) = (0, 0);
    let mut moved: u128 = 0;
    // Each turn consumes at least one validator, so the loop ends after at most
    // `from.len() + to.len()` turns.
    loop {
        let delta = match (from.get(i), to.get(j)) {
            (Some(x), Some(y)) if x.public_key == y.public_key => {
                i += 1;
                j += 1;
                x.voting_power.abs_diff(y.voting_power)
            }
            (Some(x), Some(y)) if x.public_key < y.public_key => {
                i += 1;
                x.voting_power
            }
            (Some(x), None) => {
                i += 1;
                x.voting_power
            }
            (_, Some(y)) => {
                j += 1;
                y.voting_power
            }
            (None, None) => return moved,
        };
        moved += u128::from(delta);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use simin_types::SigningKey;

    fn set(powers: &[(u8, u64)]) -> ValidatorSet {
        ValidatorSet::new(
            powers
                .iter()
                .map(|&(seed, voting_power)| Validator {
                    public_key: SigningKey::from_seed([seed; 32]).public_key(),
                    voting_power,
                })
                .collect(),
        )
        .expect("a valid test set")
    }

    #[test]
    fn moved_power_sums_additions_removals_and_changes() {
        let from = set(&[(1, 10), (2, 5), (3, 7)]);
        assert_eq!(moved_power(&from, &from), 0);
        // 2 removed (5), 3 down by 3, 4 added with 2.
        let to = set(&[(1, 10), (3, 4), (4, 2)]);
        assert_eq!(moved_power(&from, &to), 10);
        assert_eq!(moved_power(&to, &from), 10);
        let max = set(&[(1, u64::MAX)]);
        let other = set(&[(2, u64::MAX)]);
        assert_eq!(moved_power(&max, &other), 2 * u128::from(u64::MAX));
    }
}

//! `SiminContext`: the Malachite `Context` that ties simin's consensus types together.

use malachitebft_app_channel::app::types::core::{
    Context, LinearTimeouts, NilOrVal, Round, VoteType,
};

use crate::messages::{Proposal, ProposalPart, Vote};
use crate::types::{
    BlockId, ConsensusHeight, ConsensusValidator, ConsensusValidatorSet, Ed25519Scheme,
    ValidatorAddress,
};

/// The consensus context of simin. It holds no state: the chain id that domain-separates
/// signatures lives in the signer and verifier ([`crate::signing`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct SiminContext;

impl SiminContext {
    /// The proposer of `round` at `height`: round-robin over the set's order, shifted by
    /// one each height so that every validator proposes in turn. Deterministic, so every
    /// node agrees; it ignores voting power (the devnet gives every validator equal power).
    pub fn proposer_index(set_len: usize, height: ConsensusHeight, round: Round) -> usize {
        debug_assert!(set_len > 0, "a validator set is never empty");
        // A nil round never reaches proposer selection; 0 is a harmless fallback.
        let round = u128::from(round.as_u32().unwrap_or(0));
        let len = u128::try_from(set_len).expect("a usize fits in u128 because usize <= 128 bits");
        let index = (u128::from(height.0) + round) % len.max(1);
        // The remainder is below `set_len`, which is a usize, so it fits.
        usize::try_from(index).expect("the index is below set_len because of the modulo")
    }
}

impl Context for SiminContext {
    type Address = ValidatorAddress;
    type Height = ConsensusHeight;
    type ProposalPart = ProposalPart;
    type Proposal = Proposal;
    type Validator = ConsensusValidator;
    type ValidatorSet = ConsensusValidatorSet;
    type Timeouts = LinearTimeouts;
    type Value = BlockId;
    type Vote = Vote;
    type Extension = ();
    type SigningScheme = Ed25519Scheme;

    fn select_proposer<'a>(
        &self,
        validator_set: &'a ConsensusValidatorSet,
        height: ConsensusHeight,
        round: Round,
    ) -> &'a ConsensusValidator {
        let validators = validator_set.validators();
        let index = Self::proposer_index(validators.len(), height, round);
        &validators[index]
    }

    fn new_proposal(
        &self,
        height: ConsensusHeight,
        round: Round,
        value: BlockId,
        pol_round: Round,
        address: ValidatorAddress,
    ) -> Proposal {
        Proposal {
            height,
            round,
            value,
            pol_round,
            proposer: address,
        }
    }

    fn new_prevote(
        &self,
        height: ConsensusHeight,
        round: Round,
        value_id: NilOrVal<BlockId>,
        address: ValidatorAddress,
    ) -> Vote {
        Vote {
            vote_type: VoteType::Prevote,
            height,
            round,
            value: value_id,
            validator: address,
            extension: None,
        }
    }

    fn new_precommit(
        &self,
        height: ConsensusHeight,
        round: Round,
        value_id: NilOrVal<BlockId>,
        address: ValidatorAddress,
    ) -> Vote {
        Vote {
            vote_type: VoteType::Precommit,
            height,
            round,
            value: value_id,
            validator: address,
            extension: None,
        }
    }
}

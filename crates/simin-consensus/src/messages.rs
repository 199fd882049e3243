//! The engine's messages for simin: proposals, votes and the proposal parts of a block.

use borsh::{BorshDeserialize, BorshSerialize};
use malachitebft_app_channel::app::types::core::{
    self as mcore, NilOrVal, Round, SignedExtension, VoteType,
};

use crate::context::SiminContext;
use crate::types::{BlockId, ConsensusHeight, ConsensusSignature, ValidatorAddress};

/// A proposal: "at this height and round, `proposer` proposes the block `value`".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    pub height: ConsensusHeight,
    pub round: Round,
    pub value: BlockId,
    pub pol_round: Round,
    pub proposer: ValidatorAddress,
}

impl mcore::Proposal<SiminContext> for Proposal {
    fn height(&self) -> ConsensusHeight {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &BlockId {
        &self.value
    }

    fn take_value(self) -> BlockId {
        self.value
    }

    fn pol_round(&self) -> Round {
        self.pol_round
    }

    fn validator_address(&self) -> &ValidatorAddress {
        &self.proposer
    }
}

/// A prevote or precommit. simin uses no vote extensions (the policy is `Disabled`), so
/// the extension slot is always empty on the wire; it is kept only because the engine's
/// trait asks for it, and it is excluded from equality as the trait requires.
#[derive(Clone, Debug)]
pub struct Vote {
    pub vote_type: VoteType,
    pub height: ConsensusHeight,
    pub round: Round,
    pub value: NilOrVal<BlockId>,
    pub validator: ValidatorAddress,
    pub extension: Option<SignedExtension<SiminContext>>,
}

impl PartialEq for Vote {
    fn eq(&self, other: &Self) -> bool {
        self.vote_type == other.vote_type
            && self.height == other.height
            && self.round == other.round
            && self.value == other.value
            && self.validator == other.validator
    }
}

impl Eq for Vote {}

impl mcore::Vote<SiminContext> for Vote {
    fn height(&self) -> ConsensusHeight {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &NilOrVal<BlockId> {
        &self.value
    }

    fn take_value(self) -> NilOrVal<BlockId> {
        self.value
    }

    fn vote_type(&self) -> VoteType {
        self.vote_type
    }

    fn validator_address(&self) -> &ValidatorAddress {
        &self.validator
    }

    fn extension(&self) -> Option<&SignedExtension<SiminContext>> {
        self.extension.as_ref()
    }

    fn take_extension(&mut self) -> Option<SignedExtension<SiminContext>> {
        self.extension.take()
    }

    fn extend(self, extension: SignedExtension<SiminContext>) -> Self {
        Self {
            extension: Some(extension),
            ..self
        }
    }
}

/// One part of a streamed block: `Init`, then `Data` chunks of the borsh-encoded block,
/// then `Fin` with the proposer's signature over (chain, height, round, block hash).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ProposalPart {
    Init(PartInit),
    Data(Vec<u8>),
    Fin(PartFin),
}

/// The first part of a stream: who proposes what at which height and round.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PartInit {
    pub height: ConsensusHeight,
    /// The round the block was first proposed in (kept when it is restreamed later).
    pub round: u32,
    /// The proof-of-lock round, `None` for a freshly built block.
    pub pol_round: Option<u32>,
    pub proposer: ValidatorAddress,
    /// Length of the encoded block carried by the `Data` parts.
    pub block_len: u32,
}

/// The last part of a stream: the block hash, signed by the proposer.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PartFin {
    pub block_hash: BlockId,
    pub signature: ConsensusSignature,
}

impl mcore::ProposalPart<SiminContext> for ProposalPart {
    fn is_first(&self) -> bool {
        matches!(self, ProposalPart::Init(_))
    }

    fn is_last(&self) -> bool {
        matches!(self, ProposalPart::Fin(_))
    }
}

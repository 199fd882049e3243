//! The borsh wire forms of the engine's messages, and their conversions.
//!
//! The engine's generic types are mirrored here by plain borsh structs, so that the bytes
//! on the network and in the WAL are simin's own, pinned by tests, and independent of
//! which optional serialization features the engine crates were built with.

use borsh::{BorshDeserialize, BorshSerialize};
use malachitebft_app_channel::app::types::core::{
    ExtendedCommitCertificate, ExtendedCommitSignature, NilOrVal, PolkaCertificate, PolkaSignature,
    Round, RoundCertificate, RoundCertificateType, RoundSignature, SignedMessage, Validity,
    VoteType,
};
use malachitebft_app_channel::app::types::ProposedValue;
use simin_crypto::{Hash, PublicKey, Signature};

use crate::context::SiminContext;
use crate::error::CodecError;
use crate::messages::{Proposal, Vote};
use crate::types::{BlockId, ConsensusHeight, ConsensusSignature, ValidatorAddress};

/// Most signatures in any certificate: one per validator.
const SIGNATURES_MAX: usize = simin_types::limits::VALIDATORS_MAX;

pub(crate) fn round_to_wire(round: Round) -> Option<u32> {
    round.as_u32()
}

pub(crate) fn round_from_wire(round: Option<u32>) -> Round {
    round.map_or(Round::Nil, Round::new)
}

fn value_to_wire(value: &NilOrVal<BlockId>) -> Option<Hash> {
    match value {
        NilOrVal::Nil => None,
        NilOrVal::Val(block) => Some(block.0),
    }
}

fn value_from_wire(value: Option<Hash>) -> NilOrVal<BlockId> {
    value.map_or(NilOrVal::Nil, |hash| NilOrVal::Val(BlockId(hash)))
}

#[derive(Clone, Copy, BorshSerialize, BorshDeserialize)]
pub(crate) enum WireVoteType {
    Prevote,
    Precommit,
}

impl From<VoteType> for WireVoteType {
    fn from(vote_type: VoteType) -> Self {
        match vote_type {
            VoteType::Prevote => WireVoteType::Prevote,
            VoteType::Precommit => WireVoteType::Precommit,
        }
    }
}

impl From<WireVoteType> for VoteType {
    fn from(vote_type: WireVoteType) -> Self {
        match vote_type {
            WireVoteType::Prevote => VoteType::Prevote,
            WireVoteType::Precommit => VoteType::Precommit,
        }
    }
}

/// A signed vote. Extensions are never sent: simin's policy forbids them.
#[derive(BorshSerialize, BorshDeserialize)]
pub(crate) struct WireSignedVote {
    vote_type: WireVoteType,
    height: u64,
    round: Option<u32>,
    value: Option<Hash>,
    validator: PublicKey,
    signature: Signature,
}

impl From<&SignedMessage<SiminContext, Vote>> for WireSignedVote {
    fn from(signed: &SignedMessage<SiminContext, Vote>) -> Self {
        let vote = &signed.message;
        WireSignedVote {
            vote_type: vote.vote_type.into(),
            height: vote.height.0,
            round: round_to_wire(vote.round),
            value: value_to_wire(&vote.value),
            validator: vote.validator.0,
            signature: signed.signature.0,
        }
    }
}

impl From<WireSignedVote> for SignedMessage<SiminContext, Vote> {
    fn from(wire: WireSignedVote) -> Self {
        let vote = Vote {
            vote_type: wire.vote_type.into(),
            height: ConsensusHeight(wire.height),
            round: round_from_wire(wire.round),
            value: value_from_wire(wire.value),
            validator: ValidatorAddress(wire.validator),
            extension: None,
        };
        SignedMessage::new(vote, ConsensusSignature(wire.signature))
    }
}

#[derive(BorshSerialize, BorshDeserialize)]
pub(crate) struct WireSignedProposal {
    height: u64,
    round: Option<u32>,
    value: Hash,
    pol_round: Option<u32>,
    proposer: PublicKey,
    signature: Signature,
}

impl From<&SignedMessage<SiminContext, Proposal>> for WireSignedProposal {
    fn from(signed: &SignedMessage<SiminContext, Proposal>) -> Self {
        let proposal = &signed.message;
        WireSignedProposal {
            height: proposal.height.0,
            round: round_to_wire(proposal.round),
            value: proposal.value.0,
            pol_round: round_to_wire(proposal.pol_round),
            proposer: proposal.proposer.0,
            signature: signed.signature.0,
        }
    }
}

impl From<WireSignedProposal> for SignedMessage<SiminContext, Proposal> {
    fn from(wire: WireSignedProposal) -> Self {
        let proposal = Proposal {
            height: ConsensusHeight(wire.height),
            round: round_from_wire(wire.round),
            value: BlockId(wire.value),
            pol_round: round_from_wire(wire.pol_round),
            proposer: ValidatorAddress(wire.proposer),
        };
        SignedMessage::new(proposal, ConsensusSignature(wire.signature))
    }
}

/// One validator's signature in a commit or polka certificate.
#[derive(BorshSerialize, BorshDeserialize)]
pub(crate) struct WireSignature {
    validator: PublicKey,
    signature: Signature,
}

fn check_count(what: &'static str, count: usize) -> Result<(), CodecError> {
    if count > SIGNATURES_MAX {
        return Err(CodecError::Invalid {
            what,
            reason: format!("{count} signatures, more than {SIGNATURES_MAX} validators"),
        });
    }
    Ok(())
}

#[derive(BorshSerialize, BorshDeserialize)]
pub(crate) struct WirePolkaCertificate {
    height: u64,
    round: Option<u32>,
    value: Hash,
    signatures: Vec<WireSignature>,
}

impl From<&PolkaCertificate<SiminContext>> for WirePolkaCertificate {
    fn from(cert: &PolkaCertificate<SiminContext>) -> Self {
        WirePolkaCertificate {
            height: cert.height.0,
            round: round_to_wire(cert.round),
            value: cert.value_id.0,
            signatures: cert
                .polka_signatures
                .iter()
                .map(|s| WireSignature {
                    validator: s.address.0,
                    signature: s.signature.0,
                })
                .collect(),
        }
    }
}

impl TryFrom<WirePolkaCertificate> for PolkaCertificate<SiminContext> {
    type Error = CodecError;

    fn try_from(wire: WirePolkaCertificate) -> Result<Self, CodecError> {
        check_count("polka certificate", wire.signatures.len())?;
        Ok(PolkaCertificate {
            height: ConsensusHeight(wire.height),
            round: round_from_wire(wire.round),
            value_id: BlockId(wire.value),
            polka_signatures: wire
                .signatures
                .into_iter()
                .map(|s| {
                    PolkaSignature::new(
                        ValidatorAddress(s.validator),
                        ConsensusSignature(s.signature),
                    )
                })
                .collect(),
        })
    }
}

#[derive(BorshSerialize, BorshDeserialize)]
pub(crate) struct WireRoundSignature {
    vote_type: WireVoteType,
    value: Option<Hash>,
    validator: PublicKey,
    signature: Signature,
}

#[derive(BorshSerialize, BorshDeserialize)]
pub(crate) struct WireRoundCertificate {
    height: u64,
    round: Option<u32>,
    /// `false` for a skip certificate (f+1 votes), `true` for precommit-any (2f+1).
    precommit: bool,
    signatures: Vec<WireRoundSignature>,
}

impl From<&RoundCertificate<SiminContext>> for WireRoundCertificate {
    fn from(cert: &RoundCertificate<SiminContext>) -> Self {
        WireRoundCertificate {
            height: cert.height.0,
            round: round_to_wire(cert.round),
            precommit: matches!(cert.cert_type, RoundCertificateType::Precommit),
            signatures: cert
                .round_signatures
                .iter()
                .map(|s| WireRoundSignature {
                    vote_type: s.vote_type.into(),
                    value: value_to_wire(&s.value_id),
                    validator: s.address.0,
                    signature: s.signature.0,
                })
                .collect(),
        }
    }
}

impl TryFrom<WireRoundCertificate> for RoundCertificate<SiminContext> {
    type Error = CodecError;

    fn try_from(wire: WireRoundCertificate) -> Result<Self, CodecError> {
        check_count("round certificate", wire.signatures.len())?;
        Ok(RoundCertificate {
            height: ConsensusHeight(wire.height),
            round: round_from_wire(wire.round),
            cert_type: if wire.precommit {
                RoundCertificateType::Precommit
            } else {
                RoundCertificateType::Skip
            },
            round_signatures: wire
                .signatures
                .into_iter()
                .map(|s| {
                    RoundSignature::new(
                        s.vote_type.into(),
                        value_from_wire(s.value),
                        ValidatorAddress(s.validator),
                        ConsensusSignature(s.signature),
                    )
                })
                .collect(),
        })
    }
}

/// A commit certificate as sync carries it. Extensions are dropped: simin has none.
#[derive(BorshSerialize, BorshDeserialize)]
pub(crate) struct WireCommitCertificate {
    height: u64,
    round: Option<u32>,
    value: Hash,
    signatures: Vec<WireSignature>,
}

impl From<&ExtendedCommitCertificate<SiminContext>> for WireCommitCertificate {
    fn from(cert: &ExtendedCommitCertificate<SiminContext>) -> Self {
        WireCommitCertificate {
            height: cert.height.0,
            round: round_to_wire(cert.round),
            value: cert.value_id.0,
            signatures: cert
                .commit_signatures
                .iter()
                .map(|s| WireSignature {
                    validator: s.address.0,
                    signature: s.signature.0,
                })
                .collect(),
        }
    }
}

impl TryFrom<WireCommitCertificate> for ExtendedCommitCertificate<SiminContext> {
    type Error = CodecError;

    fn try_from(wire: WireCommitCertificate) -> Result<Self, CodecError> {
        check_count("commit certificate", wire.signatures.len())?;
        let signatures = wire
            .signatures
            .into_iter()
            .map(|s| {
                ExtendedCommitSignature::new(
                    ValidatorAddress(s.validator),
                    ConsensusSignature(s.signature),
                    None,
                )
            })
            .collect();
        Ok(ExtendedCommitCertificate {
            height: ConsensusHeight(wire.height),
            round: round_from_wire(wire.round),
            value_id: BlockId(wire.value),
            commit_signatures: signatures,
        })
    }
}

/// A proposed value as the WAL records it.
#[derive(BorshSerialize, BorshDeserialize)]
pub(crate) struct WireProposedValue {
    height: u64,
    round: Option<u32>,
    valid_round: Option<u32>,
    proposer: PublicKey,
    value: Hash,
    valid: bool,
}

impl From<&ProposedValue<SiminContext>> for WireProposedValue {
    fn from(value: &ProposedValue<SiminContext>) -> Self {
        WireProposedValue {
            height: value.height.0,
            round: round_to_wire(value.round),
            valid_round: round_to_wire(value.valid_round),
            proposer: value.proposer.0,
            value: value.value.0,
            valid: value.validity.is_valid(),
        }
    }
}

impl From<WireProposedValue> for ProposedValue<SiminContext> {
    fn from(wire: WireProposedValue) -> Self {
        ProposedValue {
            height: ConsensusHeight(wire.height),
            round: round_from_wire(wire.round),
            valid_round: round_from_wire(wire.valid_round),
            proposer: ValidatorAddress(wire.proposer),
            value: BlockId(wire.value),
            validity: Validity::from_bool(wire.valid),
        }
    }
}

//! Converting the engine's misbehaviour evidence into simin's `Equivocation`s.

use malachitebft_app_channel::app::types::core::{NilOrVal, SignedMessage};
use malachitebft_app_channel::app::types::MisbehaviorEvidence;
use simin_types::{ConflictingVote, Equivocation, Height};
use tracing::warn;

use crate::context::SiminContext;
use crate::messages::Vote;
use crate::signing::vote_kind;

/// The most equivocations handed to the application per height. The engine keeps at
/// most 3 pairs per validator and the set is bounded, so this only guards the contract.
pub const EVIDENCE_PER_HEIGHT_MAX: usize = 1024;

fn conflicting(vote: &SignedMessage<SiminContext, Vote>) -> ConflictingVote {
    ConflictingVote {
        value: match &vote.message.value {
            NilOrVal::Nil => None,
            NilOrVal::Val(block) => Some(block.0),
        },
        signature: vote.signature.0,
    }
}

/// The vote equivocations in `evidence`, in the engine's order (by validator, then in
/// the order seen). Pairs that do not describe one equivocation (votes of different
/// validators, kinds, heights or rounds, or equal values) are dropped; proposal
/// equivocations are logged only, as the chain has no record for them yet.
pub fn equivocations(evidence: &MisbehaviorEvidence<SiminContext>) -> Vec<Equivocation> {
    for (address, pairs) in &evidence.proposals {
        warn!(validator = %address, pairs = pairs.len(), "a validator proposed twice in one round");
    }
    let mut out = Vec::new();
    for (address, pairs) in &evidence.votes {
        for (first, second) in pairs {
            let (a, b) = (&first.message, &second.message);
            let same_slot = a.validator == *address
                && b.validator == *address
                && a.vote_type == b.vote_type
                && a.height == b.height
                && a.round == b.round
                && a.value != b.value;
            let Some(round) = a.round.as_u32().filter(|_| same_slot) else {
                warn!(validator = %address, "ignoring an inconsistent equivocation pair");
                continue;
            };
            if out.len() >= EVIDENCE_PER_HEIGHT_MAX {
                return out;
            }
            warn!(validator = %address, height = %a.height, round, kind = ?a.vote_type, "a validator signed conflicting votes");
            out.push(Equivocation {
                validator: address.0,
                height: Height::from(a.height),
                round,
                kind: vote_kind(a.vote_type),
                first: conflicting(first),
                second: conflicting(second),
            });
        }
    }
    out
}

//! The bytes a validator signs for each kind of vote, and evidence that one validator
//! signed two conflicting votes (equivocation).
//!
//! These are the only definitions of vote sign bytes: the consensus engine signs and
//! verifies votes over them (simin-consensus calls [`signed_vote_bytes`]), and the ledger
//! checks equivocation evidence over them, so evidence gathered by the engine verifies on
//! chain without the engine. Non-nil precommits are signed over [`crate::vote_sign_bytes`],
//! the bytes of commit certificates.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::{codec, ChainId, Hash, Height, PublicKey, Signature};

/// Domain separator of prevote signatures, nil or not.
const PREVOTE_DOMAIN: &[u8] = b"simin/prevote/v1\0";
/// Domain separator of nil precommit signatures (non-nil ones use the certificate domain).
const PRECOMMIT_NIL_DOMAIN: &[u8] = b"simin/precommit-nil/v1\0";

/// The two kinds of consensus votes.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum VoteKind {
    Prevote,
    Precommit,
}

impl VoteKind {
    /// The byte that stands for the kind in state keys; the borsh tag, for one spelling.
    pub fn tag(self) -> u8 {
        match self {
            VoteKind::Prevote => 0,
            VoteKind::Precommit => 1,
        }
    }
}

/// The exact bytes a validator signs for a vote of `kind` for `value` (`None`: nil) at
/// `height`/`round` on `chain_id`.
///
/// Prevotes and nil precommits sign the round as an `Option<u32>` (always `Some` here), a
/// layout kept from the first version of the engine adapter so that signatures already
/// made stay valid.
pub fn signed_vote_bytes(
    chain_id: &ChainId,
    kind: VoteKind,
    height: Height,
    round: u32,
    value: Option<&Hash>,
) -> Vec<u8> {
    let (domain, fields) = match (kind, value) {
        (VoteKind::Precommit, Some(block)) => {
            return crate::vote_sign_bytes(chain_id, height, round, block)
        }
        (VoteKind::Precommit, None) => (
            PRECOMMIT_NIL_DOMAIN,
            codec::encode(&(chain_id, height, Some(round))),
        ),
        (VoteKind::Prevote, value) => (
            PREVOTE_DOMAIN,
            codec::encode(&(chain_id, height, Some(round), value)),
        ),
    };
    let mut bytes = domain.to_vec();
    bytes.extend(fields);
    bytes
}

/// One of the two votes of an equivocation: the value voted for and its signature.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ConflictingVote {
    /// The block hash voted for; `None` is a nil vote.
    pub value: Option<Hash>,
    pub signature: Signature,
}

/// Evidence that `validator` signed two votes of the same kind, height and round for
/// different values. It proves itself: anyone can check both signatures with
/// [`Equivocation::verify_signatures`] and the chain id alone.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Equivocation {
    pub validator: PublicKey,
    pub height: Height,
    pub round: u32,
    pub kind: VoteKind,
    pub first: ConflictingVote,
    pub second: ConflictingVote,
}

/// Which vote of an equivocation failed its signature check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhichVote {
    First,
    Second,
}

impl std::fmt::Display for WhichVote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WhichVote::First => "first",
            WhichVote::Second => "second",
        })
    }
}

impl Equivocation {
    /// The bytes the validator signed for `vote` (one of `first`, `second`).
    pub fn sign_bytes(&self, chain_id: &ChainId, vote: &ConflictingVote) -> Vec<u8> {
        signed_vote_bytes(
            chain_id,
            self.kind,
            self.height,
            self.round,
            vote.value.as_ref(),
        )
    }

    /// Whether the two votes differ: the same value twice is no misbehaviour.
    pub fn is_conflicting(&self) -> bool {
        self.first.value != self.second.value
    }

    /// Checks both signatures of the accused with the strict rule; the first vote that
    /// fails is named.
    pub fn verify_signatures(&self, chain_id: &ChainId) -> Result<(), WhichVote> {
        for (which, vote) in [
            (WhichVote::First, &self.first),
            (WhichVote::Second, &self.second),
        ] {
            self.validator
                .verify_strict(&self.sign_bytes(chain_id, vote), &vote.signature)
                .map_err(|_| which)?;
        }
        Ok(())
    }
}

/// What the ledger stores under `state_keys::equivocation(..)` once it has checked an
/// [`Equivocation`]: the evidence itself and who reported it, when.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct EquivocationRecord {
    pub evidence: Equivocation,
    /// The signer of the reporting transaction.
    pub reporter: PublicKey,
    /// The height of the block that included the report.
    pub height: Height,
    pub tx_hash: Hash,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SigningKey;

    fn chain() -> ChainId {
        ChainId::new("simin-test").expect("valid id")
    }

    fn evidence(
        key: &SigningKey,
        kind: VoteKind,
        a: Option<Hash>,
        b: Option<Hash>,
    ) -> Equivocation {
        let vote = |value: Option<Hash>| ConflictingVote {
            value,
            signature: key.sign(&signed_vote_bytes(
                &chain(),
                kind,
                Height(5),
                2,
                value.as_ref(),
            )),
        };
        Equivocation {
            validator: key.public_key(),
            height: Height(5),
            round: 2,
            kind,
            first: vote(a),
            second: vote(b),
        }
    }

    #[test]
    fn every_kind_and_value_signs_different_bytes() {
        let block = Hash::digest(b"block");
        let all = [
            signed_vote_bytes(&chain(), VoteKind::Prevote, Height(1), 0, None),
            signed_vote_bytes(&chain(), VoteKind::Prevote, Height(1), 0, Some(&block)),
            signed_vote_bytes(&chain(), VoteKind::Precommit, Height(1), 0, None),
            signed_vote_bytes(&chain(), VoteKind::Precommit, Height(1), 0, Some(&block)),
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(
            all[3],
            crate::vote_sign_bytes(&chain(), Height(1), 0, &block),
            "non-nil precommits are certificate signatures"
        );
    }

    #[test]
    fn evidence_verifies_only_with_the_accused_key_and_chain() {
        let key = SigningKey::from_seed([3; 32]);
        let good = evidence(&key, VoteKind::Prevote, Some(Hash::digest(b"a")), None);
        assert!(good.is_conflicting());
        assert_eq!(good.verify_signatures(&chain()), Ok(()));
        let other_chain = ChainId::new("other").expect("valid id");
        assert_eq!(good.verify_signatures(&other_chain), Err(WhichVote::First));
        let mut forged = good.clone();
        forged.second.value = Some(Hash::digest(b"b"));
        assert_eq!(forged.verify_signatures(&chain()), Err(WhichVote::Second));
        let same = evidence(&key, VoteKind::Precommit, None, None);
        assert!(!same.is_conflicting());
    }
}

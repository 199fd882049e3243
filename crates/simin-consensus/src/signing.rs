//! The bytes validators sign, and the engine's `Signer`/`Verifier` over simin_crypto keys.
//!
//! Votes are signed over `simin_types::signed_vote_bytes` (non-nil precommits over exactly
//! `simin_types::vote_sign_bytes`), so that a commit certificate built by the engine
//! verifies with `CommitCertificate::verify` alone and equivocation evidence verifies in
//! the ledger. Every other message has its own domain prefix, different from the vote
//! domains, so no signature can be replayed as another kind of message or on another chain.

use std::future::{ready, Future};
use std::pin::Pin;

use malachitebft_app_channel::app::types::core::{
    NilOrVal, Round, SignedMessage, ValidatorProof, VoteExtensionScope, VoteType,
};
use malachitebft_signing::{Error as SigningError, Signer, VerificationResult, Verifier};
use std::sync::Arc;

use simin_crypto::{PublicKey, SigningKey};
use simin_types::{ChainId, Height, VoteKind};

use crate::context::SiminContext;
use crate::guard::{SignGuard, Slot};
use crate::messages::{Proposal, Vote};
use crate::types::{BlockId, ConsensusHeight, ConsensusSignature};

const PROPOSAL_DOMAIN: &[u8] = b"simin/proposal/v1\0";
const BLOCK_PARTS_DOMAIN: &[u8] = b"simin/block-parts/v1\0";
const VOTE_EXTENSION_DOMAIN: &[u8] = b"simin/vote-extension/v1\0";

/// A round as it is signed: `None` for nil, so that nil can never alias round 0.
fn signed_round(round: Round) -> Option<u32> {
    round.as_u32()
}

fn domain_bytes<T: borsh::BorshSerialize>(domain: &[u8], fields: &T) -> Vec<u8> {
    let mut bytes = domain.to_vec();
    bytes.extend(simin_types::encode(fields));
    bytes
}

/// The kind of an engine vote as simin_types names it.
pub fn vote_kind(vote_type: VoteType) -> VoteKind {
    match vote_type {
        VoteType::Prevote => VoteKind::Prevote,
        VoteType::Precommit => VoteKind::Precommit,
    }
}

/// The bytes a validator signs for `vote` on `chain_id`: `simin_types::signed_vote_bytes`,
/// the one definition the ledger also checks equivocation evidence against.
pub fn vote_bytes(chain_id: &ChainId, vote: &Vote) -> Vec<u8> {
    // A vote always carries a defined round; `u32::MAX` stands for the impossible nil
    // round so that it still cannot collide with a real one.
    let round = vote.round.as_u32().unwrap_or(u32::MAX);
    let value = match &vote.value {
        NilOrVal::Nil => None,
        NilOrVal::Val(block) => Some(&block.0),
    };
    simin_types::signed_vote_bytes(
        chain_id,
        vote_kind(vote.vote_type),
        Height::from(vote.height),
        round,
        value,
    )
}

/// The bytes a proposer signs for `proposal` on `chain_id`.
pub fn proposal_bytes(chain_id: &ChainId, proposal: &Proposal) -> Vec<u8> {
    domain_bytes(
        PROPOSAL_DOMAIN,
        &(
            chain_id,
            Height::from(proposal.height),
            signed_round(proposal.round),
            proposal.value.0,
            signed_round(proposal.pol_round),
            proposal.proposer.0,
        ),
    )
}

/// The bytes a proposer signs in the `Fin` part of a streamed block.
pub fn block_parts_bytes(
    chain_id: &ChainId,
    height: ConsensusHeight,
    round: u32,
    block: &BlockId,
) -> Vec<u8> {
    domain_bytes(
        BLOCK_PARTS_DOMAIN,
        &(chain_id, Height::from(height), round, block.0),
    )
}

fn extension_bytes(chain_id: &ChainId, scope: &VoteExtensionScope<SiminContext>) -> Vec<u8> {
    domain_bytes(
        VOTE_EXTENSION_DOMAIN,
        &(
            chain_id,
            Height::from(scope.height),
            signed_round(scope.round),
            scope.value_id.0,
            scope.validator_address.0,
        ),
    )
}

fn verdict(key: &PublicKey, message: &[u8], signature: &ConsensusSignature) -> VerificationResult {
    VerificationResult::from_bool(key.verify_strict(message, &signature.0).is_ok())
}

/// The engine's future type, as `async_trait` spells it.
type EngineFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SigningError>> + Send + 'a>>;

/// Signs consensus messages with a validator's key, each vote and proposal only once the
/// [`SignGuard`] has recorded it as conflicting with nothing signed before.
#[derive(Debug, Clone)]
pub struct SiminSigner {
    chain_id: ChainId,
    key: SigningKey,
    /// `None` only for the Byzantine test proxy, whose whole point is to equivocate.
    guard: Option<Arc<SignGuard>>,
}

impl SiminSigner {
    pub fn new(chain_id: ChainId, key: SigningKey, guard: Arc<SignGuard>) -> Self {
        Self {
            chain_id,
            key,
            guard: Some(guard),
        }
    }

    /// The same key without the guard, for the Byzantine proxy of adversarial tests.
    #[cfg(feature = "byzantine-testing")]
    pub(crate) fn without_guard(&self) -> Self {
        Self {
            guard: None,
            ..self.clone()
        }
    }

    /// Asks the guard whether a message may be signed; an engine error if not.
    fn admit(
        &self,
        height: ConsensusHeight,
        round: Round,
        slot: Slot,
        value: Option<&BlockId>,
    ) -> Result<(), SigningError> {
        // Rounds the engine signs for are always defined; u32::MAX stands for nil as in
        // `vote_bytes`, so a nil round could never alias a real one here either.
        let round = round.as_u32().unwrap_or(u32::MAX);
        let Some(guard) = &self.guard else {
            return Ok(());
        };
        guard
            .admit(height.0, round, slot, value.map(|block| block.0))
            .map_err(|err| {
                tracing::error!(%err, "the sign guard refused to sign");
                SigningError::from_source(err)
            })
    }

    fn sign(&self, message: &[u8]) -> ConsensusSignature {
        ConsensusSignature(self.key.sign(message))
    }

    /// Signs the `Fin` part of a streamed block.
    pub fn sign_block_parts(
        &self,
        height: ConsensusHeight,
        round: u32,
        block: &BlockId,
    ) -> ConsensusSignature {
        self.sign(&block_parts_bytes(&self.chain_id, height, round, block))
    }
}

// The trait is declared with `async_trait`; its methods are written out by hand here
// because signing is synchronous and returns a ready future.
impl Signer<SiminContext> for SiminSigner {
    fn sign_vote<'life0, 'async_trait>(
        &'life0 self,
        vote: Vote,
    ) -> EngineFuture<'async_trait, SignedMessage<SiminContext, Vote>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        let slot = match vote.vote_type {
            VoteType::Prevote => Slot::Prevote,
            VoteType::Precommit => Slot::Precommit,
        };
        let value = match &vote.value {
            NilOrVal::Nil => None,
            NilOrVal::Val(block) => Some(block),
        };
        let result = self.admit(vote.height, vote.round, slot, value).map(|()| {
            let signature = self.sign(&vote_bytes(&self.chain_id, &vote));
            SignedMessage::new(vote, signature)
        });
        Box::pin(ready(result))
    }

    fn sign_proposal<'life0, 'async_trait>(
        &'life0 self,
        proposal: Proposal,
    ) -> EngineFuture<'async_trait, SignedMessage<SiminContext, Proposal>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        let result = self
            .admit(
                proposal.height,
                proposal.round,
                Slot::Proposal,
                Some(&proposal.value),
            )
            .map(|()| {
                let signature = self.sign(&proposal_bytes(&self.chain_id, &proposal));
                SignedMessage::new(proposal, signature)
            });
        Box::pin(ready(result))
    }

    fn sign_vote_extension<'life0, 'async_trait>(
        &'life0 self,
        scope: VoteExtensionScope<SiminContext>,
        extension: (),
    ) -> EngineFuture<'async_trait, SignedMessage<SiminContext, ()>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        let signature = self.sign(&extension_bytes(&self.chain_id, &scope));
        Box::pin(ready(Ok(SignedMessage::new(extension, signature))))
    }

    fn sign_validator_proof<'life0, 'async_trait>(
        &'life0 self,
        public_key: Vec<u8>,
        peer_id: Vec<u8>,
    ) -> EngineFuture<'async_trait, ValidatorProof<SiminContext>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        // Proof-of-validator is network-agnostic by the engine's rule: no domain prefix.
        let signature = self.sign(&ValidatorProof::<SiminContext>::signing_bytes(
            &public_key,
            &peer_id,
        ));
        Box::pin(ready(Ok(ValidatorProof::new(
            public_key, peer_id, signature,
        ))))
    }
}

/// Verifies consensus messages of one chain.
#[derive(Debug, Clone)]
pub struct SiminVerifier {
    chain_id: ChainId,
}

impl SiminVerifier {
    pub fn new(chain_id: ChainId) -> Self {
        Self { chain_id }
    }

    /// Verifies the proposer's signature in the `Fin` part of a streamed block.
    pub fn verify_block_parts(
        &self,
        key: &PublicKey,
        height: ConsensusHeight,
        round: u32,
        block: &BlockId,
        signature: &ConsensusSignature,
    ) -> bool {
        verdict(
            key,
            &block_parts_bytes(&self.chain_id, height, round, block),
            signature,
        )
        .is_valid()
    }
}

impl Verifier<SiminContext> for SiminVerifier {
    fn verify_signed_vote<'life0, 'life1, 'life2, 'life3, 'async_trait>(
        &'life0 self,
        vote: &'life1 Vote,
        signature: &'life2 ConsensusSignature,
        public_key: &'life3 PublicKey,
    ) -> EngineFuture<'async_trait, VerificationResult>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        'life3: 'async_trait,
        Self: 'async_trait,
    {
        let result = verdict(public_key, &vote_bytes(&self.chain_id, vote), signature);
        Box::pin(ready(Ok(result)))
    }

    fn verify_signed_proposal<'life0, 'life1, 'life2, 'life3, 'async_trait>(
        &'life0 self,
        proposal: &'life1 Proposal,
        signature: &'life2 ConsensusSignature,
        public_key: &'life3 PublicKey,
    ) -> EngineFuture<'async_trait, VerificationResult>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        'life3: 'async_trait,
        Self: 'async_trait,
    {
        let message = proposal_bytes(&self.chain_id, proposal);
        Box::pin(ready(Ok(verdict(public_key, &message, signature))))
    }

    fn verify_signed_vote_extension<'life0, 'life1, 'life2, 'life3, 'life4, 'async_trait>(
        &'life0 self,
        scope: &'life1 VoteExtensionScope<SiminContext>,
        _extension: &'life2 (),
        signature: &'life3 ConsensusSignature,
        public_key: &'life4 PublicKey,
    ) -> EngineFuture<'async_trait, VerificationResult>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        'life3: 'async_trait,
        'life4: 'async_trait,
        Self: 'async_trait,
    {
        let message = extension_bytes(&self.chain_id, scope);
        Box::pin(ready(Ok(verdict(public_key, &message, signature))))
    }

    fn verify_validator_proof<'life0, 'life1, 'async_trait>(
        &'life0 self,
        proof: &'life1 ValidatorProof<SiminContext>,
    ) -> EngineFuture<'async_trait, VerificationResult>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        let result = match PublicKey::from_slice(&proof.public_key) {
            Ok(key) => verdict(&key, &proof.preimage(), &proof.signature),
            Err(_) => VerificationResult::Invalid,
        };
        Box::pin(ready(Ok(result)))
    }
}

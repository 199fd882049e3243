//! Validator sets, commit certificates and the light-client check.
//!
//! A commit certificate holds the precommit signatures of validators for one block. The
//! check needs only the header's hash, the certificate and the validator set: a wallet or
//! kiosk can trust a state proof from any single node once more than two thirds of the
//! voting power has signed the header that carries the state root.

use std::collections::BTreeSet;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::{codec, ChainId, Hash, Height, PublicKey, Signature, TypesError};

/// Domain separator of precommit signatures.
const PRECOMMIT_DOMAIN: &[u8] = b"simin/precommit/v1\0";

/// The exact bytes a validator signs when it precommits `block_hash` at `height`/`round`.
/// The consensus engine's votes are signed over these bytes, so certificates can be
/// checked without the engine.
pub fn vote_sign_bytes(
    chain_id: &ChainId,
    height: Height,
    round: u32,
    block_hash: &Hash,
) -> Vec<u8> {
    let mut bytes = PRECOMMIT_DOMAIN.to_vec();
    bytes.extend(codec::encode(&(chain_id, height, round, block_hash)));
    bytes
}

/// One validator and its voting power.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Validator {
    pub public_key: PublicKey,
    pub voting_power: u64,
}

/// The validators deciding a height, sorted by public key with no duplicates.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
}

impl ValidatorSet {
    /// Builds a set, sorting by key and refusing duplicates, zero power and overflow.
    pub fn new(mut validators: Vec<Validator>) -> Result<ValidatorSet, TypesError> {
        let invalid = |reason: String| TypesError::Invalid {
            what: "validator set",
            reason,
        };
        if validators.is_empty() || validators.len() > crate::limits::VALIDATORS_MAX {
            return Err(invalid(format!(
                "needs 1 to {} validators, got {}",
                crate::limits::VALIDATORS_MAX,
                validators.len()
            )));
        }
        validators.sort_by_key(|v| v.public_key);
        if validators
            .windows(2)
            .any(|w| w[0].public_key == w[1].public_key)
        {
            return Err(invalid("a validator appears twice".into()));
        }
        if validators.iter().any(|v| v.voting_power == 0) {
            return Err(invalid("a validator has zero voting power".into()));
        }
        let set = ValidatorSet { validators };
        set.checked_total_power()
            .ok_or_else(|| invalid("total voting power overflows".into()))?;
        Ok(set)
    }

    fn checked_total_power(&self) -> Option<u64> {
        self.validators
            .iter()
            .try_fold(0u64, |sum, v| sum.checked_add(v.voting_power))
    }

    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    pub fn total_power(&self) -> u64 {
        self.checked_total_power()
            .expect("total power fits in u64 because `new` checked it")
    }

    pub fn get(&self, key: &PublicKey) -> Option<&Validator> {
        self.validators
            .binary_search_by(|v| v.public_key.cmp(key))
            .ok()
            .map(|i| &self.validators[i])
    }

    pub fn hash(&self) -> Hash {
        Hash::digest(&codec::encode(self))
    }
}

/// One validator's precommit signature in a certificate.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CommitSignature {
    pub validator: PublicKey,
    pub signature: Signature,
}

/// Proof that a block was decided: the precommits of more than 2/3 of the voting power.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CommitCertificate {
    pub height: Height,
    pub round: u32,
    pub block_hash: Hash,
    pub signatures: Vec<CommitSignature>,
}

impl CommitCertificate {
    /// The light-client check: the certificate is for `block_hash` at `height`, every
    /// signature is a valid precommit of a distinct member of `validators`, and together
    /// they carry more than two thirds of the voting power.
    pub fn verify(
        &self,
        chain_id: &ChainId,
        height: Height,
        block_hash: &Hash,
        validators: &ValidatorSet,
    ) -> Result<(), TypesError> {
        if self.height != height {
            return Err(TypesError::CertificateHeight {
                expected: height,
                got: self.height,
            });
        }
        if self.block_hash != *block_hash {
            return Err(TypesError::CertificateBlock {
                expected: block_hash.to_hex(),
                got: self.block_hash.to_hex(),
            });
        }
        if self.signatures.len() > validators.validators().len() {
            return Err(TypesError::Invalid {
                what: "commit certificate",
                reason: "more signatures than validators".into(),
            });
        }
        let message = vote_sign_bytes(chain_id, self.height, self.round, &self.block_hash);
        let mut seen = BTreeSet::new();
        let mut signed: u64 = 0;
        for commit in &self.signatures {
            let validator = validators
                .get(&commit.validator)
                .ok_or_else(|| TypesError::UnknownSigner(commit.validator.to_hex()))?;
            if !seen.insert(commit.validator) {
                return Err(TypesError::DuplicateSigner(commit.validator.to_hex()));
            }
            commit
                .validator
                .verify_strict(&message, &commit.signature)
                .map_err(|_| TypesError::BadCertificateSignature(commit.validator.to_hex()))?;
            signed = signed
                .checked_add(validator.voting_power)
                .expect("a subset's power fits in u64 because the whole set's does");
        }
        let total = validators.total_power();
        // signed > 2/3 total, computed without overflow or rounding: 3*signed > 2*total.
        if u128::from(signed) * 3 <= u128::from(total) * 2 {
            return Err(TypesError::InsufficientVotingPower { signed, total });
        }
        Ok(())
    }
}

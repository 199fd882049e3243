//! Malachite's core value types for simin: height, address, validators, value id, signature.
//!
//! Malachite's traits can only be implemented on local types, so each simin type that the
//! engine sees gets a thin newtype here with lossless conversions to and from simin_types.

use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use malachitebft_app_channel::app::types::core::{self as mcore, SigningScheme, VotingPower};
use simin_crypto::{Hash, PublicKey, Signature, SigningKey};

use crate::context::SiminContext;
use crate::error::ConsensusError;

/// A block height as the engine sees it (simin's `Height`).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct ConsensusHeight(pub u64);

impl fmt::Display for ConsensusHeight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl mcore::Height for ConsensusHeight {
    const ZERO: Self = ConsensusHeight(0);
    const INITIAL: Self = ConsensusHeight(1);

    fn increment_by(&self, n: u64) -> Self {
        // Heights are bounded by the number of blocks ever produced; u64 never overflows here.
        ConsensusHeight(self.0.saturating_add(n))
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(ConsensusHeight)
    }

    fn as_u64(&self) -> u64 {
        self.0
    }
}

impl From<simin_types::Height> for ConsensusHeight {
    fn from(height: simin_types::Height) -> Self {
        ConsensusHeight(height.0)
    }
}

impl From<ConsensusHeight> for simin_types::Height {
    fn from(height: ConsensusHeight) -> Self {
        simin_types::Height(height.0)
    }
}

/// A validator's address: its Ed25519 public key, shown as hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct ValidatorAddress(pub PublicKey);

impl fmt::Display for ValidatorAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_hex())
    }
}

impl fmt::Debug for ValidatorAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ValidatorAddress({})", self.0.to_hex())
    }
}

impl mcore::Address for ValidatorAddress {}

/// The id of a proposed value: the hash of the block (`Block::hash()`).
///
/// The engine's `Value` is this id too: the full block travels as proposal parts
/// (`ValuePayload::ProposalAndParts`), so proposals and votes stay small whatever the
/// size of the block.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct BlockId(pub Hash);

impl fmt::Display for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_hex())
    }
}

impl fmt::Debug for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlockId({})", self.0.to_hex())
    }
}

impl mcore::Value for BlockId {
    type Id = BlockId;

    fn id(&self) -> BlockId {
        *self
    }
}

/// An Ed25519 signature, ordered by its bytes (the engine needs `Ord` on signatures).
#[derive(Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ConsensusSignature(pub Signature);

impl PartialOrd for ConsensusSignature {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ConsensusSignature {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0 .0.cmp(&other.0 .0)
    }
}

impl fmt::Debug for ConsensusSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConsensusSignature({})", self.0.to_hex())
    }
}

/// The signing scheme of simin validators: Ed25519 through simin_crypto.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ed25519Scheme;

impl SigningScheme for Ed25519Scheme {
    type DecodingError = simin_crypto::CryptoError;
    type Signature = ConsensusSignature;
    type PublicKey = PublicKey;
    type PrivateKey = SigningKey;

    fn decode_signature(bytes: &[u8]) -> Result<ConsensusSignature, Self::DecodingError> {
        Signature::from_slice(bytes).map(ConsensusSignature)
    }

    fn encode_signature(signature: &ConsensusSignature) -> Vec<u8> {
        signature.0 .0.to_vec()
    }

    fn decode_public_key(bytes: &[u8]) -> Result<PublicKey, Self::DecodingError> {
        PublicKey::from_slice(bytes)
    }

    fn encode_public_key(public_key: &PublicKey) -> Vec<u8> {
        public_key.0.to_vec()
    }
}

/// A validator as the engine sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusValidator {
    pub address: ValidatorAddress,
    pub public_key: PublicKey,
    pub voting_power: VotingPower,
}

impl mcore::Validator<SiminContext> for ConsensusValidator {
    fn address(&self) -> &ValidatorAddress {
        &self.address
    }

    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    fn voting_power(&self) -> VotingPower {
        self.voting_power
    }
}

/// A validator set, sorted by voting power (descending) then address (ascending), as the
/// engine requires. Built from simin's `ValidatorSet` by [`ConsensusValidatorSet::from_simin`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusValidatorSet {
    validators: Vec<ConsensusValidator>,
    total_voting_power: VotingPower,
}

impl ConsensusValidatorSet {
    /// Converts and sorts simin's validator set; refuses empty sets, zero power,
    /// duplicate keys and a total power that overflows u64.
    pub fn from_simin(set: &simin_types::ValidatorSet) -> Result<Self, ConsensusError> {
        let mut validators: Vec<ConsensusValidator> = set
            .validators()
            .iter()
            .map(|v| ConsensusValidator {
                address: ValidatorAddress(v.public_key),
                public_key: v.public_key,
                voting_power: v.voting_power,
            })
            .collect();
        if validators.is_empty() {
            return Err(ConsensusError::InvalidValidatorSet("it is empty".into()));
        }
        validators.sort_by(|a, b| {
            b.voting_power
                .cmp(&a.voting_power)
                .then_with(|| a.address.cmp(&b.address))
        });
        let mut total: VotingPower = 0;
        for (index, validator) in validators.iter().enumerate() {
            if validator.voting_power == 0 {
                return Err(ConsensusError::InvalidValidatorSet(format!(
                    "validator {} has no voting power",
                    validator.address
                )));
            }
            if index > 0 && validators[index - 1].address == validator.address {
                return Err(ConsensusError::InvalidValidatorSet(format!(
                    "validator {} appears twice",
                    validator.address
                )));
            }
            total = total.checked_add(validator.voting_power).ok_or_else(|| {
                ConsensusError::InvalidValidatorSet("total voting power overflows".into())
            })?;
        }
        Ok(Self {
            validators,
            total_voting_power: total,
        })
    }

    /// The validators in the engine's order.
    pub fn validators(&self) -> &[ConsensusValidator] {
        &self.validators
    }
}

impl mcore::ValidatorSet<SiminContext> for ConsensusValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }

    fn total_voting_power(&self) -> VotingPower {
        self.total_voting_power
    }

    fn get_by_address(&self, address: &ValidatorAddress) -> Option<&ConsensusValidator> {
        self.validators.iter().find(|v| &v.address == address)
    }

    fn get_by_index(&self, index: usize) -> Option<&ConsensusValidator> {
        self.validators.get(index)
    }
}

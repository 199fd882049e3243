//! Errors of the ledger: state faults, refused transactions and refused blocks.

use simin_types::{BlockTime, ChainId, Hash, Height, PublicKey, TypesError};

use crate::CallError;

/// The node could not read a key of its state. Raised by [`crate::StateView`] implementations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read state key {}: {reason}", key.escape_ascii())]
pub struct StateReadError {
    pub key: Vec<u8>,
    pub reason: String,
}

/// A fault of the node's own state or configuration, never a verdict on a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    StateRead(#[from] StateReadError),
    #[error("state key {key} holds an undecodable {what}: {reason}")]
    CorruptState {
        key: String,
        what: &'static str,
        reason: String,
    },
    #[error("state key {key} holds no {what}, which every state must have")]
    MissingState { key: String, what: &'static str },
    #[error("invalid genesis: {0}")]
    InvalidGenesis(TypesError),
}

/// Why a transaction was refused: by the mempool, by a proposer, or inside a block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("transaction is {bytes} bytes, over the limit of {max}")]
    TooLarge { bytes: usize, max: usize },
    #[error("transaction is for chain {got}, this chain is {expected}")]
    WrongChain { expected: ChainId, got: ChainId },
    #[error("transaction signature does not verify with the strict rule")]
    BadSignature,
    #[error("transaction expired at height {expiry_height}; the block height is {height}")]
    Expired {
        expiry_height: Height,
        height: Height,
    },
    #[error("nonce {got} is below the account's next nonce {expected}")]
    NonceTooLow { got: u64, expected: u64 },
    #[error("nonce {got} is not the account's next nonce {expected}")]
    NonceNotNext { got: u64, expected: u64 },
    #[error("nonce {nonce} of {signer} cannot be used: its successor would overflow")]
    NonceExhausted { signer: PublicKey, nonce: u64 },
    #[error("invalid call: {0}")]
    InvalidCall(CallError),
    #[error(transparent)]
    State(#[from] LedgerError),
    /// Admission only: the nonce can never be the account's next one in time to be used.
    #[error("nonce {got} is too far above the account's next nonce {expected}")]
    NonceTooHigh { got: u64, expected: u64 },
    /// Admission only: the signer does not hold what the call needs in the checked state
    /// (a city authority key, an organisation key with the right role, a source's key).
    #[error("the signer may not make this call ({code}): {0}", code = .0.code())]
    NotAuthorized(CallError),
    /// Admission only: a call open to unregistered keys failed when run against the
    /// checked state.
    #[error("the call fails against the current state ({code}): {0}", code = .0.code())]
    CallRefused(CallError),
}

impl TxError {
    /// A stable machine-readable code, e.g. `tx.nonce_too_low`, for APIs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            TxError::TooLarge { .. } => "tx.too_large",
            TxError::WrongChain { .. } => "tx.wrong_chain",
            TxError::BadSignature => "tx.bad_signature",
            TxError::Expired { .. } => "tx.expired",
            TxError::NonceTooLow { .. } => "tx.nonce_too_low",
            TxError::NonceNotNext { .. } => "tx.nonce_not_next",
            TxError::NonceExhausted { .. } => "tx.nonce_exhausted",
            TxError::InvalidCall(call) => call.code(),
            TxError::State(_) => "ledger.state",
            TxError::NonceTooHigh { .. } => "tx.nonce_too_high",
            TxError::NotAuthorized(_) => "tx.not_authorized",
            TxError::CallRefused(_) => "tx.call_refused",
        }
    }

    /// The module's own failure behind a refusal, e.g. `notary.not_a_notary` for
    /// [`TxError::NotAuthorized`]: what a client needs to know what to fix.
    pub fn call_error(&self) -> Option<&CallError> {
        match self {
            TxError::InvalidCall(e) | TxError::NotAuthorized(e) | TxError::CallRefused(e) => {
                Some(e)
            }
            _ => None,
        }
    }

    /// True when the transaction can never become valid (drop it), false when it might
    /// later (a future nonce, a role granted, a record created) or the refusal was the
    /// node's own fault (a state read).
    pub fn is_permanent(&self) -> bool {
        !matches!(self, TxError::NonceNotNext { got, expected } if got > expected)
            && !matches!(
                self,
                TxError::State(_) | TxError::NotAuthorized(_) | TxError::CallRefused(_)
            )
    }
}

/// Why a block cannot be built or executed. All variants but [`BlockError::State`] are
/// verdicts on the block (reject it); `State` is the node's own fault (stop, do not vote).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("block has {count} transactions, over the limit of {max}")]
    TooManyTxs { count: usize, max: usize },
    #[error("block transactions take {bytes} bytes, over the limit of {max}")]
    TooLarge { bytes: usize, max: usize },
    #[error("block height {got} does not follow the last block; expected {expected}")]
    HeightNotNext { expected: Height, got: Height },
    #[error("the chain reached the last height {0}")]
    HeightExhausted(Height),
    #[error("block time {got} is not after the previous block's time {previous}")]
    TimeNotAfter { previous: BlockTime, got: BlockTime },
    #[error("transaction {index} ({tx_hash}) may not be in a block: {source}")]
    InvalidTx {
        index: usize,
        tx_hash: Hash,
        source: TxError,
    },
    #[error(transparent)]
    State(#[from] LedgerError),
}

impl BlockError {
    /// True when the block itself is at fault, false for a fault of the local state.
    pub fn is_block_fault(&self) -> bool {
        !matches!(self, BlockError::State(_))
    }
}

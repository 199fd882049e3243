//! Errors of the consensus crate.

/// Why consensus could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ConsensusError {
    #[error("invalid validator set: {0}")]
    InvalidValidatorSet(String),
    #[error("the application cannot tell the validator set of height {height}: {reason}")]
    ValidatorSetUnavailable {
        height: simin_types::Height,
        reason: String,
    },
    #[error("invalid consensus configuration: {0}")]
    Config(String),
    #[error("cannot derive the network key: {0}")]
    NetworkKey(String),
    #[error("cannot sign the validator proof: {0}")]
    ValidatorProof(String),
    #[error("the Malachite engine failed to start: {0}")]
    EngineStart(String),
    #[error("the consensus engine stopped: {0}")]
    EngineStopped(String),
    #[error("cannot commit the decided block {block} at height {height}: {reason}")]
    Commit {
        height: simin_types::Height,
        block: String,
        reason: String,
    },
    #[error(transparent)]
    ProposalStore(#[from] crate::host::ProposalStoreError),
    #[error(transparent)]
    Guard(#[from] crate::guard::GuardError),
}

/// Why bytes from the network or the WAL were refused by the codec.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("{what} is {got} bytes, over the limit of {max}")]
    TooLarge {
        what: &'static str,
        got: usize,
        max: usize,
    },
    #[error("cannot decode {what}: {reason}")]
    Decode { what: &'static str, reason: String },
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    #[error("cannot encode {what}: {reason}")]
    Encode { what: &'static str, reason: String },
}

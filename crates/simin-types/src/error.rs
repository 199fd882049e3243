//! Errors of decoding and validating core types.

use crate::Height;

/// Why bytes or values were refused as simin types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypesError {
    #[error("cannot decode {what}: {reason}")]
    Decode { what: &'static str, reason: String },
    #[error("{what} is {got} bytes, over the limit of {max}")]
    TooLarge {
        what: &'static str,
        got: usize,
        max: usize,
    },
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    #[error("certificate is for height {got}, expected {expected}")]
    CertificateHeight { expected: Height, got: Height },
    #[error("certificate is for block {got}, expected {expected}")]
    CertificateBlock { expected: String, got: String },
    #[error("certificate signer {0} is not in the validator set")]
    UnknownSigner(String),
    #[error("certificate names validator {0} twice")]
    DuplicateSigner(String),
    #[error("certificate signature of {0} does not verify")]
    BadCertificateSignature(String),
    #[error(
        "certificate carries {signed} of {total} voting power; more than two thirds is needed"
    )]
    InsufficientVotingPower { signed: u64, total: u64 },
    #[error(transparent)]
    Crypto(#[from] simin_crypto::CryptoError),
}

//! Errors of the cryptographic layer.

/// Why a key, signature, hash or proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("expected {expected} bytes, got {got}")]
    Length { expected: usize, got: usize },
    #[error("invalid hex: {0}")]
    Hex(String),
    #[error("not a valid Ed25519 public key")]
    InvalidPublicKey,
    #[error("signature does not verify")]
    BadSignature,
    #[error("signature number {index} of the batch does not verify")]
    BadSignatureInBatch { index: usize },
    #[error("Merkle proof does not verify: {0}")]
    BadMerkleProof(&'static str),
}

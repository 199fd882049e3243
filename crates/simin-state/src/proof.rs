//! State proofs: produced by the store, checked by clients that have no database.

use borsh::{BorshDeserialize, BorshSerialize};
use jmt::proof::SparseMerkleProof;
use jmt::{KeyHash, RootHash};
use sha2::Sha256;
use simin_types::Hash;

use crate::ProofError;

/// Largest encoded state proof: 256 siblings of at most 65 bytes, a leaf, and headroom.
pub const STATE_PROOF_BYTES_MAX: usize = 32 * 1024;

/// A proof that a key has a value, or is absent, under a state root: a jmt
/// `SparseMerkleProof` with SHA-256. Its wire form is borsh (`to_bytes`/`from_bytes`).
#[derive(Clone, Debug, PartialEq, BorshSerialize, BorshDeserialize)]
pub struct StateProof(pub(crate) SparseMerkleProof<Sha256>);

impl StateProof {
    pub fn to_bytes(&self) -> Vec<u8> {
        simin_types::encode(self)
    }

    /// Decodes a proof received from outside, refusing more than `STATE_PROOF_BYTES_MAX`.
    pub fn from_bytes(bytes: &[u8]) -> Result<StateProof, ProofError> {
        simin_types::decode("state proof", bytes, STATE_PROOF_BYTES_MAX).map_err(ProofError::Decode)
    }
}

/// The jmt key of a state key.
pub(crate) fn key_hash(key: &[u8]) -> KeyHash {
    KeyHash::with::<Sha256>(key)
}

/// Client-side check: does `proof` show that `key` has `value` (or is absent, when
/// `value` is `None`) in the state whose root is `root`?
///
/// The caller must also know that `key` is the key its question maps to
/// (`simin_types::state_keys`) and that `root` comes from a certified header.
pub fn verify_proof(
    root: &Hash,
    key: &[u8],
    value: Option<&[u8]>,
    proof: &StateProof,
) -> Result<(), ProofError> {
    proof
        .0
        .verify(RootHash(root.0), key_hash(key), value)
        .map_err(|err| ProofError::Invalid {
            root: *root,
            reason: format!("{err:#}"),
        })
}

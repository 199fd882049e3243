//! Hashing, Ed25519 signatures and Merkle trees for simin.
//!
//! Every primitive comes from a well-kept crate (`sha2`, `ed25519-dalek`); this crate only
//! fixes how simin uses them: which verification rule, which domain separation, which
//! encodings. It does no I/O.

mod error;
mod hash;
mod keys;
pub mod merkle;

pub use error::CryptoError;
pub use hash::Hash;
pub use keys::{verify_batch, PublicKey, Signature, SigningKey};

//! The canonical binary encoding: borsh, with a size bound on every decode (ADR 0002).
//!
//! Borsh is deterministic for the types used here (no maps, no floats), so one value has
//! one encoding and hashes of encodings are well defined. Decoding refuses trailing bytes.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::TypesError;

/// Encodes a value canonically.
pub fn encode<T: BorshSerialize>(value: &T) -> Vec<u8> {
    borsh::to_vec(value).expect("writing borsh into a Vec cannot fail because Vec grows")
}

/// Decodes exactly `bytes` (no trailing data) after checking them against `max_len`.
pub fn decode<T: BorshDeserialize>(
    what: &'static str,
    bytes: &[u8],
    max_len: usize,
) -> Result<T, TypesError> {
    if bytes.len() > max_len {
        return Err(TypesError::TooLarge {
            what,
            got: bytes.len(),
            max: max_len,
        });
    }
    borsh::from_slice(bytes).map_err(|e| TypesError::Decode {
        what,
        reason: e.to_string(),
    })
}

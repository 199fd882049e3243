//! Credential formats for the citizen card.
//!
//! Pure functions over bytes and JSON: no I/O, no clock, no randomness. Times,
//! salts and keys are passed in, so the same inputs give the same outputs and the
//! published test vectors can be reproduced.

pub mod card;
pub mod di;
pub mod did_key;
pub mod did_simin;
pub mod eligibility;
pub mod jose;
pub mod sd_jwt;
pub mod status_list;
pub mod vc;
pub mod verifier;

//! A client of a simin node's HTTP API, and the checks that make its answers trustworthy.
//!
//! [`Client`] speaks the `/v1` JSON API with a timeout on every request and a bound on
//! every response body. The [`verify`] functions check a node's answers against a
//! [`TrustAnchor`] (a chain id and its validator set) without trusting the node: a
//! notary proof or a transaction lookup passes only if more than two thirds of the
//! trusted voting power signed the header that carries it. Wallets and kiosks reuse this
//! crate; the `simin` CLI is one of its users.

mod client;
pub mod data;
mod error;
pub mod proven;
pub mod snapshot;
mod trust;
pub mod verify;

pub use client::{Client, ClientConfig, RESPONSE_BYTES_MAX};
pub use data::{verify_reading_proof, ReadingProofError, VerifiedReading};
pub use error::{ClientError, TrustError};
pub use proven::{ProvenError, ProvenState};
pub use simin_api::dto;
pub use snapshot::{KioskSnapshot, SnapshotError, SnapshotScope};
pub use trust::{Pinning, TrustAnchor, TrustStore};
pub use verify::{
    verify_header, verify_notary_proof, verify_state_lookup, verify_tx_inclusion, VerifiedAnchor,
    VerifiedState, VerifiedTx, VerifyError,
};

//! A simin node: the mempool, and the wiring of authenticated state, the pure ledger, the
//! Malachite consensus engine and the HTTP API into one process.
//!
//! `start` runs a node from its home directory; `devnet` lays out the homes of a local
//! network. Everything the node does to the chain goes through the consensus
//! [`simin_consensus::Application`] implemented in `app`.

mod app;
mod backend;
pub mod config;
mod data;
pub mod devnet;
pub mod devnet_identity;
mod error;
mod evidence;
pub mod mempool;
mod metrics;
mod relay;
mod run;
mod shared;
mod view;

pub use config::{Home, NodeConfig};
pub use error::NodeError;
pub use run::{start, RunningNode};

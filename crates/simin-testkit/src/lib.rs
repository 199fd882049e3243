//! A harness for tests of real `simin` processes on loopback: it lays out a network with
//! `simin testnet init`, runs each node as `simin node start --home H` with its own log
//! file, kills (SIGKILL), stops (SIGTERM) and restarts nodes, waits for heights with
//! timeouts, checks that nodes agree block by block, and submits signed notary
//! transactions. Every process is killed when its owner is dropped, and every network
//! gets its own block of ports, so tests may run in parallel processes (nextest).
//!
//! The `simin` binary is taken from the workspace's `target/debug` (or `SIMIN_BIN`); it is
//! built with `cargo build -p simin-cli` when missing. Build it first when the sources
//! changed: the harness does not rebuild a binary that exists.

mod binary;
mod chain;
pub mod chaos;
mod error;
mod notary;
mod ports;
mod process;
mod testnet;

pub use binary::simin_binary;
pub use chain::{agree, block_id, wait_for_height, BlockId};
pub use error::{ForkDetail, TestkitError};
pub use notary::{anchor_tx, read_key, Acked, Load, LoadReport};
pub use ports::PortBlock;
pub use process::Process;
pub use simin_client::Client;
pub use testnet::{NodeInfo, Role, Testnet, TestnetInfo};

/// How long the harness waits for a node by default (start, a height, a shutdown).
pub const DEFAULT_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

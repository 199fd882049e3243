//! A simin node: mempool, the wiring of state, ledger and consensus, configuration, metrics.

pub mod config;
pub mod mempool;

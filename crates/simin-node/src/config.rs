//! Node configuration (`config.toml` in a node's home) and the home directory layout.
//!
//! ```text
//! HOME/config.toml          this file
//! HOME/genesis.json         the chain's genesis, identical on every node
//! HOME/keys/node.key        the node's Ed25519 key (validator key if it is in the set)
//! HOME/data/state.redb      blocks, certificates, receipts and the authenticated state
//! HOME/data/wal/            the consensus engine's write-ahead log
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use simin_consensus::ConsensusConfig;

use crate::mempool::MempoolLimits;

/// Everything a node reads at start, besides genesis and its key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// A name for logs and metrics, e.g. `seoul-city-hall`.
    pub moniker: String,
    /// Where the HTTP API and portal listen.
    pub api_listen: SocketAddr,
    /// Peer-to-peer networking and timeouts of the consensus engine. Its `wal_dir`, when
    /// relative, is taken relative to the node's home.
    #[serde(default)]
    pub consensus: ConsensusConfig,
    #[serde(default)]
    pub mempool: MempoolConfig,
    /// API base URLs of the nodes this node relays client transactions to (for a full
    /// node: the validators; for a validator: the other validators).
    #[serde(default)]
    pub relay_to: Vec<String>,
}

/// Mempool limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MempoolConfig {
    /// Most waiting transactions.
    pub txs_max: usize,
    /// Most bytes of waiting transactions.
    pub bytes_max: usize,
    /// How far past an account's next nonce a waiting transaction may be.
    pub nonce_window: u64,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        let limits = MempoolLimits::default();
        MempoolConfig {
            txs_max: limits.txs_max,
            bytes_max: limits.bytes_max,
            nonce_window: limits.nonce_window,
        }
    }
}

impl From<MempoolConfig> for MempoolLimits {
    fn from(c: MempoolConfig) -> Self {
        MempoolLimits {
            txs_max: c.txs_max,
            bytes_max: c.bytes_max,
            nonce_window: c.nonce_window,
            // The bounds of open calls and parked transactions are not in the file yet.
            ..MempoolLimits::default()
        }
    }
}

/// Paths inside a node's home directory.
#[derive(Clone, Debug)]
pub struct Home(PathBuf);

impl Home {
    pub fn new(path: impl Into<PathBuf>) -> Home {
        Home(path.into())
    }
    pub fn root(&self) -> &Path {
        &self.0
    }
    pub fn config(&self) -> PathBuf {
        self.0.join("config.toml")
    }
    pub fn genesis(&self) -> PathBuf {
        self.0.join("genesis.json")
    }
    pub fn node_key(&self) -> PathBuf {
        self.0.join("keys").join("node.key")
    }
    pub fn state_db(&self) -> PathBuf {
        self.0.join("data").join("state.redb")
    }
    pub fn wal_dir(&self) -> PathBuf {
        self.0.join("data").join("wal")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_round_trips_and_refuses_unknown_fields() {
        let config = NodeConfig {
            moniker: "city-hall".into(),
            api_listen: "127.0.0.1:8080".parse().expect("valid address"),
            consensus: ConsensusConfig::default(),
            mempool: MempoolConfig::default(),
            relay_to: vec!["http://127.0.0.1:8081".into()],
        };
        let text = toml::to_string(&config).expect("serializes");
        assert_eq!(toml::from_str::<NodeConfig>(&text).expect("parses"), config);
        let bad = format!("{text}\nsurprise = 1\n");
        assert!(toml::from_str::<NodeConfig>(&bad).is_err());
    }
}

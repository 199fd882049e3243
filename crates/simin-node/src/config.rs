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
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::mempool::MempoolLimits;

/// Everything a node reads at start, besides genesis and its key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// A name for logs and metrics, e.g. `seoul-city-hall`.
    pub moniker: String,
    /// Where the HTTP API and portal listen.
    pub api_listen: SocketAddr,
    pub p2p: P2pConfig,
    #[serde(default)]
    pub consensus: ConsensusTimeouts,
    #[serde(default)]
    pub mempool: MempoolConfig,
}

/// Peer-to-peer networking of the consensus engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P2pConfig {
    /// Where this node listens for peers, e.g. `127.0.0.1:27000`.
    pub listen: SocketAddr,
    /// Peers to dial and keep connected, e.g. other agencies' validators.
    #[serde(default)]
    pub persistent_peers: Vec<SocketAddr>,
    /// Accept only the persistent peers (a closed validator network).
    #[serde(default = "default_true")]
    pub persistent_peers_only: bool,
}

fn default_true() -> bool {
    true
}

/// Consensus timeouts, tuned for a LAN or metro network: a dead proposer must cost a
/// fraction of a second, not the engine's multi-second defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsensusTimeouts {
    /// How long to wait for a proposal before prevoting nil.
    pub propose_ms: u64,
    /// Added to the propose timeout per round, so later rounds wait longer.
    pub propose_delta_ms: u64,
    pub prevote_ms: u64,
    pub precommit_ms: u64,
    /// Added to the prevote/precommit timeouts per round.
    pub vote_delta_ms: u64,
    /// Pause after a commit before starting the next height: the block interval when idle.
    pub commit_ms: u64,
}

impl Default for ConsensusTimeouts {
    fn default() -> Self {
        ConsensusTimeouts {
            propose_ms: 400,
            propose_delta_ms: 100,
            prevote_ms: 150,
            precommit_ms: 150,
            vote_delta_ms: 50,
            commit_ms: 100,
        }
    }
}

impl ConsensusTimeouts {
    pub fn propose(&self) -> Duration {
        Duration::from_millis(self.propose_ms)
    }
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
            p2p: P2pConfig {
                listen: "127.0.0.1:27000".parse().expect("valid address"),
                persistent_peers: vec![],
                persistent_peers_only: true,
            },
            consensus: ConsensusTimeouts::default(),
            mempool: MempoolConfig::default(),
        };
        let text = toml::to_string(&config).expect("serializes");
        assert_eq!(toml::from_str::<NodeConfig>(&text).expect("parses"), config);
        let bad = format!("{text}\nsurprise = 1\n");
        assert!(toml::from_str::<NodeConfig>(&bad).is_err());
    }
}

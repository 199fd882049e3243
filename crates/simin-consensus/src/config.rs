//! Consensus configuration: networking, timeouts tuned for a LAN, WAL location.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use malachitebft_app_channel::app::config::{
    ConsensusConfig as EngineConsensusConfig, DiscoveryConfig, NodeConfig, P2pConfig,
    PubSubProtocol, TransportProtocol, ValuePayload, ValueSyncConfig,
};
use malachitebft_app_channel::app::net::Multiaddr;
use malachitebft_app_channel::app::types::core::LinearTimeouts;
use serde::{Deserialize, Serialize};

use crate::error::ConsensusError;

/// The network transport between validators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    #[default]
    Tcp,
    Quic,
}

/// How this node takes part in consensus. TOML, every field defaulted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusConfig {
    /// A human-readable name of this node, used in logs and metrics.
    pub moniker: String,
    /// Directory of the consensus WAL (`<wal_dir>/consensus.wal`).
    pub wal_dir: PathBuf,
    /// Address the consensus network listens on (e.g. `127.0.0.1:26656`).
    pub listen_addr: SocketAddr,
    /// TCP or QUIC.
    pub transport: Transport,
    /// The other validators' consensus addresses. Only these peers are ever connected.
    pub persistent_peers: Vec<PersistentPeer>,
    /// Time a validator waits for the proposal of a round before prevoting nil.
    pub timeout_propose_ms: u64,
    /// Added to `timeout_propose_ms` for each further round of a height.
    pub timeout_propose_delta_ms: u64,
    /// Time a validator waits after 2/3 prevotes for anything before precommitting nil.
    pub timeout_prevote_ms: u64,
    /// Added to `timeout_prevote_ms` for each further round.
    pub timeout_prevote_delta_ms: u64,
    /// Time a validator waits after 2/3 precommits for anything before the next round.
    pub timeout_precommit_ms: u64,
    /// Added to `timeout_precommit_ms` for each further round.
    pub timeout_precommit_delta_ms: u64,
    /// Time in a round after which a validator rebroadcasts its votes (liveness).
    pub timeout_rebroadcast_ms: u64,
    /// Upper bound of any round timeout, however many rounds a height takes.
    pub timeout_max_ms: u64,
    /// Minimum time between the starts of two heights: the pace of empty blocks.
    pub block_interval_ms: u64,
    /// Whether lagging nodes catch up by fetching decided blocks from peers.
    pub value_sync: bool,
    /// Refuse every connection not from a persistent peer: a closed validator network.
    /// Give every persistent peer its `peer_id` when this is on: the engine (0.8.2)
    /// recognises a peer without a configured id only through its own outgoing dial, so
    /// a restarted peer would be refused until re-dialled. Only persistent peers are
    /// dialled either way (discovery is off), and every consensus message is signed by
    /// a validator, so a stranger that connects can relay but never vote.
    pub persistent_peers_only: bool,
    /// Test builds only (`byzantine-testing`): the faults this node injects, e.g.
    /// `[consensus.byzantine] equivocate_votes = { mode = "always" }`.
    #[cfg(feature = "byzantine-testing")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byzantine: Option<crate::byzantine::ByzantineConfig>,
}

/// A peer this node keeps connected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersistentPeer {
    /// Where the peer listens for consensus traffic.
    pub address: SocketAddr,
    /// The peer's network id ([`crate::peer_id`] of its node key), so that the peer is
    /// recognised when it connects, not only when this node dials it.
    #[serde(default)]
    pub peer_id: Option<String>,
}

/// Connections accepted from one IP address: two per possible peer.
const MAX_CONNECTIONS_PER_IP: usize = 2 * simin_types::limits::VALIDATORS_MAX;

impl Default for ConsensusConfig {
    fn default() -> Self {
        Self {
            moniker: "simin-node".into(),
            wal_dir: PathBuf::from("data/wal"),
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 26656)),
            transport: Transport::Tcp,
            persistent_peers: Vec::new(),
            // A dead proposer costs propose + prevote + precommit = 500 ms at round 0.
            timeout_propose_ms: 300,
            timeout_propose_delta_ms: 100,
            timeout_prevote_ms: 100,
            timeout_prevote_delta_ms: 50,
            timeout_precommit_ms: 100,
            timeout_precommit_delta_ms: 50,
            timeout_rebroadcast_ms: 1000,
            timeout_max_ms: 10_000,
            block_interval_ms: 1000,
            value_sync: true,
            persistent_peers_only: false,
            #[cfg(feature = "byzantine-testing")]
            byzantine: None,
        }
    }
}

impl ConsensusConfig {
    /// Refuses configurations the engine would mis-handle.
    pub fn validate(&self) -> Result<(), ConsensusError> {
        let bad = |reason: &str| Err(ConsensusError::Config(reason.to_string()));
        if self.moniker.is_empty() {
            return bad("moniker is empty");
        }
        if self.timeout_propose_ms == 0
            || self.timeout_prevote_ms == 0
            || self.timeout_precommit_ms == 0
        {
            return bad("round timeouts must be positive");
        }
        if self
            .persistent_peers
            .iter()
            .any(|p| p.address == self.listen_addr)
        {
            return bad("persistent_peers lists this node's own listen_addr");
        }
        for peer in &self.persistent_peers {
            if let Some(id) = &peer.peer_id {
                if id
                    .parse::<malachitebft_app_channel::app::net::PeerId>()
                    .is_err()
                {
                    return bad(&format!(
                        "persistent peer {} has an invalid peer_id {id:?}",
                        peer.address
                    ));
                }
            }
        }
        Ok(())
    }

    /// The engine's round timeouts.
    pub fn timeouts(&self) -> LinearTimeouts {
        let ms = Duration::from_millis;
        LinearTimeouts {
            propose: ms(self.timeout_propose_ms),
            propose_delta: ms(self.timeout_propose_delta_ms),
            prevote: ms(self.timeout_prevote_ms),
            prevote_delta: ms(self.timeout_prevote_delta_ms),
            precommit: ms(self.timeout_precommit_ms),
            precommit_delta: ms(self.timeout_precommit_delta_ms),
            rebroadcast: ms(self.timeout_rebroadcast_ms),
            max_timeout: ms(self.timeout_max_ms),
        }
    }

    /// The minimum duration of a height, handed to the engine as its target time.
    pub fn target_time(&self) -> Option<Duration> {
        (self.block_interval_ms > 0).then(|| Duration::from_millis(self.block_interval_ms))
    }

    fn multiaddr(&self, addr: SocketAddr) -> Multiaddr {
        let transport = match self.transport {
            Transport::Tcp => TransportProtocol::Tcp,
            Transport::Quic => TransportProtocol::Quic,
        };
        match addr {
            SocketAddr::V4(v4) => transport.multiaddr(&v4.ip().to_string(), usize::from(v4.port())),
            SocketAddr::V6(v6) => {
                let text = match self.transport {
                    Transport::Tcp => format!("/ip6/{}/tcp/{}", v6.ip(), v6.port()),
                    Transport::Quic => format!("/ip6/{}/udp/{}/quic-v1", v6.ip(), v6.port()),
                };
                text.parse().expect(
                    "an ip6 multiaddr built from a SocketAddr parses because it is well formed",
                )
            }
        }
    }

    /// A persistent peer's address, with its `/p2p/<id>` when known.
    fn peer_multiaddr(&self, peer: &PersistentPeer) -> Multiaddr {
        let address = self.multiaddr(peer.address);
        match &peer.peer_id {
            None => address,
            Some(id) => format!("{address}/p2p/{id}")
                .parse()
                .expect("a multiaddr with a p2p suffix parses because validate checked the id"),
        }
    }

    /// The engine's node configuration derived from this one.
    pub(crate) fn engine_config(&self) -> EngineConfig {
        let p2p = P2pConfig {
            listen_addr: self.multiaddr(self.listen_addr),
            persistent_peers: self
                .persistent_peers
                .iter()
                .map(|peer| self.peer_multiaddr(peer))
                .collect(),
            persistent_peers_only: self.persistent_peers_only,
            discovery: DiscoveryConfig {
                enabled: false,
                // Agencies behind one NAT, and every test network on loopback, share an
                // IP: the default of 5 connections per IP would cut a 4-node network.
                max_connections_per_ip: MAX_CONNECTIONS_PER_IP,
                ..DiscoveryConfig::default()
            },
            protocol: PubSubProtocol::default(),
            // The default size limits (4 MiB pub-sub, 10 MiB RPC) fit one stream message
            // and one block with its certificate; `codec` bounds are set below them.
            ..P2pConfig::default()
        };
        let consensus = EngineConsensusConfig {
            enabled: true,
            p2p,
            value_payload: ValuePayload::ProposalAndParts,
            ..EngineConsensusConfig::default()
        };
        let value_sync = ValueSyncConfig {
            enabled: self.value_sync,
            status_update_interval: Duration::from_secs(1),
            request_timeout: Duration::from_secs(10),
            // One block of up to 8 MiB per response keeps within the 10 MiB default limit.
            batch_size: 1,
            ..ValueSyncConfig::default()
        };
        EngineConfig {
            moniker: self.moniker.clone(),
            consensus,
            value_sync,
        }
    }
}

/// What the engine's builder reads through `NodeConfig`.
#[derive(Clone, Debug)]
pub(crate) struct EngineConfig {
    moniker: String,
    consensus: EngineConsensusConfig,
    value_sync: ValueSyncConfig,
}

impl NodeConfig for EngineConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }

    fn consensus(&self) -> &EngineConsensusConfig {
        &self.consensus
    }

    fn consensus_mut(&mut self) -> &mut EngineConsensusConfig {
        &mut self.consensus
    }

    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }

    fn value_sync_mut(&mut self) -> &mut ValueSyncConfig {
        &mut self.value_sync
    }
}

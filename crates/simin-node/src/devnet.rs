//! Lays out a local network: one home per node, a shared genesis, and the keys of the
//! devnet's city authority and notary organisation. `simin devnet` runs such a network
//! in one process; `simin testnet init` lays one out for one process per node.
//!
//! ```text
//! DIR/genesis.json             the chain's genesis
//! DIR/keys/authority.key       the city authority (governance calls)
//! DIR/keys/notary.key          the `devnet.notary` organisation (the CLI's default key)
//! DIR/keys/orgs/               the demo city's issuers (see `devnet_identity`)
//! DIR/node0 .. DIR/nodeN-1     validator homes (see `config::Home`)
//! DIR/full0 .. DIR/fullM-1     full node homes: keys outside the validator set
//! ```
//! Node `i` (validators first, then full nodes) serves its API on the API port + `i` and
//! talks to peers on the API port + 100 + `i`, all on the API address's IP. Every node
//! lists every other node as a persistent peer; validators relay clients' transactions
//! to the other validators, full nodes to the validators.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::rngs::OsRng;
use serde::Serialize;
use simin_consensus::{ConsensusConfig, PersistentPeer};
use simin_types::{BlockTime, ChainId, Genesis, OrgId, Organization, Role, SigningKey, Validator};

use crate::config::{Home, MempoolConfig, NodeConfig};
use crate::NodeError;

/// What devnet to lay out.
#[derive(Clone, Debug)]
pub struct DevnetSpec {
    pub data_dir: PathBuf,
    /// The first validator's API address; the other nodes take the following ports.
    pub api_listen: SocketAddr,
    pub validators: usize,
    /// Nodes that follow the chain without voting (their keys are not in genesis).
    pub full_nodes: usize,
}

/// Whether a node votes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    Validator,
    FullNode,
}

/// One node of a laid-out network.
#[derive(Clone, Debug)]
pub struct NodeLayout {
    pub role: NodeRole,
    pub home: Home,
    /// Where its HTTP API listens.
    pub api: SocketAddr,
    /// Where its consensus network listens.
    pub p2p: SocketAddr,
}

/// Where a laid-out devnet's pieces are.
#[derive(Clone, Debug)]
pub struct DevnetLayout {
    /// Every node's home, validators first; the same order as `nodes`.
    pub homes: Vec<Home>,
    pub nodes: Vec<NodeLayout>,
    pub notary_key: PathBuf,
    pub authority_key: PathBuf,
    pub genesis: PathBuf,
    pub chain_id: ChainId,
}

/// The devnet's chain id.
pub const DEVNET_CHAIN_ID: &str = "simin-devnet";
/// The devnet's notary organisation.
pub const DEVNET_NOTARY_ORG: &str = "devnet.notary";
/// Offset of the peer-to-peer ports from the API ports; also the most nodes a layout has.
const P2P_PORT_OFFSET: u16 = 100;
/// Pace of empty blocks on a local network.
const BLOCK_INTERVAL_MS: u64 = 200;

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> NodeError + '_ {
    move |source| NodeError::Write {
        path: path.to_owned(),
        source,
    }
}

fn invalid(what: &'static str, path: &Path, reason: String) -> NodeError {
    NodeError::Invalid {
        what,
        path: path.to_owned(),
        reason,
    }
}

/// Writes a secret key file readable by its owner only; refuses to overwrite one.
pub fn write_key_file(path: &Path, key: &SigningKey) -> Result<(), NodeError> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(write_error(dir))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(write_error(path))?;
    file.write_all(format!("{}\n", key.to_seed_hex()).as_bytes())
        .map_err(write_error(path))?;
    file.sync_all().map_err(write_error(path))
}

fn read_key_file(path: &Path) -> Result<SigningKey, NodeError> {
    let text = std::fs::read_to_string(path).map_err(|source| NodeError::Read {
        path: path.to_owned(),
        source,
    })?;
    SigningKey::from_hex(&text).map_err(|e| invalid("key", path, e.to_string()))
}

fn port_plus(addr: SocketAddr, offset: usize) -> Result<SocketAddr, NodeError> {
    let port = u16::try_from(offset)
        .ok()
        .and_then(|o| addr.port().checked_add(o))
        .ok_or_else(|| {
            invalid(
                "API address",
                Path::new(""),
                format!("port {} + {offset} is beyond 65535", addr.port()),
            )
        })?;
    Ok(SocketAddr::new(addr.ip(), port))
}

/// The nodes of `spec`: roles, homes and addresses.
fn plan(spec: &DevnetSpec) -> Result<Vec<NodeLayout>, NodeError> {
    let total = spec.validators.saturating_add(spec.full_nodes);
    if spec.validators == 0 || total > usize::from(P2P_PORT_OFFSET) {
        return Err(invalid(
            "devnet",
            &spec.data_dir,
            format!(
                "{} validators and {} full nodes: need 1 to {P2P_PORT_OFFSET} nodes, at least one a validator",
                spec.validators, spec.full_nodes
            ),
        ));
    }
    (0..total)
        .map(|i| {
            let (role, name) = if i < spec.validators {
                (NodeRole::Validator, format!("node{i}"))
            } else {
                (NodeRole::FullNode, format!("full{}", i - spec.validators))
            };
            Ok(NodeLayout {
                role,
                home: Home::new(spec.data_dir.join(name)),
                api: port_plus(spec.api_listen, i)?,
                p2p: port_plus(spec.api_listen, usize::from(P2P_PORT_OFFSET) + i)?,
            })
        })
        .collect()
}

/// Generates the keys and the genesis of a new network whose validators are the
/// validator nodes of `nodes`.
fn create(
    nodes: &[NodeLayout],
    genesis_path: &Path,
    authority_key: &Path,
    notary_key: &Path,
) -> Result<(), NodeError> {
    let authority = SigningKey::generate(&mut OsRng);
    let notary = SigningKey::generate(&mut OsRng);
    let mut validators = Vec::new();
    for node in nodes.iter().filter(|n| n.role == NodeRole::Validator) {
        let key = SigningKey::generate(&mut OsRng);
        validators.push(Validator {
            public_key: key.public_key(),
            voting_power: 1,
        });
        write_key_file(&node.home.node_key(), &key)?;
    }
    write_key_file(authority_key, &authority)?;
    write_key_file(notary_key, &notary)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let genesis_time = BlockTime(u64::try_from(now.as_millis()).unwrap_or(u64::MAX));
    let keys_dir = authority_key.parent().unwrap_or(Path::new("."));
    let (demo_orgs, identity) = crate::devnet_identity::create(keys_dir, genesis_time)?;
    let mut organizations = vec![Organization {
        id: OrgId::new(DEVNET_NOTARY_ORG).expect("a valid constant id"),
        name: "Devnet notary office".into(),
        keys: vec![notary.public_key()],
        roles: vec![Role::Agency, Role::Notary],
        active: true,
    }];
    organizations.extend(demo_orgs);
    let genesis = Genesis {
        chain_id: ChainId::new(DEVNET_CHAIN_ID).expect("a valid constant id"),
        genesis_time,
        authorities: vec![authority.public_key()],
        validators,
        organizations,
        identity,
    };
    let json =
        serde_json::to_vec_pretty(&genesis).expect("genesis serializes because it is plain data");
    std::fs::write(genesis_path, &json).map_err(write_error(genesis_path))
}

/// The configuration of node `i` of `nodes`, whose network ids are `peer_ids`.
fn node_config(nodes: &[NodeLayout], peer_ids: &[String], i: usize) -> NodeConfig {
    let me = &nodes[i];
    let others = || nodes.iter().enumerate().filter(move |(j, _)| *j != i);
    let moniker = match me.role {
        NodeRole::Validator => format!("devnet-{i}"),
        NodeRole::FullNode => format!("devnet-full-{i}"),
    };
    NodeConfig {
        moniker,
        api_listen: me.api,
        consensus: ConsensusConfig {
            listen_addr: me.p2p,
            persistent_peers: others()
                .map(|(j, n)| PersistentPeer {
                    address: n.p2p,
                    peer_id: Some(peer_ids[j].clone()),
                })
                .collect(),
            // A closed network: every peer is configured with its id.
            persistent_peers_only: true,
            block_interval_ms: BLOCK_INTERVAL_MS,
            ..ConsensusConfig::default()
        },
        mempool: MempoolConfig::default(),
        // Only validators propose, so transactions go to them whoever received them.
        relay_to: others()
            .filter(|(_, n)| n.role == NodeRole::Validator)
            .map(|(_, n)| format!("http://{}", n.api))
            .collect(),
    }
}

/// Creates the network on first use (keys, genesis, homes) and rewrites each node's
/// `config.toml` from `spec` every time; keys and genesis are never regenerated, so
/// running the devnet again resumes the same chain. A full node without a key gets one.
pub fn ensure(spec: &DevnetSpec) -> Result<DevnetLayout, NodeError> {
    let dir = &spec.data_dir;
    let keys_dir = dir.join("keys");
    let authority_key = keys_dir.join("authority.key");
    let notary_key = keys_dir.join("notary.key");
    let genesis_path = dir.join("genesis.json");
    let nodes = plan(spec)?;

    if !genesis_path.exists() {
        create(&nodes, &genesis_path, &authority_key, &notary_key)?;
    }
    let genesis_json = std::fs::read(&genesis_path).map_err(|source| NodeError::Read {
        path: genesis_path.clone(),
        source,
    })?;
    let genesis: Genesis = serde_json::from_slice(&genesis_json)
        .map_err(|e| invalid("genesis", &genesis_path, e.to_string()))?;
    if genesis.validators.len() != spec.validators {
        return Err(invalid(
            "devnet",
            dir,
            format!(
                "it was created with {} validators, not {}; use another directory",
                genesis.validators.len(),
                spec.validators
            ),
        ));
    }
    read_key_file(&notary_key)?;

    for node in &nodes {
        let home = &node.home;
        std::fs::create_dir_all(home.root()).map_err(write_error(home.root()))?;
        if node.role == NodeRole::FullNode && !home.node_key().exists() {
            write_key_file(&home.node_key(), &SigningKey::generate(&mut OsRng))?;
        }
    }
    let peer_ids = nodes
        .iter()
        .map(|node| {
            let key = read_key_file(&node.home.node_key())?;
            simin_consensus::peer_id(&key)
                .map_err(|e| invalid("key", &node.home.node_key(), e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (i, node) in nodes.iter().enumerate() {
        let home = &node.home;
        std::fs::write(home.genesis(), &genesis_json).map_err(write_error(&home.genesis()))?;
        let text = toml::to_string_pretty(&node_config(&nodes, &peer_ids, i))
            .expect("config serializes because it is plain data");
        std::fs::write(home.config(), text).map_err(write_error(&home.config()))?;
    }
    Ok(DevnetLayout {
        homes: nodes.iter().map(|n| n.home.clone()).collect(),
        nodes,
        notary_key,
        authority_key,
        genesis: genesis_path,
        chain_id: genesis.chain_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_city_is_accredited_from_genesis() {
        use simin_ledger::identity::{accreditation_chain, did_record, schema};
        let dir = tempfile::tempdir().expect("a temp dir");
        let layout = ensure(&DevnetSpec {
            data_dir: dir.path().to_owned(),
            api_listen: "127.0.0.1:9000".parse().expect("valid address"),
            validators: 1,
            full_nodes: 0,
        })
        .expect("laid out");
        let genesis: Genesis =
            serde_json::from_slice(&std::fs::read(&layout.genesis).expect("genesis"))
                .expect("parses");
        let mut state = simin_ledger::MemoryState::new();
        state.apply(&simin_ledger::genesis_writes(&genesis).expect("a valid genesis"));
        let at = genesis.genesis_time;
        let org = |id: &str| OrgId::new(id).expect("valid");
        let library = accreditation_chain(&state, &org("mapo.library"), "LibraryMembership", at)
            .expect("the library is trusted for memberships");
        assert_eq!(library.len(), 2);
        assert_eq!(library[1].accredited_by, None);
        assert!(accreditation_chain(&state, &org("mapo.library"), "CitizenCard", at).is_err());
        let card = accreditation_chain(
            &state,
            &org(crate::devnet_identity::DEVNET_CARD_ISSUER),
            "CitizenCard",
            at,
        )
        .expect("the registry issues citizen cards");
        assert_eq!(card[0].accredited_by, Some(org("seoul.city")));
        for t in simin_identity::card::BUILTIN_TYPES {
            assert!(schema(&state, t).expect("readable").is_some(), "{t}");
        }
        let registry = did_record(&state, &org(crate::devnet_identity::DEVNET_CARD_ISSUER))
            .expect("readable")
            .expect("a DID");
        let (_, assert_path) = crate::devnet_identity::org_key_paths(
            &dir.path().join("keys"),
            crate::devnet_identity::DEVNET_CARD_ISSUER,
        );
        let assertion = read_key_file(&assert_path).expect("the signing key");
        assert_eq!(
            registry.method("key-1").map(|m| m.public_key),
            Some(assertion.public_key())
        );
    }

    #[test]
    fn full_nodes_follow_and_relay_to_validators_only() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let spec = DevnetSpec {
            data_dir: dir.path().to_owned(),
            api_listen: "127.0.0.1:9000".parse().expect("valid address"),
            validators: 2,
            full_nodes: 1,
        };
        let layout = ensure(&spec).expect("laid out");
        assert_eq!(layout.nodes.len(), 3);
        assert_eq!(layout.nodes[2].role, NodeRole::FullNode);
        assert_eq!(layout.nodes[2].api.port(), 9002);
        assert_eq!(layout.nodes[2].p2p.port(), 9102);
        let genesis: Genesis =
            serde_json::from_slice(&std::fs::read(&layout.genesis).expect("genesis"))
                .expect("parses");
        let full_key = read_key_file(&layout.homes[2].node_key()).expect("full node key");
        assert_eq!(genesis.validators.len(), 2);
        assert!(genesis
            .validators
            .iter()
            .all(|v| v.public_key != full_key.public_key()));

        let read = |i: usize| -> NodeConfig {
            toml::from_str(&std::fs::read_to_string(layout.homes[i].config()).expect("config"))
                .expect("parses")
        };
        assert_eq!(read(0).relay_to, vec!["http://127.0.0.1:9001".to_owned()]);
        assert_eq!(
            read(2).relay_to,
            vec![
                "http://127.0.0.1:9000".to_owned(),
                "http://127.0.0.1:9001".to_owned()
            ]
        );
        assert_eq!(read(0).consensus.persistent_peers.len(), 2);

        // Laying out again keeps the chain: same genesis, same keys.
        let again = ensure(&spec).expect("laid out again");
        assert_eq!(
            std::fs::read(&again.genesis).expect("genesis"),
            std::fs::read(&layout.genesis).expect("genesis")
        );
        assert_eq!(
            read_key_file(&again.homes[2].node_key())
                .expect("key")
                .public_key(),
            full_key.public_key()
        );
        let more = DevnetSpec {
            validators: 3,
            ..spec
        };
        assert!(ensure(&more).is_err(), "the validator count is fixed");
    }

    #[test]
    fn peers_are_configured_with_their_ids_for_a_closed_network() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let spec = DevnetSpec {
            data_dir: dir.path().to_owned(),
            api_listen: "127.0.0.1:9300".parse().expect("valid address"),
            validators: 3,
            full_nodes: 1,
        };
        let layout = ensure(&spec).expect("laid out");
        let ids: Vec<String> = layout
            .homes
            .iter()
            .map(|h| {
                simin_consensus::peer_id(&read_key_file(&h.node_key()).expect("key")).expect("id")
            })
            .collect();
        for (i, home) in layout.homes.iter().enumerate() {
            let text = std::fs::read_to_string(home.config()).expect("config");
            let config: NodeConfig = toml::from_str(&text).expect("parses");
            assert!(config.consensus.persistent_peers_only);
            let mut expected: Vec<&String> = ids
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, id)| id)
                .collect();
            let mut got: Vec<&String> = config
                .consensus
                .persistent_peers
                .iter()
                .filter_map(|p| p.peer_id.as_ref())
                .collect();
            expected.sort();
            got.sort();
            assert_eq!(got, expected, "node {i} knows every other node by id");
            config
                .consensus
                .validate()
                .expect("a valid consensus config");
        }
    }
}

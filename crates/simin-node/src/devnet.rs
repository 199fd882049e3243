//! Lays out a local network: one home per validator, a shared genesis, and the keys of
//! the devnet's city authority and notary organisation.
//!
//! ```text
//! DIR/genesis.json             the chain's genesis
//! DIR/keys/authority.key       the city authority (governance calls)
//! DIR/keys/notary.key          the `devnet.notary` organisation (the CLI's default key)
//! DIR/node0 .. DIR/nodeN-1     validator homes (see `config::Home`)
//! ```
//! Validator `i` serves its API on the API port + `i` and talks to peers on the API
//! port + 100 + `i`, all on the API address's IP.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::rngs::OsRng;
use simin_consensus::ConsensusConfig;
use simin_types::{BlockTime, ChainId, Genesis, OrgId, Organization, Role, SigningKey, Validator};

use crate::config::{Home, MempoolConfig, NodeConfig};
use crate::NodeError;

/// What devnet to lay out.
#[derive(Clone, Debug)]
pub struct DevnetSpec {
    pub data_dir: PathBuf,
    /// The first validator's API address; the others take the following ports.
    pub api_listen: SocketAddr,
    pub validators: usize,
}

/// Where a laid-out devnet's pieces are.
#[derive(Clone, Debug)]
pub struct DevnetLayout {
    pub homes: Vec<Home>,
    pub notary_key: PathBuf,
    pub authority_key: PathBuf,
    pub genesis: PathBuf,
    pub chain_id: ChainId,
}

/// The devnet's chain id.
pub const DEVNET_CHAIN_ID: &str = "simin-devnet";
/// The devnet's notary organisation.
pub const DEVNET_NOTARY_ORG: &str = "devnet.notary";
/// Offset of the peer-to-peer ports from the API ports.
const P2P_PORT_OFFSET: u16 = 100;

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> NodeError + '_ {
    move |source| NodeError::Write {
        path: path.to_owned(),
        source,
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
    SigningKey::from_hex(&text).map_err(|e| NodeError::Invalid {
        what: "key",
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

fn port_plus(addr: SocketAddr, offset: usize) -> Result<SocketAddr, NodeError> {
    let port = u16::try_from(offset)
        .ok()
        .and_then(|o| addr.port().checked_add(o))
        .ok_or_else(|| NodeError::Invalid {
            what: "API address",
            path: PathBuf::new(),
            reason: format!("port {} + {offset} is beyond 65535", addr.port()),
        })?;
    Ok(SocketAddr::new(addr.ip(), port))
}

/// Creates the devnet on first use (keys, genesis, homes) and rewrites each node's
/// `config.toml` from `spec` every time; keys and genesis are never regenerated, so
/// running the devnet again resumes the same chain.
pub fn ensure(spec: &DevnetSpec) -> Result<DevnetLayout, NodeError> {
    let dir = &spec.data_dir;
    let keys_dir = dir.join("keys");
    let authority_key = keys_dir.join("authority.key");
    let notary_key = keys_dir.join("notary.key");
    let genesis_path = dir.join("genesis.json");
    let homes: Vec<Home> = (0..spec.validators)
        .map(|i| Home::new(dir.join(format!("node{i}"))))
        .collect();

    if !genesis_path.exists() {
        let authority = SigningKey::generate(&mut OsRng);
        let notary = SigningKey::generate(&mut OsRng);
        let mut validators = Vec::new();
        for home in &homes {
            let key = SigningKey::generate(&mut OsRng);
            validators.push(Validator {
                public_key: key.public_key(),
                voting_power: 1,
            });
            write_key_file(&home.node_key(), &key)?;
        }
        write_key_file(&authority_key, &authority)?;
        write_key_file(&notary_key, &notary)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let genesis = Genesis {
            chain_id: ChainId::new(DEVNET_CHAIN_ID).expect("a valid constant id"),
            genesis_time: BlockTime(u64::try_from(now.as_millis()).unwrap_or(u64::MAX)),
            authorities: vec![authority.public_key()],
            validators,
            organizations: vec![Organization {
                id: OrgId::new(DEVNET_NOTARY_ORG).expect("a valid constant id"),
                name: "Devnet notary office".into(),
                keys: vec![notary.public_key()],
                roles: vec![Role::Agency, Role::Notary],
                active: true,
            }],
        };
        let json = serde_json::to_vec_pretty(&genesis)
            .expect("genesis serializes because it is plain data");
        std::fs::write(&genesis_path, &json).map_err(write_error(&genesis_path))?;
    }
    let genesis_json = std::fs::read(&genesis_path).map_err(|source| NodeError::Read {
        path: genesis_path.clone(),
        source,
    })?;
    let genesis: Genesis =
        serde_json::from_slice(&genesis_json).map_err(|e| NodeError::Invalid {
            what: "genesis",
            path: genesis_path.clone(),
            reason: e.to_string(),
        })?;
    if genesis.validators.len() != spec.validators {
        return Err(NodeError::Invalid {
            what: "devnet",
            path: dir.clone(),
            reason: format!(
                "it was created with {} validators, not {}; use another --data-dir",
                genesis.validators.len(),
                spec.validators
            ),
        });
    }
    read_key_file(&notary_key)?;

    let p2p: Vec<SocketAddr> = (0..spec.validators)
        .map(|i| port_plus(spec.api_listen, usize::from(P2P_PORT_OFFSET) + i))
        .collect::<Result<_, _>>()?;
    for (i, home) in homes.iter().enumerate() {
        std::fs::create_dir_all(home.root()).map_err(write_error(home.root()))?;
        std::fs::write(home.genesis(), &genesis_json).map_err(write_error(&home.genesis()))?;
        let config = NodeConfig {
            moniker: format!("devnet-{i}"),
            api_listen: port_plus(spec.api_listen, i)?,
            consensus: ConsensusConfig {
                listen_addr: p2p[i],
                persistent_peers: p2p
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, a)| *a)
                    .collect(),
                block_interval_ms: 200,
                ..ConsensusConfig::default()
            },
            mempool: MempoolConfig::default(),
        };
        let text =
            toml::to_string_pretty(&config).expect("config serializes because it is plain data");
        std::fs::write(home.config(), text).map_err(write_error(&home.config()))?;
    }
    Ok(DevnetLayout {
        homes,
        notary_key,
        authority_key,
        genesis: genesis_path,
        chain_id: genesis.chain_id,
    })
}

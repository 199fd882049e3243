//! Starting a node from its home directory, and stopping it.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use simin_consensus::ConsensusHandle;
use simin_state::Store;
use simin_types::{Genesis, SigningKey};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tracing::info;

use crate::app::App;
use crate::backend::NodeBackend;
use crate::mempool::Mempool;
use crate::metrics::Metrics;
use crate::relay::Relay;
use crate::shared::Shared;
use crate::{Home, NodeConfig, NodeError};

/// A running node: consensus and the HTTP API.
#[derive(Debug)]
pub struct RunningNode {
    api_addr: SocketAddr,
    consensus: ConsensusHandle,
    api_stop: oneshot::Sender<()>,
    api_task: JoinHandle<std::io::Result<()>>,
}

fn read(path: &Path) -> Result<Vec<u8>, NodeError> {
    std::fs::read(path).map_err(|source| NodeError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Reads a node's configuration, genesis and key from its home.
pub fn load(home: &Home) -> Result<(NodeConfig, Vec<u8>, Genesis, SigningKey), NodeError> {
    let invalid = |what, path: &Path, reason: String| NodeError::Invalid {
        what,
        path: path.to_owned(),
        reason,
    };
    let config_text = read(&home.config())?;
    let config_text = String::from_utf8(config_text)
        .map_err(|e| invalid("config", &home.config(), e.to_string()))?;
    let config: NodeConfig = toml::from_str(&config_text)
        .map_err(|e| invalid("config", &home.config(), e.to_string()))?;
    let genesis_json = read(&home.genesis())?;
    let genesis: Genesis = serde_json::from_slice(&genesis_json)
        .map_err(|e| invalid("genesis", &home.genesis(), e.to_string()))?;
    genesis
        .validate()
        .map_err(|e| invalid("genesis", &home.genesis(), e.to_string()))?;
    let key_text = String::from_utf8(read(&home.node_key())?)
        .map_err(|e| invalid("key", &home.node_key(), e.to_string()))?;
    let key = SigningKey::from_hex(&key_text)
        .map_err(|e| invalid("key", &home.node_key(), e.to_string()))?;
    Ok((config, genesis_json, genesis, key))
}

/// Opens (or creates) the store and checks it holds this genesis.
fn open_store(home: &Home, genesis_json: &[u8], genesis: &Genesis) -> Result<Store, NodeError> {
    let path = home.state_db();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| NodeError::Write {
            path: dir.to_owned(),
            source,
        })?;
    }
    let store = Store::open(&path)?;
    match store.genesis_json()? {
        None => {
            let writes = simin_ledger::genesis_writes(genesis)?;
            let root = store.init_genesis(genesis_json, writes.into_iter().collect())?;
            info!(chain_id = %genesis.chain_id, %root, "initialised the state from genesis");
        }
        Some(stored) if stored == genesis_json => {}
        Some(_) => {
            return Err(NodeError::GenesisMismatch {
                path,
                genesis: home.genesis(),
            })
        }
    }
    Ok(store)
}

/// Starts the node whose home is `home`: opens its store (initialising it from genesis
/// on first start, resuming at the last committed height after), starts consensus and
/// serves the HTTP API and portal.
pub async fn start(home: &Home) -> Result<RunningNode, NodeError> {
    let (config, genesis_json, genesis, key) = load(home)?;
    let store = open_store(home, &genesis_json, &genesis)?;
    let latest = store.latest_height()?.expect("initialised by open_store");
    info!(moniker = %config.moniker, chain_id = %genesis.chain_id, %latest, "starting node");

    let (tip, _) = watch::channel(latest);
    let metrics = Arc::new(Metrics::new());
    let shared = Arc::new(Shared {
        chain_id: genesis.chain_id.clone(),
        store,
        validators: Mutex::new(None),
        mempool: Mutex::new(Mempool::new(config.mempool.into())),
        tip,
        relay: Relay::start(config.relay_to.clone(), metrics.clone()),
        metrics,
    });

    let mut consensus_config = config.consensus.clone();
    consensus_config.moniker = config.moniker.clone();
    if consensus_config.wal_dir.is_relative() {
        consensus_config.wal_dir = home.root().join(&consensus_config.wal_dir);
    }
    let app = App::new(shared.clone(), key.clone());
    let consensus =
        simin_consensus::start(app, consensus_config, genesis.chain_id.clone(), key).await?;

    let listener = tokio::net::TcpListener::bind(config.api_listen)
        .await
        .map_err(|source| NodeError::Listen {
            address: config.api_listen,
            source,
        })?;
    let api_addr = listener.local_addr().map_err(NodeError::Api)?;
    let (api_stop, stopped) = oneshot::channel::<()>();
    let data = crate::data::open_store(home);
    let backend = Arc::new(NodeBackend { shared, data });
    let api_task = tokio::spawn(simin_api::serve(listener, backend, async move {
        let _ = stopped.await;
    }));
    Ok(RunningNode {
        api_addr,
        consensus,
        api_stop,
        api_task,
    })
}

impl RunningNode {
    /// Where the HTTP API and portal listen.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// Runs until consensus or the API stops on its own (an error).
    pub async fn wait(self) -> Result<(), NodeError> {
        let RunningNode {
            consensus,
            api_task,
            api_stop,
            ..
        } = self;
        tokio::select! {
            result = consensus.wait() => {
                let _ = api_stop.send(());
                result.map_err(NodeError::from)
            }
            result = api_task => {
                match result {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(NodeError::Api(e)),
                    Err(e) => Err(NodeError::Api(std::io::Error::other(e))),
                }
            }
        }
    }

    /// Stops the API (draining requests) and consensus. Committed blocks are durable
    /// already; nothing else needs flushing.
    pub async fn shutdown(self) {
        let _ = self.api_stop.send(());
        let _ = self.api_task.await;
        self.consensus.shutdown().await;
        info!("node stopped");
    }
}

//! Starting a node from its home directory, watching its tasks, and stopping it.
//!
//! A node is a few long-lived tokio tasks: the consensus loop and the Malachite engine
//! (in [`ConsensusHandle`]), the HTTP API server and the transaction relay. None of them
//! ends while the node runs; if one does (an error, or a panic caught by tokio as a
//! `JoinError`), the node is broken, and [`RunningNode::failed`] says so, so that the
//! process stops loudly instead of answering its API without consensus.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use simin_consensus::ConsensusHandle;
use simin_state::Store;
use simin_types::{Genesis, SigningKey};
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinError, JoinHandle};
use tracing::{error, info};

use crate::app::App;
use crate::backend::NodeBackend;
use crate::mempool::Mempool;
use crate::metrics::Metrics;
use crate::relay::Relay;
use crate::shared::Shared;
use crate::{Home, NodeConfig, NodeError};

#[cfg(debug_assertions)]
mod fault;

/// A running node: consensus, the HTTP API and the relay.
#[derive(Debug)]
pub struct RunningNode {
    api_addr: SocketAddr,
    consensus: ConsensusHandle,
    api_stop: oneshot::Sender<()>,
    /// `None` once `failed` has seen it end.
    api_task: Option<JoinHandle<std::io::Result<()>>>,
    /// `None` without peers to relay to, or once `failed` has seen it end.
    relay_task: Option<JoinHandle<()>>,
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

/// Starts the node whose home is `home`: binds its API address, opens its store
/// (initialising it from genesis on first start, resuming at the last committed height
/// after), starts consensus and serves the HTTP API and portal.
///
/// The API address is bound first, so that an address in use fails the start before
/// the store is opened or consensus (its WAL, its network) is started.
pub async fn start(home: &Home) -> Result<RunningNode, NodeError> {
    let (config, genesis_json, genesis, key) = load(home)?;
    let listener = tokio::net::TcpListener::bind(config.api_listen)
        .await
        .map_err(|source| NodeError::Listen {
            address: config.api_listen,
            source,
        })?;
    let api_addr = listener.local_addr().map_err(NodeError::Api)?;
    let store = open_store(home, &genesis_json, &genesis)?;
    let latest = store
        .latest_height()?
        .ok_or(simin_state::StoreError::NotInitialised)?;
    info!(moniker = %config.moniker, chain_id = %genesis.chain_id, %latest, "starting node");

    let (tip, _) = watch::channel(latest);
    let metrics = Arc::new(Metrics::new());
    let (relay, relay_task) = match Relay::start(config.relay_to.clone(), metrics.clone()) {
        Some((relay, task)) => (Some(relay), Some(task)),
        None => (None, None),
    };
    let shared = Arc::new(Shared {
        chain_id: genesis.chain_id.clone(),
        store,
        validators: Mutex::new(None),
        mempool: Mutex::new(Mempool::new(config.mempool.into())),
        tip,
        relay,
        metrics,
    });

    let mut consensus_config = config.consensus.clone();
    consensus_config.moniker = config.moniker.clone();
    if consensus_config.wal_dir.is_relative() {
        consensus_config.wal_dir = home.root().join(&consensus_config.wal_dir);
    }
    let app = App::new(shared.clone(), key.clone());
    // Debug builds only: a test may ask the consensus loop to panic at a height, to
    // check that the node then exits (see `fault`).
    #[cfg(debug_assertions)]
    let app = fault::FaultyApp::from_env(app);
    let consensus =
        simin_consensus::start(app, consensus_config, genesis.chain_id.clone(), key).await?;

    let (api_stop, stopped) = oneshot::channel::<()>();
    let data = crate::data::open_store(home);
    let backend = Arc::new(NodeBackend {
        shared,
        data,
        peers: consensus.peer_heights(),
        synced: consensus.synced_height(),
    });
    // Behind the bounded edge server (timeouts, connection caps, per-client rate limits),
    // on the listener bound before consensus started.
    let api_task = tokio::spawn(simin_api::serve(listener, backend, async move {
        let _ = stopped.await;
    }));
    Ok(RunningNode {
        api_addr,
        consensus,
        api_stop,
        api_task: Some(api_task),
        relay_task,
    })
}

/// Waits for `task` to end and forgets it; pending for ever when there is none, so it
/// can sit in a `select!` beside the others. Cancel safe.
async fn ended<T>(task: &mut Option<JoinHandle<T>>) -> Result<T, JoinError> {
    let Some(handle) = task.as_mut() else {
        return std::future::pending().await;
    };
    let joined = handle.await;
    *task = None;
    joined
}

/// What a task's `JoinError` says: a panic with its message, or a cancellation.
fn join_reason(join: &JoinError) -> String {
    if join.is_panic() {
        format!("it panicked: {join}")
    } else {
        format!("it was cancelled: {join}")
    }
}

impl RunningNode {
    /// Where the HTTP API and portal listen.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// Resolves when one of the node's essential tasks (consensus loop, engine, API
    /// server, relay) ends, with why: each runs until shutdown, so any end is a fault.
    /// Logged at error level here. Cancel safe, so it can be raced against a stop
    /// signal; `shutdown` may follow either way.
    pub async fn failed(&mut self) -> NodeError {
        let err = tokio::select! {
            err = self.consensus.stopped() => NodeError::Consensus(err),
            joined = ended(&mut self.api_task) => match joined {
                Ok(Ok(())) => NodeError::TaskEnded {
                    task: "HTTP API server",
                    reason: "it returned".into(),
                },
                Ok(Err(e)) => NodeError::Api(e),
                Err(join) => NodeError::TaskEnded {
                    task: "HTTP API server",
                    reason: join_reason(&join),
                },
            },
            joined = ended(&mut self.relay_task) => NodeError::TaskEnded {
                task: "transaction relay",
                reason: match joined {
                    Ok(()) => "it returned".into(),
                    Err(join) => join_reason(&join),
                },
            },
        };
        error!(api = %self.api_addr, %err, "an essential task of the node ended; the node must stop");
        err
    }

    /// Runs until an essential task ends (always a fault), then stops the rest.
    pub async fn wait(mut self) -> Result<(), NodeError> {
        let err = self.failed().await;
        self.shutdown().await;
        Err(err)
    }

    /// Stops the API (draining requests), the relay and consensus. Committed blocks are
    /// durable already; nothing else needs flushing.
    pub async fn shutdown(self) {
        let _ = self.api_stop.send(());
        if let Some(api_task) = self.api_task {
            let _ = api_task.await;
        }
        if let Some(relay_task) = self.relay_task {
            relay_task.abort();
        }
        self.consensus.shutdown().await;
        info!("node stopped");
    }
}

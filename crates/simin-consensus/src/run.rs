//! Starting the Malachite engine for an `Application`, and stopping it.

use std::sync::Arc;

use malachitebft_app_channel::app::types::codec::Codec;
use malachitebft_app_channel::app::types::Keypair;
use malachitebft_app_channel::{
    start_engine, Channels, ConsensusContext, EngineHandle, NetworkContext, NetworkIdentity,
    RequestContext, Signer, SyncContext, WalContext,
};
use simin_crypto::SigningKey;
use simin_types::ChainId;
use tracing::info;
#[cfg(feature = "byzantine-testing")]
use tracing::warn;

use crate::app::Application;
use crate::codec::SiminCodec;
use crate::config::ConsensusConfig;
use crate::context::SiminContext;
use crate::error::ConsensusError;
use crate::guard::SignGuard;
use crate::host::Host;
use crate::signing::{SiminSigner, SiminVerifier};
use crate::types::ValidatorAddress;

mod handle;
mod peers;

pub use handle::ConsensusHandle;

/// Capacity of the request channels to the engine.
const REQUEST_CHANNEL_CAPACITY: usize = 100;

/// The network id of the node whose key is `key`, for its peers' `persistent_peers`.
pub fn peer_id(key: &SigningKey) -> Result<String, ConsensusError> {
    Ok(network_keypair(key)?.public().to_peer_id().to_string())
}

/// Derives the libp2p identity from the validator key, so the peer id is stable.
fn network_keypair(key: &SigningKey) -> Result<Keypair, ConsensusError> {
    let mut seed =
        hex::decode(key.to_seed_hex()).map_err(|e| ConsensusError::NetworkKey(e.to_string()))?;
    // `ed25519_from_bytes` zeroes the seed it is given.
    Keypair::ed25519_from_bytes(&mut seed).map_err(|e| ConsensusError::NetworkKey(e.to_string()))
}

/// Starts the engine (network, WAL, sync) and the loop that drives `app`.
///
/// `signing_key` is this validator's consensus key; a node whose key is not in the
/// validator set follows consensus without voting. Must be called inside a tokio runtime.
pub async fn start<A: Application>(
    app: A,
    config: ConsensusConfig,
    chain_id: ChainId,
    signing_key: SigningKey,
) -> Result<ConsensusHandle, ConsensusError> {
    config.validate()?;
    let address = ValidatorAddress(signing_key.public_key());
    let guard = SignGuard::open(config.wal_dir.join("sign_guard"))?;
    info!(signed_height = guard.height(), "opened the sign guard");
    let signer = SiminSigner::new(chain_id.clone(), signing_key.clone(), Arc::new(guard));
    // Before the engine starts, so that a store it cannot read stops nothing running.
    let host = Host::new(
        app,
        chain_id.clone(),
        config.clone(),
        signer.clone(),
        address,
    )?;
    let keypair = network_keypair(&signing_key)?;
    let peer_id = keypair.public().to_peer_id();

    let proof = signer
        .sign_validator_proof(address.0 .0.to_vec(), peer_id.to_bytes())
        .await
        .map_err(|e| ConsensusError::ValidatorProof(e.to_string()))?;
    let proof_bytes = SiminCodec
        .encode(&proof)
        .map_err(|e| ConsensusError::ValidatorProof(e.to_string()))?;
    let identity = NetworkIdentity::new_validator(
        config.moniker.clone(),
        keypair,
        address.to_string(),
        proof_bytes,
    );

    info!(%address, %peer_id, "starting the consensus engine");
    let wal_path = config.wal_dir.join("consensus.wal");
    #[cfg(feature = "byzantine-testing")]
    if let Some(byzantine) = config.byzantine.clone() {
        warn!(moniker = %config.moniker, "starting a BYZANTINE validator (test build)");
        let engine = crate::byzantine::ByzantineEngine {
            byzantine,
            identity,
            wal_path,
            address,
            signer: signer.clone(),
            verifier: SiminVerifier::new(chain_id.clone()),
            request_capacity: REQUEST_CHANNEL_CAPACITY,
        };
        let (channels, engine) = crate::byzantine::start(&config, engine).await?;
        return Ok(spawn_host(
            host,
            &config,
            address,
            channels,
            engine,
            SiminVerifier::new(chain_id),
        ));
    }
    let (channels, engine) = start_engine(
        SiminContext,
        config.engine_config(),
        WalContext::new(wal_path, SiminCodec),
        NetworkContext::new(identity, SiminCodec),
        ConsensusContext::new_validator(
            address,
            Box::new(SiminVerifier::new(chain_id.clone())),
            Box::new(signer.clone()),
        ),
        SyncContext::new(SiminCodec),
        RequestContext::new(REQUEST_CHANNEL_CAPACITY),
    )
    .await
    .map_err(|e| ConsensusError::EngineStart(format!("{e:#}")))?;
    Ok(spawn_host(
        host,
        &config,
        address,
        channels,
        engine,
        SiminVerifier::new(chain_id),
    ))
}

/// Runs the loop that drives `app` from the engine's channels.
fn spawn_host<A: Application>(
    host: Host<A>,
    config: &ConsensusConfig,
    address: ValidatorAddress,
    channels: Channels<SiminContext>,
    engine: EngineHandle,
    verifier: SiminVerifier,
) -> ConsensusHandle {
    info!(
        moniker = %config.moniker,
        %address,
        listen = %config.listen_addr,
        peers = config.persistent_peers.len(),
        "consensus engine started"
    );
    // Subscribed before the loop takes the channels, so no vote is missed.
    let peers = peers::spawn(channels.events.subscribe(), verifier, address);
    let app_loop = tokio::spawn(host.run(channels));
    ConsensusHandle::new(engine, app_loop, address, peers)
}

/// Starts consensus and runs it until it fails.
pub async fn run<A: Application>(
    app: A,
    config: ConsensusConfig,
    chain_id: ChainId,
    signing_key: SigningKey,
) -> Result<(), ConsensusError> {
    start(app, config, chain_id, signing_key)
        .await?
        .wait()
        .await
}

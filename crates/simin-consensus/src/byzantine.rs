//! Test-only Byzantine behaviour (feature `byzantine-testing`): the engine is started with
//! Malachite's `ByzantineNetworkProxy` between consensus and the real network, which
//! injects the faults of `ConsensusConfig::byzantine` into this node's outgoing messages
//! (e.g. a second, conflicting signed vote for every vote: equivocation).

use std::path::PathBuf;

use malachitebft_app_channel::{
    ByzantineContext, Channels, ConsensusContext, EngineBuilder, EngineHandle, NetworkIdentity,
    RequestContext, SyncContext, WalContext,
};
pub use malachitebft_engine_byzantine::{ByzantineConfig, Trigger};
use simin_crypto::Hash;

use crate::codec::SiminCodec;
use crate::config::ConsensusConfig;
use crate::context::SiminContext;
use crate::error::ConsensusError;
use crate::signing::{SiminSigner, SiminVerifier};
use crate::types::{BlockId, ValidatorAddress};

/// The value of a conflicting vote: a hash derived from the original value (or from
/// nothing, for a nil vote), so it differs from every real block of the round.
fn conflicting_block(original: Option<&BlockId>) -> BlockId {
    let mut seed = b"simin/byzantine/conflicting-vote".to_vec();
    if let Some(block) = original {
        seed.extend_from_slice(&block.0 .0);
    }
    BlockId(Hash::digest(&seed))
}

/// Everything `start_engine` takes, for a validator whose network goes through the proxy.
pub(crate) struct ByzantineEngine {
    pub byzantine: ByzantineConfig,
    pub identity: NetworkIdentity,
    pub wal_path: PathBuf,
    pub address: ValidatorAddress,
    pub signer: SiminSigner,
    pub verifier: SiminVerifier,
    pub request_capacity: usize,
}

/// Starts the engine like `start_engine`, with the Byzantine proxy as its network.
pub(crate) async fn start(
    config: &ConsensusConfig,
    engine: ByzantineEngine,
) -> Result<(Channels<SiminContext>, EngineHandle), ConsensusError> {
    engine
        .byzantine
        .validate()
        .map_err(|e| ConsensusError::Config(format!("byzantine: {e:#}")))?;
    let byzantine = ByzantineContext {
        identity: engine.identity,
        codec: SiminCodec,
        config: engine.byzantine,
        signer: Box::new(engine.signer.without_guard()),
        address: engine.address,
        conflicting_value_fn: None,
        conflicting_vote_value_fn: Some(Box::new(conflicting_block)),
    };
    EngineBuilder::new(SiminContext, config.engine_config())
        .with_default_wal(WalContext::new(engine.wal_path, SiminCodec))
        .with_byzantine_network(byzantine)
        .await
        .map_err(|e| ConsensusError::EngineStart(format!("{e:#}")))?
        .with_default_sync(SyncContext::new(SiminCodec))
        .with_default_consensus(ConsensusContext::new_validator(
            engine.address,
            Box::new(engine.verifier),
            Box::new(engine.signer),
        ))
        .with_default_request(RequestContext::new(engine.request_capacity))
        .build()
        .await
        .map_err(|e| ConsensusError::EngineStart(format!("{e:#}")))
}

//! [`ConsensusHandle`]: a running engine and its application loop, watched for their end.

use std::time::Duration;

use malachitebft_app_channel::app::engine::node::NodeRef;
use malachitebft_app_channel::EngineHandle;
use tokio::sync::watch;
use tokio::task::{JoinError, JoinHandle};
use tracing::warn;

use simin_types::Height;

use super::peers::{PeerHeights, Watches};
use crate::error::ConsensusError;
use crate::types::ValidatorAddress;

/// How long `shutdown` waits for the engine's actors to stop.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// A running consensus engine and its application loop.
///
/// Both run as tokio tasks that end only on a fault (the loop returns an error or
/// panics, the engine's actors stop); [`ConsensusHandle::stopped`] resolves when either
/// ends, so that the node can stop instead of running without consensus.
pub struct ConsensusHandle {
    engine_actor: NodeRef,
    /// `None` once `stopped` has seen it end.
    engine_task: Option<JoinHandle<()>>,
    /// `None` once `stopped` has seen it end.
    app_loop: Option<JoinHandle<Result<(), ConsensusError>>>,
    address: ValidatorAddress,
    peer_heights: watch::Receiver<PeerHeights>,
    synced_height: watch::Receiver<Option<Height>>,
    tracker: JoinHandle<()>,
}

impl std::fmt::Debug for ConsensusHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsensusHandle")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// Which task `stopped` saw end.
enum Ended {
    AppLoop(Result<Result<(), ConsensusError>, JoinError>),
    Engine(Result<(), JoinError>),
}

impl ConsensusHandle {
    pub(super) fn new(
        engine: EngineHandle,
        app_loop: JoinHandle<Result<(), ConsensusError>>,
        address: ValidatorAddress,
        peers: Watches,
    ) -> ConsensusHandle {
        ConsensusHandle {
            engine_actor: engine.actor,
            engine_task: Some(engine.handle),
            app_loop: Some(app_loop),
            address,
            peer_heights: peers.heights,
            synced_height: peers.synced,
            tracker: peers.task,
        }
    }

    /// This validator's address (its public key).
    pub fn address(&self) -> ValidatorAddress {
        self.address
    }

    /// The height each other validator was last seen voting at (signature checked), by
    /// its key: a validator voting at `h` has committed `h - 1`. Kept up to date while
    /// consensus runs; what to trust of it (which keys, how much voting power) is the
    /// caller's decision, since it knows the validator set.
    pub fn peer_heights(&self) -> watch::Receiver<PeerHeights> {
        self.peer_heights.clone()
    }

    /// The highest height whose block this node received through value sync (fetched
    /// from a peer, decided already) rather than through its own consensus rounds;
    /// `None` until the first. While the last committed block came this way, the node
    /// is catching up.
    pub fn synced_height(&self) -> watch::Receiver<Option<Height>> {
        self.synced_height.clone()
    }

    /// Resolves when the application loop or the engine ends, with why; both run until
    /// shut down, so any end is a fault. A panic in the loop is caught by tokio and
    /// reported here with its message. Cancel safe: dropping the future loses nothing,
    /// and `shutdown` may follow in every case.
    pub async fn stopped(&mut self) -> ConsensusError {
        let (Some(app_loop), Some(engine)) = (self.app_loop.as_mut(), self.engine_task.as_mut())
        else {
            return ConsensusError::EngineStopped("consensus has stopped already".into());
        };
        // The branches only say which task ended: the handles are released (set to
        // `None`, never polled again) after the borrows of `select!` end.
        let ended = tokio::select! {
            joined = app_loop => Ended::AppLoop(joined),
            joined = engine => Ended::Engine(joined),
        };
        match ended {
            Ended::AppLoop(joined) => {
                self.app_loop = None;
                match joined {
                    Ok(Err(err)) => err,
                    Ok(Ok(())) => {
                        ConsensusError::EngineStopped("the consensus loop returned".into())
                    }
                    Err(join) => ConsensusError::EngineStopped(task_failure("loop", &join)),
                }
            }
            Ended::Engine(joined) => {
                self.engine_task = None;
                let reason = match joined {
                    Ok(()) => "the Malachite engine's actors stopped".to_owned(),
                    Err(join) => task_failure("engine", &join),
                };
                ConsensusError::EngineStopped(reason)
            }
        }
    }

    /// Waits until consensus stops; it only stops on a fatal error.
    pub async fn wait(mut self) -> Result<(), ConsensusError> {
        let err = self.stopped().await;
        self.shutdown().await;
        Err(err)
    }

    /// Stops the engine's actors and the application loop, and waits until the
    /// application is dropped, so its resources (the store's file lock) are released.
    pub async fn shutdown(self) {
        self.engine_actor.stop(Some("shutdown".into()));
        self.tracker.abort();
        if let Some(app_loop) = self.app_loop {
            app_loop.abort();
            // A cancelled task reports a JoinError: that is the expected outcome here.
            let _ = app_loop.await;
        }
        if let Some(engine) = self.engine_task {
            if tokio::time::timeout(SHUTDOWN_TIMEOUT, engine)
                .await
                .is_err()
            {
                warn!("the consensus engine did not stop in time");
            }
        }
    }
}

/// Why a task ended with a `JoinError`: a panic (with its message) or a cancellation.
fn task_failure(task: &str, join: &JoinError) -> String {
    if join.is_panic() {
        format!("the consensus {task} panicked: {join}")
    } else {
        format!("the consensus {task} was cancelled: {join}")
    }
}

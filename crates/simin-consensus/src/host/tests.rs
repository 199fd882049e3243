//! The restart path of the consensus loop, driven message by message without an engine:
//! proposals survive a restart, a decision is never answered with a restart of its
//! height, and a decided block this node lacks is committed once value sync brings it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use malachitebft_app_channel::app::engine::host::{Next, SyncedValueOutcome};
use malachitebft_app_channel::app::events::TxEvent;
use malachitebft_app_channel::app::types::core::{CommitCertificate, Round};
use malachitebft_app_channel::app::types::MisbehaviorEvidence;
use malachitebft_app_channel::{AppMsg, Channels, NetworkMsg};
use simin_types::{
    Block, BlockHeader, BlockTime, ChainId, CommitCertificate as SiminCertificate, Hash, Height,
    SigningKey, Validator, ValidatorSet,
};
use tokio::sync::{mpsc, oneshot};

use super::Host;
use crate::app::Application;
use crate::config::ConsensusConfig;
use crate::context::SiminContext;
use crate::guard::SignGuard;
use crate::signing::SiminSigner;
use crate::types::{BlockId, ConsensusHeight, ValidatorAddress};

type Log = Arc<Mutex<Vec<Block>>>;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ToyError(String);

/// A chain of empty blocks; `salt` makes two instances build different blocks for the
/// same height, as two builds from different mempools would.
struct ToyApp {
    key: SigningKey,
    set: ValidatorSet,
    log: Log,
    salt: u64,
    /// A store that fails every write.
    broken: bool,
}

impl Application for ToyApp {
    type Error = ToyError;

    fn last_committed(&self) -> Option<(Height, Hash)> {
        let log = self.log.lock().expect("the log lock is not poisoned");
        log.last().map(|b| (b.header.height, b.hash()))
    }

    fn validator_set(&self, _height: Height) -> Result<ValidatorSet, ToyError> {
        Ok(self.set.clone())
    }

    fn propose(
        &mut self,
        height: Height,
        _round: u32,
        _time: BlockTime,
    ) -> Result<Block, ToyError> {
        Ok(Block {
            header: BlockHeader {
                chain_id: chain(),
                height,
                time: BlockTime(1_000 + self.salt),
                prev_block_hash: self.last_committed().map_or(Hash::ZERO, |(_, h)| h),
                tx_root: Block::compute_tx_root(&[]),
                receipts_root: Hash::ZERO,
                state_root: Hash::ZERO,
                validators_hash: self.set.hash(),
                proposer: self.key.public_key(),
            },
            txs: Vec::new(),
        })
    }

    fn validate(&mut self, block: &Block) -> Result<(), ToyError> {
        let next = self.last_committed().map_or(1, |(h, _)| h.0 + 1);
        if block.header.height.0 == next {
            Ok(())
        } else {
            Err(ToyError(format!(
                "not the next height: {}",
                block.header.height
            )))
        }
    }

    fn commit(&mut self, block: Block, _certificate: SiminCertificate) -> Result<(), ToyError> {
        if self.broken {
            return Err(ToyError("the disk is gone".into()));
        }
        self.validate(&block)?;
        self.log
            .lock()
            .expect("the log lock is not poisoned")
            .push(block);
        Ok(())
    }

    fn decided(&self, _height: Height) -> Option<(Block, SiminCertificate)> {
        None
    }
}

fn chain() -> ChainId {
    ChainId::new("simin-test").expect("test set-up")
}

struct Node {
    host: Host<ToyApp>,
    channels: Channels<SiminContext>,
    log: Log,
    _network: mpsc::Receiver<NetworkMsg<SiminContext>>,
}

/// A validator whose state lives in `dir`, as a process restarted on the same home.
fn node(dir: &std::path::Path, salt: u64) -> Node {
    node_with(dir, salt, false)
}

fn node_with(dir: &std::path::Path, salt: u64, broken: bool) -> Node {
    let key = SigningKey::from_seed([7; 32]);
    let set = ValidatorSet::new(vec![Validator {
        public_key: key.public_key(),
        voting_power: 1,
    }])
    .expect("test set-up");
    let log = Log::default();
    let app = ToyApp {
        key: key.clone(),
        set,
        log: log.clone(),
        salt,
        broken,
    };
    let config = ConsensusConfig {
        wal_dir: dir.to_path_buf(),
        ..ConsensusConfig::default()
    };
    let guard = Arc::new(SignGuard::open(dir.join("sign_guard")).expect("test set-up"));
    let signer = SiminSigner::new(chain(), key.clone(), guard);
    let address = ValidatorAddress(key.public_key());
    let host = Host::new(app, chain(), config, signer, address).expect("test set-up");
    let (_consensus_tx, consensus) = mpsc::channel(1);
    let (network, network_rx) = mpsc::channel(1024);
    let (requests, _) = mpsc::channel(1);
    let (net_requests, _) = mpsc::channel(1);
    let channels = Channels {
        consensus,
        network,
        events: TxEvent::new(),
        requests,
        net_requests,
    };
    Node {
        host,
        channels,
        log,
        _network: network_rx,
    }
}

impl Node {
    async fn propose(&mut self, height: u64, round: u32) -> BlockId {
        let (reply, answer) = oneshot::channel();
        let msg = AppMsg::GetValue {
            height: ConsensusHeight(height),
            round: Round::new(round),
            timeout: Duration::from_secs(1),
            reply,
        };
        self.host
            .handle(msg, &self.channels)
            .await
            .expect("the host handles the message");
        answer.await.expect("the host answers").value
    }

    async fn decide(&mut self, height: u64, id: BlockId) -> Decision {
        let certificate = CommitCertificate::<SiminContext>::new(
            ConsensusHeight(height),
            Round::new(0),
            id,
            Vec::new(),
        );
        let (reply, decided) = oneshot::channel();
        let msg = AppMsg::Decided {
            certificate: certificate.clone(),
            extensions: Default::default(),
            reply,
        };
        self.host
            .handle(msg, &self.channels)
            .await
            .expect("the host handles the message");
        let (reply, finalized) = oneshot::channel();
        let msg = AppMsg::Finalized {
            certificate,
            extensions: Default::default(),
            evidence: MisbehaviorEvidence {
                proposals: Default::default(),
                votes: Default::default(),
            },
            reply,
        };
        self.host
            .handle(msg, &self.channels)
            .await
            .expect("the host handles the message");
        Decision { decided, finalized }
    }

    async fn sync(&mut self, height: u64, block: &Block) -> SyncedValueOutcome<SiminContext> {
        let (reply, answer) = oneshot::channel();
        let msg = AppMsg::ProcessSyncedValue {
            height: ConsensusHeight(height),
            round: Round::new(0),
            proposer: ValidatorAddress(block.header.proposer),
            value_bytes: block.encode().into(),
            reply,
        };
        self.host
            .handle(msg, &self.channels)
            .await
            .expect("the host handles the message");
        answer.await.expect("the host answers")
    }
}

struct Decision {
    decided: oneshot::Receiver<()>,
    finalized: oneshot::Receiver<Next<SiminContext>>,
}

impl Decision {
    fn assert_started(mut self, next: u64) {
        self.decided.try_recv().expect("Decided is answered");
        match self.finalized.try_recv().expect("Finalized is answered") {
            Next::Start(height, _) => assert_eq!(height, ConsensusHeight(next)),
            Next::Restart(height, _) => panic!("height {height} was restarted"),
        }
    }

    fn assert_held(&mut self) {
        assert!(self.decided.try_recv().is_err(), "Decided must wait");
        assert!(self.finalized.try_recv().is_err(), "Finalized must wait");
    }
}

#[tokio::test]
async fn a_proposal_survives_a_restart_and_is_proposed_again_unchanged() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut before = node(dir.path(), 1);
    let id = before.propose(1, 0).await;
    drop(before);

    // The restarted node's mempool would build another block: the stored one wins.
    let mut after = node(dir.path(), 2);
    assert_eq!(after.propose(1, 0).await, id);
    after.decide(1, id).await.assert_started(2);
    assert_eq!(
        after.log.lock().expect("the log lock is not poisoned")[0].hash(),
        id.0
    );
    // A new round is a new block, built by the application.
    assert_ne!(after.propose(2, 0).await, id);
}

#[tokio::test]
async fn a_value_decided_after_a_restart_commits_from_the_store() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut before = node(dir.path(), 1);
    let id = before.propose(1, 0).await;
    drop(before);

    let mut after = node(dir.path(), 1);
    after.decide(1, id).await.assert_started(2);
    assert_eq!(
        after
            .log
            .lock()
            .expect("the log lock is not poisoned")
            .len(),
        1
    );
}

#[tokio::test]
async fn a_decided_block_this_node_lacks_is_fetched_never_restarted() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let other = tempfile::tempdir().expect("a temporary folder");
    // A block some other validator proposed, of which this node saw nothing.
    let mut proposer = node(other.path(), 9);
    let id = proposer.propose(1, 0).await;
    let block = proposer.host.blocks[&id].block.clone();

    let mut lagging = node(dir.path(), 1);
    let mut decision = lagging.decide(1, id).await;
    decision.assert_held();
    assert!(lagging
        .log
        .lock()
        .expect("the log lock is not poisoned")
        .is_empty());

    // A synced block of the same height that is not the decided one changes nothing.
    let impostor_dir = tempfile::tempdir().expect("a temporary folder");
    let mut impostor = node(impostor_dir.path(), 5);
    let wrong_id = impostor.propose(1, 0).await;
    let wrong = impostor.host.blocks[&wrong_id].block.clone();
    lagging.sync(1, &wrong).await;
    decision.assert_held();

    // Value sync brings the decided block: the decision completes and the next height starts.
    assert!(matches!(
        lagging.sync(1, &block).await,
        SyncedValueOutcome::Verdict(_)
    ));
    decision.assert_started(2);
    assert_eq!(
        lagging.log.lock().expect("the log lock is not poisoned")[0].hash(),
        id.0
    );
}

#[tokio::test]
async fn a_decided_block_that_cannot_be_committed_stops_the_loop() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut node = node_with(dir.path(), 1, true);
    let id = node.propose(1, 0).await;
    let certificate =
        CommitCertificate::<SiminContext>::new(ConsensusHeight(1), Round::new(0), id, Vec::new());
    let (reply, _decided) = oneshot::channel();
    let msg = AppMsg::Decided {
        certificate,
        extensions: Default::default(),
        reply,
    };
    let result = node.host.handle(msg, &node.channels).await;
    assert!(
        matches!(result, Err(crate::ConsensusError::Commit { .. })),
        "a commit failure must be fatal, not a restart: {result:?}"
    );
}

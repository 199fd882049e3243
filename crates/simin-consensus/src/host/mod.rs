//! The consensus loop: answers every message the engine sends, driving the `Application`.

mod decision;
mod proposal;
mod store;
#[cfg(test)]
mod tests;

pub use store::ProposalStoreError;

use std::collections::BTreeMap;

use malachitebft_app_channel::app::engine::host::HeightParams;
use malachitebft_app_channel::app::types::core::{Round, Validity};
use malachitebft_app_channel::app::types::ProposedValue;
use malachitebft_app_channel::{AppMsg, Channels};
use simin_types::{Block, ChainId, Height};
use tracing::{debug, error, info, warn};

use self::decision::PendingDecision;
use self::store::{ProposalStore, StoredProposal};

use crate::app::Application;
use crate::config::ConsensusConfig;
use crate::context::SiminContext;
use crate::error::ConsensusError;
use crate::messages::ProposalPart;
use crate::signing::{SiminSigner, SiminVerifier};
use crate::streaming::{Reassembler, ReceivedBlock};
use crate::types::{BlockId, ConsensusHeight, ConsensusValidatorSet, ValidatorAddress};

/// A block this node knows for an undecided height, with what it thinks of it.
struct KnownBlock {
    block: Block,
    validity: Validity,
    /// The stream parts, kept to restream the block verbatim when asked.
    parts: Option<Vec<ProposalPart>>,
}

/// The loop's state. Everything here concerns heights not yet committed and is pruned
/// as heights commit; committed data lives in the application.
pub(crate) struct Host<A: Application> {
    app: A,
    chain_id: ChainId,
    config: ConsensusConfig,
    address: ValidatorAddress,
    signer: SiminSigner,
    verifier: SiminVerifier,
    height: ConsensusHeight,
    round: Round,
    blocks: BTreeMap<BlockId, KnownBlock>,
    /// Values seen or built per (height, round), handed back on `StartedRound`.
    values: BTreeMap<(ConsensusHeight, Round), Vec<ProposedValue<SiminContext>>>,
    /// The value this node proposed per (height, round): the same one is re-used.
    own: BTreeMap<(ConsensusHeight, Round), BlockId>,
    /// Complete streams for heights ahead of ours, checked once we reach them.
    pending: Vec<ReceivedBlock>,
    reassembler: Reassembler,
    stream_nonce: u64,
    /// The valid blocks of undecided heights, on disk.
    store: ProposalStore,
    /// A decision waiting for its block to arrive through value sync.
    pending_decision: Option<PendingDecision>,
}

impl<A: Application> Host<A> {
    pub(crate) fn new(
        app: A,
        chain_id: ChainId,
        config: ConsensusConfig,
        signer: SiminSigner,
        address: ValidatorAddress,
    ) -> Result<Self, ConsensusError> {
        let verifier = SiminVerifier::new(chain_id.clone());
        let store = ProposalStore::open(config.wal_dir.join("proposals"))?;
        let mut host = Self {
            app,
            chain_id,
            config,
            address,
            signer,
            verifier,
            height: ConsensusHeight(0),
            round: Round::Nil,
            blocks: BTreeMap::new(),
            values: BTreeMap::new(),
            own: BTreeMap::new(),
            pending: Vec::new(),
            reassembler: Reassembler::default(),
            stream_nonce: 0,
            store,
            pending_decision: None,
        };
        host.restore()?;
        Ok(host)
    }

    /// Takes back the blocks stored before a restart: a value the WAL replays can then be
    /// committed and restreamed, and this node's own proposals are proposed again as they
    /// were, never rebuilt differently for the same round.
    fn restore(&mut self) -> Result<(), ConsensusError> {
        let committed = match self.app.last_committed() {
            Some((height, _)) => ConsensusHeight::from(height),
            None => ConsensusHeight(0),
        };
        for (height, stored) in self.store.load(committed)? {
            let (Some(init), Some(fin)) = (stored.init().cloned(), stored.fin().cloned()) else {
                continue;
            };
            let block = match Block::decode(&stored.block_bytes()) {
                Ok(block) if block.hash() == fin.block_hash.0 && init.height == height => block,
                _ => {
                    warn!(%height, "skipping a stored proposal that does not match its header");
                    continue;
                }
            };
            let id = fin.block_hash;
            let round = Round::new(init.round);
            if stored.own {
                self.own.insert((height, round), id);
            }
            self.record_value(ProposedValue {
                height,
                round,
                valid_round: crate::codec::wire_round(init.pol_round),
                proposer: init.proposer,
                value: id,
                validity: Validity::Valid,
            });
            self.blocks.insert(
                id,
                KnownBlock {
                    block,
                    validity: Validity::Valid,
                    parts: Some(stored.parts),
                },
            );
            info!(%height, %round, block = %id, own = stored.own, "restored a stored proposal");
        }
        Ok(())
    }

    /// Writes a valid block of an undecided height to disk.
    fn persist(
        &self,
        id: BlockId,
        own: bool,
        parts: &[ProposalPart],
    ) -> Result<(), ConsensusError> {
        let Some(ProposalPart::Init(init)) = parts.first() else {
            return Ok(());
        };
        let stored = StoredProposal {
            own,
            parts: parts.to_vec(),
        };
        Ok(self.store.put(init.height, &id, &stored)?)
    }

    /// Runs until the engine closes its channel (it stopped or crashed).
    pub(crate) async fn run(
        mut self,
        mut channels: Channels<SiminContext>,
    ) -> Result<(), ConsensusError> {
        while let Some(msg) = channels.consensus.recv().await {
            self.handle(msg, &channels).await?;
        }
        Err(ConsensusError::EngineStopped(
            "the engine closed the consensus channel".into(),
        ))
    }

    fn validator_set(
        &self,
        height: ConsensusHeight,
    ) -> Result<ConsensusValidatorSet, ConsensusError> {
        let height = Height::from(height);
        let set = self.app.validator_set(height).map_err(|err| {
            ConsensusError::ValidatorSetUnavailable {
                height,
                reason: err.to_string(),
            }
        })?;
        ConsensusValidatorSet::from_simin(&set)
    }

    fn height_params(
        &self,
        height: ConsensusHeight,
    ) -> Result<HeightParams<SiminContext>, ConsensusError> {
        Ok(HeightParams::new(
            self.validator_set(height)?,
            self.config.timeouts(),
            self.config.target_time(),
        ))
    }

    fn next_height(&self) -> ConsensusHeight {
        match self.app.last_committed() {
            Some((height, _)) => ConsensusHeight(height.0.saturating_add(1)),
            None => ConsensusHeight(1),
        }
    }

    async fn handle(
        &mut self,
        msg: AppMsg<SiminContext>,
        channels: &Channels<SiminContext>,
    ) -> Result<(), ConsensusError> {
        match msg {
            AppMsg::ConsensusReady { reply } => {
                let height = self.next_height();
                info!(%height, "consensus is ready, starting height");
                let params = self.height_params(height)?;
                send(reply, (height, params), "ConsensusReady");
            }
            AppMsg::StartedRound {
                height,
                round,
                proposer,
                role,
                reply_value,
            } => {
                debug!(%height, %round, %proposer, ?role, "started round");
                self.enter(height, round);
                let values = self
                    .values
                    .get(&(height, round))
                    .cloned()
                    .unwrap_or_default();
                send(reply_value, values, "StartedRound");
            }
            AppMsg::GetValue {
                height,
                round,
                timeout: _,
                reply,
            } => {
                if let Some(value) = self.get_value(height, round, channels).await? {
                    send(reply, value, "GetValue");
                }
            }
            AppMsg::ReceivedProposalPart {
                from,
                published_by,
                part,
                reply,
            } => {
                let publisher = published_by.unwrap_or(from);
                let value = match self.reassembler.insert(publisher, part) {
                    Ok(Some(received)) => self.received_block(received),
                    Ok(None) => None,
                    Err(err) => {
                        warn!(%err, peer = %from, "dropping a proposal stream");
                        None
                    }
                };
                send(reply, value, "ReceivedProposalPart");
            }
            AppMsg::RestreamProposal {
                height,
                round,
                value_id,
                ..
            } => {
                self.restream(height, round, value_id, channels).await?;
            }
            AppMsg::ExtendVote { reply, .. } => send(reply, None, "ExtendVote"),
            AppMsg::VerifyVoteExtensions {
                extensions, reply, ..
            } => {
                // simin forbids extensions (policy Disabled): any that arrives is refused.
                let verdicts = extensions
                    .into_iter()
                    .map(|(address, _)| {
                        let refused =
                            malachitebft_app_channel::app::consensus::VoteExtensionError::InvalidVoteExtension;
                        (address, Err(refused))
                    })
                    .collect();
                send(reply, verdicts, "VerifyVoteExtensions");
            }
            AppMsg::Decided {
                certificate, reply, ..
            } => self.decided(certificate, reply)?,
            AppMsg::Finalized {
                certificate,
                evidence,
                reply,
                ..
            } => self.finalized(certificate, evidence, reply)?,
            AppMsg::GetHistoryMinHeight { reply } => {
                let height = ConsensusHeight::from(self.app.earliest_height());
                send(reply, height, "GetHistoryMinHeight");
            }
            AppMsg::GetDecidedValues { range, reply } => {
                let values = self.decided_values(range);
                send(reply, values, "GetDecidedValues");
            }
            AppMsg::ProcessSyncedValue {
                height,
                round,
                proposer,
                value_bytes,
                reply,
            } => {
                let outcome = self.synced_value(height, round, proposer, &value_bytes);
                send(reply, outcome, "ProcessSyncedValue");
                self.complete_pending()?;
            }
        }
        Ok(())
    }

    /// Moves to (height, round); on a new height, checks blocks that arrived early.
    fn enter(&mut self, height: ConsensusHeight, round: Round) {
        let new_height = height != self.height;
        self.height = height;
        self.round = round;
        if new_height {
            let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
                .into_iter()
                .partition(|received| received.init.height == height);
            self.pending = later
                .into_iter()
                .filter(|received| received.init.height > height)
                .collect();
            for received in now {
                // The value is recorded in `values` and reaches consensus through the
                // reply to `StartedRound` (for its round) or is re-sent by the proposer.
                self.received_block(received);
            }
        }
    }
}

/// Replies to the engine; a closed reply channel means the engine gave up waiting.
fn send<T>(reply: tokio::sync::oneshot::Sender<T>, value: T, what: &'static str) {
    if reply.send(value).is_err() {
        error!(message = what, "the engine dropped the reply channel");
    }
}

//! Committing decisions, and serving and receiving decided blocks for value sync.
//!
//! A decision is never answered with a restart of its height: restarting resets the
//! engine's WAL, so the validator would forget what it signed in the height and could
//! sign again, differently (Malachite's own warning). A decided block this node lacks is
//! waited for instead: the replies to `Decided` and `Finalized` are held, value sync
//! fetches the block from a peer that committed it, and the decision completes when it
//! arrives. A decided block that cannot be committed is a fault of this node (its store,
//! or an execution that disagrees with the validators'): the loop stops, loudly.

use std::ops::RangeInclusive;

use malachitebft_app_channel::app::engine::host::{Next, SyncedValueOutcome};
use malachitebft_app_channel::app::types::core::{CommitCertificate, Round, Validity};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::app::types::{MisbehaviorEvidence, ProposedValue};
use simin_types::{Block, Height};
use tokio::sync::oneshot;
use tracing::{debug, error, info, warn};

use super::{send, Host, KnownBlock};
use crate::app::Application;
use crate::certificate::{to_engine, to_simin};
use crate::codec::SYNC_VALUES_MAX;
use crate::context::SiminContext;
use crate::error::ConsensusError;
use crate::types::{BlockId, ConsensusHeight, ValidatorAddress};

/// A decision whose block this node does not have yet, with the engine's replies held.
pub(super) struct PendingDecision {
    certificate: CommitCertificate<SiminContext>,
    decided: Vec<oneshot::Sender<()>>,
    finalized: Vec<(
        oneshot::Sender<Next<SiminContext>>,
        MisbehaviorEvidence<SiminContext>,
    )>,
}

/// Whether a decision could be committed now.
pub(super) enum Commit {
    Done,
    /// The block is not known here; the decision waits for value sync.
    Missing,
}

impl<A: Application> Host<A> {
    fn is_committed(&self, height: ConsensusHeight) -> bool {
        self.app
            .last_committed()
            .is_some_and(|(committed, _)| committed.0 >= height.0)
    }

    /// Commits a decided block, once. `Missing` when the block is unknown here.
    fn commit_decision(
        &mut self,
        certificate: &CommitCertificate<SiminContext>,
    ) -> Result<Commit, ConsensusError> {
        let height = certificate.height;
        if self.is_committed(height) {
            return Ok(Commit::Done);
        }
        let id = certificate.value_id;
        let Some(known) = self.blocks.get(&id) else {
            return Ok(Commit::Missing);
        };
        let block = known.block.clone();
        let txs = block.txs.len();
        self.app
            .commit(block, to_simin(certificate))
            .map_err(|err| ConsensusError::Commit {
                height: Height::from(height),
                block: id.0.to_hex(),
                reason: err.to_string(),
            })?;
        debug!(
            %height,
            round = %certificate.round,
            block = %id,
            txs,
            signatures = certificate.commit_signatures.len(),
            "committed a block"
        );
        self.prune(height);
        Ok(Commit::Done)
    }

    /// Answers `Decided`: commits, or holds the reply until the block arrives.
    pub(super) fn decided(
        &mut self,
        certificate: CommitCertificate<SiminContext>,
        reply: oneshot::Sender<()>,
    ) -> Result<(), ConsensusError> {
        match self.commit_decision(&certificate)? {
            Commit::Done => send(reply, (), "Decided"),
            Commit::Missing => self.pending_for(certificate).decided.push(reply),
        }
        Ok(())
    }

    /// Answers `Finalized`: the next height once committed; held while the block is
    /// missing. Evidence is reported after the reply, so it never delays the next height.
    pub(super) fn finalized(
        &mut self,
        certificate: CommitCertificate<SiminContext>,
        evidence: MisbehaviorEvidence<SiminContext>,
        reply: oneshot::Sender<Next<SiminContext>>,
    ) -> Result<(), ConsensusError> {
        match self.commit_decision(&certificate)? {
            Commit::Done => self.start_next(certificate.height, reply, &evidence),
            Commit::Missing => {
                self.pending_for(certificate)
                    .finalized
                    .push((reply, evidence));
                Ok(())
            }
        }
    }

    fn start_next(
        &mut self,
        height: ConsensusHeight,
        reply: oneshot::Sender<Next<SiminContext>>,
        evidence: &MisbehaviorEvidence<SiminContext>,
    ) -> Result<(), ConsensusError> {
        let next = ConsensusHeight(height.0.saturating_add(1));
        send(
            reply,
            Next::Start(next, self.height_params(next)?),
            "Finalized",
        );
        let equivocations = crate::evidence::equivocations(evidence);
        if !equivocations.is_empty() {
            self.app.on_evidence(equivocations);
        }
        Ok(())
    }

    /// The pending decision of the certificate's height, created on first use.
    fn pending_for(
        &mut self,
        certificate: CommitCertificate<SiminContext>,
    ) -> &mut PendingDecision {
        let replace = self
            .pending_decision
            .as_ref()
            .is_none_or(|pending| pending.certificate.height != certificate.height);
        if replace {
            warn!(
                height = %certificate.height,
                block = %certificate.value_id,
                "consensus decided a block this node does not have; fetching it through value sync"
            );
            self.pending_decision = Some(PendingDecision {
                certificate,
                decided: Vec::new(),
                finalized: Vec::new(),
            });
        }
        self.pending_decision
            .as_mut()
            .expect("set just above when absent")
    }

    /// Completes a held decision if its block is now known.
    pub(super) fn complete_pending(&mut self) -> Result<(), ConsensusError> {
        let ready = self
            .pending_decision
            .as_ref()
            .is_some_and(|pending| self.blocks.contains_key(&pending.certificate.value_id));
        if !ready {
            return Ok(());
        }
        let pending = self
            .pending_decision
            .take()
            .expect("checked to be present just above");
        self.commit_decision(&pending.certificate)?;
        info!(height = %pending.certificate.height, "committed a decided block fetched from a peer");
        for reply in pending.decided {
            send(reply, (), "Decided");
        }
        for (reply, evidence) in pending.finalized {
            self.start_next(pending.certificate.height, reply, &evidence)?;
        }
        Ok(())
    }

    /// Forgets everything about heights up to `committed`.
    fn prune(&mut self, committed: ConsensusHeight) {
        self.blocks
            .retain(|_, known| known.block.header.height.0 > committed.0);
        self.values.retain(|(height, _), _| *height > committed);
        self.own.retain(|(height, _), _| *height > committed);
        self.pending
            .retain(|received| received.init.height > committed);
        self.store.prune(committed);
    }

    /// Decided blocks with their certificates for a peer that is catching up.
    pub(super) fn decided_values(
        &self,
        range: RangeInclusive<ConsensusHeight>,
    ) -> Vec<RawDecidedValue<SiminContext>> {
        // The range comes from a peer: it is bounded here, not trusted.
        let first = range.start().0;
        let span = u64::try_from(SYNC_VALUES_MAX).expect("a small constant fits in u64");
        let last = range.end().0.min(first.saturating_add(span - 1));
        let mut values = Vec::new();
        for height in first..=last {
            let Some((block, certificate)) = self.app.decided(Height(height)) else {
                break;
            };
            values.push(RawDecidedValue::new(
                block.encode().into(),
                to_engine(&certificate),
            ));
        }
        values
    }

    /// Checks a block fetched by sync for the current height. Its certificate is checked
    /// by the engine against the value id, which is the block hash checked here.
    pub(super) fn synced_value(
        &mut self,
        height: ConsensusHeight,
        round: Round,
        proposer: ValidatorAddress,
        value_bytes: &[u8],
    ) -> SyncedValueOutcome<SiminContext> {
        let block = match Block::decode(value_bytes) {
            Ok(block) => block,
            Err(err) => {
                warn!(%err, %height, "a peer synced an undecodable block");
                return SyncedValueOutcome::PeerFault;
            }
        };
        if block.header.height != Height::from(height) || block.header.chain_id != self.chain_id {
            warn!(%height, got = %block.header.height, "a peer synced a block of another height or chain");
            return SyncedValueOutcome::PeerFault;
        }
        let id = BlockId(block.hash());
        let validity = match self.blocks.get(&id) {
            Some(known) => known.validity,
            None => match self.app.validate(&block) {
                Ok(()) => Validity::Valid,
                Err(err) => {
                    error!(%err, %height, block = %id, "the application refused a synced, certified block");
                    Validity::Invalid
                }
            },
        };
        debug!(%height, %round, block = %id, ?validity, "received a synced block");
        self.blocks.entry(id).or_insert(KnownBlock {
            block,
            validity,
            parts: None,
        });
        SyncedValueOutcome::Verdict(ProposedValue {
            height,
            round,
            valid_round: Round::Nil,
            proposer,
            value: id,
            validity,
        })
    }
}

//! Committing decisions, and serving and receiving decided blocks for value sync.

use std::ops::RangeInclusive;

use malachitebft_app_channel::app::engine::host::{Next, SyncedValueOutcome};
use malachitebft_app_channel::app::types::core::{CommitCertificate, Round, Validity};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::app::types::ProposedValue;
use simin_types::{Block, Height};
use tracing::{debug, error, warn};

use super::{Host, KnownBlock};
use crate::app::Application;
use crate::certificate::{to_engine, to_simin};
use crate::codec::SYNC_VALUES_MAX;
use crate::context::SiminContext;
use crate::error::ConsensusError;
use crate::types::{BlockId, ConsensusHeight, ValidatorAddress};

impl<A: Application> Host<A> {
    fn is_committed(&self, height: ConsensusHeight) -> bool {
        self.app
            .last_committed()
            .is_some_and(|(committed, _)| committed.0 >= height.0)
    }

    /// Commits a decided block, once. Failures are logged; `finalized` then restarts
    /// the height instead of moving on.
    pub(super) fn decided(&mut self, certificate: &CommitCertificate<SiminContext>) {
        let height = certificate.height;
        if self.is_committed(height) {
            return;
        }
        let id = certificate.value_id;
        let Some(known) = self.blocks.get(&id) else {
            error!(%height, block = %id, "consensus decided a block this node does not have");
            return;
        };
        if known.validity.is_invalid() {
            error!(%height, block = %id, "consensus decided a block this node found invalid; committing it fails");
        }
        let block = known.block.clone();
        let txs = block.txs.len();
        match self.app.commit(block, to_simin(certificate)) {
            Ok(()) => debug!(
                %height,
                round = %certificate.round,
                block = %id,
                txs,
                signatures = certificate.commit_signatures.len(),
                "committed a block"
            ),
            Err(err) => {
                error!(%err, %height, block = %id, "the application could not commit a decided block")
            }
        }
    }

    /// Tells consensus what to do after a height: the next one if committed, else retry.
    pub(super) fn finalized(
        &mut self,
        certificate: &CommitCertificate<SiminContext>,
    ) -> Result<Next<SiminContext>, ConsensusError> {
        let height = certificate.height;
        // A decision normally arrives with `Decided` first; commit here if it did not.
        self.decided(certificate);
        if !self.is_committed(height) {
            warn!(%height, "restarting a height whose decision could not be committed");
            return Ok(Next::Restart(height, self.height_params(height)?));
        }
        self.prune(height);
        let next = ConsensusHeight(height.0.saturating_add(1));
        Ok(Next::Start(next, self.height_params(next)?))
    }

    /// Forgets everything about heights up to `committed`.
    fn prune(&mut self, committed: ConsensusHeight) {
        self.blocks
            .retain(|_, known| known.block.header.height.0 > committed.0);
        self.values.retain(|(height, _), _| *height > committed);
        self.own.retain(|(height, _), _| *height > committed);
        self.pending
            .retain(|received| received.init.height > committed);
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

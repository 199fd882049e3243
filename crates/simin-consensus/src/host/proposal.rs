//! Proposing blocks, streaming them, and checking the blocks other validators stream.

use std::time::{SystemTime, UNIX_EPOCH};

use malachitebft_app_channel::app::types::core::{Context, Round, Validity};
use malachitebft_app_channel::app::types::streaming::StreamId;
use malachitebft_app_channel::app::types::{LocallyProposedValue, ProposedValue};
use malachitebft_app_channel::{Channels, NetworkMsg};
use simin_types::limits::BLOCK_BYTES_MAX;
use simin_types::{Block, BlockTime, Height};
use tracing::{debug, error, warn};

use super::{Host, KnownBlock};
use crate::app::Application;
use crate::codec::wire_round;
use crate::context::SiminContext;
use crate::error::ConsensusError;
use crate::messages::{PartFin, PartInit, ProposalPart};
use crate::streaming::{split_block, stream_messages, ReceivedBlock};
use crate::types::{BlockId, ConsensusHeight};

/// Complete streams kept for heights ahead of ours.
const PENDING_MAX: usize = 16;
/// How far ahead of our height a stream may be and still be kept.
const PENDING_HEIGHTS_AHEAD: u64 = 2;

fn now_millis() -> BlockTime {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    // Milliseconds since 1970 fit in u64 for the next 500 million years.
    BlockTime(u64::try_from(millis).unwrap_or(u64::MAX))
}

impl<A: Application> Host<A> {
    /// Answers `GetValue`: the block already built for (height, round), or a new one,
    /// streamed to the other validators. `None` when the application could not build one;
    /// consensus then times out and prevotes nil.
    pub(super) async fn get_value(
        &mut self,
        height: ConsensusHeight,
        round: Round,
        channels: &Channels<SiminContext>,
    ) -> Result<Option<LocallyProposedValue<SiminContext>>, ConsensusError> {
        if let Some(id) = self.own.get(&(height, round)).copied() {
            // Asked again after a restart, or by a retry: the same block, published again
            // because the first publication may never have left this node.
            debug!(%height, %round, block = %id, "re-using the block built for this round");
            if let Some(parts) = self.blocks.get(&id).and_then(|known| known.parts.clone()) {
                self.publish(height, round, &parts, channels).await?;
            }
            return Ok(Some(LocallyProposedValue::new(height, round, id)));
        }
        let round_number = round.as_u32().unwrap_or(0);
        let block = match self
            .app
            .propose(Height::from(height), round_number, now_millis())
        {
            Ok(block) => block,
            Err(err) => {
                error!(%err, %height, %round, "the application could not build a block");
                return Ok(None);
            }
        };
        let block_bytes = block.encode();
        if block_bytes.len() > BLOCK_BYTES_MAX || block.header.height != Height::from(height) {
            error!(%height, len = block_bytes.len(), "the application built an oversized or misnumbered block");
            return Ok(None);
        }
        let id = BlockId(block.hash());
        let init = PartInit {
            height,
            round: round_number,
            pol_round: None,
            proposer: self.address,
            block_len: u32::try_from(block_bytes.len())
                .expect("a block of at most 8 MiB fits in u32 because of the check above"),
        };
        let fin = PartFin {
            block_hash: id,
            signature: self.signer.sign_block_parts(height, round_number, &id),
        };
        let parts = split_block(init, &block_bytes, fin);
        // On disk before anyone can see it: after a crash this round re-proposes this
        // block, never a different one, which the sign guard would refuse to sign.
        if let Err(err) = self.persist(id, true, &parts) {
            error!(%err, %height, %round, "cannot store the block built for this round; not proposing");
            return Ok(None);
        }
        debug!(%height, %round, block = %id, txs = block.txs.len(), "proposing a block");
        self.own.insert((height, round), id);
        self.record_value(ProposedValue {
            height,
            round,
            valid_round: Round::Nil,
            proposer: self.address,
            value: id,
            validity: Validity::Valid,
        });
        self.blocks.insert(
            id,
            KnownBlock {
                block,
                validity: Validity::Valid,
                parts: Some(parts.clone()),
            },
        );
        self.publish(height, round, &parts, channels).await?;
        Ok(Some(LocallyProposedValue::new(height, round, id)))
    }

    /// Publishes the parts of a block under a fresh stream id.
    async fn publish(
        &mut self,
        height: ConsensusHeight,
        round: Round,
        parts: &[ProposalPart],
        channels: &Channels<SiminContext>,
    ) -> Result<(), ConsensusError> {
        self.stream_nonce = self.stream_nonce.wrapping_add(1);
        let mut id = Vec::with_capacity(20);
        id.extend_from_slice(&height.0.to_be_bytes());
        id.extend_from_slice(&round.as_u32().unwrap_or(u32::MAX).to_be_bytes());
        id.extend_from_slice(&self.stream_nonce.to_be_bytes());
        let stream_id = StreamId::new(id.into());
        for message in stream_messages(&stream_id, parts) {
            channels
                .network
                .send(NetworkMsg::PublishProposalPart(message))
                .await
                .map_err(|_| {
                    ConsensusError::EngineStopped("the network channel is closed".into())
                })?;
        }
        Ok(())
    }

    /// Answers `RestreamProposal` by republishing the original parts of the block.
    pub(super) async fn restream(
        &mut self,
        height: ConsensusHeight,
        round: Round,
        id: BlockId,
        channels: &Channels<SiminContext>,
    ) -> Result<(), ConsensusError> {
        let Some(parts) = self.blocks.get(&id).and_then(|known| known.parts.clone()) else {
            warn!(%height, %round, block = %id, "asked to restream a block whose parts are unknown");
            return Ok(());
        };
        debug!(%height, %round, block = %id, "restreaming a block");
        self.publish(height, round, &parts, channels).await
    }

    pub(super) fn record_value(&mut self, value: ProposedValue<SiminContext>) {
        let entry = self.values.entry((value.height, value.round)).or_default();
        if !entry.contains(&value) {
            entry.push(value);
        }
    }

    /// Checks a completely received block. `None` when the stream is not a genuine
    /// proposal (wrong proposer, bad signature, stale height); otherwise the value with
    /// its validity, so that consensus can vote for it or against it.
    pub(super) fn received_block(
        &mut self,
        received: ReceivedBlock,
    ) -> Option<ProposedValue<SiminContext>> {
        let height = received.init.height;
        if height < self.height {
            debug!(%height, "ignoring a block for a past height");
            return None;
        }
        if height > self.height {
            let near = height.0 <= self.height.0.saturating_add(PENDING_HEIGHTS_AHEAD);
            if near && self.pending.len() < PENDING_MAX {
                self.pending.push(received);
            }
            return None;
        }
        let init = &received.init;
        let round = Round::new(init.round);
        let validators = match self.validator_set(height) {
            Ok(set) => set,
            Err(err) => {
                error!(%err, %height, "no validator set to check a proposal against");
                return None;
            }
        };
        let expected = SiminContext
            .select_proposer(&validators, height, round)
            .address;
        if expected != init.proposer {
            warn!(%height, %round, claimed = %init.proposer, %expected, "a stream names the wrong proposer");
            return None;
        }
        let fin = &received.fin;
        if !self.verifier.verify_block_parts(
            &init.proposer.0,
            height,
            init.round,
            &fin.block_hash,
            &fin.signature,
        ) {
            warn!(%height, %round, proposer = %init.proposer, "a stream's signature does not verify");
            return None;
        }
        let id = fin.block_hash;
        let validity = match self.blocks.get(&id) {
            Some(known) => known.validity,
            None => self.check_block(&received, id),
        };
        let value = ProposedValue {
            height,
            round,
            valid_round: wire_round(init.pol_round),
            proposer: init.proposer,
            value: id,
            validity,
        };
        self.record_value(value.clone());
        Some(value)
    }

    /// Decodes and validates a signed block, remembering it and its verdict.
    fn check_block(&mut self, received: &ReceivedBlock, id: BlockId) -> Validity {
        let init = &received.init;
        let block = match Block::decode(&received.block_bytes) {
            Ok(block) => block,
            Err(err) => {
                warn!(%err, height = %init.height, "the proposer streamed an undecodable block");
                return Validity::Invalid;
            }
        };
        let consistent = block.hash() == id.0
            && block.header.height == Height::from(init.height)
            && block.header.proposer == init.proposer.0
            && block.header.chain_id == self.chain_id;
        let validity = if !consistent {
            warn!(height = %init.height, block = %id, "the streamed block does not match its signed header");
            Validity::Invalid
        } else {
            match self.app.validate(&block) {
                Ok(()) => Validity::Valid,
                Err(err) => {
                    warn!(%err, height = %init.height, block = %id, "the application refused a block");
                    Validity::Invalid
                }
            }
        };
        debug!(height = %init.height, round = init.round, block = %id, ?validity, "received a block");
        if validity.is_valid() {
            // Losing this copy only costs a fetch from a peer after a restart, so a write
            // error is logged rather than refusing a valid block.
            if let Err(err) = self.persist(id, false, &received.parts) {
                error!(%err, height = %init.height, block = %id, "cannot store a received block");
            }
        }
        self.blocks.insert(
            id,
            KnownBlock {
                block,
                validity,
                parts: Some(received.parts.clone()),
            },
        );
        validity
    }
}

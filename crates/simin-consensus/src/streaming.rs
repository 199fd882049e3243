//! Splitting a block into proposal parts, and reassembling parts received from peers.
//!
//! A block travels as one stream: `Init`, `Data` chunks of its borsh encoding, `Fin`
//! (the proposer's signature), then the stream's end marker. Streams from the network
//! arrive out of order and may be forged or never finished, so the reassembler bounds the
//! number of open streams, the parts per stream and the bytes per stream.

use std::collections::{BTreeMap, VecDeque};

use malachitebft_app_channel::app::streaming::StreamContent;
use malachitebft_app_channel::app::types::streaming::{StreamId, StreamMessage};
use malachitebft_app_channel::app::types::PeerId;
use simin_types::limits::BLOCK_BYTES_MAX;

use crate::codec::BLOCK_CHUNK_BYTES;
use crate::messages::{PartFin, PartInit, ProposalPart};

/// Most streams being reassembled at once; the oldest is dropped beyond this.
const OPEN_STREAMS_MAX: usize = 64;
/// Most parts in one stream: Init, the chunks of the largest block, Fin.
const PARTS_MAX: usize = BLOCK_BYTES_MAX.div_ceil(BLOCK_CHUNK_BYTES) + 2;

/// Splits an encoded block into the parts of its stream.
pub(crate) fn split_block(init: PartInit, block_bytes: &[u8], fin: PartFin) -> Vec<ProposalPart> {
    let mut parts = Vec::with_capacity(block_bytes.len() / BLOCK_CHUNK_BYTES + 3);
    parts.push(ProposalPart::Init(init));
    parts.extend(
        block_bytes
            .chunks(BLOCK_CHUNK_BYTES)
            .map(|chunk| ProposalPart::Data(chunk.to_vec())),
    );
    parts.push(ProposalPart::Fin(fin));
    parts
}

/// The stream messages that publish `parts` under `stream_id`, end marker included.
pub(crate) fn stream_messages(
    stream_id: &StreamId,
    parts: &[ProposalPart],
) -> Vec<StreamMessage<ProposalPart>> {
    let data = parts.iter().cloned().map(StreamContent::Data);
    data.chain(std::iter::once(StreamContent::Fin))
        .zip(0u64..)
        .map(|(content, sequence)| StreamMessage::new(stream_id.clone(), sequence, content))
        .collect()
}

/// A fully received stream: the block's encoding with its `Init` and `Fin` parts.
#[derive(Debug)]
pub(crate) struct ReceivedBlock {
    pub init: PartInit,
    pub block_bytes: Vec<u8>,
    pub fin: PartFin,
    /// The parts as received, kept to restream them verbatim.
    pub parts: Vec<ProposalPart>,
}

/// Why a stream was dropped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StreamError {
    #[error("sequence {0} is beyond the most parts a block can have")]
    SequenceTooHigh(u64),
    #[error("the stream carries more than {max} bytes")]
    TooManyBytes { max: usize },
    #[error("the parts are not Init, Data..., Fin")]
    Malformed,
    #[error("the data is {got} bytes but Init announced {announced}")]
    LengthMismatch { got: usize, announced: u32 },
}

#[derive(Default)]
struct OpenStream {
    parts: BTreeMap<u64, ProposalPart>,
    end: Option<u64>,
    bytes: usize,
}

/// Reassembles streams keyed by (publisher, stream id).
#[derive(Default)]
pub(crate) struct Reassembler {
    open: BTreeMap<(PeerId, StreamId), OpenStream>,
    arrival: VecDeque<(PeerId, StreamId)>,
}

impl Reassembler {
    /// Adds one message; returns the block once its stream is complete.
    pub(crate) fn insert(
        &mut self,
        publisher: PeerId,
        message: StreamMessage<ProposalPart>,
    ) -> Result<Option<ReceivedBlock>, StreamError> {
        let key = (publisher, message.stream_id.clone());
        let sequence = message.sequence;
        let too_high = usize::try_from(sequence).map_or(true, |s| s > PARTS_MAX);
        if too_high {
            self.open.remove(&key);
            return Err(StreamError::SequenceTooHigh(sequence));
        }
        if !self.open.contains_key(&key) {
            self.evict_if_full();
            self.arrival.push_back(key.clone());
        }
        let stream = self.open.entry(key.clone()).or_default();
        match message.content {
            StreamContent::Fin => stream.end = Some(sequence),
            StreamContent::Data(part) => {
                stream.bytes = stream.bytes.saturating_add(part_len(&part));
                let max = BLOCK_BYTES_MAX + BLOCK_CHUNK_BYTES;
                if stream.bytes > max {
                    self.open.remove(&key);
                    return Err(StreamError::TooManyBytes { max });
                }
                stream.parts.insert(sequence, part);
            }
        }
        // Complete when the parts are exactly the sequences 0..end: as many as `end`,
        // all of them below it (sequences are unique keys).
        let complete = stream.end.is_some_and(|end| {
            let count_matches = u64::try_from(stream.parts.len()).is_ok_and(|n| n == end);
            let all_below = stream
                .parts
                .keys()
                .next_back()
                .is_some_and(|&last| last < end);
            count_matches && all_below
        });
        if !complete {
            return Ok(None);
        }
        let stream = self
            .open
            .remove(&key)
            .expect("the stream exists because it was just updated");
        self.arrival.retain(|k| k != &key);
        assemble(stream.parts.into_values().collect()).map(Some)
    }

    fn evict_if_full(&mut self) {
        while self.open.len() >= OPEN_STREAMS_MAX {
            match self.arrival.pop_front() {
                Some(oldest) => {
                    self.open.remove(&oldest);
                }
                None => break,
            }
        }
    }
}

fn part_len(part: &ProposalPart) -> usize {
    match part {
        ProposalPart::Data(bytes) => bytes.len(),
        ProposalPart::Init(_) | ProposalPart::Fin(_) => 0,
    }
}

fn assemble(parts: Vec<ProposalPart>) -> Result<ReceivedBlock, StreamError> {
    let (Some(ProposalPart::Init(init)), Some(ProposalPart::Fin(fin))) =
        (parts.first(), parts.last())
    else {
        return Err(StreamError::Malformed);
    };
    let middle = &parts[1..parts.len() - 1];
    let mut block_bytes = Vec::with_capacity(middle.iter().map(part_len).sum());
    for part in middle {
        match part {
            ProposalPart::Data(bytes) => block_bytes.extend_from_slice(bytes),
            ProposalPart::Init(_) | ProposalPart::Fin(_) => return Err(StreamError::Malformed),
        }
    }
    if u32::try_from(block_bytes.len()).ok() != Some(init.block_len) {
        return Err(StreamError::LengthMismatch {
            got: block_bytes.len(),
            announced: init.block_len,
        });
    }
    Ok(ReceivedBlock {
        init: init.clone(),
        fin: fin.clone(),
        block_bytes,
        parts,
    })
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use simin_crypto::{Hash, Signature};

    use super::*;
    use crate::types::{BlockId, ConsensusHeight, ConsensusSignature, ValidatorAddress};

    fn test_peer() -> PeerId {
        let mut seed = [7u8; 32];
        let keypair = malachitebft_app_channel::app::types::Keypair::ed25519_from_bytes(&mut seed)
            .expect("any 32 bytes are an ed25519 seed");
        PeerId::from_bytes(&keypair.public().to_peer_id().to_bytes()).expect("a libp2p peer id")
    }

    fn parts(block: &[u8]) -> Vec<ProposalPart> {
        let init = PartInit {
            height: ConsensusHeight(1),
            round: 0,
            pol_round: None,
            proposer: ValidatorAddress(simin_crypto::PublicKey([1; 32])),
            block_len: u32::try_from(block.len()).expect("a test block is small"),
        };
        let fin = PartFin {
            block_hash: BlockId(Hash::digest(block)),
            signature: ConsensusSignature(Signature([0; 64])),
        };
        split_block(init, block, fin)
    }

    #[test]
    fn out_of_order_parts_reassemble_only_when_complete() {
        let block: Vec<u8> = (0..3 * BLOCK_CHUNK_BYTES + 17)
            .map(|i| u8::try_from(i % 251).expect("a remainder below 251 fits in u8"))
            .collect();
        let id = StreamId::new(Bytes::from_static(b"s"));
        let mut messages = stream_messages(&id, &parts(&block));
        messages.reverse();
        let peer = test_peer();
        let mut reassembler = Reassembler::default();
        let last = messages.pop().expect("a stream has messages");
        for message in messages {
            let out = reassembler
                .insert(peer, message)
                .expect("a well-formed part");
            assert!(out.is_none(), "incomplete until the first part arrives");
        }
        let received = reassembler
            .insert(peer, last)
            .expect("a well-formed part")
            .expect("complete");
        assert_eq!(received.block_bytes, block);
    }

    #[test]
    fn absurd_sequences_and_wrong_lengths_are_refused() {
        let id = StreamId::new(Bytes::from_static(b"s"));
        let mut reassembler = Reassembler::default();
        let far = StreamMessage::new(id.clone(), 1_000_000, StreamContent::Fin);
        assert!(reassembler.insert(test_peer(), far).is_err());

        let mut bad = parts(b"hello");
        if let Some(ProposalPart::Init(init)) = bad.first_mut() {
            init.block_len = 6;
        }
        let peer = test_peer();
        let results: Vec<_> = stream_messages(&id, &bad)
            .into_iter()
            .map(|m| reassembler.insert(peer, m))
            .collect();
        assert!(matches!(
            results.last(),
            Some(Err(StreamError::LengthMismatch { .. }))
        ));
    }
}

//! `SiminCodec`: the one borsh codec the engine uses for the network, sync and the WAL.
//!
//! Every decode is bounded by a size limit before any parsing, and refuses trailing bytes.

mod wire;

use borsh::{BorshDeserialize, BorshSerialize};
use bytes::Bytes;
use malachitebft_app_channel::app::consensus::LivenessMsg;
use malachitebft_app_channel::app::streaming::StreamContent;
use malachitebft_app_channel::app::types::codec::{Codec, HasEncodedLen};
use malachitebft_app_channel::app::types::core::{
    ExtendedCommitCertificate, PolkaCertificate, ValidatorProof,
};
use malachitebft_app_channel::app::types::streaming::{StreamId, StreamMessage};
use malachitebft_app_channel::app::types::sync::{RawDecidedValue, Request, Response, Status};
use malachitebft_app_channel::app::types::{PeerId, ProposedValue, SignedConsensusMsg};
use malachitebft_sync::{ValueRequest, ValueResponse};
use simin_crypto::Signature;

use crate::context::SiminContext;
use crate::error::CodecError;
use crate::messages::ProposalPart;
use crate::types::{ConsensusHeight, ConsensusSignature};
pub(crate) use wire::round_from_wire as wire_round;
use wire::{
    WireCommitCertificate, WirePolkaCertificate, WireProposedValue, WireRoundCertificate,
    WireSignedProposal, WireSignedVote,
};

/// Largest encoded vote, proposal, certificate or proof.
pub const CONSENSUS_MESSAGE_BYTES_MAX: usize = 256 * 1024;
/// Bytes of block carried by one `Data` proposal part.
pub const BLOCK_CHUNK_BYTES: usize = 256 * 1024;
/// Largest encoded stream message (one chunk plus framing).
pub const STREAM_MESSAGE_BYTES_MAX: usize = BLOCK_CHUNK_BYTES + 4 * 1024;
/// Largest encoded sync response: the engine's 10 MiB limit, room for one 8 MiB block.
pub const SYNC_RESPONSE_BYTES_MAX: usize = 10 * 1024 * 1024;
/// Most decided values in one sync response.
pub const SYNC_VALUES_MAX: usize = 16;

/// The codec of simin's consensus messages. Stateless; cheap to clone.
#[derive(Clone, Copy, Debug, Default)]
pub struct SiminCodec;

fn encode<T: BorshSerialize>(value: &T) -> Bytes {
    Bytes::from(simin_types::encode(value))
}

fn decode<T: BorshDeserialize>(
    what: &'static str,
    bytes: &[u8],
    max: usize,
) -> Result<T, CodecError> {
    if bytes.len() > max {
        return Err(CodecError::TooLarge {
            what,
            got: bytes.len(),
            max,
        });
    }
    borsh::from_slice(bytes).map_err(|e| CodecError::Decode {
        what,
        reason: e.to_string(),
    })
}

impl Codec<ProposalPart> for SiminCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<ProposalPart, CodecError> {
        decode("proposal part", &bytes, STREAM_MESSAGE_BYTES_MAX)
    }

    fn encode(&self, part: &ProposalPart) -> Result<Bytes, CodecError> {
        Ok(encode(part))
    }
}

#[derive(BorshSerialize, BorshDeserialize)]
enum WireConsensusMessage {
    Vote(WireSignedVote),
    Proposal(WireSignedProposal),
}

impl Codec<SignedConsensusMsg<SiminContext>> for SiminCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<SignedConsensusMsg<SiminContext>, CodecError> {
        let wire = decode("consensus message", &bytes, CONSENSUS_MESSAGE_BYTES_MAX)?;
        Ok(match wire {
            WireConsensusMessage::Vote(vote) => SignedConsensusMsg::Vote(vote.into()),
            WireConsensusMessage::Proposal(proposal) => {
                SignedConsensusMsg::Proposal(proposal.into())
            }
        })
    }

    fn encode(&self, msg: &SignedConsensusMsg<SiminContext>) -> Result<Bytes, CodecError> {
        Ok(encode(&match msg {
            SignedConsensusMsg::Vote(vote) => WireConsensusMessage::Vote(vote.into()),
            SignedConsensusMsg::Proposal(proposal) => {
                WireConsensusMessage::Proposal(proposal.into())
            }
        }))
    }
}

#[derive(BorshSerialize, BorshDeserialize)]
enum WireLiveness {
    Vote(WireSignedVote),
    Polka(WirePolkaCertificate),
    SkipRound(WireRoundCertificate),
}

impl Codec<LivenessMsg<SiminContext>> for SiminCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<LivenessMsg<SiminContext>, CodecError> {
        let wire = decode("liveness message", &bytes, CONSENSUS_MESSAGE_BYTES_MAX)?;
        Ok(match wire {
            WireLiveness::Vote(vote) => LivenessMsg::Vote(vote.into()),
            WireLiveness::Polka(cert) => LivenessMsg::PolkaCertificate(cert.try_into()?),
            WireLiveness::SkipRound(cert) => LivenessMsg::SkipRoundCertificate(cert.try_into()?),
        })
    }

    fn encode(&self, msg: &LivenessMsg<SiminContext>) -> Result<Bytes, CodecError> {
        Ok(encode(&match msg {
            LivenessMsg::Vote(vote) => WireLiveness::Vote(vote.into()),
            LivenessMsg::PolkaCertificate(cert) => WireLiveness::Polka(cert.into()),
            LivenessMsg::SkipRoundCertificate(cert) => WireLiveness::SkipRound(cert.into()),
        }))
    }
}

impl Codec<StreamMessage<ProposalPart>> for SiminCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<StreamMessage<ProposalPart>, CodecError> {
        let (stream_id, sequence, part): (Vec<u8>, u64, Option<ProposalPart>) =
            decode("stream message", &bytes, STREAM_MESSAGE_BYTES_MAX)?;
        let content = match part {
            Some(part) => StreamContent::Data(part),
            None => StreamContent::Fin,
        };
        Ok(StreamMessage::new(
            StreamId::new(stream_id.into()),
            sequence,
            content,
        ))
    }

    fn encode(&self, msg: &StreamMessage<ProposalPart>) -> Result<Bytes, CodecError> {
        let stream_id = msg.stream_id.to_bytes().to_vec();
        Ok(encode(&(stream_id, msg.sequence, msg.content.as_data())))
    }
}

impl Codec<ValidatorProof<SiminContext>> for SiminCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<ValidatorProof<SiminContext>, CodecError> {
        let (public_key, peer_id, signature): (Vec<u8>, Vec<u8>, Signature) =
            decode("validator proof", &bytes, CONSENSUS_MESSAGE_BYTES_MAX)?;
        Ok(ValidatorProof::new(
            public_key,
            peer_id,
            ConsensusSignature(signature),
        ))
    }

    fn encode(&self, proof: &ValidatorProof<SiminContext>) -> Result<Bytes, CodecError> {
        Ok(encode(&(
            &proof.public_key,
            &proof.peer_id,
            proof.signature.0,
        )))
    }
}

impl Codec<Status<SiminContext>> for SiminCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<Status<SiminContext>, CodecError> {
        let (peer_id, tip_height, history_min_height): (Vec<u8>, u64, u64) =
            decode("sync status", &bytes, CONSENSUS_MESSAGE_BYTES_MAX)?;
        let peer_id = PeerId::from_bytes(&peer_id).map_err(|e| CodecError::Invalid {
            what: "sync status",
            reason: format!("bad peer id: {e}"),
        })?;
        Ok(Status {
            peer_id,
            tip_height: ConsensusHeight(tip_height),
            history_min_height: ConsensusHeight(history_min_height),
        })
    }

    fn encode(&self, status: &Status<SiminContext>) -> Result<Bytes, CodecError> {
        Ok(encode(&(
            status.peer_id.to_bytes(),
            status.tip_height.0,
            status.history_min_height.0,
        )))
    }
}

impl Codec<Request<SiminContext>> for SiminCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<Request<SiminContext>, CodecError> {
        let (start, end): (u64, u64) = decode("sync request", &bytes, CONSENSUS_MESSAGE_BYTES_MAX)?;
        let range = ConsensusHeight(start)..=ConsensusHeight(end);
        Ok(Request::ValueRequest(ValueRequest::new(range)))
    }

    fn encode(&self, request: &Request<SiminContext>) -> Result<Bytes, CodecError> {
        let Request::ValueRequest(request) = request;
        Ok(encode(&(request.range.start().0, request.range.end().0)))
    }
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireValueResponse {
    start_height: u64,
    values: Vec<(Vec<u8>, WireCommitCertificate)>,
}

impl Codec<Response<SiminContext>> for SiminCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<Response<SiminContext>, CodecError> {
        let wire: WireValueResponse = decode("sync response", &bytes, SYNC_RESPONSE_BYTES_MAX)?;
        if wire.values.len() > SYNC_VALUES_MAX {
            return Err(CodecError::Invalid {
                what: "sync response",
                reason: format!("{} values, more than {SYNC_VALUES_MAX}", wire.values.len()),
            });
        }
        let values = wire
            .values
            .into_iter()
            .map(|(value_bytes, cert)| {
                let certificate = ExtendedCommitCertificate::try_from(cert)?;
                Ok(RawDecidedValue::new(value_bytes.into(), certificate))
            })
            .collect::<Result<Vec<_>, CodecError>>()?;
        Ok(Response::ValueResponse(ValueResponse::new(
            ConsensusHeight(wire.start_height),
            values,
        )))
    }

    fn encode(&self, response: &Response<SiminContext>) -> Result<Bytes, CodecError> {
        let Response::ValueResponse(response) = response;
        let wire = WireValueResponse {
            start_height: response.start_height.0,
            values: response
                .values
                .iter()
                .map(|v| {
                    (
                        v.value_bytes.to_vec(),
                        WireCommitCertificate::from(&v.certificate),
                    )
                })
                .collect(),
        };
        Ok(encode(&wire))
    }
}

impl HasEncodedLen<Response<SiminContext>> for SiminCodec {
    fn encoded_len(&self, response: &Response<SiminContext>) -> Result<usize, CodecError> {
        Codec::<Response<SiminContext>>::encode(self, response).map(|bytes| bytes.len())
    }
}

impl Codec<ProposedValue<SiminContext>> for SiminCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<ProposedValue<SiminContext>, CodecError> {
        let wire: WireProposedValue =
            decode("proposed value", &bytes, CONSENSUS_MESSAGE_BYTES_MAX)?;
        Ok(wire.into())
    }

    fn encode(&self, value: &ProposedValue<SiminContext>) -> Result<Bytes, CodecError> {
        Ok(encode(&WireProposedValue::from(value)))
    }
}

impl Codec<PolkaCertificate<SiminContext>> for SiminCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<PolkaCertificate<SiminContext>, CodecError> {
        let wire: WirePolkaCertificate =
            decode("polka certificate", &bytes, CONSENSUS_MESSAGE_BYTES_MAX)?;
        wire.try_into()
    }

    fn encode(&self, cert: &PolkaCertificate<SiminContext>) -> Result<Bytes, CodecError> {
        Ok(encode(&WirePolkaCertificate::from(cert)))
    }
}

#[cfg(test)]
mod tests;

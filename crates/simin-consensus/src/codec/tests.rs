//! Round-trip and signing-rule tests of the codec and signer.

use bytes::Bytes;
use malachitebft_app_channel::app::streaming::StreamContent;
use malachitebft_app_channel::app::types::codec::Codec;
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, NilOrVal, Round, SignedMessage, VoteType,
};
use malachitebft_app_channel::app::types::streaming::{StreamId, StreamMessage};
use malachitebft_app_channel::app::types::SignedConsensusMsg;
use malachitebft_signing::{Signer, Verifier};
use simin_types::{ChainId, Hash, Height, SigningKey, Validator, ValidatorSet};

use super::SiminCodec;
use crate::certificate::to_simin;
use crate::context::SiminContext;
use crate::messages::{PartInit, ProposalPart, Vote};
use crate::signing::{vote_bytes, SiminSigner, SiminVerifier};
use crate::types::{BlockId, ConsensusHeight, ValidatorAddress};

fn chain() -> ChainId {
    ChainId::new("simin-test").expect("a valid chain id")
}

fn precommit(key: &SigningKey, value: NilOrVal<BlockId>) -> Vote {
    Vote {
        vote_type: VoteType::Precommit,
        height: ConsensusHeight(7),
        round: Round::new(2),
        value,
        validator: ValidatorAddress(key.public_key()),
        extension: None,
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime builds")
        .block_on(future)
}

#[test]
fn precommits_are_signed_over_vote_sign_bytes_and_make_light_client_certificates() {
    let key = SigningKey::from_seed([3; 32]);
    let block = BlockId(Hash::digest(b"block"));
    let vote = precommit(&key, NilOrVal::Val(block));
    assert_eq!(
        vote_bytes(&chain(), &vote),
        simin_types::vote_sign_bytes(&chain(), Height(7), 2, &block.0)
    );
    let (signer, _guard_dir) = guarded_signer(key.clone());
    let signed = block_on(signer.sign_vote(vote)).expect("signing succeeds");
    let verifier = SiminVerifier::new(chain());
    let ok = block_on(verifier.verify_signed_vote(
        &signed.message,
        &signed.signature,
        &key.public_key(),
    ))
    .expect("verification runs");
    assert!(ok.is_valid());

    let cert = CommitCertificate::<SiminContext>::new(
        ConsensusHeight(7),
        Round::new(2),
        block,
        vec![signed],
    );
    let set = ValidatorSet::new(vec![Validator {
        public_key: key.public_key(),
        voting_power: 1,
    }])
    .expect("a valid set");
    to_simin(&cert)
        .verify(&chain(), Height(7), &block.0, &set)
        .expect("the engine's certificate verifies as a simin certificate");
    let other_chain = ChainId::new("other").expect("a valid chain id");
    assert!(to_simin(&cert)
        .verify(&other_chain, Height(7), &block.0, &set)
        .is_err());
}

#[test]
fn nil_precommits_and_prevotes_never_share_bytes_with_precommits() {
    let key = SigningKey::from_seed([4; 32]);
    let block = BlockId(Hash::digest(b"block"));
    let val = vote_bytes(&chain(), &precommit(&key, NilOrVal::Val(block)));
    let nil = vote_bytes(&chain(), &precommit(&key, NilOrVal::Nil));
    let mut prevote = precommit(&key, NilOrVal::Val(block));
    prevote.vote_type = VoteType::Prevote;
    let prevote = vote_bytes(&chain(), &prevote);
    assert_ne!(val, nil);
    assert_ne!(val, prevote);
    assert_ne!(nil, prevote);
}

#[test]
fn consensus_messages_and_stream_parts_round_trip() {
    let key = SigningKey::from_seed([5; 32]);
    let (signer, _guard_dir) = guarded_signer(key.clone());
    let vote = precommit(&key, NilOrVal::Val(BlockId(Hash::digest(b"x"))));
    let signed: SignedMessage<SiminContext, Vote> =
        block_on(signer.sign_vote(vote)).expect("signs");
    let msg = SignedConsensusMsg::Vote(signed);
    let bytes = SiminCodec.encode(&msg).expect("encodes");
    let back: SignedConsensusMsg<SiminContext> = SiminCodec.decode(bytes).expect("decodes");
    assert_eq!(back, msg);

    let part = ProposalPart::Init(PartInit {
        height: ConsensusHeight(3),
        round: 1,
        pol_round: None,
        proposer: ValidatorAddress(key.public_key()),
        block_len: 10,
    });
    let stream = StreamMessage::new(
        StreamId::new(Bytes::from_static(b"id")),
        0,
        StreamContent::Data(part),
    );
    let bytes = SiminCodec.encode(&stream).expect("encodes");
    let back: StreamMessage<ProposalPart> = SiminCodec.decode(bytes).expect("decodes");
    assert_eq!(back, stream);
    let fin = StreamMessage::new(
        StreamId::new(Bytes::from_static(b"id")),
        1,
        StreamContent::Fin,
    );
    let back: StreamMessage<ProposalPart> = SiminCodec
        .decode(SiminCodec.encode(&fin).expect("encodes"))
        .expect("decodes");
    assert_eq!(back, fin);
}

#[test]
fn oversized_and_trailing_input_is_refused() {
    let huge = Bytes::from(vec![0u8; super::STREAM_MESSAGE_BYTES_MAX + 1]);
    assert!(Codec::<StreamMessage<ProposalPart>>::decode(&SiminCodec, huge).is_err());
    let fin =
        StreamMessage::<ProposalPart>::new(StreamId::new(Bytes::new()), 1, StreamContent::Fin);
    let mut bytes = SiminCodec.encode(&fin).expect("encodes").to_vec();
    bytes.push(0);
    assert!(Codec::<StreamMessage<ProposalPart>>::decode(&SiminCodec, bytes.into()).is_err());
}

/// A signer with a fresh guard, in a temporary folder the caller keeps while it signs.
fn guarded_signer(key: SigningKey) -> (SiminSigner, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let guard = crate::SignGuard::open(dir.path().join("sign_guard")).expect("a new guard");
    let signer = SiminSigner::new(chain(), key, std::sync::Arc::new(guard));
    (signer, dir)
}

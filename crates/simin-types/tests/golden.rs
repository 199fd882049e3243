//! Golden fixtures and round-trip properties that pin the canonical encoding.
//!
//! A failure here means the bytes of a signed or hashed type changed. If that is
//! intended, it breaks every signature and stored block: regenerate the fixtures with
//! `SIMIN_BLESS=1 cargo test -p simin-types --test golden` and say why in the commit.

use std::path::PathBuf;

use proptest::prelude::*;
use simin_types::{
    decode, encode, vote_sign_bytes, Block, BlockHeader, BlockTime, Call, ChainId,
    CommitCertificate, CommitSignature, GovernanceCall, Hash, Height, NotaryCall, NotaryRecord,
    OrgId, Organization, Receipt, Role, SignedTx, SigningKey, Tx, TxOutcome, Validator,
    ValidatorSet,
};

fn key(seed: u8) -> SigningKey {
    SigningKey::from_seed([seed; 32])
}

fn chain() -> ChainId {
    ChainId::new("simin-golden-1").expect("valid id")
}

fn sample_tx() -> SignedTx {
    Tx {
        chain_id: chain(),
        signer: key(1).public_key(),
        nonce: 7,
        expiry_height: Height(100),
        call: Call::Notary(NotaryCall::Anchor {
            document: Hash::digest(b"contract.pdf"),
        }),
    }
    .sign(&key(1))
}

fn sample_governance_tx() -> SignedTx {
    Tx {
        chain_id: chain(),
        signer: key(9).public_key(),
        nonce: 0,
        expiry_height: Height(10),
        call: Call::Governance(GovernanceCall::RegisterOrganization(Organization {
            id: OrgId::new("mapo.library").expect("valid id"),
            name: "Mapo Library".into(),
            keys: vec![key(2).public_key()],
            roles: vec![Role::Facility, Role::Notary],
            active: true,
        })),
    }
    .sign(&key(9))
}

fn sample_block() -> Block {
    let txs = vec![sample_tx(), sample_governance_tx()];
    Block {
        header: BlockHeader {
            chain_id: chain(),
            height: Height(42),
            time: BlockTime(1_790_000_000_000),
            prev_block_hash: Hash::digest(b"prev"),
            tx_root: Block::compute_tx_root(&txs),
            receipts_root: Hash::digest(b"receipts"),
            state_root: Hash::digest(b"state"),
            validators_hash: Hash::digest(b"validators"),
            proposer: key(3).public_key(),
        },
        txs,
    }
}

fn sample_certificate() -> CommitCertificate {
    let block = sample_block();
    let message = vote_sign_bytes(&chain(), Height(42), 0, &block.hash());
    CommitCertificate {
        height: Height(42),
        round: 0,
        block_hash: block.hash(),
        signatures: vec![CommitSignature {
            validator: key(3).public_key(),
            signature: key(3).sign(&message),
        }],
    }
}

fn fixture(name: &str, bytes: &[u8]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.hex"));
    let actual = hex::encode(bytes);
    if std::env::var_os("SIMIN_BLESS").is_some() {
        std::fs::write(&path, format!("{actual}\n")).expect("fixture directory is writable");
        return;
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("missing fixture {path:?}: {e}"));
    assert_eq!(
        actual,
        expected.trim(),
        "canonical encoding of {name} changed"
    );
}

#[test]
fn signed_tx_encoding_is_pinned() {
    let tx = sample_tx();
    fixture("signed_tx_anchor", &tx.encode());
    fixture("signed_tx_register_org", &sample_governance_tx().encode());
    assert_eq!(SignedTx::decode(&tx.encode()), Ok(tx.clone()));
    assert_eq!(tx.verify_signature(), Ok(()));
}

#[test]
fn block_header_certificate_and_records_are_pinned() {
    let block = sample_block();
    fixture("block", &block.encode());
    fixture("block_hash", &block.hash().0);
    fixture("commit_certificate", &encode(&sample_certificate()));
    fixture(
        "vote_sign_bytes",
        &vote_sign_bytes(&chain(), Height(42), 3, &block.hash()),
    );
    let record = NotaryRecord {
        organization: OrgId::new("seoul.notary").expect("valid id"),
        signer: key(1).public_key(),
        height: Height(5),
        time: BlockTime(1_790_000_000_000),
        tx_hash: sample_tx().hash(),
        documents: 1,
    };
    fixture("notary_record", &encode(&record));
    let receipt = Receipt {
        tx_hash: sample_tx().hash(),
        height: Height(42),
        index: 1,
        outcome: TxOutcome::Failure {
            code: "notary.already_anchored".into(),
            message: "m".into(),
        },
    };
    fixture("receipt", &encode(&receipt));
}

#[test]
fn the_light_client_check_accepts_the_sample_and_refuses_forgeries() {
    let block = sample_block();
    let set = ValidatorSet::new(vec![Validator {
        public_key: key(3).public_key(),
        voting_power: 10,
    }])
    .expect("valid set");
    let cert = sample_certificate();
    assert_eq!(
        cert.verify(&chain(), Height(42), &block.hash(), &set),
        Ok(())
    );
    assert!(cert
        .verify(&chain(), Height(43), &block.hash(), &set)
        .is_err());
    let other_chain = ChainId::new("other").expect("valid id");
    assert!(cert
        .verify(&other_chain, Height(42), &block.hash(), &set)
        .is_err());
    let bigger = ValidatorSet::new(vec![
        Validator {
            public_key: key(3).public_key(),
            voting_power: 10,
        },
        Validator {
            public_key: key(4).public_key(),
            voting_power: 10,
        },
    ])
    .expect("valid set");
    assert!(
        cert.verify(&chain(), Height(42), &block.hash(), &bigger)
            .is_err(),
        "half is not > 2/3"
    );
    let mut doubled = cert.clone();
    doubled.signatures.push(doubled.signatures[0].clone());
    assert!(
        doubled
            .verify(&chain(), Height(42), &block.hash(), &bigger)
            .is_err(),
        "one signer counted twice"
    );
}

#[test]
fn decoding_refuses_trailing_bytes_and_oversize() {
    let mut bytes = sample_tx().encode();
    bytes.push(0);
    assert!(SignedTx::decode(&bytes).is_err());
    assert!(decode::<SignedTx>("tx", &sample_tx().encode(), 10).is_err());
}

/// Appended variants keep the tags of the older ones and take the next position.
#[test]
fn set_validator_is_the_fourth_governance_call() {
    let call = Call::Governance(GovernanceCall::SetValidator {
        public_key: key(4).public_key(),
        voting_power: 7,
    });
    let mut expected = vec![0u8, 3];
    expected.extend_from_slice(&key(4).public_key().0);
    expected.extend_from_slice(&7u64.to_le_bytes());
    assert_eq!(encode(&call), expected);
    assert_eq!(call.name(), "governance.set_validator");
}

/// The prevote and nil-precommit bytes are those the engine adapter signed before they
/// moved here; the report call is the third module's first call.
#[test]
fn vote_sign_bytes_and_the_equivocation_call_are_pinned() {
    use simin_types::{signed_vote_bytes, ConflictingVote, ConsensusCall, Equivocation, VoteKind};
    let block = Hash::digest(b"block");
    let mut prevote = b"simin/prevote/v1\0".to_vec();
    prevote.extend(encode(&(chain(), Height(3), Some(1u32), Some(block))));
    assert_eq!(
        signed_vote_bytes(&chain(), VoteKind::Prevote, Height(3), 1, Some(&block)),
        prevote
    );
    let mut nil = b"simin/precommit-nil/v1\0".to_vec();
    nil.extend(encode(&(chain(), Height(3), Some(1u32))));
    assert_eq!(
        signed_vote_bytes(&chain(), VoteKind::Precommit, Height(3), 1, None),
        nil
    );
    assert_eq!(
        signed_vote_bytes(&chain(), VoteKind::Precommit, Height(3), 1, Some(&block)),
        vote_sign_bytes(&chain(), Height(3), 1, &block)
    );
    let vote = |value| ConflictingVote {
        value,
        signature: key(5).sign(b"x"),
    };
    let call = Call::Consensus(ConsensusCall::ReportEquivocation(Equivocation {
        validator: key(5).public_key(),
        height: Height(3),
        round: 1,
        kind: VoteKind::Precommit,
        first: vote(Some(block)),
        second: vote(None),
    }));
    assert_eq!(encode(&call)[..2], [2u8, 0]);
    assert_eq!(call.name(), "consensus.report_equivocation");
}

fn arb_call() -> impl Strategy<Value = Call> {
    prop_oneof![
        (any::<u8>(), any::<u64>()).prop_map(|(seed, voting_power)| Call::Governance(
            GovernanceCall::SetValidator {
                public_key: key(seed).public_key(),
                voting_power,
            }
        )),
        any::<[u8; 32]>().prop_map(|d| Call::Notary(NotaryCall::Anchor { document: Hash(d) })),
        prop::collection::vec(any::<[u8; 32]>(), 0..20).prop_map(|ds| Call::Notary(
            NotaryCall::AnchorBatch {
                documents: ds.into_iter().map(Hash).collect()
            }
        )),
        ("[a-z][a-z0-9.-]{0,20}", ".{0,40}", any::<bool>()).prop_map(|(id, name, active)| {
            Call::Governance(GovernanceCall::RegisterOrganization(Organization {
                id: OrgId::new(id).expect("the regex makes valid ids"),
                name,
                keys: vec![key(5).public_key()],
                roles: vec![Role::Notary],
                active,
            }))
        }),
    ]
}

proptest! {
    #[test]
    fn every_signed_tx_round_trips(seed in any::<u8>(), nonce in any::<u64>(), expiry in any::<u64>(), call in arb_call()) {
        let signer = key(seed);
        let tx = Tx { chain_id: chain(), signer: signer.public_key(), nonce, expiry_height: Height(expiry), call }.sign(&signer);
        let bytes = tx.encode();
        prop_assert_eq!(SignedTx::decode(&bytes), Ok(tx.clone()));
        prop_assert_eq!(tx.verify_signature(), Ok(()));
        let json = serde_json::to_string(&tx).expect("serializes");
        prop_assert_eq!(serde_json::from_str::<SignedTx>(&json).expect("parses"), tx);
    }

    #[test]
    fn a_flipped_byte_never_keeps_a_valid_signature(position in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut bytes = sample_tx().encode();
        let i = position.index(bytes.len());
        bytes[i] ^= 1 << bit;
        if let Ok(tx) = SignedTx::decode(&bytes) {
            prop_assert!(tx.verify_signature().is_err());
        }
    }
}

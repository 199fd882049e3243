//! A real notary bundle for tests: genesis and one block executed by simin-ledger,
//! committed in an in-memory simin-state store, certified by a test validator key.

#![allow(dead_code)]

use simin_client::dto::{NotaryProof, TxLookup};
use simin_client::TrustAnchor;
use simin_ledger::{execute_block, genesis_writes, notary_batch_leaves, notary_batch_root};
use simin_ledger::{BlockContext, MemoryState};
use simin_state::{Store, WriteSet};
use simin_types::{
    merkle, state_keys, vote_sign_bytes, Block, BlockHeader, BlockTime, Call, ChainId,
    CommitCertificate, CommitSignature, Genesis, Hash, Height, NotaryCall, NotaryRecord, OrgId,
    Organization, Role, SigningKey, Tx, TxOutcome, Validator, ValidatorSet,
};

pub const BATCH_INDEX: usize = 2;

/// Everything a test needs: the trust anchor, proofs of a single and of a batched
/// document, and the lookups of both transactions.
pub struct Fixture {
    pub trusted: TrustAnchor,
    pub genesis_json: Vec<u8>,
    pub single_document: Hash,
    pub single: NotaryProof,
    pub batch_documents: Vec<Hash>,
    pub batched: NotaryProof,
    pub single_tx: TxLookup,
    pub batch_tx: TxLookup,
}

pub fn chain_id() -> ChainId {
    ChainId::new("simin-test").expect("a valid id")
}

pub fn validator_key() -> SigningKey {
    SigningKey::from_seed([1; 32])
}

pub fn notary_key() -> SigningKey {
    SigningKey::from_seed([2; 32])
}

pub fn validator_set(key: &SigningKey) -> ValidatorSet {
    ValidatorSet::new(vec![Validator {
        public_key: key.public_key(),
        voting_power: 1,
    }])
    .expect("a valid set")
}

pub fn genesis() -> Genesis {
    Genesis {
        identity: Default::default(),
        chain_id: chain_id(),
        genesis_time: BlockTime(1_000),
        authorities: vec![SigningKey::from_seed([3; 32]).public_key()],
        validators: validator_set(&validator_key()).validators().to_vec(),
        organizations: vec![Organization {
            id: OrgId::new("test.notary").expect("a valid id"),
            name: "Test notary".into(),
            keys: vec![notary_key().public_key()],
            roles: vec![Role::Notary],
            active: true,
        }],
    }
}

pub fn sign_certificate(key: &SigningKey, header: &BlockHeader) -> CommitCertificate {
    let block_hash = header.hash();
    let message = vote_sign_bytes(&header.chain_id, header.height, 0, &block_hash);
    CommitCertificate {
        height: header.height,
        round: 0,
        block_hash,
        signatures: vec![CommitSignature {
            validator: key.public_key(),
            signature: key.sign(&message),
        }],
    }
}

fn anchor_tx(nonce: u64, call: NotaryCall) -> simin_types::SignedTx {
    Tx {
        chain_id: chain_id(),
        signer: notary_key().public_key(),
        nonce,
        expiry_height: Height(100),
        call: Call::Notary(call),
    }
    .sign(&notary_key())
}

pub fn fixture() -> Fixture {
    let genesis = genesis();
    let genesis_json = serde_json::to_vec(&genesis).expect("genesis serializes");
    let writes = genesis_writes(&genesis).expect("a valid genesis");
    let store = Store::in_memory().expect("an in-memory store");
    store
        .init_genesis(&genesis_json, WriteSet(writes.clone()))
        .expect("genesis is written");
    let mut state = MemoryState::new();
    state.apply(&writes);

    let single_document = Hash::digest(b"certificate of residence");
    let batch_documents: Vec<Hash> = (0..5u8).map(|i| Hash::digest(&[i; 7])).collect();
    let txs = vec![
        anchor_tx(
            0,
            NotaryCall::Anchor {
                document: single_document,
            },
        ),
        anchor_tx(
            1,
            NotaryCall::AnchorBatch {
                documents: batch_documents.clone(),
            },
        ),
    ];
    let validator = validator_key();
    let validators = validator_set(&validator);
    let ctx = BlockContext {
        chain_id: chain_id(),
        height: Height(1),
        time: BlockTime(2_000),
        proposer: validator.public_key(),
    };
    let output = execute_block(&state, &ctx, &txs).expect("the block executes");
    assert!(output
        .receipts
        .iter()
        .all(|r| r.outcome == TxOutcome::Success));
    let prepared = store
        .prepare(Height(1), &WriteSet(output.writes.clone()))
        .expect("the state is prepared");
    let header = BlockHeader {
        chain_id: chain_id(),
        height: Height(1),
        time: ctx.time,
        prev_block_hash: Hash::ZERO,
        tx_root: Block::compute_tx_root(&txs),
        receipts_root: output.receipts_root(),
        state_root: prepared.root(),
        validators_hash: validators.hash(),
        proposer: validator.public_key(),
    };
    let block = Block {
        header: header.clone(),
        txs,
    };
    let certificate = sign_certificate(&validator, &header);
    store
        .commit(&block, &certificate, &output.receipts, &[], prepared)
        .expect("the block commits");

    let proof_of = |document: Hash, anchor: Hash, batch_proof: Option<merkle::InclusionProof>| {
        let state_key = state_keys::notary_anchor(&anchor);
        let (value, state_proof) = store
            .get_with_proof(&state_key, Some(Height(1)))
            .expect("the store proves");
        let record: NotaryRecord =
            simin_types::decode("record", &value.expect("the anchor is in state"), 1024)
                .expect("a record");
        NotaryProof {
            document,
            record,
            anchor,
            batch_proof,
            state_key,
            state_proof: state_proof.to_bytes(),
            header: header.clone(),
            certificate: certificate.clone(),
            validators: validators.clone(),
        }
    };
    let single = proof_of(single_document, single_document, None);
    let batched = proof_of(
        batch_documents[BATCH_INDEX],
        notary_batch_root(&batch_documents),
        merkle::prove(&notary_batch_leaves(&batch_documents), BATCH_INDEX),
    );
    let lookup = |index: usize| TxLookup {
        hash: block.txs[index].hash(),
        tx: block.txs[index].clone(),
        height: Height(1),
        index: u32::try_from(index).expect("a small index"),
        receipt: output.receipts[index].clone(),
        header: header.clone(),
        inclusion_proof: block.tx_proof(index).expect("index in range"),
        certificate: certificate.clone(),
    };
    Fixture {
        trusted: TrustAnchor {
            chain_id: chain_id(),
            validators,
        },
        genesis_json,
        single_document,
        single,
        batch_documents,
        batched,
        single_tx: lookup(0),
        batch_tx: lookup(1),
    }
}

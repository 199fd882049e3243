//! Checking a node's answers without trusting the node: notary proofs and transaction
//! inclusion, both anchored in a header certified by the trusted validator set.
//!
//! Every check that fails has its own [`VerifyError`] variant, so a user is told which
//! link of the chain of evidence is broken, and tests can tell a tampering from another.

use simin_api::dto::{NotaryProof, StateLookup, TxLookup};
use simin_state::{verify_proof, ProofError, StateProof};
use simin_types::{
    encode, merkle, state_keys, BlockHeader, ChainId, CommitCertificate, CryptoError, Hash, Height,
    NotaryRecord, SignedTx, TypesError, ValidatorSet,
};

use crate::TrustAnchor;

/// Why a node's answer does not prove what it claims.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VerifyError {
    #[error("the proof is for document {got}, not for {expected}")]
    DocumentMismatch { expected: Hash, got: Hash },
    #[error("the proof anchors document {document} alone but names another anchor, {anchor}")]
    AnchorNotDocument { document: Hash, anchor: Hash },
    #[error("the batch path does not lead from document {document} to anchor {anchor}: {source}")]
    BatchPath {
        document: Hash,
        anchor: Hash,
        source: CryptoError,
    },
    #[error("the record says {claimed} documents but the batch path is for a tree of {tree}")]
    BatchSize { claimed: u32, tree: u64 },
    #[error("the lookup is for another state key than the one asked about")]
    KeyMismatch,
    #[error("the lookup carries no state proof")]
    ProofMissing,
    #[error("the proven state key is not the notary key of anchor {anchor}")]
    StateKeyMismatch { anchor: Hash },
    #[error("the state proof cannot be decoded: {0}")]
    StateProofDecode(ProofError),
    #[error("the state proof does not show the record under the header's state root: {0}")]
    StateProof(ProofError),
    #[error("the header is for chain {got}, but the trusted chain is {expected}")]
    ChainMismatch { expected: ChainId, got: ChainId },
    #[error(
        "the header's validators hash {header} is not the hash {supplied} of the validator set sent with it"
    )]
    ValidatorsHashMismatch { header: Hash, supplied: Hash },
    #[error("the header was decided by validator set {got}, not by the trusted set {trusted}")]
    UntrustedValidators { trusted: Hash, got: Hash },
    #[error("the commit certificate does not verify: {0}")]
    Certificate(TypesError),
    #[error("the transaction hashes to {computed}, not to the claimed {claimed}")]
    TxHashMismatch { claimed: Hash, computed: Hash },
    #[error("the lookup says height {claimed} and index {index} but its header or proof disagree")]
    LocationMismatch { claimed: Height, index: u32 },
    #[error("the inclusion proof does not lead to the header's transaction root: {0}")]
    TxInclusion(CryptoError),
}

impl VerifyError {
    /// The short name of the check that failed, for users and scripts.
    pub fn check(&self) -> &'static str {
        match self {
            VerifyError::DocumentMismatch { .. } => "document",
            VerifyError::AnchorNotDocument { .. } => "anchor",
            VerifyError::BatchPath { .. } => "batch path",
            VerifyError::BatchSize { .. } => "batch size",
            VerifyError::StateKeyMismatch { .. } | VerifyError::KeyMismatch => "state key",
            VerifyError::ProofMissing => "state proof",
            VerifyError::StateProofDecode(_) | VerifyError::StateProof(_) => "state proof",
            VerifyError::ChainMismatch { .. } => "chain id",
            VerifyError::ValidatorsHashMismatch { .. } => "validators hash",
            VerifyError::UntrustedValidators { .. } => "trusted validators",
            VerifyError::Certificate(_) => "commit certificate",
            VerifyError::TxHashMismatch { .. } => "transaction hash",
            VerifyError::LocationMismatch { .. } => "transaction location",
            VerifyError::TxInclusion(_) => "transaction inclusion",
        }
    }
}

/// A notary anchoring that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedAnchor {
    pub document: Hash,
    /// The document itself, or the root of its batch.
    pub anchor: Hash,
    /// For a batched document: its position in the batch.
    pub batch_index: Option<u64>,
    /// The proven record: organisation, signer, height and time of the anchoring.
    pub record: NotaryRecord,
    /// The certified header the proof was checked against (at or after the anchoring).
    pub proven_at: Height,
    pub proven_block_hash: Hash,
}

/// A transaction proven included in a certified block. Its receipt is not proven (the
/// API sends no receipt inclusion proof), so the outcome is not part of this.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedTx {
    pub tx_hash: Hash,
    pub tx: SignedTx,
    pub height: Height,
    pub index: u32,
    pub block_hash: Hash,
}

/// Checks that `document` was anchored, as `proof` says, on the chain of `trusted`.
///
/// The checks, in order: the proof is about `document`; the document is the anchor or,
/// for a batch, its path leads to the anchor; the state key is the anchor's notary key;
/// the state proof shows the record under the header's state root; the header is of the
/// trusted chain and names the trusted validator set; and that set certified the header.
pub fn verify_notary_proof(
    proof: &NotaryProof,
    document: &Hash,
    trusted: &TrustAnchor,
) -> Result<VerifiedAnchor, VerifyError> {
    if proof.document != *document {
        return Err(VerifyError::DocumentMismatch {
            expected: *document,
            got: proof.document,
        });
    }
    let batch_index = match &proof.batch_proof {
        None if proof.anchor != *document => {
            return Err(VerifyError::AnchorNotDocument {
                document: *document,
                anchor: proof.anchor,
            })
        }
        None => None,
        Some(path) => {
            path.verify(&merkle::leaf_hash(&document.0), &proof.anchor)
                .map_err(|source| VerifyError::BatchPath {
                    document: *document,
                    anchor: proof.anchor,
                    source,
                })?;
            Some(path.leaf_index)
        }
    };
    if proof.state_key != state_keys::notary_anchor(&proof.anchor) {
        return Err(VerifyError::StateKeyMismatch {
            anchor: proof.anchor,
        });
    }
    let state_proof =
        StateProof::from_bytes(&proof.state_proof).map_err(VerifyError::StateProofDecode)?;
    verify_proof(
        &proof.header.state_root,
        &proof.state_key,
        Some(&encode(&proof.record)),
        &state_proof,
    )
    .map_err(VerifyError::StateProof)?;
    // The record is proven now; its count must agree with the path's tree.
    let tree = proof.batch_proof.as_ref().map_or(1, |p| p.tree_size);
    if u64::from(proof.record.documents) != tree {
        return Err(VerifyError::BatchSize {
            claimed: proof.record.documents,
            tree,
        });
    }
    let block_hash = verify_header(
        &proof.header,
        &proof.certificate,
        Some(&proof.validators),
        trusted,
    )?;
    Ok(VerifiedAnchor {
        document: *document,
        anchor: proof.anchor,
        batch_index,
        record: proof.record.clone(),
        proven_at: proof.header.height,
        proven_block_hash: block_hash,
    })
}

/// A state value proven under a certified header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedState {
    /// The proven value (borsh), `None` when the key is proven absent.
    pub value: Option<Vec<u8>>,
    pub height: Height,
    pub block_hash: Hash,
    pub block_time: simin_types::BlockTime,
}

/// Checks that `lookup` proves the value (or absence) of `key` under the state root of
/// a header certified by the trusted validator set. The caller derives `key` from its
/// own question (`state_keys`), so a node cannot answer about another key.
pub fn verify_state_lookup(
    lookup: &StateLookup,
    key: &[u8],
    trusted: &TrustAnchor,
) -> Result<VerifiedState, VerifyError> {
    if lookup.key != key {
        return Err(VerifyError::KeyMismatch);
    }
    let proof = lookup.proof.as_deref().ok_or(VerifyError::ProofMissing)?;
    let state_proof = StateProof::from_bytes(proof).map_err(VerifyError::StateProofDecode)?;
    verify_proof(
        &lookup.header.state_root,
        key,
        lookup.value.as_deref(),
        &state_proof,
    )
    .map_err(VerifyError::StateProof)?;
    if lookup.header.height != lookup.height {
        return Err(VerifyError::LocationMismatch {
            claimed: lookup.height,
            index: 0,
        });
    }
    let block_hash = verify_header(
        &lookup.header,
        &lookup.certificate,
        Some(&lookup.validators),
        trusted,
    )?;
    Ok(VerifiedState {
        value: lookup.value.clone(),
        height: lookup.height,
        block_hash,
        block_time: lookup.header.time,
    })
}

/// Checks that the transaction of `lookup` is in the block it names, and that the block
/// was certified by the trusted validator set.
pub fn verify_tx_inclusion(
    lookup: &TxLookup,
    trusted: &TrustAnchor,
) -> Result<VerifiedTx, VerifyError> {
    let computed = lookup.tx.hash();
    if computed != lookup.hash {
        return Err(VerifyError::TxHashMismatch {
            claimed: lookup.hash,
            computed,
        });
    }
    let location_mismatch = || VerifyError::LocationMismatch {
        claimed: lookup.height,
        index: lookup.index,
    };
    if lookup.header.height != lookup.height
        || lookup.inclusion_proof.leaf_index != u64::from(lookup.index)
    {
        return Err(location_mismatch());
    }
    lookup
        .inclusion_proof
        .verify(&merkle::leaf_hash(&lookup.hash.0), &lookup.header.tx_root)
        .map_err(VerifyError::TxInclusion)?;
    let block_hash = verify_header(&lookup.header, &lookup.certificate, None, trusted)?;
    Ok(VerifiedTx {
        tx_hash: lookup.hash,
        tx: lookup.tx.clone(),
        height: lookup.height,
        index: lookup.index,
        block_hash,
    })
}

/// The light-client check of one header: trusted chain, trusted validator set (and the
/// set sent along, if any, is the one the header names), and a certificate signed by
/// more than two thirds of it. Returns the header's hash.
pub fn verify_header(
    header: &BlockHeader,
    certificate: &CommitCertificate,
    supplied: Option<&ValidatorSet>,
    trusted: &TrustAnchor,
) -> Result<Hash, VerifyError> {
    if header.chain_id != trusted.chain_id {
        return Err(VerifyError::ChainMismatch {
            expected: trusted.chain_id.clone(),
            got: header.chain_id.clone(),
        });
    }
    if let Some(set) = supplied {
        let supplied = set.hash();
        if supplied != header.validators_hash {
            return Err(VerifyError::ValidatorsHashMismatch {
                header: header.validators_hash,
                supplied,
            });
        }
    }
    let trusted_hash = trusted.validators_hash();
    if header.validators_hash != trusted_hash {
        return Err(VerifyError::UntrustedValidators {
            trusted: trusted_hash,
            got: header.validators_hash,
        });
    }
    let block_hash = header.hash();
    certificate
        .verify(
            &trusted.chain_id,
            header.height,
            &block_hash,
            &trusted.validators,
        )
        .map_err(VerifyError::Certificate)?;
    Ok(block_hash)
}

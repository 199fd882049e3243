//! Blocks, headers and receipts.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::merkle::{self, InclusionProof};
use crate::{codec, limits, BlockTime, ChainId, Hash, Height, PublicKey, SignedTx, TypesError};

/// A block header. Its hash is the block hash that validators vote for.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct BlockHeader {
    pub chain_id: ChainId,
    pub height: Height,
    /// Chosen by the proposer; strictly after the previous block's time.
    pub time: BlockTime,
    /// `Hash::ZERO` at height 1.
    pub prev_block_hash: Hash,
    /// Merkle root (RFC 9162) over the hashes of the block's transactions, in order.
    pub tx_root: Hash,
    /// Merkle root over the encoded receipts of the block's transactions, in order.
    pub receipts_root: Hash,
    /// Root of the authenticated state (jmt) after applying this block.
    pub state_root: Hash,
    /// Hash of the validator set that decides this height.
    pub validators_hash: Hash,
    pub proposer: PublicKey,
}

impl BlockHeader {
    pub fn hash(&self) -> Hash {
        Hash::digest(&codec::encode(self))
    }
}

/// A block: its header and its transactions.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Block {
    pub header: BlockHeader,
    pub txs: Vec<SignedTx>,
}

impl Block {
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    pub fn height(&self) -> Height {
        self.header.height
    }

    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// Decodes a block received from outside, refusing more than `BLOCK_BYTES_MAX`.
    pub fn decode(bytes: &[u8]) -> Result<Block, TypesError> {
        let block: Block = codec::decode("block", bytes, limits::BLOCK_BYTES_MAX)?;
        if block.txs.len() > limits::BLOCK_TXS_MAX {
            return Err(TypesError::TooLarge {
                what: "block transaction count",
                got: block.txs.len(),
                max: limits::BLOCK_TXS_MAX,
            });
        }
        Ok(block)
    }

    /// The Merkle leaves of the transactions: `leaf_hash(tx_hash)`.
    pub fn tx_leaves(txs: &[SignedTx]) -> Vec<Hash> {
        txs.iter()
            .map(|tx| merkle::leaf_hash(&tx.hash().0))
            .collect()
    }

    pub fn compute_tx_root(txs: &[SignedTx]) -> Hash {
        merkle::root(&Self::tx_leaves(txs))
    }

    /// The inclusion proof of transaction `index` against `header.tx_root`.
    pub fn tx_proof(&self, index: usize) -> Option<InclusionProof> {
        merkle::prove(&Self::tx_leaves(&self.txs), index)
    }
}

/// The result of one transaction in a block.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Receipt {
    pub tx_hash: Hash,
    pub height: Height,
    pub index: u32,
    pub outcome: TxOutcome,
}

/// Success, or a failure that changed nothing but consumed the signer's nonce.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TxOutcome {
    Success,
    /// `code` is stable and machine-readable (e.g. `notary.already_anchored`).
    Failure {
        code: String,
        message: String,
    },
}

impl Receipt {
    pub fn leaf(&self) -> Hash {
        merkle::leaf_hash(&codec::encode(self))
    }

    pub fn compute_root(receipts: &[Receipt]) -> Hash {
        let leaves: Vec<Hash> = receipts.iter().map(Receipt::leaf).collect();
        merkle::root(&leaves)
    }
}

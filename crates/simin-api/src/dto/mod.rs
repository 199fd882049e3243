//! The JSON shapes of the API: what the backend returns and what clients receive.
//!
//! Hashes, keys and byte strings are lowercase hex; heights and times are integers
//! (times in milliseconds since the Unix epoch). simin-types values keep their own serde
//! shapes; [`schema`] describes them for OpenAPI.

pub mod auth;
pub mod data;
pub(crate) mod hex_bytes;
pub mod records;
pub mod schema;

pub use auth::{
    AccessLog, AccessLogQuery, AccessRecordInfo, ServiceInfo, ServiceList, ServiceLookup,
};

use serde::{Deserialize, Serialize};
use simin_types::merkle::InclusionProof;
use simin_types::{
    Block, BlockHeader, BlockTime, ChainId, CommitCertificate, Hash, Height, NotaryRecord,
    PublicKey, Receipt, SignedTx, ValidatorSet,
};
use utoipa::{IntoParams, ToSchema};

/// The node's view of the chain (`GET /v1/status`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeStatus {
    /// The chain this node runs, e.g. `simin-seoul-1`.
    #[schema(value_type = String)]
    pub chain_id: ChainId,
    /// Height of the latest committed block (0 before the first block).
    #[schema(value_type = u64)]
    pub latest_height: Height,
    /// Hash of the latest committed block; `null` before the first block.
    #[schema(value_type = Option<schema::HashHex>)]
    pub latest_block_hash: Option<Hash>,
    /// Time of the latest committed block; `null` before the first block.
    #[schema(value_type = Option<u64>)]
    pub latest_block_time: Option<BlockTime>,
    /// State root after the latest committed block (the genesis root before it).
    #[schema(value_type = schema::HashHex)]
    pub state_root: Hash,
    /// Transactions waiting in this node's mempool.
    pub mempool_size: u64,
    /// Validators in the current validator set.
    pub validator_count: u64,
    /// The node is catching up: its peers are more than one block ahead. Lookups of
    /// what it lacks answer 503 (`syncing: ...`) rather than 404 meanwhile.
    #[serde(default)]
    pub syncing: bool,
    /// The highest height the node knows its peers have committed (vouched for by
    /// validators with more than a third of the voting power); `null` until known.
    #[serde(default)]
    #[schema(value_type = Option<u64>)]
    pub sync_target_height: Option<Height>,
}

/// One committed block with its proof of finality and its receipts (`GET /v1/blocks/{height}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockLookup {
    /// The block hash (hash of `block.header`).
    #[schema(value_type = schema::HashHex)]
    pub hash: Hash,
    /// The block: header and transactions.
    #[schema(value_type = schema::Block)]
    pub block: Block,
    /// The commit certificate of this block, when the node has it.
    #[schema(value_type = Option<schema::CommitCertificate>)]
    pub certificate: Option<CommitCertificate>,
    /// One receipt per transaction, in block order.
    #[schema(value_type = Vec<schema::Receipt>)]
    pub receipts: Vec<Receipt>,
}

impl BlockLookup {
    /// Builds the lookup, computing the block hash.
    pub fn new(
        block: Block,
        certificate: Option<CommitCertificate>,
        receipts: Vec<Receipt>,
    ) -> Self {
        BlockLookup {
            hash: block.hash(),
            block,
            certificate,
            receipts,
        }
    }
}

/// A short description of one block, for lists (`GET /v1/blocks`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockSummary {
    /// The block height.
    #[schema(value_type = u64)]
    pub height: Height,
    /// The block hash.
    #[schema(value_type = schema::HashHex)]
    pub hash: Hash,
    /// The block time, in milliseconds since the Unix epoch.
    #[schema(value_type = u64)]
    pub time: BlockTime,
    /// Number of transactions in the block.
    pub tx_count: u32,
    /// The proposer's key.
    #[schema(value_type = schema::PublicKeyHex)]
    pub proposer: PublicKey,
}

impl BlockSummary {
    /// Summarises a block from its header and its transaction count.
    pub fn new(header: &BlockHeader, tx_count: u32) -> Self {
        BlockSummary {
            height: header.height,
            hash: header.hash(),
            time: header.time,
            tx_count,
            proposer: header.proposer,
        }
    }
}

/// A page of block summaries, newest first (`GET /v1/blocks`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockList {
    /// The blocks, newest first.
    pub blocks: Vec<BlockSummary>,
    /// Pass as `before` to get the next (older) page; `null` on the last page.
    pub next_before: Option<u64>,
}

/// A committed transaction, where it is and how to check it (`GET /v1/txs/{hash}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxLookup {
    /// The transaction hash.
    #[schema(value_type = schema::HashHex)]
    pub hash: Hash,
    /// The signed transaction.
    #[schema(value_type = schema::SignedTx)]
    pub tx: SignedTx,
    /// Height of the block that includes it.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Position in that block.
    pub index: u32,
    /// Its receipt (outcome).
    #[schema(value_type = schema::Receipt)]
    pub receipt: Receipt,
    /// Header of the including block.
    #[schema(value_type = schema::BlockHeader)]
    pub header: BlockHeader,
    /// Proof that `leaf_hash(hash)` is at `index` under `header.tx_root`.
    #[schema(value_type = schema::InclusionProof)]
    pub inclusion_proof: InclusionProof,
    /// The commit certificate of `header`.
    #[schema(value_type = schema::CommitCertificate)]
    pub certificate: CommitCertificate,
}

/// A value of the authenticated state at one height (`GET /v1/state/{key}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StateLookup {
    /// The key asked for (hex).
    #[serde(with = "hex_bytes")]
    #[schema(value_type = schema::BytesHex)]
    pub key: Vec<u8>,
    /// The value (hex of its borsh encoding); `null` when the key is absent.
    #[serde(with = "hex_bytes::option")]
    #[schema(value_type = Option<schema::BytesHex>)]
    pub value: Option<Vec<u8>>,
    /// The node's proof of the value or of its absence against `header.state_root`
    /// (hex, encoded by the node); `null` unless asked for with `prove=true`.
    #[serde(with = "hex_bytes::option")]
    #[schema(value_type = Option<schema::BytesHex>)]
    pub proof: Option<Vec<u8>>,
    /// The height whose state was read.
    #[schema(value_type = u64)]
    pub height: Height,
    /// The header at that height; `header.state_root` is the root the proof is against.
    #[schema(value_type = schema::BlockHeader)]
    pub header: BlockHeader,
    /// The commit certificate of `header`.
    #[schema(value_type = schema::CommitCertificate)]
    pub certificate: CommitCertificate,
    /// The validator set that signed `certificate` (its hash is `header.validators_hash`).
    #[schema(value_type = schema::ValidatorSet)]
    pub validators: ValidatorSet,
}

/// Everything needed to check, without trusting the node, that a document was anchored
/// (`GET /v1/notary/{document_hash}`).
///
/// A client checks: `certificate` against `validators` for `header` (whose
/// `validators_hash` is the set's hash); `state_proof` shows `record` (borsh) under
/// `state_key` = `state_keys::notary_anchor(anchor)` against `header.state_root`; and,
/// for a batch, `batch_proof` shows `merkle::leaf_hash(document)` under `anchor`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NotaryProof {
    /// The document's SHA-256, as asked for.
    #[schema(value_type = schema::HashHex)]
    pub document: Hash,
    /// The notary record: organisation, signer, height, time, tx hash, document count.
    #[schema(value_type = schema::NotaryRecord)]
    pub record: NotaryRecord,
    /// The anchored hash: `document` itself, or the Merkle root of its batch.
    #[schema(value_type = schema::HashHex)]
    pub anchor: Hash,
    /// For a batch, the proof of `merkle::leaf_hash(document)` under `anchor`; else `null`.
    #[schema(value_type = Option<schema::InclusionProof>)]
    pub batch_proof: Option<InclusionProof>,
    /// The state key of the record (hex).
    #[serde(with = "hex_bytes")]
    #[schema(value_type = schema::BytesHex)]
    pub state_key: Vec<u8>,
    /// The state proof of the record against `header.state_root` (hex, encoded by the node).
    #[serde(with = "hex_bytes")]
    #[schema(value_type = schema::BytesHex)]
    pub state_proof: Vec<u8>,
    /// The header whose `state_root` the proof is against.
    #[schema(value_type = schema::BlockHeader)]
    pub header: BlockHeader,
    /// The commit certificate of `header`.
    #[schema(value_type = schema::CommitCertificate)]
    pub certificate: CommitCertificate,
    /// The validator set that signed `certificate`.
    #[schema(value_type = schema::ValidatorSet)]
    pub validators: ValidatorSet,
}

/// The JSON body of `POST /v1/txs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitTxRequest {
    /// Hex of the borsh encoding of a `SignedTx`.
    #[schema(value_type = schema::BytesHex)]
    pub tx: String,
}

/// Where a submitted transaction stands when the response is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubmitStatus {
    /// Accepted into the mempool, not (yet) committed.
    Pending,
    /// Committed in a block; `committed` holds its receipt and location.
    Committed,
}

/// The response of `POST /v1/txs`: 202 when pending, 200 when committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitTxResponse {
    /// The transaction hash.
    #[schema(value_type = schema::HashHex)]
    pub hash: Hash,
    /// Pending, or committed (only with `wait=commit`).
    pub status: SubmitStatus,
    /// With `wait=commit` and once committed: the transaction, receipt and location.
    pub committed: Option<TxLookup>,
}

/// What `POST /v1/txs` waits for before answering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitFor {
    /// Wait until the transaction is committed, or until `timeout_ms`.
    Commit,
}

/// Query of `POST /v1/txs`.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubmitQuery {
    /// `commit` to answer only once the transaction is committed (or the wait times out).
    #[param(inline)]
    pub wait: Option<WaitFor>,
    /// How long to wait for the commit, in milliseconds; default 10000, capped at 30000.
    pub timeout_ms: Option<u64>,
    /// Set by a node that relays a transaction it admitted to its peers: the receiver
    /// admits it but does not relay it again, so a transaction crosses each link once.
    pub relayed: Option<bool>,
}

/// Query of `GET /v1/blocks`.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BlocksQuery {
    /// List blocks strictly below this height; from the tip when absent.
    pub before: Option<u64>,
    /// How many blocks; default 20, capped at 100.
    pub limit: Option<u32>,
}

/// Query of `GET /v1/state/{key}`.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StateQuery {
    /// Include the state proof.
    pub prove: Option<bool>,
    /// Read the state after this height; the latest when absent.
    pub height: Option<u64>,
}

/// An RFC 9457 problem details body, sent as `application/problem+json` for every error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A stable URI naming the kind of problem, e.g. `https://simin.dev/problems/nonce-too-low`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short summary of the kind of problem, the same for every occurrence.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
}

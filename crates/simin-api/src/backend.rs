//! The `Backend` trait: what the API needs from a node, and the errors it may return.
//!
//! The node implements this trait; the API never depends on the node crate, so the
//! boundary stays one-way and the HTTP layer can be tested against a double.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

use simin_types::{BlockTime, ChainId, Hash, Height, SignedTx};

use crate::dto::{BlockLookup, BlockSummary, NodeStatus, NotaryProof, StateLookup, TxLookup};

/// A boxed, sendable future, as returned by [`Backend::wait_for_commit`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Who handed a transaction to the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxOrigin {
    /// A client, at this address when the server knows it. The node relays the
    /// transaction on to its peers, so it reaches the proposers wherever it was submitted,
    /// and bounds open calls per client address (ADR 0011).
    Client(Option<IpAddr>),
    /// Another node's relay (`?relayed=true`): not relayed again, and not bounded per
    /// address, since one peer carries many clients' transactions.
    Peer,
}

/// What a node offers the HTTP API. Every method must return promptly except
/// [`Backend::wait_for_commit`], which must resolve by its `timeout`.
pub trait Backend: Send + Sync + 'static {
    /// The node's view of the chain tip, mempool and validators.
    fn status(&self) -> Result<NodeStatus, BackendError>;

    /// Checks `tx` and adds it to the mempool; returns its hash. What the node does
    /// beyond that (relay, per-address bounds) depends on the transaction's `origin`.
    fn submit_tx(&self, tx: SignedTx, origin: TxOrigin) -> Result<Hash, SubmitError>;

    /// Resolves with the transaction once `hash` is committed (`Some`), or with `None`
    /// once `timeout` has passed without a commit.
    fn wait_for_commit(
        &self,
        hash: Hash,
        timeout: Duration,
    ) -> BoxFuture<'static, Result<Option<TxLookup>, BackendError>>;

    /// The block at `height` with its certificate and receipts; `None` if not committed.
    fn block(&self, height: Height) -> Result<Option<BlockLookup>, BackendError>;

    /// Up to `limit` block summaries strictly below `before` (or from the tip), newest first.
    fn blocks(
        &self,
        before: Option<Height>,
        limit: usize,
    ) -> Result<Vec<BlockSummary>, BackendError>;

    /// A committed transaction with its receipt, location and inclusion proof.
    fn tx(&self, hash: &Hash) -> Result<Option<TxLookup>, BackendError>;

    /// The value under `key` at `height` (the latest when `None`), with a proof if `prove`.
    fn state(
        &self,
        key: &[u8],
        height: Option<Height>,
        prove: bool,
    ) -> Result<StateLookup, BackendError>;

    /// The raw value under `key` in the state after block `height` (genesis is 0), with
    /// no proof: for reads the node answers in its own name (DID resolution, registries).
    fn state_value(&self, key: &[u8], height: Height) -> Result<Option<Vec<u8>>, BackendError>;

    /// The last committed height whose block time is at or before `time`; `None` when
    /// even the first block is later (then the genesis state, height 0, applies).
    fn height_at(&self, time: BlockTime) -> Result<Option<Height>, BackendError>;

    /// The anchoring of `document` (directly or in a batch) with everything needed to
    /// verify it without trusting the node; `None` when it was never anchored.
    fn notary(&self, document: &Hash) -> Result<Option<NotaryProof>, BackendError>;

    /// The node's metrics registry in the Prometheus text exposition format.
    fn metrics(&self) -> String;

    /// The node's reading store for urban data feeds; `None` on a node without one.
    fn data(&self) -> Option<&dyn crate::DataBackend> {
        None
    }
}

/// Why the node could not answer a read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The height is above the tip, or was pruned, or is genesis (no header).
    #[error("height {height} is not available (latest is {latest})")]
    HeightNotAvailable { height: Height, latest: Height },
    /// The node is starting, syncing or shutting down.
    #[error("the node is unavailable: {0}")]
    Unavailable(String),
    /// A fault inside the node (storage, encoding); details go to the node's logs.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why a submitted transaction was refused; the node maps its mempool errors into these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("the transaction cannot be decoded: {0}")]
    BadEncoding(String),
    #[error("the transaction is {size} bytes, over the limit of {max}")]
    TooLarge { size: usize, max: usize },
    #[error("the transaction is for chain {got}, this node runs {expected}")]
    WrongChainId { expected: ChainId, got: ChainId },
    #[error("the transaction's signature does not verify")]
    BadSignature,
    #[error("nonce {got} is below the account's next nonce {expected}")]
    NonceTooLow { expected: u64, got: u64 },
    #[error("nonce {got} is too far above the account's next nonce {expected}")]
    NonceTooHigh { expected: u64, got: u64 },
    #[error("the transaction expired at height {expiry}; the next height is {next_height}")]
    Expired { expiry: Height, next_height: Height },
    #[error("the transaction is already in the mempool or committed")]
    Duplicate,
    #[error("the mempool is full; retry later")]
    MempoolFull,
    #[error("the call is invalid: {0}")]
    InvalidCall(String),
    #[error("the node cannot accept transactions now: {0}")]
    Unavailable(String),
    /// The signer does not hold what the call needs (ADR 0011); `reason` is the module's
    /// stable code, e.g. `notary.not_a_notary`.
    #[error("the signer may not make this call ({reason}): {message}")]
    NotAuthorized { reason: String, message: String },
    /// A call open to unregistered keys would fail against the current state; `reason`
    /// is the module's stable code, e.g. `data.unknown_record`.
    #[error("the call fails against the current state ({reason}): {message}")]
    CallRefused { reason: String, message: String },
    /// The signer or the client address already has the most open transactions waiting.
    #[error("too many transactions of this {by} are waiting (at most {max}); retry after the next block")]
    TooManyPending { by: String, max: usize },
}

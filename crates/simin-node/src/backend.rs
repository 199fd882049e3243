//! The node's answers to the HTTP API: `simin_api::Backend` over the store and mempool.

use std::sync::Arc;
use std::time::Duration;

use simin_api::dto::{BlockLookup, BlockSummary, NodeStatus, NotaryProof, StateLookup, TxLookup};
use simin_api::{Backend, BackendError, BoxFuture, SubmitError, TxOrigin};
use simin_ledger::TxError;
use simin_types::{
    merkle, state_keys, BlockTime, Call, CommitCertificate, Hash, Height, NotaryCall, NotaryRecord,
    SignedTx,
};

use crate::mempool::MempoolError;
use crate::shared::Shared;

mod sync;

/// Most blocks one list request returns.
const BLOCK_LIST_MAX: usize = 100;

/// The API's view of a node.
#[derive(Clone, Debug)]
pub(crate) struct NodeBackend {
    pub shared: Arc<Shared>,
    /// The reading store of urban data feeds (`data.redb`); `None` when it could not
    /// be opened (the rest of the API still works).
    pub data: Option<Arc<simin_data::DataStore>>,
    /// The heights the other validators vote at, from consensus (see `sync`).
    pub peers: sync::PeerHeights,
    /// The highest height whose block came by value sync, from consensus.
    pub synced: sync::SyncedHeight,
}

fn internal(err: impl std::fmt::Display) -> BackendError {
    tracing::error!(%err, "internal error answering the API");
    BackendError::Internal(err.to_string())
}

fn submit_error(err: TxError) -> SubmitError {
    match err {
        TxError::TooLarge { bytes, max } => SubmitError::TooLarge { size: bytes, max },
        TxError::WrongChain { expected, got } => SubmitError::WrongChainId { expected, got },
        TxError::BadSignature => SubmitError::BadSignature,
        TxError::Expired {
            expiry_height,
            height,
        } => SubmitError::Expired {
            expiry: expiry_height,
            next_height: height,
        },
        TxError::NonceTooLow { got, expected } => SubmitError::NonceTooLow { expected, got },
        TxError::NonceTooHigh { got, expected } => SubmitError::NonceTooHigh { expected, got },
        TxError::InvalidCall(call) => SubmitError::InvalidCall(call.to_string()),
        TxError::NotAuthorized(call) => SubmitError::NotAuthorized {
            reason: call.code().to_owned(),
            message: call.to_string(),
        },
        TxError::CallRefused(call) => SubmitError::CallRefused {
            reason: call.code().to_owned(),
            message: call.to_string(),
        },
        TxError::State(e) => SubmitError::Unavailable(e.to_string()),
        other @ (TxError::NonceNotNext { .. } | TxError::NonceExhausted { .. }) => {
            SubmitError::InvalidCall(other.to_string())
        }
    }
}

impl NodeBackend {
    /// The header and certificate of committed height `height` (not genesis).
    fn certified(
        &self,
        height: Height,
    ) -> Result<(simin_types::BlockHeader, CommitCertificate), BackendError> {
        let latest = self.shared.latest_height();
        let not_available = || BackendError::HeightNotAvailable { height, latest };
        if height == Height::GENESIS || height > latest {
            return Err(not_available());
        }
        let block = self
            .shared
            .store
            .block(height)
            .map_err(internal)?
            .ok_or_else(not_available)?;
        let certificate = self
            .shared
            .store
            .certificate(height)
            .map_err(internal)?
            .ok_or_else(not_available)?;
        Ok((block.header, certificate))
    }

    /// A committed transaction by hash, without the syncing check (for waiters, which
    /// keep waiting, and for the notary proof, which found the hash in its own index).
    fn committed_tx(&self, hash: &Hash) -> Result<Option<TxLookup>, BackendError> {
        let store = &self.shared.store;
        let Some((height, index)) = store.tx_location(hash).map_err(internal)? else {
            return Ok(None);
        };
        let block = store
            .block(height)
            .map_err(internal)?
            .ok_or_else(|| internal("indexed block is missing"))?;
        let certificate = store
            .certificate(height)
            .map_err(internal)?
            .ok_or_else(|| internal("certificate is missing"))?;
        let receipts = store
            .receipts(height)
            .map_err(internal)?
            .unwrap_or_default();
        let i = usize::try_from(index).map_err(internal)?;
        let (Some(tx), Some(receipt), Some(inclusion_proof)) =
            (block.txs.get(i), receipts.get(i), block.tx_proof(i))
        else {
            return Err(internal("indexed transaction is missing from its block"));
        };
        Ok(Some(TxLookup {
            hash: *hash,
            tx: tx.clone(),
            height,
            index,
            receipt: receipt.clone(),
            header: block.header.clone(),
            inclusion_proof,
            certificate,
        }))
    }

    fn tip_or_unavailable(&self) -> Result<Height, BackendError> {
        match self.shared.latest_height() {
            Height(0) => Err(BackendError::Unavailable(
                "no block has been committed yet".into(),
            )),
            h => Ok(h),
        }
    }
}

impl Backend for NodeBackend {
    fn status(&self) -> Result<NodeStatus, BackendError> {
        let store = &self.shared.store;
        let latest = self.shared.latest_height();
        let sync = self.sync_state()?;
        let header = match latest {
            Height(0) => None,
            h => store.block(h).map_err(internal)?.map(|b| b.header),
        };
        Ok(NodeStatus {
            chain_id: self.shared.chain_id.clone(),
            latest_height: latest,
            latest_block_hash: header.as_ref().map(|h| h.hash()),
            latest_block_time: header.as_ref().map(|h| h.time),
            state_root: store.state_root(latest).map_err(internal)?,
            // usize to u64 never truncates on supported targets.
            mempool_size: self.shared.mempool().len() as u64,
            // The set that signed the latest header: the one in the state before it. usize
            // to u64 never truncates on supported targets.
            validator_count: self
                .shared
                .validators_at(latest)
                .map_err(internal)?
                .validators()
                .len() as u64,
            syncing: sync.syncing,
            sync_target_height: sync.target,
        })
    }

    fn submit_tx(&self, tx: SignedTx, origin: TxOrigin) -> Result<Hash, SubmitError> {
        let shared = &self.shared;
        let refuse = |err: SubmitError, code: &str| {
            shared
                .metrics
                .txs_refused
                .get_or_create(&crate::metrics::ReasonLabel {
                    reason: code.into(),
                })
                .inc();
            err
        };
        let latest = shared.latest_height();
        let next_height = latest
            .next()
            .ok_or_else(|| SubmitError::Unavailable("the chain reached its last height".into()))?;
        let check =
            simin_ledger::check_tx(&shared.view_at(latest), &shared.chain_id, next_height, &tx)
                .map_err(|e| {
                    let code = e.code();
                    refuse(submit_error(e), code)
                })?;
        let hash = check.tx_hash;
        let relayed = match (&shared.relay, origin) {
            (Some(_), TxOrigin::Client(_)) => Some(tx.encode()),
            _ => None,
        };
        shared
            .mempool()
            .insert(tx, &check, next_height, bounded_source(origin))
            .map_err(|e| match e {
                MempoolError::Duplicate(_) => refuse(SubmitError::Duplicate, "mempool.duplicate"),
                MempoolError::NonceTaken { .. } => {
                    refuse(SubmitError::Duplicate, "mempool.nonce_taken")
                }
                MempoolError::NonceTooHigh { got, next, .. } => refuse(
                    SubmitError::NonceTooHigh {
                        expected: next,
                        got,
                    },
                    "mempool.nonce_too_high",
                ),
                MempoolError::Full { .. } => refuse(SubmitError::MempoolFull, "mempool.full"),
                MempoolError::SignerBusy { max, .. } => refuse(
                    SubmitError::TooManyPending {
                        by: "signer".into(),
                        max,
                    },
                    "mempool.signer_busy",
                ),
                MempoolError::SourceBusy { max, .. } => refuse(
                    SubmitError::TooManyPending {
                        by: "client address".into(),
                        max,
                    },
                    "mempool.source_busy",
                ),
            })?;
        shared.metrics.txs_submitted.inc();
        if let (Some(relay), Some(encoded)) = (&shared.relay, relayed) {
            relay.offer(encoded, &shared.metrics);
        }
        Ok(hash)
    }

    fn wait_for_commit(
        &self,
        hash: Hash,
        timeout: Duration,
    ) -> BoxFuture<'static, Result<Option<TxLookup>, BackendError>> {
        let backend = self.clone();
        Box::pin(async move {
            let mut tip = backend.shared.tip.subscribe();
            let deadline = tokio::time::Instant::now() + timeout;
            loop {
                if let Some(found) = backend.committed_tx(&hash)? {
                    return Ok(Some(found));
                }
                match tokio::time::timeout_at(deadline, tip.changed()).await {
                    Ok(Ok(())) => continue,
                    Ok(Err(_)) => {
                        return Err(BackendError::Unavailable(
                            "the node is shutting down".into(),
                        ))
                    }
                    Err(_) => return Ok(None),
                }
            }
        })
    }

    fn block(&self, height: Height) -> Result<Option<BlockLookup>, BackendError> {
        let store = &self.shared.store;
        let Some(block) = store.block(height).map_err(internal)? else {
            if height > self.shared.latest_height() {
                if let Some(syncing) = self.not_yet_synced(&format!("block {height}")) {
                    return Err(syncing);
                }
            }
            return Ok(None);
        };
        let certificate = store.certificate(height).map_err(internal)?;
        let receipts = store
            .receipts(height)
            .map_err(internal)?
            .unwrap_or_default();
        Ok(Some(BlockLookup::new(block, certificate, receipts)))
    }

    fn blocks(
        &self,
        before: Option<Height>,
        limit: usize,
    ) -> Result<Vec<BlockSummary>, BackendError> {
        let latest = self.shared.latest_height();
        let start = match before {
            Some(b) => b.0.saturating_sub(1).min(latest.0),
            None => latest.0,
        };
        let limit = limit.min(BLOCK_LIST_MAX);
        let mut out = Vec::with_capacity(limit);
        let mut height = start;
        while height >= 1 && out.len() < limit {
            if let Some(block) = self.shared.store.block(Height(height)).map_err(internal)? {
                // Blocks hold at most BLOCK_TXS_MAX transactions, which fits in u32.
                let tx_count = u32::try_from(block.txs.len()).unwrap_or(u32::MAX);
                out.push(BlockSummary::new(&block.header, tx_count));
            }
            height -= 1;
        }
        Ok(out)
    }

    fn tx(&self, hash: &Hash) -> Result<Option<TxLookup>, BackendError> {
        match self.committed_tx(hash)? {
            Some(found) => Ok(Some(found)),
            None => match self.not_yet_synced(&format!("transaction {hash}")) {
                Some(syncing) => Err(syncing),
                None => Ok(None),
            },
        }
    }

    fn state(
        &self,
        key: &[u8],
        height: Option<Height>,
        prove: bool,
    ) -> Result<StateLookup, BackendError> {
        let height = match height {
            Some(h) => h,
            None => self.tip_or_unavailable()?,
        };
        let (header, certificate) = self.certified(height)?;
        let store = &self.shared.store;
        let (value, proof) = if prove {
            let (value, proof) = store.get_with_proof(key, Some(height)).map_err(internal)?;
            (value, Some(proof.to_bytes()))
        } else {
            (store.get(key, Some(height)).map_err(internal)?, None)
        };
        Ok(StateLookup {
            key: key.to_vec(),
            value,
            proof,
            height,
            header,
            certificate,
            // The set that signed `header`: the one in the state before `height`.
            validators: self.shared.validators_at(height).map_err(internal)?,
        })
    }

    fn state_value(&self, key: &[u8], height: Height) -> Result<Option<Vec<u8>>, BackendError> {
        let latest = self.shared.latest_height();
        if height > latest {
            return Err(BackendError::HeightNotAvailable { height, latest });
        }
        self.shared.store.get(key, Some(height)).map_err(internal)
    }

    fn height_at(&self, time: BlockTime) -> Result<Option<Height>, BackendError> {
        // Block times strictly increase with height, so a binary search over headers
        // finds the last block at or before `time` in O(log n) reads.
        let (mut low, mut high) = (1u64, self.shared.latest_height().0);
        let mut found = None;
        while low <= high {
            let mid = low + (high - low) / 2;
            let block = self.shared.store.block(Height(mid)).map_err(internal)?;
            let Some(block) = block else {
                return Err(BackendError::Internal(format!("block {mid} is missing")));
            };
            if block.header.time <= time {
                found = Some(Height(mid));
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        Ok(found)
    }

    fn notary(&self, document: &Hash) -> Result<Option<NotaryProof>, BackendError> {
        let store = &self.shared.store;
        let height = self.tip_or_unavailable()?;
        // A document anchored alone is its own anchor; a batched one is found by the index.
        let (anchor, batch_proof) = if store
            .get(&state_keys::notary_anchor(document), Some(height))
            .map_err(internal)?
            .is_some()
        {
            (*document, None)
        } else if let Some(entry) = store.notary_document(document).map_err(internal)? {
            let tx = self
                .committed_tx(&entry.tx_hash)?
                .ok_or_else(|| internal("indexed batch transaction is missing"))?;
            let Call::Notary(NotaryCall::AnchorBatch { documents }) = &tx.tx.tx.call else {
                return Err(internal("indexed transaction is not a notary batch"));
            };
            let leaves = simin_ledger::notary_batch_leaves(documents);
            let position = documents
                .iter()
                .position(|d| d == document)
                .ok_or_else(|| internal("document missing from its batch"))?;
            (entry.batch_root, merkle::prove(&leaves, position))
        } else {
            return Ok(None);
        };
        let state_key = state_keys::notary_anchor(&anchor);
        let lookup = self.state(&state_key, Some(height), true)?;
        let Some(value) = lookup.value else {
            return Ok(None);
        };
        let record: NotaryRecord =
            simin_types::decode("notary record", &value, 4096).map_err(internal)?;
        Ok(Some(NotaryProof {
            document: *document,
            record,
            anchor,
            batch_proof,
            state_key,
            state_proof: lookup.proof.unwrap_or_default(),
            header: lookup.header,
            certificate: lookup.certificate,
            validators: lookup.validators,
        }))
    }

    fn metrics(&self) -> String {
        self.shared.metrics.encode()
    }

    fn data(&self) -> Option<&dyn simin_api::DataBackend> {
        Some(self)
    }
}

/// The address whose open calls the mempool bounds (ADR 0011): a remote client's. Peers'
/// relays carry many clients' transactions, and loopback is the node's own services and
/// tools, exempt as they are from the edge server's per-client limits.
fn bounded_source(origin: TxOrigin) -> Option<std::net::IpAddr> {
    match origin {
        TxOrigin::Client(Some(address)) if !address.is_loopback() => Some(address),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_remote_clients_are_bounded_per_address() {
        let remote: std::net::IpAddr = "203.0.113.7".parse().expect("an address");
        let local: std::net::IpAddr = "127.0.0.1".parse().expect("an address");
        assert_eq!(bounded_source(TxOrigin::Client(Some(remote))), Some(remote));
        assert_eq!(bounded_source(TxOrigin::Client(Some(local))), None);
        assert_eq!(bounded_source(TxOrigin::Client(None)), None);
        assert_eq!(bounded_source(TxOrigin::Peer), None);
    }
}

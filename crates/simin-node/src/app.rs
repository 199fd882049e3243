//! The consensus application: builds proposals from the mempool, validates received
//! blocks by re-executing them, and commits decided blocks with their certificates.
//!
//! Invariant: a block reaches `Store::commit` only with the state this node computed
//! for it by executing its transactions on the last committed state; the store refuses
//! it unless that state's root is the header's.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use simin_consensus::Application;
use simin_ledger::{BlockContext, BlockOutput};
use simin_state::{NotaryIndexEntry, PreparedState, WriteSet};
use simin_types::{
    limits, state_keys, Block, BlockHeader, BlockTime, Call, CommitCertificate, Equivocation, Hash,
    Height, NotaryCall, PublicKey, Receipt, SigningKey, TxOutcome, ValidatorSet,
};
use tracing::{debug, info, warn};

use crate::evidence::Reporter;
use crate::shared::Shared;

/// How far ahead of this node's clock a proposed block's time may be.
const BLOCK_TIME_DRIFT_MAX_MS: u64 = 10_000;

/// Why this node refuses a proposal or cannot commit.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AppError {
    #[error("block is for chain {got}, expected {expected}")]
    WrongChain { expected: String, got: String },
    #[error("block height {got} does not follow the last committed height {latest}")]
    WrongHeight { latest: Height, got: Height },
    #[error("block's previous hash {got} is not the last block's hash {expected}")]
    WrongParent { expected: Hash, got: Hash },
    #[error("block's {what} {got} differs from the recomputed {expected}")]
    RootMismatch {
        what: &'static str,
        expected: Hash,
        got: Hash,
    },
    #[error("block time {time} is more than {BLOCK_TIME_DRIFT_MAX_MS} ms ahead of this node's clock {now}")]
    TimeInFuture { time: BlockTime, now: u64 },
    #[error(transparent)]
    Block(#[from] simin_ledger::BlockError),
    #[error(transparent)]
    Ledger(#[from] simin_ledger::LedgerError),
    #[error(transparent)]
    Store(#[from] simin_state::StoreError),
}

/// A block this node executed and may be asked to commit.
struct Executed {
    block: Block,
    receipts: Vec<Receipt>,
    prepared: PreparedState,
}

pub(crate) struct App {
    shared: Arc<Shared>,
    proposer: PublicKey,
    /// Blocks executed for the next height, by block hash: proposals and validated ones.
    executed: HashMap<Hash, Executed>,
    /// Reports equivocations seen by consensus, signed with the node key.
    reporter: Reporter,
}

impl App {
    pub fn new(shared: Arc<Shared>, key: SigningKey) -> App {
        App {
            shared,
            proposer: key.public_key(),
            executed: HashMap::new(),
            reporter: Reporter::new(key),
        }
    }

    fn latest(&self) -> Result<(Height, Hash), AppError> {
        let height = self.shared.latest_height();
        let hash = match height {
            Height(0) => Hash::ZERO,
            h => self
                .shared
                .store
                .block_hash(h)?
                .ok_or(simin_state::StoreError::Missing {
                    what: "block hash",
                    height: h,
                })?,
        };
        Ok((height, hash))
    }

    fn to_write_set(output: &BlockOutput) -> WriteSet {
        output
            .writes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn execute(&mut self, block: &Block) -> Result<(), AppError> {
        let header = &block.header;
        if header.chain_id != self.shared.chain_id {
            return Err(AppError::WrongChain {
                expected: self.shared.chain_id.to_string(),
                got: header.chain_id.to_string(),
            });
        }
        let (latest, latest_hash) = self.latest()?;
        if latest.next() != Some(header.height) {
            return Err(AppError::WrongHeight {
                latest,
                got: header.height,
            });
        }
        if header.prev_block_hash != latest_hash {
            return Err(AppError::WrongParent {
                expected: latest_hash,
                got: header.prev_block_hash,
            });
        }
        let now = unix_millis();
        if header.time.0 > now.saturating_add(BLOCK_TIME_DRIFT_MAX_MS) {
            return Err(AppError::TimeInFuture {
                time: header.time,
                now,
            });
        }
        check_root(
            "validators hash",
            self.shared.validators_at(header.height)?.hash(),
            header.validators_hash,
        )?;
        check_root(
            "tx root",
            Block::compute_tx_root(&block.txs),
            header.tx_root,
        )?;
        let ctx = BlockContext {
            chain_id: header.chain_id.clone(),
            height: header.height,
            time: header.time,
            proposer: header.proposer,
        };
        let output = simin_ledger::execute_block(&self.shared.view_at(latest), &ctx, &block.txs)?;
        check_root(
            "receipts root",
            output.receipts_root(),
            header.receipts_root,
        )?;
        let prepared = self
            .shared
            .store
            .prepare(header.height, &Self::to_write_set(&output))?;
        check_root("state root", prepared.root(), header.state_root)?;
        self.executed.insert(
            block.hash(),
            Executed {
                block: block.clone(),
                receipts: output.receipts,
                prepared,
            },
        );
        Ok(())
    }
}

fn check_root(what: &'static str, expected: Hash, got: Hash) -> Result<(), AppError> {
    if expected == got {
        Ok(())
    } else {
        Err(AppError::RootMismatch {
            what,
            expected,
            got,
        })
    }
}

fn unix_millis() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

/// The notary's non-consensus index: which batch holds each batched document.
fn notary_index(block: &Block, receipts: &[Receipt]) -> Vec<NotaryIndexEntry> {
    let mut entries = Vec::new();
    for (tx, receipt) in block.txs.iter().zip(receipts) {
        if let (Call::Notary(NotaryCall::AnchorBatch { documents }), TxOutcome::Success) =
            (&tx.tx.call, &receipt.outcome)
        {
            let batch_root = simin_ledger::notary_batch_root(documents);
            entries.extend(documents.iter().map(|document| NotaryIndexEntry {
                document: *document,
                batch_root,
                tx_hash: receipt.tx_hash,
            }));
        }
    }
    entries
}

impl Application for App {
    type Error = AppError;

    fn last_committed(&self) -> Option<(Height, Hash)> {
        match self.latest() {
            Ok((Height(0), _)) => None,
            Ok(latest) => Some(latest),
            Err(err) => {
                warn!(%err, "cannot read the last committed block");
                None
            }
        }
    }

    fn validator_set(&self, height: Height) -> Result<ValidatorSet, AppError> {
        Ok(self.shared.validators_at(height)?)
    }

    fn propose(&mut self, height: Height, round: u32, time: BlockTime) -> Result<Block, AppError> {
        let started = Instant::now();
        let (latest, latest_hash) = self.latest()?;
        if latest.next() != Some(height) {
            return Err(AppError::WrongHeight {
                latest,
                got: height,
            });
        }
        let view = self.shared.view_at(latest);
        let previous_time = simin_ledger::last_block(&view)?
            .map(|b| b.time)
            .unwrap_or_default();
        let time = BlockTime(time.0.max(previous_time.0.saturating_add(1)));
        let ctx = BlockContext {
            chain_id: self.shared.chain_id.clone(),
            height,
            time,
            proposer: self.proposer,
        };
        let candidates = self
            .shared
            .mempool()
            .reap(limits::BLOCK_TXS_MAX, simin_ledger::BLOCK_TX_BYTES_MAX);
        let built =
            simin_ledger::build_admitted(&view, &ctx, candidates).map_err(AppError::Block)?;
        let dropped: Vec<Hash> = built
            .skipped
            .iter()
            .filter(|s| s.reason.is_permanent())
            .map(|s| s.tx_hash)
            .collect();
        if !dropped.is_empty() {
            self.shared.mempool().remove_all(&dropped);
        }
        let prepared = self
            .shared
            .store
            .prepare(height, &Self::to_write_set(&built.output))?;
        let header = BlockHeader {
            chain_id: self.shared.chain_id.clone(),
            height,
            time,
            prev_block_hash: latest_hash,
            tx_root: Block::compute_tx_root(&built.txs),
            receipts_root: built.output.receipts_root(),
            state_root: prepared.root(),
            validators_hash: self.shared.validators_at(height)?.hash(),
            proposer: self.proposer,
        };
        let block = Block {
            header,
            txs: built.txs,
        };
        debug!(%height, round, txs = block.txs.len(), skipped = built.skipped.len(), "proposing");
        self.executed.insert(
            block.hash(),
            Executed {
                block: block.clone(),
                receipts: built.output.receipts,
                prepared,
            },
        );
        self.shared
            .metrics
            .propose_seconds
            .observe(started.elapsed().as_secs_f64());
        Ok(block)
    }

    fn validate(&mut self, block: &Block) -> Result<(), AppError> {
        if self.executed.contains_key(&block.hash()) {
            return Ok(());
        }
        let started = Instant::now();
        let result = self.execute(block);
        if let Err(err) = &result {
            warn!(height = %block.height(), hash = %block.hash(), %err, "refusing a proposed block");
        }
        self.shared
            .metrics
            .validate_seconds
            .observe(started.elapsed().as_secs_f64());
        result
    }

    fn commit(&mut self, block: Block, certificate: CommitCertificate) -> Result<(), AppError> {
        let started = Instant::now();
        let hash = block.hash();
        if !self.executed.contains_key(&hash) {
            self.execute(&block)?;
        }
        let executed = self
            .executed
            .remove(&hash)
            .expect("present because it was just executed");
        // Every other executed block was for this height and can never be committed now.
        self.executed.clear();
        let Executed {
            block: executed_block,
            receipts,
            prepared,
        } = executed;
        debug_assert_eq!(
            executed_block, block,
            "the same hash means the same header and txs"
        );
        let index = notary_index(&block, &receipts);
        let height = block.height();
        self.shared
            .store
            .commit(&block, &certificate, &receipts, &index, prepared)?;
        let next_height = height.next().unwrap_or(height);
        let store = &self.shared.store;
        let mut mempool = self.shared.mempool();
        mempool.on_commit(&block.txs, next_height, |signer| {
            store
                .get(&state_keys::account_nonce(signer), None)
                .ok()
                .flatten()
                .and_then(|bytes| simin_types::decode::<u64>("nonce", &bytes, 8).ok())
                .unwrap_or(0)
        });
        let mempool_len = mempool.len();
        drop(mempool);
        let m = &self.shared.metrics;
        m.blocks_committed.inc();
        // Counts fit in i64 and u64: blocks hold at most BLOCK_TXS_MAX transactions.
        m.txs_committed.inc_by(block.txs.len() as u64);
        m.block_txs.observe(block.txs.len() as f64);
        m.height.set(i64::try_from(height.0).unwrap_or(i64::MAX));
        m.mempool_txs
            .set(i64::try_from(mempool_len).unwrap_or(i64::MAX));
        m.commit_seconds.observe(started.elapsed().as_secs_f64());
        self.shared.tip.send_replace(height);
        if !block.txs.is_empty() {
            info!(%height, txs = block.txs.len(), hash = %hash, "committed");
        } else {
            debug!(%height, hash = %hash, "committed an empty block");
        }
        Ok(())
    }

    fn decided(&self, height: Height) -> Option<(Block, CommitCertificate)> {
        let block = self.shared.store.block(height).ok().flatten()?;
        let certificate = self.shared.store.certificate(height).ok().flatten()?;
        Some((block, certificate))
    }

    fn on_evidence(&mut self, evidence: Vec<Equivocation>) {
        self.reporter.report(&self.shared, evidence);
    }
}

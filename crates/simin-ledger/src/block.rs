//! Block execution: building a block as proposer and re-executing one as validator.
//!
//! Both paths share one executor, so a block that `build` returns is a block that
//! `execute_block` accepts with the same output, byte for byte.

use simin_types::{
    limits, state_keys, BlockTime, ChainId, Hash, Height, PublicKey, Receipt, SignedTx, TxOutcome,
};

use crate::admission::{check_envelope, next_nonce, refuse_last_nonce};
use crate::call::{self, ExecError};
use crate::meta::{chain_last_block_key, last_block, LastBlock};
use crate::state::Overlay;
use crate::{BlockError, LedgerError, StateView, TxError, WriteSet};

/// Room kept in `BLOCK_BYTES_MAX` for the header and the length prefix of the transaction
/// list; an encoded header is under 300 bytes (a 64-byte chain id, five hashes, a key).
pub const BLOCK_HEADER_BYTES_RESERVE: usize = 1024;
/// The most bytes the encoded transactions of one block may take together.
pub const BLOCK_TX_BYTES_MAX: usize = limits::BLOCK_BYTES_MAX - BLOCK_HEADER_BYTES_RESERVE;
/// The most candidates `build` looks at, so a mempool full of bad transactions cannot
/// keep a proposer busy past its timeout.
pub const BUILD_CANDIDATES_MAX: usize = 4 * limits::BLOCK_TXS_MAX;

/// What the consensus layer decides about a block before its transactions run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockContext {
    pub chain_id: ChainId,
    pub height: Height,
    pub time: BlockTime,
    pub proposer: PublicKey,
}

/// The result of executing a block: the state changes and one receipt per transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockOutput {
    pub writes: WriteSet,
    pub receipts: Vec<Receipt>,
}

impl BlockOutput {
    /// The header's `receipts_root`.
    pub fn receipts_root(&self) -> Hash {
        Receipt::compute_root(&self.receipts)
    }
}

/// A candidate the proposer left out, and why; `reason.is_permanent()` tells the mempool
/// whether to drop it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub tx_hash: Hash,
    pub reason: TxError,
}

/// A block as built by the proposer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Built {
    pub txs: Vec<SignedTx>,
    pub output: BlockOutput,
    pub skipped: Vec<Skipped>,
}

/// Proposer: runs `candidates` in order (each signer's already ordered by nonce) and keeps
/// those that may be in a block, skipping the others with a reason. Stops at
/// `BLOCK_TXS_MAX` transactions, at the first one that does not fit `BLOCK_TX_BYTES_MAX`,
/// or after `BUILD_CANDIDATES_MAX` candidates. Errors only for a bad context or state fault.
pub fn build(
    view: &impl StateView,
    ctx: &BlockContext,
    candidates: impl IntoIterator<Item = SignedTx>,
) -> Result<Built, BlockError> {
    build_inner(view, ctx, candidates, true)
}

/// Like [`build`], for candidates whose signatures this node already verified with the
/// strict rule when it admitted them ([`crate::check_tx`]): skips re-verifying them,
/// which is most of a proposer's work. Validators still verify every signature of the
/// block in [`execute_block`], so a wrong promise here only gets the proposal refused.
pub fn build_admitted(
    view: &impl StateView,
    ctx: &BlockContext,
    candidates: impl IntoIterator<Item = SignedTx>,
) -> Result<Built, BlockError> {
    build_inner(view, ctx, candidates, false)
}

fn build_inner(
    view: &impl StateView,
    ctx: &BlockContext,
    candidates: impl IntoIterator<Item = SignedTx>,
    verify_signatures: bool,
) -> Result<Built, BlockError> {
    let mut exec = Executor::begin(view, ctx)?;
    let mut txs = Vec::new();
    let mut skipped = Vec::new();
    let mut bytes_total: usize = 0;
    for tx in candidates.into_iter().take(BUILD_CANDIDATES_MAX) {
        if txs.len() >= limits::BLOCK_TXS_MAX {
            break;
        }
        let bytes = tx.encode();
        let tx_hash = Hash::digest(&bytes);
        let admitted = exec
            .admit(&tx, bytes.len())
            .and_then(|()| match verify_signatures {
                true => tx.verify_signature().map_err(|_| TxError::BadSignature),
                false => Ok(()),
            });
        match admitted {
            Ok(()) => {}
            Err(TxError::State(e)) => return Err(e.into()),
            Err(reason) => {
                tracing::debug!(%tx_hash, code = reason.code(), %reason, "candidate skipped");
                skipped.push(Skipped { tx_hash, reason });
                continue;
            }
        }
        // Admission bounded this transaction by TX_BYTES_MAX, so the sum cannot overflow.
        let with_tx = bytes_total.saturating_add(bytes.len());
        if with_tx > BLOCK_TX_BYTES_MAX {
            break;
        }
        bytes_total = with_tx;
        exec.apply(&tx, tx_hash)?;
        txs.push(tx);
    }
    Ok(Built {
        txs,
        output: exec.finish(),
        skipped,
    })
}

/// Validator and sync: re-executes a proposed block's transactions. Refuses the block if
/// any transaction may not be in it (size, chain id, signature, expiry, nonce, stateless
/// call checks) or the block is over its limits.
pub fn execute_block(
    view: &impl StateView,
    ctx: &BlockContext,
    txs: &[SignedTx],
) -> Result<BlockOutput, BlockError> {
    if txs.len() > limits::BLOCK_TXS_MAX {
        return Err(BlockError::TooManyTxs {
            count: txs.len(),
            max: limits::BLOCK_TXS_MAX,
        });
    }
    let encoded: Vec<Vec<u8>> = txs.iter().map(SignedTx::encode).collect();
    let bytes_total = encoded
        .iter()
        .try_fold(0usize, |sum, bytes| sum.checked_add(bytes.len()))
        .unwrap_or(usize::MAX);
    if bytes_total > BLOCK_TX_BYTES_MAX {
        return Err(BlockError::TooLarge {
            bytes: bytes_total,
            max: BLOCK_TX_BYTES_MAX,
        });
    }
    let hashes: Vec<Hash> = encoded.iter().map(|bytes| Hash::digest(bytes)).collect();
    let mut exec = Executor::begin(view, ctx)?;
    let invalid = |index: usize, source: TxError| match source {
        TxError::State(e) => BlockError::State(e),
        source => BlockError::InvalidTx {
            index,
            tx_hash: hashes[index],
            source,
        },
    };
    for (index, tx) in txs.iter().enumerate() {
        exec.admit(tx, encoded[index].len())
            .map_err(|e| invalid(index, e))?;
        // Signatures are checked once all cheap checks passed, in one batch below; state
        // changes of a refused block are dropped, so the order does not matter.
        exec.apply(tx, hashes[index])?;
    }
    if let Some(index) = first_bad_signature(txs) {
        return Err(invalid(index, TxError::BadSignature));
    }
    Ok(exec.finish())
}

/// The index of the first transaction whose signature fails the strict rule.
fn first_bad_signature(txs: &[SignedTx]) -> Option<usize> {
    let messages: Vec<Vec<u8>> = txs.iter().map(|tx| tx.tx.sign_bytes()).collect();
    let items: Vec<(&[u8], simin_types::Signature, PublicKey)> = txs
        .iter()
        .zip(&messages)
        .map(|(tx, message)| (message.as_slice(), tx.signature, tx.tx.signer))
        .collect();
    match simin_crypto::verify_batch(&items) {
        Ok(()) => None,
        Err(simin_crypto::CryptoError::BadSignatureInBatch { index }) => Some(index),
        // Not returned by `verify_batch` today; name the culprit the slow way if it ever is.
        Err(_) => txs.iter().position(|tx| tx.verify_signature().is_err()),
    }
}

/// Executes transactions one after another over a block-wide overlay.
struct Executor<'a> {
    ctx: &'a BlockContext,
    /// The state before the block, whose validator set decides the block's height.
    before: &'a dyn StateView,
    block: Overlay<'a>,
    receipts: Vec<Receipt>,
}

impl<'a> Executor<'a> {
    /// Starts a block on `view`, which must be the state after the previous block.
    fn begin(view: &'a dyn StateView, ctx: &'a BlockContext) -> Result<Executor<'a>, BlockError> {
        let (expected, previous_time) = match last_block(&view)? {
            Some(last) => (
                last.height
                    .next()
                    .ok_or(BlockError::HeightExhausted(last.height))?,
                Some(last.time),
            ),
            // A state without genesis meta can only take the first block.
            None => (Height(1), None),
        };
        if ctx.height != expected {
            return Err(BlockError::HeightNotNext {
                expected,
                got: ctx.height,
            });
        }
        if let Some(previous) = previous_time.filter(|previous| ctx.time <= *previous) {
            return Err(BlockError::TimeNotAfter {
                previous,
                got: ctx.time,
            });
        }
        Ok(Executor {
            ctx,
            before: view,
            block: Overlay::new(view),
            receipts: Vec::new(),
        })
    }

    /// Whether `tx` may be the block's next transaction, apart from its signature.
    fn admit(&self, tx: &SignedTx, encoded_len: usize) -> Result<(), TxError> {
        check_envelope(&self.ctx.chain_id, self.ctx.height, tx, encoded_len)?;
        refuse_last_nonce(tx)?;
        let expected = next_nonce(&self.block, &tx.tx.signer)?;
        if tx.tx.nonce < expected {
            return Err(TxError::NonceTooLow {
                got: tx.tx.nonce,
                expected,
            });
        }
        if tx.tx.nonce != expected {
            return Err(TxError::NonceNotNext {
                got: tx.tx.nonce,
                expected,
            });
        }
        Ok(())
    }

    /// Applies an admitted transaction: consumes its nonce, then runs its call in a scope
    /// that is kept on success and dropped on failure.
    fn apply(&mut self, tx: &SignedTx, tx_hash: Hash) -> Result<(), LedgerError> {
        let next = tx
            .tx
            .nonce
            .checked_add(1)
            .expect("the nonce is below u64::MAX because admission refuses u64::MAX");
        self.block
            .put(state_keys::account_nonce(&tx.tx.signer), &next);
        let mut scope = Overlay::new(&self.block);
        let outcome = match call::execute(&mut scope, self.before, self.ctx, &tx.tx, tx_hash) {
            Ok(()) => {
                let writes = scope.into_writes();
                self.block.absorb(writes);
                TxOutcome::Success
            }
            Err(ExecError::Call(e)) => {
                tracing::debug!(%tx_hash, code = e.code(), %e, "transaction failed");
                TxOutcome::Failure {
                    code: e.code().to_owned(),
                    message: e.to_string(),
                }
            }
            Err(ExecError::Ledger(e)) => return Err(e),
        };
        let index = u32::try_from(self.receipts.len())
            .expect("receipt index fits in u32 because a block holds at most BLOCK_TXS_MAX txs");
        self.receipts.push(Receipt {
            tx_hash,
            height: self.ctx.height,
            index,
            outcome,
        });
        Ok(())
    }

    /// Ends the block. Validator set changes need nothing here: calls write the stored
    /// set directly, and the set after the block decides the next height, so all of one
    /// block's changes take effect together.
    fn finish(mut self) -> BlockOutput {
        let last = LastBlock {
            height: self.ctx.height,
            time: self.ctx.time,
        };
        self.block.put(chain_last_block_key(), &last);
        BlockOutput {
            writes: self.block.into_writes(),
            receipts: self.receipts,
        }
    }
}

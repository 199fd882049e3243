//! Admission: whether a transaction may enter the mempool or a block.

use simin_types::{limits, state_keys, ChainId, Hash, Height, PublicKey, SignedTx};

use crate::state::read;
use crate::{check_call, LedgerError, StateView, TxError};

/// What the mempool needs to keep an admitted transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxCheck {
    /// The signer's next nonce in the checked state: the mempool holds transactions with
    /// a higher nonce until the gap closes.
    pub next_nonce: u64,
    pub tx_hash: Hash,
    pub encoded_len: usize,
}

/// Admission check for the mempool against the latest committed state, for inclusion at
/// `next_height`: size, chain id, expiry, stateless call checks, nonce not yet used, and
/// the strict signature (last, as the most expensive).
pub fn check_tx(
    view: &impl StateView,
    chain_id: &ChainId,
    next_height: Height,
    tx: &SignedTx,
) -> Result<TxCheck, TxError> {
    let bytes = tx.encode();
    check_envelope(chain_id, next_height, tx, bytes.len())?;
    let next_nonce = next_nonce(view, &tx.tx.signer)?;
    if tx.tx.nonce < next_nonce {
        return Err(TxError::NonceTooLow {
            got: tx.tx.nonce,
            expected: next_nonce,
        });
    }
    tx.verify_signature().map_err(|_| TxError::BadSignature)?;
    Ok(TxCheck {
        next_nonce,
        tx_hash: Hash::digest(&bytes),
        encoded_len: bytes.len(),
    })
}

/// The checks that need no state: size, chain id, expiry at `height`, a usable nonce and
/// the call's own content.
pub(crate) fn check_envelope(
    chain_id: &ChainId,
    height: Height,
    tx: &SignedTx,
    encoded_len: usize,
) -> Result<(), TxError> {
    if encoded_len > limits::TX_BYTES_MAX {
        return Err(TxError::TooLarge {
            bytes: encoded_len,
            max: limits::TX_BYTES_MAX,
        });
    }
    if tx.tx.chain_id != *chain_id {
        return Err(TxError::WrongChain {
            expected: chain_id.clone(),
            got: tx.tx.chain_id.clone(),
        });
    }
    if tx.tx.expiry_height < height {
        return Err(TxError::Expired {
            expiry_height: tx.tx.expiry_height,
            height,
        });
    }
    // Executing nonce n writes n + 1, so the largest nonce can never be executed.
    if tx.tx.nonce == u64::MAX {
        return Err(TxError::NonceExhausted {
            signer: tx.tx.signer,
            nonce: tx.tx.nonce,
        });
    }
    check_call(&tx.tx.call).map_err(TxError::InvalidCall)
}

/// The account's next nonce (absent: 0).
pub(crate) fn next_nonce(view: &dyn StateView, signer: &PublicKey) -> Result<u64, LedgerError> {
    Ok(read(view, &state_keys::account_nonce(signer), "account nonce")?.unwrap_or(0))
}

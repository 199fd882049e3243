//! Admission: whether a transaction may enter the mempool or a block.
//!
//! Beyond the envelope (size, chain id, expiry, nonce, signature), admission asks the
//! call's module whether the signer may make it at all (ADR 0011): calls that need an
//! authority, an organisation's role, a source's key or a DID controller are refused
//! unless the signer holds it in the checked state; calls open to unregistered keys
//! (record owners, evidence reporters) are run whole against a throw-away overlay of the
//! checked state and refused if they would fail. Nobody gets block space for free.

use simin_types::{limits, state_keys, BlockTime, ChainId, Hash, Height, PublicKey, SignedTx};

use crate::call::{self, ExecError, Standing};
use crate::meta::last_block;
use crate::state::{read, Overlay};
use crate::{check_call, BlockContext, LedgerError, StateView, TxError};

/// What the mempool needs to keep an admitted transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxCheck {
    /// The signer's next nonce in the checked state: the mempool holds transactions with
    /// a higher nonce until the gap closes.
    pub next_nonce: u64,
    pub tx_hash: Hash,
    pub encoded_len: usize,
    /// Whether the signer holds a role for the call or the call is open to anyone; the
    /// mempool bounds open transactions per signer and per source more tightly.
    pub standing: Standing,
}

/// Admission check for the mempool against the latest committed state, for inclusion at
/// `next_height`: size, chain id, expiry, stateless call checks, the nonce, the signer's
/// standing for the call, the strict signature (the most expensive of the cheap checks),
/// and for open calls the whole call against a throw-away overlay of `view`.
pub fn check_tx(
    view: &impl StateView,
    chain_id: &ChainId,
    next_height: Height,
    tx: &SignedTx,
) -> Result<TxCheck, TxError> {
    let bytes = tx.encode();
    check_envelope(chain_id, next_height, tx, bytes.len())?;
    let next_nonce = next_nonce(view, &tx.tx.signer)?;
    check_admission_nonce(&tx.tx.signer, tx.tx.nonce, next_nonce)?;
    let standing = match call::authorize(view, &tx.tx.signer, &tx.tx.call) {
        Ok(standing) => standing,
        Err(ExecError::Call(e)) => return Err(TxError::NotAuthorized(e)),
        Err(ExecError::Ledger(e)) => return Err(e.into()),
    };
    tx.verify_signature().map_err(|_| TxError::BadSignature)?;
    let tx_hash = Hash::digest(&bytes);
    if standing == Standing::Open {
        dry_run(view, chain_id, next_height, tx, tx_hash)?;
    }
    Ok(TxCheck {
        next_nonce,
        tx_hash,
        encoded_len: bytes.len(),
        standing,
    })
}

/// The nonce rule of admission. Below the account's next nonce is too low. `u64::MAX` can
/// never be executed (executing nonce n writes n + 1), so it is too high like any other
/// nonce that cannot become the next one, unless the account has used every other nonce
/// (its next nonce is `u64::MAX` too): then the account is exhausted. How far ahead a
/// usable nonce may wait is the mempool's window, not the ledger's concern.
fn check_admission_nonce(signer: &PublicKey, got: u64, next: u64) -> Result<(), TxError> {
    if got < next {
        return Err(TxError::NonceTooLow {
            got,
            expected: next,
        });
    }
    if got == u64::MAX {
        return Err(match next {
            u64::MAX => TxError::NonceExhausted {
                signer: *signer,
                nonce: got,
            },
            _ => TxError::NonceTooHigh {
                got,
                expected: next,
            },
        });
    }
    Ok(())
}

/// Runs an open call against a throw-away overlay of `view`, as the next block would run
/// it at the earliest time it can have (a millisecond after the last block). The ledger
/// is pure, so this is exact for that state and that time, and costs the call's reads.
fn dry_run(
    view: &impl StateView,
    chain_id: &ChainId,
    next_height: Height,
    tx: &SignedTx,
    tx_hash: Hash,
) -> Result<(), TxError> {
    let time = last_block(view)?.map_or(BlockTime(0), |last| {
        BlockTime(last.time.as_millis().saturating_add(1))
    });
    let ctx = BlockContext {
        chain_id: chain_id.clone(),
        height: next_height,
        time,
        // No module reads the proposer; the signer stands in for the unknown one.
        proposer: tx.tx.signer,
    };
    let mut scope = Overlay::new(view);
    match call::execute(&mut scope, view, &ctx, &tx.tx, tx_hash) {
        Ok(()) => Ok(()),
        Err(ExecError::Call(e)) => Err(TxError::CallRefused(e)),
        Err(ExecError::Ledger(e)) => Err(e.into()),
    }
}

/// The checks that need no state: size, chain id, expiry at `height` and the call's own
/// content. The nonce rules differ between admission and blocks, so each checks its own.
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
    check_call(&tx.tx.call).map_err(TxError::InvalidCall)
}

/// In a block: executing nonce n writes n + 1, so the largest nonce can never be executed.
pub(crate) fn refuse_last_nonce(tx: &SignedTx) -> Result<(), TxError> {
    if tx.tx.nonce == u64::MAX {
        return Err(TxError::NonceExhausted {
            signer: tx.tx.signer,
            nonce: tx.tx.nonce,
        });
    }
    Ok(())
}

/// The account's next nonce (absent: 0).
pub(crate) fn next_nonce(view: &dyn StateView, signer: &PublicKey) -> Result<u64, LedgerError> {
    Ok(read(view, &state_keys::account_nonce(signer), "account nonce")?.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use simin_types::SigningKey;

    #[test]
    fn the_nonce_rule_at_its_boundaries() {
        let signer = SigningKey::from_seed([7; 32]).public_key();
        let rule = |got, next| check_admission_nonce(&signer, got, next).map_err(|e| e.code());
        assert_eq!(rule(4, 5), Err("tx.nonce_too_low"));
        assert_eq!(rule(5, 5), Ok(()));
        assert_eq!(
            rule(u64::MAX - 1, 0),
            Ok(()),
            "the mempool's window judges it"
        );
        assert_eq!(rule(u64::MAX, 0), Err("tx.nonce_too_high"));
        assert_eq!(rule(u64::MAX, u64::MAX - 1), Err("tx.nonce_too_high"));
        assert_eq!(rule(u64::MAX - 1, u64::MAX - 1), Ok(()));
        assert_eq!(rule(u64::MAX, u64::MAX), Err("tx.nonce_exhausted"));
    }
}

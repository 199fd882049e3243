//! The chain-meta key: the last block's height and time, written by every block.
//!
//! Writing it in every block gives every version of the state tree its own root, even
//! for a block without transactions, and lets the ledger check that a block follows the
//! state it is executed on.

use borsh::{BorshDeserialize, BorshSerialize};
use simin_types::{BlockTime, Height};

use crate::state::read;
use crate::{LedgerError, StateView};

/// The height and time of the last block applied to a state (genesis: height 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct LastBlock {
    pub height: Height,
    pub time: BlockTime,
}

/// The key of the [`LastBlock`] (borsh). Local to the ledger until it moves to
/// `simin_types::state_keys`.
pub fn chain_last_block_key() -> Vec<u8> {
    b"chain/last_block".to_vec()
}

/// The last block applied to `view`; `None` for a state without genesis.
pub fn last_block(view: &impl StateView) -> Result<Option<LastBlock>, LedgerError> {
    read(view, &chain_last_block_key(), "last block")
}

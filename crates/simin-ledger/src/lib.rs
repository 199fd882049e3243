//! simin's deterministic execution: transaction admission, module dispatch, receipts.
//!
//! A pure function of (state, block context, transactions) -> (write set, receipts). No
//! clock, no randomness, no I/O: state is read through [`StateView`], time and height
//! arrive in [`BlockContext`], and the result is a [`WriteSet`] the node applies to its
//! store. Every validator running the same inputs gets the same bytes.
//!
//! The crate's invariants:
//! - a transaction in a block has a valid strict signature, the block's chain id, an
//!   unexpired height and exactly its signer's next nonce; a block breaking this is refused;
//! - an included transaction always consumes its nonce; when its call fails, that nonce is
//!   the only thing it changes, and its receipt carries a stable failure code;
//! - every block writes the chain-meta key, so each state version has its own root.

mod admission;
pub mod auth;
mod block;
mod call;
pub mod data;
mod error;
mod evidence;
mod genesis;
mod governance;
pub mod identity;
mod meta;
mod notary;
mod state;
mod validators;

pub use admission::{check_tx, TxCheck};
pub use block::{
    build, build_admitted, execute_block, BlockContext, BlockOutput, Built, Skipped,
    BLOCK_HEADER_BYTES_RESERVE, BLOCK_TX_BYTES_MAX, BUILD_CANDIDATES_MAX,
};
pub use call::{check_call, CallError, Standing};
pub use error::{BlockError, LedgerError, StateReadError, TxError};
pub use genesis::genesis_writes;
pub use meta::{chain_last_block_key, last_block, LastBlock};
pub use notary::{notary_batch_leaves, notary_batch_root};
pub use state::{MemoryState, StateView, WriteSet};
pub use validators::validator_set;

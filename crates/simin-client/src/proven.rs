//! Chain state a client has proven, for running the ledger's pure queries (and the
//! credential verifier) without trusting the node that answered.
//!
//! [`ProvenState`] holds values (and absences), each checked with
//! [`verify_state_lookup`] against a header certified by the trusted validator set, all
//! at one height. Reading a key it does not hold fails and records the key, so a caller
//! can run a query, fetch what it missed, and run it again ([`ProvenState::resolve`]):
//! the query decides which keys matter, the proofs decide their values.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use simin_ledger::{StateReadError, StateView};
use simin_types::{BlockTime, Hash, Height};

use crate::verify::{verify_state_lookup, VerifyError};
use crate::{Client, ClientError, TrustAnchor};

/// Most rounds of fetching in [`ProvenState::resolve`]; a query needing more keys than
/// this many dependent reads is refused rather than looping.
pub const RESOLVE_ROUNDS_MAX: usize = 16;
/// Most keys one [`ProvenState`] fetches.
pub const PROVEN_KEYS_MAX: usize = 256;

/// Why proven reads failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvenError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the node's answer for a state key does not verify: {0}")]
    Verify(#[from] VerifyError),
    #[error("the node answered at height {got}, not at the pinned height {pinned}")]
    WrongHeight { pinned: Height, got: Height },
    #[error("the query needs more than {0} state reads")]
    TooManyReads(usize),
}

/// Values proven at one certified height.
#[derive(Debug)]
pub struct ProvenState {
    height: Height,
    block_hash: Option<Hash>,
    block_time: Option<BlockTime>,
    values: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    missed: Mutex<BTreeSet<Vec<u8>>>,
}

impl ProvenState {
    /// An empty view pinned at `height`.
    pub fn at(height: Height) -> ProvenState {
        ProvenState {
            height,
            block_hash: None,
            block_time: None,
            values: BTreeMap::new(),
            missed: Mutex::new(BTreeSet::new()),
        }
    }

    pub fn height(&self) -> Height {
        self.height
    }

    /// The time of the certified block, once a value was proven.
    pub fn block_time(&self) -> Option<BlockTime> {
        self.block_time
    }

    pub fn block_hash(&self) -> Option<Hash> {
        self.block_hash
    }

    /// Every proven key and value (`None`: proven absent).
    pub fn values(&self) -> &BTreeMap<Vec<u8>, Option<Vec<u8>>> {
        &self.values
    }

    /// The keys read but not held since the last call.
    pub fn take_missed(&self) -> BTreeSet<Vec<u8>> {
        std::mem::take(
            &mut *self
                .missed
                .lock()
                .expect("never poisoned: no panics while held"),
        )
    }

    /// Fetches `key` at the pinned height and keeps it once its proof verifies.
    pub async fn fetch(
        &mut self,
        client: &Client,
        trusted: &TrustAnchor,
        key: &[u8],
    ) -> Result<(), ProvenError> {
        if self.values.len() >= PROVEN_KEYS_MAX {
            return Err(ProvenError::TooManyReads(PROVEN_KEYS_MAX));
        }
        let lookup = client.state_at(key, self.height).await?;
        if lookup.height != self.height {
            return Err(ProvenError::WrongHeight {
                pinned: self.height,
                got: lookup.height,
            });
        }
        let verified = verify_state_lookup(&lookup, key, trusted)?;
        self.block_hash = Some(verified.block_hash);
        self.block_time = Some(verified.block_time);
        self.values.insert(key.to_vec(), verified.value);
        Ok(())
    }

    /// Runs `query` until it reads only proven keys, fetching what it missed between
    /// runs; returns its final result. `query` must be a pure function of the state.
    pub async fn resolve<T, E>(
        &mut self,
        client: &Client,
        trusted: &TrustAnchor,
        query: impl Fn(&ProvenState) -> Result<T, E>,
    ) -> Result<Result<T, E>, ProvenError> {
        for _ in 0..RESOLVE_ROUNDS_MAX {
            let result = query(self);
            let missed = self.take_missed();
            if missed.is_empty() {
                return Ok(result);
            }
            for key in missed {
                self.fetch(client, trusted, &key).await?;
            }
        }
        Err(ProvenError::TooManyReads(RESOLVE_ROUNDS_MAX))
    }
}

impl StateView for ProvenState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateReadError> {
        match self.values.get(key) {
            Some(value) => Ok(value.clone()),
            None => {
                self.missed
                    .lock()
                    .expect("never poisoned: no panics while held")
                    .insert(key.to_vec());
                Err(StateReadError {
                    key: key.to_vec(),
                    reason: "not proven yet".into(),
                })
            }
        }
    }
}

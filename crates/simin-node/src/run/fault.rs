//! Debug builds only: a fault injected into the consensus application on request, so
//! that process-level tests can check what a node does when its consensus loop panics
//! (it must exit non-zero, not keep answering its API without consensus).
//!
//! `SIMIN_FAULT_PANIC_AT_HEIGHT=N` makes `commit` panic just before height `N` would be
//! committed. The module is compiled out of release builds (`cfg(debug_assertions)`),
//! so a deployed node never reads the variable.

use simin_consensus::Application;
use simin_types::{Block, BlockTime, CommitCertificate, Equivocation, Hash, Height, ValidatorSet};

/// The environment variable naming the height whose commit panics.
const PANIC_AT_HEIGHT: &str = "SIMIN_FAULT_PANIC_AT_HEIGHT";

/// An `Application` that delegates everything to `inner`, except that it panics when
/// asked to commit `panic_at`.
pub(crate) struct FaultyApp<A> {
    inner: A,
    panic_at: Option<Height>,
}

impl<A> FaultyApp<A> {
    /// Wraps `inner`, reading the fault from the environment (none when unset).
    pub(crate) fn from_env(inner: A) -> FaultyApp<A> {
        let panic_at = std::env::var(PANIC_AT_HEIGHT)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Height);
        if let Some(height) = panic_at {
            tracing::warn!(%height, "fault injection: the consensus loop will panic at this height");
        }
        FaultyApp { inner, panic_at }
    }
}

impl<A: Application> Application for FaultyApp<A> {
    type Error = A::Error;

    fn last_committed(&self) -> Option<(Height, Hash)> {
        self.inner.last_committed()
    }

    fn validator_set(&self, height: Height) -> Result<ValidatorSet, Self::Error> {
        self.inner.validator_set(height)
    }

    fn propose(
        &mut self,
        height: Height,
        round: u32,
        time: BlockTime,
    ) -> Result<Block, Self::Error> {
        self.inner.propose(height, round, time)
    }

    fn validate(&mut self, block: &Block) -> Result<(), Self::Error> {
        self.inner.validate(block)
    }

    fn commit(&mut self, block: Block, certificate: CommitCertificate) -> Result<(), Self::Error> {
        if Some(block.header.height) == self.panic_at {
            panic!(
                "injected fault ({PANIC_AT_HEIGHT}): panicking before committing height {}",
                block.header.height
            );
        }
        self.inner.commit(block, certificate)
    }

    fn decided(&self, height: Height) -> Option<(Block, CommitCertificate)> {
        self.inner.decided(height)
    }

    fn earliest_height(&self) -> Height {
        self.inner.earliest_height()
    }

    fn on_evidence(&mut self, evidence: Vec<Equivocation>) {
        self.inner.on_evidence(evidence);
    }
}

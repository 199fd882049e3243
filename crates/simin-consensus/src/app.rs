//! The `Application` trait: what the node gives consensus (blocks, checks, storage).

use simin_types::{Block, BlockTime, CommitCertificate, Equivocation, Hash, Height, ValidatorSet};

/// The state machine behind consensus, implemented by the node.
///
/// Calls are made one at a time from the consensus loop, never concurrently. They are
/// synchronous: a call that takes long (executing a large block) delays consensus by that
/// long, which the round timeouts must allow for.
///
/// The contract, for every node to agree:
/// - `validate` may be called for several candidate blocks of the same height (different
///   rounds or proposers) and must not change committed state;
/// - `commit` is only called with a block that this node built with `propose` or accepted
///   with `validate` (including blocks fetched by sync), together with a certificate of
///   more than 2/3 of the voting power of `validator_set(height)`;
/// - heights are committed in order, without gaps, each exactly once.
pub trait Application: Send + 'static {
    /// Why a block was refused or could not be stored.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The highest committed height and its block hash; `None` before the first block.
    fn last_committed(&self) -> Option<(Height, Hash)>;

    /// The validators that decide `height`. Called for the next height after each commit
    /// and when checking proposals, so it must be known once `height - 1` is committed.
    /// `Err` only when the application cannot read it (a fault of its own storage):
    /// consensus then stops rather than count votes against a guessed set.
    fn validator_set(&self, height: Height) -> Result<ValidatorSet, Self::Error>;

    /// Builds and pre-executes a block for `height` from the mempool; its header carries
    /// the post-state root. `round` is informative; the same (height, round) is never
    /// asked twice because the loop re-uses the first answer.
    fn propose(
        &mut self,
        height: Height,
        round: u32,
        time: BlockTime,
    ) -> Result<Block, Self::Error>;

    /// Re-executes a block received from the proposer; `Err` if any transaction is invalid
    /// or a root in the header differs from the one computed.
    fn validate(&mut self, block: &Block) -> Result<(), Self::Error>;

    /// Persists the block, its certificate and the resulting state atomically.
    fn commit(&mut self, block: Block, certificate: CommitCertificate) -> Result<(), Self::Error>;

    /// A committed block and its certificate, to serve peers that are catching up.
    fn decided(&self, height: Height) -> Option<(Block, CommitCertificate)>;

    /// The lowest height for which `decided` still answers (after pruning).
    fn earliest_height(&self) -> Height {
        Height(1)
    }

    /// Validators this node saw sign two conflicting votes, handed over when a height
    /// is finalized (after `commit`). The engine checked every signature; the ledger
    /// checks them again if the evidence is reported on chain. At most
    /// `evidence::EVIDENCE_PER_HEIGHT_MAX` items per call. The default ignores them.
    fn on_evidence(&mut self, evidence: Vec<Equivocation>) {
        let _ = evidence;
    }
}

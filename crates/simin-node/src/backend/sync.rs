//! Whether this node is catching up, judged from the votes of the validators it hears.
//!
//! Consensus reports the height each other validator was last seen voting at (its
//! signature checked); a validator voting at `h` has committed `h - 1`. The target is
//! the highest height that validators holding more than a third of the voting power of
//! the set deciding this node's next height have committed: with fewer than a third
//! faulty, at least one honest validator vouches for it, so no single liar can make a
//! node claim to be behind. A node within one block of that target is at the tip (its
//! peers are one commit ahead for a moment after every block).
//!
//! Gossiped votes can take a moment to reach a node that just (re)connected, while
//! value sync starts fetching blocks at once. Until votes give a target, a node whose
//! last committed block came through value sync (not its own consensus rounds) is
//! syncing, with no target yet; once they do, the votes decide.

use std::collections::BTreeMap;

use simin_api::BackendError;
use simin_types::{Height, PublicKey, ValidatorSet};
use tokio::sync::watch;

use super::internal;

/// Blocks a node may trail its peers' tip by and still be "at the tip".
const LAG_AT_TIP_BLOCKS: u64 = 1;

/// The vote heights consensus reports, by validator key.
pub(crate) type PeerHeights = watch::Receiver<BTreeMap<PublicKey, Height>>;

/// Where this node stands against its peers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SyncState {
    /// Catching up: the target is more than `LAG_AT_TIP_BLOCKS` above the latest height.
    pub syncing: bool,
    /// The highest height the peers are known to have committed; `None` until votes of
    /// more than a third of the voting power have been heard.
    pub target: Option<Height>,
}

/// The highest height whose block came through value sync, from consensus.
pub(crate) type SyncedHeight = watch::Receiver<Option<Height>>;

/// The sync state of a node at `latest` whose next height is decided by `set`, which
/// `heard` votes from and last received a block by value sync at `synced`.
pub(crate) fn state(
    latest: Height,
    set: &ValidatorSet,
    heard: &BTreeMap<PublicKey, Height>,
    synced: Option<Height>,
) -> SyncState {
    let target = target(set, heard);
    let syncing = match target {
        Some(t) => t.0 > latest.0.saturating_add(LAG_AT_TIP_BLOCKS),
        None => synced.is_some_and(|s| s >= latest),
    };
    SyncState { syncing, target }
}

fn target(set: &ValidatorSet, heard: &BTreeMap<PublicKey, Height>) -> Option<Height> {
    let mut votes: Vec<(u64, u64)> = set
        .validators()
        .iter()
        .filter_map(|v| heard.get(&v.public_key).map(|h| (h.0, v.voting_power)))
        .collect();
    // Highest first: walk down until more than a third of the power is behind a height.
    votes.sort_unstable_by(|a, b| b.cmp(a));
    let total = u128::from(set.total_power());
    let mut power = 0u128;
    for (vote_height, voting_power) in votes {
        power += u128::from(voting_power);
        if power * 3 > total {
            return Some(Height(vote_height.saturating_sub(1)));
        }
    }
    None
}

impl super::NodeBackend {
    /// Whether this node is catching up, and to which height.
    pub(super) fn sync_state(&self) -> Result<SyncState, BackendError> {
        let latest = self.shared.latest_height();
        let next = latest.next().unwrap_or(latest);
        let set = self.shared.validators_at(next).map_err(internal)?;
        let synced = *self.synced.borrow();
        Ok(state(latest, &set, &self.peers.borrow(), synced))
    }

    /// The answer for something this node does not have (a transaction, a block above
    /// its tip) while it is catching up: it may well exist, so "not found" would lie.
    /// `None` when the node is at the tip, where "not found" is the truth.
    pub(super) fn not_yet_synced(&self, what: &str) -> Option<BackendError> {
        let state = self.sync_state().ok().filter(|s| s.syncing)?;
        let peers = match state.target {
            Some(target) => format!("its peers at {target}"),
            None => "fetching blocks from its peers".to_owned(),
        };
        Some(BackendError::Unavailable(format!(
            "syncing: this node is at height {} and {peers}; {what} is not known yet",
            self.shared.latest_height()
        )))
    }
}

#[cfg(test)]
mod tests {
    use simin_types::Validator;

    use super::*;

    fn set(n: u8) -> ValidatorSet {
        let validators = (1..=n)
            .map(|i| Validator {
                public_key: PublicKey([i; 32]),
                voting_power: 10,
            })
            .collect();
        ValidatorSet::new(validators).expect("a valid set")
    }

    fn heard(pairs: &[(u8, u64)]) -> BTreeMap<PublicKey, Height> {
        pairs
            .iter()
            .map(|(k, h)| (PublicKey([*k; 32]), Height(*h)))
            .collect()
    }

    #[test]
    fn one_liar_cannot_make_a_node_syncing() {
        // Validator 1 is this node; 2 claims a far height, 3 and 4 are at 11.
        let s = state(
            Height(10),
            &set(4),
            &heard(&[(2, 1_000_000), (3, 11), (4, 11)]),
            None,
        );
        assert_eq!(
            s,
            SyncState {
                syncing: false,
                target: Some(Height(10))
            }
        );
    }

    #[test]
    fn a_node_behind_a_third_of_the_power_is_syncing() {
        let s = state(
            Height(3),
            &set(4),
            &heard(&[(2, 41), (3, 40), (4, 40)]),
            None,
        );
        assert_eq!(
            s,
            SyncState {
                syncing: true,
                target: Some(Height(39))
            }
        );
    }

    #[test]
    fn one_block_behind_is_at_the_tip() {
        let s = state(
            Height(10),
            &set(4),
            &heard(&[(2, 12), (3, 12)]),
            Some(Height(10)),
        );
        assert_eq!(
            s,
            SyncState {
                syncing: false,
                target: Some(Height(11))
            }
        );
    }

    #[test]
    fn unknown_keys_and_too_little_power_give_no_target() {
        let s = state(
            Height(1),
            &set(4),
            &heard(&[(2, 50), (9, 50), (10, 50)]),
            None,
        );
        assert_eq!(
            s,
            SyncState {
                syncing: false,
                target: None
            }
        );
    }

    #[test]
    fn without_votes_blocks_by_value_sync_mean_syncing() {
        let fetching = state(Height(7), &set(4), &heard(&[]), Some(Height(7)));
        assert_eq!(
            fetching,
            SyncState {
                syncing: true,
                target: None
            }
        );
        let voting_since = state(Height(9), &set(4), &heard(&[]), Some(Height(7)));
        assert!(
            !voting_since.syncing,
            "the last blocks came from its own rounds"
        );
    }
}

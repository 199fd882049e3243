//! Tracking how far the other validators are, from the votes this node receives, so a
//! node that is behind can say it is catching up and how far it has to go.
//!
//! Why votes: Malachite's value sync learns its peers' tips but does not hand them to
//! the application; the engine's event stream does carry every vote received, before it
//! is processed, including votes for heights this node has not reached (gossip reaches
//! every peer whatever its height). A vote's signature is checked here before it counts,
//! so that no peer can speak for another validator; whose votes to believe (members of
//! the current set, by voting power) is decided by the node, which knows the set.

use std::collections::BTreeMap;

use malachitebft_app_channel::app::consensus::SignedConsensusMsg;
use malachitebft_app_channel::app::engine::util::events::{Event, RxEvent};
use malachitebft_app_channel::app::types::core::ValueOrigin;
use malachitebft_signing::Verifier;
use simin_types::{Height, PublicKey};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::debug;

use crate::context::SiminContext;
use crate::signing::SiminVerifier;
use crate::types::ValidatorAddress;

/// The height each validator was last seen voting at, by key.
pub type PeerHeights = BTreeMap<PublicKey, Height>;

/// Most validators tracked: far above any set simin runs (256), so that a flood of
/// votes from unknown keys cannot grow the map without bound.
const SIGNERS_MAX: usize = 1024;

/// What the tracker publishes.
pub(super) struct Watches {
    pub heights: watch::Receiver<PeerHeights>,
    /// The highest height whose block reached this node through value sync.
    pub synced: watch::Receiver<Option<Height>>,
    pub task: JoinHandle<()>,
}

/// Starts the tracker over the engine's `events`; it ends when the engine does.
pub(super) fn spawn(
    events: RxEvent<SiminContext>,
    verifier: SiminVerifier,
    own: ValidatorAddress,
) -> Watches {
    let (heights, heights_rx) = watch::channel(PeerHeights::new());
    let (synced, synced_rx) = watch::channel(None);
    let task = tokio::spawn(track(events, verifier, own, heights, synced));
    Watches {
        heights: heights_rx,
        synced: synced_rx,
        task,
    }
}

async fn track(
    mut events: RxEvent<SiminContext>,
    verifier: SiminVerifier,
    own: ValidatorAddress,
    heights: watch::Sender<PeerHeights>,
    synced: watch::Sender<Option<Height>>,
) {
    loop {
        let vote = match events.recv().await {
            Ok(Event::Received(SignedConsensusMsg::Vote(vote))) => vote,
            // Value sync hands over blocks for this node's own next height only, so it
            // says "fetching, not voting" rather than how far the peers are; gossiped
            // votes from higher heights may take a moment longer to arrive.
            Ok(Event::ReceivedProposedValue(value, ValueOrigin::Sync)) => {
                let height = Height(value.height.0);
                synced.send_if_modified(|known| {
                    let news = known.is_none_or(|k| height > k);
                    if news {
                        *known = Some(height);
                    }
                    news
                });
                continue;
            }
            Ok(_) => continue,
            // Missed events only delay the next update: the next vote carries it.
            Err(RecvError::Lagged(missed)) => {
                debug!(
                    missed,
                    "the peer height tracker fell behind the engine's events"
                );
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let key = vote.message.validator.0;
        let height = Height(vote.message.height.0);
        if key == own.0 || !is_news(&heights.borrow(), &key, height) {
            continue;
        }
        let verdict = verifier
            .verify_signed_vote(&vote.message, &vote.signature, &key)
            .await;
        if !verdict.is_ok_and(|v| v.is_valid()) {
            debug!(validator = %key, %height, "ignoring a vote whose signature does not verify");
            continue;
        }
        heights.send_modify(|known| {
            known.insert(key, height);
        });
    }
}

/// Whether a vote of `key` at `height` raises what is known, within the bound.
fn is_news(known: &PeerHeights, key: &PublicKey, height: Height) -> bool {
    match known.get(key) {
        Some(seen) => height > *seen,
        None => known.len() < SIGNERS_MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_higher_votes_and_bounded_keys_are_news() {
        let a = PublicKey([1; 32]);
        let mut known = PeerHeights::new();
        assert!(is_news(&known, &a, Height(3)));
        known.insert(a, Height(3));
        assert!(!is_news(&known, &a, Height(3)));
        assert!(!is_news(&known, &a, Height(2)));
        assert!(is_news(&known, &a, Height(4)));
        for i in 0..SIGNERS_MAX {
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&(i as u64 + 2).to_be_bytes());
            known.insert(PublicKey(bytes), Height(1));
        }
        assert!(!is_news(&known, &PublicKey([0xFF; 32]), Height(9)));
        assert!(is_news(&known, &a, Height(5)), "known keys still rise");
    }
}

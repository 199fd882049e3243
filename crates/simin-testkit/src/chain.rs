//! Reading the chain through nodes' APIs: heights, block identities, agreement.

use std::time::Duration;

use simin_client::Client;
use simin_types::{BlockTime, Hash, Height, PublicKey};
use tokio::time::Instant;

use crate::error::ForkDetail;
use crate::TestkitError;

/// Poll interval of waits on the chain.
const POLL: Duration = Duration::from_millis(100);

/// What two nodes must agree on at a height.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockId {
    pub height: Height,
    pub hash: Hash,
    pub state_root: Hash,
    /// The proposer's clock when it proposed the block (not compared).
    pub time: BlockTime,
    pub proposer: PublicKey,
}

/// The block at `height` on the node behind `client`; `None` if it has none (yet).
pub async fn block_id(client: &Client, height: Height) -> Result<Option<BlockId>, TestkitError> {
    Ok(client.block(height).await?.map(|b| BlockId {
        height,
        hash: b.hash,
        state_root: b.block.header.state_root,
        time: b.block.header.time,
        proposer: b.block.header.proposer,
    }))
}

/// Waits until the node has committed `height` and returns its latest height. Errors
/// after `timeout`; a node that does not answer (e.g. still starting) is asked again.
pub async fn wait_for_height(
    client: &Client,
    height: Height,
    timeout: Duration,
) -> Result<Height, TestkitError> {
    let deadline = Instant::now() + timeout;
    let mut last = None;
    loop {
        match client.status().await {
            Ok(status) if status.latest_height >= height => return Ok(status.latest_height),
            Ok(status) => last = Some(status.latest_height),
            Err(_) if Instant::now() < deadline => {}
            Err(e) => return Err(e.into()),
        }
        if Instant::now() >= deadline {
            return Err(TestkitError::Timeout {
                what: format!(
                    "{} to reach height {height} (last seen {last:?})",
                    client.base_url()
                ),
                secs: timeout.as_secs(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Checks that every node in `nodes` (name, client) has the same block hash and state
/// root at every height `1..=up_to`, and returns that chain.
pub async fn agree(nodes: &[(&str, &Client)], up_to: Height) -> Result<Vec<BlockId>, TestkitError> {
    let mut chain = Vec::new();
    let Some(((first_name, first), rest)) = nodes.split_first() else {
        return Ok(chain);
    };
    for h in 1..=up_to.0 {
        let height = Height(h);
        let missing = |node: &str| TestkitError::MissingBlock {
            node: node.to_owned(),
            height,
        };
        let reference = block_id(first, height)
            .await?
            .ok_or_else(|| missing(first_name))?;
        for (name, client) in rest {
            let other = block_id(client, height)
                .await?
                .ok_or_else(|| missing(name))?;
            if other.hash != reference.hash || other.state_root != reference.state_root {
                return Err(TestkitError::Fork {
                    height,
                    detail: Box::new(ForkDetail {
                        a: (*first_name).to_owned(),
                        b: (*name).to_owned(),
                        hash_a: reference.hash,
                        hash_b: other.hash,
                        root_a: reference.state_root,
                        root_b: other.state_root,
                    }),
                });
            }
        }
        chain.push(reference);
    }
    Ok(chain)
}

//! The end-of-run checks of a chaos run: every node has the same block hash and state
//! root at every height, every acknowledged transaction is on every node at the height it
//! was acknowledged at, and no equivocation is recorded on chain.

use std::collections::HashMap;
use std::time::Duration;

use simin_client::dto::BlockLookup;
use simin_client::Client;
use simin_types::{state_keys, Call, ConsensusCall, Hash, Height, PublicKey, TxOutcome};

use super::Violation;
use crate::{Acked, TestkitError};

/// Attempts at one block request before the audit gives up on the node.
const FETCH_ATTEMPTS: usize = 5;
/// Pause between two attempts.
const FETCH_PAUSE: Duration = Duration::from_millis(200);
/// Most violations of one kind listed (the counts are complete).
const LISTED_MAX: usize = 20;

/// An equivocation found in a committed block: a successful `ReportEquivocation`.
#[derive(Clone, Debug)]
pub struct RecordedEquivocation {
    pub validator: PublicKey,
    /// The height and round of the double-signed votes.
    pub height: Height,
    pub round: u32,
    pub kind: simin_types::VoteKind,
    /// The height of the block that recorded it.
    pub recorded_at: Height,
    /// Whether the record is in the state (`state_keys::equivocation`) of the first node.
    pub in_state: bool,
}

/// What the audit found.
#[derive(Debug, Default)]
pub(crate) struct Audit {
    pub(crate) violations: Vec<Violation>,
    pub(crate) lost: usize,
    pub(crate) equivocations: Vec<RecordedEquivocation>,
}

impl Audit {
    fn push(&mut self, violation: Violation) {
        let listed = self
            .violations
            .iter()
            .filter(|v| std::mem::discriminant(*v) == std::mem::discriminant(&violation))
            .count();
        if listed < LISTED_MAX {
            self.violations.push(violation);
        }
    }
}

/// Checks heights `1..=tip` on every node in `nodes` (name, client) against `acked`.
pub(crate) async fn audit(
    nodes: &[(String, Client)],
    tip: Height,
    acked: &[Acked],
) -> Result<Audit, TestkitError> {
    let mut audit = Audit::default();
    // Per node: every committed transaction's height, from that node's own blocks.
    let mut txs: Vec<HashMap<Hash, Height>> = nodes.iter().map(|_| HashMap::new()).collect();
    for h in 1..=tip.0 {
        let height = Height(h);
        let mut reference: Option<(&str, BlockLookup)> = None;
        for ((name, client), index) in nodes.iter().zip(txs.iter_mut()) {
            let Some(block) = fetch(client, height).await? else {
                audit.push(Violation::MissingBlock {
                    node: name.clone(),
                    height,
                });
                continue;
            };
            for tx in &block.block.txs {
                index.insert(tx.hash(), height);
            }
            match &reference {
                None => reference = Some((name, block)),
                Some((first, r)) => {
                    let (a, b) = (&r.block.header, &block.block.header);
                    if r.hash != block.hash || a.state_root != b.state_root {
                        audit.push(Violation::Fork {
                            height,
                            detail: format!(
                                "{first} has block {} (state {}), {name} has {} (state {})",
                                r.hash, a.state_root, block.hash, b.state_root
                            ),
                        });
                    }
                }
            }
        }
        if let Some((_, block)) = &reference {
            equivocations(&mut audit, &nodes[0].1, block).await?;
        }
    }
    for a in acked {
        for ((name, _), index) in nodes.iter().zip(&txs) {
            match index.get(&a.hash) {
                None => {
                    audit.lost += 1;
                    audit.push(Violation::Lost {
                        hash: a.hash,
                        nonce: a.nonce,
                        acked_height: a.height,
                        acked_by: a.node.clone(),
                        node: name.clone(),
                    });
                }
                Some(h) if *h != a.height => audit.push(Violation::Moved {
                    hash: a.hash,
                    acked_height: a.height,
                    found_height: *h,
                    node: name.clone(),
                }),
                Some(_) => {}
            }
        }
    }
    Ok(audit)
}

/// Records every successful `ReportEquivocation` of `block`.
async fn equivocations(
    audit: &mut Audit,
    client: &Client,
    block: &BlockLookup,
) -> Result<(), TestkitError> {
    let reports = block.block.txs.iter().zip(&block.receipts);
    for (tx, receipt) in reports {
        let Call::Consensus(ConsensusCall::ReportEquivocation(e)) = &tx.tx.call else {
            continue;
        };
        // A refused report (a duplicate, a bad signature) records nothing.
        if receipt.outcome != TxOutcome::Success {
            continue;
        }
        let key = state_keys::equivocation(&e.validator, e.height, e.round, e.kind);
        let in_state = client.state(&key, false).await?.value.is_some();
        audit.equivocations.push(RecordedEquivocation {
            validator: e.validator,
            height: e.height,
            round: e.round,
            kind: e.kind,
            recorded_at: block.block.header.height,
            in_state,
        });
    }
    Ok(())
}

/// The block at `height`, asked up to `FETCH_ATTEMPTS` times.
async fn fetch(client: &Client, height: Height) -> Result<Option<BlockLookup>, TestkitError> {
    let mut attempt = 0;
    loop {
        match client.block(height).await {
            Ok(block) => return Ok(block),
            Err(_) if attempt + 1 < FETCH_ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(FETCH_PAUSE).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

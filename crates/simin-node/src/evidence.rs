//! Reporting equivocations this node's consensus saw: each becomes a
//! `ConsensusCall::ReportEquivocation` transaction signed with the node key and admitted
//! to this node's own mempool through the normal path (`check_tx`, then the mempool), to
//! be proposed like any other transaction.

use std::collections::{BTreeSet, VecDeque};

use simin_types::{
    state_keys, Call, ConsensusCall, Equivocation, Height, SignedTx, SigningKey, Tx,
};
use tracing::{info, warn};

use crate::shared::Shared;

/// How many blocks a report stays valid for: long enough to reach a block through a few
/// rounds of proposers, short enough that a stuck report leaves the mempool.
const REPORT_EXPIRY_BLOCKS: u64 = 1_000;
/// How many reported evidence keys are remembered, to report each once. Older ones are
/// forgotten; reporting one again is refused at admission (`consensus.evidence_exists`).
const REPORTED_MAX: usize = 4_096;

/// Turns evidence into report transactions, once per (validator, height, round, kind).
#[derive(Debug)]
pub(crate) struct Reporter {
    key: SigningKey,
    reported: BTreeSet<Vec<u8>>,
    order: VecDeque<Vec<u8>>,
}

impl Reporter {
    pub fn new(key: SigningKey) -> Reporter {
        Reporter {
            key,
            reported: BTreeSet::new(),
            order: VecDeque::new(),
        }
    }

    /// Reports each new item of `evidence`; failures are logged, never fatal: evidence
    /// is a service to the chain, not a condition of this node's progress.
    pub fn report(&mut self, shared: &Shared, evidence: Vec<Equivocation>) {
        for item in evidence {
            let key = state_keys::equivocation(&item.validator, item.height, item.round, item.kind);
            if self.reported.contains(&key) {
                continue;
            }
            let validator = item.validator;
            let (height, round, kind) = (item.height, item.round, item.kind);
            match self.submit(shared, &key, item) {
                Ok(Some(tx)) => {
                    info!(%validator, %height, round, ?kind, tx = %tx.hash(), nonce = tx.tx.nonce, "reporting an equivocation");
                }
                Ok(None) => {}
                Err(reason) => {
                    warn!(%validator, %height, round, ?kind, %reason, "cannot report an equivocation");
                    continue;
                }
            }
            self.remember(key);
        }
    }

    fn remember(&mut self, key: Vec<u8>) {
        if self.order.len() >= REPORTED_MAX {
            if let Some(oldest) = self.order.pop_front() {
                self.reported.remove(&oldest);
            }
        }
        self.reported.insert(key.clone());
        self.order.push_back(key);
    }

    /// Builds, checks and admits the report; `None` when the chain already holds it.
    fn submit(
        &self,
        shared: &Shared,
        record_key: &[u8],
        evidence: Equivocation,
    ) -> Result<Option<SignedTx>, String> {
        let latest = shared.latest_height();
        let view = shared.view_at(latest);
        if simin_ledger::StateView::get(&view, record_key)
            .map_err(|e| e.to_string())?
            .is_some()
        {
            return Ok(None);
        }
        let next_height = latest
            .next()
            .ok_or_else(|| "the chain reached its last height".to_string())?;
        let signer = self.key.public_key();
        let committed_next: u64 =
            simin_ledger::StateView::get(&view, &state_keys::account_nonce(&signer))
                .map_err(|e| e.to_string())?
                .map(|bytes| simin_types::decode("account nonce", &bytes, 8))
                .transpose()
                .map_err(|e| e.to_string())?
                .unwrap_or(0);
        // The mempool lock is held from choosing the nonce to inserting, so no other
        // transaction of this key can take the nonce in between.
        let mut mempool = shared.mempool();
        let tx = Tx {
            chain_id: shared.chain_id.clone(),
            signer,
            nonce: mempool.next_nonce(&signer, committed_next),
            expiry_height: Height(next_height.0.saturating_add(REPORT_EXPIRY_BLOCKS)),
            call: Call::Consensus(ConsensusCall::ReportEquivocation(evidence)),
        }
        .sign(&self.key);
        let check = simin_ledger::check_tx(&view, &shared.chain_id, next_height, &tx)
            .map_err(|e| format!("{} ({})", e, e.code()))?;
        mempool
            .insert(tx.clone(), &check, next_height, None)
            .map_err(|e| e.to_string())?;
        Ok(Some(tx))
    }
}

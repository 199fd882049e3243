//! The vault's link to its simin node: the records, organisations and transactions it
//! reads, and the data-module transactions it signs with the holder organisation's key
//! and waits to see committed.

use simin_client::dto::{SubmitStatus, TxLookup};
use simin_client::{Client, ClientConfig};
use simin_types::{
    state_keys, Call, DataCall, Hash, Height, OrgId, Organization, PersonalRecord, RecordEvent,
    RecordLogEntry, SigningKey, Tx, TxOutcome,
};
use tokio::sync::Mutex;
use tracing::{info, warn};

use crate::error::VaultError;

/// Blocks a vault transaction stays valid for.
const TX_EXPIRY_BLOCKS: u64 = 100;

/// What a committed transaction left.
#[derive(Clone, Debug)]
pub(crate) struct Committed {
    pub height: u64,
    pub tx_hash: Hash,
}

#[derive(Debug)]
pub(crate) struct NodeLink {
    client: Client,
    org_key: SigningKey,
    /// One transaction of the organisation's key at a time, so nonces never collide.
    submit_lock: Mutex<()>,
}

/// The largest state value decoded, in bytes (records, organisations and log entries
/// are far smaller).
const STATE_VALUE_BYTES_MAX: usize = 64 * 1024;

fn decode_state<T: borsh::BorshDeserialize>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, VaultError> {
    simin_types::decode(what, bytes, STATE_VALUE_BYTES_MAX).map_err(|e| VaultError::NodeAnswer {
        what,
        reason: e.to_string(),
    })
}

impl NodeLink {
    pub fn new(base_url: &str, org_key: SigningKey) -> Result<NodeLink, VaultError> {
        Ok(NodeLink {
            client: Client::with_config(base_url, ClientConfig::default())?,
            org_key,
            submit_lock: Mutex::new(()),
        })
    }

    async fn state<T: borsh::BorshDeserialize>(
        &self,
        what: &'static str,
        key: &[u8],
    ) -> Result<Option<T>, VaultError> {
        let lookup = self.client.state(key, false).await?;
        lookup
            .value
            .map(|bytes| decode_state(what, &bytes))
            .transpose()
    }

    /// The record as the chain holds it.
    pub async fn record(&self, id: &Hash) -> Result<Option<PersonalRecord>, VaultError> {
        self.state("personal record", &state_keys::personal_record(id))
            .await
    }

    /// An organisation as the chain holds it.
    pub async fn organization(&self, id: &OrgId) -> Result<Option<Organization>, VaultError> {
        self.state("organization", &state_keys::organization(id))
            .await
    }

    /// The height of the block that logged the record's erasure: its log's last entry,
    /// since nothing is appended to an erased record's log.
    pub async fn erased_height(&self, id: &Hash) -> Result<Option<u64>, VaultError> {
        let count: u64 = self
            .state("record log count", &state_keys::record_log_count(id))
            .await?
            .unwrap_or(0);
        let Some(last) = count.checked_sub(1) else {
            return Ok(None);
        };
        let entry: Option<RecordLogEntry> = self
            .state("record log entry", &state_keys::record_log(id, last))
            .await?;
        Ok(entry
            .filter(|e| e.event == RecordEvent::Erased)
            .map(|e| e.height.0))
    }

    /// The public key this vault signs with.
    pub fn signer(&self) -> simin_types::PublicKey {
        self.org_key.public_key()
    }

    /// The latest committed height.
    pub async fn latest_height(&self) -> Result<u64, VaultError> {
        Ok(self.client.status().await?.latest_height.0)
    }

    /// A committed transaction.
    pub async fn tx(&self, hash: &Hash) -> Result<Option<TxLookup>, VaultError> {
        Ok(self.client.tx(hash).await?)
    }

    /// Signs `call` with the organisation's key, submits it and waits for its commit.
    pub async fn submit(&self, call: DataCall) -> Result<Committed, VaultError> {
        let name = call.name();
        let _guard = self.submit_lock.lock().await;
        let signer = self.org_key.public_key();
        // One retry: another holder of the organisation key may have used the nonce.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let status = self.client.status().await?;
            let nonce = self.client.account_next_nonce(&signer).await?;
            let tx = Tx {
                chain_id: status.chain_id,
                signer,
                nonce,
                expiry_height: Height(status.latest_height.0.saturating_add(TX_EXPIRY_BLOCKS)),
                call: Call::Data(call.clone()),
            }
            .sign(&self.org_key);
            let tx_hash = tx.hash();
            let response = match self.client.submit(&tx, true).await {
                Ok(response) => response,
                Err(e) if attempt == 1 && e.problem_slug().is_some_and(|s| s.contains("nonce")) => {
                    warn!(%e, call = name, "nonce taken; retrying once");
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let committed = match (response.status, response.committed) {
                (SubmitStatus::Committed, Some(committed)) => committed,
                _ => {
                    return Err(VaultError::NotCommitted {
                        call: name,
                        tx_hash: tx_hash.to_string(),
                    })
                }
            };
            return match committed.receipt.outcome {
                TxOutcome::Success => {
                    info!(call = name, height = committed.height.0, %tx_hash, "committed");
                    Ok(Committed {
                        height: committed.height.0,
                        tx_hash,
                    })
                }
                TxOutcome::Failure { code, message } => Err(VaultError::NodeRefused {
                    call: name,
                    code,
                    message,
                }),
            };
        }
    }
}

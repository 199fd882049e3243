//! The provider's link to its node: service registrations and access records read from
//! state, presentations verified by the node's verifier, access-log transactions
//! submitted.
//!
//! The provider trusts the node it is configured with, as a city service trusts its own
//! database: both are run by the city. (Citizens and services who want more check state
//! proofs themselves: `simin verify`, `simin kiosk`.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use simin_client::dto::SubmitStatus;
use simin_client::{Client, ClientConfig, ClientError};
use simin_types::limits::SERVICES_MAX;
use simin_types::{
    decode, state_keys, AccessRecord, Call, Height, ServiceRegistration, SignedTx, SigningKey, Tx,
    TxOutcome,
};

use crate::error::GatewayError;

/// Blocks an access-log transaction stays valid for.
pub(crate) const TX_EXPIRY_BLOCKS: u64 = 100;
/// Largest registration read, in bytes.
const REGISTRATION_BYTES_MAX: usize = 16 * 1024;
/// Largest access record read, in bytes.
const RECORD_BYTES_MAX: usize = 8 * 1024;
/// Most cached registrations (also unknown client ids, so probing cannot grow it).
const CACHE_ENTRIES_MAX: usize = 4096;
/// Most records of one subject read for a citizen's log.
pub(crate) const LOG_RECORDS_MAX: u64 = 1000;
/// Time limit of a node request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The node's verdict on a presentation (`POST /v1/presentations/verify`).
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Verdict {
    pub verified: bool,
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub claims: Option<Map<String, Value>>,
}

#[derive(Debug)]
pub(crate) struct NodeLink {
    client: Client,
    http: reqwest::Client,
    verify_url: String,
    cache_ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, Option<ServiceRegistration>)>>,
}

impl NodeLink {
    pub fn new(base_url: &str, cache_ttl: Duration) -> Result<NodeLink, GatewayError> {
        let config = ClientConfig {
            request_timeout: REQUEST_TIMEOUT,
            ..ClientConfig::default()
        };
        let client = Client::with_config(base_url, config)?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("simin-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ClientError::Build)?;
        Ok(NodeLink {
            verify_url: format!("{}/v1/presentations/verify", client.base_url()),
            client,
            http,
            cache_ttl,
            cache: Mutex::new(HashMap::new()),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn read<T: borsh::BorshDeserialize>(
        &self,
        what: &'static str,
        key: &[u8],
        max: usize,
    ) -> Result<Option<T>, GatewayError> {
        let lookup = self.client.state(key, false).await?;
        lookup
            .value
            .map(|bytes| decode::<T>(what, &bytes, max))
            .transpose()
            .map_err(|e| GatewayError::NodeAnswer {
                what,
                reason: e.to_string(),
            })
    }

    /// The registration of `client_id` (active or not), reused for the cache's lifetime.
    pub async fn service(
        &self,
        client_id: &str,
    ) -> Result<Option<ServiceRegistration>, GatewayError> {
        if !valid_client_id(client_id) {
            return Ok(None);
        }
        if let Some((read_at, cached)) = self.lock_cache().get(client_id) {
            if read_at.elapsed() < self.cache_ttl {
                return Ok(cached.clone());
            }
        }
        let registration: Option<ServiceRegistration> = self
            .read(
                "a service registration",
                &state_keys::service(client_id),
                REGISTRATION_BYTES_MAX,
            )
            .await?;
        let mut cache = self.lock_cache();
        if cache.len() >= CACHE_ENTRIES_MAX {
            let ttl = self.cache_ttl;
            cache.retain(|_, (read_at, _)| read_at.elapsed() < ttl);
            if cache.len() >= CACHE_ENTRIES_MAX {
                cache.clear();
            }
        }
        cache.insert(client_id.to_owned(), (Instant::now(), registration.clone()));
        Ok(registration)
    }

    fn lock_cache(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Option<ServiceRegistration>)>> {
        self.cache
            .lock()
            .expect("never poisoned: no panics while held")
    }

    /// Every registration, in registration order.
    pub async fn services(&self) -> Result<Vec<ServiceRegistration>, GatewayError> {
        let ids: Vec<String> = self
            .read(
                "the service index",
                &state_keys::services(),
                SERVICES_MAX * 80,
            )
            .await?
            .unwrap_or_default();
        let mut services = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(registration) = self.service(&id).await? {
                services.push(registration);
            }
        }
        Ok(services)
    }

    /// The access records of one pairwise subject, oldest first.
    pub async fn access_records(&self, subject: &str) -> Result<Vec<AccessRecord>, GatewayError> {
        let count: u64 = self
            .read("an access count", &state_keys::access_count(subject), 8)
            .await?
            .unwrap_or(0);
        let first = count.saturating_sub(LOG_RECORDS_MAX);
        let mut records = Vec::new();
        for seq in first..count {
            if let Some(record) = self
                .read(
                    "an access record",
                    &state_keys::access_record(subject, seq),
                    RECORD_BYTES_MAX,
                )
                .await?
            {
                records.push(record);
            }
        }
        Ok(records)
    }

    /// Asks the node's verifier about a citizen-card presentation.
    pub async fn verify(
        &self,
        presentation: &str,
        nonce: &str,
        audience: &str,
    ) -> Result<Verdict, GatewayError> {
        let body = json!({
            "presentation": presentation,
            "nonce": nonce,
            "audience": audience,
            "accepted_types": [crate::CARD_TYPE],
        });
        let answer = |reason: String| GatewayError::NodeAnswer {
            what: "the presentation verdict",
            reason,
        };
        let response = self
            .http
            .post(&self.verify_url)
            .json(&body)
            .send()
            .await
            .map_err(|e| answer(e.to_string()))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| answer(e.to_string()))?;
        if !status.is_success() {
            let text: String = String::from_utf8_lossy(&bytes).chars().take(300).collect();
            return Err(answer(format!("status {status}: {text}")));
        }
        serde_json::from_slice(&bytes).map_err(|e| answer(e.to_string()))
    }

    /// The chain id and latest height, to build a transaction.
    pub async fn chain_tip(&self) -> Result<(simin_types::ChainId, Height), GatewayError> {
        let status = self.client.status().await?;
        Ok((status.chain_id, status.latest_height))
    }

    /// Signs and submits `call` with `key`, nonce `nonce` and expiry height `expiry`;
    /// with `wait_commit`, until it is committed (and refused if it failed), else until
    /// the node admits it.
    pub async fn submit_at(
        &self,
        key: &SigningKey,
        chain_id: simin_types::ChainId,
        nonce: u64,
        expiry: u64,
        call: Call,
        wait_commit: bool,
    ) -> Result<SubmittedTx, GatewayError> {
        let tx: SignedTx = Tx {
            chain_id,
            signer: key.public_key(),
            nonce,
            expiry_height: Height(expiry),
            call,
        }
        .sign(key);
        let hash = tx.hash().to_string();
        let response = self.client.submit(&tx, wait_commit).await?;
        if !wait_commit {
            return Ok(SubmittedTx { hash });
        }
        let refused = |reason: String| GatewayError::NodeAnswer {
            what: "an access-log transaction",
            reason,
        };
        match (response.status, response.committed) {
            (SubmitStatus::Committed, Some(committed)) => match committed.receipt.outcome {
                TxOutcome::Success => Ok(SubmittedTx { hash }),
                TxOutcome::Failure { code, message } => {
                    Err(refused(format!("refused: {code}: {message}")))
                }
            },
            _ => Err(refused(format!("{hash} not committed in time"))),
        }
    }
}

/// A transaction the node admitted.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct SubmittedTx {
    pub hash: String,
}

/// The client id format of `ServiceRegistration`.
pub(crate) fn valid_client_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= simin_types::limits::CLIENT_ID_BYTES_MAX
        && id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
        })
}

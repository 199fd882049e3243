//! The service's link to its simin node: the registries it reads (accreditation,
//! schemas, status lists) and the status-list transactions it signs with the
//! organisation's key and waits to see committed.

use std::time::Duration;

use serde_json::Value;
use simin_client::dto::SubmitStatus;
use simin_client::{Client, ClientConfig};
use simin_identity::status_list::{read_status_list_credential, STATUS_LIST_BITS_MAX};
use simin_types::{Call, Height, IdentityCall, OrgId, SigningKey, Tx, TxOutcome};
use tokio::sync::Mutex;
use tracing::{info, warn};

use crate::error::IssuerError;

/// Blocks a status transaction stays valid for.
const TX_EXPIRY_BLOCKS: u64 = 100;
/// The largest registry answer read, in bytes (a status list of 2^24 bits compresses
/// to far less, even fully random).
const RESPONSE_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Time limit of a registry read.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A status list as the node publishes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PublishedList {
    /// `revocation` or `suspension`.
    pub purpose: String,
    pub size_bits: u32,
}

/// What a committed transaction left.
#[derive(Clone, Debug)]
pub(crate) struct Committed {
    pub height: u64,
    pub tx_hash: String,
}

#[derive(Debug)]
pub(crate) struct NodeLink {
    client: Client,
    http: reqwest::Client,
    base: String,
    org: OrgId,
    org_key: SigningKey,
    /// One transaction of the organisation's key at a time, so nonces never collide.
    submit_lock: Mutex<()>,
}

impl NodeLink {
    pub fn new(base_url: &str, org: OrgId, org_key: SigningKey) -> Result<NodeLink, IssuerError> {
        let client = Client::with_config(base_url, ClientConfig::default())?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(READ_TIMEOUT)
            .user_agent(concat!("simin-issuer/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(simin_client::ClientError::Build)?;
        Ok(NodeLink {
            base: client.base_url().to_owned(),
            client,
            http,
            org,
            org_key,
            submit_lock: Mutex::new(()),
        })
    }

    /// `GET path` as JSON; `None` on 404.
    async fn get_json(&self, what: &'static str, path: &str) -> Result<Option<Value>, IssuerError> {
        let url = format!("{}{path}", self.base);
        let answer = |reason: String| IssuerError::NodeAnswer { what, reason };
        let mut response = self.http.get(&url).send().await.map_err(|e| {
            if e.is_timeout() {
                IssuerError::Node(simin_client::ClientError::Timeout { url: url.clone() })
            } else {
                IssuerError::Node(simin_client::ClientError::Http {
                    url: url.clone(),
                    source: e,
                })
            }
        })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| answer(e.to_string()))? {
            if body.len().saturating_add(chunk.len()) > RESPONSE_BYTES_MAX {
                return Err(answer(format!("more than {RESPONSE_BYTES_MAX} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let text: String = String::from_utf8_lossy(&body).chars().take(300).collect();
            return Err(answer(format!("status {status}: {text}")));
        }
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| answer(e.to_string()))
    }

    /// The credential types the organisation's current accreditation names (none if it
    /// was never accredited or the accreditation was revoked).
    pub async fn accredited_types(&self) -> Result<Vec<String>, IssuerError> {
        let path = format!("/v1/issuers/{}", self.org);
        let Some(info) = self.get_json("the issuer registry", &path).await? else {
            return Ok(Vec::new());
        };
        let accreditation = &info["accreditation"];
        if !accreditation["revoked_time"].is_null() {
            return Ok(Vec::new());
        }
        let types = accreditation["credential_types"]
            .as_array()
            .map(|types| {
                types
                    .iter()
                    .filter_map(Value::as_str)
                    .take(simin_types::limits::ACCREDITATION_TYPES_MAX)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(types)
    }

    /// The JSON Schema registered on chain for `credential_type`, if any.
    pub async fn schema(&self, credential_type: &str) -> Result<Option<String>, IssuerError> {
        if !credential_type
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return Ok(None);
        }
        let path = format!("/v1/schemas/{credential_type}");
        let Some(record) = self.get_json("the schema registry", &path).await? else {
            return Ok(None);
        };
        Ok(Some(record["schema"].to_string()))
    }

    /// The Ed25519 key of `<did>#<fragment>` if the organisation's DID lists it under
    /// `assertionMethod`; `None` if the DID or such a method is absent.
    pub async fn assertion_key(&self, fragment: &str) -> Result<Option<[u8; 32]>, IssuerError> {
        let did = simin_types::identity::did_of(&self.org);
        let path = format!("/v1/dids/{did}");
        let Some(resolution) = self.get_json("the DID", &path).await? else {
            return Ok(None);
        };
        let document = &resolution["didDocument"];
        let id = format!("{did}#{fragment}");
        let listed = document["assertionMethod"]
            .as_array()
            .is_some_and(|methods| methods.iter().any(|m| m.as_str() == Some(id.as_str())));
        if !listed {
            return Ok(None);
        }
        let multikey = document["verificationMethod"]
            .as_array()
            .and_then(|methods| {
                methods
                    .iter()
                    .find(|m| m["id"].as_str() == Some(id.as_str()))
            })
            .and_then(|m| m["publicKeyMultibase"].as_str());
        Ok(multikey
            .and_then(|k| simin_identity::did_key::ed25519_from_multikey(k).ok())
            .map(|key| key.to_bytes()))
    }

    /// The organisation's status list `list`, if it exists.
    pub async fn status_list(&self, list: u32) -> Result<Option<PublishedList>, IssuerError> {
        let path = format!("/v1/status-lists/{}/{list}", self.org);
        let Some(credential) = self.get_json("a status list", &path).await? else {
            return Ok(None);
        };
        let published =
            read_status_list_credential(&credential, STATUS_LIST_BITS_MAX).map_err(|e| {
                IssuerError::NodeAnswer {
                    what: "a status list",
                    reason: e.to_string(),
                }
            })?;
        let size_bits =
            u32::try_from(published.list.bit_len()).map_err(|_| IssuerError::NodeAnswer {
                what: "a status list",
                reason: "more bits than a u32 counts".into(),
            })?;
        Ok(Some(PublishedList {
            purpose: published.purpose.as_str().to_owned(),
            size_bits,
        }))
    }

    /// Signs `call` with the organisation's key, submits it and waits for its commit.
    pub async fn submit(&self, call: IdentityCall) -> Result<Committed, IssuerError> {
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
                call: Call::Identity(call.clone()),
            }
            .sign(&self.org_key);
            let tx_hash = tx.hash().to_string();
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
                    return Err(IssuerError::NotCommitted {
                        call: name,
                        tx_hash,
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
                TxOutcome::Failure { code, message } => Err(IssuerError::NodeRefused {
                    call: name,
                    code,
                    message,
                }),
            };
        }
    }
}

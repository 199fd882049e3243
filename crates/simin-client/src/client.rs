//! [`Client`]: the `/v1` JSON API over reqwest, with a timeout on every request and a
//! bound on every response body.

use std::time::Duration;

use serde::de::DeserializeOwned;
use simin_api::dto::records::{ConsentLookup, RecordLookup};
use simin_api::dto::{
    AccessLog, BlockLookup, NodeStatus, NotaryProof, Problem, ServiceList, ServiceLookup,
    StateLookup, SubmitTxRequest, SubmitTxResponse, TxLookup,
};
use simin_types::OrgId;
use simin_types::{state_keys, Hash, Height, PublicKey, SignedTx};
use tracing::debug;

use crate::ClientError;

/// How long an idle pooled connection is kept (under the servers' 10 s idle limit).
const POOL_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Largest response body read from a node: a full block (8 MiB of borsh) shown as hex in
/// JSON is about twice that, plus headroom.
pub const RESPONSE_BYTES_MAX: usize = 48 * 1024 * 1024;
/// How much of an unexpected error body is kept for the message.
const ERROR_BODY_CHARS_MAX: usize = 300;

/// Timeouts of a [`Client`].
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest wait for a whole request, body included, except a commit wait.
    pub request_timeout: Duration,
    /// How long the node is asked to wait for a commit (`wait=commit`); the node caps
    /// it at 30 s. The request itself gets this plus `request_timeout`.
    pub commit_wait: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            commit_wait: Duration::from_secs(30),
        }
    }
}

/// A client of one node's HTTP API. Cheap to clone; clones share connections.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    config: ClientConfig,
}

impl Client {
    /// A client of the node at `base_url` (e.g. `http://127.0.0.1:8080`) with default timeouts.
    pub fn new(base_url: &str) -> Result<Client, ClientError> {
        Client::with_config(base_url, ClientConfig::default())
    }

    pub fn with_config(base_url: &str, config: ClientConfig) -> Result<Client, ClientError> {
        let invalid = |reason: String| ClientError::InvalidUrl {
            url: base_url.to_owned(),
            reason,
        };
        let url = reqwest::Url::parse(base_url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("use an http:// or https:// URL".into()));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("a node URL has no query or fragment".into()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // Servers behind `simin_api::edge` close a connection idle for 10 s; giving it
            // up sooner here means a request never races the server's close.
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .user_agent(concat!("simin-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ClientError::Build)?;
        Ok(Client {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            config,
        })
    }

    /// The node's base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `GET /v1/status`.
    pub async fn status(&self) -> Result<NodeStatus, ClientError> {
        self.get("node status", "/v1/status").await
    }

    /// `POST /v1/txs`: submits `tx`; with `wait_commit`, the node answers once the
    /// transaction is committed (status `committed`) or its wait ran out (`pending`).
    pub async fn submit(
        &self,
        tx: &SignedTx,
        wait_commit: bool,
    ) -> Result<SubmitTxResponse, ClientError> {
        let body = SubmitTxRequest {
            tx: hex::encode(tx.encode()),
        };
        let (path, timeout) = if wait_commit {
            // The node caps its wait and answers 202 after it; allow for that and the transfer.
            let wait_ms = self.config.commit_wait.as_millis();
            let path = format!("/v1/txs?wait=commit&timeout_ms={wait_ms}");
            (path, self.config.commit_wait + self.config.request_timeout)
        } else {
            ("/v1/txs".to_owned(), self.config.request_timeout)
        };
        let url = self.url(&path);
        let request = self.http.post(&url).json(&body).timeout(timeout);
        self.send("submit response", &url, request).await
    }

    /// `GET /v1/txs/{hash}`; `None` when no committed transaction has that hash.
    pub async fn tx(&self, hash: &Hash) -> Result<Option<TxLookup>, ClientError> {
        let path = format!("/v1/txs/{hash}");
        optional(self.get("transaction", &path).await, &["tx-not-found"])
    }

    /// `GET /v1/blocks/{height}`; `None` when no block is committed at that height.
    pub async fn block(&self, height: Height) -> Result<Option<BlockLookup>, ClientError> {
        let path = format!("/v1/blocks/{height}");
        optional(
            self.get("block", &path).await,
            &["block-not-found", "height-not-available"],
        )
    }

    /// `GET /v1/state/{key}` at the latest height, with a proof when `prove`.
    pub async fn state(&self, key: &[u8], prove: bool) -> Result<StateLookup, ClientError> {
        let path = format!("/v1/state/{}?prove={prove}", hex::encode(key));
        self.get("state lookup", &path).await
    }

    /// `GET /v1/state/{key}?height={height}&prove=true`: a value with its proof at a
    /// fixed height, so that several reads see one state.
    pub async fn state_at(&self, key: &[u8], height: Height) -> Result<StateLookup, ClientError> {
        let path = format!("/v1/state/{}?height={height}&prove=true", hex::encode(key));
        self.get("state lookup", &path).await
    }

    /// `GET /v1/notary/{document}`; `None` when the document was never anchored.
    pub async fn notary(&self, document: &Hash) -> Result<Option<NotaryProof>, ClientError> {
        let path = format!("/v1/notary/{document}");
        optional(self.get("notary proof", &path).await, &["not-anchored"])
    }

    /// The next nonce of `account` in the latest state (0 for an account never used).
    ///
    /// Unverified: a wrong answer only makes the node refuse the transaction.
    pub async fn account_next_nonce(&self, account: &PublicKey) -> Result<u64, ClientError> {
        let lookup = self
            .state(&state_keys::account_nonce(account), false)
            .await?;
        match lookup.value {
            None => Ok(0),
            Some(bytes) => {
                simin_types::decode("account nonce", &bytes, 8).map_err(|e| ClientError::Decode {
                    what: "account nonce",
                    reason: e.to_string(),
                })
            }
        }
    }

    /// `GET /v1/services`: every registered service, in registration order.
    pub async fn services(&self) -> Result<ServiceList, ClientError> {
        self.get("service list", "/v1/services").await
    }

    /// `GET /v1/services/{client_id}`; `None` when no service has that client id.
    ///
    /// A malformed client id gets, without a request, the 400 problem the node would
    /// send, so it can never alter the request path.
    pub async fn service(&self, client_id: &str) -> Result<Option<ServiceLookup>, ClientError> {
        if !simin_ledger::auth::is_client_id(client_id) {
            return Err(invalid_parameter(
                "client id",
                "use 1 to 64 characters of a-z, 0-9, '.', '-', '_'",
            ));
        }
        let path = format!("/v1/services/{client_id}");
        optional(self.get("service", &path).await, &["not-found"])
    }

    /// `GET /v1/access-log/{subject}?from=&limit=`: a page of a pairwise subject's
    /// access log (the node caps `limit` at 256). A malformed subject gets, without a
    /// request, the 400 problem the node would send.
    pub async fn access_log(
        &self,
        subject: &str,
        from: u64,
        limit: u64,
    ) -> Result<AccessLog, ClientError> {
        if !simin_ledger::auth::is_subject(subject) {
            return Err(invalid_parameter(
                "subject",
                "use 1 to 64 characters of base64url (A-Z, a-z, 0-9, '-', '_')",
            ));
        }
        let path = format!("/v1/access-log/{subject}?from={from}&limit={limit}");
        self.get("access log", &path).await
    }

    /// `GET /v1/records/{id}?from=&limit=`: a personal record's public part and a page
    /// of its access log (the node caps `limit` at 256); `None` when no such record.
    pub async fn record(
        &self,
        id: &Hash,
        from: u64,
        limit: u64,
    ) -> Result<Option<RecordLookup>, ClientError> {
        let path = format!("/v1/records/{id}?from={from}&limit={limit}");
        optional(self.get("record", &path).await, &["not-found"])
    }

    /// `GET /v1/records/{id}/consents?organization=&purpose=`: one consent and whether
    /// it is valid now; `None` when it was never granted. A malformed purpose gets,
    /// without a request, the 400 problem the node would send.
    pub async fn consent(
        &self,
        id: &Hash,
        organization: &OrgId,
        purpose: &str,
    ) -> Result<Option<ConsentLookup>, ClientError> {
        if !simin_ledger::data::is_purpose(purpose) {
            return Err(invalid_parameter(
                "purpose",
                "use 1 to 64 characters of a-z, 0-9, '_'",
            ));
        }
        let path =
            format!("/v1/records/{id}/consents?organization={organization}&purpose={purpose}");
        optional(self.get("consent", &path).await, &["not-found"])
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get<T: DeserializeOwned>(
        &self,
        what: &'static str,
        path: &str,
    ) -> Result<T, ClientError> {
        let url = self.url(path);
        let request = self.http.get(&url);
        self.send(what, &url, request).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        what: &'static str,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let response = request.send().await.map_err(transport(url))?;
        let status = response.status();
        let body = read_limited(url, response).await?;
        debug!(%url, status = status.as_u16(), bytes = body.len(), "node answered");
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| ClientError::Decode {
                what,
                reason: e.to_string(),
            });
        }
        match serde_json::from_slice::<Problem>(&body) {
            Ok(problem) => Err(ClientError::Problem {
                status: status.as_u16(),
                type_uri: problem.type_uri,
                title: problem.title,
                detail: problem.detail,
            }),
            Err(_) => Err(ClientError::UnexpectedStatus {
                url: url.to_owned(),
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body)
                    .chars()
                    .take(ERROR_BODY_CHARS_MAX)
                    .collect(),
            }),
        }
    }
}

/// Urban data feeds (`/v1/data/...`).
impl Client {
    /// `POST /v1/data/batches`: a signed `data.submit_batch` transaction and its readings.
    pub async fn submit_batch(
        &self,
        tx: &SignedTx,
        readings: &[simin_data::Reading],
    ) -> Result<simin_api::dto::data::BatchAccepted, ClientError> {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            tx: String,
            readings: &'a [simin_data::Reading],
        }
        let url = self.url("/v1/data/batches");
        let body = Body {
            tx: hex::encode(tx.encode()),
            readings,
        };
        let request = self
            .http
            .post(&url)
            .json(&body)
            .timeout(self.config.request_timeout);
        self.send("batch response", &url, request).await
    }

    /// `GET /v1/data/{dataset}/readings`: committed readings, oldest first.
    pub async fn data_readings(
        &self,
        dataset: &str,
        query: &simin_api::dto::data::ReadingsQuery,
    ) -> Result<simin_api::dto::data::ReadingList, ClientError> {
        let url = self.url(&format!("/v1/data/{dataset}/readings"));
        let request = self.http.get(&url).query(query);
        self.send("readings", &url, request).await
    }

    /// `GET /v1/data/{dataset}/aggregate` (set `interval` and `field` in `query`).
    pub async fn data_aggregate(
        &self,
        dataset: &str,
        query: &simin_api::dto::data::ReadingsQuery,
    ) -> Result<simin_api::dto::data::AggregateResponse, ClientError> {
        let url = self.url(&format!("/v1/data/{dataset}/aggregate"));
        let request = self.http.get(&url).query(query);
        self.send("aggregate", &url, request).await
    }

    /// `GET /v1/data/{dataset}/export.csv`: the open-data CSV text.
    pub async fn data_export_csv(
        &self,
        dataset: &str,
        query: &simin_api::dto::data::ReadingsQuery,
    ) -> Result<String, ClientError> {
        let url = self.url(&format!("/v1/data/{dataset}/export.csv"));
        let response = self
            .http
            .get(&url)
            .query(query)
            .send()
            .await
            .map_err(transport(&url))?;
        let status = response.status();
        let body = read_limited(&url, response).await?;
        if !status.is_success() {
            return Err(ClientError::UnexpectedStatus {
                url,
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body)
                    .chars()
                    .take(ERROR_BODY_CHARS_MAX)
                    .collect(),
            });
        }
        String::from_utf8(body).map_err(|e| ClientError::Decode {
            what: "CSV export",
            reason: e.to_string(),
        })
    }

    /// `GET /v1/data/{dataset}/export.json`: flat open-data records.
    pub async fn data_export_json(
        &self,
        dataset: &str,
        query: &simin_api::dto::data::ReadingsQuery,
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, ClientError> {
        let url = self.url(&format!("/v1/data/{dataset}/export.json"));
        let request = self.http.get(&url).query(query);
        self.send("JSON export", &url, request).await
    }

    /// `GET /v1/data/{dataset}/readings/{source}/{seq}/{index}/proof`; `None` when the
    /// node has no such reading in a committed batch. Check the answer with
    /// [`crate::verify_reading_proof`].
    pub async fn reading_proof(
        &self,
        dataset: &str,
        source: &str,
        seq: u64,
        index: u32,
    ) -> Result<Option<simin_api::dto::data::ReadingProofResponse>, ClientError> {
        let path = format!("/v1/data/{dataset}/readings/{source}/{seq}/{index}/proof");
        optional(self.get("reading proof", &path).await, &["not-found"])
    }
}

/// The `invalid-parameter` problem a node answers for a malformed path segment.
fn invalid_parameter(what: &str, reason: &str) -> ClientError {
    ClientError::Problem {
        status: 400,
        type_uri: format!("{}invalid-parameter", simin_api::PROBLEM_TYPE_BASE),
        title: "Invalid parameter".into(),
        detail: format!("invalid {what}: {reason}"),
    }
}

/// Turns a "not found" problem with one of `slugs` into `None`.
fn optional<T>(result: Result<T, ClientError>, slugs: &[&str]) -> Result<Option<T>, ClientError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.problem_slug().is_some_and(|s| slugs.contains(&s)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn transport(url: &str) -> impl Fn(reqwest::Error) -> ClientError + '_ {
    move |source| {
        let url = url.to_owned();
        if source.is_timeout() {
            ClientError::Timeout { url }
        } else if source.is_connect() {
            ClientError::Connect { url, source }
        } else {
            ClientError::Http { url, source }
        }
    }
}

/// Reads the body, refusing more than `RESPONSE_BYTES_MAX` whatever the node claims.
async fn read_limited(url: &str, mut response: reqwest::Response) -> Result<Vec<u8>, ClientError> {
    let too_large = || ClientError::ResponseTooLarge {
        url: url.to_owned(),
        max: RESPONSE_BYTES_MAX,
    };
    let declared = response.content_length().unwrap_or(0);
    if usize::try_from(declared).map_or(true, |len| len > RESPONSE_BYTES_MAX) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    // Each chunk arrives within the request's timeout, which covers the whole body.
    while let Some(chunk) = response.chunk().await.map_err(transport(url))? {
        if body.len().saturating_add(chunk.len()) > RESPONSE_BYTES_MAX {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(Client::new("http://127.0.0.1:8080/").is_ok());
        assert!(Client::new("ftp://x").is_err());
        assert!(Client::new("not a url").is_err());
        let client = Client::new("http://h:1/").expect("a valid URL");
        assert_eq!(client.url("/v1/status"), "http://h:1/v1/status");
    }

    #[test]
    fn problem_slugs_are_the_last_segment() {
        let e = ClientError::Problem {
            status: 404,
            type_uri: "https://simin.dev/problems/not-anchored".into(),
            title: "t".into(),
            detail: "d".into(),
        };
        assert_eq!(e.problem_slug(), Some("not-anchored"));
        assert!(matches!(
            optional::<()>(Err(e), &["not-anchored"]),
            Ok(None)
        ));
    }
}

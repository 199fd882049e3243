//! No client error is answered 5xx: every path and parameter of the OpenAPI document,
//! and every request body, is sent adversarial values (huge, negative and 20-digit
//! integers, empty, broken percent escapes, 10 KB strings, wrong types), and every
//! answer must be below 500 and, when 4xx, `application/problem+json`.
//!
//! The one exception is the DID Resolution specification's own: `/v1/dids/{did}`
//! answers its errors as `application/did-resolution+json`, and an unsupported DID
//! method as 501 (`methodNotSupported`).

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use common::FakeBackend;
use serde_json::Value;
use simin_api::dto::data::{BatchAccepted, ReadingProofResponse};
use simin_api::dto::{BlockLookup, BlockSummary, NodeStatus, NotaryProof, StateLookup, TxLookup};
use simin_api::{Backend, BackendError, BoxFuture, DataBackend, DataError, SubmitError, TxOrigin};
use simin_types::{BlockTime, Hash, Height, SignedTx};

/// The fake node with a reading store that holds nothing, so the data routes reach it.
struct WithData(FakeBackend);

impl DataBackend for WithData {
    fn submit_batch(
        &self,
        _: SignedTx,
        _: Vec<simin_data::Reading>,
    ) -> Result<BatchAccepted, DataError> {
        Err(DataError::BadQuery(
            "the sweep's store accepts no batch".into(),
        ))
    }
    fn readings(&self, _: &simin_data::Query) -> Result<Vec<simin_data::StoredReading>, DataError> {
        Ok(Vec::new())
    }
    fn aggregate(
        &self,
        _: &simin_data::Query,
        field: &str,
        interval_ms: u64,
    ) -> Result<simin_data::Aggregate, DataError> {
        Ok(simin_data::Aggregate {
            field: field.to_owned(),
            interval_ms,
            scanned: 0,
            buckets: Vec::new(),
        })
    }
    fn reading_proof(
        &self,
        _: &str,
        _: &str,
        _: u64,
        _: u32,
    ) -> Result<Option<ReadingProofResponse>, DataError> {
        Ok(None)
    }
}

impl Backend for WithData {
    fn status(&self) -> Result<NodeStatus, BackendError> {
        self.0.status()
    }
    fn submit_tx(&self, tx: SignedTx, origin: TxOrigin) -> Result<Hash, SubmitError> {
        self.0.submit_tx(tx, origin)
    }
    fn wait_for_commit(
        &self,
        hash: Hash,
        timeout: Duration,
    ) -> BoxFuture<'static, Result<Option<TxLookup>, BackendError>> {
        self.0.wait_for_commit(hash, timeout)
    }
    fn block(&self, height: Height) -> Result<Option<BlockLookup>, BackendError> {
        self.0.block(height)
    }
    fn blocks(
        &self,
        before: Option<Height>,
        limit: usize,
    ) -> Result<Vec<BlockSummary>, BackendError> {
        self.0.blocks(before, limit)
    }
    fn tx(&self, hash: &Hash) -> Result<Option<TxLookup>, BackendError> {
        self.0.tx(hash)
    }
    fn state(
        &self,
        key: &[u8],
        height: Option<Height>,
        prove: bool,
    ) -> Result<StateLookup, BackendError> {
        self.0.state(key, height, prove)
    }
    fn state_value(&self, key: &[u8], height: Height) -> Result<Option<Vec<u8>>, BackendError> {
        self.0.state_value(key, height)
    }
    fn height_at(&self, time: BlockTime) -> Result<Option<Height>, BackendError> {
        self.0.height_at(time)
    }
    fn notary(&self, document: &Hash) -> Result<Option<NotaryProof>, BackendError> {
        self.0.notary(document)
    }
    fn metrics(&self) -> String {
        self.0.metrics()
    }
    fn data(&self) -> Option<&dyn DataBackend> {
        Some(self)
    }
}

/// Values no parameter should turn into a server error. Each is already valid in a URI.
fn adversarial() -> Vec<String> {
    let mut values: Vec<String> = [
        "99999999999",
        "12345678901234567890",
        "18446744073709551616",
        "340282366920938463463374607431768211456",
        "-1",
        "-9223372036854775809",
        "0",
        "",
        "%FF%FE%FD",
        "%00",
        "%C0%AF",
        "%",
        "%zz",
        "1.5",
        "1e30",
        "0x10",
        "true",
        "null",
        "%2F..%2F..%2Fetc",
        "%20",
        "did:simin:",
        "did:key:z",
    ]
    .iter()
    .map(|v| (*v).to_owned())
    .collect();
    values.push("a".repeat(10_000));
    values.push("9".repeat(10_000));
    values
}

/// A plausible value for a path parameter, so that the others reach their handler.
fn plausible(name: &str, schema_type: &str) -> String {
    let hex64 = "ab".repeat(32);
    match name {
        "did" => "did:simin:seoul.library".into(),
        "key" => hex::encode(b"present"),
        "issuer" => "seoul.library".into(),
        "dataset" => "seoul.air-quality".into(),
        "source" => "sensor-1".into(),
        "credential_type" => "CitizenCard".into(),
        _ if schema_type == "integer" => "1".into(),
        _ => hex64,
    }
}

struct Param {
    name: String,
    location: String,
    schema_type: String,
}

fn params_of(operation: &Value) -> Vec<Param> {
    let Some(list) = operation["parameters"].as_array() else {
        return Vec::new();
    };
    list.iter()
        .map(|p| Param {
            name: p["name"].as_str().unwrap_or_default().to_owned(),
            location: p["in"].as_str().unwrap_or_default().to_owned(),
            schema_type: p["schema"]["type"].as_str().unwrap_or("string").to_owned(),
        })
        .collect()
}

/// Every request of the sweep: (method, uri, content type, body).
fn requests() -> Vec<(String, String, &'static str, Vec<u8>)> {
    let doc = serde_json::to_value(simin_api::openapi()).expect("the document is JSON");
    let paths = doc["paths"].as_object().expect("the document has paths");
    let mut out = Vec::new();
    for (template, item) in paths {
        for method in ["get", "post"] {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let params = params_of(operation);
            let path_with = |target: Option<(&str, &str)>| {
                let mut path = template.clone();
                for p in params.iter().filter(|p| p.location == "path") {
                    let value = match target {
                        Some((name, value)) if name == p.name => value.to_owned(),
                        _ => plausible(&p.name, &p.schema_type),
                    };
                    path = path.replace(&format!("{{{}}}", p.name), &value);
                }
                path
            };
            let mut uris = Vec::new();
            for value in adversarial() {
                for p in &params {
                    match p.location.as_str() {
                        "path" => uris.push(path_with(Some((&p.name, &value)))),
                        "query" => uris.push(format!("{}?{}={value}", path_with(None), p.name)),
                        _ => {}
                    }
                }
            }
            uris.push(path_with(None));
            let bodies: Vec<(&'static str, Vec<u8>)> = if method == "post" {
                vec![
                    ("application/json", Vec::new()),
                    ("application/json", b"{}".to_vec()),
                    ("application/json", b"null".to_vec()),
                    ("application/json", b"[1,2]".to_vec()),
                    (
                        "application/json",
                        br#"{"tx":12345678901234567890}"#.to_vec(),
                    ),
                    ("application/json", br#"{"tx":"zz","readings":-1}"#.to_vec()),
                    ("application/json", vec![0xff, 0xfe, 0x00]),
                    ("application/json", "[".repeat(10_000).into_bytes()),
                    ("application/json", "a".repeat(10_000).into_bytes()),
                    ("application/octet-stream", vec![0u8; 10_000]),
                    ("text/plain", b"x".to_vec()),
                ]
            } else {
                vec![("application/json", Vec::new())]
            };
            for uri in &uris {
                for (content_type, body) in &bodies {
                    out.push((
                        method.to_uppercase(),
                        uri.clone(),
                        *content_type,
                        body.clone(),
                    ));
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn no_route_answers_a_client_error_with_5xx() {
    let app = simin_api::router(Arc::new(WithData(FakeBackend::new())));
    let requests = requests();
    assert!(
        requests.len() > 1_000,
        "the sweep covers every route: {}",
        requests.len()
    );
    let mut failures = Vec::new();
    for (method, uri, content_type, body) in requests {
        let request = match Request::builder()
            .method(method.as_str())
            .uri(&uri)
            .header("content-type", content_type)
            .body(Body::from(body))
        {
            Ok(request) => request,
            // Not expressible as an HTTP request at all: nothing reaches a server.
            Err(_) => continue,
        };
        let reply = common::send(&app, request).await;
        let status = reply.status.as_u16();
        let did_route = uri.starts_with("/v1/dids/");
        let did_result = reply.content_type() == "application/did-resolution+json";
        let short = &uri[..uri.len().min(120)];
        if status >= 500 && !(did_route && did_result && status == 501) {
            failures.push(format!(
                "{method} {short} ({content_type}): {status} {}",
                String::from_utf8_lossy(&reply.body[..reply.body.len().min(200)])
            ));
        } else if (400..500).contains(&status)
            && !reply.content_type().starts_with("application/problem+json")
            && !(did_route && did_result)
        {
            failures.push(format!(
                "{method} {short} ({content_type}): {status} as {:?}",
                reply.content_type()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_did_height_above_the_tip_is_404_height_not_available() {
    let (app, _) = common::app();
    for height in ["2", "99999999999", "18446744073709551615"] {
        let uri = format!("/v1/dids/did:simin:seoul.library?height={height}");
        let reply = common::get(&app, &uri).await;
        reply.assert_problem(404, "height-not-available");
    }
    // Heights past u64 are refused by the query's type.
    let reply = common::get(
        &app,
        "/v1/dids/did:simin:seoul.library?height=18446744073709551616",
    )
    .await;
    reply.assert_problem(400, "invalid-parameter");
}

#[tokio::test]
async fn out_of_range_path_numbers_are_named_invalid_parameters() {
    let (app, _) = common::app();
    for (uri, what) in [
        (
            "/v1/status-lists/seoul.library/0/12345678901234567890",
            "index",
        ),
        ("/v1/status-lists/seoul.library/4294967296/0", "list"),
        ("/v1/status-lists/seoul.library/-1", "list"),
        (
            "/v1/data/seoul.air-quality/readings/s1/123456789012345678901/0/proof",
            "seq",
        ),
        (
            "/v1/data/seoul.air-quality/readings/s1/1/4294967296/proof",
            "index",
        ),
    ] {
        let reply = common::get(&app, uri).await;
        reply.assert_problem(400, "invalid-parameter");
        let detail = reply.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            detail.starts_with(&format!("invalid {what}:")),
            "{uri}: {detail}"
        );
    }
}

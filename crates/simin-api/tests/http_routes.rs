//! The happy paths: what each route returns, and that it still verifies after JSON.

mod common;

use std::time::Duration;

use common::{app, app_with, get, post, send, FakeBackend};
use simin_api::dto::{
    BlockList, BlockLookup, NodeStatus, NotaryProof, StateLookup, SubmitStatus, SubmitTxResponse,
    TxLookup,
};
use simin_types::{merkle, state_keys, Block, Hash, NotaryRecord};

fn tx_body(app_backend: &FakeBackend) -> String {
    format!(
        r#"{{"tx":"{}"}}"#,
        hex::encode(app_backend.fixture.block.txs[0].encode())
    )
}

#[tokio::test]
async fn status_reports_the_tip() {
    let (app, backend) = app();
    let reply = get(&app, "/v1/status").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), "application/json");
    let status: NodeStatus = serde_json::from_slice(&reply.body).expect("a NodeStatus");
    assert_eq!(status.latest_block_hash, Some(backend.fixture.block.hash()));
}

#[tokio::test]
async fn submit_answers_202_with_the_hash_and_location() {
    let (app, backend) = app();
    let expected = backend.fixture.block.txs[0].hash();
    for (content_type, body) in [
        (
            "application/json; charset=utf-8",
            tx_body(&backend).into_bytes(),
        ),
        (
            "application/octet-stream",
            backend.fixture.block.txs[0].encode(),
        ),
    ] {
        let reply = post(&app, "/v1/txs", content_type, body).await;
        assert_eq!(
            reply.status,
            202,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let response: SubmitTxResponse =
            serde_json::from_slice(&reply.body).expect("a SubmitTxResponse");
        assert_eq!(
            (response.hash, response.status, response.committed),
            (expected, SubmitStatus::Pending, None)
        );
        assert_eq!(reply.headers["location"], format!("/v1/txs/{expected}"));
    }
}

#[tokio::test]
async fn submit_tells_the_backend_who_sent_the_transaction() {
    use axum::extract::ConnectInfo;
    use simin_api::TxOrigin;

    let (app, backend) = app();
    let client: std::net::SocketAddr = "203.0.113.7:40000".parse().expect("an address");
    let cases = [
        ("/v1/txs", Some(client), TxOrigin::Client(Some(client.ip()))),
        ("/v1/txs", None, TxOrigin::Client(None)),
        ("/v1/txs?relayed=true", Some(client), TxOrigin::Peer),
    ];
    for (uri, peer, expected) in cases {
        let mut request = axum::http::Request::post(uri)
            .header("content-type", "application/octet-stream")
            .body(axum::body::Body::from(
                backend.fixture.block.txs[0].encode(),
            ))
            .expect("a valid request");
        if let Some(peer) = peer {
            // What the edge server records for every connection.
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        let reply = send(&app, request).await;
        assert_eq!(reply.status, 202);
        let origin = *backend.last_origin.lock().expect("not poisoned");
        assert_eq!(origin, Some(expected), "{uri} from {peer:?}");
    }
}

#[tokio::test]
async fn submit_with_wait_returns_the_receipt_and_caps_the_wait() {
    let (app, backend) = app();
    let reply = post(
        &app,
        "/v1/txs?wait=commit&timeout_ms=999999",
        "application/json",
        tx_body(&backend),
    )
    .await;
    assert_eq!(reply.status, 200);
    let response: SubmitTxResponse =
        serde_json::from_slice(&reply.body).expect("a SubmitTxResponse");
    assert_eq!(response.status, SubmitStatus::Committed);
    let committed = response
        .committed
        .expect("committed because the double commits");
    assert_eq!(committed.receipt.tx_hash, response.hash);
    let waited = *backend
        .last_wait
        .lock()
        .expect("not poisoned because no test panicked holding it");
    assert_eq!(waited, Some(Duration::from_millis(simin_api::WAIT_MS_MAX)));

    let (slow, backend) = app_with(FakeBackend {
        commits: false,
        ..FakeBackend::new()
    });
    let reply = post(
        &slow,
        "/v1/txs?wait=commit&timeout_ms=5",
        "application/json",
        tx_body(&backend),
    )
    .await;
    assert_eq!(
        reply.status, 202,
        "a wait that times out is still an acceptance"
    );
    assert_eq!(reply.json()["status"], "pending");
}

#[tokio::test]
async fn blocks_carry_a_certificate_that_verifies() {
    let (app, backend) = app();
    for uri in ["/v1/blocks/1", "/v1/blocks/latest"] {
        let reply = get(&app, uri).await;
        assert_eq!(reply.status, 200);
        let lookup: BlockLookup = serde_json::from_slice(&reply.body).expect("a BlockLookup");
        let header = &lookup.block.header;
        assert_eq!(lookup.hash, lookup.block.hash());
        assert_eq!(Block::compute_tx_root(&lookup.block.txs), header.tx_root);
        let certificate = lookup.certificate.expect("the double has a certificate");
        certificate
            .verify(
                &header.chain_id,
                header.height,
                &lookup.hash,
                &backend.fixture.validators,
            )
            .expect("the certificate verifies after a JSON round trip");
    }
}

#[tokio::test]
async fn the_block_list_is_capped() {
    let (app, backend) = app();
    let reply = get(&app, "/v1/blocks?limit=100000").await;
    assert_eq!(reply.status, 200);
    let list: BlockList = serde_json::from_slice(&reply.body).expect("a BlockList");
    assert_eq!(list.blocks.len(), 1);
    assert_eq!(list.next_before, None, "a short page is the last");
    let limit = *backend
        .last_limit
        .lock()
        .expect("not poisoned because no test panicked holding it");
    assert_eq!(
        limit,
        Some(usize::try_from(simin_api::BLOCKS_LIMIT_MAX).expect("100 fits"))
    );
}

#[tokio::test]
async fn a_tx_comes_with_an_inclusion_proof() {
    let (app, backend) = app();
    let hash = backend.fixture.block.txs[1].hash();
    let reply = get(&app, &format!("/v1/txs/{hash}")).await;
    assert_eq!(reply.status, 200);
    let lookup: TxLookup = serde_json::from_slice(&reply.body).expect("a TxLookup");
    assert_eq!((lookup.hash, lookup.index), (hash, 1));
    lookup
        .inclusion_proof
        .verify(&merkle::leaf_hash(&hash.0), &lookup.header.tx_root)
        .expect("the inclusion proof verifies against the header");
}

#[tokio::test]
async fn state_reads_show_bytes_as_hex() {
    let (app, _) = app();
    let reply = get(
        &app,
        &format!("/v1/state/{}?prove=true", hex::encode(b"present")),
    )
    .await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["value"], "010203");
    assert_eq!(body["proof"], "dead");
    let lookup: StateLookup = serde_json::from_slice(&reply.body).expect("a StateLookup");
    assert_eq!(lookup.key, b"present");
    let absent = get(&app, "/v1/state/00?height=1").await.json();
    assert!(absent["value"].is_null() && absent["proof"].is_null());
}

#[tokio::test]
async fn a_batch_anchored_document_proves_its_way_to_the_state_key() {
    let (app, backend) = app();
    let document = backend.fixture.batch_documents[2];
    let reply = get(&app, &format!("/v1/notary/{document}")).await;
    assert_eq!(reply.status, 200);
    let proof: NotaryProof = serde_json::from_slice(&reply.body).expect("a NotaryProof");
    assert_eq!(proof.record.organization.as_str(), "seoul.notary");
    assert_eq!(proof.state_key, state_keys::notary_anchor(&proof.anchor));
    let batch = proof
        .batch_proof
        .as_ref()
        .expect("a batch member has a batch proof");
    batch
        .verify(&merkle::leaf_hash(&proof.document.0), &proof.anchor)
        .expect("the batch proof verifies");
    let header = &proof.header;
    assert_eq!(proof.validators.hash(), header.validators_hash);
    proof
        .certificate
        .verify(
            &header.chain_id,
            header.height,
            &header.hash(),
            &proof.validators,
        )
        .expect("the certificate verifies");
    let _: &NotaryRecord = &proof.record;

    let single = backend.fixture.single_document;
    let proof: NotaryProof =
        serde_json::from_slice(&get(&app, &format!("/v1/notary/{single}")).await.body)
            .expect("a NotaryProof");
    assert_eq!((proof.anchor, proof.batch_proof), (single, None));
    assert_ne!(proof.anchor, Hash::ZERO);
}

#[tokio::test]
async fn ops_endpoints_answer_with_their_content_types() {
    let (app, _) = app();
    let metrics = get(&app, "/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .content_type()
            .starts_with("text/plain; version=0.0.4"),
        "{}",
        metrics.content_type()
    );
    assert!(String::from_utf8_lossy(&metrics.body).contains("simin_height 1"));
    let health = get(&app, "/healthz").await;
    assert_eq!(
        (health.status.as_u16(), health.body.as_slice()),
        (200, b"ok\n".as_slice())
    );
    let portal = get(&app, "/").await;
    assert_eq!(portal.status, 200);
    assert!(portal.content_type().starts_with("text/html"));
    assert_eq!(get(&app, "/portal/app.js").await.status, 200);
}

//! Every error path of the API answers with the right status and a stable problem type.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::{app, app_with, get, post, send, signed_tx, FakeBackend};
use simin_api::{BackendError, SubmitError};
use simin_types::{limits, ChainId, Hash, Height, NotaryCall};

fn anchor_tx_hex() -> String {
    let tx = signed_tx(
        5,
        simin_types::Call::Notary(NotaryCall::Anchor {
            document: Hash::digest(b"x"),
        }),
    );
    hex::encode(tx.encode())
}

fn json_tx() -> String {
    format!(r#"{{"tx":"{}"}}"#, anchor_tx_hex())
}

#[tokio::test]
async fn every_submit_error_maps_to_its_status_and_type() {
    let chain = |s: &str| ChainId::new(s).expect("a valid chain id because it is lowercase");
    let cases = [
        (SubmitError::BadEncoding("x".into()), 400, "bad-encoding"),
        (
            SubmitError::TooLarge {
                size: 70_000,
                max: 65_536,
            },
            413,
            "tx-too-large",
        ),
        (
            SubmitError::WrongChainId {
                expected: chain("a"),
                got: chain("b"),
            },
            422,
            "wrong-chain-id",
        ),
        (SubmitError::BadSignature, 422, "bad-signature"),
        (
            SubmitError::NonceTooLow {
                expected: 6,
                got: 5,
            },
            409,
            "nonce-too-low",
        ),
        (
            SubmitError::NonceTooHigh {
                expected: 1,
                got: 500,
            },
            422,
            "nonce-too-high",
        ),
        (
            SubmitError::Expired {
                expiry: Height(3),
                next_height: Height(9),
            },
            422,
            "expired",
        ),
        (SubmitError::Duplicate, 409, "duplicate"),
        (SubmitError::MempoolFull, 503, "mempool-full"),
        (
            SubmitError::InvalidCall("empty batch".into()),
            422,
            "invalid-call",
        ),
        (
            SubmitError::Unavailable("syncing".into()),
            503,
            "unavailable",
        ),
        (
            SubmitError::NotAuthorized {
                reason: "notary.not_a_notary".into(),
                message: "not a notary".into(),
            },
            403,
            "not-authorized",
        ),
        (
            SubmitError::CallRefused {
                reason: "data.unknown_record".into(),
                message: "no record".into(),
            },
            422,
            "call-refused",
        ),
        (
            SubmitError::TooManyPending {
                by: "signer".into(),
                max: 64,
            },
            429,
            "too-many-pending",
        ),
    ];
    for (error, status, slug) in cases {
        let (app, backend) = app();
        *backend
            .submit_error
            .lock()
            .expect("not poisoned because no test panicked holding it") = Some(error.clone());
        let reply = post(&app, "/v1/txs", "application/json", json_tx()).await;
        reply.assert_problem(status, slug);
        assert_eq!(
            reply.json()["detail"],
            error.to_string(),
            "the detail carries the values"
        );
    }
}

#[tokio::test]
async fn malformed_submissions_are_refused_before_the_backend() {
    let (app, _) = app();
    post(&app, "/v1/txs", "application/json", "{\"tx\": ")
        .await
        .assert_problem(400, "malformed-json");
    post(
        &app,
        "/v1/txs",
        "application/json",
        r#"{"tx":"00","extra":1}"#,
    )
    .await
    .assert_problem(400, "malformed-json");
    post(&app, "/v1/txs", "application/json", r#"{"tx":"zz"}"#)
        .await
        .assert_problem(400, "invalid-hex");
    post(&app, "/v1/txs", "application/json", r#"{"tx":"00ff"}"#)
        .await
        .assert_problem(400, "bad-encoding");
    post(&app, "/v1/txs", "application/octet-stream", vec![1u8, 2, 3])
        .await
        .assert_problem(400, "bad-encoding");
    post(&app, "/v1/txs", "text/plain", json_tx())
        .await
        .assert_problem(415, "unsupported-media-type");
    let no_type = Request::post("/v1/txs")
        .body(Body::from(json_tx()))
        .expect("a valid request");
    send(&app, no_type)
        .await
        .assert_problem(415, "unsupported-media-type");
    let big_hex = format!(r#"{{"tx":"{}"}}"#, "00".repeat(limits::TX_BYTES_MAX + 1));
    post(&app, "/v1/txs", "application/json", big_hex)
        .await
        .assert_problem(413, "tx-too-large");
    post(&app, "/v1/txs?wait=forever", "application/json", json_tx())
        .await
        .assert_problem(400, "invalid-parameter");
    post(&app, "/v1/txs?bogus=1", "application/json", json_tx())
        .await
        .assert_problem(400, "invalid-parameter");
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_problems() {
    let (app, _) = app();
    let huge = vec![b'0'; simin_api::BODY_BYTES_MAX + 1];
    // Without a content length, the limit is enforced while reading the body.
    post(&app, "/v1/txs", "application/octet-stream", huge.clone())
        .await
        .assert_problem(413, "payload-too-large");
    // With one, the request is refused before it is read.
    let declared = Request::post("/v1/txs")
        .header("content-type", "application/json")
        .header("content-length", huge.len().to_string())
        .body(Body::from(huge))
        .expect("a valid request");
    send(&app, declared)
        .await
        .assert_problem(413, "payload-too-large");
}

#[tokio::test]
async fn bad_paths_and_queries_are_400_problems() {
    let (app, _) = app();
    get(&app, "/v1/blocks/abc")
        .await
        .assert_problem(400, "invalid-parameter");
    get(&app, "/v1/blocks/-1")
        .await
        .assert_problem(400, "invalid-parameter");
    get(&app, "/v1/blocks?limit=0")
        .await
        .assert_problem(400, "invalid-parameter");
    get(&app, "/v1/blocks?limit=many")
        .await
        .assert_problem(400, "invalid-parameter");
    get(&app, "/v1/txs/1234")
        .await
        .assert_problem(400, "invalid-hex");
    get(&app, &format!("/v1/txs/{}", "g".repeat(64)))
        .await
        .assert_problem(400, "invalid-hex");
    get(&app, "/v1/notary/not-a-hash")
        .await
        .assert_problem(400, "invalid-hex");
    get(&app, "/v1/state/xyz")
        .await
        .assert_problem(400, "invalid-hex");
    get(
        &app,
        &format!(
            "/v1/state/{}",
            "00".repeat(simin_api::STATE_KEY_BYTES_MAX + 1)
        ),
    )
    .await
    .assert_problem(400, "invalid-parameter");
    get(&app, "/v1/state/00?prove=maybe")
        .await
        .assert_problem(400, "invalid-parameter");
}

#[tokio::test]
async fn unknown_things_are_404_problems() {
    let (app, backend) = app();
    get(&app, "/v1/blocks/999")
        .await
        .assert_problem(404, "block-not-found");
    get(&app, "/v1/blocks/0")
        .await
        .assert_problem(404, "block-not-found");
    get(&app, &format!("/v1/txs/{}", Hash::digest(b"nope")))
        .await
        .assert_problem(404, "tx-not-found");
    get(&app, &format!("/v1/notary/{}", Hash::digest(b"nope")))
        .await
        .assert_problem(404, "not-anchored");
    get(&app, "/v1/state/00?height=7")
        .await
        .assert_problem(404, "height-not-available");
    get(&app, "/v1/nothing")
        .await
        .assert_problem(404, "not-found");
    drop(backend);
    let (genesis, _) = app_with(FakeBackend {
        latest: Height::GENESIS,
        ..FakeBackend::new()
    });
    get(&genesis, "/v1/blocks/latest")
        .await
        .assert_problem(404, "block-not-found");
}

#[tokio::test]
async fn wrong_methods_are_405_problems() {
    let (app, _) = app();
    post(&app, "/v1/status", "application/json", "{}")
        .await
        .assert_problem(405, "method-not-allowed");
    let delete = Request::delete("/v1/blocks/1")
        .body(Body::empty())
        .expect("a valid request");
    send(&app, delete)
        .await
        .assert_problem(405, "method-not-allowed");
}

#[tokio::test]
async fn backend_failures_are_5xx_problems() {
    for (error, status, slug) in [
        (
            BackendError::Unavailable("starting".into()),
            503,
            "unavailable",
        ),
        (BackendError::Internal("disk".into()), 500, "internal"),
    ] {
        let (app, backend) = app();
        *backend
            .read_error
            .lock()
            .expect("not poisoned because no test panicked holding it") = Some(error);
        for uri in [
            "/v1/status",
            "/v1/blocks/1",
            "/v1/blocks",
            "/v1/blocks/latest",
            "/v1/state/00",
        ] {
            get(&app, uri).await.assert_problem(status, slug);
        }
        get(&app, &format!("/v1/notary/{}", Hash::digest(b"x")))
            .await
            .assert_problem(status, slug);
    }
}

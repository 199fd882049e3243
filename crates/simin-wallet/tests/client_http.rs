//! The HTTP driver against a scripted issuer on loopback: what the real issuer does not
//! exercise (an issuer identifier with a path and the earlier drafts' metadata location,
//! an offer by reference, a refused nonce retried once, oversized answers, redirects).
//! The protocol itself is tested as pure functions in `oid4vci_protocol.rs` and end to
//! end against `simin-issuer` in `issuer_e2e.rs`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::card::{self, Card};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use simin_identity::jose::{decode_compact_unverified, verify_compact, Jwk};
use simin_wallet::oid4vci::{
    Endpoint, HttpConfig, OAuthErrorCode, Oid4vciClient, Oid4vciError, ReceiveRequest,
};
use simin_wallet::Holder;
use url::Url;

/// What the scripted issuer does.
#[derive(Default)]
struct Script {
    base: String,
    /// How many `invalid_nonce` answers to give before issuing.
    refuse_nonces: AtomicUsize,
    nonces_issued: AtomicUsize,
    credential_requests: AtomicUsize,
    token_requests: AtomicUsize,
    /// Pad the issuer metadata past the wallet's limit.
    huge_metadata: bool,
}

type Shared = Arc<Script>;

fn issuer_id(script: &Script) -> String {
    format!("{}/tenant", script.base)
}

async fn metadata(State(script): State<Shared>) -> Response {
    let id = issuer_id(&script);
    let mut body = json!({
        "credential_issuer": id,
        "credential_endpoint": format!("{id}/credential"),
        "nonce_endpoint": format!("{id}/nonce"),
        "credential_configurations_supported": {"CitizenCard": {
            "format": "dc+sd-jwt", "vct": card::VCT,
            "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["EdDSA"]}},
        }},
    });
    if script.huge_metadata {
        body["padding"] = json!("x".repeat(600 * 1024));
    }
    Json(body).into_response()
}

async fn as_metadata(State(script): State<Shared>) -> Response {
    let id = issuer_id(&script);
    Json(json!({"issuer": id, "token_endpoint": format!("{id}/token")})).into_response()
}

async fn offer(State(script): State<Shared>) -> Response {
    Json(json!({
        "credential_issuer": issuer_id(&script),
        "credential_configuration_ids": ["CitizenCard"],
        "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {"pre-authorized_code": "code-1"}},
    }))
    .into_response()
}

async fn token(State(script): State<Shared>, body: String) -> Response {
    script.token_requests.fetch_add(1, Ordering::SeqCst);
    if !body.contains("pre-authorized_code=code-1") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    Json(json!({"access_token": "token-1", "token_type": "Bearer"})).into_response()
}

async fn nonce(State(script): State<Shared>) -> Response {
    let n = script.nonces_issued.fetch_add(1, Ordering::SeqCst);
    Json(json!({"c_nonce": format!("nonce-{n}")})).into_response()
}

async fn credential(
    State(script): State<Shared>,
    headers: axum::http::HeaderMap,
    Json(request): Json<Value>,
) -> Response {
    script.credential_requests.fetch_add(1, Ordering::SeqCst);
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some("Bearer token-1")
    {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#)],
        )
            .into_response();
    }
    let proof = request["proofs"]["jwt"][0].as_str().unwrap_or_default();
    let (header, _) = decode_compact_unverified(proof).expect("a JWS");
    let holder = Jwk::from_json(&header["jwk"]).expect("a jwk header");
    let (_, payload) = verify_compact(proof, &holder).expect("signed by the holder");
    assert_eq!(payload["aud"], json!(issuer_id(&script)));
    if script.refuse_nonces.load(Ordering::SeqCst) > 0 {
        script.refuse_nonces.fetch_sub(1, Ordering::SeqCst);
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_nonce"})),
        )
            .into_response();
    }
    let latest = script
        .nonces_issued
        .load(Ordering::SeqCst)
        .saturating_sub(1);
    assert_eq!(
        payload["nonce"],
        json!(format!("nonce-{latest}")),
        "a fresh nonce"
    );
    let credential = Card::for_holder(&holder).issue();
    Json(json!({"credentials": [{"credential": credential}]})).into_response()
}

async fn redirect() -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, "https://elsewhere.example/")],
    )
        .into_response()
}

/// Serves the script on a loopback port; returns its base URL.
async fn serve(mut script: Script) -> (String, Shared) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    script.base = base.clone();
    let shared = Arc::new(script);
    let app = Router::new()
        // Only the appended (pre-1.0) location has the issuer metadata.
        .route(
            "/tenant/.well-known/openid-credential-issuer",
            get(metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server/tenant",
            get(as_metadata),
        )
        .route("/offers/1", get(offer))
        .route("/offers/moved", get(redirect))
        .route("/tenant/token", post(token))
        .route("/tenant/nonce", post(nonce))
        .route("/tenant/credential", post(credential))
        .with_state(shared.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serves") });
    (base, shared)
}

fn holder() -> Holder {
    Holder::new(&SigningKey::from_bytes(&[8; 32]))
}

fn offer_link(base: &str, path: &str) -> String {
    let target: String =
        url::form_urlencoded::byte_serialize(format!("{base}{path}").as_bytes()).collect();
    format!("openid-credential-offer://?credential_offer_uri={target}")
}

#[tokio::test]
async fn an_offer_by_reference_is_received_with_a_refused_nonce_retried_once() {
    let (base, script) = serve(Script {
        refuse_nonces: AtomicUsize::new(1),
        ..Script::default()
    })
    .await;
    let client = Oid4vciClient::new(&HttpConfig::default()).expect("a client");
    let offer = client
        .resolve_offer(&offer_link(&base, "/offers/1"))
        .await
        .expect("fetched");
    assert_eq!(offer.credential_issuer, format!("{base}/tenant"));
    let holder = holder();
    let received = client
        .receive(&ReceiveRequest {
            offer: &offer,
            holder: &holder,
            tx_code: None,
            node: None,
            now: card::IAT + 10,
        })
        .await
        .expect("received");
    assert_eq!(received.credentials.len(), 1);
    assert_eq!(received.credentials[0].checked.vct, card::VCT);
    assert!(!received.credentials[0].issuer_verified);
    assert_eq!(
        script.credential_requests.load(Ordering::SeqCst),
        2,
        "one retry"
    );
    assert_eq!(
        script.nonces_issued.load(Ordering::SeqCst),
        2,
        "a fresh nonce for it"
    );
}

#[tokio::test]
async fn a_nonce_refused_twice_is_an_error() {
    let (base, script) = serve(Script {
        refuse_nonces: AtomicUsize::new(2),
        ..Script::default()
    })
    .await;
    let client = Oid4vciClient::new(&HttpConfig::default()).expect("a client");
    let offer = client
        .resolve_offer(&offer_link(&base, "/offers/1"))
        .await
        .expect("fetched");
    let holder = holder();
    let result = client
        .receive(&ReceiveRequest {
            offer: &offer,
            holder: &holder,
            tx_code: None,
            node: None,
            now: card::IAT,
        })
        .await;
    assert!(
        matches!(
            result,
            Err(Oid4vciError::Refused {
                endpoint: Endpoint::Credential,
                code: OAuthErrorCode::InvalidNonce,
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(
        script.credential_requests.load(Ordering::SeqCst),
        2,
        "no endless retries"
    );
}

#[tokio::test]
async fn oversized_answers_and_redirects_are_refused() {
    let (base, _script) = serve(Script {
        huge_metadata: true,
        ..Script::default()
    })
    .await;
    let client = Oid4vciClient::new(&HttpConfig::default()).expect("a client");
    let offer = client
        .resolve_offer(&offer_link(&base, "/offers/1"))
        .await
        .expect("fetched");
    let holder = holder();
    let result = client
        .receive(&ReceiveRequest {
            offer: &offer,
            holder: &holder,
            tx_code: None,
            node: None,
            now: card::IAT,
        })
        .await;
    assert!(
        matches!(
            result,
            Err(Oid4vciError::ResponseTooLarge {
                endpoint: Endpoint::IssuerMetadata,
                ..
            })
        ),
        "{result:?}"
    );
    let moved = client
        .resolve_offer(&offer_link(&base, "/offers/moved"))
        .await;
    assert!(
        matches!(
            moved,
            Err(Oid4vciError::UnexpectedStatus {
                endpoint: Endpoint::CredentialOffer,
                status: 302,
                ..
            })
        ),
        "{moved:?}"
    );
}

#[tokio::test]
async fn an_unreachable_issuer_is_a_transport_error() {
    let client = Oid4vciClient::new(&HttpConfig::default()).expect("a client");
    // Port 9 (discard) is closed on test machines: the connection is refused at once.
    let result = client.issuer_metadata("http://127.0.0.1:9").await;
    assert!(
        matches!(
            result,
            Err(Oid4vciError::Transport {
                endpoint: Endpoint::IssuerMetadata,
                ..
            })
        ),
        "{result:?}"
    );
    let node = Url::parse("http://127.0.0.1:9").expect("a URL");
    let result = client
        .resolve_issuer_key(&node, card::ISSUER_DID, Some(card::ISSUER_KID))
        .await;
    assert!(
        matches!(
            result,
            Err(Oid4vciError::Transport {
                endpoint: Endpoint::DidResolution,
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_unreachable_node_is_found_before_the_offer_is_spent() {
    let (base, script) = serve(Script::default()).await;
    let client = Oid4vciClient::new(&HttpConfig::default()).expect("a client");
    let offer = client
        .resolve_offer(&offer_link(&base, "/offers/1"))
        .await
        .expect("fetched");
    let holder = holder();
    let node = Url::parse("http://127.0.0.1:9").expect("a URL");
    let result = client
        .receive(&ReceiveRequest {
            offer: &offer,
            holder: &holder,
            tx_code: None,
            node: Some(&node),
            now: card::IAT,
        })
        .await;
    assert!(
        matches!(
            result,
            Err(Oid4vciError::Transport {
                endpoint: Endpoint::DidResolution,
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(
        script.token_requests.load(Ordering::SeqCst),
        0,
        "the code is not spent"
    );
}

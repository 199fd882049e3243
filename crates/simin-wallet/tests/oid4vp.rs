//! The OpenID4VP driver against a scripted verifier on loopback: it serves a signed
//! request object, the DID resolution of its key (standing in for the node) and a
//! `direct_post` response endpoint that records what the wallet posts, which the tests
//! check with `simin_identity::sd_jwt` as the gateway would.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::card::{self, Card};
use ed25519_dalek::SigningKey;
use serde_json::{json, Map, Value};
use simin_identity::did_key::ed25519_multikey;
use simin_identity::jose::{sign_compact_json, Jwk, JwsSigner};
use simin_identity::sd_jwt::{self, VerifyOptions, TYP_SD_JWT_VC};
use simin_wallet::oid4vci::HttpConfig;
use simin_wallet::oid4vp::{
    check_claims, select_credential, AuthorizationRequest, Oid4vpClient, Oid4vpEndpoint,
    Oid4vpError, Purpose, ReleasedAt,
};
use simin_wallet::{CredentialRecord, Holder, WalletStore};
use url::Url;

const GATEWAY_DID: &str = "did:simin:seoul.gateway";
const GATEWAY_KID: &str = "did:simin:seoul.gateway#key-1";
const CLIENT_ID: &str = "decentralized_identifier:did:simin:seoul.gateway";
const NONCE: &str = "nonce-7Tq2";
const STATE: &str = "state-Zx81";
const NOW: i64 = card::IAT + 3600;
/// The card number of the newest of the two cards in the test wallet.
const CARD_NUMBER: &str = "1100-2233-4455";

fn gateway_key() -> SigningKey {
    SigningKey::from_bytes(&[0x61; 32])
}

/// How the response endpoint answers.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Answer {
    /// `{"redirect_uri": ...}`.
    #[default]
    Redirect,
    /// `{"access_log": {...}}`.
    AccessLog,
    /// 400 `{"error": "invalid_request", ...}`.
    Refuse,
}

/// The scripted verifier.
#[derive(Default)]
struct Verifier {
    base: String,
    answer: Answer,
    /// The request object served at `/request/1`.
    request_object: Mutex<String>,
    request_fetches: AtomicUsize,
    resolutions: AtomicUsize,
    /// The bodies posted to `/response`.
    posts: Mutex<Vec<String>>,
}

type Shared = Arc<Verifier>;

async fn request_object(State(verifier): State<Shared>) -> Response {
    verifier.request_fetches.fetch_add(1, Ordering::SeqCst);
    let jws = verifier
        .request_object
        .lock()
        .expect("not poisoned")
        .clone();
    (
        [(header::CONTENT_TYPE, "application/oauth-authz-req+jwt")],
        jws,
    )
        .into_response()
}

async fn resolve(State(verifier): State<Shared>, Path(did): Path<String>) -> Response {
    verifier.resolutions.fetch_add(1, Ordering::SeqCst);
    if did != GATEWAY_DID {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"didResolutionMetadata": {"error": "notFound"}})),
        )
            .into_response();
    }
    Json(json!({
        "didDocument": {
            "id": GATEWAY_DID,
            "verificationMethod": [{
                // A relative id, as some documents write them.
                "id": "#key-1",
                "type": "Multikey",
                "controller": GATEWAY_DID,
                "publicKeyMultibase": ed25519_multikey(&gateway_key().verifying_key()),
            }],
            "authentication": [GATEWAY_KID],
            "capabilityInvocation": [GATEWAY_KID],
        },
        "didResolutionMetadata": {"contentType": "application/did+ld+json"},
        "didDocumentMetadata": {"deactivated": false},
    }))
    .into_response()
}

async fn response(State(verifier): State<Shared>, body: String) -> Response {
    verifier.posts.lock().expect("not poisoned").push(body);
    match verifier.answer {
        Answer::Redirect => Json(json!({"redirect_uri": format!("{}/done?session=1", verifier.base)}))
            .into_response(),
        Answer::AccessLog => Json(json!({"access_log": {"entries": [{
            "service_name": "Mapo Library",
            "client_id": "mapo-library-web",
            "organization": "mapo-library",
            "kind": "login",
            "claims": ["age_over_19", "card_number"],
            "released_at": 1_790_000_100_000u64,
            "height": 17,
            "commitment": "ab".repeat(32),
        }]}}))
        .into_response(),
        Answer::Refuse => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_request", "error_description": "the nonce was already used"})),
        )
            .into_response(),
    }
}

async fn access_log_start(State(verifier): State<Shared>) -> Response {
    Json(json!({"request_uri": link(&verifier.base, "")})).into_response()
}

/// Serves a verifier answering `answer`; returns it with its base URL set.
async fn serve(answer: Answer) -> Shared {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let verifier = Arc::new(Verifier {
        base,
        answer,
        ..Verifier::default()
    });
    let app = Router::new()
        .route("/request/1", get(request_object))
        .route("/v1/dids/{did}", get(resolve))
        .route("/response", post(response))
        .route("/access-log/start", get(access_log_start))
        .with_state(verifier.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serves") });
    verifier
}

fn encoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The request link of the verifier at `base`, with `extra` query parameters.
fn link(base: &str, extra: &str) -> String {
    format!(
        "openid4vp://?client_id={}&request_uri={}{extra}",
        encoded(CLIENT_ID),
        encoded(&format!("{base}/request/1"))
    )
}

/// A login request object's header and payload for the verifier at `base`.
fn login_request(base: &str) -> (Value, Value) {
    let header = json!({"typ": "oauth-authz-req+jwt", "kid": GATEWAY_KID});
    let payload = json!({
        "client_id": CLIENT_ID,
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": format!("{base}/response"),
        "nonce": NONCE,
        "state": STATE,
        "dcql_query": {"credentials": [{
            "id": "citizen_card",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": [card::VCT]},
            "claims": [{"path": ["card_number"]}, {"path": ["age_over_19"]}],
        }]},
        "client_metadata": {"vp_formats_supported": {"dc+sd-jwt": {}}},
        "iat": NOW - 10,
        "exp": NOW + 300,
        "simin_request": {"purpose": "login", "service": {
            "client_id": "mapo-library-web",
            "name": "Mapo Library",
            "organization": "mapo-library",
        }},
    });
    (header, payload)
}

fn sign(header: &Value, payload: &Value, key: &SigningKey) -> String {
    sign_compact_json(
        header.as_object().expect("an object"),
        payload.as_object().expect("an object"),
        &JwsSigner::Ed25519(key.clone()),
    )
}

/// Has the verifier serve `payload` under `header`, signed by `key`.
fn set_request(verifier: &Verifier, header: &Value, payload: &Value, key: &SigningKey) {
    *verifier.request_object.lock().expect("not poisoned") = sign(header, payload, key);
}

/// A wallet holding two cards bound to its key; the newer has [`CARD_NUMBER`].
fn wallet() -> (tempfile::TempDir, WalletStore, Holder) {
    let (tmp, dir) = common::wallet_dir();
    let mut store = common::create(&dir, 31);
    let holder = Holder::from_store(&store);
    for (received_at, number) in [
        (1_790_000_100, "1100-0000-0001"),
        (1_790_000_200, CARD_NUMBER),
    ] {
        let mut card = Card::for_holder(holder.jwk());
        card.claims.insert("card_number".into(), json!(number));
        let record = CredentialRecord {
            format: TYP_SD_JWT_VC.into(),
            credential: card.issue(),
            type_name: card::VCT.into(),
            issuer: card::ISSUER_DID.into(),
            received_at,
            label: None,
        };
        store
            .put_credential(&record, &mut common::rng(received_at))
            .expect("stored");
    }
    (tmp, store, holder)
}

fn client() -> Oid4vpClient {
    Oid4vpClient::new(&HttpConfig::default()).expect("a client")
}

fn node(verifier: &Verifier) -> Url {
    Url::parse(&verifier.base).expect("a URL")
}

/// Fetches the request the verifier serves.
async fn fetch(verifier: &Verifier) -> Result<AuthorizationRequest, Oid4vpError> {
    client()
        .fetch_request(&link(&verifier.base, ""), &node(verifier), NOW)
        .await
}

/// Fetches the request, picks the card and presents it.
async fn run(
    verifier: &Verifier,
    store: &WalletStore,
    holder: &Holder,
) -> Result<simin_wallet::oid4vp::VerifierAnswer, Oid4vpError> {
    let request = fetch(verifier).await?;
    let (_, record) = select_credential(store, &request.query)?;
    client().present(&request, &record, holder, NOW).await
}

/// The single posted body's `state` and its presentation for `citizen_card`.
fn posted_presentation(verifier: &Verifier) -> (String, String) {
    let posts = verifier.posts.lock().expect("not poisoned");
    assert_eq!(posts.len(), 1, "one response posted");
    let form: Map<String, Value> = url::form_urlencoded::parse(posts[0].as_bytes())
        .map(|(name, value)| (name.into_owned(), Value::String(value.into_owned())))
        .collect();
    assert_eq!(form.len(), 2, "vp_token and state only: {form:?}");
    let vp_token: Value =
        serde_json::from_str(form["vp_token"].as_str().expect("text")).expect("vp_token is JSON");
    let presentations = vp_token
        .as_object()
        .expect("vp_token is an object")
        .get("citizen_card")
        .and_then(Value::as_array)
        .expect("an array under the credential query id");
    assert_eq!(presentations.len(), 1);
    (
        form["state"].as_str().expect("text").to_owned(),
        presentations[0].as_str().expect("a string").to_owned(),
    )
}

#[tokio::test]
async fn a_login_presents_the_newest_card_with_only_the_asked_claims() {
    let verifier = serve(Answer::Redirect).await;
    let (header, payload) = login_request(&verifier.base);
    set_request(&verifier, &header, &payload, &gateway_key());
    let (_tmp, store, holder) = wallet();

    let request = fetch(&verifier).await.expect("a verified request");
    assert_eq!(request.client_id, CLIENT_ID);
    assert_eq!(request.verifier_did, GATEWAY_DID);
    assert_eq!(request.query.claims, ["card_number", "age_over_19"]);
    match &request.purpose {
        Purpose::Login { service } => {
            assert_eq!(service.name, "Mapo Library");
            assert_eq!(service.organization, "mapo-library");
        }
        other => panic!("{other:?}"),
    }
    let (_, record) = select_credential(&store, &request.query).expect("a card");
    let answer = client()
        .present(&request, &record, &holder, NOW)
        .await
        .expect("accepted");
    assert_eq!(
        answer.redirect_uri.map(String::from),
        Some(format!("{}/done?session=1", verifier.base))
    );
    assert_eq!(answer.access_log, None);

    let (state, presentation) = posted_presentation(&verifier);
    assert_eq!(state, STATE);
    let options = VerifyOptions::new(NOW).with_key_binding(NONCE, CLIENT_ID);
    let verified = sd_jwt::verify(
        &presentation,
        &Jwk::Ed25519(card::issuer_key().verifying_key()),
        &options,
    )
    .expect("the gateway can verify it");
    let claims = verified.claims.as_object().expect("an object");
    assert_eq!(claims["card_number"], json!(CARD_NUMBER), "the newest card");
    assert_eq!(claims["age_over_19"], json!(true));
    for hidden in ["name", "birthdate", "resident_district"] {
        assert!(!claims.contains_key(hidden), "{hidden} was disclosed");
    }
    assert_eq!(verified.disclosed_paths.len(), 2);
    // A presentation for another verifier's audience does not verify.
    let other = VerifyOptions::new(NOW).with_key_binding(NONCE, GATEWAY_DID);
    assert!(sd_jwt::verify(
        &presentation,
        &Jwk::Ed25519(card::issuer_key().verifying_key()),
        &other
    )
    .is_err());
}

#[tokio::test]
async fn a_request_signed_with_another_key_is_refused() {
    let verifier = serve(Answer::Redirect).await;
    let (header, payload) = login_request(&verifier.base);
    set_request(
        &verifier,
        &header,
        &payload,
        &SigningKey::from_bytes(&[0x62; 32]),
    );
    let err = fetch(&verifier).await.expect_err("refused");
    assert!(matches!(err, Oid4vpError::Signature(_)), "{err:?}");
    assert!(verifier.posts.lock().expect("not poisoned").is_empty());
}

#[tokio::test]
async fn a_key_of_another_did_is_refused_before_resolving_it() {
    let verifier = serve(Answer::Redirect).await;
    let (mut header, payload) = login_request(&verifier.base);
    header["kid"] = json!("did:simin:mapo-library#key-1");
    set_request(&verifier, &header, &payload, &gateway_key());
    let err = fetch(&verifier).await.expect_err("refused");
    assert!(matches!(err, Oid4vpError::KidMismatch { .. }), "{err:?}");
    assert_eq!(verifier.resolutions.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_expired_request_is_refused() {
    let verifier = serve(Answer::Redirect).await;
    let (header, mut payload) = login_request(&verifier.base);
    payload["iat"] = json!(NOW - 600);
    payload["exp"] = json!(NOW - 1);
    set_request(&verifier, &header, &payload, &gateway_key());
    let err = fetch(&verifier).await.expect_err("refused");
    assert!(
        matches!(err, Oid4vpError::Expired { expires_at, now } if expires_at == NOW - 1 && now == NOW),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_claim_the_card_lacks_is_refused_before_anything_is_sent() {
    let verifier = serve(Answer::Redirect).await;
    let (header, mut payload) = login_request(&verifier.base);
    payload["dcql_query"]["credentials"][0]["claims"] =
        json!([{"path": ["age_over_19"]}, {"path": ["passport_number"]}]);
    set_request(&verifier, &header, &payload, &gateway_key());
    let (_tmp, store, holder) = wallet();
    let request = fetch(&verifier).await.expect("a verified request");
    let (_, record) = select_credential(&store, &request.query).expect("a card");
    let err = check_claims(&record, &request.query).expect_err("missing");
    match &err {
        Oid4vpError::MissingClaims { missing, available } => {
            assert_eq!(missing, &["passport_number"]);
            assert!(
                available.contains(&"card_number".to_owned()),
                "{available:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("passport_number"), "{err}");
    let err = run(&verifier, &store, &holder).await.expect_err("refused");
    assert!(matches!(err, Oid4vpError::MissingClaims { .. }), "{err:?}");
    assert!(verifier.posts.lock().expect("not poisoned").is_empty());

    // A type the wallet does not hold is refused the same way.
    payload["dcql_query"]["credentials"][0]["meta"]["vct_values"] = json!(["DriverLicence"]);
    set_request(&verifier, &header, &payload, &gateway_key());
    let err = run(&verifier, &store, &holder).await.expect_err("refused");
    assert!(matches!(err, Oid4vpError::NoCredential { .. }), "{err:?}");
    assert!(verifier.posts.lock().expect("not poisoned").is_empty());
}

#[tokio::test]
async fn request_uri_method_post_is_refused_without_fetching() {
    let verifier = serve(Answer::Redirect).await;
    let (header, payload) = login_request(&verifier.base);
    set_request(&verifier, &header, &payload, &gateway_key());
    let err = client()
        .fetch_request(
            &link(&verifier.base, "&request_uri_method=post"),
            &node(&verifier),
            NOW,
        )
        .await
        .expect_err("refused");
    assert!(matches!(err, Oid4vpError::RequestUriMethodPost), "{err:?}");
    assert_eq!(verifier.request_fetches.load(Ordering::SeqCst), 0);
    // `get`, spelled out, is the default.
    client()
        .fetch_request(
            &link(&verifier.base, "&request_uri_method=get"),
            &node(&verifier),
            NOW,
        )
        .await
        .expect("fetched with GET");
}

#[tokio::test]
async fn the_verifiers_error_answer_is_surfaced() {
    let verifier = serve(Answer::Refuse).await;
    let (header, payload) = login_request(&verifier.base);
    set_request(&verifier, &header, &payload, &gateway_key());
    let (_tmp, store, holder) = wallet();
    let err = run(&verifier, &store, &holder).await.expect_err("refused");
    match &err {
        Oid4vpError::Refused {
            endpoint: Oid4vpEndpoint::ResponseUri,
            status: 400,
            error,
            description,
        } => {
            assert_eq!(error, "invalid_request");
            assert_eq!(description.as_deref(), Some("the nonce was already used"));
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("invalid_request") && text.contains("already used"),
        "{text}"
    );
}

#[tokio::test]
async fn the_access_log_is_read_with_the_card_number_only() {
    let verifier = serve(Answer::AccessLog).await;
    let (header, mut payload) = login_request(&verifier.base);
    payload["dcql_query"]["credentials"][0]["claims"] = json!([{"path": ["card_number"]}]);
    payload["simin_request"] = json!({"purpose": "access_log"});
    set_request(&verifier, &header, &payload, &gateway_key());
    let (_tmp, store, holder) = wallet();

    let client = client();
    let gateway = node(&verifier);
    let link = client.access_log_link(&gateway).await.expect("a link");
    let request = client
        .fetch_request(&link, &gateway, NOW)
        .await
        .expect("a verified request");
    assert_eq!(request.purpose, Purpose::AccessLog);
    let (_, record) = select_credential(&store, &request.query).expect("a card");
    let answer = client
        .present(&request, &record, &holder, NOW)
        .await
        .expect("accepted");
    let log = answer.access_log.expect("the log");
    assert_eq!(log.entries.len(), 1);
    let entry = &log.entries[0];
    assert_eq!(entry.service_name, "Mapo Library");
    assert_eq!(entry.claims, ["age_over_19", "card_number"]);
    assert_eq!(
        entry.released_at,
        Some(ReleasedAt::UnixMillis(1_790_000_100_000))
    );
    assert_eq!(entry.height, Some(17));

    let (_, presentation) = posted_presentation(&verifier);
    let verified = sd_jwt::verify(
        &presentation,
        &Jwk::Ed25519(card::issuer_key().verifying_key()),
        &VerifyOptions::new(NOW).with_key_binding(NONCE, CLIENT_ID),
    )
    .expect("verifies");
    let disclosed: Vec<String> = verified
        .disclosed_paths
        .iter()
        .map(|path| format!("{path:?}"))
        .collect();
    assert_eq!(disclosed.len(), 1, "{disclosed:?}");
    assert_eq!(verified.claims["card_number"], json!(CARD_NUMBER));
}

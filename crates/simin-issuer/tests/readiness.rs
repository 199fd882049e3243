//! The issuer offers and issues nothing until its status lists are committed: started
//! before its node, it answers `/health` and offers with 503 `not-ready` (saying what
//! it waits for), creates the lists by itself once the node runs, and then offers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use simin_issuer::{IssuerConfig, IssuerSecrets, IssuerService, SystemClock};
use simin_node::devnet::{self, DevnetSpec};
use simin_node::devnet_identity::{org_key_paths, DEVNET_CARD_ISSUER};
use simin_types::{OrgId, SigningKey};

const ADMIN_TOKEN: &str = "admin-token-for-tests-0123456789";

/// A loopback port free right now, with its `+ 100` neighbour (a devnet's peer port),
/// below Linux's ephemeral range (32768 and up): binding port 0 gave ephemeral ports,
/// which outgoing connections of parallel tests could take before the server bound them.
fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    for _ in 0..1_000 {
        // RandomState is seeded afresh per instance: a random start in every process.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        let offset = u16::try_from(hasher.finish() % 9_800).expect("below 9,800 fits in u16");
        let port = 2_000 + offset;
        if free(port) && free(port + 100) {
            return port;
        }
    }
    panic!("no free loopback port below the ephemeral range");
}

fn load_key(path: &std::path::Path) -> SigningKey {
    SigningKey::from_hex(std::fs::read_to_string(path).expect("a key file").trim()).expect("a key")
}

async fn get(http: &reqwest::Client, url: &str) -> (u16, Value) {
    let response = http.get(url).send().await.expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn offer(http: &reqwest::Client, base: &str) -> (u16, String, Value) {
    let response = http
        .post(format!("{base}/admin/offers"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({
            "credential_configuration_id": "CitizenCard",
            "claims": {
                "name": "Kim Minji", "birthdate": "1990-05-01", "resident_district": "Mapo-gu",
                "photo_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "card_number": "SC-2026-000123",
                "age_over_14": true, "age_over_19": true, "age_over_65": false,
            },
        }))
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (
        status,
        content_type,
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_offer_before_the_status_lists_are_committed() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let api: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let layout = devnet::ensure(&DevnetSpec {
        data_dir: dir.path().to_owned(),
        api_listen: api,
        validators: 1,
        full_nodes: 0,
    })
    .expect("laid out");
    let node_url = format!("http://{api}");
    let (org_key, assert_key) = org_key_paths(&dir.path().join("keys"), DEVNET_CARD_ISSUER);
    let issuer_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let base = format!("http://{issuer_addr}");
    let service = Arc::new(
        IssuerService::new(
            IssuerConfig::new(
                OrgId::new(DEVNET_CARD_ISSUER).expect("valid"),
                &node_url,
                &base,
                issuer_addr,
            ),
            IssuerSecrets {
                signing_key: load_key(&assert_key),
                org_key: load_key(&org_key),
                admin_token: ADMIN_TOKEN.into(),
            },
            &dir.path().join("issuer.redb"),
            Arc::new(SystemClock),
        )
        .expect("the service opens"),
    );
    let listener = tokio::net::TcpListener::bind(issuer_addr)
        .await
        .expect("listens");
    tokio::spawn(simin_issuer::serve(
        listener,
        service,
        std::future::pending(),
    ));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a client");

    // No node yet: not ready, and saying why.
    let (status, health) = get(&http, &format!("{base}/health")).await;
    assert_eq!(status, 503, "{health}");
    assert_eq!(health["ready"], false);
    let waits = health["waiting_for"].to_string();
    assert!(
        waits.contains(&format!("did:simin:{DEVNET_CARD_ISSUER}/status/0")),
        "{waits}"
    );
    let (status, content_type, problem) = offer(&http, &base).await;
    assert_eq!(status, 503, "{problem}");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(problem["type"], "https://simin.dev/problems/not-ready");

    // The node starts: the issuer creates its lists by itself and opens.
    let node = simin_node::start(&layout.homes[0])
        .await
        .expect("the node starts");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (status, health) = get(&http, &format!("{base}/health")).await;
        if status == 200 {
            assert_eq!(health["ready"], true, "{health}");
            break;
        }
        assert!(Instant::now() < deadline, "never ready: {health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Ready means committed: both lists are in the node's state now.
    for list in [0, 1] {
        let (status, credential) = get(
            &http,
            &format!("{node_url}/v1/status-lists/{DEVNET_CARD_ISSUER}/{list}"),
        )
        .await;
        assert_eq!(status, 200, "list {list}: {credential}");
    }
    let (status, _, created) = offer(&http, &base).await;
    assert_eq!(status, 201, "{created}");
    node.shutdown().await;
}

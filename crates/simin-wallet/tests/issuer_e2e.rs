//! The wallet against the real issuer (`simin-issuer`) and a real one-validator devnet:
//! the city registers and accredits an agency, the agency publishes its DID, its issuer
//! offers a citizen card; the wallet receives it with the pre-authorized code flow,
//! checks it against the DID document the node resolves, stores it and presents a
//! subset of its claims. Refusals (missing, wrong and reused codes, expired offers) come
//! back as the typed errors a citizen is shown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::OsRng;
use serde_json::{json, Map, Value};
use simin_identity::jose::Jwk;
use simin_identity::sd_jwt::{self, PathElement, VerifyOptions};
use simin_issuer::{IssuerConfig, IssuerSecrets, IssuerService, ManualClock};
use simin_node::devnet::{self, DevnetSpec};
use simin_types::{
    AccreditationTerms, BlockTime, Call, GovernanceCall, Height, IdentityCall, OrgId, Organization,
    Relationship, Role, SigningKey, Tx, VerificationMethod,
};
use simin_wallet::oid4vci::{
    Endpoint, HttpConfig, OAuthErrorCode, Oid4vciClient, Oid4vciError, ReceiveRequest,
};
use simin_wallet::present::{present, PresentationRequest};
use simin_wallet::{Holder, KdfParams, WalletStore};
use url::Url;

const ADMIN_TOKEN: &str = "admin-token-for-wallet-tests-0123";

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

fn agency() -> OrgId {
    OrgId::new("seoul.agency").expect("valid id")
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// Signs and commits a call through the node's API.
async fn commit(http: &reqwest::Client, base: &str, key: &SigningKey, nonce: &mut u64, call: Call) {
    let tx = Tx {
        chain_id: simin_types::ChainId::new(devnet::DEVNET_CHAIN_ID).expect("valid id"),
        signer: key.public_key(),
        nonce: *nonce,
        expiry_height: Height(100_000),
        call,
    }
    .sign(key);
    *nonce += 1;
    let answer: Value = http
        .post(format!("{base}/v1/txs?wait=commit"))
        .json(&json!({ "tx": hex::encode(tx.encode()) }))
        .send()
        .await
        .expect("the node answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        answer["committed"]["receipt"]["outcome"]["status"], "success",
        "{answer}"
    );
}

async fn wait_for_height(http: &reqwest::Client, base: &str, height: u64) {
    for _ in 0..600 {
        if let Ok(response) = http.get(format!("{base}/v1/status")).send().await {
            if let Ok(status) = response.json::<Value>().await {
                if status["latest_height"].as_u64().unwrap_or(0) >= height {
                    return;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("height {height} not reached in 60 s");
}

fn citizen_claims() -> Map<String, Value> {
    json!({
        "name": "Kim Min-ji",
        "birthdate": "1990-05-17",
        "resident_district": "Mapo-gu",
        "photo_sha256": "ab".repeat(32),
        "card_number": "SC-2026-000123",
        "age_over_14": true,
        "age_over_19": true,
        "age_over_65": false
    })
    .as_object()
    .expect("an object")
    .clone()
}

/// `POST /admin/offers`: (offer link, transaction code).
async fn create_offer(
    http: &reqwest::Client,
    issuer: &str,
    tx_code: bool,
) -> (String, Option<String>) {
    let created: Value = http
        .post(format!("{issuer}/admin/offers"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({
            "credential_configuration_id": "CitizenCard",
            "claims": citizen_claims(),
            "tx_code": tx_code,
        }))
        .send()
        .await
        .expect("the issuer answers")
        .json()
        .await
        .expect("JSON");
    let uri = created["credential_offer_uri"]
        .as_str()
        .unwrap_or_else(|| panic!("an offer: {created}"))
        .to_owned();
    (uri, created["tx_code"].as_str().map(str::to_owned))
}

fn refusal(result: Result<impl std::fmt::Debug, Oid4vciError>) -> (Endpoint, OAuthErrorCode) {
    match result {
        Err(Oid4vciError::Refused { endpoint, code, .. }) => (endpoint, code),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallet_receives_and_presents_a_card_from_the_real_issuer() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let api: SocketAddr = format!("127.0.0.1:{}", free_port())
        .parse()
        .expect("an address");
    let layout = devnet::ensure(&DevnetSpec {
        data_dir: dir.path().join("devnet"),
        api_listen: api,
        validators: 1,
        full_nodes: 0,
    })
    .expect("devnet laid out");
    let city =
        SigningKey::from_hex(&std::fs::read_to_string(&layout.authority_key).expect("key file"))
            .expect("a key");
    let node_url = format!("http://{api}");
    let node = simin_node::start(&layout.homes[0])
        .await
        .expect("node starts");
    let http = reqwest::Client::new();
    wait_for_height(&http, &node_url, 1).await;

    // The city registers and accredits the agency; the agency publishes its DID.
    let org_key = SigningKey::from_seed([10; 32]);
    let signing_key = SigningKey::from_seed([20; 32]);
    let (mut city_nonce, mut org_nonce) = (0, 0);
    commit(
        &http,
        &node_url,
        &city,
        &mut city_nonce,
        Call::Governance(GovernanceCall::RegisterOrganization(Organization {
            id: agency(),
            name: "Seoul Citizen Card Agency".into(),
            keys: vec![org_key.public_key()],
            roles: vec![Role::Agency, Role::Issuer],
            active: true,
        })),
    )
    .await;
    commit(
        &http,
        &node_url,
        &city,
        &mut city_nonce,
        Call::Identity(IdentityCall::Accredit(AccreditationTerms {
            issuer: agency(),
            credential_types: vec!["CitizenCard".into()],
            valid_from: BlockTime(0),
            valid_until: BlockTime(u64::MAX),
            may_accredit: false,
        })),
    )
    .await;
    commit(
        &http,
        &node_url,
        &org_key,
        &mut org_nonce,
        Call::Identity(IdentityCall::CreateDid {
            organization: agency(),
            verification_methods: vec![VerificationMethod {
                fragment: "key-1".into(),
                public_key: signing_key.public_key(),
                relationships: vec![
                    Relationship::AssertionMethod,
                    Relationship::CapabilityInvocation,
                ],
            }],
            services: vec![],
        }),
    )
    .await;

    // The issuer service.
    let issuer_port = free_port();
    let public_url = format!("http://127.0.0.1:{issuer_port}");
    let config = IssuerConfig::new(
        agency(),
        &node_url,
        &public_url,
        format!("127.0.0.1:{issuer_port}")
            .parse()
            .expect("an address"),
    );
    let clock = Arc::new(ManualClock::new(unix_now()));
    let service = Arc::new(
        IssuerService::new(
            config,
            IssuerSecrets {
                signing_key: signing_key.clone(),
                org_key,
                admin_token: ADMIN_TOKEN.into(),
            },
            &dir.path().join("issuer").join("issuer.redb"),
            clock.clone(),
        )
        .expect("the service opens"),
    );
    service
        .ensure_status_lists()
        .await
        .expect("status lists exist");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", issuer_port))
        .await
        .expect("bind");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(simin_issuer::serve(listener, service.clone(), async {
        let _ = stopped.await;
    }));

    // The citizen's wallet.
    let wallet_dir = dir.path().join("wallet");
    let mut store = WalletStore::create(
        &wallet_dir,
        "passphrase",
        KdfParams::insecure_for_tests(),
        &mut OsRng,
    )
    .expect("a wallet");
    let holder = Holder::from_store(&store);
    let client = Oid4vciClient::new(&HttpConfig::default()).expect("a client");
    let node_api = Url::parse(&node_url).expect("a URL");

    // An offer with a transaction code.
    let (uri, tx_code) = create_offer(&http, &public_url, true).await;
    let tx_code = tx_code.expect("a transaction code");
    let offer = client.resolve_offer(&uri).await.expect("the offer parses");
    assert_eq!(offer.credential_issuer, public_url);
    assert_eq!(offer.credential_configuration_ids, ["CitizenCard"]);
    let spec = offer
        .pre_authorized
        .as_ref()
        .and_then(|g| g.tx_code.clone())
        .expect("a transaction code is required");
    assert_eq!(spec.length, Some(6));
    let request = |tx_code: Option<&'static str>| ReceiveRequest {
        offer: &offer,
        holder: &holder,
        tx_code,
        node: Some(&node_api),
        now: i64::try_from(unix_now()).expect("fits"),
    };

    // Without the code nothing is sent; with a wrong one the token endpoint refuses.
    assert!(matches!(
        client.receive(&request(None)).await,
        Err(Oid4vciError::TxCodeRequired {
            length: Some(6),
            ..
        })
    ));
    let wrong = if tx_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    let wrong_attempt = client
        .receive(&ReceiveRequest {
            tx_code: Some(wrong),
            ..request(None)
        })
        .await;
    assert_eq!(
        refusal(wrong_attempt),
        (Endpoint::Token, OAuthErrorCode::InvalidGrant)
    );

    // With the right code: received, bound to the wallet, checked against the DID.
    let received = client
        .receive(&ReceiveRequest {
            tx_code: Some(tx_code.as_str()),
            ..request(None)
        })
        .await
        .expect("the card is received");
    assert_eq!(received.credentials.len(), 1);
    let card = &received.credentials[0];
    assert!(card.issuer_verified, "checked with the node's DID document");
    assert_eq!(card.configuration.id, "CitizenCard");
    assert_eq!(card.checked.issuer, "did:simin:seoul.agency");
    assert_eq!(card.checked.vct, "CitizenCard");
    assert_eq!(
        card.checked.kid.as_deref(),
        Some("did:simin:seoul.agency#key-1")
    );
    let id = store
        .put_credential(&card.checked.record(unix_now()), &mut OsRng)
        .expect("stored");
    let record = store.get_credential(id).expect("read back");
    assert_eq!(record.format, "dc+sd-jwt");
    assert_eq!(record.type_name, "CitizenCard");
    assert_eq!(record.issuer, "did:simin:seoul.agency");

    // The offer is single-use.
    let again = client
        .receive(&ReceiveRequest {
            tx_code: Some(tx_code.as_str()),
            ..request(None)
        })
        .await;
    assert_eq!(
        refusal(again),
        (Endpoint::Token, OAuthErrorCode::InvalidGrant)
    );

    // Present two claims to a verifier, who checks them with the DID's key.
    let chosen = vec!["name".to_owned(), "age_over_19".to_owned()];
    let now = i64::try_from(unix_now()).expect("fits");
    let presentation = present(
        &record,
        &holder,
        &PresentationRequest {
            disclose: &chosen,
            nonce: "verifier-nonce-1",
            audience: "https://library.seoul.example",
            issued_at: now,
        },
    )
    .expect("presents");
    let issuer_key = Jwk::Ed25519(
        ed25519_dalek::VerifyingKey::from_bytes(&signing_key.public_key().0).expect("a key"),
    );
    let options = VerifyOptions::new(now)
        .with_key_binding("verifier-nonce-1", "https://library.seoul.example");
    let verified = sd_jwt::verify(&presentation, &issuer_key, &options).expect("verifies");
    let mut disclosed = verified.disclosed_paths.clone();
    disclosed.sort();
    assert_eq!(
        disclosed,
        vec![
            vec![PathElement::from("age_over_19")],
            vec![PathElement::from("name")]
        ]
    );
    assert_eq!(verified.claims["name"], "Kim Min-ji");
    assert!(verified.claims.get("birthdate").is_none());

    // An offer left too long expires: the issuer's invalid_grant.
    let (late_uri, _) = create_offer(&http, &public_url, false).await;
    let late = client.resolve_offer(&late_uri).await.expect("parses");
    clock.advance(601);
    let expired = client
        .receive(&ReceiveRequest {
            offer: &late,
            tx_code: None,
            ..request(None)
        })
        .await;
    let (endpoint, code) = refusal(expired);
    assert_eq!(
        (endpoint, code),
        (Endpoint::Token, OAuthErrorCode::InvalidGrant)
    );

    // Without a node the credential is received but its signature is not checked. (The
    // issuer's clock is now 601 s ahead; the key proof's iat follows it.)
    let (plain_uri, _) = create_offer(&http, &public_url, false).await;
    let plain = client.resolve_offer(&plain_uri).await.expect("parses");
    let unchecked = client
        .receive(&ReceiveRequest {
            offer: &plain,
            holder: &holder,
            tx_code: None,
            node: None,
            now: i64::try_from(simin_issuer::Clock::now_secs(clock.as_ref())).expect("fits"),
        })
        .await
        .expect("received");
    assert!(!unchecked.credentials[0].issuer_verified);

    let _ = stop.send(());
    server.await.expect("the server task").expect("served");
    node.shutdown().await;
}

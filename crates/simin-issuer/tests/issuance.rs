//! The OpenID4VCI pre-authorised code flow end to end, over HTTP, against a real
//! one-validator devnet: the city registers and accredits an agency, the agency's DID
//! names the credential-signing key, and a wallet redeems offers while the issuer
//! refuses every replay, expiry and forgery; suspending a card sets its bit on chain.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use simin_identity::card;
use simin_identity::jose::{did_jwk, sign_compact_json, Jwk, JwsSigner};
use simin_identity::sd_jwt::{self, VerifyOptions, TYP_SD_JWT_VC};
use simin_issuer::{IssuerConfig, IssuerSecrets, IssuerService, ManualClock};
use simin_node::devnet::{self, DevnetSpec};
use simin_types::{
    AccreditationTerms, BlockTime, Call, GovernanceCall, Height, IdentityCall, OrgId, Organization,
    Relationship, Role, SigningKey, Tx, VerificationMethod,
};

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

fn agency() -> OrgId {
    OrgId::new("seoul.agency").expect("valid id")
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

/// A wallet's key proof.
fn proof(holder: &JwsSigner, by_did_jwk: bool, aud: &str, iat: u64, nonce: &str) -> String {
    let mut header = Map::new();
    header.insert("typ".into(), json!("openid4vci-proof+jwt"));
    if by_did_jwk {
        header.insert(
            "kid".into(),
            json!(format!("{}#0", did_jwk(&holder.public_jwk()))),
        );
    } else {
        header.insert("jwk".into(), holder.public_jwk().to_json());
    }
    let payload = json!({ "aud": aud, "iat": iat, "nonce": nonce });
    sign_compact_json(&header, payload.as_object().expect("an object"), holder)
}

/// The issuer under test, reached over HTTP.
struct Issuer {
    http: reqwest::Client,
    base: String,
    clock: Arc<ManualClock>,
}

impl Issuer {
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let response = request.send().await.expect("the issuer answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn offer(&self, claims: &Map<String, Value>, tx_code: bool) -> (u16, Value) {
        let (status, _, body) = self
            .send(
                self.http
                    .post(format!("{}/admin/offers", self.base))
                    .bearer_auth(ADMIN_TOKEN)
                    .json(&json!({
                        "credential_configuration_id": "CitizenCard",
                        "claims": claims,
                        "tx_code": tx_code
                    })),
            )
            .await;
        (status, body)
    }

    async fn token(&self, code: &str, tx_code: Option<&str>) -> (u16, Value) {
        let mut form = vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            ),
            ("pre-authorized_code", code),
        ];
        if let Some(tx_code) = tx_code {
            form.push(("tx_code", tx_code));
        }
        let (status, _, body) = self
            .send(self.http.post(format!("{}/token", self.base)).form(&form))
            .await;
        (status, body)
    }

    async fn nonce(&self) -> String {
        let (status, headers, body) = self
            .send(self.http.post(format!("{}/nonce", self.base)))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers["cache-control"], "no-store");
        body["c_nonce"].as_str().expect("a nonce").to_owned()
    }

    async fn credential(
        &self,
        token: Option<&str>,
        body: Value,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .http
            .post(format!("{}/credential", self.base))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    async fn admin_post(&self, path: &str) -> (u16, Value) {
        let (status, _, body) = self
            .send(
                self.http
                    .post(format!("{}{path}", self.base))
                    .bearer_auth(ADMIN_TOKEN),
            )
            .await;
        (status, body)
    }

    fn now(&self) -> u64 {
        use simin_issuer::Clock;
        self.clock.now_secs()
    }
}

fn code_of(offer: &Value) -> String {
    offer["credential_offer"]["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        ["pre-authorized_code"]
        .as_str()
        .expect("a code")
        .to_owned()
}

fn index_of(entry: &simin_identity::status_list::BitstringStatusListEntry) -> u64 {
    let index = entry.index().expect("a valid index");
    u64::try_from(index).expect("an index fits in u64")
}

fn request_with(proof_jwt: &str) -> Value {
    json!({ "credential_configuration_id": "CitizenCard", "proofs": { "jwt": [proof_jwt] } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_authorized_code_flow_against_a_real_node() {
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
            credential_types: vec!["CitizenCard".into(), "AgeOver".into()],
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

    // The issuer service, its status lists created on chain at start.
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
    let clock = Arc::new(ManualClock::new(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs(),
    ));
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
    service
        .check_did()
        .await
        .expect("the DID names the signing key");
    let impostor = IssuerService::new(
        IssuerConfig::new(
            agency(),
            &node_url,
            &public_url,
            "127.0.0.1:1".parse().expect("an address"),
        ),
        IssuerSecrets {
            signing_key: SigningKey::from_seed([99; 32]),
            org_key: SigningKey::from_seed([98; 32]),
            admin_token: ADMIN_TOKEN.into(),
        },
        &dir.path().join("impostor.redb"),
        Arc::new(ManualClock::new(0)),
    )
    .expect("opens");
    assert!(matches!(
        impostor.check_did().await,
        Err(simin_issuer::IssuerError::SigningKeyNotInDid { .. })
    ));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", issuer_port))
        .await
        .expect("bind");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(simin_issuer::serve(listener, service.clone(), async {
        let _ = stopped.await;
    }));
    let issuer = Issuer {
        http: http.clone(),
        base: public_url.clone(),
        clock,
    };

    // Metadata.
    let (status, _, metadata) = issuer
        .send(http.get(format!("{public_url}/.well-known/openid-credential-issuer")))
        .await;
    assert_eq!(status, 200, "{metadata}");
    assert_eq!(metadata["credential_issuer"], public_url);
    assert_eq!(
        metadata["credential_endpoint"],
        format!("{public_url}/credential")
    );
    assert_eq!(metadata["nonce_endpoint"], format!("{public_url}/nonce"));
    let citizen = &metadata["credential_configurations_supported"]["CitizenCard"];
    assert_eq!(citizen["format"], "dc+sd-jwt");
    assert_eq!(citizen["vct"], "CitizenCard");
    assert_eq!(
        citizen["cryptographic_binding_methods_supported"],
        json!(["jwk"])
    );
    assert_eq!(
        citizen["credential_signing_alg_values_supported"],
        json!(["EdDSA"])
    );
    assert_eq!(
        citizen["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"],
        json!(["EdDSA", "ES256"])
    );
    assert!(metadata["credential_configurations_supported"]["AgeOver"].is_object());
    assert!(metadata["credential_configurations_supported"]["Residency"].is_null());
    let (_, _, as_metadata) = issuer
        .send(http.get(format!(
            "{public_url}/.well-known/oauth-authorization-server"
        )))
        .await;
    assert_eq!(as_metadata["token_endpoint"], format!("{public_url}/token"));
    assert_eq!(
        as_metadata["pre-authorized_grant_anonymous_access_supported"],
        true
    );

    // Offers need the admin token and claims that satisfy the schema.
    let (status, _, _) = issuer
        .send(
            http.post(format!("{public_url}/admin/offers"))
                .json(&json!({})),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _, _) = issuer
        .send(
            http.post(format!("{public_url}/admin/offers"))
                .bearer_auth("wrong")
                .json(&json!({})),
        )
        .await;
    assert_eq!(status, 401);
    let mut missing = citizen_claims();
    missing.remove("card_number");
    let (status, body) = issuer.offer(&missing, false).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("card_number"),
        "{body}"
    );
    let mut bad = citizen_claims();
    bad.insert("birthdate".into(), json!("May 17"));
    assert_eq!(issuer.offer(&bad, false).await.0, 400);
    let (status, body) = issuer
        .send(
            http.post(format!("{public_url}/admin/offers"))
                .bearer_auth(ADMIN_TOKEN)
                .json(&json!({
                    "credential_configuration_id": "Residency", "claims": {}
                })),
        )
        .await
        .into_first_and_last();
    assert_eq!(status, 400, "not accredited for Residency: {body}");

    // An offer with a transaction code; its QR code.
    let (status, offer) = issuer.offer(&citizen_claims(), true).await;
    assert_eq!(status, 201, "{offer}");
    let uri = offer["credential_offer_uri"].as_str().expect("a URI");
    assert!(
        uri.starts_with("openid-credential-offer://?credential_offer=%7B%22"),
        "{uri}"
    );
    assert_eq!(offer["credential_offer"]["credential_issuer"], public_url);
    assert_eq!(
        offer["credential_offer"]["credential_configuration_ids"],
        json!(["CitizenCard"])
    );
    let tx_code = offer["tx_code"].as_str().expect("a tx code").to_owned();
    assert_eq!(tx_code.len(), 6);
    let (status, headers, svg) = issuer
        .send(http.get(offer["qr_svg_url"].as_str().expect("a URL")))
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/svg+xml");
    assert!(svg.as_str().unwrap_or_default().contains("<svg"));
    let code = code_of(&offer);

    // Token: a wrong transaction code, then the right one, then the code again.
    let wrong = if tx_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (status, body) = issuer.token(&code, Some(wrong)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (status, body) = issuer.token(&code, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    let (status, body) = issuer.token(&code, Some(&tx_code)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    let access_token = body["access_token"].as_str().expect("a token").to_owned();
    let (status, body) = issuer.token(&code, Some(&tx_code)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "the code is single-use: {body}"
    );
    let (status, body) = issuer
        .send(
            http.post(format!("{public_url}/token"))
                .form(&[("grant_type", "authorization_code"), ("code", "x")]),
        )
        .await
        .into_first_and_last();
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    // The redeemed offer no longer shows its code.
    let offer_id = offer["offer_id"].as_str().expect("an id");
    assert_eq!(
        issuer
            .send(http.get(format!("{public_url}/offers/{offer_id}/qr.svg")))
            .await
            .0,
        404
    );

    // Credential: refusals first.
    let holder = JwsSigner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[30; 32]));
    let nonce = issuer.nonce().await;
    let good = proof(&holder, false, &public_url, issuer.now(), &nonce);
    let (status, headers, body) = issuer.credential(None, request_with(&good)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token")),
        "{body}"
    );
    assert!(headers["www-authenticate"]
        .to_str()
        .expect("text")
        .starts_with("Bearer error=\"invalid_token\""));
    let (status, _, body) = issuer
        .credential(Some("not-a-token"), request_with(&good))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );
    let wrong_aud = proof(&holder, false, "https://evil.example", issuer.now(), &nonce);
    let (status, _, body) = issuer
        .credential(Some(&access_token), request_with(&wrong_aud))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_proof")),
        "{body}"
    );
    let mut forged = good.clone();
    let last = forged.pop().expect("a character");
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let (_, _, body) = issuer
        .credential(Some(&access_token), request_with(&forged))
        .await;
    assert_eq!(body["error"], "invalid_proof", "{body}");
    let unknown_nonce = proof(&holder, false, &public_url, issuer.now(), "never-issued");
    let (_, _, body) = issuer
        .credential(Some(&access_token), request_with(&unknown_nonce))
        .await;
    assert_eq!(body["error"], "invalid_nonce", "{body}");
    let (_, _, body) = issuer
        .credential(
            Some(&access_token),
            json!({ "credential_configuration_id": "Passport", "proofs": { "jwt": [good] } }),
        )
        .await;
    assert_eq!(body["error"], "unknown_credential_configuration", "{body}");
    let (_, _, body) = issuer
        .credential(
            Some(&access_token),
            json!({ "credential_configuration_id": "AgeOver", "proofs": { "jwt": [good] } }),
        )
        .await;
    assert_eq!(body["error"], "invalid_credential_request", "{body}");

    // Credential: issued, bound to the holder key, verifying with the DID's key.
    let (status, headers, body) = issuer
        .credential(Some(&access_token), request_with(&good))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    let sd_jwt_vc = body["credentials"][0]["credential"]
        .as_str()
        .expect("a credential")
        .to_owned();
    let issuer_key = Jwk::Ed25519(
        ed25519_dalek::VerifyingKey::from_bytes(&signing_key.public_key().0).expect("a key"),
    );
    let mut options = VerifyOptions::new(i64::try_from(issuer.now()).expect("fits"));
    options.expected_typ = Some(TYP_SD_JWT_VC.into());
    let verified =
        sd_jwt::verify(&sd_jwt_vc, &issuer_key, &options).expect("the credential verifies");
    assert_eq!(verified.header["kid"], "did:simin:seoul.agency#key-1");
    assert_eq!(verified.header["alg"], "EdDSA");
    assert_eq!(verified.claims["iss"], "did:simin:seoul.agency");
    assert_eq!(verified.claims["vct"], "CitizenCard");
    assert_eq!(verified.claims["cnf"]["jwk"], holder.public_jwk().to_json());
    for (name, value) in citizen_claims() {
        assert_eq!(verified.claims[&name], value, "{name}");
    }
    let entries = card::parse_status(&verified.claims).expect("status entries");
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[0].status_list_credential,
        "did:simin:seoul.agency/status/0"
    );
    assert_eq!(
        entries[1].status_list_credential,
        "did:simin:seoul.agency/status/1"
    );
    // The token and the nonce are spent.
    let (status, _, body) = issuer
        .credential(Some(&access_token), request_with(&good))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token")),
        "{body}"
    );

    // A second offer: the spent nonce is refused, a fresh one works (ES256, did:jwk).
    let (_, second) = issuer.offer(&citizen_claims(), false).await;
    let (status, token) = issuer.token(&code_of(&second), None).await;
    assert_eq!(status, 200, "{token}");
    let second_token = token["access_token"].as_str().expect("a token").to_owned();
    let wallet = JwsSigner::Es256(p256::ecdsa::SigningKey::from_slice(&[31; 32]).expect("a key"));
    let replay = proof(&wallet, true, &public_url, issuer.now(), &nonce);
    let (_, _, body) = issuer
        .credential(Some(&second_token), request_with(&replay))
        .await;
    assert_eq!(body["error"], "invalid_nonce", "{body}");
    let fresh = proof(
        &wallet,
        true,
        &public_url,
        issuer.now(),
        &issuer.nonce().await,
    );
    let legacy = json!({ "credential_configuration_id": "CitizenCard", "proof": { "proof_type": "jwt", "jwt": fresh } });
    let (status, _, body) = issuer.credential(Some(&second_token), legacy).await;
    assert_eq!(status, 200, "{body}");
    let second_vc = body["credentials"][0]["credential"]
        .as_str()
        .expect("a credential");
    let verified_second = sd_jwt::verify(second_vc, &issuer_key, &options).expect("verifies");
    assert_eq!(
        verified_second.claims["cnf"]["jwk"],
        wallet.public_jwk().to_json()
    );

    // An offer left too long expires, and so does a nonce.
    let (_, late) = issuer.offer(&citizen_claims(), false).await;
    let stale_nonce = issuer.nonce().await;
    issuer.clock.advance(601);
    let (status, body) = issuer.token(&code_of(&late), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (_, third) = issuer.offer(&citizen_claims(), false).await;
    let (status, token) = issuer.token(&code_of(&third), None).await;
    assert_eq!(status, 200, "{token}");
    let third_token = token["access_token"].as_str().expect("a token");
    let stale = proof(&holder, false, &public_url, issuer.now(), &stale_nonce);
    let (_, _, body) = issuer
        .credential(Some(third_token), request_with(&stale))
        .await;
    assert_eq!(body["error"], "invalid_nonce", "{body}");

    // The records hold no personal claims.
    let (status, _, list) = issuer
        .send(
            http.get(format!("{public_url}/admin/credentials"))
                .bearer_auth(ADMIN_TOKEN),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let records = list["credentials"].as_array().expect("records");
    assert_eq!(records.len(), 2);
    assert!(!list.to_string().contains("Kim Min-ji"));
    let first = records
        .iter()
        .find(|r| r["revocation_index"] == json!(index_of(&entries[0])))
        .expect("the first credential's record");
    let id = first["id"].as_str().expect("an id");
    assert_eq!(first["suspension_index"], json!(index_of(&entries[1])));

    // Suspend: the bit is set on chain; lift it; revoke for good.
    let suspension_index = &entries[1].status_list_index;
    let (status, change) = issuer
        .admin_post(&format!("/admin/credentials/{id}/suspend"))
        .await;
    assert_eq!(status, 200, "{change}");
    assert_eq!(change["state"], "suspended");
    wait_for_height(
        &http,
        &node_url,
        change["height"].as_u64().expect("a height"),
    )
    .await;
    let bit: Value = http
        .get(format!(
            "{node_url}/v1/status-lists/seoul.agency/1/{suspension_index}"
        ))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(bit["value"], true, "{bit}");
    assert_eq!(bit["purpose"], "suspension");
    let (status, change) = issuer
        .admin_post(&format!("/admin/credentials/{id}/unsuspend"))
        .await;
    assert_eq!(status, 200, "{change}");
    let bit: Value = http
        .get(format!(
            "{node_url}/v1/status-lists/seoul.agency/1/{suspension_index}"
        ))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(bit["value"], false, "{bit}");
    let (status, change) = issuer
        .admin_post(&format!("/admin/credentials/{id}/revoke"))
        .await;
    assert_eq!(status, 200, "{change}");
    let bit: Value = http
        .get(format!(
            "{node_url}/v1/status-lists/seoul.agency/0/{}",
            entries[0].status_list_index
        ))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(bit["value"], true, "{bit}");
    let (status, _) = issuer
        .admin_post(&format!("/admin/credentials/{id}/suspend"))
        .await;
    assert_eq!(status, 409, "a revoked credential stays revoked");
    let (status, _) = issuer
        .admin_post("/admin/credentials/00000000000000000000000000000000/suspend")
        .await;
    assert_eq!(status, 404);

    // The W3C VC API: the organisation's systems issue a VC 2.0 credential, which the
    // node's VC API verifier accepts. The node's clock is the real one.
    issuer.clock.set(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs(),
    );
    let unsigned = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "CitizenCard"],
        "credentialSubject": citizen_claims(),
    });
    let (status, _, refused) = issuer
        .send(
            issuer
                .http
                .post(format!("{}/credentials/issue", issuer.base))
                .json(&json!({ "credential": unsigned })),
        )
        .await;
    assert_eq!(status, 401, "the admin token is required: {refused}");
    let (status, _, issued) = issuer
        .send(
            issuer
                .http
                .post(format!("{}/credentials/issue", issuer.base))
                .bearer_auth(ADMIN_TOKEN)
                .json(&json!({ "credential": unsigned, "options": {} })),
        )
        .await;
    assert_eq!(status, 201, "{issued}");
    let vc = &issued["verifiableCredential"];
    assert_eq!(vc["proof"]["cryptosuite"], "eddsa-jcs-2022", "{vc}");
    assert_eq!(
        vc["credentialStatus"].as_array().map(Vec::len),
        Some(2),
        "{vc}"
    );
    let verdict: Value = issuer
        .http
        .post(format!("{node_url}/credentials/verify"))
        .json(&json!({ "verifiableCredential": vc }))
        .send()
        .await
        .expect("the node answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(verdict["verified"], true, "{verdict}");
    let mut bad_subject = unsigned.clone();
    bad_subject["credentialSubject"]["age_over_19"] = json!("yes");
    let (status, _, refused) = issuer
        .send(
            issuer
                .http
                .post(format!("{}/credentials/issue", issuer.base))
                .bearer_auth(ADMIN_TOKEN)
                .json(&json!({ "credential": bad_subject })),
        )
        .await;
    assert_eq!(status, 400, "claims outside the schema: {refused}");

    let _ = stop.send(());
    server.await.expect("the server task").expect("served");
    node.shutdown().await;
}

/// (status, body) of a (status, headers, body).
trait FirstAndLast {
    fn into_first_and_last(self) -> (u16, Value);
}

impl FirstAndLast for (u16, reqwest::header::HeaderMap, Value) {
    fn into_first_and_last(self) -> (u16, Value) {
        (self.0, self.2)
    }
}

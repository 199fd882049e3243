//! "Sign in with Citizen Card" against a real one-validator devnet: a service registered
//! on chain, the provider, a card issued by the devnet's citizen registry and a wallet
//! presenting it by OpenID4VP. Each refusal the issue names is answered with the error
//! the specifications name and leaves no code or token behind.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use simin_gateway::{Gateway, SystemClock};
use simin_identity::jose::{decode_compact_unverified, verify_compact, Jwk, JwsSigner};
use simin_identity::sd_jwt::{self, KeyBindingRequest, PathElement};
use simin_node::devnet_identity::DEVNET_IDENTITY_PROVIDER;

/// The demo city and the provider in front of its node.
struct World {
    city: City,
    gw: String,
}

impl std::ops::Deref for World {
    type Target = City;
    fn deref(&self) -> &City {
        &self.city
    }
}

impl std::ops::DerefMut for World {
    fn deref_mut(&mut self) -> &mut City {
        &mut self.city
    }
}

impl World {
    async fn start() -> World {
        let city = City::start().await;
        let gw_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let gw = format!("http://{gw_addr}");
        let config = city.gateway_config(
            &gw,
            &city.dir.path().join("gateway").join("access-log.redb"),
            Duration::from_millis(50),
        );
        let (gateway, writer) = Gateway::new(config, Arc::new(SystemClock)).expect("a gateway");
        let listener = tokio::net::TcpListener::bind(gw_addr)
            .await
            .expect("listens");
        tokio::spawn(simin_gateway::serve(
            listener,
            Arc::new(gateway),
            writer,
            std::future::pending(),
        ));
        World { city, gw }
    }
}

/// An OpenID Connect client in a browser: its PKCE verifier, state and nonce.
struct Login {
    verifier: String,
    state: String,
    nonce: String,
    /// The approval page's request id and cookie.
    id: String,
    cookie: String,
    request_uri: String,
}

impl World {
    /// Opens the approval page as a browser would.
    async fn begin(&self, client_id: &str, scope: &str) -> Login {
        let (verifier, challenge) = pkce();
        let response = self
            .http
            .get(authorize_url(
                &self.gw,
                client_id,
                LIBRARY_REDIRECT,
                scope,
                Some(&challenge),
            ))
            .send()
            .await
            .expect("authorize");
        assert_eq!(response.status(), 200);
        let cookie = response
            .headers()
            .get("set-cookie")
            .expect("a cookie")
            .to_str()
            .expect("ASCII")
            .split(';')
            .next()
            .expect("name=value")
            .to_owned();
        let page = response.text().await.expect("HTML");
        let link = page
            .split("data-wallet-link=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a wallet link")
            .replace("&amp;", "&");
        assert!(link.starts_with("openid4vp://?"), "{link}");
        let link = query_of(&link.replacen("openid4vp://", "openid4vp://x/", 1));
        let request_uri = link["request_uri"].clone();
        let id = request_uri.rsplit('/').next().expect("an id").to_owned();
        Login {
            verifier,
            state: "state-123".into(),
            nonce: "nonce-456".into(),
            id,
            cookie,
            request_uri,
        }
    }

    /// The wallet: fetches the request object, checks its signature, presents `card`.
    async fn approve(&self, login: &Login, card: &Card) -> (u16, Value) {
        let (request, asked) = self.request(login).await;
        let presentation = card.present(
            &asked,
            request["client_id"].as_str().expect("client_id"),
            request["nonce"].as_str().expect("nonce"),
        );
        self.post_vp(&request, &presentation).await
    }

    async fn request(&self, login: &Login) -> (Value, Vec<String>) {
        let jws = self
            .http
            .get(&login.request_uri)
            .send()
            .await
            .expect("request object")
            .text()
            .await
            .expect("text");
        let (header, _) = decode_compact_unverified(&jws).expect("a JWS");
        assert_eq!(header["typ"], "oauth-authz-req+jwt");
        assert_eq!(
            header["kid"],
            format!("did:simin:{DEVNET_IDENTITY_PROVIDER}#key-1")
        );
        // The wallet checks the signature with the provider's DID document on chain.
        let did: Value = self
            .http
            .get(format!(
                "{}/v1/dids/did:simin:{DEVNET_IDENTITY_PROVIDER}",
                self.node_url
            ))
            .send()
            .await
            .expect("DID")
            .json()
            .await
            .expect("JSON");
        let multikey = did["didDocument"]["verificationMethod"]
            .as_array()
            .expect("methods")
            .iter()
            .find(|m| m["id"] == header["kid"])
            .and_then(|m| m["publicKeyMultibase"].as_str())
            .expect("the kid is in the DID");
        let key = simin_identity::did_key::ed25519_from_multikey(multikey).expect("Ed25519");
        let (_, payload) =
            verify_compact(&jws, &Jwk::from_ed25519(&key)).expect("signed by the DID");
        let asked: Vec<String> = payload["dcql_query"]["credentials"][0]["claims"]
            .as_array()
            .expect("claims")
            .iter()
            .map(|c| c["path"][0].as_str().expect("a name").to_owned())
            .collect();
        (Value::Object(payload), asked)
    }

    async fn post_vp(&self, request: &Value, presentation: &str) -> (u16, Value) {
        let vp_token = json!({ "citizen_card": [presentation] }).to_string();
        let response = self
            .http
            .post(request["response_uri"].as_str().expect("response_uri"))
            .form(&[
                ("vp_token", vp_token.as_str()),
                ("state", request["state"].as_str().expect("state")),
            ])
            .send()
            .await
            .expect("direct_post");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON"))
    }

    /// The browser continues: the redirect to the service, with a code or an error.
    async fn continue_in_browser(
        &self,
        login: &Login,
    ) -> std::collections::HashMap<String, String> {
        let response = self
            .http
            .get(format!("{}/login/{}/continue", self.gw, login.id))
            .header("cookie", &login.cookie)
            .send()
            .await
            .expect("continue");
        assert_eq!(response.status(), 303);
        let location = response.headers()["location"].to_str().expect("ASCII");
        assert!(location.starts_with(LIBRARY_REDIRECT), "{location}");
        query_of(location)
    }

    async fn token(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Value) {
        let mut request = self.http.post(format!("{}/token", self.gw)).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        let response = request.send().await.expect("token");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON"))
    }

    async fn userinfo(&self, token: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}/userinfo", self.gw))
            .bearer_auth(token)
            .send()
            .await
            .expect("userinfo");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_signs_in_and_each_refusal_is_answered_per_the_specifications() {
    let mut world = World::start().await;
    let card = world.issue_card("SC-2026-000123");

    // Discovery and keys, as any client reads them.
    let discovery: Value = world
        .http
        .get(format!("{}/.well-known/openid-configuration", world.gw))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("JSON");
    assert_eq!(discovery["issuer"], world.gw);
    assert_eq!(discovery["subject_types_supported"], json!(["pairwise"]));
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        json!(["S256"])
    );
    let jwks: Value = world
        .http
        .get(discovery["jwks_uri"].as_str().expect("jwks_uri"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("JSON");
    let id_token_key = Jwk::from_json(&jwks["keys"][0]).expect("an Ed25519 JWK");

    // 1. The full flow: the wallet discloses only what the scopes need plus the card
    //    number, which the service never sees.
    let login = world
        .begin(LIBRARY, "openid age_over_19 resident_district")
        .await;
    let (request, asked) = world.request(&login).await;
    assert_eq!(asked, ["age_over_19", "resident_district", "card_number"]);
    assert_eq!(request["response_mode"], "direct_post");
    assert_eq!(request["simin_request"]["service"]["client_id"], LIBRARY);
    let presentation = card.present(
        &asked,
        request["client_id"].as_str().expect("client_id"),
        request["nonce"].as_str().expect("nonce"),
    );
    let (status, answer) = world.post_vp(&request, &presentation).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["redirect_uri"],
        format!("{}/login/{}/continue", world.gw, login.id)
    );
    // Replaying the same response to the same request: refused, nothing changes.
    let (status, again) = world.post_vp(&request, &presentation).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // Another browser (no cookie) cannot take the code.
    let stolen = world
        .http
        .get(format!("{}/login/{}/continue", world.gw, login.id))
        .send()
        .await
        .expect("continue");
    assert_eq!(stolen.status(), 404);
    let callback = world.continue_in_browser(&login).await;
    assert_eq!(callback["state"], login.state);
    assert_eq!(callback["iss"], world.gw);
    let code = callback["code"].clone();

    // PKCE mismatch: invalid_grant, and the code survives for its rightful redeemer.
    let (status, error) = world
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", LIBRARY_REDIRECT),
                ("client_id", LIBRARY),
                ("code_verifier", &"x".repeat(43)),
            ],
            None,
        )
        .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, error) = world
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://127.0.0.1:9/other"),
                ("client_id", LIBRARY),
                ("code_verifier", &login.verifier),
            ],
            None,
        )
        .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let good = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", LIBRARY_REDIRECT),
        ("client_id", LIBRARY),
        ("code_verifier", login.verifier.as_str()),
    ];
    let (status, tokens) = world.token(&good, None).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let (_, claims) = verify_compact(id_token, &id_token_key).expect("signed with the JWKS key");
    assert_eq!(claims["iss"], world.gw);
    assert_eq!(claims["aud"], LIBRARY);
    assert_eq!(claims["nonce"], login.nonce);
    assert_eq!(claims["age_over_19"], true);
    assert_eq!(claims["resident_district"], "Mapo-gu");
    assert!(claims.get("card_number").is_none() && claims.get("name").is_none());
    let subject = claims["sub"].as_str().expect("sub").to_owned();
    let access_token = tokens["access_token"].as_str().expect("token").to_owned();
    let (status, info) = world.userinfo(&access_token).await;
    assert_eq!(status, 200);
    assert_eq!(
        info,
        json!({"sub": subject, "age_over_19": true, "resident_district": "Mapo-gu"})
    );

    // Code reuse: invalid_grant, and the tokens issued for it stop working.
    let (status, error) = world.token(&good, None).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = world.userinfo(&access_token).await;
    assert_eq!(status, 401);

    // The same citizen again: the same pairwise subject at this organisation.
    let again = world.begin(LIBRARY, "openid age_over_19").await;
    assert_eq!(world.approve(&again, &card).await.0, 200);
    let callback = world.continue_in_browser(&again).await;
    let (status, tokens) = world
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &callback["code"]),
                ("redirect_uri", LIBRARY_REDIRECT),
                ("client_id", LIBRARY),
                ("code_verifier", &again.verifier),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let (_, claims) =
        verify_compact(tokens["id_token"].as_str().expect("id"), &id_token_key).expect("verifies");
    assert_eq!(claims["sub"], subject);
    assert!(
        claims.get("resident_district").is_none(),
        "only the asked scope"
    );

    // A confidential client authenticates with its secret (HTTP Basic).
    let confidential = world.begin(COUNTER, "openid age_over_19").await;
    assert_eq!(world.approve(&confidential, &card).await.0, 200);
    let callback = world.continue_in_browser(&confidential).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", callback["code"].as_str()),
        ("redirect_uri", LIBRARY_REDIRECT),
        ("code_verifier", confidential.verifier.as_str()),
    ];
    let (status, error) = world.token(&form, Some((COUNTER, "wrong"))).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, tokens) = world.token(&form, Some((COUNTER, COUNTER_SECRET))).await;
    assert_eq!(status, 200, "{tokens}");

    // 2. Refusals at the authorization endpoint.
    //    Unknown client and unregistered redirect URI: shown, never redirected.
    for url in [
        authorize_url(
            &world.gw,
            "nobody",
            LIBRARY_REDIRECT,
            "openid",
            Some(&pkce().1),
        ),
        authorize_url(
            &world.gw,
            LIBRARY,
            "http://127.0.0.1:9/evil",
            "openid",
            Some(&pkce().1),
        ),
    ] {
        let response = world.http.get(url).send().await.expect("authorize");
        assert_eq!(response.status(), 400);
        assert!(response.headers().get("location").is_none());
    }
    //    Beyond the registration, no PKCE for a public client, another response type:
    //    redirected with the named error and the state.
    for (scope, challenge, response_type, expected) in [
        ("openid name", Some(pkce().1), "code", "invalid_scope"),
        ("age_over_19", Some(pkce().1), "code", "invalid_scope"),
        ("openid age_over_19", None, "code", "invalid_request"),
        (
            "openid",
            Some(pkce().1),
            "token",
            "unsupported_response_type",
        ),
    ] {
        let url = authorize_url(
            &world.gw,
            LIBRARY,
            LIBRARY_REDIRECT,
            scope,
            challenge.as_deref(),
        )
        .replace(
            "response_type=code",
            &format!("response_type={response_type}"),
        );
        let response = world.http.get(url).send().await.expect("authorize");
        assert_eq!(response.status(), 303, "{scope}");
        let query = query_of(response.headers()["location"].to_str().expect("ASCII"));
        assert_eq!(query["error"], expected, "{scope}");
        assert_eq!(query["state"], "state-123");
        assert!(!query.contains_key("code"));
    }

    // 3. Refusals of the presentation: each ends the login with access_denied at the
    //    service and no code.
    //    A presentation made for another request (replayed): wrong nonce.
    let replay = world.begin(LIBRARY, "openid age_over_19").await;
    let (request, _) = world.request(&replay).await;
    let (status, error) = world.post_vp(&request, &presentation).await;
    assert_eq!(status, 400);
    assert!(
        error["error_description"]
            .as_str()
            .expect("text")
            .contains("wrong_nonce"),
        "{error}"
    );
    let callback = world.continue_in_browser(&replay).await;
    assert_eq!(callback["error"], "access_denied");
    assert!(!callback.contains_key("code"));
    //    A key binding signed too long ago (an expired presentation) is refused too.
    let stale = world.begin(LIBRARY, "openid age_over_19").await;
    let (request, asked) = world.request(&stale).await;
    let old = sd_jwt::present(
        &card.credential,
        &asked
            .iter()
            .map(|c| vec![PathElement::Name(c.clone())])
            .collect::<Vec<_>>(),
        Some(&KeyBindingRequest {
            signer: &JwsSigner::Ed25519(card.holder.clone()),
            audience: request["client_id"].as_str().expect("client_id"),
            nonce: request["nonce"].as_str().expect("nonce"),
            issued_at: now() - 3600,
        }),
    )
    .expect("presented");
    let (status, error) = world.post_vp(&request, &old).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(
        world.continue_in_browser(&stale).await["error"],
        "access_denied"
    );
    //    Withholding a claim the service asked for.
    let partial = world
        .begin(LIBRARY, "openid age_over_19 resident_district")
        .await;
    let (request, _) = world.request(&partial).await;
    let shown = card.present(
        &["age_over_19".into(), "card_number".into()],
        request["client_id"].as_str().expect("client_id"),
        request["nonce"].as_str().expect("nonce"),
    );
    let (status, error) = world.post_vp(&request, &shown).await;
    assert_eq!(status, 400);
    assert!(error["error_description"]
        .as_str()
        .expect("text")
        .contains("resident_district"));
    //    A suspended card, then a revoked one.
    let suspended = world.issue_card("SC-2026-000555");
    world.set_status(&suspended, 1).await;
    let login = world.begin(LIBRARY, "openid age_over_19").await;
    let (status, error) = world.approve(&login, &suspended).await;
    assert_eq!(status, 400);
    assert!(
        error["error_description"]
            .as_str()
            .expect("text")
            .contains("suspended"),
        "{error}"
    );
    assert_eq!(
        world.continue_in_browser(&login).await["error"],
        "access_denied"
    );
    let revoked = world.issue_card("SC-2026-000777");
    world.set_status(&revoked, 0).await;
    let login = world.begin(LIBRARY, "openid age_over_19").await;
    let (status, error) = world.approve(&login, &revoked).await;
    assert_eq!(status, 400);
    assert!(
        error["error_description"]
            .as_str()
            .expect("text")
            .contains("revoked"),
        "{error}"
    );

    // 4. The access log: the three logins of this citizen are on chain, under pairwise
    //    subjects, with claim names and no values; the citizen reads them with the card.
    let mut entries = Vec::new();
    for _ in 0..100 {
        let start: Value = world
            .http
            .get(format!("{}/access-log/start", world.gw))
            .send()
            .await
            .expect("start")
            .json()
            .await
            .expect("JSON");
        let link = start["request_uri"].as_str().expect("a link");
        let request_uri =
            query_of(&link.replacen("openid4vp://", "openid4vp://x/", 1))["request_uri"].clone();
        let login = Login {
            verifier: String::new(),
            state: String::new(),
            nonce: String::new(),
            id: String::new(),
            cookie: String::new(),
            request_uri,
        };
        let (request, asked) = world.request(&login).await;
        assert_eq!(
            asked,
            ["card_number"],
            "the log asks only for the card number"
        );
        let shown = card.present(
            &asked,
            request["client_id"].as_str().expect("client_id"),
            request["nonce"].as_str().expect("nonce"),
        );
        let (status, answer) = world.post_vp(&request, &shown).await;
        assert_eq!(status, 200, "{answer}");
        entries = answer["access_log"]["entries"]
            .as_array()
            .expect("entries")
            .clone();
        if entries.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert!(entries
        .iter()
        .all(|e| e["kind"] == "login" && e["organization"] == "mapo.library"));
    let claim_sets: Vec<&Value> = entries.iter().map(|e| &e["claims"]).collect();
    assert!(claim_sets.contains(&&json!(["age_over_19", "resident_district"])));
    // On chain, the record is under the service's pairwise subject, as the node serves it.
    let record: Value = world
        .http
        .get(format!("{}/v1/access-log/{subject}", world.node_url))
        .send()
        .await
        .expect("log")
        .json()
        .await
        .expect("JSON");
    let text = record.to_string();
    assert!(
        !text.contains("Mapo-gu") && !text.contains("SC-2026-000123"),
        "{text}"
    );
    assert_eq!(
        record["records"][0]["commitment"],
        hex::encode(Sha256::digest(id_token.as_bytes()))
    );

    if let Some(node) = world.node.take() {
        node.shutdown().await;
    }
}

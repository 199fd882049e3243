//! Nothing released is lost when the provider dies: the provider runs in a child process
//! (this test binary again, running `provider_child_process`), citizens sign in, and the
//! child is killed with SIGKILL right after the releases, while the access entries wait
//! for a batch window of an hour. Meanwhile some of them reach the chain anyway (as if
//! the provider's transaction had committed just before the kill). The provider is
//! started again on the same journal: every released login's access record is on chain
//! exactly once.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use simin_gateway::{Gateway, SystemClock};
use simin_identity::jose::decode_compact_unverified;
use simin_types::{AccessEntry, AccessKind, AuthCall, BlockTime, Call, Hash};

/// The environment variable that turns `provider_child_process` into a provider: the
/// path of its JSON configuration.
const CHILD_CONFIG: &str = "SIMIN_GATEWAY_TEST_CHILD";
/// Logins released before the kill.
const LOGINS: usize = 4;
/// Of those, how many reach the chain before the kill (by the test's own hand).
const LANDED: usize = 2;

/// The provider of a child process, from the configuration the parent wrote.
#[test]
#[ignore = "the provider process of released_logins_reach_the_chain_once_across_a_kill_9"]
fn provider_child_process() {
    let Ok(path) = std::env::var(CHILD_CONFIG) else {
        return;
    };
    let config: Value =
        serde_json::from_slice(&std::fs::read(path).expect("the config")).expect("JSON");
    let text = |name: &str| config[name].as_str().expect("a string").to_owned();
    // The parent shows this log when the test fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let gateway_config = provider_config(
            Path::new(&text("dir")),
            &text("node_url"),
            &text("public_url"),
            Path::new(&text("journal")),
            Duration::from_millis(config["batch_ms"].as_u64().expect("batch_ms")),
        );
        let (gateway, writer) =
            Gateway::new(gateway_config, Arc::new(SystemClock)).expect("a provider");
        let listener = tokio::net::TcpListener::bind(text("listen"))
            .await
            .expect("listens");
        simin_gateway::serve(listener, Arc::new(gateway), writer, std::future::pending())
            .await
            .expect("serves");
    });
}

/// A provider in a child process, killed with SIGKILL when dropped.
struct Provider(Child);

impl Provider {
    fn spawn(city: &City, listen: &str, journal: &Path, batch_ms: u64, log: &Path) -> Provider {
        let config = city.dir.path().join(format!("provider-{batch_ms}.json"));
        std::fs::write(
            &config,
            json!({
                "dir": city.dir.path(),
                "public_url": format!("http://{listen}"),
                "listen": listen,
                "node_url": city.node_url,
                "journal": journal,
                "batch_ms": batch_ms,
            })
            .to_string(),
        )
        .expect("config written");
        let log = std::fs::File::create(log).expect("a log file");
        let child = Command::new(std::env::current_exe().expect("this test binary"))
            .args([
                "provider_child_process",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env(CHILD_CONFIG, &config)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a log file"))
            .stderr(log)
            .spawn()
            .expect("the provider starts");
        Provider(child)
    }

    /// SIGKILL: no destructor, no flush, no graceful shutdown.
    fn kill_9(&mut self) {
        self.0.kill().expect("killed");
        self.0.wait().expect("reaped");
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            self.kill_9();
        }
    }
}

/// Waits until the provider's `/health` says ready.
async fn wait_ready(http: &reqwest::Client, gw: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = http.get(format!("{gw}/health")).send().await {
            let ready = response.status() == 200;
            let body: Value = response.json().await.unwrap_or(Value::Null);
            if ready {
                assert_eq!(body["ready"], true, "{body}");
                return body;
            }
        }
        assert!(Instant::now() < deadline, "the provider did not get ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One whole login of `card` at the library (public client, PKCE): the ID token the
/// service received.
async fn login(http: &reqwest::Client, gw: &str, card: &Card) -> String {
    let (verifier, challenge) = pkce();
    let scope = "openid age_over_19";
    let page = http
        .get(authorize_url(
            gw,
            LIBRARY,
            LIBRARY_REDIRECT,
            scope,
            Some(&challenge),
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(page.status(), 200);
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .expect("ASCII")
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();
    let html = page.text().await.expect("HTML");
    let link = html
        .split("data-wallet-link=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a wallet link")
        .replace("&amp;", "&");
    let link = query_of(&link.replacen("openid4vp://", "openid4vp://x/", 1));
    let request_uri = &link["request_uri"];
    let id = request_uri.rsplit('/').next().expect("an id");
    // The wallet: the request object (its signature is login.rs's concern), the answer.
    let jws = http
        .get(request_uri)
        .send()
        .await
        .expect("request object")
        .text()
        .await
        .expect("text");
    let (_, request) = decode_compact_unverified(&jws).expect("a JWS");
    let asked: Vec<String> = request["dcql_query"]["credentials"][0]["claims"]
        .as_array()
        .expect("claims")
        .iter()
        .map(|c| c["path"][0].as_str().expect("a name").to_owned())
        .collect();
    let presentation = card.present(
        &asked,
        request["client_id"].as_str().expect("client_id"),
        request["nonce"].as_str().expect("nonce"),
    );
    let vp_token = json!({ "citizen_card": [presentation] }).to_string();
    let answered = http
        .post(request["response_uri"].as_str().expect("response_uri"))
        .form(&[("vp_token", vp_token.as_str()), ("state", id)])
        .send()
        .await
        .expect("direct_post");
    assert_eq!(answered.status(), 200);
    let back = http
        .get(format!("{gw}/login/{id}/continue"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("continue");
    assert_eq!(back.status(), 303);
    let callback = query_of(back.headers()["location"].to_str().expect("ASCII"));
    let token: Value = http
        .post(format!("{gw}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", callback["code"].as_str()),
            ("redirect_uri", LIBRARY_REDIRECT),
            ("client_id", LIBRARY),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("JSON");
    token["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("an ID token in {token}"))
        .to_owned()
}

fn subject_of(id_token: &str) -> String {
    let payload = id_token.split('.').nth(1).expect("a JWT");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON");
    claims["sub"].as_str().expect("a subject").to_owned()
}

fn commitment_of(id_token: &str) -> Hash {
    Hash(Sha256::digest(id_token.as_bytes()).into())
}

/// The commitments of `subject`'s access log on chain, in order.
async fn logged(http: &reqwest::Client, node: &str, subject: &str) -> Vec<Hash> {
    let log: Value = http
        .get(format!("{node}/v1/access-log/{subject}?from=0&limit=256"))
        .send()
        .await
        .expect("access log")
        .json()
        .await
        .expect("JSON");
    log["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            let hex = r["commitment"].as_str().expect("hex");
            Hash(hex::decode(hex).expect("hex").try_into().expect("32 bytes"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn released_logins_reach_the_chain_once_across_a_kill_9() {
    let mut city = City::start().await;
    let card = city.issue_card("SC-2026-000777");
    let http = city.http.clone();
    let listen = format!("127.0.0.1:{}", free_port());
    let gw = format!("http://{listen}");
    let journal = city.dir.path().join("provider").join("access-log.redb");

    // A provider whose batch window (an hour) outlives it.
    let log = city.dir.path().join("provider-1.log");
    let mut first = Provider::spawn(&city, &listen, &journal, 3_600_000, &log);
    wait_ready(&http, &gw).await;
    let mut tokens = Vec::new();
    for _ in 0..LOGINS {
        tokens.push(login(&http, &gw, &card).await);
    }
    first.kill_9();
    let subject = subject_of(&tokens[0]);
    assert!(tokens.iter().all(|t| subject_of(t) == subject));
    assert!(
        logged(&http, &city.node_url, &subject).await.is_empty(),
        "nothing was submitted before the kill"
    );

    // The first entries land anyway: as if the provider's transaction had committed an
    // instant before the kill, too late for it to clear them from its journal.
    let (org_key, _) = city.provider_keys();
    let client = simin_client::Client::new(&city.node_url).expect("a client");
    let key = load_key(&org_key);
    let mut provider = Signer {
        nonce: client
            .account_next_nonce(&key.public_key())
            .await
            .expect("nonce"),
        key,
    };
    let entries = tokens[..LANDED]
        .iter()
        .map(|token| AccessEntry {
            kind: AccessKind::Login,
            client_id: LIBRARY.into(),
            subject: subject.clone(),
            claims: vec!["age_over_19".into()],
            commitment: commitment_of(token),
            released_at: BlockTime(u64::try_from(now()).expect("positive") * 1000),
        })
        .collect();
    provider
        .succeed(
            &http,
            &city.node_url,
            Call::Auth(AuthCall::RecordAccess { entries }),
        )
        .await;

    // The provider again, on the same journal: it replays what was not on chain.
    let log = city.dir.path().join("provider-2.log");
    let _second = Provider::spawn(&city, &listen, &journal, 50, &log);
    wait_ready(&http, &gw).await;
    let released: Vec<Hash> = tokens.iter().map(|t| commitment_of(t)).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while logged(&http, &city.node_url, &subject).await.len() < LOGINS {
        assert!(
            Instant::now() < deadline,
            "the journaled entries did not reach the chain; provider log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A few more blocks: nothing else arrives late.
    let height = client.status().await.expect("status").latest_height.0;
    wait_for_height(&http, &city.node_url, height + 3).await;
    let on_chain = logged(&http, &city.node_url, &subject).await;
    let mut counts: HashMap<Hash, usize> = HashMap::new();
    for commitment in &on_chain {
        *counts.entry(*commitment).or_default() += 1;
    }
    for (i, commitment) in released.iter().enumerate() {
        assert_eq!(
            counts.get(commitment),
            Some(&1),
            "login {i} is on chain once: {on_chain:?}"
        );
    }
    assert_eq!(on_chain.len(), LOGINS, "{on_chain:?}");

    // And the restarted provider logs new logins as before.
    let token = login(&http, &gw, &card).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !logged(&http, &city.node_url, &subject)
        .await
        .contains(&commitment_of(&token))
    {
        assert!(Instant::now() < deadline, "a new login was not logged");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if let Some(node) = city.node.take() {
        node.shutdown().await;
    }
}

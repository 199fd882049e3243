//! A demo city service, "Mapo Public Library", that signs its members in through the
//! provider exactly as any OpenID Connect relying party would: discovery, the
//! authorization code flow with PKCE (S256), `state` and `nonce`, the ID token's
//! signature checked against the provider's JWKS, then userinfo. It holds no blockchain
//! code and trusts nothing but the provider's metadata.
//!
//! `simin devnet` runs it next to the provider; the portal browser test signs in to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use simin_identity::jose::{decode_compact_unverified, verify_compact, Jwk};
use tracing::{info, warn};
use url::Url;

use crate::pages::escape;

/// Most sign-ins in progress and sessions the demo keeps.
const ENTRIES_MAX: usize = 10_000;
/// How long a sign-in may take and a session lasts.
const SIGN_IN_TTL: Duration = Duration::from_secs(600);
const SESSION_TTL: Duration = Duration::from_secs(3600);
const SESSION_COOKIE: &str = "library_session";

/// What the demo service is.
#[derive(Clone, Debug)]
pub struct DemoConfig {
    /// The provider's issuer URL.
    pub provider: String,
    /// The service's own base URL; its redirect URI is `<public_url>/callback`.
    pub public_url: String,
    pub client_id: String,
    pub name: String,
    /// The scopes it asks for, besides `openid`.
    pub scopes: Vec<String>,
}

impl DemoConfig {
    pub fn redirect_uri(&self) -> String {
        format!("{}/callback", self.public_url.trim_end_matches('/'))
    }
}

struct SignIn {
    nonce: String,
    verifier: String,
    started: Instant,
}

/// A signed-in member, as the service knows them: a pairwise subject and the claims.
#[derive(Clone)]
struct Member {
    subject: String,
    claims: Map<String, Value>,
    since: Instant,
}

struct Demo {
    config: DemoConfig,
    http: reqwest::Client,
    sign_ins: Mutex<HashMap<String, SignIn>>,
    sessions: Mutex<HashMap<String, Member>>,
}

fn random(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

fn bounded_insert<V>(
    map: &mut HashMap<String, V>,
    key: String,
    value: V,
    live: impl Fn(&V) -> bool,
) {
    if map.len() >= ENTRIES_MAX {
        map.retain(|_, v| live(v));
        if map.len() >= ENTRIES_MAX {
            map.clear();
        }
    }
    map.insert(key, value);
}

/// The demo service's routes.
pub fn router(config: DemoConfig) -> Router {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client with default TLS settings builds");
    let demo = Arc::new(Demo {
        config,
        http,
        sign_ins: Mutex::new(HashMap::new()),
        sessions: Mutex::new(HashMap::new()),
    });
    Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/logout", get(logout))
        .with_state(demo)
}

/// Serves the demo service on an already bound `listener`, within the default edge
/// limits (simin_api::edge), until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: DemoConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let address = listener.local_addr()?;
    tracing::info!(%address, "demo library listening");
    simin_api::edge::serve(
        listener,
        router(config),
        simin_api::EdgeLimits::default(),
        shutdown,
    )
    .await
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:680px;margin:40px auto;color:#223}}\
.card{{border:1px solid #dde;border-radius:10px;padding:20px}}a.button{{background:#1f7a4d;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none}}\
td{{padding:4px 10px}}code{{font-size:.8rem}}</style></head><body>{body}</body></html>",
        escape(title)
    );
    let mut response = Html(html).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn session_of(demo: &Demo, headers: &HeaderMap) -> Option<Member> {
    let id = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(n, _)| *n == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())?;
    let sessions = demo.sessions.lock().expect("never poisoned");
    sessions
        .get(&id)
        .filter(|m| m.since.elapsed() < SESSION_TTL)
        .cloned()
}

async fn home(State(demo): State<Arc<Demo>>, headers: HeaderMap) -> Response {
    let name = escape(&demo.config.name);
    match session_of(&demo, &headers) {
        Some(member) => {
            let rows: String = member
                .claims
                .iter()
                .map(|(k, v)| {
                    let value = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    format!(
                        "<tr><td>{}</td><td class=\"claim\" data-claim=\"{}\">{}</td></tr>",
                        escape(k),
                        escape(k),
                        escape(&value)
                    )
                })
                .collect();
            page(
                &demo.config.name,
                &format!(
                    "<h1>{name}</h1><div class=\"card\"><h2 id=\"welcome\">Welcome, member</h2>\
<p>Signed in with your citizen card. This library knows you as <code id=\"subject\">{}</code> \
and learned only:</p><table id=\"claims\">{rows}</table><p><a href=\"/logout\">Sign out</a></p></div>",
                    escape(&member.subject)
                ),
            )
        }
        None => page(
            &demo.config.name,
            &format!(
                "<h1>{name}</h1><div class=\"card\"><p>Borrow books, book study rooms and join events \
with your Seoul citizen card.</p><p><a class=\"button\" id=\"sign-in\" href=\"/login\">Sign in with Citizen Card</a></p></div>"
            ),
        ),
    }
}

/// The provider's metadata (fetched on every sign-in: the demo keeps no cache to go stale).
async fn discover(demo: &Demo) -> Result<Value, String> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        demo.config.provider.trim_end_matches('/')
    );
    let metadata: Value = demo
        .http
        .get(&url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| format!("discovery failed: {e}"))?
        .json()
        .await
        .map_err(|e| format!("discovery is not JSON: {e}"))?;
    if metadata["issuer"].as_str() != Some(demo.config.provider.trim_end_matches('/')) {
        return Err("the discovered issuer is not the configured provider".into());
    }
    Ok(metadata)
}

async fn login(State(demo): State<Arc<Demo>>) -> Response {
    let metadata = match discover(&demo).await {
        Ok(m) => m,
        Err(e) => return page("Sign-in unavailable", &format!("<p>{}</p>", escape(&e))),
    };
    let Some(endpoint) = metadata["authorization_endpoint"].as_str() else {
        return page("Sign-in unavailable", "<p>no authorization endpoint</p>");
    };
    let state = random(16);
    let nonce = random(16);
    let verifier = random(32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut url = match Url::parse(endpoint) {
        Ok(url) => url,
        Err(e) => {
            return page(
                "Sign-in unavailable",
                &format!("<p>{}</p>", escape(&e.to_string())),
            )
        }
    };
    let mut scope = vec!["openid".to_owned()];
    scope.extend(demo.config.scopes.iter().cloned());
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &demo.config.client_id)
        .append_pair("redirect_uri", &demo.config.redirect_uri())
        .append_pair("scope", &scope.join(" "))
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    {
        let mut sign_ins = demo.sign_ins.lock().expect("never poisoned");
        bounded_insert(
            &mut sign_ins,
            state,
            SignIn {
                nonce,
                verifier,
                started: Instant::now(),
            },
            |s| s.started.elapsed() < SIGN_IN_TTL,
        );
    }
    Redirect::to(url.as_str()).into_response()
}

#[derive(Debug, Deserialize)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(State(demo): State<Arc<Demo>>, Query(params): Query<CallbackParams>) -> Response {
    let sign_in = params.state.as_deref().and_then(|state| {
        demo.sign_ins
            .lock()
            .expect("never poisoned")
            .remove(state)
            .filter(|s| s.started.elapsed() < SIGN_IN_TTL)
    });
    let Some(sign_in) = sign_in else {
        return refused("unknown or expired sign-in (state)");
    };
    if let Some(error) = params.error {
        let description = params.error_description.unwrap_or_default();
        return refused(&format!("{error}: {description}"));
    }
    if params.iss.as_deref() != Some(demo.config.provider.trim_end_matches('/')) {
        // RFC 9207: the response names its issuer; a mix-up attack would name another.
        return refused("the response is not from the configured provider (iss)");
    }
    let Some(code) = params.code else {
        return refused("no code");
    };
    match finish(&demo, &code, &sign_in).await {
        Ok(member) => {
            let id = random(32);
            {
                let mut sessions = demo.sessions.lock().expect("never poisoned");
                bounded_insert(&mut sessions, id.clone(), member, |m| {
                    m.since.elapsed() < SESSION_TTL
                });
            }
            let mut response = Redirect::to("/").into_response();
            let cookie = format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax");
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(e) => {
            warn!(%e, "sign-in failed");
            refused(&e)
        }
    }
}

fn refused(reason: &str) -> Response {
    let mut response = page(
        "Sign-in failed",
        &format!(
            "<h1>Sign-in failed</h1><p id=\"error\">{}</p><p><a href=\"/\">Back</a></p>",
            escape(reason)
        ),
    );
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
}

/// The code exchange, the ID token's checks and userinfo.
async fn finish(demo: &Demo, code: &str, sign_in: &SignIn) -> Result<Member, String> {
    let metadata = discover(demo).await?;
    let field = |name: &str| {
        metadata[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("the provider has no {name}"))
    };
    let token_endpoint = field("token_endpoint")?;
    let tokens: Value = demo
        .http
        .post(&token_endpoint)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &demo.config.redirect_uri()),
            ("client_id", &demo.config.client_id),
            ("code_verifier", &sign_in.verifier),
        ])
        .send()
        .await
        .map_err(|e| format!("token request failed: {e}"))?
        .json()
        .await
        .map_err(|e| format!("token response is not JSON: {e}"))?;
    if let Some(error) = tokens["error"].as_str() {
        return Err(format!(
            "token endpoint: {error}: {}",
            tokens["error_description"]
        ));
    }
    let id_token = tokens["id_token"].as_str().ok_or("no id_token")?;
    let access_token = tokens["access_token"].as_str().ok_or("no access_token")?;
    let jwks: Value = demo
        .http
        .get(field("jwks_uri")?)
        .send()
        .await
        .map_err(|e| format!("JWKS request failed: {e}"))?
        .json()
        .await
        .map_err(|e| format!("JWKS is not JSON: {e}"))?;
    let (header, _) = decode_compact_unverified(id_token).map_err(|e| e.to_string())?;
    let kid = header["kid"].as_str().ok_or("the ID token has no kid")?;
    let key = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"].as_str() == Some(kid)))
        .ok_or("the ID token's key is not in the JWKS")?;
    let key = Jwk::from_json(key).map_err(|e| e.to_string())?;
    let (_, claims) = verify_compact(id_token, &key).map_err(|e| format!("ID token: {e}"))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if claims["iss"].as_str() != Some(demo.config.provider.trim_end_matches('/')) {
        return Err("ID token: wrong issuer".into());
    }
    if claims["aud"].as_str() != Some(demo.config.client_id.as_str()) {
        return Err("ID token: not for this service".into());
    }
    if claims["exp"].as_u64().is_none_or(|exp| exp <= now) {
        return Err("ID token: expired".into());
    }
    if claims["nonce"].as_str() != Some(sign_in.nonce.as_str()) {
        return Err("ID token: wrong nonce".into());
    }
    let subject = claims["sub"].as_str().ok_or("ID token: no sub")?.to_owned();
    let info: Value = demo
        .http
        .get(field("userinfo_endpoint")?)
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(|e| format!("userinfo request failed: {e}"))?
        .json()
        .await
        .map_err(|e| format!("userinfo is not JSON: {e}"))?;
    if info["sub"].as_str() != Some(subject.as_str()) {
        return Err("userinfo is about another subject".into());
    }
    let claims: Map<String, Value> = info
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| k.as_str() != "sub")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    info!(service = %demo.config.client_id, "member signed in");
    Ok(Member {
        subject,
        claims,
        since: Instant::now(),
    })
}

async fn logout(State(demo): State<Arc<Demo>>, headers: HeaderMap) -> Response {
    if let Some(member) = session_of(&demo, &headers) {
        demo.sessions
            .lock()
            .expect("never poisoned")
            .retain(|_, m| m.subject != member.subject);
    }
    Redirect::to("/").into_response()
}

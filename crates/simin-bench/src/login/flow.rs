//! One complete login over HTTP, as a service's browser and the citizen's wallet do it:
//! authorize, the request object, the presentation (built here, on the client's side),
//! the wallet's `direct_post`, back to the browser with the cookie, token, userinfo.
//! Every answer is checked; a login that ends without the released claims is an error.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use simin_identity::sd_jwt::{self, KeyBindingRequest, PathElement};
use url::Url;

use super::city::{self, Citizen, CLIENT_ID, REDIRECT_URI, SCOPES};

/// The steps of a login, in order; `present` is the wallet's own work, the others are one
/// HTTP exchange with the provider each.
pub const STEPS: [&str; 7] = [
    "authorize",
    "request_object",
    "present",
    "wallet_response",
    "continue",
    "token",
    "userinfo",
];
/// The index of the client-side step in [`STEPS`].
pub const PRESENT: usize = 2;
/// What the wallet discloses: the scopes' claims and the card number the provider asks for.
const DISCLOSED: [&str; 3] = ["age_over_19", "resident_district", "card_number"];

/// How long each step of one login took.
pub type StepTimes = [Duration; STEPS.len()];

/// An HTTP client for one simulated browser-and-wallet: keeps its connections, follows
/// no redirects (the benchmark reads them).
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(4)
        .build()?)
}

async fn body_of(response: Response, expected: StatusCode, what: &str) -> anyhow::Result<String> {
    let status = response.status();
    let text = response
        .text()
        .await
        .with_context(|| format!("{what}: body"))?;
    if status != expected {
        let start: String = text.chars().take(300).collect();
        bail!("{what}: status {status}, expected {expected}: {start}");
    }
    Ok(text)
}

/// The payload of a compact JWS, unverified.
fn jws_payload(jws: &str) -> anyhow::Result<Value> {
    let payload = jws.split('.').nth(1).context("a compact JWS")?;
    Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?)
}

fn text_of<'a>(value: &'a Value, name: &str) -> anyhow::Result<&'a str> {
    value[name]
        .as_str()
        .with_context(|| format!("{name} is missing in {value}"))
}

fn query_value(url: &Url, name: &str) -> anyhow::Result<String> {
    url.query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
        .with_context(|| format!("no {name} in {url}"))
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Runs login number `seq` of `citizen` against the provider at `gateway`.
pub async fn login(
    http: &reqwest::Client,
    gateway: &str,
    citizen: &Citizen,
    seq: usize,
) -> anyhow::Result<StepTimes> {
    let mut times = StepTimes::default();
    let verifier = URL_SAFE_NO_PAD.encode(city::seed("verifier", seq));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = format!("state-{seq}");
    let nonce = format!("nonce-{seq}");
    let scope = format!("openid {}", SCOPES.join(" "));

    // 1. The browser: the approval page, its cookie and the same-device wallet link.
    let start = Instant::now();
    let response = http
        .get(format!("{gateway}/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("scope", &scope),
            ("state", &state),
            ("nonce", &nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await?;
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("authorize: no cookie")?
        .to_owned();
    let page = body_of(response, StatusCode::OK, "authorize").await?;
    let (_, rest) = page
        .split_once("data-wallet-link=\"")
        .context("authorize: no wallet link")?;
    let link = rest.split('"').next().unwrap_or("").replace("&amp;", "&");
    let request_uri = query_value(&Url::parse(&link)?, "request_uri")?;
    times[0] = start.elapsed();

    // 2. The wallet fetches the request object.
    let start = Instant::now();
    let response = http.get(&request_uri).send().await?;
    let request = jws_payload(&body_of(response, StatusCode::OK, "request object").await?)?;
    times[1] = start.elapsed();

    // 3. The wallet presents the card, bound to the request's nonce and verifier.
    let start = Instant::now();
    let paths: Vec<Vec<PathElement>> = DISCLOSED
        .iter()
        .map(|name| vec![PathElement::from(*name)])
        .collect();
    let presentation = sd_jwt::present(
        &citizen.card,
        &paths,
        Some(&KeyBindingRequest {
            signer: &citizen.holder,
            audience: text_of(&request, "client_id")?,
            nonce: text_of(&request, "nonce")?,
            issued_at: now_secs(),
        }),
    )?;
    let vp_token = json!({ "citizen_card": [presentation] }).to_string();
    times[PRESENT] = start.elapsed();

    // 4. The wallet's direct_post; the provider has the node verify the presentation.
    let start = Instant::now();
    let response = http
        .post(text_of(&request, "response_uri")?)
        .form(&[
            ("vp_token", vp_token.as_str()),
            ("state", text_of(&request, "state")?),
        ])
        .send()
        .await?;
    let answer: Value =
        serde_json::from_str(&body_of(response, StatusCode::OK, "wallet response").await?)?;
    let continue_uri = text_of(&answer, "redirect_uri")?.to_owned();
    times[3] = start.elapsed();

    // 5. Back in the browser: the redirect to the service with the code.
    let start = Instant::now();
    let response = http
        .get(&continue_uri)
        .header(COOKIE, &cookie)
        .send()
        .await?;
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    body_of(response, StatusCode::SEE_OTHER, "continue").await?;
    let location = Url::parse(&location.context("continue: no Location")?)?;
    ensure!(
        query_value(&location, "state")? == state,
        "continue: wrong state"
    );
    let code = query_value(&location, "code")?;
    times[4] = start.elapsed();

    // 6. The service redeems the code.
    let start = Instant::now();
    let response = http
        .post(format!("{gateway}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", CLIENT_ID),
            ("code_verifier", &verifier),
        ])
        .send()
        .await?;
    let tokens: Value = serde_json::from_str(&body_of(response, StatusCode::OK, "token").await?)?;
    let id_token = jws_payload(text_of(&tokens, "id_token")?)?;
    ensure!(text_of(&id_token, "nonce")? == nonce, "token: wrong nonce");
    let access_token = text_of(&tokens, "access_token")?.to_owned();
    times[5] = start.elapsed();

    // 7. The service reads the claims.
    let start = Instant::now();
    let response = http
        .get(format!("{gateway}/userinfo"))
        .bearer_auth(&access_token)
        .send()
        .await?;
    let info: Value = serde_json::from_str(&body_of(response, StatusCode::OK, "userinfo").await?)?;
    ensure!(
        info["sub"] == id_token["sub"] && info["resident_district"].is_string(),
        "userinfo: unexpected {info}"
    );
    times[6] = start.elapsed();
    Ok(times)
}

//! The provider's logic, one method per endpoint, free of HTTP: [`Gateway`].

use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use simin_identity::jose::{b64url_encode, sign_compact_json, Jwk, JwsSigner};
use simin_types::identity::did_of;
use simin_types::{AccessEntry, AccessKind, BlockTime, Hash, OrgId, ServiceRegistration};
use tracing::{info, warn};
use url::Url;

use crate::access_log::AccessLog;
use crate::claims::{self, OPENID};
use crate::error::{AuthorizeError, GatewayError, OAuthError};
use crate::node::{NodeLink, LOG_RECORDS_MAX};
use crate::sessions::{
    digest, CodeGrant, CodeRefusal, LoginRequest, Outcome, Pending, Purpose, Sessions, TokenGrant,
};
use crate::{Clock, GatewayConfig, CARD_QUERY_ID, CARD_TYPE, CLIENT_ID_PREFIX_DID, SUBJECT_CLAIM};

/// Longest `state` or `nonce` accepted from a client.
const CLIENT_VALUE_BYTES_MAX: usize = 512;
/// The scheme of same-device wallet links.
pub const WALLET_SCHEME: &str = "openid4vp://";

/// The pairwise subject of a citizen (by card number) at a sector (an organisation):
/// base64url of HMAC-SHA-256 under the provider's secret (OpenID Connect Core 8.1).
pub fn pairwise_subject(secret: &[u8; 32], sector: &OrgId, card_number: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key size");
    mac.update(b"simin pairwise subject v1\0");
    mac.update(sector.as_str().as_bytes());
    mac.update(b"\0");
    mac.update(card_number.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The parameters of an authorization request (OpenID Connect Core 3.1.2.1).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub response_mode: Option<String>,
    pub prompt: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
}

/// What the approval page shows.
#[derive(Clone, Debug)]
pub struct Approval {
    pub id: String,
    /// The secret the browser keeps in a cookie: only it receives the result.
    pub browser_secret: String,
    /// `None` for the access log.
    pub service: Option<(String, OrgId)>,
    /// `(scope, what it shares)`.
    pub scopes: Vec<(String, &'static str)>,
    /// The OpenID4VP link, for the QR code and the same-device button.
    pub wallet_link: String,
}

/// The parameters of a token request (RFC 6749 section 4.1.3, RFC 7636).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// What the wallet is told after its `direct_post`.
#[derive(Clone, Debug)]
pub enum WalletAnswer {
    /// Continue in the browser at this URL (same-device flows).
    Continue(String),
    /// The citizen's access log.
    AccessLog(Value),
}

/// The browser's view of a wallet request.
#[derive(Clone, Debug)]
pub enum BrowserOutcome {
    Waiting,
    /// Go to this URL (the service's redirect URI, with a code or an error).
    Redirect(String),
    /// Show the access log.
    AccessLog(Value),
    /// This browser took the result already.
    Taken,
}

/// The OpenID Connect provider.
pub struct Gateway {
    issuer: String,
    organization: OrgId,
    /// `decentralized_identifier:did:simin:<org>`: the OpenID4VP client id and the
    /// audience of the citizen's key binding.
    vp_client_id: String,
    kid: String,
    signer: JwsSigner,
    pairwise_secret: zeroize::Zeroizing<[u8; 32]>,
    timeouts: crate::Timeouts,
    clock: Arc<dyn Clock>,
    pub(crate) node: Arc<NodeLink>,
    sessions: Sessions,
    log: AccessLog,
    /// Set once the access entries a previous run left in the journal were replayed.
    replayed: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("issuer", &self.issuer)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// A provider, and the queue its access-log writer (see [`crate::serve`]) drains.
    pub fn new(
        config: GatewayConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<(Gateway, AccessLogWriter), GatewayError> {
        let issuer = config.public_url.trim_end_matches('/').to_owned();
        let url = Url::parse(&issuer).map_err(|e| GatewayError::Config(e.to_string()))?;
        if !matches!(url.scheme(), "https" | "http") || url.query().is_some() {
            return Err(GatewayError::Config(
                "the public URL is an http(s) URL without query".into(),
            ));
        }
        let did = did_of(&config.organization);
        let node = Arc::new(NodeLink::new(
            &config.node_url,
            config.timeouts.registry_cache,
        )?);
        let (log, input) = AccessLog::open(&config.access_log_path)?;
        let replayed = input.replayed.clone();
        let writer = AccessLogWriter {
            node: node.clone(),
            key: config.org_key,
            input,
            window: config.timeouts.access_batch,
        };
        Ok((
            Gateway {
                vp_client_id: format!("{CLIENT_ID_PREFIX_DID}{did}"),
                kid: format!("{did}#{}", config.signing_fragment),
                issuer,
                organization: config.organization,
                signer: JwsSigner::Ed25519(config.signing_key),
                pairwise_secret: config.pairwise_secret,
                timeouts: config.timeouts,
                clock,
                node,
                sessions: Sessions::default(),
                log,
                replayed,
            },
            writer,
        ))
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// What the provider still waits for before it is fully up: the replay of the
    /// access entries a previous run left in the journal. Logins work meanwhile (new
    /// entries are journaled as usual); the list says when the log is complete on chain.
    pub fn waiting_for(&self) -> Vec<String> {
        let mut waits = Vec::new();
        if !self.replayed.load(std::sync::atomic::Ordering::Acquire) {
            waits.push("the replay of access entries journaled by a previous run".to_owned());
        }
        waits
    }

    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    fn expiry(&self, ttl: std::time::Duration) -> u64 {
        self.now_ms()
            .saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
    }

    /// `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0).
    pub fn discovery(&self) -> Value {
        let base = &self.issuer;
        json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "userinfo_endpoint": format!("{base}/userinfo"),
            "jwks_uri": format!("{base}/jwks"),
            "scopes_supported": claims::supported_scopes(),
            "claims_supported": claims::supported_claims(),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["EdDSA"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "authorization_response_iss_parameter_supported": true,
            "service_documentation": format!("{base}/"),
        })
    }

    /// `/jwks`: the key of ID tokens.
    pub fn jwks(&self) -> Value {
        let mut key = self.signer.public_jwk().to_json();
        key["kid"] = Value::from(self.kid.as_str());
        key["use"] = Value::from("sig");
        key["alg"] = Value::from("EdDSA");
        json!({ "keys": [key] })
    }

    fn wallet_link(&self, id: &str) -> String {
        let request_uri = format!("{}/oid4vp/requests/{id}", self.issuer);
        let mut link = Url::parse("openid4vp://").expect("a valid URL");
        link.query_pairs_mut()
            .append_pair("client_id", &self.vp_client_id)
            .append_pair("request_uri", &request_uri);
        link.to_string()
    }

    /// The authorization endpoint: checks the request against the service's registration
    /// and opens a wallet request.
    pub async fn authorize(&self, params: &AuthorizeParams) -> Result<Approval, AuthorizeError> {
        let show = |code, text: &str| AuthorizeError::Show(OAuthError::new(code, text));
        let client_id = params
            .client_id
            .as_deref()
            .ok_or_else(|| show("invalid_request", "client_id is missing"))?;
        let service = self
            .node
            .service(client_id)
            .await
            .map_err(|e| AuthorizeError::Show(e.into()))?
            .filter(|s| s.active)
            .ok_or_else(|| show("invalid_client", "the client is not a registered service"))?;
        let redirect_uri = params
            .redirect_uri
            .as_deref()
            .ok_or_else(|| show("invalid_request", "redirect_uri is missing"))?;
        if !service.redirect_uris.iter().any(|r| r == redirect_uri) {
            return Err(show(
                "invalid_request",
                "redirect_uri is not one the service registered",
            ));
        }
        let state = params.state.clone();
        let redirect = |error: OAuthError| AuthorizeError::Redirect {
            redirect_uri: redirect_uri.to_owned(),
            state: state.clone(),
            error,
        };
        let login = self
            .check_login_request(params, &service)
            .map_err(redirect)?;
        let id = random_token(16);
        let browser_secret = random_token(32);
        let pending = Pending {
            purpose: Purpose::Login(Box::new(login.clone())),
            vp_nonce: random_token(24),
            browser: Some(digest(&browser_secret)),
            expires_ms: self.expiry(self.timeouts.login),
            outcome: Outcome::Waiting,
        };
        self.sessions
            .insert_pending(id.clone(), pending)
            .map_err(|e| redirect(e.into()))?;
        Ok(Approval {
            wallet_link: self.wallet_link(&id),
            id,
            browser_secret,
            service: Some((service.name.clone(), service.organization.clone())),
            scopes: login
                .scopes
                .iter()
                .map(|s| (s.clone(), claims::describe(s)))
                .collect(),
        })
    }

    fn check_login_request(
        &self,
        params: &AuthorizeParams,
        service: &ServiceRegistration,
    ) -> Result<LoginRequest, OAuthError> {
        if params.request.is_some() {
            return Err(OAuthError::new(
                "request_not_supported",
                "request objects are not supported",
            ));
        }
        if params.request_uri.is_some() {
            return Err(OAuthError::new(
                "request_uri_not_supported",
                "request_uri is not supported",
            ));
        }
        match params.response_type.as_deref() {
            Some("code") => {}
            Some(_) => {
                return Err(OAuthError::new(
                    "unsupported_response_type",
                    "only the authorization code flow (response_type=code) is supported",
                ))
            }
            None => return Err(OAuthError::invalid_request("response_type is missing")),
        }
        if params
            .response_mode
            .as_deref()
            .is_some_and(|m| m != "query")
        {
            return Err(OAuthError::invalid_request(
                "only response_mode=query is supported",
            ));
        }
        for (name, value) in [("state", &params.state), ("nonce", &params.nonce)] {
            if value
                .as_ref()
                .is_some_and(|v| v.len() > CLIENT_VALUE_BYTES_MAX)
            {
                return Err(OAuthError::invalid_request(format!(
                    "{name} is over {CLIENT_VALUE_BYTES_MAX} bytes"
                )));
            }
        }
        let requested: Vec<&str> = params
            .scope
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
            .collect();
        if !requested.contains(&OPENID) {
            return Err(OAuthError::new(
                "invalid_scope",
                "an OpenID Connect request needs the openid scope",
            ));
        }
        let mut scopes: Vec<String> = Vec::new();
        for scope in requested.into_iter().filter(|s| *s != OPENID) {
            if claims::claims_of(scope).is_none() {
                return Err(OAuthError::new(
                    "invalid_scope",
                    format!("unknown scope {scope}"),
                ));
            }
            if !service.scopes.iter().any(|s| s == scope) {
                return Err(OAuthError::new(
                    "invalid_scope",
                    format!("scope {scope} is beyond the service's registration"),
                ));
            }
            if !scopes.iter().any(|s| s == scope) {
                scopes.push(scope.to_owned());
            }
        }
        match params.code_challenge_method.as_deref() {
            None | Some("S256") => {}
            Some(_) => {
                return Err(OAuthError::invalid_request(
                    "code_challenge_method must be S256",
                ))
            }
        }
        let code_challenge = params.code_challenge.clone();
        match &code_challenge {
            Some(challenge) => {
                if params.code_challenge_method.is_none() {
                    // RFC 7636 would default to `plain`, which is not accepted here.
                    return Err(OAuthError::invalid_request(
                        "code_challenge_method must be S256",
                    ));
                }
                if challenge.len() != 43 || URL_SAFE_NO_PAD.decode(challenge).is_err() {
                    return Err(OAuthError::invalid_request(
                        "code_challenge must be the base64url SHA-256 of the verifier",
                    ));
                }
            }
            None if service.secret_hash.is_none() => {
                return Err(OAuthError::invalid_request(
                    "a public client must use PKCE (code_challenge with S256)",
                ))
            }
            None => {}
        }
        if params
            .prompt
            .as_deref()
            .is_some_and(|p| p.split(' ').any(|p| p == "none"))
        {
            return Err(OAuthError::new(
                "login_required",
                "every login is approved with the citizen's wallet",
            ));
        }
        Ok(LoginRequest {
            client_id: service.client_id.clone(),
            service_name: service.name.clone(),
            organization: service.organization.clone(),
            redirect_uri: params.redirect_uri.clone().unwrap_or_default(),
            state: params.state.clone(),
            nonce: params.nonce.clone(),
            code_challenge,
            claims: claims::claims_for(&scopes),
            scopes,
        })
    }

    /// Opens a request to show the citizen their access log; `browser` when a browser
    /// will wait for it (it then gets a cookie secret).
    pub fn start_access_log(&self, browser: bool) -> Result<Approval, GatewayError> {
        let id = random_token(16);
        let browser_secret = random_token(32);
        let pending = Pending {
            purpose: Purpose::AccessLog,
            vp_nonce: random_token(24),
            browser: browser.then(|| digest(&browser_secret)),
            expires_ms: self.expiry(self.timeouts.login),
            outcome: Outcome::Waiting,
        };
        self.sessions.insert_pending(id.clone(), pending)?;
        Ok(Approval {
            wallet_link: self.wallet_link(&id),
            id,
            browser_secret,
            service: None,
            scopes: Vec::new(),
        })
    }

    /// The wallet link of a request still waiting for the wallet.
    pub fn wallet_link_of(&self, id: &str) -> Option<String> {
        self.sessions
            .pending(id, self.now_ms())
            .filter(|p| matches!(p.outcome, Outcome::Waiting))
            .map(|_| self.wallet_link(id))
    }

    /// The signed OpenID4VP request object of a waiting request.
    pub fn request_object(&self, id: &str) -> Result<String, OAuthError> {
        let now_ms = self.now_ms();
        let pending = self
            .sessions
            .pending(id, now_ms)
            .filter(|p| matches!(p.outcome, Outcome::Waiting))
            .ok_or_else(|| OAuthError::invalid_request("no such request, or it expired"))?;
        let (asked, simin_request) = match &pending.purpose {
            Purpose::Login(login) => {
                let mut asked = login.claims.clone();
                asked.push(SUBJECT_CLAIM.to_owned());
                let request = json!({
                    "purpose": "login",
                    "service": {
                        "client_id": login.client_id,
                        "name": login.service_name,
                        "organization": login.organization.as_str(),
                    },
                });
                (asked, request)
            }
            Purpose::AccessLog => (
                vec![SUBJECT_CLAIM.to_owned()],
                json!({ "purpose": "access_log" }),
            ),
        };
        let claims: Vec<Value> = asked.iter().map(|c| json!({ "path": [c] })).collect();
        let now = now_ms / 1000;
        let payload = json!({
            "iss": self.vp_client_id,
            "aud": "https://self-issued.me/v2",
            "client_id": self.vp_client_id,
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "response_uri": format!("{}/oid4vp/response", self.issuer),
            "nonce": pending.vp_nonce,
            "state": id,
            "iat": now,
            "exp": pending.expires_ms / 1000,
            "dcql_query": {
                "credentials": [{
                    "id": CARD_QUERY_ID,
                    "format": "dc+sd-jwt",
                    "meta": { "vct_values": [CARD_TYPE] },
                    "claims": claims,
                }]
            },
            "client_metadata": {
                "vp_formats_supported": {
                    "dc+sd-jwt": {
                        "sd-jwt_alg_values": ["EdDSA", "ES256"],
                        "kb-jwt_alg_values": ["EdDSA", "ES256"],
                    }
                }
            },
            "simin_request": simin_request,
        });
        let mut header = Map::new();
        header.insert("typ".into(), Value::from("oauth-authz-req+jwt"));
        header.insert("kid".into(), Value::from(self.kid.as_str()));
        let Value::Object(payload) = payload else {
            unreachable!("built as an object")
        };
        Ok(sign_compact_json(&header, &payload, &self.signer))
    }

    /// The wallet's `direct_post`: verifies the presentation and settles the request.
    pub async fn wallet_response(
        &self,
        vp_token: Option<&str>,
        state: Option<&str>,
    ) -> Result<WalletAnswer, OAuthError> {
        let id = state.ok_or_else(|| OAuthError::invalid_request("state is missing"))?;
        let now_ms = self.now_ms();
        let pending = self
            .sessions
            .pending(id, now_ms)
            .ok_or_else(|| OAuthError::invalid_request("no such request, or it expired"))?;
        if !matches!(pending.outcome, Outcome::Waiting) {
            return Err(OAuthError::invalid_request(
                "this request was answered already",
            ));
        }
        let presentation = read_vp_token(vp_token)?;
        let verdict = self
            .node
            .verify(&presentation, &pending.vp_nonce, &self.vp_client_id)
            .await
            .map_err(OAuthError::from)?;
        let refuse = |reason: String| {
            let redirect = match &pending.purpose {
                Purpose::Login(login) => Some(error_redirect(
                    &login.redirect_uri,
                    login.state.as_deref(),
                    &self.issuer,
                    &OAuthError::new(
                        "access_denied",
                        format!("the citizen card was refused: {reason}"),
                    ),
                )),
                Purpose::AccessLog => None,
            };
            self.sessions.answer(
                id,
                now_ms,
                Outcome::Refused {
                    reason: reason.clone(),
                    redirect,
                },
            );
            OAuthError::new(
                "access_denied",
                format!("the presentation was refused: {reason}"),
            )
        };
        if !verdict.verified {
            let reason = verdict.reason.unwrap_or_else(|| "refused".into());
            info!(%reason, "presentation refused");
            let detail = verdict.detail.unwrap_or_default();
            return Err(refuse(format!("{reason} ({detail})")));
        }
        let disclosed = verdict.claims.unwrap_or_default();
        let Some(card_number) = disclosed.get(SUBJECT_CLAIM).and_then(Value::as_str) else {
            return Err(refuse(format!("{SUBJECT_CLAIM} was not disclosed")));
        };
        match &pending.purpose {
            Purpose::Login(login) => {
                let mut released = Map::new();
                for claim in &login.claims {
                    match disclosed.get(claim) {
                        Some(value) => {
                            released.insert(claim.clone(), value.clone());
                        }
                        None => return Err(refuse(format!("{claim} was not disclosed"))),
                    }
                }
                let subject =
                    pairwise_subject(&self.pairwise_secret, &login.organization, card_number);
                let code = random_token(32);
                let grant = CodeGrant {
                    login: (**login).clone(),
                    subject,
                    claims: released,
                    auth_time: now_ms / 1000,
                    expires_ms: self.expiry(self.timeouts.code),
                    redeemed: None,
                    reused: false,
                };
                self.sessions
                    .insert_code(&code, grant)
                    .map_err(OAuthError::from)?;
                let redirect = code_redirect(login, &code, &self.issuer);
                if !self.sessions.answer(
                    id,
                    now_ms,
                    Outcome::Approved {
                        redirect: Some(redirect),
                        log: None,
                    },
                ) {
                    return Err(OAuthError::invalid_request(
                        "this request was answered already",
                    ));
                }
                Ok(WalletAnswer::Continue(format!(
                    "{}/login/{id}/continue",
                    self.issuer
                )))
            }
            Purpose::AccessLog => {
                let log = self
                    .citizen_log(card_number)
                    .await
                    .map_err(OAuthError::from)?;
                if !self.sessions.answer(
                    id,
                    now_ms,
                    Outcome::Approved {
                        redirect: None,
                        log: Some(log.clone()),
                    },
                ) {
                    return Err(OAuthError::invalid_request(
                        "this request was answered already",
                    ));
                }
                Ok(WalletAnswer::AccessLog(log))
            }
        }
    }

    /// The state of a wallet request, for the approval page's polling.
    pub fn status(&self, id: &str, cookie: &str) -> Option<&'static str> {
        match self.sessions.peek(id, cookie, self.now_ms())? {
            Outcome::Waiting => Some("waiting"),
            Outcome::Approved { .. } => Some("approved"),
            Outcome::Refused { .. } => Some("refused"),
            Outcome::Taken => Some("taken"),
        }
    }

    /// Hands the result to the browser that started the request, once.
    pub fn continue_in_browser(&self, id: &str, cookie: &str) -> Option<BrowserOutcome> {
        Some(match self.sessions.take(id, cookie, self.now_ms())? {
            Outcome::Waiting => BrowserOutcome::Waiting,
            Outcome::Taken => BrowserOutcome::Taken,
            Outcome::Approved {
                redirect: Some(url),
                ..
            }
            | Outcome::Refused {
                redirect: Some(url),
                ..
            } => BrowserOutcome::Redirect(url),
            Outcome::Approved { log, .. } => BrowserOutcome::AccessLog(log.unwrap_or(Value::Null)),
            Outcome::Refused { reason, .. } => {
                BrowserOutcome::AccessLog(json!({ "refused": reason }))
            }
        })
    }

    /// The token endpoint.
    pub async fn token(
        &self,
        params: &TokenParams,
        authorization: Option<&str>,
    ) -> Result<Value, OAuthError> {
        match params.grant_type.as_deref() {
            Some("authorization_code") => {}
            Some(_) => {
                return Err(OAuthError::new(
                    "unsupported_grant_type",
                    "only authorization_code is supported",
                ))
            }
            None => return Err(OAuthError::invalid_request("grant_type is missing")),
        }
        let service = self.authenticate_client(params, authorization).await?;
        let code = params
            .code
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
        if !self.log.has_room() {
            return Err(GatewayError::Busy {
                what: "access-log entries",
            }
            .into());
        }
        let now_ms = self.now_ms();
        let invalid_grant = |text: &str| OAuthError::new("invalid_grant", text);
        let grant = match self
            .sessions
            .redeem(code, now_ms, |grant| check_grant(grant, &service, params))
        {
            Ok(Some(grant)) => grant,
            Ok(None) => return Err(invalid_grant("the code is unknown or expired")),
            Err(CodeRefusal::Reused) => {
                warn!(client_id = %service.client_id, "authorization code reused; its tokens are revoked");
                return Err(invalid_grant(
                    "the code was used already; the tokens issued for it are revoked",
                ));
            }
            Err(CodeRefusal::Failed(e)) => return Err(e),
        };
        let (id_token, expires_ms) = self.sign_id_token(&grant, now_ms);
        let entry = AccessEntry {
            kind: AccessKind::Login,
            client_id: grant.login.client_id.clone(),
            subject: grant.subject.clone(),
            claims: grant.claims.keys().cloned().collect(),
            commitment: Hash(Sha256::digest(id_token.as_bytes()).into()),
            released_at: BlockTime(now_ms),
        };
        // The release is logged durably before anything that releases it exists: the ID
        // token is answered below, and the access token (userinfo) is created after.
        self.log.record(entry).await.map_err(OAuthError::from)?;
        let access_token = random_token(32);
        let key = self.sessions.insert_token(
            &access_token,
            TokenGrant {
                subject: grant.subject.clone(),
                claims: grant.claims.clone(),
                expires_ms,
            },
        )?;
        self.sessions.bind_token(code, key);
        let expires_in = self.timeouts.token.as_secs();
        let mut scope = vec![OPENID.to_owned()];
        scope.extend(grant.login.scopes.iter().cloned());
        Ok(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "id_token": id_token,
            "scope": scope.join(" "),
        }))
    }

    /// The ID token of a grant, and when it and its access token expire.
    fn sign_id_token(&self, grant: &CodeGrant, now_ms: u64) -> (String, u64) {
        let now = now_ms / 1000;
        let expires_ms = self.expiry(self.timeouts.token);
        let mut claims = Map::new();
        claims.insert("iss".into(), Value::from(self.issuer.as_str()));
        claims.insert("sub".into(), Value::from(grant.subject.as_str()));
        claims.insert("aud".into(), Value::from(grant.login.client_id.as_str()));
        claims.insert("iat".into(), Value::from(now));
        claims.insert("exp".into(), Value::from(expires_ms / 1000));
        claims.insert("auth_time".into(), Value::from(grant.auth_time));
        // A unique id (RFC 7519 `jti`) makes every ID token, and so every access entry's
        // commitment, distinct: two logins of one citizen at one service within a second
        // would otherwise sign the same bytes, and a replay could not tell them apart.
        claims.insert("jti".into(), Value::from(random_token(16)));
        if let Some(nonce) = &grant.login.nonce {
            claims.insert("nonce".into(), Value::from(nonce.as_str()));
        }
        for (name, value) in &grant.claims {
            claims.insert(name.clone(), value.clone());
        }
        let mut header = Map::new();
        header.insert("typ".into(), Value::from("JWT"));
        header.insert("kid".into(), Value::from(self.kid.as_str()));
        (
            sign_compact_json(&header, &claims, &self.signer),
            expires_ms,
        )
    }

    /// Who the client is (RFC 6749 section 2.3): a confidential client by its secret
    /// (HTTP Basic or the form), a public one by its id.
    async fn authenticate_client(
        &self,
        params: &TokenParams,
        authorization: Option<&str>,
    ) -> Result<ServiceRegistration, OAuthError> {
        let invalid_client = |text: &str| OAuthError::new("invalid_client", text);
        let basic = authorization
            .and_then(|h| h.strip_prefix("Basic "))
            .map(|b| {
                let decoded = STANDARD
                    .decode(b.trim())
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or_else(|| invalid_client("malformed Basic credentials"))?;
                let (id, secret) = decoded
                    .split_once(':')
                    .ok_or_else(|| invalid_client("malformed Basic credentials"))?;
                let decode = |s: &str| {
                    url::form_urlencoded::parse(format!("x={s}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                };
                Ok::<_, OAuthError>((decode(id), decode(secret)))
            })
            .transpose()?;
        if basic.is_some() && params.client_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method",
            ));
        }
        let (client_id, secret) = match &basic {
            Some((id, secret)) => {
                if params.client_id.as_deref().is_some_and(|c| c != id) {
                    return Err(invalid_client(
                        "client_id differs from the Basic credentials",
                    ));
                }
                (id.clone(), Some(secret.clone()))
            }
            None => (
                params
                    .client_id
                    .clone()
                    .ok_or_else(|| invalid_client("no client authentication"))?,
                params.client_secret.clone(),
            ),
        };
        let service = self
            .node
            .service(&client_id)
            .await
            .map_err(OAuthError::from)?
            .filter(|s| s.active)
            .ok_or_else(|| invalid_client("the client is not a registered service"))?;
        match (&service.secret_hash, secret) {
            (Some(expected), Some(secret)) => {
                let got: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
                if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected.0[..], &got[..])) {
                    return Err(invalid_client("wrong client secret"));
                }
            }
            (Some(_), None) => return Err(invalid_client("a confidential client authenticates")),
            (None, Some(_)) => {
                return Err(invalid_client("a public client has no secret"));
            }
            (None, None) => {}
        }
        Ok(service)
    }

    /// The userinfo endpoint (OpenID Connect Core 5.3).
    pub fn userinfo(&self, authorization: Option<&str>) -> Result<Value, OAuthError> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| OAuthError::new("invalid_token", "a Bearer access token is required"))?;
        let grant = self.sessions.token(token, self.now_ms()).ok_or_else(|| {
            OAuthError::new("invalid_token", "the access token is unknown or expired")
        })?;
        let mut info = Map::new();
        info.insert("sub".into(), Value::from(grant.subject));
        for (name, value) in grant.claims {
            info.insert(name, value);
        }
        Ok(Value::Object(info))
    }

    /// A citizen's access log, gathered from every service sector's records.
    async fn citizen_log(&self, card_number: &str) -> Result<Value, GatewayError> {
        let services = self.node.services().await?;
        let mut sectors: Vec<&OrgId> = services.iter().map(|s| &s.organization).collect();
        sectors.sort();
        sectors.dedup();
        let mut entries = Vec::new();
        for sector in sectors {
            let subject = pairwise_subject(&self.pairwise_secret, sector, card_number);
            for record in self.node.access_records(&subject).await? {
                let service = services
                    .iter()
                    .find(|s| s.client_id == record.entry.client_id);
                entries.push(json!({
                    "service_name": service.map_or("", |s| s.name.as_str()),
                    "client_id": record.entry.client_id,
                    "organization": sector.as_str(),
                    "kind": match record.entry.kind {
                        AccessKind::Login => "login",
                        AccessKind::Verification => "verification",
                    },
                    "claims": record.entry.claims,
                    "released_at": rfc3339(record.entry.released_at.0),
                    "released_at_ms": record.entry.released_at.0,
                    "height": record.height.0,
                    "commitment": hex::encode(record.entry.commitment.0),
                    "provider": record.provider.as_str(),
                }));
            }
        }
        entries.sort_by_key(|e| std::cmp::Reverse(e["released_at_ms"].as_u64().unwrap_or(0)));
        entries.truncate(usize::try_from(LOG_RECORDS_MAX).unwrap_or(usize::MAX));
        Ok(json!({ "entries": entries }))
    }

    /// Forgets expired requests, codes and tokens.
    pub fn purge(&self) -> usize {
        self.sessions.purge(self.now_ms())
    }

    pub fn organization(&self) -> &OrgId {
        &self.organization
    }

    pub fn verifying_jwk(&self) -> Jwk {
        self.signer.public_jwk()
    }
}

/// The access-log writer a [`Gateway`] feeds; [`crate::serve`] runs it.
pub struct AccessLogWriter {
    node: Arc<NodeLink>,
    key: simin_types::SigningKey,
    input: crate::access_log::WriterInput,
    window: std::time::Duration,
}

impl std::fmt::Debug for AccessLogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLogWriter").finish_non_exhaustive()
    }
}

impl AccessLogWriter {
    /// Writes entries to the chain until the gateway is dropped and the queue drained.
    pub async fn run(self) {
        crate::access_log::run(self.node, self.key, self.input, self.window).await;
    }
}

/// The checks of a token request against the code's grant.
fn check_grant(
    grant: &CodeGrant,
    service: &ServiceRegistration,
    params: &TokenParams,
) -> Result<(), OAuthError> {
    let invalid = |text: &str| OAuthError::new("invalid_grant", text);
    if grant.login.client_id != service.client_id {
        return Err(invalid("the code was issued to another client"));
    }
    if params.redirect_uri.as_deref() != Some(grant.login.redirect_uri.as_str()) {
        return Err(invalid(
            "redirect_uri differs from the authorization request",
        ));
    }
    match (&grant.login.code_challenge, params.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) => {
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
            let computed = b64url_encode(&Sha256::digest(verifier.as_bytes()));
            if !well_formed || computed != *challenge {
                return Err(invalid(
                    "the code_verifier does not match the code_challenge",
                ));
            }
        }
        (Some(_), None) => return Err(invalid("code_verifier is missing")),
        (None, Some(_)) => {
            return Err(invalid(
                "code_verifier given, but the request had no code_challenge",
            ))
        }
        (None, None) => {}
    }
    Ok(())
}

/// The presentation in a `vp_token`: `{"citizen_card": ["<sd-jwt>"]}` (OpenID4VP 1.0).
fn read_vp_token(vp_token: Option<&str>) -> Result<String, OAuthError> {
    let text = vp_token.ok_or_else(|| OAuthError::invalid_request("vp_token is missing"))?;
    let value: Value = serde_json::from_str(text)
        .map_err(|_| OAuthError::invalid_request("vp_token is not a JSON object"))?;
    let presentations = value
        .get(CARD_QUERY_ID)
        .and_then(Value::as_array)
        .ok_or_else(|| {
            OAuthError::invalid_request(format!("vp_token has no {CARD_QUERY_ID} presentations"))
        })?;
    match presentations.as_slice() {
        [Value::String(one)] => Ok(one.clone()),
        _ => Err(OAuthError::invalid_request(format!(
            "vp_token must hold exactly one {CARD_QUERY_ID} presentation"
        ))),
    }
}

fn with_query(base: &str, pairs: &[(&str, Option<&str>)]) -> String {
    let mut url = match Url::parse(base) {
        Ok(url) => url,
        Err(_) => return base.to_owned(),
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
    }
    url.to_string()
}

fn code_redirect(login: &LoginRequest, code: &str, issuer: &str) -> String {
    with_query(
        &login.redirect_uri,
        &[
            ("code", Some(code)),
            ("state", login.state.as_deref()),
            ("iss", Some(issuer)),
        ],
    )
}

/// An authorization error sent to the client's redirect URI.
pub(crate) fn error_redirect(
    redirect_uri: &str,
    state: Option<&str>,
    issuer: &str,
    error: &OAuthError,
) -> String {
    with_query(
        redirect_uri,
        &[
            ("error", Some(error.code)),
            ("error_description", Some(&error.description)),
            ("state", state),
            ("iss", Some(issuer)),
        ],
    )
}

/// Unix milliseconds as RFC 3339 (UTC).
pub(crate) fn rfc3339(ms: u64) -> String {
    i64::try_from(ms / 1000)
        .ok()
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_subjects_differ_by_sector_and_are_stable() {
        let secret = [7u8; 32];
        let library = OrgId::new("mapo.library").expect("valid");
        let pool = OrgId::new("seoul.sports-centre").expect("valid");
        let a = pairwise_subject(&secret, &library, "SC-2024-000123");
        assert_eq!(a, pairwise_subject(&secret, &library, "SC-2024-000123"));
        assert_ne!(a, pairwise_subject(&secret, &pool, "SC-2024-000123"));
        assert_ne!(a, pairwise_subject(&secret, &library, "SC-2024-000124"));
        assert_ne!(a, pairwise_subject(&[8u8; 32], &library, "SC-2024-000123"));
        assert_eq!(a.len(), 43);
    }

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn vp_token_holds_exactly_one_card_presentation() {
        assert_eq!(
            read_vp_token(Some(r#"{"citizen_card":["a~b~c"]}"#)).expect("one presentation"),
            "a~b~c"
        );
        for bad in [
            None,
            Some("a~b~c"),
            Some(r#"{"other":["x"]}"#),
            Some(r#"{"citizen_card":["x","y"]}"#),
            Some(r#"{"citizen_card":[1]}"#),
        ] {
            assert_eq!(
                read_vp_token(bad).expect_err("refused").code,
                "invalid_request"
            );
        }
    }
}

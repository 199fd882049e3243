//! What the provider remembers between requests, in memory and for minutes only: login
//! requests waiting for the wallet, authorization codes and access tokens.
//!
//! Codes and tokens are kept under their SHA-256, so a memory dump does not hand them
//! out. Every map is bounded; a full map refuses new entries (`temporarily_unavailable`)
//! rather than growing. A restart ends every login in progress, which is what a citizen
//! would expect of a login page anyway.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use simin_types::OrgId;

use crate::error::{GatewayError, OAuthError};

/// Most logins waiting for a wallet at once.
pub(crate) const PENDING_MAX: usize = 100_000;
/// Most live codes and tokens: at 2,000 logins/s, five minutes of access tokens.
pub(crate) const GRANTS_MAX: usize = 1_000_000;
/// How long an answered request stays once its result was handed out.
const TAKEN_KEEP_MS: u64 = 30_000;

/// What an authorization request asked for, once checked.
#[derive(Clone, Debug)]
pub(crate) struct LoginRequest {
    pub client_id: String,
    pub service_name: String,
    pub organization: OrgId,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub scopes: Vec<String>,
    /// The claims the scopes release, sorted.
    pub claims: Vec<String>,
}

#[derive(Clone, Debug)]
pub(crate) enum Purpose {
    Login(Box<LoginRequest>),
    /// The citizen asks to see their own access log.
    AccessLog,
}

/// How a wallet request ended.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    Waiting,
    /// Approved: a login's redirect (with the code), an access log's entries.
    Approved {
        redirect: Option<String>,
        log: Option<Value>,
    },
    /// The presentation was refused, with the verifier's reason.
    Refused {
        reason: String,
        redirect: Option<String>,
    },
    /// The browser took the result already.
    Taken,
}

#[derive(Clone, Debug)]
pub(crate) struct Pending {
    pub purpose: Purpose,
    /// The OpenID4VP nonce the key binding must carry.
    pub vp_nonce: String,
    /// SHA-256 of the secret in the browser's cookie; `None` when a wallet started it.
    pub browser: Option<[u8; 32]>,
    pub expires_ms: u64,
    pub outcome: Outcome,
}

/// An authorization code, until it expires (kept after redemption to catch reuse).
#[derive(Clone, Debug)]
pub(crate) struct CodeGrant {
    pub login: LoginRequest,
    pub subject: String,
    pub claims: Map<String, Value>,
    pub auth_time: u64,
    pub expires_ms: u64,
    /// The digests of the access tokens issued for it, once redeemed.
    pub redeemed: Option<Vec<[u8; 32]>>,
    /// Someone presented it again after its redemption.
    pub reused: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct TokenGrant {
    pub subject: String,
    pub claims: Map<String, Value>,
    pub expires_ms: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Sessions {
    pending: Mutex<HashMap<String, Pending>>,
    codes: Mutex<HashMap<[u8; 32], CodeGrant>>,
    tokens: Mutex<HashMap<[u8; 32], TokenGrant>>,
}

pub(crate) fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().expect("never poisoned: no panics while held")
}

impl Sessions {
    pub fn insert_pending(&self, id: String, pending: Pending) -> Result<(), GatewayError> {
        let mut map = lock(&self.pending);
        if map.len() >= PENDING_MAX {
            return Err(GatewayError::Busy { what: "logins" });
        }
        map.insert(id, pending);
        Ok(())
    }

    /// A live pending request.
    pub fn pending(&self, id: &str, now_ms: u64) -> Option<Pending> {
        lock(&self.pending)
            .get(id)
            .filter(|p| p.expires_ms > now_ms)
            .cloned()
    }

    /// Moves a waiting request to `outcome`; false if it is gone or answered already
    /// (a replayed wallet response).
    pub fn answer(&self, id: &str, now_ms: u64, outcome: Outcome) -> bool {
        let mut map = lock(&self.pending);
        match map.get_mut(id) {
            Some(p) if p.expires_ms > now_ms && matches!(p.outcome, Outcome::Waiting) => {
                p.outcome = outcome;
                if p.browser.is_none() {
                    // No browser will come for it: the wallet had its answer.
                    p.expires_ms = p.expires_ms.min(now_ms.saturating_add(TAKEN_KEEP_MS));
                }
                true
            }
            _ => false,
        }
    }

    /// Hands the outcome to the browser holding the cookie, once.
    pub fn take(&self, id: &str, cookie: &str, now_ms: u64) -> Option<Outcome> {
        let mut map = lock(&self.pending);
        let pending = map.get_mut(id).filter(|p| p.expires_ms > now_ms)?;
        let secret = pending.browser?;
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            &secret[..],
            &digest(cookie)[..],
        )) {
            return None;
        }
        match pending.outcome {
            Outcome::Waiting | Outcome::Taken => Some(pending.outcome.clone()),
            _ => {
                // Kept briefly, to tell a second window the login is done, then forgotten.
                pending.expires_ms = pending.expires_ms.min(now_ms.saturating_add(TAKEN_KEEP_MS));
                Some(std::mem::replace(&mut pending.outcome, Outcome::Taken))
            }
        }
    }

    /// The state of a request, for the browser holding the cookie.
    pub fn peek(&self, id: &str, cookie: &str, now_ms: u64) -> Option<Outcome> {
        let map = lock(&self.pending);
        let pending = map.get(id).filter(|p| p.expires_ms > now_ms)?;
        let secret = pending.browser?;
        bool::from(subtle::ConstantTimeEq::ct_eq(
            &secret[..],
            &digest(cookie)[..],
        ))
        .then(|| pending.outcome.clone())
    }

    pub fn insert_code(&self, code: &str, grant: CodeGrant) -> Result<(), GatewayError> {
        let mut map = lock(&self.codes);
        if map.len() >= GRANTS_MAX {
            return Err(GatewayError::Busy { what: "codes" });
        }
        map.insert(digest(code), grant);
        Ok(())
    }

    /// Redeems a code: the grant if it was live, unused and `check` accepts it. A reused
    /// code revokes the tokens issued for it (RFC 6749 section 4.1.2) and is refused; a
    /// request `check` refuses does not use the code up.
    pub fn redeem(
        &self,
        code: &str,
        now_ms: u64,
        check: impl FnOnce(&CodeGrant) -> Result<(), OAuthError>,
    ) -> Result<Option<CodeGrant>, CodeRefusal> {
        let mut codes = lock(&self.codes);
        let Some(grant) = codes.get_mut(&digest(code)) else {
            return Ok(None);
        };
        if grant.expires_ms <= now_ms {
            return Ok(None);
        }
        if let Some(tokens) = &grant.redeemed {
            let mut live = lock(&self.tokens);
            for token in tokens {
                live.remove(token);
            }
            grant.reused = true;
            return Err(CodeRefusal::Reused);
        }
        check(grant).map_err(CodeRefusal::Failed)?;
        grant.redeemed = Some(Vec::new());
        Ok(Some(grant.clone()))
    }

    /// Files a token issued for a redeemed code (signed outside the lock), so that a
    /// reuse of the code revokes it; revoked at once if the code was reused meanwhile.
    pub fn bind_token(&self, code: &str, token: [u8; 32]) {
        let mut codes = lock(&self.codes);
        match codes.get_mut(&digest(code)) {
            Some(grant) if !grant.reused => {
                grant.redeemed.get_or_insert_with(Vec::new).push(token);
            }
            _ => {
                lock(&self.tokens).remove(&token);
            }
        }
    }

    pub fn insert_token(&self, token: &str, grant: TokenGrant) -> Result<[u8; 32], GatewayError> {
        let mut map = lock(&self.tokens);
        if map.len() >= GRANTS_MAX {
            return Err(GatewayError::Busy { what: "tokens" });
        }
        let key = digest(token);
        map.insert(key, grant);
        Ok(key)
    }

    pub fn token(&self, token: &str, now_ms: u64) -> Option<TokenGrant> {
        lock(&self.tokens)
            .get(&digest(token))
            .filter(|g| g.expires_ms > now_ms)
            .cloned()
    }

    /// Forgets everything expired; returns how many entries went.
    pub fn purge(&self, now_ms: u64) -> usize {
        let mut removed = 0;
        {
            let mut map = lock(&self.pending);
            let before = map.len();
            map.retain(|_, p| p.expires_ms > now_ms);
            removed += before - map.len();
        }
        {
            let mut map = lock(&self.codes);
            let before = map.len();
            map.retain(|_, g| g.expires_ms > now_ms);
            removed += before - map.len();
        }
        let mut map = lock(&self.tokens);
        let before = map.len();
        map.retain(|_, g| g.expires_ms > now_ms);
        removed + (before - map.len())
    }
}

/// Why a code was not redeemed.
#[derive(Debug)]
pub(crate) enum CodeRefusal {
    Reused,
    /// The request does not match the grant (`invalid_grant`), or tokens could not be
    /// issued; the code stays unused.
    Failed(OAuthError),
}

//! [`IssuerService`]: the state every endpoint shares, and what they share it for
//! (accreditation, schemas, status lists, randomness, the clock, admin checks).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::RngCore;
use sha2::{Digest, Sha256};
use simin_identity::card;
use simin_identity::jose::{b64url_encode, JwsSigner};
use simin_types::identity::did_of;
use simin_types::{IdentityCall, StatusPurpose};
use tokio::sync::Mutex;
use tracing::{info, warn};
use zeroize::Zeroize;

use crate::clock::{Clock, SystemClock};
use crate::config::{IssuerConfig, IssuerHome, IssuerSecrets};
use crate::error::{IssuerError, RequestError};
use crate::node::NodeLink;
use crate::nonce::NonceKey;
use crate::store::Store;
use crate::{REVOCATION_LIST, SUSPENSION_LIST};

/// Longest pause between two attempts to create the status lists.
const PREPARE_RETRY_MAX: Duration = Duration::from_secs(5);
/// How long the list of accredited types is trusted before the node is asked again.
const ACCREDITATION_CACHE: Duration = Duration::from_secs(60);

/// An OpenID4VCI credential issuer for one organisation. Shared by the HTTP handlers
/// behind an `Arc`.
pub struct IssuerService {
    pub(crate) config: IssuerConfig,
    /// `did:simin:<org>`.
    pub(crate) did: String,
    /// `did:simin:<org>#<fragment>`.
    pub(crate) kid: String,
    pub(crate) signer: Arc<JwsSigner>,
    /// The signer's public key.
    signing_public_key: [u8; 32],
    admin_token_digest: [u8; 32],
    pub(crate) store: Store,
    pub(crate) node: NodeLink,
    clock: Arc<dyn Clock>,
    accredited: Mutex<Option<(u64, Vec<String>)>>,
    /// The sizes of the revocation and suspension lists, once known to exist on chain.
    lists: Mutex<Option<(u32, u32)>>,
    /// Set once `lists` is: read without waiting for a creation in progress.
    lists_ready: AtomicBool,
    /// Why the last attempt to get the lists ready failed, for `/health`.
    lists_problem: std::sync::Mutex<Option<String>>,
    /// Set once [`IssuerService::start_preparing`] started its task.
    preparing: AtomicBool,
    nonce_key: NonceKey,
}

impl std::fmt::Debug for IssuerService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerService")
            .field("kid", &self.kid)
            .field("public_url", &self.config.public_url)
            .field("node", &self.config.node_url)
            .finish_non_exhaustive()
    }
}

/// SHA-256 of a secret, hex: how codes and tokens are stored and compared.
pub(crate) fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// 32 random bytes, base64url: codes, tokens, salts.
pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let text = b64url_encode(&bytes);
    bytes.zeroize();
    text
}

/// 16 random bytes, hex: ids of offers and credentials.
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl IssuerService {
    /// Opens the service of an issuer home (see [`crate::config`]) with the system clock.
    pub fn open(home: &Path) -> Result<IssuerService, IssuerError> {
        let home = IssuerHome::new(home);
        let config = home.read_config()?;
        let secrets = home.read_secrets()?;
        IssuerService::new(config, secrets, &home.database(), Arc::new(SystemClock))
    }

    /// A service from its parts; `database` is created if absent.
    pub fn new(
        config: IssuerConfig,
        secrets: IssuerSecrets,
        database: &Path,
        clock: Arc<dyn Clock>,
    ) -> Result<IssuerService, IssuerError> {
        config.validate().map_err(|reason| IssuerError::Config {
            path: database.to_owned(),
            reason,
        })?;
        let did = did_of(&config.org);
        let kid = format!("{did}#{}", config.signing_key_fragment);
        let mut seed =
            hex::decode(secrets.signing_key.to_seed_hex()).map_err(|e| IssuerError::Config {
                path: database.to_owned(),
                reason: e.to_string(),
            })?;
        let mut seed_array: [u8; 32] =
            seed.as_slice()
                .try_into()
                .map_err(|_| IssuerError::Config {
                    path: database.to_owned(),
                    reason: "a signing key seed is 32 bytes".into(),
                })?;
        seed.zeroize();
        let signer = JwsSigner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed_array));
        let nonce_key = NonceKey::derive(&seed_array);
        seed_array.zeroize();
        let node = NodeLink::new(
            &config.node_url,
            config.org.clone(),
            secrets.org_key.clone(),
        )?;
        let store = Store::open(database)?;
        info!(%kid, public_url = %config.public_url, "credential issuer ready");
        Ok(IssuerService {
            did,
            kid,
            signer: Arc::new(signer),
            signing_public_key: secrets.signing_key.public_key().0,
            admin_token_digest: Sha256::digest(secrets.admin_token.as_bytes()).into(),
            store,
            node,
            clock,
            accredited: Mutex::new(None),
            lists: Mutex::new(None),
            lists_ready: AtomicBool::new(false),
            lists_problem: std::sync::Mutex::new(None),
            preparing: AtomicBool::new(false),
            nonce_key,
            config,
        })
    }

    /// The configuration the service runs with.
    pub fn config(&self) -> &IssuerConfig {
        &self.config
    }

    /// The issuer's time, Unix seconds.
    pub(crate) fn now(&self) -> u64 {
        self.clock.now_secs()
    }

    /// Whether `token` is the admin token (compared as digests, so in constant time with
    /// respect to the secret).
    pub fn is_admin(&self, token: &str) -> bool {
        let given: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        given
            .iter()
            .zip(self.admin_token_digest)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// Runs a database operation on a blocking thread.
    pub(crate) async fn db<T, E, F>(&self, op: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<IssuerError> + Send + 'static,
        F: FnOnce(&Store) -> Result<T, E> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || op(&store))
            .await
            .map_err(|e| E::from(IssuerError::Task(e.to_string())))?
    }

    /// The credential types the organisation is accredited for, from the node (cached
    /// for a minute; a stale list is used while the node cannot be reached).
    pub async fn accredited_types(&self) -> Result<Vec<String>, IssuerError> {
        let now = self.now();
        let mut cached = self.accredited.lock().await;
        if let Some((fetched_at, types)) = cached.as_ref() {
            if now.saturating_sub(*fetched_at) < ACCREDITATION_CACHE.as_secs() {
                return Ok(types.clone());
            }
        }
        match self.node.accredited_types().await {
            Ok(types) => {
                *cached = Some((now, types.clone()));
                Ok(types)
            }
            Err(e) => match cached.as_ref() {
                Some((_, types)) => {
                    warn!(%e, "cannot refresh the accreditation; using the last one read");
                    Ok(types.clone())
                }
                None => Err(e),
            },
        }
    }

    /// Forgets the cached accreditation (after the city changed it).
    pub async fn refresh_accreditation(&self) {
        *self.accredited.lock().await = None;
    }

    /// The JSON Schema of a credential type: the one shipped with simin, else the one
    /// registered on chain.
    pub(crate) async fn schema(
        &self,
        credential_type: &str,
    ) -> Result<Option<String>, IssuerError> {
        match card::builtin_schema(credential_type) {
            Some(schema) => Ok(Some(schema.to_owned())),
            None => self.node.schema(credential_type).await,
        }
    }

    /// Checks that the DID on chain lists the credential-signing key as the
    /// `assertionMethod` key `kid`: otherwise every credential would fail verification.
    pub async fn check_did(&self) -> Result<(), IssuerError> {
        let ours = self.signing_public_key;
        match self
            .node
            .assertion_key(&self.config.signing_key_fragment)
            .await?
        {
            Some(key) if key == ours => Ok(()),
            _ => Err(IssuerError::SigningKeyNotInDid {
                kid: self.kid.clone(),
                key: hex::encode(ours),
            }),
        }
    }

    /// Makes sure the organisation's revocation list (0) and suspension list (1) exist
    /// on chain, creating them if absent, and learns their sizes.
    pub async fn ensure_status_lists(&self) -> Result<(u32, u32), IssuerError> {
        let mut lists = self.lists.lock().await;
        if let Some(sizes) = *lists {
            return Ok(sizes);
        }
        let revocation = self
            .ensure_list(REVOCATION_LIST, StatusPurpose::Revocation)
            .await?;
        let suspension = self
            .ensure_list(SUSPENSION_LIST, StatusPurpose::Suspension)
            .await?;
        *lists = Some((revocation, suspension));
        self.lists_ready.store(true, Ordering::Release);
        Ok((revocation, suspension))
    }

    /// Gets the status lists ready in the background, retrying until they are committed
    /// (a fresh chain may need a block or two; the organisation may not be accredited
    /// yet). Offers and issuance answer `not-ready` meanwhile; `/health` says why. Does
    /// nothing if already started, or outside a Tokio runtime.
    pub fn start_preparing(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.preparing.swap(true, Ordering::AcqRel) {
            return;
        }
        let service = Arc::clone(self);
        runtime.spawn(async move {
            let mut delay = Duration::from_millis(100);
            loop {
                match service.ensure_status_lists().await {
                    Ok(_) => {
                        *service.lock_problem() = None;
                        info!("status lists ready; offers and issuance open");
                        return;
                    }
                    Err(e) => {
                        warn!(%e, "the status lists are not ready yet; retrying");
                        *service.lock_problem() = Some(e.to_string());
                    }
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(PREPARE_RETRY_MAX);
            }
        });
    }

    fn lock_problem(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        // Only a string is held: a poisoned lock's value is still fine to use.
        self.lists_problem
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What the service waits for before it offers or issues: empty once ready.
    pub fn waiting_for(&self) -> Vec<String> {
        if self.lists_ready.load(Ordering::Acquire) {
            return Vec::new();
        }
        let mut wait = format!(
            "status lists {}/status/{REVOCATION_LIST} and /status/{SUSPENSION_LIST} committed on chain",
            self.did
        );
        if let Some(problem) = self.lock_problem().as_deref() {
            wait.push_str(&format!(" (last attempt: {problem})"));
        }
        vec![wait]
    }

    /// Refuses (`not-ready`) while the status lists are not known to be on chain: a
    /// credential pointing at a list that does not exist yet would be refused by every
    /// verifier.
    pub(crate) fn require_ready(&self) -> Result<(), RequestError> {
        if self.lists_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        Err(RequestError::NotReady(self.waiting_for().join("; ")))
    }

    async fn ensure_list(&self, list: u32, purpose: StatusPurpose) -> Result<u32, IssuerError> {
        if let Some(published) = self.node.status_list(list).await? {
            if published.purpose != purpose.as_str() {
                return Err(IssuerError::StatusListMismatch {
                    list,
                    expected: purpose.as_str(),
                    got: published.purpose,
                });
            }
            return Ok(published.size_bits);
        }
        info!(
            list,
            purpose = purpose.as_str(),
            "creating the status list on chain"
        );
        self.node
            .submit(IdentityCall::CreateStatusList {
                list,
                purpose,
                size_bits: self.config.status_list_bits,
            })
            .await?;
        Ok(self.config.status_list_bits)
    }

    /// Deletes expired offers (and their claims), tokens and nonces.
    pub async fn purge_expired(&self) -> Result<u64, IssuerError> {
        let now = self.now();
        self.db(move |store| store.purge_expired(now)).await
    }

    /// A fresh `c_nonce` (`POST /nonce`); nothing is stored.
    pub fn nonce(&self) -> String {
        let expires_at = self.now().saturating_add(self.config.nonce_ttl_secs);
        self.nonce_key.issue(expires_at, &mut rand::rngs::OsRng)
    }

    /// Spends a `c_nonce`: true if this service made it, it has not expired and it was
    /// not spent before.
    pub(crate) async fn spend_nonce(&self, nonce: &str) -> Result<bool, IssuerError> {
        let now = self.now();
        let Some(expires_at) = self.nonce_key.check(nonce, now) else {
            return Ok(false);
        };
        let nonce = nonce.to_owned();
        self.db(move |store| store.spend_nonce(&nonce, expires_at, now))
            .await
    }
}

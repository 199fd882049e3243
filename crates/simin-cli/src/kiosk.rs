//! `simin kiosk` and `simin wallet checkin`: facility check-in verified offline.
//!
//! A kiosk (a library's or a pool's gate) syncs a proven snapshot of the chain state its
//! verifier needs (`kiosk sync`, [`simin_client::KioskSnapshot`]) and later decides on
//! scanned presentations without any network access (`kiosk verify`, `kiosk serve`): it
//! re-verifies the snapshot against the validator set pinned in its directory, runs the
//! same verifier as a node, and adds what only an offline gate needs: a short window for
//! the Key Binding JWT's `iat`, a cache of the nonces it has accepted (the wallet picks
//! the nonce, since a one-way QR code cannot carry a challenge), and a bound on the
//! snapshot's age.
//!
//! The kiosk directory holds `snapshot.json`, `trusted/<chain>.json` (the validator set
//! pinned at the first sync) and `replay.json` (hashes of accepted nonces with their
//! `iat`, pruned once outside the window). One process at a time decides per directory;
//! `replay.lock` serialises the rare overlap of a CLI check and the kiosk page.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use simin_client::snapshot::SNAPSHOT_BYTES_MAX;
use simin_client::{Client, KioskSnapshot, SnapshotScope, TrustAnchor, TrustStore};
use simin_identity::jose::decode_compact_unverified;
use simin_identity::verifier::{verify_presentation, VerifyRequest};
use simin_types::identity::did_of;
use simin_types::{state_keys, ChainId, OrgId};
use simin_wallet::present::{self, PresentationRequest};
use simin_wallet::{CredentialId, Holder, WalletStore};

use crate::credential::now_secs;
use crate::output;
use crate::verify::{choose_trust, TrustSources};

/// The issuer trusted when `kiosk sync` names none: the devnet city's citizen registry.
pub const DEFAULT_ISSUER: &str = "seoul.citizen-registry";
/// Largest scanned payload accepted.
const PAYLOAD_BYTES_MAX: usize = 64 * 1024;
/// Longest wallet nonce accepted (a check-in nonce is 32 hex characters).
const NONCE_BYTES_MAX: usize = 256;
/// Most nonces remembered; a kiosk seeing more check-ins within one window refuses.
const REPLAY_ENTRIES_MAX: usize = 4_096;
/// Largest replay cache file read.
const REPLAY_BYTES_MAX: u64 = 1024 * 1024;
/// The verifier's tolerance for a Key Binding JWT's `iat` in the future.
const CLOCK_SKEW_SECS: i64 = 60;
/// A lock older than this is left over from a crashed process and is taken over.
const LOCK_STALE: Duration = Duration::from_secs(30);
/// How long a decision waits for the replay lock.
const LOCK_WAIT: Duration = Duration::from_secs(3);
/// Largest body the kiosk page accepts.
const PAGE_BODY_BYTES_MAX: usize = PAYLOAD_BYTES_MAX + 1024;

#[derive(Debug, Subcommand)]
pub enum KioskCommand {
    /// Fetch and prove (at the node's latest height) the DID records, accreditation
    /// chains, schemas and status lists the kiosk needs; write KIOSK_DIR/snapshot.json.
    Sync(SyncArgs),
    /// Decide on a scanned check-in payload offline: exit 0 accepted, 1 refused.
    Verify(VerifyArgs),
    /// Serve the kiosk screen (an HTML page) deciding offline like `kiosk verify`.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The kiosk's directory.
    #[arg(long, value_name = "KIOSK_DIR")]
    pub dir: PathBuf,
    /// The facility's organisation; presentations must be for `did:simin:<facility>`.
    #[arg(long, value_name = "ORG")]
    pub facility: String,
    /// A credential type accepted here (repeat for several).
    #[arg(long = "accept", required = true, value_name = "TYPE")]
    pub accept: Vec<String>,
    /// An issuer trusted here (repeat for several). Chain state is keyed by issuer, so
    /// the organisations accredited for a type cannot be listed and are named instead.
    #[arg(long = "issuer", value_name = "ORG", default_value = DEFAULT_ISSUER)]
    pub issuers: Vec<String>,
    /// Trust the validators of this genesis file [default: the devnet's genesis if it
    /// is the node's chain, else the set pinned in KIOSK_DIR/trusted, else the node's
    /// set, pinned there on first use].
    #[arg(long, value_name = "FILE")]
    pub genesis: Option<PathBuf>,
    /// The devnet data directory [default: ~/.simin/devnet].
    #[arg(long, env = "SIMIN_DEVNET_DIR", value_name = "DIR")]
    pub devnet_dir: Option<PathBuf>,
}

/// What an offline decision checks besides the presentation.
#[derive(Clone, Debug, Args)]
pub struct Policy {
    /// The kiosk's directory.
    #[arg(long, value_name = "KIOSK_DIR", default_value = "kiosk")]
    pub dir: PathBuf,
    /// Refuse when the snapshot's block is older than this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 86_400)]
    pub max_age: u64,
    /// Refuse a payload signed (its Key Binding JWT's iat) more than this many seconds ago.
    #[arg(long, value_name = "SECS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub window: u64,
    /// Trust this genesis file's validators instead of the set pinned at sync.
    #[arg(long, value_name = "FILE")]
    pub genesis: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub policy: Policy,
    /// The kiosk's clock, Unix seconds (tests and drills) [default: the system clock].
    #[arg(long, hide = true)]
    pub now: Option<i64>,
    /// The scanned payload, or `-` to read it from stdin.
    #[arg(value_name = "PAYLOAD")]
    pub payload: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub policy: Policy,
    /// Where the kiosk page listens (keep it on loopback: it has no authentication).
    #[arg(long, default_value = "127.0.0.1:8093", value_name = "ADDR")]
    pub listen: SocketAddr,
}

/// `simin wallet checkin`: a short-lived presentation for a facility's kiosk.
#[derive(Debug, Args)]
pub struct CheckinArgs {
    /// The facility's organisation (the presentation's audience is its did:simin).
    #[arg(long, value_name = "ORG")]
    pub facility: String,
    /// The claims to disclose, comma-separated (e.g. age_over_14).
    #[arg(long, required = true, value_delimiter = ',', value_name = "NAMES")]
    pub claims: Vec<String>,
    /// The credential to present [default: the newest one holding every claim].
    #[arg(long, value_name = "ID")]
    pub credential: Option<String>,
    /// Also write the payload as a QR code (SVG) to FILE.
    #[arg(long, value_name = "FILE.svg")]
    pub qr: Option<PathBuf>,
}

pub async fn run(command: KioskCommand, node: &str, json: bool) -> anyhow::Result<()> {
    match command {
        KioskCommand::Sync(args) => sync(&args, node, json).await,
        KioskCommand::Verify(args) => verify(&args, json),
        KioskCommand::Serve(args) => serve(args).await,
    }
}

async fn sync(args: &SyncArgs, node: &str, json: bool) -> anyhow::Result<()> {
    let facility = OrgId::new(&args.facility)
        .map_err(|e| anyhow::anyhow!("--facility {:?}: {e}", args.facility))?;
    let issuers = args
        .issuers
        .iter()
        .map(|org| OrgId::new(org).map_err(|e| anyhow::anyhow!("--issuer {org:?}: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let client = Client::new(node)?;
    let status = client
        .status()
        .await
        .with_context(|| format!("cannot get the status of {node}"))?;
    // Any proven read carries the validator set that certified the height.
    let probe = client
        .state_at(&state_keys::validator_set(), status.latest_height)
        .await
        .context("cannot read the validator set")?;
    let store = TrustStore::new(args.dir.join("trusted"));
    let sources = TrustSources {
        genesis: args.genesis.clone(),
        trust_dir: Some(store.dir().to_owned()),
        devnet_dir: args.devnet_dir.clone(),
    };
    let trust = choose_trust(&sources, &status, &probe.validators)?;
    let scope = SnapshotScope {
        facility: facility.to_string(),
        accepted_types: args.accept.clone(),
        issuers,
    };
    let snapshot = KioskSnapshot::sync(&client, &trust.anchor, &scope, now_secs()?)
        .await
        .context("cannot sync the kiosk snapshot")?;
    // The kiosk decides later against this set, whatever the source was now.
    store.trust_on_first_use(&trust.anchor)?;
    let path = args.dir.join("snapshot.json");
    write_atomically(&path, &snapshot.to_json())?;
    let summary = serde_json::json!({
        "snapshot": path,
        "chain_id": snapshot.chain_id().as_str(),
        "height": snapshot.height().0,
        "block_time": output::utc_date(snapshot.block_time().0),
        "keys": snapshot.len(),
        "facility": scope.facility,
        "accepted_types": scope.accepted_types,
        "issuers": scope.issuers.iter().map(OrgId::as_str).collect::<Vec<_>>(),
        "trust": trust.source,
    });
    if json {
        output::json(&summary);
    } else {
        output::line(&format!(
            "synced {} proven state keys of chain {} at height {} ({}) into {}",
            snapshot.len(),
            snapshot.chain_id(),
            snapshot.height(),
            output::utc_date(snapshot.block_time().0),
            path.display()
        ));
        output::line(&format!("  trust: {}", trust.source));
    }
    Ok(())
}

/// Writes `bytes` to a temporary file next to `path`, syncs it and renames it over
/// `path`, so a reader sees the old file or the new one, never a part.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = path.with_extension("tmp");
    let mut file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// How old the snapshot a decision used is.
#[derive(Clone, Debug, Serialize)]
pub struct SnapshotAge {
    chain_id: String,
    height: u64,
    block_time: String,
    age_secs: i64,
    /// E.g. "snapshot of height 42, 3 min old".
    text: String,
}

/// The outcome of one offline check.
#[derive(Clone, Debug, Serialize)]
pub struct Decision {
    accepted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    claims: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot: Option<SnapshotAge>,
}

impl Decision {
    fn refused(reason: &str, detail: String, snapshot: Option<SnapshotAge>) -> Decision {
        Decision {
            accepted: false,
            reason: Some(reason.to_owned()),
            detail: Some(detail),
            credential_type: None,
            issuer: None,
            claims: None,
            snapshot,
        }
    }
}

fn verify(args: &VerifyArgs, json: bool) -> anyhow::Result<()> {
    let payload = if args.payload == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(
                u64::try_from(PAYLOAD_BYTES_MAX)
                    .unwrap_or(u64::MAX)
                    .saturating_add(1),
            )
            .read_to_string(&mut text)
            .context("cannot read the payload from stdin")?;
        text
    } else {
        args.payload.clone()
    };
    let now = match args.now {
        Some(now) => now,
        None => now_secs()?,
    };
    let decision = decide(&args.policy, &payload, now);
    if json {
        output::json(&decision);
    } else {
        print_decision(&decision);
    }
    match (&decision.accepted, &decision.reason) {
        (true, _) => Ok(()),
        (false, reason) => bail!(
            "refused ({})",
            reason.as_deref().unwrap_or("no reason given")
        ),
    }
}

fn print_decision(decision: &Decision) {
    if decision.accepted {
        output::line(&format!(
            "ACCEPTED  {} issued by {}",
            decision.credential_type.as_deref().unwrap_or("?"),
            decision.issuer.as_deref().unwrap_or("?")
        ));
        for (name, value) in decision.claims.iter().flatten() {
            output::line(&format!("  {name:<20} {value}"));
        }
    } else {
        output::line(&format!(
            "REFUSED   {}: {}",
            decision.reason.as_deref().unwrap_or("?"),
            decision.detail.as_deref().unwrap_or("")
        ));
    }
    if let Some(snapshot) = &decision.snapshot {
        output::line(&format!("  {}", snapshot.text));
    }
}

/// "12 s", "3 min", "5 h", "2 days".
fn human_age(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86_400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// Loads and re-verifies the kiosk's snapshot against the pinned validator set (or
/// `--genesis`).
fn load_snapshot(policy: &Policy) -> Result<KioskSnapshot, (&'static str, String)> {
    let path = policy.dir.join("snapshot.json");
    let bytes = read_bounded(&path, u64::try_from(SNAPSHOT_BYTES_MAX).unwrap_or(u64::MAX))
        .map_err(|e| ("no_snapshot", format!("{e:#}; run `simin kiosk sync`")))?;
    let anchor = match &policy.genesis {
        Some(genesis) => TrustAnchor::from_genesis_file(genesis)
            .map_err(|e| ("no_trust_anchor", e.to_string()))?,
        None => {
            #[derive(Deserialize)]
            struct Peek {
                chain_id: ChainId,
            }
            let peek: Peek = serde_json::from_slice(&bytes)
                .map_err(|e| ("snapshot_invalid", format!("{}: {e}", path.display())))?;
            let store = TrustStore::new(policy.dir.join("trusted"));
            store
                .load(&peek.chain_id)
                .map_err(|e| ("no_trust_anchor", e.to_string()))?
                .ok_or_else(|| {
                    (
                        "no_trust_anchor",
                        format!(
                            "no validator set of chain {} is pinned in {}; run `simin kiosk sync`",
                            peek.chain_id,
                            store.dir().display()
                        ),
                    )
                })?
        }
    };
    KioskSnapshot::from_json(&bytes, &anchor).map_err(|e| {
        (
            "snapshot_invalid",
            format!("{} is refused: {e}", path.display()),
        )
    })
}

fn read_bounded(path: &Path, max: u64) -> anyhow::Result<Vec<u8>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > max {
        bail!("{} is over the limit of {max} bytes", path.display());
    }
    Ok(bytes)
}

/// The Key Binding JWT's `nonce` and `iat`, read without verification: the nonce is
/// what the verifier then requires, so its signature vouches for both.
fn key_binding_claims(payload: &str) -> (Option<String>, Option<i64>) {
    let kb_jwt = payload.rsplit('~').next().unwrap_or("");
    match decode_compact_unverified(kb_jwt) {
        Ok((_, claims)) => (
            claims
                .get("nonce")
                .and_then(Value::as_str)
                .map(str::to_owned),
            claims.get("iat").and_then(Value::as_i64),
        ),
        Err(_) => (None, None),
    }
}

/// How old `snapshot` is at `now` (Unix seconds), by its certified block time.
fn age_of(snapshot: &KioskSnapshot, now: i64) -> SnapshotAge {
    // Block times are Unix milliseconds.
    let block_secs = i64::try_from(snapshot.block_time().0 / 1000).unwrap_or(i64::MAX);
    let age_secs = now.saturating_sub(block_secs);
    SnapshotAge {
        chain_id: snapshot.chain_id().to_string(),
        height: snapshot.height().0,
        block_time: output::utc_date(snapshot.block_time().0),
        age_secs,
        text: format!(
            "snapshot of height {}, {} old",
            snapshot.height(),
            human_age(age_secs.max(0))
        ),
    }
}

/// What the kiosk page shows while idle: the snapshot's age, or why it cannot decide.
fn snapshot_status(policy: &Policy, now: i64) -> Value {
    match load_snapshot(policy) {
        Ok(snapshot) => {
            let age = age_of(&snapshot, now);
            let too_old = u64::try_from(age.age_secs).unwrap_or(0) > policy.max_age;
            serde_json::json!({ "snapshot": age, "too_old": too_old })
        }
        Err((reason, detail)) => serde_json::json!({ "problem": reason, "detail": detail }),
    }
}

/// Decides on one scanned payload at `now` (Unix seconds), offline.
pub fn decide(policy: &Policy, payload: &str, now: i64) -> Decision {
    let snapshot = match load_snapshot(policy) {
        Ok(snapshot) => snapshot,
        Err((reason, detail)) => return Decision::refused(reason, detail, None),
    };
    let age = age_of(&snapshot, now);
    let age_secs = age.age_secs;
    if u64::try_from(age_secs).unwrap_or(0) > policy.max_age {
        let detail = format!(
            "the {} is over --max-age {} s: run `simin kiosk sync` while online",
            age.text, policy.max_age
        );
        return Decision::refused("snapshot_too_old", detail, Some(age));
    }
    let payload = payload.trim();
    if payload.len() > PAYLOAD_BYTES_MAX {
        let detail = format!("the payload is over {PAYLOAD_BYTES_MAX} bytes");
        return Decision::refused("malformed", detail, Some(age));
    }
    let (nonce, _) = key_binding_claims(payload);
    let nonce = nonce.unwrap_or_default();
    if nonce.len() > NONCE_BYTES_MAX {
        let detail = format!("the nonce is over {NONCE_BYTES_MAX} bytes");
        return Decision::refused("malformed", detail, Some(age));
    }
    let scope = snapshot.scope();
    let audience = match OrgId::new(&scope.facility) {
        Ok(org) => did_of(&org),
        Err(e) => return Decision::refused("snapshot_invalid", e.to_string(), Some(age)),
    };
    let accepted: Vec<&str> = scope.accepted_types.iter().map(String::as_str).collect();
    let request = VerifyRequest {
        presentation: payload,
        nonce: &nonce,
        audience: &audience,
        now,
        accepted_types: &accepted,
    };
    let verified = match verify_presentation(&snapshot, &request) {
        Ok(verified) => verified,
        Err(rejection) => {
            return Decision::refused(rejection.code(), rejection.to_string(), Some(age))
        }
    };
    // Verified now: the Key Binding JWT's iat is the holder's.
    let (_, iat) = key_binding_claims(payload);
    let iat = iat.unwrap_or(i64::MIN);
    let window = i64::try_from(policy.window).unwrap_or(i64::MAX);
    if now.saturating_sub(iat) > window {
        let detail = format!(
            "the payload was made {} s ago; this kiosk takes payloads up to {window} s old",
            now.saturating_sub(iat)
        );
        return Decision::refused("stale_payload", detail, Some(age));
    }
    let seen = replay_key(&verified.holder_thumbprint, &nonce);
    if let Err((reason, detail)) = remember(&policy.dir, &seen, iat, now, window) {
        return Decision::refused(reason, detail, Some(age));
    }
    Decision {
        accepted: true,
        reason: None,
        detail: None,
        credential_type: Some(verified.credential_type),
        issuer: Some(verified.issuer),
        claims: Some(verified.claims),
        snapshot: Some(age),
    }
}

/// The replay cache (`replay.json`): hashes of accepted (holder, nonce) pairs.
#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayCache {
    seen: Vec<Seen>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Seen {
    /// SHA-256 of the holder's key thumbprint and the nonce (hex).
    key: String,
    /// The Key Binding JWT's iat, Unix seconds.
    iat: i64,
}

fn replay_key(holder_thumbprint: &str, nonce: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(holder_thumbprint.as_bytes());
    hasher.update([0]);
    hasher.update(nonce.as_bytes());
    hex::encode(hasher.finalize())
}

/// Records `key` as seen, refusing it if it was; entries that fell out of the window
/// (so any replay of them is refused as stale anyway) are pruned.
fn remember(
    dir: &Path,
    key: &str,
    iat: i64,
    now: i64,
    window: i64,
) -> Result<(), (&'static str, String)> {
    let unavailable = |e: anyhow::Error| ("replay_cache_unavailable", format!("{e:#}"));
    let _lock = ReplayLock::take(&dir.join("replay.lock")).map_err(unavailable)?;
    let path = dir.join("replay.json");
    let mut cache: ReplayCache = if path.exists() {
        let bytes = read_bounded(&path, REPLAY_BYTES_MAX).map_err(unavailable)?;
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is corrupt", path.display()))
            .map_err(unavailable)?
    } else {
        ReplayCache::default()
    };
    let oldest = now.saturating_sub(window).saturating_sub(CLOCK_SKEW_SECS);
    cache.seen.retain(|seen| seen.iat >= oldest);
    if cache.seen.iter().any(|seen| seen.key == key) {
        return Err((
            "replayed",
            "this payload was already used here; ask the holder for a new one".into(),
        ));
    }
    if cache.seen.len() >= REPLAY_ENTRIES_MAX {
        return Err((
            "replay_cache_full",
            format!("more than {REPLAY_ENTRIES_MAX} check-ins within the window"),
        ));
    }
    cache.seen.push(Seen {
        key: key.to_owned(),
        iat,
    });
    let bytes = serde_json::to_vec(&cache).expect("the cache serializes: it is plain data");
    write_atomically(&path, &bytes).map_err(unavailable)
}

/// An exclusive lock file, removed when dropped.
struct ReplayLock(PathBuf);

impl ReplayLock {
    fn take(path: &Path) -> anyhow::Result<ReplayLock> {
        let deadline = Instant::now() + LOCK_WAIT;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(_) => return Ok(ReplayLock(path.to_owned())),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = std::fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > LOCK_STALE);
                    if stale {
                        let _ = std::fs::remove_file(path);
                    } else if Instant::now() > deadline {
                        bail!("{} is held by another kiosk process", path.display());
                    } else {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot create {}", path.display()))
                }
            }
        }
    }
}

impl Drop for ReplayLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The kiosk page's state: its policy, and a lock so one decision runs at a time.
struct Page {
    policy: Policy,
    deciding: Mutex<()>,
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    use axum::extract::{DefaultBodyLimit, State};
    use axum::response::Html;
    use axum::routing::{get, post};
    use axum::{Json, Router};

    let page = Arc::new(Page {
        policy: args.policy,
        deciding: Mutex::new(()),
    });
    let check = |page: Arc<Page>, payload: String| async move {
        tokio::task::spawn_blocking(move || {
            let _one = page
                .deciding
                .lock()
                .expect("never poisoned: decide does not panic");
            let now = now_secs().unwrap_or(0);
            decide(&page.policy, &payload, now)
        })
        .await
        .expect("the decision task does not panic")
    };
    let app = Router::new()
        .route("/", get(|| async { Html(include_str!("kiosk.html")) }))
        .route(
            "/verify",
            post(
                move |State(page): State<Arc<Page>>, body: String| async move {
                    Json(check(page, body).await)
                },
            ),
        )
        .route(
            "/snapshot",
            get(|State(page): State<Arc<Page>>| async move {
                let now = now_secs().unwrap_or(0);
                let status =
                    tokio::task::spawn_blocking(move || snapshot_status(&page.policy, now))
                        .await
                        .expect("the status task does not panic");
                Json(status)
            }),
        )
        .layer(DefaultBodyLimit::max(PAGE_BODY_BYTES_MAX))
        .with_state(page);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    output::line(&format!(
        "kiosk page on http://{} (offline checks; Ctrl-C stops)",
        args.listen
    ));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the kiosk page stopped")
}

/// `simin wallet checkin`: presents the chosen claims to `did:simin:<facility>` with a
/// fresh random nonce and `iat` now, prints the payload and optionally a QR code.
pub fn checkin(store: &WalletStore, args: &CheckinArgs, json: bool) -> anyhow::Result<()> {
    let facility = OrgId::new(&args.facility)
        .map_err(|e| anyhow::anyhow!("--facility {:?}: {e}", args.facility))?;
    let id = match &args.credential {
        Some(id) => id
            .parse::<CredentialId>()
            .map_err(|e| anyhow::anyhow!("{e} (see `simin wallet list`)"))?,
        None => newest_with(store, &args.claims)?,
    };
    let record = store.get_credential(id)?;
    let mut nonce = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let nonce = hex::encode(nonce);
    let audience = did_of(&facility);
    let issued_at = now_secs()?;
    let payload = present::present(
        &record,
        &Holder::from_store(store),
        &PresentationRequest {
            disclose: &args.claims,
            nonce: &nonce,
            audience: &audience,
            issued_at,
        },
    )?;
    if let Some(path) = &args.qr {
        let code =
            qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::L)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "the payload does not fit a QR code ({e}); disclose fewer claims"
                    )
                })?;
        let svg = code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(320, 320)
            .quiet_zone(true)
            .build();
        write_atomically(path, svg.as_bytes())?;
    }
    if json {
        output::json(&serde_json::json!({
            "payload": payload, "credential": id, "audience": audience,
            "nonce": nonce, "iat": issued_at, "disclosed": args.claims, "qr": args.qr,
        }));
    } else {
        output::line(&payload);
    }
    Ok(())
}

/// The most recently received credential that holds every one of `claims`.
fn newest_with(store: &WalletStore, claims: &[String]) -> anyhow::Result<CredentialId> {
    let mut newest = None;
    for summary in store.list_credentials()? {
        let record = store.get_credential(summary.id)?;
        let Ok(view) = present::read_credential(&record.credential) else {
            continue;
        };
        let names: Vec<String> = view.claims.iter().map(|c| c.name()).collect();
        if claims.iter().all(|claim| names.contains(claim)) {
            // Summaries come oldest first, so the last match is the newest.
            newest = Some(summary.id);
        }
    }
    newest.with_context(|| {
        format!(
            "no stored credential holds {}; see `simin wallet list`",
            claims.join(", ")
        )
    })
}

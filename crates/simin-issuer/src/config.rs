//! The issuer's configuration (`issuer.toml`), its home directory and its secrets.
//!
//! ```text
//! HOME/issuer.toml                   this file
//! HOME/keys/credential-signing.key   Ed25519 seed (hex, 0600): signs credentials; its public
//!                                    key is the DID's `assertionMethod` key (`#key-1`)
//! HOME/keys/org.key                  Ed25519 seed (hex, 0600): one of the organisation's keys;
//!                                    signs the status-list transactions
//! HOME/keys/admin.token              the bearer token of `/admin/...` (0600)
//! HOME/data/issuer.redb              offers, tokens, nonces and issued-credential records
//! ```

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use rand::RngCore;
use serde::{Deserialize, Serialize};
use simin_identity::jose::b64url_encode;
use simin_types::{limits, OrgId, PublicKey, SigningKey};
use zeroize::Zeroize;

use crate::error::IssuerError;

/// The configuration file's name in the home directory.
pub const CONFIG_FILE: &str = "issuer.toml";
/// The shortest admin token accepted, in bytes.
const ADMIN_TOKEN_BYTES_MIN: usize = 16;
/// The longest admin token accepted, in bytes.
const ADMIN_TOKEN_BYTES_MAX: usize = 256;
/// The longest URL accepted in the configuration.
const URL_BYTES_MAX: usize = 512;

/// What `issuer.toml` holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The organisation the service issues for: credentials say `iss: did:simin:<org>`.
    pub org: OrgId,
    /// The organisation's name, shown by wallets (issuer metadata `display`).
    pub display_name: String,
    /// The API base URL of the simin node the service talks to.
    pub node_url: String,
    /// The public base URL of this service: the `credential_issuer` identifier, which
    /// wallets check key proofs against (`aud`). No trailing slash, no query.
    pub public_url: String,
    /// Where the service listens.
    pub listen: SocketAddr,
    /// The fragment of the DID's verification method whose key signs credentials.
    #[serde(default = "default_fragment")]
    pub signing_key_fragment: String,
    /// How long an issued credential is valid, in days.
    #[serde(default = "default_validity_days")]
    pub credential_validity_days: u32,
    /// The size of the status lists the service creates, in bits (at least 131,072).
    #[serde(default = "default_status_list_bits")]
    pub status_list_bits: u32,
    /// How long an offer can be redeemed, in seconds.
    #[serde(default = "default_offer_ttl")]
    pub offer_ttl_secs: u64,
    /// How long an access token is valid, in seconds.
    #[serde(default = "default_token_ttl")]
    pub access_token_ttl_secs: u64,
    /// How long a `c_nonce` is valid, in seconds.
    #[serde(default = "default_nonce_ttl")]
    pub nonce_ttl_secs: u64,
}

fn default_fragment() -> String {
    "key-1".into()
}
fn default_validity_days() -> u32 {
    365
}
fn default_status_list_bits() -> u32 {
    limits::STATUS_LIST_BITS_MIN
}
fn default_offer_ttl() -> u64 {
    600
}
fn default_token_ttl() -> u64 {
    600
}
fn default_nonce_ttl() -> u64 {
    300
}

impl IssuerConfig {
    /// A configuration with the defaults for everything but the required fields.
    pub fn new(org: OrgId, node_url: &str, public_url: &str, listen: SocketAddr) -> IssuerConfig {
        IssuerConfig {
            display_name: org.to_string(),
            org,
            node_url: node_url.trim_end_matches('/').to_owned(),
            public_url: public_url.trim_end_matches('/').to_owned(),
            listen,
            signing_key_fragment: default_fragment(),
            credential_validity_days: default_validity_days(),
            status_list_bits: default_status_list_bits(),
            offer_ttl_secs: default_offer_ttl(),
            access_token_ttl_secs: default_token_ttl(),
            nonce_ttl_secs: default_nonce_ttl(),
        }
    }

    /// Checks what serde cannot: URLs, the fragment, the ranges.
    pub fn validate(&self) -> Result<(), String> {
        check_url("node_url", &self.node_url)?;
        check_url("public_url", &self.public_url)?;
        if self.public_url.ends_with('/') {
            return Err("public_url has no trailing slash".into());
        }
        let fragment = &self.signing_key_fragment;
        if fragment.is_empty()
            || fragment.len() > 32
            || !fragment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("signing_key_fragment is 1 to 32 characters of A-Za-z0-9-_".into());
        }
        if self.display_name.is_empty() || self.display_name.len() > 128 {
            return Err("display_name is 1 to 128 bytes".into());
        }
        if !(1..=3650).contains(&self.credential_validity_days) {
            return Err("credential_validity_days is between 1 and 3650".into());
        }
        if !(limits::STATUS_LIST_BITS_MIN..=limits::STATUS_LIST_BITS_MAX)
            .contains(&self.status_list_bits)
        {
            return Err(format!(
                "status_list_bits is between {} and {}",
                limits::STATUS_LIST_BITS_MIN,
                limits::STATUS_LIST_BITS_MAX
            ));
        }
        for (name, value) in [
            ("offer_ttl_secs", self.offer_ttl_secs),
            ("access_token_ttl_secs", self.access_token_ttl_secs),
            ("nonce_ttl_secs", self.nonce_ttl_secs),
        ] {
            if !(10..=86_400).contains(&value) {
                return Err(format!("{name} is between 10 and 86400"));
            }
        }
        Ok(())
    }
}

fn check_url(name: &str, text: &str) -> Result<(), String> {
    if text.len() > URL_BYTES_MAX {
        return Err(format!("{name} is longer than {URL_BYTES_MAX} bytes"));
    }
    let url = reqwest::Url::parse(text).map_err(|e| format!("{name} {text:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{name} is an http:// or https:// URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{name} has no query or fragment"));
    }
    Ok(())
}

/// Paths inside an issuer's home directory.
#[derive(Clone, Debug)]
pub struct IssuerHome(PathBuf);

impl IssuerHome {
    pub fn new(path: impl Into<PathBuf>) -> IssuerHome {
        IssuerHome(path.into())
    }
    pub fn root(&self) -> &Path {
        &self.0
    }
    pub fn config(&self) -> PathBuf {
        self.0.join(CONFIG_FILE)
    }
    pub fn signing_key(&self) -> PathBuf {
        self.0.join("keys").join("credential-signing.key")
    }
    pub fn org_key(&self) -> PathBuf {
        self.0.join("keys").join("org.key")
    }
    pub fn admin_token(&self) -> PathBuf {
        self.0.join("keys").join("admin.token")
    }
    pub fn database(&self) -> PathBuf {
        self.0.join("data").join("issuer.redb")
    }

    /// Reads and checks the configuration.
    pub fn read_config(&self) -> Result<IssuerConfig, IssuerError> {
        let path = self.config();
        let text = read(&path)?;
        let config: IssuerConfig = toml::from_str(&text).map_err(|e| IssuerError::Config {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        config
            .validate()
            .map_err(|reason| IssuerError::Config { path, reason })?;
        Ok(config)
    }

    /// Reads the keys and the admin token.
    pub fn read_secrets(&self) -> Result<IssuerSecrets, IssuerError> {
        let token_path = self.admin_token();
        let admin_token = read(&token_path)?.trim().to_owned();
        if !(ADMIN_TOKEN_BYTES_MIN..=ADMIN_TOKEN_BYTES_MAX).contains(&admin_token.len()) {
            return Err(IssuerError::Config {
                path: token_path,
                reason: format!(
                    "the admin token is {ADMIN_TOKEN_BYTES_MIN} to {ADMIN_TOKEN_BYTES_MAX} bytes"
                ),
            });
        }
        Ok(IssuerSecrets {
            signing_key: read_key(&self.signing_key())?,
            org_key: read_key(&self.org_key())?,
            admin_token,
        })
    }
}

/// The service's secrets: two Ed25519 keys and the admin token.
#[derive(Clone)]
pub struct IssuerSecrets {
    /// Signs credentials; its public key is the DID's `assertionMethod` key.
    pub signing_key: SigningKey,
    /// One of the organisation's keys; signs `CreateStatusList` and `SetStatus`.
    pub org_key: SigningKey,
    /// The bearer token of the admin endpoints.
    pub admin_token: String,
}

impl std::fmt::Debug for IssuerSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerSecrets")
            .field("signing_key", &self.signing_key)
            .field("org_key", &self.org_key)
            .field("admin_token", &"<redacted>")
            .finish()
    }
}

impl Drop for IssuerSecrets {
    fn drop(&mut self) {
        self.admin_token.zeroize();
    }
}

fn read(path: &Path) -> Result<String, IssuerError> {
    std::fs::read_to_string(path).map_err(|source| IssuerError::Read {
        path: path.to_owned(),
        source,
    })
}

fn read_key(path: &Path) -> Result<SigningKey, IssuerError> {
    let mut text = read(path)?;
    let key = SigningKey::from_hex(&text).map_err(|e| IssuerError::Config {
        path: path.to_owned(),
        reason: e.to_string(),
    });
    text.zeroize();
    key
}

/// Writes `contents` to a new file readable by its owner only.
fn write_secret(path: &Path, contents: &str) -> Result<(), IssuerError> {
    use std::os::unix::fs::OpenOptionsExt;
    let write_error = |source| IssuerError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(write_error)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(write_error)?;
    file.write_all(format!("{contents}\n").as_bytes())
        .map_err(write_error)
}

/// What [`init_home`] created: what the city must register, and where things are.
#[derive(Clone, Debug, Serialize)]
pub struct InitReport {
    pub home: PathBuf,
    pub org: OrgId,
    /// `did:simin:<org>`.
    pub did: String,
    /// `did:simin:<org>#<fragment>`: the verification method to create with the
    /// `assertionMethod` relationship and [`InitReport::signing_public_key`].
    pub kid: String,
    /// The credential-signing key (hex): the DID's `assertionMethod` key.
    pub signing_public_key: PublicKey,
    /// The organisation key (hex): to register among the organisation's keys.
    pub org_public_key: PublicKey,
    pub admin_token_file: PathBuf,
    pub public_url: String,
    pub listen: SocketAddr,
}

/// The two keys of a new issuer home.
#[derive(Clone, Debug)]
pub struct HomeKeys {
    /// Signs credentials: the DID's `assertionMethod` key.
    pub signing_key: SigningKey,
    /// One of the organisation's keys: signs the status-list transactions.
    pub org_key: SigningKey,
}

impl HomeKeys {
    /// Fresh keys, which the city must then register.
    pub fn generate(rng: &mut (impl rand::CryptoRng + RngCore)) -> HomeKeys {
        HomeKeys {
            signing_key: SigningKey::generate(rng),
            org_key: SigningKey::generate(rng),
        }
    }
}

/// Creates an issuer home: `issuer.toml`, the two Ed25519 keys and a fresh admin token
/// from `rng`.
/// Refuses to overwrite an existing configuration or key.
pub fn init_home(
    dir: &Path,
    config: &IssuerConfig,
    keys: HomeKeys,
    rng: &mut (impl rand::CryptoRng + RngCore),
) -> Result<InitReport, IssuerError> {
    let home = IssuerHome::new(dir);
    config.validate().map_err(|reason| IssuerError::Config {
        path: home.config(),
        reason,
    })?;
    for path in [
        home.config(),
        home.signing_key(),
        home.org_key(),
        home.admin_token(),
    ] {
        if path.exists() {
            return Err(IssuerError::HomeExists(path));
        }
    }
    let HomeKeys {
        signing_key,
        org_key,
    } = keys;
    let mut token = [0u8; 32];
    rng.fill_bytes(&mut token);
    let mut admin_token = b64url_encode(&token);
    token.zeroize();
    let mut seed = signing_key.to_seed_hex();
    let written = write_secret(&home.signing_key(), &seed);
    seed.zeroize();
    written?;
    let mut seed = org_key.to_seed_hex();
    let written = write_secret(&home.org_key(), &seed);
    seed.zeroize();
    written?;
    let written = write_secret(&home.admin_token(), &admin_token);
    admin_token.zeroize();
    written?;
    let text = toml::to_string(config).map_err(|e| IssuerError::Config {
        path: home.config(),
        reason: e.to_string(),
    })?;
    std::fs::write(home.config(), text).map_err(|source| IssuerError::Write {
        path: home.config(),
        source,
    })?;
    let did = simin_types::identity::did_of(&config.org);
    Ok(InitReport {
        home: dir.to_owned(),
        org: config.org.clone(),
        kid: format!("{did}#{}", config.signing_key_fragment),
        did,
        signing_public_key: signing_key.public_key(),
        org_public_key: org_key.public_key(),
        admin_token_file: home.admin_token(),
        public_url: config.public_url.clone(),
        listen: config.listen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> IssuerConfig {
        IssuerConfig::new(
            OrgId::new("seoul.agency").expect("valid id"),
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:8090",
            "127.0.0.1:8090".parse().expect("an address"),
        )
    }

    #[test]
    fn config_round_trips_and_refuses_unknown_fields() {
        let config = config();
        assert_eq!(config.node_url, "http://127.0.0.1:8080");
        let text = toml::to_string(&config).expect("serializes");
        assert_eq!(
            toml::from_str::<IssuerConfig>(&text).expect("parses"),
            config
        );
        assert!(toml::from_str::<IssuerConfig>(&format!("{text}\nsurprise = 1\n")).is_err());
        let minimal = "org = \"a.b\"\ndisplay_name = \"A\"\nnode_url = \"http://n:1\"\n\
                       public_url = \"https://issuer.example\"\nlisten = \"127.0.0.1:1\"\n";
        let parsed: IssuerConfig = toml::from_str(minimal).expect("defaults fill the rest");
        assert_eq!(parsed.signing_key_fragment, "key-1");
        parsed.validate().expect("valid");
    }

    #[test]
    fn bad_values_are_refused() {
        let mut c = config();
        c.public_url = "ftp://x".into();
        assert!(c.validate().is_err());
        let mut c = config();
        c.status_list_bits = 8;
        assert!(c.validate().is_err());
        let mut c = config();
        c.signing_key_fragment = "key#1".into();
        assert!(c.validate().is_err());
        let mut c = config();
        c.offer_ttl_secs = 0;
        assert!(c.validate().is_err());
    }

    #[test]
    fn init_writes_a_home_that_reads_back_and_is_never_overwritten() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let report = init_home(
            dir.path(),
            &config(),
            HomeKeys::generate(&mut rand::rngs::OsRng),
            &mut rand::rngs::OsRng,
        )
        .expect("init");
        assert_eq!(report.kid, "did:simin:seoul.agency#key-1");
        let home = IssuerHome::new(dir.path());
        assert_eq!(home.read_config().expect("config"), config());
        let secrets = home.read_secrets().expect("secrets");
        assert_eq!(secrets.signing_key.public_key(), report.signing_public_key);
        assert_eq!(secrets.org_key.public_key(), report.org_public_key);
        assert_ne!(report.signing_public_key, report.org_public_key);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.org_key())
            .expect("a file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(matches!(
            init_home(
                dir.path(),
                &config(),
                HomeKeys::generate(&mut rand::rngs::OsRng),
                &mut rand::rngs::OsRng
            ),
            Err(IssuerError::HomeExists(_))
        ));
    }
}

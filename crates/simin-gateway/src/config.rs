//! What a provider needs to run: where it is reachable, its node, its organisation's keys
//! and the secret its pairwise subjects are derived with.

use std::path::PathBuf;
use std::time::Duration;

use simin_types::{OrgId, SigningKey};
use zeroize::Zeroizing;

/// How long things live.
#[derive(Clone, Debug)]
pub struct Timeouts {
    /// From the authorize request to the wallet's answer.
    pub login: Duration,
    /// An authorization code (RFC 6749 recommends at most ten minutes; one is plenty).
    pub code: Duration,
    /// An access token, and the ID token issued with it.
    pub token: Duration,
    /// How long a service registration read from the node is reused.
    pub registry_cache: Duration,
    /// How long the provider gathers access entries into one transaction.
    pub access_batch: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            login: Duration::from_secs(300),
            code: Duration::from_secs(60),
            token: Duration::from_secs(300),
            registry_cache: Duration::from_secs(1),
            access_batch: Duration::from_millis(200),
        }
    }
}

/// A provider's configuration.
pub struct GatewayConfig {
    /// The issuer identifier and base of every endpoint, e.g. `https://login.seoul.go.kr`
    /// (no trailing slash).
    pub public_url: String,
    /// The node the provider reads registrations from, verifies presentations with and
    /// writes the access log through.
    pub node_url: String,
    /// The provider's organisation (role `IdentityProvider`, with a `did:simin` DID).
    pub organization: OrgId,
    /// Signs the access-log transactions.
    pub org_key: SigningKey,
    /// Signs ID tokens and OpenID4VP request objects: a key of the organisation's DID
    /// (listed under `assertionMethod`), `#<signing_fragment>`.
    pub signing_key: ed25519_dalek::SigningKey,
    pub signing_fragment: String,
    /// The secret pairwise subjects are derived with; losing it changes every subject.
    pub pairwise_secret: Zeroizing<[u8; 32]>,
    /// The access log's write-ahead journal (a redb file, created if absent): entries
    /// released but not yet on chain, replayed at the next start after a crash.
    pub access_log_path: PathBuf,
    pub timeouts: Timeouts,
}

impl std::fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No key material in logs.
        f.debug_struct("GatewayConfig")
            .field("public_url", &self.public_url)
            .field("node_url", &self.node_url)
            .field("organization", &self.organization)
            .field("signing_fragment", &self.signing_fragment)
            .field("access_log_path", &self.access_log_path)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

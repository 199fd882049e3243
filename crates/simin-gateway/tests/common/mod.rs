//! The demo city of the provider's tests: a one-validator devnet with the registry's
//! status lists and the library's two services registered, cards issued by the
//! registry, and the provider's configuration for that chain.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use simin_gateway::{GatewayConfig, Timeouts};
use simin_identity::card::{self, CardIssue};
use simin_identity::jose::{Jwk, JwsSigner};
use simin_identity::sd_jwt::{self, KeyBindingRequest, PathElement};
use simin_identity::status_list::{BitstringStatusListEntry, StatusPurpose as EntryPurpose};
use simin_node::devnet_identity::{org_key_paths, DEVNET_CARD_ISSUER, DEVNET_IDENTITY_PROVIDER};
use simin_types::{
    AuthCall, Call, ChainId, Hash, Height, IdentityCall, OrgId, ServiceRegistration, SigningKey,
    StatusPurpose, StatusUpdate, Tx,
};

pub const LIBRARY: &str = "library-web";
pub const LIBRARY_REDIRECT: &str = "http://127.0.0.1:9/callback";
pub const COUNTER: &str = "counter-web";
pub const COUNTER_SECRET: &str = "a-long-random-secret-of-the-counter-service-0123456789";
/// The pairwise secret of the tests' provider.
pub const PAIRWISE_SECRET: [u8; 32] = [5u8; 32];

pub fn now() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    i64::try_from(secs).expect("fits")
}

/// A loopback port free right now, with its `+ 100` neighbour (a devnet's peer port),
/// below Linux's ephemeral range (32768 and up): binding port 0 gave ephemeral ports,
/// which outgoing connections of parallel tests could take before the server bound them.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    for _ in 0..1_000 {
        // RandomState is seeded afresh per instance: a random start in every process.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        let offset = u16::try_from(hasher.finish() % 9_800).expect("below 9,800 fits in u16");
        let port = 2_000 + offset;
        if free(port) && free(port + 100) {
            return port;
        }
    }
    panic!("no free loopback port below the ephemeral range");
}

pub fn load_key(path: &Path) -> SigningKey {
    SigningKey::from_hex(std::fs::read_to_string(path).expect("key file").trim()).expect("a key")
}

pub fn dalek(key: &SigningKey) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(
        &hex::decode(key.to_seed_hex())
            .expect("hex")
            .try_into()
            .expect("32 bytes"),
    )
}

pub struct Signer {
    pub key: SigningKey,
    pub nonce: u64,
}

impl Signer {
    pub async fn succeed(&mut self, http: &reqwest::Client, base: &str, call: Call) -> u64 {
        let tx = Tx {
            chain_id: ChainId::new(simin_node::devnet::DEVNET_CHAIN_ID).expect("valid id"),
            signer: self.key.public_key(),
            nonce: self.nonce,
            expiry_height: Height(100_000),
            call,
        }
        .sign(&self.key);
        self.nonce += 1;
        let answer: Value = http
            .post(format!("{base}/v1/txs?wait=commit"))
            .json(&json!({ "tx": hex::encode(tx.encode()) }))
            .send()
            .await
            .expect("submitted")
            .json()
            .await
            .expect("JSON");
        assert_eq!(
            answer["committed"]["receipt"]["outcome"]["status"], "success",
            "{answer}"
        );
        answer["committed"]["height"].as_u64().expect("a height")
    }
}

/// A devnet node and what the tests act on it with.
pub struct City {
    pub dir: tempfile::TempDir,
    pub node: Option<simin_node::RunningNode>,
    pub node_url: String,
    pub http: reqwest::Client,
    pub registry: Signer,
    pub registry_assert: ed25519_dalek::SigningKey,
    pub next_index: u32,
}

impl City {
    pub async fn start() -> City {
        let dir = tempfile::tempdir().expect("a temp dir");
        let api: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let layout = simin_node::devnet::ensure(&simin_node::devnet::DevnetSpec {
            data_dir: dir.path().to_owned(),
            api_listen: api,
            validators: 1,
            full_nodes: 0,
        })
        .expect("devnet laid out");
        let node = simin_node::start(&layout.homes[0])
            .await
            .expect("node starts");
        let node_url = format!("http://{api}");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a client");
        wait_for_height(&http, &node_url, 1).await;
        let keys = dir.path().join("keys");
        let (registry_key, registry_assert) = org_key_paths(&keys, DEVNET_CARD_ISSUER);
        let mut registry = Signer {
            key: load_key(&registry_key),
            nonce: 0,
        };
        for (list, purpose) in [
            (0, StatusPurpose::Revocation),
            (1, StatusPurpose::Suspension),
        ] {
            registry
                .succeed(
                    &http,
                    &node_url,
                    Call::Identity(IdentityCall::CreateStatusList {
                        list,
                        purpose,
                        size_bits: 131_072,
                    }),
                )
                .await;
        }
        let mut library = Signer {
            key: load_key(&org_key_paths(&keys, "mapo.library").0),
            nonce: 0,
        };
        for (client_id, secret) in [(LIBRARY, None), (COUNTER, Some(COUNTER_SECRET))] {
            library
                .succeed(
                    &http,
                    &node_url,
                    Call::Auth(AuthCall::RegisterService(ServiceRegistration {
                        client_id: client_id.into(),
                        organization: OrgId::new("mapo.library").expect("valid"),
                        name: "Mapo Public Library".into(),
                        redirect_uris: vec![LIBRARY_REDIRECT.into()],
                        scopes: vec!["age_over_19".into(), "resident_district".into()],
                        secret_hash: secret.map(|s| Hash(Sha256::digest(s.as_bytes()).into())),
                        active: true,
                    })),
                )
                .await;
        }
        City {
            registry_assert: dalek(&load_key(&registry_assert)),
            dir,
            node: Some(node),
            node_url,
            http,
            registry,
            next_index: 1000,
        }
    }

    pub fn keys(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    /// The paths of the provider organisation's transaction key and DID signing key.
    pub fn provider_keys(&self) -> (PathBuf, PathBuf) {
        org_key_paths(&self.keys(), DEVNET_IDENTITY_PROVIDER)
    }

    /// The provider's configuration at `gw` for this chain, its journal at `access_log`.
    pub fn gateway_config(&self, gw: &str, access_log: &Path, batch: Duration) -> GatewayConfig {
        provider_config(self.dir.path(), &self.node_url, gw, access_log, batch)
    }

    /// A card issued by the devnet's registry, bound to a new holder key.
    pub fn issue_card(&mut self, card_number: &str) -> Card {
        self.next_index += 1;
        let index = self.next_index;
        let holder = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let did = format!("did:simin:{DEVNET_CARD_ISSUER}");
        let mut salt = 0u32;
        let credential = card::issue_sd_jwt_vc(
            &CardIssue {
                vct: "CitizenCard".into(),
                iss: did.clone(),
                kid: format!("{did}#key-1"),
                claims: json!({
                    "name": "Kim Minji", "birthdate": "1990-05-01", "resident_district": "Mapo-gu",
                    "photo_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "card_number": card_number,
                    "age_over_14": true, "age_over_19": true, "age_over_65": false,
                })
                .as_object()
                .expect("an object")
                .clone(),
                holder_jwk: Jwk::from_ed25519(&holder.verifying_key()),
                iat: u64::try_from(now()).expect("positive"),
                exp: u64::try_from(now() + 86_400).expect("positive"),
                status: vec![
                    BitstringStatusListEntry::new(
                        None,
                        EntryPurpose::Revocation,
                        index as usize,
                        format!("{did}/status/0"),
                    ),
                    BitstringStatusListEntry::new(
                        None,
                        EntryPurpose::Suspension,
                        index as usize,
                        format!("{did}/status/1"),
                    ),
                ],
            },
            &JwsSigner::Ed25519(self.registry_assert.clone()),
            &mut move || {
                salt += 1;
                format!("salt-{salt:04}-{index}-AAAAAAAAAAAA")
            },
        )
        .expect("issued");
        Card {
            credential,
            holder,
            index,
        }
    }

    pub async fn set_status(&mut self, card: &Card, list: u32) {
        let call = Call::Identity(IdentityCall::SetStatus {
            list,
            updates: vec![StatusUpdate {
                index: card.index,
                value: true,
            }],
        });
        let (http, base) = (self.http.clone(), self.node_url.clone());
        let height = self.registry.succeed(&http, &base, call).await;
        // Status changes are effective from the next block.
        wait_for_height(&http, &base, height + 1).await;
    }
}

/// The devnet provider's configuration at `gw`, with the keys of the devnet laid out in
/// `dir`, its node at `node_url` and its journal at `access_log`.
pub fn provider_config(
    dir: &Path,
    node_url: &str,
    gw: &str,
    access_log: &Path,
    batch: Duration,
) -> GatewayConfig {
    let (org_key, assert_key) = org_key_paths(&dir.join("keys"), DEVNET_IDENTITY_PROVIDER);
    GatewayConfig {
        public_url: gw.to_owned(),
        node_url: node_url.to_owned(),
        organization: OrgId::new(DEVNET_IDENTITY_PROVIDER).expect("valid"),
        org_key: load_key(&org_key),
        signing_key: dalek(&load_key(&assert_key)),
        signing_fragment: "key-1".into(),
        pairwise_secret: zeroize::Zeroizing::new(PAIRWISE_SECRET),
        access_log_path: access_log.to_owned(),
        timeouts: Timeouts {
            access_batch: batch,
            ..Timeouts::default()
        },
    }
}

pub async fn wait_for_height(http: &reqwest::Client, base: &str, height: u64) {
    for _ in 0..600 {
        let status: Option<Value> = match http.get(format!("{base}/v1/status")).send().await {
            Ok(r) => r.json().await.ok(),
            Err(_) => None,
        };
        if status.is_some_and(|s| s["latest_height"].as_u64() >= Some(height)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("height {height} not reached");
}

pub struct Card {
    pub credential: String,
    pub holder: ed25519_dalek::SigningKey,
    pub index: u32,
}

impl Card {
    pub fn present(&self, claims: &[String], audience: &str, nonce: &str) -> String {
        let selection: Vec<_> = claims
            .iter()
            .map(|c| vec![PathElement::Name(c.clone())])
            .collect();
        sd_jwt::present(
            &self.credential,
            &selection,
            Some(&KeyBindingRequest {
                signer: &JwsSigner::Ed25519(self.holder.clone()),
                audience,
                nonce,
                issued_at: now(),
            }),
        )
        .expect("presented")
    }
}

pub fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub fn authorize_url(
    gw: &str,
    client_id: &str,
    redirect: &str,
    scope: &str,
    challenge: Option<&str>,
) -> String {
    let mut url = url::Url::parse(&format!("{gw}/authorize")).expect("a URL");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect)
        .append_pair("scope", scope)
        .append_pair("state", "state-123")
        .append_pair("nonce", "nonce-456");
    if let Some(challenge) = challenge {
        url.query_pairs_mut()
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
    }
    url.to_string()
}

pub fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(location)
        .expect("a URL")
        .query_pairs()
        .into_owned()
        .collect()
}

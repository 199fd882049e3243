//! The login benchmark's city: a one-validator devnet (the demo city of its genesis),
//! the card issuer's status lists, the benchmark service's registration, and citizen
//! cards issued to distinct holder keys.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use simin_client::dto::SubmitStatus;
use simin_client::Client;
use simin_identity::card::{self, CardIssue};
use simin_identity::jose::JwsSigner;
use simin_identity::status_list::{BitstringStatusListEntry, StatusPurpose as EntryPurpose};
use simin_node::devnet::{DevnetLayout, DevnetSpec};
use simin_node::devnet_identity::{org_key_paths, DEVNET_CARD_ISSUER};
use simin_types::{
    AuthCall, Call, Genesis, Height, IdentityCall, OrgId, ServiceRegistration, SigningKey,
    StatusPurpose, Tx, TxOutcome,
};

/// The benchmark's service: a public client of the demo library's organisation.
pub const CLIENT_ID: &str = "bench-service";
pub const SERVICE_ORG: &str = "mapo.library";
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/cb";
pub const SCOPES: [&str; 2] = ["age_over_19", "resident_district"];
/// Bits of each status list (the cards' indexes stay below it).
const STATUS_LIST_BITS: u32 = 131_072;
/// The most cards a run issues.
pub const CARDS_MAX: usize = 100_000;

const DISTRICTS: [&str; 5] = [
    "Mapo-gu",
    "Jongno-gu",
    "Gangnam-gu",
    "Seodaemun-gu",
    "Nowon-gu",
];

/// A citizen's card, as their wallet keeps it.
pub struct Citizen {
    /// The issued SD-JWT VC (no key binding yet).
    pub card: String,
    pub holder: JwsSigner,
    pub card_number: String,
}

/// Lays out a one-validator devnet in `dir`, its API on a free loopback port.
pub fn lay_out(dir: &Path) -> anyhow::Result<(DevnetLayout, SocketAddr)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .context("bind an ephemeral port")?
        .local_addr()?
        .port();
    let api: SocketAddr = ([127, 0, 0, 1], port).into();
    let layout = simin_node::devnet::ensure(&DevnetSpec {
        data_dir: dir.to_owned(),
        api_listen: api,
        validators: 1,
        full_nodes: 0,
    })
    .context("lay out the devnet")?;
    Ok((layout, api))
}

/// Reads a devnet key file (the seed in hex).
pub fn load_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    SigningKey::from_hex(text.trim()).with_context(|| format!("parse {}", path.display()))
}

/// The same key as an `ed25519_dalek` key, for JOSE signatures.
pub fn dalek(key: &SigningKey) -> anyhow::Result<ed25519_dalek::SigningKey> {
    let seed: [u8; 32] = hex::decode(key.to_seed_hex())?
        .try_into()
        .map_err(|_| anyhow::anyhow!("a seed is 32 bytes"))?;
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

/// Waits for the first block, then creates the issuer's status lists 0 (revocation) and 1
/// (suspension) and registers the benchmark service; each call committed.
pub async fn prepare_chain(client: &Client, keys: &Path) -> anyhow::Result<()> {
    for _ in 0..300 {
        if client.status().await.is_ok_and(|s| s.latest_height.0 > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let registry = load_key(&org_key_paths(keys, DEVNET_CARD_ISSUER).0)?;
    for (list, purpose) in [
        (0, StatusPurpose::Revocation),
        (1, StatusPurpose::Suspension),
    ] {
        let call = Call::Identity(IdentityCall::CreateStatusList {
            list,
            purpose,
            size_bits: STATUS_LIST_BITS,
        });
        commit(client, &registry, call).await?;
    }
    let library = load_key(&org_key_paths(keys, SERVICE_ORG).0)?;
    let registration = ServiceRegistration {
        client_id: CLIENT_ID.into(),
        organization: OrgId::new(SERVICE_ORG).context("a valid id")?,
        name: "Login benchmark".into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        scopes: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        secret_hash: None,
        active: true,
    };
    commit(
        client,
        &library,
        Call::Auth(AuthCall::RegisterService(registration)),
    )
    .await
}

/// Signs `call` with the signer's next nonce and waits for its successful commit.
pub async fn commit(client: &Client, key: &SigningKey, call: Call) -> anyhow::Result<()> {
    let status = client.status().await?;
    let name = call.name();
    let tx = Tx {
        chain_id: status.chain_id,
        signer: key.public_key(),
        nonce: client.account_next_nonce(&key.public_key()).await?,
        expiry_height: Height(status.latest_height.0 + 100),
        call,
    }
    .sign(key);
    let response = client
        .submit(&tx, true)
        .await
        .with_context(|| format!("submit {name}"))?;
    match (response.status, response.committed) {
        (SubmitStatus::Committed, Some(committed)) => match committed.receipt.outcome {
            TxOutcome::Success => Ok(()),
            TxOutcome::Failure { code, message } => bail!("{name} failed: {code}: {message}"),
        },
        _ => bail!("{name} was not committed in time"),
    }
}

/// Issues `count` CitizenCards, signed with the registry's `key-1`, each bound to its own
/// holder key and pointing at its own bits of status lists 0 and 1. `iat` must be at or
/// after the genesis (when the registry's key was listed).
pub fn issue_cards(keys: &Path, count: usize, iat: u64) -> anyhow::Result<Vec<Citizen>> {
    anyhow::ensure!((1..=CARDS_MAX).contains(&count), "cards: 1 to {CARDS_MAX}");
    let issuer = JwsSigner::Ed25519(dalek(&load_key(
        &org_key_paths(keys, DEVNET_CARD_ISSUER).1,
    )?)?);
    let did = format!("did:simin:{DEVNET_CARD_ISSUER}");
    (0..count)
        .map(|i| {
            let holder =
                JwsSigner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed("holder", i)));
            let status = [EntryPurpose::Revocation, EntryPurpose::Suspension]
                .into_iter()
                .enumerate()
                .map(|(list, purpose)| {
                    BitstringStatusListEntry::new(None, purpose, i, format!("{did}/status/{list}"))
                })
                .collect();
            let claims = citizen(i);
            let card_number = claims["card_number"]
                .as_str()
                .context("a card number")?
                .to_owned();
            let request = CardIssue {
                vct: "CitizenCard".into(),
                iss: did.clone(),
                kid: format!("{did}#key-1"),
                claims,
                holder_jwk: holder.public_jwk(),
                iat,
                exp: iat + 365 * 86_400,
                status,
            };
            let mut salts = 0usize;
            let card = card::issue_sd_jwt_vc(&request, &issuer, &mut || {
                salts += 1;
                URL_SAFE_NO_PAD.encode(&seed(&format!("salt-{salts}"), i)[..16])
            })?;
            Ok(Citizen {
                card,
                holder,
                card_number,
            })
        })
        .collect()
}

/// The genesis time of the laid-out chain, Unix milliseconds.
pub fn genesis_ms(layout: &DevnetLayout) -> anyhow::Result<u64> {
    let genesis: Genesis = serde_json::from_slice(&std::fs::read(&layout.genesis)?)?;
    Ok(genesis.genesis_time.0)
}

/// The user claims of citizen `i`.
fn citizen(i: usize) -> Map<String, Value> {
    let photo = hex::encode(Sha256::digest(format!("photo-{i}")));
    let year = 1940 + i % 70;
    let claims = json!({
        "name": format!("Citizen {i}"),
        "birthdate": format!("{year}-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
        "resident_district": DISTRICTS[i % DISTRICTS.len()],
        "photo_sha256": photo,
        "card_number": format!("SC-2026-{i:06}"),
        "age_over_14": true,
        "age_over_19": year <= 2007,
        "age_over_65": year <= 1961,
    });
    match claims {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

/// A 32-byte seed from a label and an index.
pub fn seed(label: &str, i: usize) -> [u8; 32] {
    Sha256::digest(format!("simin-bench/login/{label}/{i}")).into()
}

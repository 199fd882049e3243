//! `simin gateway`: run the city's OpenID Connect provider ("Sign in with Citizen Card")
//! and register the services that use it; and the devnet's provider and demo library.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use rand::RngCore;
use sha2::{Digest, Sha256};
use simin_client::dto::SubmitStatus;
use simin_client::Client;
use simin_gateway::demo::DemoConfig;
use simin_gateway::{Gateway, GatewayConfig, SystemClock, Timeouts};
use simin_node::devnet_identity::{org_key_paths, DEVNET_IDENTITY_PROVIDER};
use simin_types::{
    decode, state_keys, AuthCall, Call, Hash, Height, OrgId, ServiceRegistration, SigningKey, Tx,
    TxOutcome,
};
use zeroize::Zeroizing;

use crate::output;

/// Blocks a registration stays valid for.
const TX_EXPIRY_BLOCKS: u64 = 100;
/// The devnet's demo library service.
pub const DEMO_CLIENT_ID: &str = "mapo-library";
const DEMO_ORG: &str = "mapo.library";
const DEMO_SCOPES: [&str; 2] = ["age_over_14", "resident_district"];
/// Scopes the demo library may ask for (a registration can allow more than a login asks).
const DEMO_REGISTERED_SCOPES: [&str; 4] =
    ["age_over_14", "age_over_19", "name", "resident_district"];

#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// Run an OpenID Connect provider in the foreground.
    Serve(ServeArgs),
    /// Register (or replace) a service allowed to sign citizens in; signed with its
    /// organisation's key. With --confidential, prints the new client secret once.
    RegisterService(RegisterArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The provider's public URL (its OpenID Connect issuer identifier).
    #[arg(long, default_value = "http://127.0.0.1:8091", value_name = "URL")]
    pub public_url: String,
    #[arg(long, default_value = "127.0.0.1:8091", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// The provider's organisation (role IdentityProvider).
    #[arg(long, default_value = DEVNET_IDENTITY_PROVIDER, value_name = "ORG")]
    pub org: String,
    /// The organisation's transaction key (signs the access log).
    #[arg(long, value_name = "FILE")]
    pub org_key: PathBuf,
    /// The DID key that signs ID tokens and wallet requests (`#key-1`, assertionMethod).
    #[arg(long, value_name = "FILE")]
    pub signing_key: PathBuf,
    #[arg(long, default_value = "key-1", value_name = "FRAGMENT")]
    pub signing_fragment: String,
    /// The pairwise-subject secret (created on first use, mode 0600). Keep it: a new
    /// secret gives every citizen new subjects at every service.
    #[arg(long, value_name = "FILE")]
    pub secret: PathBuf,
    /// The access log's write-ahead journal: releases not yet on chain, replayed after a
    /// crash [default: access-log.redb beside the secret].
    #[arg(long, value_name = "FILE")]
    pub access_log: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The organisation running the service (role Service).
    #[arg(long, value_name = "ORG")]
    pub org: String,
    /// Its key [default: the devnet's key of ORG].
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// The devnet directory, for the default key.
    #[arg(long, env = "SIMIN_DEVNET_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// The name citizens see on the approval page.
    #[arg(long)]
    pub name: String,
    /// An exact redirect URI (repeat for more).
    #[arg(long = "redirect-uri", value_name = "URI", required = true)]
    pub redirect_uris: Vec<String>,
    /// A scope the service may ask for (repeat), e.g. age_over_19, resident_district.
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// A confidential client (a server that keeps a secret) instead of a public one.
    #[arg(long)]
    pub confidential: bool,
}

pub async fn run(node: &str, command: GatewayCommand, json: bool) -> anyhow::Result<()> {
    match command {
        GatewayCommand::Serve(args) => serve(node, args).await,
        GatewayCommand::RegisterService(args) => register(node, args, json).await,
    }
}

async fn serve(node: &str, args: ServeArgs) -> anyhow::Result<()> {
    let config = GatewayConfig {
        public_url: args.public_url.clone(),
        node_url: node.to_owned(),
        organization: OrgId::new(&args.org).context("invalid --org")?,
        org_key: crate::keys::load_key(&args.org_key)?,
        signing_key: ed25519_key(&crate::keys::load_key(&args.signing_key)?),
        signing_fragment: args.signing_fragment,
        pairwise_secret: load_or_create_secret(&args.secret)?,
        access_log_path: args.access_log.clone().unwrap_or_else(|| {
            args.secret
                .parent()
                .unwrap_or_else(|| Path::new("."))
                .join("access-log.redb")
        }),
        timeouts: Timeouts::default(),
    };
    let (gateway, writer) = Gateway::new(config, Arc::new(SystemClock))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    output::line(&format!(
        "OpenID Connect provider {} (discovery: {}/.well-known/openid-configuration); Ctrl-C stops it",
        args.public_url, args.public_url
    ));
    simin_gateway::serve(listener, Arc::new(gateway), writer, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("the provider stopped with an error")
}

fn ed25519_key(key: &SigningKey) -> ed25519_dalek::SigningKey {
    let seed = Zeroizing::new(
        <[u8; 32]>::try_from(
            hex::decode(key.to_seed_hex())
                .unwrap_or_default()
                .as_slice(),
        )
        .unwrap_or([0; 32]),
    );
    ed25519_dalek::SigningKey::from_bytes(&seed)
}

/// Reads the 32-byte secret (hex) at `path`, creating it (mode 0600) if absent.
fn load_or_create_secret(path: &Path) -> anyhow::Result<Zeroizing<[u8; 32]>> {
    if path.exists() {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        );
        let bytes = Zeroizing::new(
            hex::decode(text.trim()).with_context(|| format!("{} is not hex", path.display()))?,
        );
        let secret: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .with_context(|| format!("{} does not hold 32 bytes", path.display()))?;
        return Ok(Zeroizing::new(secret));
    }
    let mut secret = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(secret.as_mut());
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(hex::encode(secret.as_ref()).as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(secret)
}

async fn register(node: &str, args: RegisterArgs, json: bool) -> anyhow::Result<()> {
    let org = OrgId::new(&args.org).context("invalid --org")?;
    let key_path = match args.key {
        Some(path) => path,
        None => {
            let dir = crate::keys::devnet_dir(args.data_dir.as_deref())?;
            org_key_paths(&dir.join("keys"), org.as_str()).0
        }
    };
    let key = crate::keys::load_key(&key_path)?;
    let secret = args.confidential.then(|| {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        hex::encode(bytes)
    });
    let registration = ServiceRegistration {
        client_id: args.client_id.clone(),
        organization: org,
        name: args.name,
        redirect_uris: args.redirect_uris,
        scopes: args.scopes,
        secret_hash: secret
            .as_ref()
            .map(|s| Hash(Sha256::digest(s.as_bytes()).into())),
        active: true,
    };
    let client = Client::new(node)?;
    let height = submit(
        &client,
        &key,
        Call::Auth(AuthCall::RegisterService(registration)),
    )
    .await?;
    if json {
        output::json(&serde_json::json!({
            "client_id": args.client_id,
            "height": height,
            "client_secret": secret,
        }));
    } else {
        output::line(&format!(
            "service {} registered at height {height}",
            args.client_id
        ));
        if let Some(secret) = secret {
            output::line(&format!(
                "client secret (shown once; only its SHA-256 is on chain): {secret}"
            ));
        }
    }
    Ok(())
}

/// Signs `call`, submits it and waits for its commit; the height it was committed at.
pub(crate) async fn submit(client: &Client, key: &SigningKey, call: Call) -> anyhow::Result<u64> {
    let status = client.status().await.context("cannot reach the node")?;
    let signer = key.public_key();
    let nonce = client
        .account_next_nonce(&signer)
        .await
        .context("cannot read the signer's next nonce")?;
    let name = call.name();
    let tx = Tx {
        chain_id: status.chain_id,
        signer,
        nonce,
        expiry_height: Height(status.latest_height.0.saturating_add(TX_EXPIRY_BLOCKS)),
        call,
    }
    .sign(key);
    let response = client
        .submit(&tx, true)
        .await
        .with_context(|| format!("the node refused {name}"))?;
    let committed = match (response.status, response.committed) {
        (SubmitStatus::Committed, Some(committed)) => committed,
        _ => bail!("{name} ({}) was not committed in time", response.hash),
    };
    if let TxOutcome::Failure { code, message } = committed.receipt.outcome {
        bail!("{name} failed: {code}: {message}");
    }
    Ok(committed.height.0)
}

/// The devnet's provider and its demo library, running in this process.
pub struct RunningGateway {
    pub url: String,
    pub demo_url: String,
    /// The demo library's service registration, retried until committed: the demo
    /// service is ready when it ends well.
    pub demo_registration: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    demo: tokio::task::JoinHandle<()>,
}

impl RunningGateway {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.demo.abort();
        if let Some(registration) = self.demo_registration {
            registration.abort();
        }
        match tokio::time::timeout(std::time::Duration::from_secs(20), self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(%e, "the provider stopped with an error"),
            Ok(Err(e)) => tracing::warn!(%e, "the provider task failed"),
            Err(_) => tracing::warn!("the provider did not stop in time"),
        }
    }
}

/// Starts the devnet's provider (`DEVNET_IDENTITY_PROVIDER`, keys from the devnet) at
/// `listen` and the demo library at `demo_listen`, registering the library's service on
/// chain when it is not registered as the demo needs.
pub async fn start_devnet_gateway(
    data_dir: &Path,
    node_api: &str,
    listen: SocketAddr,
    demo_listen: SocketAddr,
) -> anyhow::Result<RunningGateway> {
    let keys = data_dir.join("keys");
    let (org_path, assert_path) = org_key_paths(&keys, DEVNET_IDENTITY_PROVIDER);
    let url = format!("http://{listen}");
    let demo_url = format!("http://{demo_listen}");
    let config = GatewayConfig {
        public_url: url.clone(),
        node_url: node_api.to_owned(),
        organization: OrgId::new(DEVNET_IDENTITY_PROVIDER).expect("a valid constant id"),
        org_key: crate::keys::load_key(&org_path)?,
        signing_key: ed25519_key(&crate::keys::load_key(&assert_path)?),
        signing_fragment: "key-1".into(),
        pairwise_secret: load_or_create_secret(&data_dir.join("gateway").join("pairwise.secret"))?,
        access_log_path: data_dir.join("gateway").join("access-log.redb"),
        timeouts: Timeouts::default(),
    };
    let (gateway, writer) = Gateway::new(config, Arc::new(SystemClock))?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("the devnet provider cannot listen on {listen}"))?;
    let demo_listener = tokio::net::TcpListener::bind(demo_listen)
        .await
        .with_context(|| format!("the demo library cannot listen on {demo_listen}"))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(simin_gateway::serve(
        listener,
        Arc::new(gateway),
        writer,
        async move {
            let _ = stopped.await;
        },
    ));
    let demo = DemoConfig {
        provider: url.clone(),
        public_url: demo_url.clone(),
        client_id: DEMO_CLIENT_ID.into(),
        name: "Mapo Public Library".into(),
        scopes: DEMO_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
    };
    let redirect_uri = demo.redirect_uri();
    let demo_task = tokio::spawn(async move {
        if let Err(e) =
            simin_gateway::demo::serve(demo_listener, demo, std::future::pending()).await
        {
            tracing::warn!(%e, "the demo library stopped");
        }
    });
    let node = node_api.to_owned();
    let library_key = org_key_paths(&keys, DEMO_ORG).0;
    let demo_registration =
        crate::devnet_ready::retrying("the demo library's registration", move || {
            let (node, library_key, redirect_uri) =
                (node.clone(), library_key.clone(), redirect_uri.clone());
            async move { ensure_demo_service(&node, &library_key, &redirect_uri).await }
        });
    Ok(RunningGateway {
        url,
        demo_url,
        demo_registration: Some(demo_registration),
        stop,
        task,
        demo: demo_task,
    })
}

/// Registers the demo library's service unless the chain has it as the demo needs.
async fn ensure_demo_service(
    node: &str,
    key_path: &Path,
    redirect_uri: &str,
) -> anyhow::Result<()> {
    let client = Client::new(node)?;
    let wanted = ServiceRegistration {
        client_id: DEMO_CLIENT_ID.into(),
        organization: OrgId::new(DEMO_ORG).expect("a valid constant id"),
        name: "Mapo Public Library".into(),
        redirect_uris: vec![redirect_uri.to_owned()],
        scopes: DEMO_REGISTERED_SCOPES
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        secret_hash: None,
        active: true,
    };
    // A fresh devnet needs its first block before it takes transactions.
    for _ in 0..100 {
        if client.status().await.is_ok_and(|s| s.latest_height.0 > 0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let current = client
        .state(&state_keys::service(DEMO_CLIENT_ID), false)
        .await?
        .value
        .map(|bytes| decode::<ServiceRegistration>("a service registration", &bytes, 16 * 1024))
        .transpose()?;
    if current.as_ref() == Some(&wanted) {
        return Ok(());
    }
    let key = crate::keys::load_key(key_path)?;
    submit(&client, &key, Call::Auth(AuthCall::RegisterService(wanted))).await?;
    tracing::info!(
        client_id = DEMO_CLIENT_ID,
        "demo library service registered"
    );
    Ok(())
}

//! `simin issuer`: set up and run an organisation's OpenID4VCI credential issuer, and its
//! clerks' commands (offer a credential, suspend, lift, revoke, list).

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use simin_issuer::{HomeKeys, IssuerConfig, IssuerService};
use simin_types::OrgId;

use crate::output;

/// The largest claims file read, in bytes.
const CLAIMS_FILE_BYTES_MAX: u64 = 64 * 1024;
/// Time limit of an admin request; a status change waits for its block.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(90);
/// The largest admin answer read, in bytes.
const ANSWER_BYTES_MAX: usize = 4 * 1024 * 1024;

#[derive(Debug, Subcommand)]
pub enum IssuerCommand {
    /// Create an issuer home: issuer.toml, a credential-signing key, an organisation key
    /// and an admin token; prints the public keys the city must register.
    Init(InitArgs),
    /// Run the issuer of a home in the foreground (creates its status lists on chain).
    Serve {
        #[arg(long, value_name = "DIR")]
        home: PathBuf,
    },
    /// Offer a credential; prints the offer link, its QR code URL and the transaction code.
    Offer(OfferArgs),
    /// Suspend a credential: sets its suspension bit on chain.
    Suspend(StatusArgs),
    /// Lift a suspension: clears the suspension bit.
    #[command(alias = "reinstate")]
    Unsuspend(StatusArgs),
    /// Revoke a credential for good: sets its revocation bit.
    Revoke(StatusArgs),
    /// List the issued credentials (type, validity, status positions; no personal data).
    Credentials(AdminArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The home directory to create.
    #[arg(long, value_name = "DIR")]
    pub home: PathBuf,
    /// The organisation id the issuer acts for (did:simin:<ORG>).
    #[arg(long, value_name = "ORG")]
    pub org: String,
    /// The issuer's public base URL, which wallets reach (its credential_issuer id).
    #[arg(long, default_value = "http://127.0.0.1:8090", value_name = "URL")]
    pub public_url: String,
    /// Where the issuer listens.
    #[arg(long, default_value = "127.0.0.1:8090", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// The organisation's name, as wallets show it [default: the organisation id].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Use the keys a devnet made for ORG (its transaction key and its DID's key-1)
    /// instead of new ones: a devnet organisation is registered, accredited and has its
    /// DID from genesis.
    #[arg(long)]
    pub from_devnet: bool,
    /// The devnet data directory [default: ~/.simin/devnet].
    #[arg(long, env = "SIMIN_DEVNET_DIR", value_name = "DIR")]
    pub devnet_dir: Option<PathBuf>,
}

/// Which issuer, and its admin token.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// The issuer's base URL.
    #[arg(
        long,
        env = "SIMIN_ISSUER",
        default_value = "http://127.0.0.1:8090",
        value_name = "URL"
    )]
    pub issuer: String,
    /// The admin bearer token (the issuer home's keys/admin.token) [default: the
    /// devnet issuer's].
    #[arg(
        long,
        env = "SIMIN_ISSUER_ADMIN_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub admin_token: Option<String>,
    /// The devnet data directory, for the default admin token [default: ~/.simin/devnet].
    #[arg(long, env = "SIMIN_DEVNET_DIR", value_name = "DIR")]
    pub devnet_dir: Option<PathBuf>,
}

impl AdminArgs {
    /// The given token, or the devnet issuer's.
    fn token(&self) -> anyhow::Result<String> {
        if let Some(token) = &self.admin_token {
            return Ok(token.clone());
        }
        let home = crate::devnet::devnet_issuer_home(&crate::keys::devnet_dir(
            self.devnet_dir.as_deref(),
        )?);
        let path = simin_issuer::IssuerHome::new(&home).admin_token();
        let token = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "no --admin-token given and no devnet issuer token at {}",
                path.display()
            )
        })?;
        Ok(token.trim().to_owned())
    }
}

#[derive(Debug, Args)]
pub struct OfferArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// The credential type (configuration id), e.g. CitizenCard.
    #[arg(long = "type", value_name = "TYPE")]
    pub credential_type: String,
    /// A JSON file with the claims (an object), or - for standard input.
    #[arg(long, value_name = "FILE")]
    pub claims: PathBuf,
    /// Protect the offer with a 6-digit code to give the citizen by another channel.
    #[arg(long)]
    pub tx_code: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// The credential's status reference: its credential id (see `simin issuer
    /// credentials`) or the id of the offer it was issued for.
    #[arg(value_name = "STATUS_REF")]
    pub id: String,
}

pub async fn run(command: IssuerCommand, node: &str, json: bool) -> anyhow::Result<()> {
    match command {
        IssuerCommand::Init(args) => init(args, node, json),
        IssuerCommand::Serve { home } => serve(&home, json).await,
        IssuerCommand::Offer(args) => offer(args, json).await,
        IssuerCommand::Suspend(args) => status(args, "suspend", json).await,
        IssuerCommand::Unsuspend(args) => status(args, "unsuspend", json).await,
        IssuerCommand::Revoke(args) => status(args, "revoke", json).await,
        IssuerCommand::Credentials(args) => credentials(args, json).await,
    }
}

fn init(args: InitArgs, node: &str, json: bool) -> anyhow::Result<()> {
    let org = OrgId::new(&args.org).context("invalid --org")?;
    let keys = if args.from_devnet {
        let keys_dir = crate::keys::devnet_dir(args.devnet_dir.as_deref())?.join("keys");
        let (org_path, assert_path) =
            simin_node::devnet_identity::org_key_paths(&keys_dir, org.as_str());
        HomeKeys {
            signing_key: crate::keys::load_key(&assert_path)
                .context("the devnet has no credential-signing key for this organisation")?,
            org_key: crate::keys::load_key(&org_path)
                .context("the devnet has no transaction key for this organisation")?,
        }
    } else {
        HomeKeys::generate(&mut rand::rngs::OsRng)
    };
    let config = {
        let mut config = IssuerConfig::new(org, node, &args.public_url, args.listen);
        if let Some(name) = args.name {
            config.display_name = name;
        }
        config
    };
    let from_devnet = args.from_devnet;
    let report = simin_issuer::init_home(&args.home, &config, keys, &mut rand::rngs::OsRng)?;
    if json {
        output::json(&report);
        return Ok(());
    }
    output::line(&format!("issuer home      {}", report.home.display()));
    output::line(&format!("organisation     {} ({})", report.org, report.did));
    output::line(&format!(
        "signing key      {}",
        report.signing_public_key.to_hex()
    ));
    output::line(&format!(
        "organisation key {}",
        report.org_public_key.to_hex()
    ));
    output::line(&format!(
        "admin token      {}",
        report.admin_token_file.display()
    ));
    output::line(&format!(
        "public URL       {} (listens on {})",
        report.public_url, report.listen
    ));
    output::line("");
    if from_devnet {
        output::line(
            "The devnet registered, accredited and published the DID of this organisation.",
        );
        output::line(&format!(
            "Run: simin issuer serve --home {}",
            report.home.display()
        ));
        return Ok(());
    }
    output::line("Before serving, on chain:");
    output::line(&format!(
        "  1. the city registers {} with the organisation key above and the issuer role;",
        report.org
    ));
    output::line("  2. the city (or an accredited agency) accredits it for its credential types;");
    output::line(&format!(
        "  3. the organisation creates {} with the signing key as {} (assertionMethod).",
        report.did, report.kid
    ));
    output::line(&format!(
        "Then: simin issuer serve --home {}",
        report.home.display()
    ));
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn wait_for_stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

async fn serve(home: &Path, json: bool) -> anyhow::Result<()> {
    let service = Arc::new(
        IssuerService::open(home)
            .with_context(|| format!("cannot open the issuer home {}", home.display()))?,
    );
    if let Err(e) = service.check_did().await {
        output::notice(&format!("warning: {e}"));
    }
    // The status lists are created in the background, retried until committed (the
    // organisation may not be accredited yet); offers and issuance answer `not-ready`
    // meanwhile, and `/health` says what the issuer waits for.
    service.start_preparing();
    let config = service.config().clone();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    if json {
        output::json(&json!({
            "issuer": simin_types::identity::did_of(&config.org),
            "credential_issuer": config.public_url,
            "listen": config.listen,
        }));
    } else {
        output::line(&format!(
            "issuer of {} at {} (listening on {}); press Ctrl-C to stop",
            simin_types::identity::did_of(&config.org),
            config.public_url,
            config.listen
        ));
    }
    simin_issuer::serve(listener, service, wait_for_stop_signal())
        .await
        .context("the issuer stopped with an error")
}

fn admin_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(ADMIN_TIMEOUT)
        .build()
        .context("cannot build the HTTP client")
}

/// Sends an admin request and returns its JSON answer, or the issuer's error.
async fn admin_call(request: reqwest::RequestBuilder, url: &str) -> anyhow::Result<Value> {
    let mut response = request
        .send()
        .await
        .with_context(|| format!("cannot reach the issuer at {url}"))?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .context("reading the issuer's answer")?
    {
        if body.len().saturating_add(chunk.len()) > ANSWER_BYTES_MAX {
            bail!("the issuer's answer exceeds {ANSWER_BYTES_MAX} bytes");
        }
        body.extend_from_slice(&chunk);
    }
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if !status.is_success() {
        let detail = value["detail"]
            .as_str()
            .or_else(|| value["error_description"].as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(300).collect());
        bail!("the issuer refused ({status}): {detail}");
    }
    Ok(value)
}

fn read_claims(path: &Path) -> anyhow::Result<Value> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .take(CLAIMS_FILE_BYTES_MAX + 1)
            .read_to_string(&mut text)
            .context("cannot read the claims from standard input")?;
    } else {
        std::fs::File::open(path)
            .with_context(|| format!("cannot open {}", path.display()))?
            .take(CLAIMS_FILE_BYTES_MAX + 1)
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    if u64::try_from(text.len()).unwrap_or(u64::MAX) > CLAIMS_FILE_BYTES_MAX {
        bail!("the claims are over {CLAIMS_FILE_BYTES_MAX} bytes");
    }
    let claims: Value = serde_json::from_str(&text).context("the claims are not JSON")?;
    if !claims.is_object() {
        bail!("the claims are a JSON object of claim names and values");
    }
    Ok(claims)
}

async fn offer(args: OfferArgs, json: bool) -> anyhow::Result<()> {
    let claims = read_claims(&args.claims)?;
    let base = args.admin.issuer.trim_end_matches('/');
    let url = format!("{base}/admin/offers");
    let request = admin_client()?
        .post(&url)
        .bearer_auth(args.admin.token()?)
        .json(&json!({
            "credential_configuration_id": args.credential_type,
            "claims": claims,
            "tx_code": args.tx_code,
        }));
    let created = admin_call(request, &url).await?;
    if json {
        output::json(&created);
        return Ok(());
    }
    output::line(&format!(
        "offer id    {}",
        created["offer_id"].as_str().unwrap_or("?")
    ));
    output::line(&format!(
        "status ref  {}  (for simin issuer suspend|reinstate|revoke, once redeemed)",
        created["offer_id"].as_str().unwrap_or("?")
    ));
    output::line(&format!(
        "offer link  {}",
        created["credential_offer_uri"].as_str().unwrap_or("?")
    ));
    output::line(&format!(
        "QR code     {}",
        created["qr_svg_url"].as_str().unwrap_or("?")
    ));
    if let Some(code) = created["tx_code"].as_str() {
        output::line(&format!(
            "tx code     {code}  (give it to the citizen by another channel than the QR code)"
        ));
    }
    if let Some(expires) = created["expires_at"].as_u64() {
        output::line(&format!(
            "expires     {}",
            output::utc_date(expires.saturating_mul(1000))
        ));
    }
    Ok(())
}

/// The credential id of a status reference: a credential id, or the offer it redeemed.
async fn credential_id(admin: &AdminArgs, reference: &str) -> anyhow::Result<String> {
    let base = admin.issuer.trim_end_matches('/');
    let url = format!("{base}/admin/credentials?limit=1000");
    let request = admin_client()?.get(&url).bearer_auth(admin.token()?);
    let list = admin_call(request, &url).await?;
    let records = list["credentials"].as_array().cloned().unwrap_or_default();
    records
        .iter()
        .find(|r| r["id"] == reference || r["offer_id"] == reference)
        .and_then(|r| r["id"].as_str().map(str::to_owned))
        .with_context(|| {
            format!("no credential has the id or offer id {reference} (not redeemed yet?)")
        })
}

async fn status(args: StatusArgs, action: &str, json: bool) -> anyhow::Result<()> {
    if args.id.is_empty()
        || args.id.len() > 128
        || !args
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        bail!("a status reference is a credential id or an offer id");
    }
    let id = credential_id(&args.admin, &args.id).await?;
    let base = args.admin.issuer.trim_end_matches('/');
    let url = format!("{base}/admin/credentials/{id}/{action}");
    let request = admin_client()?.post(&url).bearer_auth(args.admin.token()?);
    let change = admin_call(request, &url).await?;
    if json {
        output::json(&change);
        return Ok(());
    }
    output::line(&format!(
        "credential {} is {} (bit {} of {}), committed at height {}",
        id,
        change["state"].as_str().unwrap_or("?"),
        change["index"],
        change["status_list"].as_str().unwrap_or("?"),
        change["height"]
    ));
    Ok(())
}

async fn credentials(args: AdminArgs, json: bool) -> anyhow::Result<()> {
    let base = args.issuer.trim_end_matches('/');
    let url = format!("{base}/admin/credentials?limit=1000");
    let request = admin_client()?.get(&url).bearer_auth(args.token()?);
    let list = admin_call(request, &url).await?;
    if json {
        output::json(&list);
        return Ok(());
    }
    let records = list["credentials"].as_array().cloned().unwrap_or_default();
    if records.is_empty() {
        output::line("no credentials issued");
    }
    for record in records {
        output::line(&format!(
            "{}  {:<24} {:<9} issued {}  revocation #{}  suspension #{}",
            record["id"].as_str().unwrap_or("?"),
            record["credential_type"].as_str().unwrap_or("?"),
            record["state"].as_str().unwrap_or("?"),
            output::utc_date(
                record["issued_at"]
                    .as_u64()
                    .unwrap_or(0)
                    .saturating_mul(1000)
            ),
            record["revocation_index"],
            record["suspension_index"],
        ));
    }
    Ok(())
}

//! `simin wallet`: the citizen's wallet on the command line: create it, receive
//! credentials from an OpenID4VCI offer, list and show them, present a chosen subset of
//! claims to a verifier, and remove them.

use std::io::{IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use rand::rngs::OsRng;
use serde::Serialize;
use serde_json::{Map, Value};
use simin_wallet::oid4vci::{HttpConfig, Oid4vciClient, Oid4vciError, ReceiveRequest, TxCodeSpec};
use simin_wallet::present::{self, PresentationRequest};
use simin_wallet::{CredentialId, CredentialSummary, Holder, KdfParams, WalletError, WalletStore};
use zeroize::Zeroizing;

use crate::cli::{WalletArgs, WalletCommand};
use crate::keys::home_dir;
use crate::output;

/// The environment variable that holds the wallet passphrase for scripts.
pub const PASSPHRASE_ENV: &str = "SIMIN_WALLET_PASSPHRASE";

pub async fn run(args: WalletArgs, node: &str, json: bool) -> anyhow::Result<()> {
    let dir = wallet_dir(args.wallet.as_deref())?;
    match args.command {
        WalletCommand::Create => create(&dir, json),
        WalletCommand::Did => did(&dir, json),
        WalletCommand::Receive {
            offer,
            tx_code,
            no_verify_issuer,
        } => {
            let node = (!no_verify_issuer).then_some(node);
            receive(&dir, &offer, tx_code, node, json).await
        }
        WalletCommand::List => list(&dir, json),
        WalletCommand::Show { id } => show(&dir, &id, json),
        WalletCommand::Present {
            id,
            nonce,
            audience,
            disclose,
            out,
        } => {
            let request = PresentRequest {
                id: &id,
                nonce: &nonce,
                audience: &audience,
                disclose: &disclose,
                out: out.as_deref(),
            };
            present(&dir, &request, json)
        }
        WalletCommand::Checkin(args) => crate::kiosk::checkin(&open(&dir)?, &args, json),
        WalletCommand::Login(args) => {
            crate::wallet_login::login(&open(&dir)?, &args, node, json).await
        }
        WalletCommand::AccessLog(args) => {
            crate::wallet_login::access_log(&open(&dir)?, &args, node, json).await
        }
        WalletCommand::Remove { id } => remove(&dir, &id, json),
        WalletCommand::Records(command) => {
            crate::records::wallet_records(&open(&dir)?, command, json)
        }
    }
}

/// `--wallet`/`SIMIN_WALLET_DIR`, else `~/.simin/wallet`.
pub(crate) fn wallet_dir(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    match given {
        Some(dir) => Ok(dir.to_owned()),
        None => Ok(home_dir()?.join(".simin").join("wallet")),
    }
}

/// The passphrase from `SIMIN_WALLET_PASSPHRASE`, else typed on the terminal without
/// echo (twice when `confirm`); refused when there is neither.
fn passphrase(confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    if let Ok(text) = std::env::var(PASSPHRASE_ENV) {
        return Ok(Zeroizing::new(text));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no wallet passphrase: set {PASSPHRASE_ENV} or run on a terminal to type it");
    }
    let first = Zeroizing::new(
        rpassword::prompt_password("Wallet passphrase: ").context("cannot read the passphrase")?,
    );
    if confirm {
        let second = Zeroizing::new(
            rpassword::prompt_password("Repeat the passphrase: ")
                .context("cannot read the passphrase")?,
        );
        if *first != *second {
            bail!("the two passphrases differ");
        }
    }
    Ok(first)
}

/// Opens the wallet in `dir`, with hints for the errors a citizen can fix.
pub(crate) fn open(dir: &Path) -> anyhow::Result<WalletStore> {
    if !WalletStore::exists(dir)? {
        bail!(
            "no wallet in {} (create one with `simin wallet create`, or pass --wallet DIR)",
            dir.display()
        );
    }
    let passphrase = passphrase(false)?;
    WalletStore::open(dir, &passphrase).map_err(|err| match err {
        WalletError::WrongPassphrase => {
            anyhow::anyhow!("wrong passphrase for the wallet in {}", dir.display())
        }
        other => anyhow::Error::new(other),
    })
}

fn parse_id(id: &str) -> anyhow::Result<CredentialId> {
    id.parse::<CredentialId>()
        .map_err(|err| anyhow::anyhow!("{err} (see `simin wallet list`)"))
}

#[derive(Serialize)]
struct HolderInfo<'a> {
    wallet: &'a Path,
    holder_did: &'a str,
    holder_jwk: Value,
}

fn print_holder(dir: &Path, holder: &Holder, json: bool, created: bool) {
    if json {
        return output::json(&HolderInfo {
            wallet: dir,
            holder_did: holder.did(),
            holder_jwk: holder.jwk().to_json(),
        });
    }
    if created {
        output::line(&format!("created a wallet in {}", dir.display()));
        output::line(&format!("holder: {}", holder.did()));
    } else {
        output::line(holder.did());
    }
}

fn create(dir: &Path, json: bool) -> anyhow::Result<()> {
    if WalletStore::exists(dir)? {
        bail!(
            "a wallet already exists in {}; it is never overwritten",
            dir.display()
        );
    }
    let passphrase = passphrase(true)?;
    let store = WalletStore::create(dir, &passphrase, KdfParams::default(), &mut OsRng)?;
    print_holder(dir, &Holder::from_store(&store), json, true);
    Ok(())
}

fn did(dir: &Path, json: bool) -> anyhow::Result<()> {
    let store = open(dir)?;
    print_holder(dir, &Holder::from_store(&store), json, false);
    Ok(())
}

fn now_secs() -> anyhow::Result<u64> {
    Ok(SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs())
}

/// The transaction code: the one given, else typed when the offer asks for one and a
/// terminal is there to type it on.
fn tx_code(
    spec: Option<&TxCodeSpec>,
    given: Option<String>,
) -> anyhow::Result<Option<Zeroizing<String>>> {
    match (spec, given) {
        (_, Some(code)) => Ok(Some(Zeroizing::new(code))),
        (Some(spec), None) if std::io::stdin().is_terminal() => {
            if let Some(description) = &spec.description {
                output::notice(description);
            }
            let length = spec
                .length
                .map(|l| format!(", {l} characters"))
                .unwrap_or_default();
            let prompt = format!("Transaction code ({}{length}): ", spec.input_mode);
            let code = rpassword::prompt_password(prompt).context("cannot read the code")?;
            Ok(Some(Zeroizing::new(code.trim().to_owned())))
        }
        (Some(spec), None) => Err(Oid4vciError::TxCodeRequired {
            description: spec.description.clone(),
            length: spec.length,
            input_mode: spec.input_mode,
        })
        .context("pass it with --tx-code CODE"),
        (None, None) => Ok(None),
    }
}

#[derive(Serialize)]
struct ReceivedInfo {
    id: CredentialId,
    configuration_id: String,
    #[serde(rename = "type")]
    type_name: String,
    issuer: String,
    issuer_verified: bool,
}

async fn receive(
    dir: &Path,
    offer_uri: &str,
    given_tx_code: Option<String>,
    node: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    // The wallet is opened first: a wrong passphrase must not cost the single-use offer.
    let mut store = open(dir)?;
    let holder = Holder::from_store(&store);
    let node = node
        .map(|node| {
            url::Url::parse(node)
                .ok()
                .filter(|url| matches!(url.scheme(), "http" | "https"))
                .with_context(|| format!("invalid --node {node:?}: use an http:// or https:// URL"))
        })
        .transpose()?;
    let client = Oid4vciClient::new(&HttpConfig::default())?;
    let offer = client.resolve_offer(offer_uri).await?;
    let spec = offer
        .pre_authorized
        .as_ref()
        .and_then(|g| g.tx_code.as_ref());
    let code = tx_code(spec, given_tx_code)?;
    let now = now_secs()?;
    let request = ReceiveRequest {
        offer: &offer,
        holder: &holder,
        tx_code: code.as_deref().map(String::as_str),
        node: node.as_ref(),
        now: i64::try_from(now).context("the clock is past the year 2^63")?,
    };
    let received = client
        .receive(&request)
        .await
        .with_context(|| format!("receiving from {}", offer.credential_issuer))?;
    let mut stored = Vec::new();
    for credential in received.credentials {
        let record = credential.checked.record(now);
        let id = store.put_credential(&record, &mut OsRng)?;
        stored.push(ReceivedInfo {
            id,
            configuration_id: credential.configuration.id,
            type_name: record.type_name,
            issuer: record.issuer,
            issuer_verified: credential.issuer_verified,
        });
    }
    if json {
        output::json(&serde_json::json!({ "credentials": stored }));
        return Ok(());
    }
    for info in &stored {
        output::line(&format!(
            "received {} from {} as {}",
            printable(&info.type_name),
            printable(&info.issuer),
            info.id
        ));
        if !info.issuer_verified {
            output::notice("warning: the issuer's signature was not checked (--no-verify-issuer)");
        }
    }
    Ok(())
}

fn list(dir: &Path, json: bool) -> anyhow::Result<()> {
    let store = open(dir)?;
    let summaries = store.list_credentials()?;
    if json {
        output::json(&summaries);
        return Ok(());
    }
    if summaries.is_empty() {
        output::line("no credentials (receive one with `simin wallet receive OFFER`)");
    }
    for CredentialSummary {
        id,
        type_name,
        issuer,
        received_at,
        label,
        ..
    } in &summaries
    {
        let label = label
            .as_deref()
            .map(|l| format!("  ({l})"))
            .unwrap_or_default();
        output::line(&format!(
            "{id}  {}  {}  {}{}",
            printable(type_name),
            printable(issuer),
            output::utc_date(received_at.saturating_mul(1000)),
            printable(&label)
        ));
    }
    Ok(())
}

#[derive(Serialize)]
struct ShowInfo {
    id: CredentialId,
    format: String,
    #[serde(rename = "type")]
    type_name: String,
    issuer: String,
    received_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    issued_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    /// The selectively disclosable claims by name.
    claims: Map<String, Value>,
    /// Claims a verifier always sees.
    #[serde(skip_serializing_if = "Map::is_empty")]
    plain_claims: Map<String, Value>,
}

fn show(dir: &Path, id: &str, json: bool) -> anyhow::Result<()> {
    let id = parse_id(id)?;
    let store = open(dir)?;
    let record = store.get_credential(id)?;
    let view = present::read_credential(&record.credential)?;
    let info = ShowInfo {
        id,
        format: record.format,
        type_name: record.type_name,
        issuer: record.issuer,
        received_at: record.received_at,
        issued_at: view.issued_at,
        expires_at: view.expires_at,
        claims: view
            .claims
            .iter()
            .map(|claim| (claim.name(), claim.value.clone()))
            .collect(),
        plain_claims: view.plain_claims,
    };
    if json {
        output::json(&info);
        return Ok(());
    }
    output::line(&format!("credential {}", info.id));
    output::line(&format!("type:     {}", printable(&info.type_name)));
    output::line(&format!("issuer:   {}", printable(&info.issuer)));
    let date = |secs: i64| output::utc_date(u64::try_from(secs).unwrap_or(0).saturating_mul(1000));
    if let Some(iat) = info.issued_at {
        output::line(&format!("issued:   {}", date(iat)));
    }
    if let Some(exp) = info.expires_at {
        output::line(&format!("expires:  {}", date(exp)));
    }
    output::line("claims (each disclosed only when you choose):");
    for (name, value) in &info.claims {
        output::line(&format!("  {}: {}", printable(name), claim_text(value)));
    }
    for (name, value) in &info.plain_claims {
        output::line(&format!(
            "  {}: {} (always shown)",
            printable(name),
            claim_text(value)
        ));
    }
    Ok(())
}

/// A claim value for a terminal: strings as they are (control characters removed, since
/// the issuer wrote them), other values as JSON.
fn claim_text(value: &Value) -> String {
    match value {
        Value::String(text) => printable(text),
        other => printable(&other.to_string()),
    }
}

/// Issuer-written text made safe for a terminal: control characters (the escape that
/// starts terminal sequences among them) become spaces.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

struct PresentRequest<'a> {
    id: &'a str,
    nonce: &'a str,
    audience: &'a str,
    disclose: &'a [String],
    out: Option<&'a Path>,
}

fn present(dir: &Path, request: &PresentRequest<'_>, json: bool) -> anyhow::Result<()> {
    let id = parse_id(request.id)?;
    let store = open(dir)?;
    let record = store.get_credential(id)?;
    let holder = Holder::from_store(&store);
    let issued_at = i64::try_from(now_secs()?).context("the clock is past the year 2^63")?;
    let presentation = present::present(
        &record,
        &holder,
        &PresentationRequest {
            disclose: request.disclose,
            nonce: request.nonce,
            audience: request.audience,
            issued_at,
        },
    )?;
    if let Some(path) = request.out {
        write_private(path, &presentation)?;
    }
    match (json, request.out) {
        (true, Some(path)) => output::json(&serde_json::json!({
            "file": path, "disclosed": request.disclose,
        })),
        (true, None) => output::json(&serde_json::json!({
            "presentation": presentation, "disclosed": request.disclose,
        })),
        (false, Some(path)) => output::line(&format!(
            "wrote the presentation to {} (disclosing: {})",
            path.display(),
            if request.disclose.is_empty() {
                "nothing".to_owned()
            } else {
                request.disclose.join(", ")
            }
        )),
        (false, None) => output::line(&presentation),
    }
    Ok(())
}

/// Writes `text` to `path` with mode 0600: a presentation carries personal data.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .with_context(|| format!("cannot write {}", path.display()))
}

fn remove(dir: &Path, id: &str, json: bool) -> anyhow::Result<()> {
    let id = parse_id(id)?;
    let mut store = open(dir)?;
    store.remove_credential(id)?;
    if json {
        output::json(&serde_json::json!({ "removed": id }));
    } else {
        output::line(&format!("removed {id}"));
    }
    Ok(())
}

//! `simin wallet login` and `simin wallet access-log`: presenting the citizen card to the
//! city's gateway with OpenID4VP ("Sign in with Citizen Card"), after showing the
//! citizen who asks for which claims and on whose behalf.

use std::io::{BufRead, IsTerminal, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::Args;
use serde::Serialize;
use serde_json::Value;
use simin_wallet::oid4vci::HttpConfig;
use simin_wallet::oid4vp::{
    check_claims, select_credential, AccessLogEntry, AuthorizationRequest, Oid4vpClient, Purpose,
    ReleasedAt, VerifierAnswer,
};
use simin_wallet::present::read_credential;
use simin_wallet::{CredentialRecord, Holder, WalletStore};
use url::Url;

use crate::output;

/// `simin wallet login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The sign-in link the service shows as a QR code or opens on this device
    /// (openid4vp://?client_id=...&request_uri=...).
    #[arg(value_name = "URI")]
    pub uri: String,
    /// Present without asking for confirmation (required when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
}

/// `simin wallet access-log`.
#[derive(Debug, Args)]
pub struct AccessLogArgs {
    /// The city's gateway (identity provider).
    #[arg(
        long,
        env = "SIMIN_GATEWAY",
        default_value = "http://127.0.0.1:8091",
        value_name = "URL"
    )]
    pub gateway: String,
    /// Present the card number without asking for confirmation (required when stdin is
    /// not a terminal).
    #[arg(long)]
    pub yes: bool,
}

/// Signs in with the card: fetch and verify the request (the verifier's DID resolved at
/// `node`), show it, confirm, present, and print the outcome.
pub async fn login(
    store: &WalletStore,
    args: &LoginArgs,
    node: &str,
    json: bool,
) -> anyhow::Result<()> {
    require_confirmation_channel(args.yes)?;
    let node = http_url("--node", node)?;
    let client = Oid4vpClient::new(&HttpConfig::default())?;
    let flow = Flow {
        store,
        client: &client,
        node: &node,
        yes: args.yes,
        json,
        access_log_only: false,
    };
    let outcome = flow.run(&args.uri).await?;
    print_outcome(&outcome, json);
    Ok(())
}

/// Reads the citizen's access log: the gateway's `/access-log/start` gives a request for
/// the card number, which is presented like a login; the answer is the log.
pub async fn access_log(
    store: &WalletStore,
    args: &AccessLogArgs,
    node: &str,
    json: bool,
) -> anyhow::Result<()> {
    require_confirmation_channel(args.yes)?;
    let node = http_url("--node", node)?;
    let gateway = http_url("--gateway", &args.gateway)?;
    let client = Oid4vpClient::new(&HttpConfig::default())?;
    let link = client
        .access_log_link(&gateway)
        .await
        .with_context(|| format!("starting the access log at {gateway}"))?;
    let flow = Flow {
        store,
        client: &client,
        node: &node,
        yes: args.yes,
        json,
        access_log_only: true,
    };
    let outcome = flow.run(&link).await?;
    print_outcome(&outcome, json);
    Ok(())
}

/// Without `--yes`, the citizen confirms on the terminal; refuse early when there is none.
fn require_confirmation_channel(yes: bool) -> anyhow::Result<()> {
    if !yes && !std::io::stdin().is_terminal() {
        bail!("stdin is not a terminal, so the presentation cannot be confirmed: pass --yes to present without asking");
    }
    Ok(())
}

/// One presentation, from the link to the verifier's answer.
struct Flow<'a> {
    store: &'a WalletStore,
    client: &'a Oid4vpClient,
    node: &'a Url,
    yes: bool,
    json: bool,
    /// Refuse any request but an access-log one (for `simin wallet access-log`).
    access_log_only: bool,
}

/// What was presented and what the verifier answered.
struct Outcome {
    request: AuthorizationRequest,
    answer: VerifierAnswer,
}

impl Flow<'_> {
    async fn run(&self, link: &str) -> anyhow::Result<Outcome> {
        let request = self
            .client
            .fetch_request(link, self.node, now_secs()?)
            .await
            .context("reading the presentation request")?;
        if self.access_log_only && request.purpose != Purpose::AccessLog {
            bail!(
                "the gateway answered with a request that is not for the access log; nothing was presented"
            );
        }
        let (_, record) = select_credential(self.store, &request.query)?;
        check_claims(&record, &request.query)?;
        self.describe(&request, &record)?;
        if !self.yes && !confirm()? {
            if let Err(err) = self.client.decline(&request).await {
                tracing::warn!(%err, "could not tell the verifier that the citizen declined");
            }
            bail!("declined: nothing was presented");
        }
        let holder = Holder::from_store(self.store);
        // The time is read again: the citizen may have taken a while to confirm, and the
        // Key Binding JWT's iat must be fresh.
        let answer = self
            .client
            .present(&request, &record, &holder, now_secs()?)
            .await
            .with_context(|| format!("presenting to {}", request.verifier_did))?;
        Ok(Outcome { request, answer })
    }

    /// Shows who asks, on whose behalf, and the values that would be disclosed.
    fn describe(
        &self,
        request: &AuthorizationRequest,
        record: &CredentialRecord,
    ) -> anyhow::Result<()> {
        let say = |text: &str| {
            if self.json {
                output::notice(text);
            } else {
                output::line(text);
            }
        };
        say(&format!(
            "{} asks for your citizen card",
            recipient(request)
        ));
        say(&format!("  verified request from {}", request.verifier_did));
        let view = read_credential(&record.credential)?;
        if request.query.claims.is_empty() {
            say("  disclosing no claims beyond the card's type and issuer");
        }
        for name in &request.query.claims {
            let value = view
                .claims
                .iter()
                .find(|claim| claim.name() == *name)
                .map(|claim| &claim.value)
                .or_else(|| view.plain_claims.get(name));
            let shown = value.map_or_else(String::new, |v| format!(": {}", value_text(v)));
            say(&format!("  {}{}", printable(name), shown));
        }
        Ok(())
    }
}

/// Whom the claims go to, as the request says.
fn recipient(request: &AuthorizationRequest) -> String {
    match &request.purpose {
        Purpose::Login { service } => {
            format!("{} ({}) signing you in", service.name, service.organization)
        }
        Purpose::AccessLog => "the city's access log".to_owned(),
    }
}

/// Asks on the terminal; only `y` or `yes` approves.
fn confirm() -> anyhow::Result<bool> {
    {
        let mut stderr = std::io::stderr().lock();
        write!(stderr, "Present these claims? [y/N] ").context("cannot ask for confirmation")?;
        stderr.flush().context("cannot ask for confirmation")?;
    }
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("cannot read the confirmation")?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

#[derive(Serialize)]
struct OutcomeInfo<'a> {
    approved: bool,
    verifier: &'a str,
    client_id: &'a str,
    purpose: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<ServiceInfo<'a>>,
    disclosed: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    redirect_uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_log: Option<&'a Value>,
}

#[derive(Serialize)]
struct ServiceInfo<'a> {
    client_id: &'a str,
    name: &'a str,
    organization: &'a str,
}

fn print_outcome(outcome: &Outcome, json: bool) {
    let Outcome { request, answer } = outcome;
    if json {
        let (purpose, service) = match &request.purpose {
            Purpose::Login { service } => (
                "login",
                Some(ServiceInfo {
                    client_id: &service.client_id,
                    name: &service.name,
                    organization: &service.organization,
                }),
            ),
            Purpose::AccessLog => ("access_log", None),
        };
        return output::json(&OutcomeInfo {
            approved: true,
            verifier: &request.verifier_did,
            client_id: &request.client_id,
            purpose,
            service,
            disclosed: &request.query.claims,
            redirect_uri: answer.redirect_uri.as_ref().map(Url::as_str),
            access_log: answer.access_log.as_ref().map(|log| &log.raw),
        });
    }
    output::line(&format!("approved: presented to {}", recipient(request)));
    if let Some(uri) = &answer.redirect_uri {
        output::line(&format!("continue in the browser: {uri}"));
    }
    if let Some(log) = &answer.access_log {
        print_access_log(&log.entries);
    }
}

/// The access log as a table: time, service, organisation, claims.
fn print_access_log(entries: &[AccessLogEntry]) {
    if entries.is_empty() {
        output::line("no service has received claims from your card");
        return;
    }
    let rows: Vec<[String; 4]> = entries
        .iter()
        .map(|entry| {
            [
                released_text(entry.released_at.as_ref()),
                entry.service_name.clone(),
                entry.organization.clone(),
                entry.claims.join(", "),
            ]
        })
        .collect();
    let header = ["TIME", "SERVICE", "ORGANISATION", "CLAIMS"].map(str::to_owned);
    let width = |column: usize| {
        rows.iter()
            .chain(std::iter::once(&header))
            .map(|row| row[column].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2)];
    for row in std::iter::once(&header).chain(&rows) {
        output::line(&format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
        ));
    }
}

fn released_text(at: Option<&ReleasedAt>) -> String {
    match at {
        Some(ReleasedAt::UnixMillis(millis)) => output::utc_date(*millis),
        Some(ReleasedAt::Text(text)) => text.clone(),
        None => "-".to_owned(),
    }
}

/// `text` as an `http(s)` URL, for `what` (a flag name) in the error.
fn http_url(what: &str, text: &str) -> anyhow::Result<Url> {
    Url::parse(text)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .with_context(|| format!("invalid {what} {text:?}: use an http:// or https:// URL"))
}

fn now_secs() -> anyhow::Result<i64> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    i64::try_from(secs).context("the clock is past the year 2^63")
}

/// A claim value for a terminal: strings as they are, other values as JSON.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => printable(text),
        other => printable(&other.to_string()),
    }
}

/// Issuer-written text made safe for a terminal: control characters become spaces.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_times_read_as_dates() {
        assert_eq!(
            released_text(Some(&ReleasedAt::UnixMillis(1_795_000_000_000))),
            "2026-11-18 11:06:40.000 UTC"
        );
        assert_eq!(
            released_text(Some(&ReleasedAt::Text("2026-11-24T09:00:00Z".into()))),
            "2026-11-24T09:00:00Z"
        );
        assert_eq!(released_text(None), "-");
    }

    #[test]
    fn only_web_urls_are_taken() {
        assert!(http_url("--gateway", "http://127.0.0.1:8091").is_ok());
        assert!(http_url("--gateway", "ftp://127.0.0.1").is_err());
        assert!(http_url("--gateway", "127.0.0.1:8091").is_err());
    }
}

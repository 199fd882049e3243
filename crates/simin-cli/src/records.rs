//! `simin data consent|record` and `simin wallet records`: personal administrative
//! records. The citizen makes a key per record, grants and revokes consents, reads the
//! record's access log and erases it; a clerk files a record in the holder's vault; a
//! reading organisation logs its access on chain and then reads from the vault.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use simin_client::dto::records::RecordLookup;
use simin_client::dto::{SubmitStatus, TxLookup};
use simin_client::Client;
use simin_node::devnet_identity::org_key_paths;
use simin_types::{
    BlockTime, Call, Consent, DataCall, Hash, Height, OrgId, SigningKey, Tx, TxOutcome,
};
use simin_wallet::WalletStore;

use crate::output;

/// The most log entries shown (the node's cap on one page).
const LOG_PAGE: u64 = 256;
/// Blocks a transaction of these commands stays valid for.
const TX_EXPIRY_BLOCKS: u64 = 100;
/// The devnet's records vault (the family-welfare office's).
pub const DEVNET_RECORDS_VAULT: &str = "http://127.0.0.1:8094";
/// Time limit of a vault request (filing and erasing wait for a commit).
const VAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(90);

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Consents to read one of your records: grant, revoke, show.
    #[command(subcommand)]
    Consent(ConsentCommand),
    /// A personal record: its log, erasure; filing (clerks) and reading (organisations).
    #[command(subcommand)]
    Record(RecordCommand),
}

/// Where the wallet is (its passphrase: `SIMIN_WALLET_PASSPHRASE` or the terminal).
#[derive(Debug, Args)]
pub struct WalletDir {
    /// The wallet directory [default: ~/.simin/wallet].
    #[arg(long, env = "SIMIN_WALLET_DIR", value_name = "DIR")]
    pub wallet: Option<PathBuf>,
}

/// Which consent.
#[derive(Debug, Args)]
pub struct ConsentTarget {
    /// The record id (hex).
    #[arg(value_name = "RECORD")]
    pub record: String,
    /// The organisation, e.g. seoul.sports-centre.
    #[arg(long, value_name = "ORG")]
    pub org: String,
    /// The purpose, e.g. eligibility_check.
    #[arg(long, value_name = "PURPOSE")]
    pub purpose: String,
}

#[derive(Debug, Subcommand)]
pub enum ConsentCommand {
    /// Let an organisation read the record for a purpose until an expiry (signed with
    /// the record's key from your wallet).
    Grant {
        #[command(flatten)]
        target: ConsentTarget,
        /// How long: e.g. 30d, 12h, 90m.
        #[arg(long, value_name = "DURATION")]
        expires: String,
        #[command(flatten)]
        wallet: WalletDir,
    },
    /// Withdraw a consent, from the next block on.
    Revoke {
        #[command(flatten)]
        target: ConsentTarget,
        #[command(flatten)]
        wallet: WalletDir,
    },
    /// Show a consent and whether it is valid now.
    Show {
        #[command(flatten)]
        target: ConsentTarget,
    },
}

#[derive(Debug, Subcommand)]
pub enum RecordCommand {
    /// The record's on-chain log: created, consents, every read, the erasure.
    Log {
        #[arg(value_name = "RECORD")]
        record: String,
    },
    /// Erase the record: the chain logs it and the vault destroys its key, so the
    /// content is unreadable everywhere (signed with the record's key from your wallet).
    Erase {
        #[arg(value_name = "RECORD")]
        record: String,
        /// The holder's vault, told to destroy the key now (it would at the next access).
        #[arg(long, env = "SIMIN_RECORDS_VAULT", value_name = "URL")]
        vault: Option<String>,
        #[command(flatten)]
        wallet: WalletDir,
    },
    /// (Clerks) File a record in the holder's vault for a citizen's record key.
    Create {
        #[arg(long, env = "SIMIN_RECORDS_VAULT", default_value = DEVNET_RECORDS_VAULT, value_name = "URL")]
        vault: String,
        /// e.g. welfare_application.
        #[arg(long)]
        kind: String,
        /// The citizen's key for this record (`simin wallet records new-owner-key`).
        #[arg(long, value_name = "HEX")]
        owner: String,
        /// The content: a JSON file.
        #[arg(long, value_name = "FILE")]
        content: PathBuf,
        /// The vault's admin token file.
        #[arg(long, value_name = "FILE")]
        admin_token: PathBuf,
    },
    /// (Organisations) Log an access on chain with the organisation's key, then read
    /// the record from the holder's vault.
    Read {
        #[command(flatten)]
        target: ConsentTarget,
        #[arg(long, env = "SIMIN_RECORDS_VAULT", default_value = DEVNET_RECORDS_VAULT, value_name = "URL")]
        vault: String,
        /// The organisation's key file [default: its devnet key].
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        /// The devnet data directory [default: ~/.simin/devnet].
        #[arg(long, env = "SIMIN_DEVNET_DIR", value_name = "DIR")]
        devnet_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum WalletRecordsCommand {
    /// Make a key for one new record and print its public key, for the clerk filing it.
    NewOwnerKey,
    /// List the record keys this wallet made.
    Keys,
}

pub async fn run(node: &str, command: DataCommand, json: bool) -> anyhow::Result<()> {
    let client = Client::new(node)?;
    match command {
        DataCommand::Consent(ConsentCommand::Grant {
            target,
            expires,
            wallet,
        }) => {
            let (id, org) = parse_target(&target)?;
            let span = parse_duration_ms(&expires)?;
            let now = client
                .status()
                .await
                .context("cannot reach the node")?
                .latest_block_time
                .unwrap_or_default();
            let expires = BlockTime(now.0.saturating_add(span));
            let key = owner_key(&client, &id, &wallet).await?;
            let call = DataCall::GrantConsent(Consent {
                record: id,
                organization: org,
                purpose: target.purpose.clone(),
                expires,
                revoked_time: None,
            });
            let lookup = submit(&client, &key, call).await?;
            report(
                json,
                &lookup,
                &format!(
                    "consent granted to {} for {} until {} (height {})",
                    target.org,
                    target.purpose,
                    output::utc_date(expires.0),
                    lookup.height.0
                ),
            );
            Ok(())
        }
        DataCommand::Consent(ConsentCommand::Revoke { target, wallet }) => {
            let (id, org) = parse_target(&target)?;
            let key = owner_key(&client, &id, &wallet).await?;
            let call = DataCall::RevokeConsent {
                record: id,
                organization: org,
                purpose: target.purpose.clone(),
            };
            let lookup = submit(&client, &key, call).await?;
            report(
                json,
                &lookup,
                &format!(
                    "consent of {} for {} revoked (height {})",
                    target.org, target.purpose, lookup.height.0
                ),
            );
            Ok(())
        }
        DataCommand::Consent(ConsentCommand::Show { target }) => {
            let (id, org) = parse_target(&target)?;
            let Some(consent) = client.consent(&id, &org, &target.purpose).await? else {
                bail!("{} never had a consent for {}", target.org, target.purpose);
            };
            if json {
                output::json(&consent);
            } else {
                let state = match (consent.valid, consent.revoked_time) {
                    (true, _) => "valid".to_owned(),
                    (false, Some(t)) => format!("revoked {}", output::utc_date(t)),
                    (false, None) => "expired, or the record is erased".to_owned(),
                };
                output::line(&format!(
                    "{} for {}: {state}; expires {}",
                    consent.organization,
                    consent.purpose,
                    output::utc_date(consent.expires)
                ));
            }
            Ok(())
        }
        DataCommand::Record(command) => record(&client, command, json).await,
    }
}

async fn record(client: &Client, command: RecordCommand, json: bool) -> anyhow::Result<()> {
    match command {
        RecordCommand::Log { record } => {
            let id = parse_record(&record)?;
            let lookup = lookup(client, &id).await?;
            if json {
                output::json(&lookup);
            } else {
                print_log(&lookup);
            }
            Ok(())
        }
        RecordCommand::Erase {
            record,
            vault,
            wallet,
        } => {
            let id = parse_record(&record)?;
            let key = owner_key(client, &id, &wallet).await?;
            let lookup = submit(client, &key, DataCall::EraseRecord { record: id }).await?;
            let vault_answer = match vault {
                Some(vault) => Some(
                    vault_post(
                        &vault,
                        &format!("/records/{id}/erase"),
                        &json!({ "tx_hash": lookup.hash }),
                        None,
                    )
                    .await?,
                ),
                None => None,
            };
            if json {
                output::json(
                    &json!({ "tx_hash": lookup.hash, "height": lookup.height.0, "vault": vault_answer }),
                );
            } else {
                output::line(&format!("record {id} erased at height {}", lookup.height.0));
                if vault_answer.is_some() {
                    output::line("the vault destroyed the record's key: its content is unreadable");
                } else {
                    output::line(
                        "the holder's vault destroys the key at its next access to the record",
                    );
                }
            }
            Ok(())
        }
        RecordCommand::Create {
            vault,
            kind,
            owner,
            content,
            admin_token,
        } => {
            let text = std::fs::read_to_string(&content)
                .with_context(|| format!("cannot read {}", content.display()))?;
            let content: Value = serde_json::from_str(&text).context("the content is not JSON")?;
            let token = std::fs::read_to_string(&admin_token)
                .with_context(|| format!("cannot read {}", admin_token.display()))?;
            let body = json!({ "kind": kind, "owner_public_key": owner, "content": content });
            let created = vault_post(&vault, "/admin/records", &body, Some(token.trim())).await?;
            if json {
                output::json(&created);
            } else {
                output::line(&format!(
                    "record {} filed at height {} (commitment {})",
                    created["id"].as_str().unwrap_or("?"),
                    created["height"],
                    created["commitment"].as_str().unwrap_or("?")
                ));
            }
            Ok(())
        }
        RecordCommand::Read {
            target,
            vault,
            key,
            devnet_dir,
        } => {
            let (id, org) = parse_target(&target)?;
            let key_path = match key {
                Some(path) => path,
                None => {
                    let dir = crate::keys::devnet_dir(devnet_dir.as_deref())?;
                    org_key_paths(&dir.join("keys"), org.as_str()).0
                }
            };
            let key = crate::keys::load_key(&key_path)?;
            let call = DataCall::LogAccess {
                record: id,
                purpose: target.purpose.clone(),
            };
            let lookup = submit(client, &key, call).await.context(
                "the chain did not log the access, so the vault will not release the record",
            )?;
            let bytes = simin_records::read_request_bytes(&id, &org, &target.purpose, &lookup.hash);
            let body = json!({
                "organization": org,
                "purpose": target.purpose,
                "tx_hash": lookup.hash,
                "signature": key.sign(&bytes),
            });
            let answer = vault_post(&vault, &format!("/records/{id}/read"), &body, None).await?;
            if json {
                output::json(&answer);
            } else {
                output::line(&format!(
                    "access logged at height {}; content:",
                    lookup.height.0
                ));
                output::line(&serde_json::to_string_pretty(&answer["content"])?);
            }
            Ok(())
        }
    }
}

/// `simin wallet records ...`.
pub fn wallet_records(
    wallet: &WalletStore,
    command: WalletRecordsCommand,
    json: bool,
) -> anyhow::Result<()> {
    match command {
        WalletRecordsCommand::NewOwnerKey => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .context("the clock is before 1970")?
                .as_secs();
            let entry = simin_wallet::records::new_record_key(wallet, now, &mut rand::rngs::OsRng)?;
            if json {
                output::json(&json!({ "owner_public_key": entry.public_key }));
            } else {
                output::line(&entry.public_key);
            }
        }
        WalletRecordsCommand::Keys => {
            let keys = simin_wallet::records::record_keys(wallet)?;
            if json {
                output::json(&keys);
            } else {
                for entry in keys {
                    output::line(&entry.public_key);
                }
            }
        }
    }
    Ok(())
}

fn parse_record(text: &str) -> anyhow::Result<Hash> {
    Hash::from_hex(text).with_context(|| format!("{text:?} is not a record id (64 hex digits)"))
}

fn parse_target(target: &ConsentTarget) -> anyhow::Result<(Hash, OrgId)> {
    let id = parse_record(&target.record)?;
    let org = OrgId::new(&target.org)
        .with_context(|| format!("{:?} is not an organisation id", target.org))?;
    // The node checks the purpose's form; an empty one is surely a mistake here.
    if target.purpose.is_empty() {
        bail!("a purpose is 1 to 64 characters of a-z, 0-9, '_'");
    }
    Ok((id, org))
}

/// `30d`, `12h`, `90m` or `45s`, in milliseconds.
fn parse_duration_ms(text: &str) -> anyhow::Result<u64> {
    let split = text.len().saturating_sub(1);
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .with_context(|| format!("{text:?} is not a duration like 30d, 12h, 90m"))?;
    let unit_ms = match unit {
        "d" => 86_400_000,
        "h" => 3_600_000,
        "m" => 60_000,
        "s" => 1_000,
        _ => bail!("{text:?} is not a duration like 30d, 12h, 90m"),
    };
    number
        .checked_mul(unit_ms)
        .filter(|&ms| ms > 0)
        .with_context(|| format!("{text:?} is out of range"))
}

async fn lookup(client: &Client, id: &Hash) -> anyhow::Result<RecordLookup> {
    client
        .record(id, 0, LOG_PAGE)
        .await?
        .with_context(|| format!("no record {id} on chain"))
}

/// The wallet's key for the record's owner key, found through the record on chain.
async fn owner_key(client: &Client, id: &Hash, wallet: &WalletDir) -> anyhow::Result<SigningKey> {
    let record = lookup(client, id).await?;
    let store = crate::wallet::open(&crate::wallet::wallet_dir(wallet.wallet.as_deref())?)?;
    let owner: [u8; 32] = hex::decode(record.owner.to_string())
        .ok()
        .and_then(|b| b.try_into().ok())
        .context("the record's owner key is not 32 bytes")?;
    let Some(key) = simin_wallet::records::owner_key(&store, &owner)? else {
        bail!("record {id} belongs to a key this wallet did not make");
    };
    Ok(SigningKey::from_seed(key.to_bytes()))
}

/// Signs `call`, submits it and waits for its commit; refuses a failed receipt.
async fn submit(client: &Client, key: &SigningKey, call: DataCall) -> anyhow::Result<TxLookup> {
    let name = call.name();
    let status = client.status().await.context("cannot reach the node")?;
    let signer = key.public_key();
    let nonce = client
        .account_next_nonce(&signer)
        .await
        .context("cannot read the signer's next nonce")?;
    let tx = Tx {
        chain_id: status.chain_id,
        signer,
        nonce,
        expiry_height: Height(status.latest_height.0.saturating_add(TX_EXPIRY_BLOCKS)),
        call: Call::Data(call),
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
    if let TxOutcome::Failure { code, message } = &committed.receipt.outcome {
        bail!("{name} failed: {code}: {message}");
    }
    Ok(committed)
}

fn report(json: bool, lookup: &TxLookup, text: &str) {
    if json {
        output::json(&json!({ "tx_hash": lookup.hash, "height": lookup.height.0 }));
    } else {
        output::line(text);
    }
}

fn print_log(lookup: &RecordLookup) {
    output::line(&format!(
        "record {} ({}), held by {}, commitment {}",
        lookup.id, lookup.kind, lookup.holder, lookup.commitment
    ));
    if let Some(t) = lookup.erased_time {
        output::line(&format!(
            "ERASED {}: its content is unreadable everywhere",
            output::utc_date(t)
        ));
    }
    for entry in &lookup.log {
        let who = entry.organization.as_deref().unwrap_or("you");
        let purpose = entry
            .purpose
            .as_deref()
            .map(|p| format!(" for {p}"))
            .unwrap_or_default();
        output::line(&format!(
            "  {:>6}  {}  {:<16} {who}{purpose}",
            entry.height,
            output::utc_date(entry.time),
            entry.event
        ));
    }
}

/// POSTs JSON to the vault; a problem answer becomes an error with its detail.
async fn vault_post(
    vault: &str,
    path: &str,
    body: &Value,
    token: Option<&str>,
) -> anyhow::Result<Value> {
    let http = reqwest::Client::builder()
        .timeout(VAULT_TIMEOUT)
        .build()
        .context("cannot build an HTTP client")?;
    let url = format!("{}{path}", vault.trim_end_matches('/'));
    let mut request = http.post(&url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach the vault at {url}"))?;
    let status = response.status();
    let answer: Value = response
        .json()
        .await
        .context("the vault's answer is not JSON")?;
    if !status.is_success() {
        bail!(
            "the vault refused ({status}): {}",
            answer["detail"].as_str().unwrap_or("no detail")
        );
    }
    Ok(answer)
}

/// The devnet vault's admin token: created at random on the first run.
pub fn devnet_admin_token(path: &Path) -> anyhow::Result<String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        return Ok(text.trim().to_owned());
    }
    use rand::RngCore;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(file, "{token}").with_context(|| format!("cannot write {}", path.display()))?;
    Ok(token)
}

/// The devnet's records vault (the family-welfare office), running in this process.
pub struct RunningVault {
    pub url: String,
    pub admin_token_file: PathBuf,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// The organisation whose vault the devnet runs.
pub const DEVNET_RECORDS_HOLDER: &str = "seoul.family-welfare";

impl RunningVault {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        match tokio::time::timeout(std::time::Duration::from_secs(15), self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(%e, "the records vault stopped with an error"),
            Ok(Err(e)) => tracing::warn!(%e, "the records vault task failed"),
            Err(_) => tracing::warn!("the records vault did not stop in time"),
        }
    }
}

/// Starts the family-welfare office's vault with its genesis key; its database and
/// admin token live in `DIR/records/<org>/`.
pub async fn start_devnet_vault(
    data_dir: &Path,
    node_api: &str,
    listen: std::net::SocketAddr,
) -> anyhow::Result<RunningVault> {
    let org = OrgId::new(DEVNET_RECORDS_HOLDER).expect("a valid constant id");
    let home = data_dir.join("records").join(DEVNET_RECORDS_HOLDER);
    let admin_token_file = home.join("admin.token");
    let secrets = simin_records::VaultSecrets {
        org_key: crate::keys::load_key(&org_key_paths(&data_dir.join("keys"), org.as_str()).0)?,
        admin_token: devnet_admin_token(&admin_token_file)?,
    };
    let config = simin_records::VaultConfig {
        org,
        node_url: node_api.to_owned(),
        read_window_blocks: simin_records::READ_WINDOW_BLOCKS_DEFAULT,
    };
    let vault = simin_records::Vault::new(config, secrets, &home.join("records.redb"))
        .context("cannot open the devnet records vault")?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("the records vault cannot listen on {listen}"))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(simin_records::serve(
        listener,
        std::sync::Arc::new(vault),
        async move {
            let _ = stopped.await;
        },
    ));
    Ok(RunningVault {
        url: format!("http://{listen}"),
        admin_token_file,
        stop,
        task,
    })
}

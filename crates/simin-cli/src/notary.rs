//! `simin status`, `simin notary anchor` and `simin notary verify`.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Serialize;
use sha2::{Digest, Sha256};
use simin_client::dto::{NodeStatus, SubmitStatus};
use simin_client::Client;
use simin_types::{limits, Call, Hash, Height, NotaryCall, PublicKey, Tx, TxOutcome};

use crate::cli::{KeyArgs, NotaryCommand};
use crate::keys::resolve_key;
use crate::output;

/// How many blocks an anchoring transaction stays valid for.
const ANCHOR_EXPIRY_BLOCKS: u64 = 100;
/// How long to wait for a fresh node to commit its first block.
const FIRST_BLOCK_WAIT: Duration = Duration::from_secs(30);
/// Read size when hashing files.
const HASH_BUFFER_BYTES: usize = 64 * 1024;

pub async fn run(node: &str, command: NotaryCommand, json: bool) -> anyhow::Result<()> {
    let client = connect(node)?;
    match command {
        NotaryCommand::Anchor { files, key } => anchor(&client, &files, &key, json).await,
        NotaryCommand::Verify {
            file,
            genesis,
            trust_dir,
            devnet_dir,
        } => {
            let trust = crate::verify::TrustSources {
                genesis,
                trust_dir,
                devnet_dir,
            };
            crate::verify::verify(&client, &file, &trust, json).await
        }
    }
}

pub fn connect(node: &str) -> anyhow::Result<Client> {
    Client::new(node).context("invalid --node")
}

pub async fn status(node: &str, json: bool) -> anyhow::Result<()> {
    let status = connect(node)?.status().await?;
    if json {
        output::json(&status);
        return Ok(());
    }
    output::line(&format!("node         {node}"));
    output::line(&format!("chain id     {}", status.chain_id));
    output::line(&format!("height       {}", status.latest_height));
    if let (Some(hash), Some(time)) = (status.latest_block_hash, status.latest_block_time) {
        output::line(&format!("block hash   {hash}"));
        output::line(&format!(
            "block time   {} ({} ms)",
            output::utc_date(time.0),
            time.0
        ));
    }
    output::line(&format!("state root   {}", status.state_root));
    output::line(&format!("mempool      {} txs", status.mempool_size));
    output::line(&format!("validators   {}", status.validator_count));
    Ok(())
}

/// SHA-256 of a file, read in chunks so that any size fits in memory.
pub fn hash_file(path: &Path) -> anyhow::Result<Hash> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; HASH_BUFFER_BYTES];
    loop {
        let read = file
            .read(&mut buffer)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(Hash(hasher.finalize().into()))
}

/// The node's status once it has committed a block (state reads need one).
pub async fn status_with_a_block(client: &Client) -> anyhow::Result<NodeStatus> {
    let deadline = tokio::time::Instant::now() + FIRST_BLOCK_WAIT;
    loop {
        let status = client
            .status()
            .await
            .with_context(|| format!("cannot get the status of {}", client.base_url()))?;
        if status.latest_height > Height::GENESIS {
            return Ok(status);
        }
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "the node has committed no block in {}s",
                FIRST_BLOCK_WAIT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[derive(Serialize)]
struct AnchoredFile {
    file: PathBuf,
    sha256: Hash,
}

#[derive(Serialize)]
struct AnchorOutput {
    tx_hash: Hash,
    height: Height,
    time_ms: u64,
    time: String,
    organization: Option<String>,
    signer: PublicKey,
    /// The document hash, or the batch's Merkle root.
    anchor: Hash,
    documents: Vec<AnchoredFile>,
}

async fn anchor(
    client: &Client,
    files: &[PathBuf],
    key_args: &KeyArgs,
    json: bool,
) -> anyhow::Result<()> {
    if files.len() > limits::NOTARY_BATCH_MAX {
        bail!(
            "{} files given; one batch holds at most {}",
            files.len(),
            limits::NOTARY_BATCH_MAX
        );
    }
    let (key_path, key) = resolve_key(key_args)?;
    let mut documents = Vec::with_capacity(files.len());
    for file in files {
        let sha256 = hash_file(file)?;
        if let Some(same) = documents
            .iter()
            .find(|d: &&AnchoredFile| d.sha256 == sha256)
        {
            bail!(
                "{} and {} have the same content ({sha256}); a batch holds distinct documents",
                same.file.display(),
                file.display()
            );
        }
        documents.push(AnchoredFile {
            file: file.clone(),
            sha256,
        });
    }
    let hashes: Vec<Hash> = documents.iter().map(|d| d.sha256).collect();
    let (call, anchor) = match hashes.as_slice() {
        [single] => (NotaryCall::Anchor { document: *single }, *single),
        many => (
            NotaryCall::AnchorBatch {
                documents: many.to_vec(),
            },
            simin_types::merkle::root(
                &many
                    .iter()
                    .map(|h| simin_types::merkle::leaf_hash(&h.0))
                    .collect::<Vec<_>>(),
            ),
        ),
    };
    let status = status_with_a_block(client).await?;
    let signer = key.public_key();
    let nonce = client
        .account_next_nonce(&signer)
        .await
        .context("cannot read the signer's next nonce")?;
    let tx = Tx {
        chain_id: status.chain_id.clone(),
        signer,
        nonce,
        expiry_height: Height(status.latest_height.0.saturating_add(ANCHOR_EXPIRY_BLOCKS)),
        call: Call::Notary(call),
    }
    .sign(&key);
    tracing::info!(key = %key_path.display(), %signer, nonce, "submitting anchoring");
    let spinner = spinner(json, "waiting for the transaction to be committed");
    let response = client.submit(&tx, true).await;
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    let response = response.context("the node refused the transaction")?;
    let committed = match (response.status, response.committed) {
        (SubmitStatus::Committed, Some(committed)) => committed,
        _ => bail!(
            "transaction {} was accepted but not committed in time; check later with `simin notary verify`",
            response.hash
        ),
    };
    if let TxOutcome::Failure { code, message } = &committed.receipt.outcome {
        bail!(
            "transaction {} was committed at height {} but failed: {code}: {message}",
            committed.hash,
            committed.height
        );
    }
    // The organisation is in the notary record; a failure to read it is not fatal.
    let organization = match client.notary(&hashes[0]).await {
        Ok(Some(proof)) => Some(proof.record.organization.to_string()),
        Ok(None) | Err(_) => None,
    };
    let time = committed.header.time.0;
    let out = AnchorOutput {
        tx_hash: committed.hash,
        height: committed.height,
        time_ms: time,
        time: output::utc_date(time),
        organization,
        signer,
        anchor,
        documents,
    };
    if json {
        output::json(&out);
        return Ok(());
    }
    output::line(&format!("anchored {} document(s)", out.documents.len()));
    output::line(&format!("  transaction   {}", out.tx_hash));
    output::line(&format!("  height        {}", out.height));
    output::line(&format!("  block time    {} (unix ms {time})", out.time));
    output::line(&format!(
        "  organisation  {}",
        out.organization.as_deref().unwrap_or("(unknown)")
    ));
    output::line(&format!("  signer        {signer}"));
    for doc in &out.documents {
        output::line(&format!("  {}  {}", doc.sha256, doc.file.display()));
    }
    Ok(())
}

/// An indicatif spinner on stderr, only when a person is watching it.
fn spinner(json: bool, message: &'static str) -> Option<indicatif::ProgressBar> {
    if json || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(indicatif::ProgressStyle::default_spinner());
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(100));
    Some(bar)
}

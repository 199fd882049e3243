//! `simin notary verify`: checks an anchoring without trusting the node, choosing what
//! to trust from `--genesis`, the devnet's genesis, or a validator set pinned on first use.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Serialize;
use simin_client::dto::NodeStatus;
use simin_client::{verify_notary_proof, Client, TrustAnchor, TrustStore};
use simin_types::{Hash, Height, PublicKey};

use crate::keys::devnet_dir;
use crate::notary::hash_file;
use crate::output;

/// Where `notary verify` may take its trust anchor from.
pub struct TrustSources {
    pub genesis: Option<PathBuf>,
    pub trust_dir: Option<PathBuf>,
    pub devnet_dir: Option<PathBuf>,
}

/// The trust anchor chosen, where it came from, and the store to pin it in if it is new.
pub(crate) struct Trust {
    pub(crate) anchor: TrustAnchor,
    pub(crate) source: String,
    pub(crate) pin_in: Option<TrustStore>,
}

pub(crate) fn choose_trust(
    sources: &TrustSources,
    status: &NodeStatus,
    offered: &simin_types::ValidatorSet,
) -> anyhow::Result<Trust> {
    if let Some(path) = &sources.genesis {
        let anchor = TrustAnchor::from_genesis_file(path)?;
        return Ok(Trust {
            anchor,
            source: format!("genesis {}", path.display()),
            pin_in: None,
        });
    }
    let devnet_genesis = devnet_dir(sources.devnet_dir.as_deref())?.join("genesis.json");
    if devnet_genesis.exists() {
        match TrustAnchor::from_genesis_file(&devnet_genesis) {
            Ok(anchor) if anchor.chain_id == status.chain_id => {
                return Ok(Trust {
                    anchor,
                    source: format!("devnet genesis {}", devnet_genesis.display()),
                    pin_in: None,
                })
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(%e, "ignoring the devnet genesis"),
        }
    }
    let dir = match &sources.trust_dir {
        Some(dir) => dir.clone(),
        None => TrustStore::default_dir()?,
    };
    let store = TrustStore::new(dir);
    if let Some(anchor) = store.load(&status.chain_id)? {
        return Ok(Trust {
            anchor,
            source: format!("pinned {}", store.path(&status.chain_id).display()),
            pin_in: None,
        });
    }
    Ok(Trust {
        anchor: TrustAnchor {
            chain_id: status.chain_id.clone(),
            validators: offered.clone(),
        },
        source: "trusted on first use".into(),
        pin_in: Some(store),
    })
}

#[derive(Serialize)]
struct VerifyOutput {
    document: Hash,
    file: PathBuf,
    height: Height,
    time_ms: u64,
    time: String,
    organization: String,
    signer: PublicKey,
    tx_hash: Hash,
    anchor: Hash,
    batch_index: Option<u64>,
    batch_size: u32,
    proven_at: Height,
    proven_block_hash: Hash,
    trust: String,
}

pub async fn verify(
    client: &Client,
    file: &Path,
    sources: &TrustSources,
    json: bool,
) -> anyhow::Result<()> {
    let document = hash_file(file)?;
    let status = client
        .status()
        .await
        .with_context(|| format!("cannot get the status of {}", client.base_url()))?;
    let Some(proof) = client.notary(&document).await? else {
        bail!("not anchored: {document} ({})", file.display());
    };
    let trust = choose_trust(sources, &status, &proof.validators)?;
    let verified = verify_notary_proof(&proof, &document, &trust.anchor).map_err(|e| {
        anyhow::anyhow!(
            "the proof of {document} does not check: {} check failed: {e}",
            e.check()
        )
    })?;
    if let Some(store) = &trust.pin_in {
        let path = store.save(&trust.anchor)?;
        output::notice(&format!(
            "notice: no trusted validator set for chain {}; trusting the node's ({}) on first use, pinned in {}",
            trust.anchor.chain_id,
            trust.anchor.validators_hash(),
            path.display()
        ));
    }
    let record = &verified.record;
    let out = VerifyOutput {
        document,
        file: file.to_owned(),
        height: record.height,
        time_ms: record.time.0,
        time: output::utc_date(record.time.0),
        organization: record.organization.to_string(),
        signer: record.signer,
        tx_hash: record.tx_hash,
        anchor: verified.anchor,
        batch_index: verified.batch_index,
        batch_size: record.documents,
        proven_at: verified.proven_at,
        proven_block_hash: verified.proven_block_hash,
        trust: trust.source,
    };
    if json {
        output::json(&out);
        return Ok(());
    }
    output::line(&format!("anchored: {document}"));
    output::line(&format!("  file          {}", file.display()));
    output::line(&format!(
        "  when          height {}, {} (unix ms {})",
        out.height, out.time, out.time_ms
    ));
    output::line(&format!("  organisation  {}", out.organization));
    output::line(&format!("  signer        {}", out.signer));
    output::line(&format!("  transaction   {}", out.tx_hash));
    match out.batch_index {
        None => output::line("  anchor        the document itself"),
        Some(index) => output::line(&format!(
            "  anchor        batch root {} (document {} of {})",
            out.anchor,
            index.saturating_add(1),
            out.batch_size
        )),
    }
    output::line(&format!(
        "  proof         checked against certified block {} ({}); trust: {}",
        out.proven_at, out.proven_block_hash, out.trust
    ));
    Ok(())
}

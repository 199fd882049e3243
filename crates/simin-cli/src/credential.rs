//! `simin verify`: checks a citizen-card presentation without trusting the node.
//!
//! The verifier runs locally over chain state that this command proves, key by key,
//! against a header certified by the trusted validator set: the issuer's DID document,
//! its accreditation chain, the type's schema and the status bits. The node only
//! supplies the values and their proofs.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use serde::Serialize;
use serde_json::{Map, Value};
use simin_client::{Client, ProvenState};
use simin_identity::verifier::{verify_presentation, VerifyRequest};
use simin_types::state_keys;

use crate::output;
use crate::verify::{choose_trust, TrustSources};

/// Largest presentation file read.
const PRESENTATION_BYTES_MAX: u64 = 256 * 1024;

#[derive(Serialize)]
struct Verdict {
    verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    claims: Option<Map<String, Value>>,
    proven_at: u64,
    trust: String,
}

/// Unix seconds now.
pub fn now_secs() -> anyhow::Result<i64> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    i64::try_from(secs).context("the system clock is out of range")
}

pub async fn verify(
    client: &Client,
    file: &Path,
    nonce: &str,
    audience: &str,
    sources: &TrustSources,
    json: bool,
) -> anyhow::Result<()> {
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    if size > PRESENTATION_BYTES_MAX {
        bail!(
            "{} is {size} bytes; a presentation is at most {PRESENTATION_BYTES_MAX}",
            file.display()
        );
    }
    let presentation =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let status = client
        .status()
        .await
        .with_context(|| format!("cannot get the status of {}", client.base_url()))?;
    let height = status.latest_height;
    // Any proven read carries the validator set that certified the height.
    let probe = client
        .state_at(&state_keys::validator_set(), height)
        .await
        .context("cannot read the validator set")?;
    let trust = choose_trust(sources, &status, &probe.validators)?;
    let mut state = ProvenState::at(height);
    let now = now_secs()?;
    let request = VerifyRequest {
        presentation: presentation.trim(),
        nonce,
        audience,
        now,
        accepted_types: &[],
    };
    let outcome = state
        .resolve(client, &trust.anchor, |s| verify_presentation(s, &request))
        .await
        .context("cannot prove the chain state the verification needs")?;
    if let Some(store) = &trust.pin_in {
        let path = store.save(&trust.anchor)?;
        output::notice(&format!(
            "notice: trusting chain {}'s validator set {} on first use, pinned in {}",
            trust.anchor.chain_id,
            trust.anchor.validators_hash(),
            path.display()
        ));
    }
    let verdict = match &outcome {
        Ok(verified) => Verdict {
            verified: true,
            reason: None,
            detail: None,
            credential_type: Some(verified.credential_type.clone()),
            issuer: Some(verified.issuer.clone()),
            claims: Some(verified.claims.clone()),
            proven_at: height.0,
            trust: trust.source.clone(),
        },
        Err(rejection) => Verdict {
            verified: false,
            reason: Some(rejection.code().to_owned()),
            detail: Some(rejection.to_string()),
            credential_type: None,
            issuer: None,
            claims: None,
            proven_at: height.0,
            trust: trust.source.clone(),
        },
    };
    if json {
        output::json(&verdict);
    } else if let Ok(verified) = &outcome {
        output::line(&format!(
            "verified: {} issued by {}",
            verified.credential_type, verified.issuer
        ));
        for (name, value) in &verified.claims {
            output::line(&format!("  {name:<20} {value}"));
        }
        output::line(&format!(
            "  chain state proven at height {height}; trust: {}",
            trust.source
        ));
    }
    match outcome {
        Ok(_) => Ok(()),
        Err(rejection) => {
            if !json {
                output::line(&format!("rejected: {}: {rejection}", rejection.code()));
            }
            bail!("the presentation is rejected ({})", rejection.code())
        }
    }
}

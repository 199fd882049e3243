//! `simin eligibility`: paperless eligibility checks. A service publishes a benefit's
//! requirements on chain; the citizen answers once with presentations of credentials
//! from different agencies, bound to one nonce; the service decides and records the
//! decision with the SHA-256 of each presentation; an auditor later reproduces the
//! decision from the presentations without trusting any node.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use rand::RngCore;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use simin_client::{Client, ProvenState};
use simin_identity::eligibility::{evaluate, Date, Policy, Presented};
use simin_identity::jose::decode_compact_unverified;
use simin_identity::verifier::{verify_presentation, VerifiedPresentation, VerifyRequest};
use simin_node::devnet_identity::org_key_paths;
use simin_types::identity::did_of;
use simin_types::{
    decode, state_keys, Benefit, Call, DataCall, EligibilityDecision, Hash, Height, OrgId,
};

use crate::output;
use crate::verify::{choose_trust, TrustSources};

/// Most presentations one application carries.
const PRESENTATIONS_MAX: usize = 8;
/// The largest presentation file read, in bytes.
const PRESENTATION_BYTES_MAX: u64 = 64 * 1024;

#[derive(Debug, Subcommand)]
pub enum EligibilityCommand {
    /// Publish (or replace) a benefit's requirements, signed by its organisation.
    Publish(PublishArgs),
    /// Decide an application: verify the presentations (proven state), apply the
    /// benefit's policy, record the decision and its evidence hashes on chain.
    Decide(DecideArgs),
    /// Reproduce a recorded decision from its presentations: the evidence hashes, the
    /// policy, every signature and accreditation, against proven state.
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    #[arg(long, value_name = "ORG")]
    pub org: String,
    #[arg(long, value_name = "ID")]
    pub id: String,
    #[arg(long)]
    pub name: String,
    /// The policy (JSON; see `simin_identity::eligibility`).
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    #[command(flatten)]
    pub signer: SignerArgs,
}

#[derive(Debug, Args)]
pub struct SignerArgs {
    /// The organisation's transaction key [default: the devnet's key of the organisation].
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    #[arg(long, env = "SIMIN_DEVNET_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    #[arg(long, value_name = "ID")]
    pub benefit: String,
    /// The nonce the service gave the applicant (every presentation's key binding).
    #[arg(long)]
    pub nonce: String,
    #[command(flatten)]
    pub signer: SignerArgs,
    /// The presentations (files from `simin wallet present`), one per credential.
    #[arg(value_name = "PRESENTATION", required = true)]
    pub presentations: Vec<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub genesis: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The decision id (hex).
    #[arg(value_name = "DECISION")]
    pub decision: String,
    #[arg(value_name = "PRESENTATION", required = true)]
    pub presentations: Vec<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub genesis: Option<PathBuf>,
    #[arg(long, env = "SIMIN_DEVNET_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

pub async fn run(node: &str, command: EligibilityCommand, json: bool) -> anyhow::Result<()> {
    let client = Client::new(node)?;
    match command {
        EligibilityCommand::Publish(args) => publish(&client, args, json).await,
        EligibilityCommand::Decide(args) => decide(&client, args, json).await,
        EligibilityCommand::Audit(args) => audit(&client, args, json).await,
    }
}

fn org_key(org: &OrgId, signer: &SignerArgs) -> anyhow::Result<simin_types::SigningKey> {
    let path = match &signer.key {
        Some(path) => path.clone(),
        None => {
            let dir = crate::keys::devnet_dir(signer.data_dir.as_deref())?;
            org_key_paths(&dir.join("keys"), org.as_str()).0
        }
    };
    crate::keys::load_key(&path)
}

async fn publish(client: &Client, args: PublishArgs, json: bool) -> anyhow::Result<()> {
    let organization = OrgId::new(&args.org).context("invalid --org")?;
    let policy = std::fs::read_to_string(&args.policy)
        .with_context(|| format!("cannot read {}", args.policy.display()))?;
    Policy::parse(&policy).context("the policy is refused")?;
    let key = org_key(&organization, &args.signer)?;
    let benefit = Benefit {
        id: args.id.clone(),
        organization,
        name: args.name,
        policy,
    };
    let height =
        crate::gateway::submit(client, &key, Call::Data(DataCall::PublishBenefit(benefit))).await?;
    if json {
        output::json(&serde_json::json!({ "benefit": args.id, "height": height }));
    } else {
        output::line(&format!("benefit {} published at height {height}", args.id));
    }
    Ok(())
}

fn read_presentations(paths: &[PathBuf]) -> anyhow::Result<Vec<String>> {
    if paths.len() > PRESENTATIONS_MAX {
        bail!("at most {PRESENTATIONS_MAX} presentations per application");
    }
    paths
        .iter()
        .map(|path| {
            let size = std::fs::metadata(path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .len();
            if size > PRESENTATION_BYTES_MAX {
                bail!("{} is over {PRESENTATION_BYTES_MAX} bytes", path.display());
            }
            Ok(std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .trim()
                .to_owned())
        })
        .collect()
}

fn sha256(bytes: &[u8]) -> Hash {
    Hash(Sha256::digest(bytes).into())
}

/// The applicant's pseudonym for one benefit: stable for one wallet key, unlinkable
/// across benefits.
fn applicant_pseudonym(benefit: &str, holder_thumbprint: &str) -> Hash {
    sha256(format!("simin eligibility applicant v1\0{benefit}\0{holder_thumbprint}").as_bytes())
}

/// Why an application or an audit cannot go on (a verdict, not a failure of the tool).
#[derive(Debug)]
enum Refusal {
    Presentation(usize, String),
    Other(String),
}

/// The benefit, and each presentation verified over proven state at `height` with the
/// verifier's time `now`; `nonce` and the benefit organisation's DID bind them.
async fn verify_all(
    client: &Client,
    sources: &TrustSources,
    benefit_id: &str,
    presentations: &[String],
    nonce: &str,
    now: i64,
) -> anyhow::Result<Result<(Benefit, Vec<VerifiedPresentation>, Height), Refusal>> {
    let status = client.status().await.context("cannot reach the node")?;
    let lookup = client
        .state(&state_keys::benefit(benefit_id), true)
        .await
        .context("cannot read the benefit")?;
    let trust = choose_trust(sources, &status, &lookup.validators)?;
    let height = lookup.height;
    let mut state = ProvenState::at(height);
    let benefit = state
        .resolve(client, &trust.anchor, |s| {
            simin_ledger::data::benefit(s, benefit_id)
        })
        .await??;
    let Some(benefit) = benefit else {
        return Ok(Err(Refusal::Other(format!("no benefit {benefit_id}"))));
    };
    let audience = did_of(&benefit.organization);
    let mut verified = Vec::with_capacity(presentations.len());
    for (i, presentation) in presentations.iter().enumerate() {
        let request = VerifyRequest {
            presentation,
            nonce,
            audience: &audience,
            now,
            accepted_types: &[],
        };
        match state
            .resolve(client, &trust.anchor, |s| verify_presentation(s, &request))
            .await?
        {
            Ok(one) => verified.push(one),
            Err(rejection) => {
                return Ok(Err(Refusal::Presentation(
                    i,
                    format!("{}: {rejection}", rejection.code()),
                )))
            }
        }
    }
    if let Some(first) = verified.first() {
        if verified
            .iter()
            .any(|v| v.holder_thumbprint != first.holder_thumbprint)
        {
            return Ok(Err(Refusal::Other(
                "the presentations are not all bound to the same wallet key".into(),
            )));
        }
    }
    Ok(Ok((benefit, verified, height)))
}

#[derive(Serialize)]
struct DecisionOutput {
    decision: String,
    benefit: String,
    eligible: bool,
    unmet: Vec<String>,
    evidence: Vec<String>,
    applicant: String,
    height: u64,
}

async fn decide(client: &Client, args: DecideArgs, json: bool) -> anyhow::Result<()> {
    let presentations = read_presentations(&args.presentations)?;
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .context("the clock is before 1970")?
            .as_secs(),
    )
    .context("the clock is out of range")?;
    let sources = TrustSources {
        genesis: args.genesis.clone(),
        trust_dir: None,
        devnet_dir: args.signer.data_dir.clone(),
    };
    let (benefit, verified, _) = match verify_all(
        client,
        &sources,
        &args.benefit,
        &presentations,
        &args.nonce,
        now,
    )
    .await?
    {
        Ok(all) => all,
        Err(Refusal::Presentation(i, why)) => bail!(
            "presentation {} ({}) is refused: {why}",
            i + 1,
            args.presentations[i].display()
        ),
        Err(Refusal::Other(why)) => bail!("{why}"),
    };
    let policy = Policy::parse(&benefit.policy).context("the benefit's policy")?;
    let today = Date::from_unix_secs(now).context("the clock is out of range")?;
    let presented: Vec<Presented<'_>> = verified
        .iter()
        .map(|v| Presented {
            credential_type: &v.credential_type,
            claims: &v.claims,
        })
        .collect();
    let outcome = evaluate(&policy, &presented, today);
    let mut id = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let applicant = applicant_pseudonym(&benefit.id, &verified[0].holder_thumbprint);
    let evidence: Vec<Hash> = presentations.iter().map(|p| sha256(p.as_bytes())).collect();
    let decision = EligibilityDecision {
        id: Hash(id),
        benefit: benefit.id.clone(),
        policy_hash: sha256(benefit.policy.as_bytes()),
        applicant,
        eligible: outcome.eligible,
        evidence: evidence.clone(),
        decided_time: simin_types::BlockTime(0),
    };
    let key = org_key(&benefit.organization, &args.signer)?;
    let height =
        crate::gateway::submit(client, &key, Call::Data(DataCall::RecordDecision(decision)))
            .await?;
    let out = DecisionOutput {
        decision: hex::encode(id),
        benefit: benefit.id,
        eligible: outcome.eligible,
        unmet: outcome.unmet,
        evidence: evidence.iter().map(|h| hex::encode(h.0)).collect(),
        applicant: hex::encode(applicant.0),
        height,
    };
    if json {
        output::json(&out);
    } else {
        output::line(&format!(
            "{}: {} (decision {}, recorded at height {height})",
            out.benefit,
            if out.eligible {
                "eligible"
            } else {
                "not eligible"
            },
            out.decision
        ));
        for why in &out.unmet {
            output::line(&format!("  unmet: {why}"));
        }
    }
    Ok(())
}

/// The nonce every presentation's key binding carries (the auditor does not know it).
fn common_nonce(presentations: &[String]) -> anyhow::Result<String> {
    let mut nonce: Option<String> = None;
    for presentation in presentations {
        let kb = presentation
            .rsplit('~')
            .next()
            .filter(|kb| !kb.is_empty())
            .context("a presentation has no key binding")?;
        let (_, payload) = decode_compact_unverified(kb).context("a key binding is malformed")?;
        let this = payload
            .get("nonce")
            .and_then(Value::as_str)
            .context("a key binding has no nonce")?
            .to_owned();
        match &nonce {
            Some(n) if *n != this => bail!("the presentations answer different nonces"),
            _ => nonce = Some(this),
        }
    }
    nonce.context("no presentation")
}

async fn audit(client: &Client, args: AuditArgs, json: bool) -> anyhow::Result<()> {
    let id = Hash(
        hex::decode(&args.decision)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .context("a decision id is 64 hex characters")?,
    );
    let presentations = read_presentations(&args.presentations)?;
    let lookup = client
        .state(&state_keys::decision(&id), true)
        .await
        .context("cannot read the decision")?;
    let status = client.status().await?;
    let sources = TrustSources {
        genesis: args.genesis.clone(),
        trust_dir: None,
        devnet_dir: args.data_dir.clone(),
    };
    let trust = choose_trust(&sources, &status, &lookup.validators)?;
    let verified_lookup =
        simin_client::verify_state_lookup(&lookup, &state_keys::decision(&id), &trust.anchor)
            .map_err(|e| anyhow::anyhow!("the decision's proof does not check: {e}"))?;
    let decision: EligibilityDecision = decode(
        "a decision",
        &verified_lookup.value.context("no such decision on chain")?,
        64 * 1024,
    )?;
    let mut findings = Vec::new();
    let hashes: Vec<Hash> = presentations.iter().map(|p| sha256(p.as_bytes())).collect();
    if hashes != decision.evidence {
        bail!("the presentations are not the decision's evidence (their SHA-256 differ)");
    }
    let nonce = common_nonce(&presentations)?;
    // Verified as of the decision: signatures, keys listed then, accreditation at
    // issuance; status bits are today's (a later revocation is reported, not hidden).
    let decided = i64::try_from(decision.decided_time.0 / 1000).context("decision time")?;
    let (benefit, verified, height) = match verify_all(
        client,
        &sources,
        &decision.benefit,
        &presentations,
        &nonce,
        decided,
    )
    .await?
    {
        Ok(all) => all,
        Err(Refusal::Presentation(i, why)) => {
            findings.push(format!("presentation {} now fails: {why}", i + 1));
            return report_audit(&decision, false, findings, json);
        }
        Err(Refusal::Other(why)) => bail!("{why}"),
    };
    if sha256(benefit.policy.as_bytes()) != decision.policy_hash {
        findings.push("the benefit's policy changed since the decision".into());
        return report_audit(&decision, false, findings, json);
    }
    let policy = Policy::parse(&benefit.policy)?;
    let day = Date::from_unix_secs(decided).context("decision time")?;
    let presented: Vec<Presented<'_>> = verified
        .iter()
        .map(|v| Presented {
            credential_type: &v.credential_type,
            claims: &v.claims,
        })
        .collect();
    let outcome = evaluate(&policy, &presented, day);
    if applicant_pseudonym(&benefit.id, &verified[0].holder_thumbprint) != decision.applicant {
        findings.push("the applicant pseudonym does not match the presentations' holder".into());
    }
    if outcome.eligible != decision.eligible {
        findings.push(format!(
            "the policy gives {} but the decision says {}",
            outcome.eligible, decision.eligible
        ));
    }
    findings.push(format!("verified against proven state at height {height}"));
    let reproduced = outcome.eligible == decision.eligible
        && applicant_pseudonym(&benefit.id, &verified[0].holder_thumbprint) == decision.applicant;
    report_audit(&decision, reproduced, findings, json)
}

fn report_audit(
    decision: &EligibilityDecision,
    reproduced: bool,
    findings: Vec<String>,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        output::json(&serde_json::json!({
            "decision": hex::encode(decision.id.0),
            "benefit": decision.benefit,
            "eligible": decision.eligible,
            "reproduced": reproduced,
            "findings": findings,
        }));
    } else {
        output::line(&format!(
            "decision {} ({}: {}): {}",
            hex::encode(decision.id.0),
            decision.benefit,
            if decision.eligible {
                "eligible"
            } else {
                "not eligible"
            },
            if reproduced {
                "reproduced"
            } else {
                "NOT reproduced"
            }
        ));
        for finding in &findings {
            output::line(&format!("  {finding}"));
        }
    }
    if reproduced {
        Ok(())
    } else {
        bail!("the decision could not be reproduced")
    }
}

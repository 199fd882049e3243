//! Where the time of `verify_presentation` goes: each stage of the full verifier timed on
//! its own over the same presentations, with the inputs the earlier stages would have
//! produced computed beforehand. The stages follow `simin_identity::verifier`; the
//! residual (the full verifier minus the stages) is what they leave out: claim copies,
//! error plumbing, the holder's thumbprint.

use std::hint::black_box;

use anyhow::Context;
use ed25519_dalek::VerifyingKey;
use serde_json::{Map, Value};
use simin_identity::card;
use simin_identity::jose::{self, Jwk};
use simin_identity::sd_jwt::{self, SdJwt};
use simin_identity::verifier::parse_status_list_id;
use simin_ledger::identity::{accreditation_chain, did_record, schema, status_chunk, status_list};
use simin_ledger::StateView;
use simin_types::identity::{organization_of_did, status_bit_position};
use simin_types::{BlockTime, OrgId, Relationship};

use crate::measure::{self, rate, Settings};

/// One stage and its cost.
#[derive(Debug, Clone)]
pub struct Stage {
    pub name: &'static str,
    pub micros: f64,
}

/// What the later stages take, computed once per presentation.
struct Prepared {
    issuer_jwt: String,
    org: OrgId,
    issued: BlockTime,
    /// The processed claims `sd_jwt::verify` returns.
    claims: Map<String, Value>,
    /// The claims about the citizen, as the schema sees them.
    citizen: Map<String, Value>,
    /// The holder's `cnf.jwk`, as JSON and decoded.
    holder_json: Value,
    holder: Jwk,
}

fn prepare(presentation: &str, now: i64) -> anyhow::Result<Prepared> {
    let parsed = SdJwt::parse(presentation)?;
    let (_, payload) = jose::decode_compact_unverified(&parsed.issuer_jwt)?;
    let iss = payload["iss"].as_str().context("iss")?;
    let iat = payload["iat"].as_u64().context("iat")?;
    let verified = sd_jwt::verify(
        presentation,
        &measure::issuer_jwk(),
        &measure::sd_jwt_options(now),
    )?;
    let Value::Object(claims) = verified.claims else {
        anyhow::bail!("claims are an object");
    };
    let citizen = claims
        .iter()
        .filter(|(name, _)| !card::RESERVED_CLAIMS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let holder_json = claims["cnf"]["jwk"].clone();
    let holder = Jwk::from_json(&holder_json)?;
    Ok(Prepared {
        issuer_jwt: parsed.issuer_jwt,
        org: organization_of_did(iss).context("did:simin")?,
        issued: BlockTime(iat * 1000),
        claims,
        citizen,
        holder_json,
        holder,
    })
}

/// Times every stage of the full verifier, and the full verifier, in microseconds per
/// presentation.
pub fn stages(
    settings: Settings,
    state: &dyn StateView,
    presentations: &[String],
    now: i64,
) -> anyhow::Result<Vec<Stage>> {
    let prepared = presentations
        .iter()
        .map(|p| prepare(p, now))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let floor_items = presentations
        .iter()
        .map(|p| measure::floor_item(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let n = presentations.len();
    let schema_json = schema(state, "CitizenCard")?
        .context("the schema is registered")?
        .schema;
    let issuer = measure::issuer_jwk();
    let options = measure::sd_jwt_options(now);
    let mut out = Vec::new();
    let mut stage = |name: &'static str, op: &mut dyn FnMut(usize) -> bool| {
        let r = rate("profile", name, settings, n, op)?;
        out.push(Stage {
            name,
            micros: 1e6 / r.ops_per_sec,
        });
        anyhow::Ok(())
    };

    stage("full verify_presentation", &mut |i| {
        measure::check_presentation(state, &presentations[i], now).is_ok()
    })?;
    stage(
        "1 split the presentation, decode issuer header and payload (pre-key)",
        &mut |i| {
            SdJwt::parse(&presentations[i])
                .ok()
                .and_then(|p| jose::decode_compact_unverified(&p.issuer_jwt).ok())
                .is_some()
        },
    )?;
    stage(
        "2 issuer key: DID record read + decode + key decompression",
        &mut |i| {
            let p = &prepared[i];
            let Ok(Some(doc)) = did_record(state, &p.org) else {
                return false;
            };
            doc.key_at("key-1", Relationship::AssertionMethod, p.issued)
                .and_then(|m| VerifyingKey::from_bytes(&m.public_key.0).ok())
                .map(|k| black_box(Jwk::from_ed25519(&k)))
                .is_some()
        },
    )?;
    stage("3 sd_jwt::verify (all of it)", &mut |i| {
        black_box(sd_jwt::verify(&presentations[i], &issuer, &options)).is_ok()
    })?;
    let issuer_key = measure::issuer_jwk_ed25519();
    stage("3a   issuer signature: verify_strict", &mut |i| {
        black_box(&floor_items[i]).verify_issuer(&issuer_key)
    })?;
    stage(
        "3b   holder key: cnf.jwk to a key (base64url + decompression)",
        &mut |i| Jwk::from_json(black_box(&prepared[i].holder_json)).is_ok(),
    )?;
    stage("3c   key binding signature: verify_strict", &mut |i| {
        black_box(&floor_items[i]).verify_holder()
    })?;
    stage("3d   SHA-256 of disclosures and sd_hash", &mut |i| {
        black_box(&floor_items[i]).digests();
        true
    })?;
    stage(
        "3e   base64url + JSON of issuer JWT (second decode)",
        &mut |i| jose::decode_compact_unverified(black_box(&prepared[i].issuer_jwt)).is_ok(),
    )?;
    stage("4 schema record read + decode", &mut |_| {
        matches!(schema(state, "CitizenCard"), Ok(Some(_)))
    })?;
    stage("5 schema validation (validate_claims)", &mut |i| {
        card::validate_claims(&schema_json, &prepared[i].citizen, false).is_ok()
    })?;
    let mut compiled_schema: Value = serde_json::from_str(&schema_json)?;
    if let Value::Object(map) = &mut compiled_schema {
        map.remove("required");
    }
    stage("5a   of which: parse + compile the schema", &mut |_| {
        let parsed: Result<Value, _> = serde_json::from_str(&schema_json);
        parsed
            .ok()
            .and_then(|s| jsonschema::validator_for(&s).ok())
            .map(black_box)
            .is_some()
    })?;
    let validator = jsonschema::validator_for(&compiled_schema)?;
    stage("5b   of which: validate with a compiled schema", &mut |i| {
        validator.is_valid(&Value::Object(prepared[i].citizen.clone()))
    })?;
    stage("6 accreditation chain", &mut |i| {
        let p = &prepared[i];
        accreditation_chain(state, &p.org, "CitizenCard", p.issued).is_ok()
    })?;
    stage(
        "7 status: parse entries + 2 list records + 2 chunks",
        &mut |i| {
            let p = &prepared[i];
            check_status(state, &p.org, &p.claims).is_ok()
        },
    )?;
    stage("8 holder thumbprint (RFC 7638)", &mut |i| {
        !black_box(prepared[i].holder.thumbprint()).is_empty()
    })?;
    Ok(out)
}

/// Stage 7 as the verifier does it.
fn check_status(
    state: &dyn StateView,
    org: &OrgId,
    claims: &Map<String, Value>,
) -> anyhow::Result<()> {
    let entries = card::parse_status(&Value::Object(claims.clone()))?;
    for entry in &entries {
        let (list_org, list) =
            parse_status_list_id(&entry.status_list_credential).context("status list id")?;
        anyhow::ensure!(list_org == *org);
        let index = u32::try_from(entry.index()?)?;
        let record = status_list(state, org, list)?.context("list")?;
        anyhow::ensure!(index < record.size_bits);
        let (chunk, byte, mask) = status_bit_position(index);
        let bits = status_chunk(state, org, list, chunk)?;
        anyhow::ensure!(bits[byte] & mask == 0);
    }
    Ok(())
}

/// The parts of `di::verify_proof_jcs` beyond its floor, each timed alone, in
/// microseconds per credential.
pub fn di_stages(settings: Settings, credentials: &[Value]) -> anyhow::Result<Vec<Stage>> {
    let n = credentials.len();
    let methods = credentials
        .iter()
        .map(|c| {
            c["proof"]["verificationMethod"]
                .as_str()
                .map(str::to_owned)
                .context("verificationMethod")
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let proof_values = credentials
        .iter()
        .map(|c| {
            c["proof"]["proofValue"]
                .as_str()
                .map(str::to_owned)
                .context("proofValue")
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut out = Vec::new();
    let mut stage = |name: &'static str, op: &mut dyn FnMut(usize) -> bool| {
        let r = rate("profile_di", name, settings, n, op)?;
        out.push(Stage {
            name,
            micros: 1e6 / r.ops_per_sec,
        });
        anyhow::Ok(())
    };
    stage("full di::verify_proof_jcs", &mut |i| {
        let credential = &credentials[i];
        simin_identity::di::verify_proof_jcs(credential, |vm| {
            measure::resolve_issuer_key(credential, vm)
        })
        .is_ok()
    })?;
    stage(
        "did:key resolution (base58, decompression, canonical and weak-key checks)",
        &mut |i| simin_identity::did_key::resolve_did_key(black_box(&methods[i])).is_ok(),
    )?;
    stage("proofValue: base58btc decoding", &mut |i| {
        proof_values[i]
            .strip_prefix('z')
            .and_then(|text| bs58::decode(text).into_vec().ok())
            .is_some_and(|bytes| bytes.len() == 64)
    })?;
    stage(
        "copy of the document and the proof (without proof)",
        &mut |i| {
            let mut copy = credentials[i].as_object().cloned().unwrap_or_default();
            let proof = copy.remove("proof");
            black_box(proof).is_some()
        },
    )?;
    Ok(out)
}

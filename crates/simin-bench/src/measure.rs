//! The timed loops: simin's verifiers over the fixtures and the cryptographic floors they
//! are compared with, one thread, in operations per second.
//!
//! Each measurement warms up, then runs `rounds` rounds of `round` each over the
//! fixtures in turn and reports the median round. Every operation's result is checked:
//! a verification that fails aborts the run, so nothing is measured that did not verify.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use simin_identity::jose::{self, Jwk};
use simin_identity::sd_jwt::{self, VerifyOptions, TYP_SD_JWT_VC};
use simin_identity::verifier::{verify_presentation, VerifyRequest};
use simin_identity::{di, did_key};
use simin_ledger::StateView;

use crate::fixtures::{AUDIENCE, NONCE};
use crate::world;

/// How long and how often to measure.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub warmup: Duration,
    pub round: Duration,
    pub rounds: usize,
}

/// One measurement: the median and every round, in operations per second.
#[derive(Debug, Clone)]
pub struct Rate {
    pub bench: &'static str,
    pub name: &'static str,
    pub ops_per_sec: f64,
    pub rounds: Vec<f64>,
}

impl Rate {
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "bench": self.bench,
            "name": self.name,
            "impl": "simin (Rust)",
            "ops_per_sec": self.ops_per_sec.round(),
            "rounds": self.rounds.iter().map(|r| r.round()).collect::<Vec<_>>(),
        })
    }
}

/// Runs `op` over items `0..count` in turn; `op` returns whether the item verified.
pub fn rate(
    bench: &'static str,
    name: &'static str,
    settings: Settings,
    count: usize,
    mut op: impl FnMut(usize) -> bool,
) -> anyhow::Result<Rate> {
    ensure!(count > 0 && settings.rounds > 0, "nothing to measure");
    let mut next = 0usize;
    let mut step = |op: &mut dyn FnMut(usize) -> bool| -> anyhow::Result<()> {
        let item = next % count;
        ensure!(op(item), "{name}: item {item} did not verify");
        next = next.wrapping_add(1);
        Ok(())
    };
    let warm = Instant::now();
    while warm.elapsed() < settings.warmup {
        step(&mut op)?;
    }
    let mut rounds = Vec::with_capacity(settings.rounds);
    for _ in 0..settings.rounds {
        let start = Instant::now();
        let mut ops = 0u32;
        loop {
            step(&mut op)?;
            ops += 1;
            // Reading the clock costs tens of nanoseconds; every 8th operation is enough.
            if ops.is_multiple_of(8) && start.elapsed() >= settings.round {
                break;
            }
        }
        rounds.push(f64::from(ops) / start.elapsed().as_secs_f64());
    }
    let mut sorted = rounds.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(Rate {
        bench,
        name,
        ops_per_sec: sorted[sorted.len() / 2],
        rounds,
    })
}

/// The verifier's request for `presentation` at `now`.
fn request(presentation: &str, now: i64) -> VerifyRequest<'_> {
    VerifyRequest {
        presentation,
        nonce: NONCE,
        audience: AUDIENCE,
        now,
        accepted_types: &["CitizenCard"],
    }
}

/// Whether simin's full verifier accepts `presentation` over `state` at `now`.
pub fn check_presentation(
    state: &dyn StateView,
    presentation: &str,
    now: i64,
) -> anyhow::Result<()> {
    verify_presentation(state, &request(presentation, now))?;
    Ok(())
}

/// The issuer's public key (the key of the fixture DID).
pub fn issuer_jwk_ed25519() -> VerifyingKey {
    ed25519_dalek::SigningKey::from_bytes(&world::ISSUER_SEED).verifying_key()
}

/// The issuer's public key as a JWK.
pub fn issuer_jwk() -> Jwk {
    Jwk::from_ed25519(&issuer_jwk_ed25519())
}

/// The SD-JWT options simin's verifier uses.
pub fn sd_jwt_options(now: i64) -> VerifyOptions {
    VerifyOptions {
        expected_typ: Some(TYP_SD_JWT_VC.to_owned()),
        ..VerifyOptions::new(now).with_key_binding(NONCE, AUDIENCE)
    }
}

/// (a) simin's full verifier: issuer key from state, SD-JWT, schema, accreditation and
/// status, over the cached state.
pub fn simin_full(
    settings: Settings,
    state: &dyn StateView,
    presentations: &[String],
    now: i64,
) -> anyhow::Result<Rate> {
    rate(
        "sd_jwt",
        "simin verify_presentation",
        settings,
        presentations.len(),
        |i| black_box(verify_presentation(state, &request(&presentations[i], now))).is_ok(),
    )
}

/// (b) simin's SD-JWT verification alone, with the issuer's key given.
pub fn simin_sd_jwt(
    settings: Settings,
    presentations: &[String],
    now: i64,
) -> anyhow::Result<Rate> {
    let key = issuer_jwk();
    let options = sd_jwt_options(now);
    rate(
        "sd_jwt",
        "simin sd_jwt::verify",
        settings,
        presentations.len(),
        |i| black_box(sd_jwt::verify(&presentations[i], &key, &options)).is_ok(),
    )
}

/// What the SD-JWT floor works on, decoded beforehand.
pub struct FloorItem {
    issuer_input: Vec<u8>,
    issuer_signature: Signature,
    kb_input: Vec<u8>,
    kb_signature: Signature,
    holder: VerifyingKey,
    disclosures: Vec<String>,
    sd_hash_input: Vec<u8>,
}

/// Splits a compact JWS into its signing input and signature.
fn jws_parts(jws: &str) -> anyhow::Result<(Vec<u8>, Signature)> {
    let (input, signature) = jws.rsplit_once('.').context("a JWS has a signature")?;
    let signature = jose::b64url_decode(signature, "signature")?;
    Ok((
        input.as_bytes().to_vec(),
        Signature::from_slice(&signature)?,
    ))
}

/// Decodes a presentation into the floor's inputs.
pub fn floor_item(presentation: &str) -> anyhow::Result<FloorItem> {
    let (sd_jwt, kb_jwt) = presentation
        .rsplit_once('~')
        .context("a presentation ends with a KB-JWT")?;
    let mut parts = sd_jwt.split('~');
    let issuer_jwt = parts.next().context("an issuer JWT")?;
    let disclosures: Vec<String> = parts.map(str::to_owned).collect();
    let (issuer_input, issuer_signature) = jws_parts(issuer_jwt)?;
    let (kb_input, kb_signature) = jws_parts(kb_jwt)?;
    let (_, payload) = jose::decode_compact_unverified(issuer_jwt)?;
    let holder = match Jwk::from_json(&payload["cnf"]["jwk"])? {
        Jwk::Ed25519(key) => key,
        Jwk::P256(_) => anyhow::bail!("the fixtures' holder keys are Ed25519"),
    };
    Ok(FloorItem {
        issuer_input,
        issuer_signature,
        kb_input,
        kb_signature,
        holder,
        disclosures,
        sd_hash_input: format!("{sd_jwt}~").into_bytes(),
    })
}

/// (d) The floor: the issuer's and the holder's `verify_strict` and the SHA-256 of every
/// disclosure and of the `sd_hash` input, on bytes decoded beforehand.
pub fn sd_jwt_floor(settings: Settings, presentations: &[String]) -> anyhow::Result<Rate> {
    let items = presentations
        .iter()
        .map(|p| floor_item(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let issuer = issuer_jwk_ed25519();
    rate("sd_jwt", "floor", settings, items.len(), |i| {
        let item = &items[i];
        let issuer_ok = item.verify_issuer(&issuer);
        let holder_ok = item.verify_holder();
        item.digests();
        issuer_ok && holder_ok
    })
}

/// The floor with both signatures checked in one `verify_batch` (cofactored, not
/// strict): what batching the two checks would save, for the analysis only.
pub fn sd_jwt_floor_batch(settings: Settings, presentations: &[String]) -> anyhow::Result<Rate> {
    let items = presentations
        .iter()
        .map(|p| floor_item(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let issuer = issuer_jwk_ed25519();
    rate(
        "sd_jwt",
        "floor, batched (verify_batch of both signatures)",
        settings,
        items.len(),
        |i| {
            let item = &items[i];
            let ok = ed25519_dalek::verify_batch(
                &[&item.issuer_input, &item.kb_input],
                &[item.issuer_signature, item.kb_signature],
                &[issuer, item.holder],
            )
            .is_ok();
            item.digests();
            ok
        },
    )
}

impl FloorItem {
    /// The issuer's signature over the issuer-signed JWT.
    pub fn verify_issuer(&self, issuer: &VerifyingKey) -> bool {
        issuer
            .verify_strict(&self.issuer_input, &self.issuer_signature)
            .is_ok()
    }

    /// The holder's signature over the Key Binding JWT.
    pub fn verify_holder(&self) -> bool {
        self.holder
            .verify_strict(&self.kb_input, &self.kb_signature)
            .is_ok()
    }

    /// SHA-256 of every disclosure and of the `sd_hash` input.
    pub fn digests(&self) {
        for disclosure in &self.disclosures {
            black_box(Sha256::digest(disclosure.as_bytes()));
        }
        black_box(Sha256::digest(&self.sd_hash_input));
    }
}

/// The key a credential's proof names, if it is a `did:key` of the credential's issuer.
pub fn resolve_issuer_key(credential: &Value, verification_method: &str) -> Option<VerifyingKey> {
    let issuer = credential.get("issuer")?.as_str()?;
    let (did, _) = verification_method.split_once('#')?;
    if did != issuer {
        return None;
    }
    did_key::resolve_did_key(verification_method).ok()
}

/// (e) simin's eddsa-jcs-2022 verification of the fixture credentials (parsed JSON).
pub fn simin_di(settings: Settings, credentials: &[Value]) -> anyhow::Result<Rate> {
    rate(
        "di",
        "simin di::verify_proof_jcs",
        settings,
        credentials.len(),
        |i| {
            let credential = &credentials[i];
            black_box(di::verify_proof_jcs(credential, |vm| {
                resolve_issuer_key(credential, vm)
            }))
            .is_ok()
        },
    )
}

/// What the Data Integrity floor works on: the document without its proof, the proof
/// configuration, the key and the signature, decoded beforehand.
struct DiFloorItem {
    document: Map<String, Value>,
    proof_config: Map<String, Value>,
    key: VerifyingKey,
    signature: Signature,
}

fn di_floor_item(credential: &Value) -> anyhow::Result<DiFloorItem> {
    let mut document = credential
        .as_object()
        .context("a credential is an object")?
        .clone();
    let mut proof_config = match document.remove("proof") {
        Some(Value::Object(proof)) => proof,
        _ => anyhow::bail!("the credential has one proof"),
    };
    let proof_value = match proof_config.remove("proofValue") {
        Some(Value::String(text)) => text,
        _ => anyhow::bail!("the proof has a proofValue"),
    };
    let signature = bs58::decode(proof_value.strip_prefix('z').context("base58btc")?)
        .into_vec()
        .context("base58btc")?;
    let vm = proof_config["verificationMethod"]
        .as_str()
        .context("verificationMethod")?;
    Ok(DiFloorItem {
        key: did_key::resolve_did_key(vm)?,
        signature: Signature::from_slice(&signature)?,
        document,
        proof_config,
    })
}

/// (e) The floor: JCS of the document and of the proof configuration, their SHA-256,
/// and one `verify_strict`.
pub fn di_floor(settings: Settings, credentials: &[Value]) -> anyhow::Result<Rate> {
    let items = credentials
        .iter()
        .map(di_floor_item)
        .collect::<anyhow::Result<Vec<_>>>()?;
    rate("di", "floor", settings, items.len(), |i| {
        let item = &items[i];
        let (Ok(document), Ok(config)) = (
            serde_json_canonicalizer::to_vec(&item.document),
            serde_json_canonicalizer::to_vec(&item.proof_config),
        ) else {
            return false;
        };
        let mut signed = [0u8; 64];
        signed[..32].copy_from_slice(&Sha256::digest(config));
        signed[32..].copy_from_slice(&Sha256::digest(document));
        item.key.verify_strict(&signed, &item.signature).is_ok()
    })
}

//! The shared fixtures: `count` presentations of distinct CitizenCards and `count`
//! eddsa-jcs-2022 W3C credentials, written to a directory that every verifier (simin,
//! sd-jwt-rs, @sd-jwt, sd-jwt-python, @digitalbazaar/vc) reads, so they all verify the
//! same bytes.
//!
//! Files:
//! - `presentations.txt`: one SD-JWT+KB (`<jwt>~<d1>~<d2>[~<d3>]~<kb-jwt>`) per line;
//! - `vcs.json`: an array of VC Data Model 2.0 credentials, each with one
//!   `DataIntegrityProof` (`eddsa-jcs-2022`) by a `did:key` issuer;
//! - `meta.json`: what a verifier needs besides: the issuer's public JWK, nonce,
//!   audience, the verifier's time, and the VC issuer's key (see [`Meta`]).
//!
//! Keys and salts come from fixed seeds, so only `now` changes between runs.

use std::path::Path;

use anyhow::Context;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use simin_identity::card::{self, CardIssue};
use simin_identity::di::{self, ProofOptions};
use simin_identity::did_key;
use simin_identity::jose::JwsSigner;
use simin_identity::sd_jwt::{self, KeyBindingRequest, PathElement};
use simin_identity::status_list::{BitstringStatusListEntry, StatusPurpose};

use crate::world::{self, World};

/// The nonce the verifier handed out, and its identifier (`aud`).
pub const NONCE: &str = "n-0S6_WzA2Mj-simin-bench";
pub const AUDIENCE: &str = "https://library.mapo.go.kr";
/// The most presentations a fixture holds (status indexes stay inside the lists).
pub const COUNT_MAX: usize = 50_000;
/// The first status index of the fixture cards.
const STATUS_INDEX_FIRST: u32 = 10_000;
/// The seed of the VC issuer's `did:key`.
const VC_ISSUER_SEED: [u8; 32] = [21; 32];

/// The claim sets the holders disclose, in turn: two or three claims each.
const DISCLOSED: [&[&str]; 3] = [
    &["age_over_19", "resident_district"],
    &["name", "birthdate", "age_over_19"],
    &["card_number", "resident_district", "age_over_65"],
];
const DISTRICTS: [&str; 5] = [
    "Mapo-gu",
    "Jongno-gu",
    "Gangnam-gu",
    "Seodaemun-gu",
    "Nowon-gu",
];

/// What `meta.json` holds.
pub struct Meta {
    /// The verifier's time, Unix seconds; the cards were issued a day earlier.
    pub now: i64,
    /// The genesis time of the fixture chain, Unix milliseconds.
    pub genesis_ms: u64,
}

/// Writes the fixtures for `count` cards, with the verifier's time `now`.
pub fn write(dir: &Path, count: usize, now: i64) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=COUNT_MAX).contains(&count),
        "count must be 1 to {COUNT_MAX}"
    );
    let now_ms = u64::try_from(now).context("now is before 1970")? * 1000;
    let genesis_ms = now_ms - 86_400_000;
    let iat = genesis_ms / 1000 + 60;
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    // The state is built here only to check that every presentation verifies.
    let world = World::new(genesis_ms)?;
    let issuer = JwsSigner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&world::ISSUER_SEED));

    let mut presentations = String::new();
    for i in 0..count {
        let shown = presentation(&issuer, i, iat, now)?;
        crate::measure::check_presentation(&world.state, &shown, now)
            .with_context(|| format!("presentation {i} does not verify"))?;
        presentations.push_str(&shown);
        presentations.push('\n');
    }
    write_file(dir, "presentations.txt", &presentations)?;

    let vc_key = ed25519_dalek::SigningKey::from_bytes(&VC_ISSUER_SEED);
    let vcs = (0..count)
        .map(|i| credential(&vc_key, i, iat))
        .collect::<anyhow::Result<Vec<_>>>()?;
    write_file(dir, "vcs.json", &serde_json::to_string(&vcs)?)?;

    let meta = json!({
        "now": now,
        "genesis_ms": genesis_ms,
        "count": count,
        "nonce": NONCE,
        "audience": AUDIENCE,
        "issuer": {
            "iss": world::ISSUER_DID,
            "kid": world::ISSUER_KID,
            "jwk": issuer.public_jwk().to_json(),
        },
        "vc_issuer": {
            "did": did_key::did_key_from_ed25519(&vc_key.verifying_key()),
            "verification_method": did_key::did_key_verification_method(&vc_key.verifying_key()),
            "public_key_multibase": did_key::ed25519_multikey(&vc_key.verifying_key()),
            // A benchmark key from a fixed seed, published so that the JS peer can sign
            // the same credential with eddsa-rdfc-2022 for the reference figure.
            "secret_key_multibase": secret_multikey(&vc_key),
        },
    });
    write_file(dir, "meta.json", &serde_json::to_string_pretty(&meta)?)?;
    Ok(())
}

/// Reads `meta.json`'s times.
pub fn read_meta(dir: &Path) -> anyhow::Result<Meta> {
    let text = std::fs::read_to_string(dir.join("meta.json")).context("read meta.json")?;
    let meta: Value = serde_json::from_str(&text).context("parse meta.json")?;
    Ok(Meta {
        now: meta["now"].as_i64().context("meta.json: now")?,
        genesis_ms: meta["genesis_ms"]
            .as_u64()
            .context("meta.json: genesis_ms")?,
    })
}

/// Reads `presentations.txt`.
pub fn read_presentations(dir: &Path) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(dir.join("presentations.txt")).context("read presentations.txt")?;
    Ok(text.lines().map(str::to_owned).collect())
}

/// Reads `vcs.json`.
pub fn read_credentials(dir: &Path) -> anyhow::Result<Vec<Value>> {
    let text = std::fs::read_to_string(dir.join("vcs.json")).context("read vcs.json")?;
    serde_json::from_str(&text).context("parse vcs.json")
}

/// Card `i`, issued at `iat` to holder `i` and presented at `now` with one of the
/// [`DISCLOSED`] claim sets.
fn presentation(issuer: &JwsSigner, i: usize, iat: u64, now: i64) -> anyhow::Result<String> {
    let holder = JwsSigner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed("holder", i)));
    let status_index = STATUS_INDEX_FIRST + u32::try_from(i).context("index")?;
    anyhow::ensure!(!world::is_revoked_elsewhere(status_index));
    let status = [StatusPurpose::Revocation, StatusPurpose::Suspension]
        .into_iter()
        .enumerate()
        .map(|(list, purpose)| {
            BitstringStatusListEntry::new(
                None,
                purpose,
                usize::try_from(status_index).expect("a u32 fits a usize on supported targets"),
                format!("{}/status/{list}", world::ISSUER_DID),
            )
        })
        .collect();
    let request = CardIssue {
        vct: "CitizenCard".into(),
        iss: world::ISSUER_DID.into(),
        kid: world::ISSUER_KID.into(),
        claims: citizen(i),
        holder_jwk: holder.public_jwk(),
        iat,
        exp: iat + 5 * 365 * 86_400,
        status,
    };
    let mut salt_counter = 0usize;
    let issued = card::issue_sd_jwt_vc(&request, issuer, &mut || {
        salt_counter += 1;
        URL_SAFE_NO_PAD.encode(&seed(&format!("salt-{salt_counter}"), i)[..16])
    })?;
    let paths: Vec<Vec<PathElement>> = DISCLOSED[i % DISCLOSED.len()]
        .iter()
        .map(|name| vec![PathElement::from(*name)])
        .collect();
    Ok(sd_jwt::present(
        &issued,
        &paths,
        Some(&KeyBindingRequest {
            signer: &holder,
            audience: AUDIENCE,
            nonce: NONCE,
            issued_at: now - 5,
        }),
    )?)
}

/// The user claims of citizen `i`.
fn citizen(i: usize) -> Map<String, Value> {
    let digest = Sha256::digest(format!("photo-{i}"));
    let photo: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let year = 1940 + i % 70;
    let claims = json!({
        "name": format!("Citizen {i}"),
        "birthdate": format!("{year}-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
        "resident_district": DISTRICTS[i % DISTRICTS.len()],
        "photo_sha256": photo,
        "card_number": format!("SC-2026-{i:06}"),
        "age_over_14": true,
        "age_over_19": year <= 2007,
        "age_over_65": year <= 1961,
    });
    match claims {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

/// VC `i`: a VC Data Model 2.0 credential about holder `i`, secured with eddsa-jcs-2022.
fn credential(key: &ed25519_dalek::SigningKey, i: usize, iat: u64) -> anyhow::Result<Value> {
    let holder = ed25519_dalek::SigningKey::from_bytes(&seed("holder", i));
    let issued = rfc3339(iat)?;
    let unsecured = json!({
        // The second context maps the subject's terms (JSON-LD processors, as the
        // eddsa-rdfc-2022 reference in the JS peer, refuse undefined terms).
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/ns/credentials/undefined-terms/v2"
        ],
        "id": format!("urn:simin:bench:credential:{i}"),
        "type": ["VerifiableCredential", "CitizenCardCredential"],
        "issuer": did_key::did_key_from_ed25519(&key.verifying_key()),
        "validFrom": issued,
        "credentialSubject": {
            "id": did_key::did_key_from_ed25519(&holder.verifying_key()),
            "residentDistrict": DISTRICTS[i % DISTRICTS.len()],
            "ageOver19": true,
        },
    });
    let options = ProofOptions {
        verification_method: did_key::did_key_verification_method(&key.verifying_key()),
        proof_purpose: "assertionMethod".into(),
        created: Some(issued),
        ..ProofOptions::default()
    };
    Ok(di::create_proof_jcs(&unsecured, &options, key)?)
}

/// A 32-byte seed from a label and an index.
fn seed(label: &str, i: usize) -> [u8; 32] {
    Sha256::digest(format!("simin-bench/{label}/{i}")).into()
}

/// `secretKeyMultibase` of an Ed25519 key: `z` + base58btc of `0x80 0x26` and the seed.
fn secret_multikey(key: &ed25519_dalek::SigningKey) -> String {
    let mut bytes = vec![0x80, 0x26];
    bytes.extend_from_slice(key.as_bytes());
    format!("z{}", bs58::encode(bytes).into_string())
}

/// An XML Schema dateTimeStamp (RFC 3339, UTC, seconds) of Unix seconds.
fn rfc3339(unix: u64) -> anyhow::Result<String> {
    let time = time::OffsetDateTime::from_unix_timestamp(i64::try_from(unix)?)?;
    Ok(time.format(&time::format_description::well_known::Rfc3339)?)
}

fn write_file(dir: &Path, name: &str, text: &str) -> anyhow::Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::measure::{self, Settings};
    use crate::profile;

    #[test]
    fn every_verifier_and_floor_accepts_the_fixtures_and_the_floor_refuses_a_forgery() {
        let dir = tempfile::tempdir().expect("a temp dir");
        write(dir.path(), 3, 1_800_000_000).expect("fixtures");
        let meta = read_meta(dir.path()).expect("meta");
        let presentations = read_presentations(dir.path()).expect("presentations");
        let credentials = read_credentials(dir.path()).expect("credentials");
        assert_eq!((presentations.len(), credentials.len()), (3, 3));
        let world = World::new(meta.genesis_ms).expect("state");
        let quick = Settings {
            warmup: Duration::ZERO,
            round: Duration::from_millis(1),
            rounds: 1,
        };
        measure::simin_full(quick, &world.state, &presentations, meta.now).expect("full");
        measure::simin_sd_jwt(quick, &presentations, meta.now).expect("sd_jwt");
        measure::sd_jwt_floor(quick, &presentations).expect("floor");
        measure::sd_jwt_floor_batch(quick, &presentations).expect("batched floor");
        measure::simin_di(quick, &credentials).expect("di");
        measure::di_floor(quick, &credentials).expect("di floor");
        let stages = profile::stages(quick, &world.state, &presentations, meta.now)
            .expect("every stage succeeds");
        assert!(stages.iter().all(|s| s.micros > 0.0));
        let di_stages = profile::di_stages(quick, &credentials).expect("every DI stage succeeds");
        assert!(di_stages.iter().all(|s| s.micros > 0.0));

        // A presentation whose issuer signature is altered fails the floor.
        let (jwt, rest) = presentations[0].split_once('~').expect("disclosures");
        let mut forged = jwt.to_owned();
        let last = forged.pop().expect("a signature");
        forged.push(if last == 'A' { 'Q' } else { 'A' });
        let item = measure::floor_item(&format!("{forged}~{rest}")).expect("decodes");
        assert!(!item.verify_issuer(&measure::issuer_jwk_ed25519()));
        assert!(measure::floor_item(&presentations[0])
            .expect("decodes")
            .verify_issuer(&measure::issuer_jwk_ed25519()));
    }
}

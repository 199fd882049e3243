//! Verifies the shared presentations with `sd-jwt-rs` (issuer signature, disclosures,
//! Key Binding JWT with nonce, audience and sd_hash), on the calling thread, and prints
//! the rate as one line of JSON. Same timing as `simin-bench measure`: a warm-up, then
//! rounds over the presentations in turn, the median round reported.
//!
//!   simin-bench-peer-sd-jwt-rs DIR [WARMUP_MS] [ROUND_MS] [ROUNDS]

use std::hint::black_box;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::DecodingKey;
use sd_jwt_rs::{SDJWTSerializationFormat, SDJWTVerifier};
use serde_json::Value;

fn arg(index: usize, default: u64) -> u64 {
    std::env::args()
        .nth(index)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: DIR [WARMUP_MS] [ROUND_MS] [ROUNDS]");
    let warmup = Duration::from_millis(arg(2, 1000));
    let round = Duration::from_millis(arg(3, 2000));
    let rounds = arg(4, 3).max(1);
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}/meta.json")).expect("meta.json"),
    )
    .expect("meta.json is JSON");
    let presentations: Vec<String> = std::fs::read_to_string(format!("{dir}/presentations.txt"))
        .expect("presentations.txt")
        .lines()
        .map(str::to_owned)
        .collect();
    let issuer_jwk: Jwk =
        serde_json::from_value(meta["issuer"]["jwk"].clone()).expect("the issuer's JWK");
    let issuer_key = DecodingKey::from_jwk(&issuer_jwk).expect("an Ed25519 JWK");
    let expected_iss = meta["issuer"]["iss"].as_str().expect("iss").to_owned();
    let audience = meta["audience"].as_str().expect("audience").to_owned();
    let nonce = meta["nonce"].as_str().expect("nonce").to_owned();

    let verify = |presentation: &str| -> bool {
        let key = issuer_key.clone();
        let iss = expected_iss.clone();
        // The issuer key callback is where a verifier looks the issuer up; here it only
        // checks that the presentation names the fixture issuer.
        let resolver = Box::new(move |issuer: &str, _header: &jsonwebtoken::Header| {
            assert_eq!(issuer, iss, "an unexpected issuer");
            key.clone()
        });
        let verified = SDJWTVerifier::new(
            presentation.to_owned(),
            resolver,
            Some(audience.clone()),
            Some(nonce.clone()),
            SDJWTSerializationFormat::Compact,
        );
        match verified {
            Ok(v) => black_box(v.verified_claims).is_object(),
            Err(e) => {
                eprintln!("sd-jwt-rs refused a presentation: {e}");
                false
            }
        }
    };

    let mut next = 0usize;
    let mut step = || {
        assert!(
            verify(&presentations[next % presentations.len()]),
            "a presentation did not verify"
        );
        next += 1;
    };
    let start = Instant::now();
    while start.elapsed() < warmup {
        step();
    }
    let mut rates = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        let mut ops = 0u32;
        loop {
            step();
            ops += 1;
            if ops.is_multiple_of(8) && start.elapsed() >= round {
                break;
            }
        }
        rates.push(f64::from(ops) / start.elapsed().as_secs_f64());
    }
    let mut sorted = rates.clone();
    sorted.sort_by(f64::total_cmp);
    let line = serde_json::json!({
        "bench": "sd_jwt",
        "name": "sd-jwt-rs 0.7.1",
        "impl": "sd-jwt-rs 0.7.1 (Rust; jsonwebtoken 9 + ring)",
        "alg": "EdDSA",
        "ops_per_sec": sorted[sorted.len() / 2].round(),
        "rounds": rates.iter().map(|r| r.round()).collect::<Vec<_>>(),
    });
    println!("{line}");
}

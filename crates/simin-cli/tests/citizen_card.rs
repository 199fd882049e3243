//! The citizen card end to end with the binary against a real devnet process, as a city
//! clerk, a citizen and a library would use it: the clerk offers a card, the wallet
//! redeems it (proving its key), the citizen presents two claims to the library, the
//! library verifies them with proofs against the validators, then the clerk suspends,
//! reinstates and revokes the card, and verification follows each step.

mod common;

use std::path::Path;
use std::process::Output;

use common::*;

const AUDIENCE: &str = "https://library.mapo.go.kr";

/// `simin` with the devnet, the issuer and the wallet of this test.
fn run(home: &Path, data_dir: &Path, node: &str, issuer: &str, args: &[&str]) -> Output {
    command(home, data_dir)
        .env("SIMIN_ISSUER", issuer)
        .env("SIMIN_WALLET_DIR", home.join("wallet"))
        .env("SIMIN_WALLET_PASSPHRASE", "correct horse battery staple")
        .env_remove("SIMIN_ISSUER_ADMIN_TOKEN")
        .arg("--node")
        .arg(node)
        .args(args)
        .output()
        .expect("simin runs")
}

fn json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", text(output));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[test]
fn offer_receive_present_verify_suspend_reinstate_revoke() {
    let home = tempfile::tempdir().expect("a temp dir");
    let data_dir = home.path().join("devnet");
    let api = format!("127.0.0.1:{}", free_port());
    let issuer_addr = format!("127.0.0.1:{}", free_port());
    let (node, issuer) = (format!("http://{api}"), format!("http://{issuer_addr}"));
    let (h, d) = (home.path(), data_dir.as_path());
    let simin = |args: &[&str]| run(h, d, &node, &issuer, args);

    let devnet = Devnet::start_with_issuer(h, d, &api, &issuer_addr);
    devnet.wait_ready();

    // The clerk offers a citizen card (the admin token is the devnet issuer's).
    let claims = home.path().join("claims.json");
    std::fs::write(
        &claims,
        r#"{"name": "Kim Minji", "birthdate": "1990-05-01", "resident_district": "Mapo-gu",
            "photo_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "card_number": "SC-2026-000123",
            "age_over_14": true, "age_over_19": true, "age_over_65": false}"#,
    )
    .expect("writes");
    let claims = claims.to_str().expect("utf-8 path");
    // Claims outside the schema are refused before any offer exists.
    let bad = home.path().join("bad.json");
    std::fs::write(&bad, r#"{"name": "Kim Minji", "age_over_19": "yes"}"#).expect("writes");
    let refused = simin(&[
        "issuer",
        "offer",
        "--type",
        "CitizenCard",
        "--claims",
        bad.to_str().expect("utf-8"),
    ]);
    assert!(!refused.status.success(), "{}", text(&refused));

    // The devnet is ready: its issuer's status lists are on chain, so it offers at once.
    let offer = json(&simin(&[
        "--json",
        "issuer",
        "offer",
        "--type",
        "CitizenCard",
        "--claims",
        claims,
    ]));
    let uri = offer["credential_offer_uri"]
        .as_str()
        .expect("an offer URI");
    let status_ref = offer["offer_id"].as_str().expect("an offer id").to_owned();
    assert!(
        uri.starts_with("openid-credential-offer://?credential_offer="),
        "{uri}"
    );

    // The citizen's wallet redeems it and keeps it encrypted.
    json(&simin(&["--json", "wallet", "create"]));
    let received = json(&simin(&["--json", "wallet", "receive", uri]));
    let id = received["credentials"][0]["id"]
        .as_str()
        .or_else(|| received["id"].as_str())
        .unwrap_or_else(|| panic!("a credential id in {received}"))
        .to_owned();
    // An offer is redeemed once.
    let again = simin(&["wallet", "receive", uri]);
    assert!(!again.status.success(), "{}", text(&again));

    // The library asks for age and district; the wallet discloses those two only.
    let presentation = home.path().join("presentation.txt");
    let p = presentation.to_str().expect("utf-8 path");
    let shown = simin(&[
        "wallet",
        "present",
        &id,
        "--nonce",
        "n-1",
        "--audience",
        AUDIENCE,
        "--disclose",
        "age_over_19,resident_district",
        "--out",
        p,
    ]);
    assert!(shown.status.success(), "{}", text(&shown));
    let verify = |nonce: &str| {
        simin(&[
            "--json",
            "verify",
            p,
            "--nonce",
            nonce,
            "--audience",
            AUDIENCE,
        ])
    };
    let verdict = json(&verify("n-1"));
    assert_eq!(verdict["verified"], true, "{verdict}");
    assert_eq!(
        verdict["claims"],
        serde_json::json!({"age_over_19": true, "resident_district": "Mapo-gu"})
    );
    // The issuer-signed JWT, the two chosen disclosures and the key binding JWT: the
    // other six claims are not in the presentation at all.
    let text_of = std::fs::read_to_string(&presentation).expect("reads");
    assert_eq!(text_of.trim().split('~').count(), 4, "{text_of}");

    let rejected = |output: Output, reason: &str| {
        assert_eq!(output.status.code(), Some(1), "{}", text(&output));
        let verdict: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("a JSON verdict");
        assert_eq!(verdict["verified"], false, "{verdict}");
        assert_eq!(verdict["reason"], reason, "{verdict}");
    };
    // Replayed to another session of the verifier.
    rejected(verify("n-2"), "wrong_nonce");

    // Lost phone: suspended; found: reinstated; then revoked for good.
    let status = |action: &str| {
        let output = simin(&["issuer", action, &status_ref]);
        assert!(output.status.success(), "{}", text(&output));
    };
    status("suspend");
    rejected(verify("n-1"), "suspended");
    status("reinstate");
    assert_eq!(json(&verify("n-1"))["verified"], true);
    status("revoke");
    rejected(verify("n-1"), "revoked");
    // A revocation is final.
    let output = simin(&["issuer", "reinstate", &status_ref]);
    assert!(!output.status.success(), "{}", text(&output));
    rejected(verify("n-1"), "revoked");
}

//! `simin wallet` end to end with the binary: create a wallet, store a card issued in
//! the test (bound to the wallet's key), list, show, present a subset of its claims
//! and check the presentation with the SD-JWT verifier, remove; and the errors a
//! citizen can make.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use ed25519_dalek::SigningKey;
use rand::rngs::OsRng;
use serde_json::{json, Map, Value};
use simin_identity::jose::{Jwk, JwsSigner};
use simin_identity::sd_jwt::{self, IssueRequest, JsonStyle, PathElement, SdPolicy, VerifyOptions};
use simin_wallet::{CredentialRecord, Holder, WalletStore};

const PASSPHRASE: &str = "correct horse battery staple";
const ISSUER: &str = "did:simin:seoul.agency";

/// Runs `simin` with a private HOME, the test passphrase and the wallet in `wallet`.
fn simin(home: &Path, wallet: &Path, passphrase: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_simin"));
    command
        .args(args)
        .env("HOME", home)
        .env("SIMIN_WALLET_DIR", wallet)
        .env_remove("SIMIN_NODE")
        .env_remove("SIMIN_WALLET_PASSPHRASE")
        .env_remove("RUST_LOG");
    if let Some(passphrase) = passphrase {
        command.env("SIMIN_WALLET_PASSPHRASE", passphrase);
    }
    command.output().expect("the simin binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json_of(output: &Output) -> Value {
    assert!(output.status.success(), "{}", stderr(output));
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

fn issuer_key() -> SigningKey {
    SigningKey::from_bytes(&[0x15; 32])
}

/// A card of the simin profile for `holder`, every user claim disclosable.
fn issue_card(holder: &Jwk) -> String {
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(ISSUER));
    claims.insert("iat".into(), json!(1_790_000_000));
    claims.insert("exp".into(), json!(4_000_000_000u64));
    claims.insert("vct".into(), json!("CitizenCard"));
    let mut policy = SdPolicy::plain();
    for (name, value) in [
        ("name", json!("Kim Ji-woo")),
        ("birthdate", json!("1990-04-01")),
        ("resident_district", json!("Mapo-gu")),
    ] {
        claims.insert(name.into(), value);
        policy = policy.member(name, SdPolicy::sd());
    }
    let mut header = Map::new();
    header.insert("typ".into(), json!("dc+sd-jwt"));
    header.insert("kid".into(), json!(format!("{ISSUER}#key-1")));
    let mut n = 0;
    sd_jwt::issue(
        &IssueRequest {
            claims: &claims,
            policy: &policy,
            header: &header,
            holder_key: Some(holder),
            style: JsonStyle::Compact,
        },
        &JwsSigner::Ed25519(issuer_key()),
        &mut || {
            n += 1;
            format!("cli-test-salt-{n}")
        },
    )
    .expect("issues")
    .sd_jwt
}

#[test]
fn create_store_list_show_present_remove() {
    let home = tempfile::tempdir().expect("a temp dir");
    let wallet = home.path().join("wallet");
    let w = wallet.as_path();

    let created = simin(home.path(), w, Some(PASSPHRASE), &["wallet", "create"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let did = stdout(&created)
        .lines()
        .find_map(|l| l.strip_prefix("holder: ").map(str::to_owned))
        .expect("the holder DID is printed");
    assert!(did.starts_with("did:jwk:"), "{did}");
    let again = simin(home.path(), w, Some(PASSPHRASE), &["wallet", "create"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    let shown = json_of(&simin(
        home.path(),
        w,
        Some(PASSPHRASE),
        &["--json", "wallet", "did"],
    ));
    assert_eq!(shown["holder_did"], json!(did));

    // The card is stored through the library, as `receive` would after its checks.
    let id = {
        let mut store = WalletStore::open(w, PASSPHRASE).expect("the CLI's wallet opens");
        let holder = Holder::from_store(&store);
        assert_eq!(holder.did(), did);
        let record = CredentialRecord {
            format: "dc+sd-jwt".into(),
            credential: issue_card(holder.jwk()),
            type_name: "CitizenCard".into(),
            issuer: ISSUER.into(),
            received_at: 1_790_000_100,
            label: None,
        };
        store
            .put_credential(&record, &mut OsRng)
            .expect("stored")
            .to_string()
    };

    let listed = json_of(&simin(
        home.path(),
        w,
        Some(PASSPHRASE),
        &["--json", "wallet", "list"],
    ));
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["id"], json!(id));
    assert_eq!(listed[0]["type_name"], json!("CitizenCard"));
    let text = stdout(&simin(
        home.path(),
        w,
        Some(PASSPHRASE),
        &["wallet", "list"],
    ));
    assert!(text.contains(&id) && text.contains("CitizenCard"), "{text}");

    let card = json_of(&simin(
        home.path(),
        w,
        Some(PASSPHRASE),
        &["--json", "wallet", "show", &id],
    ));
    assert_eq!(card["issuer"], json!(ISSUER));
    assert_eq!(card["claims"]["name"], json!("Kim Ji-woo"));
    assert_eq!(card["claims"]["birthdate"], json!("1990-04-01"));
    assert_eq!(card["claims"]["resident_district"], json!("Mapo-gu"));

    let presented = simin(
        home.path(),
        w,
        Some(PASSPHRASE),
        &[
            "wallet",
            "present",
            &id,
            "--nonce",
            "n-123",
            "--audience",
            "https://verifier.example",
            "--disclose",
            "name,birthdate",
        ],
    );
    assert!(presented.status.success(), "{}", stderr(&presented));
    let presentation = stdout(&presented).trim().to_owned();
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs(),
    )
    .expect("fits");
    let options = VerifyOptions::new(now).with_key_binding("n-123", "https://verifier.example");
    let verified = sd_jwt::verify(
        &presentation,
        &Jwk::Ed25519(issuer_key().verifying_key()),
        &options,
    )
    .expect("the presentation verifies");
    let mut disclosed = verified.disclosed_paths.clone();
    disclosed.sort();
    assert_eq!(
        disclosed,
        vec![
            vec![PathElement::from("birthdate")],
            vec![PathElement::from("name")]
        ]
    );
    assert!(verified.claims.get("resident_district").is_none());

    let out = home.path().join("presentation.txt");
    let written = simin(
        home.path(),
        w,
        Some(PASSPHRASE),
        &[
            "wallet",
            "present",
            &id,
            "--nonce",
            "n",
            "--audience",
            "a",
            "--disclose",
            "name",
            "--out",
            out.to_str().expect("UTF-8"),
        ],
    );
    assert!(written.status.success(), "{}", stderr(&written));
    let mode = std::fs::metadata(&out)
        .expect("written")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "a presentation is personal data");
    assert!(std::fs::read_to_string(&out).expect("reads").contains('~'));

    let unknown = simin(
        home.path(),
        w,
        Some(PASSPHRASE),
        &[
            "wallet",
            "present",
            &id,
            "--nonce",
            "n",
            "--audience",
            "a",
            "--disclose",
            "nationality",
        ],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no claim \"nationality\""),
        "{}",
        stderr(&unknown)
    );

    let removed = simin(home.path(), w, Some(PASSPHRASE), &["wallet", "remove", &id]);
    assert!(removed.status.success(), "{}", stderr(&removed));
    let listed = json_of(&simin(
        home.path(),
        w,
        Some(PASSPHRASE),
        &["--json", "wallet", "list"],
    ));
    assert_eq!(listed, json!([]));
    let gone = simin(home.path(), w, Some(PASSPHRASE), &["wallet", "show", &id]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(stderr(&gone).contains("no credential"), "{}", stderr(&gone));
}

#[test]
fn a_citizen_s_mistakes_are_explained() {
    let home = tempfile::tempdir().expect("a temp dir");
    let wallet = home.path().join("wallet");
    let w = wallet.as_path();

    let missing = simin(home.path(), w, Some(PASSPHRASE), &["wallet", "list"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("simin wallet create"),
        "{}",
        stderr(&missing)
    );

    // Without the variable, and with no terminal to type on, there is no passphrase.
    let no_passphrase = simin(home.path(), w, None, &["wallet", "create"]);
    assert_eq!(no_passphrase.status.code(), Some(1));
    assert!(
        stderr(&no_passphrase).contains("SIMIN_WALLET_PASSPHRASE"),
        "{}",
        stderr(&no_passphrase)
    );

    let created = simin(home.path(), w, Some(PASSPHRASE), &["wallet", "create"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let wrong = simin(home.path(), w, Some("not it"), &["wallet", "list"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        stderr(&wrong).contains("wrong passphrase"),
        "{}",
        stderr(&wrong)
    );

    let bad_id = simin(
        home.path(),
        w,
        Some(PASSPHRASE),
        &["wallet", "show", "../../etc/passwd"],
    );
    assert_eq!(bad_id.status.code(), Some(1));
    assert!(
        stderr(&bad_id).contains("invalid credential id"),
        "{}",
        stderr(&bad_id)
    );

    let bad_offer = simin(
        home.path(),
        w,
        Some(PASSPHRASE),
        &["wallet", "receive", "https://example.com/?x=1"],
    );
    assert_eq!(bad_offer.status.code(), Some(1));
    assert!(
        stderr(&bad_offer).contains("credential offer"),
        "{}",
        stderr(&bad_offer)
    );

    // An offer that needs a transaction code, received without one and without a terminal.
    let offer = json!({
        "credential_issuer": "https://issuer.example",
        "credential_configuration_ids": ["CitizenCard"],
        "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {
            "pre-authorized_code": "c", "tx_code": {"length": 6, "description": "sent by SMS"}}},
    });
    let needs_code = simin(
        home.path(),
        w,
        Some(PASSPHRASE),
        &["wallet", "receive", &offer.to_string()],
    );
    assert_eq!(needs_code.status.code(), Some(1));
    let text = stderr(&needs_code);
    assert!(
        text.contains("transaction code")
            && text.contains("--tx-code")
            && text.contains("sent by SMS"),
        "{text}"
    );

    let usage = simin(
        home.path(),
        w,
        Some(PASSPHRASE),
        &["wallet", "present", "x"],
    );
    assert_eq!(usage.status.code(), Some(2), "{}", stderr(&usage));
}

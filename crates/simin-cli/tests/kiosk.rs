//! Facility check-in end to end against a real devnet: a library's kiosk syncs a proven
//! snapshot, then decides on wallets' check-in payloads with no node to ask (its node URL
//! is dead, and at the end the devnet is stopped): accepted with only the disclosed
//! claims, a replay refused, a tampered snapshot refused, a stale payload and a stale
//! snapshot refused, and a suspension seen only after the next sync.

mod common;

use std::path::Path;
use std::process::Output;

use common::*;
use serde_json::Value;

const FACILITY: &str = "mapo.library";
/// Nothing listens here: the kiosk's checks must not need a node.
const DEAD_NODE: &str = "http://127.0.0.1:9";

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

fn json(output: &Output) -> Value {
    assert!(output.status.success(), "{}", text(output));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

/// A refused decision: exit 1 and a JSON verdict with `reason`.
fn refused(output: &Output, reason: &str) -> Value {
    assert_eq!(output.status.code(), Some(1), "{}", text(output));
    let verdict: Value = serde_json::from_slice(&output.stdout).expect("a JSON verdict");
    assert_eq!(verdict["accepted"], false, "{verdict}");
    assert_eq!(verdict["reason"], reason, "{verdict}");
    verdict
}

fn unix_now() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    i64::try_from(secs).expect("in range")
}

#[test]
fn checkin_is_verified_offline_replays_tampering_and_staleness_are_refused() {
    let home = tempfile::tempdir().expect("a temp dir");
    let data_dir = home.path().join("devnet");
    let api = format!("127.0.0.1:{}", free_port());
    let issuer_addr = format!("127.0.0.1:{}", free_port());
    let (node, issuer) = (format!("http://{api}"), format!("http://{issuer_addr}"));
    let (h, d) = (home.path(), data_dir.as_path());
    let online = |args: &[&str]| run(h, d, &node, &issuer, args);
    let offline = |args: &[&str]| run(h, d, DEAD_NODE, &issuer, args);

    let mut devnet = Devnet::start_with_issuer(h, d, &api, &issuer_addr);
    devnet.wait_ready();

    // A citizen card, received into the wallet.
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
    let offer_args = [
        "--json",
        "issuer",
        "offer",
        "--type",
        "CitizenCard",
        "--claims",
        claims,
    ];
    // The devnet is ready: its issuer's status lists are on chain, so it offers at once.
    let offer = json(&online(&offer_args));
    let uri = offer["credential_offer_uri"]
        .as_str()
        .expect("an offer URI");
    let status_ref = offer["offer_id"].as_str().expect("an offer id").to_owned();
    json(&online(&["--json", "wallet", "create"]));
    json(&online(&["--json", "wallet", "receive", uri]));

    // The library's kiosk syncs while online.
    let kiosk = home.path().join("kiosk");
    let k = kiosk.to_str().expect("utf-8 path");
    let sync = || {
        json(&online(&[
            "--json",
            "kiosk",
            "sync",
            "--dir",
            k,
            "--facility",
            FACILITY,
            "--accept",
            "CitizenCard",
        ]))
    };
    let synced = sync();
    assert!(
        synced["keys"].as_u64().expect("a key count") >= 4,
        "{synced}"
    );
    assert!(kiosk.join("snapshot.json").exists());

    // The citizen shows a check-in payload disclosing age_over_14 only.
    let qr = home.path().join("checkin.svg");
    let checkin = || {
        let shown = json(&offline(&[
            "--json",
            "wallet",
            "checkin",
            "--facility",
            FACILITY,
            "--claims",
            "age_over_14",
            "--qr",
            qr.to_str().expect("utf-8 path"),
        ]));
        assert_eq!(shown["audience"], "did:simin:mapo.library", "{shown}");
        shown["payload"].as_str().expect("a payload").to_owned()
    };
    let payload = checkin();
    assert!(std::fs::read_to_string(&qr)
        .expect("a QR code")
        .contains("<svg"));
    let verify = |dir: &str, payload: &str, extra: &[&str]| {
        let mut args = vec!["--json", "kiosk", "verify", "--dir", dir];
        args.extend_from_slice(extra);
        args.push(payload);
        offline(&args)
    };
    let accepted = json(&verify(k, &payload, &[]));
    assert_eq!(accepted["accepted"], true, "{accepted}");
    assert_eq!(accepted["credential_type"], "CitizenCard");
    assert_eq!(accepted["claims"], serde_json::json!({"age_over_14": true}));
    let age = accepted["snapshot"]["text"]
        .as_str()
        .expect("the snapshot's age");
    assert!(age.starts_with("snapshot of height "), "{age}");

    // The same payload again: a replay.
    refused(&verify(k, &payload, &[]), "replayed");
    // A payload made longer ago than the kiosk's window.
    let later = (unix_now() + 200).to_string();
    refused(&verify(k, &checkin(), &["--now", &later]), "stale_payload");
    // A snapshot older than --max-age.
    let next_week = (unix_now() + 7 * 86_400).to_string();
    refused(
        &verify(k, &checkin(), &["--now", &next_week]),
        "snapshot_too_old",
    );
    refused(
        &verify(k, &checkin(), &["--max-age", "0", "--now", &later]),
        "snapshot_too_old",
    );

    // A tampered copy of the snapshot: one proven value changed.
    let forged = home.path().join("forged");
    std::fs::create_dir_all(forged.join("trusted")).expect("a directory");
    for entry in std::fs::read_dir(kiosk.join("trusted")).expect("the pinned set") {
        let entry = entry.expect("an entry");
        std::fs::copy(entry.path(), forged.join("trusted").join(entry.file_name()))
            .expect("copies");
    }
    let mut snapshot: Value =
        serde_json::from_slice(&std::fs::read(kiosk.join("snapshot.json")).expect("the snapshot"))
            .expect("JSON");
    let entry = snapshot["entries"]
        .as_array_mut()
        .expect("entries")
        .iter_mut()
        .find(|e| e["value"].is_string())
        .expect("a present value");
    let value = entry["value"].as_str().expect("hex").to_owned();
    let last = if value.ends_with('0') { "1" } else { "0" };
    entry["value"] = Value::from(format!("{}{last}", &value[..value.len() - 1]));
    std::fs::write(
        forged.join("snapshot.json"),
        serde_json::to_vec(&snapshot).expect("JSON"),
    )
    .expect("writes");
    let verdict = refused(
        &verify(forged.to_str().expect("utf-8"), &checkin(), &[]),
        "snapshot_invalid",
    );
    assert!(
        verdict["detail"]
            .as_str()
            .expect("a detail")
            .contains("proof"),
        "{verdict}"
    );

    // The card is suspended after the sync: the stale snapshot still accepts it...
    let suspended = online(&["issuer", "suspend", &status_ref]);
    assert!(suspended.status.success(), "{}", text(&suspended));
    let stale = json(&verify(k, &checkin(), &[]));
    assert_eq!(stale["accepted"], true, "{stale}");
    let old_height = stale["snapshot"]["height"].as_u64().expect("a height");
    // ...and the next sync sees the suspension.
    let resynced = sync();
    assert!(resynced["height"].as_u64().expect("a height") > old_height);
    let verdict = refused(&verify(k, &checkin(), &[]), "suspended");
    assert!(verdict["snapshot"]["height"].as_u64().expect("a height") > old_height);

    // With the devnet gone, the kiosk decides all the same.
    devnet.interrupt();
    refused(&verify(k, &checkin(), &[]), "suspended");
    let text_verdict = offline(&["kiosk", "verify", "--dir", k, &checkin()]);
    assert_eq!(
        text_verdict.status.code(),
        Some(1),
        "{}",
        text(&text_verdict)
    );
    let shown = String::from_utf8_lossy(&text_verdict.stdout);
    assert!(shown.contains("REFUSED   suspended"), "{shown}");
    assert!(shown.contains("snapshot of height"), "{shown}");
}

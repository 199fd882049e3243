//! Personal records end to end with the binary against a real devnet and its in-process
//! vault: the citizen's wallet makes a key for one record; a family-welfare clerk files
//! the application; the citizen consents; the sports centre reads (logged); the citizen
//! revokes and the centre's next read is refused; the citizen erases, the content is
//! gone, and the log the citizen sees holds the whole story.

mod common;

use std::process::Stdio;

use common::*;
use serde_json::Value;

const PASSPHRASE: &str = "a long wallet passphrase";

fn json_of(output: &std::process::Output) -> Value {
    assert!(output.status.success(), "{}", text(output));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[test]
fn consent_read_revoke_erase_with_the_binary() {
    let home = tempfile::tempdir().expect("a temp dir");
    let data_dir = home.path().join("devnet");
    let api = format!("127.0.0.1:{}", free_port());
    let vault = format!("127.0.0.1:{}", free_port());
    let vault_url = format!("http://{vault}");
    let mut devnet = Devnet::spawn(
        command(home.path(), &data_dir)
            .args(["devnet", "--api", &api])
            .args(["--issuer", &format!("127.0.0.1:{}", free_port())])
            .args(["--gateway", &format!("127.0.0.1:{}", free_port())])
            .args(["--demo-service", &format!("127.0.0.1:{}", free_port())])
            .args(["--records", &vault])
            .stderr(Stdio::null()),
    );
    let node = format!("http://{api}");
    // Ready means the vault answers and its organisation's key is on chain.
    devnet.wait_ready();
    let wallet = home.path().join("wallet");
    let run = |args: &[&str]| {
        let mut command = command(home.path(), &data_dir);
        command
            .env("SIMIN_WALLET_DIR", &wallet)
            .env("SIMIN_WALLET_PASSPHRASE", PASSPHRASE)
            .arg("--node")
            .arg(&node)
            .args(args)
            .output()
            .expect("simin runs")
    };

    assert!(run(&["wallet", "create"]).status.success());
    let owner = json_of(&run(&["--json", "wallet", "records", "new-owner-key"]));
    let owner = owner["owner_public_key"]
        .as_str()
        .expect("a key")
        .to_owned();
    let other = json_of(&run(&["--json", "wallet", "records", "new-owner-key"]));
    assert_ne!(other["owner_public_key"], owner, "one key per record");

    // A clerk files the application in the welfare office's vault.
    let content = home.path().join("application.json");
    std::fs::write(
        &content,
        r#"{"applicant":"Kim Min-ji-5521","children":3,"district":"Mapo-gu"}"#,
    )
    .expect("written");
    let token = data_dir.join("records/seoul.family-welfare/admin.token");
    let created = json_of(&run(&[
        "--json",
        "data",
        "record",
        "create",
        "--vault",
        &vault_url,
        "--kind",
        "welfare_application",
        "--owner",
        &owner,
        "--content",
        content.to_str().expect("utf-8"),
        "--admin-token",
        token.to_str().expect("utf-8"),
    ]));
    let id = created["id"].as_str().expect("an id").to_owned();
    let target = [
        id.as_str(),
        "--org",
        "seoul.sports-centre",
        "--purpose",
        "eligibility_check",
    ];
    let read = || {
        let mut args = vec!["--json", "data", "record", "read"];
        args.extend(target);
        args.extend(["--vault", vault_url.as_str()]);
        run(&args)
    };

    // Without consent the chain refuses to log the read, and the vault releases nothing.
    let refused = read();
    assert!(!refused.status.success());
    assert!(text(&refused).contains("no_consent"), "{}", text(&refused));

    let mut grant = vec!["data", "consent", "grant"];
    grant.extend(target);
    grant.extend(["--expires", "30d"]);
    assert!(run(&grant).status.success(), "{}", text(&run(&grant)));
    let answer = json_of(&read());
    assert_eq!(answer["content"]["applicant"], "Kim Min-ji-5521");

    let mut revoke = vec!["data", "consent", "revoke"];
    revoke.extend(target);
    let revoked = run(&revoke);
    assert!(revoked.status.success(), "{}", text(&revoked));
    let refused = read();
    assert!(!refused.status.success());
    assert!(text(&refused).contains("no_consent"), "{}", text(&refused));
    let mut show = vec!["--json", "data", "consent", "show"];
    show.extend(target);
    let consent = json_of(&run(&show));
    assert_eq!(consent["valid"], false);
    assert!(consent["revoked_time"].is_u64(), "{consent}");

    let erased = run(&["data", "record", "erase", &id, "--vault", &vault_url]);
    assert!(erased.status.success(), "{}", text(&erased));
    let log = json_of(&run(&["--json", "data", "record", "log", &id]));
    let events: Vec<&str> = log["log"]
        .as_array()
        .expect("a log")
        .iter()
        .map(|e| e["event"].as_str().expect("an event"))
        .collect();
    assert_eq!(
        events,
        [
            "created",
            "consent_granted",
            "read",
            "consent_revoked",
            "erased"
        ]
    );
    assert!(log["erased_time"].is_u64());
    assert_eq!(log["commitment"], created["commitment"]);
    let refused = read();
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("record_erased"),
        "{}",
        text(&refused)
    );
    let text_log = run(&["data", "record", "log", &id]);
    assert!(text(&text_log).contains("ERASED"), "{}", text(&text_log));
    assert!(devnet.interrupt().success());
}

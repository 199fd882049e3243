//! The `simin` binary without a node: argument errors, key files, unreachable nodes.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `simin` with a private HOME and no inherited simin settings.
fn simin(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simin"))
        .args(args)
        .env("HOME", home)
        .env_remove("SIMIN_NODE")
        .env_remove("SIMIN_KEY")
        .env_remove("SIMIN_DEVNET_DIR")
        .env_remove("SIMIN_TRUST_DIR")
        .env_remove("RUST_LOG")
        .output()
        .expect("the simin binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn argument_errors_are_explained_with_usage() {
    let home = tempfile::tempdir().expect("a temp dir");
    let cases: &[(&[&str], &str)] = &[
        (&[], "Usage"),
        (&["notary", "anchor"], "<FILE>"),
        (&["notary", "verify"], "<FILE>"),
        (&["bench", "--txs", "0"], "--txs"),
        (&["bench", "--concurrency", "many"], "--concurrency"),
        (&["devnet", "--api", "not-an-address"], "--api"),
        (&["keys", "show"], "--key"),
        (&["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, needle) in cases {
        let output = simin(home.path(), args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?} must be a usage error"
        );
        let text = stderr(&output);
        assert!(text.contains(needle), "{args:?}: {text}");
    }
}

#[test]
fn keys_new_and_show_round_trip() {
    let home = tempfile::tempdir().expect("a temp dir");
    let path = home.path().join("keys").join("me.key");
    let path_text = path.to_str().expect("a UTF-8 path");
    let created = simin(home.path(), &["keys", "new", "--out", path_text]);
    assert!(created.status.success(), "{}", stderr(&created));
    let public = stdout(&created)
        .lines()
        .find_map(|l| l.strip_prefix("public key: ").map(str::to_owned))
        .expect("the public key is printed");
    assert_eq!(public.len(), 64);
    let mode = std::fs::metadata(&path)
        .expect("the key file exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the key file is private");
    assert!(!stdout(&created).contains(std::fs::read_to_string(&path).expect("reads").trim()));

    let shown = simin(home.path(), &["--json", "keys", "show", "--key", path_text]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    let json: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("JSON output");
    assert_eq!(json["public_key"], public.as_str());

    let again = simin(home.path(), &["keys", "new", "--out", path_text]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("never overwritten"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn a_bad_key_file_is_refused_clearly() {
    let home = tempfile::tempdir().expect("a temp dir");
    let path = home.path().join("bad.key");
    std::fs::write(&path, "not hex\n").expect("writes");
    let output = simin(
        home.path(),
        &["keys", "show", "--key", path.to_str().expect("UTF-8")],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("is not a key file"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn anchoring_without_any_key_says_how_to_get_one() {
    let home = tempfile::tempdir().expect("a temp dir");
    let file = home.path().join("doc.txt");
    std::fs::write(&file, "hello").expect("writes");
    let output = simin(
        home.path(),
        &["notary", "anchor", file.to_str().expect("UTF-8")],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no signing key"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unreachable_node_is_a_clear_error() {
    let home = tempfile::tempdir().expect("a temp dir");
    // Port 9 (discard) is closed on test machines: the connection is refused at once.
    let output = simin(home.path(), &["--node", "http://127.0.0.1:9", "status"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("cannot reach the node"),
        "{}",
        stderr(&output)
    );
    let output = simin(home.path(), &["--node", "ftp://x", "status"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("invalid --node"),
        "{}",
        stderr(&output)
    );
}

//! Finding the `simin` binary the tests run, building it when it is missing.

use std::path::PathBuf;
use std::process::Command;

use crate::TestkitError;

/// The `simin` binary: `SIMIN_BIN` if set, else `simin` in the workspace's target
/// directory (`CARGO_TARGET_DIR` or `<workspace>/target`, profile `debug`). Runs
/// `cargo build -p simin-cli` if it does not exist yet.
pub fn simin_binary() -> Result<PathBuf, TestkitError> {
    if let Some(path) = std::env::var_os("SIMIN_BIN") {
        return Ok(PathBuf::from(path));
    }
    // This crate is `<workspace>/crates/simin-testkit`.
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let binary = target.join("debug").join("simin");
    if binary.exists() {
        return Ok(binary);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "-p", "simin-cli"])
        .current_dir(&workspace)
        .output()
        .map_err(TestkitError::io("run cargo in", &workspace))?;
    if !output.status.success() || !binary.exists() {
        return Err(TestkitError::Command {
            command: "cargo build -p simin-cli".into(),
            detail: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(binary)
}

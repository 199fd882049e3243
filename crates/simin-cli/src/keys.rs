//! `simin keys`, and reading the key a command signs with.

use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Serialize;
use simin_types::SigningKey;

use crate::cli::{KeyArgs, KeysCommand};
use crate::output;

/// A key file holds 64 hex characters and a newline; anything much longer is not one.
const KEY_FILE_BYTES_MAX: u64 = 1024;

#[derive(Serialize)]
struct KeyInfo<'a> {
    public_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a Path>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_key: Option<String>,
}

pub fn run(command: KeysCommand, json: bool) -> anyhow::Result<()> {
    match command {
        KeysCommand::New { out } => {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            let secret_key = match &out {
                Some(path) => {
                    write_key_file(path, &key)?;
                    None
                }
                None => Some(key.to_seed_hex()),
            };
            let info = KeyInfo {
                public_key: key.public_key().to_hex(),
                file: out.as_deref(),
                secret_key,
            };
            print_key(&info, json);
        }
        KeysCommand::Show { key } => {
            let signing = load_key(&key)?;
            let info = KeyInfo {
                public_key: signing.public_key().to_hex(),
                file: Some(&key),
                secret_key: None,
            };
            print_key(&info, json);
        }
    }
    Ok(())
}

fn print_key(info: &KeyInfo<'_>, json: bool) {
    if json {
        return output::json(info);
    }
    output::line(&format!("public key: {}", info.public_key));
    if let Some(file) = info.file {
        output::line(&format!("key file:   {}", file.display()));
    }
    if let Some(secret) = &info.secret_key {
        output::line(&format!("secret key: {secret}"));
        output::notice("keep the secret key private; use --out FILE to write it to a file");
    }
}

/// Writes `key`'s seed as hex to a new file readable by its owner only.
fn write_key_file(path: &Path, key: &SigningKey) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| {
            format!(
                "cannot create key file {} (an existing key is never overwritten)",
                path.display()
            )
        })?;
    file.write_all(format!("{}\n", key.to_seed_hex()).as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write key file {}", path.display()))
}

/// Reads a key file (the seed as hex), warning when others may read it.
pub fn load_key(path: &Path) -> anyhow::Result<SigningKey> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open key file {}", path.display()))?;
    let mode = file
        .metadata()
        .with_context(|| format!("cannot read key file {}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), mode = format!("{:o}", mode & 0o777),
            "key file is readable by others; chmod 600 it");
    }
    let mut text = String::new();
    file.take(KEY_FILE_BYTES_MAX + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    if u64::try_from(text.len()).unwrap_or(u64::MAX) > KEY_FILE_BYTES_MAX {
        bail!("{} is too long to be a key file", path.display());
    }
    SigningKey::from_hex(text.trim())
        .with_context(|| format!("{} is not a key file (64 hex characters)", path.display()))
}

/// The directory given, else `SIMIN_DEVNET_DIR`, else `~/.simin/devnet`.
pub fn devnet_dir(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    match given {
        Some(dir) => Ok(dir.to_owned()),
        None => match std::env::var_os("SIMIN_DEVNET_DIR").filter(|d| !d.is_empty()) {
            Some(dir) => Ok(PathBuf::from(dir)),
            None => Ok(home_dir()?.join(".simin").join("devnet")),
        },
    }
}

pub fn home_dir() -> anyhow::Result<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .context("HOME is not set; pass the directory explicitly")
}

/// The key to sign with: `--key`/`SIMIN_KEY`, else the devnet's notary key.
pub fn resolve_key(args: &KeyArgs) -> anyhow::Result<(PathBuf, SigningKey)> {
    let path = match &args.key {
        Some(path) => path.clone(),
        None => {
            let path = devnet_dir(args.devnet_dir.as_deref())?
                .join("keys")
                .join("notary.key");
            if !path.exists() {
                bail!(
                    "no signing key: pass --key FILE or set SIMIN_KEY (the devnet notary key {} does not exist; run `simin devnet` first)",
                    path.display()
                );
            }
            path
        }
    };
    let key = load_key(&path)?;
    Ok((path, key))
}

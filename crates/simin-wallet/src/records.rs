//! The citizen's keys for personal records: one Ed25519 key per record, so that two
//! records of the same citizen cannot be linked on chain.
//!
//! A record's owner key is derived, never stored: its seed is
//! `HMAC-SHA-256(holder seed, "simin/record-owner/v1" ‖ salt)` with a random 32-byte
//! salt per record. Only the salts (and the public keys, to find the right salt) are
//! kept, in `record-keys.json` beside `wallet.json`; without the holder key, which the
//! passphrase protects, they give nothing. The file links the citizen's records to each
//! other, which is why it stays in the wallet (mode 0600) and never leaves it.

use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use hmac::{Hmac, Mac};
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::WalletError;
use crate::store::WalletStore;

/// The file of record-key salts in the wallet directory.
pub const RECORD_KEYS_FILE: &str = "record-keys.json";
/// The domain tag of the derivation.
const DOMAIN_TAG: &[u8] = b"simin/record-owner/v1";
/// The most record keys a wallet keeps (a bound on the file it reads).
pub const RECORD_KEYS_MAX: usize = 10_000;
/// The largest `record-keys.json` read, in bytes.
const FILE_BYTES_MAX: u64 = 4 * 1024 * 1024;

/// One record key the wallet can derive again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordKeyEntry {
    /// The public key (hex) a clerk files the record for.
    pub public_key: String,
    /// The derivation salt (hex, 32 bytes).
    pub salt: String,
    /// Unix seconds, when it was made.
    pub created_at: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordKeysFile {
    version: u32,
    keys: Vec<RecordKeyEntry>,
}

/// The owner key of the record key with `salt`, derived from the holder key.
pub fn derive_owner_key(holder: &SigningKey, salt: &[u8; 32]) -> SigningKey {
    let seed = Zeroizing::new(holder.to_bytes());
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(seed.as_slice())
        .expect("HMAC takes a key of any length");
    mac.update(DOMAIN_TAG);
    mac.update(salt);
    let derived = Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()));
    SigningKey::from_bytes(&derived)
}

fn path_of(dir: &Path) -> PathBuf {
    dir.join(RECORD_KEYS_FILE)
}

fn read_file(dir: &Path) -> Result<RecordKeysFile, WalletError> {
    let path = path_of(dir);
    let bytes = match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(RecordKeysFile {
                version: 1,
                keys: Vec::new(),
            })
        }
        Err(e) => return Err(WalletError::io(&path, e)),
        Ok(meta) if meta.len() > FILE_BYTES_MAX => {
            return Err(WalletError::corrupt(
                &path,
                "larger than any record-key file",
            ))
        }
        Ok(_) => std::fs::read(&path).map_err(|e| WalletError::io(&path, e))?,
    };
    let file: RecordKeysFile =
        serde_json::from_slice(&bytes).map_err(|e| WalletError::corrupt(&path, e.to_string()))?;
    if file.version != 1 {
        return Err(WalletError::UnsupportedVersion {
            path,
            found: file.version,
            supported: 1,
        });
    }
    Ok(file)
}

fn write_file(dir: &Path, file: &RecordKeysFile) -> Result<(), WalletError> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = path_of(dir);
    let temp = dir.join(format!("{RECORD_KEYS_FILE}.tmp"));
    let bytes = serde_json::to_vec_pretty(file).expect("the file is plain data");
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)
        .map_err(|e| WalletError::io(&temp, e))?;
    out.write_all(&bytes)
        .and_then(|()| out.sync_all())
        .map_err(|e| WalletError::io(&temp, e))?;
    std::fs::rename(&temp, &path).map_err(|e| WalletError::io(&path, e))
}

/// Makes a new record key and remembers its salt; returns the entry (its public key is
/// what the citizen gives the clerk).
pub fn new_record_key(
    wallet: &WalletStore,
    created_at: u64,
    rng: &mut impl CryptoRngCore,
) -> Result<RecordKeyEntry, WalletError> {
    let mut file = read_file(wallet.dir())?;
    if file.keys.len() >= RECORD_KEYS_MAX {
        return Err(WalletError::corrupt(
            &path_of(wallet.dir()),
            format!("it holds {RECORD_KEYS_MAX} record keys already"),
        ));
    }
    let mut salt = [0u8; 32];
    rng.fill_bytes(&mut salt);
    let key = derive_owner_key(wallet.holder_key(), &salt);
    let entry = RecordKeyEntry {
        public_key: hex::encode(key.verifying_key().to_bytes()),
        salt: hex::encode(salt),
        created_at,
    };
    file.keys.push(entry.clone());
    write_file(wallet.dir(), &file)?;
    Ok(entry)
}

/// The record keys this wallet made, oldest first.
pub fn record_keys(wallet: &WalletStore) -> Result<Vec<RecordKeyEntry>, WalletError> {
    Ok(read_file(wallet.dir())?.keys)
}

/// The owner key whose public key is `public_key`, if this wallet made it.
pub fn owner_key(
    wallet: &WalletStore,
    public_key: &[u8; 32],
) -> Result<Option<SigningKey>, WalletError> {
    let wanted = hex::encode(public_key);
    let path = path_of(wallet.dir());
    for entry in read_file(wallet.dir())?.keys {
        if entry.public_key != wanted {
            continue;
        }
        let salt: [u8; 32] = hex::decode(&entry.salt)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| WalletError::corrupt(&path, "a salt is not 32 bytes of hex"))?;
        let key = derive_owner_key(wallet.holder_key(), &salt);
        if key.verifying_key().to_bytes() != *public_key {
            return Err(WalletError::corrupt(
                &path,
                "a salt does not give its public key under this wallet's holder key",
            ));
        }
        return Ok(Some(key));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::KdfParams;
    use rand::rngs::OsRng;

    #[test]
    fn record_keys_are_distinct_reproducible_and_bound_to_the_wallet() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let wallet = WalletStore::create(
            dir.path(),
            "correct horse battery",
            KdfParams::insecure_for_tests(),
            &mut OsRng,
        )
        .expect("a wallet");
        let first = new_record_key(&wallet, 1, &mut OsRng).expect("a key");
        let second = new_record_key(&wallet, 2, &mut OsRng).expect("a key");
        assert_ne!(
            first.public_key, second.public_key,
            "unlinkable: one key per record"
        );
        let holder_public = hex::encode(wallet.holder_public().to_bytes());
        assert_ne!(first.public_key, holder_public);
        assert_eq!(
            record_keys(&wallet).expect("listed"),
            [first.clone(), second]
        );

        let public: [u8; 32] = hex::decode(&first.public_key)
            .expect("hex")
            .try_into()
            .expect("32 bytes");
        let reopened = WalletStore::open(dir.path(), "correct horse battery").expect("opens");
        let key = owner_key(&reopened, &public)
            .expect("reads")
            .expect("found");
        assert_eq!(key.verifying_key().to_bytes(), public);
        assert!(owner_key(&reopened, &[9; 32]).expect("reads").is_none());

        // Another wallet with the same salts derives other keys.
        let other_dir = tempfile::tempdir().expect("a temp dir");
        let other = WalletStore::create(
            other_dir.path(),
            "another passphrase",
            KdfParams::insecure_for_tests(),
            &mut OsRng,
        )
        .expect("a wallet");
        std::fs::copy(path_of(dir.path()), path_of(other_dir.path())).expect("copied");
        assert!(matches!(
            owner_key(&other, &public),
            Err(WalletError::Corrupt { .. })
        ));
    }
}

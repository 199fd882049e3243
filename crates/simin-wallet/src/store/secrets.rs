//! Wrapping and unwrapping the wallet secrets (holder key and data key) under a
//! passphrase, and reading `wallet.json`.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use super::format::{WalletFile, FORMAT_VERSION, SECRETS_LEN};
use super::ids::WalletId;
use super::kdf::{self, KdfParams, SALT_LEN};
use super::seal::{self, AEAD_KEY_LEN};
use super::{fsio, PASSPHRASE_MAX_BYTES, WALLET_FILE, WALLET_FILE_MAX_BYTES};
use crate::error::WalletError;

/// Encrypts the holder key and data key under a key derived from `passphrase` with a
/// fresh salt and nonce; returns the content of `wallet.json`.
pub(crate) fn wrap(
    wallet_id: WalletId,
    holder: &SigningKey,
    data_key: &[u8; AEAD_KEY_LEN],
    params: KdfParams,
    passphrase: &str,
    rng: &mut impl CryptoRngCore,
) -> Result<WalletFile, WalletError> {
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    let keys = kdf::derive(passphrase, &salt, &params)?;
    let nonce = seal::random_nonce(rng);
    let holder_public = holder.verifying_key().to_bytes();
    let mut secrets = Zeroizing::new([0u8; SECRETS_LEN]);
    secrets[..32].copy_from_slice(holder.as_bytes());
    secrets[32..].copy_from_slice(data_key);
    let aad = seal::secrets_aad(FORMAT_VERSION, &wallet_id, &holder_public);
    let ciphertext = seal::encrypt(&keys.kek, &nonce, &aad, secrets.as_slice())?;
    Ok(WalletFile {
        wallet_id,
        holder_public,
        kdf: params,
        salt,
        kdf_check: keys.check,
        nonce,
        ciphertext,
    })
}

/// Reads and decodes `dir/wallet.json`; also returns its path.
pub(crate) fn read_wallet_file(dir: &Path) -> Result<(WalletFile, PathBuf), WalletError> {
    let path = dir.join(WALLET_FILE);
    let bytes =
        fsio::read_bounded(&path, WALLET_FILE_MAX_BYTES)?.ok_or_else(|| WalletError::NotFound {
            path: dir.to_path_buf(),
        })?;
    let file = WalletFile::decode(&bytes, &path)?;
    Ok((file, path))
}

/// Derives the KEK of `passphrase`, checks it and unwraps the holder key and data key.
pub(crate) fn unlock(
    file: &WalletFile,
    passphrase: &str,
    path: &Path,
) -> Result<(SigningKey, Zeroizing<[u8; AEAD_KEY_LEN]>), WalletError> {
    let keys = kdf::derive(passphrase, &file.salt, &file.kdf)?;
    if !kdf::check_matches(&keys.check, &file.kdf_check) {
        return Err(WalletError::WrongPassphrase);
    }
    let aad = seal::secrets_aad(FORMAT_VERSION, &file.wallet_id, &file.holder_public);
    let secrets = seal::decrypt(&keys.kek, &file.nonce, &aad, file.ciphertext.clone())
        .ok_or_else(|| {
            WalletError::corrupt(
                path,
                "the passphrase is right but the secrets do not authenticate: the file was tampered with",
            )
        })?;
    if secrets.len() != SECRETS_LEN {
        return Err(WalletError::corrupt(
            path,
            "the secrets have the wrong length",
        ));
    }
    let mut holder_secret = Zeroizing::new([0u8; 32]);
    holder_secret.copy_from_slice(&secrets[..32]);
    let holder = SigningKey::from_bytes(&holder_secret);
    if holder.verifying_key().to_bytes() != file.holder_public {
        return Err(WalletError::corrupt(
            path,
            "holder_public does not match the holder key",
        ));
    }
    let mut data_key = Zeroizing::new([0u8; AEAD_KEY_LEN]);
    data_key.copy_from_slice(&secrets[32..]);
    Ok((holder, data_key))
}

/// Refuses an empty passphrase and bounds its length before it reaches Argon2.
pub(crate) fn check_passphrase(passphrase: &str) -> Result<(), WalletError> {
    if passphrase.is_empty() {
        return Err(WalletError::InvalidPassphrase {
            reason: "it is empty",
        });
    }
    if passphrase.len() > PASSPHRASE_MAX_BYTES {
        return Err(WalletError::InvalidPassphrase {
            reason: "it is longer than 1024 bytes",
        });
    }
    Ok(())
}

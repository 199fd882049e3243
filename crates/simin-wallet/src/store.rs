//! The encrypted wallet store: the holder key and the credential records on disk.
//!
//! # Key design
//!
//! A wallet has two secrets, drawn at creation and never changed: the holder's Ed25519
//! signing key (the citizen's key; it never leaves the wallet) and a random 32-byte
//! *data key*. Both are wrapped together under a key-encryption key derived from the
//! passphrase with Argon2id. Each credential record is encrypted under the data key, so
//! changing the passphrase rewrites `wallet.json` only.
//!
//! # On-disk format, version 1
//!
//! ```text
//! <dir>/                      mode 0700 when created by this crate
//!   wallet.json               mode 0600, at most 1 MiB
//!   credentials/              mode 0700
//!     <id>.json               mode 0600, at most 1 MiB each; <id> = 32 lowercase hex
//!     .<name>.tmp             a write in progress (or interrupted by a crash); ignored
//! ```
//!
//! `wallet.json` (pretty-printed JSON, unknown fields refused):
//!
//! ```json
//! {
//!   "format": "simin-wallet",
//!   "version": 1,
//!   "wallet_id": "<16 random bytes, lowercase hex>",
//!   "holder_public": "<Ed25519 public key, 32 bytes, lowercase hex>",
//!   "kdf": {
//!     "algorithm": "argon2id-v19",
//!     "m_cost_kib": 19456, "t_cost": 2, "p_cost": 1,
//!     "salt": "<16 random bytes, standard base64>",
//!     "check": "<32 bytes, lowercase hex>"
//!   },
//!   "aead": "xchacha20poly1305",
//!   "nonce": "<24 random bytes, standard base64>",
//!   "ciphertext": "<80 bytes, standard base64>",
//!   "checksum": "<32 bytes, lowercase hex>"
//! }
//! ```
//!
//! - Argon2id (version 0x13) with the recorded parameters and salt turns the passphrase
//!   into 64 bytes: the first 32 are the key-encryption key (KEK); `check` is
//!   `SHA-256("simin-wallet/v1/kdf-check" || last 32)`. A mismatching `check` means a
//!   wrong passphrase; a matching one with a ciphertext that fails to authenticate means
//!   tampering.
//! - `ciphertext` is XChaCha20-Poly1305 under the KEK and `nonce` of the 64 bytes
//!   `holder secret key (32) || data key (32)`, followed by the 16-byte tag, with
//!   associated data `"simin-wallet/secrets\0" || version (u32 big-endian) ||
//!   wallet_id (16) || holder_public (32)`. After decryption the public key derived from
//!   the secret key must equal `holder_public`.
//! - `checksum` is `SHA-256("simin-wallet/checksum\0" || version (u32 BE) || wallet_id ||
//!   holder_public || m_cost_kib || t_cost || p_cost (u32 BE each) || salt || check ||
//!   nonce || ciphertext length (u64 BE) || ciphertext)`. It is unkeyed: it tells
//!   accidental damage (which would otherwise read as a wrong passphrase when it hits
//!   the salt or the parameters) from a wrong passphrase. The AEAD is what stops
//!   deliberate tampering; someone who rewrites the salt and the checksum can make the
//!   wallet unopenable (as deleting it would), not make it accept another key.
//!
//! `credentials/<id>.json`:
//!
//! ```json
//! {
//!   "format": "simin-wallet-credential",
//!   "version": 1,
//!   "id": "<the id of the file name>",
//!   "nonce": "<24 random bytes, standard base64>",
//!   "ciphertext": "<standard base64>"
//! }
//! ```
//!
//! `ciphertext` is XChaCha20-Poly1305 under the data key of the JSON encoding of a
//! [`CredentialRecord`], with associated data `"simin-wallet/credential\0" || version
//! (u32 BE) || wallet_id (16) || id (16)`: a record cannot be renamed or moved to
//! another wallet. Ids are 16 random bytes, not content hashes, so they say nothing of
//! the content.
//!
//! Every write goes through a temporary file in the same directory, `fsync`, `rename`
//! and an `fsync` of the directory. The store assumes a single writer at a time.
//! Removing a record unlinks its file; on journaling or copy-on-write file systems the
//! old ciphertext may stay on the disk, which is why records are encrypted.

mod format;
mod fsio;
mod ids;
mod kdf;
mod record;
mod seal;
mod secrets;

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::CryptoRngCore;
use tracing::{debug, info};
use zeroize::Zeroizing;

use crate::error::WalletError;
use format::{RecordFile, FORMAT_VERSION};
use seal::AEAD_KEY_LEN;
use secrets::{check_passphrase, read_wallet_file, unlock};

pub use ids::{CredentialId, WalletId};
pub use kdf::KdfParams;
pub use record::{CredentialRecord, CredentialSummary};

/// The name of the wallet file in the wallet directory.
pub const WALLET_FILE: &str = "wallet.json";
/// The name of the directory of credential records in the wallet directory.
pub const CREDENTIALS_DIR: &str = "credentials";
/// The largest `wallet.json` read (a real one is under 1 KiB).
pub const WALLET_FILE_MAX_BYTES: u64 = 1024 * 1024;
/// The largest credential record file written or read.
pub const RECORD_FILE_MAX_BYTES: u64 = 1024 * 1024;
/// The most credential records a wallet holds.
pub const CREDENTIALS_MAX: usize = 4096;
/// The longest passphrase accepted, in bytes.
pub const PASSPHRASE_MAX_BYTES: usize = 1024;

/// The most directory entries scanned in `credentials/` (records plus stray files).
const CREDENTIALS_DIR_ENTRIES_MAX: usize = 2 * CREDENTIALS_MAX;
/// How many fresh ids `put_credential` draws before concluding the generator is broken.
const ID_DRAWS_MAX: usize = 8;

/// An unlocked wallet: the holder key and data key in memory, the records on disk.
///
/// The secrets are wiped from memory when the store is dropped (`SigningKey` zeroizes
/// itself; the data key is held in [`Zeroizing`]). `Debug` shows no secret.
///
/// ```
/// use rand_core::OsRng;
/// use simin_wallet::{CredentialRecord, KdfParams, WalletError, WalletStore};
///
/// # fn main() -> Result<(), WalletError> {
/// # let tmp = tempfile::tempdir().expect("a temporary directory");
/// let dir = tmp.path().join("wallet");
/// // Real wallets use `KdfParams::default()`; the test parameters keep this fast.
/// let params = KdfParams::insecure_for_tests();
/// let mut wallet = WalletStore::create(&dir, "my passphrase", params, &mut OsRng)?;
/// let record = CredentialRecord {
///     format: "dc+sd-jwt".into(),
///     credential: "eyJ...~".into(),
///     type_name: "https://city.example/vct/citizen-card".into(),
///     issuer: "did:web:city.example".into(),
///     received_at: 1_700_000_000,
///     label: None,
/// };
/// let id = wallet.put_credential(&record, &mut OsRng)?;
/// drop(wallet);
///
/// let wallet = WalletStore::open(&dir, "my passphrase")?;
/// assert_eq!(wallet.get_credential(id)?, record);
/// assert!(matches!(
///     WalletStore::open(&dir, "not my passphrase"),
///     Err(WalletError::WrongPassphrase)
/// ));
/// # Ok(())
/// # }
/// ```
pub struct WalletStore {
    dir: PathBuf,
    wallet_id: WalletId,
    kdf: KdfParams,
    holder: SigningKey,
    data_key: Zeroizing<[u8; AEAD_KEY_LEN]>,
}

impl WalletStore {
    /// Creates a wallet in `dir` (created with mode 0700 if missing) with a fresh holder
    /// key and data key, locked by `passphrase` under Argon2id with `params`.
    ///
    /// Refuses a directory that already holds `wallet.json` or a non-empty
    /// `credentials/`. The passphrase is used as the bytes given; a caller accepting
    /// non-ASCII passphrases from several front ends should normalize them (NFC) first.
    pub fn create(
        dir: &Path,
        passphrase: &str,
        params: KdfParams,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, WalletError> {
        check_passphrase(passphrase)?;
        params.validate()?;
        if Self::exists(dir)? || has_records(&dir.join(CREDENTIALS_DIR))? {
            return Err(WalletError::AlreadyExists {
                path: dir.to_path_buf(),
            });
        }
        fsio::create_private_dir(dir)?;
        fsio::create_private_dir(&dir.join(CREDENTIALS_DIR))?;
        let mut data_key = Zeroizing::new([0u8; AEAD_KEY_LEN]);
        rng.fill_bytes(data_key.as_mut_slice());
        let store = Self {
            dir: dir.to_path_buf(),
            wallet_id: WalletId::random(rng),
            kdf: params,
            holder: SigningKey::generate(rng),
            data_key,
        };
        // wallet.json is written last: it is what makes the directory a wallet.
        store.write_wallet_file(passphrase, rng)?;
        info!(wallet_id = %store.wallet_id, dir = %dir.display(), "created a wallet");
        Ok(store)
    }

    /// Opens the wallet in `dir` with `passphrase`.
    ///
    /// A wrong passphrase gives [`WalletError::WrongPassphrase`]; a damaged or tampered
    /// file [`WalletError::Corrupt`]; a file of another format version
    /// [`WalletError::UnsupportedVersion`].
    pub fn open(dir: &Path, passphrase: &str) -> Result<Self, WalletError> {
        check_passphrase(passphrase)?;
        let (file, path) = read_wallet_file(dir)?;
        let (holder, data_key) = unlock(&file, passphrase, &path)?;
        debug!(wallet_id = %file.wallet_id, dir = %dir.display(), "opened a wallet");
        Ok(Self {
            dir: dir.to_path_buf(),
            wallet_id: file.wallet_id,
            kdf: file.kdf,
            holder,
            data_key,
        })
    }

    /// Whether `dir` holds a wallet file (which may still be damaged).
    pub fn exists(dir: &Path) -> Result<bool, WalletError> {
        let path = dir.join(WALLET_FILE);
        match fs::symlink_metadata(&path) {
            Ok(_) => Ok(true),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(err) => Err(WalletError::io(&path, err)),
        }
    }

    /// The wallet directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The wallet's id.
    pub fn wallet_id(&self) -> WalletId {
        self.wallet_id
    }

    /// The Argon2id parameters the passphrase is derived with.
    pub fn kdf_params(&self) -> KdfParams {
        self.kdf
    }

    /// The holder's signing key, to sign presentations and key-binding proofs.
    pub fn holder_key(&self) -> &SigningKey {
        &self.holder
    }

    /// The holder's public key.
    pub fn holder_public(&self) -> VerifyingKey {
        self.holder.verifying_key()
    }

    /// Re-wraps the wallet secrets under `new` (with a fresh salt and nonce, and the
    /// wallet's current KDF parameters), after checking `old` against the file on disk.
    ///
    /// Records are untouched: they are encrypted under the data key, which does not
    /// change. The switch is atomic; a crash leaves either passphrase working.
    pub fn change_passphrase(
        &mut self,
        old: &str,
        new: &str,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), WalletError> {
        check_passphrase(old)?;
        check_passphrase(new)?;
        let (file, path) = read_wallet_file(&self.dir)?;
        let (holder, data_key) = unlock(&file, old, &path)?;
        let same_wallet = file.wallet_id == self.wallet_id
            && holder.verifying_key() == self.holder.verifying_key()
            && *data_key == *self.data_key;
        if !same_wallet {
            return Err(WalletError::corrupt(
                &path,
                "the wallet file was replaced by another wallet since it was opened",
            ));
        }
        self.write_wallet_file(new, rng)?;
        info!(wallet_id = %self.wallet_id, "changed the wallet passphrase");
        Ok(())
    }

    /// Encrypts and stores `record` in a file of its own; returns its new id.
    pub fn put_credential(
        &mut self,
        record: &CredentialRecord,
        rng: &mut impl CryptoRngCore,
    ) -> Result<CredentialId, WalletError> {
        let too_large = |size: usize| WalletError::RecordTooLarge {
            // usize to u64 is lossless on every supported target.
            size_bytes: size as u64,
            limit_bytes: RECORD_FILE_MAX_BYTES,
        };
        // usize to u64 is lossless on every supported target.
        if record.size_hint() as u64 > RECORD_FILE_MAX_BYTES {
            return Err(too_large(record.size_hint()));
        }
        let dir = self.credentials_dir();
        fsio::create_private_dir(&dir)?;
        let existing = self.record_ids()?;
        if existing.len() >= CREDENTIALS_MAX {
            return Err(WalletError::TooManyCredentials {
                limit: CREDENTIALS_MAX,
            });
        }
        let id = fresh_id(&existing, &dir, rng)?;
        let plaintext = Zeroizing::new(
            serde_json::to_vec(record).expect("a record of strings and integers always serializes"),
        );
        let nonce = seal::random_nonce(rng);
        let aad = seal::record_aad(FORMAT_VERSION, &self.wallet_id, &id);
        let ciphertext = seal::encrypt(&self.data_key, &nonce, &aad, &plaintext)?;
        let bytes = RecordFile {
            id,
            nonce,
            ciphertext,
        }
        .encode();
        // usize to u64 is lossless on every supported target.
        if bytes.len() as u64 > RECORD_FILE_MAX_BYTES {
            return Err(too_large(bytes.len()));
        }
        fsio::write_atomic(&dir, &id.file_name(), &bytes)?;
        debug!(wallet_id = %self.wallet_id, %id, "stored a credential");
        Ok(id)
    }

    /// Summaries of every stored credential, oldest first (then by id).
    ///
    /// Each record is decrypted; one damaged record fails the whole listing with a
    /// [`WalletError::Corrupt`] naming its file (it can still be removed by id).
    pub fn list_credentials(&self) -> Result<Vec<CredentialSummary>, WalletError> {
        let mut summaries = self
            .record_ids()?
            .into_iter()
            .map(|id| self.get_credential(id).map(|record| record.summary(id)))
            .collect::<Result<Vec<_>, _>>()?;
        summaries.sort_by_key(|summary| (summary.received_at, summary.id));
        Ok(summaries)
    }

    /// The stored credential `id`, decrypted.
    pub fn get_credential(&self, id: CredentialId) -> Result<CredentialRecord, WalletError> {
        let path = self.credentials_dir().join(id.file_name());
        let bytes = fsio::read_bounded(&path, RECORD_FILE_MAX_BYTES)?
            .ok_or(WalletError::CredentialNotFound { id })?;
        let file = RecordFile::decode(&bytes, &path)?;
        if file.id != id {
            return Err(WalletError::corrupt(
                &path,
                format!("the file holds record {}", file.id),
            ));
        }
        let aad = seal::record_aad(FORMAT_VERSION, &self.wallet_id, &id);
        let plaintext = seal::decrypt(&self.data_key, &file.nonce, &aad, file.ciphertext)
            .ok_or_else(|| {
                WalletError::corrupt(
                    &path,
                    "the record does not authenticate under this wallet's key",
                )
            })?;
        serde_json::from_slice(&plaintext).map_err(|err| {
            WalletError::corrupt(
                &path,
                format!("the decrypted record does not decode: {err}"),
            )
        })
    }

    /// Deletes the stored credential `id`.
    pub fn remove_credential(&mut self, id: CredentialId) -> Result<(), WalletError> {
        if fsio::remove_durable(&self.credentials_dir(), &id.file_name())? {
            debug!(wallet_id = %self.wallet_id, %id, "removed a credential");
            Ok(())
        } else {
            Err(WalletError::CredentialNotFound { id })
        }
    }

    fn credentials_dir(&self) -> PathBuf {
        self.dir.join(CREDENTIALS_DIR)
    }

    /// Wraps the secrets under `passphrase` with a fresh salt and nonce and writes
    /// `wallet.json` atomically.
    fn write_wallet_file(
        &self,
        passphrase: &str,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), WalletError> {
        let file = secrets::wrap(
            self.wallet_id,
            &self.holder,
            &self.data_key,
            self.kdf,
            passphrase,
            rng,
        )?;
        fsio::write_atomic(&self.dir, WALLET_FILE, &file.encode())
    }

    /// The ids of the record files, sorted; other files (temporaries) are skipped.
    fn record_ids(&self) -> Result<Vec<CredentialId>, WalletError> {
        let dir = self.credentials_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(WalletError::io(&dir, err)),
        };
        let mut ids = Vec::new();
        for (scanned, entry) in entries.enumerate() {
            if scanned >= CREDENTIALS_DIR_ENTRIES_MAX {
                return Err(WalletError::corrupt(
                    &dir,
                    format!("more than {CREDENTIALS_DIR_ENTRIES_MAX} entries"),
                ));
            }
            let name = entry.map_err(|err| WalletError::io(&dir, err))?.file_name();
            match name.to_str().and_then(CredentialId::from_file_name) {
                Some(id) => ids.push(id),
                None => debug!(?name, "skipping a file that is not a credential record"),
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }
}

impl fmt::Debug for WalletStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalletStore")
            .field("dir", &self.dir)
            .field("wallet_id", &self.wallet_id)
            .field(
                "holder_public",
                &hex::encode(self.holder_public().as_bytes()),
            )
            .field("kdf", &self.kdf)
            .finish_non_exhaustive()
    }
}

/// Whether `dir` exists and holds at least one entry.
fn has_records(dir: &Path) -> Result<bool, WalletError> {
    match fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_some()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(WalletError::io(dir, err)),
    }
}

/// Draws an id that names no existing record.
fn fresh_id(
    existing: &[CredentialId],
    dir: &Path,
    rng: &mut impl CryptoRngCore,
) -> Result<CredentialId, WalletError> {
    for _ in 0..ID_DRAWS_MAX {
        let id = CredentialId::random(rng);
        // `existing` is sorted by `record_ids`.
        if existing.binary_search(&id).is_err() {
            return Ok(id);
        }
    }
    Err(WalletError::io(
        dir,
        io::Error::other("the random number generator keeps repeating credential ids"),
    ))
}

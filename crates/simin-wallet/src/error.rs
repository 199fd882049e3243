//! The error type of the wallet crate.

use std::path::PathBuf;

use crate::store::CredentialId;

/// Why a wallet operation failed.
///
/// The variants a user can cause and fix ([`WalletError::WrongPassphrase`],
/// [`WalletError::AlreadyExists`], [`WalletError::NotFound`]) are distinct from the ones
/// that mean the files were damaged or tampered with ([`WalletError::Corrupt`]), so a
/// front end can tell "type it again" from "restore your backup".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalletError {
    /// `create` was pointed at a directory that already holds a wallet.
    #[error("a wallet already exists in {path}; refusing to overwrite it")]
    AlreadyExists {
        /// The wallet directory.
        path: PathBuf,
    },
    /// `open` was pointed at a directory without a wallet file.
    #[error("no wallet in {path} (no wallet.json there)")]
    NotFound {
        /// The wallet directory.
        path: PathBuf,
    },
    /// The passphrase does not unlock the wallet.
    #[error("wrong passphrase: it does not unlock this wallet")]
    WrongPassphrase,
    /// The passphrase was refused before any key derivation (empty or too long).
    #[error("unusable passphrase: {reason}")]
    InvalidPassphrase {
        /// Why it is refused.
        reason: &'static str,
    },
    /// A wallet or credential file is damaged or was tampered with.
    #[error("{path} is corrupt: {reason}")]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A file was written by a newer (or unknown) version of the wallet format.
    #[error("{path} has format version {found}, this build reads only version {supported}")]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version the file declares.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// A file is larger than any file this crate writes; it is not read.
    #[error("{path} is {size_bytes} bytes, above the limit of {limit_bytes} bytes")]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size_bytes: u64,
        /// The largest size accepted.
        limit_bytes: u64,
    },
    /// A credential record is too large to be stored.
    #[error("the credential record takes {size_bytes} bytes on disk, above the limit of {limit_bytes} bytes")]
    RecordTooLarge {
        /// The size it would take (or a lower bound of it).
        size_bytes: u64,
        /// The largest record file accepted.
        limit_bytes: u64,
    },
    /// The wallet holds as many credentials as it may.
    #[error("the wallet holds {limit} credentials, the most it may hold")]
    TooManyCredentials {
        /// The largest number of credentials.
        limit: usize,
    },
    /// No credential with this id is stored.
    #[error("no credential {id} in the wallet")]
    CredentialNotFound {
        /// The id asked for.
        id: CredentialId,
    },
    /// Text that should be a credential id is not one.
    #[error("invalid credential id {input:?}: expected 32 lowercase hex characters")]
    InvalidCredentialId {
        /// The text given (cut to its first 64 characters).
        input: String,
    },
    /// Key-derivation parameters outside the range this crate accepts.
    #[error("invalid key-derivation parameters: {reason}")]
    InvalidKdfParams {
        /// Which bound is broken.
        reason: String,
    },
    /// Argon2 refused to run; with validated parameters this does not happen.
    #[error("key derivation failed: {reason}")]
    Kdf {
        /// Argon2's message.
        reason: String,
    },
    /// The AEAD refused to encrypt; with bounded inputs this does not happen.
    #[error("encryption failed")]
    Encrypt,
    /// A file-system operation failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl WalletError {
    /// A [`WalletError::Corrupt`] for `path`.
    pub(crate) fn corrupt(path: &std::path::Path, reason: impl Into<String>) -> Self {
        Self::Corrupt {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    /// A [`WalletError::Io`] for `path`.
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

//! The JSON encoding of `wallet.json` and of credential record files (see the format
//! description in the parent module).
//!
//! Decoding treats the bytes as adversarial: every field is checked for its exact
//! length and canonical spelling, unknown fields are refused, and any failure is a
//! [`WalletError::Corrupt`] (or [`WalletError::UnsupportedVersion`]), never a panic.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ids::{parse_lower_hex, CredentialId, WalletId};
use super::kdf::{KdfParams, KEY_LEN, SALT_LEN};
use super::seal::{NONCE_LEN, TAG_LEN};
use crate::error::WalletError;

/// The format version this build writes and reads.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// The `format` tag of `wallet.json`.
const WALLET_FORMAT: &str = "simin-wallet";
/// The `format` tag of a credential record file.
const RECORD_FORMAT: &str = "simin-wallet-credential";
/// The only key-derivation function of version 1.
const KDF_ALGORITHM: &str = "argon2id-v19";
/// The only AEAD of version 1.
const AEAD_ALGORITHM: &str = "xchacha20poly1305";
/// Domain separation of the `wallet.json` checksum.
const CHECKSUM_DOMAIN: &[u8] = b"simin-wallet/checksum\0";

/// The length in bytes of the wrapped secrets: holder secret key, then data key.
pub(crate) const SECRETS_LEN: usize = 64;

/// The decoded content of `wallet.json`.
#[derive(Debug)]
pub(crate) struct WalletFile {
    pub(crate) wallet_id: WalletId,
    pub(crate) holder_public: [u8; 32],
    pub(crate) kdf: KdfParams,
    pub(crate) salt: [u8; SALT_LEN],
    pub(crate) kdf_check: [u8; KEY_LEN],
    pub(crate) nonce: [u8; NONCE_LEN],
    pub(crate) ciphertext: Vec<u8>,
}

/// The decoded content of a credential record file.
#[derive(Debug)]
pub(crate) struct RecordFile {
    pub(crate) id: CredentialId,
    pub(crate) nonce: [u8; NONCE_LEN],
    pub(crate) ciphertext: Vec<u8>,
}

/// Only the fields every version shares, read first to pick the decoder.
#[derive(Deserialize)]
struct Probe {
    format: Option<String>,
    version: Option<u32>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WalletJson {
    format: String,
    version: u32,
    wallet_id: String,
    holder_public: String,
    kdf: KdfJson,
    aead: String,
    nonce: String,
    ciphertext: String,
    checksum: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfJson {
    algorithm: String,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
    check: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordJson {
    format: String,
    version: u32,
    id: String,
    nonce: String,
    ciphertext: String,
}

impl WalletFile {
    /// The SHA-256 of every field, which catches accidental damage (a flipped bit in
    /// the salt would otherwise read as a wrong passphrase). It is not a defence against
    /// deliberate tampering; the AEAD is.
    fn checksum(&self) -> [u8; 32] {
        // usize to u64 is lossless on every supported target.
        let ciphertext_len = self.ciphertext.len() as u64;
        Sha256::new()
            .chain_update(CHECKSUM_DOMAIN)
            .chain_update(FORMAT_VERSION.to_be_bytes())
            .chain_update(self.wallet_id.as_bytes())
            .chain_update(self.holder_public)
            .chain_update(self.kdf.m_cost_kib.to_be_bytes())
            .chain_update(self.kdf.t_cost.to_be_bytes())
            .chain_update(self.kdf.p_cost.to_be_bytes())
            .chain_update(self.salt)
            .chain_update(self.kdf_check)
            .chain_update(self.nonce)
            .chain_update(ciphertext_len.to_be_bytes())
            .chain_update(&self.ciphertext)
            .finalize()
            .into()
    }

    /// The bytes of `wallet.json`.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let json = WalletJson {
            format: WALLET_FORMAT.to_owned(),
            version: FORMAT_VERSION,
            wallet_id: self.wallet_id.to_string(),
            holder_public: hex::encode(self.holder_public),
            kdf: KdfJson {
                algorithm: KDF_ALGORITHM.to_owned(),
                m_cost_kib: self.kdf.m_cost_kib,
                t_cost: self.kdf.t_cost,
                p_cost: self.kdf.p_cost,
                salt: BASE64.encode(self.salt),
                check: hex::encode(self.kdf_check),
            },
            aead: AEAD_ALGORITHM.to_owned(),
            nonce: BASE64.encode(self.nonce),
            ciphertext: BASE64.encode(&self.ciphertext),
            checksum: hex::encode(self.checksum()),
        };
        to_json_bytes(&json)
    }

    /// Decodes `wallet.json` read from `path`.
    pub(crate) fn decode(bytes: &[u8], path: &Path) -> Result<Self, WalletError> {
        probe(bytes, path, WALLET_FORMAT)?;
        let corrupt = |reason: String| WalletError::corrupt(path, reason);
        let json: WalletJson =
            serde_json::from_slice(bytes).map_err(|err| corrupt(format!("invalid JSON: {err}")))?;
        if json.kdf.algorithm != KDF_ALGORITHM {
            return Err(corrupt(format!(
                "unknown kdf algorithm {:?}",
                json.kdf.algorithm
            )));
        }
        if json.aead != AEAD_ALGORITHM {
            return Err(corrupt(format!("unknown aead {:?}", json.aead)));
        }
        let file = Self {
            wallet_id: WalletId::parse(&json.wallet_id)
                .ok_or_else(|| corrupt("wallet_id is not 32 lowercase hex characters".into()))?,
            holder_public: hex_field(&json.holder_public, "holder_public").map_err(corrupt)?,
            kdf: KdfParams {
                m_cost_kib: json.kdf.m_cost_kib,
                t_cost: json.kdf.t_cost,
                p_cost: json.kdf.p_cost,
            },
            salt: base64_array(&json.kdf.salt, "kdf.salt").map_err(corrupt)?,
            kdf_check: hex_field(&json.kdf.check, "kdf.check").map_err(corrupt)?,
            nonce: base64_array(&json.nonce, "nonce").map_err(corrupt)?,
            ciphertext: base64_vec(&json.ciphertext, "ciphertext").map_err(corrupt)?,
        };
        let checksum: [u8; 32] = hex_field(&json.checksum, "checksum").map_err(corrupt)?;
        if checksum != file.checksum() {
            return Err(corrupt("checksum mismatch: the file was damaged".into()));
        }
        if file.ciphertext.len() != SECRETS_LEN + TAG_LEN {
            return Err(corrupt(format!(
                "ciphertext is {} bytes, expected {}",
                file.ciphertext.len(),
                SECRETS_LEN + TAG_LEN
            )));
        }
        file.kdf
            .validate()
            .map_err(|err| corrupt(format!("kdf parameters: {err}")))?;
        Ok(file)
    }
}

impl RecordFile {
    /// The bytes of a record file.
    pub(crate) fn encode(&self) -> Vec<u8> {
        to_json_bytes(&RecordJson {
            format: RECORD_FORMAT.to_owned(),
            version: FORMAT_VERSION,
            id: self.id.to_string(),
            nonce: BASE64.encode(self.nonce),
            ciphertext: BASE64.encode(&self.ciphertext),
        })
    }

    /// Decodes a record file read from `path`.
    pub(crate) fn decode(bytes: &[u8], path: &Path) -> Result<Self, WalletError> {
        probe(bytes, path, RECORD_FORMAT)?;
        let corrupt = |reason: String| WalletError::corrupt(path, reason);
        let json: RecordJson =
            serde_json::from_slice(bytes).map_err(|err| corrupt(format!("invalid JSON: {err}")))?;
        let ciphertext = base64_vec(&json.ciphertext, "ciphertext").map_err(corrupt)?;
        if ciphertext.len() < TAG_LEN {
            return Err(corrupt("ciphertext is shorter than a tag".into()));
        }
        Ok(Self {
            id: json
                .id
                .parse()
                .map_err(|_| corrupt("id is not 32 lowercase hex characters".into()))?,
            nonce: base64_array(&json.nonce, "nonce").map_err(corrupt)?,
            ciphertext,
        })
    }
}

/// Checks the format tag and the version before the full decoding.
fn probe(bytes: &[u8], path: &Path, format: &str) -> Result<(), WalletError> {
    let probe: Probe = serde_json::from_slice(bytes)
        .map_err(|err| WalletError::corrupt(path, format!("invalid JSON: {err}")))?;
    if probe.format.as_deref() != Some(format) {
        return Err(WalletError::corrupt(path, format!("not a {format} file")));
    }
    match probe.version {
        Some(FORMAT_VERSION) => Ok(()),
        Some(found) => Err(WalletError::UnsupportedVersion {
            path: path.to_path_buf(),
            found,
            supported: FORMAT_VERSION,
        }),
        None => Err(WalletError::corrupt(path, "no version field")),
    }
}

/// Pretty JSON with a final newline, so the files read well in an editor.
fn to_json_bytes(value: &impl Serialize) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .expect("these structs hold only strings and integers, which always serialize");
    bytes.push(b'\n');
    bytes
}

fn hex_field<const N: usize>(text: &str, field: &str) -> Result<[u8; N], String> {
    parse_lower_hex(text)
        .ok_or_else(|| format!("{field} is not {} lowercase hex characters", 2 * N))
}

fn base64_vec(text: &str, field: &str) -> Result<Vec<u8>, String> {
    BASE64
        .decode(text)
        .map_err(|err| format!("{field} is not canonical base64: {err}"))
}

fn base64_array<const N: usize>(text: &str, field: &str) -> Result<[u8; N], String> {
    let bytes = base64_vec(text, field)?;
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{field} is {} bytes, expected {N}", bytes.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> WalletFile {
        WalletFile {
            wallet_id: WalletId::parse("000102030405060708090a0b0c0d0e0f").expect("a valid id"),
            holder_public: [1; 32],
            kdf: KdfParams::insecure_for_tests(),
            salt: [2; SALT_LEN],
            kdf_check: [3; KEY_LEN],
            nonce: [4; NONCE_LEN],
            ciphertext: vec![5; SECRETS_LEN + TAG_LEN],
        }
    }

    #[test]
    fn wallet_file_round_trips() {
        let path = Path::new("wallet.json");
        let bytes = sample().encode();
        let decoded = WalletFile::decode(&bytes, path).expect("it decodes");
        assert_eq!(decoded.encode(), bytes);
    }

    #[test]
    fn unknown_version_is_typed() {
        let bytes = String::from_utf8(sample().encode())
            .expect("utf-8")
            .replace("\"version\": 1,", "\"version\": 7,");
        assert!(matches!(
            WalletFile::decode(bytes.as_bytes(), Path::new("w")),
            Err(WalletError::UnsupportedVersion {
                found: 7,
                supported: 1,
                ..
            })
        ));
    }

    #[test]
    fn uppercase_hex_is_refused() {
        let bytes = String::from_utf8(sample().encode())
            .expect("utf-8")
            .replace("0a0b0c", "0A0B0C");
        assert!(matches!(
            WalletFile::decode(bytes.as_bytes(), Path::new("w")),
            Err(WalletError::Corrupt { .. })
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = WalletFile::decode(&bytes, Path::new("w"));
            let _ = RecordFile::decode(&bytes, Path::new("r"));
        }

        #[test]
        fn record_file_round_trips(
            id in any::<[u8; 16]>(),
            nonce in any::<[u8; NONCE_LEN]>(),
            ciphertext in proptest::collection::vec(any::<u8>(), TAG_LEN..512),
        ) {
            let file = RecordFile {
                id: hex::encode(id).parse().expect("a valid id"),
                nonce,
                ciphertext,
            };
            let bytes = file.encode();
            let decoded = RecordFile::decode(&bytes, Path::new("r")).expect("it decodes");
            prop_assert_eq!(decoded.id, file.id);
            prop_assert_eq!(decoded.nonce, file.nonce);
            prop_assert_eq!(decoded.ciphertext, file.ciphertext);
        }
    }
}

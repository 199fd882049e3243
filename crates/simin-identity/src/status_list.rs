//! W3C Bitstring Status List v1.0: the bitstring, its `encodedList` form, the
//! `BitstringStatusListEntry` a credential carries, and the status list credential.
//!
//! Index 0 is the most significant (left-most) bit of the first byte. The
//! `encodedList` is the multibase base64url (`u`, no padding) of the GZIP-compressed
//! bitstring. Only one bit per entry (`statusSize` 1) is supported; the `message`
//! purpose with wider entries is refused.
//!
//! Verifying the status list credential's own proof and validity period is the
//! caller's job (see [`crate::di`]); this module reads its content.

use std::io::{Read, Write};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use flate2::{Compression, GzBuilder};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Minimum number of entries in a list: the spec's 16 KiB, for group privacy.
pub const STATUS_LIST_BITS_MIN: usize = 131_072;

/// Maximum number of entries this crate creates or decodes (2 MiB uncompressed).
pub const STATUS_LIST_BITS_MAX: usize = 1 << 24;

/// Multibase prefix of base64url without padding.
pub const MULTIBASE_BASE64URL: char = 'u';

/// The longest `statusListIndex` string accepted (`u64::MAX` has 20 digits).
const INDEX_DIGITS_MAX: usize = 20;

/// Why a status list operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusListError {
    /// The list length is not a multiple of 8 within the limits.
    #[error(
        "status list of {bits} bits is invalid: it must be a multiple of 8 from {min} to {max}"
    )]
    InvalidLength {
        /// The requested or decoded length in bits.
        bits: usize,
        /// [`STATUS_LIST_BITS_MIN`].
        min: usize,
        /// [`STATUS_LIST_BITS_MAX`].
        max: usize,
    },
    /// An index at or past the end of the list.
    #[error("status list index {index} is out of range for a list of {len} entries")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The number of entries.
        len: usize,
    },
    /// `statusListIndex` is not a canonical decimal string.
    #[error("statusListIndex is not a decimal integer string: {reason}")]
    InvalidIndex {
        /// What is wrong.
        reason: &'static str,
    },
    /// `statusListIndex` does not fit in this platform's `usize`.
    #[error("statusListIndex overflows")]
    IndexOverflow,
    /// The caller's `max_bits` bound is below the spec minimum, so nothing can decode.
    #[error("max_bits {max_bits} is below the minimum list length {min}")]
    LimitBelowMinimum {
        /// The bound given.
        max_bits: usize,
        /// [`STATUS_LIST_BITS_MIN`].
        min: usize,
    },
    /// `encodedList` lacks the multibase `u` prefix (e.g. a StatusList2021 value).
    #[error("encodedList must be multibase base64url: it must start with 'u'")]
    MissingMultibasePrefix,
    /// `encodedList` is longer than any list within the bound can compress to.
    #[error("encodedList is {len} characters, above the limit of {max}")]
    EncodedTooLong {
        /// Length of the input.
        len: usize,
        /// The limit derived from `max_bits`.
        max: usize,
    },
    /// The base64url text does not decode (padding is refused).
    #[error("encodedList is not base64url without padding: {0}")]
    Base64(String),
    /// The GZIP data is corrupt.
    #[error("encodedList is not valid GZIP: {0}")]
    Gzip(String),
    /// The list decompresses to more than the caller's bound.
    #[error("encodedList decompresses to more than {max_bits} bits")]
    DecompressedTooLarge {
        /// The bound in bits.
        max_bits: usize,
    },
    /// Bytes follow the GZIP member.
    #[error("encodedList has data after the GZIP stream")]
    TrailingData,
    /// `validFrom` is not an XML Schema `dateTimeStamp`.
    #[error("validFrom {value:?} is not an XML Schema dateTimeStamp")]
    InvalidDateTime {
        /// The value given.
        value: String,
    },
    /// The status list credential lacks a field or has the wrong shape.
    #[error("not a BitstringStatusListCredential: {reason}")]
    MalformedCredential {
        /// What is wrong.
        reason: &'static str,
    },
    /// The entry points at another status list credential.
    #[error("the entry's statusListCredential is not this credential's id")]
    CredentialMismatch,
    /// The entry's purpose differs from the list's.
    #[error("entry purpose {entry} does not match the list's purpose {list}")]
    PurposeMismatch {
        /// The entry's purpose.
        entry: StatusPurpose,
        /// The list's purpose.
        list: StatusPurpose,
    },
    /// The entry uses more than one bit per status.
    #[error("statusSize {0} is not supported (only 1)")]
    UnsupportedStatusSize(u32),
}

/// What a set bit means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusPurpose {
    /// Set bit: the credential is revoked for good.
    Revocation,
    /// Set bit: the credential is suspended for now.
    Suspension,
    /// Set bit: a newer version of the credential should be fetched.
    Refresh,
    /// A status message (needs `statusSize` above 1, which is unsupported).
    Message,
}

impl StatusPurpose {
    /// The JSON name of the purpose.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusPurpose::Revocation => "revocation",
            StatusPurpose::Suspension => "suspension",
            StatusPurpose::Refresh => "refresh",
            StatusPurpose::Message => "message",
        }
    }
}

impl std::fmt::Display for StatusPurpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The only `type` of a [`BitstringStatusListEntry`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BitstringStatusListEntryType {
    /// `"BitstringStatusListEntry"`.
    #[default]
    BitstringStatusListEntry,
}

/// A credential's `credentialStatus` entry pointing into a status list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BitstringStatusListEntry {
    /// Optional URL identifying the entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Always `BitstringStatusListEntry`; any other value fails to deserialize.
    #[serde(rename = "type")]
    pub entry_type: BitstringStatusListEntryType,
    /// What a set bit means.
    pub status_purpose: StatusPurpose,
    /// The position in the list as a decimal string, as the spec requires.
    pub status_list_index: String,
    /// URL of the status list credential.
    pub status_list_credential: String,
    /// Bits per status; absent means 1, the only size supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_size: Option<u32>,
}

impl BitstringStatusListEntry {
    /// An entry for `index` in the list published at `status_list_credential`.
    pub fn new(
        id: Option<String>,
        status_purpose: StatusPurpose,
        index: usize,
        status_list_credential: String,
    ) -> Self {
        BitstringStatusListEntry {
            id,
            entry_type: BitstringStatusListEntryType::BitstringStatusListEntry,
            status_purpose,
            status_list_index: index.to_string(),
            status_list_credential,
            status_size: None,
        }
    }

    /// The entry's index, parsed with [`status_list_index`].
    pub fn index(&self) -> Result<usize, StatusListError> {
        status_list_index(&self.status_list_index)
    }
}

/// Parses a `statusListIndex`: ASCII digits only, no sign, no leading zero (except
/// `"0"` itself), no overflow.
pub fn status_list_index(text: &str) -> Result<usize, StatusListError> {
    let invalid = |reason| Err(StatusListError::InvalidIndex { reason });
    if text.is_empty() {
        return invalid("empty");
    }
    if text.len() > INDEX_DIGITS_MAX {
        return invalid("too many digits");
    }
    if !text.bytes().all(|c| c.is_ascii_digit()) {
        return invalid("only the digits 0-9 are allowed");
    }
    if text.len() > 1 && text.starts_with('0') {
        return invalid("leading zeros are not allowed");
    }
    text.bytes().try_fold(0usize, |acc, c| {
        acc.checked_mul(10)
            .and_then(|acc| acc.checked_add(usize::from(c - b'0')))
            .ok_or(StatusListError::IndexOverflow)
    })
}

/// A bitstring of statuses, one bit per entry, all clear when created.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusList {
    bytes: Vec<u8>,
}

impl std::fmt::Debug for StatusList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Printing up to 2 MiB of bits helps nobody; the set count does.
        let set: u32 = self.bytes.iter().map(|b| b.count_ones()).sum();
        f.debug_struct("StatusList")
            .field("bits", &self.bit_len())
            .field("set", &set)
            .finish()
    }
}

impl StatusList {
    /// A list of `bits` clear entries: a multiple of 8 from [`STATUS_LIST_BITS_MIN`]
    /// to [`STATUS_LIST_BITS_MAX`].
    pub fn new(bits: usize) -> Result<Self, StatusListError> {
        check_length(bits)?;
        Ok(StatusList {
            bytes: vec![0; bits / 8],
        })
    }

    /// A list over raw bytes (most significant bit first), with the same length rules
    /// as [`StatusList::new`].
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, StatusListError> {
        check_length(bytes.len().saturating_mul(8))?;
        Ok(StatusList { bytes })
    }

    /// Number of entries.
    pub fn bit_len(&self) -> usize {
        // Cannot overflow: the length was checked against STATUS_LIST_BITS_MAX.
        self.bytes.len() * 8
    }

    /// The raw bitstring.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The status bit at `index`.
    pub fn get(&self, index: usize) -> Result<bool, StatusListError> {
        let (byte, mask) = self.locate(index)?;
        Ok(self.bytes[byte] & mask != 0)
    }

    /// Sets or clears the status bit at `index`.
    pub fn set(&mut self, index: usize, value: bool) -> Result<(), StatusListError> {
        let (byte, mask) = self.locate(index)?;
        if value {
            self.bytes[byte] |= mask;
        } else {
            self.bytes[byte] &= !mask;
        }
        Ok(())
    }

    /// The `encodedList` value: `u` + base64url (no padding) of the GZIP bitstring.
    pub fn encode(&self) -> String {
        // A fixed header (no name, mtime 0) keeps the output a function of the bits.
        let mut encoder = GzBuilder::new()
            .mtime(0)
            .write(Vec::new(), Compression::best());
        encoder
            .write_all(&self.bytes)
            .expect("writing to a Vec cannot fail");
        let compressed = encoder.finish().expect("writing to a Vec cannot fail");
        let mut out = String::with_capacity(compressed.len().saturating_mul(4) / 3 + 2);
        out.push(MULTIBASE_BASE64URL);
        URL_SAFE_NO_PAD.encode_string(&compressed, &mut out);
        out
    }

    /// Decodes an `encodedList`, refusing anything that would exceed `max_bits`
    /// entries (capped at [`STATUS_LIST_BITS_MAX`]) before allocating for it: at
    /// most `max_bits / 8 + 1` bytes are ever decompressed.
    ///
    /// Strict: the multibase `u` prefix is required (unprefixed StatusList2021 values
    /// are refused), padding is refused, the GZIP checksum must match, nothing may
    /// follow the GZIP member, and the result must satisfy the length rules.
    pub fn decode(encoded: &str, max_bits: usize) -> Result<Self, StatusListError> {
        let max_bits = max_bits.min(STATUS_LIST_BITS_MAX);
        if max_bits < STATUS_LIST_BITS_MIN {
            return Err(StatusListError::LimitBelowMinimum {
                max_bits,
                min: STATUS_LIST_BITS_MIN,
            });
        }
        let max_bytes = max_bits / 8;
        let body = encoded
            .strip_prefix(MULTIBASE_BASE64URL)
            .ok_or(StatusListError::MissingMultibasePrefix)?;
        // GZIP never grows data by more than a few bytes per 64 KiB block plus its
        // header; the slack allows header fields such as a file name.
        let compressed_max = max_bytes + max_bytes / 1024 + 1024;
        let encoded_max = compressed_max / 3 * 4 + 4;
        if body.len() > encoded_max {
            return Err(StatusListError::EncodedTooLong {
                len: body.len(),
                max: encoded_max,
            });
        }
        let compressed = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|e| StatusListError::Base64(e.to_string()))?;
        let mut decoder = flate2::bufread::GzDecoder::new(compressed.as_slice());
        let mut bytes = Vec::new();
        // One byte past the bound tells "exactly at the bound" from "above it".
        let limit = u64::try_from(max_bytes + 1).unwrap_or(u64::MAX);
        (&mut decoder)
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(|e| StatusListError::Gzip(e.to_string()))?;
        if bytes.len() > max_bytes {
            return Err(StatusListError::DecompressedTooLarge { max_bits });
        }
        if !decoder.into_inner().is_empty() {
            return Err(StatusListError::TrailingData);
        }
        StatusList::from_bytes(bytes)
    }

    fn locate(&self, index: usize) -> Result<(usize, u8), StatusListError> {
        if index >= self.bit_len() {
            return Err(StatusListError::IndexOutOfRange {
                index,
                len: self.bit_len(),
            });
        }
        // Index 0 is the most significant bit of byte 0.
        Ok((index / 8, 0x80 >> (index % 8)))
    }
}

fn check_length(bits: usize) -> Result<(), StatusListError> {
    if !bits.is_multiple_of(8) || !(STATUS_LIST_BITS_MIN..=STATUS_LIST_BITS_MAX).contains(&bits) {
        return Err(StatusListError::InvalidLength {
            bits,
            min: STATUS_LIST_BITS_MIN,
            max: STATUS_LIST_BITS_MAX,
        });
    }
    Ok(())
}

/// An unsigned VC Data Model 2.0 `BitstringStatusListCredential` publishing `list`
/// under `id`, with `credentialSubject.id` = `<id>#list`. Secure it with
/// [`crate::di::create_proof_jcs`] (or as a JWT) before publishing.
pub fn status_list_credential(
    id: &str,
    issuer: &str,
    purpose: StatusPurpose,
    list: &StatusList,
    valid_from: Option<&str>,
) -> Result<Value, StatusListError> {
    let mut credential = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "credentialSubject": {
            "id": format!("{id}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": list.encode(),
        },
    });
    if let Some(valid_from) = valid_from {
        if !crate::di::is_date_time_stamp(valid_from) {
            return Err(StatusListError::InvalidDateTime {
                value: valid_from.chars().take(64).collect(),
            });
        }
        credential["validFrom"] = valid_from.into();
    }
    Ok(credential)
}

/// The purpose and list a `BitstringStatusListCredential` publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedStatusList {
    /// The credential's `id`.
    pub id: String,
    /// What a set bit means.
    pub purpose: StatusPurpose,
    /// The decoded list.
    pub list: StatusList,
}

/// Reads a `BitstringStatusListCredential` (whose proof the caller has verified),
/// decoding `encodedList` within `max_bits`.
pub fn read_status_list_credential(
    credential: &Value,
    max_bits: usize,
) -> Result<PublishedStatusList, StatusListError> {
    let malformed = |reason| StatusListError::MalformedCredential { reason };
    let types = credential["type"]
        .as_array()
        .ok_or_else(|| malformed("type is not an array"))?;
    if !types.iter().any(|t| t == "BitstringStatusListCredential") {
        return Err(malformed("type lacks BitstringStatusListCredential"));
    }
    let id = credential["id"]
        .as_str()
        .ok_or_else(|| malformed("id is missing"))?;
    let subject = &credential["credentialSubject"];
    if subject["type"] != "BitstringStatusList" {
        return Err(malformed(
            "credentialSubject.type is not BitstringStatusList",
        ));
    }
    let purpose = StatusPurpose::deserialize(&subject["statusPurpose"])
        .map_err(|_| malformed("credentialSubject.statusPurpose is missing or unknown"))?;
    let encoded = subject["encodedList"]
        .as_str()
        .ok_or_else(|| malformed("credentialSubject.encodedList is missing"))?;
    Ok(PublishedStatusList {
        id: id.to_owned(),
        purpose,
        list: StatusList::decode(encoded, max_bits)?,
    })
}

/// The status bit an entry points at in a published list: `true` means the entry's
/// purpose applies (e.g. revoked). Checks that the entry names this credential and
/// purpose and uses one bit per status.
pub fn entry_status(
    entry: &BitstringStatusListEntry,
    published: &PublishedStatusList,
) -> Result<bool, StatusListError> {
    if let Some(size) = entry.status_size.filter(|size| *size != 1) {
        return Err(StatusListError::UnsupportedStatusSize(size));
    }
    if entry.status_list_credential != published.id {
        return Err(StatusListError::CredentialMismatch);
    }
    if entry.status_purpose != published.purpose {
        return Err(StatusListError::PurposeMismatch {
            entry: entry.status_purpose,
            list: published.purpose,
        });
    }
    published.list.get(entry.index()?)
}

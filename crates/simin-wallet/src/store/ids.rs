//! The identifiers of a wallet and of its credential records.

use std::fmt;
use std::str::FromStr;

use rand_core::CryptoRngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::WalletError;

/// The length in bytes of a [`WalletId`] and of a [`CredentialId`].
pub(crate) const ID_LEN: usize = 16;

/// Parses exactly `2 * N` lowercase hex characters.
///
/// Uppercase is refused so that every value has one spelling: an id has one file name
/// and a changed byte of a file is never read as the same value.
pub(crate) fn parse_lower_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let canonical = text.len() == 2 * N
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !canonical {
        return None;
    }
    let mut bytes = [0u8; N];
    hex::decode_to_slice(text, &mut bytes).ok()?;
    Some(bytes)
}

/// The random id of a wallet, fixed at creation.
///
/// It is bound into the associated data of every ciphertext of the wallet, so a record
/// copied from another wallet does not decrypt here even under the same data key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WalletId([u8; ID_LEN]);

impl WalletId {
    /// Draws a fresh id.
    pub(crate) fn random(rng: &mut impl CryptoRngCore) -> Self {
        let mut bytes = [0u8; ID_LEN];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Parses the lowercase hex form written in `wallet.json`.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        parse_lower_hex(text).map(Self)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; ID_LEN] {
        &self.0
    }
}

impl fmt::Display for WalletId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for WalletId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WalletId({self})")
    }
}

/// The id of a stored credential record: 16 random bytes, written as 32 lowercase hex
/// characters, which is also the record's file name (`credentials/<id>.json`).
///
/// It is random rather than a hash of the credential so that ids reveal nothing about
/// the content and storing the same credential twice gives two independent records.
/// Parsing is strict, so an id taken from user input can never name a path outside the
/// credentials directory.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CredentialId([u8; ID_LEN]);

impl CredentialId {
    /// Draws a fresh id.
    pub(crate) fn random(rng: &mut impl CryptoRngCore) -> Self {
        let mut bytes = [0u8; ID_LEN];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; ID_LEN] {
        &self.0
    }

    /// The name of the record's file in the credentials directory.
    pub(crate) fn file_name(&self) -> String {
        format!("{self}.json")
    }

    /// The id named by a record file name, or `None` for any other file.
    pub(crate) fn from_file_name(name: &str) -> Option<Self> {
        name.strip_suffix(".json")
            .and_then(parse_lower_hex)
            .map(Self)
    }
}

impl fmt::Display for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialId({self})")
    }
}

impl FromStr for CredentialId {
    type Err = WalletError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_lower_hex(text)
            .map(Self)
            .ok_or_else(|| WalletError::InvalidCredentialId {
                input: text.chars().take(64).collect(),
            })
    }
}

impl Serialize for CredentialId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CredentialId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn credential_id_parsing_is_strict() {
        let good = "00112233445566778899aabbccddeeff";
        let id: CredentialId = good.parse().expect("a canonical id parses");
        assert_eq!(id.to_string(), good);
        for bad in [
            "",
            "00112233445566778899AABBCCDDEEFF",
            "00112233445566778899aabbccddeef",
            "00112233445566778899aabbccddeeff0",
            "../../../../../../../../etc/pass",
            "00112233445566778899aabbccddeefg",
        ] {
            assert!(
                bad.parse::<CredentialId>().is_err(),
                "{bad:?} must be refused"
            );
        }
        assert_eq!(CredentialId::from_file_name(&id.file_name()), Some(id));
        assert_eq!(CredentialId::from_file_name(good), None);
        assert_eq!(CredentialId::from_file_name(".tmp.json"), None);
    }

    proptest! {
        #[test]
        fn credential_id_text_round_trips(bytes in any::<[u8; ID_LEN]>()) {
            let id = CredentialId(bytes);
            prop_assert_eq!(id.to_string().parse::<CredentialId>().ok(), Some(id));
            let json = serde_json::to_string(&id).expect("an id serializes");
            prop_assert_eq!(serde_json::from_str::<CredentialId>(&json).ok(), Some(id));
        }

        #[test]
        fn credential_id_parsing_never_panics(text in ".{0,80}") {
            let _ = text.parse::<CredentialId>();
        }
    }
}

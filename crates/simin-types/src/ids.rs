//! Identifiers and counters: chain id, heights, block time, organisation ids.

use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::TypesError;

/// Checks an identifier: 1 to 64 characters of `a-z`, `0-9`, `-`, `.`, starting alphanumeric.
fn check_id(what: &'static str, text: &str) -> Result<(), TypesError> {
    let ok_len = (1..=64).contains(&text.len());
    let ok_chars = text
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let ok_start = text
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok_len && ok_chars && ok_start {
        Ok(())
    } else {
        Err(TypesError::Invalid {
            what,
            reason: format!(
                "{text:?}: use 1 to 64 characters of a-z, 0-9, '-' and '.', starting with a letter or digit"
            ),
        })
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, Serialize)]
        pub struct $name(String);

        impl $name {
            pub fn new(text: impl Into<String>) -> Result<Self, TypesError> {
                let text = text.into();
                check_id($what, &text)?;
                Ok(Self(text))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = TypesError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        // Decoding re-checks the invariant, so no invalid id can enter through bytes.
        impl BorshDeserialize for $name {
            fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
                let text = String::deserialize_reader(reader)?;
                check_id($what, &text)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                Ok(Self(text))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Self::new(<String as Deserialize>::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_id!(
    /// The id of a chain, e.g. `simin-seoul-1`. Part of every signed message, so a
    /// signature for one chain is never valid on another.
    ChainId,
    "chain id"
);
string_id!(
    /// The id of a registered organisation, e.g. `seoul.notary` or `mapo-library`.
    OrgId,
    "organisation id"
);

/// A block height. Height 1 is the first block; height 0 is the genesis state.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct Height(pub u64);

impl Height {
    pub const GENESIS: Height = Height(0);

    /// The next height; `None` at `u64::MAX`.
    pub fn next(self) -> Option<Height> {
        self.0.checked_add(1).map(Height)
    }

    /// The previous height; `None` at genesis.
    pub fn prev(self) -> Option<Height> {
        self.0.checked_sub(1).map(Height)
    }
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Height({})", self.0)
    }
}

/// A block's time: milliseconds since the Unix epoch, chosen by the proposer and checked
/// by validators to be after the previous block's time.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Debug,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct BlockTime(pub u64);

impl BlockTime {
    pub fn as_millis(self) -> u64 {
        self.0
    }
}

impl fmt::Display for BlockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_on_every_path_in() {
        assert!(ChainId::new("simin-seoul-1").is_ok());
        for bad in ["", "Seoul", "-x", "a b", &"a".repeat(65)] {
            assert!(ChainId::new(bad).is_err(), "{bad:?} must be refused");
            let bytes = borsh::to_vec(&bad.to_string()).expect("encodes");
            assert!(borsh::from_slice::<OrgId>(&bytes).is_err());
            assert!(serde_json::from_str::<OrgId>(&format!("{bad:?}")).is_err());
        }
    }

    #[test]
    fn heights_do_not_wrap() {
        assert_eq!(Height(u64::MAX).next(), None);
        assert_eq!(Height::GENESIS.prev(), None);
    }
}

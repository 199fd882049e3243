//! Serde helpers that show byte strings as lowercase hex in JSON.

use serde::{Deserialize, Deserializer, Serializer};

/// Longest hex string accepted when reading a DTO back (a client parsing a response):
/// 16 MiB of bytes, far above any state value or proof the node sends.
const HEX_CHARS_MAX: usize = 32 * 1024 * 1024;

pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    decode(&text).map_err(serde::de::Error::custom)
}

fn decode(text: &str) -> Result<Vec<u8>, String> {
    if text.len() > HEX_CHARS_MAX {
        return Err(format!(
            "hex string of {} characters is over the limit of {HEX_CHARS_MAX}",
            text.len()
        ));
    }
    hex::decode(text).map_err(|e| format!("invalid hex: {e}"))
}

/// The same, for optional byte strings (`null` when absent).
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => super::serialize(bytes, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
        text.map(|t| super::decode(&t).map_err(serde::de::Error::custom))
            .transpose()
    }
}

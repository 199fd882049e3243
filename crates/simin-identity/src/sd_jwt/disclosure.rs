//! Disclosures: `[salt, name, value]` for object properties, `[salt, value]` for array
//! elements, base64url-encoded; the digest is base64url SHA-256 over the encoded text.

use std::io;

use serde::Serialize as _;
use serde_json::Value;

use super::SdJwtError;
use crate::jose::{b64url_decode, b64url_encode, b64url_sha256};

/// How the issuer writes the JSON inside a disclosure.
///
/// Any JSON text is valid, since the digest covers the encoded text itself; the choice
/// only matters for reproducing someone else's digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JsonStyle {
    /// No whitespace: `["salt","name","value"]`.
    #[default]
    Compact,
    /// A space after `,` and `:` with UTF-8 left unescaped, as in RFC 9901's examples and
    /// Python's `json.dumps` (which matches for ASCII text).
    Spaced,
}

/// A disclosure, with its encoded form and digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosure {
    encoded: String,
    digest: String,
    salt: String,
    name: Option<String>,
    value: Value,
}

impl Disclosure {
    /// Creates the disclosure of an object property (`name` is `Some`) or of an array
    /// element (`name` is `None`).
    pub fn new(salt: &str, name: Option<&str>, value: &Value, style: JsonStyle) -> Self {
        let mut array = vec![Value::from(salt)];
        if let Some(name) = name {
            array.push(Value::from(name));
        }
        array.push(value.clone());
        let json = to_json(&Value::Array(array), style);
        let encoded = b64url_encode(&json);
        Disclosure {
            digest: b64url_sha256(encoded.as_bytes()),
            encoded,
            salt: salt.to_owned(),
            name: name.map(str::to_owned),
            value: value.clone(),
        }
    }

    /// Decodes a disclosure; it must be a JSON array `[salt, name, value]` or `[salt, value]`
    /// whose salt and name are strings.
    pub fn parse(encoded: &str) -> Result<Self, SdJwtError> {
        let bytes =
            b64url_decode(encoded, "disclosure").map_err(|_| SdJwtError::MalformedDisclosure {
                reason: "not base64url",
            })?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|_| SdJwtError::MalformedDisclosure { reason: "not JSON" })?;
        let Value::Array(mut items) = value else {
            return Err(SdJwtError::MalformedDisclosure {
                reason: "not a JSON array",
            });
        };
        let (salt, name, value) = match items.len() {
            2 => {
                let value = items.pop();
                (items.pop(), None, value)
            }
            3 => {
                let value = items.pop();
                let name = match items.pop() {
                    Some(Value::String(name)) => Some(name),
                    _ => {
                        return Err(SdJwtError::MalformedDisclosure {
                            reason: "the claim name is not a string",
                        })
                    }
                };
                (items.pop(), name, value)
            }
            _ => {
                return Err(SdJwtError::MalformedDisclosure {
                    reason: "not an array of two or three elements",
                })
            }
        };
        let (Some(Value::String(salt)), Some(value)) = (salt, value) else {
            return Err(SdJwtError::MalformedDisclosure {
                reason: "the salt is not a string",
            });
        };
        Ok(Disclosure {
            digest: b64url_sha256(encoded.as_bytes()),
            encoded: encoded.to_owned(),
            salt,
            name,
            value,
        })
    }

    /// The base64url text that goes between the `~`.
    pub fn encoded(&self) -> &str {
        &self.encoded
    }

    /// The digest the issuer-signed JWT embeds: base64url SHA-256 of [`Self::encoded`].
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The salt.
    pub fn salt(&self) -> &str {
        &self.salt
    }

    /// The claim name, for an object property; `None` for an array element.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The claim value as disclosed (it may hold further digests).
    pub fn value(&self) -> &Value {
        &self.value
    }
}

/// Serializes JSON in the given style.
pub(crate) fn to_json(value: &Value, style: JsonStyle) -> Vec<u8> {
    let mut out = Vec::new();
    let written = match style {
        JsonStyle::Compact => serde_json::to_writer(&mut out, value),
        JsonStyle::Spaced => {
            let mut serializer = serde_json::Serializer::with_formatter(&mut out, SpacedFormatter);
            value.serialize(&mut serializer)
        }
    };
    written.expect("a JSON value always serializes into a Vec");
    out
}

/// `", "` between elements and `": "` after keys, no other whitespace.
struct SpacedFormatter;

impl serde_json::ser::Formatter for SpacedFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }
}

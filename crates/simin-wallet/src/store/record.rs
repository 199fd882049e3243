//! Credential records: what the wallet keeps of each credential it received.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ids::CredentialId;

/// One stored credential, as issued, with what a wallet needs to list it.
///
/// It is stored encrypted under the wallet's data key, as JSON, in its own file.
/// `Debug` shows the length of `credential`, not its content, which is personal data.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialRecord {
    /// The credential format, such as `"dc+sd-jwt"` or `"ldp_vc"`.
    pub format: String,
    /// The credential exactly as the issuer sent it (compact SD-JWT, JSON-LD text, ...).
    pub credential: String,
    /// The credential type: the SD-JWT `vct`, or the VC `type`.
    pub type_name: String,
    /// The issuer identifier (a DID or URL).
    pub issuer: String,
    /// When the wallet received it, in unix seconds, given by the caller.
    pub received_at: u64,
    /// A name the citizen gave it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl CredentialRecord {
    /// A lower bound of the size of the record's JSON encoding, checked before encoding
    /// so an oversized credential is refused without a copy of it being made.
    pub(crate) fn size_hint(&self) -> usize {
        [
            self.format.len(),
            self.credential.len(),
            self.type_name.len(),
            self.issuer.len(),
            self.label.as_ref().map_or(0, String::len),
        ]
        .iter()
        .fold(0usize, |sum, len| sum.saturating_add(*len))
    }

    /// The listing view of this record.
    pub(crate) fn summary(&self, id: CredentialId) -> CredentialSummary {
        CredentialSummary {
            id,
            format: self.format.clone(),
            type_name: self.type_name.clone(),
            issuer: self.issuer.clone(),
            received_at: self.received_at,
            label: self.label.clone(),
        }
    }
}

impl fmt::Debug for CredentialRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialRecord")
            .field("format", &self.format)
            .field("credential_len", &self.credential.len())
            .field("type_name", &self.type_name)
            .field("issuer", &self.issuer)
            .field("received_at", &self.received_at)
            .field("label", &self.label)
            .finish()
    }
}

/// A stored credential without its content, for listings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialSummary {
    /// The record id, to pass to [`super::WalletStore::get_credential`].
    pub id: CredentialId,
    /// The credential format.
    pub format: String,
    /// The credential type.
    pub type_name: String,
    /// The issuer identifier.
    pub issuer: String,
    /// When the wallet received it, in unix seconds.
    pub received_at: u64,
    /// The citizen's name for it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

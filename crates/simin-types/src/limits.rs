//! Protocol limits. Every value that arrives from outside is bounded by one of these.

/// Largest encoded signed transaction.
pub const TX_BYTES_MAX: usize = 64 * 1024;
/// Largest encoded block (header and transactions).
pub const BLOCK_BYTES_MAX: usize = 8 * 1024 * 1024;
/// Most transactions in one block.
pub const BLOCK_TXS_MAX: usize = 20_000;
/// Most document hashes in one notary batch (32 KiB of hashes, within a transaction).
pub const NOTARY_BATCH_MAX: usize = 1024;
/// Longest organisation name, in bytes.
pub const ORG_NAME_BYTES_MAX: usize = 200;
/// Most keys or roles of one organisation.
pub const ORG_KEYS_MAX: usize = 16;
/// Most validators in a validator set.
pub const VALIDATORS_MAX: usize = 256;
/// Longest notary label (a non-personal document kind, e.g. "certificate-of-residence").
pub const NOTARY_LABEL_BYTES_MAX: usize = 64;
/// Most verification methods, or services, of one DID document.
pub const DID_ENTRIES_MAX: usize = 16;
/// Longest DID service endpoint URL, in bytes.
pub const DID_SERVICE_ENDPOINT_BYTES_MAX: usize = 512;
/// Most credential types named by one accreditation.
pub const ACCREDITATION_TYPES_MAX: usize = 32;
/// Longest accreditation chain from a city root to an issuer (city → agency → facility).
pub const ACCREDITATION_DEPTH_MAX: usize = 4;
/// Longest credential type name.
pub const CREDENTIAL_TYPE_BYTES_MAX: usize = 64;
/// Largest JSON Schema of a credential type.
pub const SCHEMA_BYTES_MAX: usize = 16 * 1024;
/// Smallest status list: the W3C Bitstring Status List's minimum of 131,072 entries,
/// which keeps one holder's index from standing out.
pub const STATUS_LIST_BITS_MIN: u32 = 131_072;
/// Largest status list (16 Mi entries, 2 MiB).
pub const STATUS_LIST_BITS_MAX: u32 = 1 << 24;
/// Most bits set or cleared by one `SetStatus`.
pub const STATUS_UPDATES_MAX: usize = 1024;
/// Most key epochs a DID document remembers (current and retired keys).
pub const DID_KEY_HISTORY_MAX: usize = 64;

/// Most redirect URIs of one service registration.
pub const SERVICE_REDIRECT_URIS_MAX: usize = 8;
/// Longest redirect URI, in bytes.
pub const REDIRECT_URI_BYTES_MAX: usize = 512;
/// Most scopes one service may ask for.
pub const SERVICE_SCOPES_MAX: usize = 32;
/// Longest scope or claim name, in bytes.
pub const SCOPE_BYTES_MAX: usize = 64;
/// Longest client id, in bytes.
pub const CLIENT_ID_BYTES_MAX: usize = 64;
/// Most services the registry holds.
pub const SERVICES_MAX: usize = 4096;
/// Most access entries in one `RecordAccess` call.
pub const ACCESS_ENTRIES_MAX: usize = 512;
/// Most claim names in one access entry.
pub const ACCESS_CLAIMS_MAX: usize = 32;
/// Longest pairwise subject, in bytes.
pub const SUBJECT_BYTES_MAX: usize = 64;

/// Most readings in one batch.
pub const READINGS_PER_BATCH_MAX: u32 = 65_536;
/// Most datasets one source may feed.
pub const SOURCE_DATASETS_MAX: usize = 16;
/// Longest benefit policy, in bytes.
pub const POLICY_BYTES_MAX: usize = 16 * 1024;
/// Most evidence hashes of one decision.
pub const DECISION_EVIDENCE_MAX: usize = 16;

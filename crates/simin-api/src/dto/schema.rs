//! OpenAPI schemas of the simin-types values that appear in DTOs.
//!
//! simin-types has no OpenAPI dependency (it is pure data), so its JSON shapes are
//! described here, field for field. These types are never built: they only feed utoipa.
//! The test `json_of_every_dto_matches_its_schema` serializes real values and checks them
//! against these schemas, so a change in simin-types that is not mirrored here fails CI.

// Field names and doc comments are the OpenAPI output; the structs are never constructed.
#![allow(dead_code)]

use std::borrow::Cow;

use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

/// Declares a hex string schema with an exact length (in characters) or any even length.
macro_rules! hex_schema {
    ($(#[$doc:meta])* $name:ident, $pattern:literal, $description:literal) => {
        $(#[$doc])*
        #[derive(Debug, Serialize)]
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some($pattern))
                    .description(Some($description))
                    .into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

hex_schema!(
    /// A SHA-256 hash.
    HashHex,
    "^[0-9a-f]{64}$",
    "A SHA-256 hash: 64 lowercase hex characters."
);
hex_schema!(
    /// An Ed25519 public key.
    PublicKeyHex,
    "^[0-9a-f]{64}$",
    "An Ed25519 public key: 64 lowercase hex characters."
);
hex_schema!(
    /// An Ed25519 signature.
    SignatureHex,
    "^[0-9a-f]{128}$",
    "An Ed25519 signature: 128 lowercase hex characters."
);
hex_schema!(
    /// Arbitrary bytes.
    BytesHex,
    "^([0-9a-f]{2})*$",
    "Bytes as lowercase hex, two characters per byte."
);

/// A block header; its hash is the block hash validators vote for.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockHeader {
    /// The chain id, e.g. `simin-seoul-1`.
    chain_id: String,
    /// The block height (1 is the first block).
    height: u64,
    /// Milliseconds since the Unix epoch, chosen by the proposer.
    time: u64,
    /// Hash of the previous header (all zeros at height 1).
    prev_block_hash: HashHex,
    /// RFC 9162 Merkle root over the block's transaction hashes.
    tx_root: HashHex,
    /// Merkle root over the block's encoded receipts.
    receipts_root: HashHex,
    /// Root of the authenticated state after applying this block.
    state_root: HashHex,
    /// Hash of the validator set deciding this height.
    validators_hash: HashHex,
    /// The proposer's key.
    proposer: PublicKeyHex,
}

/// A block: its header and its transactions.
#[derive(Debug, Serialize, ToSchema)]
pub struct Block {
    header: BlockHeader,
    txs: Vec<SignedTx>,
}

/// A transaction with its signer's signature.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedTx {
    tx: Tx,
    /// Ed25519 signature over the transaction's sign bytes.
    signature: SignatureHex,
}

/// An unsigned transaction.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tx {
    chain_id: String,
    signer: PublicKeyHex,
    /// Must equal the signer's next nonce when executed.
    nonce: u64,
    /// The last height at which the transaction may be included.
    expiry_height: u64,
    call: Call,
}

/// What a transaction asks the ledger to do, addressed to one module.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "module", content = "call", rename_all = "snake_case")]
pub enum Call {
    Governance(GovernanceCall),
    Notary(NotaryCall),
    Auth(AuthCall),
}

/// Calls of the governance module.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GovernanceCall {
    RegisterOrganization(Organization),
    UpdateOrganization(Organization),
    DeactivateOrganization {
        id: String,
    },
    /// Sets a validator's voting power from the next height on; 0 removes it.
    SetValidator {
        public_key: PublicKeyHex,
        voting_power: u64,
    },
}

/// A registered organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Organization {
    id: String,
    name: String,
    keys: Vec<PublicKeyHex>,
    roles: Vec<Role>,
    active: bool,
}

/// What an organisation may do.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agency,
    Notary,
    Issuer,
    Service,
    Facility,
    Inspector,
    Dealer,
    Insurer,
    DataSource,
    IdentityProvider,
}

/// Calls of the notary module.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotaryCall {
    /// Anchors the SHA-256 of one document.
    Anchor { document: HashHex },
    /// Anchors the Merkle root of many document hashes.
    AnchorBatch { documents: Vec<HashHex> },
}

/// Calls of the auth module: the service registry and the access log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthCall {
    /// Registers a service (an OpenID Connect client) or replaces its registration.
    RegisterService(ServiceRegistration),
    /// Ends a registration.
    DeregisterService { client_id: String },
    /// Records what an identity provider released to services.
    RecordAccess { entries: Vec<AccessEntry> },
}

/// A service that signs citizens in with the citizen card.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceRegistration {
    client_id: String,
    organization: String,
    name: String,
    redirect_uris: Vec<String>,
    scopes: Vec<String>,
    /// SHA-256 of a confidential client's secret; `null` for a public client.
    secret_hash: Option<HashHex>,
    active: bool,
}

/// One release of claims to a service.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessEntry {
    kind: AccessKind,
    client_id: String,
    /// The pairwise subject the service knows the citizen by.
    subject: String,
    /// The names of the released claims, sorted.
    claims: Vec<String>,
    /// SHA-256 of the token the service received.
    commitment: HashHex,
    /// Milliseconds since the Unix epoch, by the identity provider's clock.
    released_at: u64,
}

/// What kind of release an access record logs.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessKind {
    Login,
    Verification,
}

/// The result of one transaction in a block.
#[derive(Debug, Serialize, ToSchema)]
pub struct Receipt {
    tx_hash: HashHex,
    height: u64,
    /// Position of the transaction in its block.
    index: u32,
    outcome: TxOutcome,
}

/// Success, or a failure that changed nothing but consumed the signer's nonce.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TxOutcome {
    Success,
    /// `code` is stable and machine-readable (e.g. `notary.already_anchored`).
    Failure {
        code: String,
        message: String,
    },
}

/// The precommits of more than two thirds of the voting power for one block.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitCertificate {
    height: u64,
    round: u32,
    block_hash: HashHex,
    signatures: Vec<CommitSignature>,
}

/// One validator's precommit signature.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitSignature {
    validator: PublicKeyHex,
    signature: SignatureHex,
}

/// The validators deciding a height, sorted by public key.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
}

/// One validator and its voting power.
#[derive(Debug, Serialize, ToSchema)]
pub struct Validator {
    public_key: PublicKeyHex,
    voting_power: u64,
}

/// What the notary stores under a document hash or a batch root.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotaryRecord {
    /// The anchoring organisation's id.
    organization: String,
    /// The key that signed the anchoring transaction.
    signer: PublicKeyHex,
    /// The height of the block that anchored it.
    height: u64,
    /// That block's time, in milliseconds since the Unix epoch.
    time: u64,
    /// The anchoring transaction.
    tx_hash: HashHex,
    /// Number of documents under this anchor (1, or n for a batch root).
    documents: u32,
}

/// An RFC 9162 inclusion proof (audit path) of one leaf.
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    leaf_index: u64,
    tree_size: u64,
    /// Sibling hashes from the leaf up to the root.
    path: Vec<HashHex>,
}

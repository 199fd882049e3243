//! simin's core types and their one canonical binary encoding (borsh, ADR 0002).
//!
//! Pure data and pure functions: no I/O, no clock, no randomness. Everything that crosses
//! a process boundary or is hashed is defined here, so that every crate, the API and
//! clients agree on its bytes.

pub mod auth;
mod block;
mod cert;
mod codec;
pub mod data;
mod error;
mod evidence;
mod genesis;
pub mod identity;
mod ids;
pub mod limits;
pub mod state_keys;
mod tx;

pub mod calls;

pub use auth::{AccessEntry, AccessKind, AccessRecord, AuthCall, ServiceRegistration};
pub use block::{Block, BlockHeader, Receipt, TxOutcome};
pub use calls::{
    Call, ConsensusCall, GovernanceCall, NotaryCall, NotaryRecord, Organization, Role,
};
pub use cert::{vote_sign_bytes, CommitCertificate, CommitSignature, Validator, ValidatorSet};
pub use codec::{decode, encode};
pub use data::{
    reading_leaf, BatchRecord, Benefit, Consent, DataCall, DataSource, Dataset,
    EligibilityDecision, PersonalRecord, ReadingBatch, ReadingLeaf, RecordEvent, RecordLogEntry,
};
pub use error::TypesError;
pub use evidence::{
    signed_vote_bytes, ConflictingVote, Equivocation, EquivocationRecord, VoteKind, WhichVote,
};
pub use genesis::{Genesis, GenesisAccreditation, GenesisDid, GenesisIdentity, GenesisSchema};
pub use identity::{
    Accreditation, AccreditationTerms, DidRecord, DidService, IdentityCall, KeyEpoch, Relationship,
    SchemaRecord, StatusListRecord, StatusPurpose, StatusUpdate, VerificationMethod,
};
pub use ids::{BlockTime, ChainId, Height, OrgId};
pub use simin_crypto::{merkle, CryptoError, Hash, PublicKey, Signature, SigningKey};
pub use tx::{SignedTx, Tx};

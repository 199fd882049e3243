//! The layout of the authenticated state: which key holds what.
//!
//! Clients use these functions too: to check a state proof, a client must know that the
//! proven key is the one its question maps to (a node could otherwise prove another key).

use crate::{Hash, Height, OrgId, PublicKey, VoteKind};

/// The next nonce of an account (a `u64`, borsh).
pub fn account_nonce(account: &PublicKey) -> Vec<u8> {
    [b"acct/nonce/".as_slice(), &account.0].concat()
}

/// A registered organisation (an `Organization`, borsh).
pub fn organization(id: &OrgId) -> Vec<u8> {
    [b"gov/org/".as_slice(), id.as_str().as_bytes()].concat()
}

/// Which organisation a key belongs to (an `OrgId`, borsh).
pub fn organization_of_key(key: &PublicKey) -> Vec<u8> {
    [b"gov/key/".as_slice(), &key.0].concat()
}

/// The city authority keys (a `Vec<PublicKey>`, borsh).
pub fn authorities() -> Vec<u8> {
    b"gov/authorities".to_vec()
}

/// The validator set (a `ValidatorSet`, borsh), written at genesis and changed by
/// `GovernanceCall::SetValidator`.
///
/// The rule: **the set stored in the state after block H decides height H+1.** The
/// genesis state (version 0) holds the set of height 1; a change made in block H takes
/// effect at H+1; and the `validators_hash` of the header at height h is the hash of the
/// set in the state after block h-1, the set whose precommits certify that header. A
/// light client that trusts header h can thus prove the set of h+1 from h's state root.
pub fn validator_set() -> Vec<u8> {
    b"consensus/validators".to_vec()
}

/// A notary anchor (a `NotaryRecord`, borsh), under a document hash or a batch root.
pub fn notary_anchor(hash: &Hash) -> Vec<u8> {
    [b"notary/anchor/".as_slice(), &hash.0].concat()
}

/// A checked equivocation of `validator` (an `EquivocationRecord`, borsh): one record per
/// validator, height, round and vote kind, whatever the pair of votes reported. Height
/// and round are big-endian, so one validator's records sort by height.
pub fn equivocation(validator: &PublicKey, height: Height, round: u32, kind: VoteKind) -> Vec<u8> {
    [
        b"consensus/equivocation/".as_slice(),
        &validator.0,
        &height.0.to_be_bytes(),
        &round.to_be_bytes(),
        &[kind.tag()],
    ]
    .concat()
}

/// The DID document of an organisation (a `DidRecord`, borsh).
pub fn did(organization: &OrgId) -> Vec<u8> {
    [
        b"identity/did/".as_slice(),
        organization.as_str().as_bytes(),
    ]
    .concat()
}

/// The accreditation of an issuer (an `Accreditation`, borsh).
pub fn accreditation(issuer: &OrgId) -> Vec<u8> {
    [
        b"identity/accreditation/".as_slice(),
        issuer.as_str().as_bytes(),
    ]
    .concat()
}

/// The JSON Schema of a credential type (a `SchemaRecord`, borsh).
pub fn schema(credential_type: &str) -> Vec<u8> {
    [b"identity/schema/".as_slice(), credential_type.as_bytes()].concat()
}

/// A status list of an issuer (a `StatusListRecord`, borsh). Organisation ids never
/// contain `/`, so the issuer part cannot run into the list number.
pub fn status_list(issuer: &OrgId, list: u32) -> Vec<u8> {
    [
        b"identity/status/".as_slice(),
        issuer.as_str().as_bytes(),
        b"/",
        &list.to_be_bytes(),
    ]
    .concat()
}

/// One chunk of a status list's bits (a `Vec<u8>` of `STATUS_CHUNK_BYTES`, borsh).
pub fn status_chunk(issuer: &OrgId, list: u32, chunk: u32) -> Vec<u8> {
    [
        status_list(issuer, list).as_slice(),
        b"/",
        &chunk.to_be_bytes(),
    ]
    .concat()
}

/// A registered service (a `ServiceRegistration`, borsh).
pub fn service(client_id: &str) -> Vec<u8> {
    [b"auth/service/".as_slice(), client_id.as_bytes()].concat()
}

/// The client ids of every service ever registered, in registration order (a
/// `Vec<String>`, borsh), so a citizen's log can be gathered service by service.
pub fn services() -> Vec<u8> {
    b"auth/services".to_vec()
}

/// How many access records a pairwise subject has (a `u64`, borsh).
pub fn access_count(subject: &str) -> Vec<u8> {
    [b"auth/access/".as_slice(), subject.as_bytes(), b"/n"].concat()
}

/// The access record number `seq` (from 0) of a pairwise subject (an `AccessRecord`,
/// borsh). Subjects are base64url and never contain `/`; `seq` is big-endian, so one
/// subject's records sort in order.
pub fn access_record(subject: &str, seq: u64) -> Vec<u8> {
    [
        b"auth/access/".as_slice(),
        subject.as_bytes(),
        b"/r/",
        &seq.to_be_bytes(),
    ]
    .concat()
}

/// A dataset (a `Dataset`, borsh).
pub fn dataset(id: &str) -> Vec<u8> {
    [b"data/dataset/".as_slice(), id.as_bytes()].concat()
}

/// A data source (a `DataSource`, borsh).
pub fn data_source(id: &str) -> Vec<u8> {
    [b"data/source/".as_slice(), id.as_bytes()].concat()
}

/// The `seq` of a source's last committed batch (a `u64`, borsh; absent: none yet).
pub fn data_source_seq(id: &str) -> Vec<u8> {
    [b"data/seq/".as_slice(), id.as_bytes()].concat()
}

/// A committed batch of a source (a `BatchRecord`, borsh). Source ids never contain
/// `/`; `seq` is big-endian, so one source's batches sort in order.
pub fn data_batch(source: &str, seq: u64) -> Vec<u8> {
    [
        b"data/batch/".as_slice(),
        source.as_bytes(),
        b"/",
        &seq.to_be_bytes(),
    ]
    .concat()
}

/// A personal record (a `PersonalRecord`, borsh).
pub fn personal_record(id: &Hash) -> Vec<u8> {
    [b"data/record/".as_slice(), &id.0].concat()
}

/// A consent (a `Consent`, borsh). Organisation ids never contain `/`.
pub fn consent(record: &Hash, organization: &OrgId, purpose: &str) -> Vec<u8> {
    [
        b"data/consent/".as_slice(),
        &record.0,
        organization.as_str().as_bytes(),
        b"/",
        purpose.as_bytes(),
    ]
    .concat()
}

/// How many log entries a record has (a `u64`, borsh).
pub fn record_log_count(record: &Hash) -> Vec<u8> {
    [b"data/log/".as_slice(), &record.0, b"n"].concat()
}

/// Entry `seq` (from 0) of a record's log (a `RecordLogEntry`, borsh).
pub fn record_log(record: &Hash, seq: u64) -> Vec<u8> {
    [b"data/log/".as_slice(), &record.0, b"r", &seq.to_be_bytes()].concat()
}

/// A benefit's requirements (a `Benefit`, borsh).
pub fn benefit(id: &str) -> Vec<u8> {
    [b"data/benefit/".as_slice(), id.as_bytes()].concat()
}

/// An eligibility decision (an `EligibilityDecision`, borsh).
pub fn decision(id: &Hash) -> Vec<u8> {
    [b"data/decision/".as_slice(), &id.0].concat()
}

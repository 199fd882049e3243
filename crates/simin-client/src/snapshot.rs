//! A kiosk's offline view of the chain: every state value a facility's verifier needs,
//! each with its proof, all under one header and its commit certificate.
//!
//! [`KioskSnapshot::sync`] fetches, at one certified height, the DID records of the
//! trusted issuers, their full accreditation chains, the schemas of the accepted
//! credential types, every status list of those issuers and all their chunks. The file
//! ([`KioskSnapshot::to_json`]) keeps the proofs, so [`KioskSnapshot::from_json`]
//! re-verifies all of it against the trust anchor each time it is loaded: a file whose
//! values, proofs, header or certificate were changed is refused as a whole. A
//! `KioskSnapshot` value therefore always holds proven state; it implements
//! [`StateView`], and reading a key it does not hold is an error (the credential
//! verifier reports it as `state_unavailable`), never an absence.
//!
//! Unlike [`crate::ProvenState`], which keeps values only and reads a few keys for one
//! presentation, a snapshot keeps every proof and may hold a few thousand keys (a status
//! list of the largest size has 2,048 chunks).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use simin_api::dto::StateLookup;
use simin_ledger::identity::{accreditation, did_record, schema, status_list};
use simin_ledger::{StateReadError, StateView};
use simin_state::{verify_proof, ProofError, StateProof};
use simin_types::identity::{STATUS_CHUNK_BITS, STATUS_CHUNK_BYTES};
use simin_types::{limits, state_keys, BlockHeader, BlockTime, ChainId, CommitCertificate};
use simin_types::{Hash, Height, OrgId};

use crate::verify::{verify_header, verify_state_lookup, VerifyError};
use crate::{Client, ClientError, TrustAnchor};

/// The version of the snapshot file format.
pub const SNAPSHOT_FORMAT: u32 = 1;
/// Most state keys one snapshot holds (a sync that needs more is refused).
pub const SNAPSHOT_KEYS_MAX: usize = 8_192;
/// Largest snapshot file read.
pub const SNAPSHOT_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Most status lists read per issuer; lists are numbered from 0 and the first absent
/// number ends the walk.
pub const STATUS_LISTS_PER_ISSUER_MAX: u32 = 64;
/// Most issuers and credential types one snapshot covers.
pub const SCOPE_ITEMS_MAX: usize = 32;

/// Why a snapshot could not be built or loaded.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the node's answer for a state key does not verify: {0}")]
    Verify(#[from] VerifyError),
    #[error("the node answered at height {got}, not at the pinned height {pinned}")]
    WrongHeight { pinned: Height, got: Height },
    #[error("two answers at height {height} carry different headers")]
    HeaderMismatch { height: Height },
    #[error("the snapshot would need more than {0} state keys")]
    TooManyKeys(usize),
    #[error("the scope is invalid: {0}")]
    Scope(String),
    #[error("issuer {0} has no DID document on chain")]
    UnknownIssuer(OrgId),
    #[error("credential type {0:?} has no registered schema on chain")]
    UnknownType(String),
    #[error("chain state is malformed: {0}")]
    State(String),
    #[error("the snapshot file is not valid: {0}")]
    Format(String),
    #[error("the snapshot is for chain {got}, but the trusted chain is {expected}")]
    ChainMismatch { expected: ChainId, got: ChainId },
    #[error("the snapshot's {what} does not match its header")]
    HeaderFields { what: &'static str },
    #[error("the proof of state key {key} does not verify: {reason}")]
    Proof { key: String, reason: ProofError },
}

/// What a kiosk verifies: its facility, the credential types it accepts, the issuers
/// it trusts. Organisations accredited for a type cannot be listed from chain state
/// (accreditations are keyed by issuer), so issuers are named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotScope {
    /// The facility's organisation (the presentations' audience is its `did:simin`).
    pub facility: String,
    pub accepted_types: Vec<String>,
    pub issuers: Vec<OrgId>,
}

/// One proven state value (`value: None`: proven absent). Keys, values and proofs are
/// hex in the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    #[serde(with = "hex_bytes")]
    key: Vec<u8>,
    #[serde(with = "hex_option")]
    value: Option<Vec<u8>>,
    #[serde(with = "hex_bytes")]
    proof: Vec<u8>,
}

/// The snapshot file (`snapshot.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotFile {
    format: u32,
    chain_id: ChainId,
    height: Height,
    /// The block time, Unix milliseconds (the header's).
    block_time_ms: u64,
    block_hash: Hash,
    /// When the kiosk synced, Unix seconds by its own clock (informational, unproven).
    synced_at: i64,
    scope: SnapshotScope,
    header: BlockHeader,
    certificate: CommitCertificate,
    entries: Vec<Entry>,
}

/// Proven chain state for an offline kiosk (see the module documentation).
#[derive(Clone, Debug)]
pub struct KioskSnapshot {
    file: SnapshotFile,
    values: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl KioskSnapshot {
    pub fn chain_id(&self) -> &ChainId {
        &self.file.chain_id
    }

    pub fn height(&self) -> Height {
        self.file.height
    }

    /// The certified block's time: the age of the state the kiosk decides on.
    pub fn block_time(&self) -> BlockTime {
        BlockTime(self.file.block_time_ms)
    }

    pub fn block_hash(&self) -> Hash {
        self.file.block_hash
    }

    pub fn synced_at(&self) -> i64 {
        self.file.synced_at
    }

    pub fn scope(&self) -> &SnapshotScope {
        &self.file.scope
    }

    /// How many keys (values and proven absences) the snapshot holds.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Fetches and proves, at the node's latest height, everything `scope` needs.
    /// `synced_at` is the kiosk's clock (Unix seconds).
    pub async fn sync(
        client: &Client,
        trusted: &TrustAnchor,
        scope: &SnapshotScope,
        synced_at: i64,
    ) -> Result<KioskSnapshot, SnapshotError> {
        check_scope(scope)?;
        let height = client.status().await?.latest_height;
        let mut builder = Builder::new(height);
        for credential_type in &scope.accepted_types {
            let key = state_keys::schema(credential_type);
            builder.fetch(client, trusted, &key).await?;
            if schema(&builder, credential_type).map_err(state)?.is_none() {
                return Err(SnapshotError::UnknownType(credential_type.clone()));
            }
        }
        for issuer in &scope.issuers {
            builder
                .fetch(client, trusted, &state_keys::did(issuer))
                .await?;
            if did_record(&builder, issuer).map_err(state)?.is_none() {
                return Err(SnapshotError::UnknownIssuer(issuer.clone()));
            }
            builder
                .fetch_accreditations(client, trusted, issuer)
                .await?;
            builder.fetch_status_lists(client, trusted, issuer).await?;
        }
        builder.finish(scope.clone(), synced_at)
    }

    /// Builds a snapshot from lookups a caller already has (each is verified here).
    pub fn from_lookups(
        trusted: &TrustAnchor,
        scope: SnapshotScope,
        synced_at: i64,
        lookups: &[StateLookup],
    ) -> Result<KioskSnapshot, SnapshotError> {
        let first = lookups
            .first()
            .ok_or_else(|| SnapshotError::Format("no state lookups".into()))?;
        let mut builder = Builder::new(first.height);
        for lookup in lookups {
            builder.insert(lookup, &lookup.key, trusted)?;
        }
        builder.finish(scope, synced_at)
    }

    /// The snapshot file's bytes (pretty JSON).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(&self.file).expect("a snapshot serializes: it is plain data")
    }

    /// Reads a snapshot file and re-verifies every value against `trusted`: the header
    /// against its certificate and the trusted validator set, each value (or absence)
    /// against the header's state root.
    pub fn from_json(bytes: &[u8], trusted: &TrustAnchor) -> Result<KioskSnapshot, SnapshotError> {
        if bytes.len() > SNAPSHOT_BYTES_MAX {
            return Err(SnapshotError::Format(format!(
                "{} bytes, over the limit of {SNAPSHOT_BYTES_MAX}",
                bytes.len()
            )));
        }
        let file: SnapshotFile =
            serde_json::from_slice(bytes).map_err(|e| SnapshotError::Format(e.to_string()))?;
        if file.format != SNAPSHOT_FORMAT {
            return Err(SnapshotError::Format(format!(
                "format {} is not the supported format {SNAPSHOT_FORMAT}",
                file.format
            )));
        }
        if file.entries.len() > SNAPSHOT_KEYS_MAX {
            return Err(SnapshotError::TooManyKeys(SNAPSHOT_KEYS_MAX));
        }
        check_scope(&file.scope)?;
        if file.chain_id != trusted.chain_id {
            return Err(SnapshotError::ChainMismatch {
                expected: trusted.chain_id.clone(),
                got: file.chain_id.clone(),
            });
        }
        let block_hash = verify_header(&file.header, &file.certificate, None, trusted)?;
        let header_fields = [
            ("height", file.header.height == file.height),
            ("block time", file.header.time.0 == file.block_time_ms),
            ("block hash", block_hash == file.block_hash),
        ];
        if let Some((what, _)) = header_fields.iter().find(|(_, ok)| !ok) {
            return Err(SnapshotError::HeaderFields { what });
        }
        let mut values = BTreeMap::new();
        for entry in &file.entries {
            let proof_error = |reason| SnapshotError::Proof {
                key: entry.key.escape_ascii().to_string(),
                reason,
            };
            let proof = StateProof::from_bytes(&entry.proof).map_err(proof_error)?;
            verify_proof(
                &file.header.state_root,
                &entry.key,
                entry.value.as_deref(),
                &proof,
            )
            .map_err(proof_error)?;
            if values
                .insert(entry.key.clone(), entry.value.clone())
                .is_some()
            {
                return Err(SnapshotError::Format(format!(
                    "state key {} appears twice",
                    entry.key.escape_ascii()
                )));
            }
        }
        Ok(KioskSnapshot { file, values })
    }
}

impl StateView for KioskSnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateReadError> {
        self.values.get(key).cloned().ok_or_else(|| StateReadError {
            key: key.to_vec(),
            reason: "not in the kiosk's snapshot (an issuer or type it was not synced for)".into(),
        })
    }
}

fn state(e: simin_ledger::LedgerError) -> SnapshotError {
    SnapshotError::State(e.to_string())
}

fn check_scope(scope: &SnapshotScope) -> Result<(), SnapshotError> {
    let bad = |reason: &str| Err(SnapshotError::Scope(reason.to_owned()));
    if scope.accepted_types.is_empty() || scope.issuers.is_empty() {
        return bad("name at least one accepted credential type and one issuer");
    }
    if scope.accepted_types.len() > SCOPE_ITEMS_MAX || scope.issuers.len() > SCOPE_ITEMS_MAX {
        return bad("at most 32 accepted types and 32 issuers");
    }
    if OrgId::new(&scope.facility).is_err() {
        return bad("the facility is not an organisation id");
    }
    Ok(())
}

/// Proven lookups gathered at one height, with their proofs.
struct Builder {
    height: Height,
    header: Option<(BlockHeader, CommitCertificate, Hash)>,
    /// Key to (value or proven absence, proof).
    entries: BTreeMap<Vec<u8>, ProvenValue>,
}

/// A value (`None`: proven absent) and its proof's bytes.
type ProvenValue = (Option<Vec<u8>>, Vec<u8>);

impl Builder {
    fn new(height: Height) -> Builder {
        Builder {
            height,
            header: None,
            entries: BTreeMap::new(),
        }
    }

    async fn fetch(
        &mut self,
        client: &Client,
        trusted: &TrustAnchor,
        key: &[u8],
    ) -> Result<(), SnapshotError> {
        if self.entries.contains_key(key) {
            return Ok(());
        }
        if self.entries.len() >= SNAPSHOT_KEYS_MAX {
            return Err(SnapshotError::TooManyKeys(SNAPSHOT_KEYS_MAX));
        }
        let lookup = client.state_at(key, self.height).await?;
        self.insert(&lookup, key, trusted)
    }

    fn insert(
        &mut self,
        lookup: &StateLookup,
        key: &[u8],
        trusted: &TrustAnchor,
    ) -> Result<(), SnapshotError> {
        if lookup.height != self.height {
            return Err(SnapshotError::WrongHeight {
                pinned: self.height,
                got: lookup.height,
            });
        }
        let verified = verify_state_lookup(lookup, key, trusted)?;
        match &self.header {
            Some((_, _, hash)) if *hash != verified.block_hash => {
                return Err(SnapshotError::HeaderMismatch {
                    height: self.height,
                })
            }
            Some(_) => {}
            None => {
                self.header = Some((
                    lookup.header.clone(),
                    lookup.certificate.clone(),
                    verified.block_hash,
                ))
            }
        }
        let proof = lookup.proof.clone().ok_or(VerifyError::ProofMissing)?;
        self.entries.insert(key.to_vec(), (verified.value, proof));
        Ok(())
    }

    /// The issuer's accreditation and those of its accreditors, up to a root.
    async fn fetch_accreditations(
        &mut self,
        client: &Client,
        trusted: &TrustAnchor,
        issuer: &OrgId,
    ) -> Result<(), SnapshotError> {
        let mut current = issuer.clone();
        // One more than the deepest valid chain, so a too-long chain is refused by the
        // verifier with its own reason rather than looking broken.
        for _ in 0..=limits::ACCREDITATION_DEPTH_MAX {
            self.fetch(client, trusted, &state_keys::accreditation(&current))
                .await?;
            match accreditation(self, &current).map_err(state)? {
                Some(acc) => match acc.accredited_by {
                    Some(next) => current = next,
                    None => return Ok(()),
                },
                None => return Ok(()),
            }
        }
        Ok(())
    }

    /// Every status list of `issuer` (from 0 until one is absent) and all its chunks.
    async fn fetch_status_lists(
        &mut self,
        client: &Client,
        trusted: &TrustAnchor,
        issuer: &OrgId,
    ) -> Result<(), SnapshotError> {
        for list in 0..STATUS_LISTS_PER_ISSUER_MAX {
            self.fetch(client, trusted, &state_keys::status_list(issuer, list))
                .await?;
            let Some(record) = status_list(self, issuer, list).map_err(state)? else {
                return Ok(());
            };
            let chunks = record.size_bits.div_ceil(STATUS_CHUNK_BITS);
            for chunk in 0..chunks {
                let key = state_keys::status_chunk(issuer, list, chunk);
                self.fetch(client, trusted, &key).await?;
            }
        }
        Ok(())
    }

    fn finish(self, scope: SnapshotScope, synced_at: i64) -> Result<KioskSnapshot, SnapshotError> {
        let (header, certificate, block_hash) = self
            .header
            .ok_or_else(|| SnapshotError::Format("no state was proven".into()))?;
        let entries: Vec<Entry> = self
            .entries
            .into_iter()
            .map(|(key, (value, proof))| Entry { key, value, proof })
            .collect();
        let values = entries
            .iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect();
        let file = SnapshotFile {
            format: SNAPSHOT_FORMAT,
            chain_id: header.chain_id.clone(),
            height: header.height,
            block_time_ms: header.time.0,
            block_hash,
            synced_at,
            scope,
            header,
            certificate,
            entries,
        };
        Ok(KioskSnapshot { file, values })
    }
}

impl StateView for Builder {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateReadError> {
        match self.entries.get(key) {
            Some((value, _)) => Ok(value.clone()),
            None => Err(StateReadError {
                key: key.to_vec(),
                reason: "not fetched".into(),
            }),
        }
    }
}

// A status chunk is read whole; its size is what `STATUS_CHUNK_BITS` counts.
const _: () = assert!(STATUS_CHUNK_BYTES * 8 == STATUS_CHUNK_BITS as usize);

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

mod hex_option {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => s.serialize_str(&hex::encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| hex::decode(text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;

//! [`Vault`]: what the endpoints do. Creating a record seals it and registers its
//! commitment on chain; reading checks the reader's committed `LogAccess`; erasing
//! destroys the key once the chain logged the erasure.

use std::path::Path;

use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use simin_types::{
    Call, DataCall, Hash, OrgId, PersonalRecord, PublicKey, Signature, SigningKey, TxOutcome,
};
use tracing::{info, warn};
use zeroize::Zeroize;

use crate::error::{RequestError, VaultError};
use crate::node::NodeLink;
use crate::seal::{open, seal, RecordKey};
use crate::store::{RecordMeta, Store};

/// The largest record content accepted, in bytes of JSON.
pub const CONTENT_BYTES_MAX: usize = 32 * 1024;
/// How many blocks after its `LogAccess` a reader may redeem it, by default.
pub const READ_WINDOW_BLOCKS_DEFAULT: u64 = 20;
/// The domain tag of a read request's signed bytes.
const READ_REQUEST_TAG: &str = "simin-records/read/v1";

/// Who runs the vault and where its node is.
#[derive(Clone, Debug)]
pub struct VaultConfig {
    /// The holding organisation: it signs `CreateRecord` and holder erasures.
    pub org: OrgId,
    /// The API base URL of the simin node.
    pub node_url: String,
    /// How many blocks a committed `LogAccess` stays redeemable.
    pub read_window_blocks: u64,
}

/// The vault's secrets.
pub struct VaultSecrets {
    /// One of the holding organisation's keys.
    pub org_key: SigningKey,
    /// The bearer token of the clerks' endpoints.
    pub admin_token: String,
}

impl std::fmt::Debug for VaultSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultSecrets")
            .field("org_key", &self.org_key.public_key())
            .field("admin_token", &"<redacted>")
            .finish()
    }
}

impl Drop for VaultSecrets {
    fn drop(&mut self) {
        self.admin_token.zeroize();
    }
}

/// `POST /admin/records`: a clerk files a record for a citizen's per-record key.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    /// e.g. `welfare_application`.
    pub kind: String,
    /// The public key the citizen's wallet derived for this record (hex).
    pub owner_public_key: PublicKey,
    /// The record's content; only its encryption leaves this request.
    pub content: Value,
}

/// A filed record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Created {
    pub id: Hash,
    pub commitment: Hash,
    pub height: u64,
    pub tx_hash: Hash,
}

/// `POST /records/{id}/read`: a reading organisation proves a committed `LogAccess`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    pub organization: OrgId,
    pub purpose: String,
    /// The hash of the reader's committed `LogAccess { record, purpose }`.
    pub tx_hash: Hash,
    /// The `LogAccess` signer's signature over [`read_request_bytes`].
    pub signature: Signature,
}

/// A released record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReadAnswer {
    pub id: Hash,
    pub kind: String,
    pub commitment: Hash,
    pub content: Value,
    /// The height of the `LogAccess` this read redeemed.
    pub logged_height: u64,
}

/// `POST /records/{id}/erase`: the owner's committed `EraseRecord` (or, with the admin
/// token and no body, the holder's own erasure).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    pub tx_hash: Option<Hash>,
}

/// An erased record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Erased {
    pub id: Hash,
    pub erased_height: u64,
    pub commitment: Hash,
}

/// The bytes a reader signs: they bind the request to the record, the organisation, the
/// purpose and the one `LogAccess` it redeems.
pub fn read_request_bytes(
    record: &Hash,
    organization: &OrgId,
    purpose: &str,
    tx: &Hash,
) -> Vec<u8> {
    format!("{READ_REQUEST_TAG}\n{record}\n{organization}\n{purpose}\n{tx}").into_bytes()
}

/// An organisation's vault of personal records.
pub struct Vault {
    config: VaultConfig,
    admin_token_digest: [u8; 32],
    store: Store,
    node: NodeLink,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("org", &self.config.org)
            .field("node", &self.config.node_url)
            .finish_non_exhaustive()
    }
}

fn is_kind(kind: &str) -> bool {
    (1..=64).contains(&kind.len())
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Vault {
    /// A vault over the database at `database` (created if absent).
    pub fn new(
        config: VaultConfig,
        secrets: VaultSecrets,
        database: &Path,
    ) -> Result<Vault, VaultError> {
        let admin_token_digest = Sha256::digest(secrets.admin_token.as_bytes()).into();
        Ok(Vault {
            store: Store::open(database)?,
            node: NodeLink::new(&config.node_url, secrets.org_key.clone())?,
            admin_token_digest,
            config,
        })
    }

    /// The holding organisation.
    pub fn org(&self) -> &OrgId {
        &self.config.org
    }

    /// What the vault waits for before it can file records, empty once ready: a node
    /// that answers and has committed a block, and the holding organisation active on
    /// chain with this vault's key (else every `CreateRecord` would be refused).
    pub async fn waiting_for(&self) -> Vec<String> {
        let node = match self.node.latest_height().await {
            Ok(0) => Some("the node's first block".to_owned()),
            Ok(_) => None,
            Err(e) => Some(format!("the node ({e})")),
        };
        if let Some(wait) = node {
            return vec![wait];
        }
        let signer = self.node.signer();
        match self.node.organization(&self.config.org).await {
            Ok(Some(org)) if org.active && org.keys.contains(&signer) => Vec::new(),
            Ok(_) => vec![format!(
                "organisation {} active on chain with the vault's key {signer}",
                self.config.org
            )],
            Err(e) => vec![format!("the node ({e})")],
        }
    }

    /// Whether `token` is the admin token (compared as digests, in constant time).
    pub fn is_admin(&self, token: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        digest
            .iter()
            .zip(self.admin_token_digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    async fn blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce(Store) -> Result<T, VaultError> + Send + 'static,
    ) -> Result<T, VaultError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || call(store))
            .await
            .map_err(|e| VaultError::Task(e.to_string()))?
    }

    /// Seals `request.content` under a new key, registers the record on chain and keeps
    /// it once committed.
    pub async fn create(&self, request: CreateRequest) -> Result<Created, RequestError> {
        if !is_kind(&request.kind) {
            return Err(RequestError::Invalid(
                "kind is 1 to 64 characters of a-z, 0-9, '_'".into(),
            ));
        }
        let mut plaintext =
            serde_json::to_vec(&request.content).expect("a JSON value always serializes");
        if plaintext.len() > CONTENT_BYTES_MAX {
            plaintext.zeroize();
            return Err(RequestError::Invalid(format!(
                "the content is larger than {CONTENT_BYTES_MAX} bytes"
            )));
        }
        let mut id = [0u8; 32];
        rand::RngCore::fill_bytes(&mut OsRng, &mut id);
        let id = Hash(id);
        let key = RecordKey::generate(&mut OsRng);
        let sealed = seal(&key, &id, &plaintext, &mut OsRng);
        plaintext.zeroize();
        drop(request.content);
        let commitment = sealed.commitment();
        let committed = self
            .node
            .submit(DataCall::CreateRecord(PersonalRecord {
                id,
                holder: self.config.org.clone(),
                owner: request.owner_public_key,
                kind: request.kind.clone(),
                commitment,
                created_time: simin_types::BlockTime(0),
                erased_time: None,
            }))
            .await
            .map_err(refused)?;
        let meta = RecordMeta {
            id,
            kind: request.kind,
            owner: request.owner_public_key,
            commitment,
            created_height: committed.height,
            erased_height: None,
        };
        self.blocking(move |store| store.insert(&meta, &sealed, &key))
            .await?;
        info!(record = %id, height = committed.height, "record filed");
        Ok(Created {
            id,
            commitment,
            height: committed.height,
            tx_hash: committed.tx_hash,
        })
    }

    /// The stored record, or 404/410; an erasure logged on chain that this vault has
    /// not seen yet destroys the key here and now.
    async fn live(&self, id: Hash) -> Result<RecordMeta, RequestError> {
        let Some((meta, _)) = self.blocking(move |store| store.record(&id)).await? else {
            return Err(RequestError::NotFound(id));
        };
        if let Some(height) = meta.erased_height {
            return Err(RequestError::Erased { id, height });
        }
        let on_chain = self.node.record(&id).await?;
        if on_chain.is_some_and(|r| r.erased_time.is_some()) {
            let height = self.node.erased_height(&id).await?.unwrap_or(0);
            warn!(record = %id, height, "erased on chain; destroying the key now");
            self.blocking(move |store| store.shred(&id, height)).await?;
            return Err(RequestError::Erased { id, height });
        }
        Ok(meta)
    }

    /// Releases a record to an organisation that proves a committed, recent `LogAccess`
    /// for it and the purpose, signed by one of its keys, and never redeemed before.
    pub async fn read(&self, id: Hash, request: ReadRequest) -> Result<ReadAnswer, RequestError> {
        let meta = self.live(id).await?;
        let forbidden = |reason: String| Err(RequestError::Forbidden(reason));
        let Some(lookup) = self.node.tx(&request.tx_hash).await? else {
            return forbidden(format!(
                "no committed transaction {}: the access must be logged on chain first (the \
                 chain refuses it without a valid consent)",
                request.tx_hash
            ));
        };
        if let TxOutcome::Failure { code, message } = &lookup.receipt.outcome {
            return forbidden(format!(
                "the chain refused the logged access: {code}: {message}"
            ));
        }
        let wanted = Call::Data(DataCall::LogAccess {
            record: id,
            purpose: request.purpose.clone(),
        });
        if lookup.tx.tx.call != wanted {
            return forbidden(format!(
                "transaction {} is not a LogAccess of this record for purpose {:?}",
                request.tx_hash, request.purpose
            ));
        }
        let signer = lookup.tx.tx.signer;
        let is_org_key = self
            .node
            .organization(&request.organization)
            .await?
            .is_some_and(|org| org.active && org.keys.contains(&signer));
        if !is_org_key {
            return forbidden(format!(
                "the LogAccess was not signed by a key of {}",
                request.organization
            ));
        }
        let bytes = read_request_bytes(
            &id,
            &request.organization,
            &request.purpose,
            &request.tx_hash,
        );
        if signer.verify_strict(&bytes, &request.signature).is_err() {
            return forbidden("the request is not signed by the LogAccess signer".into());
        }
        let latest = self.node.latest_height().await?;
        let logged = lookup.height.0;
        if latest.saturating_sub(logged) > self.config.read_window_blocks {
            return forbidden(format!(
                "the access was logged at height {logged}, more than {} blocks before {latest}; log a new one",
                self.config.read_window_blocks
            ));
        }
        let tx_hash = request.tx_hash;
        if !self
            .blocking(move |store| store.redeem(&tx_hash, logged))
            .await?
        {
            return forbidden(format!(
                "the LogAccess {tx_hash} was redeemed already; every read is logged once"
            ));
        }
        let (key, sealed) = self
            .blocking(move |store| {
                let key = store.key(&id)?;
                let sealed = store.record(&id)?.map(|(_, sealed)| sealed);
                Ok((key, sealed))
            })
            .await?;
        let (Some(key), Some(sealed)) = (key, sealed) else {
            return Err(RequestError::Erased { id, height: 0 });
        };
        let plaintext = open(&key, &id, &sealed).map_err(|e| VaultError::Corrupt {
            what: "sealed record",
            reason: e.to_string(),
        })?;
        let content: Value =
            serde_json::from_slice(&plaintext).map_err(|e| VaultError::Corrupt {
                what: "record content",
                reason: e.to_string(),
            })?;
        info!(record = %id, reader = %request.organization, purpose = %request.purpose, logged, "record released");
        Ok(ReadAnswer {
            id,
            kind: meta.kind,
            commitment: meta.commitment,
            content,
            logged_height: logged,
        })
    }

    /// Destroys a record's key. With `tx_hash`, the owner's committed `EraseRecord` is
    /// checked on chain; without (admin only), the vault submits the holder's own.
    pub async fn erase(
        &self,
        id: Hash,
        tx_hash: Option<Hash>,
        admin: bool,
    ) -> Result<Erased, RequestError> {
        let Some((meta, _)) = self.blocking(move |store| store.record(&id)).await? else {
            return Err(RequestError::NotFound(id));
        };
        if let Some(height) = meta.erased_height {
            return Ok(Erased {
                id,
                erased_height: height,
                commitment: meta.commitment,
            });
        }
        let height = match tx_hash {
            Some(hash) => {
                let Some(lookup) = self.node.tx(&hash).await? else {
                    return Err(RequestError::Forbidden(format!(
                        "no committed transaction {hash}"
                    )));
                };
                let is_erasure = lookup.tx.tx.call
                    == Call::Data(DataCall::EraseRecord { record: id })
                    && lookup.receipt.outcome == TxOutcome::Success;
                if !is_erasure {
                    return Err(RequestError::Forbidden(format!(
                        "transaction {hash} is not a successful EraseRecord of this record"
                    )));
                }
                lookup.height.0
            }
            None if admin => {
                let already = self
                    .node
                    .record(&id)
                    .await?
                    .is_some_and(|r| r.erased_time.is_some());
                if already {
                    self.node.erased_height(&id).await?.unwrap_or(0)
                } else {
                    self.node
                        .submit(DataCall::EraseRecord { record: id })
                        .await
                        .map_err(refused)?
                        .height
                }
            }
            None => return Err(RequestError::Unauthorized),
        };
        self.blocking(move |store| store.shred(&id, height)).await?;
        info!(record = %id, height, "record key destroyed");
        Ok(Erased {
            id,
            erased_height: height,
            commitment: meta.commitment,
        })
    }

    /// What anyone may know of a record here: its kind, commitment, heights, and its
    /// sealed bytes (hex), which match the commitment and say nothing without the key.
    pub async fn describe(&self, id: Hash) -> Result<Value, RequestError> {
        let Some((meta, sealed)) = self.blocking(move |store| store.record(&id)).await? else {
            return Err(RequestError::NotFound(id));
        };
        Ok(serde_json::json!({
            "id": id,
            "kind": meta.kind,
            "commitment": meta.commitment,
            "created_height": meta.created_height,
            "erased_height": meta.erased_height,
            "sealed": hex::encode(&sealed.0),
        }))
    }
}

/// A transaction the chain refused is the caller's conflict, not the vault's failure.
fn refused(e: VaultError) -> RequestError {
    match e {
        VaultError::NodeRefused { code, message, .. } => RequestError::Refused { code, message },
        other => RequestError::Failed(other),
    }
}

//! The service's database (one redb file): offers, pre-authorised codes, access tokens,
//! spent `c_nonce`s, issued-credential records and the status-list indices in use.
//!
//! Codes and tokens are stored as SHA-256 digests, so a copy of the database redeems
//! nothing. An offer's claims are deleted when its credential is issued, or when the
//! offer (or its access token) expires: after issuance only the credential's type,
//! validity and status positions remain. Each redemption step runs in one write
//! transaction, so a code, a token or a nonce is used at most once even under races.

use std::path::Path;
use std::sync::Arc;

use rand::RngCore;
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{IssuerError, ProtocolError, RequestError};

const OFFERS: TableDefinition<&str, &[u8]> = TableDefinition::new("offers");
const CODES: TableDefinition<&str, &str> = TableDefinition::new("pre_authorized_codes");
const TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("access_tokens");
/// Spent `c_nonce`s, until they expire.
const NONCES: TableDefinition<&str, u64> = TableDefinition::new("spent_c_nonces");
const CREDENTIALS: TableDefinition<&str, &[u8]> = TableDefinition::new("credentials");
const INDICES: TableDefinition<(u32, u32), &str> = TableDefinition::new("status_indices");

/// The most offers waiting to be redeemed.
pub(crate) const OFFERS_MAX: u64 = 10_000;
/// The most spent, unexpired `c_nonce`s remembered (each took a valid access token).
pub(crate) const NONCES_MAX: u64 = 100_000;
/// Wrong transaction codes an offer tolerates before it is withdrawn: a six-digit code
/// must not be guessable by trying.
pub(crate) const TX_CODE_ATTEMPTS_MAX: u32 = 5;
/// Random draws of a status index before the list is declared full. A list filled to
/// half fails a draw with probability 2^-64.
const INDEX_DRAWS_MAX: usize = 64;
/// The most credential records listed at once.
pub(crate) const LIST_LIMIT_MAX: usize = 1000;

/// An offer waiting to be redeemed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct OfferRecord {
    pub offer_id: String,
    pub configuration_id: String,
    /// The claims to issue; deleted with the record once the credential is issued.
    pub claims: Map<String, Value>,
    /// The pre-authorised code, kept only while it can be redeemed, to draw the QR code.
    pub pre_authorized_code: Option<String>,
    pub tx_code: Option<String>,
    pub tx_code_attempts: u32,
    pub created_at: u64,
    /// The code is redeemable before this time.
    pub expires_at: u64,
    /// Set once the code was exchanged for an access token, valid before this time.
    pub token_expires_at: Option<u64>,
}

impl OfferRecord {
    fn is_expired(&self, now: u64) -> bool {
        match self.token_expires_at {
            Some(token_expires_at) => token_expires_at <= now,
            None => self.expires_at <= now,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct TokenRecord {
    offer_id: String,
    expires_at: u64,
}

/// Where a credential stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialState {
    Active,
    Suspended,
    Revoked,
}

/// What the service keeps about an issued credential: no personal claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRecord {
    /// A random id (hex), for the admin endpoints.
    pub id: String,
    pub credential_type: String,
    /// The offer it was issued for.
    pub offer_id: String,
    /// Its bit in the revocation list (list 0).
    pub revocation_index: u32,
    /// Its bit in the suspension list (list 1).
    pub suspension_index: u32,
    /// Unix seconds.
    pub issued_at: u64,
    /// Unix seconds.
    pub expires_at: u64,
    pub state: CredentialState,
    /// The height of the block that last changed its status bits.
    pub state_height: Option<u64>,
}

/// The database. Cheap to clone; every method blocks (call from a blocking task).
#[derive(Clone, Debug)]
pub(crate) struct Store {
    db: Arc<Database>,
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records are plain data and always serialize")
}

fn decode<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T, IssuerError> {
    serde_json::from_slice(bytes).map_err(|e| IssuerError::Corrupt {
        what,
        reason: e.to_string(),
    })
}

fn invalid_grant(description: &str) -> RequestError {
    RequestError::protocol(ProtocolError::InvalidGrant, description)
}

fn invalid_token(description: &str) -> RequestError {
    RequestError::protocol(ProtocolError::InvalidToken, description)
}

impl Store {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, IssuerError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| IssuerError::Write {
                path: dir.to_owned(),
                source,
            })?;
        }
        let db = Database::create(path).map_err(IssuerError::db("opening the database"))?;
        let store = Store { db: Arc::new(db) };
        // Create every table, so that readers never meet a missing one.
        let txn = store.write("creating tables")?;
        txn.open_table(OFFERS)
            .map_err(IssuerError::db("creating tables"))?;
        txn.open_table(CODES)
            .map_err(IssuerError::db("creating tables"))?;
        txn.open_table(TOKENS)
            .map_err(IssuerError::db("creating tables"))?;
        txn.open_table(NONCES)
            .map_err(IssuerError::db("creating tables"))?;
        txn.open_table(CREDENTIALS)
            .map_err(IssuerError::db("creating tables"))?;
        txn.open_table(INDICES)
            .map_err(IssuerError::db("creating tables"))?;
        txn.commit().map_err(IssuerError::db("creating tables"))?;
        Ok(store)
    }

    fn write(&self, op: &'static str) -> Result<redb::WriteTransaction, IssuerError> {
        self.db.begin_write().map_err(IssuerError::db(op))
    }

    fn read(&self, op: &'static str) -> Result<redb::ReadTransaction, IssuerError> {
        self.db.begin_read().map_err(IssuerError::db(op))
    }

    /// Stores a new offer, reachable by the digest of its pre-authorised code.
    pub fn insert_offer(
        &self,
        offer: &OfferRecord,
        code_digest: &str,
        now: u64,
    ) -> Result<(), IssuerError> {
        const OP: &str = "storing an offer";
        let txn = self.write(OP)?;
        {
            let mut offers = txn.open_table(OFFERS).map_err(IssuerError::db(OP))?;
            let mut codes = txn.open_table(CODES).map_err(IssuerError::db(OP))?;
            if offers.len().map_err(IssuerError::db(OP))? >= OFFERS_MAX {
                purge_offers(&mut offers, &mut codes, now)?;
                if offers.len().map_err(IssuerError::db(OP))? >= OFFERS_MAX {
                    return Err(IssuerError::Busy { what: "offers" });
                }
            }
            offers
                .insert(offer.offer_id.as_str(), encode(offer).as_slice())
                .map_err(IssuerError::db(OP))?;
            codes
                .insert(code_digest, offer.offer_id.as_str())
                .map_err(IssuerError::db(OP))?;
        }
        txn.commit().map_err(IssuerError::db(OP))
    }

    /// The offer `offer_id`, if it is still redeemable with its code.
    pub fn pending_offer(
        &self,
        offer_id: &str,
        now: u64,
    ) -> Result<Option<OfferRecord>, IssuerError> {
        const OP: &str = "reading an offer";
        let txn = self.read(OP)?;
        let offers = txn.open_table(OFFERS).map_err(IssuerError::db(OP))?;
        let Some(bytes) = offers.get(offer_id).map_err(IssuerError::db(OP))? else {
            return Ok(None);
        };
        let offer: OfferRecord = decode("offer", bytes.value())?;
        Ok((offer.token_expires_at.is_none() && offer.expires_at > now).then_some(offer))
    }

    /// Exchanges a pre-authorised code (and its transaction code) for an access token:
    /// the code is then gone. A wrong transaction code counts against the offer, which
    /// is withdrawn after [`TX_CODE_ATTEMPTS_MAX`] of them.
    pub fn redeem_code(
        &self,
        code_digest: &str,
        tx_code: Option<&str>,
        now: u64,
        token_digest: &str,
        token_expires_at: u64,
    ) -> Result<OfferRecord, RequestError> {
        const OP: &str = "redeeming a code";
        let txn = self.write(OP)?;
        let outcome = {
            let mut offers = txn.open_table(OFFERS).map_err(IssuerError::db(OP))?;
            let mut codes = txn.open_table(CODES).map_err(IssuerError::db(OP))?;
            let mut tokens = txn.open_table(TOKENS).map_err(IssuerError::db(OP))?;
            let offer_id = match codes.get(code_digest).map_err(IssuerError::db(OP))? {
                Some(id) => id.value().to_owned(),
                None => {
                    return Err(invalid_grant(
                        "the pre-authorized code is unknown or was used",
                    ))
                }
            };
            let offer = match offers.get(offer_id.as_str()).map_err(IssuerError::db(OP))? {
                Some(bytes) => Some(decode::<OfferRecord>("offer", bytes.value())?),
                None => None,
            };
            match offer {
                None => {
                    codes.remove(code_digest).map_err(IssuerError::db(OP))?;
                    Err(invalid_grant(
                        "the pre-authorized code is unknown or was used",
                    ))
                }
                Some(offer) if offer.expires_at <= now => {
                    codes.remove(code_digest).map_err(IssuerError::db(OP))?;
                    offers
                        .remove(offer_id.as_str())
                        .map_err(IssuerError::db(OP))?;
                    Err(invalid_grant("the credential offer has expired"))
                }
                Some(mut offer) => match (&offer.tx_code, tx_code) {
                    (Some(_), None) => Err(RequestError::protocol(
                        ProtocolError::InvalidRequest,
                        "this offer requires a tx_code",
                    )),
                    (None, Some(_)) => Err(RequestError::protocol(
                        ProtocolError::InvalidRequest,
                        "this offer has no tx_code",
                    )),
                    (Some(expected), Some(given)) if !constant_time_eq(expected, given) => {
                        offer.tx_code_attempts = offer.tx_code_attempts.saturating_add(1);
                        if offer.tx_code_attempts >= TX_CODE_ATTEMPTS_MAX {
                            codes.remove(code_digest).map_err(IssuerError::db(OP))?;
                            offers
                                .remove(offer_id.as_str())
                                .map_err(IssuerError::db(OP))?;
                            Err(invalid_grant(
                                "wrong tx_code; the offer is withdrawn after too many attempts",
                            ))
                        } else {
                            offers
                                .insert(offer_id.as_str(), encode(&offer).as_slice())
                                .map_err(IssuerError::db(OP))?;
                            Err(invalid_grant("wrong tx_code"))
                        }
                    }
                    _ => {
                        codes.remove(code_digest).map_err(IssuerError::db(OP))?;
                        offer.pre_authorized_code = None;
                        offer.tx_code = None;
                        offer.token_expires_at = Some(token_expires_at);
                        offers
                            .insert(offer_id.as_str(), encode(&offer).as_slice())
                            .map_err(IssuerError::db(OP))?;
                        let token = TokenRecord {
                            offer_id,
                            expires_at: token_expires_at,
                        };
                        tokens
                            .insert(token_digest, encode(&token).as_slice())
                            .map_err(IssuerError::db(OP))?;
                        Ok(offer)
                    }
                },
            }
        };
        // Refusals that changed the offer (attempts, withdrawal) are committed too.
        txn.commit().map_err(IssuerError::db(OP))?;
        outcome
    }

    /// The offer an access token is for, if the token is valid.
    pub fn offer_for_token(
        &self,
        token_digest: &str,
        now: u64,
    ) -> Result<OfferRecord, RequestError> {
        const OP: &str = "reading a token";
        let txn = self.read(OP)?;
        let tokens = txn.open_table(TOKENS).map_err(IssuerError::db(OP))?;
        let offers = txn.open_table(OFFERS).map_err(IssuerError::db(OP))?;
        let Some(bytes) = tokens.get(token_digest).map_err(IssuerError::db(OP))? else {
            return Err(invalid_token(
                "the access token is unknown, used or expired",
            ));
        };
        let token: TokenRecord = decode("access token", bytes.value())?;
        if token.expires_at <= now {
            return Err(invalid_token("the access token has expired"));
        }
        let Some(bytes) = offers
            .get(token.offer_id.as_str())
            .map_err(IssuerError::db(OP))?
        else {
            return Err(invalid_token(
                "the access token is unknown, used or expired",
            ));
        };
        Ok(decode("offer", bytes.value())?)
    }

    /// Spends a `c_nonce` (already checked with its key) valid until `expires_at`:
    /// false if it was spent before.
    pub fn spend_nonce(&self, nonce: &str, expires_at: u64, now: u64) -> Result<bool, IssuerError> {
        const OP: &str = "spending a nonce";
        let txn = self.write(OP)?;
        {
            let mut spent = txn.open_table(NONCES).map_err(IssuerError::db(OP))?;
            if spent.get(nonce).map_err(IssuerError::db(OP))?.is_some() {
                return Ok(false);
            }
            if spent.len().map_err(IssuerError::db(OP))? >= NONCES_MAX {
                spent
                    .retain(|_, expires_at| expires_at > now)
                    .map_err(IssuerError::db(OP))?;
                if spent.len().map_err(IssuerError::db(OP))? >= NONCES_MAX {
                    return Err(IssuerError::Busy {
                        what: "spent nonces",
                    });
                }
            }
            spent
                .insert(nonce, expires_at)
                .map_err(IssuerError::db(OP))?;
        }
        txn.commit().map_err(IssuerError::db(OP))?;
        Ok(true)
    }

    /// Issues the credential of an access token's offer in one transaction: the token
    /// is used up, two unused status indices are drawn at random, `mint` makes the
    /// credential, the offer and its claims are deleted and the record is stored. If
    /// `mint` fails, nothing changes.
    pub fn issue<M>(
        &self,
        token_digest: &str,
        now: u64,
        list_bits: (u32, u32),
        rng: &mut dyn RngCore,
        mint: M,
    ) -> Result<String, RequestError>
    where
        M: FnOnce(&OfferRecord, u32, u32) -> Result<(String, CredentialRecord), RequestError>,
    {
        const OP: &str = "issuing a credential";
        let txn = self.write(OP)?;
        let credential = {
            let mut tokens = txn.open_table(TOKENS).map_err(IssuerError::db(OP))?;
            let mut offers = txn.open_table(OFFERS).map_err(IssuerError::db(OP))?;
            let mut credentials = txn.open_table(CREDENTIALS).map_err(IssuerError::db(OP))?;
            let mut indices = txn.open_table(INDICES).map_err(IssuerError::db(OP))?;
            let token: TokenRecord =
                match tokens.remove(token_digest).map_err(IssuerError::db(OP))? {
                    Some(bytes) => decode("access token", bytes.value())?,
                    None => {
                        return Err(invalid_token(
                            "the access token is unknown, used or expired",
                        ))
                    }
                };
            if token.expires_at <= now {
                return Err(invalid_token("the access token has expired"));
            }
            let offer: OfferRecord = match offers
                .remove(token.offer_id.as_str())
                .map_err(IssuerError::db(OP))?
            {
                Some(bytes) => decode("offer", bytes.value())?,
                None => {
                    return Err(invalid_token(
                        "the access token is unknown, used or expired",
                    ))
                }
            };
            record_issued(
                &mut indices,
                &mut credentials,
                list_bits,
                rng,
                |rev, susp| mint(&offer, rev, susp),
            )?
        };
        txn.commit().map_err(IssuerError::db(OP))?;
        Ok(credential)
    }

    /// Issues a credential asked for directly by an authorised client (the W3C VC API's
    /// `/credentials/issue`), in one transaction: two unused status indices are drawn
    /// at random, `mint` makes the credential and the record is stored.
    pub fn issue_direct<T, M>(
        &self,
        list_bits: (u32, u32),
        rng: &mut dyn RngCore,
        mint: M,
    ) -> Result<T, RequestError>
    where
        M: FnOnce(u32, u32) -> Result<(T, CredentialRecord), RequestError>,
    {
        const OP: &str = "issuing a credential";
        let txn = self.write(OP)?;
        let credential = {
            let mut credentials = txn.open_table(CREDENTIALS).map_err(IssuerError::db(OP))?;
            let mut indices = txn.open_table(INDICES).map_err(IssuerError::db(OP))?;
            record_issued(&mut indices, &mut credentials, list_bits, rng, mint)?
        };
        txn.commit().map_err(IssuerError::db(OP))?;
        Ok(credential)
    }

    pub fn credential(&self, id: &str) -> Result<Option<CredentialRecord>, IssuerError> {
        const OP: &str = "reading a credential";
        let txn = self.read(OP)?;
        let table = txn.open_table(CREDENTIALS).map_err(IssuerError::db(OP))?;
        match table.get(id).map_err(IssuerError::db(OP))? {
            Some(bytes) => Ok(Some(decode("credential", bytes.value())?)),
            None => Ok(None),
        }
    }

    /// Records, in id order, after `after`, at most `limit` (capped at [`LIST_LIMIT_MAX`]).
    pub fn credentials(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<CredentialRecord>, IssuerError> {
        const OP: &str = "listing credentials";
        let txn = self.read(OP)?;
        let table = txn.open_table(CREDENTIALS).map_err(IssuerError::db(OP))?;
        let range = match after {
            Some(after) => {
                table.range::<&str>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
            }
            None => table.range::<&str>(..),
        }
        .map_err(IssuerError::db(OP))?;
        let mut out = Vec::new();
        for entry in range.take(limit.min(LIST_LIMIT_MAX)) {
            let (_, bytes) = entry.map_err(IssuerError::db(OP))?;
            out.push(decode("credential", bytes.value())?);
        }
        Ok(out)
    }

    pub fn update_credential(&self, record: &CredentialRecord) -> Result<(), IssuerError> {
        const OP: &str = "updating a credential";
        let txn = self.write(OP)?;
        txn.open_table(CREDENTIALS)
            .map_err(IssuerError::db(OP))?
            .insert(record.id.as_str(), encode(record).as_slice())
            .map_err(IssuerError::db(OP))?;
        txn.commit().map_err(IssuerError::db(OP))
    }

    /// Deletes expired offers (with their claims), codes, tokens and nonces; returns how
    /// many rows went.
    pub fn purge_expired(&self, now: u64) -> Result<u64, IssuerError> {
        const OP: &str = "purging expired entries";
        let txn = self.write(OP)?;
        let removed = {
            let mut offers = txn.open_table(OFFERS).map_err(IssuerError::db(OP))?;
            let mut codes = txn.open_table(CODES).map_err(IssuerError::db(OP))?;
            let mut tokens = txn.open_table(TOKENS).map_err(IssuerError::db(OP))?;
            let mut nonces = txn.open_table(NONCES).map_err(IssuerError::db(OP))?;
            let before = [
                offers.len().map_err(IssuerError::db(OP))?,
                codes.len().map_err(IssuerError::db(OP))?,
                tokens.len().map_err(IssuerError::db(OP))?,
                nonces.len().map_err(IssuerError::db(OP))?,
            ];
            purge_offers(&mut offers, &mut codes, now)?;
            tokens
                .retain(|_, bytes| {
                    serde_json::from_slice::<TokenRecord>(bytes).is_ok_and(|t| t.expires_at > now)
                })
                .map_err(IssuerError::db(OP))?;
            nonces
                .retain(|_, expires_at| expires_at > now)
                .map_err(IssuerError::db(OP))?;
            let after = [
                offers.len().map_err(IssuerError::db(OP))?,
                codes.len().map_err(IssuerError::db(OP))?,
                tokens.len().map_err(IssuerError::db(OP))?,
                nonces.len().map_err(IssuerError::db(OP))?,
            ];
            before
                .iter()
                .zip(after)
                .map(|(b, a)| b.saturating_sub(a))
                .sum()
        };
        txn.commit().map_err(IssuerError::db(OP))?;
        Ok(removed)
    }

    #[cfg(test)]
    pub fn offer_count(&self) -> u64 {
        let txn = self.read("test").expect("read");
        txn.open_table(OFFERS).expect("table").len().expect("len")
    }
}

/// Deletes expired offers and the codes that point to them or to nothing.
fn purge_offers(
    offers: &mut redb::Table<&str, &[u8]>,
    codes: &mut redb::Table<&str, &str>,
    now: u64,
) -> Result<(), IssuerError> {
    const OP: &str = "purging offers";
    offers
        .retain(|_, bytes| {
            // An unreadable record is dropped rather than kept for ever.
            serde_json::from_slice::<OfferRecord>(bytes).is_ok_and(|o| !o.is_expired(now))
        })
        .map_err(IssuerError::db(OP))?;
    let mut dangling = Vec::new();
    for entry in codes.iter().map_err(IssuerError::db(OP))? {
        let (digest, offer_id) = entry.map_err(IssuerError::db(OP))?;
        if offers
            .get(offer_id.value())
            .map_err(IssuerError::db(OP))?
            .is_none()
        {
            dangling.push(digest.value().to_owned());
        }
    }
    for digest in dangling {
        codes.remove(digest.as_str()).map_err(IssuerError::db(OP))?;
    }
    Ok(())
}

/// Draws an index of `list` (of `bits` bits) that no credential uses.
/// Draws the two status indices, mints, and stores the record and its indices.
fn record_issued<T, M>(
    indices: &mut redb::Table<(u32, u32), &str>,
    credentials: &mut redb::Table<&str, &[u8]>,
    list_bits: (u32, u32),
    rng: &mut dyn RngCore,
    mint: M,
) -> Result<T, RequestError>
where
    M: FnOnce(u32, u32) -> Result<(T, CredentialRecord), RequestError>,
{
    const OP: &str = "recording a credential";
    let revocation = draw_index(indices, crate::REVOCATION_LIST, list_bits.0, rng)?;
    let suspension = draw_index(indices, crate::SUSPENSION_LIST, list_bits.1, rng)?;
    let (credential, record) = mint(revocation, suspension)?;
    debug_assert_eq!(record.revocation_index, revocation);
    debug_assert_eq!(record.suspension_index, suspension);
    for (list, index) in [
        (crate::REVOCATION_LIST, revocation),
        (crate::SUSPENSION_LIST, suspension),
    ] {
        indices
            .insert((list, index), record.id.as_str())
            .map_err(IssuerError::db(OP))?;
    }
    credentials
        .insert(record.id.as_str(), encode(&record).as_slice())
        .map_err(IssuerError::db(OP))?;
    Ok(credential)
}

fn draw_index(
    indices: &redb::Table<(u32, u32), &str>,
    list: u32,
    bits: u32,
    rng: &mut dyn RngCore,
) -> Result<u32, IssuerError> {
    const OP: &str = "drawing a status index";
    for _ in 0..INDEX_DRAWS_MAX {
        // Uniform below `bits` by rejection: no index is likelier than another.
        let zone = u32::MAX - (u32::MAX % bits);
        let draw = rng.next_u32();
        if draw >= zone {
            continue;
        }
        let index = draw % bits;
        if indices
            .get((list, index))
            .map_err(IssuerError::db(OP))?
            .is_none()
        {
            return Ok(index);
        }
    }
    Err(IssuerError::StatusListFull { list })
}

/// Compares two secrets in time independent of where they differ.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    constant_time_eq_bytes(a.as_bytes(), b.as_bytes())
}

/// Compares two byte strings in time independent of where they differ.
pub(crate) fn constant_time_eq_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

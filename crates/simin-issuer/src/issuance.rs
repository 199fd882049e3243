//! The credential endpoint (OpenID4VCI 1.0 section 8): checks the access token and the
//! key proof, spends the nonce, draws the status positions and mints the SD-JWT VC.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use simin_identity::card::{self, CardIssue};
use simin_identity::jose::JwsSigner;
use simin_identity::status_list::{BitstringStatusListEntry, StatusPurpose};
use tracing::info;

use crate::error::{ProtocolError, RequestError};
use crate::proof::{check_proof_jwt, ProofCheck, ProofError};
use crate::service::{digest, random_id, random_secret, IssuerService};
use crate::store::{CredentialRecord, CredentialState, OfferRecord};
use crate::{REVOCATION_LIST, SUSPENSION_LIST};

/// How old a key proof may be, in seconds.
const PROOF_MAX_AGE_SECS: u64 = 300;
/// Tolerated clock difference with wallets, in seconds.
const CLOCK_SKEW_SECS: u64 = 60;
/// The longest access token read, in bytes.
const TOKEN_BYTES_MAX: usize = 256;
/// Seconds in a day.
const DAY_SECS: u64 = 86_400;

/// A credential request; unknown members (`format`, `vct` of older drafts) are ignored.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct CredentialRequest {
    pub credential_configuration_id: Option<String>,
    pub credential_identifier: Option<String>,
    pub proofs: Option<Proofs>,
    /// The single proof of drafts before 1.0.
    pub proof: Option<LegacyProof>,
    pub credential_response_encryption: Option<Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct Proofs {
    pub jwt: Option<Vec<String>>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct LegacyProof {
    pub proof_type: String,
    pub jwt: Option<String>,
}

/// The answer of the credential endpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CredentialResponse {
    pub credentials: Vec<IssuedCredential>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IssuedCredential {
    pub credential: String,
}

/// A status index as the entry's `usize`: u32 fits in usize on every target simin
/// builds for (32 and 64 bits).
fn position(index: u32) -> usize {
    usize::try_from(index).expect("u32 fits in usize on 32- and 64-bit targets")
}

/// The status entries of a credential of `did`: its bits in the revocation list and in
/// the suspension list.
pub(crate) fn status_entries(
    did: &str,
    revocation: u32,
    suspension: u32,
) -> Vec<BitstringStatusListEntry> {
    let list = |n: u32| format!("{did}/status/{n}");
    vec![
        BitstringStatusListEntry::new(
            None,
            StatusPurpose::Revocation,
            position(revocation),
            list(REVOCATION_LIST),
        ),
        BitstringStatusListEntry::new(
            None,
            StatusPurpose::Suspension,
            position(suspension),
            list(SUSPENSION_LIST),
        ),
    ]
}

fn refuse(code: ProtocolError, description: impl Into<String>) -> RequestError {
    RequestError::protocol(code, description)
}

/// The one proof JWT of a request.
fn the_proof(request: &CredentialRequest) -> Result<&str, RequestError> {
    let bad = |d: &str| refuse(ProtocolError::InvalidCredentialRequest, d);
    match (&request.proofs, &request.proof) {
        (Some(_), Some(_)) => Err(bad("send proofs or proof, not both")),
        (Some(proofs), None) => match proofs.jwt.as_deref() {
            Some([jwt]) => Ok(jwt),
            Some([]) | None => Err(bad("proofs.jwt holds one proof JWT")),
            Some(_) => Err(bad(
                "one credential per request: proofs.jwt holds one proof",
            )),
        },
        (None, Some(proof)) => match (proof.proof_type.as_str(), proof.jwt.as_deref()) {
            ("jwt", Some(jwt)) => Ok(jwt),
            _ => Err(bad("proof is {\"proof_type\": \"jwt\", \"jwt\": ...}")),
        },
        (None, None) => Err(refuse(
            ProtocolError::InvalidProof,
            "the request carries no key proof",
        )),
    }
}

impl IssuerService {
    /// `POST /credential`: issues the credential of the access token's offer, bound to
    /// the key of the request's proof.
    pub(crate) async fn credential(
        &self,
        access_token: Option<&str>,
        request: CredentialRequest,
    ) -> Result<CredentialResponse, RequestError> {
        let token = access_token
            .filter(|t| !t.is_empty() && t.len() <= TOKEN_BYTES_MAX)
            .ok_or_else(|| {
                refuse(
                    ProtocolError::InvalidToken,
                    "a Bearer access token is required",
                )
            })?;
        let token_digest = digest(token);
        let now = self.now();
        let lookup = token_digest.clone();
        let offer = self
            .db(move |store| store.offer_for_token(&lookup, now))
            .await?;
        self.check_configuration(&request, &offer.configuration_id)
            .await?;
        let proof = check_proof_jwt(
            the_proof(&request)?,
            &ProofCheck {
                audience: &self.config.public_url,
                now,
                max_age_secs: PROOF_MAX_AGE_SECS,
                clock_skew_secs: CLOCK_SKEW_SECS,
            },
        )
        .map_err(|e| match e {
            ProofError::MissingNonce => refuse(ProtocolError::InvalidNonce, e.to_string()),
            other => refuse(ProtocolError::InvalidProof, other.to_string()),
        })?;
        self.require_ready()?;
        let list_bits = self.ensure_status_lists().await?;
        if !self.spend_nonce(&proof.nonce).await? {
            return Err(refuse(
                ProtocolError::InvalidNonce,
                "the c_nonce is unknown, used or expired; get a fresh one from the nonce endpoint",
            ));
        }
        let expires_at =
            now.saturating_add(u64::from(self.config.credential_validity_days) * DAY_SECS);
        let minter = Minter {
            signer: self.signer.clone(),
            card: CardIssue {
                vct: offer.configuration_id.clone(),
                iss: self.did.clone(),
                kid: self.kid.clone(),
                claims: serde_json::Map::new(),
                holder_jwk: proof.holder_key,
                iat: now,
                exp: expires_at,
                status: Vec::new(),
            },
        };
        let credential = self
            .db(move |store| {
                let mut rng = rand::rngs::OsRng;
                store.issue(
                    &token_digest,
                    now,
                    list_bits,
                    &mut rng,
                    |offer, rev, susp| minter.mint(offer, rev, susp),
                )
            })
            .await?;
        Ok(CredentialResponse {
            credentials: vec![IssuedCredential { credential }],
        })
    }

    /// Checks what the request asks for against what the access token's offer covers.
    async fn check_configuration(
        &self,
        request: &CredentialRequest,
        offered: &str,
    ) -> Result<(), RequestError> {
        if request.credential_response_encryption.is_some() {
            return Err(refuse(
                ProtocolError::InvalidCredentialRequest,
                "credential response encryption is not supported",
            ));
        }
        if request.credential_identifier.is_some() {
            return Err(refuse(
                ProtocolError::InvalidCredentialRequest,
                "this issuer hands out no credential identifiers; send credential_configuration_id",
            ));
        }
        let Some(configuration_id) = request.credential_configuration_id.as_deref() else {
            return Err(refuse(
                ProtocolError::InvalidCredentialRequest,
                "credential_configuration_id is missing",
            ));
        };
        let accredited = self.accredited_types().await?;
        if !accredited.iter().any(|t| t == configuration_id) {
            return Err(refuse(
                ProtocolError::UnknownCredentialConfiguration,
                format!("{configuration_id:?} is not a credential configuration of this issuer"),
            ));
        }
        if configuration_id != offered {
            return Err(refuse(
                ProtocolError::InvalidCredentialRequest,
                format!("the access token is for {offered:?}"),
            ));
        }
        Ok(())
    }
}

/// Mints a card once the store has drawn its status positions.
struct Minter {
    signer: Arc<JwsSigner>,
    /// Everything but the claims and the status entries.
    card: CardIssue,
}

impl Minter {
    fn mint(
        self,
        offer: &OfferRecord,
        revocation: u32,
        suspension: u32,
    ) -> Result<(String, CredentialRecord), RequestError> {
        let card = CardIssue {
            claims: offer.claims.clone(),
            status: status_entries(&self.card.iss, revocation, suspension),
            ..self.card
        };
        let mut salts = random_secret;
        let credential = card::issue_sd_jwt_vc(&card, &self.signer, &mut salts)
            .map_err(|e| RequestError::Failed(e.into()))?;
        let record = CredentialRecord {
            id: random_id(),
            credential_type: offer.configuration_id.clone(),
            offer_id: offer.offer_id.clone(),
            revocation_index: revocation,
            suspension_index: suspension,
            issued_at: card.iat,
            expires_at: card.exp,
            state: CredentialState::Active,
            state_height: None,
        };
        info!(
            credential_id = %record.id,
            credential_type = %record.credential_type,
            offer_id = %record.offer_id,
            "credential issued"
        );
        Ok((credential, record))
    }
}

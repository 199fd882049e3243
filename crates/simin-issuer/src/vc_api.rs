//! The W3C VC API (VCALM) issuance endpoint: `POST /credentials/issue` takes an unsigned
//! VC Data Model 2.0 credential and answers `201 {verifiableCredential}`, secured with
//! an `eddsa-jcs-2022` proof by the organisation's DID key and carrying its revocation
//! and suspension entries. For the organisation's own systems: it needs the admin token.

use serde::Deserialize;
use serde_json::{Map, Value};
use simin_identity::card;
use simin_identity::did_simin::xsd_datetime;
use simin_identity::jose::JwsSigner;
use simin_identity::vc::{issue_vc, IssueVc};
use simin_types::BlockTime;
use tracing::info;

use crate::error::RequestError;
use crate::issuance::status_entries;
use crate::service::{random_id, IssuerService};
use crate::store::{CredentialRecord, CredentialState};

/// Seconds in a day.
const DAY_SECS: u64 = 86_400;
/// Most members of `options` read.
const OPTIONS_MAX: usize = 8;

/// The request of `POST /credentials/issue`.
#[derive(Debug, Deserialize)]
pub(crate) struct IssueCredentialRequest {
    pub credential: Value,
    #[serde(default)]
    pub options: Map<String, Value>,
}

impl IssuerService {
    /// Issues a W3C VC: the type must be one the organisation is accredited for, the
    /// subject's claims must satisfy the type's schema, and `validUntil` defaults to the
    /// configured validity.
    pub(crate) async fn issue_w3c(
        &self,
        request: IssueCredentialRequest,
    ) -> Result<Value, RequestError> {
        if request.options.len() > OPTIONS_MAX {
            return Err(RequestError::Invalid(format!(
                "at most {OPTIONS_MAX} options"
            )));
        }
        let mut credential = request.credential;
        let object = credential
            .as_object_mut()
            .ok_or_else(|| RequestError::Invalid("credential is not a JSON object".into()))?;
        let credential_type = object
            .get("type")
            .and_then(Value::as_array)
            .and_then(|types| {
                types
                    .iter()
                    .filter_map(Value::as_str)
                    .find(|t| *t != "VerifiableCredential")
                    .map(str::to_owned)
            })
            .ok_or_else(|| {
                RequestError::Invalid(
                    "credential.type must be [\"VerifiableCredential\", <type>]".into(),
                )
            })?;
        if !self.accredited_types().await?.contains(&credential_type) {
            return Err(RequestError::Invalid(format!(
                "this organisation is not accredited for {credential_type}"
            )));
        }
        if let Some(schema) = card::builtin_schema(&credential_type) {
            let mut claims = object
                .get("credentialSubject")
                .and_then(Value::as_object)
                .cloned()
                .ok_or_else(|| {
                    RequestError::Invalid("credentialSubject must be one object".into())
                })?;
            claims.remove("id");
            card::validate_claims(schema, &claims, true)
                .map_err(|e| RequestError::Invalid(format!("credentialSubject: {e}")))?;
        }
        let now = self.now();
        if !object.contains_key("validUntil") {
            let until =
                now.saturating_add(u64::from(self.config.credential_validity_days) * DAY_SECS);
            object.insert(
                "validUntil".into(),
                Value::from(xsd_datetime(BlockTime(until.saturating_mul(1000)))),
            );
        }
        let JwsSigner::Ed25519(key) = self.signer.as_ref() else {
            return Err(RequestError::Invalid(
                "the issuer's signing key is not Ed25519".into(),
            ));
        };
        let key = key.clone();
        self.require_ready()?;
        let list_bits = self.ensure_status_lists().await?;
        let did = self.did.clone();
        let kid = self.kid.clone();
        let valid_from = xsd_datetime(BlockTime(now.saturating_mul(1000)));
        let expires_at =
            now.saturating_add(u64::from(self.config.credential_validity_days) * DAY_SECS);
        let issued = self
            .db(move |store| {
                let mut rng = rand::rngs::OsRng;
                store.issue_direct(list_bits, &mut rng, |revocation, suspension| {
                    let status = status_entries(&did, revocation, suspension);
                    let signed = issue_vc(
                        &IssueVc {
                            credential,
                            issuer: did.clone(),
                            kid,
                            valid_from,
                            status,
                        },
                        &key,
                    )
                    .map_err(|e| RequestError::Invalid(e.to_string()))?;
                    let record = CredentialRecord {
                        id: random_id(),
                        credential_type,
                        offer_id: "vc-api".into(),
                        revocation_index: revocation,
                        suspension_index: suspension,
                        issued_at: now,
                        expires_at,
                        state: CredentialState::Active,
                        state_height: None,
                    };
                    info!(credential_id = %record.id, "W3C credential issued");
                    Ok((signed, record))
                })
            })
            .await?;
        Ok(issued)
    }
}

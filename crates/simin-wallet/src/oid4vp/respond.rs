//! Answering a checked request: the stored card that satisfies the query, its
//! presentation, and the `direct_post` body (OpenID4VP 1.0 sections 8.1 and 8.2).

use serde_json::{json, Value};
use simin_identity::jose::decode_compact_unverified;
use simin_identity::sd_jwt::SdJwt;

use super::dcql::CredentialQuery;
use super::error::Oid4vpError;
use super::request::AuthorizationRequest;
use crate::holder::Holder;
use crate::oid4vci::FORMAT_SD_JWT_VC;
use crate::present::{present, read_credential, PresentError, PresentationRequest};
use crate::store::{CredentialId, CredentialRecord, WalletStore};

/// The stored credential that answers `query`: an SD-JWT VC whose type is one of
/// `vct_values`, the most recently received if there are several.
pub fn select_credential(
    store: &WalletStore,
    query: &CredentialQuery,
) -> Result<(CredentialId, CredentialRecord), Oid4vpError> {
    // Listed oldest first (by received_at, then id), so the last match is the newest.
    let chosen = store
        .list_credentials()?
        .into_iter()
        .rev()
        .find(|summary| {
            summary.format == FORMAT_SD_JWT_VC && query.vct_values.contains(&summary.type_name)
        })
        .ok_or_else(|| Oid4vpError::NoCredential {
            vct_values: query.vct_values.clone(),
        })?;
    let record = store.get_credential(chosen.id)?;
    Ok((chosen.id, record))
}

/// Checks that `record` has every claim `query` asks for, naming all that are missing,
/// so the citizen learns it before anything is shown or sent.
pub fn check_claims(record: &CredentialRecord, query: &CredentialQuery) -> Result<(), Oid4vpError> {
    let view = read_credential(&record.credential)?;
    let mut available: Vec<String> = view
        .claims
        .iter()
        .map(|claim| claim.name())
        .chain(view.plain_claims.keys().cloned())
        .collect();
    // Members of the signed payload a verifier always sees (`vct`, `iss`, ...) answer a
    // query for them too.
    let parsed = SdJwt::parse(&record.credential).map_err(PresentError::Malformed)?;
    let visible: Vec<String> = decode_compact_unverified(&parsed.issuer_jwt)
        .map(|(_, payload)| payload.keys().cloned().collect())
        .unwrap_or_default();
    let missing: Vec<String> = query
        .claims
        .iter()
        .filter(|name| !available.contains(name) && !visible.contains(name))
        .cloned()
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    available.sort();
    available.dedup();
    Err(Oid4vpError::MissingClaims { missing, available })
}

/// The presentation of `record` for `request`: the asked claims disclosed, bound by a
/// Key Binding JWT to the request's nonce and to the verifier's full client identifier
/// (OpenID4VP 1.0 appendix B.3.6), signed at `now` (Unix seconds).
pub fn build_presentation(
    record: &CredentialRecord,
    holder: &Holder,
    request: &AuthorizationRequest,
    now: i64,
) -> Result<String, Oid4vpError> {
    check_claims(record, &request.query)?;
    Ok(present(
        record,
        holder,
        &PresentationRequest {
            disclose: &request.query.claims,
            nonce: &request.nonce,
            audience: &request.client_id,
            issued_at: now,
        },
    )?)
}

/// The `application/x-www-form-urlencoded` body of the response: `vp_token`, a JSON
/// object from the credential query's id to the list of its presentations, and `state`.
pub fn response_body(request: &AuthorizationRequest, presentation: &str) -> String {
    let mut vp_token = serde_json::Map::new();
    vp_token.insert(request.query.id.clone(), json!([presentation]));
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("vp_token", &Value::Object(vp_token).to_string())
        .append_pair("state", &request.state)
        .finish()
}

/// The body of the error response when the citizen declines (OpenID4VP 1.0 section
/// 8.5): `error=access_denied` with the request's `state`.
pub fn decline_body(request: &AuthorizationRequest) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("error", "access_denied")
        .append_pair("error_description", "the citizen declined")
        .append_pair("state", &request.state)
        .finish()
}

//! The identity module: organisation DIDs, the trusted-issuer registry, credential
//! schemas and status lists (see `simin_types::identity`).
//!
//! Authority: a DID is created by a key of its organisation (or a city authority) and
//! then updated by its own `capability_invocation` keys, with a city authority as the
//! recovery path. Accreditations form a chain from a city authority (root) through
//! organisations that may accredit; [`accreditation_chain`] is the one check of that
//! chain, used here when an accreditor acts and by verifiers for a credential's
//! issuance time. Status lists belong to the organisation that created them.

mod authorize;

use std::collections::BTreeSet;

use simin_types::identity::{status_bit_position, STATUS_CHUNK_BYTES};
use simin_types::{
    limits, state_keys, Accreditation, AccreditationTerms, BlockTime, DidRecord, DidService,
    IdentityCall, KeyEpoch, OrgId, PublicKey, Relationship, Role, SchemaRecord, StatusListRecord,
    StatusPurpose, StatusUpdate, VerificationMethod,
};

use crate::call::{CallError, ExecError};
use crate::governance::{organization, organization_of_key};
use crate::state::{read, Overlay};
use crate::{BlockContext, LedgerError, StateView};

pub(crate) use authorize::authorize;

/// Stateless checks of an identity call (bounds and formats).
pub(crate) fn check(call: &IdentityCall) -> Result<(), CallError> {
    match call {
        IdentityCall::CreateDid {
            verification_methods,
            services,
            ..
        } => {
            if verification_methods.is_empty() {
                return Err(invalid_did("a DID needs at least one verification method"));
            }
            check_methods(verification_methods)?;
            check_services(services)?;
            if !verification_methods.iter().any(|m| {
                m.relationships
                    .contains(&Relationship::CapabilityInvocation)
            }) {
                return Err(invalid_did(
                    "no verification method has capability_invocation: nobody could update the DID",
                ));
            }
            Ok(())
        }
        IdentityCall::AddVerificationMethod { method, .. } => {
            check_methods(std::slice::from_ref(method))
        }
        IdentityCall::RotateKey {
            fragment,
            public_key,
            ..
        } => {
            check_fragment(fragment)?;
            check_key(public_key)
        }
        IdentityCall::AddService { service, .. } => check_services(std::slice::from_ref(service)),
        IdentityCall::RemoveVerificationMethod { fragment, .. }
        | IdentityCall::RemoveService { fragment, .. } => check_fragment(fragment),
        IdentityCall::DeactivateDid { .. } | IdentityCall::RevokeAccreditation { .. } => Ok(()),
        IdentityCall::Accredit(terms) => check_terms(terms),
        IdentityCall::RegisterSchema {
            credential_type,
            schema,
        } => {
            check_credential_type(credential_type)?;
            check_schema(schema)
        }
        IdentityCall::CreateStatusList { size_bits, .. } => {
            if *size_bits < limits::STATUS_LIST_BITS_MIN
                || *size_bits > limits::STATUS_LIST_BITS_MAX
                || size_bits % 8 != 0
            {
                return Err(CallError::InvalidStatus {
                    reason: format!(
                        "a list of {size_bits} bits: it must be a multiple of 8 from {} to {}",
                        limits::STATUS_LIST_BITS_MIN,
                        limits::STATUS_LIST_BITS_MAX
                    ),
                });
            }
            Ok(())
        }
        IdentityCall::SetStatus { updates, .. } => check_updates(updates),
    }
}

fn invalid_did(reason: impl Into<String>) -> CallError {
    CallError::InvalidDid {
        reason: reason.into(),
    }
}

/// 1 to 32 characters of `A-Za-z0-9-_`.
fn check_fragment(fragment: &str) -> Result<(), CallError> {
    let ok = (1..=32).contains(&fragment.len())
        && fragment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(invalid_did(format!(
            "fragment {:?}: use 1 to 32 characters of A-Z, a-z, 0-9, '-' and '_'",
            fragment.chars().take(40).collect::<String>()
        )))
    }
}

fn check_key(key: &PublicKey) -> Result<(), CallError> {
    if key.is_valid() {
        Ok(())
    } else {
        Err(invalid_did(format!("key {key} is not a valid Ed25519 key")))
    }
}

fn check_methods(methods: &[VerificationMethod]) -> Result<(), CallError> {
    if methods.len() > limits::DID_ENTRIES_MAX {
        return Err(invalid_did(format!(
            "{} verification methods; the limit is {}",
            methods.len(),
            limits::DID_ENTRIES_MAX
        )));
    }
    let mut fragments = BTreeSet::new();
    for method in methods {
        check_fragment(&method.fragment)?;
        check_key(&method.public_key)?;
        if !fragments.insert(method.fragment.as_str()) {
            return Err(invalid_did(format!(
                "fragment {} appears twice",
                method.fragment
            )));
        }
        let relationships: BTreeSet<_> = method.relationships.iter().collect();
        if method.relationships.is_empty() || relationships.len() != method.relationships.len() {
            return Err(invalid_did(format!(
                "method {} must list 1 to 4 distinct relationships",
                method.fragment
            )));
        }
    }
    Ok(())
}

fn check_services(services: &[DidService]) -> Result<(), CallError> {
    if services.len() > limits::DID_ENTRIES_MAX {
        return Err(invalid_did(format!(
            "{} services; the limit is {}",
            services.len(),
            limits::DID_ENTRIES_MAX
        )));
    }
    let mut fragments = BTreeSet::new();
    for service in services {
        check_fragment(&service.fragment)?;
        if !fragments.insert(service.fragment.as_str()) {
            return Err(invalid_did(format!(
                "fragment {} appears twice",
                service.fragment
            )));
        }
        let type_ok = (1..=64).contains(&service.service_type.len())
            && service
                .service_type
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !type_ok {
            return Err(invalid_did(format!(
                "service {}: the type must be 1 to 64 characters of A-Z, a-z, 0-9, '-', '_'",
                service.fragment
            )));
        }
        if !is_service_url(&service.endpoint) {
            return Err(invalid_did(format!(
                "service {}: the endpoint must be an https:// URL (http:// only on loopback) of at most {} bytes without spaces",
                service.fragment,
                limits::DID_SERVICE_ENDPOINT_BYTES_MAX
            )));
        }
    }
    Ok(())
}

fn is_service_url(url: &str) -> bool {
    let scheme_ok = url.starts_with("https://")
        || url.starts_with("http://127.0.0.1")
        || url.starts_with("http://localhost");
    scheme_ok
        && url.len() <= limits::DID_SERVICE_ENDPOINT_BYTES_MAX
        && url.bytes().all(|b| b.is_ascii_graphic())
}

/// 1 to 64 characters of `A-Za-z0-9-_.:/` (a `vct` may be a URL).
fn check_credential_type(name: &str) -> Result<(), CallError> {
    let ok = (1..=limits::CREDENTIAL_TYPE_BYTES_MAX).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(CallError::InvalidAccreditation {
            reason: format!(
                "credential type {:?}: use 1 to {} characters of A-Z, a-z, 0-9, '-', '_', '.', ':', '/'",
                name.chars().take(80).collect::<String>(),
                limits::CREDENTIAL_TYPE_BYTES_MAX
            ),
        })
    }
}

fn check_terms(terms: &AccreditationTerms) -> Result<(), CallError> {
    let types = &terms.credential_types;
    if types.is_empty() || types.len() > limits::ACCREDITATION_TYPES_MAX {
        return Err(CallError::InvalidAccreditation {
            reason: format!(
                "{} credential types; name 1 to {}",
                types.len(),
                limits::ACCREDITATION_TYPES_MAX
            ),
        });
    }
    for name in types {
        check_credential_type(name)?;
    }
    if types.iter().collect::<BTreeSet<_>>().len() != types.len() {
        return Err(CallError::InvalidAccreditation {
            reason: "a credential type appears twice".into(),
        });
    }
    if terms.valid_until <= terms.valid_from {
        return Err(CallError::InvalidAccreditation {
            reason: format!(
                "valid_until {} is not after valid_from {}",
                terms.valid_until, terms.valid_from
            ),
        });
    }
    Ok(())
}

/// A JSON object of at most `SCHEMA_BYTES_MAX` bytes. Parsing JSON is deterministic, so
/// every validator agrees; whether it is a sound JSON Schema is the registrant's care.
fn check_schema(schema: &str) -> Result<(), CallError> {
    if schema.len() > limits::SCHEMA_BYTES_MAX {
        return Err(CallError::InvalidSchema {
            reason: format!(
                "{} bytes; the limit is {}",
                schema.len(),
                limits::SCHEMA_BYTES_MAX
            ),
        });
    }
    match serde_json::from_str::<serde_json::Value>(schema) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err(CallError::InvalidSchema {
            reason: "a JSON Schema must be a JSON object".into(),
        }),
        Err(e) => Err(CallError::InvalidSchema {
            reason: format!("not JSON: {e}"),
        }),
    }
}

fn check_updates(updates: &[StatusUpdate]) -> Result<(), CallError> {
    if updates.is_empty() || updates.len() > limits::STATUS_UPDATES_MAX {
        return Err(CallError::InvalidStatus {
            reason: format!(
                "{} updates; make 1 to {}",
                updates.len(),
                limits::STATUS_UPDATES_MAX
            ),
        });
    }
    if updates
        .iter()
        .map(|u| u.index)
        .collect::<BTreeSet<_>>()
        .len()
        != updates.len()
    {
        return Err(CallError::InvalidStatus {
            reason: "an index appears twice".into(),
        });
    }
    Ok(())
}

/// Runs an identity call.
pub(crate) fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    call: &IdentityCall,
) -> Result<(), ExecError> {
    authorize(state, signer, call)?;
    match call {
        IdentityCall::CreateDid {
            organization: org,
            verification_methods,
            services,
        } => create_did(state, ctx, signer, org, verification_methods, services),
        IdentityCall::AddVerificationMethod {
            organization: org,
            method,
        } => update_did(state, ctx, signer, org, |doc| {
            if doc.method(&method.fragment).is_some() {
                return Err(invalid_did(format!(
                    "fragment {} is already used",
                    method.fragment
                )));
            }
            doc.verification_methods.push(method.clone());
            Ok(())
        }),
        IdentityCall::RemoveVerificationMethod {
            organization: org,
            fragment,
        } => update_did(state, ctx, signer, org, |doc| {
            let before = doc.verification_methods.len();
            doc.verification_methods.retain(|m| m.fragment != *fragment);
            if doc.verification_methods.len() == before {
                return Err(invalid_did(format!("no verification method #{fragment}")));
            }
            Ok(())
        }),
        IdentityCall::RotateKey {
            organization: org,
            fragment,
            public_key,
        } => update_did(state, ctx, signer, org, |doc| {
            let method = doc
                .verification_methods
                .iter_mut()
                .find(|m| m.fragment == *fragment)
                .ok_or_else(|| invalid_did(format!("no verification method #{fragment}")))?;
            method.public_key = *public_key;
            Ok(())
        }),
        IdentityCall::AddService {
            organization: org,
            service,
        } => update_did(state, ctx, signer, org, |doc| {
            if doc.services.iter().any(|s| s.fragment == service.fragment) {
                return Err(invalid_did(format!(
                    "fragment {} is already used",
                    service.fragment
                )));
            }
            doc.services.push(service.clone());
            Ok(())
        }),
        IdentityCall::RemoveService {
            organization: org,
            fragment,
        } => update_did(state, ctx, signer, org, |doc| {
            let before = doc.services.len();
            doc.services.retain(|s| s.fragment != *fragment);
            if doc.services.len() == before {
                return Err(invalid_did(format!("no service #{fragment}")));
            }
            Ok(())
        }),
        IdentityCall::DeactivateDid { organization: org } => {
            update_did(state, ctx, signer, org, |doc| {
                doc.deactivated = true;
                Ok(())
            })
        }
        IdentityCall::Accredit(terms) => accredit(state, ctx, signer, terms),
        IdentityCall::RevokeAccreditation { issuer } => {
            revoke_accreditation(state, ctx, signer, issuer)
        }
        IdentityCall::RegisterSchema {
            credential_type,
            schema,
        } => register_schema(state, ctx, signer, credential_type, schema),
        IdentityCall::CreateStatusList {
            list,
            purpose,
            size_bits,
        } => create_status_list(state, ctx, signer, *list, *purpose, *size_bits),
        IdentityCall::SetStatus { list, updates } => set_status(state, signer, *list, updates),
    }
}

fn is_authority(state: &dyn StateView, signer: &PublicKey) -> Result<bool, ExecError> {
    let authorities: Vec<PublicKey> =
        read(state, &state_keys::authorities(), "authorities")?.unwrap_or_default();
    Ok(authorities.contains(signer))
}

/// The active organisation `signer` is a key of, if any.
fn active_org_of(state: &dyn StateView, signer: &PublicKey) -> Result<Option<OrgId>, ExecError> {
    let Some(id) = organization_of_key(state, signer)? else {
        return Ok(None);
    };
    Ok(organization(state, &id)?
        .filter(|org| org.active)
        .map(|_| id))
}

fn create_did(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    org: &OrgId,
    methods: &[VerificationMethod],
    services: &[DidService],
) -> Result<(), ExecError> {
    let Some(registered) = organization(state, org)? else {
        return Err(CallError::UnknownOrganization { id: org.clone() }.into());
    };
    let own_key = registered.active && registered.keys.contains(signer);
    if !own_key && !is_authority(state, signer)? {
        return Err(CallError::NotDidController {
            signer: *signer,
            organization: org.clone(),
        }
        .into());
    }
    if read::<DidRecord>(state, &state_keys::did(org), "DID record")?.is_some() {
        return Err(CallError::DidExists {
            organization: org.clone(),
        }
        .into());
    }
    let record = DidRecord {
        organization: org.clone(),
        verification_methods: methods.to_vec(),
        services: services.to_vec(),
        deactivated: false,
        created_height: ctx.height,
        created_time: ctx.time,
        updated_height: ctx.height,
        updated_time: ctx.time,
        version: 1,
        key_history: methods
            .iter()
            .map(|m| KeyEpoch {
                method: m.clone(),
                from: ctx.time,
                until: None,
            })
            .collect(),
    };
    state.put(state_keys::did(org), &record);
    Ok(())
}

/// Applies `change` to a DID the signer controls, then re-checks the document's bounds.
fn update_did(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    org: &OrgId,
    change: impl FnOnce(&mut DidRecord) -> Result<(), CallError>,
) -> Result<(), ExecError> {
    let Some(mut doc) = read::<DidRecord>(state, &state_keys::did(org), "DID record")? else {
        return Err(CallError::UnknownDid {
            organization: org.clone(),
        }
        .into());
    };
    if doc.deactivated {
        return Err(CallError::DidDeactivated {
            organization: org.clone(),
        }
        .into());
    }
    if !doc.has_key_for(signer, Relationship::CapabilityInvocation) && !is_authority(state, signer)?
    {
        return Err(CallError::NotDidController {
            signer: *signer,
            organization: org.clone(),
        }
        .into());
    }
    let before = doc.verification_methods.clone();
    change(&mut doc)?;
    check_methods(&doc.verification_methods)?;
    record_key_history(&mut doc, &before, ctx.time)?;
    check_services(&doc.services)?;
    if !doc.deactivated
        && !doc.verification_methods.iter().any(|m| {
            m.relationships
                .contains(&Relationship::CapabilityInvocation)
        })
    {
        return Err(invalid_did(
            "the change leaves no capability_invocation key: nobody could update the DID",
        )
        .into());
    }
    doc.updated_height = ctx.height;
    doc.updated_time = ctx.time;
    doc.version = doc.version.saturating_add(1);
    state.put(state_keys::did(org), &doc);
    Ok(())
}

/// Closes the epochs of methods that changed or left, opens epochs for methods that
/// arrived or changed; a deactivation closes every epoch.
fn record_key_history(
    doc: &mut DidRecord,
    before: &[VerificationMethod],
    now: BlockTime,
) -> Result<(), CallError> {
    let live = |m: &VerificationMethod| !doc.deactivated && doc.verification_methods.contains(m);
    let mut closing: Vec<usize> = Vec::new();
    for (i, epoch) in doc.key_history.iter().enumerate() {
        if epoch.until.is_none() && !live(&epoch.method) {
            closing.push(i);
        }
    }
    for i in closing {
        doc.key_history[i].until = Some(now);
    }
    if !doc.deactivated {
        let arrived: Vec<VerificationMethod> = doc
            .verification_methods
            .iter()
            .filter(|m| !before.contains(m))
            .cloned()
            .collect();
        for method in arrived {
            doc.key_history.push(KeyEpoch {
                method,
                from: now,
                until: None,
            });
        }
    }
    if doc.key_history.len() > limits::DID_KEY_HISTORY_MAX {
        return Err(invalid_did(format!(
            "the DID's key history would exceed {} entries",
            limits::DID_KEY_HISTORY_MAX
        )));
    }
    Ok(())
}

/// Why an issuer is not trusted for a credential type at a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    #[error("{issuer} holds no accreditation")]
    NotAccredited { issuer: OrgId },
    #[error("{issuer}'s accreditation does not cover {credential_type} at time {time}")]
    NotCovered {
        issuer: OrgId,
        credential_type: String,
        time: BlockTime,
    },
    #[error("{accreditor}, which accredited {issuer}, could not accredit for {credential_type} at time {time}")]
    BrokenChain {
        issuer: OrgId,
        accreditor: OrgId,
        credential_type: String,
        time: BlockTime,
    },
    #[error("the accreditation chain of {issuer} is longer than {max}")]
    ChainTooLong { issuer: OrgId, max: usize },
    #[error(transparent)]
    State(#[from] LedgerError),
}

/// The accreditation chain that makes `issuer` trusted for `credential_type` at `time`:
/// the issuer's own accreditation first, a root accreditation (by a city authority)
/// last. Every link covers the type at `time`, and every accreditor's may accredit.
pub fn accreditation_chain(
    view: &dyn StateView,
    issuer: &OrgId,
    credential_type: &str,
    time: BlockTime,
) -> Result<Vec<Accreditation>, TrustError> {
    let mut chain: Vec<Accreditation> = Vec::new();
    let mut current = issuer.clone();
    loop {
        if chain.len() == limits::ACCREDITATION_DEPTH_MAX {
            return Err(TrustError::ChainTooLong {
                issuer: issuer.clone(),
                max: limits::ACCREDITATION_DEPTH_MAX,
            });
        }
        let Some(acc) =
            read::<Accreditation>(view, &state_keys::accreditation(&current), "accreditation")?
        else {
            return Err(match chain.last() {
                None => TrustError::NotAccredited {
                    issuer: issuer.clone(),
                },
                Some(_) => TrustError::BrokenChain {
                    issuer: issuer.clone(),
                    accreditor: current,
                    credential_type: credential_type.to_owned(),
                    time,
                },
            });
        };
        let link_ok =
            acc.covers(credential_type, time) && (chain.is_empty() || acc.terms.may_accredit);
        if !link_ok {
            return Err(if chain.is_empty() {
                TrustError::NotCovered {
                    issuer: issuer.clone(),
                    credential_type: credential_type.to_owned(),
                    time,
                }
            } else {
                TrustError::BrokenChain {
                    issuer: issuer.clone(),
                    accreditor: current,
                    credential_type: credential_type.to_owned(),
                    time,
                }
            });
        }
        let next = acc.accredited_by.clone();
        chain.push(acc);
        match next {
            None => return Ok(chain),
            Some(accreditor) => current = accreditor,
        }
    }
}

fn accredit(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    terms: &AccreditationTerms,
) -> Result<(), ExecError> {
    let Some(issuer) = organization(state, &terms.issuer)? else {
        return Err(CallError::UnknownOrganization {
            id: terms.issuer.clone(),
        }
        .into());
    };
    if !issuer.has_role(Role::Issuer) {
        return Err(CallError::InvalidAccreditation {
            reason: format!(
                "{} is not an active organisation with the issuer role",
                issuer.id
            ),
        }
        .into());
    }
    let accredited_by = if is_authority(state, signer)? {
        None
    } else {
        let Some(accreditor) = active_org_of(state, signer)? else {
            return Err(CallError::NotAnAccreditor { signer: *signer }.into());
        };
        if accreditor == terms.issuer {
            return Err(CallError::InvalidAccreditation {
                reason: "an organisation cannot accredit itself".into(),
            }
            .into());
        }
        // The accreditor must be able to accredit every type now, and for the whole
        // period it grants.
        for credential_type in &terms.credential_types {
            let chain = accreditation_chain(state, &accreditor, credential_type, ctx.time)
                .map_err(|e| trust_to_call(e, signer))?;
            let own = &chain[0];
            if !own.terms.may_accredit {
                return Err(CallError::NotAnAccreditor { signer: *signer }.into());
            }
            let outlives = chain.iter().all(|link| {
                link.terms.valid_from <= terms.valid_from
                    && terms.valid_until <= link.terms.valid_until
            });
            if !outlives {
                return Err(CallError::InvalidAccreditation {
                    reason: format!(
                        "the period {}..{} is not within the accreditor's own for {credential_type}",
                        terms.valid_from, terms.valid_until
                    ),
                }
                .into());
            }
        }
        Some(accreditor)
    };
    let key = state_keys::accreditation(&terms.issuer);
    if let Some(existing) = read::<Accreditation>(state, &key, "accreditation")? {
        let may_replace = accredited_by.is_none() || existing.accredited_by == accredited_by;
        if !may_replace {
            return Err(CallError::NotAnAccreditor { signer: *signer }.into());
        }
    }
    let record = Accreditation {
        terms: terms.clone(),
        accredited_by,
        granted_height: ctx.height,
        granted_time: ctx.time,
        revoked_time: None,
    };
    state.put(key, &record);
    Ok(())
}

fn trust_to_call(e: TrustError, signer: &PublicKey) -> ExecError {
    match e {
        TrustError::State(e) => ExecError::Ledger(e),
        _ => CallError::NotAnAccreditor { signer: *signer }.into(),
    }
}

fn revoke_accreditation(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    issuer: &OrgId,
) -> Result<(), ExecError> {
    let key = state_keys::accreditation(issuer);
    let Some(mut acc) = read::<Accreditation>(state, &key, "accreditation")? else {
        return Err(CallError::InvalidAccreditation {
            reason: format!("{issuer} holds no accreditation"),
        }
        .into());
    };
    let by_accreditor = match &acc.accredited_by {
        Some(accreditor) => active_org_of(state, signer)?.as_ref() == Some(accreditor),
        None => false,
    };
    if !by_accreditor && !is_authority(state, signer)? {
        return Err(CallError::NotAnAccreditor { signer: *signer }.into());
    }
    if acc.revoked_time.is_some() {
        return Err(CallError::InvalidAccreditation {
            reason: format!("{issuer}'s accreditation is already revoked"),
        }
        .into());
    }
    acc.revoked_time = Some(ctx.time);
    state.put(key, &acc);
    Ok(())
}

fn register_schema(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    credential_type: &str,
    schema: &str,
) -> Result<(), ExecError> {
    let registered_by = if is_authority(state, signer)? {
        None
    } else {
        let org = active_org_of(state, signer)?;
        let accredited = match &org {
            Some(org) => match accreditation_chain(state, org, credential_type, ctx.time) {
                Ok(_) => true,
                Err(TrustError::State(e)) => return Err(e.into()),
                Err(_) => false,
            },
            None => false,
        };
        if !accredited {
            return Err(CallError::NotAnIssuer {
                signer: *signer,
                credential_type: credential_type.to_owned(),
            }
            .into());
        }
        org
    };
    let key = state_keys::schema(credential_type);
    if let Some(existing) = read::<SchemaRecord>(state, &key, "schema")? {
        if registered_by.is_some() && existing.registered_by != registered_by {
            return Err(CallError::InvalidSchema {
                reason: format!("{credential_type} was registered by another organisation"),
            }
            .into());
        }
    }
    let record = SchemaRecord {
        credential_type: credential_type.to_owned(),
        schema: schema.to_owned(),
        registered_by,
        height: ctx.height,
        time: ctx.time,
    };
    state.put(key, &record);
    Ok(())
}

fn create_status_list(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    list: u32,
    purpose: StatusPurpose,
    size_bits: u32,
) -> Result<(), ExecError> {
    let Some(issuer) = active_org_of(state, signer)? else {
        return Err(CallError::NotAnIssuer {
            signer: *signer,
            credential_type: "(any)".into(),
        }
        .into());
    };
    let accredited =
        read::<Accreditation>(state, &state_keys::accreditation(&issuer), "accreditation")?
            .is_some_and(|acc| acc.is_valid_at(ctx.time));
    if !accredited {
        return Err(CallError::NotAnIssuer {
            signer: *signer,
            credential_type: "(any)".into(),
        }
        .into());
    }
    let key = state_keys::status_list(&issuer, list);
    if read::<StatusListRecord>(state, &key, "status list")?.is_some() {
        return Err(CallError::InvalidStatus {
            reason: format!("{issuer} already has status list {list}"),
        }
        .into());
    }
    let record = StatusListRecord {
        issuer,
        list,
        purpose,
        size_bits,
        created_height: ctx.height,
        created_time: ctx.time,
    };
    state.put(key, &record);
    Ok(())
}

fn set_status(
    state: &mut Overlay<'_>,
    signer: &PublicKey,
    list: u32,
    updates: &[StatusUpdate],
) -> Result<(), ExecError> {
    let Some(issuer) = active_org_of(state, signer)? else {
        return Err(CallError::UnknownStatusList {
            list,
            reason: format!("{signer} is not a key of an active organisation"),
        }
        .into());
    };
    let Some(meta) = read::<StatusListRecord>(
        state,
        &state_keys::status_list(&issuer, list),
        "status list",
    )?
    else {
        return Err(CallError::UnknownStatusList {
            list,
            reason: format!("{issuer} has no status list {list}"),
        }
        .into());
    };
    // Group by chunk so each chunk is read and written once.
    let mut sorted = updates.to_vec();
    sorted.sort_by_key(|u| u.index);
    let mut chunk: Option<(u32, Vec<u8>)> = None;
    for update in &sorted {
        if update.index >= meta.size_bits {
            return Err(CallError::InvalidStatus {
                reason: format!(
                    "index {} is outside the list's {} bits",
                    update.index, meta.size_bits
                ),
            }
            .into());
        }
        let (number, byte, mask) = status_bit_position(update.index);
        if chunk.as_ref().map(|(n, _)| *n) != Some(number) {
            if let Some((n, bytes)) = chunk.take() {
                state.put(state_keys::status_chunk(&issuer, list, n), &bytes);
            }
            chunk = Some((number, status_chunk(state, &issuer, list, number)?));
        }
        let (_, bytes) = chunk.as_mut().expect("set just above");
        let was_set = bytes[byte] & mask != 0;
        if was_set && !update.value && meta.purpose == StatusPurpose::Revocation {
            return Err(CallError::InvalidStatus {
                reason: format!(
                    "index {} is revoked, and a revocation cannot be undone",
                    update.index
                ),
            }
            .into());
        }
        if update.value {
            bytes[byte] |= mask;
        } else {
            bytes[byte] &= !mask;
        }
    }
    if let Some((n, bytes)) = chunk {
        state.put(state_keys::status_chunk(&issuer, list, n), &bytes);
    }
    Ok(())
}

/// One chunk of a status list's bits: `STATUS_CHUNK_BYTES` bytes, zeros if never written.
pub fn status_chunk(
    view: &dyn StateView,
    issuer: &OrgId,
    list: u32,
    chunk: u32,
) -> Result<Vec<u8>, LedgerError> {
    let key = state_keys::status_chunk(issuer, list, chunk);
    match read::<Vec<u8>>(view, &key, "status chunk")? {
        Some(bytes) if bytes.len() == STATUS_CHUNK_BYTES => Ok(bytes),
        Some(bytes) => Err(LedgerError::CorruptState {
            key: key.escape_ascii().to_string(),
            what: "status chunk",
            reason: format!("{} bytes, expected {STATUS_CHUNK_BYTES}", bytes.len()),
        }),
        None => Ok(vec![0; STATUS_CHUNK_BYTES]),
    }
}

/// The whole bitstring of a status list (`size_bits / 8` bytes), for its credential.
pub fn status_list_bits(
    view: &dyn StateView,
    record: &StatusListRecord,
) -> Result<Vec<u8>, LedgerError> {
    // size_bits <= STATUS_LIST_BITS_MAX (2^24), so the byte count fits in usize.
    let total = (record.size_bits / 8) as usize;
    let mut bits = Vec::with_capacity(total);
    let mut chunk = 0u32;
    while bits.len() < total {
        let bytes = status_chunk(view, &record.issuer, record.list, chunk)?;
        let take = STATUS_CHUNK_BYTES.min(total - bits.len());
        bits.extend_from_slice(&bytes[..take]);
        chunk = chunk.saturating_add(1);
    }
    Ok(bits)
}

/// Reads a DID record.
pub fn did_record(view: &dyn StateView, org: &OrgId) -> Result<Option<DidRecord>, LedgerError> {
    read(view, &state_keys::did(org), "DID record")
}

/// Reads an accreditation.
pub fn accreditation(
    view: &dyn StateView,
    issuer: &OrgId,
) -> Result<Option<Accreditation>, LedgerError> {
    read(view, &state_keys::accreditation(issuer), "accreditation")
}

/// Reads a schema.
pub fn schema(
    view: &dyn StateView,
    credential_type: &str,
) -> Result<Option<SchemaRecord>, LedgerError> {
    read(view, &state_keys::schema(credential_type), "schema")
}

/// Reads a status list's record.
pub fn status_list(
    view: &dyn StateView,
    issuer: &OrgId,
    list: u32,
) -> Result<Option<StatusListRecord>, LedgerError> {
    read(view, &state_keys::status_list(issuer, list), "status list")
}

//! The auth module: the registry of services that sign citizens in with the citizen card
//! (OpenID Connect clients of the city's identity provider), and the citizens' access log
//! (see `simin_types::auth`).
//!
//! Authority: a service is registered by a key of its organisation (active, with the
//! `Service` role) or by a city authority; a registration naming another organisation is
//! replaced only by a city authority. Access records are written by organisations with
//! the `IdentityProvider` role, for registered services only, and are never changed:
//! each pairwise subject's records are numbered from 0 in the order they were recorded.

mod authorize;

use std::collections::BTreeSet;

use simin_types::{
    limits, state_keys, AccessEntry, AccessRecord, AuthCall, Organization, PublicKey, Role,
    ServiceRegistration,
};

use crate::call::{CallError, ExecError};
use crate::governance::{organization, organization_of_key};
use crate::state::{read, Overlay};
use crate::{BlockContext, LedgerError, StateView};

pub(crate) use authorize::authorize;

/// Longest service name shown to citizens, in bytes.
pub const SERVICE_NAME_BYTES_MAX: usize = 200;
/// Most access records [`access_records`] returns at once.
pub const ACCESS_RECORDS_LIMIT_MAX: u64 = 256;
/// Hosts on which a redirect URI may use plain `http://` (RFC 8252 loopback redirects,
/// for development).
const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

/// Stateless checks of an auth call (bounds and formats).
pub(crate) fn check(call: &AuthCall) -> Result<(), CallError> {
    match call {
        AuthCall::RegisterService(registration) => check_registration(registration),
        AuthCall::DeregisterService { client_id } => check_client_id(client_id),
        AuthCall::RecordAccess { entries } => check_entries(entries),
    }
}

fn invalid_service(client_id: &str, reason: impl Into<String>) -> CallError {
    CallError::InvalidService {
        client_id: shorten(client_id),
        reason: reason.into(),
    }
}

fn invalid_access(reason: impl Into<String>) -> CallError {
    CallError::InvalidAccess {
        reason: reason.into(),
    }
}

/// The start of an untrusted string, for error messages: never more than 80 characters.
fn shorten(text: &str) -> String {
    text.chars().take(80).collect()
}

/// 1 to `max` bytes, each in `allowed`.
fn is_token(text: &str, max: usize, allowed: impl Fn(u8) -> bool) -> bool {
    (1..=max).contains(&text.len()) && text.bytes().all(allowed)
}

/// A client id: 1 to 64 characters of `a-z`, `0-9`, `.`, `-`, `_`.
pub fn is_client_id(text: &str) -> bool {
    is_token(text, limits::CLIENT_ID_BYTES_MAX, |b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || b".-_".contains(&b)
    })
}

/// A scope or claim name: 1 to 64 characters of `a-z`, `0-9`, `_`.
fn is_name(text: &str) -> bool {
    is_token(text, limits::SCOPE_BYTES_MAX, |b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'
    })
}

/// A pairwise subject: 1 to 64 characters of the base64url alphabet.
pub fn is_subject(text: &str) -> bool {
    is_token(text, limits::SUBJECT_BYTES_MAX, |b| {
        b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
    })
}

fn check_client_id(client_id: &str) -> Result<(), CallError> {
    if is_client_id(client_id) {
        Ok(())
    } else {
        Err(invalid_service(
            client_id,
            format!(
                "the client id must be 1 to {} characters of a-z, 0-9, '.', '-', '_'",
                limits::CLIENT_ID_BYTES_MAX
            ),
        ))
    }
}

fn check_registration(reg: &ServiceRegistration) -> Result<(), CallError> {
    let id = reg.client_id.as_str();
    check_client_id(id)?;
    if reg.name.is_empty() || reg.name.len() > SERVICE_NAME_BYTES_MAX {
        return Err(invalid_service(
            id,
            format!(
                "the name is {} bytes; it must be 1 to {SERVICE_NAME_BYTES_MAX}",
                reg.name.len()
            ),
        ));
    }
    let uris = &reg.redirect_uris;
    if uris.is_empty() || uris.len() > limits::SERVICE_REDIRECT_URIS_MAX {
        return Err(invalid_service(
            id,
            format!(
                "{} redirect URIs; list 1 to {}",
                uris.len(),
                limits::SERVICE_REDIRECT_URIS_MAX
            ),
        ));
    }
    for uri in uris {
        check_redirect_uri(uri).map_err(|reason| {
            invalid_service(id, format!("redirect URI {:?}: {reason}", shorten(uri)))
        })?;
    }
    if uris.iter().collect::<BTreeSet<_>>().len() != uris.len() {
        return Err(invalid_service(id, "a redirect URI appears twice"));
    }
    let scopes = &reg.scopes;
    if scopes.len() > limits::SERVICE_SCOPES_MAX {
        return Err(invalid_service(
            id,
            format!(
                "{} scopes; the limit is {}",
                scopes.len(),
                limits::SERVICE_SCOPES_MAX
            ),
        ));
    }
    for scope in scopes {
        if !is_name(scope) {
            return Err(invalid_service(
                id,
                format!(
                    "scope {:?}: use 1 to {} characters of a-z, 0-9, '_'",
                    shorten(scope),
                    limits::SCOPE_BYTES_MAX
                ),
            ));
        }
        if scope == "openid" {
            return Err(invalid_service(
                id,
                "the scope openid is implied; do not list it",
            ));
        }
    }
    if scopes.iter().collect::<BTreeSet<_>>().len() != scopes.len() {
        return Err(invalid_service(id, "a scope appears twice"));
    }
    Ok(())
}

/// An absolute `https://` URI, or `http://` on a loopback host, without a fragment,
/// user info, spaces or control characters, of at most `REDIRECT_URI_BYTES_MAX` bytes.
fn check_redirect_uri(uri: &str) -> Result<(), String> {
    if uri.len() > limits::REDIRECT_URI_BYTES_MAX {
        return Err(format!(
            "{} bytes; the limit is {}",
            uri.len(),
            limits::REDIRECT_URI_BYTES_MAX
        ));
    }
    if !uri.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("only printable ASCII without spaces".into());
    }
    if uri.contains('#') {
        return Err("a redirect URI has no fragment".into());
    }
    let (secure, rest) = if let Some(rest) = uri.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = uri.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err("use https:// (or http:// on 127.0.0.1, localhost or [::1])".into());
    };
    let authority = rest
        .split(['/', '?'])
        .next()
        .expect("split yields at least one piece");
    if authority.contains('@') {
        return Err("a redirect URI has no user info".into());
    }
    let (host, port) = split_port(authority);
    if let Some(port) = port {
        if !is_token(port, 5, |b| b.is_ascii_digit()) {
            return Err(format!("port {port:?} is not 1 to 5 digits"));
        }
    }
    let host_ok = if host.starts_with('[') {
        host.len() > 2
            && host.ends_with(']')
            && host[1..host.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    };
    if !host_ok {
        return Err(format!("host {:?} is not a host name or address", host));
    }
    if !secure && !LOOPBACK_HOSTS.contains(&host) {
        return Err(format!(
            "http:// is only for loopback hosts ({}); {host} must use https://",
            LOOPBACK_HOSTS.join(", ")
        ));
    }
    Ok(())
}

/// Splits `host[:port]`, where an IPv6 host is bracketed.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    let host_end = if authority.starts_with('[') {
        authority.find(']').map_or(authority.len(), |i| i + 1)
    } else {
        authority.find(':').unwrap_or(authority.len())
    };
    let (host, rest) = authority.split_at(host_end);
    match rest.strip_prefix(':') {
        Some(port) => (host, Some(port)),
        None if rest.is_empty() => (host, None),
        // Something other than a port follows a bracketed host: keep it in the host,
        // which then fails the host check.
        None => (authority, None),
    }
}

fn check_entries(entries: &[AccessEntry]) -> Result<(), CallError> {
    if entries.is_empty() || entries.len() > limits::ACCESS_ENTRIES_MAX {
        return Err(invalid_access(format!(
            "{} entries; record 1 to {}",
            entries.len(),
            limits::ACCESS_ENTRIES_MAX
        )));
    }
    for (i, entry) in entries.iter().enumerate() {
        if !is_client_id(&entry.client_id) {
            return Err(invalid_access(format!(
                "entry {i}: client id {:?} is not 1 to {} characters of a-z, 0-9, '.', '-', '_'",
                shorten(&entry.client_id),
                limits::CLIENT_ID_BYTES_MAX
            )));
        }
        if !is_subject(&entry.subject) {
            return Err(invalid_access(format!(
                "entry {i}: the subject must be 1 to {} characters of base64url",
                limits::SUBJECT_BYTES_MAX
            )));
        }
        if entry.claims.len() > limits::ACCESS_CLAIMS_MAX {
            return Err(invalid_access(format!(
                "entry {i}: {} claims; the limit is {}",
                entry.claims.len(),
                limits::ACCESS_CLAIMS_MAX
            )));
        }
        if let Some(claim) = entry.claims.iter().find(|c| !is_name(c)) {
            return Err(invalid_access(format!(
                "entry {i}: claim {:?} is not 1 to {} characters of a-z, 0-9, '_'",
                shorten(claim),
                limits::SCOPE_BYTES_MAX
            )));
        }
        if entry.claims.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err(invalid_access(format!(
                "entry {i}: the claim names must be sorted and distinct"
            )));
        }
    }
    Ok(())
}

/// Runs an auth call.
pub(crate) fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    call: &AuthCall,
) -> Result<(), ExecError> {
    authorize(state, signer, call)?;
    match call {
        AuthCall::RegisterService(registration) => register_service(state, signer, registration),
        AuthCall::DeregisterService { client_id } => deregister_service(state, signer, client_id),
        AuthCall::RecordAccess { entries } => record_access(state, ctx, signer, entries),
    }
}

fn is_authority(state: &dyn StateView, signer: &PublicKey) -> Result<bool, ExecError> {
    let authorities: Vec<PublicKey> =
        read(state, &state_keys::authorities(), "authorities")?.unwrap_or_default();
    Ok(authorities.contains(signer))
}

/// The active organisation `signer` is a key of, with its roles, if any.
fn active_org_of(
    state: &dyn StateView,
    signer: &PublicKey,
) -> Result<Option<Organization>, ExecError> {
    let Some(id) = organization_of_key(state, signer)? else {
        return Ok(None);
    };
    Ok(organization(state, &id)?.filter(|org| org.active))
}

fn register_service(
    state: &mut Overlay<'_>,
    signer: &PublicKey,
    registration: &ServiceRegistration,
) -> Result<(), ExecError> {
    let org_id = &registration.organization;
    let Some(org) = organization(state, org_id)? else {
        return Err(CallError::UnknownOrganization { id: org_id.clone() }.into());
    };
    if !org.has_role(Role::Service) {
        return Err(CallError::NotAService {
            organization: org_id.clone(),
        }
        .into());
    }
    let authority = is_authority(state, signer)?;
    if !authority && !org.keys.contains(signer) {
        return Err(CallError::NotServiceController {
            signer: *signer,
            client_id: registration.client_id.clone(),
        }
        .into());
    }
    let key = state_keys::service(&registration.client_id);
    match read::<ServiceRegistration>(state, &key, "service registration")? {
        Some(existing) => {
            if existing.organization != *org_id && !authority {
                return Err(CallError::ClientIdTaken {
                    client_id: registration.client_id.clone(),
                    organization: existing.organization,
                }
                .into());
            }
        }
        None => {
            let mut index = services(state)?;
            if index.len() >= limits::SERVICES_MAX {
                return Err(CallError::TooManyServices {
                    max: limits::SERVICES_MAX,
                }
                .into());
            }
            index.push(registration.client_id.clone());
            state.put(state_keys::services(), &index);
        }
    }
    let stored = ServiceRegistration {
        active: true,
        ..registration.clone()
    };
    state.put(key, &stored);
    Ok(())
}

fn deregister_service(
    state: &mut Overlay<'_>,
    signer: &PublicKey,
    client_id: &str,
) -> Result<(), ExecError> {
    let key = state_keys::service(client_id);
    let Some(mut registration) = read::<ServiceRegistration>(state, &key, "service registration")?
    else {
        return Err(CallError::UnknownService {
            client_id: client_id.to_owned(),
        }
        .into());
    };
    if !registration.active {
        return Err(CallError::ServiceInactive {
            client_id: client_id.to_owned(),
        }
        .into());
    }
    let own = active_org_of(state, signer)?.is_some_and(|org| org.id == registration.organization);
    if !own && !is_authority(state, signer)? {
        return Err(CallError::NotServiceController {
            signer: *signer,
            client_id: client_id.to_owned(),
        }
        .into());
    }
    registration.active = false;
    state.put(key, &registration);
    Ok(())
}

fn record_access(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    entries: &[AccessEntry],
) -> Result<(), ExecError> {
    let provider = match active_org_of(state, signer)? {
        Some(org) if org.has_role(Role::IdentityProvider) => org.id,
        _ => return Err(CallError::NotAnIdentityProvider { signer: *signer }.into()),
    };
    for entry in entries {
        // A deregistered service still counts: a login may precede its deregistration
        // in the provider's batch.
        if service(state, &entry.client_id)?.is_none() {
            return Err(CallError::UnknownService {
                client_id: entry.client_id.clone(),
            }
            .into());
        }
        let seq = access_count(state, &entry.subject)?;
        let next = seq
            .checked_add(1)
            .ok_or_else(|| invalid_access("the subject's access log is full"))?;
        let record = AccessRecord {
            entry: entry.clone(),
            provider: provider.clone(),
            height: ctx.height,
            block_time: ctx.time,
        };
        state.put(state_keys::access_record(&entry.subject, seq), &record);
        state.put(state_keys::access_count(&entry.subject), &next);
    }
    Ok(())
}

/// Reads a service registration.
pub fn service(
    view: &dyn StateView,
    client_id: &str,
) -> Result<Option<ServiceRegistration>, LedgerError> {
    read(
        view,
        &state_keys::service(client_id),
        "service registration",
    )
}

/// The client ids of every service ever registered, in registration order.
pub fn services(view: &dyn StateView) -> Result<Vec<String>, LedgerError> {
    Ok(read(view, &state_keys::services(), "service index")?.unwrap_or_default())
}

/// How many access records a pairwise subject has (0 if none).
pub fn access_count(view: &dyn StateView, subject: &str) -> Result<u64, LedgerError> {
    Ok(read(view, &state_keys::access_count(subject), "access count")?.unwrap_or(0))
}

/// A subject's access records number `from` onwards, at most `limit` of them (capped at
/// [`ACCESS_RECORDS_LIMIT_MAX`]), in the order they were recorded.
pub fn access_records(
    view: &dyn StateView,
    subject: &str,
    from: u64,
    limit: u64,
) -> Result<Vec<AccessRecord>, LedgerError> {
    let count = access_count(view, subject)?;
    let end = count.min(from.saturating_add(limit.min(ACCESS_RECORDS_LIMIT_MAX)));
    let mut records = Vec::new();
    for seq in from..end {
        let key = state_keys::access_record(subject, seq);
        let Some(record) = read::<AccessRecord>(view, &key, "access record")? else {
            return Err(LedgerError::MissingState {
                key: key.escape_ascii().to_string(),
                what: "access record",
            });
        };
        records.push(record);
    }
    Ok(records)
}

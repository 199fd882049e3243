//! The verifier's answer to a `direct_post` (OpenID4VP 1.0 section 8.2): a redirect for
//! a same-device login, or, for an access-log request, the citizen's access log.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::error::{error_answer, json_object, server_text, Oid4vpEndpoint, Oid4vpError};
use super::link::url_error;
use super::request::Purpose;
use super::ACCESS_LOG_ENTRIES_MAX;
use crate::oid4vci::check_url;

/// The longest text kept of an access-log field, in characters.
const ENTRY_TEXT_CHARS_MAX: usize = 200;
/// The most claim names kept of one access-log entry.
const ENTRY_CLAIMS_MAX: usize = 64;

/// What the verifier answered to an accepted presentation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VerifierAnswer {
    /// Where to continue in the browser (same-device flows), if the verifier says.
    pub redirect_uri: Option<Url>,
    /// The access log, when the request was for it.
    pub access_log: Option<AccessLog>,
}

/// The citizen's access log, as the gateway answered it.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessLog {
    /// The entries, read and made safe to print.
    pub entries: Vec<AccessLogEntry>,
    /// The `access_log` object exactly as answered, for callers that pass it on.
    pub raw: Value,
}

/// One release of the citizen's claims to a service.
///
/// Absent fields are empty (or `None`); texts have their control characters removed and
/// are cut to 200 characters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessLogEntry {
    /// The service's name.
    pub service_name: String,
    /// The service's client id at the gateway.
    pub client_id: String,
    /// The organisation running the service.
    pub organization: String,
    /// What kind of release: `login` or `verification`.
    pub kind: String,
    /// The names of the claims released (never their values).
    pub claims: Vec<String>,
    /// When the claims were released.
    pub released_at: Option<ReleasedAt>,
    /// The block that recorded the release, once recorded.
    pub height: Option<u64>,
    /// The commitment (SHA-256, hex) to what was released.
    pub commitment: Option<String>,
}

/// When claims were released: a block time (Unix milliseconds) or a date-time text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReleasedAt {
    /// Unix milliseconds, as simin block times are.
    UnixMillis(u64),
    /// A date-time as the gateway wrote it (RFC 3339).
    Text(String),
}

/// Reads the verifier's answer to the response: a 2xx with an optional `redirect_uri`
/// (and, for [`Purpose::AccessLog`], a required `access_log`), or an error
/// ([`Oid4vpError::Refused`] with the verifier's `error` and `error_description`).
pub fn parse_verifier_answer(
    status: u16,
    body: &[u8],
    purpose: &Purpose,
) -> Result<VerifierAnswer, Oid4vpError> {
    let endpoint = Oid4vpEndpoint::ResponseUri;
    if !(200..300).contains(&status) {
        return Err(error_answer(endpoint, status, body));
    }
    let invalid = |reason: String| Oid4vpError::InvalidResponse { endpoint, reason };
    let answer = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Map::new()
    } else {
        json_object(endpoint, body)?
    };
    let redirect_uri = match answer.get("redirect_uri") {
        None | Some(Value::Null) => None,
        Some(Value::String(uri)) => Some(check_url("redirect_uri", uri).map_err(url_error)?),
        Some(_) => return Err(invalid("redirect_uri is not a string".into())),
    };
    let access_log = match answer.get("access_log") {
        None | Some(Value::Null) => None,
        Some(log) => Some(parse_access_log(log).map_err(invalid)?),
    };
    if *purpose == Purpose::AccessLog && access_log.is_none() {
        return Err(invalid(
            "the presentation was accepted but the answer has no access_log".into(),
        ));
    }
    Ok(VerifierAnswer {
        redirect_uri,
        access_log,
    })
}

fn parse_access_log(log: &Value) -> Result<AccessLog, String> {
    let entries = log
        .get("entries")
        .and_then(Value::as_array)
        .ok_or("access_log.entries is missing or not an array")?;
    if entries.len() > ACCESS_LOG_ENTRIES_MAX {
        return Err(format!(
            "the access log has {} entries (at most {ACCESS_LOG_ENTRIES_MAX} are read)",
            entries.len()
        ));
    }
    let entries = entries
        .iter()
        .map(|entry| {
            serde_json::from_value::<AccessLogEntry>(entry.clone())
                .map(printable_entry)
                .map_err(|err| {
                    format!(
                        "an access-log entry: {}",
                        server_text(&err.to_string(), ENTRY_TEXT_CHARS_MAX)
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AccessLog {
        entries,
        raw: log.clone(),
    })
}

/// An entry with every text safe to print.
fn printable_entry(entry: AccessLogEntry) -> AccessLogEntry {
    let text = |value: &str| server_text(value, ENTRY_TEXT_CHARS_MAX);
    AccessLogEntry {
        service_name: text(&entry.service_name),
        client_id: text(&entry.client_id),
        organization: text(&entry.organization),
        kind: text(&entry.kind),
        claims: entry
            .claims
            .iter()
            .take(ENTRY_CLAIMS_MAX)
            .map(|claim| text(claim))
            .collect(),
        released_at: entry.released_at.map(|at| match at {
            ReleasedAt::Text(at) => ReleasedAt::Text(text(&at)),
            millis => millis,
        }),
        height: entry.height,
        commitment: entry.commitment.as_deref().map(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn login() -> Purpose {
        Purpose::Login {
            service: super::super::Service {
                client_id: "library".into(),
                name: "Mapo Library".into(),
                organization: "mapo-library".into(),
            },
        }
    }

    #[test]
    fn a_login_answer_may_redirect() {
        let body = br#"{"redirect_uri":"https://gateway.example/done?code=1"}"#;
        let answer = parse_verifier_answer(200, body, &login()).expect("parses");
        assert_eq!(
            answer.redirect_uri.map(String::from).as_deref(),
            Some("https://gateway.example/done?code=1")
        );
        assert_eq!(
            parse_verifier_answer(200, b"", &login()).expect("parses"),
            VerifierAnswer::default()
        );
        let script = br#"{"redirect_uri":"javascript:alert(1)"}"#;
        assert!(matches!(
            parse_verifier_answer(200, script, &login()),
            Err(Oid4vpError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn an_access_log_is_read_and_made_printable() {
        let body = json!({"access_log": {"entries": [{
            "service_name": "Mapo\u{1b}[31m Library", "client_id": "library",
            "organization": "mapo-library", "kind": "login",
            "claims": ["age_over_19", "card_number"], "released_at": 1_790_000_000_123u64,
            "height": 42, "commitment": "ab".repeat(32),
        }, {"service_name": "Gym", "released_at": "2026-11-24T09:00:00Z"}]}});
        let answer = parse_verifier_answer(200, body.to_string().as_bytes(), &Purpose::AccessLog)
            .expect("parses");
        let log = answer.access_log.expect("a log");
        assert_eq!(log.entries.len(), 2);
        assert_eq!(log.entries[0].service_name, "Mapo [31m Library");
        assert_eq!(log.entries[0].height, Some(42));
        assert_eq!(
            log.entries[0].released_at,
            Some(ReleasedAt::UnixMillis(1_790_000_000_123))
        );
        assert_eq!(
            log.entries[1].released_at,
            Some(ReleasedAt::Text("2026-11-24T09:00:00Z".into()))
        );
        assert_eq!(log.raw, body["access_log"]);
        assert!(matches!(
            parse_verifier_answer(200, b"{}", &Purpose::AccessLog),
            Err(Oid4vpError::InvalidResponse { .. })
        ));
    }

    #[test]
    fn an_error_answer_is_a_refusal() {
        let body = br#"{"error":"invalid_request","error_description":"nonce mismatch"}"#;
        match parse_verifier_answer(400, body, &login()) {
            Err(Oid4vpError::Refused {
                status: 400,
                error,
                description,
                ..
            }) => {
                assert_eq!(error, "invalid_request");
                assert_eq!(description.as_deref(), Some("nonce mismatch"));
            }
            other => panic!("{other:?}"),
        }
    }
}

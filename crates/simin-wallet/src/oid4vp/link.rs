//! The request link (OpenID4VP 1.0 sections 5 and 5.10): `openid4vp://?client_id=...&
//! request_uri=...`, and the client identifiers this wallet presents to.

use url::Url;

use super::error::{server_text, Oid4vpError};
use super::{DID_BYTES_MAX, LINK_BYTES_MAX};
use crate::oid4vci::{check_url, Oid4vciError};

/// The scheme of request links for wallets (OpenID4VP 1.0 section 13.1).
pub const LINK_SCHEME: &str = "openid4vp";
/// The client identifier prefix of verifiers identified by a DID (OpenID4VP 1.0 section
/// 5.9.3): the request object is signed with a key of that DID's document.
pub const CLIENT_ID_PREFIX: &str = "decentralized_identifier:";
/// The DID method of simin organisations.
const DID_SIMIN_PREFIX: &str = "did:simin:";

/// A request by reference, as the link gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLink {
    /// The verifier's client identifier, with its prefix
    /// (`decentralized_identifier:did:simin:<org>`).
    pub client_id: String,
    /// The verifier's DID (`did:simin:<org>`).
    pub did: String,
    /// Where to GET the signed request object.
    pub request_uri: Url,
}

/// Parses what a citizen scanned or clicked: `openid4vp://?client_id=<id>&request_uri=
/// <URL>`, or the same query on an `https` link. `request_uri_method` may be absent or
/// `get`; `post` is refused ([`Oid4vpError::RequestUriMethodPost`]), and so is a
/// request passed by value. Nothing is fetched here.
pub fn parse_request_link(input: &str) -> Result<RequestLink, Oid4vpError> {
    let invalid = |reason: String| Oid4vpError::InvalidLink { reason };
    if input.len() > LINK_BYTES_MAX {
        return Err(invalid(format!("it is longer than {LINK_BYTES_MAX} bytes")));
    }
    let url = Url::parse(input.trim()).map_err(|_| invalid("it is not a URL".into()))?;
    if !matches!(url.scheme(), LINK_SCHEME | "https" | "http") {
        return Err(invalid(format!(
            "the scheme must be {LINK_SCHEME}:// or https://"
        )));
    }
    let mut client_id = None;
    let mut request_uri = None;
    let mut method = None;
    for (name, value) in url.query_pairs() {
        let slot = match name.as_ref() {
            "client_id" => &mut client_id,
            "request_uri" => &mut request_uri,
            "request_uri_method" => &mut method,
            "request" => {
                return Err(invalid(
                    "the request is passed by value; this wallet takes only signed requests by reference (request_uri)".into(),
                ))
            }
            // Other parameters are ignored: the signed request object is authoritative
            // (OpenID4VP 1.0 section 5: the wallet uses only the request object's).
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(invalid(format!("{name} appears more than once")));
        }
    }
    match method.as_deref() {
        None | Some("get") => {}
        Some("post") => return Err(Oid4vpError::RequestUriMethodPost),
        Some(other) => {
            return Err(invalid(format!(
                "unknown request_uri_method {:?}",
                server_text(other, 32)
            )))
        }
    }
    let client_id = client_id.ok_or_else(|| invalid("it has no client_id".into()))?;
    let request_uri = request_uri.ok_or_else(|| invalid("it has no request_uri".into()))?;
    let did = client_did(&client_id)?.to_owned();
    let request_uri = check_url("request_uri", &request_uri).map_err(url_error)?;
    Ok(RequestLink {
        client_id: client_id.into_owned(),
        did,
        request_uri,
    })
}

/// The DID of a client identifier `decentralized_identifier:did:simin:<org>`.
pub(crate) fn client_did(client_id: &str) -> Result<&str, Oid4vpError> {
    let unsupported = || Oid4vpError::UnsupportedClientId {
        client_id: server_text(client_id, 120),
    };
    let did = client_id
        .strip_prefix(CLIENT_ID_PREFIX)
        .ok_or_else(unsupported)?;
    let org = did.strip_prefix(DID_SIMIN_PREFIX).ok_or_else(unsupported)?;
    // An organisation id (simin-types' `OrgId`) is lowercase letters, digits, `-` and
    // `.`: no DID URL parts (path, query, fragment), nothing a terminal or a URL path
    // would read differently.
    let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-');
    if org.is_empty() || did.len() > DID_BYTES_MAX || !org.chars().all(plain) {
        return Err(unsupported());
    }
    Ok(did)
}

/// A URL error of the shared URL rules, as this protocol's error.
pub(crate) fn url_error(err: Oid4vciError) -> Oid4vpError {
    match err {
        Oid4vciError::InvalidUrl { what, url, reason } => {
            Oid4vpError::InvalidUrl { what, url, reason }
        }
        other => Oid4vpError::InvalidLink {
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT_ID: &str = "decentralized_identifier:did:simin:seoul.gateway";

    fn link(query: &str) -> String {
        format!("openid4vp://?{query}")
    }

    fn encoded(text: &str) -> String {
        url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
    }

    fn good_query() -> String {
        format!(
            "client_id={}&request_uri={}",
            encoded(CLIENT_ID),
            encoded("https://gateway.seoul.example/request/abc")
        )
    }

    #[test]
    fn a_link_by_reference_parses() {
        let parsed = parse_request_link(&link(&good_query())).expect("parses");
        assert_eq!(parsed.client_id, CLIENT_ID);
        assert_eq!(parsed.did, "did:simin:seoul.gateway");
        assert_eq!(
            parsed.request_uri.as_str(),
            "https://gateway.seoul.example/request/abc"
        );
        let https = format!("https://wallet.example/present?{}", good_query());
        assert_eq!(parse_request_link(&https).expect("parses"), parsed);
        let get = link(&format!("{}&request_uri_method=get", good_query()));
        assert_eq!(parse_request_link(&get).expect("parses"), parsed);
    }

    #[test]
    fn post_and_by_value_requests_are_refused() {
        let post = link(&format!("{}&request_uri_method=post", good_query()));
        assert!(matches!(
            parse_request_link(&post),
            Err(Oid4vpError::RequestUriMethodPost)
        ));
        let by_value = link(&format!("{}&request=eyJ.eyJ.sig", good_query()));
        assert!(matches!(
            parse_request_link(&by_value),
            Err(Oid4vpError::InvalidLink { .. })
        ));
    }

    #[test]
    fn links_with_other_verifiers_or_urls_are_refused() {
        for client_id in [
            "redirect_uri:https://rp.example/cb",
            "did:simin:seoul.gateway",
            "decentralized_identifier:did:web:rp.example",
            "decentralized_identifier:did:simin:",
            "decentralized_identifier:did:simin:org#key-1",
            "decentralized_identifier:did:simin:org/../x",
        ] {
            let query = format!(
                "client_id={}&request_uri={}",
                encoded(client_id),
                encoded("https://gateway.example/r")
            );
            assert!(
                matches!(
                    parse_request_link(&link(&query)),
                    Err(Oid4vpError::UnsupportedClientId { .. })
                ),
                "{client_id}"
            );
        }
        let plain_http = format!(
            "client_id={}&request_uri={}",
            encoded(CLIENT_ID),
            encoded("http://gateway.example/r")
        );
        assert!(matches!(
            parse_request_link(&link(&plain_http)),
            Err(Oid4vpError::InvalidUrl { .. })
        ));
        let twice = link(&format!("{}&client_id=x", good_query()));
        assert!(matches!(
            parse_request_link(&twice),
            Err(Oid4vpError::InvalidLink { .. })
        ));
        assert!(matches!(
            parse_request_link(&link("client_id=x")),
            Err(Oid4vpError::InvalidLink { .. })
        ));
        assert!(matches!(
            parse_request_link("openid-credential-offer://?x=1"),
            Err(Oid4vpError::InvalidLink { .. })
        ));
    }
}

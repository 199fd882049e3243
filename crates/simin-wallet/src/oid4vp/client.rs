//! [`Oid4vpClient`]: a presentation over reqwest, driving the pure steps of the parent
//! module. Every request has a timeout, redirects are not followed, and every answer is
//! read up to its endpoint's limit.

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::RequestBuilder;
use simin_identity::jose::Jwk;
use tracing::{debug, info};
use url::Url;

use super::answer::{parse_verifier_answer, VerifierAnswer};
use super::error::{error_answer, json_object, server_text, Oid4vpEndpoint, Oid4vpError};
use super::link::{parse_request_link, url_error};
use super::request::{
    request_object_header, verifier_key_from_resolution, verify_request_object,
    AuthorizationRequest, Purpose,
};
use super::respond::{build_presentation, decline_body, response_body};
use super::LINK_BYTES_MAX;
use crate::holder::Holder;
use crate::oid4vci::{check_url, HttpConfig};
use crate::store::CredentialRecord;

/// The media type of a request object (RFC 9101 section 10.2).
const REQUEST_OBJECT_MEDIA_TYPE: &str = "application/oauth-authz-req+jwt";
/// The form media type of `direct_post`.
const FORM_MEDIA_TYPE: &str = "application/x-www-form-urlencoded";

/// An HTTP answer, its body read within the endpoint's limit.
struct Answer {
    status: u16,
    body: Vec<u8>,
    content_type: Option<String>,
}

/// The OpenID4VP wallet client. Cheap to clone; clones share connections.
#[derive(Clone, Debug)]
pub struct Oid4vpClient {
    http: reqwest::Client,
}

impl Oid4vpClient {
    /// A client with `config`'s timeouts.
    pub fn new(config: &HttpConfig) -> Result<Self, Oid4vpError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("simin-wallet/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| Oid4vpError::Transport {
                endpoint: Oid4vpEndpoint::RequestUri,
                url: String::new(),
                reason: format!("cannot build the HTTP client: {err}"),
            })?;
        Ok(Self { http })
    }

    /// Parses a request link, fetches its request object, resolves the verifier's DID at
    /// `node` (`GET {node}/v1/dids/{did}`) and returns the request checked with that key
    /// at `now` (Unix seconds). Nothing is presented.
    pub async fn fetch_request(
        &self,
        link: &str,
        node: &Url,
        now: i64,
    ) -> Result<AuthorizationRequest, Oid4vpError> {
        let link = parse_request_link(link)?;
        let endpoint = Oid4vpEndpoint::RequestUri;
        let url = &link.request_uri;
        let request = self
            .http
            .get(url.clone())
            .header(ACCEPT, REQUEST_OBJECT_MEDIA_TYPE);
        let answer = self.send(endpoint, url, request).await?;
        if !is_success(answer.status) {
            return Err(error_answer(endpoint, answer.status, &answer.body));
        }
        let media_type = answer
            .content_type
            .as_deref()
            .and_then(|value| value.split(';').next())
            .map(str::trim);
        if !media_type.is_some_and(|t| t.eq_ignore_ascii_case(REQUEST_OBJECT_MEDIA_TYPE)) {
            return Err(Oid4vpError::InvalidResponse {
                endpoint,
                reason: format!(
                    "the content type is {:?}, not {REQUEST_OBJECT_MEDIA_TYPE}",
                    server_text(answer.content_type.as_deref().unwrap_or(""), 64)
                ),
            });
        }
        let jws = String::from_utf8(answer.body).map_err(|_| Oid4vpError::InvalidResponse {
            endpoint,
            reason: "the request object is not UTF-8".into(),
        })?;
        let header = request_object_header(&jws, &link)?;
        let key = self
            .resolve_verifier_key(node, &link.did, &header.kid)
            .await?;
        let request = verify_request_object(&jws, &key, &link, now)?;
        info!(verifier = %request.verifier_did, claims = ?request.query.claims, "verified a presentation request");
        Ok(request)
    }

    /// Resolves `did` at `node` and returns the key its document names for `kid` under
    /// `assertionMethod` or `authentication`.
    pub async fn resolve_verifier_key(
        &self,
        node: &Url,
        did: &str,
        kid: &str,
    ) -> Result<Jwk, Oid4vpError> {
        let endpoint = Oid4vpEndpoint::DidResolution;
        let url = node_url(node, &["v1", "dids", did])?;
        let request = self
            .http
            .get(url.clone())
            .header(ACCEPT, "application/json");
        let answer = self.send(endpoint, &url, request).await?;
        verifier_key_from_resolution(answer.status, &answer.body, did, kid)
    }

    /// Presents `record` for `request` (see [`build_presentation`]; a missing claim is
    /// refused before anything is sent), posts it to the `response_uri` and returns the
    /// verifier's answer.
    pub async fn present(
        &self,
        request: &AuthorizationRequest,
        record: &CredentialRecord,
        holder: &Holder,
        now: i64,
    ) -> Result<VerifierAnswer, Oid4vpError> {
        let presentation = build_presentation(record, holder, request, now)?;
        self.respond(request, &presentation).await
    }

    /// Posts a presentation (`vp_token` and `state`) to the request's `response_uri`.
    pub async fn respond(
        &self,
        request: &AuthorizationRequest,
        presentation: &str,
    ) -> Result<VerifierAnswer, Oid4vpError> {
        let answer = self
            .post_form(request, response_body(request, presentation))
            .await?;
        let parsed = parse_verifier_answer(answer.status, &answer.body, &request.purpose)?;
        info!(verifier = %request.verifier_did, "the verifier accepted the presentation");
        Ok(parsed)
    }

    /// Tells the verifier the citizen declined (`error=access_denied`). The verifier's
    /// answer is read only for its status.
    pub async fn decline(&self, request: &AuthorizationRequest) -> Result<(), Oid4vpError> {
        let answer = self.post_form(request, decline_body(request)).await?;
        if is_success(answer.status) {
            Ok(())
        } else {
            Err(error_answer(
                Oid4vpEndpoint::ResponseUri,
                answer.status,
                &answer.body,
            ))
        }
    }

    /// Starts reading the access log at `gateway`: `GET {gateway}/access-log/start`
    /// answers `{"request_uri": "openid4vp://?..."}`, the link to run with
    /// [`Self::fetch_request`].
    pub async fn access_log_link(&self, gateway: &Url) -> Result<String, Oid4vpError> {
        let endpoint = Oid4vpEndpoint::AccessLogStart;
        let gateway = check_url("gateway URL", gateway.as_str()).map_err(url_error)?;
        let url = node_url(&gateway, &["access-log", "start"])?;
        let request = self
            .http
            .get(url.clone())
            .header(ACCEPT, "application/json");
        let answer = self.send(endpoint, &url, request).await?;
        if !is_success(answer.status) {
            return Err(error_answer(endpoint, answer.status, &answer.body));
        }
        json_object(endpoint, &answer.body)?
            .get("request_uri")
            .and_then(|uri| uri.as_str())
            .filter(|uri| !uri.is_empty() && uri.len() <= LINK_BYTES_MAX)
            .map(str::to_owned)
            .ok_or_else(|| Oid4vpError::InvalidResponse {
                endpoint,
                reason: "request_uri is missing or not a link".into(),
            })
    }

    async fn post_form(
        &self,
        request: &AuthorizationRequest,
        body: String,
    ) -> Result<Answer, Oid4vpError> {
        let url = &request.response_uri;
        let http_request = self
            .http
            .post(url.clone())
            .header(CONTENT_TYPE, FORM_MEDIA_TYPE)
            .header(ACCEPT, "application/json")
            .body(body);
        let purpose = match request.purpose {
            Purpose::Login { .. } => "login",
            Purpose::AccessLog => "access_log",
        };
        debug!(verifier = %request.verifier_did, purpose, "posting to the response URI");
        self.send(Oid4vpEndpoint::ResponseUri, url, http_request)
            .await
    }

    /// Sends `request` and reads the answer within the endpoint's size limit.
    async fn send(
        &self,
        endpoint: Oid4vpEndpoint,
        url: &Url,
        request: RequestBuilder,
    ) -> Result<Answer, Oid4vpError> {
        let transport = |err: reqwest::Error| Oid4vpError::Transport {
            endpoint,
            url: server_text(url.as_str(), 200),
            reason: if err.is_timeout() {
                "timed out".to_owned()
            } else {
                err.to_string()
            },
        };
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let limit = endpoint.response_bytes_max();
        let too_large = Oid4vpError::ResponseTooLarge {
            endpoint,
            limit_bytes: limit,
        };
        // usize to u64 is lossless on every supported target.
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(too_large);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len().saturating_add(chunk.len()) > limit {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        debug!(%endpoint, status, bytes = body.len(), "answered");
        Ok(Answer {
            status,
            body,
            content_type,
        })
    }
}

/// `base` with `segments` appended to its path (each percent-encoded as needed).
fn node_url(base: &Url, segments: &[&str]) -> Result<Url, Oid4vpError> {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| Oid4vpError::InvalidUrl {
            what: "node URL",
            url: server_text(base.as_str(), 120),
            reason: "it cannot have a path",
        })?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

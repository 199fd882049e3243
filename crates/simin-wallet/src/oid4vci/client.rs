//! [`Oid4vciClient`]: the pre-authorized code flow over reqwest, driving the pure steps
//! of the parent module. Every request has a timeout, redirects are not followed, and
//! every response body is read up to its endpoint's limit.

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{RequestBuilder, StatusCode};
use simin_identity::jose::Jwk;
use tracing::{debug, info};
use url::Url;

use super::check::{check_credential, issuer_key_from_resolution, verify_issuer_signature};
use super::credential::{
    credential_request_body, parse_credential_response, proof_jwt, CredentialTarget,
};
use super::error::{server_text, Endpoint, OAuthErrorCode, Oid4vciError};
use super::metadata::{
    authorization_server_candidates, authorization_server_url, parse_authorization_server_metadata,
    parse_issuer_metadata, well_known_urls, AuthorizationServerMetadata, CredentialConfiguration,
    IssuerMetadata, AUTHORIZATION_SERVER_WELL_KNOWN, ISSUER_WELL_KNOWN,
};
use super::offer::{
    check_issuer_identifier, parse_credential_offer, parse_offer_uri, CredentialOffer, OfferSource,
};
use super::token::{
    parse_error_response, parse_nonce_response, parse_token_response, token_request_body,
    TokenResponse,
};
use super::CheckedCredential;
use crate::holder::Holder;

/// Timeouts of an [`Oid4vciClient`].
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest wait for a whole request, body included.
    pub request_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
        }
    }
}

/// What to receive, for whom.
#[derive(Clone, Copy, Debug)]
pub struct ReceiveRequest<'a> {
    /// The offer (see [`Oid4vciClient::resolve_offer`]).
    pub offer: &'a CredentialOffer,
    /// The holder the credentials are bound to.
    pub holder: &'a Holder,
    /// The transaction code, exactly when the offer asks for one.
    pub tx_code: Option<&'a str>,
    /// A simin node to resolve the issuer's DID with; without one the issuer's
    /// signature is not checked.
    pub node: Option<&'a Url>,
    /// The time, Unix seconds: the key proofs' `iat` and the credentials' validity.
    pub now: i64,
}

/// The credentials an offer gave, checked, not yet stored.
#[derive(Clone, Debug)]
pub struct Received {
    /// The Credential Issuer Identifier.
    pub credential_issuer: String,
    /// One entry per issued credential.
    pub credentials: Vec<ReceivedCredential>,
}

/// One received credential.
#[derive(Clone, Debug)]
pub struct ReceivedCredential {
    /// The configuration it was issued under.
    pub configuration: CredentialConfiguration,
    /// The credential and what was read of it.
    pub checked: CheckedCredential,
    /// Whether the issuer's signature was verified with its DID document's key.
    pub issuer_verified: bool,
}

/// An HTTP answer, its body read within the endpoint's limit.
struct Answer {
    status: u16,
    body: Vec<u8>,
    www_authenticate: Option<String>,
}

/// The OpenID4VCI wallet client. Cheap to clone; clones share connections.
#[derive(Clone, Debug)]
pub struct Oid4vciClient {
    http: reqwest::Client,
}

impl Oid4vciClient {
    /// A client with `config`'s timeouts.
    pub fn new(config: &HttpConfig) -> Result<Self, Oid4vciError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("simin-wallet/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| Oid4vciError::Transport {
                endpoint: Endpoint::CredentialOffer,
                url: String::new(),
                reason: format!("cannot build the HTTP client: {err}"),
            })?;
        Ok(Self { http })
    }

    /// Parses an offer link and fetches the offer if it is passed by reference.
    pub async fn resolve_offer(&self, offer_uri: &str) -> Result<CredentialOffer, Oid4vciError> {
        match parse_offer_uri(offer_uri)? {
            OfferSource::Value(offer) => Ok(offer),
            OfferSource::Reference(url) => {
                let endpoint = Endpoint::CredentialOffer;
                let answer = self.send(endpoint, &url, self.get(&url)).await?;
                if !is_success(answer.status) {
                    return Err(parse_error_response(
                        endpoint,
                        answer.status,
                        &answer.body,
                        None,
                    ));
                }
                parse_credential_offer(&answer.body)
            }
        }
    }

    /// Fetches and checks the metadata of the issuer `credential_issuer`.
    pub async fn issuer_metadata(
        &self,
        credential_issuer: &str,
    ) -> Result<IssuerMetadata, Oid4vciError> {
        let identifier = check_issuer_identifier("credential_issuer", credential_issuer)?;
        let body = self
            .well_known(Endpoint::IssuerMetadata, &identifier, ISSUER_WELL_KNOWN)
            .await?;
        parse_issuer_metadata(&body, credential_issuer)
    }

    /// Runs the pre-authorized code flow for every configuration of the offer and
    /// checks each credential (see [`check_credential`]; with a node, also
    /// [`verify_issuer_signature`]). Nothing is stored.
    ///
    /// Every offered configuration is checked to be receivable before the single-use
    /// pre-authorized code is spent.
    pub async fn receive(&self, request: &ReceiveRequest<'_>) -> Result<Received, Oid4vciError> {
        let offer = request.offer;
        let grant = offer
            .pre_authorized
            .as_ref()
            .ok_or(Oid4vciError::UnsupportedGrant)?;
        let token_body = token_request_body(grant, request.tx_code)?;
        let metadata = self.issuer_metadata(&offer.credential_issuer).await?;
        let configurations = offer
            .credential_configuration_ids
            .iter()
            .map(|id| metadata.configuration(id))
            .collect::<Result<Vec<_>, _>>()?;
        let server = self
            .authorization_server(
                &metadata,
                authorization_server_candidates(&metadata, grant)?,
            )
            .await?;
        if let Some(node) = request.node {
            // Checked before the code is spent: a node that cannot be reached afterwards
            // would cost the citizen the offer.
            self.probe_node(node).await?;
        }
        let token = self.token(&server, token_body).await?;
        let mut credentials = Vec::new();
        for configuration in configurations {
            let targets: Vec<CredentialTarget<'_>> =
                match token.credential_identifiers.get(&configuration.id) {
                    Some(ids) => ids
                        .iter()
                        .map(|id| CredentialTarget::Identifier(id))
                        .collect(),
                    None => vec![CredentialTarget::Configuration(&configuration.id)],
                };
            for target in targets {
                for credential in self.credential(&metadata, &token, target, request).await? {
                    let checked =
                        check_credential(&credential, request.holder, &configuration.vct)?;
                    let issuer_verified = match request.node {
                        Some(node) => {
                            let key = self
                                .resolve_issuer_key(node, &checked.issuer, checked.kid.as_deref())
                                .await?;
                            verify_issuer_signature(&checked, &key, request.now)?;
                            true
                        }
                        None => false,
                    };
                    info!(issuer = %checked.issuer, vct = %checked.vct, issuer_verified, "received a credential");
                    credentials.push(ReceivedCredential {
                        configuration: configuration.clone(),
                        checked,
                        issuer_verified,
                    });
                }
            }
        }
        Ok(Received {
            credential_issuer: offer.credential_issuer.clone(),
            credentials,
        })
    }

    /// Resolves `issuer` at `node` (`GET {node}/v1/dids/{issuer}`) and returns the key
    /// its document names for `kid` under `assertionMethod`.
    pub async fn resolve_issuer_key(
        &self,
        node: &Url,
        issuer: &str,
        kid: Option<&str>,
    ) -> Result<Jwk, Oid4vciError> {
        let endpoint = Endpoint::DidResolution;
        let url = node_url(node, &["v1", "dids", issuer])?;
        let answer = self.send(endpoint, &url, self.get(&url)).await?;
        issuer_key_from_resolution(answer.status, &answer.body, issuer, kid)
    }

    /// `GET {node}/v1/status`: whether the node answers at all.
    async fn probe_node(&self, node: &Url) -> Result<(), Oid4vciError> {
        let endpoint = Endpoint::DidResolution;
        let url = node_url(node, &["v1", "status"])?;
        let answer = self.send(endpoint, &url, self.get(&url)).await?;
        if is_success(answer.status) {
            Ok(())
        } else {
            Err(parse_error_response(
                endpoint,
                answer.status,
                &answer.body,
                None,
            ))
        }
    }

    /// The first candidate whose metadata names a token endpoint for the grant.
    async fn authorization_server(
        &self,
        metadata: &IssuerMetadata,
        candidates: Vec<String>,
    ) -> Result<AuthorizationServerMetadata, Oid4vciError> {
        let mut last_error = None;
        for candidate in candidates {
            let attempt = async {
                let identifier = authorization_server_url(&candidate)?;
                let body = self
                    .well_known(
                        Endpoint::AuthorizationServerMetadata,
                        &identifier,
                        AUTHORIZATION_SERVER_WELL_KNOWN,
                    )
                    .await?;
                parse_authorization_server_metadata(&body, &candidate)
            };
            match attempt.await {
                Ok(server) => return Ok(server),
                Err(err) => {
                    debug!(%err, issuer = %metadata.credential_issuer, "authorization server skipped");
                    last_error = Some(err);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| Oid4vciError::InvalidMetadata {
            endpoint: Endpoint::IssuerMetadata,
            reason: "no authorization server".into(),
        }))
    }

    async fn token(
        &self,
        server: &AuthorizationServerMetadata,
        body: String,
    ) -> Result<TokenResponse, Oid4vciError> {
        let url = &server.token_endpoint;
        let request = self
            .http
            .post(url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(body);
        let answer = self.send(Endpoint::Token, url, request).await?;
        parse_token_response(answer.status, &answer.body)
    }

    async fn nonce(&self, metadata: &IssuerMetadata) -> Result<Option<String>, Oid4vciError> {
        let Some(url) = &metadata.nonce_endpoint else {
            return Ok(None);
        };
        let request = self
            .http
            .post(url.clone())
            .header(ACCEPT, "application/json")
            .body(Vec::new());
        let answer = self.send(Endpoint::Nonce, url, request).await?;
        parse_nonce_response(answer.status, &answer.body).map(Some)
    }

    /// One credential request, retried once with a fresh nonce on `invalid_nonce`.
    async fn credential(
        &self,
        metadata: &IssuerMetadata,
        token: &TokenResponse,
        target: CredentialTarget<'_>,
        request: &ReceiveRequest<'_>,
    ) -> Result<Vec<String>, Oid4vciError> {
        let url = &metadata.credential_endpoint;
        let mut retried = false;
        loop {
            let nonce = self.nonce(metadata).await?;
            let proof = proof_jwt(
                request.holder,
                &metadata.credential_issuer,
                nonce.as_deref(),
                request.now,
            );
            let body = credential_request_body(target, &proof);
            let http_request = self
                .http
                .post(url.clone())
                .header(AUTHORIZATION, format!("Bearer {}", token.access_token))
                .header(CONTENT_TYPE, "application/json")
                .header(ACCEPT, "application/json")
                .body(body.to_string());
            let answer = self.send(Endpoint::Credential, url, http_request).await?;
            match parse_credential_response(
                answer.status,
                &answer.body,
                answer.www_authenticate.as_deref(),
                1,
            ) {
                Err(Oid4vciError::Refused {
                    code: OAuthErrorCode::InvalidNonce,
                    ..
                }) if !retried && metadata.nonce_endpoint.is_some() => {
                    debug!("the issuer refused the nonce; retrying once with a fresh one");
                    retried = true;
                }
                other => return other,
            }
        }
    }

    /// GETs the first of the well-known locations of `identifier` that exists.
    async fn well_known(
        &self,
        endpoint: Endpoint,
        identifier: &Url,
        suffix: &str,
    ) -> Result<Vec<u8>, Oid4vciError> {
        let mut not_found = None;
        for url in well_known_urls(identifier, suffix) {
            let answer = self.send(endpoint, &url, self.get(&url)).await?;
            if is_success(answer.status) {
                return Ok(answer.body);
            }
            let error = parse_error_response(endpoint, answer.status, &answer.body, None);
            if answer.status != StatusCode::NOT_FOUND.as_u16() {
                return Err(error);
            }
            not_found = Some(error);
        }
        Err(not_found.unwrap_or_else(|| Oid4vciError::InvalidMetadata {
            endpoint,
            reason: "no location to fetch it from".into(),
        }))
    }

    fn get(&self, url: &Url) -> RequestBuilder {
        self.http
            .get(url.clone())
            .header(ACCEPT, "application/json")
    }

    /// Sends `request` and reads the answer within the endpoint's size limit.
    async fn send(
        &self,
        endpoint: Endpoint,
        url: &Url,
        request: RequestBuilder,
    ) -> Result<Answer, Oid4vciError> {
        let transport = |err: reqwest::Error| Oid4vciError::Transport {
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
        let www_authenticate = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let limit = endpoint.response_bytes_max();
        let too_large = Oid4vciError::ResponseTooLarge {
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
            www_authenticate,
        })
    }
}

/// `node` with `segments` appended to its path (each percent-encoded as needed).
fn node_url(node: &Url, segments: &[&str]) -> Result<Url, Oid4vciError> {
    let mut url = node.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| Oid4vciError::InvalidUrl {
            what: "node URL",
            url: server_text(node.as_str(), 120),
            reason: "it cannot have a path",
        })?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

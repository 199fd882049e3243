//! The OpenID4VCI steps as pure functions: metadata locations and parsing, the token
//! request and response, nonces, key proofs, credential requests and responses, and the
//! error codes servers answer with.

mod common;

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use simin_identity::jose::{decode_compact_unverified, verify_compact, Jwk};
use simin_wallet::oid4vci::{
    authorization_server_candidates, credential_request_body, parse_authorization_server_metadata,
    parse_credential_offer, parse_credential_response, parse_error_response, parse_issuer_metadata,
    parse_nonce_response, parse_token_response, proof_jwt, token_request_body, well_known_urls,
    CredentialTarget, Endpoint, OAuthErrorCode, Oid4vciError, PreAuthorizedGrant, TxCodeInputMode,
    TxCodeSpec, TYP_PROOF_JWT,
};
use simin_wallet::Holder;
use url::Url;

const ISSUER: &str = "https://issuer.seoul.example";

fn holder() -> Holder {
    Holder::new(&SigningKey::from_bytes(&[3; 32]))
}

fn issuer_metadata() -> Value {
    json!({
        "credential_issuer": ISSUER,
        "credential_endpoint": "https://issuer.seoul.example/credential",
        "nonce_endpoint": "https://issuer.seoul.example/nonce",
        "display": [{"name": "Seoul"}],
        "credential_configurations_supported": {
            "CitizenCard": {
                "format": "dc+sd-jwt",
                "vct": "CitizenCard",
                "cryptographic_binding_methods_supported": ["jwk"],
                "credential_signing_alg_values_supported": ["EdDSA"],
                "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["EdDSA", "ES256"]}},
                "credential_metadata": {"display": [{"name": "Citizen card", "locale": "en"}]},
            },
            "Mdl": {"format": "mso_mdoc", "doctype": "org.iso.18013.5.1.mDL"},
        },
    })
}

fn grant(tx_code: Option<TxCodeSpec>) -> PreAuthorizedGrant {
    PreAuthorizedGrant {
        code: "SplxlOBeZQQYbYS6WxSbIA".into(),
        tx_code,
        authorization_server: None,
    }
}

fn six_digits() -> TxCodeSpec {
    TxCodeSpec {
        input_mode: TxCodeInputMode::Numeric,
        length: Some(6),
        description: None,
    }
}

#[test]
fn metadata_locations_insert_the_well_known_suffix() {
    let urls = |issuer: &str| -> Vec<String> {
        well_known_urls(
            &Url::parse(issuer).expect("a URL"),
            "openid-credential-issuer",
        )
        .iter()
        .map(Url::to_string)
        .collect()
    };
    assert_eq!(
        urls("https://issuer.example.com"),
        ["https://issuer.example.com/.well-known/openid-credential-issuer"]
    );
    assert_eq!(
        urls("https://issuer.example.com/tenant"),
        [
            "https://issuer.example.com/.well-known/openid-credential-issuer/tenant",
            "https://issuer.example.com/tenant/.well-known/openid-credential-issuer",
        ]
    );
    assert_eq!(
        urls("http://127.0.0.1:8090/a/b/"),
        [
            "http://127.0.0.1:8090/.well-known/openid-credential-issuer/a/b",
            "http://127.0.0.1:8090/a/b/.well-known/openid-credential-issuer",
        ]
    );
}

#[test]
fn issuer_metadata_is_parsed_and_checked() {
    let body = issuer_metadata().to_string();
    let metadata = parse_issuer_metadata(body.as_bytes(), ISSUER).expect("parses");
    assert_eq!(
        metadata.credential_endpoint.as_str(),
        "https://issuer.seoul.example/credential"
    );
    assert_eq!(
        metadata.nonce_endpoint.as_ref().map(Url::as_str),
        Some("https://issuer.seoul.example/nonce")
    );
    let config = metadata.configuration("CitizenCard").expect("receivable");
    assert_eq!(config.vct, "CitizenCard");
    assert_eq!(config.display_name.as_deref(), Some("Citizen card"));
    assert!(matches!(
        metadata.configuration("Nope"),
        Err(Oid4vciError::UnknownConfiguration { .. })
    ));
    assert!(matches!(
        metadata.configuration("Mdl"),
        Err(Oid4vciError::UnsupportedConfiguration { .. })
    ));

    // The identifier is compared as a string: a trailing slash is another issuer.
    assert!(matches!(
        parse_issuer_metadata(body.as_bytes(), "https://issuer.seoul.example/"),
        Err(Oid4vciError::IssuerMismatch { .. })
    ));
    let mut insecure = issuer_metadata();
    insecure["credential_endpoint"] = json!("http://issuer.seoul.example/credential");
    assert!(matches!(
        parse_issuer_metadata(insecure.to_string().as_bytes(), ISSUER),
        Err(Oid4vciError::InvalidUrl { .. })
    ));
    let mut missing = issuer_metadata();
    missing
        .as_object_mut()
        .map(|m| m.remove("credential_endpoint"));
    assert!(matches!(
        parse_issuer_metadata(missing.to_string().as_bytes(), ISSUER),
        Err(Oid4vciError::InvalidMetadata { .. })
    ));
}

#[test]
fn configurations_the_wallet_cannot_serve_are_refused_before_the_code_is_spent() {
    let refused = |edit: &dyn Fn(&mut Value)| {
        let mut metadata = issuer_metadata();
        edit(&mut metadata["credential_configurations_supported"]["CitizenCard"]);
        let parsed =
            parse_issuer_metadata(metadata.to_string().as_bytes(), ISSUER).expect("parses");
        match parsed.configuration("CitizenCard") {
            Err(Oid4vciError::UnsupportedConfiguration { reason, .. }) => reason,
            other => panic!("expected UnsupportedConfiguration, got {other:?}"),
        }
    };
    assert!(refused(&|c| c["proof_types_supported"]["jwt"]
        ["proof_signing_alg_values_supported"] = json!(["ES256"]))
    .contains("EdDSA"));
    assert!(refused(&|c| c["proof_types_supported"] = json!({"di_vp": {}})).contains("jwt"));
    assert!(refused(
        &|c| c["proof_types_supported"]["jwt"]["key_attestations_required"] = json!({})
    )
    .contains("attestation"));
    assert!(
        refused(&|c| c["cryptographic_binding_methods_supported"] = json!(["cose_key"]))
            .contains("jwk")
    );
    assert!(refused(&|c| {
        c.as_object_mut().map(|c| c.remove("vct"));
    })
    .contains("vct"));
    assert!(refused(&|c| c["format"] = json!("jwt_vc_json")).contains("format"));
}

#[test]
fn the_authorization_server_is_the_issuer_unless_the_metadata_names_others() {
    let parse = |metadata: &Value| {
        parse_issuer_metadata(metadata.to_string().as_bytes(), ISSUER).expect("parses")
    };
    let own = parse(&issuer_metadata());
    assert_eq!(
        authorization_server_candidates(&own, &grant(None)).expect("ok"),
        [ISSUER]
    );

    let mut two = issuer_metadata();
    two["authorization_servers"] = json!(["https://as1.example", "https://as2.example"]);
    let two = parse(&two);
    assert_eq!(
        authorization_server_candidates(&two, &grant(None)).expect("ok"),
        ["https://as1.example", "https://as2.example"]
    );
    let hinted = PreAuthorizedGrant {
        authorization_server: Some("https://as2.example".into()),
        ..grant(None)
    };
    assert_eq!(
        authorization_server_candidates(&two, &hinted).expect("ok"),
        ["https://as2.example"]
    );
    let foreign = PreAuthorizedGrant {
        authorization_server: Some("https://evil.example".into()),
        ..grant(None)
    };
    assert!(matches!(
        authorization_server_candidates(&two, &foreign),
        Err(Oid4vciError::InvalidOffer { .. })
    ));
}

#[test]
fn authorization_server_metadata_is_parsed_and_checked() {
    let good = json!({
        "issuer": ISSUER,
        "token_endpoint": "https://issuer.seoul.example/token",
        "grant_types_supported": ["urn:ietf:params:oauth:grant-type:pre-authorized_code"],
        "pre-authorized_grant_anonymous_access_supported": true,
    });
    let parsed =
        parse_authorization_server_metadata(good.to_string().as_bytes(), ISSUER).expect("parses");
    assert_eq!(
        parsed.token_endpoint.as_str(),
        "https://issuer.seoul.example/token"
    );

    let mut other = good.clone();
    other["issuer"] = json!("https://as.example");
    assert!(matches!(
        parse_authorization_server_metadata(other.to_string().as_bytes(), ISSUER),
        Err(Oid4vciError::IssuerMismatch { .. })
    ));
    let mut no_grant = good.clone();
    no_grant["grant_types_supported"] = json!(["authorization_code"]);
    assert!(matches!(
        parse_authorization_server_metadata(no_grant.to_string().as_bytes(), ISSUER),
        Err(Oid4vciError::InvalidMetadata { .. })
    ));
    let mut no_token = good;
    no_token.as_object_mut().map(|m| m.remove("token_endpoint"));
    assert!(matches!(
        parse_authorization_server_metadata(no_token.to_string().as_bytes(), ISSUER),
        Err(Oid4vciError::InvalidMetadata { .. })
    ));
}

#[test]
fn the_token_request_is_a_form_with_the_codes() {
    assert_eq!(
        token_request_body(&grant(None), None).expect("a body"),
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code\
         &pre-authorized_code=SplxlOBeZQQYbYS6WxSbIA"
    );
    assert_eq!(
        token_request_body(&grant(Some(six_digits())), Some("493536")).expect("a body"),
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code\
         &pre-authorized_code=SplxlOBeZQQYbYS6WxSbIA&tx_code=493536"
    );
    let text = TxCodeSpec {
        input_mode: TxCodeInputMode::Text,
        length: None,
        description: None,
    };
    assert!(token_request_body(&grant(Some(text)), Some("a b&c"))
        .expect("a body")
        .ends_with("&tx_code=a+b%26c"));
}

#[test]
fn transaction_codes_are_checked_before_anything_is_sent() {
    assert!(matches!(
        token_request_body(&grant(Some(six_digits())), None),
        Err(Oid4vciError::TxCodeRequired {
            length: Some(6),
            ..
        })
    ));
    assert!(matches!(
        token_request_body(&grant(None), Some("1234")),
        Err(Oid4vciError::TxCodeNotExpected)
    ));
    for wrong in ["12345", "1234567", "12345a", ""] {
        assert!(
            matches!(
                token_request_body(&grant(Some(six_digits())), Some(wrong)),
                Err(Oid4vciError::InvalidTxCode { .. })
            ),
            "{wrong:?}"
        );
    }
}

#[test]
fn token_responses_are_parsed() {
    let body = json!({
        "access_token": "eyJhbGciOiJSUzI1NiIsInR5cCI6Ikp.sHQ",
        "token_type": "Bearer",
        "expires_in": 86400,
        "authorization_details": [
            {"type": "openid_credential", "credential_configuration_id": "CitizenCard",
             "credential_identifiers": ["card-2026"]},
            {"type": "something_else"},
        ],
    });
    let token = parse_token_response(200, body.to_string().as_bytes()).expect("parses");
    assert_eq!(token.access_token, "eyJhbGciOiJSUzI1NiIsInR5cCI6Ikp.sHQ");
    assert_eq!(token.expires_in, Some(86400));
    assert_eq!(
        token.credential_identifiers,
        BTreeMap::from([("CitizenCard".to_owned(), vec!["card-2026".to_owned()])])
    );
    assert!(
        !format!("{token:?}").contains("eyJhbGci"),
        "the token is a secret"
    );

    let mut dpop = body.clone();
    dpop["token_type"] = json!("DPoP");
    assert!(matches!(
        parse_token_response(200, dpop.to_string().as_bytes()),
        Err(Oid4vciError::InvalidResponse {
            endpoint: Endpoint::Token,
            ..
        })
    ));
    let mut injected = body;
    injected["access_token"] = json!("abc\r\nX-Other: 1");
    assert!(matches!(
        parse_token_response(200, injected.to_string().as_bytes()),
        Err(Oid4vciError::InvalidResponse { .. })
    ));
}

#[test]
fn token_errors_name_the_oauth_code() {
    let expired =
        json!({"error": "invalid_grant", "error_description": "pre-authorized code expired"});
    let err = parse_token_response(400, expired.to_string().as_bytes()).expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains("invalid_grant") && text.contains("expired"),
        "{text}"
    );
    match err {
        Oid4vciError::Refused {
            endpoint,
            status,
            code,
            description,
        } => {
            assert_eq!((endpoint, status), (Endpoint::Token, 400));
            assert_eq!(code, OAuthErrorCode::InvalidGrant);
            assert_eq!(description.as_deref(), Some("pre-authorized code expired"));
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    let missing = json!({"error": "invalid_request"});
    assert!(matches!(
        parse_token_response(400, missing.to_string().as_bytes()),
        Err(Oid4vciError::Refused {
            code: OAuthErrorCode::InvalidRequest,
            ..
        })
    ));
    assert!(matches!(
        parse_token_response(502, b"<html>Bad gateway</html>"),
        Err(Oid4vciError::UnexpectedStatus { status: 502, .. })
    ));
}

#[test]
fn nonce_responses_are_parsed() {
    assert_eq!(
        parse_nonce_response(200, br#"{"c_nonce":"wKI4LT17ac15ES9bw8ac4"}"#).expect("a nonce"),
        "wKI4LT17ac15ES9bw8ac4"
    );
    assert!(matches!(
        parse_nonce_response(200, br#"{"nonce":"x"}"#),
        Err(Oid4vciError::InvalidResponse {
            endpoint: Endpoint::Nonce,
            ..
        })
    ));
    assert!(matches!(
        parse_nonce_response(200, b"[]"),
        Err(Oid4vciError::InvalidResponse { .. })
    ));
    assert!(matches!(
        parse_nonce_response(503, b""),
        Err(Oid4vciError::UnexpectedStatus { status: 503, .. })
    ));
}

#[test]
fn the_key_proof_is_signed_by_the_holder_for_the_issuer_and_nonce() {
    let holder = holder();
    let proof = proof_jwt(&holder, ISSUER, Some("c-nonce-1"), 1_790_000_000);
    let (header, payload) =
        verify_compact(&proof, holder.jwk()).expect("verifies with the holder key");
    assert_eq!(header["typ"], json!(TYP_PROOF_JWT));
    assert_eq!(header["alg"], json!("EdDSA"));
    assert_eq!(
        Jwk::from_json(&header["jwk"]).expect("a JWK"),
        *holder.jwk()
    );
    assert!(header.get("kid").is_none(), "jwk and kid are exclusive");
    assert_eq!(payload["aud"], json!(ISSUER));
    assert_eq!(payload["nonce"], json!("c-nonce-1"));
    assert_eq!(payload["iat"], json!(1_790_000_000));
    assert!(
        payload.get("iss").is_none(),
        "anonymous pre-authorized access has no iss"
    );

    let without_nonce = proof_jwt(&holder, ISSUER, None, 1);
    let (_, payload) = decode_compact_unverified(&without_nonce).expect("decodes");
    assert!(payload.get("nonce").is_none());
}

#[test]
fn credential_requests_name_the_configuration_or_the_identifier() {
    assert_eq!(
        credential_request_body(
            CredentialTarget::Configuration("CitizenCard"),
            "eyJ.proof.sig"
        ),
        json!({"credential_configuration_id": "CitizenCard", "proofs": {"jwt": ["eyJ.proof.sig"]}})
    );
    assert_eq!(
        credential_request_body(CredentialTarget::Identifier("card-2026"), "p"),
        json!({"credential_identifier": "card-2026", "proofs": {"jwt": ["p"]}})
    );
}

#[test]
fn credential_responses_are_parsed() {
    let ok = json!({"credentials": [{"credential": "eyJ.a.b~WyJ~"}], "notification_id": "n1"});
    assert_eq!(
        parse_credential_response(200, ok.to_string().as_bytes(), None, 1).expect("parses"),
        ["eyJ.a.b~WyJ~"]
    );
    let two = json!({"credentials": [{"credential": "a"}, {"credential": "b"}]});
    assert!(matches!(
        parse_credential_response(200, two.to_string().as_bytes(), None, 1),
        Err(Oid4vciError::InvalidResponse {
            endpoint: Endpoint::Credential,
            ..
        })
    ));
    let object = json!({"credentials": [{"credential": {"@context": []}}]});
    assert!(matches!(
        parse_credential_response(200, object.to_string().as_bytes(), None, 1),
        Err(Oid4vciError::InvalidResponse { .. })
    ));
    let none = json!({"credentials": []});
    assert!(matches!(
        parse_credential_response(200, none.to_string().as_bytes(), None, 1),
        Err(Oid4vciError::InvalidResponse { .. })
    ));
    let deferred = json!({"transaction_id": "8xLOxBtZp8", "interval": 3600});
    assert!(matches!(
        parse_credential_response(202, deferred.to_string().as_bytes(), None, 1),
        Err(Oid4vciError::Deferred { ref transaction_id }) if transaction_id == "8xLOxBtZp8"
    ));
}

#[test]
fn credential_errors_name_the_oauth_code_from_the_body_or_the_challenge() {
    for (code, expected) in [
        ("invalid_proof", OAuthErrorCode::InvalidProof),
        ("invalid_nonce", OAuthErrorCode::InvalidNonce),
        (
            "unknown_credential_configuration",
            OAuthErrorCode::UnknownCredentialConfiguration,
        ),
        (
            "credential_request_denied",
            OAuthErrorCode::CredentialRequestDenied,
        ),
        ("new_code", OAuthErrorCode::Other("new_code".into())),
    ] {
        let body = json!({"error": code});
        match parse_credential_response(400, body.to_string().as_bytes(), None, 1) {
            Err(Oid4vciError::Refused {
                code: got,
                endpoint: Endpoint::Credential,
                ..
            }) => {
                assert_eq!(got, expected)
            }
            other => panic!("{code}: {other:?}"),
        }
    }
    let challenge = r#"Bearer error="invalid_token", error_description="token expired""#;
    match parse_credential_response(401, b"", Some(challenge), 1) {
        Err(Oid4vciError::Refused {
            status: 401,
            code,
            description,
            ..
        }) => {
            assert_eq!(code, OAuthErrorCode::InvalidToken);
            assert_eq!(description.as_deref(), Some("token expired"));
        }
        other => panic!("{other:?}"),
    }
    let err = parse_error_response(Endpoint::Credential, 500, "oops\u{1b}[2J".as_bytes(), None);
    assert!(!err.to_string().contains('\u{1b}'), "{err}");
}

#[test]
fn the_whole_exchange_composes() {
    // The steps in order, with the answers an issuer would give, and no network.
    let offer = parse_credential_offer(
        json!({
            "credential_issuer": ISSUER,
            "credential_configuration_ids": ["CitizenCard"],
            "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {
                "pre-authorized_code": "code-1", "tx_code": {"length": 4}}},
        })
        .to_string()
        .as_bytes(),
    )
    .expect("an offer");
    let metadata = parse_issuer_metadata(
        issuer_metadata().to_string().as_bytes(),
        &offer.credential_issuer,
    )
    .expect("metadata");
    let config = metadata
        .configuration(&offer.credential_configuration_ids[0])
        .expect("receivable");
    let grant = offer.pre_authorized.expect("a grant");
    let form = token_request_body(&grant, Some("1234")).expect("a form");
    assert!(form.contains("pre-authorized_code=code-1") && form.contains("tx_code=1234"));
    let token = parse_token_response(200, br#"{"access_token":"t","token_type":"bearer"}"#)
        .expect("a token");
    assert!(token.credential_identifiers.is_empty());
    let nonce = parse_nonce_response(200, br#"{"c_nonce":"n"}"#).expect("a nonce");
    let holder = holder();
    let proof = proof_jwt(&holder, &metadata.credential_issuer, Some(&nonce), 5);
    let body = credential_request_body(CredentialTarget::Configuration(&config.id), &proof);
    assert_eq!(body["proofs"]["jwt"][0], json!(proof));
    let card = common::card::Card::for_holder(holder.jwk()).issue();
    let response = json!({"credentials": [{"credential": card}]});
    let credentials = parse_credential_response(200, response.to_string().as_bytes(), None, 1)
        .expect("credentials");
    let checked = simin_wallet::oid4vci::check_credential(&credentials[0], &holder, &config.vct)
        .expect("checks");
    assert_eq!(checked.issuer, common::card::ISSUER_DID);
}

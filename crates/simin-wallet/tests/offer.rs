//! Credential offer links (OpenID4VCI 1.0 section 4.1): both forms accepted, everything
//! malformed refused, and no input makes the parser panic.

use proptest::prelude::*;
use serde_json::{json, Value};
use simin_wallet::oid4vci::{
    parse_credential_offer, parse_offer_uri, CredentialOffer, OfferSource, Oid4vciError,
    TxCodeInputMode, TxCodeSpec, OFFER_URI_BYTES_MAX,
};
use url::form_urlencoded::byte_serialize;

const PRE_AUTH: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

fn offer_json() -> Value {
    json!({
        "credential_issuer": "https://issuer.seoul.example",
        "credential_configuration_ids": ["CitizenCard"],
        "grants": {
            PRE_AUTH: {
                "pre-authorized_code": "oaKazRN8I0IbtZ0C7JuMn5",
                "tx_code": {"length": 6, "input_mode": "numeric", "description": "Sent by SMS"},
            },
            "authorization_code": {"issuer_state": "ignored"},
        },
        "unknown_member": "ignored",
    })
}

fn encode(text: &str) -> String {
    byte_serialize(text.as_bytes()).collect()
}

fn by_value(offer: &Value) -> String {
    format!(
        "openid-credential-offer://?credential_offer={}",
        encode(&offer.to_string())
    )
}

fn offer_of(input: &str) -> CredentialOffer {
    match parse_offer_uri(input) {
        Ok(OfferSource::Value(offer)) => offer,
        other => panic!("expected an offer by value, got {other:?}"),
    }
}

#[test]
fn an_offer_by_value_is_parsed() {
    let offer = offer_of(&by_value(&offer_json()));
    assert_eq!(offer.credential_issuer, "https://issuer.seoul.example");
    assert_eq!(offer.credential_configuration_ids, ["CitizenCard"]);
    let grant = offer.pre_authorized.expect("a pre-authorized grant");
    assert_eq!(grant.code, "oaKazRN8I0IbtZ0C7JuMn5");
    assert_eq!(
        grant.tx_code,
        Some(TxCodeSpec {
            input_mode: TxCodeInputMode::Numeric,
            length: Some(6),
            description: Some("Sent by SMS".into()),
        })
    );
    assert_eq!(grant.authorization_server, None);
    assert!(
        !format!("{grant:?}").contains("oaKazRN8"),
        "the code is a secret"
    );
}

#[test]
fn the_spec_example_offer_is_parsed() {
    // OpenID4VCI 1.0 section 4.1.2, the native-app example (line breaks removed).
    let input = "openid-credential-offer://?credential_offer=%7B%22credential_issuer%22:%22https://credential-issuer.example.com%22,%22credential_configuration_ids%22:%5B%22org.iso.18013.5.1.mDL%22%5D,%22grants%22:%7B%22urn:ietf:params:oauth:grant-type:pre-authorized_code%22:%7B%22pre-authorized_code%22:%22oaKazRN8I0IbtZ0C7JuMn5%22,%22tx_code%22:%7B%22input_mode%22:%22text%22,%22description%22:%22Please%20enter%20the%20serial%20number%20of%20your%20physical%20drivers%20license%22%7D%7D%7D%7D";
    let offer = offer_of(input);
    assert_eq!(
        offer.credential_issuer,
        "https://credential-issuer.example.com"
    );
    let tx_code = offer
        .pre_authorized
        .and_then(|g| g.tx_code)
        .expect("a tx_code");
    assert_eq!(tx_code.input_mode, TxCodeInputMode::Text);
    assert_eq!(tx_code.length, None);
}

#[test]
fn an_offer_by_reference_is_a_url_to_fetch() {
    let input = "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fserver%2Eexample%2Ecom%2Fcredential-offer%2FGkurKxf5T0Y";
    match parse_offer_uri(input) {
        Ok(OfferSource::Reference(url)) => {
            assert_eq!(
                url.as_str(),
                "https://server.example.com/credential-offer/GkurKxf5T0Y"
            )
        }
        other => panic!("expected a reference, got {other:?}"),
    }
    // http is accepted on the loopback interface only.
    let local = "openid-credential-offer://?credential_offer_uri=http%3A%2F%2F127.0.0.1%3A8090%2Foffers%2F1";
    assert!(matches!(
        parse_offer_uri(local),
        Ok(OfferSource::Reference(_))
    ));
    let remote =
        "openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fserver.example.com%2Fo";
    assert!(matches!(
        parse_offer_uri(remote),
        Err(Oid4vciError::InvalidUrl { .. })
    ));
}

#[test]
fn https_links_and_bare_json_carry_offers_too() {
    let link = format!(
        "https://wallet.seoul.example/offer?credential_offer={}",
        encode(&offer_json().to_string())
    );
    let json_text = offer_json().to_string();
    assert_eq!(offer_of(&link), offer_of(&by_value(&offer_json())));
    assert_eq!(offer_of(&json_text), offer_of(&link));
}

#[test]
fn malformed_links_are_refused() {
    let value = encode(&offer_json().to_string());
    let cases = [
        "".to_owned(),
        "not a url".to_owned(),
        format!("ftp://x/?credential_offer={value}"),
        "openid-credential-offer://?other=1".to_owned(),
        format!("openid-credential-offer://?credential_offer={value}&credential_offer_uri=https%3A%2F%2Fa.example"),
        format!("openid-credential-offer://?credential_offer={value}&credential_offer={value}"),
        "openid-credential-offer://?credential_offer=%7Bnot%20json".to_owned(),
        "openid-credential-offer://?credential_offer_uri=not-a-url".to_owned(),
        format!("openid-credential-offer://?credential_offer={}", "a".repeat(OFFER_URI_BYTES_MAX)),
    ];
    for input in cases {
        let result = parse_offer_uri(&input);
        assert!(
            matches!(
                result,
                Err(Oid4vciError::InvalidOfferUri { .. }
                    | Oid4vciError::InvalidOffer { .. }
                    | Oid4vciError::InvalidUrl { .. })
            ),
            "{}: {result:?}",
            &input[..input.len().min(120)]
        );
    }
}

/// Changes one member of the offer and expects it to be refused.
fn refused(edit: impl FnOnce(&mut Value)) -> Oid4vciError {
    let mut offer = offer_json();
    edit(&mut offer);
    match parse_credential_offer(offer.to_string().as_bytes()) {
        Err(err) => err,
        Ok(offer) => panic!("accepted {offer:?}"),
    }
}

#[test]
fn malformed_offers_are_refused() {
    let invalid_offer = |err: Oid4vciError| matches!(err, Oid4vciError::InvalidOffer { .. });
    let invalid_url = |err: Oid4vciError| matches!(err, Oid4vciError::InvalidUrl { .. });
    assert!(invalid_offer(refused(|o| {
        o.as_object_mut().map(|o| o.remove("credential_issuer"));
    })));
    assert!(invalid_url(refused(
        |o| o["credential_issuer"] = json!("http://issuer.example")
    )));
    assert!(invalid_url(refused(
        |o| o["credential_issuer"] = json!("https://issuer.example?x=1")
    )));
    assert!(invalid_url(refused(
        |o| o["credential_issuer"] = json!("https://issuer.example#f")
    )));
    assert!(invalid_url(refused(
        |o| o["credential_issuer"] = json!("https://u:p@issuer.example")
    )));
    assert!(invalid_offer(
        refused(|o| o["credential_issuer"] = json!(7))
    ));
    assert!(invalid_offer(refused(|o| o
        ["credential_configuration_ids"] =
        json!([]))));
    assert!(invalid_offer(refused(|o| o
        ["credential_configuration_ids"] =
        json!("CitizenCard"))));
    assert!(invalid_offer(refused(|o| o
        ["credential_configuration_ids"] =
        json!(["A", "A"]))));
    assert!(invalid_offer(refused(|o| o
        ["credential_configuration_ids"] =
        json!([""]))));
    assert!(invalid_offer(refused(|o| {
        o["credential_configuration_ids"] =
            json!((0..17).map(|i| i.to_string()).collect::<Vec<_>>())
    })));
    assert!(invalid_offer(refused(|o| o["grants"][PRE_AUTH]
        ["pre-authorized_code"] =
        json!(""))));
    assert!(invalid_offer(refused(|o| {
        o["grants"][PRE_AUTH]
            .as_object_mut()
            .map(|g| g.remove("pre-authorized_code"));
    })));
    assert!(invalid_offer(refused(|o| o["grants"][PRE_AUTH]
        ["tx_code"]["input_mode"] =
        json!("emoji"))));
    assert!(invalid_offer(refused(|o| o["grants"][PRE_AUTH]
        ["tx_code"]["length"] =
        json!(0))));
    assert!(invalid_offer(refused(|o| o["grants"][PRE_AUTH]
        ["tx_code"]["length"] =
        json!(-4))));
    assert!(invalid_offer(refused(|o| {
        o["grants"][PRE_AUTH]["tx_code"]["description"] = json!("x".repeat(301))
    })));
    assert!(invalid_offer(refused(
        |o| o["grants"][PRE_AUTH] = json!("code")
    )));
}

#[test]
fn an_offer_without_a_pre_authorized_grant_parses_without_one() {
    let mut offer = offer_json();
    offer["grants"].as_object_mut().map(|g| g.remove(PRE_AUTH));
    let parsed = parse_credential_offer(offer.to_string().as_bytes()).expect("parses");
    assert_eq!(parsed.pre_authorized, None);
    // An empty tx_code object still means a code is required.
    let mut offer = offer_json();
    offer["grants"][PRE_AUTH]["tx_code"] = json!({});
    let parsed = parse_credential_offer(offer.to_string().as_bytes()).expect("parses");
    let spec = parsed
        .pre_authorized
        .and_then(|g| g.tx_code)
        .expect("required");
    assert_eq!(spec.input_mode, TxCodeInputMode::Numeric);
}

#[test]
fn descriptions_lose_their_control_characters() {
    let mut offer = offer_json();
    offer["grants"][PRE_AUTH]["tx_code"]["description"] = json!("code\u{1b}[31m here");
    let parsed = parse_credential_offer(offer.to_string().as_bytes()).expect("parses");
    let description = parsed
        .pre_authorized
        .and_then(|g| g.tx_code)
        .and_then(|t| t.description)
        .expect("a description");
    assert!(!description.contains('\u{1b}'), "{description:?}");
}

proptest! {
    #[test]
    fn no_input_makes_the_parser_panic(input in ".{0,300}") {
        let _ = parse_offer_uri(&input);
        let _ = parse_offer_uri(&format!("openid-credential-offer://?credential_offer={input}"));
        let _ = parse_credential_offer(input.as_bytes());
    }

    #[test]
    fn offers_round_trip_through_links(
        ids in proptest::collection::btree_set("[A-Za-z0-9_.-]{1,24}", 1..5),
        code in "[A-Za-z0-9_~-]{1,64}",
        length in proptest::option::of(1u32..12),
        path in proptest::option::of("[a-z]{1,8}"),
    ) {
        let issuer = match path {
            Some(path) => format!("https://issuer.example/{path}"),
            None => "https://issuer.example".to_owned(),
        };
        let ids: Vec<String> = ids.into_iter().collect();
        let mut tx_code = json!({"input_mode": "text"});
        if let Some(length) = length {
            tx_code["length"] = json!(length);
        }
        let offer = json!({
            "credential_issuer": issuer,
            "credential_configuration_ids": ids,
            "grants": {PRE_AUTH: {"pre-authorized_code": code, "tx_code": tx_code}},
        });
        let parsed = offer_of(&by_value(&offer));
        prop_assert_eq!(&parsed.credential_issuer, &issuer);
        prop_assert_eq!(&parsed.credential_configuration_ids, &ids);
        let grant = parsed.pre_authorized.expect("a grant");
        prop_assert_eq!(grant.code, code);
        prop_assert_eq!(grant.tx_code.and_then(|t| t.length), length);
    }
}

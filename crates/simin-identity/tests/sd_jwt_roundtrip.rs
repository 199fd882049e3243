//! SD-JWT round trips with Ed25519 keys (issue, present a subset, verify), property tests
//! against a small model of selective disclosure, and the invalid SD-JWTs RFC 9901
//! section 7 tells a verifier to refuse.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use simin_identity::jose::{b64url_sha256, sign_compact_json, Jwk, JwsSigner};
use simin_identity::sd_jwt::{
    issue, list_disclosures, present, verify, ClaimPath, Disclosure, IssueRequest, Issued,
    JsonStyle, KeyBindingRequest, PathElement, SdJwt, SdJwtError, SdPolicy, VerifyOptions,
    TYP_SD_JWT_VC,
};

const NOW: i64 = 1_800_000_000;

fn ed25519(seed: u8) -> JwsSigner {
    JwsSigner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
}

/// A deterministic salt source: "salt-0", "salt-1", ...
fn counter() -> impl FnMut() -> String {
    let mut next = 0u32;
    move || {
        next += 1;
        format!("salt-{next}")
    }
}

fn path(elements: &[&str]) -> ClaimPath {
    elements
        .iter()
        .map(|e| match e.parse::<usize>() {
            Ok(index) => PathElement::Index(index),
            Err(_) => PathElement::from(*e),
        })
        .collect()
}

fn citizen_claims() -> Map<String, Value> {
    json!({
        "iss": "https://city.example/issuer",
        "iat": NOW - 100,
        "exp": NOW + 86_400,
        "vct": "https://city.example/citizen-card",
        "given_name": "Ada",
        "family_name": "Okafor",
        "birthdate": "1990-05-17",
        "address": {"street_address": "1 Harbour Rd", "locality": "Simin", "postal_code": "1000"},
        "nationalities": ["SI", "NG"]
    })
    .as_object()
    .expect("an object")
    .clone()
}

fn citizen_policy() -> SdPolicy {
    SdPolicy::plain()
        .member("given_name", SdPolicy::sd())
        .member("family_name", SdPolicy::sd())
        .member("birthdate", SdPolicy::sd())
        .member(
            "address",
            SdPolicy::sd()
                .member("street_address", SdPolicy::sd())
                .member("locality", SdPolicy::sd())
                .member("postal_code", SdPolicy::sd())
                .with_decoys(2),
        )
        .member(
            "nationalities",
            SdPolicy::plain()
                .element(0, SdPolicy::sd())
                .element(1, SdPolicy::sd()),
        )
        .with_decoys(3)
}

fn vc_header() -> Map<String, Value> {
    let mut header = Map::new();
    header.insert("typ".to_owned(), Value::from(TYP_SD_JWT_VC));
    header.insert("kid".to_owned(), Value::from("issuer-key-1"));
    header
}

fn issue_citizen(issuer: &JwsSigner, holder: &Jwk) -> Issued {
    let claims = citizen_claims();
    let policy = citizen_policy();
    let header = vc_header();
    let request = IssueRequest {
        claims: &claims,
        policy: &policy,
        header: &header,
        holder_key: Some(holder),
        style: JsonStyle::Compact,
    };
    issue(&request, issuer, &mut counter()).expect("issued")
}

#[test]
fn ed25519_citizen_card_round_trip() {
    let issuer = ed25519(1);
    let holder = ed25519(2);
    let issued = issue_citizen(&issuer, &holder.public_jwk());
    // 3 top-level + 1 address + 3 in address + 2 nationalities; decoys have no disclosure.
    assert_eq!(issued.disclosures.len(), 9);
    let sd = |v: &Value| v["_sd"].as_array().expect("_sd").len();
    assert_eq!(sd(&Value::Object(issued.payload.clone())), 4 + 3);
    let request = KeyBindingRequest {
        signer: &holder,
        audience: "https://shop.example",
        nonce: "n-42",
        issued_at: NOW,
    };
    let presentation = present(
        &issued.sd_jwt,
        &[
            path(&["address", "locality"]),
            path(&["nationalities", "1"]),
        ],
        Some(&request),
    )
    .expect("presented");
    let mut options = VerifyOptions::new(NOW + 5).with_key_binding("n-42", "https://shop.example");
    options.expected_typ = Some(TYP_SD_JWT_VC.to_owned());
    let verified = verify(&presentation, &issuer.public_jwk(), &options).expect("verified");
    let expected = json!({
        "iss": "https://city.example/issuer",
        "iat": NOW - 100,
        "exp": NOW + 86_400,
        "vct": "https://city.example/citizen-card",
        "address": {"locality": "Simin"},
        "nationalities": ["NG"],
        "cnf": {"jwk": holder.public_jwk().to_json()}
    });
    assert_eq!(verified.claims, expected);
    let mut disclosed = verified.disclosed_paths.clone();
    disclosed.sort();
    assert_eq!(
        disclosed,
        vec![
            path(&["address"]),
            path(&["address", "locality"]),
            path(&["nationalities", "0"])
        ]
    );
    assert_eq!(
        verified.header.get("kid"),
        Some(&Value::from("issuer-key-1"))
    );
    let kb = verified.key_binding.expect("checked");
    assert_eq!(
        (kb.iat, kb.nonce.as_str(), kb.audience.as_str()),
        (NOW, "n-42", "https://shop.example")
    );

    // Without a selection nothing selectively disclosable is shown.
    let bare = present(&issued.sd_jwt, &[], None).expect("presented");
    let verified = verify(&bare, &issuer.public_jwk(), &VerifyOptions::new(NOW)).expect("verified");
    assert_eq!(verified.claims["nationalities"], json!([]));
    assert!(verified.claims.get("address").is_none());
}

#[test]
fn holder_refuses_what_it_cannot_do() {
    let issuer = ed25519(1);
    let holder = ed25519(2);
    let issued = issue_citizen(&issuer, &holder.public_jwk());
    assert!(matches!(
        present(&issued.sd_jwt, &[path(&["address", "country"])], None),
        Err(SdJwtError::UnknownClaimPath { .. })
    ));
    let intruder = ed25519(3);
    let request = KeyBindingRequest {
        signer: &intruder,
        audience: "a",
        nonce: "n",
        issued_at: NOW,
    };
    assert_eq!(
        present(&issued.sd_jwt, &[], Some(&request)),
        Err(SdJwtError::HolderKeyMismatch)
    );
    let listed = list_disclosures(&issued.sd_jwt).expect("listed");
    assert_eq!(listed.len(), 9);
    assert!(listed
        .iter()
        .any(|d| d.path == path(&["address", "postal_code"])));
    // A holder never accepts an SD-JWT+KB from an issuer.
    let with_kb = format!("{}{}", issued.sd_jwt, "e30.e30.AAAA");
    assert!(matches!(
        list_disclosures(&with_kb),
        Err(SdJwtError::Malformed(_))
    ));
}

#[test]
fn rfc9901_disclosure_examples() {
    let family = Disclosure::new(
        "_26bc4LT-ac6q2KI6cBW5es",
        Some("family_name"),
        &Value::from("Möbius"),
        JsonStyle::Spaced,
    );
    assert_eq!(
        family.encoded(),
        "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
    );
    assert_eq!(
        family.digest(),
        "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"
    );
    let fr = Disclosure::new(
        "lklxF5jMYlGTPUovMNIvCA",
        None,
        &Value::from("FR"),
        JsonStyle::Spaced,
    );
    assert_eq!(fr.encoded(), "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0");
    let parsed = Disclosure::parse(fr.encoded()).expect("parses");
    assert_eq!(parsed, fr);
    // The same claim written without whitespace is another, equally valid disclosure.
    let compact =
        Disclosure::parse("WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsImZhbWlseV9uYW1lIiwiTcO2Yml1cyJd")
            .expect("parses");
    assert_eq!(
        (compact.name(), compact.value()),
        (Some("family_name"), &Value::from("Möbius"))
    );
}

#[test]
fn issuer_refuses_bad_requests() {
    let issuer = ed25519(1);
    let holder = ed25519(2).public_jwk();
    let claims = citizen_claims();
    let header = Map::new();
    let request =
        |claims: &Map<String, Value>, policy: &SdPolicy, salt: &mut dyn FnMut() -> String| {
            let request = IssueRequest {
                claims,
                policy,
                header: &header,
                holder_key: Some(&holder),
                style: JsonStyle::Compact,
            };
            issue(&request, &issuer, salt).map(|_| ())
        };
    let missing = SdPolicy::plain().member("middle_name", SdPolicy::sd());
    assert!(matches!(
        request(&claims, &missing, &mut counter()),
        Err(SdJwtError::PolicyMismatch { .. })
    ));
    let on_scalar =
        SdPolicy::plain().member("given_name", SdPolicy::plain().element(0, SdPolicy::sd()));
    assert!(matches!(
        request(&claims, &on_scalar, &mut counter()),
        Err(SdJwtError::PolicyMismatch { .. })
    ));
    let past_end = SdPolicy::plain().member(
        "nationalities",
        SdPolicy::plain().element(2, SdPolicy::sd()),
    );
    assert!(matches!(
        request(&claims, &past_end, &mut counter()),
        Err(SdJwtError::PolicyMismatch { .. })
    ));
    assert!(matches!(
        request(&claims, &SdPolicy::sd(), &mut counter()),
        Err(SdJwtError::PolicyMismatch { .. })
    ));
    let policy = citizen_policy();
    assert!(matches!(
        request(&claims, &policy, &mut || "same".to_owned()),
        Err(SdJwtError::InvalidSalt(_))
    ));
    assert!(matches!(
        request(&claims, &policy, &mut String::new),
        Err(SdJwtError::InvalidSalt(_))
    ));
    let mut with_cnf = claims.clone();
    with_cnf.insert("cnf".to_owned(), json!({}));
    assert_eq!(
        request(&with_cnf, &policy, &mut counter()),
        Err(SdJwtError::ClaimConflict("cnf"))
    );
    let mut reserved = claims.clone();
    reserved.insert("address".to_owned(), json!({"_sd": []}));
    assert!(matches!(
        request(&reserved, &SdPolicy::plain(), &mut counter()),
        Err(SdJwtError::ReservedClaimName { .. })
    ));
}

/// Signs an arbitrary payload as an issuer would, to build SD-JWTs no honest issuer makes.
fn forge(issuer: &JwsSigner, payload: Value, disclosures: &[&Disclosure]) -> String {
    let jwt = sign_compact_json(&Map::new(), payload.as_object().expect("object"), issuer);
    SdJwt {
        issuer_jwt: jwt,
        disclosures: disclosures.iter().map(|d| d.encoded().to_owned()).collect(),
        key_binding_jwt: None,
    }
    .to_compact()
}

#[test]
fn verifier_refuses_invalid_sd_jwts() {
    let issuer = ed25519(1);
    let key = issuer.public_jwk();
    let options = VerifyOptions::new(NOW);
    let name = Disclosure::new("s1", Some("name"), &Value::from("Ada"), JsonStyle::Compact);
    let element = Disclosure::new("s2", None, &Value::from("SI"), JsonStyle::Compact);
    let reserved = Disclosure::new("s3", Some("_sd"), &json!([]), JsonStyle::Compact);
    let check = |payload: Value, disclosures: &[&Disclosure]| {
        verify(&forge(&issuer, payload, disclosures), &key, &options)
    };

    assert!(check(json!({"_sd": [name.digest()]}), &[&name]).is_ok());
    assert!(matches!(
        check(
            json!({"_sd": [name.digest()], "a": {"_sd": [name.digest()]}}),
            &[&name]
        ),
        Err(SdJwtError::DuplicateDigest { .. })
    ));
    assert!(matches!(
        check(json!({"_sd": [name.digest()], "name": "Bob"}), &[&name]),
        Err(SdJwtError::ClaimNameCollision { .. })
    ));
    assert!(matches!(
        check(json!({"_sd": [reserved.digest()]}), &[&reserved]),
        Err(SdJwtError::ReservedClaimName { .. })
    ));
    assert!(matches!(
        check(json!({"_sd": [element.digest()]}), &[&element]),
        Err(SdJwtError::WrongDisclosureKind { .. })
    ));
    assert!(matches!(
        check(json!({"list": [{"...": name.digest()}]}), &[&name]),
        Err(SdJwtError::WrongDisclosureKind { .. })
    ));
    assert!(check(json!({"list": [{"...": element.digest()}]}), &[&element]).is_ok());
    assert!(matches!(
        check(
            json!({"list": [{"...": element.digest(), "x": 1}]}),
            &[&element]
        ),
        Err(SdJwtError::Malformed(_))
    ));
    assert_eq!(
        check(json!({"_sd_alg": "sha-512"}), &[]),
        Err(SdJwtError::UnsupportedSdAlg("sha-512".to_owned()))
    );
    assert!(matches!(
        check(json!({"a": {"_sd_alg": "sha-256"}}), &[]),
        Err(SdJwtError::ReservedClaimName { .. })
    ));
    assert!(matches!(
        check(json!({"_sd": "x"}), &[]),
        Err(SdJwtError::Malformed(_))
    ));
    assert!(matches!(
        check(json!({"nbf": NOW + 3600}), &[]),
        Err(SdJwtError::NotYetValid { .. })
    ));
    assert!(matches!(
        check(json!({"exp": "tomorrow"}), &[]),
        Err(SdJwtError::BadTimeClaim { .. })
    ));
    // An exp hidden in a disclosure is still enforced.
    let exp = Disclosure::new(
        "s4",
        Some("exp"),
        &Value::from(NOW - 3600),
        JsonStyle::Compact,
    );
    assert!(matches!(
        check(json!({"_sd": [exp.digest()]}), &[&exp]),
        Err(SdJwtError::Expired { .. })
    ));

    let good = forge(&issuer, json!({"_sd": [name.digest()]}), &[&name]);
    assert!(matches!(
        verify(&good.replace('~', "~~"), &key, &options),
        Err(SdJwtError::Malformed(_))
    ));
    // Without the final "~" the last disclosure reads as a Key Binding JWT, which a
    // verifier expecting a plain SD-JWT refuses instead of dropping the disclosure.
    assert_eq!(
        verify(good.trim_end_matches('~'), &key, &options),
        Err(SdJwtError::UnexpectedKeyBinding)
    );
    let huge = format!("{good}{}", "A".repeat(300 * 1024));
    assert!(matches!(
        verify(&huge, &key, &options),
        Err(SdJwtError::TooLarge { .. })
    ));
    let mut inconsistent = VerifyOptions::new(NOW);
    inconsistent.require_key_binding = true;
    assert!(matches!(
        verify(&good, &key, &inconsistent),
        Err(SdJwtError::InvalidOptions(_))
    ));
    let not_base64 = format!("{}~%%%~", good.split('~').next().expect("jwt"));
    assert!(matches!(
        verify(&not_base64, &key, &options),
        Err(SdJwtError::MalformedDisclosure { .. })
    ));
}

#[test]
fn deeply_nested_disclosures_are_bounded() {
    let issuer = ed25519(1);
    let mut value = Value::from("core");
    let mut disclosures = Vec::new();
    for level in 0..40 {
        let disclosure = Disclosure::new(&format!("d{level}"), None, &value, JsonStyle::Compact);
        value = json!([{"...": disclosure.digest()}]);
        disclosures.push(disclosure);
    }
    let refs: Vec<&Disclosure> = disclosures.iter().collect();
    let sd_jwt = forge(&issuer, json!({ "deep": value }), &refs);
    assert!(matches!(
        verify(&sd_jwt, &issuer.public_jwk(), &VerifyOptions::new(NOW)),
        Err(SdJwtError::TooDeep { .. })
    ));
}

/// The RFC 9901 section 8 JSON serialization of a compact presentation.
fn to_json_serialization(compact: &str, general: bool) -> String {
    let sd_jwt = SdJwt::parse(compact).expect("compact");
    let parts: Vec<&str> = sd_jwt.issuer_jwt.split('.').collect();
    let mut header = json!({ "disclosures": sd_jwt.disclosures });
    if let Some(kb) = &sd_jwt.key_binding_jwt {
        header["kb_jwt"] = Value::from(kb.clone());
    }
    let value = if general {
        json!({
            "payload": parts[1],
            "signatures": [{"protected": parts[0], "header": header, "signature": parts[2]}]
        })
    } else {
        json!({"payload": parts[1], "protected": parts[0], "header": header, "signature": parts[2]})
    };
    value.to_string()
}

#[test]
fn json_serialization_round_trip() {
    let issuer = ed25519(1);
    let holder = ed25519(2);
    let issued = issue_citizen(&issuer, &holder.public_jwk());
    let request = KeyBindingRequest {
        signer: &holder,
        audience: "aud",
        nonce: "nonce",
        issued_at: NOW,
    };
    let compact =
        present(&issued.sd_jwt, &[path(&["given_name"])], Some(&request)).expect("presented");
    let options = VerifyOptions::new(NOW).with_key_binding("nonce", "aud");
    let expected = verify(&compact, &issuer.public_jwk(), &options).expect("compact verifies");
    for general in [false, true] {
        let json = to_json_serialization(&compact, general);
        let verified = verify(&json, &issuer.public_jwk(), &options).expect("JSON verifies");
        assert_eq!(verified, expected);
    }
    // Disclosures both in the header and at the top level are ambiguous.
    let mut both: Value =
        serde_json::from_str(&to_json_serialization(&compact, false)).expect("JSON");
    both["disclosures"] = json!([]);
    assert!(matches!(
        verify(&both.to_string(), &issuer.public_jwk(), &options),
        Err(SdJwtError::Malformed(_))
    ));
}

/// A claims tree for the model: objects and arrays whose children may be disclosable.
#[derive(Debug, Clone)]
enum Node {
    Leaf(Value),
    Object(Vec<(Node, bool)>),
    Array(Vec<(Node, bool)>),
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        any::<i32>().prop_map(|n| Node::Leaf(Value::from(n))),
        "[a-zé ]{0,8}".prop_map(|s| Node::Leaf(Value::from(s))),
        any::<bool>().prop_map(|b| Node::Leaf(Value::from(b))),
        Just(Node::Leaf(Value::Null)),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec((inner.clone(), any::<bool>()), 0..4).prop_map(Node::Object),
            prop::collection::vec((inner, any::<bool>()), 0..4).prop_map(Node::Array),
        ]
    })
}

fn child_name(index: usize) -> String {
    format!("c{index}")
}

/// The claims and the policy a tree describes.
fn build(node: &Node) -> (Value, SdPolicy) {
    match node {
        Node::Leaf(value) => (value.clone(), SdPolicy::plain()),
        Node::Object(children) => {
            let mut map = Map::new();
            let mut policy = SdPolicy::plain();
            for (index, (child, sd)) in children.iter().enumerate() {
                let (value, mut child_policy) = build(child);
                child_policy.selectively_disclosable = *sd;
                map.insert(child_name(index), value);
                policy = policy.member(child_name(index), child_policy);
            }
            (Value::Object(map), policy)
        }
        Node::Array(children) => {
            let mut items = Vec::new();
            let mut policy = SdPolicy::plain();
            for (index, (child, sd)) in children.iter().enumerate() {
                let (value, mut child_policy) = build(child);
                child_policy.selectively_disclosable = *sd;
                items.push(value);
                policy = policy.element(index, child_policy);
            }
            (Value::Array(items), policy)
        }
    }
}

fn all_paths(node: &Node, path: &mut ClaimPath, out: &mut Vec<ClaimPath>) {
    let (children, object) = match node {
        Node::Leaf(_) => return,
        Node::Object(children) => (children, true),
        Node::Array(children) => (children, false),
    };
    for (index, (child, _)) in children.iter().enumerate() {
        path.push(if object {
            PathElement::Name(child_name(index))
        } else {
            PathElement::Index(index)
        });
        out.push(path.clone());
        all_paths(child, path, out);
        path.pop();
    }
}

/// What a verifier should see: a disclosable claim appears when a selected path runs
/// through it or lies beneath a selected path.
fn expected_view(node: &Node, path: &mut ClaimPath, selection: &[ClaimPath]) -> Value {
    let related = |p: &ClaimPath| {
        selection
            .iter()
            .any(|s| s.starts_with(p) || p.starts_with(s))
    };
    match node {
        Node::Leaf(value) => value.clone(),
        Node::Object(children) => {
            let mut map = Map::new();
            for (index, (child, sd)) in children.iter().enumerate() {
                path.push(PathElement::Name(child_name(index)));
                if !*sd || related(path) {
                    map.insert(child_name(index), expected_view(child, path, selection));
                }
                path.pop();
            }
            Value::Object(map)
        }
        Node::Array(children) => {
            let mut items = Vec::new();
            for (index, (child, sd)) in children.iter().enumerate() {
                path.push(PathElement::Index(index));
                if !*sd || related(path) {
                    items.push(expected_view(child, path, selection));
                }
                path.pop();
            }
            Value::Array(items)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn presenting_a_subset_shows_exactly_that_subset(
        children in prop::collection::vec((node(), any::<bool>()), 0..6),
        picks in prop::collection::vec(any::<bool>(), 64),
    ) {
        let root = Node::Object(children);
        let (claims, policy) = build(&root);
        let claims = claims.as_object().expect("object").clone();
        let issuer = ed25519(11);
        let holder = ed25519(12);
        let holder_key = holder.public_jwk();
        let header = Map::new();
        let request = IssueRequest {
            claims: &claims, policy: &policy, header: &header,
            holder_key: Some(&holder_key), style: JsonStyle::Compact,
        };
        let issued = issue(&request, &issuer, &mut counter()).expect("issued");

        let mut paths = Vec::new();
        all_paths(&root, &mut Vec::new(), &mut paths);
        let selection: Vec<ClaimPath> = paths
            .into_iter()
            .zip(picks.iter().cycle())
            .filter_map(|(path, pick)| pick.then_some(path))
            .collect();
        let kb = KeyBindingRequest { signer: &holder, audience: "v", nonce: "n", issued_at: NOW };
        let presentation = present(&issued.sd_jwt, &selection, Some(&kb)).expect("presented");
        let options = VerifyOptions::new(NOW).with_key_binding("n", "v");
        let verified = verify(&presentation, &issuer.public_jwk(), &options).expect("verified");

        let mut expected = expected_view(&root, &mut Vec::new(), &selection);
        expected["cnf"] = json!({"jwk": holder_key.to_json()});
        prop_assert_eq!(verified.claims, expected);

        // Everything disclosed gives back the claims.
        let all = present(&issued.sd_jwt, &[Vec::new()], None).expect("presented");
        let full = verify(&all, &issuer.public_jwk(), &VerifyOptions::new(NOW)).expect("verified");
        let mut original = Value::Object(claims);
        original["cnf"] = json!({"jwk": holder_key.to_json()});
        prop_assert_eq!(full.claims, original);
    }

    #[test]
    fn any_altered_disclosure_is_refused(
        children in prop::collection::vec((node(), Just(true)), 1..5),
        which in any::<prop::sample::Index>(),
        position in any::<prop::sample::Index>(),
        replacement in "[A-Za-z0-9_-]",
    ) {
        let root = Node::Object(children);
        let (claims, policy) = build(&root);
        let claims = claims.as_object().expect("object").clone();
        let issuer = ed25519(21);
        let header = Map::new();
        let request = IssueRequest {
            claims: &claims, policy: &policy, header: &header, holder_key: None, style: JsonStyle::Compact,
        };
        let issued = issue(&request, &issuer, &mut counter()).expect("issued");
        let mut sd_jwt = SdJwt::parse(&issued.sd_jwt).expect("compact");
        let target = which.index(sd_jwt.disclosures.len());
        let original = sd_jwt.disclosures[target].clone();
        let at = position.index(original.len());
        let mut altered = original.clone();
        altered.replace_range(at..=at, &replacement);
        prop_assume!(altered != original);
        sd_jwt.disclosures[target] = altered.clone();
        let result = verify(&sd_jwt.to_compact(), &issuer.public_jwk(), &VerifyOptions::new(NOW));
        let refused = matches!(
            result,
            Err(SdJwtError::UnreferencedDisclosure { .. } | SdJwtError::MalformedDisclosure { .. })
        );
        prop_assert!(refused, "altered {} to {}: {:?}", original, altered, result);
        prop_assert_ne!(b64url_sha256(altered.as_bytes()), b64url_sha256(original.as_bytes()));
    }
}

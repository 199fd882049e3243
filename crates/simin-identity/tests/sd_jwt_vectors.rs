//! SD-JWT conformance against the reference implementation's test cases
//! (`shared/vectors/sd-jwt/testcases`, sd-jwt-python 0.10.4).
//!
//! For every case: the issuer, given the case's claims, its `!sd` policy and the salts
//! read back from the case's own disclosures, reproduces the signed payload and every
//! disclosure byte for byte; the verifier accepts the case's presentation and yields
//! exactly `verified_contents.json`; the holder, given `holder_disclosed_claims`, selects
//! the same disclosures as the case's presentation. A missing vector folder fails.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use serde_norway::Value as Yaml;
use simin_identity::jose::{
    b64url_decode, b64url_sha256, sign_compact_json, verify_compact, Jwk, JwsSigner,
};
use simin_identity::sd_jwt::{
    issue, list_disclosures, present, verify, ClaimPath, Disclosure, IssueRequest, JsonStyle,
    KeyBindingRequest, PathElement, SdJwt, SdJwtError, SdPolicy, VerifyOptions,
};

/// Every case the vector folder must hold.
const CASES: [&str; 17] = [
    "array_data_types",
    "array_full_sd",
    "array_in_sd",
    "array_nested_in_plain",
    "array_none_disclosed",
    "array_of_nulls",
    "array_of_objects",
    "array_of_scalars",
    "array_recursive_sd",
    "array_recursive_sd_some_disclosed",
    "header_mod",
    "json_serialization_flattened",
    "json_serialization_general",
    "key_binding",
    "no_sd",
    "object_data_types",
    "recursions",
];

/// The Key Binding JWTs' `iat` in the vectors; the verifier's clock is set to it.
const KB_IAT: i64 = 1_795_507_681;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/sd-jwt/testcases")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_yaml(path: &Path) -> Yaml {
    serde_norway::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(value: &Value) -> &str {
    value.as_str().expect("a string")
}

fn yaml_get<'a>(yaml: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    yaml.as_mapping().and_then(|map| map.get(key))
}

/// Settings shared by the cases.
struct Settings {
    issuer: JwsSigner,
    holder: JwsSigner,
    iss: String,
    verifier: String,
    nonce: String,
    iat: i64,
    exp: i64,
}

fn es256_key(jwk: &Value) -> JwsSigner {
    let d = b64url_decode(text(&jwk["d"]), "d").expect("d is base64url");
    let signer = JwsSigner::Es256(p256::ecdsa::SigningKey::from_slice(&d).expect("a P-256 scalar"));
    let public = Jwk::from_json(&serde_json::json!({
        "kty": jwk["kty"], "crv": jwk["crv"], "x": jwk["x"], "y": jwk["y"]
    }))
    .expect("a P-256 JWK");
    assert_eq!(signer.public_jwk(), public, "d matches x, y");
    signer
}

fn settings() -> Settings {
    let yaml = read_yaml(&dir().join("settings.yml"));
    let json: Value = serde_json::to_value(&yaml).expect("settings are plain YAML");
    Settings {
        issuer: es256_key(&json["key_settings"]["issuer_key"]),
        holder: es256_key(&json["key_settings"]["holder_key"]),
        iss: text(&json["identifiers"]["issuer"]).to_owned(),
        verifier: text(&json["identifiers"]["verifier"]).to_owned(),
        nonce: text(&json["key_binding_nonce"]).to_owned(),
        iat: json["iat"].as_i64().expect("iat"),
        exp: json["exp"].as_i64().expect("exp"),
    }
}

/// A YAML mapping key as the claim name the reference implementation uses.
fn key_name(key: &Yaml) -> (String, bool) {
    match key {
        Yaml::String(name) => (name.clone(), false),
        Yaml::Tagged(tagged) if tagged.tag == "sd" => (key_name(&tagged.value).0, true),
        other => panic!("unexpected claim name {other:?}"),
    }
}

/// The policy the `!sd` tags of a specification's `user_claims` describe.
fn policy_from_yaml(yaml: &Yaml) -> SdPolicy {
    match yaml {
        Yaml::Tagged(tagged) => {
            assert_eq!(tagged.tag, "sd", "only !sd tags are expected");
            let mut policy = policy_from_yaml(&tagged.value);
            policy.selectively_disclosable = true;
            policy
        }
        Yaml::Mapping(map) => {
            let mut policy = SdPolicy::plain();
            for (key, value) in map {
                let (name, sd) = key_name(key);
                let mut member = policy_from_yaml(value);
                member.selectively_disclosable |= sd;
                policy = policy.member(name, member);
            }
            policy
        }
        Yaml::Sequence(items) => {
            let mut policy = SdPolicy::plain();
            for (index, item) in items.iter().enumerate() {
                policy = policy.element(index, policy_from_yaml(item));
            }
            policy
        }
        _ => SdPolicy::plain(),
    }
}

/// The claims of a specification with the tags stripped, to check they are user_claims.json.
fn yaml_to_json(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::Tagged(tagged) => yaml_to_json(&tagged.value),
        Yaml::Mapping(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key_name(key).0, yaml_to_json(value)))
                .collect(),
        ),
        Yaml::Sequence(items) => Value::Array(items.iter().map(yaml_to_json).collect()),
        scalar => serde_json::to_value(scalar).expect("a plain scalar"),
    }
}

/// The claim paths `holder_disclosed_claims` marks `True`.
fn selection_from_yaml(yaml: &Yaml, path: &mut ClaimPath, out: &mut Vec<ClaimPath>) {
    match yaml {
        Yaml::Bool(true) => out.push(path.clone()),
        Yaml::Mapping(map) => {
            for (key, value) in map {
                path.push(PathElement::Name(key_name(key).0));
                selection_from_yaml(value, path, out);
                path.pop();
            }
        }
        Yaml::Sequence(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(PathElement::Index(index));
                selection_from_yaml(item, path, out);
                path.pop();
            }
        }
        // False, null, and the "None" some cases write, disclose nothing.
        _ => {}
    }
}

/// A case's issued SD-JWT and presentation, both as compact text, and the raw
/// presentation as the case wrote it.
struct Serialized {
    issued_compact: String,
    presentation: String,
    json: bool,
}

/// A JSON-serialized SD-JWT (pre-RFC layout, disclosures at the top) as compact text.
fn json_to_compact(json: &Value) -> String {
    let sd_jwt = SdJwt {
        issuer_jwt: format!(
            "{}.{}.{}",
            text(&json["protected"]),
            text(&json["payload"]),
            text(&json["signature"])
        ),
        disclosures: json["disclosures"]
            .as_array()
            .expect("disclosures")
            .iter()
            .map(|d| text(d).to_owned())
            .collect(),
        key_binding_jwt: json.get("kb_jwt").map(|kb| text(kb).to_owned()),
    };
    sd_jwt.to_compact()
}

fn serialized(case: &Path) -> Serialized {
    if case.join("sd_jwt_issuance.txt").exists() {
        return Serialized {
            issued_compact: read(&case.join("sd_jwt_issuance.txt")).trim().to_owned(),
            presentation: read(&case.join("sd_jwt_presentation.txt"))
                .trim()
                .to_owned(),
            json: false,
        };
    }
    // The JSON cases hold a JSON string whose content is the JWS JSON serialization.
    let issued = read_json(&case.join("sd_jwt_issuance.json"));
    let presentation = read_json(&case.join("sd_jwt_presentation.json"));
    let issued: Value = serde_json::from_str(text(&issued)).expect("JSON serialization");
    Serialized {
        issued_compact: json_to_compact(&issued),
        presentation: text(&presentation).to_owned(),
        json: true,
    }
}

struct Case {
    name: &'static str,
    path: PathBuf,
    spec: Yaml,
    key_binding: bool,
    serialized: Serialized,
}

fn cases() -> Vec<Case> {
    let root = dir();
    assert!(
        root.is_dir(),
        "the SD-JWT vectors are missing at {}",
        root.display()
    );
    let on_disk: BTreeSet<String> = std::fs::read_dir(&root)
        .expect("readable")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .map(|path| {
            path.file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let expected: BTreeSet<String> = CASES.iter().map(|c| (*c).to_owned()).collect();
    assert_eq!(on_disk, expected, "the vector folder's cases changed");
    CASES
        .iter()
        .map(|&name| {
            let path = root.join(name);
            let spec = read_yaml(&path.join("specification.yml"));
            let key_binding = yaml_get(&spec, "key_binding") == Some(&Yaml::Bool(true));
            Case {
                name,
                serialized: serialized(&path),
                path,
                spec,
                key_binding,
            }
        })
        .collect()
}

fn disclosures_of(compact: &str) -> Vec<String> {
    SdJwt::parse(compact).expect("compact SD-JWT").disclosures
}

fn claims_of(case: &Case, settings: &Settings) -> Map<String, Value> {
    let user_claims = read_json(&case.path.join("user_claims.json"));
    let user_claims = user_claims.as_object().expect("an object");
    let spec_claims = yaml_get(&case.spec, "user_claims").expect("user_claims");
    assert_eq!(
        &yaml_to_json(spec_claims),
        &Value::Object(user_claims.clone()),
        "{}",
        case.name
    );
    let mut claims = Map::new();
    claims.insert("iss".to_owned(), Value::from(settings.iss.clone()));
    claims.insert("iat".to_owned(), Value::from(settings.iat));
    claims.insert("exp".to_owned(), Value::from(settings.exp));
    claims.extend(user_claims.clone());
    claims
}

#[test]
fn issuer_reproduces_every_payload_and_disclosure() {
    let settings = settings();
    for case in cases() {
        let claims = claims_of(&case, &settings);
        let policy = policy_from_yaml(yaml_get(&case.spec, "user_claims").expect("user_claims"));
        let expected_disclosures = disclosures_of(&case.serialized.issued_compact);
        let mut salts = expected_disclosures
            .iter()
            .map(|d| Disclosure::parse(d).expect("disclosure").salt().to_owned());
        let mut header = Map::new();
        header.insert("typ".to_owned(), Value::from("example+sd-jwt"));
        if let Some(extra) = yaml_get(&case.spec, "extra_header_parameters") {
            let extra = serde_json::to_value(extra).expect("plain YAML");
            header.extend(extra.as_object().expect("a mapping").clone());
        }
        let holder_key = settings.holder.public_jwk();
        let request = IssueRequest {
            claims: &claims,
            policy: &policy,
            header: &header,
            holder_key: case.key_binding.then_some(&holder_key),
            style: JsonStyle::Spaced,
        };
        let mut next_salt = || {
            salts
                .next()
                .expect("the case has a salt for every disclosure")
        };
        let issued = issue(&request, &settings.issuer, &mut next_salt)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(
            Value::Object(issued.payload.clone()),
            read_json(&case.path.join("sd_jwt_payload.json")),
            "{}: payload",
            case.name
        );
        assert_eq!(
            disclosures_of(&issued.sd_jwt),
            expected_disclosures,
            "{}: disclosures",
            case.name
        );
        assert!(salts.next().is_none(), "{}: every salt is used", case.name);

        // What was issued verifies (the signature differs: ES256 with another nonce).
        let jwt = issued.sd_jwt.split('~').next().expect("JWT");
        let (got_header, _) = verify_compact(jwt, &settings.issuer.public_jwk()).expect("signed");
        let mut expected_header = header.clone();
        expected_header.insert("alg".to_owned(), Value::from("ES256"));
        assert_eq!(got_header, expected_header, "{}: header", case.name);
    }
}

/// The JSON cases' presentation without its Key Binding JWT (whose `sd_hash` predates RFC
/// 9901, see `json_serialization_key_binding_uses_the_pre_rfc_sd_hash`).
fn without_kb_jwt(json_presentation: &str) -> String {
    let mut value: Value = serde_json::from_str(json_presentation).expect("JSON");
    let object = value.as_object_mut().expect("an object");
    assert!(
        object.remove("kb_jwt").is_some(),
        "the JSON cases are key-bound"
    );
    value.to_string()
}

#[test]
fn verifier_yields_every_verified_contents() {
    let settings = settings();
    for case in cases() {
        let mut options = VerifyOptions::new(KB_IAT);
        let presentation = if case.serialized.json {
            without_kb_jwt(&case.serialized.presentation)
        } else {
            if case.key_binding {
                options = options.with_key_binding(&settings.nonce, &settings.verifier);
            }
            case.serialized.presentation.clone()
        };
        let verified = verify(&presentation, &settings.issuer.public_jwk(), &options)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(
            verified.claims,
            read_json(&case.path.join("verified_contents.json")),
            "{}",
            case.name
        );
        assert_eq!(
            verified.key_binding.is_some(),
            case.key_binding && !case.serialized.json
        );
        if let Some(kb) = &verified.key_binding {
            assert_eq!(
                (kb.iat, kb.nonce.as_str()),
                (KB_IAT, settings.nonce.as_str())
            );
        }
    }
}

/// sd-jwt-python 0.10 computed a JSON-serialized presentation's `sd_hash` over the issued
/// JSON text, which the verifier never sees; RFC 9901 section 8.1 takes it over the
/// compact form. The vectors' Key Binding JWTs are still checked for everything else.
#[test]
fn json_serialization_key_binding_uses_the_pre_rfc_sd_hash() {
    let settings = settings();
    for case in cases().into_iter().filter(|case| case.serialized.json) {
        let options =
            VerifyOptions::new(KB_IAT).with_key_binding(&settings.nonce, &settings.verifier);
        assert_eq!(
            verify(
                &case.serialized.presentation,
                &settings.issuer.public_jwk(),
                &options
            ),
            Err(SdJwtError::SdHashMismatch),
            "{}",
            case.name
        );
        let issued_json = read_json(&case.path.join("sd_jwt_issuance.json"));
        let presented = SdJwt::parse(&json_to_compact(
            &serde_json::from_str(&case.serialized.presentation).expect("JSON"),
        ))
        .expect("compact");
        let mut old_input = text(&issued_json).to_owned();
        for disclosure in &presented.disclosures {
            old_input.push('~');
            old_input.push_str(disclosure);
        }
        old_input.push('~');
        let kb_payload = read_json(&case.path.join("kb_jwt_payload.json"));
        assert_eq!(
            text(&kb_payload["sd_hash"]),
            b64url_sha256(old_input.as_bytes()),
            "{}",
            case.name
        );
        // Signature, typ, nonce and audience of the vector's KB-JWT are valid.
        let kb = presented.key_binding_jwt.expect("a KB-JWT");
        let (header, payload) =
            verify_compact(&kb, &settings.holder.public_jwk()).expect("holder-signed");
        assert_eq!(
            Value::Object(header),
            read_json(&case.path.join("kb_jwt_header.json"))
        );
        assert_eq!(Value::Object(payload), kb_payload);
        // A verifier expecting no key binding refuses the presentation that has one.
        assert_eq!(
            verify(
                &case.serialized.presentation,
                &settings.issuer.public_jwk(),
                &VerifyOptions::new(KB_IAT)
            ),
            Err(SdJwtError::UnexpectedKeyBinding)
        );
    }
}

#[test]
fn holder_selects_the_cases_disclosures() {
    let settings = settings();
    for case in cases() {
        let mut selection = Vec::new();
        if let Some(chosen) = yaml_get(&case.spec, "holder_disclosed_claims") {
            selection_from_yaml(chosen, &mut Vec::new(), &mut selection);
        }
        let presentation = present(&case.serialized.issued_compact, &selection, None)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let ours: BTreeSet<String> = disclosures_of(&presentation).into_iter().collect();
        let presented = if case.serialized.json {
            json_to_compact(&serde_json::from_str(&case.serialized.presentation).expect("JSON"))
        } else {
            case.serialized.presentation.clone()
        };
        let theirs: BTreeSet<String> = disclosures_of(&presented).into_iter().collect();
        assert_eq!(ours, theirs, "{}", case.name);

        let listed = list_disclosures(&case.serialized.issued_compact).expect("listed");
        assert_eq!(
            listed.len(),
            disclosures_of(&case.serialized.issued_compact).len()
        );

        if case.key_binding {
            let request = KeyBindingRequest {
                signer: &settings.holder,
                audience: &settings.verifier,
                nonce: &settings.nonce,
                issued_at: KB_IAT,
            };
            let bound = present(&case.serialized.issued_compact, &selection, Some(&request))
                .expect("key-bound presentation");
            let options =
                VerifyOptions::new(KB_IAT).with_key_binding(&settings.nonce, &settings.verifier);
            let verified = verify(&bound, &settings.issuer.public_jwk(), &options).expect("valid");
            assert_eq!(
                verified.claims,
                read_json(&case.path.join("verified_contents.json")),
                "{}",
                case.name
            );
        }
    }
}

fn case(name: &str) -> Case {
    cases()
        .into_iter()
        .find(|case| case.name == name)
        .expect("known case")
}

fn kb_options(settings: &Settings) -> VerifyOptions {
    VerifyOptions::new(KB_IAT).with_key_binding(&settings.nonce, &settings.verifier)
}

#[test]
fn vector_negative_cases() {
    let settings = settings();
    let issuer = settings.issuer.public_jwk();
    let good = case("key_binding").serialized.presentation;
    let options = kb_options(&settings);
    assert!(verify(&good, &issuer, &options).is_ok());
    let parsed = SdJwt::parse(&good).expect("compact");

    // A disclosure whose value was changed ("Doe" to "Roe").
    let mut tampered = parsed.clone();
    let original = Disclosure::parse(&tampered.disclosures[0]).expect("disclosure");
    let altered = Disclosure::new(
        original.salt(),
        original.name(),
        &Value::from("Roe"),
        JsonStyle::Spaced,
    );
    tampered.disclosures[0] = altered.encoded().to_owned();
    assert!(matches!(
        verify(&tampered.to_compact(), &issuer, &options),
        Err(SdJwtError::UnreferencedDisclosure { .. })
    ));

    // A disclosure from elsewhere.
    let mut foreign = parsed.clone();
    let stranger = Disclosure::new(
        "c2FsdHNhbHRzYWx0",
        Some("role"),
        &Value::from("admin"),
        JsonStyle::Compact,
    );
    foreign.disclosures.push(stranger.encoded().to_owned());
    assert_eq!(
        verify(&foreign.to_compact(), &issuer, &options),
        Err(SdJwtError::UnreferencedDisclosure {
            digest: stranger.digest().to_owned()
        })
    );

    // The same disclosure twice.
    let mut twice = parsed.clone();
    twice.disclosures.push(twice.disclosures[0].clone());
    assert!(matches!(
        verify(&twice.to_compact(), &issuer, &options),
        Err(SdJwtError::DuplicateDisclosure { .. })
    ));

    // A disclosure dropped after the KB-JWT was signed.
    let mut dropped = parsed.clone();
    dropped.disclosures.pop();
    assert_eq!(
        verify(&dropped.to_compact(), &issuer, &options),
        Err(SdJwtError::SdHashMismatch)
    );

    // Wrong nonce, wrong audience.
    let wrong_nonce = VerifyOptions::new(KB_IAT).with_key_binding("other", &settings.verifier);
    assert!(matches!(
        verify(&good, &issuer, &wrong_nonce),
        Err(SdJwtError::WrongNonce { .. })
    ));
    let wrong_aud =
        VerifyOptions::new(KB_IAT).with_key_binding(&settings.nonce, "https://evil.example");
    assert!(matches!(
        verify(&good, &issuer, &wrong_aud),
        Err(SdJwtError::WrongAudience { .. })
    ));

    // Expired, issued in the future, KB-JWT too old.
    let mut late = kb_options(&settings);
    late.now = settings.exp + 61;
    assert!(matches!(
        verify(&good, &issuer, &late),
        Err(SdJwtError::Expired { .. })
    ));
    let mut early = kb_options(&settings);
    early.now = settings.iat - 61;
    assert!(matches!(
        verify(&good, &issuer, &early),
        Err(SdJwtError::IssuedInFuture { .. })
    ));
    let mut stale = kb_options(&settings);
    stale.now = KB_IAT + 3600;
    assert!(matches!(
        verify(&good, &issuer, &stale),
        Err(SdJwtError::KeyBindingIatOutOfWindow { .. })
    ));

    // A bad issuer signature, and the wrong issuer key.
    let mut forged = parsed.clone();
    let (input, signature) = forged.issuer_jwt.rsplit_once('.').expect("JWS");
    let mut sig = b64url_decode(signature, "sig").expect("base64url");
    sig[10] ^= 1;
    forged.issuer_jwt = format!("{input}.{}", simin_identity::jose::b64url_encode(&sig));
    assert_eq!(
        verify(&forged.to_compact(), &issuer, &options),
        Err(SdJwtError::BadIssuerSignature)
    );
    assert_eq!(
        verify(&good, &settings.holder.public_jwk(), &options),
        Err(SdJwtError::BadIssuerSignature)
    );

    // Key binding required, none presented.
    let mut unbound = parsed.clone();
    unbound.key_binding_jwt = None;
    assert_eq!(
        verify(&unbound.to_compact(), &issuer, &options),
        Err(SdJwtError::KeyBindingMissing)
    );
    assert!(verify(&unbound.to_compact(), &issuer, &VerifyOptions::new(KB_IAT)).is_ok());
    assert_eq!(
        verify(&good, &issuer, &VerifyOptions::new(KB_IAT)),
        Err(SdJwtError::UnexpectedKeyBinding)
    );

    // A KB-JWT signed by another key, and one with the wrong typ.
    let sd_hash = b64url_sha256(unbound.sd_hash_input().as_bytes());
    let kb = |typ: &str, signer: &JwsSigner| {
        let mut header = Map::new();
        header.insert("typ".to_owned(), Value::from(typ));
        let payload = serde_json::json!({
            "nonce": settings.nonce, "aud": settings.verifier, "iat": KB_IAT, "sd_hash": sd_hash
        });
        let mut with_kb = unbound.clone();
        with_kb.key_binding_jwt = Some(sign_compact_json(
            &header,
            payload.as_object().expect("object"),
            signer,
        ));
        with_kb.to_compact()
    };
    assert!(verify(&kb("kb+jwt", &settings.holder), &issuer, &options).is_ok());
    assert_eq!(
        verify(&kb("kb+jwt", &settings.issuer), &issuer, &options),
        Err(SdJwtError::BadKeyBindingSignature)
    );
    assert!(matches!(
        verify(&kb("JWT", &settings.holder), &issuer, &options),
        Err(SdJwtError::KeyBindingWrongType { .. })
    ));

    // The typ an SD-JWT VC verifier requires.
    let mut vc = kb_options(&settings);
    vc.expected_typ = Some("dc+sd-jwt".to_owned());
    assert!(matches!(
        verify(&good, &issuer, &vc),
        Err(SdJwtError::WrongType { .. })
    ));
}

#[test]
fn a_nested_disclosure_without_its_parent_is_refused() {
    let settings = settings();
    let recursions = case("recursions");
    let issued = SdJwt::parse(&recursions.serialized.issued_compact).expect("compact");
    // The snake's "age" (["animals", "snake", "age"]) without the "snake" disclosure.
    let listed = list_disclosures(&recursions.serialized.issued_compact).expect("listed");
    let path = |p: &[&str]| -> ClaimPath { p.iter().map(|s| PathElement::from(*s)).collect() };
    let age = listed
        .iter()
        .find(|d| d.path == path(&["animals", "snake", "age"]))
        .expect("age");
    let orphan = SdJwt {
        issuer_jwt: issued.issuer_jwt.clone(),
        disclosures: vec![age.disclosure.encoded().to_owned()],
        key_binding_jwt: None,
    };
    assert_eq!(
        verify(
            &orphan.to_compact(),
            &settings.issuer.public_jwk(),
            &VerifyOptions::new(KB_IAT)
        ),
        Err(SdJwtError::UnreferencedDisclosure {
            digest: age.disclosure.digest().to_owned()
        })
    );
}

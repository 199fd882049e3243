//! The OpenAPI document lists every route, resolves, and matches the JSON actually sent.

mod common;

use std::collections::BTreeSet;

use common::{app, get, Fixture};
use serde_json::Value;

/// Every operation the API serves, as (method, path).
const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/v1/status"),
    ("post", "/v1/txs"),
    ("get", "/v1/txs/{hash}"),
    ("get", "/v1/blocks"),
    ("get", "/v1/blocks/latest"),
    ("get", "/v1/blocks/{height}"),
    ("get", "/v1/state/{key}"),
    ("get", "/v1/notary/{document_hash}"),
    ("get", "/v1/dids/{did}"),
    ("get", "/v1/issuers/{issuer}"),
    ("get", "/v1/schemas/{credential_type}"),
    ("get", "/v1/status-lists/{issuer}/{list}"),
    ("get", "/v1/status-lists/{issuer}/{list}/{index}"),
    ("post", "/v1/presentations/verify"),
    ("get", "/v1/services"),
    ("get", "/v1/services/{client_id}"),
    ("get", "/v1/access-log/{subject}"),
    ("post", "/v1/data/batches"),
    ("get", "/v1/data/{dataset}/readings"),
    ("get", "/v1/data/{dataset}/aggregate"),
    ("get", "/v1/data/{dataset}/export.csv"),
    ("get", "/v1/data/{dataset}/export.json"),
    (
        "get",
        "/v1/data/{dataset}/readings/{source}/{seq}/{index}/proof",
    ),
    ("get", "/v1/records/{id}"),
    ("get", "/v1/records/{id}/consents"),
    ("post", "/credentials/verify"),
    ("post", "/presentations/verify"),
    ("get", "/metrics"),
    ("get", "/healthz"),
    ("get", "/openapi.json"),
];

async fn served_doc() -> Value {
    let (app, _) = app();
    let reply = get(&app, "/openapi.json").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), "application/json");
    reply.json()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_lists_every_route() {
    let doc = served_doc().await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    let mut listed = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths is an object") {
        for method in item.as_object().expect("a path item is an object").keys() {
            listed.insert((method.clone(), path.clone()));
        }
    }
    let expected: BTreeSet<(String, String)> = OPERATIONS
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(listed, expected);
}

/// Collects every `$ref` in `value`.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn every_reference_resolves() {
    let doc = served_doc().await;
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .expect("only schema references");
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{r} does not resolve"
        );
    }
}

/// Checks `value` against `schema` for the parts of JSON Schema the document uses; returns
/// the first mismatch as a path and a reason.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        return check(doc, &doc["components"]["schemas"][name], value, at);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            return match options.iter().any(|s| check(doc, s, value, at).is_ok()) {
                true => Ok(()),
                false => Err(format!("{at}: matches no option of {key}: {value}")),
            };
        }
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        return parts.iter().try_for_each(|s| check(doc, s, value, at));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let actual = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let number_ok = actual == "integer" && types.contains(&"number");
    if !(types.is_empty() || types.contains(&actual) || number_ok) {
        return Err(format!("{at}: is {actual}, schema says {types:?}"));
    }
    if let (Some(allowed), Some(v)) = (schema.get("enum").and_then(Value::as_array), value.as_str())
    {
        if !allowed.iter().any(|a| a == v) {
            return Err(format!("{at}: {v:?} is not one of {allowed:?}"));
        }
    }
    match value {
        Value::Object(map) => {
            let props = schema["properties"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            for (key, v) in map {
                let sub = props
                    .get(key)
                    .ok_or_else(|| format!("{at}.{key}: not in the schema"))?;
                check(doc, sub, v, &format!("{at}.{key}"))?;
            }
            for required in schema["required"].as_array().into_iter().flatten() {
                let key = required.as_str().unwrap_or_default();
                if !map.contains_key(key) {
                    return Err(format!("{at}.{key}: required but absent"));
                }
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check(doc, &schema["items"], v, &format!("{at}[{i}]"))),
        _ => Ok(()),
    }
}

/// A service and one access record of subject `YWxpY2U`, as the ledger stores them.
fn seed_auth(backend: &common::FakeBackend) {
    use simin_types::{encode, state_keys, AccessEntry, AccessKind, AccessRecord, BlockTime};
    let org = simin_types::OrgId::new("mapo.library").expect("a valid id");
    let registration = simin_types::ServiceRegistration {
        client_id: "mapo.portal".into(),
        organization: org.clone(),
        name: "Mapo Library Portal".into(),
        redirect_uris: vec!["https://library.mapo.go.kr/callback".into()],
        scopes: vec!["profile".into()],
        secret_hash: None,
        active: true,
    };
    let record = AccessRecord {
        entry: AccessEntry {
            kind: AccessKind::Login,
            client_id: "mapo.portal".into(),
            subject: "YWxpY2U".into(),
            claims: vec!["name".into()],
            commitment: simin_types::Hash::digest(b"id token"),
            released_at: BlockTime(1_700_000_000_000),
        },
        provider: org,
        height: simin_types::Height(1),
        block_time: BlockTime(1_700_000_000_500),
    };
    let mut values = backend.values.lock().expect("not poisoned");
    values.insert(
        state_keys::services(),
        encode(&vec!["mapo.portal".to_owned()]),
    );
    values.insert(state_keys::service("mapo.portal"), encode(&registration));
    values.insert(state_keys::access_record("YWxpY2U", 0), encode(&record));
    values.insert(state_keys::access_count("YWxpY2U"), encode(&1u64));
}

#[tokio::test]
async fn json_of_every_dto_matches_its_schema() {
    let doc = served_doc().await;
    let (app, backend) = app();
    let f = Fixture::new();
    let tx = f.block.txs[1].hash();
    let samples = [
        ("NodeStatus", "/v1/status".to_owned()),
        ("BlockLookup", "/v1/blocks/1".to_owned()),
        ("BlockList", "/v1/blocks".to_owned()),
        ("TxLookup", format!("/v1/txs/{tx}")),
        (
            "StateLookup",
            "/v1/state/70726573656e74?prove=true".to_owned(),
        ),
        ("StateLookup", "/v1/state/00".to_owned()),
        (
            "NotaryProof",
            format!("/v1/notary/{}", f.batch_documents[0]),
        ),
        ("NotaryProof", format!("/v1/notary/{}", f.single_document)),
        ("Problem", "/v1/blocks/99".to_owned()),
        ("ServiceList", "/v1/services".to_owned()),
        ("ServiceLookup", "/v1/services/mapo.portal".to_owned()),
        ("AccessLog", "/v1/access-log/YWxpY2U".to_owned()),
    ];
    seed_auth(&backend);
    for (name, uri) in samples {
        let body = get(&app, &uri).await.json();
        let schema = serde_json::json!({ "$ref": format!("#/components/schemas/{name}") });
        check(&doc, &schema, &body, name).unwrap_or_else(|e| panic!("{uri}: {e}"));
    }
    let governance_calls = [
        simin_types::GovernanceCall::DeactivateOrganization {
            id: simin_types::OrgId::new("old.org").expect("a valid id"),
        },
        simin_types::GovernanceCall::SetValidator {
            public_key: f.block.txs[0].tx.signer,
            voting_power: 3,
        },
    ];
    for call in governance_calls {
        let mut governance = f.block.txs[0].clone();
        governance.tx.call = simin_types::Call::Governance(call);
        let tx = serde_json::to_value(&governance).expect("a tx serializes");
        check(
            &doc,
            &serde_json::json!({ "$ref": "#/components/schemas/SignedTx" }),
            &tx,
            "SignedTx",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let auth_calls = [
        simin_types::AuthCall::DeregisterService {
            client_id: "mapo.portal".into(),
        },
        simin_types::AuthCall::RegisterService(simin_types::ServiceRegistration {
            client_id: "mapo.portal".into(),
            organization: simin_types::OrgId::new("mapo.library").expect("a valid id"),
            name: "Mapo Library Portal".into(),
            redirect_uris: vec!["http://127.0.0.1:3000/cb".into()],
            scopes: vec![],
            secret_hash: Some(simin_types::Hash::digest(b"secret")),
            active: true,
        }),
        simin_types::AuthCall::RecordAccess {
            entries: vec![simin_types::AccessEntry {
                kind: simin_types::AccessKind::Verification,
                client_id: "mapo.portal".into(),
                subject: "YWxpY2U".into(),
                claims: vec!["name".into()],
                commitment: simin_types::Hash::digest(b"token"),
                released_at: simin_types::BlockTime(1),
            }],
        },
    ];
    for call in auth_calls {
        let mut auth = f.block.txs[0].clone();
        auth.tx.call = simin_types::Call::Auth(call);
        let tx = serde_json::to_value(&auth).expect("a tx serializes");
        check(
            &doc,
            &serde_json::json!({ "$ref": "#/components/schemas/SignedTx" }),
            &tx,
            "SignedTx",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    drop(backend);

    // The checker itself must catch drift: an unknown field and a wrong type both fail.
    let status = serde_json::json!({ "$ref": "#/components/schemas/NodeStatus" });
    let mut body = get(&app, "/v1/status").await.json();
    body["renamed_field"] = Value::from(1);
    assert!(check(&doc, &status, &body, "NodeStatus").is_err());
    let mut body = get(&app, "/v1/status").await.json();
    body["latest_height"] = Value::from("1");
    assert!(check(&doc, &status, &body, "NodeStatus").is_err());
}

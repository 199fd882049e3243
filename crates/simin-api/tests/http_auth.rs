//! The service registry and access log routes over a backend double holding real state
//! values: what they show, what they hide, and how they refuse.

mod common;

use common::{app, get, FakeBackend};
use simin_api::dto::{AccessLog, ServiceList, ServiceLookup};
use simin_types::{
    encode, state_keys, AccessEntry, AccessKind, AccessRecord, BlockTime, Hash, Height, OrgId,
    ServiceRegistration,
};

const SUBJECT: &str = "YWxpY2UtbWFwbw";

fn registration(client_id: &str, secret: bool, active: bool) -> ServiceRegistration {
    ServiceRegistration {
        client_id: client_id.into(),
        organization: OrgId::new("mapo.library").expect("a valid id"),
        name: "Mapo Library Portal".into(),
        redirect_uris: vec!["https://library.mapo.go.kr/callback".into()],
        scopes: vec!["profile".into()],
        secret_hash: secret.then(|| Hash::digest(b"secret")),
        active,
    }
}

/// Two services and three access records of `SUBJECT`, as the ledger would store them.
fn seed(backend: &FakeBackend) {
    let mut values = backend.values.lock().expect("not poisoned");
    let services = ["mapo.portal", "mapo.kiosk"];
    values.insert(
        state_keys::services(),
        encode(&services.map(String::from).to_vec()),
    );
    values.insert(
        state_keys::service("mapo.portal"),
        encode(&registration("mapo.portal", true, true)),
    );
    values.insert(
        state_keys::service("mapo.kiosk"),
        encode(&registration("mapo.kiosk", false, false)),
    );
    for seq in 0..3u64 {
        let record = AccessRecord {
            entry: AccessEntry {
                kind: if seq == 2 {
                    AccessKind::Verification
                } else {
                    AccessKind::Login
                },
                client_id: "mapo.portal".into(),
                subject: SUBJECT.into(),
                claims: vec!["age_over_19".into(), "name".into()],
                commitment: Hash::digest(&seq.to_le_bytes()),
                released_at: BlockTime(1_700_000_000_000 + seq),
            },
            provider: OrgId::new("seoul.citizen-auth").expect("a valid id"),
            height: Height(1),
            block_time: BlockTime(1_700_000_001_000),
        };
        values.insert(state_keys::access_record(SUBJECT, seq), encode(&record));
    }
    values.insert(state_keys::access_count(SUBJECT), encode(&3u64));
}

#[tokio::test]
async fn services_are_listed_without_their_secret() {
    let (app, backend) = app();
    let empty = get(&app, "/v1/services").await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.json()["services"], serde_json::json!([]));
    seed(&backend);

    let reply = get(&app, "/v1/services").await;
    assert_eq!(reply.status, 200);
    let text = String::from_utf8_lossy(&reply.body);
    assert!(!text.contains("secret"), "{text}");
    let list: ServiceList = serde_json::from_value(reply.json()).expect("a ServiceList");
    let ids: Vec<&str> = list.services.iter().map(|s| s.client_id.as_str()).collect();
    assert_eq!(ids, ["mapo.portal", "mapo.kiosk"]);
    assert!(list.services[0].confidential && list.services[0].active);
    assert!(!list.services[1].confidential && !list.services[1].active);

    let one = get(&app, "/v1/services/mapo.portal").await;
    assert_eq!(one.status, 200);
    let lookup: ServiceLookup = serde_json::from_value(one.json()).expect("a ServiceLookup");
    assert_eq!(lookup.organization, "mapo.library");
    assert_eq!(lookup.height, 1);
    assert_eq!(
        lookup.redirect_uris,
        ["https://library.mapo.go.kr/callback"]
    );

    get(&app, "/v1/services/mapo.nothing")
        .await
        .assert_problem(404, "not-found");
    get(&app, "/v1/services/Not%20Valid")
        .await
        .assert_problem(400, "invalid-parameter");
}

#[tokio::test]
async fn the_access_log_pages_a_subjects_records() {
    let (app, backend) = app();
    seed(&backend);
    let reply = get(&app, &format!("/v1/access-log/{SUBJECT}")).await;
    assert_eq!(reply.status, 200);
    let log: AccessLog = serde_json::from_value(reply.json()).expect("an AccessLog");
    assert_eq!((log.subject.as_str(), log.count), (SUBJECT, 3));
    assert_eq!(
        log.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!(log.records[2].kind, AccessKind::Verification);
    assert_eq!(log.records[0].released_at, "2023-11-14T22:13:20Z");
    assert_eq!(log.records[0].provider, "seoul.citizen-auth");
    assert_eq!(log.records[0].block_time, 1_700_000_001_000);
    assert_eq!(
        reply.json()["records"][1]["commitment"],
        Hash::digest(&1u64.to_le_bytes()).to_hex()
    );

    let page: AccessLog = serde_json::from_value(
        get(&app, &format!("/v1/access-log/{SUBJECT}?from=1&limit=1"))
            .await
            .json(),
    )
    .expect("an AccessLog");
    assert_eq!(page.count, 3);
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].seq, 1);

    // An unknown subject has an empty log; a malformed one or query is refused.
    let unknown: AccessLog =
        serde_json::from_value(get(&app, "/v1/access-log/bm9ib2R5").await.json())
            .expect("an AccessLog");
    assert_eq!((unknown.count, unknown.records.len()), (0, 0));
    for uri in [
        "/v1/access-log/not=base64url",
        &format!("/v1/access-log/{}", "a".repeat(65)),
        &format!("/v1/access-log/{SUBJECT}?from=x"),
        &format!("/v1/access-log/{SUBJECT}?page=2"),
    ] {
        get(&app, uri)
            .await
            .assert_problem(400, "invalid-parameter");
    }
}

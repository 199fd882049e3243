//! The service registry and the access log through a real node, its HTTP API and the
//! client: the devnet library registers a service, the devnet identity provider records
//! logins for it, and the log reads back in order per pairwise subject.

mod common;

use common::{body, get, one_validator_devnet, post, wait_for_height, Signer};
use simin_client::Client;
use simin_node::devnet_identity::{org_key_paths, DEVNET_IDENTITY_PROVIDER};
use simin_types::{
    AccessEntry, AccessKind, AuthCall, BlockTime, Call, ChainId, Hash, Height, OrgId,
    ServiceRegistration, SigningKey, Tx,
};

fn read_key(path: &std::path::Path) -> SigningKey {
    SigningKey::from_hex(std::fs::read_to_string(path).expect("a key file").trim())
        .expect("a hex key")
}

fn login(subject: &str, claims: &[&str], n: u8) -> AccessEntry {
    AccessEntry {
        kind: AccessKind::Login,
        client_id: "mapo.portal".into(),
        subject: subject.into(),
        claims: claims.iter().map(|c| (*c).to_owned()).collect(),
        commitment: Hash::digest(&[n]),
        released_at: BlockTime(1_700_000_000_000 + u64::from(n)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_register_and_logins_are_logged_through_the_api() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (layout, api) = one_validator_devnet(dir.path());
    let base = format!("http://{api}");
    let node = simin_node::start(&layout.homes[0])
        .await
        .expect("node starts");
    wait_for_height(&base, 1).await;
    let client = Client::new(&base).expect("a client");
    let keys = layout.authority_key.parent().expect("a keys directory");
    let mut library = Signer::new(read_key(&org_key_paths(keys, "mapo.library").0));
    let mut provider = Signer::new(read_key(&org_key_paths(keys, DEVNET_IDENTITY_PROVIDER).0));

    // The provider has a DID from genesis but, issuing nothing, no accreditation.
    let (status, _) = get(&format!(
        "{base}/v1/dids/did:simin:{DEVNET_IDENTITY_PROVIDER}"
    ))
    .await;
    assert_eq!(status, 200);
    let (status, _) = get(&format!("{base}/v1/issuers/{DEVNET_IDENTITY_PROVIDER}")).await;
    assert_eq!(status, 404);

    assert_eq!(client.services().await.expect("a list").services, vec![]);
    assert!(client
        .service("mapo.portal")
        .await
        .expect("answers")
        .is_none());
    let registration = ServiceRegistration {
        client_id: "mapo.portal".into(),
        organization: OrgId::new("mapo.library").expect("valid id"),
        name: "Mapo Library Portal".into(),
        redirect_uris: vec![
            "https://library.mapo.go.kr/oidc/callback".into(),
            "http://127.0.0.1:3000/callback".into(),
        ],
        scopes: vec!["profile".into(), "age_over_19".into()],
        secret_hash: Some(Hash::digest(b"a secret of at least 32 bytes...")),
        active: true,
    };
    let registered_at = library
        .succeed(
            &base,
            Call::Auth(AuthCall::RegisterService(registration.clone())),
        )
        .await;
    let lookup = client
        .service("mapo.portal")
        .await
        .expect("answers")
        .expect("registered");
    assert_eq!(lookup.organization, "mapo.library");
    assert_eq!(lookup.redirect_uris, registration.redirect_uris);
    assert_eq!(lookup.scopes, registration.scopes);
    assert!(lookup.confidential && lookup.active);
    assert!(lookup.height >= registered_at);
    let (_, raw) = get(&format!("{base}/v1/services/mapo.portal")).await;
    assert!(raw.get("secret_hash").is_none(), "{raw}");
    let listed = client.services().await.expect("a list");
    assert_eq!(listed.services.len(), 1);
    assert_eq!(listed.services[0].client_id, "mapo.portal");

    // Only the identity provider records access; the library's attempt is refused at
    // admission (ADR 0011) and never reaches a block.
    let (alice, bob) = ("YWxpY2UtbWFwbw", "Ym9iLW1hcG8");
    let attempt = Tx {
        chain_id: ChainId::new(simin_node::devnet::DEVNET_CHAIN_ID).expect("valid id"),
        signer: library.key.public_key(),
        nonce: library.nonce,
        expiry_height: Height(100_000),
        call: Call::Auth(AuthCall::RecordAccess {
            entries: vec![login(alice, &["name"], 0)],
        }),
    }
    .sign(&library.key);
    let (status, refused) = post(&format!("{base}/v1/txs"), &body(&attempt)).await;
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["type"]
            .as_str()
            .unwrap_or_default()
            .ends_with("not-authorized"),
        "{refused}"
    );
    let detail = refused["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("auth.not_an_identity_provider"),
        "{refused}"
    );
    let first = provider
        .succeed(
            &base,
            Call::Auth(AuthCall::RecordAccess {
                entries: vec![
                    login(alice, &["age_over_19", "name"], 1),
                    login(bob, &["name"], 2),
                ],
            }),
        )
        .await;
    let second = provider
        .succeed(
            &base,
            Call::Auth(AuthCall::RecordAccess {
                entries: vec![login(alice, &["name"], 3)],
            }),
        )
        .await;

    let log = client.access_log(alice, 0, 100).await.expect("a log");
    assert_eq!(log.count, 2);
    let seqs: Vec<u64> = log.records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [0, 1]);
    assert_eq!(log.records[0].claims, ["age_over_19", "name"]);
    assert_eq!(log.records[0].commitment, Hash::digest(&[1]));
    assert_eq!(log.records[0].provider, DEVNET_IDENTITY_PROVIDER);
    assert_eq!(
        (log.records[0].height, log.records[1].height),
        (first, second)
    );
    assert_eq!(log.records[1].released_at, "2023-11-14T22:13:20.003Z");
    let bobs = client.access_log(bob, 0, 100).await.expect("a log");
    assert_eq!(bobs.count, 1);
    assert_eq!(bobs.records[0].claims, ["name"]);
    let page = client.access_log(alice, 1, 1).await.expect("a log");
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].seq, 1);

    let (status, problem) = get(&format!("{base}/v1/access-log/not%2Fbase64")).await;
    assert_eq!(status, 400, "{problem}");
    let (status, _) = get(&format!("{base}/v1/services/mapo.nothing")).await;
    assert_eq!(status, 404);

    node.shutdown().await;
}

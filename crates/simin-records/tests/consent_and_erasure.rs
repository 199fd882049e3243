//! A personal record's life end to end, over HTTP, against a real one-validator devnet:
//! the family-welfare office files a citizen's welfare application; the citizen grants
//! the sports centre consent for `eligibility_check`; the centre reads (logged); the
//! citizen revokes; the centre's second read is refused on chain and by the vault; the
//! citizen erases the record; the content is gone (410) while the commitment and the log
//! remain, and no personal data is in any state value or file of the node.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use simin_client::dto::{SubmitStatus, TxLookup};
use simin_client::Client;
use simin_node::devnet::{self, DevnetSpec};
use simin_node::devnet_identity::org_key_paths;
use simin_records::{read_request_bytes, Vault, VaultConfig, VaultSecrets};
use simin_types::{
    state_keys, BlockTime, Call, Consent, DataCall, Hash, Height, OrgId, PersonalRecord,
    RecordEvent, RecordLogEntry, SigningKey, Tx, TxOutcome,
};

const ADMIN_TOKEN: &str = "vault-admin-token-for-tests-0123";
const HOLDER: &str = "seoul.family-welfare";
const READER: &str = "seoul.sports-centre";
const PURPOSE: &str = "eligibility_check";
/// Strings of the record's content that must never reach the chain.
const PERSONAL: [&str; 3] = [
    "Hong Gildong-7731",
    "Mapo-gu Seongsan-ro 88",
    "900517-1234567",
];

/// A loopback port free right now, with its `+ 100` neighbour (a devnet's peer port),
/// below Linux's ephemeral range (32768 and up): binding port 0 gave ephemeral ports,
/// which outgoing connections of parallel tests could take before the server bound them.
fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    for _ in 0..1_000 {
        // RandomState is seeded afresh per instance: a random start in every process.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        let offset = u16::try_from(hasher.finish() % 9_800).expect("below 9,800 fits in u16");
        let port = 2_000 + offset;
        if free(port) && free(port + 100) {
            return port;
        }
    }
    panic!("no free loopback port below the ephemeral range");
}

fn load_key(path: &std::path::Path) -> SigningKey {
    SigningKey::from_hex(std::fs::read_to_string(path).expect("key file").trim()).expect("a key")
}

/// Signs `call` with `key` and submits it, waiting for its commit. A transaction the
/// node refuses at admission gives `Err(problem)`; an included one its lookup.
async fn send(client: &Client, key: &SigningKey, call: DataCall) -> Result<TxLookup, String> {
    let status = client.status().await.expect("status");
    let nonce = client
        .account_next_nonce(&key.public_key())
        .await
        .expect("nonce");
    let tx = Tx {
        chain_id: status.chain_id,
        signer: key.public_key(),
        nonce,
        expiry_height: Height(status.latest_height.0 + 100),
        call: Call::Data(call),
    }
    .sign(key);
    let response = client.submit(&tx, true).await.map_err(|e| e.to_string())?;
    assert_eq!(
        response.status,
        SubmitStatus::Committed,
        "not committed in time"
    );
    Ok(response
        .committed
        .expect("a committed transaction has its lookup"))
}

fn succeeded(lookup: &TxLookup) {
    assert_eq!(
        lookup.receipt.outcome,
        TxOutcome::Success,
        "{:?}",
        lookup.receipt
    );
}

async fn post(http: &reqwest::Client, url: &str, body: Value, token: Option<&str>) -> (u16, Value) {
    let mut request = http.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the vault answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

/// The reader logs an access on chain, then asks the vault with that transaction.
async fn read(
    client: &Client,
    http: &reqwest::Client,
    vault: &str,
    reader_key: &SigningKey,
    record: Hash,
) -> (Result<TxLookup, String>, u16, Value) {
    let logged = send(
        client,
        reader_key,
        DataCall::LogAccess {
            record,
            purpose: PURPOSE.into(),
        },
    )
    .await;
    let tx_hash = match &logged {
        Ok(lookup) => lookup.hash,
        // Refused at admission: nothing is on chain; ask with a hash that is not either.
        Err(_) => Hash::digest(b"never committed"),
    };
    let organization = OrgId::new(READER).expect("valid id");
    let signature = reader_key.sign(&read_request_bytes(
        &record,
        &organization,
        PURPOSE,
        &tx_hash,
    ));
    let (status, body) = post(
        http,
        &format!("{vault}/records/{record}/read"),
        json!({
            "organization": READER,
            "purpose": PURPOSE,
            "tx_hash": tx_hash,
            "signature": signature,
        }),
        None,
    )
    .await;
    (logged, status, body)
}

async fn state_value(client: &Client, key: &[u8]) -> Option<Vec<u8>> {
    client.state(key, false).await.expect("state").value
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_revocation_and_erasure_against_a_real_node() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let api: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let layout = devnet::ensure(&DevnetSpec {
        data_dir: dir.path().join("devnet"),
        api_listen: api,
        validators: 1,
        full_nodes: 0,
    })
    .expect("devnet laid out");
    let node = simin_node::start(&layout.homes[0])
        .await
        .expect("node starts");
    let node_url = format!("http://{api}");
    let client = Client::new(&node_url).expect("a client");
    for _ in 0..600 {
        if client.status().await.is_ok_and(|s| s.latest_height.0 >= 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let keys = dir.path().join("devnet").join("keys");
    let holder_key = load_key(&org_key_paths(&keys, HOLDER).0);
    let reader_key = load_key(&org_key_paths(&keys, READER).0);
    // The citizen's key for this record only (the wallet derives it; see simin-wallet).
    let owner = SigningKey::from_seed([42; 32]);

    let vault = Vault::new(
        VaultConfig {
            org: OrgId::new(HOLDER).expect("valid id"),
            node_url: node_url.clone(),
            read_window_blocks: simin_records::READ_WINDOW_BLOCKS_DEFAULT,
        },
        VaultSecrets {
            org_key: holder_key,
            admin_token: ADMIN_TOKEN.into(),
        },
        &dir.path().join("vault").join("records.redb"),
    )
    .expect("the vault opens");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let vault_url = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(simin_records::serve(
        listener,
        Arc::new(vault),
        async move {
            let _ = stopped.await;
        },
    ));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("a client");
    // Ready: the node has blocks and lists the holder's key, so filing can succeed.
    let health: Value = http
        .get(format!("{vault_url}/health"))
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("JSON");
    assert_eq!(health, json!({"ready": true, "waiting_for": []}));
    // A vault with a key its organisation never listed could file nothing: not ready.
    let stranger = Vault::new(
        VaultConfig {
            org: OrgId::new(HOLDER).expect("valid id"),
            node_url: node_url.clone(),
            read_window_blocks: simin_records::READ_WINDOW_BLOCKS_DEFAULT,
        },
        VaultSecrets {
            org_key: SigningKey::from_seed([7; 32]),
            admin_token: ADMIN_TOKEN.into(),
        },
        &dir.path().join("stranger").join("records.redb"),
    )
    .expect("the vault opens");
    let waits = stranger.waiting_for().await;
    assert!(
        waits.len() == 1 && waits[0].contains("with the vault's key"),
        "{waits:?}"
    );

    // A clerk files the application for the citizen's per-record key.
    let content = json!({
        "applicant": PERSONAL[0],
        "address": PERSONAL[1],
        "resident_number": PERSONAL[2],
        "children": 3,
        "household_income_krw": 31_000_000,
    });
    let request = json!({
        "kind": "welfare_application",
        "owner_public_key": owner.public_key(),
        "content": content,
    });
    let (status, _) = post(
        &http,
        &format!("{vault_url}/admin/records"),
        request.clone(),
        None,
    )
    .await;
    assert_eq!(status, 401, "filing needs the admin token");
    let (status, created) = post(
        &http,
        &format!("{vault_url}/admin/records"),
        request,
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = Hash::from_hex(created["id"].as_str().expect("an id")).expect("hex");

    // The citizen consents for thirty days.
    let now = client
        .status()
        .await
        .expect("status")
        .latest_block_time
        .expect("a block time");
    let month_ms = 30 * 24 * 3600 * 1000;
    succeeded(
        &send(
            &client,
            &owner,
            DataCall::GrantConsent(Consent {
                record: id,
                organization: OrgId::new(READER).expect("valid id"),
                purpose: PURPOSE.into(),
                expires: BlockTime(now.0 + month_ms),
                revoked_time: None,
            }),
        )
        .await
        .expect("admitted"),
    );

    // The centre reads: logged on chain, released once.
    let (logged, status, body) = read(&client, &http, &vault_url, &reader_key, id).await;
    let logged = logged.expect("admitted");
    succeeded(&logged);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["content"], content);
    let organization = OrgId::new(READER).expect("valid id");
    let replay = json!({
        "organization": READER,
        "purpose": PURPOSE,
        "tx_hash": logged.hash,
        "signature": reader_key.sign(&read_request_bytes(&id, &organization, PURPOSE, &logged.hash)),
    });
    let (status, body) = post(
        &http,
        &format!("{vault_url}/records/{id}/read"),
        replay,
        None,
    )
    .await;
    assert_eq!(status, 403, "one logged access, one release: {body}");
    // Someone who saw the transaction hash cannot redeem it without the reader's key.
    let forged = json!({
        "organization": READER,
        "purpose": PURPOSE,
        "tx_hash": logged.hash,
        "signature": owner.sign(&read_request_bytes(&id, &organization, PURPOSE, &logged.hash)),
    });
    let (status, _) = post(
        &http,
        &format!("{vault_url}/records/{id}/read"),
        forged,
        None,
    )
    .await;
    assert_eq!(status, 403);

    // The citizen revokes; the centre's next read is refused on chain and by the vault.
    succeeded(
        &send(
            &client,
            &owner,
            DataCall::RevokeConsent {
                record: id,
                organization: organization.clone(),
                purpose: PURPOSE.into(),
            },
        )
        .await
        .expect("admitted"),
    );
    let (logged, status, body) = read(&client, &http, &vault_url, &reader_key, id).await;
    match &logged {
        Ok(lookup) => assert!(
            matches!(&lookup.receipt.outcome, TxOutcome::Failure { code, .. } if code == "data.no_consent"),
            "{:?}",
            lookup.receipt
        ),
        Err(problem) => assert!(problem.contains("consent"), "{problem}"),
    }
    assert_eq!(status, 403, "{body}");
    let detail = body["detail"].as_str().expect("a detail");
    assert!(
        detail.contains("no_consent") || detail.contains("no committed transaction"),
        "{detail}"
    );

    // The citizen erases the record and tells the vault, which destroys the key.
    let erased = send(&client, &owner, DataCall::EraseRecord { record: id })
        .await
        .expect("admitted");
    succeeded(&erased);
    let (status, body) = post(
        &http,
        &format!("{vault_url}/records/{id}/erase"),
        json!({ "tx_hash": erased.hash }),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["erased_height"], erased.height.0);
    let (_, status, body) = read(&client, &http, &vault_url, &reader_key, id).await;
    assert_eq!(status, 410, "{body}");
    let detail = body["detail"].as_str().expect("a detail");
    assert!(
        detail.contains(&format!("erased at height {}", erased.height.0)),
        "{detail}"
    );

    // The commitment still verifies the sealed bytes the vault keeps.
    let described: Value = http
        .get(format!("{vault_url}/records/{id}"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    let sealed = hex::decode(described["sealed"].as_str().expect("sealed")).expect("hex");
    let record_bytes = state_value(&client, &state_keys::personal_record(&id))
        .await
        .expect("the record stays on chain");
    let record: PersonalRecord =
        simin_types::decode("record", &record_bytes, 4096).expect("decodes");
    assert_eq!(record.commitment, Hash::digest(&sealed));
    assert!(record.erased_time.is_some());

    // The log, as the citizen sees it.
    let count_bytes = state_value(&client, &state_keys::record_log_count(&id))
        .await
        .expect("a log");
    let count: u64 = simin_types::decode("count", &count_bytes, 8).expect("decodes");
    let mut values = vec![record_bytes, count_bytes];
    let mut events = Vec::new();
    for seq in 0..count {
        let bytes = state_value(&client, &state_keys::record_log(&id, seq))
            .await
            .expect("an entry");
        let entry: RecordLogEntry = simin_types::decode("entry", &bytes, 4096).expect("decodes");
        events.push(entry.event);
        values.push(bytes);
    }
    assert_eq!(
        events,
        [
            RecordEvent::Created,
            RecordEvent::ConsentGranted,
            RecordEvent::Read,
            RecordEvent::ConsentRevoked,
            RecordEvent::Erased
        ]
    );
    values.extend(state_value(&client, &state_keys::consent(&id, &organization, PURPOSE)).await);

    // The holder may erase a record too: only with the admin token, the vault signs the
    // erasure itself and destroys the key once it is committed.
    let (status, second) = post(
        &http,
        &format!("{vault_url}/admin/records"),
        json!({
            "kind": "move_in_report",
            "owner_public_key": SigningKey::from_seed([43; 32]).public_key(),
            "content": { "note": "moved" },
        }),
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(status, 201, "{second}");
    let second_id = second["id"].as_str().expect("an id");
    let erase_url = format!("{vault_url}/records/{second_id}/erase");
    let (status, _) = post(&http, &erase_url, json!({}), None).await;
    assert_eq!(status, 401, "no token, no transaction: nothing to erase by");
    let (status, body) = post(&http, &erase_url, json!({}), Some(ADMIN_TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    let second_id = Hash::from_hex(second_id).expect("hex");
    let log = client
        .record(&second_id, 0, 256)
        .await
        .expect("reads")
        .expect("on chain");
    assert_eq!(log.log.last().map(|e| e.event.as_str()), Some("erased"));
    assert_eq!(
        log.log.last().and_then(|e| e.organization.as_deref()),
        Some(HOLDER)
    );

    // An erasure the owner logged on chain without telling the vault destroys the key at
    // the vault's next request for the record.
    let third_owner = SigningKey::from_seed([44; 32]);
    let (status, third) = post(
        &http,
        &format!("{vault_url}/admin/records"),
        json!({
            "kind": "welfare_application",
            "owner_public_key": third_owner.public_key(),
            "content": { "note": "third" },
        }),
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(status, 201, "{third}");
    let third_id = Hash::from_hex(third["id"].as_str().expect("an id")).expect("hex");
    let erased_on_chain = send(
        &client,
        &third_owner,
        DataCall::EraseRecord { record: third_id },
    )
    .await
    .expect("admitted");
    succeeded(&erased_on_chain);
    let (_, status, body) = read(&client, &http, &vault_url, &reader_key, third_id).await;
    assert_eq!(status, 410, "{body}");
    let described: Value = http
        .get(format!("{vault_url}/records/{third_id}"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(described["erased_height"], erased_on_chain.height.0);

    // No personal data in the record's state values, nor anywhere in the node's files.
    let _ = stop.send(());
    let _ = server.await;
    node.shutdown().await;
    for text in PERSONAL {
        for value in &values {
            assert!(
                !contains(value, text.as_bytes()),
                "{text} is in a state value"
            );
        }
    }
    let mut stack = vec![dir.path().join("devnet")];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("a directory") {
                stack.push(entry.expect("an entry").path());
            }
        } else {
            let bytes = std::fs::read(&path).expect("a file");
            for text in PERSONAL {
                assert!(
                    !contains(&bytes, text.as_bytes()),
                    "{text} is in {}",
                    path.display()
                );
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

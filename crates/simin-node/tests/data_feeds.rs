//! Urban data feeds through a real node: a source registered on chain submits signed
//! batches over HTTP; refused batches leave nothing; committed readings are queried,
//! aggregated, exported and proved one by one against the genesis validator set.

mod common;

use common::{one_validator_devnet, wait_for_height, Signer};
use serde_json::json;
use simin_api::dto::data::ReadingsQuery;
use simin_client::{verify_reading_proof, Client, TrustAnchor};
use simin_data::Reading;
use simin_types::data::{reading_leaf, DataSource, Dataset, ReadingBatch, ReadingLeaf};
use simin_types::{
    merkle, BlockTime, Call, ChainId, DataCall, GovernanceCall, Height, OrgId, Organization, Role,
    SignedTx, SigningKey, Tx,
};

const DATASET: &str = "seoul.air-quality";
const SCHEMA: &str = r#"{"type":"object","properties":{"pm10":{"type":"number"},"pm25":{"type":"number"},"no2":{"type":"number"}},"required":["pm10","pm25","no2"],"additionalProperties":false}"#;

fn read_key(path: &std::path::Path) -> SigningKey {
    SigningKey::from_hex(std::fs::read_to_string(path).expect("a key file").trim())
        .expect("a hex key")
}

fn readings(start_ms: u64, n: u64) -> Vec<Reading> {
    (0..n)
        .map(|i| Reading {
            time_ms: start_ms + i * 1_000,
            // i < 1000 here: exact in f64.
            value: json!({"pm10": 20.0 + (i % 10) as f64, "pm25": 11.5, "no2": 0.03}),
        })
        .collect()
}

fn batch_tx(source: &str, seq: u64, nonce: u64, key: &SigningKey, rs: &[Reading]) -> SignedTx {
    let leaves: Vec<_> = rs
        .iter()
        .map(|r| {
            reading_leaf(&ReadingLeaf {
                dataset: DATASET.into(),
                source: source.into(),
                time: BlockTime(r.time_ms),
                value: serde_json_canonicalizer::to_string(&r.value).expect("json"),
            })
        })
        .collect();
    Tx {
        chain_id: ChainId::new(simin_node::devnet::DEVNET_CHAIN_ID).expect("valid id"),
        signer: key.public_key(),
        nonce,
        expiry_height: Height(100_000),
        call: Call::Data(DataCall::SubmitBatch(ReadingBatch {
            dataset: DATASET.into(),
            source: source.into(),
            seq,
            root: merkle::root(&leaves),
            count: u32::try_from(rs.len()).expect("small"),
            first_time: BlockTime(rs.first().expect("readings").time_ms),
            last_time: BlockTime(rs.last().expect("readings").time_ms),
        })),
    }
    .sign(key)
}

fn window(from: u64, to: u64) -> ReadingsQuery {
    ReadingsQuery {
        from: Some(from),
        to: Some(to),
        limit: Some(10_000),
        ..ReadingsQuery::default()
    }
}

async fn refused(client: &Client, tx: &SignedTx, rs: &[Reading], slug: &str) {
    let err = client.submit_batch(tx, rs).await.expect_err(slug);
    assert_eq!(err.problem_slug(), Some(slug), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_checked_committed_queried_and_proved() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (layout, api) = one_validator_devnet(dir.path());
    let base = format!("http://{api}");
    let node = simin_node::start(&layout.homes[0])
        .await
        .expect("node starts");
    wait_for_height(&base, 1).await;
    let client = Client::new(&base).expect("a client");
    let mut authority = Signer::new(read_key(&layout.authority_key));
    let org_key = SigningKey::from_seed([7; 32]);
    let device = SigningKey::from_seed([8; 32]);
    let org = OrgId::new("seoul.environment").expect("valid id");
    authority
        .succeed(
            &base,
            Call::Governance(GovernanceCall::RegisterOrganization(Organization {
                id: org.clone(),
                name: "Seoul Environment".into(),
                keys: vec![org_key.public_key()],
                roles: vec![Role::DataSource],
                active: true,
            })),
        )
        .await;
    authority
        .succeed(
            &base,
            Call::Data(DataCall::RegisterDataset(Dataset {
                id: DATASET.into(),
                owner: org.clone(),
                name: "Seoul air quality".into(),
                schema: SCHEMA.into(),
            })),
        )
        .await;
    Signer::new(org_key)
        .succeed(
            &base,
            Call::Data(DataCall::RegisterSource(DataSource {
                id: "mapo.aq-1".into(),
                organization: org,
                key: device.public_key(),
                datasets: vec![DATASET.into()],
                district: "mapo".into(),
                active: true,
            })),
        )
        .await;

    // A multiple of one minute, so the 60 s buckets split at readings 60 and 100.
    let start = 1_700_000_040_000;
    let good = readings(start, 100);
    let tx = batch_tx("mapo.aq-1", 1, 0, &device, &good);
    let accepted = client.submit_batch(&tx, &good).await.expect("accepted");
    assert_eq!((accepted.seq, accepted.count), (1, 100));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while client
        .tx(&accepted.tx_hash)
        .await
        .expect("answers")
        .is_none()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "batch not committed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let all = window(start, start + 1_000_000);
    assert_eq!(
        client
            .data_readings(DATASET, &all)
            .await
            .expect("list")
            .readings
            .len(),
        100
    );

    // Every refusal is a clear problem, and nothing is stored or served.
    let next = readings(start + 200_000, 10);
    let mut bad_value = next.clone();
    bad_value[2].value = json!({"pm10": 1, "pm25": 1});
    refused(
        &client,
        &batch_tx("mapo.aq-1", 2, 1, &device, &next),
        &bad_value,
        "data-schema-mismatch",
    )
    .await;
    refused(
        &client,
        &batch_tx("gangnam.aq-1", 1, 0, &device, &next),
        &next,
        "data-unregistered-source",
    )
    .await;
    let stranger = SigningKey::from_seed([9; 32]);
    refused(
        &client,
        &batch_tx("mapo.aq-1", 2, 0, &stranger, &next),
        &next,
        "data-wrong-signer",
    )
    .await;
    let mut forged = batch_tx("mapo.aq-1", 2, 1, &device, &next);
    forged.tx.expiry_height = Height(99);
    refused(&client, &forged, &next, "data-bad-signature").await;
    refused(
        &client,
        &batch_tx("mapo.aq-1", 1, 1, &device, &next),
        &next,
        "data-replayed",
    )
    .await;
    let mut tampered = next.clone();
    tampered[0].time_ms += 1;
    refused(
        &client,
        &batch_tx("mapo.aq-1", 2, 1, &device, &next),
        &tampered,
        "data-root-mismatch",
    )
    .await;
    assert_eq!(
        client
            .data_readings(DATASET, &all)
            .await
            .expect("list")
            .readings
            .len(),
        100
    );
    assert!(client
        .reading_proof(DATASET, "mapo.aq-1", 2, 0)
        .await
        .expect("answers")
        .is_none());

    // Queries, aggregates and exports over the committed batch.
    let agg = client
        .data_aggregate(
            DATASET,
            &ReadingsQuery {
                interval: Some("60s".into()),
                field: Some("pm10".into()),
                ..window(start, start + 99_999)
            },
        )
        .await
        .expect("aggregate")
        .aggregate;
    assert_eq!(agg.buckets.len(), 2, "{agg:?}");
    assert_eq!((agg.buckets[0].count, agg.buckets[1].count), (60, 40));
    assert_eq!(
        (agg.buckets[0].min, agg.buckets[0].max, agg.buckets[0].mean),
        (20.0, 29.0, 24.5)
    );
    let csv = client
        .data_export_csv(
            DATASET,
            &ReadingsQuery {
                district: Some("mapo".into()),
                ..window(start, start)
            },
        )
        .await
        .expect("csv");
    assert_eq!(
        csv,
        format!("time_ms,source,district,no2,pm10,pm25\n{start},mapo.aq-1,mapo,0.03,20,11.5\n")
    );
    let rows = client
        .data_export_json(DATASET, &window(start, start + 1_000))
        .await
        .expect("json");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["pm10"], json!(21));

    // One reading, proved against the genesis validators without trusting the node.
    let trusted = TrustAnchor::from_genesis_json(&std::fs::read(&layout.genesis).expect("genesis"))
        .expect("a trust anchor");
    let proof = client
        .reading_proof(DATASET, "mapo.aq-1", 1, 37)
        .await
        .expect("answers")
        .expect("a committed reading");
    let verified =
        verify_reading_proof(&proof, DATASET, "mapo.aq-1", 1, 37, &trusted).expect("valid");
    assert_eq!(verified.leaf.time, BlockTime(start + 37_000));
    assert_eq!(verified.record.batch.root, accepted.root);
    // A node that lies about the value is caught.
    let mut lie = proof.clone();
    lie.reading.leaf.value = r#"{"no2":0.03,"pm10":5,"pm25":11.5}"#.into();
    lie.reading.leaf_hash = reading_leaf(&lie.reading.leaf);
    assert!(verify_reading_proof(&lie, DATASET, "mapo.aq-1", 1, 37, &trusted).is_err());
    // Asking about another reading than the one answered is caught.
    assert!(verify_reading_proof(&proof, DATASET, "mapo.aq-1", 1, 36, &trusted).is_err());
    node.shutdown().await;
}

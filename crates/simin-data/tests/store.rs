//! The reading store end to end over an in-memory chain: every refusal stores nothing,
//! a committed batch is served and proved, a pending or orphaned one is not.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::json;
use simin_data::{
    check_batch, to_csv, BatchState, ChainRead, DataStore, IngestError, Query, Reading,
};
use simin_types::data::{
    reading_leaf, BatchRecord, DataSource, Dataset, ReadingBatch, ReadingLeaf,
};
use simin_types::{
    merkle, state_keys, BlockTime, Call, ChainId, DataCall, Height, OrgId, SignedTx, SigningKey, Tx,
};

const DATASET: &str = "seoul.air-quality";
const SCHEMA: &str = r#"{"type":"object","properties":{"pm10":{"type":"number"},"pm25":{"type":"number"},"no2":{"type":"number"}},"required":["pm10","pm25","no2"],"additionalProperties":false}"#;

#[derive(Default)]
struct Chain(Mutex<HashMap<Vec<u8>, Vec<u8>>>);

impl ChainRead for Chain {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        Ok(self.0.lock().expect("lock").get(key).cloned())
    }
}

impl Chain {
    fn put<T: borsh::BorshSerialize>(&self, key: Vec<u8>, value: &T) {
        self.0
            .lock()
            .expect("lock")
            .insert(key, simin_types::encode(value));
    }

    /// What the ledger writes when the batch commits.
    fn commit(&self, batch: &ReadingBatch) {
        self.put(state_keys::data_source_seq(&batch.source), &batch.seq);
        let record = BatchRecord {
            batch: batch.clone(),
            height: Height(7),
            block_time: BlockTime(batch.last_time.0 + 1),
        };
        self.put(state_keys::data_batch(&batch.source, batch.seq), &record);
    }
}

fn key(n: u8) -> SigningKey {
    SigningKey::from_seed([n; 32])
}

fn world() -> Chain {
    let chain = Chain::default();
    let org = OrgId::new("seoul.environment").expect("org id");
    chain.put(
        state_keys::dataset(DATASET),
        &Dataset {
            id: DATASET.into(),
            owner: org.clone(),
            name: "Air quality".into(),
            schema: SCHEMA.into(),
        },
    );
    for (id, district, n) in [("mapo.aq-1", "mapo", 1), ("jongno.aq-1", "jongno", 2)] {
        chain.put(
            state_keys::data_source(id),
            &DataSource {
                id: id.into(),
                organization: org.clone(),
                key: key(n).public_key(),
                datasets: vec![DATASET.into()],
                district: district.into(),
                active: true,
            },
        );
    }
    chain
}

fn readings(start: u64, n: u64, base: f64) -> Vec<Reading> {
    (0..n)
        .map(|i| Reading {
            time_ms: start + i * 1000,
            // i < 100 here: exact as f64.
            value: json!({"pm10": base + i as f64, "pm25": 10.5, "no2": 0.02}),
        })
        .collect()
}

fn batch_tx(source: &str, seq: u64, signer: &SigningKey, readings: &[Reading]) -> SignedTx {
    let leaves: Vec<_> = readings
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
    let batch = ReadingBatch {
        dataset: DATASET.into(),
        source: source.into(),
        seq,
        root: merkle::root(&leaves),
        count: u32::try_from(readings.len()).expect("test batches are small"),
        first_time: BlockTime(readings.first().map_or(0, |r| r.time_ms)),
        last_time: BlockTime(readings.last().map_or(0, |r| r.time_ms)),
    };
    Tx {
        chain_id: ChainId::new("simin-test").expect("chain id"),
        signer: signer.public_key(),
        nonce: seq - 1,
        expiry_height: Height(1000),
        call: Call::Data(DataCall::SubmitBatch(batch)),
    }
    .sign(signer)
}

fn batch_of(tx: &SignedTx) -> ReadingBatch {
    match &tx.tx.call {
        Call::Data(DataCall::SubmitBatch(b)) => b.clone(),
        _ => unreachable!("built by batch_tx"),
    }
}

fn all(store: &DataStore, chain: &Chain) -> usize {
    store
        .readings(
            chain,
            &Query {
                dataset: DATASET.into(),
                from_ms: 0,
                to_ms: 1_000_000,
                limit: 10_000,
                ..Query::default()
            },
        )
        .expect("query")
        .len()
}

fn open() -> (tempfile::TempDir, DataStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = DataStore::open(&dir.path().join("data.redb")).expect("open");
    (dir, store)
}

#[test]
fn every_refusal_stores_nothing() {
    let chain = world();
    let (_dir, store) = open();
    let good = readings(1_000, 10, 20.0);
    let mut cases: Vec<(SignedTx, Vec<Reading>, &str)> = Vec::new();

    let mut bad_schema = good.clone();
    bad_schema[3].value = json!({"pm10": "high", "pm25": 1, "no2": 1});
    cases.push((
        batch_tx("mapo.aq-1", 1, &key(1), &good),
        bad_schema,
        "data.schema_mismatch",
    ));
    let mut extra = good.clone();
    extra[0].value = json!({"pm10": 1, "pm25": 1, "no2": 1, "o3": 1});
    cases.push((
        batch_tx("mapo.aq-1", 1, &key(1), &good),
        extra,
        "data.schema_mismatch",
    ));
    cases.push((
        batch_tx("gangnam.aq-9", 1, &key(9), &good),
        good.clone(),
        "data.unregistered_source",
    ));
    cases.push((
        batch_tx("mapo.aq-1", 1, &key(2), &good),
        good.clone(),
        "data.wrong_signer",
    ));
    let mut forged = batch_tx("mapo.aq-1", 1, &key(1), &good);
    forged.tx.nonce += 1;
    cases.push((forged, good.clone(), "data.bad_signature"));
    let mut tampered = good.clone();
    tampered[5].value = json!({"pm10": 999.0, "pm25": 10.5, "no2": 0.02});
    cases.push((
        batch_tx("mapo.aq-1", 1, &key(1), &good),
        tampered,
        "data.root_mismatch",
    ));
    cases.push((
        batch_tx("mapo.aq-1", 1, &key(1), &good),
        good[..9].to_vec(),
        "data.count_mismatch",
    ));

    for (tx, sent, code) in &cases {
        let err = check_batch(&chain, tx, sent).expect_err(code);
        assert_eq!(err.code(), *code, "{err}");
    }

    // A replay: seq 1 is committed, then submitted again.
    let first = batch_tx("mapo.aq-1", 1, &key(1), &good);
    let checked = check_batch(&chain, &first, &good).expect("valid");
    store.put(&checked).expect("stored");
    chain.commit(&batch_of(&first));
    assert_eq!(all(&store, &chain), 10);
    let replay = check_batch(&chain, &first, &good).expect_err("replayed");
    assert!(
        matches!(
            replay,
            IngestError::Replayed {
                seq: 1,
                committed: 1,
                ..
            }
        ),
        "{replay}"
    );
    // Even if a node stored it, a committed batch is never replaced.
    assert_eq!(
        store.put(&checked).expect_err("committed").to_string(),
        "reading store: batch seq 1 of source \"mapo.aq-1\" is already stored and committed"
    );
    assert_eq!(all(&store, &chain), 10);
}

#[test]
fn only_committed_batches_are_served_and_proved() {
    let chain = world();
    let (_dir, store) = open();
    let good = readings(5_000, 8, 30.0);
    let tx = batch_tx("jongno.aq-1", 1, &key(2), &good);
    let checked = check_batch(&chain, &tx, &good).expect("valid");
    store.put(&checked).expect("stored");
    assert_eq!(all(&store, &chain), 0, "pending batches are not served");

    // Another batch with the same seq won on chain: this one is orphaned.
    let other = readings(5_000, 8, 31.0);
    let winner = batch_of(&batch_tx("jongno.aq-1", 1, &key(2), &other));
    chain.commit(&winner);
    assert_eq!(all(&store, &chain), 0, "orphaned batches are not served");
    let proof = store
        .proof(&chain, "jongno.aq-1", 1, 0)
        .expect("proof")
        .expect("stored");
    assert_eq!(proof.state, BatchState::Orphaned);

    // Seq 2 commits: served, and each reading proves against the committed root.
    let next = readings(9_000, 8, 40.0);
    let tx2 = batch_tx("jongno.aq-1", 2, &key(2), &next);
    store
        .put(&check_batch(&chain, &tx2, &next).expect("valid"))
        .expect("stored");
    chain.commit(&batch_of(&tx2));
    assert_eq!(all(&store, &chain), 8);
    for index in 0..8 {
        let p = store
            .proof(&chain, "jongno.aq-1", 2, index)
            .expect("proof")
            .expect("stored");
        assert_eq!(p.state, BatchState::Committed);
        assert_eq!(p.leaf_hash, reading_leaf(&p.leaf));
        p.path
            .verify(&p.leaf_hash, &batch_of(&tx2).root)
            .expect("path");
    }
    assert!(store
        .proof(&chain, "jongno.aq-1", 2, 8)
        .expect("proof")
        .is_none());
    assert_eq!(
        store.batch_by_root(&batch_of(&tx2).root).expect("root"),
        Some(("jongno.aq-1".into(), 2))
    );
}

#[test]
fn queries_aggregates_and_csv_on_known_data() {
    let chain = world();
    let (_dir, store) = open();
    // mapo: pm10 = 20..29 at t = 0..9 s; jongno: pm10 = 50..59 at t = 0.5..9.5 s.
    let mapo = readings(0, 10, 20.0);
    let jongno: Vec<Reading> = readings(500, 10, 50.0);
    for (source, signer, rs) in [
        ("mapo.aq-1", key(1), &mapo),
        ("jongno.aq-1", key(2), &jongno),
    ] {
        let tx = batch_tx(source, 1, &signer, rs);
        store
            .put(&check_batch(&chain, &tx, rs).expect("valid"))
            .expect("stored");
        chain.commit(&batch_of(&tx));
    }
    let q = Query {
        dataset: DATASET.into(),
        from_ms: 0,
        to_ms: 4_999,
        limit: 100,
        ..Query::default()
    };
    let rows = store.readings(&chain, &q).expect("query");
    assert_eq!(rows.len(), 10);
    assert!(rows.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
    let by_district = store
        .readings(
            &chain,
            &Query {
                district: Some("jongno".into()),
                ..q.clone()
            },
        )
        .expect("query");
    assert_eq!(by_district.len(), 5);
    assert!(by_district.iter().all(|r| r.source == "jongno.aq-1"));
    let limited = store
        .readings(
            &chain,
            &Query {
                limit: 3,
                ..q.clone()
            },
        )
        .expect("query");
    assert_eq!(limited.len(), 3);

    let agg = store
        .aggregate(
            &chain,
            &Query {
                to_ms: 9_999,
                source: Some("mapo.aq-1".into()),
                ..q.clone()
            },
            "pm10",
            5_000,
        )
        .expect("aggregate");
    assert_eq!(agg.buckets.len(), 2);
    assert_eq!((agg.buckets[0].start_ms, agg.buckets[0].count), (0, 5));
    assert_eq!(
        (agg.buckets[0].min, agg.buckets[0].max, agg.buckets[0].mean),
        (20.0, 24.0, 22.0)
    );
    assert_eq!(
        (agg.buckets[1].min, agg.buckets[1].max, agg.buckets[1].mean),
        (25.0, 29.0, 27.0)
    );

    let csv = to_csv(
        &store
            .readings(&chain, &Query { to_ms: 999, ..q })
            .expect("query"),
    );
    assert_eq!(
        csv,
        "time_ms,source,district,no2,pm10,pm25\n0,mapo.aq-1,mapo,0.02,20,10.5\n500,jongno.aq-1,jongno,0.02,50,10.5\n"
    );
}

//! `simin feeds bench-store`: fills a reading store through the node's admission path
//! (`simin_data::check_batch` then `DataStore::put`, i.e. `POST /v1/data/batches`
//! without HTTP and the mempool) against an in-memory chain that holds the dataset, the
//! sources and a commit record for every batch; then times queries over it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use serde_json::json;
use simin_data::{ChainRead, DataStore, Query};
use simin_types::data::{BatchRecord, DataSource, Dataset, ReadingBatch};
use simin_types::{state_keys, BlockTime, Call, ChainId, DataCall, Height, OrgId, SigningKey};

use crate::feeds::{sim_batch, BenchStoreArgs, DEMO_DATASET, DEMO_ORG, DEMO_SCHEMA};
use crate::output;

/// The first reading's time: 2026-01-01T00:00:00Z.
const T0_MS: u64 = 1_767_225_600_000;
/// One reading every 10 s per source.
const PERIOD_MS: u64 = 10_000;

#[derive(Default)]
struct Chain(Mutex<HashMap<Vec<u8>, Vec<u8>>>);

impl ChainRead for Chain {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        Ok(self.0.lock().map_err(|e| e.to_string())?.get(key).cloned())
    }
}

impl Chain {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) {
        self.0
            .lock()
            .expect("not poisoned: no panic while held")
            .insert(key, value);
    }
}

fn source_id(s: u32) -> String {
    format!("bench.aq-{s:04}")
}

pub fn bench_store(args: BenchStoreArgs, json: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let store = DataStore::open(&args.dir.join("data.redb"))?;
    let chain = Chain::default();
    let org = OrgId::new(DEMO_ORG).expect("a valid constant id");
    chain.put(
        state_keys::dataset(DEMO_DATASET),
        simin_types::encode(&Dataset {
            id: DEMO_DATASET.into(),
            owner: org.clone(),
            name: "bench".into(),
            schema: DEMO_SCHEMA.into(),
        }),
    );
    let chain_id = ChainId::new("simin-bench").expect("a valid constant id");
    let per_source = args.readings / u64::from(args.sources);
    let batches_per_source = per_source.div_ceil(u64::from(args.batch));
    let districts = [
        "jongno",
        "jung",
        "yongsan",
        "seongdong",
        "mapo",
        "gangnam",
        "songpa",
        "gangseo",
        "guro",
        "nowon",
    ];
    let marker = args.dir.join("filled");
    let mut fill_s = 0.0;
    let started = Instant::now();
    let mut check_s = 0.0;
    let mut put_s = 0.0;
    for s in 0..args.sources {
        let key = SigningKey::from_seed([u8::try_from(s % 251).expect("below 251") + 1; 32]);
        let id = source_id(s);
        // usize from u32 never truncates on supported targets.
        let district = districts[s as usize % districts.len()];
        chain.put(
            state_keys::data_source(&id),
            simin_types::encode(&DataSource {
                id: id.clone(),
                organization: org.clone(),
                key: key.public_key(),
                datasets: vec![DEMO_DATASET.into()],
                district: district.into(),
                active: true,
            }),
        );
        for b in 0..batches_per_source {
            let first = b * u64::from(args.batch);
            let n = u32::try_from((per_source - first).min(u64::from(args.batch)))
                .expect("at most --batch");
            let seq = b + 1;
            let record = |batch: ReadingBatch| BatchRecord {
                batch,
                height: Height(seq),
                block_time: BlockTime(T0_MS),
            };
            if marker.exists() {
                // The store is already filled: only the chain's records are rebuilt.
                if let Some((batch, _, _)) = store.batch(&id, seq)? {
                    chain.put(
                        state_keys::data_batch(&id, seq),
                        simin_types::encode(&record(batch)),
                    );
                }
                continue;
            }
            let (tx, mut readings) = sim_batch(
                &chain_id,
                DEMO_DATASET,
                &id,
                40.0,
                seq,
                b,
                Height(u64::MAX),
                &key,
                0,
                n,
            );
            // Spread the readings: one every PERIOD_MS per source, sources offset by 100 ms.
            for (k, r) in (first..).zip(readings.iter_mut()) {
                r.time_ms = T0_MS + k * PERIOD_MS + u64::from(s) * 100;
            }
            let (tx, readings) = resign(tx, readings, &key);
            let t = Instant::now();
            let checked = simin_data::check_batch(&chain, &tx, &readings)?;
            check_s += t.elapsed().as_secs_f64();
            let t = Instant::now();
            store.put(&checked)?;
            put_s += t.elapsed().as_secs_f64();
            chain.put(state_keys::data_source_seq(&id), simin_types::encode(&seq));
            chain.put(
                state_keys::data_batch(&id, seq),
                simin_types::encode(&record(checked.batch)),
            );
        }
    }
    if !marker.exists() {
        fill_s = started.elapsed().as_secs_f64();
        std::fs::write(&marker, b"filled\n")?;
    }
    let span_ms = per_source * PERIOD_MS;
    let mid = T0_MS + span_ms / 2;
    let time = |f: &mut dyn FnMut() -> anyhow::Result<usize>| -> anyhow::Result<(f64, usize)> {
        let mut runs = Vec::new();
        let mut rows = 0;
        for _ in 0..5 {
            let t = Instant::now();
            rows = f()?;
            runs.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        runs.sort_by(f64::total_cmp);
        Ok((runs[2], rows))
    };
    let q =
        |from: u64, to: u64, district: Option<&str>, source: Option<String>, limit: usize| Query {
            dataset: DEMO_DATASET.into(),
            from_ms: from,
            to_ms: to,
            district: district.map(Into::into),
            source,
            limit,
        };
    let mut results = Vec::new();
    let cases: Vec<(&str, Query, Option<u64>)> = vec![
        (
            "readings, 1 min, all sources, limit 1000",
            q(mid, mid + 60_000, None, None, 1000),
            None,
        ),
        (
            "readings, 1 h, one district, limit 10000",
            q(mid, mid + 3_600_000, Some("mapo"), None, 10_000),
            None,
        ),
        (
            "readings, 1 day, one source, limit 1000",
            q(mid, mid + 86_400_000, None, Some(source_id(7)), 1000),
            None,
        ),
        (
            "aggregate pm10, 1 h buckets over 1 h, all sources",
            q(mid, mid + 3_599_999, None, None, 1),
            Some(3_600_000),
        ),
        (
            "aggregate pm10, 1 h buckets over 1 day, all sources",
            q(mid, mid + 86_399_999, None, None, 1),
            Some(3_600_000),
        ),
        (
            "aggregate pm10, 1 d buckets over 7 days, one district",
            q(T0_MS, T0_MS + 7 * 86_400_000 - 1, Some("gangnam"), None, 1),
            Some(86_400_000),
        ),
    ];
    for (name, query, interval) in cases {
        let (ms, rows) = time(&mut || match interval {
            None => Ok(store.readings(&chain, &query)?.len()),
            Some(i) => Ok(
                usize::try_from(store.aggregate(&chain, &query, "pm10", i)?.scanned)
                    .unwrap_or(usize::MAX),
            ),
        })?;
        results.push(json!({"query": name, "median_ms": ms, "rows_or_scanned": rows}));
    }
    let total = u64::from(args.sources) * per_source;
    let out = json!({
        "readings": total, "sources": args.sources, "batch": args.batch,
        "fill_seconds": fill_s, "check_seconds": check_s, "put_seconds": put_s,
        "fill_readings_per_s": if fill_s > 0.0 { total as f64 / fill_s } else { 0.0 },
        "store_bytes": std::fs::metadata(args.dir.join("data.redb")).map(|m| m.len()).unwrap_or(0),
        "queries": results,
    });
    if json {
        output::json(&out);
    } else {
        output::line(&serde_json::to_string_pretty(&out).expect("plain data serializes"));
    }
    Ok(())
}

/// Re-signs a batch after its readings' times changed: recomputes the root and span.
fn resign(
    tx: simin_types::SignedTx,
    readings: Vec<simin_data::Reading>,
    key: &SigningKey,
) -> (simin_types::SignedTx, Vec<simin_data::Reading>) {
    let mut inner = tx.tx;
    if let Call::Data(DataCall::SubmitBatch(batch)) = &mut inner.call {
        let leaves: Vec<_> = readings
            .iter()
            .map(|r| {
                simin_types::data::reading_leaf(&simin_types::data::ReadingLeaf {
                    dataset: batch.dataset.clone(),
                    source: batch.source.clone(),
                    time: BlockTime(r.time_ms),
                    value: serde_json_canonicalizer::to_string(&r.value)
                        .expect("a JSON value serializes"),
                })
            })
            .collect();
        batch.root = simin_types::merkle::root(&leaves);
        batch.first_time = BlockTime(readings.first().map_or(0, |r| r.time_ms));
        batch.last_time = BlockTime(readings.last().map_or(0, |r| r.time_ms));
    }
    (inner.sign(key), readings)
}

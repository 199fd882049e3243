//! `simin feeds`: urban data feeds from the command line: register datasets and sources,
//! run a simulated sensor fleet, query, aggregate, export, prove one reading, and
//! measure the reading store (`bench-store`).
//!
//! (`simin data` is the personal-records command; feeds are public urban data.)

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use rand::Rng;
use serde_json::json;
use simin_client::dto::data::ReadingsQuery;
use simin_client::{verify_reading_proof, Client, TrustAnchor};
use simin_data::Reading;
use simin_types::data::{reading_leaf, DataSource, Dataset, ReadingBatch, ReadingLeaf};
use simin_types::{
    merkle, state_keys, BlockTime, Call, ChainId, DataCall, GovernanceCall, Hash, Height, OrgId,
    Organization, Role, SignedTx, SigningKey, Tx,
};

use crate::output;

/// The devnet's demo dataset, charted by the portal.
pub const DEMO_DATASET: &str = "seoul.air-quality";
/// The devnet's demo data-source organisation, registered at run time.
pub const DEMO_ORG: &str = "seoul.environment";
/// The demo dataset's schema: three numeric pollutant concentrations.
pub const DEMO_SCHEMA: &str = r#"{"type":"object","properties":{"pm10":{"type":"number","minimum":0},"pm25":{"type":"number","minimum":0},"no2":{"type":"number","minimum":0}},"required":["pm10","pm25","no2"],"additionalProperties":false}"#;
/// Seoul's districts (gu) the simulated fleet is spread over, with a typical PM10 level.
const DISTRICTS: &[(&str, f64)] = &[
    ("jongno", 38.0),
    ("jung", 41.0),
    ("yongsan", 36.0),
    ("seongdong", 40.0),
    ("mapo", 35.0),
    ("gangnam", 44.0),
    ("songpa", 42.0),
    ("gangseo", 33.0),
    ("guro", 46.0),
    ("nowon", 31.0),
];
/// Blocks a submitted transaction stays valid for.
const TX_EXPIRY_BLOCKS: u64 = 1_000;

#[derive(Debug, Subcommand)]
pub enum FeedsCommand {
    /// Datasets: register one with its JSON Schema.
    #[command(subcommand)]
    Dataset(DatasetCommand),
    /// Sources (devices): register one with a new device key.
    #[command(subcommand)]
    Source(SourceCommand),
    /// Run a simulated air-quality sensor fleet against a node, and report the rate.
    Simulate(SimulateArgs),
    /// Committed readings of a dataset.
    Query(QueryArgs),
    /// Count, min, max and mean of a field per interval.
    Aggregate(AggregateArgs),
    /// Open-data export as CSV or JSON.
    Export(ExportArgs),
    /// Prove one reading against the genesis validators: exit 0 if it holds, 1 if not.
    Prove(ProveArgs),
    /// Fill a reading store with generated batches (the node's admission path, without
    /// HTTP) and time queries over it.
    BenchStore(BenchStoreArgs),
}

#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    Register {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// The JSON Schema (draft 2020-12) of a reading's value.
        #[arg(long)]
        schema: PathBuf,
        /// The signing key (default: the devnet's city authority).
        #[arg(long)]
        key: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SourceCommand {
    Register {
        #[arg(long)]
        id: String,
        /// The source's organisation (it must hold the DataSource role).
        #[arg(long, default_value = DEMO_ORG)]
        org: String,
        #[arg(long)]
        dataset: String,
        #[arg(long)]
        district: String,
        /// Where to write the new device key.
        #[arg(long)]
        key_out: PathBuf,
        /// The organisation's key (default: the devnet's demo data-source key).
        #[arg(long)]
        org_key: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[arg(long, default_value = DEMO_DATASET)]
    pub dataset: String,
    /// Simulated sources, spread over Seoul's districts.
    #[arg(long, default_value_t = 16)]
    pub sources: u32,
    /// Target readings per second over the whole fleet (0: as fast as the node takes).
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Seconds to run.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Readings per batch.
    #[arg(long, default_value_t = 2048)]
    pub batch: u32,
    /// Concurrent submitting sources per node URL.
    #[arg(long)]
    pub nodes: Vec<String>,
    /// The data-source organisation's key (default: the devnet's demo key).
    #[arg(long)]
    pub org_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct Window {
    #[arg(long, default_value = DEMO_DATASET)]
    pub dataset: String,
    /// Earliest time, ms since the epoch (default: an hour before `to`).
    #[arg(long)]
    pub from: Option<u64>,
    /// Latest time, ms (default: now).
    #[arg(long)]
    pub to: Option<u64>,
    #[arg(long)]
    pub source: Option<String>,
    #[arg(long)]
    pub district: Option<String>,
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub window: Window,
}

#[derive(Debug, Args)]
pub struct AggregateArgs {
    #[command(flatten)]
    pub window: Window,
    #[arg(long, default_value = "1h")]
    pub interval: String,
    #[arg(long, default_value = "pm10")]
    pub field: String,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub window: Window,
    /// csv or json.
    #[arg(long, default_value = "csv")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct ProveArgs {
    #[arg(long, default_value = DEMO_DATASET)]
    pub dataset: String,
    #[arg(long)]
    pub source: String,
    #[arg(long)]
    pub seq: u64,
    #[arg(long)]
    pub index: u32,
    /// The genesis file the validators are trusted from (default: the devnet's).
    #[arg(long)]
    pub genesis: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchStoreArgs {
    /// Readings to generate.
    #[arg(long, default_value_t = 10_000_000)]
    pub readings: u64,
    /// Readings per batch.
    #[arg(long, default_value_t = 65_536)]
    pub batch: u32,
    /// Sources the readings come from (each one reading every 10 s).
    #[arg(long, default_value_t = 100)]
    pub sources: u32,
    /// The directory of the store (`data.redb`); reused when it already holds readings.
    #[arg(long)]
    pub dir: PathBuf,
}

pub async fn run(node: &str, command: FeedsCommand, json: bool) -> anyhow::Result<()> {
    match command {
        FeedsCommand::Dataset(DatasetCommand::Register {
            id,
            name,
            schema,
            key,
        }) => {
            let schema = std::fs::read_to_string(&schema)
                .with_context(|| format!("cannot read {}", schema.display()))?;
            let key = crate::keys::load_key(&key_or_devnet(key, "authority.key")?)?;
            let client = Client::new(node)?;
            let dataset = Dataset {
                id: id.clone(),
                owner: OrgId::new(DEMO_ORG).expect("a valid constant id"),
                name,
                schema,
            };
            let height = submit(
                &client,
                &key,
                Call::Data(DataCall::RegisterDataset(dataset)),
            )
            .await?;
            report(
                json,
                &json!({"dataset": id, "height": height}),
                &format!("dataset {id} registered at height {height}"),
            );
            Ok(())
        }
        FeedsCommand::Source(SourceCommand::Register {
            id,
            org,
            dataset,
            district,
            key_out,
            org_key,
        }) => {
            let org_key =
                crate::keys::load_key(&key_or_devnet(org_key, &format!("{DEMO_ORG}.data.key"))?)?;
            let device = SigningKey::generate(&mut rand::rngs::OsRng);
            write_key_file(&key_out, &device)?;
            let client = Client::new(node)?;
            let source = DataSource {
                id: id.clone(),
                organization: OrgId::new(&org).context("invalid organisation id")?,
                key: device.public_key(),
                datasets: vec![dataset],
                district,
                active: true,
            };
            let height = submit(
                &client,
                &org_key,
                Call::Data(DataCall::RegisterSource(source)),
            )
            .await?;
            report(
                json,
                &json!({"source": id, "height": height, "key": key_out}),
                &format!(
                    "source {id} registered at height {height}; device key in {}",
                    key_out.display()
                ),
            );
            Ok(())
        }
        FeedsCommand::Simulate(args) => simulate(node, args, json).await,
        FeedsCommand::Query(args) => {
            let client = Client::new(node)?;
            let (dataset, query) = to_query(args.window);
            let list = client.data_readings(&dataset, &query).await?;
            if json {
                output::json(&list);
            } else {
                for r in &list.readings {
                    output::line(&format!(
                        "{} {} {} {}",
                        r.time_ms, r.source, r.district, r.value
                    ));
                }
                output::line(&format!("{} readings", list.readings.len()));
            }
            Ok(())
        }
        FeedsCommand::Aggregate(args) => {
            let client = Client::new(node)?;
            let (dataset, mut query) = to_query(args.window);
            query.interval = Some(args.interval);
            query.field = Some(args.field);
            let agg = client.data_aggregate(&dataset, &query).await?;
            if json {
                output::json(&agg);
            } else {
                output::line("start_ms count min max mean");
                for b in &agg.aggregate.buckets {
                    output::line(&format!(
                        "{} {} {} {} {:.3}",
                        b.start_ms, b.count, b.min, b.max, b.mean
                    ));
                }
            }
            Ok(())
        }
        FeedsCommand::Export(args) => {
            let client = Client::new(node)?;
            let format = args.format.clone();
            let (dataset, query) = to_query(args.window);
            match format.as_str() {
                "csv" => output::line(
                    client
                        .data_export_csv(&dataset, &query)
                        .await?
                        .trim_end_matches('\n'),
                ),
                "json" => output::json(&client.data_export_json(&dataset, &query).await?),
                other => bail!("unknown format {other:?}: use csv or json"),
            }
            Ok(())
        }
        FeedsCommand::Prove(args) => prove(node, args, json).await,
        FeedsCommand::BenchStore(args) => crate::feeds_bench::bench_store(args, json),
    }
}

fn report(json: bool, value: &serde_json::Value, text: &str) {
    if json {
        output::json(value);
    } else {
        output::line(text);
    }
}

fn key_or_devnet(given: Option<PathBuf>, name: &str) -> anyhow::Result<PathBuf> {
    match given {
        Some(path) => Ok(path),
        None => Ok(crate::keys::devnet_dir(None)?.join("keys").join(name)),
    }
}

fn to_query(w: Window) -> (String, ReadingsQuery) {
    (
        w.dataset,
        ReadingsQuery {
            from: w.from,
            to: w.to,
            source: w.source,
            district: w.district,
            limit: w.limit,
            interval: None,
            field: None,
        },
    )
}

/// Writes a key's seed as hex to a new file readable by its owner only.
fn write_key_file(path: &Path, key: &SigningKey) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| {
            format!(
                "cannot create key file {} (never overwritten)",
                path.display()
            )
        })?;
    file.write_all(format!("{}\n", key.to_seed_hex()).as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Signs `call` with the signer's next nonce and waits for its commit.
async fn submit(client: &Client, key: &SigningKey, call: Call) -> anyhow::Result<u64> {
    crate::gateway::submit(client, key, call).await
}

async fn prove(node: &str, args: ProveArgs, json: bool) -> anyhow::Result<()> {
    let genesis = match args.genesis {
        Some(path) => path,
        None => crate::keys::devnet_dir(None)?.join("genesis.json"),
    };
    let trusted = TrustAnchor::from_genesis_file(&genesis)?;
    let client = Client::new(node)?;
    let Some(proof) = client
        .reading_proof(&args.dataset, &args.source, args.seq, args.index)
        .await?
    else {
        bail!("the node has no such reading in a committed batch");
    };
    match verify_reading_proof(
        &proof,
        &args.dataset,
        &args.source,
        args.seq,
        args.index,
        &trusted,
    ) {
        Ok(v) => {
            report(
                json,
                &json!({"valid": true, "time_ms": v.leaf.time.0, "value": v.leaf.value, "root": v.record.batch.root, "height": v.height.0, "block_hash": v.block_hash}),
                &format!(
                    "valid: reading {} of {}/{} at {} = {}; batch root {} committed at height {}",
                    args.index,
                    args.source,
                    args.seq,
                    v.leaf.time.0,
                    v.leaf.value,
                    v.record.batch.root,
                    v.record.height.0
                ),
            );
            Ok(())
        }
        Err(e) => {
            report(
                json,
                &json!({"valid": false, "reason": e.to_string()}),
                &format!("INVALID: {e}"),
            );
            std::process::exit(1);
        }
    }
}

/// Registers the demo data-source organisation (with a key kept in the devnet's keys
/// directory) and the demo dataset unless the chain has them.
pub async fn ensure_demo_dataset(node: &str, keys_dir: &Path) -> anyhow::Result<()> {
    let client = Client::new(node)?;
    for _ in 0..100 {
        if client.status().await.is_ok_and(|s| s.latest_height.0 > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let authority = crate::keys::load_key(&keys_dir.join("authority.key"))?;
    let org_path = keys_dir.join(format!("{DEMO_ORG}.data.key"));
    let org_key = match crate::keys::load_key(&org_path) {
        Ok(key) => key,
        Err(_) => {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            write_key_file(&org_path, &key)?;
            key
        }
    };
    let org_id = OrgId::new(DEMO_ORG).expect("a valid constant id");
    if client
        .state(&state_keys::organization(&org_id), false)
        .await?
        .value
        .is_none()
    {
        let org = Organization {
            id: org_id.clone(),
            name: "Seoul Environment Monitoring".into(),
            keys: vec![org_key.public_key()],
            roles: vec![Role::DataSource],
            active: true,
        };
        submit(
            &client,
            &authority,
            Call::Governance(GovernanceCall::RegisterOrganization(org)),
        )
        .await?;
    }
    if client
        .state(&state_keys::dataset(DEMO_DATASET), false)
        .await?
        .value
        .is_none()
    {
        let dataset = Dataset {
            id: DEMO_DATASET.into(),
            owner: org_id,
            name: "Seoul air quality (PM10, PM2.5, NO2)".into(),
            schema: DEMO_SCHEMA.into(),
        };
        submit(
            &client,
            &authority,
            Call::Data(DataCall::RegisterDataset(dataset)),
        )
        .await?;
        tracing::info!(dataset = DEMO_DATASET, "demo dataset registered");
    }
    Ok(())
}

/// The key of simulated source `i` (deterministic, so a rerun reuses its registration).
fn sim_key(i: u32) -> SigningKey {
    SigningKey::from_seed(
        *Hash::digest_parts(&[b"simin feeds simulate", &i.to_be_bytes()]).as_bytes(),
    )
}

fn sim_source(i: u32) -> (String, &'static str, f64) {
    // usize from u32 never truncates on supported targets.
    let (district, base) = DISTRICTS[i as usize % DISTRICTS.len()];
    (format!("sim.{district}-{i}"), district, base)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A batch of `n` readings of a source from `start_ms` on, one per millisecond, and
/// its signed transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sim_batch(
    chain_id: &ChainId,
    dataset: &str,
    source: &str,
    base: f64,
    seq: u64,
    nonce: u64,
    expiry: Height,
    key: &SigningKey,
    start_ms: u64,
    n: u32,
) -> (SignedTx, Vec<Reading>) {
    let mut rng = rand::thread_rng();
    let readings: Vec<Reading> = (0..u64::from(n))
        .map(|j| {
            let pm10: f64 = base + rng.gen_range(-8.0..8.0);
            Reading {
                time_ms: start_ms + j,
                value: json!({
                    "pm10": (pm10 * 10.0).round() / 10.0,
                    "pm25": (pm10 * 0.55 * 10.0).round() / 10.0,
                    "no2": (rng.gen_range(0.015..0.045f64) * 1000.0).round() / 1000.0,
                }),
            }
        })
        .collect();
    let leaves: Vec<Hash> = readings
        .iter()
        .map(|r| {
            reading_leaf(&ReadingLeaf {
                dataset: dataset.into(),
                source: source.into(),
                time: BlockTime(r.time_ms),
                value: serde_json_canonicalizer::to_string(&r.value)
                    .expect("a JSON value serializes"),
            })
        })
        .collect();
    let tx = Tx {
        chain_id: chain_id.clone(),
        signer: key.public_key(),
        nonce,
        expiry_height: expiry,
        call: Call::Data(DataCall::SubmitBatch(ReadingBatch {
            dataset: dataset.into(),
            source: source.into(),
            seq,
            root: merkle::root(&leaves),
            count: n,
            first_time: BlockTime(start_ms),
            last_time: BlockTime(start_ms + u64::from(n) - 1),
        })),
    }
    .sign(key);
    (tx, readings)
}

async fn simulate(node: &str, args: SimulateArgs, json: bool) -> anyhow::Result<()> {
    if args.batch == 0 || args.sources == 0 {
        bail!("--batch and --sources must be positive");
    }
    let nodes = if args.nodes.is_empty() {
        vec![node.to_owned()]
    } else {
        args.nodes.clone()
    };
    let client = Client::new(&nodes[0])?;
    let status = client.status().await.context("cannot reach the node")?;
    let org_key = crate::keys::load_key(&key_or_devnet(
        args.org_key.clone(),
        &format!("{DEMO_ORG}.data.key"),
    )?)?;
    // Register the sources the chain does not have yet, then wait for the last one.
    let mut pending = None;
    let mut nonce = client.account_next_nonce(&org_key.public_key()).await?;
    for i in 0..args.sources {
        let (id, district, _) = sim_source(i);
        if client
            .state(&state_keys::data_source(&id), false)
            .await?
            .value
            .is_some()
        {
            continue;
        }
        let tx = Tx {
            chain_id: status.chain_id.clone(),
            signer: org_key.public_key(),
            nonce,
            expiry_height: Height(status.latest_height.0 + TX_EXPIRY_BLOCKS),
            call: Call::Data(DataCall::RegisterSource(DataSource {
                id,
                organization: OrgId::new(DEMO_ORG).expect("a valid constant id"),
                key: sim_key(i).public_key(),
                datasets: vec![args.dataset.clone()],
                district: district.into(),
                active: true,
            })),
        }
        .sign(&org_key);
        nonce += 1;
        pending = Some(client.submit(&tx, false).await?.hash);
    }
    if let Some(hash) = pending {
        wait_committed(&client, hash, Duration::from_secs(60)).await?;
    }
    let accepted = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..args.sources {
        // usize from u32 never truncates on supported targets.
        let client = Client::new(&nodes[i as usize % nodes.len()])?;
        let (accepted, refused, latencies) = (accepted.clone(), refused.clone(), latencies.clone());
        let (dataset, chain_id, batch) =
            (args.dataset.clone(), status.chain_id.clone(), args.batch);
        // Seconds between one source's batches for the target rate (0: none).
        let pause = (args.rate > 0).then(|| {
            Duration::from_secs_f64(f64::from(batch) * f64::from(args.sources) / args.rate as f64)
        });
        tasks.push(tokio::spawn(async move {
            let (id, _, base) = sim_source(i);
            let key = sim_key(i);
            run_source(
                &client, &id, base, &key, &dataset, &chain_id, batch, deadline, pause, &accepted,
                &refused, &latencies,
            )
            .await
        }));
    }
    for t in tasks {
        t.await.context("a source task failed")??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let readings = accepted.load(Ordering::Relaxed);
    let mut lat = latencies.lock().expect("not poisoned").clone();
    lat.sort_unstable();
    let pct = |p: usize| {
        lat.get((lat.len().saturating_sub(1)) * p / 100)
            .copied()
            .unwrap_or(0)
    };
    // u64 to f64: counts far below 2^53.
    let rate = readings as f64 / elapsed;
    let out = json!({
        "readings": readings, "seconds": elapsed, "readings_per_s": rate,
        "batches_refused": refused.load(Ordering::Relaxed), "batch_size": args.batch,
        "sources": args.sources, "commit_latency_ms": {"samples": lat.len(), "p50": pct(50), "p95": pct(95), "max": lat.last().copied().unwrap_or(0)},
    });
    report(json, &out, &format!(
        "{readings} readings in {elapsed:.1} s = {rate:.0} readings/s ({} batches of {} from {} sources; {} refused); batch commit latency p50 {} ms, p95 {} ms, max {} ms over {} samples",
        readings / u64::from(args.batch), args.batch, args.sources, refused.load(Ordering::Relaxed), pct(50), pct(95), lat.last().copied().unwrap_or(0), lat.len()
    ));
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn run_source(
    client: &Client,
    id: &str,
    base: f64,
    key: &SigningKey,
    dataset: &str,
    chain_id: &ChainId,
    batch: u32,
    deadline: Instant,
    pause: Option<Duration>,
    accepted: &AtomicU64,
    refused: &AtomicU64,
    latencies: &std::sync::Mutex<Vec<u64>>,
) -> anyhow::Result<()> {
    let committed_seq = match client
        .state(&state_keys::data_source_seq(id), false)
        .await?
        .value
    {
        Some(bytes) => simin_types::decode::<u64>("seq", &bytes, 8)?,
        None => 0,
    };
    let mut seq = committed_seq + 1;
    let mut nonce = client.account_next_nonce(&key.public_key()).await?;
    let height = client.status().await?.latest_height.0;
    let mut n = 0u64;
    let mut watchers = Vec::new();
    while Instant::now() < deadline {
        let tick = Instant::now();
        let start_ms = now_ms().saturating_sub(60_000);
        let (tx, readings) = sim_batch(
            chain_id,
            dataset,
            id,
            base,
            seq,
            nonce,
            Height(height + TX_EXPIRY_BLOCKS),
            key,
            start_ms,
            batch,
        );
        match client.submit_batch(&tx, &readings).await {
            Ok(ok) => {
                accepted.fetch_add(u64::from(batch), Ordering::Relaxed);
                seq += 1;
                nonce += 1;
                // Every 4th batch: time its commit.
                if n.is_multiple_of(4) {
                    let client = client.clone();
                    watchers.push(tokio::spawn(async move {
                        wait_committed(&client, ok.tx_hash, Duration::from_secs(60))
                            .await
                            .ok()
                            .map(|()| u64::try_from(tick.elapsed().as_millis()).unwrap_or(u64::MAX))
                    }));
                }
                n += 1;
            }
            Err(e) => {
                refused.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%e, source = id, seq, "batch refused");
                tokio::time::sleep(Duration::from_millis(200)).await;
                // Resynchronise with the chain after a refusal.
                seq = match client
                    .state(&state_keys::data_source_seq(id), false)
                    .await?
                    .value
                {
                    Some(bytes) => simin_types::decode::<u64>("seq", &bytes, 8)? + 1,
                    None => 1,
                };
                nonce = client.account_next_nonce(&key.public_key()).await?;
            }
        }
        if let Some(p) = pause {
            tokio::time::sleep(p.saturating_sub(tick.elapsed())).await;
        }
    }
    for w in watchers {
        if let Ok(Some(ms)) = w.await {
            latencies.lock().expect("not poisoned").push(ms);
        }
    }
    Ok(())
}

async fn wait_committed(client: &Client, hash: Hash, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if client.tx(&hash).await?.is_some() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("transaction {hash} not committed within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

//! Queries over committed readings: a time range of one dataset, by source or district;
//! per-interval aggregates of a numeric field; open-data export rows.

use std::collections::BTreeMap;

use redb::ReadableDatabase;
use serde::{Deserialize, Serialize};

use crate::ingest::ChainRead;
use crate::store::{dataset_prefix, split_reading_key, READINGS};
use crate::{BatchState, DataStore, StoreError};

/// Most readings one query returns.
pub const READINGS_LIMIT_MAX: usize = 10_000;
/// The longest time span one query covers (31 days).
pub const SPAN_MS_MAX: u64 = 31 * 24 * 3600 * 1000;
/// Most readings one aggregate scans before refusing (narrow the range instead).
pub const AGGREGATE_SCAN_MAX: u64 = 20_000_000;
/// Most intervals one aggregate returns.
pub const BUCKETS_MAX: u64 = 10_000;

/// What to read: a dataset's readings with `from <= time <= to`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub dataset: String,
    pub from_ms: u64,
    pub to_ms: u64,
    pub source: Option<String>,
    pub district: Option<String>,
    pub limit: usize,
}

/// One committed reading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredReading {
    pub time_ms: u64,
    pub source: String,
    pub district: String,
    pub seq: u64,
    pub index: u32,
    pub value: serde_json::Value,
}

/// One interval of an aggregate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AggregateBucket {
    /// The interval's start (ms), a multiple of the interval.
    pub start_ms: u64,
    pub count: u64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
}

/// An aggregate of one numeric field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub field: String,
    pub interval_ms: u64,
    /// Readings scanned (committed, matching the filters), with or without the field.
    pub scanned: u64,
    pub buckets: Vec<AggregateBucket>,
}

/// `60s`, `15m`, `1h`, `1d` as milliseconds.
pub fn parse_interval(text: &str) -> Option<u64> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms).filter(|ms| *ms > 0)
}

/// Why a query is refused (a client error).
fn bad(reason: String) -> StoreError {
    StoreError::BadQuery(reason)
}

impl Query {
    /// Checks the bounds; `Err` carries a reason for the client.
    pub fn check(&self) -> Result<(), String> {
        if self.from_ms > self.to_ms {
            return Err(format!("from {} is after to {}", self.from_ms, self.to_ms));
        }
        if self.to_ms - self.from_ms > SPAN_MS_MAX {
            return Err(format!("the span is over {SPAN_MS_MAX} ms (31 days)"));
        }
        if self.limit == 0 || self.limit > READINGS_LIMIT_MAX {
            return Err(format!("limit is 1 to {READINGS_LIMIT_MAX}"));
        }
        Ok(())
    }
}

impl DataStore {
    /// Scans committed readings of `query` in time order, calling `visit` with each
    /// (time, source, seq, index, district, canonical value) until it returns false.
    fn scan(
        &self,
        chain: &dyn ChainRead,
        query: &Query,
        mut visit: impl FnMut(u64, &str, u64, u32, &str, &str) -> bool,
    ) -> Result<(), StoreError> {
        let op = "scanning readings";
        let txn = self.db().begin_read().map_err(StoreError::db(op))?;
        let table = txn.open_table(READINGS).map_err(StoreError::db(op))?;
        let start = dataset_prefix(&query.dataset, query.from_ms);
        let prefix_len = query.dataset.len() + 1;
        let end = match query.to_ms.checked_add(1) {
            Some(t) => dataset_prefix(&query.dataset, t),
            None => {
                let mut e = query.dataset.as_bytes().to_vec();
                e.push(1);
                e
            }
        };
        // The last batch's key and verdict, since one batch's readings often come in runs.
        let mut last: Option<(Vec<u8>, bool, String)> = None;
        for entry in table
            .range(start.as_slice()..end.as_slice())
            .map_err(StoreError::db(op))?
        {
            let (key, value) = entry.map_err(StoreError::db(op))?;
            let key = key.value();
            let Some((time, batch_key, source, seq, index)) =
                key.get(prefix_len..).and_then(split_reading_key)
            else {
                return Err(StoreError::Corrupt("a malformed reading key".into()));
            };
            if query.source.as_deref().is_some_and(|s| s != source) {
                continue;
            }
            let (served, district) = match &last {
                Some((k, served, district)) if k.as_slice() == batch_key => {
                    (*served, district.clone())
                }
                _ => {
                    let served =
                        self.state_of(chain, batch_key, source, seq)? == BatchState::Committed;
                    let district = self.district(source)?.unwrap_or_default();
                    last = Some((batch_key.to_vec(), served, district.clone()));
                    (served, district)
                }
            };
            if !served || query.district.as_deref().is_some_and(|d| d != district) {
                continue;
            }
            let value = std::str::from_utf8(value.value())
                .map_err(|_| StoreError::Corrupt("a reading that is not UTF-8".into()))?;
            if !visit(time, source, seq, index, &district, value) {
                break;
            }
        }
        Ok(())
    }

    /// Up to `query.limit` committed readings, oldest first.
    pub fn readings(
        &self,
        chain: &dyn ChainRead,
        query: &Query,
    ) -> Result<Vec<StoredReading>, StoreError> {
        query.check().map_err(bad)?;
        let mut out = Vec::new();
        let mut failure = None;
        self.scan(
            chain,
            query,
            |time_ms, source, seq, index, district, value| {
                match serde_json::from_str(value) {
                    Ok(value) => out.push(StoredReading {
                        time_ms,
                        source: source.to_owned(),
                        district: district.to_owned(),
                        seq,
                        index,
                        value,
                    }),
                    Err(e) => failure = Some(StoreError::Corrupt(e.to_string())),
                }
                failure.is_none() && out.len() < query.limit
            },
        )?;
        match failure {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// Count, min, max and mean of the numeric `field` of each reading's value, per
    /// `interval_ms`. `query.limit` is ignored; the scan is bounded by
    /// [`AGGREGATE_SCAN_MAX`] and the buckets by [`BUCKETS_MAX`].
    pub fn aggregate(
        &self,
        chain: &dyn ChainRead,
        query: &Query,
        field: &str,
        interval_ms: u64,
    ) -> Result<Aggregate, StoreError> {
        let checked = Query {
            limit: 1,
            ..query.clone()
        };
        checked.check().map_err(bad)?;
        if interval_ms == 0 || (query.to_ms - query.from_ms) / interval_ms >= BUCKETS_MAX {
            return Err(bad(format!(
                "the interval gives over {BUCKETS_MAX} buckets"
            )));
        }
        let mut buckets: BTreeMap<u64, (u64, f64, f64, f64)> = BTreeMap::new();
        let mut scanned = 0u64;
        let mut over = false;
        self.scan(chain, query, |time, _, _, _, _, value| {
            scanned += 1;
            if scanned > AGGREGATE_SCAN_MAX {
                over = true;
                return false;
            }
            if let Some(x) = numeric_field(value, field) {
                let start = time - time % interval_ms;
                let b = buckets
                    .entry(start)
                    .or_insert((0, f64::INFINITY, f64::NEG_INFINITY, 0.0));
                b.0 += 1;
                b.1 = b.1.min(x);
                b.2 = b.2.max(x);
                b.3 += x;
            }
            true
        })?;
        if over {
            return Err(bad(format!(
                "over {AGGREGATE_SCAN_MAX} readings in range: narrow it"
            )));
        }
        Ok(Aggregate {
            field: field.to_owned(),
            interval_ms,
            scanned,
            buckets: buckets
                .into_iter()
                .map(|(start_ms, (count, min, max, sum))| AggregateBucket {
                    start_ms,
                    count,
                    min,
                    max,
                    // count is at most AGGREGATE_SCAN_MAX, exactly representable in f64.
                    mean: sum / count as f64,
                })
                .collect(),
        })
    }
}

/// The number at top-level member `field` of a JSON object's text, if any.
fn numeric_field(value: &str, field: &str) -> Option<f64> {
    #[derive(Deserialize)]
    struct Any(BTreeMap<String, serde_json::Value>);
    let Any(map) = serde_json::from_str(value).ok()?;
    map.get(field)?.as_f64()
}

/// Open-data rows: `time_ms, source, district` and the value's members flattened (nested
/// objects with dotted names), as CSV with a header of the union of columns.
pub fn to_csv(readings: &[StoredReading]) -> String {
    let rows: Vec<BTreeMap<String, String>> = readings.iter().map(flatten_row).collect();
    let mut columns: Vec<String> = vec!["time_ms".into(), "source".into(), "district".into()];
    let mut extra: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for row in &rows {
        extra.extend(row.keys().filter(|k| !columns.contains(k)).cloned());
    }
    columns.extend(extra);
    let mut out = columns
        .iter()
        .map(|c| csv_field(c))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for row in &rows {
        let line: Vec<String> = columns
            .iter()
            .map(|c| csv_field(row.get(c).map(String::as_str).unwrap_or("")))
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// Open-data records: one flat JSON object per reading.
pub fn to_json_rows(readings: &[StoredReading]) -> Vec<serde_json::Map<String, serde_json::Value>> {
    readings
        .iter()
        .map(|r| {
            let mut row = serde_json::Map::new();
            row.insert("time_ms".into(), r.time_ms.into());
            row.insert("source".into(), r.source.clone().into());
            row.insert("district".into(), r.district.clone().into());
            flatten_value("", &r.value, &mut |k, v| {
                row.insert(k, v.clone());
            });
            row
        })
        .collect()
}

fn flatten_row(r: &StoredReading) -> BTreeMap<String, String> {
    let mut row = BTreeMap::new();
    row.insert("time_ms".into(), r.time_ms.to_string());
    row.insert("source".into(), r.source.clone());
    row.insert("district".into(), r.district.clone());
    flatten_value("", &r.value, &mut |k, v| {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        row.insert(k, text);
    });
    row
}

/// Calls `emit` with each leaf of `value` under a dotted name (`value` for a scalar).
fn flatten_value(
    prefix: &str,
    value: &serde_json::Value,
    emit: &mut dyn FnMut(String, &serde_json::Value),
) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_value(&name, v, emit);
            }
        }
        other => emit(
            if prefix.is_empty() {
                "value".into()
            } else {
                prefix.to_owned()
            },
            other,
        ),
    }
}

/// RFC 4180 quoting where needed.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

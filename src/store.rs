//! The core's [`Store`] port over the Durable Object's SQLite storage: the
//! statements and nothing else. What is written, read, repaired and pruned is
//! decided by `edgecheck_core::store`. A commit runs inside the storage's
//! `transactionSync`, so a round's writes land all together or not at all.

use edgecheck_core::schedule::Retention;
use std::sync::LazyLock;

use edgecheck_core::latency::{bucket_of, Histogram, BUCKETS};
use edgecheck_core::store::{Counts, Store, Write};
use edgecheck_core::uptime::{HOUR_MS, MINUTE_MS};
use serde::Deserialize;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use worker::js_sys::{Function, Reflect};
use worker::{SqlStorage, SqlStorageValue};

/// The tables, each with the statement that creates it.
const TABLES: &[(&str, &str)] = &[
    // The monitor's own row: the state without its origins (`id = 1`).
    ("monitor_state", "CREATE TABLE IF NOT EXISTS monitor_state (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)"),
    ("origin_state", "CREATE TABLE IF NOT EXISTS origin_state (name TEXT PRIMARY KEY, json TEXT NOT NULL)"),
    ("changes", "CREATE TABLE IF NOT EXISTS changes (at_ms INTEGER NOT NULL, name TEXT NOT NULL, json TEXT NOT NULL)"),
    (
        "rollups",
        "CREATE TABLE IF NOT EXISTS rollups (name TEXT NOT NULL, width_ms INTEGER NOT NULL, bucket_ms INTEGER NOT NULL, \
         up INTEGER NOT NULL, degraded INTEGER NOT NULL, down INTEGER NOT NULL, PRIMARY KEY (name, width_ms, bucket_ms))",
    ),
    // Each rollup row also holds its maintenance count and its latency
    // histogram: ADDED_COLUMNS, added by `create_schema` (to new tables and to
    // tables made before them).
    // Per notify channel: what it last told and its delivery record.
    (
        "notify_channels",
        "CREATE TABLE IF NOT EXISTS notify_channels (channel TEXT PRIMARY KEY, notified TEXT NOT NULL DEFAULT '{}', \
         stats TEXT NOT NULL DEFAULT '{}')",
    ),
    // The outbox: every notice not yet delivered or dropped, per channel in order.
    (
        "outbox",
        "CREATE TABLE IF NOT EXISTS outbox (channel TEXT NOT NULL, seq INTEGER NOT NULL, json TEXT NOT NULL, \
         PRIMARY KEY (channel, seq))",
    ),
    // An objective's good and bad slices, one row per bucket
    // (`edgecheck_core::slo::SloAdd`), pruned once no window reaches it.
    (
        "slo_buckets",
        "CREATE TABLE IF NOT EXISTS slo_buckets (slo TEXT NOT NULL, width_ms INTEGER NOT NULL, \
         bucket_ms INTEGER NOT NULL, good INTEGER NOT NULL, bad INTEGER NOT NULL, keep_until_ms INTEGER NOT NULL, \
         PRIMARY KEY (slo, width_ms, bucket_ms))",
    ),
    // What an objective keeps between rounds (`edgecheck_core::slo::SloState`).
    ("slo_state", "CREATE TABLE IF NOT EXISTS slo_state (slo TEXT PRIMARY KEY, json TEXT NOT NULL)"),
];

const INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS changes_by_time ON changes (at_ms)",
    "CREATE INDEX IF NOT EXISTS changes_by_name ON changes (name, at_ms)",
    "CREATE INDEX IF NOT EXISTS slo_buckets_by_width ON slo_buckets (width_ms, bucket_ms)",
    "CREATE INDEX IF NOT EXISTS slo_buckets_by_expiry ON slo_buckets (keep_until_ms)",
];

/// The latency columns of `rollups` ([`edgecheck_core::latency::Histogram`]):
/// the sum and the maximum in ms, then one count per bucket.
const LATENCY_COLUMNS: [&str; 2 + BUCKETS] = [
    "lat_sum_ms",
    "lat_max_ms",
    "lat_0",
    "lat_1",
    "lat_2",
    "lat_3",
    "lat_4",
    "lat_5",
    "lat_6",
    "lat_7",
    "lat_8",
    "lat_9",
    "lat_10",
    "lat_11",
];

/// The columns `rollups` gained after it was first made, each an integer at 0
/// by default: rounds in maintenance, then [`LATENCY_COLUMNS`].
const ADDED_COLUMNS: [&str; 1 + LATENCY_COLUMNS.len()] = {
    let mut out = ["maintenance"; 1 + LATENCY_COLUMNS.len()];
    let mut i = 0;
    while i < LATENCY_COLUMNS.len() {
        out[i + 1] = LATENCY_COLUMNS[i];
        i += 1;
    }
    out
};

/// The upsert of one rollup write: adds the counts and the histogram
/// (the maximum is kept), creating the row at zero.
static ROLLUP_UPSERT: LazyLock<String> = LazyLock::new(|| {
    let columns = LATENCY_COLUMNS.join(", ");
    let marks = vec!["?"; 7 + LATENCY_COLUMNS.len()].join(", ");
    let adds: Vec<String> = LATENCY_COLUMNS
        .iter()
        .map(|c| match *c {
            "lat_max_ms" => format!("{c} = MAX({c}, excluded.{c})"),
            _ => format!("{c} = {c} + excluded.{c}"),
        })
        .collect();
    format!(
        "INSERT INTO rollups (name, width_ms, bucket_ms, up, degraded, down, maintenance, {columns}) VALUES ({marks}) \
         ON CONFLICT (name, width_ms, bucket_ms) DO UPDATE SET up = up + excluded.up, \
         degraded = degraded + excluded.degraded, down = down + excluded.down, \
         maintenance = maintenance + excluded.maintenance, {}",
        adds.join(", ")
    )
});

/// The histogram as one JSON array, in [`LATENCY_COLUMNS`] order: summed
/// over a group when `sum` is `SUM` (the maximum taken with `MAX`), the row's
/// own when `sum` is empty.
fn latency_array(sum: &str) -> String {
    let columns: Vec<String> = LATENCY_COLUMNS
        .iter()
        .map(|c| match (*c, sum) {
            (_, "") => (*c).to_string(),
            ("lat_max_ms", _) => format!("MAX({c})"),
            _ => format!("{sum}({c})"),
        })
        .collect();
    format!("json_array({})", columns.join(", "))
}

/// Per name over a window: the summed counts and the summed histogram.
static SUM_ROLLUPS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT name, SUM(up) AS up, SUM(degraded) AS degraded, SUM(down) AS down, \
         SUM(maintenance) AS maintenance, {} AS h FROM rollups \
         WHERE width_ms = ? AND bucket_ms >= ? GROUP BY name",
        latency_array("SUM")
    )
});

static LATENCY_BUCKETS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT name, bucket_ms, {} AS h FROM rollups WHERE width_ms = ? AND bucket_ms >= ? AND {} > 0",
        latency_array(""),
        LATENCY_COLUMNS[2..].join(" + ")
    )
});

/// A histogram read back from [`latency_array`]'s JSON; a damaged one reads as empty.
fn histogram(json: &str) -> Histogram {
    let values: Vec<f64> = serde_json::from_str(json).unwrap_or_default();
    let mut h = Histogram::default();
    if values.len() == LATENCY_COLUMNS.len() {
        let int = |v: f64| if v.is_finite() && v > 0.0 { v as u64 } else { 0 };
        h.sum_ms = int(values[0]);
        h.max_ms = int(values[1]);
        for (count, v) in h.counts.iter_mut().zip(&values[2..]) {
            *count = int(*v);
        }
    }
    h
}

/// A row of one JSON column.
#[derive(Deserialize)]
struct JsonRow {
    json: String,
}

pub struct SqlStore {
    sql: SqlStorage,
    /// The `DurableObjectStorage` whose `transactionSync` a commit runs in.
    storage: JsValue,
}

impl SqlStore {
    pub fn new(sql: SqlStorage, storage: JsValue) -> SqlStore {
        SqlStore { sql, storage }
    }

    /// Creates the tables and indexes that do not exist yet; returns the
    /// tables that were missing while others existed (a damaged store), for
    /// the log.
    pub fn create_schema(&self) -> worker::Result<Vec<&'static str>> {
        #[derive(Deserialize)]
        struct Name {
            name: String,
        }
        let existing: Vec<Name> =
            self.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'", None)?.to_array()?;
        let has = |table: &str| existing.iter().any(|n| n.name == table);
        let missing: Vec<&'static str> = TABLES.iter().map(|(name, _)| *name).filter(|name| !has(name)).collect();
        let any = TABLES.iter().any(|(name, _)| has(name));
        for (_, create) in TABLES {
            self.sql.exec(create, None)?;
        }
        for create in INDEXES {
            self.sql.exec(create, None)?;
        }
        self.add_columns()?;
        Ok(if any { missing } else { Vec::new() })
    }
}

impl SqlStore {
    /// Adds the [`ADDED_COLUMNS`] that `rollups` lacks (a table made before
    /// them), each at 0.
    fn add_columns(&self) -> worker::Result<()> {
        #[derive(Deserialize)]
        struct Sql {
            sql: String,
        }
        let tables: Vec<Sql> = self
            .sql
            .exec("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'rollups'", None)?
            .to_array()?;
        let create = tables.first().map(|t| t.sql.as_str()).unwrap_or_default();
        for column in ADDED_COLUMNS {
            if !create.contains(column) {
                self.sql.exec(&format!("ALTER TABLE rollups ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0"), None)?;
            }
        }
        Ok(())
    }
}

fn int(v: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(i64::try_from(v).unwrap_or(i64::MAX))
}

/// The statements of one write: (SQL, bound values).
fn statements(write: &Write) -> Vec<(&'static str, Vec<SqlStorageValue>)> {
    match write {
        Write::Monitor(json) => {
            vec![("INSERT OR REPLACE INTO monitor_state (id, json) VALUES (1, ?)", vec![json.as_str().into()])]
        }
        Write::Origin { name, json } => vec![(
            "INSERT OR REPLACE INTO origin_state (name, json) VALUES (?, ?)",
            vec![name.as_str().into(), json.as_str().into()],
        )],
        Write::DropOrigin(name) => vec![("DELETE FROM origin_state WHERE name = ?", vec![name.as_str().into()])],
        Write::Change { at_ms, name, json } => vec![(
            "INSERT INTO changes (at_ms, name, json) VALUES (?, ?, ?)",
            vec![int(*at_ms), name.as_str().into(), json.as_str().into()],
        )],
        Write::Rollup(add) => {
            let mut values = vec![
                add.name.as_str().into(),
                int(add.width_ms),
                int(add.bucket_ms),
                int(add.up.into()),
                int(add.degraded.into()),
                int(add.down.into()),
                int(add.maintenance.into()),
                int(add.latency_ms.unwrap_or(0)),
                int(add.latency_ms.unwrap_or(0)),
            ];
            let bucket = add.latency_ms.map(bucket_of);
            values.extend((0..BUCKETS).map(|b| int(u64::from(bucket == Some(b)))));
            vec![(ROLLUP_UPSERT.as_str(), values)]
        }
        Write::Prune(retention) => prune(retention),
        Write::Notified { channel, json } => vec![(
            "INSERT INTO notify_channels (channel, notified) VALUES (?, ?) \
             ON CONFLICT (channel) DO UPDATE SET notified = excluded.notified",
            vec![channel.as_str().into(), json.as_str().into()],
        )],
        Write::ChannelStats { channel, json } => vec![(
            "INSERT INTO notify_channels (channel, stats) VALUES (?, ?) \
             ON CONFLICT (channel) DO UPDATE SET stats = excluded.stats",
            vec![channel.as_str().into(), json.as_str().into()],
        )],
        Write::Enqueue { channel, seq, json } => vec![(
            "INSERT OR REPLACE INTO outbox (channel, seq, json) VALUES (?, ?, ?)",
            vec![channel.as_str().into(), int(*seq), json.as_str().into()],
        )],
        Write::Dequeue { channel, seq } => {
            vec![("DELETE FROM outbox WHERE channel = ? AND seq = ?", vec![channel.as_str().into(), int(*seq)])]
        }
        Write::DropChannel(channel) => vec![
            ("DELETE FROM notify_channels WHERE channel = ?", vec![channel.as_str().into()]),
            ("DELETE FROM outbox WHERE channel = ?", vec![channel.as_str().into()]),
        ],
        Write::DropAfter(at_ms) => vec![
            ("DELETE FROM changes WHERE at_ms > ?", vec![int(*at_ms)]),
            ("DELETE FROM rollups WHERE bucket_ms > ?", vec![int(*at_ms)]),
            ("DELETE FROM slo_buckets WHERE bucket_ms > ?", vec![int(*at_ms)]),
        ],
        Write::Slo(add) => vec![(
            "INSERT INTO slo_buckets (slo, width_ms, bucket_ms, good, bad, keep_until_ms) VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (slo, width_ms, bucket_ms) DO UPDATE SET good = good + excluded.good, \
             bad = bad + excluded.bad, keep_until_ms = excluded.keep_until_ms",
            vec![
                add.slo.as_str().into(),
                int(add.width_ms),
                int(add.bucket_ms),
                int(add.good.into()),
                int(add.bad.into()),
                int(add.keep_until_ms),
            ],
        )],
        Write::SloState { slo, json } => vec![(
            "INSERT OR REPLACE INTO slo_state (slo, json) VALUES (?, ?)",
            vec![slo.as_str().into(), json.as_str().into()],
        )],
        Write::DropSlo(slo) => vec![
            ("DELETE FROM slo_buckets WHERE slo = ?", vec![slo.as_str().into()]),
            ("DELETE FROM slo_state WHERE slo = ?", vec![slo.as_str().into()]),
        ],
    }
}

fn prune(retention: &Retention) -> Vec<(&'static str, Vec<SqlStorageValue>)> {
    let mut out = vec![("DELETE FROM changes WHERE at_ms < ?", vec![int(retention.changes_before_ms)])];
    for width_ms in [MINUTE_MS, HOUR_MS] {
        out.push((
            "DELETE FROM rollups WHERE width_ms = ? AND bucket_ms < ?",
            vec![int(width_ms), int(retention.rollups_before_ms(width_ms))],
        ));
    }
    out.push(("DELETE FROM slo_buckets WHERE keep_until_ms <= ?", vec![int(retention.now_ms)]));
    out
}

impl Store for SqlStore {
    type Error = worker::Error;

    fn read_channels(&self) -> worker::Result<Vec<(String, String, String)>> {
        #[derive(Deserialize)]
        struct ChannelRow {
            channel: String,
            notified: String,
            stats: String,
        }
        let rows: Vec<ChannelRow> =
            self.sql.exec("SELECT channel, notified, stats FROM notify_channels", None)?.to_array()?;
        Ok(rows.into_iter().map(|r| (r.channel, r.notified, r.stats)).collect())
    }

    fn read_outbox(&self) -> worker::Result<Vec<(String, u64, String)>> {
        #[derive(Deserialize)]
        struct OutboxRow {
            channel: String,
            seq: f64,
            json: String,
        }
        let rows: Vec<OutboxRow> =
            self.sql.exec("SELECT channel, seq, json FROM outbox ORDER BY channel, seq", None)?.to_array()?;
        Ok(rows.into_iter().map(|r| (r.channel, r.seq as u64, r.json)).collect())
    }

    fn sum_slo(&self, width_ms: u64, from_ms: u64, until_ms: u64) -> worker::Result<Vec<(String, u64, u64)>> {
        #[derive(Deserialize)]
        struct SumRow {
            slo: String,
            good: f64,
            bad: f64,
        }
        let rows: Vec<SumRow> = self
            .sql
            .exec(
                "SELECT slo, SUM(good) AS good, SUM(bad) AS bad FROM slo_buckets \
                 WHERE width_ms = ? AND bucket_ms >= ? AND bucket_ms <= ? GROUP BY slo",
                Some(vec![int(width_ms), int(from_ms), int(until_ms)]),
            )?
            .to_array()?;
        // Damaged counts (negative, fractional) read as what they round to, at least 0.
        Ok(rows.into_iter().map(|r| (r.slo, r.good.max(0.0) as u64, r.bad.max(0.0) as u64)).collect())
    }

    fn read_slo_states(&self) -> worker::Result<Vec<(String, String)>> {
        #[derive(Deserialize)]
        struct StateRow {
            slo: String,
            json: String,
        }
        let rows: Vec<StateRow> = self.sql.exec("SELECT slo, json FROM slo_state", None)?.to_array()?;
        Ok(rows.into_iter().map(|r| (r.slo, r.json)).collect())
    }

    fn read_monitor(&self) -> worker::Result<Option<String>> {
        let rows: Vec<JsonRow> = self.sql.exec("SELECT json FROM monitor_state WHERE id = 1", None)?.to_array()?;
        Ok(rows.into_iter().next().map(|r| r.json))
    }

    fn read_origins(&self) -> worker::Result<Vec<(String, String)>> {
        #[derive(Deserialize)]
        struct OriginRow {
            name: String,
            json: String,
        }
        let rows: Vec<OriginRow> = self.sql.exec("SELECT name, json FROM origin_state", None)?.to_array()?;
        Ok(rows.into_iter().map(|r| (r.name, r.json)).collect())
    }

    fn newest(&self) -> worker::Result<(Option<u64>, Option<u64>)> {
        #[derive(Deserialize)]
        struct Newest {
            changes: Option<f64>,
            rollups: Option<f64>,
        }
        let rows: Vec<Newest> = self
            .sql
            .exec(
                "SELECT (SELECT MAX(at_ms) FROM changes) AS changes, \
                 (SELECT MAX(b) FROM (SELECT MAX(bucket_ms) AS b FROM rollups \
                 UNION ALL SELECT MAX(bucket_ms) FROM slo_buckets)) AS rollups",
                None,
            )?
            .to_array()?;
        let newest = rows.into_iter().next();
        Ok((
            newest.as_ref().and_then(|n| n.changes).map(|v| v as u64),
            newest.and_then(|n| n.rollups).map(|v| v as u64),
        ))
    }

    fn commit(&self, writes: &[Write]) -> worker::Result<()> {
        let statements: Vec<_> = writes.iter().flat_map(statements).collect();
        let sql = self.sql.clone();
        // transactionSync runs the closure at once and rolls every statement
        // back when it throws; the closure throws the first failed statement's error.
        let work = Closure::once(move || -> Result<JsValue, JsValue> {
            for (query, bindings) in statements {
                sql.exec(query, bindings).map_err(JsValue::from)?;
            }
            Ok(JsValue::UNDEFINED)
        });
        let transaction: Function = Reflect::get(&self.storage, &JsValue::from_str("transactionSync"))?.dyn_into()?;
        transaction.call1(&self.storage, work.as_ref().unchecked_ref())?;
        Ok(())
    }

    fn changes(&self, name: Option<&str>, limit: usize) -> worker::Result<Vec<String>> {
        let limit = int(limit as u64);
        let cursor = match name {
            None => self.sql.exec("SELECT json FROM changes ORDER BY at_ms DESC, rowid DESC LIMIT ?", vec![limit])?,
            Some(name) => self.sql.exec(
                "SELECT json FROM changes WHERE name = ? ORDER BY at_ms DESC, rowid DESC LIMIT ?",
                vec![name.into(), limit],
            )?,
        };
        Ok(cursor.to_array::<JsonRow>()?.into_iter().map(|r| r.json).collect())
    }

    fn sum_rollups(&self, width_ms: u64, from_ms: u64) -> worker::Result<Vec<(String, Counts, Histogram)>> {
        #[derive(Deserialize)]
        struct SumRow {
            name: String,
            up: f64,
            degraded: f64,
            down: f64,
            maintenance: f64,
            h: String,
        }
        let rows: Vec<SumRow> = self.sql.exec(&SUM_ROLLUPS, vec![int(width_ms), int(from_ms)])?.to_array()?;
        Ok(rows
            .into_iter()
            .map(|r| (r.name, [r.up as u64, r.degraded as u64, r.down as u64, r.maintenance as u64], histogram(&r.h)))
            .collect())
    }

    fn rollup_buckets(&self, width_ms: u64, from_ms: u64) -> worker::Result<Vec<(String, u64, Counts)>> {
        #[derive(Deserialize)]
        struct BucketRow {
            name: String,
            bucket_ms: f64,
            up: f64,
            degraded: f64,
            down: f64,
            maintenance: f64,
        }
        let rows: Vec<BucketRow> = self
            .sql
            .exec(
                "SELECT name, bucket_ms, up, degraded, down, maintenance FROM rollups \
                 WHERE width_ms = ? AND bucket_ms >= ?",
                vec![int(width_ms), int(from_ms)],
            )?
            .to_array()?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (r.name, r.bucket_ms as u64, [r.up as u64, r.degraded as u64, r.down as u64, r.maintenance as u64])
            })
            .collect())
    }

    fn latency_buckets(&self, width_ms: u64, from_ms: u64) -> worker::Result<Vec<(String, u64, Histogram)>> {
        #[derive(Deserialize)]
        struct Row {
            name: String,
            bucket_ms: f64,
            h: String,
        }
        let rows: Vec<Row> = self.sql.exec(&LATENCY_BUCKETS, vec![int(width_ms), int(from_ms)])?.to_array()?;
        Ok(rows.into_iter().map(|r| (r.name, r.bucket_ms as u64, histogram(&r.h))).collect())
    }
}

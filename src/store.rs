//! The core's [`Store`] port over the Durable Object's SQLite storage: the
//! statements and nothing else. What is written, read and pruned is decided by
//! `edgecheck_core::store`.

use edgecheck_core::schedule::Retention;
use edgecheck_core::store::{Counts, Store};
use edgecheck_core::uptime::RollupAdd;
use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue};

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS monitor_state (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS changes (at_ms INTEGER NOT NULL, name TEXT NOT NULL, json TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS changes_by_time ON changes (at_ms)",
    "CREATE INDEX IF NOT EXISTS changes_by_name ON changes (name, at_ms)",
    "CREATE TABLE IF NOT EXISTS rollups (name TEXT NOT NULL, width_ms INTEGER NOT NULL, bucket_ms INTEGER NOT NULL, \
     up INTEGER NOT NULL, degraded INTEGER NOT NULL, down INTEGER NOT NULL, PRIMARY KEY (name, width_ms, bucket_ms))",
];

/// A row of one JSON column (`monitor_state.json`, `changes.json`).
#[derive(Deserialize)]
struct JsonRow {
    json: String,
}

/// A row of summed rollups.
#[derive(Deserialize)]
struct SumRow {
    name: String,
    up: f64,
    degraded: f64,
    down: f64,
}

pub struct SqlStore {
    sql: SqlStorage,
}

impl SqlStore {
    pub fn new(sql: SqlStorage) -> SqlStore {
        SqlStore { sql }
    }

    /// Creates the tables and indexes that do not exist yet.
    pub fn create_schema(&self) -> worker::Result<()> {
        SCHEMA.iter().try_for_each(|statement| self.sql.exec(statement, None).map(drop))
    }
}

fn int(v: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(i64::try_from(v).unwrap_or(i64::MAX))
}

impl Store for SqlStore {
    type Error = worker::Error;

    fn read_state(&self) -> worker::Result<Option<String>> {
        let rows: Vec<JsonRow> = self.sql.exec("SELECT json FROM monitor_state WHERE id = 1", None)?.to_array()?;
        Ok(rows.into_iter().next().map(|r| r.json))
    }

    fn write_state(&self, json: &str) -> worker::Result<()> {
        self.sql.exec("INSERT OR REPLACE INTO monitor_state (id, json) VALUES (1, ?)", vec![json.into()]).map(drop)
    }

    fn append_change(&self, at_ms: u64, name: &str, json: &str) -> worker::Result<()> {
        self.sql
            .exec(
                "INSERT INTO changes (at_ms, name, json) VALUES (?, ?, ?)",
                vec![int(at_ms), name.into(), json.into()],
            )
            .map(drop)
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

    fn add_rollup(&self, add: &RollupAdd) -> worker::Result<()> {
        self.sql
            .exec(
                "INSERT INTO rollups (name, width_ms, bucket_ms, up, degraded, down) VALUES (?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (name, width_ms, bucket_ms) DO UPDATE SET up = up + excluded.up, \
                 degraded = degraded + excluded.degraded, down = down + excluded.down",
                vec![
                    add.name.as_str().into(),
                    int(add.width_ms),
                    int(add.bucket_ms),
                    int(add.up.into()),
                    int(add.degraded.into()),
                    int(add.down.into()),
                ],
            )
            .map(drop)
    }

    fn sum_rollups(&self, width_ms: u64, from_ms: u64) -> worker::Result<Vec<(String, Counts)>> {
        let rows: Vec<SumRow> = self
            .sql
            .exec(
                "SELECT name, SUM(up) AS up, SUM(degraded) AS degraded, SUM(down) AS down FROM rollups \
                 WHERE width_ms = ? AND bucket_ms >= ? GROUP BY name",
                vec![int(width_ms), int(from_ms)],
            )?
            .to_array()?;
        Ok(rows.into_iter().map(|r| (r.name, [r.up as u64, r.degraded as u64, r.down as u64])).collect())
    }

    fn rollup_buckets(&self, width_ms: u64, from_ms: u64) -> worker::Result<Vec<(String, u64, Counts)>> {
        #[derive(Deserialize)]
        struct BucketRow {
            name: String,
            bucket_ms: f64,
            up: f64,
            degraded: f64,
            down: f64,
        }
        let rows: Vec<BucketRow> = self
            .sql
            .exec(
                "SELECT name, bucket_ms, up, degraded, down FROM rollups WHERE width_ms = ? AND bucket_ms >= ?",
                vec![int(width_ms), int(from_ms)],
            )?
            .to_array()?;
        Ok(rows
            .into_iter()
            .map(|r| (r.name, r.bucket_ms as u64, [r.up as u64, r.degraded as u64, r.down as u64]))
            .collect())
    }

    fn prune(&self, retention: &Retention) -> worker::Result<()> {
        use edgecheck_core::uptime::{HOUR_MS, MINUTE_MS};
        self.sql.exec("DELETE FROM changes WHERE at_ms < ?", vec![int(retention.changes_before_ms)])?;
        for width_ms in [MINUTE_MS, HOUR_MS] {
            self.sql.exec(
                "DELETE FROM rollups WHERE width_ms = ? AND bucket_ms < ?",
                vec![int(width_ms), int(retention.rollups_before_ms(width_ms))],
            )?;
        }
        Ok(())
    }
}

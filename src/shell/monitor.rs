//! The `Monitor` Durable Object: the one place where probing happens and state
//! lives. It runs a round on its alarm every `refresh_s`, moves the state with
//! [`crate::monitor::advance`], persists it in SQLite (state, changes, uptime
//! rollups) and answers the worker's requests from memory.
//!
//! - A refresh in progress is joined, never duplicated (alarm, stale request and
//!   cron can all ask for one).
//! - A request that finds the snapshot older than `2 × refresh_s` (alarm dead)
//!   refreshes before answering; otherwise requests never probe or write.
//! - A failed storage write is logged and the monitor answers from memory; the
//!   state is one row, written whole, so a half-written snapshot never exists.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::join;
use serde::Deserialize;
use worker::{
    console_error, durable_object, DurableObject, Env, Request, Response, Result, SqlStorage, SqlStorageValue, State,
};

use super::{config, now_ms, probe, to_response};
use crate::http::{self, Dispatch};
use crate::monitor::{self, Advance, Change, MonitorState, Snapshot, Uptime, Window, HOUR_MS, MINUTE_MS};
use crate::render::Uptimes;

/// The internal path the cron trigger calls to re-arm a lost alarm.
pub const ENSURE_ALARM_PATH: &str = "/_monitor/ensure-alarm";
/// The internal path of an authorized `POST /refresh`.
pub const REFRESH_NOW_PATH: &str = "/_monitor/refresh";
/// Changes listed by `/history` at most.
const HISTORY_LIMIT: i64 = 200;

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

/// What the monitor serves from: the last state and the uptimes computed with it.
struct Memory {
    state: MonitorState,
    uptimes: Uptimes,
}

#[durable_object]
pub struct Monitor {
    state: State,
    env: Env,
    memory: RefCell<Option<Memory>>,
    loaded: Cell<bool>,
    refreshing: Cell<bool>,
    waiters: RefCell<Vec<oneshot::Sender<()>>>,
}

impl DurableObject for Monitor {
    fn new(state: State, env: Env) -> Self {
        Monitor {
            state,
            env,
            memory: RefCell::new(None),
            loaded: Cell::new(false),
            refreshing: Cell::new(false),
            waiters: RefCell::new(Vec::new()),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let path = req.path();
        self.load().await;
        if path == ENSURE_ALARM_PATH {
            if self.state.storage().get_alarm().await?.is_none() {
                self.schedule_next().await?;
            }
            return Response::empty().map(|r| r.with_status(204));
        }
        let config = config();
        if path == REFRESH_NOW_PATH {
            self.refresh().await;
            let memory = self.memory.borrow();
            let memory = memory.as_ref().expect("a refresh leaves a state in memory");
            return to_response(http::refreshed(
                config,
                &Snapshot { state: &memory.state, now_ms: now_ms() },
                &memory.uptimes,
            ));
        }
        let target = match http::dispatch(config, "GET", &path) {
            Dispatch::Snapshot(target) => target,
            Dispatch::Answer(reply) => return to_response(reply),
            // A GET never dispatches to the admin route; the worker checks it first.
            Dispatch::Refresh => return Response::error("POST /refresh goes through the worker", 400),
        };
        if self.is_outdated() {
            self.refresh().await;
        }
        let changes = match target.history_name(config) {
            Some(name) => self.changes(name).unwrap_or_else(|e| {
                console_error!("edgecheck: reading history failed: {e}");
                Vec::new()
            }),
            None => Vec::new(),
        };
        let memory = self.memory.borrow();
        let memory = memory.as_ref().expect("a refresh leaves a state in memory");
        let snap = Snapshot { state: &memory.state, now_ms: now_ms() };
        to_response(http::answer(config, target, &snap, &memory.uptimes, &changes))
    }

    async fn alarm(&self) -> Result<Response> {
        self.load().await;
        self.refresh().await;
        self.schedule_next().await?;
        Response::empty()
    }
}

impl Monitor {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    /// Loads the persisted state once per instance, and arms the alarm if none is set.
    async fn load(&self) {
        if self.loaded.replace(true) {
            return;
        }
        let sql = self.sql();
        for statement in SCHEMA {
            if let Err(e) = sql.exec(statement, None) {
                console_error!("edgecheck: creating the schema failed: {e}");
            }
        }
        let stored = sql
            .exec("SELECT json FROM monitor_state WHERE id = 1", None)
            .and_then(|c| c.to_array::<JsonRow>())
            .map_err(|e| e.to_string())
            .and_then(|rows| {
                rows.into_iter()
                    .next()
                    .map(|r| serde_json::from_str::<MonitorState>(&r.json).map_err(|e| e.to_string()))
                    .transpose()
            });
        match stored {
            Ok(Some(state)) => {
                let uptimes = self.uptimes(now_ms()).unwrap_or_default();
                *self.memory.borrow_mut() = Some(Memory { state, uptimes });
            }
            Ok(None) => {}
            Err(e) => console_error!("edgecheck: reading the stored state failed, starting afresh: {e}"),
        }
        if matches!(self.state.storage().get_alarm().await, Ok(None)) {
            let _ = self.schedule_next().await;
        }
    }

    /// No state, or a state older than two refresh intervals (the alarm is dead).
    fn is_outdated(&self) -> bool {
        let refresh_ms = u64::from(config().settings.refresh_s) * 1000;
        match &*self.memory.borrow() {
            None => true,
            Some(m) => now_ms().saturating_sub(m.state.checked_at_ms) > 2 * refresh_ms,
        }
    }

    /// Arms the alarm for the next round: `refresh_s` after the last one started.
    async fn schedule_next(&self) -> Result<()> {
        let refresh_ms = u64::from(config().settings.refresh_s) * 1000;
        let last = self.memory.borrow().as_ref().map_or(0, |m| m.state.checked_at_ms);
        let wait = (last + refresh_ms).saturating_sub(now_ms()).max(1000);
        self.state.storage().set_alarm(Duration::from_millis(wait)).await
    }

    /// Runs one round, or joins the one in progress.
    async fn refresh(&self) {
        if self.refreshing.get() {
            let (tx, rx) = oneshot::channel();
            self.waiters.borrow_mut().push(tx);
            let _ = rx.await;
            return;
        }
        self.refreshing.set(true);
        let config = config();
        let (round, canary_ok) = join(probe::round(config, &self.env), probe::canary_ok(config)).await;
        let prev = self.memory.borrow_mut().take();
        let advance = monitor::advance(config, prev.as_ref().map(|m| &m.state), &round, canary_ok);
        if let Err(e) = self.persist(&advance) {
            console_error!("edgecheck: storage write failed; serving from memory: {e}");
        }
        let uptimes = self.uptimes(round.checked_at_ms).unwrap_or_else(|e| {
            console_error!("edgecheck: computing uptime failed: {e}");
            prev.map(|m| m.uptimes).unwrap_or_default()
        });
        *self.memory.borrow_mut() = Some(Memory { state: advance.state, uptimes });
        self.refreshing.set(false);
        for waiter in self.waiters.borrow_mut().drain(..) {
            let _ = waiter.send(());
        }
    }

    /// Writes the state row, the changes and the rollups, and prunes old rows.
    /// The statements run without an `await` between them, so the Durable
    /// Object commits them together.
    fn persist(&self, advance: &Advance) -> Result<()> {
        let sql = self.sql();
        let config = config();
        let at = advance.state.checked_at_ms;
        let json = serde_json::to_string(&advance.state).map_err(|e| worker::Error::RustError(e.to_string()))?;
        sql.exec("INSERT OR REPLACE INTO monitor_state (id, json) VALUES (1, ?)", vec![json.into()])?;
        for change in &advance.changes {
            let json = serde_json::to_string(change).map_err(|e| worker::Error::RustError(e.to_string()))?;
            sql.exec(
                "INSERT INTO changes (at_ms, name, json) VALUES (?, ?, ?)",
                vec![int(change.at_ms), change.name.clone().into(), json.into()],
            )?;
        }
        for add in monitor::rollup_adds(config, advance) {
            sql.exec(
                "INSERT INTO rollups (name, width_ms, bucket_ms, up, degraded, down) VALUES (?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (name, width_ms, bucket_ms) DO UPDATE SET up = up + excluded.up, \
                 degraded = degraded + excluded.degraded, down = down + excluded.down",
                vec![
                    add.name.into(),
                    int(add.width_ms),
                    int(add.bucket_ms),
                    int(add.up.into()),
                    int(add.degraded.into()),
                    int(add.down.into()),
                ],
            )?;
        }
        let retention_ms = u64::from(config.settings.retention_days) * 24 * HOUR_MS;
        sql.exec("DELETE FROM changes WHERE at_ms < ?", vec![int(at.saturating_sub(retention_ms))])?;
        sql.exec(
            "DELETE FROM rollups WHERE width_ms = ? AND bucket_ms < ?",
            vec![int(MINUTE_MS), int(at.saturating_sub(25 * HOUR_MS))],
        )?;
        sql.exec(
            "DELETE FROM rollups WHERE width_ms = ? AND bucket_ms < ?",
            vec![int(HOUR_MS), int(at.saturating_sub(retention_ms))],
        )?;
        Ok(())
    }

    /// Uptime of every origin and region over each window ending at `now`.
    fn uptimes(&self, now: u64) -> Result<Uptimes> {
        #[derive(Deserialize)]
        struct Row {
            name: String,
            up: f64,
            degraded: f64,
            down: f64,
        }
        let sql = self.sql();
        let mut out = Uptimes::new();
        for (w, window) in Window::ALL.iter().enumerate() {
            let rows: Vec<Row> = sql
                .exec(
                    "SELECT name, SUM(up) AS up, SUM(degraded) AS degraded, SUM(down) AS down FROM rollups \
                     WHERE width_ms = ? AND bucket_ms >= ? GROUP BY name",
                    vec![int(window.bucket_ms()), int(window.first_bucket(now))],
                )?
                .to_array()?;
            for row in rows {
                out.entry(row.name).or_insert([None; 4])[w] =
                    Uptime::from_counts(row.up as u64, row.degraded as u64, row.down as u64);
            }
        }
        Ok(out)
    }

    /// Recorded changes, newest first; all of them or those of one name.
    fn changes(&self, name: Option<&str>) -> Result<Vec<Change>> {
        let sql = self.sql();
        let cursor = match name {
            None => sql
                .exec("SELECT json FROM changes ORDER BY at_ms DESC, rowid DESC LIMIT ?", vec![HISTORY_LIMIT.into()])?,
            Some(name) => sql.exec(
                "SELECT json FROM changes WHERE name = ? ORDER BY at_ms DESC, rowid DESC LIMIT ?",
                vec![name.to_string().into(), HISTORY_LIMIT.into()],
            )?,
        };
        Ok(cursor.to_array::<JsonRow>()?.into_iter().filter_map(|r| serde_json::from_str(&r.json).ok()).collect())
    }
}

fn int(v: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(v as i64)
}

//! The `Monitor` Durable Object: where refreshes are run and state lives. On
//! its alarm every `refresh_s` it asks every prober (one `Prober` per vantage
//! and shard, at most 6 calls open at a time) for its report, merges them with
//! the vantage quorum ([`edgecheck_core::vantage::merge`]), records the result
//! through the core ([`edgecheck_core::store::record`]) in its SQLite storage,
//! and answers the worker's [`MonitorCall`]s from memory.
//!
//! - A refresh in progress is joined, never duplicated (alarm, request and
//!   `POST /refresh` can all ask for one).
//! - A call for an answer runs a round first only when
//!   [`schedule::needs_round`] says so (no state, or the alarm is dead).
//! - Storage problems are logged and the monitor serves from memory.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use edgecheck_core::config::{Config, MAX_CONNECTIONS_WAITING};
use edgecheck_core::detail::ProbeDetail;
use edgecheck_core::http::{self, MonitorCall, Reply, Target, Variant};
use edgecheck_core::monitor::{self, Snapshot};
use edgecheck_core::schedule;
use edgecheck_core::store::{self, Memory, Problem};
use edgecheck_core::vantage::{self, ProberCall, Report, PROBER_GRACE_MS};
use edgecheck_core::view;
use futures::channel::oneshot;
use futures::future::{select, Either};
use futures::{stream, StreamExt};
use worker::{
    console_error, durable_object, Delay, DurableObject, Env, Method, Request, RequestInit, Response, Result, State,
};

use crate::store::SqlStore;
use crate::{config, now_ms, to_response, FLEET_DIGEST};

/// The prober Durable Object binding, as in `wrangler.toml`.
const PROBER_BINDING: &str = "PROBER";

#[durable_object]
pub struct Monitor {
    state: State,
    env: Env,
    memory: RefCell<Option<Memory>>,
    /// The last round's [`ProbeDetail`]s, for the full view; in memory only.
    details: RefCell<Vec<Option<ProbeDetail>>>,
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
            details: RefCell::new(Vec::new()),
            loaded: Cell::new(false),
            refreshing: Cell::new(false),
            waiters: RefCell::new(Vec::new()),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        self.load().await;
        let body = req.text().await.unwrap_or_default();
        let reply = match MonitorCall::from_json(config(), &body) {
            Err(reply) => reply,
            Ok(MonitorCall::EnsureAlarm) => {
                if self.state.storage().get_alarm().await?.is_none() {
                    self.schedule_next().await?;
                }
                http::alarm_armed()
            }
            Ok(MonitorCall::Refresh) => {
                self.refresh().await;
                self.serve(Asked::Refreshed)
            }
            Ok(MonitorCall::Answer(target, variant)) => {
                self.refresh_if_due().await;
                self.serve(Asked::Answer(target, variant))
            }
            Ok(MonitorCall::Detail) => {
                self.refresh_if_due().await;
                self.serve(Asked::Detail)
            }
        };
        to_response(reply)
    }

    async fn alarm(&self) -> Result<Response> {
        self.load().await;
        self.refresh().await;
        self.schedule_next().await?;
        Response::empty()
    }
}

/// What a call asks the monitor to serve.
#[derive(Clone, Copy)]
enum Asked {
    /// A snapshot route in a variant.
    Answer(Target, Variant),
    /// The `/health` of the round an authorized `POST /refresh` just ran.
    Refreshed,
    /// The full view (`/health?view=full`).
    Detail,
}

impl Monitor {
    fn store(&self) -> SqlStore {
        SqlStore::new(self.state.storage().sql())
    }

    /// Runs a round first when [`schedule::needs_round`] says the snapshot is
    /// missing or its alarm is dead.
    async fn refresh_if_due(&self) {
        let last_round = self.memory.borrow().as_ref().map(|m| m.state.checked_at_ms);
        if schedule::needs_round(last_round, config().settings.refresh_s, now_ms()) {
            self.refresh().await;
        }
    }

    /// The answer to what was asked, from memory, now.
    fn serve(&self, asked: Asked) -> Reply {
        let config = config();
        let now = now_ms();
        let store = self.store();
        let target = match asked {
            Asked::Answer(target, _) => Some(target),
            Asked::Refreshed | Asked::Detail => None,
        };
        let page = target.is_some_and(Target::is_status_page);
        let changes = target.and_then(|t| t.history_name(config)).map_or_else(Vec::new, |name| {
            store::history(&store, name).unwrap_or_else(|e| {
                console_error!("edgecheck: reading history failed: {e}");
                Vec::new()
            })
        });
        let daily = page.then(|| store::daily_uptimes(&store, now)).and_then(|daily| {
            daily.map_err(|e| console_error!("edgecheck: reading the daily uptime failed: {e}")).ok()
        });
        let memory = self.memory.borrow();
        let Some(memory) = memory.as_ref() else {
            // Unreachable in practice: a refresh always leaves a state in memory.
            return http::monitor_unavailable();
        };
        let view = view::shown(config, Snapshot { state: &memory.state, now_ms: now });
        let extras = http::Extras { uptimes: Some(&memory.uptimes), changes: &changes, daily: daily.as_ref() };
        match asked {
            Asked::Answer(target, variant) => http::answer(config, target, variant, &view, extras),
            Asked::Refreshed => http::refreshed(config, &view, &memory.uptimes),
            Asked::Detail => http::detail(config, &view, &memory.uptimes, &self.details.borrow()),
        }
    }

    /// Loads the persisted state once per instance, and arms the alarm if none is set.
    async fn load(&self) {
        if self.loaded.replace(true) {
            return;
        }
        let store = self.store();
        if let Err(e) = store.create_schema() {
            console_error!("edgecheck: creating the schema failed: {e}");
        }
        let (memory, problems) = store::restore(&store, now_ms());
        log(&problems);
        *self.memory.borrow_mut() = memory;
        if matches!(self.state.storage().get_alarm().await, Ok(None)) {
            let _ = self.schedule_next().await;
        }
    }

    /// Arms the alarm for the next round.
    async fn schedule_next(&self) -> Result<()> {
        let last_round = self.memory.borrow().as_ref().map(|m| m.state.checked_at_ms);
        let wait_ms = schedule::next_alarm_in_ms(last_round, config().settings.refresh_s, now_ms());
        self.state.storage().set_alarm(Duration::from_millis(wait_ms)).await
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
        let started = now_ms();
        let deadline_at_ms = started + u64::from(config.settings.deadline_ms);
        // Every prober once, at most 6 calls open at a time.
        let reports: Vec<Report> = stream::iter(config.probers())
            .map(|(v, s)| ask_prober(&self.env, config, ProberCall { vantage: v, shard: s, deadline_at_ms }))
            .buffer_unordered(MAX_CONNECTIONS_WAITING)
            .filter_map(|report| async move { report.ok() })
            .collect()
            .await;
        let (merged, dropped) =
            vantage::merge(config, FLEET_DIGEST, started, now_ms().saturating_sub(started), reports);
        for dropped in dropped {
            console_error!("edgecheck: {dropped}");
        }
        let prev = self.memory.borrow_mut().take();
        let advance = monitor::advance_merged(config, prev.as_ref().map(|m| &m.state), &merged);
        *self.details.borrow_mut() = merged.details;
        let (memory, problems) = store::record(&self.store(), config, prev, advance);
        log(&problems);
        *self.memory.borrow_mut() = Some(memory);
        self.refreshing.set(false);
        for waiter in self.waiters.borrow_mut().drain(..) {
            let _ = waiter.send(());
        }
    }
}

fn log(problems: &[Problem]) {
    for problem in problems {
        console_error!("edgecheck: {problem}");
    }
}

/// Asks one prober for its report; an error (logged) when it fails or has not
/// answered [`PROBER_GRACE_MS`] after the refresh's deadline: it is `missing`.
async fn ask_prober(env: &Env, config: &Config, call: ProberCall) -> Result<Report> {
    let name = vantage::prober_name(config, call.vantage, call.shard);
    let answer = async {
        let namespace = env.durable_object(PROBER_BINDING)?;
        let hint = config.settings.vantages.get(call.vantage).and_then(|v| v.hint.as_deref());
        let stub = match hint {
            Some(hint) => namespace.get_by_name_with_location_hint(&name, hint)?,
            None => namespace.get_by_name(&name)?,
        };
        let body = serde_json::to_string(&call).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let mut response = stub.fetch_with_request(Request::new_with_init("https://prober/", &init)?).await?;
        if response.status_code() != 200 {
            return Err(worker::Error::RustError(format!("answered {}", response.status_code())));
        }
        response.json::<Report>().await
    };
    let wait_ms = call.deadline_at_ms.saturating_sub(now_ms()) + PROBER_GRACE_MS;
    let timer = Delay::from(Duration::from_millis(wait_ms));
    futures::pin_mut!(answer, timer);
    let report = match select(answer, timer).await {
        Either::Left((report, _)) => report,
        Either::Right(_) => Err(worker::Error::RustError(format!("no report within {wait_ms} ms"))),
    };
    if let Err(e) = &report {
        console_error!("edgecheck: prober {name}: {e}");
    }
    report
}

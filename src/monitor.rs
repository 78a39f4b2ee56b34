//! The `Monitor` Durable Object: where rounds are run and state lives.
//!
//! A round (see `ARCHITECTURE.md`, "A round"):
//!
//! 1. **Start** (on the alarm, every `refresh_s`; or when a call needs one):
//!    a [`RoundInProgress`] is opened and every prober is sent its
//!    [`ProberCall`], at most 6 calls open at a time. Each prober accepts at
//!    once and probes in its own alarm, so all probe at the same time with the
//!    whole deadline; the order of the calls decides nothing. The alarm is
//!    armed for the round's merge time (deadline + [`PROBER_GRACE_MS`]).
//! 2. **Reports** come in as calls of their own ([`http::REPORT_PATH`]), each
//!    checked by [`RoundInProgress::accept`]; late, repeated or foreign ones
//!    are dropped with a log line.
//! 3. **Merge**, when every prober has reported or at the merge time,
//!    whichever comes first: [`RoundInProgress::finish`] (the vantage quorum),
//!    [`monitor::advance_merged`] (hysteresis), and [`store::record`], which
//!    commits the round atomically. Callers waiting on the round are woken,
//!    and the alarm is armed for the next round.
//!
//! 4. **Notifications** the round caused are in its commit (the core's
//!    `notify::plan`, inside `store::record`); they are delivered by later
//!    alarms ([`Monitor::deliver`]), each attempt with its channel's whole
//!    timeout; rounds that come due meanwhile are run beside the deliveries.
//!
//! A round in progress is joined, never duplicated (alarm, request and
//! `POST /refresh` can all ask for one). Storage problems are logged and the
//! monitor serves from memory.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use edgecheck_core::config::{Channel, Config, MAX_CONNECTIONS_WAITING};
use edgecheck_core::detail::ProbeDetail;
use edgecheck_core::drain::{self, Drain};
use edgecheck_core::heartbeat::PingKind;
use edgecheck_core::http::{self, MonitorCall, Reply, ToMonitor};
use edgecheck_core::maintenance::{self, Window};
use edgecheck_core::monitor::{self, Snapshot};
use edgecheck_core::notify;
use edgecheck_core::publish::Published;
use edgecheck_core::schedule;
use edgecheck_core::store::{self, Memory, Problem, Store};
use edgecheck_core::vantage::{self, Dropped, ProberCall, Report, RoundInProgress, PROBER_ACCEPT_MS, PROBER_GRACE_MS};
use edgecheck_core::view;
use futures::channel::oneshot;
use futures::{future, stream, StreamExt};
use wasm_bindgen::JsValue;
use worker::{
    console_error, console_log, durable_object, DurableObject, Env, Method, Request, RequestInit, Response, Result,
    State,
};

use crate::runtime::{self, config, fleet_digest, now_ms, respond};
use crate::store::SqlStore;

/// The prober Durable Object binding, as in `wrangler.toml`.
const PROBER_BINDING: &str = "PROBER";

#[durable_object]
pub struct Monitor {
    state: State,
    env: Env,
    /// The `DurableObjectStorage`, for `transactionSync` (see [`SqlStore`]).
    storage: JsValue,
    memory: RefCell<Option<Memory>>,
    /// The last round's [`ProbeDetail`]s, for the full view; in memory only.
    details: RefCell<Vec<Option<ProbeDetail>>>,
    /// The last published snapshot: its round start (ms) and its JSON.
    published: RefCell<Option<(u64, String)>>,
    loaded: Cell<bool>,
    /// The round in progress, if any.
    round: RefCell<Option<RoundInProgress>>,
    /// Callers waiting for the round in progress to be merged.
    waiters: RefCell<Vec<oneshot::Sender<()>>>,
}

impl DurableObject for Monitor {
    fn new(state: State, env: Env) -> Self {
        let raw = state._inner();
        let storage = raw.storage().map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
        Monitor {
            state: State::from(raw),
            env,
            storage,
            memory: RefCell::new(None),
            details: RefCell::new(Vec::new()),
            published: RefCell::new(None),
            loaded: Cell::new(false),
            round: RefCell::new(None),
            waiters: RefCell::new(Vec::new()),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        if let Err(reply) = runtime::fleet() {
            return respond(reply);
        }
        self.load().await;
        let path = req.path();
        let body = req.text().await.unwrap_or_default();
        let reply = match ToMonitor::from_request(&path, &body) {
            Err(reply) => reply,
            Ok(ToMonitor::Report(report)) => self.take_report(report).await,
            Ok(ToMonitor::Call(MonitorCall::EnsureAlarm)) => {
                // An alarm that cannot be read is armed again: a spare alarm only re-arms.
                let armed = matches!(self.state.storage().get_alarm().await, Ok(Some(_)));
                if self.round.borrow().is_none() && !armed {
                    self.schedule_next().await;
                }
                http::alarm_armed()
            }
            Ok(ToMonitor::Call(MonitorCall::Refresh)) => {
                self.run_round().await;
                self.serve(Asked::Refreshed)
            }
            Ok(ToMonitor::Call(MonitorCall::Snapshot)) => {
                // An isolate asks when the round should be merged: a round
                // still in progress is joined, so that it gets that round's
                // snapshot and need not ask again in this refresh.
                if self.round.borrow().is_some() {
                    self.run_round().await;
                } else {
                    self.round_if_due().await;
                }
                self.published()
            }
            Ok(ToMonitor::Call(MonitorCall::Detail)) => {
                self.round_if_due().await;
                self.serve(Asked::Detail)
            }
            Ok(ToMonitor::Call(MonitorCall::Drain { name, drain })) => {
                self.round_if_due().await;
                self.set_drain(&name, drain)
            }
            Ok(ToMonitor::Call(MonitorCall::StartMaintenance { window })) => {
                self.round_if_due().await;
                self.set_maintenance(WindowCall::Start(window))
            }
            Ok(ToMonitor::Call(MonitorCall::EndMaintenance { id })) => {
                self.round_if_due().await;
                self.set_maintenance(WindowCall::End(id))
            }
            Ok(ToMonitor::Call(MonitorCall::Ping { name, kind })) => {
                // Taken at once; a round is run first only on a monitor that
                // has none at all (its first moment after a deploy).
                if self.memory.borrow().is_none() {
                    self.round_if_due().await;
                }
                self.take_ping(&name, kind)
            }
            // The operator's lists: from memory, never a round.
            Ok(ToMonitor::Call(MonitorCall::ListDrains)) => self.list_drains(),
            Ok(ToMonitor::Call(MonitorCall::ListMaintenance)) => self.list_maintenance(),
        };
        respond(reply)
    }

    async fn alarm(&self) -> Result<Response> {
        if runtime::fleet().is_err() {
            // Logged by `fleet`; no alarm is armed again: nothing probes with it.
            return Response::empty();
        }
        self.load().await;
        let now = now_ms();
        let merge_by = self.round.borrow().as_ref().map(|r| r.merge_by_ms);
        match merge_by {
            Some(merge_by) if now >= merge_by => self.finish_round().await,
            Some(merge_by) => self.arm_in(merge_by.saturating_sub(now)).await,
            None if schedule::alarm_starts_round(self.last_round(), config().settings().refresh_s, now) => {
                self.start_round().await;
                // Notices due go out beside the round (a pass merges it), so a
                // short refresh_s never starves them.
                self.deliver().await;
                self.rearm().await;
            }
            None => {
                self.deliver().await;
                self.rearm().await;
            }
        }
        Response::empty()
    }
}

/// A maintenance API call: start `Window`, or end the window of this id.
enum WindowCall {
    Start(Window),
    End(String),
}

/// What a call asks the monitor to serve itself (public answers are rendered
/// by the worker from [`Monitor::published`]).
#[derive(Clone, Copy)]
enum Asked {
    /// The `/health` of the round an authorized `POST /refresh` just ran.
    Refreshed,
    /// The full view (`/health?view=full`).
    Detail,
}

impl Monitor {
    fn store(&self) -> SqlStore {
        SqlStore::new(self.state.storage().sql(), self.storage.clone())
    }

    fn last_round(&self) -> Option<u64> {
        self.memory.borrow().as_ref().map(|m| m.state.checked_at_ms)
    }

    /// Runs a round first when [`schedule::round_due`] says the snapshot is
    /// missing, of another fleet, or its alarm is dead.
    async fn round_if_due(&self) {
        let due = {
            let memory = self.memory.borrow();
            schedule::round_due(
                memory.as_ref().map(|m| &m.state),
                fleet_digest(),
                config().settings().refresh_s,
                now_ms(),
            )
        };
        if due {
            self.run_round().await;
        }
    }

    /// The answer to what was asked, from memory, now.
    fn serve(&self, asked: Asked) -> Reply {
        let config = config();
        let memory = self.memory.borrow();
        let Some(memory) = memory.as_ref() else {
            // Unreachable in practice: a round always leaves a state in memory.
            return http::monitor_unavailable();
        };
        let view = view::shown(config, Snapshot { state: &memory.state, now_ms: now_ms() });
        match asked {
            Asked::Refreshed => http::refreshed(config, &view, &memory.uptimes),
            Asked::Detail => http::detail(config, &view, &memory.uptimes, &self.details.borrow(), &memory.notify),
        }
    }

    /// Sets or lifts the drain of `name`, commits it, and answers with the
    /// view after it. The next published snapshot carries it: every isolate
    /// serves it from the round after (within `refresh_s`).
    fn set_drain(&self, name: &str, drain: Option<Drain>) -> Reply {
        let config = config();
        let now = now_ms();
        let mut memory = self.memory.borrow_mut();
        let Some(memory) = memory.as_mut() else {
            return http::monitor_unavailable();
        };
        let set = |state: &mut monitor::MonitorState| drain::apply(&mut state.drains, name, drain.clone(), now);
        match store::operator_change(&self.store(), memory, store::OperatorRow::Monitor, set) {
            Ok(()) => {}
            Err(store::OperatorError::Refused(refused)) => return http::drain_refused(refused),
            Err(store::OperatorError::NotSaved(e)) => {
                console_error!("edgecheck: saving the drain of {name} failed, nothing changed: {e}");
                return http::internal_error();
            }
        }
        *self.published.borrow_mut() = None;
        match &drain {
            Some(d) => console_log!("edgecheck: {name} drained: {}", d.reason),
            None => console_log!("edgecheck: the drain of {name} lifted"),
        }
        let view = view::shown(config, Snapshot { state: &memory.state, now_ms: now });
        if view.no_region_left_ready() {
            console_error!(
                "edgecheck: WARNING: no region is left ready (drained or down): /ready answers 503 to every load balancer"
            );
        }
        http::drained(config, &view, name)
    }

    /// Starts or ends an API maintenance window, commits it with the
    /// monitor's row, and answers with the window as kept. The next round
    /// records its start or end in `/history`; every isolate shows it from
    /// the round after.
    fn set_maintenance(&self, change: WindowCall) -> Reply {
        let now = now_ms();
        let mut memory = self.memory.borrow_mut();
        let Some(memory) = memory.as_mut() else {
            return http::monitor_unavailable();
        };
        let before = memory.state.maintenance.clone();
        let id = match &change {
            WindowCall::End(id) => id.clone(),
            WindowCall::Start(window) => window.id.clone(),
        };
        let apply = |state: &mut monitor::MonitorState| match &change {
            WindowCall::End(id) => maintenance::end(&mut state.maintenance, id, now),
            WindowCall::Start(window) => maintenance::start(&mut state.maintenance, window.clone(), now),
        };
        match store::operator_change(&self.store(), memory, store::OperatorRow::Monitor, apply) {
            Ok(()) => {}
            Err(store::OperatorError::Refused(refused)) => return http::window_refused(refused),
            Err(store::OperatorError::NotSaved(e)) => {
                console_error!("edgecheck: saving maintenance window {id} failed, nothing changed: {e}");
                return http::internal_error();
            }
        }
        *self.published.borrow_mut() = None;
        // A window ended before it began is gone: answer with it as it was.
        let kept = memory.state.maintenance.iter().chain(&before).find(|w| w.id == id).cloned();
        let Some(window) = kept else { return http::internal_error() };
        console_log!("edgecheck: maintenance window {id}: {}", window.reason);
        http::maintenance_window(&window, now)
    }

    /// Takes a heartbeat check's ping into memory and commits the check's row
    /// at once; the check is judged at the next round. A ping arriving during
    /// a round is kept: the round takes the memory only in its synchronous
    /// merge.
    fn take_ping(&self, name: &str, kind: PingKind) -> Reply {
        let mut memory = self.memory.borrow_mut();
        let Some(memory) = memory.as_mut() else {
            return http::monitor_unavailable();
        };
        let now = now_ms();
        let take = |state: &mut monitor::MonitorState| monitor::take_ping(config(), state, name, kind, now);
        match store::operator_change(&self.store(), memory, store::OperatorRow::Origin(name), take) {
            Ok(_) => http::pinged(name, kind, now),
            Err(store::OperatorError::Refused(refused)) => http::ping_refused(refused),
            Err(store::OperatorError::NotSaved(e)) => {
                console_error!("edgecheck: saving the ping of {name} failed, nothing changed: {e}");
                http::internal_error()
            }
        }
    }

    /// The published snapshot of the last round ([`Published`]), as the
    /// answer to [`MonitorCall::Snapshot`]. Made once per round, when first
    /// asked for: the newest changes and the 30-day strips are read from
    /// storage then, with the latency history (a failed read is logged and shows
    /// as none).
    fn published(&self) -> Reply {
        let memory = self.memory.borrow();
        let Some(memory) = memory.as_ref() else {
            return http::monitor_unavailable();
        };
        let round = memory.state.checked_at_ms;
        if let Some((at, json)) = self.published.borrow().as_ref() {
            if *at == round {
                return http::snapshot(json.clone());
            }
        }
        let store = self.store();
        let changes = store::history(&store, None).unwrap_or_else(|e| {
            console_error!("edgecheck: reading history failed: {e}");
            Vec::new()
        });
        let daily = store::daily_uptimes(&store, now_ms()).unwrap_or_else(|e| {
            console_error!("edgecheck: reading the daily uptime failed: {e}");
            Default::default()
        });
        let latency = store::latency_chart(&store, now_ms(), memory.latency.clone()).unwrap_or_else(|e| {
            console_error!("edgecheck: reading the hourly latency failed: {e}");
            memory.latency.clone()
        });
        let doc = Published {
            fleet: fleet_digest().to_string(),
            state: memory.state.clone(),
            uptimes: memory.uptimes.clone(),
            daily,
            latency,
            changes,
            notify: notify::summaries(&memory.notify),
            slo: memory.slo.clone(),
        };
        let json = doc.to_json();
        *self.published.borrow_mut() = Some((round, json.clone()));
        http::snapshot(json)
    }

    /// Loads and repairs the persisted state once per instance, and arms the
    /// alarm if none is set. Everything before the first `await` is
    /// synchronous, so a second event never sees a half-loaded monitor.
    async fn load(&self) {
        if self.loaded.replace(true) {
            return;
        }
        let store = self.store();
        match store.create_schema() {
            Ok(missing) => {
                for table in missing {
                    console_error!("edgecheck: the table {table} was missing; created empty");
                }
            }
            Err(e) => console_error!("edgecheck: creating the schema failed: {e}"),
        }
        let (memory, problems) = store::restore(&store, config(), now_ms());
        log(&problems);
        *self.memory.borrow_mut() = memory;
        if matches!(self.state.storage().get_alarm().await, Ok(None)) {
            self.schedule_next().await;
        }
    }

    /// Arms the alarm for the next round, or sooner when a notice is due.
    async fn schedule_next(&self) {
        let now = now_ms();
        let round_in = schedule::next_alarm_in_ms(self.last_round(), config().settings().refresh_s, now);
        let wait_ms = match self.memory.borrow().as_ref() {
            Some(memory) => notify::alarm_in_ms(round_in, &memory.notify, now),
            None => round_in,
        };
        self.arm_in(wait_ms).await;
    }

    /// Delivers what is due: each channel's queue in order, several notices
    /// in one pass, at most [`notify::MAX_DELIVERIES`] channels at once and
    /// [`notify::MAX_PASS_REQUESTS`] requests in all, each attempt with its
    /// channel's whole `timeout_ms`. Each attempt is settled and committed as
    /// soon as it ends. Rounds go on beside the pass: one that comes due while
    /// notices are in flight is run here, so a slow receiver never delays a
    /// round and a round never cuts an attempt.
    async fn deliver(&self) {
        let config = config();
        let channels: Vec<&Channel> = {
            let memory = self.memory.borrow();
            let Some(memory) = memory.as_ref() else { return };
            let now = now_ms();
            config.channels().iter().filter(|c| notify::head_due(&memory.notify, &c.name, now).is_some()).collect()
        };
        if channels.is_empty() {
            return;
        }
        let requests_left = Cell::new(notify::MAX_PASS_REQUESTS);
        let stop_at = now_ms().saturating_add(notify::MAX_PASS_MS);
        let (ended, mut pass_ended) = oneshot::channel::<()>();
        let pass = async {
            stream::iter(channels)
                .map(|channel| self.deliver_channel(channel, &requests_left, stop_at))
                .buffer_unordered(notify::MAX_DELIVERIES)
                .collect::<Vec<()>>()
                .await;
            let _ = ended.send(());
        };
        // Rounds beside the pass; never dropped halfway (a round's calls to
        // its probers all go out): it stops at its next wait once the pass ended.
        let rounds = async {
            loop {
                let refresh_s = config.settings().refresh_s;
                let wait = schedule::next_alarm_in_ms(self.last_round(), refresh_s, now_ms());
                if runtime::within(wait, &mut pass_ended).await.is_some() {
                    return;
                }
                let in_progress = self.round.borrow().is_some();
                if in_progress || schedule::alarm_starts_round(self.last_round(), refresh_s, now_ms()) {
                    self.run_round().await;
                }
            }
        };
        future::join(pass, rounds).await;
    }

    /// Delivers `channel`'s due notices one at a time, in order, while the
    /// pass has requests left and it is before `stop_at` (ms).
    async fn deliver_channel(&self, channel: &Channel, requests_left: &Cell<usize>, stop_at: u64) {
        let cost = notify::requests_per_delivery(channel);
        loop {
            let head = {
                let memory = self.memory.borrow();
                memory.as_ref().and_then(|m| notify::head_due(&m.notify, &channel.name, now_ms()))
            };
            let Some((seq, notice)) = head else { return };
            if requests_left.get() < cost || now_ms() >= stop_at {
                return;
            }
            requests_left.set(requests_left.get() - cost);
            let outcome = crate::notify::attempt(&self.env, channel, &notice, now_ms()).await;
            let writes = {
                let mut memory = self.memory.borrow_mut();
                let Some(cs) = memory.as_mut().and_then(|m| m.notify.get_mut(&channel.name)) else { return };
                let settled = notify::settle(channel, cs, seq, &outcome, now_ms());
                if let Some(line) = settled.log {
                    console_error!("edgecheck: {line}");
                }
                settled.writes
            };
            if let Err(e) = self.store().commit(&writes) {
                console_error!("edgecheck: recording a delivery failed (it may be repeated, with the same id): {e}");
            }
        }
    }

    /// Arms the alarm for what comes next: the merge of the round in
    /// progress, else [`Monitor::schedule_next`].
    async fn rearm(&self) {
        let merge_by = self.round.borrow().as_ref().map(|r| r.merge_by_ms);
        match merge_by {
            Some(merge_by) => self.arm_in(merge_by.saturating_sub(now_ms())).await,
            None => self.schedule_next().await,
        }
    }

    async fn arm_in(&self, wait_ms: u64) {
        if let Err(e) = self.state.storage().set_alarm(Duration::from_millis(wait_ms)).await {
            console_error!("edgecheck: arming the alarm failed: {e}");
        }
    }

    /// Runs a round, or joins the one in progress, and returns when it is
    /// merged: when every prober has reported, or at its merge time.
    async fn run_round(&self) {
        let merge_by = self.round.borrow().as_ref().map(|r| r.merge_by_ms);
        let merge_by = match merge_by {
            Some(merge_by) => merge_by,
            None => self.start_round().await,
        };
        if self.round.borrow().as_ref().is_none_or(|r| r.merge_by_ms != merge_by) {
            return; // merged while the calls went out
        }
        let (tx, rx) = oneshot::channel();
        self.waiters.borrow_mut().push(tx);
        let merged = runtime::within(merge_by.saturating_sub(now_ms()), rx).await;
        if merged.is_none() && self.round.borrow().as_ref().is_some_and(|r| r.merge_by_ms == merge_by) {
            self.finish_round().await;
        }
    }

    /// Opens a round and sends every prober its call, at most
    /// [`MAX_CONNECTIONS_WAITING`] open at a time, each answered at once.
    /// Returns the round's merge time.
    async fn start_round(&self) -> u64 {
        let config = config();
        let round = RoundInProgress::start(config, now_ms());
        let merge_by = round.merge_by_ms;
        let calls: Vec<ProberCall> = config.probers().map(|(v, s)| round.call(v, s)).collect();
        *self.round.borrow_mut() = Some(round);
        self.arm_in(merge_by.saturating_sub(now_ms())).await;
        stream::iter(calls)
            .map(|call| ask_prober(&self.env, config, call))
            .buffer_unordered(MAX_CONNECTIONS_WAITING)
            .collect::<Vec<()>>()
            .await;
        merge_by
    }

    /// Keeps a prober's report for the round in progress, and merges the round
    /// when it was the last one.
    async fn take_report(&self, report: Report) -> Reply {
        let kept = match self.round.borrow_mut().as_mut() {
            Some(round) => round.accept(config(), fleet_digest(), report).map(|()| round.is_complete()),
            None => Err(Dropped {
                vantage: report.vantage,
                shard: report.shard,
                round: report.round,
                why: "no round in progress (late, or the monitor restarted)",
            }),
        };
        match kept {
            Ok(complete) => {
                if complete {
                    self.finish_round().await;
                }
                http::report_kept()
            }
            Err(dropped) => {
                console_error!("edgecheck: {dropped}");
                http::report_dropped(&dropped)
            }
        }
    }

    /// Merges the round in progress as it stands, records it, wakes its
    /// waiters and arms the alarm for the next round.
    async fn finish_round(&self) {
        let Some(round) = self.round.borrow_mut().take() else { return };
        let config = config();
        for name in round.missing(config) {
            console_error!("edgecheck: prober {name} did not report for round {}: missing", round.round);
        }
        let merged = round.finish(config, fleet_digest(), now_ms());
        let prev = self.memory.borrow_mut().take();
        let advance = monitor::advance_merged(config, prev.as_ref().map(|m| &m.state), &merged);
        *self.details.borrow_mut() = merged.details;
        let (memory, problems) = store::record(&self.store(), config, prev, advance);
        log(&problems);
        *self.memory.borrow_mut() = Some(memory);
        for waiter in self.waiters.borrow_mut().drain(..) {
            let _ = waiter.send(());
        }
        self.schedule_next().await;
    }
}

/// The admin API's lists, answered from memory at the time of the call (a
/// monitor with no state yet has no drain and no API window).
impl Monitor {
    /// `GET /admin/drain`: the drains in effect ([`http::drain_list`]).
    fn list_drains(&self) -> Reply {
        let memory = self.memory.borrow();
        let none = Default::default();
        let drains = memory.as_ref().map_or(&none, |m| &m.state.drains);
        http::drain_list(config(), drains, now_ms())
    }

    /// `GET /admin/maintenance`: the declared windows and the API's
    /// ([`http::maintenance_list`]).
    fn list_maintenance(&self) -> Reply {
        let memory = self.memory.borrow();
        let started = memory.as_ref().map_or(&[][..], |m| &m.state.maintenance[..]);
        http::maintenance_list(config(), started, now_ms())
    }
}

fn log(problems: &[Problem]) {
    for problem in problems {
        console_error!("edgecheck: {problem}");
    }
}

/// Sends one prober its call; it accepts at once. A prober that refuses, fails
/// or has not accepted within [`PROBER_ACCEPT_MS`] is logged; it will be
/// `missing` for the round.
async fn ask_prober(env: &Env, config: &Config, call: ProberCall) {
    let name = vantage::prober_name(config, call.vantage, call.shard);
    let answer = async {
        let namespace = env.durable_object(PROBER_BINDING)?;
        let hint = config.settings().vantages.get(call.vantage).and_then(|v| v.hint.as_deref());
        let stub = match hint {
            Some(hint) => namespace.get_by_name_with_location_hint(&name, hint)?,
            None => namespace.get_by_name(&name)?,
        };
        let body = serde_json::to_string(&call).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let mut response = stub.fetch_with_request(Request::new_with_init("https://prober/", &init)?).await?;
        if !http::accepted(response.status_code()) {
            let text = response.text().await.unwrap_or_default();
            return Err(worker::Error::RustError(format!("refused the call ({}): {text}", response.status_code())));
        }
        Ok(())
    };
    let accepted = runtime::within(PROBER_ACCEPT_MS, answer)
        .await
        .unwrap_or_else(|| Err(worker::Error::RustError(format!("did not accept within {PROBER_ACCEPT_MS} ms"))));
    if let Err(e) = accepted {
        console_error!("edgecheck: prober {name}: {e}");
    }
}

const _: () = assert!(PROBER_GRACE_MS < http::MONITOR_GRACE_MS, "a waiting caller outlives the round's merge");
